//! TLS server configuration: certificates from PEM files, or generated on the spot.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::{provider, TlsError};

/// A `ServerConfig` serving `chain` (leaf first) with `key`, offering ALPN `alpn`.
pub fn config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(format!("certificate and key: {e}")))?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// A throw-away CA and a leaf certificate it signed, for the names being served.
///
/// Clients trust the CA (`--cacert ca.pem`, `curl --cacert`): rustls and browsers do
/// not accept a self-signed leaf as its own anchor. The CA's key is dropped once the
/// leaf is signed, so nothing else can ever be signed with it.
pub struct SelfSigned {
    /// The leaf, then the CA.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
    /// The CA certificate, PEM, for clients to trust.
    pub ca_pem: String,
    /// SHA-256 of the leaf, `AB:CD:...`, for `--pin` or a person to compare.
    pub fingerprint: String,
}

impl std::fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfSigned")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl SelfSigned {
    /// Generates an ECDSA P-256 CA and a leaf for `names` (host names and IP
    /// addresses), valid from now for 30 days.
    pub fn generate(names: &[String]) -> Result<SelfSigned, TlsError> {
        let err = |e: rcgen::Error| TlsError::Generate(e.to_string());
        let now = std::time::SystemTime::now();
        let until = now + std::time::Duration::from_secs(30 * 24 * 3600);
        let ca_key = KeyPair::generate().map_err(err)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.distinguished_name
            .push(DnType::CommonName, "sockit throw-away CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.not_before = now.into();
        ca.not_after = until.into();
        let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().map_err(err)?;
        let mut leaf = CertificateParams::new(names.to_vec()).map_err(err)?;
        let cn = names.first().cloned().unwrap_or_else(|| "localhost".into());
        leaf.distinguished_name.push(DnType::CommonName, cn);
        leaf.is_ca = IsCa::NoCa;
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.not_before = now.into();
        leaf.not_after = until.into();
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(err)?;
        let fingerprint = super::fingerprint_colons(leaf_cert.der().as_ref());
        Ok(SelfSigned {
            chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            ca_pem: ca_cert.pem(),
            fingerprint,
        })
    }
}
