//! Resolving relative paths against the project directory, lexically (no
//! file system access: the paths may not exist yet, and symlinks are the
//! engine's business when it mounts).

use std::path::{Component, Path, PathBuf};

/// `path` made absolute against `base`, with `~` / `~/...` taken from
/// `home` when there is one, and `.` and `..` folded away.
pub(crate) fn resolve(base: &Path, path: &str, home: Option<&str>) -> PathBuf {
    let expanded = match (path.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => path.to_string(),
    };
    clean(&base.join(expanded))
}

/// Folds `.` and `..` without touching the file system; `..` above the
/// root stays at the root.
pub(crate) fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// Whether a build context is remote (git or http), so not a directory.
pub(crate) fn is_remote_context(context: &str) -> bool {
    context.contains("://") || context.starts_with("git@") || context.starts_with("github.com/")
}

/// `path` as shown in messages: relative to `base` when under it.
pub(crate) fn display(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves() {
        let base = Path::new("/proj/app");
        assert_eq!(resolve(base, "./data", None), Path::new("/proj/app/data"));
        assert_eq!(resolve(base, "../x/./y", None), Path::new("/proj/x/y"));
        assert_eq!(resolve(base, "/abs/../p", None), Path::new("/p"));
        assert_eq!(
            resolve(base, "~/c", Some("/home/u")),
            Path::new("/home/u/c")
        );
        assert_eq!(resolve(base, "~", Some("/home/u")), Path::new("/home/u"));
        assert_eq!(
            resolve(base, "~other", Some("/home/u")),
            Path::new("/proj/app/~other")
        );
        assert_eq!(resolve(base, "/../..", None), Path::new("/"));
        assert_eq!(clean(Path::new("../../x")), Path::new("../../x"));
        assert_eq!(clean(Path::new("a/../../x")), Path::new("../x"));
    }

    #[test]
    fn remote_contexts() {
        assert!(is_remote_context("https://github.com/a/b.git#main"));
        assert!(is_remote_context("git@github.com:a/b.git"));
        assert!(!is_remote_context("./app"));
    }
}
