//! Arbitrary input never panics: random Dockerfiles, words and
//! .dockerignore patterns built from the characters the parsers treat
//! specially (plus multi-byte ones, which catch slicing on a non-boundary).

use husk_dockerfile::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, so a failure reproduces.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

const TOKENS: &[&str] = &[
    "FROM ",
    "RUN ",
    "COPY ",
    "ADD ",
    "ENV ",
    "ARG ",
    "LABEL ",
    "ONBUILD ",
    "HEALTHCHECK ",
    "CMD ",
    "SHELL ",
    "EXPOSE ",
    "VOLUME ",
    "USER ",
    "WORKDIR ",
    "STOPSIGNAL ",
    "AS ",
    "scratch",
    "busybox",
    " ",
    "\t",
    "\n",
    "\\",
    "\\\n",
    "`",
    "#",
    "# escape=`\n",
    "# syntax=x\n",
    "\"",
    "'",
    "$",
    "${",
    "}",
    ":-",
    ":+",
    ":?",
    "#",
    "%",
    "/",
    "//",
    "=",
    "[",
    "]",
    "\"a\"",
    ",",
    "<<",
    "<<-",
    "EOF",
    "EOF\n",
    "\tEOF\n",
    "--from=",
    "--chown=",
    "--link",
    "--network=",
    "--interval=",
    "1s",
    "-",
    "*",
    "**",
    "?",
    "!",
    "..",
    "é",
    "☺",
    "한",
    "\r\n",
    "0",
    "1",
];

fn random_text(rng: &mut Rng, len: usize) -> String {
    (0..len).map(|_| rng.pick(TOKENS)).collect()
}

#[test]
fn random_input_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let lookup = |k: &str| k.len().is_multiple_of(2).then(|| format!("v{k} x"));
    for _ in 0..3000 {
        let len = (rng.next() % 40) as usize;
        let text = random_text(&mut rng, len);
        let with_from = format!("FROM busybox\n{text}");
        for t in [&text, &with_from] {
            if let Ok(df) = Dockerfile::parse(t) {
                let _ = df.needed_stages(None, &lookup);
                for st in &df.stages {
                    let _ = st.base_ref(&df.stages, &lookup);
                    for ins in &st.instructions {
                        if let Kind::Run(r) = &ins.kind {
                            let _ = r.run_command();
                        }
                    }
                }
            }
        }
        let _ = expand(&text, '\\', &lookup);
        let _ = expand(&text, '`', &lookup);
        let _ = expand_words(&text, '\\', &lookup);
        let _ = expand_heredoc(&text, &lookup);
        let _ = parse_trigger(&text);
        if let Ok(ig) = DockerIgnore::parse(&text) {
            let path = random_text(&mut rng, 6);
            let _ = ig.is_excluded(&path);
            let _ = ig.must_descend(&path);
        }
        let _ = expose_ports(std::slice::from_ref(&text));
    }
}
