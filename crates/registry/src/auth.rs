//! Registry authentication: the `WWW-Authenticate` challenge of a 401,
//! bearer tokens from the token server it names (anonymous, with a
//! password, or with an identity token), cached per host and scope for
//! the lifetime the server gave, and basic auth.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;
use ureq::http::Method;

use crate::transport::{Body, Endpoint, Transport};
use crate::{Error, Result};

/// A user's credentials for one registry: a password, or an identity
/// token when `username` is `<token>` (docker's convention).
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub secret: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Finds the login for a registry (`docker.io`, `127.0.0.1:5000`).
pub type Lookup = dyn Fn(&str) -> Result<Option<Login>> + Send + Sync;

/// Tokens live this long when the server does not say (the spec's default).
const DEFAULT_TOKEN_LIFE: Duration = Duration::from_secs(60);
/// Used this much before expiry a token is fetched anew.
const TOKEN_MARGIN: Duration = Duration::from_secs(10);

/// A parsed `WWW-Authenticate` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

impl Challenge {
    /// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..."`.
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        let params = parse_params(rest);
        if scheme.eq_ignore_ascii_case("basic") {
            Some(Challenge::Basic)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Some(Challenge::Bearer {
                realm: params.get("realm").filter(|r| !r.is_empty())?.clone(),
                service: params.get("service").cloned(),
            })
        } else {
            None
        }
    }
}

fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            // Quoted string, backslash escapes allowed.
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            (v, &q[end.min(q.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.insert(key, value);
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

#[derive(Deserialize)]
struct TokenReply {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// What a host asked for and the tokens it gave, by scope.
#[derive(Default)]
pub struct Auth {
    challenges: Mutex<HashMap<String, Challenge>>,
    tokens: Mutex<HashMap<(String, String), (String, Instant)>>,
}

impl Auth {
    /// The Authorization header for `scope` on `host`, if one is known
    /// and still valid (a bearer token) or can be made (basic).
    pub fn cached(&self, host: &str, scope: &str, login: Option<&Login>) -> Option<String> {
        let challenge = lock(&self.challenges).get(host).cloned()?;
        match challenge {
            Challenge::Basic => login.map(basic),
            Challenge::Bearer { .. } => {
                let tokens = lock(&self.tokens);
                let (token, until) = tokens.get(&(host.to_string(), scope.to_string()))?;
                (Instant::now() < *until).then(|| format!("Bearer {token}"))
            }
        }
    }

    /// Answers a 401's challenge: returns the header to send again with.
    pub fn answer(
        &self,
        transport: &Transport,
        host: &str,
        registry: &str,
        header: &str,
        scope: &str,
        login: Option<&Login>,
    ) -> Result<String> {
        let challenge = Challenge::parse(header).ok_or_else(|| Error::NoChallenge {
            host: host.to_string(),
        })?;
        lock(&self.challenges).insert(host.to_string(), challenge.clone());
        match challenge {
            Challenge::Basic => match login {
                Some(l) => Ok(basic(l)),
                None => Err(Error::Denied {
                    registry: registry.to_string(),
                    repo: scope_repo(scope),
                }),
            },
            Challenge::Bearer { realm, service } => {
                let (token, life) = fetch_token(
                    transport,
                    &realm,
                    service.as_deref(),
                    scope,
                    login,
                    registry,
                )?;
                let until = Instant::now()
                    + life
                        .saturating_sub(TOKEN_MARGIN)
                        .max(Duration::from_secs(1));
                lock(&self.tokens).insert(
                    (host.to_string(), scope.to_string()),
                    (token.clone(), until),
                );
                Ok(format!("Bearer {token}"))
            }
        }
    }

    /// Forgets the token for `scope` (a 401 despite it: expired early).
    pub fn forget(&self, host: &str, scope: &str) {
        lock(&self.tokens).remove(&(host.to_string(), scope.to_string()));
    }
}

fn fetch_token(
    transport: &Transport,
    realm: &str,
    service: Option<&str>,
    scope: &str,
    login: Option<&Login>,
    registry: &str,
) -> Result<(String, Duration)> {
    let realm_ep = realm_endpoint(realm)?;
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(s) = service {
        query.push(("service", s));
    }
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        query.push(("scope", s));
    }
    let what = format!("a token for {scope}");
    let resp = match login {
        // An identity token is exchanged by OAuth2 (docker's refresh_token grant).
        Some(l) if l.username == "<token>" => {
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", l.secret.as_str()),
                ("client_id", "husk"),
            ];
            form.extend(query.iter().copied());
            let body = encode_query(&form);
            transport.send(
                &realm_ep,
                Method::POST,
                realm,
                &[("content-type", "application/x-www-form-urlencoded".into())],
                Body::Bytes(body.as_bytes()),
                &what,
            )?
        }
        _ => {
            let sep = if realm.contains('?') { '&' } else { '?' };
            let url = if query.is_empty() {
                realm.to_string()
            } else {
                format!("{realm}{sep}{}", encode_query(&query))
            };
            let headers: Vec<(&str, String)> = login
                .map(|l| vec![("authorization", basic(l))])
                .unwrap_or_default();
            transport.send(&realm_ep, Method::GET, &url, &headers, Body::Empty, &what)?
        }
    };
    let status = resp.status().as_u16();
    if status == 401 || status == 403 {
        return Err(match login {
            Some(_) => Error::BadCredentials {
                host: realm_ep.host,
                registry: registry.to_string(),
            },
            None => Error::Denied {
                registry: registry.to_string(),
                repo: scope_repo(scope),
            },
        });
    }
    if status != 200 {
        return Err(Error::Status {
            host: realm_ep.host,
            what,
            status,
        });
    }
    let bytes = resp
        .into_body()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .map_err(|e| transport.classify(&realm_ep.host, e, &what))?;
    let token_err = |source: Box<dyn std::error::Error + Send + Sync>| Error::Token {
        realm: realm.to_string(),
        source,
    };
    let reply: TokenReply = serde_json::from_slice(&bytes).map_err(|e| token_err(Box::new(e)))?;
    let token = reply
        .token
        .or(reply.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| token_err("neither token nor access_token in the reply".into()))?;
    let life = reply
        .expires_in
        .filter(|s| *s > 0)
        .map_or(DEFAULT_TOKEN_LIFE, Duration::from_secs);
    Ok((token, life))
}

/// The token server's host, with the scheme its URL gives.
fn realm_endpoint(realm: &str) -> Result<Endpoint> {
    Endpoint::from_url(realm).map_err(|_| Error::Token {
        realm: realm.to_string(),
        source: "the realm is not an http(s) URL".into(),
    })
}

pub fn basic(l: &Login) -> String {
    let raw = format!("{}:{}", l.username, l.secret);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// `library/busybox` from `repository:library/busybox:pull`.
fn scope_repo(scope: &str) -> String {
    let first = scope.split(' ').next().unwrap_or(scope);
    let inner = first.strip_prefix("repository:").unwrap_or(first);
    inner.rsplit_once(':').map_or(inner, |(r, _)| r).to_string()
}

/// application/x-www-form-urlencoded, as token servers read their query.
pub fn encode_query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into())
            }
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Bearer"), None);
        assert_eq!(Challenge::parse("Negotiate abc"), None);
    }

    #[test]
    fn scopes_and_queries() {
        assert_eq!(
            scope_repo("repository:library/busybox:pull,push"),
            "library/busybox"
        );
        assert_eq!(
            encode_query(&[("scope", "repository:a/b:pull,push")]),
            "scope=repository%3Aa%2Fb%3Apull%2Cpush"
        );
        assert_eq!(
            basic(&Login {
                username: "u".into(),
                secret: "p".into()
            }),
            "Basic dTpw"
        );
    }
}
