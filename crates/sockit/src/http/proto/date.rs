//! HTTP dates (RFC 9110 §5.6.7) and the cheap wall clock they are read from.
//!
//! Every response carries a `Date`; formatting it is done at most once per second per
//! thread, so the per-request cost is one vDSO clock read and one copy.

use std::cell::RefCell;

/// Current wall-clock second, from the cheap coarse clock (a vDSO read, ~ns).
pub fn now_secs() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    u64::try_from(ts.tv_sec).unwrap_or(0)
}

/// Formats Unix seconds as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(secs: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

thread_local! {
    /// (second, "Date: ...\r\n") for this thread.
    static DATE: RefCell<(u64, Vec<u8>)> = const { RefCell::new((u64::MAX, Vec::new())) };
}

/// Appends `Date: <now>\r\n`, re-formatting only when the second changed.
pub fn push_date(buf: &mut Vec<u8>) {
    let now = now_secs();
    DATE.with(|d| {
        let mut d = d.borrow_mut();
        if d.0 != now {
            d.0 = now;
            d.1.clear();
            d.1.extend_from_slice(b"Date: ");
            d.1.extend_from_slice(http_date(now).as_bytes());
            d.1.extend_from_slice(b"\r\n");
        }
        buf.extend_from_slice(&d.1);
    });
}

/// Civil date `(year, month, day)` from days since 1970-01-01 (Howard Hinnant's
/// algorithm): log timestamps and listing dates without a calendar crate.
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `2026-11-22T01:53:07Z` for Unix seconds (JSON logs, listings).
pub fn iso_time(secs: u64) -> String {
    let (y, m, d) = civil((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_http_dates() {
        assert_eq!(iso_time(1_795_312_387), "2026-11-22T01:53:07Z");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
