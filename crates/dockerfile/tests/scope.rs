//! Docker's ARG/ENV scoping and the config helpers.

use std::collections::BTreeMap;

use husk_dockerfile::*;

fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn meta_args_expand_in_order_and_build_args_win() {
    let df = Dockerfile::parse("ARG A=1\nARG B=${A}2 C\nARG D=$TARGETARCH\nFROM x\n").unwrap();
    let predefined = vec![("TARGETARCH".to_string(), "amd64".to_string())];
    let meta = meta_args(&df, &args(&[]), &predefined).unwrap();
    let get =
        |m: &[(String, String)], k: &str| m.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get(&meta, "B").as_deref(), Some("12"));
    assert_eq!(get(&meta, "C"), None, "no default, no build arg: unset");
    assert_eq!(get(&meta, "D").as_deref(), Some("amd64"));
    let meta = meta_args(&df, &args(&[("A", "9"), ("C", "c")]), &predefined).unwrap();
    assert_eq!(get(&meta, "B").as_deref(), Some("92"));
    assert_eq!(get(&meta, "C").as_deref(), Some("c"));
}

#[test]
fn stage_scope_follows_docker() {
    let df = Dockerfile::parse(
        "ARG VERSION=1.0\nFROM busybox\n\
         RUN echo $VERSION\n\
         ARG VERSION\n\
         ARG USER=${USER:-nobody}\n\
         ENV PATH=/app:$PATH HOME=/root\n\
         ARG HOME=/home/arg\n\
         ENV abc=hello\n\
         ENV abc=bye def=$abc\n\
         ENV ghi=$abc\n",
    )
    .unwrap();
    let build = args(&[
        ("USER", "alice"),
        ("HTTP_PROXY", "http://proxy:3128"),
        ("UNUSED", "1"),
    ]);
    let meta = meta_args(&df, &build, &[]).unwrap();
    let mut sc = StageScope::new(&meta, &build, &s(&["PATH=/bin"]));
    let ins = &df.stages[0].instructions;
    // A global ARG is not visible in a stage until declared there.
    assert_eq!(sc.lookup("VERSION"), None);
    for i in ins {
        sc.apply(i).unwrap();
    }
    assert_eq!(sc.lookup("VERSION").as_deref(), Some("1.0"));
    let mut unset = StageScope::new(&meta, &build, &[]);
    unset
        .declare(
            &ArgDecl {
                name: "NOPE".into(),
                default: None,
            },
            1,
        )
        .unwrap();
    assert_eq!(unset.lookup("NOPE"), None);
    assert!(unset.run_args().is_empty());
    assert_eq!(
        sc.lookup("USER").as_deref(),
        Some("alice"),
        "--build-arg beats the default"
    );
    assert_eq!(sc.lookup("PATH").as_deref(), Some("/app:/bin"));
    assert_eq!(sc.lookup("HOME").as_deref(), Some("/root"), "ENV beats ARG");
    assert_eq!(
        sc.lookup("def").as_deref(),
        Some("hello"),
        "a line is expanded with the env before it"
    );
    assert_eq!(sc.lookup("ghi").as_deref(), Some("bye"));
    assert_eq!(
        sc.env(),
        s(&[
            "PATH=/app:/bin",
            "HOME=/root",
            "abc=bye",
            "def=hello",
            "ghi=bye"
        ])
    );
    assert_eq!(
        sc.run_args(),
        vec![
            ("VERSION".to_string(), "1.0".to_string()),
            ("USER".to_string(), "alice".to_string())
        ]
    );
    let env = sc.run_env();
    assert!(env.contains(&"USER=alice".to_string()), "{env:?}");
    assert!(
        env.contains(&"HTTP_PROXY=http://proxy:3128".to_string()),
        "{env:?}"
    );
    assert!(!env.iter().any(|e| e.starts_with("UNUSED=")), "{env:?}");
    assert_eq!(unused_build_args(&df, &build), vec!["UNUSED".to_string()]);
}

#[test]
fn arg_default_errors_name_the_line() {
    let df = Dockerfile::parse("FROM a\nARG X=${Y:?need-Y}\n").unwrap();
    let mut sc = StageScope::new(&[], &BTreeMap::new(), &[]);
    let e = sc.apply(&df.stages[0].instructions[0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Dockerfile:2: failed to process \"${Y:?need-Y}\": Y: need-Y"
    );
}

#[test]
fn expose_fields_and_ports() {
    let w = Word::new("$PORTS", '\\');
    let lookup = |k: &str| (k == "PORTS").then(|| "80  443/udp".to_string());
    assert_eq!(w.expand_words(&lookup).unwrap(), s(&["80", "443/udp"]));
    assert_eq!(
        Word::new("\"a b\"c", '\\').expand_words(&lookup).unwrap(),
        s(&["a bc"])
    );
    assert_eq!(
        Word::new("a\\ b", '\\').expand_words(&lookup).unwrap(),
        s(&["a b"])
    );
    assert_eq!(
        Word::new("\"\"", '\\').expand_words(&lookup).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        expose_ports(&s(&["8080", "53/UDP", "7000-7002/tcp", "80/", "8080/tcp"])).unwrap(),
        s(&["53/udp", "80/tcp", "7000/tcp", "7001/tcp", "7002/tcp", "8080/tcp"])
    );
    assert!(expose_ports(&s(&["http"]))
        .unwrap_err()
        .contains("invalid port \"http\""));
    assert!(expose_ports(&s(&["80/icmp"]))
        .unwrap_err()
        .contains("invalid proto"));
    assert!(expose_ports(&s(&["90-80"])).is_err());
    assert!(expose_ports(&s(&["70000"])).is_err());
}

#[test]
fn config_forms() {
    assert_eq!(
        Command::Shell("echo hi".into()).argv(&default_shell()),
        s(&["/bin/sh", "-c", "echo hi"])
    );
    assert_eq!(
        Command::Exec(s(&["a", "b"])).argv(&default_shell()),
        s(&["a", "b"])
    );
    assert_eq!(
        Command::Shell("x".into()).argv(&s(&["bash", "-eo", "pipefail", "-c"])),
        s(&["bash", "-eo", "pipefail", "-c", "x"])
    );
    assert_eq!(Healthcheck::None.test(), s(&["NONE"]));
    let hc = |c: Command| Healthcheck::Check {
        command: c,
        interval: Default::default(),
        timeout: Default::default(),
        start_period: Default::default(),
        start_interval: Default::default(),
        retries: 0,
    };
    assert_eq!(
        hc(Command::Shell("curl -f x".into())).test(),
        s(&["CMD-SHELL", "curl -f x"])
    );
    assert_eq!(
        hc(Command::Exec(s(&["curl", "x"]))).test(),
        s(&["CMD", "curl", "x"])
    );
}
