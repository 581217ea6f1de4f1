//! Connection settings (URL or fields), TLS by libpq's `sslmode`, and connecting.
//!
//! `tokio-postgres` understands `sslmode` `disable|prefer|require`; Confiture adds libpq's
//! `verify-ca` and `verify-full` (with `sslrootcert`) on top, through rustls.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config};

use crate::error::{ExitCode, Failure};
use crate::strings::percent_encode;

/// Set on every connection right after it opens: the server's idle timeouts do not apply to
/// the tool's own sessions. A run waits idle on purpose — the lock's connection for the whole
/// run, the work connection while an operator reads a question or another run holds the lock
/// — and a server (or role, or database) setting `idle_session_timeout` or
/// `idle_in_transaction_session_timeout` for interactive users would otherwise end it mid-run.
/// (`idle_session_timeout` exists from PostgreSQL 14; older servers have nothing to turn off.)
/// The query runs without a statement timeout, then the server's own is restored: a database
/// that sets `statement_timeout` to a few milliseconds must not refuse the connection itself
/// (the lifting `SET` can still be cancelled: [`execute_through_cancels`] tries again).
/// It asks `current_setting(name, true)` rather than `pg_settings`, which lists every setting.
pub const OWN_SESSION_SETTINGS: &str = "SET statement_timeout = 0; \
     SELECT pg_catalog.set_config(name, '0', false) \
     FROM (VALUES ('idle_session_timeout'), ('idle_in_transaction_session_timeout')) AS s(name) \
     WHERE pg_catalog.current_setting(name, true) IS NOT NULL; \
     RESET statement_timeout";

/// [`OWN_SESSION_SETTINGS`] as `set_config` calls for a `SELECT` list (empty when the server
/// has neither setting), for a server whose `server_version_num` is known: what the applier
/// sends after each `RESET ALL`, before every migration, in the reset's one `SELECT`. Planning
/// the query above costs more than the rest of that reset together (measured with pgbench:
/// 0.11 ms against 0.04 ms for two plain `SET`s).
pub fn own_session_settings_for(server_version_num: i32) -> Vec<&'static str> {
    let mut settings = Vec::new();
    if server_version_num >= 140_000 {
        settings.push("pg_catalog.set_config('idle_session_timeout', '0', false)");
    }
    if server_version_num >= 90_600 {
        settings.push("pg_catalog.set_config('idle_in_transaction_session_timeout', '0', false)");
    }
    settings
}

/// How many times [`execute_through_cancels`] sends its statements.
const CANCELLED_TRIES: usize = 5;

/// Runs `sql` (one simple query), again when the server cancels it (57014), up to
/// [`CANCELLED_TRIES`] times; the last error otherwise. For the statements that lift a
/// database's or role's tiny `statement_timeout`: the timeout in force can cancel them — the
/// first statement of a new backend above all, while it loads its caches on a busy server — and
/// PostgreSQL reports a timeout that fired as one statement ended as a cancel "due to user
/// request" on the next one. Only for statements that can be sent again (a failed simple query
/// leaves nothing: its statements run in one implicit transaction).
pub async fn execute_through_cancels(
    client: &Client,
    sql: &str,
) -> Result<(), tokio_postgres::Error> {
    let mut tries = 1;
    loop {
        match client.batch_execute(sql).await {
            Err(error)
                if tries < CANCELLED_TRIES && error.code() == Some(&SqlState::QUERY_CANCELED) =>
            {
                tries += 1;
            }
            result => return result,
        }
    }
}

/// The driver's `keepalives_idle` default (the kernel's two hours).
const DRIVER_KEEPALIVES_IDLE: Duration = Duration::from_secs(2 * 60 * 60);
/// Idle time before the first TCP keepalive probe, unless the URL sets `keepalives_idle`.
const KEEPALIVES_IDLE: Duration = Duration::from_secs(60);
/// Time between unanswered probes, unless the URL sets `keepalives_interval`.
const KEEPALIVES_INTERVAL: Duration = Duration::from_secs(10);
/// Unanswered probes before the connection counts as dead, unless the URL sets
/// `keepalives_retries`.
const KEEPALIVES_RETRIES: u32 = 6;

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Never use TLS.
    Disable,
    /// TLS when the server offers it, without checking its certificate (libpq's default).
    Prefer,
    /// TLS always, without checking the certificate (as libpq does without a root certificate).
    Require,
    /// TLS, certificate chain checked against the root certificates, host name not checked.
    VerifyCa,
    /// TLS, certificate chain and host name checked.
    VerifyFull,
}

impl TlsMode {
    fn parse(value: &str) -> anyhow::Result<Self> {
        Ok(match value {
            "disable" | "allow" => TlsMode::Disable,
            "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            other => {
                return Err(Failure::config(format!("unknown sslmode `{other}`"))
                    .hint("use disable, prefer, require, verify-ca or verify-full")
                    .into());
            }
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }
}

/// Connection settings given as separate fields (an environment's `database:` map).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseParts {
    /// Host name or address (default `localhost`).
    pub host: String,
    /// TCP port (default 5432).
    pub port: u16,
    /// Database name.
    pub dbname: String,
    /// Role to connect as (default `postgres`).
    pub user: String,
    /// Password, if any. Never printed.
    pub password: Option<String>,
    /// libpq `sslmode`, if set.
    pub sslmode: Option<String>,
    /// Seconds to wait for the server to answer (`connect_timeout`), if set.
    pub connect_timeout_secs: Option<u64>,
}

impl std::fmt::Debug for DatabaseParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseParts")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("sslmode", &self.sslmode)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .finish()
    }
}

/// How to reach one database. Its `Debug` and [`ConnectionSpec::redacted`] never show the
/// password.
#[derive(Clone)]
pub struct ConnectionSpec {
    config: Config,
    tls: TlsMode,
    root_cert: Option<PathBuf>,
}

impl std::fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl ConnectionSpec {
    /// Parses a `postgresql://` URL or a libpq `key=value` string.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        let (rest, tls, root_cert) = take_tls_params(url)?;
        let config: Config = rest.parse().map_err(|e| {
            Failure::config(format!("invalid database URL: {e}"))
                .hint("expected postgresql://user[:password]@host[:port]/database[?sslmode=...]")
        })?;
        Ok(Self::from_config(config, tls, root_cert))
    }

    /// Builds a spec from the fields of an environment's `database:` map.
    pub fn from_parts(parts: &DatabaseParts) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config
            .host(&parts.host)
            .port(parts.port)
            .dbname(&parts.dbname)
            .user(&parts.user);
        if let Some(password) = &parts.password {
            config.password(password);
        }
        if let Some(secs) = parts.connect_timeout_secs {
            config.connect_timeout(Duration::from_secs(secs));
        }
        let tls = parts
            .sslmode
            .as_deref()
            .map(TlsMode::parse)
            .transpose()?
            .unwrap_or(TlsMode::Prefer);
        Ok(Self::from_config(config, tls, None))
    }

    /// A spec from a ready `tokio_postgres::Config` (used for the local cluster).
    pub fn from_config(mut config: Config, tls: TlsMode, root_cert: Option<PathBuf>) -> Self {
        config.ssl_mode(match tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        });
        if config.get_application_name().is_none() {
            config.application_name(super::run::application_name());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        // A connection that waits on an operator or on another migration must notice a dead
        // peer within minutes, not the kernel's two hours, and keep idle NATs open (TCP
        // keepalives are on unless the URL says `keepalives=0`).
        if config.get_keepalives_idle() == DRIVER_KEEPALIVES_IDLE {
            config.keepalives_idle(KEEPALIVES_IDLE);
        }
        if config.get_keepalives_interval().is_none() {
            config.keepalives_interval(KEEPALIVES_INTERVAL);
        }
        if config.get_keepalives_retries().is_none() {
            config.keepalives_retries(KEEPALIVES_RETRIES);
        }
        ConnectionSpec {
            config,
            tls,
            root_cert,
        }
    }

    /// The same server and credentials, another database.
    pub fn with_dbname(&self, dbname: &str) -> Self {
        let mut spec = self.clone();
        spec.config.dbname(dbname);
        spec
    }

    /// The database name, if the settings name one.
    pub fn dbname(&self) -> Option<&str> {
        self.config.get_dbname()
    }

    /// The role name, if the settings name one.
    pub fn user(&self) -> Option<&str> {
        self.config.get_user()
    }

    /// The underlying driver configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `postgresql://user@host:port/db?sslmode=...` without the password, for messages.
    pub fn redacted(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_string(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let user = self
            .user()
            .map(|u| format!("{}@", percent_encode(u.as_bytes())))
            .unwrap_or_default();
        let db = percent_encode(self.dbname().unwrap_or_default().as_bytes());
        let tls = match self.tls {
            TlsMode::Prefer => String::new(),
            mode => format!("?sslmode={}", mode.as_str()),
        };
        format!("postgresql://{user}{host}:{port}/{db}{tls}")
    }

    /// The URL with its password, for handing to `psql` and friends. Never print it.
    pub fn url_with_password(&self) -> String {
        let redacted = self.redacted();
        match (self.config.get_password(), self.user()) {
            (Some(password), Some(user)) => {
                let user = percent_encode(user.as_bytes());
                redacted.replacen(
                    &format!("{user}@"),
                    &format!("{user}:{}@", percent_encode(password)),
                    1,
                )
            }
            _ => redacted,
        }
    }

    /// Opens a connection; the driver's connection task runs on the tokio runtime.
    ///
    /// Any failure is a connection failure (exit code 3) naming the redacted target.
    pub async fn connect(&self) -> anyhow::Result<Client> {
        let result = match self.tls {
            TlsMode::Disable => self
                .config
                .connect(tokio_postgres::NoTls)
                .await
                .map(|(client, conn)| (client, spawn(conn))),
            mode => {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(self.rustls_config(mode)?);
                self.config
                    .connect(tls)
                    .await
                    .map(|(client, conn)| (client, spawn(conn)))
            }
        };
        let client = match result {
            Ok((client, ())) => client,
            Err(err) => return Err(connection_failure(&self.redacted(), &err).into()),
        };
        execute_through_cancels(&client, OWN_SESSION_SETTINGS)
            .await
            .map_err(|err| session_setup_failure(&self.redacted(), &err))?;
        Ok(client)
    }

    fn rustls_config(&self, mode: TlsMode) -> anyhow::Result<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match mode {
            TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => {
                Arc::new(AcceptAnyCertificate(provider.clone()))
            }
            TlsMode::VerifyCa | TlsMode::VerifyFull => {
                let roots = Arc::new(self.root_store()?);
                let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    roots,
                    provider.clone(),
                )
                .build()
                .context("building the TLS certificate verifier")?;
                if mode == TlsMode::VerifyCa {
                    Arc::new(IgnoreHostName(webpki))
                } else {
                    webpki
                }
            }
        };
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("configuring TLS")?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth())
    }

    /// Root certificates: `sslrootcert`, else `~/.postgresql/root.crt`, else the system's.
    fn root_store(&self) -> anyhow::Result<rustls::RootCertStore> {
        let mut store = rustls::RootCertStore::empty();
        let default_file = std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".postgresql/root.crt"))
            .filter(|p| p.is_file());
        if let Some(file) = self.root_cert.clone().or(default_file) {
            let certs = CertificateDer::pem_file_iter(&file)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    Failure::config(format!("cannot read sslrootcert {}: {e}", file.display()))
                })?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(Failure::config(format!(
                    "sslrootcert {} holds no usable certificate",
                    file.display()
                ))
                .into());
            }
        } else {
            let native = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(native.certs);
        }
        Ok(store)
    }
}

/// Asks the server to cancel the statement running on the connection `token` belongs to.
///
/// The request goes over TLS when the connection's `sslmode` asks for it; as with libpq's cancel
/// requests, the server's certificate is not verified (the request carries only the key that
/// identifies the statement, and no answer).
pub async fn cancel(token: &tokio_postgres::CancelToken) -> anyhow::Result<()> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("configuring TLS")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth();
    token
        .cancel_query(tokio_postgres_rustls::MakeRustlsConnect::new(config))
        .await
        .context("sending the cancel request")
}

fn spawn<S, T>(conn: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        // Errors surface on the client's next call; nothing to report here.
        let _ = conn.await;
    });
}

fn connection_failure(target: &str, err: &tokio_postgres::Error) -> Failure {
    Failure::new(
        ExitCode::Connection,
        format!("cannot connect to {target}: {}", error_detail(err)),
    )
    .hint("check that the server is running and reachable, and the credentials; for the local database run `confiture db start`")
}

/// The connection opened, but the settings every connection makes ([`OWN_SESSION_SETTINGS`])
/// failed: when the server answered with an error, the hint is about what it answered.
fn session_setup_failure(target: &str, err: &tokio_postgres::Error) -> Failure {
    if err.as_db_error().is_none() {
        return connection_failure(target, err);
    }
    Failure::new(
        ExitCode::Connection,
        format!(
            "connected to {target}, but the session's own settings failed: {}",
            error_detail(err)
        ),
    )
    .hint(session_setup_hint(err.code()))
}

/// What to do when the session's own settings failed with `code`.
fn session_setup_hint(code: Option<&SqlState>) -> String {
    if code == Some(&SqlState::QUERY_CANCELED) {
        format!(
            "the server cancelled them {CANCELLED_TRIES} times: the `statement_timeout` of the \
             database or role (`SHOW statement_timeout`) is too short for even a `SET`; raise it \
             (`ALTER ROLE … SET statement_timeout = …`) or connect as a role without it"
        )
    } else {
        "they only turn off the idle timeouts for this session (see \"What every connection \
         sets\" in docs/reference/configuration.md); a pooler or server that refuses `SET` cannot \
         run Confiture"
            .to_string()
    }
}

/// The server's message and SQLSTATE, or the client error with its causes.
fn error_detail(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(inner) = source {
                text.push_str(&format!(": {inner}"));
                source = inner.source();
            }
            text
        }
    }
}

/// Splits `sslmode` and `sslrootcert` out of a URL or key/value string, since the driver does
/// not know `verify-ca` / `verify-full`.
fn take_tls_params(url: &str) -> anyhow::Result<(String, TlsMode, Option<PathBuf>)> {
    let mut mode = TlsMode::Prefer;
    let mut root_cert = None;
    let mut take = |key: &str, value: &str| -> anyhow::Result<bool> {
        match key {
            "sslmode" => mode = TlsMode::parse(value)?,
            "sslrootcert" => root_cert = Some(PathBuf::from(percent_decode(value))),
            _ => return Ok(false),
        }
        Ok(true)
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        check_url_structure(url)?;
        match url.split_once('?') {
            None => url.to_string(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    if !take(key, value)? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut kept = Vec::new();
        for token in url.split_whitespace() {
            let (key, value) = token.split_once('=').unwrap_or((token, ""));
            if !take(key, value.trim_matches('\''))? {
                kept.push(token);
            }
        }
        kept.join(" ")
    };
    Ok((rest, mode, root_cert))
}

/// Refuses a URL whose structure is ambiguous — the sign of a reserved character left
/// unencoded in the user, password or database name — instead of guessing: a `#`, a second `?`,
/// or an `@` that is not the one ending the user and password (`postgresql://u:p?w@h/db`
/// would otherwise lose the `sslmode` written after it).
fn check_url_structure(url: &str) -> Result<(), Failure> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority_end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let (authority, rest) = after_scheme.split_at(authority_end);
    let problem = if url.contains('#') {
        Some("`#`")
    } else if authority.matches('@').count() > 1 {
        Some("a second `@`")
    } else if rest.contains('@') {
        Some("an `@` after the host (a `/`, `?` or `#` left unencoded before it)")
    } else if rest.matches('?').count() > 1 {
        Some("a second `?`")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(Failure::config(format!(
            "the database URL does not parse unambiguously: it holds {problem}"
        ))
        .hint(
            "percent-encode reserved characters in the user, password and database name \
             (`?` %3F, `#` %23, `&` %26, `@` %40, `/` %2F, `:` %3A, `%` %25); values expanded \
             from ${VAR} inside database_url are encoded for you",
        )),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `sslmode=require`: encrypt, trust any certificate (libpq's behaviour without a root cert).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must verify; the host name is not checked.
#[derive(Debug)]
struct IgnoreHostName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for IgnoreHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_setup_cancelled_on_every_try_names_the_statement_timeout() {
        let cancelled = session_setup_hint(Some(&SqlState::QUERY_CANCELED));
        assert!(cancelled.contains("cancelled them 5 times"), "{cancelled}");
        assert!(cancelled.contains("statement_timeout"), "{cancelled}");
        let other = session_setup_hint(Some(&SqlState::INSUFFICIENT_PRIVILEGE));
        assert!(other.contains("idle timeouts"), "{other}");
        assert!(!other.contains("statement_timeout"), "{other}");
    }

    #[test]
    fn url_keeps_password_out_of_messages() {
        let spec = ConnectionSpec::from_url(
            "postgresql://app:hunter2@db.example:6543/shop?sslmode=require",
        )
        .unwrap();
        assert_eq!(
            spec.redacted(),
            "postgresql://app@db.example:6543/shop?sslmode=require"
        );
        assert!(!format!("{spec:?}").contains("hunter2"));
        assert_eq!(
            spec.url_with_password(),
            "postgresql://app:hunter2@db.example:6543/shop?sslmode=require"
        );
    }

    #[test]
    fn verify_modes_and_root_cert_are_taken_out_of_the_url() {
        let (rest, mode, root) = take_tls_params(
            "postgresql://u@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(rest, "postgresql://u@h/db?connect_timeout=3");
        assert_eq!(mode, TlsMode::VerifyFull);
        assert_eq!(root, Some(PathBuf::from("/tmp/ca.pem")));
        let (rest, mode, _) = take_tls_params("host=h dbname=db sslmode=verify-ca").unwrap();
        assert_eq!(
            (rest.as_str(), mode),
            ("host=h dbname=db", TlsMode::VerifyCa)
        );
    }

    /// Every reserved character (and `%`, space, non-ASCII) in the user, password and database
    /// name: encoded, each reads back exactly and `sslmode` stays; left raw where it changes
    /// the structure, the URL is refused rather than guessed at.
    #[test]
    fn reserved_characters_in_url_parts_never_lose_sslmode() {
        let reserved = ":/?#[]@!$&'()*+,;=% é";
        for c in reserved.chars() {
            let part = format!("a{c}b");
            let e = percent_encode(part.as_bytes());
            let url = format!("postgresql://{e}:{e}@db.example:5432/{e}?sslmode=verify-full");
            let spec = ConnectionSpec::from_url(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(spec.tls, TlsMode::VerifyFull, "{url}");
            assert_eq!(spec.user(), Some(part.as_str()), "{url}");
            assert_eq!(spec.dbname(), Some(part.as_str()), "{url}");
            assert_eq!(spec.config().get_password(), Some(part.as_bytes()), "{url}");
            let again = ConnectionSpec::from_url(&spec.url_with_password()).unwrap();
            assert_eq!(
                (again.user(), again.dbname(), again.tls),
                (spec.user(), spec.dbname(), spec.tls),
                "{c}"
            );
        }
        for raw in ["?", "#", "@", "/"] {
            let url = format!("postgresql://app:p{raw}w@db.example/shop?sslmode=require");
            match ConnectionSpec::from_url(&url) {
                Err(err) => assert!(
                    err.to_string().contains("does not parse unambiguously"),
                    "{url}: {err}"
                ),
                Ok(spec) => panic!("{url} was accepted as {}", spec.redacted()),
            }
        }
    }

    #[test]
    fn bad_sslmode_is_a_config_error() {
        let err = ConnectionSpec::from_url("postgresql://h/db?sslmode=sometimes").unwrap_err();
        assert!(err.to_string().contains("unknown sslmode `sometimes`"));
    }
}
