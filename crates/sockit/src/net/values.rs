//! Parsers for option values: byte sizes (`65536`, `64K`, `16M`) and durations in
//! seconds (`5`, `0.5`). Used as clap value parsers, so a bad value is a usage error.

use std::time::Duration;

/// Parses a byte count with an optional binary suffix: `K`/`KiB` (1024), `M`/`MiB`,
/// `G`/`GiB`, `T`/`TiB` (`KB` etc. are read as binary too). Zero is allowed; callers that
/// need at least one byte use [`parse_size`].
pub fn parse_byte_count(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, suffix) = t.split_at(digits_end);
    if number.is_empty() {
        return Err(format!(
            "'{text}' is not a size in bytes (expected a number, e.g. 65536 or 64K)"
        ));
    }
    let shift = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "'{text}' is not a size in bytes (suffixes: K, M, G, T)"
            ))
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1u64 << shift))
        .ok_or_else(|| format!("'{text}' is too large"))
}

/// Parses a byte count as [`parse_byte_count`] does, for sizes that live in memory
/// (`usize`) and need at least one byte: buffers, frame limits.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let value =
        usize::try_from(parse_byte_count(text)?).map_err(|_| format!("'{text}' is too large"))?;
    if value == 0 {
        return Err("must be at least 1 byte".to_string());
    }
    Ok(value)
}

/// Parses a socket buffer size for `SO_SNDBUF`/`SO_RCVBUF`: the kernel takes a C `int`
/// and doubles it, so anything above `i32::MAX / 2` cannot be represented.
pub fn parse_buffer_size(text: &str) -> Result<usize, String> {
    let value = parse_size(text)?;
    if value > (i32::MAX / 2) as usize {
        return Err(format!(
            "'{text}' is too large for a socket buffer (max 1G)"
        ));
    }
    Ok(value)
}

/// Parses a positive duration in seconds, fractions allowed (`0.5`).
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("'{text}': must be more than 0 seconds"));
    }
    if value > 1e9 {
        return Err(format!("'{text}' is too many seconds"));
    }
    Ok(Duration::from_secs_f64(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_suffixes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("abc").is_err());
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("99999999999999999999999").is_err());
        assert!(parse_buffer_size("2G").is_err());
    }

    #[test]
    fn seconds_may_be_fractional() {
        assert_eq!(parse_secs("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_secs("0.25"), Ok(Duration::from_millis(250)));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-3").is_err());
        assert!(parse_secs("soon").is_err());
        assert!(parse_secs("inf").is_err());
    }
}
