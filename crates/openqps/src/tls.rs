//! HTTPS: a rustls (ring) listener that axum serves like a TCP one, and `openqps cert`, which
//! makes a local certificate authority and a server certificate for 127.0.0.1 and localhost.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A slow or silent client must not hold a handshake slot for long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The rustls configuration for a PEM certificate chain and private key.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read the private key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Accepts TCP connections and hands axum only those whose TLS handshake succeeded. Handshakes
/// run in their own tasks, so one slow client does not stall the others.
pub struct TlsListener {
    incoming: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: rustls::ServerConfig) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (tx, incoming) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "TLS accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let handed = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = handed.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok(TlsListener { incoming, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.incoming.recv().await {
            Some(c) => c,
            // The accept task ended: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

#[derive(clap::Args)]
pub struct CertArgs {
    /// Folder to write ca.pem, cert.pem and key.pem into (created if missing).
    #[arg(long, default_value = "openqps-tls")]
    out: PathBuf,
    /// Replace certificates already in that folder (clients that trust the old CA will not
    /// trust the new one).
    #[arg(long)]
    force: bool,
}

/// `openqps cert`: a local CA (its key is not kept) and a server certificate it signed for
/// 127.0.0.1, ::1 and localhost.
pub fn cert(args: CertArgs) -> Result<(), String> {
    const FILES: [&str; 3] = ["ca.pem", "cert.pem", "key.pem"];
    if !args.force
        && let Some(found) = FILES.iter().find(|f| args.out.join(f).exists())
    {
        return Err(format!(
            "{} already exists: a new CA would not be trusted where the old one is. Keep it, or \
             pass --force to replace the certificates.",
            args.out.join(found).display()
        ));
    }
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let err = |e: rcgen::Error| format!("cannot make the certificates: {e}");
    let now = jiff::Timestamp::now().as_second();
    let valid = |p: &mut CertificateParams, days: i64| -> Result<(), String> {
        let from = rcgen::date_time_ymd(2024, 1, 1);
        p.not_before = from;
        p.not_after = from
            + Duration::from_secs(
                u64::try_from(now - 1_704_067_200 + days * 86_400).map_err(|e| e.to_string())?,
            );
        Ok(())
    };

    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "openqps local CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    valid(&mut ca, 3650)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().map_err(err)?;
    let mut server = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])
    .map_err(err)?;
    server
        .distinguished_name
        .push(DnType::CommonName, "openqps");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    valid(&mut server, 825)?;
    let server_cert = server.signed_by(&key, &issuer).map_err(err)?;

    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let write = |name: &str, text: &str| {
        let path = args.out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("ca.pem", &ca_cert.pem())?;
    write("cert.pem", &server_cert.pem())?;
    write("key.pem", &key.serialize_pem())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(
            args.out.join("key.pem"),
            std::fs::Permissions::from_mode(0o600),
        );
    }
    let dir = std::fs::canonicalize(&args.out).unwrap_or_else(|_| args.out.clone());
    let dir = dir.display();
    println!(
        "Wrote {dir}/ca.pem (the CA to trust), {dir}/cert.pem and {dir}/key.pem (for 127.0.0.1, ::1, localhost).\n\
         Serve HTTPS:   openqps serve --tls-cert {dir}/cert.pem --tls-key {dir}/key.pem\n\
         Trust it from Python (requests, qualysapi):  export REQUESTS_CA_BUNDLE={dir}/ca.pem\n\
         From curl:     curl --cacert {dir}/ca.pem https://127.0.0.1:8751/msp/about.php -u admin:…"
    );
    Ok(())
}
