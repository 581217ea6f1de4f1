//! TLS by libpq's `sslmode`, through `confiture::db::ConnectionSpec`, against the shared
//! cluster (TLS on, certificate for `localhost` signed by the harness's test CA).

use std::path::Path;

use confiture::db::ConnectionSpec;
use confiture::error::{ExitCode, exit_code_of};

use crate::harness::{cluster_port, make_ca, tls_cert_path};

/// Connects with `url` and reports whether the session is encrypted.
fn session_uses_tls(url: &str) -> anyhow::Result<bool> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = ConnectionSpec::from_url(url)?.connect().await?;
        let row = client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await?;
        Ok(row.get(0))
    })
}

fn url(host: &str, params: &str) -> String {
    format!(
        "postgresql://postgres@{host}:{}/postgres?{params}",
        cluster_port()
    )
}

fn with_root(host: &str, mode: &str, root: &Path) -> String {
    url(
        host,
        &format!("sslmode={mode}&sslrootcert={}", root.display()),
    )
}

/// A failure to connect: exit code 3, with the cause in the message.
fn assert_refused(result: anyhow::Result<bool>, what: &str) -> String {
    let err = result.expect_err(what);
    assert_eq!(exit_code_of(&err), ExitCode::Connection, "{what}: {err:#}");
    format!("{err:#}")
}

#[test]
fn tls_require_encrypts_the_session() {
    assert!(session_uses_tls(&url("127.0.0.1", "sslmode=require")).unwrap());
}

#[test]
fn tls_disable_does_not() {
    assert!(!session_uses_tls(&url("127.0.0.1", "sslmode=disable")).unwrap());
}

#[test]
fn tls_verify_full_checks_chain_and_host_name() {
    let ca = tls_cert_path();
    assert!(session_uses_tls(&with_root("localhost", "verify-full", &ca)).unwrap());
    let message = assert_refused(
        session_uses_tls(&with_root("127.0.0.1", "verify-full", &ca)),
        "the certificate names localhost, not 127.0.0.1",
    );
    assert!(message.contains("certificate"), "{message}");
}

#[test]
fn tls_verify_ca_checks_the_chain_only() {
    let ca = tls_cert_path();
    assert!(session_uses_tls(&with_root("127.0.0.1", "verify-ca", &ca)).unwrap());
}

#[test]
fn tls_verify_full_refuses_another_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (other_ca, other_key) = (dir.path().join("other.crt"), dir.path().join("other.key"));
    make_ca(&other_ca, &other_key, "Some other CA");
    for mode in ["verify-full", "verify-ca"] {
        let message = assert_refused(
            session_uses_tls(&with_root("localhost", mode, &other_ca)),
            "a certificate from another CA",
        );
        assert!(message.contains("certificate"), "{mode}: {message}");
    }
}
