//! Splitting an input line into value texts: at whitespace, except inside quotes, so
//! `1 b'hello world' 1.75` is three values.

/// Splits `line` into value texts at runs of whitespace outside quotes.
///
/// A quote (`'` or `"`, or a triple quote) opens a quoted section that ends at the
/// matching quote; a backslash inside it keeps the next character from ending it (as in
/// Python, raw literals included). Quotes may appear anywhere in a value (`b'a'`,
/// `rb"x"`). An unterminated quote is an error.
pub fn split_values(line: &str) -> Result<Vec<&str>, String> {
    let bytes = line.as_bytes();
    let mut values = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            if let Some(s) = start.take() {
                values.push(&line[s..i]);
            }
            i += 1;
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        if c == b'\'' || c == b'"' {
            i = skip_quoted(bytes, i).ok_or_else(|| {
                let s = start.unwrap_or(i);
                format!("unterminated quote in {}", &line[s..])
            })?;
        } else {
            i += 1;
        }
    }
    if let Some(s) = start {
        values.push(&line[s..]);
    }
    Ok(values)
}

/// Given the index of an opening quote, returns the index just past the closing one.
fn skip_quoted(bytes: &[u8], open: usize) -> Option<usize> {
    let q = bytes[open];
    let triple = bytes.get(open..open + 3) == Some(&[q, q, q][..]);
    let mut i = open + if triple { 3 } else { 1 };
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == q => {
                if !triple {
                    return Some(i + 1);
                }
                if bytes.get(i..i + 3) == Some(&[q, q, q][..]) {
                    return Some(i + 3);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_whitespace_outside_quotes() {
        assert_eq!(
            split_values("1 b'zhang' 1.75").unwrap(),
            ["1", "b'zhang'", "1.75"]
        );
        assert_eq!(
            split_values("  1\tb'hello world'   -0x10 ").unwrap(),
            ["1", "b'hello world'", "-0x10"]
        );
        assert_eq!(
            split_values(r#"b"it's here" b'a\' b' rb'\'x y'"#).unwrap(),
            [r#"b"it's here""#, r"b'a\' b'", r"rb'\'x y'"]
        );
        assert_eq!(
            split_values("b'''a ' b''' True").unwrap(),
            ["b'''a ' b'''", "True"]
        );
        assert!(split_values("").unwrap().is_empty());
        assert!(split_values("   ").unwrap().is_empty());
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert!(split_values("1 b'abc").is_err());
        assert!(split_values("b'abc\\'").is_err());
        assert!(split_values("b'''ab''").is_err());
    }
}
