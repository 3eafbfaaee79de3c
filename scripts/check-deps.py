#!/usr/bin/env python3
"""`make lint`'s dependency checks, from `cargo metadata --no-deps`:

1. layers: a crate depends only on crates of a lower level, in the order
   ARCHITECTURE.md gives (its "crate layers" block, the one place it is
   written); crates of one level are peers and do not depend on each other;
   dev-only crates (test fixtures, the test payload) are never a normal
   dependency.
2. unused: no dev-dependency repeats a normal one, and every declared
   dependency is used: its crate name appears as
   `name::`, `use name`, `extern crate name` or `#[name(` in the code that
   can use it (src/ and build.rs for normal dependencies, build.rs for
   build ones, anywhere in the crate for dev ones). A dependency kept only
   for its features goes in `[package.metadata.cargo-machete] ignored`,
   the key cargo-machete reads too.

Each problem is one line naming the crate and the dependency; exit 1 if any.
"""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def layers():
    """{crate: level} from ARCHITECTURE.md; level "dev" for dev-only crates."""
    path = os.path.join(ROOT, "ARCHITECTURE.md")
    with open(path) as f:
        text = f.read()
    m = re.search(r"<!-- crate layers.*?-->\s*```text\n(.*?)```", text, re.S)
    if not m:
        sys.exit(f"{path}: no '<!-- crate layers -->' block followed by a ```text block")
    level = {}
    for line in m.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        head, *crates = line.split()
        for c in crates:
            level[c] = head if head == "dev" else int(head)
    return level


def strip_comments(code):
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    return re.sub(r"//[^\n]*", "", code)


def rust_files(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
        elif os.path.isdir(p):
            for d, _, files in os.walk(p):
                for f in files:
                    if f.endswith(".rs"):
                        yield os.path.join(d, f)


def used(ident, paths):
    pat = re.compile(
        r"(?<![\w:])" + ident + r"\s*::|\buse\s+" + ident + r"\b|\bextern\s+crate\s+"
        + ident + r"\b|#\[" + ident + r"\b"
    )
    for f in rust_files(paths):
        with open(f, errors="replace") as fh:
            if pat.search(strip_comments(fh.read())):
                return True
    return False


def main():
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
    )
    level = layers()
    members = {p["name"] for p in meta["packages"]}
    problems = []
    for name in sorted(members - level.keys()):
        problems.append(f"{name}: not in ARCHITECTURE.md's crate layers: give it a level")
    for p in sorted(meta["packages"], key=lambda p: p["name"]):
        name = p["name"]
        here = os.path.dirname(p["manifest_path"])
        ignored = set(
            ((p.get("metadata") or {}).get("cargo-machete") or {}).get("ignored", [])
        )
        normal = {d["name"] for d in p["dependencies"] if not d["kind"] and not d.get("target")}
        for d in p["dependencies"]:
            dep, kind = d["name"], d["kind"] or "normal"
            if kind == "dev" and dep in normal:
                problems.append(
                    f"{name}: dev dependency {dep} is also a normal one: remove it from [dev-dependencies]"
                )
                continue
            # Layers.
            if dep in members and name in level and dep in level:
                mine, theirs = level[name], level[dep]
                if theirs == "dev":
                    if kind != "dev":
                        problems.append(
                            f"{name}: depends on dev-only {dep} as a {kind} dependency: make it a dev-dependency"
                        )
                elif mine != "dev" and theirs >= mine:
                    rel = "a peer" if theirs == mine else "a higher layer"
                    problems.append(
                        f"{name}: depends on {dep}, {rel} (level {theirs} >= {mine} in ARCHITECTURE.md)"
                    )
            # Unused.
            if dep in ignored:
                continue
            ident = (d.get("rename") or dep).replace("-", "_")
            if kind == "build":
                where = [os.path.join(here, "build.rs")]
            elif kind == "dev":
                where = [here]
            else:
                where = [os.path.join(here, "src"), os.path.join(here, "build.rs")]
                where += [t["src_path"] for t in p["targets"]]
            if not used(ident, where):
                problems.append(f"{name}: {kind} dependency {dep} is unused: remove it from {os.path.relpath(p['manifest_path'], ROOT)}")
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
