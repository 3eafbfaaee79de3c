//! Go text/tabwriter as docker configures it: minwidth 10, padding 3,
//! spaces; the text after a line's last tab is not a column and not padded.

pub fn tabwrite(lines: &[String]) -> String {
    tabwrite_min(lines, 10)
}

/// As [`tabwrite`] with another minimum column width (`docker top`'s is 20).
pub fn tabwrite_min(lines: &[String], min: usize) -> String {
    const PAD: usize = 3;
    let rows: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<usize> = Vec::new();
    for r in &rows {
        for (i, cell) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            let w = (cell.chars().count() + PAD).max(min);
            if widths.len() <= i {
                widths.push(w);
            } else {
                widths[i] = widths[i].max(w);
            }
        }
    }
    let mut out = String::new();
    for r in &rows {
        for (i, cell) in r.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < r.len() {
                let pad = widths[i] - cell.chars().count();
                out.push_str(&" ".repeat(pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_images_header_matches_docker() {
        let out = tabwrite(&["REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE".into()]);
        assert_eq!(out, "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n");
    }

    #[test]
    fn docker_images_example() {
        let out = tabwrite(&[
            "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE".into(),
            "busybox\tlatest\ta416a98b71e2\t3 weeks ago\t4.26MB".into(),
        ]);
        assert_eq!(
            out,
            "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n\
             busybox      latest    a416a98b71e2   3 weeks ago   4.26MB\n"
        );
    }
}
