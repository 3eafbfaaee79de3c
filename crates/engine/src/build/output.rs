//! What a build prints, as `podman build` and `docker build
//! --progress=plain` show it: `STEP 3/7: RUN ...`, the step's output,
//! `--> Using cache <id>`, `--> <id>`, `Successfully tagged NAME`, the
//! final image id; with `-q` only the id.

use std::io::Write;

use husk_image::Digest;

pub struct Printer<'a> {
    pub quiet: bool,
    out: &'a mut dyn Write,
}

impl<'a> Printer<'a> {
    pub fn new(quiet: bool, out: &'a mut dyn Write) -> Printer<'a> {
        Printer { quiet, out }
    }

    fn line(&mut self, s: &str) {
        if !self.quiet {
            // A closed stdout (`| head`) must not fail the build.
            let _ = writeln!(self.out, "{s}");
            let _ = self.out.flush();
        }
    }

    /// `STEP n/total: INSTRUCTION` (`n` counts every step of the stages built).
    pub fn step(&mut self, n: usize, total: usize, instruction: &str) {
        self.line(&format!("STEP {n}/{total}: {instruction}"));
    }

    pub fn note(&mut self, s: &str) {
        self.line(s);
    }

    pub fn cached(&mut self, id: &Digest) {
        self.line(&format!("--> Using cache {}", id.hex()));
    }

    pub fn made(&mut self, id: &Digest) {
        self.line(&format!("--> {}", id.short()));
    }

    pub fn tagged(&mut self, name: &str) {
        self.line(&format!("Successfully tagged {name}"));
    }

    /// The final id: printed even with `-q`.
    pub fn done(&mut self, id: &Digest) {
        let _ = writeln!(self.out, "{}", id.hex());
        let _ = self.out.flush();
    }

    /// Where a RUN step's output goes (nowhere with `-q`).
    pub fn sink(&mut self) -> &mut dyn Write {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_prints_only_the_id() {
        let id: Digest = format!("sha256:{}", "ab".repeat(32)).parse().unwrap();
        let mut loud = Vec::new();
        let mut p = Printer::new(false, &mut loud);
        p.step(1, 2, "FROM busybox");
        p.cached(&id);
        p.made(&id);
        p.tagged("docker.io/library/x:latest");
        p.done(&id);
        let text = String::from_utf8(loud).unwrap();
        assert_eq!(
            text,
            format!(
                "STEP 1/2: FROM busybox\n--> Using cache {h}\n--> {s}\nSuccessfully tagged docker.io/library/x:latest\n{h}\n",
                h = id.hex(),
                s = &id.hex()[..12]
            )
        );
        let mut quiet = Vec::new();
        let mut p = Printer::new(true, &mut quiet);
        p.step(1, 2, "FROM busybox");
        p.made(&id);
        p.done(&id);
        assert_eq!(String::from_utf8(quiet).unwrap(), format!("{}\n", id.hex()));
    }
}
