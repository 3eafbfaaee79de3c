//! `login`'s check: `GET /v2/` through the registry's challenge with the
//! credentials given (a token for no scope from a token server, or basic),
//! as docker checks them before it keeps them.

use crate::auth::Login;
use crate::client::{Client, Repository};
use crate::credentials::Credential;
use crate::reference::api_host;
use crate::transport::{Endpoint, Options};
use crate::{Error, Result};

/// Whether `registry` ("docker.io", "127.0.0.1:5000") accepts `c`.
pub fn login(opts: &Options, registry: &str, c: &Credential) -> Result<()> {
    let login = Login {
        username: c.username.clone(),
        secret: c.secret.clone(),
    };
    let client = Client::new(opts.clone()).with_logins(Box::new(move |_| Ok(Some(login.clone()))));
    let registry = crate::credentials::server_key(registry);
    let registry = if registry == crate::credentials::DOCKER_HUB_KEY {
        "docker.io".to_string()
    } else {
        registry
    };
    let repo = Repository {
        endpoint: Endpoint::new(api_host(&registry)),
        registry: registry.clone(),
        path: String::new(),
    };
    match client.ping(&repo) {
        Err(Error::BadCredentials { .. }) | Err(Error::Denied { .. }) => {
            Err(Error::LoginRefused { registry })
        }
        other => other,
    }
}
