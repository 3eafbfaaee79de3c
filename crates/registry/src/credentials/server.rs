//! The names a registry goes by in docker's config.json. `docker login`
//! keys Docker Hub as `https://index.docker.io/v1/` and any other registry
//! as the host (`127.0.0.1:5000`); older docker versions and hand-written
//! files also use `https://host`, `http://host/v2/` and the like, which
//! docker's lookups accept (its `ConvertToHostname`), and so do ours.

/// Docker Hub's key in `auths` and the `ServerURL` its credential helpers
/// are asked about.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The names Docker Hub answers to; all mean the same credentials.
const DOCKER_HUB_HOSTS: &[&str] = &["docker.io", "index.docker.io", "registry-1.docker.io"];

/// The key docker writes for `registry` ("docker.io", "127.0.0.1:5000",
/// or any of the variants above).
pub fn key(registry: &str) -> String {
    let host = hostname(registry);
    if is_docker_hub(&host) {
        DOCKER_HUB_KEY.to_string()
    } else {
        host
    }
}

/// Whether a key found in the file names the same registry as `registry`.
pub fn same(found_key: &str, registry: &str) -> bool {
    canonical(&hostname(found_key)) == canonical(&hostname(registry))
}

/// The host[:port] of a key: scheme and path dropped, lower-cased (host
/// names are case-insensitive; docker compares them as written, so a key
/// it wrote still matches).
pub fn hostname(key: &str) -> String {
    let rest = key.split_once("://").map_or(key, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    host.to_ascii_lowercase()
}

fn is_docker_hub(host: &str) -> bool {
    DOCKER_HUB_HOSTS.contains(&host)
}

fn canonical(host: &str) -> &str {
    if is_docker_hub(host) {
        "docker.io"
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_has_one_key_under_all_its_names() {
        for name in [
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "https://index.docker.io/v1/",
            "https://registry-1.docker.io/v2/",
        ] {
            assert_eq!(key(name), DOCKER_HUB_KEY, "{name}");
        }
    }

    #[test]
    fn other_registries_are_keyed_by_host_and_port() {
        assert_eq!(key("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(key("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
        assert_eq!(key("https://Registry.Example.com"), "registry.example.com");
        assert_eq!(key("[::1]:5000"), "[::1]:5000");
    }

    #[test]
    fn variants_match_and_ports_are_distinct() {
        assert!(same("https://127.0.0.1:5000", "127.0.0.1:5000"));
        assert!(same("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"));
        assert!(same("https://index.docker.io/v1/", "docker.io"));
        assert!(same("index.docker.io", "registry-1.docker.io"));
        assert!(!same("127.0.0.1:5001", "127.0.0.1:5000"));
        assert!(!same("127.0.0.1", "127.0.0.1:5000"));
        assert!(!same("docker.io.evil.example", "docker.io"));
    }
}
