//! Heredocs, ported from moby/buildkit's parser_heredoc_test.go (bodies
//! here are already chomped for `<<-`, which BuildKit does later).

use husk_dockerfile::*;

fn heredocs_of(ins: &Instruction) -> Vec<(String, String, bool, bool)> {
    let docs: Vec<Heredoc> = match &ins.kind {
        Kind::Run(r) => r.heredocs.clone(),
        Kind::Copy(c) | Kind::Add(c) => c
            .sources
            .iter()
            .filter_map(|s| match s {
                Source::Heredoc(h) => Some(h.clone()),
                Source::Path(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    docs.into_iter()
        .map(|h| (h.name, h.content, h.expand, h.chomp))
        .collect()
}

fn d(name: &str, content: &str, expand: bool, chomp: bool) -> (String, String, bool, bool) {
    (name.into(), content.into(), expand, chomp)
}

#[test]
fn buildkit_parse_extracts_heredoc() {
    let text = "\nFROM alpine:3.6\n\nENV NAME=me\n\nRUN ls\n\nUSER <<INVALID\n\nRUN <<EMPTY\nEMPTY\n\n\
RUN 3<<EMPTY2\nEMPTY2\n\nRUN \"<<NOHEREDOC\"\n\nRUN <<INDENT\n\tfoo\n\tbar\nINDENT\n\n\
RUN <<-UNINDENT\n\tbaz\n\tquux\nUNINDENT\n\nRUN <<-UNINDENT2\n\tbaz\n\tquux\n\tUNINDENT2\n\n\
RUN <<-EXPAND\n\texpand $NAME\nEXPAND\n\nRUN <<-'NOEXPAND'\n\tdon't expand $NAME\nNOEXPAND\n\n\
RUN <<COPY\necho hello world\necho foo bar\nCOPY\n\n\
RUN <<COMMENT\n# internal comment\necho hello world\necho foo bar # trailing comment\nCOMMENT\n\n\
RUN --mount=type=cache,target=/foo <<MOUNT\necho hello\nMOUNT\n\n\
COPY <<FILE1 <<FILE2 /dest\ncontent 1\nFILE1\ncontent 2\nFILE2\n\n\
COPY <<EOF /quotes\n\"foo\"\n'bar'\nEOF\n\nCOPY <<X <<Y /dest\nY\nX\nX\nY\n\n\
RUN <<COMPLEX python3\nprint('hello world')\nCOMPLEX\n\nCOPY <<file.txt /dest\nhello world\nfile.txt\n\n\
RUN <<eo'f'\necho foo\neof\n\nRUN <<eo\\'f\necho foo\neo'f\n\nRUN <<'e'o\\'f\necho foo\neo'f\n\n\
RUN <<'one two'\necho bar\none two\n\nRUN <<$EOF\n$EOF\n\nRUN <<  EOF\nEOF\n\nRUN <<  EOF  > foo\nEOF\n\t";
    let df = Dockerfile::parse(text).unwrap();
    let got: Vec<_> = df.stages[0].instructions.iter().map(heredocs_of).collect();
    let want = vec![
        vec![], // ENV
        vec![], // RUN ls
        vec![], // USER <<INVALID: USER takes no heredoc (BuildKit's next line, INVALID, is dropped: an unknown instruction)
        vec![d("EMPTY", "", true, false)],
        vec![d("EMPTY2", "", true, false)],
        vec![],
        vec![d("INDENT", "\tfoo\n\tbar\n", true, false)],
        vec![d("UNINDENT", "baz\nquux\n", true, true)],
        vec![d("UNINDENT2", "baz\nquux\n", true, true)],
        vec![d("EXPAND", "expand $NAME\n", true, true)],
        vec![d("NOEXPAND", "don't expand $NAME\n", false, true)],
        vec![d("COPY", "echo hello world\necho foo bar\n", true, false)],
        vec![d(
            "COMMENT",
            "# internal comment\necho hello world\necho foo bar # trailing comment\n",
            true,
            false,
        )],
        vec![d("MOUNT", "echo hello\n", true, false)],
        vec![
            d("FILE1", "content 1\n", true, false),
            d("FILE2", "content 2\n", true, false),
        ],
        vec![d("EOF", "\"foo\"\n'bar'\n", true, false)],
        vec![d("X", "Y\n", true, false), d("Y", "X\n", true, false)],
        vec![d("COMPLEX", "print('hello world')\n", true, false)],
        vec![d("file.txt", "hello world\n", true, false)],
        vec![d("eof", "echo foo\n", false, false)],
        vec![d("eo'f", "echo foo\n", true, false)],
        vec![d("eo'f", "echo foo\n", false, false)],
        vec![d("one two", "echo bar\n", false, false)],
        vec![d("$EOF", "", true, false)],
        vec![d("EOF", "", true, false)],
        vec![d("EOF", "", true, false)],
    ];
    assert_eq!(got, want);
}

#[test]
fn json_form_has_no_heredoc() {
    let df =
        Dockerfile::parse("FROM a\nRUN [\"whoami\"]\nRUN [\"<<EOF\"]\nRUN [\"<<'EOF'\"]\nUSER x\n")
            .unwrap();
    let ins = &df.stages[0].instructions;
    assert_eq!(ins.len(), 4);
    assert!(ins.iter().all(|i| heredocs_of(i).is_empty()));
}

#[test]
fn heredoc_helpers() {
    for (line, names) in [
        ("RUN <<EOF", vec!["EOF"]),
        ("RUN <<-EOF", vec!["EOF"]),
        ("RUN <<- EOF", vec!["EOF"]),
        ("RUN << -EOF", vec!["-EOF"]),
        ("RUN <<'EOF'", vec!["EOF"]),
        ("RUN <<\"EOF\"", vec!["EOF"]),
        ("RUN <<EO\"F\"", vec!["EOF"]),
        ("RUN 4<<EOF", vec!["EOF"]),
        ("RUN <<EOF <<EOF2", vec!["EOF", "EOF2"]),
        ("RUN '<<EOF'", vec![]),
        ("RUN \"<<EOF\"", vec![]),
        ("RUN <EOF", vec![]),
        ("RUN <<<EOF", vec![]),
        ("RUN cat<<EOF", vec![]),
    ] {
        // Each named heredoc needs its body; give each an empty one.
        let mut text = format!("FROM a\n{line}\n");
        for n in &names {
            text.push_str(n);
            text.push('\n');
        }
        let df = Dockerfile::parse(&text).unwrap_or_else(|e| panic!("{line}: {e}"));
        let got: Vec<String> = heredocs_of(&df.stages[0].instructions[0])
            .into_iter()
            .map(|h| h.0)
            .collect();
        assert_eq!(got, names, "{line}");
        assert_eq!(df.stages[0].instructions.len(), 1, "{line}");
    }
    for bad in ["RUN <<'EOF", "RUN <<\"EOF"] {
        let e = Dockerfile::parse(&format!("FROM a\n{bad}\nEOF\n")).unwrap_err();
        assert_eq!(e.line, 2, "{bad}: {e}");
    }
}

#[test]
fn unterminated_heredoc_is_an_error_at_its_instruction() {
    let e = Dockerfile::parse("FROM a\nRUN <<EOF\necho hi\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Dockerfile:2: unterminated heredoc: no line \"EOF\" ends <<EOF"
    );
}

#[test]
fn run_command_follows_dispatch_run() {
    let parse_run = |text: &str| -> Run {
        let df = Dockerfile::parse(&format!("FROM a\n{text}")).unwrap();
        match &df.stages[0].instructions[0].kind {
            Kind::Run(r) => r.clone(),
            k => panic!("{k:?}"),
        }
    };
    assert_eq!(
        parse_run("RUN echo hi\n").run_command(),
        RunCommand::Shell("echo hi".into())
    );
    assert_eq!(
        parse_run("RUN [\"echo\", \"hi\"]\n").run_command(),
        RunCommand::Exec(vec!["echo".into(), "hi".into()])
    );
    assert_eq!(
        parse_run("RUN <<EOF\necho a\nEOF\n").run_command(),
        RunCommand::Shell("echo a\n".into())
    );
    assert_eq!(
        parse_run("RUN <<-EOF\n\techo a\n\tEOF\n").run_command(),
        RunCommand::Shell("echo a\n".into())
    );
    assert_eq!(
        parse_run("RUN <<run.py\n#!/usr/bin/env python3\nprint(1)\nrun.py\n").run_command(),
        RunCommand::Script {
            name: "run.py".into(),
            data: "#!/usr/bin/env python3\nprint(1)\n".into()
        }
    );
    assert_eq!(
        parse_run("RUN <<EOF python3\nprint(1)\nEOF\n").run_command(),
        RunCommand::Shell("<<EOF python3\nprint(1)\nEOF".into())
    );
    assert_eq!(
        parse_run("RUN cat <<A <<B\na\nA\nb\nB\n").run_command(),
        RunCommand::Shell("cat <<A <<B\na\nA\nb\nB".into())
    );
}

#[test]
fn copy_heredoc_destination_is_refused() {
    let e = Dockerfile::parse("FROM a\nCOPY a <<EOF\nx\nEOF\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("destination"), "{e}");
}

#[test]
fn onbuild_run_heredoc() {
    let df = Dockerfile::parse("FROM a\nONBUILD RUN <<EOF\necho x\nEOF\nUSER u\n").unwrap();
    let ins = &df.stages[0].instructions;
    assert_eq!(ins.len(), 2);
    match &ins[0].kind {
        Kind::Onbuild {
            trigger,
            instruction,
        } => {
            assert_eq!(trigger, "RUN <<EOF\necho x\nEOF");
            assert_eq!(parse_trigger(trigger).unwrap().kind, instruction.kind);
            assert_eq!(
                heredocs_of(instruction),
                vec![d("EOF", "echo x\n", true, false)]
            );
        }
        k => panic!("{k:?}"),
    }
}
