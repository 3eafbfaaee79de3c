//! A real distribution as a container: Debian minbase (glibc, NSS through
//! /etc/nsswitch.conf) run by the engine, users given by name with `-u`.

mod common;

use common::engine::*;
use husk_fixtures::{require_root, skip};

#[test]
fn debian_minbase_runs_with_users_resolved_by_name() {
    require_root!("debian_minbase_runs_with_users_resolved_by_name");
    let tar = match common::debian::minbase_tar() {
        Ok(t) => t,
        Err(why) => {
            skip("debian_minbase_runs_with_users_resolved_by_name", &why);
            return;
        }
    };
    let e = Engine::new();
    e.ok(&["import", tar.to_str().unwrap(), "debian:minbase"]);
    let run = |args: &[&str]| {
        let mut a = vec!["run", "--rm", "--network", "none"];
        a.extend_from_slice(args);
        e.ok(&a)
    };

    assert_eq!(
        run(&["-u", "www-data", "debian:minbase", "id"]),
        "uid=33(www-data) gid=33(www-data) groups=33(www-data)\n"
    );
    // A group by name, looked up in the image's /etc/group.
    assert_eq!(
        run(&["-u", "nobody:mail", "debian:minbase", "id", "-gn"]),
        "mail\n"
    );
    // A uid without a passwd entry gets gid 0, as docker does.
    assert_eq!(
        run(&["-u", "4321", "debian:minbase", "id"]),
        "uid=4321 gid=0(root) groups=0(root)\n"
    );
    // HOME comes from the user's passwd entry; glibc's NSS answers inside.
    assert_eq!(
        run(&["-u", "www-data", "debian:minbase", "sh", "-c", "echo $HOME"]),
        "/var/www\n"
    );
    assert_eq!(
        run(&["debian:minbase", "getent", "passwd", "www-data"]),
        "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    );
    assert!(run(&["debian:minbase", "cat", "/etc/os-release"]).contains("ID=debian"));

    let (code, _, err) = e.code(&["run", "--rm", "-u", "nosuchuser", "debian:minbase", "id"]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains("unable to find user nosuchuser"),
        "error should name the user: {err}"
    );
    assert!(e.ids().is_empty(), "a refused run must leave no container");

    // exec -u resolves names in the running container's own files.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "deb",
        "--network",
        "none",
        "debian:minbase",
        "sleep",
        "300",
    ]);
    assert_eq!(
        e.ok(&["exec", "-u", "www-data", "deb", "id"]),
        "uid=33(www-data) gid=33(www-data) groups=33(www-data)\n"
    );
    assert_eq!(
        e.ok(&["exec", "-u", "nobody:mail", "deb", "id", "-gn"]),
        "mail\n"
    );
    assert_eq!(
        e.ok(&["exec", "-u", "4321:4321", "deb", "id", "-u"]),
        "4321\n"
    );
    let (code, _, err) = e.code(&["exec", "-u", "nosuchuser", "deb", "id"]);
    assert_ne!(code, 0);
    assert!(err.contains("unable to find user nosuchuser"), "{err}");
    e.ok(&["rm", "-f", "deb"]);
}
