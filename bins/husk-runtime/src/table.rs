//! Go's text/tabwriter as runc's `list` uses it (minwidth 12, padding 3):
//! every column but the last is padded to its widest cell.

pub fn render(rows: &[Vec<String>], minwidth: usize, padding: usize) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                widths[i] = widths[i].max((cell.chars().count() + padding).max(minwidth));
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pads_all_but_last_column() {
        let rows = vec![
            vec!["ID".to_string(), "PID".to_string(), "STATUS".to_string()],
            vec![
                "abc".to_string(),
                "12345678901".to_string(),
                "running".to_string(),
            ],
        ];
        let s = super::render(&rows, 12, 3);
        assert_eq!(
            s,
            "ID          PID           STATUS\nabc         12345678901   running\n"
        );
    }
}
