//! Test doubles for native unit tests (everything but `wasm32`): the host functions —
//! [`crate::config`], [`crate::keyed_hash`], [`crate::log`] and the hook's [`crate::Database`] —
//! read what a test set up here instead of calling a host. The state is per thread, and
//! `cargo test` runs each test on its own thread, so tests do not see each other's set-up.
//!
//! ```
//! use confiture_sdk::testing;
//! testing::set_config("table", "accounts");
//! testing::set_secret(b"test secret");
//! assert_eq!(confiture_sdk::config("table").as_deref(), Some("accounts"));
//! assert!(confiture_sdk::keyed_hash(b"x").is_ok());
//! ```

use std::cell::RefCell;
use std::collections::HashMap;

use crate::db::{DbError, Param, Rows};
use crate::strategy::Column;
use crate::{Batch, Database, Level, Strategy, TextBatch, TextBatchView};

type QueryHandler = Box<dyn FnMut(&str, &[Param]) -> Result<Rows, DbError>>;
type ExecuteHandler = Box<dyn FnMut(&str, &[Param]) -> Result<u64, DbError>>;

#[derive(Default)]
struct State {
    config: HashMap<String, String>,
    secret: Option<Vec<u8>>,
    logs: Vec<(Level, String)>,
    calls: Vec<(String, Vec<Param>)>,
    on_query: Option<QueryHandler>,
    on_execute: Option<ExecuteHandler>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|state| f(&mut state.borrow_mut()))
}

/// Forgets everything set up on this thread.
pub fn reset() {
    with_state(|state| *state = State::default());
}

/// Sets the plugin's config value `key` (what the environment file's `config:` would give).
pub fn set_config(key: &str, value: &str) {
    with_state(|state| state.config.insert(key.to_string(), value.to_string()));
}

/// Sets the deployment secret the keyed hash uses (HMAC-SHA-256, as the host computes it).
/// Without it, [`crate::keyed_hash`] fails as it does when no secret is configured.
pub fn set_secret(secret: &[u8]) {
    with_state(|state| state.secret = Some(secret.to_vec()));
}

/// Makes every query return `rows`.
pub fn with_rows(rows: Rows) {
    on_query(move |_, _| Ok(rows.clone()));
}

/// Answers queries with `handler(sql, params)`.
pub fn on_query(handler: impl FnMut(&str, &[Param]) -> Result<Rows, DbError> + 'static) {
    with_state(|state| state.on_query = Some(Box::new(handler)));
}

/// Answers statements with `handler(sql, params)` (the number of rows affected).
pub fn on_execute(handler: impl FnMut(&str, &[Param]) -> Result<u64, DbError> + 'static) {
    with_state(|state| state.on_execute = Some(Box::new(handler)));
}

/// The database handle a hook receives, answering through [`with_rows`], [`on_query`] and
/// [`on_execute`]: `MyHook.handle(&context, &testing::database())`.
pub fn database() -> Database {
    Database::new()
}

/// The lines logged so far on this thread.
pub fn logs() -> Vec<(Level, String)> {
    with_state(|state| state.logs.clone())
}

/// The queries and statements run so far on this thread, with their parameters.
pub fn db_calls() -> Vec<(String, Vec<Param>)> {
    with_state(|state| state.calls.clone())
}

/// Runs strategy `name` of `S` over `values` as the host would (one batch on a `text` column
/// `public.t.c`) and returns the output values, checking there are as many as given.
pub fn run_strategy<S: Strategy>(
    name: &str,
    values: &[Option<&str>],
) -> crate::Result<Vec<Option<String>>> {
    let input = TextBatch::from_values(values.iter().copied());
    let column = Column {
        schema: "public".to_string(),
        table: "t".to_string(),
        name: "c".to_string(),
        type_name: "text".to_string(),
    };
    let batch = Batch::new(name, &column, input.view()?);
    let output = S::default().anonymize(&batch)?;
    let view: TextBatchView<'_> = output.view()?;
    if view.len() != values.len() {
        return Err(crate::Error::new(format!(
            "strategy {name} returned {} values for {}",
            view.len(),
            values.len()
        )));
    }
    Ok(view.iter().map(|value| value.map(str::to_string)).collect())
}

/// HMAC-SHA-256 (RFC 2104) of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|k| k ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The natively compiled host functions, reading the state above.
pub(crate) mod double {
    use super::{Param, Rows, with_state};
    use crate::db::DbError;
    use crate::{Error, Level, Result};

    pub fn config(key: &str) -> Option<String> {
        with_state(|state| state.config.get(key).cloned())
    }

    pub fn keyed_hash(data: &[u8]) -> Result<Vec<u8>> {
        let secret = with_state(|state| state.secret.clone()).ok_or_else(|| {
            Error::new(
                "no anonymization secret is configured \
                 (in unit tests, call confiture_sdk::testing::set_secret first)",
            )
        })?;
        Ok(super::hmac_sha256(&secret, data).to_vec())
    }

    pub fn keyed_hash_batch(data: &[u8], offsets: &[u32]) -> Result<Vec<u8>> {
        let mut digests = Vec::with_capacity(offsets.len().saturating_sub(1) * 32);
        for pair in offsets.windows(2) {
            digests.extend(keyed_hash(&data[pair[0] as usize..pair[1] as usize])?);
        }
        Ok(digests)
    }

    pub fn log(level: Level, message: &str) {
        eprintln!("[{level:?}] {message}");
        with_state(|state| state.logs.push((level, message.to_string())));
    }

    fn record(sql: &str, params: &[Param]) {
        with_state(|state| state.calls.push((sql.to_string(), params.to_vec())));
    }

    fn not_set_up(what: &str, function: &str) -> DbError {
        DbError {
            code: "host".to_string(),
            message: format!(
                "no {what} answer set up for this test \
                 (call confiture_sdk::testing::{function} first)"
            ),
        }
    }

    pub fn query(sql: &str, params: &[Param]) -> Result<Rows, DbError> {
        record(sql, params);
        // Taken out while it runs, so the handler may itself use the test state.
        let mut handler = with_state(|state| state.on_query.take())
            .ok_or_else(|| not_set_up("query", "with_rows or on_query"))?;
        let result = handler(sql, params);
        with_state(|state| {
            state.on_query.get_or_insert(handler);
        });
        result
    }

    pub fn execute(sql: &str, params: &[Param]) -> Result<u64, DbError> {
        record(sql, params);
        let mut handler = with_state(|state| state.on_execute.take())
            .ok_or_else(|| not_set_up("execute", "on_execute"))?;
        let result = handler(sql, params);
        with_state(|state| {
            state.on_execute.get_or_insert(handler);
        });
        result
    }
}
