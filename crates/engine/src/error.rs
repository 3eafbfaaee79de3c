#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Image(#[from] husk_image::Error),
    #[error(transparent)]
    Layers(#[from] husk_layers::Error),
    #[error(
        "template parsing error: {reason} in {format:?}: see 'husk images --help' for the fields"
    )]
    Template { format: String, reason: String },
    #[error("encode {what}: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;
