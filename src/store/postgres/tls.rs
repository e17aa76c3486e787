//! TLS to PostgreSQL through rustls, checking the server's certificate as libpq's `sslmode`
//! says: not at all (`prefer`, `require`: encryption only), its authority (`verify-ca`), or its
//! authority and its name (`verify-full`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::PostgresError;
use crate::config::{PostgresUrl, RootCertificates, TlsMode};

/// The connection settings with tokio-postgres's own mode (it knows no `verify-*`: those are
/// `require` with a verifier that checks) and the connector that does the checking.
pub fn connector(
    url: &PostgresUrl,
) -> Result<(tokio_postgres::Config, MakeRustlsConnect), PostgresError> {
    let mut settings = url.connection().clone();
    settings.ssl_mode(match url.tls() {
        TlsMode::Disable => SslMode::Disable,
        TlsMode::Prefer => SslMode::Prefer,
        TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
    });
    let provider = Arc::new(crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match url.tls() {
        TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => Arc::new(PartialCheck {
            provider: provider.clone(),
            authority: None,
        }),
        TlsMode::VerifyCa => Arc::new(PartialCheck {
            provider: provider.clone(),
            authority: Some(authority_verifier(url, &provider)?),
        }),
        TlsMode::VerifyFull => authority_verifier(url, &provider)?,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| PostgresError::Tls(err.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((settings, MakeRustlsConnect::new(config)))
}

fn authority_verifier(
    url: &PostgresUrl,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, PostgresError> {
    let roots = Arc::new(root_store(url.root_certificates())?);
    WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|err| PostgresError::Tls(err.to_string()))
}

fn root_store(roots: &RootCertificates) -> Result<RootCertStore, PostgresError> {
    let path = match roots {
        RootCertificates::System => {
            return Ok(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
        }
        RootCertificates::File(path) => path,
    };
    let unreadable =
        |reason: String| PostgresError::Tls(format!("sslrootcert {}: {reason}", path.display()));
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|found| found.collect::<Result<Vec<_>, _>>())
        .map_err(|err| unreadable(err.to_string()))?;
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(unreadable("holds no usable certificate".into()));
    }
    Ok(store)
}

/// `prefer`, `require` and `verify-ca`: the handshake's signatures are checked (so the channel
/// is encrypted to whoever holds the certificate's key) and, for `verify-ca`, the certificate's
/// authority but not its names.
#[derive(Debug)]
struct PartialCheck {
    provider: Arc<CryptoProvider>,
    authority: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for PartialCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(authority) = &self.authority else {
            return Ok(ServerCertVerified::assertion());
        };
        match authority.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            checked => checked,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
