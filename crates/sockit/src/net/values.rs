//! Parsers for option values: byte sizes (`65536`, `64K`, `16M`) and durations in
//! seconds (`5`, `0.5`). Used as clap value parsers, so a bad value is a usage error.

use std::time::Duration;

/// Parses a byte count with an optional binary suffix: `K`/`KiB` (1024), `M`/`MiB`,
/// `G`/`GiB`, `T`/`TiB` (`KB` etc. are read as binary too). Zero is allowed; callers that
/// need at least one byte use [`parse_size`].
pub fn parse_byte_count(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.starts_with('-') {
        return Err(format!("'{text}': a size in bytes must not be negative"));
    }
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

/// The longest duration any option accepts: one year. Longer timers are typos, and an
/// unbounded value overflows `Instant + Duration` (a panic in the task that arms it).
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// The shortest non-zero duration accepted: tokio's timers tick in milliseconds, so a
/// shorter wait would silently round to zero (or to one tick) instead of meaning anything.
pub const MIN_DURATION: Duration = Duration::from_millis(1);

/// Parses a byte count as [`parse_size`] does, refusing more than `max` bytes: for sizes
/// that become allocations (a receive buffer, a frame limit), where an absurd value must
/// be a usage error, not an aborted process.
pub fn parse_size_at_most(text: &str, max: usize) -> Result<usize, String> {
    let value = parse_size(text)?;
    if value > max {
        return Err(format!(
            "more than the maximum of {max} bytes ({})",
            human_size(max)
        ));
    }
    Ok(value)
}

/// `65536` as `64 KiB`, `1073741824` as `1 GiB`; other values as bytes.
pub fn human_size(bytes: usize) -> String {
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << shift && bytes & ((1 << shift) - 1) == 0 {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// Parses a duration: seconds by default, fractions allowed (`5`, `1.5`, `1e-3`), or a
/// number with a unit: `500ms`, `2s`, `5m`, `1h`, `1d`.
///
/// Refused, so a typo is a usage error rather than a timer that fires at once or never
/// (or an arithmetic overflow when the timer is armed): zero, negative values, NaN and
/// infinity, anything below [`MIN_DURATION`] (1 ms) and anything above [`MAX_DURATION`]
/// (one year).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let unit_at = t
        .rfind(|c: char| !c.is_ascii_alphabetic())
        .map_or(0, |i| i + 1);
    let (number, unit) = t.split_at(unit_at);
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 1e-3,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        other if number.parse::<f64>().is_ok() => {
            return Err(format!("unknown unit '{other}' (use ms, s, m, h or d)"))
        }
        _ => return Err("not a duration (expected seconds, e.g. 5, 1.5 or 500ms)".to_string()),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| "not a duration (expected seconds, e.g. 5, 1.5 or 500ms)".to_string())?;
    if value.is_nan() {
        return Err("not a number".to_string());
    }
    if value < 0.0 || (value == 0.0 && number.starts_with('-')) {
        return Err("must not be negative".to_string());
    }
    let secs = value * scale;
    if secs == 0.0 {
        return Err("must be more than 0".to_string());
    }
    if secs > MAX_DURATION.as_secs_f64() {
        return Err("more than one year, the longest duration accepted".to_string());
    }
    let duration = Duration::from_secs_f64(secs);
    if duration < MIN_DURATION {
        return Err("below 1 ms, the resolution of sockit's timers".to_string());
    }
    Ok(duration)
}

/// Parses a positive duration in seconds, fractions allowed (`0.5`); units are accepted
/// too. The same bounds as [`parse_duration`] (1 ms to one year).
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    parse_duration(text)
}

/// The largest `TCP_KEEPIDLE` Linux accepts (`MAX_TCP_KEEPIDLE`).
pub const MAX_KEEPIDLE_SECS: u64 = 32767;

/// Parses the idle time before the first TCP keepalive probe. `TCP_KEEPIDLE` counts
/// whole seconds (1 to 32767 on Linux), so fractions are refused here rather than rounded
/// to 0, which the kernel would reject later as a network error.
pub fn parse_keepalive_secs(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "not a whole number of seconds".to_string())?;
    if !value.is_finite() || value.fract() != 0.0 {
        return Err(format!(
            "TCP_KEEPIDLE counts whole seconds: give 1 to {MAX_KEEPIDLE_SECS}"
        ));
    }
    if !(1.0..=MAX_KEEPIDLE_SECS as f64).contains(&value) {
        return Err(format!(
            "out of range: TCP_KEEPIDLE takes 1 to {MAX_KEEPIDLE_SECS} seconds"
        ));
    }
    Ok(Duration::from_secs(value as u64))
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

    #[test]
    fn durations_take_units_and_are_bounded() {
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("365d"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("1e-3"), Ok(MIN_DURATION));
        for bad in [
            "1e-9",
            "0.0001",
            "0",
            "-0",
            "-1",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "366d",
            "18446744073709551615",
            "1e300",
            "5x",
            "ms",
            "",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("1e-9").unwrap_err().contains("1 ms"));
        assert!(parse_duration("18446744073709551615")
            .unwrap_err()
            .contains("one year"));
    }

    #[test]
    fn keepalive_is_whole_seconds_in_the_kernel_range() {
        assert_eq!(parse_keepalive_secs("30"), Ok(Duration::from_secs(30)));
        for bad in ["1e-9", "0", "0.5", "-1", "32768", "nan", "inf", "x"] {
            assert!(parse_keepalive_secs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounded_sizes_name_the_limit() {
        assert_eq!(parse_size_at_most("64K", 65536), Ok(65536));
        let err = parse_size_at_most("64G", 65536).unwrap_err();
        assert_eq!(err, "more than the maximum of 65536 bytes (64 KiB)");
        assert!(parse_size_at_most("999999999G", 65536).is_err());
        assert_eq!(human_size(3), "3 bytes");
    }
}
