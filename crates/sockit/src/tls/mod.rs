//! TLS for any stream: rustls configurations for clients and servers, certificate
//! loading, throw-away certificates, and the facts a person debugging TLS wants to see.
//!
//! One crypto provider is compiled in, `ring` (see docs/http.md, "TLS"): every config is
//! built with [`provider`] explicitly, so nothing depends on a process-wide default.
//!
//! - [`client`]: verifying by default against the system's CA bundle, or a `--cacert`
//!   file; `--pin` accepts exactly one certificate by its SHA-256; `--insecure` accepts
//!   anything (and says so). Implements [`crate::http::client::TlsConnect`].
//! - [`server`]: a `ServerConfig` from PEM files (read with rustls-pki-types, not the
//!   unmaintained rustls-pemfile), or a generated CA plus leaf ([`server::SelfSigned`]):
//!   rustls, like browsers, refuses a self-signed leaf as its own trust anchor, so the
//!   CA is what a client is told to trust.
//! - [`cert`]: subject, issuer, validity and fingerprint of a DER certificate.

pub mod cert;
pub mod client;
pub mod front;
pub mod server;

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A TLS setup problem: a file that is not PEM, a key that does not match, a handshake
/// that failed verification.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or parsed.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// rustls refused the configuration (key and certificate do not match, ...).
    #[error("{0}")]
    Config(String),
    /// Generating a certificate failed.
    #[error("generating a certificate: {0}")]
    Generate(String),
}

/// The one crypto provider every config is built with.
///
/// rustls 0.23.48 marks ring's provider deprecated because ring has no post-quantum key
/// exchange; sockit accepts that (classical X25519/P-256 key exchange) to keep one
/// provider that builds with gcc alone, in half the time of aws-lc-rs on 2 cores.
#[allow(deprecated)]
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in a PEM file, in order (leaf first for a chain).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |reason: String| TlsError::File {
        path: path.display().to_string(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE in this PEM file".into()));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// SHA-256 of some bytes, as 64 hex digits (what `--pin` takes).
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The same fingerprint grouped as `AB:CD:...`, the way browsers and `openssl x509
/// -fingerprint` show it.
pub fn fingerprint_colons(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses a `--pin` value: 64 hex digits, colons and a `sha256:`/`sha256//` prefix
/// allowed.
pub fn parse_pin(text: &str) -> Result<[u8; 32], String> {
    let t = text.trim();
    let t = t
        .strip_prefix("sha256//")
        .or_else(|| t.strip_prefix("sha256:"))
        .unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{text:?} is not a SHA-256 fingerprint (64 hex digits)"
        ));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}
