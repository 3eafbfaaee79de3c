//! Word expansion against moby/buildkit's shell lexer test cases
//! (frontend/dockerfile/shell/envVarTest and lex_test.go).

use husk_dockerfile::{expand, expand_heredoc, Word};

fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        pairs
            .iter()
            .rev()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

/// envVarTest, with PWD=/home SHELL=bash KOREAN=한국어 NULL= ("error" = fails).
const ENV_VAR_TEST: &[(&str, &str)] = &[
    ("hello", "hello"),
    ("he'll'o", "hello"),
    ("he'llo", "error"),
    ("he\\'llo", "he'llo"),
    ("he\\\\'llo", "error"),
    ("abc\\tdef", "abctdef"),
    ("\"abc\\tdef\"", "abc\\tdef"),
    ("\"abc\\\\tdef\"", "abc\\tdef"),
    ("'abc\\tdef'", "abc\\tdef"),
    ("hello\\", "hello"),
    ("hello\\\\", "hello\\"),
    ("\"hello", "error"),
    ("\"hello\\\"", "error"),
    ("\"hel'lo\"", "hel'lo"),
    ("'hello", "error"),
    ("'hello\\'", "hello\\"),
    ("'hello\\there'", "hello\\there"),
    ("'hello\\\\there'", "hello\\\\there"),
    ("\"''\"", "''"),
    ("$.", "$."),
    ("he$1x", "hex"),
    ("he$.x", "he$.x"),
    ("he$pwd.", "he."),
    ("he$PWD", "he/home"),
    ("he\\$PWD", "he$PWD"),
    ("he\\\\$PWD", "he\\/home"),
    ("\"he\\$PWD\"", "he$PWD"),
    ("\"he\\\\$PWD\"", "he\\/home"),
    ("\\${}", "${}"),
    ("\\${}aaa", "${}aaa"),
    ("he\\${}", "he${}"),
    ("he\\${}xx", "he${}xx"),
    ("${}", "error"),
    ("${}aaa", "error"),
    ("he${}", "error"),
    ("he${}xx", "error"),
    ("he${hi}", "he"),
    ("he${hi}xx", "hexx"),
    ("he${PWD}", "he/home"),
    ("he${.}", "error"),
    ("he${XXX:-000}xx", "he000xx"),
    ("he${PWD:-000}xx", "he/homexx"),
    ("he${XXX:-$PWD}xx", "he/homexx"),
    ("he${XXX:-${PWD:-yyy}}xx", "he/homexx"),
    ("he${XXX:-${YYY:-yyy}}xx", "heyyyxx"),
    ("he${XXX:YYY}", "error"),
    ("he${XXX?}", "error"),
    ("he${XXX:?}", "error"),
    ("he${PWD?}", "he/home"),
    ("he${PWD:?}", "he/home"),
    ("he${NULL?}", "he"),
    ("he${NULL:?}", "error"),
    ("he${XXX:+${PWD}}xx", "hexx"),
    ("he${PWD:+${XXX}}xx", "hexx"),
    ("he${PWD:+${SHELL}}xx", "hebashxx"),
    ("he${XXX:+000}xx", "hexx"),
    ("he${PWD:+000}xx", "he000xx"),
    ("'he${XX}'", "he${XX}"),
    ("\"he${PWD}\"", "he/home"),
    ("\"he'$PWD'\"", "he'/home'"),
    ("\"$PWD\"", "/home"),
    ("'$PWD'", "$PWD"),
    ("'\\$PWD'", "\\$PWD"),
    ("'\"hello\"'", "\"hello\""),
    ("he\\$PWD", "he$PWD"),
    ("\"he\\$PWD\"", "he$PWD"),
    ("'he\\$PWD'", "he\\$PWD"),
    ("he${PWD", "error"),
    ("he${PWD=000}xx", "error"),
    ("he${PWD+${PWD}:}xx", "he/home:xx"),
    ("he${NULL+x}xx", "hexxx"),
    ("he${NULL-x}xx", "hexx"),
    ("he${XXX-x}xx", "hexxx"),
    ("${KOREAN}", "한국어"),
    ("안녕${KOREAN}", "안녕한국어"),
    ("$$", ""),
    ("${PWD}${SHELL}", "/homebash"),
];

#[test]
fn buildkit_env_var_test() {
    let vars = env(&[
        ("PWD", "/home"),
        ("SHELL", "bash"),
        ("KOREAN", "한국어"),
        ("NULL", ""),
    ]);
    let mut failures = Vec::new();
    for (input, want) in ENV_VAR_TEST {
        let got = expand(input, '\\', &vars);
        let ok = match (&got, *want) {
            (Err(_), "error") => true,
            (Ok(g), w) => g == w,
            _ => false,
        };
        if !ok {
            failures.push(format!("{input:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// lex_test.go TestProcessWithMatches.
#[test]
fn buildkit_process_with_matches() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<&'a str>);
    let cases: &[Case] = &[
        ("x ${UNUSED}", &[("DUMMY", "dummy")], Some("x ")),
        ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", &[("FOO", "xxx"), ("BAR", "")], Some("xxx  ccc")),
        ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", &[("FOO", "xxx"), ("BAR", "")], Some("xxx bbb ccc")),
        ("${FOO:-}", &[("FOO", "xxx")], Some("xxx")),
        ("${FOO:-}", &[], Some("")),
        ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", &[("FOO", "xxx"), ("BAR", "")], Some("aaa bbb ")),
        ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", &[("FOO", "xxx"), ("BAR", "")], Some("aaa  ")),
        ("${FOO?aaa}", &[("FOO", "xxx"), ("BAR", "")], Some("xxx")),
        ("${BAR?bbb}", &[("FOO", "xxx"), ("BAR", "")], Some("")),
        ("${BAZ?ccc}", &[("FOO", "xxx")], None),
        ("${FOO:?aaa}", &[("FOO", "xxx")], Some("xxx")),
        ("${BAR:?bbb}", &[("BAR", "")], None),
        ("${BAZ:?ccc}", &[], None),
        ("${BAZ:?}", &[], None),
        ("${FOO=aaa}", &[("FOO", "xxx")], None),
        ("${FOO=:aaa}", &[("FOO", "xxx")], None),
        ("${FOO=}", &[], None),
        ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", &[("FOO", "()[]{}^$.*?|\\x")], Some("x")),
        ("${FOO%%\\**}", &[("FOO", "xx**")], Some("xx")),
        ("${FOO#*x*y}", &[("FOO", "xxyy")], Some("y")),
        ("${FOO#*}", &[("FOO", "xxyy")], Some("xxyy")),
        ("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "x")], Some("xyy")),
        ("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "")], Some("xxyy")),
        ("${FOO#}", &[("FOO", "xxyy")], Some("xxyy")),
        ("${FOO##*x}", &[("FOO", "xxyy")], Some("yy")),
        ("${FOO##}", &[("FOO", "xxyy")], Some("xxyy")),
        ("${FOO#?\\?}", &[("FOO", "???y")], Some("?y")),
        ("${ABC:-.}${FOO%x}${ABC:-.}", &[("FOO", "xxyy")], Some(".xxyy.")),
        ("${FOO%%\\**\\*}", &[("FOO", "a***yy*")], Some("a")),
        ("${FOO%}", &[("FOO", "xxyy")], Some("xxyy")),
        ("${FOO%%$BAR}", &[("FOO", "xxyy"), ("BAR", "")], Some("xxyy")),
        (
            "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
            &[("FOO", "/foo*/*/*.txt"), ("NEEDLE", "\\*/")],
            Some("/foo.*/*.txt - /foo..*.txt"),
        ),
        (
            "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
            &[("FOO", "/tmp/tmp/bar.txt"), ("NEEDLE", "/tmp")],
            Some("/tmp/bar.txt - /bar.txt"),
        ),
        (
            "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
            &[("FOO", "/a/foo/b/c.txt"), ("NEEDLE", "/?/"), ("REPLACEMENT", "/")],
            Some("/foo/b/c.txt - /foo/c.txt"),
        ),
        (
            "${FOO/$NEEDLE/$REPLACEMENT}",
            &[("FOO", "http://google.de"), ("NEEDLE", "http://"), ("REPLACEMENT", "https://")],
            Some("https://google.de"),
        ),
        ("${FOO//\\//\\/}", &[("FOO", "/tmp/foo.txt")], Some("\\/tmp\\/foo.txt")),
        ("${FOO/$BAR/ww}", &[("FOO", "xxyy"), ("BAR", "")], Some("wwxxyy")),
        ("${FOO//ww}", &[("FOO", "xxyy")], None),
        ("${FOO//}", &[("FOO", "xxyy")], None),
        ("${FOO///}", &[("FOO", "xxyy")], Some("xxyy")),
        ("${FOO///}", &[], Some("")),
        (
            "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
            &[("VERSION", "v1.2.3"), ("TARGETOS", "linux"), ("TARGETARCH", "arm"), ("TARGETVARIANT", "v7")],
            Some("something-v1.2.3.linux-arm-v7.tar.gz"),
        ),
        (
            "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
            &[("VERSION", "v1.2.3"), ("TARGETOS", "linux"), ("TARGETARCH", "amd64")],
            Some("something-v1.2.3.linux-amd64.tar.gz"),
        ),
    ];
    let mut failures = Vec::new();
    for (input, vars, want) in cases {
        let got = expand(input, '\\', &env(vars));
        if got.as_deref().ok() != *want {
            failures.push(format!(
                "{input:?} with {vars:?}: want {want:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// lex_test.go TestShellParserMandatoryEnvVars: the message is expanded too.
#[test]
fn mandatory_message() {
    let e = expand(
        "${VAR:?message here$ARG}",
        '\\',
        &env(&[("VAR", ""), ("ARG", "x")]),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "failed to process \"${VAR:?message here$ARG}\": VAR: message herex"
    );
    let e = expand("${VAR?}", '\\', &env(&[])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "failed to process \"${VAR?}\": VAR: is not allowed to be unset"
    );
    assert_eq!(
        expand("${VAR?message}", '\\', &env(&[("VAR", "")])).unwrap(),
        ""
    );
}

#[test]
fn backtick_escape() {
    let vars = env(&[("X", "1")]);
    assert_eq!(expand("a`$X", '`', &vars).unwrap(), "a$X");
    assert_eq!(expand("c:\\dir\\$X", '`', &vars).unwrap(), "c:\\dir\\1");
    assert_eq!(expand("\"a`\"b\"", '`', &vars).unwrap(), "a\"b");
    assert_eq!(
        Word::new("${X}-`${X}", '`').expand(&vars).unwrap(),
        "1-${X}"
    );
}

#[test]
fn heredoc_bodies_keep_quotes() {
    let vars = env(&[("NAME", "world")]);
    let got = expand_heredoc("echo \"hello $NAME\" 'and ${NAME}' \\$NAME\n", &vars).unwrap();
    assert_eq!(got, "echo \"hello world\" 'and world' $NAME\n");
}
