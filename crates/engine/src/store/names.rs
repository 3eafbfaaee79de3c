//! Container ids and names as docker makes them.

use rand::Rng;

pub use crate::config::valid_name;

/// Our own lists in moby's `adjective_surname` format (not moby's data).
const ADJECTIVES: &[&str] = &[
    "agile",
    "amazing",
    "angry",
    "awesome",
    "blissful",
    "bold",
    "brave",
    "busy",
    "calm",
    "clever",
    "cool",
    "crazy",
    "dazzling",
    "determined",
    "eager",
    "ecstatic",
    "elastic",
    "elegant",
    "epic",
    "fervent",
    "festive",
    "focused",
    "friendly",
    "funny",
    "gallant",
    "gentle",
    "goofy",
    "gracious",
    "happy",
    "hardcore",
    "hopeful",
    "hungry",
    "jolly",
    "keen",
    "kind",
    "laughing",
    "loving",
    "lucid",
    "magical",
    "modest",
    "musing",
    "nice",
    "nifty",
    "nostalgic",
    "optimistic",
    "peaceful",
    "pensive",
    "practical",
    "priceless",
    "quirky",
    "relaxed",
    "serene",
    "sharp",
    "silly",
    "sleepy",
    "stoic",
    "strange",
    "sweet",
    "tender",
    "trusting",
    "upbeat",
    "vibrant",
    "vigilant",
    "wizardly",
    "wonderful",
    "youthful",
    "zealous",
    "zen",
];

const SURNAMES: &[&str] = &[
    "agnesi",
    "allen",
    "archimedes",
    "babbage",
    "bardeen",
    "bartik",
    "bell",
    "bohr",
    "boole",
    "borg",
    "cannon",
    "cerf",
    "chandrasekhar",
    "curie",
    "darwin",
    "dijkstra",
    "einstein",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "fermi",
    "feynman",
    "franklin",
    "gagarin",
    "galileo",
    "gauss",
    "goldberg",
    "goodall",
    "hamilton",
    "hawking",
    "heisenberg",
    "hertz",
    "hodgkin",
    "hopper",
    "hypatia",
    "johnson",
    "kepler",
    "knuth",
    "lamarr",
    "lamport",
    "leakey",
    "liskov",
    "lovelace",
    "maxwell",
    "mayer",
    "mclean",
    "meitner",
    "mendel",
    "morse",
    "newton",
    "noether",
    "pasteur",
    "perlman",
    "planck",
    "ritchie",
    "sammet",
    "shannon",
    "sinoussi",
    "tesla",
    "thompson",
    "torvalds",
    "turing",
    "volhard",
    "wilson",
    "wing",
    "wozniak",
    "wu",
    "yalow",
];

/// 32 random bytes as 64 lowercase hex digits; never all-digit in the first
/// 12 (the short id is the hostname, which must not look numeric).
pub fn new_id() -> String {
    let mut rng = rand::thread_rng();
    loop {
        let bytes: [u8; 32] = rng.gen();
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if !id[..12].bytes().all(|b| b.is_ascii_digit()) {
            return id;
        }
    }
}

pub fn is_full_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `adjective_surname`, with a random digit appended when `retry > 0`.
pub fn random_name(retry: u32) -> String {
    let mut rng = rand::thread_rng();
    loop {
        let name = format!(
            "{}_{}",
            ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())],
            SURNAMES[rng.gen_range(0..SURNAMES.len())]
        );
        // moby's rule: Steve Wozniak is not boring.
        if name == "boring_wozniak" {
            continue;
        }
        if retry > 0 {
            return format!("{name}{}", rng.gen_range(0..10));
        }
        return name;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_with_a_non_numeric_short_id() {
        for _ in 0..100 {
            let id = new_id();
            assert!(is_full_id(&id), "{id}");
            assert!(!id[..12].bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn names_follow_docker_rules() {
        assert!(valid_name("web"));
        assert!(valid_name("a.b-c_1"));
        assert!(!valid_name("a"));
        assert!(!valid_name("-web"));
        assert!(!valid_name("we b"));
        assert!(!valid_name("_web"));
        let n = random_name(0);
        assert!(valid_name(&n) && n.contains('_'), "{n}");
        let n = random_name(1);
        assert!(n.ends_with(|c: char| c.is_ascii_digit()), "{n}");
    }
}
