//! What the host offers every plugin: its configuration, logging and the keyed hash. Compiled
//! for `wasm32` these call the host; natively they read the test doubles of
//! [`crate::testing`], so plugin logic runs under plain `cargo test`.

use crate::{Error, Result};

/// Severity of a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Fine-grained detail (shown with `-vv`).
    Trace,
    /// Diagnostic detail (shown with `-v`).
    Debug,
    /// Normal progress.
    Info,
    /// Something the operator should look at.
    Warn,
    /// Something failed.
    Error,
}

/// The plugin's setting `key` from the environment file
/// (`plugins: {<name>: {config: {<key>: <value>}}}`), or `None` when unset.
pub fn config(key: &str) -> Option<String> {
    backend::config(key)
}

/// Like [`config`], with `default` when the key is unset.
pub fn config_or(key: &str, default: &str) -> String {
    config(key).unwrap_or_else(|| default.to_string())
}

/// HMAC-SHA-256 of `data` under the deployment secret, which the plugin never sees: the same
/// input gives the same 32 bytes in every run and table. Fails when no secret is configured.
pub fn keyed_hash(data: &[u8]) -> Result<[u8; 32]> {
    let bytes = backend::keyed_hash(data)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        Error::new(format!(
            "the host's keyed hash returned {} bytes instead of 32",
            bytes.len()
        ))
    })
}

/// [`keyed_hash`] of many inputs in one host call (contract 0.2.0's `keyed-hash-batch`): the
/// digests in input order, each exactly what [`keyed_hash`] gives for that input. Prefer it in
/// a strategy that hashes every value: one call per batch instead of one per value.
pub fn keyed_hash_batch<I>(inputs: I) -> Result<Vec<[u8; 32]>>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut data = Vec::new();
    let mut offsets = vec![0u32];
    for input in inputs {
        data.extend_from_slice(input.as_ref());
        let end = u32::try_from(data.len())
            .map_err(|_| Error::new("keyed_hash_batch: more than 4 GiB of input in one call"))?;
        offsets.push(end);
    }
    let digests = backend::keyed_hash_batch(&data, &offsets)?;
    let expected = (offsets.len() - 1) * 32;
    if digests.len() != expected {
        return Err(Error::new(format!(
            "the host's keyed-hash-batch returned {} bytes instead of {expected}",
            digests.len()
        )));
    }
    Ok(digests
        .chunks_exact(32)
        .map(|digest| digest.try_into().expect("chunks of 32 bytes"))
        .collect())
}

/// Writes a line to the host's log, prefixed there with the plugin's name.
pub fn log(level: Level, message: &str) {
    backend::log(level, message);
}

/// Logging at each level: `log::info("…")`, or with formatting through the crate's
/// [`info!`](crate::info)-style macros.
pub mod log {
    use super::Level;

    /// Logs at [`Level::Trace`].
    pub fn trace(message: &str) {
        super::log(Level::Trace, message);
    }
    /// Logs at [`Level::Debug`].
    pub fn debug(message: &str) {
        super::log(Level::Debug, message);
    }
    /// Logs at [`Level::Info`].
    pub fn info(message: &str) {
        super::log(Level::Info, message);
    }
    /// Logs at [`Level::Warn`].
    pub fn warn(message: &str) {
        super::log(Level::Warn, message);
    }
    /// Logs at [`Level::Error`].
    pub fn error(message: &str) {
        super::log(Level::Error, message);
    }
}

#[cfg(target_arch = "wasm32")]
mod backend {
    use super::Level;
    use crate::bindings::confiture::plugin::host::{self, LogLevel};
    use crate::{Error, Result};

    pub fn config(key: &str) -> Option<String> {
        host::config(key)
    }

    pub fn keyed_hash(data: &[u8]) -> Result<Vec<u8>> {
        host::keyed_hash(data).map_err(Error::new)
    }

    pub fn keyed_hash_batch(data: &[u8], offsets: &[u32]) -> Result<Vec<u8>> {
        host::keyed_hash_batch(data, offsets).map_err(Error::new)
    }

    pub fn log(level: Level, message: &str) {
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        host::log(level, message);
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod backend {
    pub use crate::testing::double::{config, keyed_hash, keyed_hash_batch, log};
}

/// Logs a formatted line at info level: `confiture_sdk::info!("{n} rows")`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log($crate::Level::Info, &::std::format!($($arg)*)) };
}

/// Logs a formatted line at warn level.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log($crate::Level::Warn, &::std::format!($($arg)*)) };
}

/// Logs a formatted line at debug level.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log($crate::Level::Debug, &::std::format!($($arg)*)) };
}

/// Logs a formatted line at error level.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log($crate::Level::Error, &::std::format!($($arg)*)) };
}
