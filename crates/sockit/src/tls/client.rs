//! TLS client configuration: who to trust, and the handshake for `https://`.
//!
//! Verification is on by default, against the system CA bundle (`/etc/ssl/certs`, or
//! `SSL_CERT_FILE`), because a TLS connection that does not check who answered protects
//! against eavesdroppers but not against whoever sits in the middle. `--cacert` trusts
//! one private CA instead (a test server, a company CA); `--pin` trusts exactly one
//! certificate by fingerprint, whatever signed it; `--insecure` trusts anything.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::{load_certs, provider, TlsError};
use crate::http::client::{ClientError, Stream, TlsConnect, TlsHandshake, TlsInfo};

/// Whom a client trusts.
#[derive(Debug, Clone, Default)]
pub enum Trust {
    /// The system's CA bundle.
    #[default]
    System,
    /// Only the CAs in this PEM file.
    CaFile(PathBuf),
    /// Exactly the certificate with this SHA-256 (of its DER), whoever signed it.
    Pin([u8; 32]),
    /// Anything: encryption without authentication.
    Insecure,
}

/// Client TLS options.
#[derive(Debug, Clone, Default)]
pub struct ClientTls {
    /// Whom to trust.
    pub trust: Trust,
    /// ALPN protocols offered, most preferred first (`http/1.1`).
    pub alpn: Vec<Vec<u8>>,
}

/// Builds a rustls `ClientConfig` for these options.
pub fn config(opts: &ClientTls) -> Result<Arc<ClientConfig>, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let mut config = match &opts.trust {
        Trust::System => {
            let mut roots = RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(TlsError::Config(
                    "no CA certificates found on this system (use --cacert FILE)".into(),
                ));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::CaFile(path) => {
            let mut roots = RootCertStore::empty();
            for cert in load_certs(path)? {
                roots.add(cert).map_err(|e| TlsError::File {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Pin(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Accept {
                pin: Some(*pin),
                algorithms: provider().signature_verification_algorithms,
            }))
            .with_no_client_auth(),
        Trust::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Accept {
                pin: None,
                algorithms: provider().signature_verification_algorithms,
            }))
            .with_no_client_auth(),
    };
    config.alpn_protocols = opts.alpn.clone();
    Ok(Arc::new(config))
}

/// The verifier for `--pin` (exactly one certificate) and `--insecure` (any): the
/// handshake signatures are still checked, so the server must hold the key of the
/// certificate it shows.
#[derive(Debug)]
struct Accept {
    pin: Option<[u8; 32]>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Accept {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.pin {
            None => Ok(ServerCertVerified::assertion()),
            Some(pin) => {
                let got = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
                if got.as_ref() == pin {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::General(format!(
                        "certificate fingerprint {} is not the pinned one",
                        super::sha256_hex(end_entity.as_ref())
                    )))
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Runs client handshakes with one configuration; plugs into the HTTP client.
#[derive(Clone)]
pub struct Connector {
    inner: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connector")
    }
}

impl Connector {
    /// A connector for these options.
    pub fn new(opts: &ClientTls) -> Result<Connector, TlsError> {
        Ok(Connector {
            inner: tokio_rustls::TlsConnector::from(config(opts)?),
        })
    }

    /// Runs the handshake over any stream (a TCP connection, for `tcp connect --tls`).
    /// `server_name` is sent as SNI (not for IP literals) and checked against the
    /// certificate.
    pub async fn handshake<S>(
        &self,
        server_name: &str,
        stream: S,
    ) -> Result<(tokio_rustls::client::TlsStream<S>, TlsInfo), ClientError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let name = ServerName::try_from(server_name.to_string()).map_err(|_| {
            ClientError::Request(format!("{server_name:?} is not a valid TLS server name"))
        })?;
        let tls = self
            .inner
            .connect(name, stream)
            .await
            .map_err(|e| ClientError::Tls(explain(&e)))?;
        let info = info(tls.get_ref().1);
        Ok((tls, info))
    }
}

/// What the handshake settled on.
pub fn info(conn: &rustls::ClientConnection) -> TlsInfo {
    let mut out = TlsInfo {
        version: conn
            .protocol_version()
            .map_or("?".into(), |v| format!("{v:?}")),
        cipher: conn
            .negotiated_cipher_suite()
            .map_or("?".into(), |c| format!("{:?}", c.suite())),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        ..TlsInfo::default()
    };
    if let Some(leaf) = conn.peer_certificates().and_then(|c| c.first()) {
        let s = super::cert::summarize(leaf.as_ref());
        out.subject = s.subject;
        out.issuer = s.issuer;
        out.validity = (s.not_before, s.not_after);
        out.fingerprint = s.fingerprint;
    }
    out
}

/// A handshake failure in words, with the next step for the usual ones.
fn explain(e: &std::io::Error) -> String {
    let text = e.to_string();
    if text.contains("UnknownIssuer") {
        format!("{text}: the certificate is not signed by a CA this client trusts (use --cacert FILE for a private CA, or --pin SHA256 for one certificate)")
    } else if text.contains("NotValidForName") || text.contains("not valid for name") {
        format!("{text}: the certificate does not name this host")
    } else if text.contains("Expired") {
        format!("{text}: the certificate has expired")
    } else {
        text
    }
}

impl TlsConnect for Connector {
    fn connect<'a>(&'a self, server_name: &'a str, tcp: tokio::net::TcpStream) -> TlsHandshake<'a> {
        Box::pin(async move {
            let (tls, info) = self.handshake(server_name, tcp).await?;
            Ok((Box::new(tls) as Box<dyn Stream>, info))
        })
    }
}
