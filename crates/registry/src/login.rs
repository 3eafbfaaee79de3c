//! `login`'s check, as docker's: `GET /v2/` through the registry's
//! challenge with the credentials given (a token for no scope from a token
//! server, or basic). A token server that hands out refresh tokens
//! (`offline_token=true`) gives an identity token for them, which is kept
//! instead of the password, as docker keeps it.

use ureq::http::Method;

use crate::auth::{basic, encode_query, Challenge, Login};
use crate::client::{Client, Repository};
use crate::credentials::Credential;
use crate::reference::api_host;
use crate::transport::{Body, Endpoint, Options};
use crate::{Error, Result};

/// Checks `c` against `registry` ("docker.io", "127.0.0.1:5000"); returns
/// what to keep: `c`, or the identity token the registry gave for it.
pub fn login(opts: &Options, registry: &str, c: &Credential) -> Result<Credential> {
    let login = Login {
        username: c.username.clone(),
        secret: c.secret.clone(),
    };
    let lookup = login.clone();
    let client = Client::new(opts.clone()).with_logins(Box::new(move |_| Ok(Some(lookup.clone()))));
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
            return Err(Error::LoginRefused { registry })
        }
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    if c.identity_token().is_some() {
        return Ok(c.clone());
    }
    // The credentials work. An identity token is a bonus: any failure to
    // get one keeps the password, as docker does.
    Ok(identity_token(&client, &repo, &login)
        .map(|secret| Credential {
            username: Credential::TOKEN_USERNAME.to_string(),
            secret,
        })
        .unwrap_or_else(|| c.clone()))
}

/// A refresh token from the registry's token server, when it has one and
/// gives one for `login`.
fn identity_token(client: &Client, repo: &Repository, login: &Login) -> Option<String> {
    let t = client.transport();
    let what = "the API version check";
    let resp = t
        .send(&repo.endpoint, Method::GET, "/v2/", &[], Body::Empty, what)
        .ok()?;
    if resp.status().as_u16() != 401 {
        return None;
    }
    let header = resp.headers().get("www-authenticate")?.to_str().ok()?;
    let Challenge::Bearer { realm, service } = Challenge::parse(header)? else {
        return None;
    };
    let mut query = vec![("client_id", "husk"), ("offline_token", "true")];
    if let Some(s) = &service {
        query.push(("service", s.as_str()));
    }
    let sep = if realm.contains('?') { '&' } else { '?' };
    let url = format!("{realm}{sep}{}", encode_query(&query));
    let realm_ep = Endpoint::from_url(&realm).ok()?;
    let resp = t
        .send(
            &realm_ep,
            Method::GET,
            &url,
            &[("authorization", basic(login))],
            Body::Empty,
            "an identity token",
        )
        .ok()?;
    if resp.status().as_u16() != 200 {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Reply {
        #[serde(default)]
        refresh_token: Option<String>,
    }
    let bytes = resp
        .into_body()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .ok()?;
    let reply: Reply = serde_json::from_slice(&bytes).ok()?;
    reply.refresh_token.filter(|t| !t.is_empty())
}
