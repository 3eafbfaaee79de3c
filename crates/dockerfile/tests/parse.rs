//! Whole Dockerfiles through the public API.

use husk_dockerfile::*;

fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn multi_stage_with_meta_args_and_flags() {
    let df = Dockerfile::parse(
        "# syntax=docker/dockerfile:1\n\
         ARG BASE=busybox\n\
         FROM --platform=$BUILDPLATFORM ${BASE} AS Build\n\
         RUN --network=none echo hi > /x && \\\n    rm -f /y\n\
         FROM build AS other\n\
         FROM scratch\n\
         COPY --from=build --chown=1:2 --chmod=755 --link /x /y /dst/\n\
         CMD [\"/dst/x\"]\n",
    )
    .unwrap();
    assert_eq!(df.directives.syntax.as_deref(), Some("docker/dockerfile:1"));
    assert_eq!(df.meta_args.len(), 1);
    assert_eq!(df.stages.len(), 3);
    let s0 = &df.stages[0];
    assert_eq!(s0.name.as_deref(), Some("build"));
    assert_eq!(s0.base.raw, "${BASE}");
    assert_eq!(
        s0.platform.as_ref().map(|p| p.raw.as_str()),
        Some("$BUILDPLATFORM")
    );
    let run = &s0.instructions[0];
    assert_eq!((run.line, run.end_line), (4, 5));
    assert_eq!(
        run.original,
        "RUN --network=none echo hi > /x &&     rm -f /y"
    );
    match &run.kind {
        Kind::Run(r) => {
            assert_eq!(r.network, Some(RunNetwork::None));
            assert_eq!(
                r.command,
                Command::Shell("echo hi > /x &&     rm -f /y".into())
            );
        }
        k => panic!("{k:?}"),
    }
    let lookup = vars(&[("BASE", "busybox")]);
    assert_eq!(
        s0.base_ref(&df.stages, &lookup).unwrap(),
        BaseRef::Image("busybox".into())
    );
    assert_eq!(
        df.stages[1].base_ref(&df.stages, &lookup).unwrap(),
        BaseRef::Stage(0)
    );
    assert_eq!(
        df.stages[2].base_ref(&df.stages, &lookup).unwrap(),
        BaseRef::Scratch
    );
    match &df.stages[2].instructions[0].kind {
        Kind::Copy(c) => {
            assert_eq!(c.from.as_ref().unwrap().raw, "build");
            assert_eq!(c.chown.as_ref().unwrap().raw, "1:2");
            assert_eq!(c.chmod.as_ref().unwrap().raw, "755");
            assert!(c.link);
            assert_eq!(c.sources.len(), 2);
            assert_eq!(c.dest.raw, "/dst/");
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(df.needed_stages(None, &lookup).unwrap(), vec![0, 2]);
    assert_eq!(
        df.needed_stages(Some("OTHER"), &lookup).unwrap(),
        vec![0, 1]
    );
    assert!(matches!(
        df.needed_stages(Some("nope"), &lookup),
        Err(StageError::TargetNotFound { .. })
    ));
}

#[test]
fn syntax_error_names_the_line() {
    let e = Dockerfile::parse("FROM busybox\n\nRUN echo \\\n  x\nFROB x\n").unwrap_err();
    assert_eq!(e.to_string(), "Dockerfile:5: unknown instruction: FROB (expected FROM, ARG, RUN, COPY, ADD, ENV, LABEL, WORKDIR, USER, CMD, ENTRYPOINT, EXPOSE, VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD or MAINTAINER)");
    let e = Dockerfile::parse("FROM a\nCOPY --frm=x a b\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(
        e.to_string().starts_with(
            "Dockerfile:2: unknown flag: --frm (COPY accepts --from, --chown, --chmod, --link)"
        ),
        "{e}"
    );
}

#[test]
fn heredocs() {
    let df = Dockerfile::parse(
        "FROM busybox\n\
         RUN <<EOF\n\
         echo $HOME\n\
         EOF\n\
         COPY <<-\"END\" /greeting\n\
         \thello $X\n\
         \tEND\n\
         USER nobody\n",
    )
    .unwrap();
    let ins = &df.stages[0].instructions;
    assert_eq!(ins.len(), 3);
    assert_eq!((ins[0].line, ins[0].end_line), (2, 4));
    match &ins[0].kind {
        Kind::Run(r) => {
            assert_eq!(r.heredocs[0].content, "echo $HOME\n");
            assert_eq!(r.run_command(), RunCommand::Shell("echo $HOME\n".into()));
        }
        k => panic!("{k:?}"),
    }
    match &ins[1].kind {
        Kind::Copy(c) => match &c.sources[0] {
            Source::Heredoc(h) => {
                assert_eq!(h.name, "END");
                assert_eq!(h.content, "hello $X\n");
                assert!(!h.expand);
                assert!(h.chomp);
            }
            s => panic!("{s:?}"),
        },
        k => panic!("{k:?}"),
    }
    assert_eq!(ins[2].line, 8);
}

#[test]
fn original_text_and_lines() {
    let df = Dockerfile::parse("FROM busybox   \n  RUN   a \\\n   b   \n\n").unwrap();
    assert_eq!(df.stages[0].original, "FROM busybox");
    let run = &df.stages[0].instructions[0];
    assert_eq!(run.original, "RUN   a    b");
    assert_eq!((run.line, run.end_line), (2, 3));
}
