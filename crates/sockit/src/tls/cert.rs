//! What a certificate says, for `-v`: subject, issuer, validity, SHA-256 fingerprint.
//!
//! A small DER walker over the first fields of an X.509 `TBSCertificate` (RFC 5280
//! §4.1): enough to show a person whom they are talking to without a full X.509
//! parser. Anything it does not understand is shown as `?`, never a panic.

/// The parts of a certificate worth showing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertSummary {
    /// `CN=localhost, O=...`.
    pub subject: String,
    /// The issuer, same form.
    pub issuer: String,
    /// Not valid before (as encoded: `YYMMDDhhmmssZ` or `YYYYMMDDhhmmssZ`, shown ISO).
    pub not_before: String,
    /// Not valid after.
    pub not_after: String,
    /// SHA-256 of the DER, `AB:CD:...`.
    pub fingerprint: String,
}

/// Summarises a DER certificate.
pub fn summarize(der: &[u8]) -> CertSummary {
    let mut s = CertSummary {
        fingerprint: super::fingerprint_colons(der),
        subject: "?".into(),
        issuer: "?".into(),
        not_before: "?".into(),
        not_after: "?".into(),
    };
    let _ = fill(der, &mut s);
    s
}

fn fill(der: &[u8], s: &mut CertSummary) -> Option<()> {
    let (_, cert, _) = tlv(der)?; // Certificate SEQUENCE
    let (_, tbs, _) = tlv(cert)?; // TBSCertificate SEQUENCE
    let mut rest = tbs;
    let (tag, _, after) = tlv(rest)?;
    if tag == 0xa0 {
        rest = after; // [0] version
    }
    let (_, _, after) = tlv(rest)?; // serial
    let (_, _, after) = tlv(after)?; // signature algorithm
    let (_, issuer, after) = tlv(after)?;
    let (_, validity, after) = tlv(after)?;
    let (_, subject, _) = tlv(after)?;
    s.issuer = name(issuer);
    s.subject = name(subject);
    let (t1, nb, after) = tlv(validity)?;
    let (t2, na, _) = tlv(after)?;
    s.not_before = time(t1, nb);
    s.not_after = time(t2, na);
    Some(())
}

/// One tag-length-value: (tag, contents, rest).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *input.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let body = input.get(header..end)?;
    Some((tag, body, &input[end..]))
}

/// A Name: SEQUENCE OF SET OF { OID, value }.
fn name(mut rdns: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((_, set, rest)) = tlv(rdns) {
        let mut attrs = set;
        while let Some((_, attr, more)) = tlv(attrs) {
            if let Some((_, oid, after)) = tlv(attr) {
                if let Some((_, value, _)) = tlv(after) {
                    let label = match oid {
                        [0x55, 0x04, 0x03] => "CN",
                        [0x55, 0x04, 0x0a] => "O",
                        [0x55, 0x04, 0x0b] => "OU",
                        [0x55, 0x04, 0x06] => "C",
                        [0x55, 0x04, 0x07] => "L",
                        [0x55, 0x04, 0x08] => "ST",
                        _ => "?",
                    };
                    parts.push(format!("{label}={}", crate::text::escape_bytes(value)));
                }
            }
            attrs = more;
        }
        rdns = rest;
    }
    if parts.is_empty() {
        "(empty)".into()
    } else {
        parts.join(", ")
    }
}

/// UTCTime (0x17, two-digit year) or GeneralizedTime (0x18) -> `YYYY-MM-DD hh:mm:ss UTC`.
fn time(tag: u8, v: &[u8]) -> String {
    let text = String::from_utf8_lossy(v);
    let full = match tag {
        0x17 if text.len() >= 12 => {
            let yy: u32 = text[..2].parse().unwrap_or(0);
            let century = if yy >= 50 { "19" } else { "20" };
            format!("{century}{text}")
        }
        0x18 => text.into_owned(),
        _ => return text.into_owned(),
    };
    if full.len() < 14 || !full.is_char_boundary(14) {
        return full;
    }
    format!(
        "{}-{}-{} {}:{}:{} UTC",
        &full[..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes_a_generated_certificate() {
        let made = crate::tls::server::SelfSigned::generate(&["localhost".into()]).unwrap();
        let s = summarize(made.chain[0].as_ref());
        assert_eq!(s.subject, "CN=localhost");
        assert!(s.issuer.contains("sockit"), "{}", s.issuer);
        assert!(s.not_before.ends_with(" UTC"), "{}", s.not_before);
        assert_eq!(s.fingerprint.len(), 95);
    }

    #[test]
    fn garbage_is_question_marks() {
        let s = summarize(&[0x30, 0x85, 1, 2]);
        assert_eq!(s.subject, "?");
    }
}
