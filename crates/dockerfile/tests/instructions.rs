//! Every instruction with its forms, flags and errors (docker's rules from
//! moby/buildkit's instructions/parse.go and parse_test.go).

use std::time::Duration;

use husk_dockerfile::*;

fn only(text: &str) -> Instruction {
    let df = Dockerfile::parse(&format!("FROM scratch\n{text}\n"))
        .unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(df.stages[0].instructions.len(), 1, "{text:?}");
    df.stages[0].instructions[0].clone()
}

fn err(text: &str) -> ParseError {
    Dockerfile::parse(&format!("FROM scratch\n{text}\n")).expect_err(text)
}

fn raw(w: &Word) -> &str {
    &w.raw
}

fn no_vars(_: &str) -> Option<String> {
    None
}

#[test]
fn exactly_one_argument() {
    for cmd in ["MAINTAINER", "WORKDIR", "USER", "STOPSIGNAL"] {
        let e = err(cmd);
        assert_eq!(e.line, 2);
        assert!(
            e.message
                .starts_with(&format!("{cmd} requires exactly one argument")),
            "{e}"
        );
    }
}

#[test]
fn at_least_one_argument() {
    for cmd in [
        "ENV",
        "LABEL",
        "ONBUILD",
        "HEALTHCHECK",
        "EXPOSE",
        "VOLUME",
        "ARG",
    ] {
        let e = err(cmd);
        assert!(
            e.message
                .starts_with(&format!("{cmd} requires at least one argument")),
            "{e}"
        );
    }
}

#[test]
fn copy_and_add_need_a_destination() {
    for cmd in ["ADD", "COPY"] {
        let e = err(&format!("{cmd} arg1"));
        assert!(
            e.message
                .starts_with(&format!("{cmd} requires at least two arguments")),
            "{e}"
        );
    }
    // buildkit's copyEmptyWhitespace case: "COPY\t" alone on its line.
    let e = Dockerfile::parse("FROM a\nCOPY\t\n\t\tquux \\\n      bar").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(
        e.message
            .starts_with("COPY requires at least two arguments"),
        "{e}"
    );
}

#[test]
fn buildkit_error_cases() {
    let cases = [
        (
            "ONBUILD FROM scratch",
            "FROM isn't allowed as an ONBUILD trigger",
        ),
        (
            "ONBUILD MAINTAINER me",
            "MAINTAINER isn't allowed as an ONBUILD trigger",
        ),
        ("MAINTAINER --boo joe@example.com", "unknown flag: --boo"),
        (
            "ONBUILD ONBUILD RUN touch foobar",
            "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
        ),
        ("FOO bar", "unknown instruction: FOO"),
        ("foo bar", "unknown instruction: foo"),
        ("ENV =x", "ENV names can not be blank"),
        ("LABEL a=b =c", "LABEL names can not be blank"),
        ("ARG =x", "ARG names can not be blank"),
        ("ENV a=b c", "Syntax error - can't find = in \"c\""),
        ("ENV onlyname", "ENV must have two arguments"),
        (
            "SHELL /bin/sh -c",
            "SHELL requires the arguments to be in JSON form",
        ),
        ("SHELL []", "SHELL requires at least one argument"),
        (
            "VOLUME [\"\"]",
            "VOLUME specified can not be an empty string",
        ),
        (
            "CMD [1, 2]",
            "when using JSON array syntax, arrays must be comprised of strings only",
        ),
        (
            "RUN --network=bridge true",
            "unsupported network mode \"bridge\"",
        ),
        ("RUN --network true", "missing a value on flag: --network"),
        (
            "COPY --link=maybe a b",
            "expecting boolean value for flag --link, not: maybe",
        ),
        ("COPY --link= a b", "missing a value on flag: --link"),
        (
            "COPY --from=a --from=b x y",
            "duplicate flag specified: --from",
        ),
        ("ADD --from=a x y", "unknown flag: --from"),
        ("COPY --checksum=sha256:00 x y", "unknown flag: --checksum"),
        (
            "WORKDIR --x /a",
            "unknown flag: --x (WORKDIR takes no flags)",
        ),
        ("HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments"),
        ("HEALTHCHECK CMD", "Missing command after HEALTHCHECK CMD"),
        (
            "HEALTHCHECK CONNECT TCP 7000",
            "Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)",
        ),
        (
            "HEALTHCHECK --interval=50ns CMD true",
            "Interval \"interval\" cannot be less than 1ms",
        ),
        (
            "HEALTHCHECK --timeout=5 CMD true",
            "--timeout: time: missing unit in duration \"5\"",
        ),
        (
            "HEALTHCHECK --retries=-1 CMD true",
            "--retries cannot be negative (-1)",
        ),
        (
            "HEALTHCHECK --retries=x CMD true",
            "--retries=\"x\": expected a whole number",
        ),
        ("HEALTHCHECK --foo=1 CMD true", "unknown flag: --foo"),
        ("RUN", "RUN requires a command"),
        (
            "COPY a <<EOF\nx\nEOF",
            "COPY cannot have a heredoc as a destination",
        ),
    ];
    let mut failures = Vec::new();
    for (text, want) in cases {
        match Dockerfile::parse(&format!("FROM scratch\n{text}\n")) {
            Ok(_) => failures.push(format!("{text:?}: parsed")),
            Err(e) => {
                if e.line != 2 || !e.message.starts_with(want) {
                    failures.push(format!("{text:?}: got {e}, want line 2: {want}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn from_forms() {
    let df = Dockerfile::parse(
        "ARG TAG=1.36\nFROM busybox:${TAG} AS Base\nFROM --platform=linux/amd64 base\nfrom scratch as last.stage-1_x\n",
    )
    .unwrap();
    assert_eq!(df.meta_args.len(), 1);
    let names: Vec<Option<&str>> = df.stages.iter().map(|s| s.name.as_deref()).collect();
    assert_eq!(names, vec![Some("base"), None, Some("last.stage-1_x")]);
    assert_eq!(df.stages[1].platform.as_ref().map(raw), Some("linux/amd64"));
    assert_eq!(df.stages[0].original, "FROM busybox:${TAG} AS Base");
    assert_eq!(df.stages[2].line, 4);
    let meta = |k: &str| (k == "TAG").then(|| "1.37".to_string());
    assert_eq!(
        df.stages[0].base_ref(&df.stages, &meta).unwrap(),
        BaseRef::Image("busybox:1.37".into())
    );
    assert_eq!(
        df.stages[1].base_ref(&df.stages, &meta).unwrap(),
        BaseRef::Stage(0)
    );
    assert_eq!(
        df.stages[2].base_ref(&df.stages, &meta).unwrap(),
        BaseRef::Scratch
    );

    for (text, want) in [
        ("FROM a b", "FROM requires either one or three arguments"),
        ("FROM a AS", "FROM requires either one or three arguments"),
        ("FROM a TO b", "FROM requires either one or three arguments"),
        ("FROM a AS 1st", "invalid name for build stage: \"1st\""),
        ("FROM a AS b$c", "invalid name for build stage"),
        ("FROM --plat=x a", "unknown flag: --plat"),
        ("FROM", "FROM requires either one or three arguments"),
    ] {
        let e = Dockerfile::parse(&format!("{text}\n")).unwrap_err();
        assert!(e.message.starts_with(want), "{text}: {e}");
        assert_eq!(e.line, 1);
    }
    let e = Dockerfile::parse("FROM a AS x\nFROM b AS X\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Dockerfile:2: duplicate stage name \"x\": each AS name must be unique"
    );
}

#[test]
fn a_stage_cannot_use_a_later_stage_as_base() {
    let df = Dockerfile::parse("FROM later AS first\nFROM scratch AS later\n").unwrap();
    assert_eq!(
        df.stages[0].base_ref(&df.stages, &no_vars).unwrap(),
        BaseRef::Image("later".into())
    );
    // A blank base is an error naming the line.
    let df = Dockerfile::parse("FROM ${NOPE}\n").unwrap();
    let e = df.stages[0].base_ref(&df.stages, &no_vars).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Dockerfile:1: base name (${NOPE}) should not be blank"),
        "{e}"
    );
    let df = Dockerfile::parse("FROM ${A:?}\n").unwrap();
    let e = df.stages[0].base_ref(&df.stages, &no_vars).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Dockerfile:1: FROM ${A:?}: failed to process"),
        "{e}"
    );
}

#[test]
fn instructions_before_from() {
    let e = Dockerfile::parse("# c\nRUN x\nFROM a\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Dockerfile:2: RUN before the first FROM: expected FROM (only ARG may come first)"
    );
    let e = Dockerfile::parse("ARG A\n").unwrap_err();
    assert!(e.message.starts_with("no FROM instruction"), "{e}");
    let e = Dockerfile::parse("").unwrap_err();
    assert!(e.message.starts_with("no FROM instruction"), "{e}");
    let e = Dockerfile::parse("# only a comment\n\n").unwrap_err();
    assert!(e.message.starts_with("no FROM instruction"), "{e}");
}

#[test]
fn arg_forms() {
    let ins = only("ARG a b=c d=\"e f\" g=");
    match ins.kind {
        Kind::Arg(decls) => {
            let got: Vec<(&str, Option<&str>)> = decls
                .iter()
                .map(|d| (d.name.as_str(), d.default.as_ref().map(raw)))
                .collect();
            assert_eq!(
                got,
                vec![
                    ("a", None),
                    ("b", Some("c")),
                    ("d", Some("\"e f\"")),
                    ("g", Some(""))
                ]
            );
            assert_eq!(
                decls[2].default.as_ref().unwrap().expand(&no_vars).unwrap(),
                "e f"
            );
        }
        k => panic!("{k:?}"),
    }
}

#[test]
fn env_and_label_forms() {
    let kv = |ins: Instruction| -> Vec<(String, String)> {
        match ins.kind {
            Kind::Env(p) | Kind::Label(p) => p
                .iter()
                .map(|p| {
                    (
                        p.key.expand(&no_vars).unwrap(),
                        p.value.expand(&|k| (k == "X").then(|| "x".into())).unwrap(),
                    )
                })
                .collect(),
            k => panic!("{k:?}"),
        }
    };
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        kv(only("ENV a=b c=\"d e\" f='$X' g=$X h=\\$X")),
        vec![
            s("a", "b"),
            s("c", "d e"),
            s("f", "$X"),
            s("g", "x"),
            s("h", "$X")
        ]
    );
    // The old form: the rest of the line is the value, spaces kept.
    assert_eq!(
        kv(only("ENV PATH /usr/local/go/bin:$X")),
        vec![s("PATH", "/usr/local/go/bin:x")]
    );
    assert_eq!(
        kv(only("ENV\tDOCKER_BUILDTAGS\tapparmor selinux")),
        vec![s("DOCKER_BUILDTAGS", "apparmor selinux")]
    );
    assert_eq!(
        kv(only(
            "LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0"
        )),
        vec![s("com.example.vendor", "ACME Inc"), s("version", "1.0")]
    );
    assert_eq!(
        kv(only(
            "LABEL multi.label1=\"value1\" \\\n      other=\"value3\""
        )),
        vec![s("multi.label1", "value1"), s("other", "value3")]
    );
    assert_eq!(kv(only("ENV a=")), vec![s("a", "")]);
}

#[test]
fn run_cmd_entrypoint_forms() {
    match only("RUN [\"/bin/echo\", \"$HOME\"]").kind {
        Kind::Run(r) => assert_eq!(
            r.command,
            Command::Exec(vec!["/bin/echo".into(), "$HOME".into()])
        ),
        k => panic!("{k:?}"),
    }
    match only("RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --network=host --security=insecure make").kind {
        Kind::Run(r) => {
            assert_eq!(r.mounts, vec!["type=cache,target=/c", "type=tmpfs,target=/t"]);
            assert_eq!(r.network, Some(RunNetwork::Host));
            assert_eq!(r.security.as_deref(), Some("insecure"));
            assert_eq!(r.command, Command::Shell("make".into()));
        }
        k => panic!("{k:?}"),
    }
    // Not JSON: the text is a shell command, brackets and all.
    match only("CMD [\"unterminated\"").kind {
        Kind::Cmd(c) => assert_eq!(c, Command::Shell("[\"unterminated\"".into())),
        k => panic!("{k:?}"),
    }
    match only("ENTRYPOINT []").kind {
        Kind::Entrypoint(c) => assert_eq!(c, Command::Exec(vec![])),
        k => panic!("{k:?}"),
    }
    match only("CMD    echo   \"a  b\"   ").kind {
        Kind::Cmd(c) => assert_eq!(c, Command::Shell("echo   \"a  b\"".into())),
        k => panic!("{k:?}"),
    }
    // Flags are only the leading --words: a later one belongs to the command.
    match only("RUN ls --all").kind {
        Kind::Run(r) => assert_eq!(r.command, Command::Shell("ls --all".into())),
        k => panic!("{k:?}"),
    }
}

#[test]
fn copy_and_add_forms() {
    let copy = |text: &str| -> Copy {
        match only(text).kind {
            Kind::Copy(c) | Kind::Add(c) => c,
            k => panic!("{k:?}"),
        }
    };
    let c = copy("COPY [\"a b\", \"c\", \"/dst dir/\"]");
    assert!(c.json);
    assert_eq!(
        c.sources,
        vec![
            Source::Path(Word::new("a b", '\\')),
            Source::Path(Word::new("c", '\\'))
        ]
    );
    assert_eq!(c.dest.raw, "/dst dir/");
    let c = copy("COPY --chown=$UID:$GID --chmod=0644 *.txt $DEST");
    assert_eq!(c.chown.as_ref().map(raw), Some("$UID:$GID"));
    assert_eq!(c.chmod.as_ref().map(raw), Some("0644"));
    assert!(!c.link);
    assert_eq!(
        c.dest
            .expand(&|k| (k == "DEST").then(|| "/d".into()))
            .unwrap(),
        "/d"
    );
    let c = copy("COPY --link=false --from=0 /x /y");
    assert!(!c.link);
    assert_eq!(c.from.as_ref().map(raw), Some("0"));
    let c = copy("ADD --checksum=sha256:abc --keep-git-dir --link https://example.com/a.tar.gz /");
    assert_eq!(c.checksum.as_ref().map(raw), Some("sha256:abc"));
    assert!(c.keep_git_dir && c.link);
    // Shell form splits on blanks only: quotes stay in the words.
    let c = copy("COPY \"a b\" /d");
    assert_eq!(
        c.sources,
        vec![
            Source::Path(Word::new("\"a", '\\')),
            Source::Path(Word::new("b\"", '\\'))
        ]
    );
    // Heredoc sources with paths.
    let c = copy("COPY <<a.sh x.txt <<b.sh /dst/\necho a\na.sh\necho b\nb.sh");
    let kinds: Vec<String> = c
        .sources
        .iter()
        .map(|s| match s {
            Source::Path(w) => format!("path {}", w.raw),
            Source::Heredoc(h) => format!("heredoc {} {:?}", h.name, h.content),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "heredoc a.sh \"echo a\\n\"",
            "path x.txt",
            "heredoc b.sh \"echo b\\n\""
        ]
    );
}

#[test]
fn metadata_instructions() {
    match only("WORKDIR /a b").kind {
        Kind::Workdir(w) => assert_eq!(w.raw, "/a b"),
        k => panic!("{k:?}"),
    }
    match only("USER ${U:-nobody}:grp").kind {
        Kind::User(w) => assert_eq!(w.expand(&no_vars).unwrap(), "nobody:grp"),
        k => panic!("{k:?}"),
    }
    match only("STOPSIGNAL SIGKILL").kind {
        Kind::StopSignal(w) => assert_eq!(w.raw, "SIGKILL"),
        k => panic!("{k:?}"),
    }
    match only("EXPOSE 8080/udp 80 443/tcp").kind {
        Kind::Expose(p) => assert_eq!(
            p.iter().map(raw).collect::<Vec<_>>(),
            vec!["443/tcp", "80", "8080/udp"]
        ),
        k => panic!("{k:?}"),
    }
    match only("VOLUME /a /b").kind {
        Kind::Volume(v) => assert_eq!(v.iter().map(raw).collect::<Vec<_>>(), vec!["/a", "/b"]),
        k => panic!("{k:?}"),
    }
    match only("VOLUME [\"/data\", \" /x \"]").kind {
        Kind::Volume(v) => assert_eq!(v.iter().map(raw).collect::<Vec<_>>(), vec!["/data", "/x"]),
        k => panic!("{k:?}"),
    }
    match only("SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]").kind {
        Kind::Shell(v) => assert_eq!(v, vec!["/bin/bash", "-o", "pipefail", "-c"]),
        k => panic!("{k:?}"),
    }
    match only("MAINTAINER Jane Doe <jane@example.com>").kind {
        Kind::Maintainer(m) => assert_eq!(m, "Jane Doe <jane@example.com>"),
        k => panic!("{k:?}"),
    }
}

#[test]
fn healthcheck_forms() {
    match only("HEALTHCHECK --interval=5s --timeout=3s --retries=3 \\\n  CMD /app/check.sh --quiet")
        .kind
    {
        Kind::Healthcheck(Healthcheck::Check {
            command,
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        }) => {
            assert_eq!(command, Command::Shell("/app/check.sh --quiet".into()));
            assert_eq!(interval, Duration::from_secs(5));
            assert_eq!(timeout, Duration::from_secs(3));
            assert_eq!(start_period, Duration::ZERO);
            assert_eq!(start_interval, Duration::ZERO);
            assert_eq!(retries, 3);
        }
        k => panic!("{k:?}"),
    }
    match only("HEALTHCHECK   CMD   a b").kind {
        Kind::Healthcheck(Healthcheck::Check { command, .. }) => {
            assert_eq!(command, Command::Shell("a b".into()))
        }
        k => panic!("{k:?}"),
    }
    match only("HEALTHCHECK --start-period=1m30s --start-interval=1.5s --timeout=0s --retries=0 cmd [\"foo\"]").kind {
        Kind::Healthcheck(Healthcheck::Check { command, start_period, start_interval, timeout, .. }) => {
            assert_eq!(command, Command::Exec(vec!["foo".into()]));
            assert_eq!(start_period, Duration::from_secs(90));
            assert_eq!(start_interval, Duration::from_millis(1500));
            assert_eq!(timeout, Duration::ZERO);
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(
        only("HEALTHCHECK none").kind,
        Kind::Healthcheck(Healthcheck::None)
    );
}

#[test]
fn onbuild_triggers() {
    match only("ONBUILD ADD . /app/src").kind {
        Kind::Onbuild {
            trigger,
            instruction,
        } => {
            assert_eq!(trigger, "ADD . /app/src");
            assert!(matches!(instruction.kind, Kind::Add(_)));
            assert_eq!(parse_trigger(&trigger).unwrap().kind, instruction.kind);
        }
        k => panic!("{k:?}"),
    }
    assert!(parse_trigger("FROM x").is_err());
    assert!(parse_trigger("RUN a\nRUN b").is_err());
    assert!(parse_trigger("").is_err());
    match parse_trigger("RUN --network=none make").unwrap().kind {
        Kind::Run(r) => assert_eq!(r.network, Some(RunNetwork::None)),
        k => panic!("{k:?}"),
    }
}

#[test]
fn escape_directive_applies_to_words_and_continuations() {
    let df = Dockerfile::parse(
        "# escape=`\n\nFROM mcr.microsoft.com/windows/servercore\nCOPY testfile.txt c:\\\nRUN dir c:\\\nENV A=a`$B `\n    C=d\n",
    )
    .unwrap();
    assert_eq!(df.directives.escape, '`');
    let ins = &df.stages[0].instructions;
    assert_eq!(ins.len(), 3);
    match &ins[0].kind {
        Kind::Copy(c) => assert_eq!(c.dest.expand(&no_vars).unwrap(), "c:\\"),
        k => panic!("{k:?}"),
    }
    match &ins[1].kind {
        Kind::Run(r) => assert_eq!(r.command, Command::Shell("dir c:\\".into())),
        k => panic!("{k:?}"),
    }
    match &ins[2].kind {
        Kind::Env(p) => {
            let v: Vec<String> = p
                .iter()
                .map(|p| p.value.expand(&no_vars).unwrap())
                .collect();
            assert_eq!(v, vec!["a$B", "d"]);
        }
        k => panic!("{k:?}"),
    }
    assert_eq!((ins[2].line, ins[2].end_line), (6, 7));
}

#[test]
fn syntax_directive_is_kept_and_error_names_file() {
    let df =
        Dockerfile::parse("# syntax=docker/dockerfile:1.4\n# check=skip=all\nFROM a\n").unwrap();
    assert_eq!(
        df.directives.syntax.as_deref(),
        Some("docker/dockerfile:1.4")
    );
    assert_eq!(df.directives.check.as_deref(), Some("skip=all"));
    let e = Dockerfile::parse("FROM a\nCOPY x\n")
        .unwrap_err()
        .in_file("build/Containerfile");
    assert!(
        e.to_string()
            .starts_with("build/Containerfile:2: COPY requires at least two arguments"),
        "{e}"
    );
}

/// moby/buildkit parser/testfiles/docker: a real Dockerfile with tabs,
/// old-style ENV and long continuations.
#[test]
fn buildkit_testfile_docker() {
    let text = "# This file describes the standard way to build Docker\n#\n\nFROM\tubuntu:14.04\n\
LABEL\tmaintainer\tTianon Gravi <admwiggin@gmail.com> (@tianon)\n\n# Packaged dependencies\n\
RUN\tapt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -yq \\\n\tapt-utils \\\n\taufs-tools \\\n\t--no-install-recommends\n\n\
ENV\tPATH\t/usr/local/go/bin:$PATH\n\
ENV\tDOCKER_CROSSPLATFORMS\t\\\n\tlinux/386 linux/arm \\\n\tdarwin/amd64 darwin/386 \\\n\tfreebsd/amd64 freebsd/386 freebsd/arm\n\
# (set an explicit GOARM of 5 for maximum compatibility)\nENV\tGOARM\t5\n\
RUN\t/bin/echo -e '[default]\\naccess_key=$AWS_ACCESS_KEY' > /.s3cfg\n\
VOLUME\t/var/lib/docker\nWORKDIR\t/go/src/github.com/docker/docker\n\
ENTRYPOINT\t[\"hack/dind\"]\nCOPY\t.\t/go/src/github.com/docker/docker\n";
    let df = Dockerfile::parse(text).unwrap();
    let dump: Vec<String> = df.stages[0]
        .instructions
        .iter()
        .map(|i| match &i.kind {
            Kind::Label(p) | Kind::Env(p) => {
                format!("{} {:?} {:?}", i.line, p[0].key.raw, p[0].value.raw)
            }
            Kind::Run(r) => format!("{} {:?}", i.line, r.command),
            Kind::Volume(v) => format!("{} volume {:?}", i.line, v[0].raw),
            Kind::Workdir(w) => format!("{} workdir {:?}", i.line, w.raw),
            Kind::Entrypoint(c) => format!("{} {:?}", i.line, c),
            Kind::Copy(c) => format!("{} copy {} {:?}", i.line, c.sources.len(), c.dest.raw),
            k => format!("{k:?}"),
        })
        .collect();
    assert_eq!(
        dump,
        vec![
            "5 \"maintainer\" \"Tianon Gravi <admwiggin@gmail.com> (@tianon)\"",
            "8 Shell(\"apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -yq \\tapt-utils \\taufs-tools \\t--no-install-recommends\")",
            "13 \"PATH\" \"/usr/local/go/bin:$PATH\"",
            "14 \"DOCKER_CROSSPLATFORMS\" \"linux/386 linux/arm \\tdarwin/amd64 darwin/386 \\tfreebsd/amd64 freebsd/386 freebsd/arm\"",
            "19 \"GOARM\" \"5\"",
            "20 Shell(\"/bin/echo -e '[default]\\\\naccess_key=$AWS_ACCESS_KEY' > /.s3cfg\")",
            "21 volume \"/var/lib/docker\"",
            "22 workdir \"/go/src/github.com/docker/docker\"",
            "23 Exec([\"hack/dind\"])",
            "24 copy 1 \"/go/src/github.com/docker/docker\"",
        ]
    );
}

#[test]
fn needed_stages_follow_from_and_copy_from() {
    let df = Dockerfile::parse(
        "ARG SRC=gen\n\
         FROM busybox AS gen\n\
         FROM busybox AS unused\n\
         FROM gen AS build\n\
         COPY --from=${SRC} /a /a\n\
         FROM busybox AS test\n\
         COPY --from=1 /b /b\n\
         FROM scratch\n\
         COPY --from=build /a /a\n\
         COPY --from=docker.io/library/alpine /etc/os-release /\n",
    )
    .unwrap();
    let meta = |k: &str| (k == "SRC").then(|| "GEN".to_string());
    assert_eq!(df.needed_stages(None, &meta).unwrap(), vec![0, 2, 4]);
    assert_eq!(df.needed_stages(Some("test"), &meta).unwrap(), vec![1, 3]);
    assert_eq!(df.needed_stages(Some("build"), &meta).unwrap(), vec![0, 2]);
    assert_eq!(df.target_stage(Some("Build")).unwrap(), 2);
    let e = df.needed_stages(Some("nope"), &meta).unwrap_err();
    assert_eq!(
        e.to_string(),
        "target stage \"nope\" could not be found: expected one of gen, unused, build, test"
    );

    let cyc = Dockerfile::parse(
        "FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n",
    )
    .unwrap();
    let e = cyc.needed_stages(None, &no_vars).unwrap_err();
    assert!(
        e.to_string()
            .contains("circular dependency detected on stage"),
        "{e}"
    );
    let bad = Dockerfile::parse("FROM busybox\nCOPY --from=7 /x /x\n").unwrap();
    let e = bad.needed_stages(None, &no_vars).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Dockerfile:2: invalid stage index 7: expected 0 to 0"
    );
    let selfref = Dockerfile::parse("FROM busybox AS me\nCOPY --from=me /x /x\n").unwrap();
    assert!(selfref.needed_stages(None, &no_vars).is_err());
}
