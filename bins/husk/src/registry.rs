//! The registry commands: `login`, `logout`, `push`, with docker's flags,
//! prompts and lines.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::os::fd::AsFd;

use anyhow::{bail, Context, Result};
use husk_registry::credentials::{Credential, Credentials, DOCKER_HUB_KEY};

use husk_engine::store::Paths;
use husk_image::{Reference, Store};
use husk_registry::push::{Event, PushOptions};
use husk_registry::{ImageRef, Repository};

use crate::cli::{LoginArgs, LogoutArgs, PushArgs};
use crate::push_output::PushOutput;

/// The registry a login/logout without SERVER (or with docker's
/// "docker.io") is about.
fn server_of(arg: Option<&str>) -> &str {
    match arg {
        None | Some("") => "docker.io",
        Some(s) => s,
    }
}

/// How docker names the server in its messages: Docker Hub by its key,
/// any other registry by host[:port].
fn shown(server: &str) -> String {
    let key = husk_registry::credentials::server_key(server);
    if key == DOCKER_HUB_KEY {
        key
    } else {
        husk_fs::printable(&key, 200)
    }
}

pub fn login(paths: &Paths, a: &LoginArgs) -> Result<()> {
    let (client, _) = husk_engine::registry::client(paths)?;
    let engine = client.transport().options();
    let server = server_of(a.server.as_deref());
    let creds = Credentials::from_env();
    let mut password = a.password.clone().filter(|p| !p.is_empty());
    if password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        if a.password_stdin {
            bail!("--password and --password-stdin are mutually exclusive: give one of them");
        }
    }
    if a.password_stdin {
        if a.username.as_deref().unwrap_or("").is_empty() {
            bail!("Must provide --username with --password-stdin");
        }
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("read the password from stdin")?;
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        password = Some(text.to_string());
    }

    let stored = creds.get(server)?;
    // docker first tries what it has when no credentials were given.
    if a.username.is_none() && password.is_none() {
        if let Some(c) = stored
            .as_ref()
            .filter(|c| c.identity_token().is_none() && !c.secret.is_empty())
        {
            print!(
                "Authenticating with existing credentials... [Username: {}]\n\
                 To login with a different account, run 'husk logout' followed by 'husk login'\n\n",
                husk_fs::printable(&c.username, 100)
            );
            let _ = std::io::stdout().flush();
            match husk_registry::login(engine, server, c) {
                Ok(keep) => return finish(&creds, server, &keep),
                Err(husk_registry::Error::LoginRefused { .. }) => {
                    eprintln!("Stored credentials invalid or expired")
                }
                Err(e) => eprintln!("Login did not succeed, error: {}", husk_fs::error_chain(&e)),
            }
        }
    }

    let interactive = std::io::stdin().is_terminal();
    if (a.username.is_none() || password.is_none()) && !interactive {
        bail!("Cannot perform an interactive login from a non TTY device: give -u USER and --password-stdin");
    }
    let username = match &a.username {
        Some(u) => u.trim().to_string(),
        None => {
            let default = stored
                .as_ref()
                .filter(|c| c.identity_token().is_none())
                .map(|c| c.username.trim().to_string())
                .unwrap_or_default();
            let prompt = if default.is_empty() {
                "Username: ".to_string()
            } else {
                format!("Username ({}): ", husk_fs::printable(&default, 100))
            };
            let typed = read_line(&prompt, false)?;
            if typed.trim().is_empty() {
                default
            } else {
                typed.trim().to_string()
            }
        }
    };
    if username.is_empty() {
        bail!("Non-null Username Required");
    }
    let secret = match password {
        Some(p) => p,
        None => read_line("Password: ", true)?,
    };
    if secret.is_empty() {
        bail!("Password Required");
    }
    let c = Credential { username, secret };
    let keep = husk_registry::login(engine, server, &c)?;
    finish(&creds, server, &keep)
}

/// Keeps the checked credentials and says so as docker does.
fn finish(creds: &Credentials, server: &str, c: &Credential) -> Result<()> {
    creds.store(server, c).context("Error saving credentials")?;
    if !creds.uses_helper(server)? {
        eprintln!(
            "WARNING! Your credentials are stored unencrypted in '{}'.\n\
             Configure a credential helper to remove this warning. See\n\
             https://docs.docker.com/go/credential-store/\n",
            creds.config_file().display()
        );
    }
    println!("Login Succeeded");
    Ok(())
}

pub fn logout(a: &LogoutArgs) -> Result<()> {
    let server = server_of(a.server.as_deref());
    let creds = Credentials::from_env();
    if creds.erase(server)? {
        println!("Removing login credentials for {}", shown(server));
    } else {
        println!("Not logged in to {}", shown(server));
    }
    Ok(())
}

pub fn push(paths: &Paths, a: &PushArgs) -> Result<()> {
    let r = ImageRef::parse(&a.reference)?;
    if r.digest.is_some() {
        return Err(husk_registry::Error::PushDigest {
            reference: husk_fs::printable(&a.reference, 200),
        }
        .into());
    }
    if a.all_tags && r.tagged {
        bail!("tag can't be used with --all-tags/-a: give the repository alone");
    }
    let store = Store::open_read(&paths.root)?;
    let images = store.images()?;
    // The names to push: the one given (tag `latest` when none), or with
    // -a every tag of its repository, in the store's order.
    let mut names: Vec<(Reference, husk_image::Image)> = Vec::new();
    for img in &images {
        for n in &img.names {
            let wanted = if a.all_tags {
                n.repo() == r.name.repo()
            } else {
                *n == r.name
            };
            if wanted {
                names.push((n.clone(), img.clone()));
            }
        }
    }
    if names.is_empty() {
        bail!(
            "An image does not exist locally with the tag: {}: tag one first with 'husk tag IMAGE {}'",
            r.name.familiar_repo(),
            r.name.familiar()
        );
    }
    let repo = Repository {
        endpoint: husk_registry::Endpoint::new(husk_registry::reference::api_host(r.registry())),
        registry: r.registry().to_string(),
        path: r.path().to_string(),
    };
    let (client, _) = husk_engine::registry::client(paths)?;
    if !a.quiet {
        println!("The push refers to repository [{}]", r.name.repo());
    }
    let mut pins = Vec::new();
    let mut failed = None;
    for (name, image) in &names {
        let output = PushOutput::new(a.quiet, std::io::stdout().is_terminal());
        let result = husk_registry::push::push(
            &client,
            &store,
            image,
            &repo,
            name.tag(),
            &PushOptions::default(),
            &|e: Event| output.event(e),
        );
        output.done();
        let pushed = match result.with_context(|| format!("push {}", name.familiar())) {
            Ok(p) => p,
            Err(e) => {
                failed = Some(e);
                break;
            }
        };
        pins.push((
            image.manifest.clone(),
            format!("{}@{}", name.repo(), pushed.digest),
        ));
        if a.quiet {
            println!("{name}");
        } else {
            println!(
                "{}: digest: {} size: {}",
                pushed.tag, pushed.digest, pushed.size
            );
        }
    }
    // docker's RepoDigests: the image is now also REPO@DIGEST (for every
    // tag that went up, also when a later one failed). Recorded under the
    // write lock, once the read lock of the push is let go.
    drop(store);
    let recorded = Store::open_write(&paths.root).and_then(|store| {
        pins.into_iter()
            .try_for_each(|(desc, pin)| store.add_pinned(desc, &pin).map(drop))
    });
    if let Err(e) = recorded {
        eprintln!(
            "WARNING: pushed, but the repository digest was not recorded: {}",
            husk_fs::error_chain(&e)
        );
    }
    failed.map_or(Ok(()), Err)
}

/// Reads one line from the terminal after `prompt` (on stdout, as docker
/// prompts), without echo for a password.
fn read_line(prompt: &str, hidden: bool) -> Result<String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    print!("{prompt}");
    let _ = std::io::stdout().flush();
    let stdin = std::io::stdin();
    let saved = if hidden {
        tcgetattr(stdin.as_fd()).ok()
    } else {
        None
    };
    if let Some(t) = &saved {
        let mut quiet = t.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        let _ = tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &quiet);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(t) = &saved {
        let _ = tcsetattr(stdin.as_fd(), SetArg::TCSANOW, t);
        // The newline the user typed was not echoed.
        println!();
    }
    read.context("read from the terminal")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
