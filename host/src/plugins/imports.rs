//! The host side of the WIT imports: `host` (log, config, keyed-hash) and `database`.

use super::bindings::{database, host, types};
use super::database::{DbReply, DbRequest, Mode};
use super::log::LogLevel;
use super::sandbox::HostState;
use crate::project::settings::plugins::Grant;

impl types::Host for HostState {}

impl host::Host for HostState {
    fn log(&mut self, level: host::LogLevel, message: String) {
        let level = match level {
            host::LogLevel::Trace => LogLevel::Trace,
            host::LogLevel::Debug => LogLevel::Debug,
            host::LogLevel::Info => LogLevel::Info,
            host::LogLevel::Warn => LogLevel::Warn,
            host::LogLevel::Error => LogLevel::Error,
        };
        HostState::log(self, level, &message);
    }

    fn config(&mut self, key: String) -> Option<String> {
        self.plugin.config.get(&key).cloned()
    }

    fn keyed_hash(&mut self, data: Vec<u8>) -> Result<Vec<u8>, String> {
        self.keyed_digest(&data).map(|digest| digest.to_vec())
    }

    fn keyed_hash_batch(&mut self, data: Vec<u8>, offsets: Vec<u32>) -> Result<Vec<u8>, String> {
        super::keyed_hash::hash_batch(&data, &offsets, |input| self.keyed_digest(input))
    }
}

impl HostState {
    /// The plugin's keyed hash of one input: what `keyed-hash` returns, and what
    /// `keyed-hash-batch` returns for each of its inputs.
    fn keyed_digest(&self, data: &[u8]) -> Result<[u8; 32], String> {
        self.plugin.keyed_hash(data)
    }
}

impl HostState {
    fn not_granted(&self, grant: Grant, call: &str) -> database::DbError {
        database::DbError {
            code: "not-granted".into(),
            message: format!(
                "plugin {} is not granted `{grant}`, which `{call}` needs; add it under \
                 `plugins: {{{}: {{grant: [{grant}]}}}}` in the environment file",
                self.plugin.name, self.plugin.name
            ),
        }
    }

    fn send(&self, request: DbRequest) -> Result<DbReply, database::DbError> {
        let Some(proxy) = &self.db else {
            return Err(database::DbError {
                code: "host".into(),
                message: format!(
                    "plugin {}: the database is only available to hooks during a migration",
                    self.plugin.name
                ),
            });
        };
        proxy.call(request).map_err(|e| database::DbError {
            code: e.code,
            message: e.message,
        })
    }
}

impl database::Host for HostState {
    fn query(
        &mut self,
        sql: String,
        params: Vec<Option<String>>,
    ) -> Result<database::Rows, database::DbError> {
        let granted = &self.plugin.granted;
        let mode = if granted.contains(&Grant::DbWrite) {
            Mode::Write
        } else if granted.contains(&Grant::DbRead) {
            Mode::ReadOnly
        } else {
            return Err(self.not_granted(Grant::DbRead, "query"));
        };
        match self.send(DbRequest::Query { sql, params, mode })? {
            DbReply::Rows(rows) => Ok(database::Rows {
                columns: rows.columns,
                values: rows.values,
            }),
            DbReply::Count(_) => Ok(database::Rows {
                columns: Vec::new(),
                values: Vec::new(),
            }),
        }
    }

    fn execute(
        &mut self,
        sql: String,
        params: Vec<Option<String>>,
    ) -> Result<u64, database::DbError> {
        if !self.plugin.granted.contains(&Grant::DbWrite) {
            return Err(self.not_granted(Grant::DbWrite, "execute"));
        }
        match self.send(DbRequest::Execute { sql, params })? {
            DbReply::Count(n) => Ok(n),
            DbReply::Rows(rows) => Ok(rows.values.len() as u64),
        }
    }
}
