#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Image(#[from] husk_image::Error),
    #[error(transparent)]
    Fs(#[from] husk_fs::Error),
    #[error(transparent)]
    Credentials(#[from] crate::credentials::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
