//! .dockerignore matching, ported from moby/patternmatcher's
//! patternmatcher_test.go (TestMatches, TestMatch, the exclusion tests) and
//! ignorefile_test.go.

use husk_dockerfile::DockerIgnore;

fn excluded(patterns: &[&str], path: &str) -> bool {
    DockerIgnore::new(patterns)
        .unwrap_or_else(|e| panic!("{patterns:?}: {e}"))
        .is_excluded(path)
}

#[test]
fn patternmatcher_test_matches() {
    // (pattern, path, matched by MatchesOrParentMatches)
    let cases: &[(&str, &str, bool)] = &[
        ("**", "file", true),
        ("**", "file/", true),
        ("**/", "file", true),
        ("**/", "file/", true),
        ("**", "dir/file", true),
        ("**/", "dir/file", true),
        ("**", "dir/file/", true),
        ("**/", "dir/file/", true),
        ("**/**", "dir/file", true),
        ("**/**", "dir/file/", true),
        ("dir/**", "dir/file", true),
        ("dir/**", "dir/file/", true),
        ("dir/**", "dir/dir2/file", true),
        ("dir/**", "dir/dir2/file/", true),
        ("**/dir", "dir", true),
        ("**/dir", "dir/file", true),
        ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/*", "dir/dir2/file/", true),
        ("**/dir2/**", "dir/dir2/dir3/file", true),
        ("**/dir2/**", "dir/dir2/dir3/file/", true),
        ("**file", "file", true),
        ("**file", "dir/file", true),
        ("**/file", "dir/file", true),
        ("**file", "dir/dir/file", true),
        ("**/file", "dir/dir/file", true),
        ("**/file*", "dir/dir/file", true),
        ("**/file*", "dir/dir/file.txt", true),
        ("**/file*txt", "dir/dir/file.txt", true),
        ("**/file*.txt", "dir/dir/file.txt", true),
        ("**/file*.txt*", "dir/dir/file.txt", true),
        ("**/**/*.txt", "dir/dir/file.txt", true),
        ("**/**/*.txt2", "dir/dir/file.txt", false),
        ("**/*.txt", "file.txt", true),
        ("**/**/*.txt", "file.txt", true),
        ("a**/*.txt", "a/file.txt", true),
        ("a**/*.txt", "a/dir/file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true),
        ("a/*.txt", "a/dir/file.txt", false),
        ("a/*.txt", "a/file.txt", true),
        ("a/*.txt**", "a/file.txt", true),
        ("a[b-d]e", "ae", false),
        ("a[b-d]e", "ace", true),
        ("a[b-d]e", "aae", false),
        ("a[^b-d]e", "aze", true),
        (".*", ".foo", true),
        (".*", "foo", false),
        ("abc.def", "abcdef", false),
        ("abc.def", "abc.def", true),
        ("abc.def", "abcZdef", false),
        ("abc?def", "abcZdef", true),
        ("abc?def", "abcdef", false),
        ("**/foo/bar", "foo/bar", true),
        ("**/foo/bar", "dir/foo/bar", true),
        ("**/foo/bar", "dir/dir2/foo/bar", true),
        ("abc/**", "abc", false),
        ("abc/**", "abc/def", true),
        ("abc/**", "abc/def/ghi", true),
        ("**/.foo", ".foo", true),
        ("**/.foo", "bar.foo", false),
        ("a(b)c/def", "a(b)c/def", true),
        ("a(b)c/def", "a(b)c/xyz", false),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        (
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            true,
        ),
        (
            "dist/*.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            true,
        ),
        ("a\\\\", "a\\", true),
        ("a\\*b", "a*b", true),
    ];
    let mut failures = Vec::new();
    for (pattern, path, want) in cases {
        if excluded(&[pattern], path) != *want {
            failures.push(format!("pattern {pattern:?} path {path:?}: want {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn patternmatcher_multi_pattern() {
    assert!(!excluded(
        &["**", "!util/docker/web"],
        "util/docker/web/foo"
    ));
    assert!(excluded(
        &["**", "!util/docker/web", "util/docker/web/foo"],
        "util/docker/web/foo"
    ));
    assert!(!excluded(
        &[
            "**",
            "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"
        ],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"
    ));
    assert!(!excluded(
        &["**", "!dist/*.whl"],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"
    ));
}

#[test]
fn patternmatcher_exclusions() {
    assert!(excluded(&["*"], "fileutils.go"));
    assert!(excluded(&["*.go"], "fileutils.go"));
    assert!(excluded(&["!fileutils.go", "*.go"], "fileutils.go"));
    assert!(!excluded(&["docs", "!docs/README.md"], "docs/README.md"));
    assert!(!excluded(&["docs/", "!docs/README.md"], "docs/README.md"));
    assert!(!excluded(&["docs/*", "!docs/README.md"], "docs/README.md"));
    assert!(!excluded(&["*.go", "!fileutils.go"], "fileutils.go"));
    assert!(!excluded(&["*.go"], "."));
    assert!(!excluded(&[], "any/path/there"));
    assert!(DockerIgnore::new(["!"]).is_err());
    assert!(DockerIgnore::new(["["]).is_err());
    assert!(DockerIgnore::new(["docs", "  !docs/README.md  "])
        .unwrap()
        .has_exceptions());
    assert!(!DockerIgnore::new(["docs", "config", ""])
        .unwrap()
        .has_exceptions());
}

/// Go's filepath.Match cases as patternmatcher_test.go's TestMatch runs them.
#[test]
fn go_filepath_match_cases() {
    // (pattern, path, match, bad pattern)
    let cases: &[(&str, &str, bool, bool)] = &[
        ("abc", "abc", true, false),
        ("*", "abc", true, false),
        ("*c", "abc", true, false),
        ("a*", "a", true, false),
        ("a*", "abc", true, false),
        ("a*", "ab/c", true, false),
        ("a*/b", "abc/b", true, false),
        ("a*/b", "a/c/b", false, false),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", true, false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false),
        ("a*b?c*x", "abxbbxdbxebxczzx", true, false),
        ("a*b?c*x", "abxbbxdbxebxczzy", false, false),
        ("ab[c]", "abc", true, false),
        ("ab[b-d]", "abc", true, false),
        ("ab[e-g]", "abc", false, false),
        ("ab[^c]", "abc", false, false),
        ("ab[^b-d]", "abc", false, false),
        ("ab[^e-g]", "abc", true, false),
        ("a\\*b", "a*b", true, false),
        ("a\\*b", "ab", false, false),
        ("a?b", "a☺b", true, false),
        ("a[^a]b", "a☺b", true, false),
        ("a???b", "a☺b", false, false),
        ("a[^a][^a][^a]b", "a☺b", false, false),
        ("[a-ζ]*", "α", true, false),
        ("*[a-ζ]", "A", false, false),
        ("a?b", "a/b", false, false),
        ("a*b", "a/b", false, false),
        ("[\\]a]", "]", true, false),
        ("[\\-]", "-", true, false),
        ("[x\\-]", "x", true, false),
        ("[x\\-]", "-", true, false),
        ("[x\\-]", "z", false, false),
        ("[\\-x]", "x", true, false),
        ("[\\-x]", "-", true, false),
        ("[\\-x]", "a", false, false),
        ("[]a]", "]", false, true),
        ("[-]", "-", false, true),
        ("[x-]", "x", false, true),
        ("[-x]", "x", false, true),
        ("\\", "a", false, true),
        ("[a-b-c]", "a", false, true),
        ("[", "a", false, true),
        ("[^", "a", false, true),
        ("[^bc", "a", false, true),
        ("a[", "a", false, true),
        ("*x", "xxx", true, false),
    ];
    let mut failures = Vec::new();
    for (pattern, path, want, bad) in cases {
        match DockerIgnore::new([pattern]) {
            Err(_) if *bad => {}
            Err(e) => failures.push(format!("{pattern:?}: unexpected error {e}")),
            Ok(_) if *bad => failures.push(format!("{pattern:?}: accepted a bad pattern")),
            Ok(m) => {
                if m.is_excluded(path) != *want {
                    failures.push(format!("{pattern:?} {path:?}: want {want}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dockerignore_file() {
    let ig = DockerIgnore::parse(
        "# comment\n\
         /test2\n\
         \n\
         *.log\n\
         ./build/\n\
         !build/keep.txt\n\
         **/node_modules\n\
         \u{20}  spaced.txt  \n",
    )
    .unwrap();
    assert!(ig.is_excluded("test2"));
    assert!(ig.is_excluded("test2/inner"));
    assert!(!ig.is_excluded("a/test2"));
    assert!(ig.is_excluded("x.log"));
    assert!(
        !ig.is_excluded("dir/x.log"),
        "*.log matches only at the top, as in docker"
    );
    assert!(ig.is_excluded("build/out.o"));
    assert!(!ig.is_excluded("build/keep.txt"));
    assert!(ig.is_excluded("a/b/node_modules/x/y"));
    assert!(ig.is_excluded("node_modules"));
    assert!(ig.is_excluded("spaced.txt"));
    assert!(!ig.is_excluded("# comment"));
    assert!(!ig.is_excluded("Dockerfile"));
    // A walk must enter build/ to find keep.txt, and may skip node_modules.
    assert!(ig.must_descend("build"));
    assert!(!ig.must_descend("node_modules"));
    assert!(!ig.must_descend("test2"));
    assert!(ig.must_descend("src"));
}

#[test]
fn dockerignore_errors_name_the_line() {
    let e = DockerIgnore::parse("a\n# c\n!\n").unwrap_err();
    assert_eq!(e.line, 3);
    assert!(
        e.to_string()
            .starts_with(".dockerignore:3: illegal exclusion pattern"),
        "{e}"
    );
    let e = DockerIgnore::parse("ok\n[z-a]\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    // "! " is "!" after trimming, as in ignorefile.ReadAll.
    assert!(DockerIgnore::parse("! \n").is_err());
    // A leading "! " then a path is an exception of that path.
    let ig = DockerIgnore::parse("inverted\n! /inverted/abs/path\n").unwrap();
    assert!(!ig.is_excluded("inverted/abs/path"));
    assert!(ig.is_excluded("inverted/other"));
}

#[test]
fn exception_with_wildcards_makes_a_walk_descend() {
    let ig = DockerIgnore::new(["**", "!src/**/*.rs"]).unwrap();
    assert!(ig.must_descend("src"));
    assert!(ig.must_descend("src/a"));
    assert!(!ig.must_descend("target"));
    assert!(!ig.is_excluded("src/a/b.rs"));
    assert!(ig.is_excluded("src/a/b.o"));
}

#[test]
fn many_stars_on_a_long_name() {
    // A backtracking matcher takes exponential time here; the table does not.
    let name = "a".repeat(300);
    assert!(!excluded(&["*a*a*a*a*a*a*a*a*a*a*a*a*b"], &name));
    assert!(excluded(&["*a*a*a*a*a*a*a*a*a*a*a*a*a"], &name));
    assert!(excluded(
        &["**/**/**/**/x/**"],
        &format!("{}/x/y", "d/".repeat(100))
    ));
}
