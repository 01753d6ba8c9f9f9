//! Aligned plain-text tables for human output.

/// Renders rows as columns padded to the widest cell, the first row being the header,
/// followed by a dashed rule. The last column is not padded (no trailing spaces).
pub fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (r, row) in rows.iter().enumerate() {
        push_row(&mut out, row, &widths);
        if r == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            push_row(&mut out, &rule, &widths);
        }
    }
    out
}

fn push_row(out: &mut String, row: &[String], widths: &[usize]) {
    let mut line = String::new();
    for (i, cell) in row.iter().enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        if i + 1 < row.len() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let rows = vec![
            vec!["option".to_string(), "tcp".to_string()],
            vec!["SO_TYPE".to_string(), "SOCK_STREAM".to_string()],
        ];
        assert_eq!(
            render(&rows),
            "option   tcp\n-------  -----------\nSO_TYPE  SOCK_STREAM\n"
        );
    }
}
