//! The sandbox every plugin call runs in: a WASI context that grants nothing, a memory cap, and
//! the per-store state the host imports read (the plugin's name, config, grants and log).

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::database::DbProxy;
use super::keyed_hash::KeyedHasher;
use super::log::{CallBudget, LogLevel, LogSource, PluginLog};
use crate::project::settings::plugins::Grant;

/// Bytes in a MiB.
const MIB: usize = 1024 * 1024;
/// Longest line kept from a plugin's stdout/stderr before it is cut and logged anyway.
const MAX_LINE: usize = 64 * 1024;
/// How much of a plugin's last stderr output is kept to explain a trap (a Rust panic message).
const STDERR_TAIL: usize = 2 * 1024;

/// What the host imports know about the plugin a store runs: fixed for the plugin's lifetime.
#[derive(Debug)]
pub(crate) struct PluginContext {
    /// The plugin's name (its file name until `describe` has told the real one).
    pub name: String,
    /// Its `config:` values from the environment file.
    pub config: BTreeMap<String, String>,
    /// Capabilities it asked for and was granted.
    pub granted: Vec<Grant>,
    /// The host log.
    pub log: PluginLog,
    /// What its `keyed-hash` import computes with.
    pub key: PluginKey,
}

/// What a plugin's `keyed-hash` computes with.
#[derive(Debug, Clone)]
pub(crate) enum PluginKey {
    /// Its own key, derived from the deployment secret and its name
    /// ([`KeyedHasher::for_plugin`]).
    Derived(KeyedHasher),
    /// No deployment secret is configured.
    NoSecret,
    /// The plugin has not told its name yet: it is describing itself.
    Unnamed,
}

impl PluginKey {
    /// The key of plugin `name` under the deployment secret `secret`, if there is one.
    pub fn of(secret: Option<&KeyedHasher>, name: &str) -> Self {
        match secret {
            Some(secret) => PluginKey::Derived(secret.for_plugin(name)),
            None => PluginKey::NoSecret,
        }
    }
}

impl PluginContext {
    /// The plugin's keyed hash of `data`: HMAC-SHA-256 under its own key, never under the
    /// deployment secret itself (see [`super::keyed_hash`]). Every import that hashes with the
    /// secret on a plugin's behalf goes through here.
    pub fn keyed_hash(&self, data: &[u8]) -> Result<[u8; 32], String> {
        match &self.key {
            PluginKey::Derived(key) => Ok(key.hash(data)),
            PluginKey::NoSecret => Err(format!(
                "plugin {}: keyed-hash needs the deployment secret, and {} is not set \
                 (export it before running Confiture)",
                self.name,
                super::keyed_hash::SECRET_VAR
            )),
            PluginKey::Unnamed => Err(format!(
                "plugin {}: keyed-hash is not available while the plugin describes itself",
                self.name
            )),
        }
    }
}

/// Per-store state: WASI, limits, the plugin context and, during a hook call, the database.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: MemoryLimiter,
    pub plugin: Arc<PluginContext>,
    pub db: Option<DbProxy>,
    /// What the current call may still log.
    budget: Arc<CallBudget>,
    stdout: LogPipe,
    stderr: LogPipe,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostState {
    /// A state granting nothing: no preopened directories, environment variables, arguments,
    /// stdin or sockets; stdout and stderr go to the host log.
    pub fn new(plugin: Arc<PluginContext>, memory_mb: u64) -> Self {
        let budget = Arc::new(CallBudget::default());
        let stdout = LogPipe::new(&plugin, &budget, LogSource::Stdout);
        let stderr = LogPipe::new(&plugin, &budget, LogSource::Stderr);
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }));
        HostState {
            wasi: builder.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_mb),
            plugin,
            db: None,
            budget,
            stdout,
            stderr,
        }
    }

    /// Logs a line through the `log` import, within the call's budget.
    pub fn log(&self, level: LogLevel, message: &str) {
        self.plugin.log.emit_within(
            &self.budget,
            &self.plugin.name,
            level,
            LogSource::Log,
            message,
        );
    }

    /// Ends a call's output (called after every call): logs what is left of an unfinished
    /// stdout/stderr line, says how many lines the call's budget dropped, and renews it.
    pub fn flush_output(&self) {
        self.stdout.flush_partial();
        self.stderr.flush_partial();
        self.plugin.log.close_call(&self.budget, &self.plugin.name);
    }

    /// The end of what the plugin wrote on stderr lately (a panic message, typically).
    pub fn stderr_tail(&self) -> String {
        self.stderr.tail()
    }

    /// Writes to the plugin's stderr as the plugin would (for tests of what follows a trap).
    #[cfg(test)]
    pub(crate) fn write_stderr(&self, bytes: &[u8]) {
        self.stderr.write(bytes);
    }
}

/// A store for one plugin with its memory cap installed and epoch interruption armed.
pub(crate) fn new_store(
    engine: &wasmtime::Engine,
    plugin: Arc<PluginContext>,
    memory_mb: u64,
) -> Store<HostState> {
    let mut store = Store::new(engine, HostState::new(plugin, memory_mb));
    store.limiter(|state| &mut state.limiter);
    store.epoch_deadline_trap();
    store
}

/// What one table element costs the host, in bytes (a pointer), for the memory cap.
pub(crate) const TABLE_ELEMENT_BYTES: usize = 8;
/// Most core instances a store may create (a component instantiates a few).
const MAX_INSTANCES: usize = 1_000;
/// Most tables a store may create.
const MAX_TABLES: usize = 1_000;
/// Most linear memories a store may create.
const MAX_MEMORIES: usize = 100;

/// Caps everything a store can allocate — linear memories and tables (each element counted as
/// [`TABLE_ELEMENT_BYTES`]) against one budget, instances, tables and memories by count — and
/// remembers when a plugin hit the cap.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    cap: usize,
    used: usize,
    /// The size a refused growth asked for, once the cap was hit.
    pub exceeded: Option<usize>,
}

impl MemoryLimiter {
    fn new(memory_mb: u64) -> Self {
        MemoryLimiter {
            cap: usize::try_from(memory_mb).unwrap_or(usize::MAX / MIB) * MIB,
            used: 0,
            exceeded: None,
        }
    }

    /// The cap in MiB.
    pub fn cap_mb(&self) -> usize {
        self.cap / MIB
    }

    /// Memory in use (linear memories and tables), in bytes.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Accounts a growth from `current` to `desired` bytes of one memory or table.
    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let total = (self.used - current.min(self.used)).saturating_add(desired);
        if total > self.cap {
            self.exceeded = Some(total);
            wasmtime::bail!(
                "memory limit of {} MiB exceeded (asked for {} MiB)",
                self.cap / MIB,
                total.div_ceil(MIB)
            );
        }
        self.used = total;
        Ok(true)
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(current, desired)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(
            current.saturating_mul(TABLE_ELEMENT_BYTES),
            desired.saturating_mul(TABLE_ELEMENT_BYTES),
        )
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// A plugin's stdout or stderr: complete lines go to the host log with the plugin's name.
#[derive(Clone)]
struct LogPipe {
    inner: Arc<Mutex<PipeState>>,
}

struct PipeState {
    plugin: Arc<PluginContext>,
    budget: Arc<CallBudget>,
    source: LogSource,
    partial: Vec<u8>,
    tail: String,
}

impl LogPipe {
    fn new(plugin: &Arc<PluginContext>, budget: &Arc<CallBudget>, source: LogSource) -> Self {
        LogPipe {
            inner: Arc::new(Mutex::new(PipeState {
                plugin: plugin.clone(),
                budget: budget.clone(),
                source,
                partial: Vec::new(),
                tail: String::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PipeState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self, bytes: &[u8]) {
        let mut state = self.lock();
        state.partial.extend_from_slice(bytes);
        while let Some(end) = state.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = state.partial.drain(..=end).collect();
            state.emit(&line[..end]);
        }
        if state.partial.len() > MAX_LINE {
            let line = std::mem::take(&mut state.partial);
            state.emit(&line);
        }
    }

    fn flush_partial(&self) {
        let mut state = self.lock();
        if !state.partial.is_empty() {
            let line = std::mem::take(&mut state.partial);
            state.emit(&line);
        }
    }

    fn tail(&self) -> String {
        self.lock().tail.trim().to_string()
    }
}

impl PipeState {
    fn emit(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            return;
        }
        let level = match self.source {
            LogSource::Stderr => LogLevel::Warn,
            _ => LogLevel::Info,
        };
        if self.source == LogSource::Stderr {
            self.tail.push_str(text);
            self.tail.push('\n');
            if self.tail.len() > STDERR_TAIL {
                let mut cut = self.tail.len() - STDERR_TAIL;
                while !self.tail.is_char_boundary(cut) {
                    cut += 1;
                }
                self.tail.drain(..cut);
            }
        }
        self.plugin
            .log
            .emit_within(&self.budget, &self.plugin.name, level, self.source, text);
    }
}

impl IsTerminal for LogPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogPipe {
    async fn ready(&mut self) {}
}

impl OutputStream for LogPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        LogPipe::write(self, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_LINE)
    }
}

impl tokio::io::AsyncWrite for LogPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        LogPipe::write(&self, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use tokio::io::AsyncWriteExt;
    use wasmtime::{Instance, Module, ResourceLimiter};

    use super::*;
    use crate::plugins::engine::new_engine;
    use crate::plugins::log::LogRecord;
    use crate::plugins::wasm_fixtures::{FOUR_MIB_MEMORY, ONE_MEMORY, ONE_TABLE, SPIN};

    /// The context of a plugin named `p`.
    pub(crate) fn context(log: PluginLog, key: PluginKey) -> Arc<PluginContext> {
        Arc::new(PluginContext {
            name: "p".into(),
            config: BTreeMap::new(),
            granted: Vec::new(),
            log,
            key,
        })
    }

    /// A log that keeps every line, and the lines.
    fn recording() -> (PluginLog, Arc<Mutex<Vec<LogRecord>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let log = PluginLog::to(LogLevel::Trace, move |r| {
            sink.lock().unwrap().push(r.clone())
        });
        (log, lines)
    }

    fn logged(lines: &Mutex<Vec<LogRecord>>) -> Vec<(LogLevel, LogSource, String)> {
        let lines = lines.lock().unwrap();
        assert!(lines.iter().all(|r| r.plugin == "p"), "{lines:?}");
        lines
            .iter()
            .map(|r| (r.level, r.source, r.message.clone()))
            .collect()
    }

    #[test]
    fn output_is_logged_line_by_line_under_the_plugins_name() {
        let (log, lines) = recording();
        let state = HostState::new(context(log, PluginKey::NoSecret), 16);
        assert!(!state.stdout.is_terminal(), "a plugin's output is a log");
        let mut stdout = state.stdout.p2_stream();
        assert!(stdout.check_write().unwrap() >= 4096, "room for a line");
        stdout.write(Bytes::from_static(b"one\ntw")).unwrap();
        stdout.write(Bytes::from_static(b"o\r\n\n  \nthr")).unwrap();
        stdout.flush().unwrap();
        state
            .stderr
            .p2_stream()
            .write(Bytes::from_static(b"careful\n"))
            .unwrap();
        state.log(LogLevel::Debug, "from the log import");
        let (info, warn) = (LogLevel::Info, LogLevel::Warn);
        let line = |level, source, text: &str| (level, source, text.to_string());
        assert_eq!(
            logged(&lines),
            [
                line(info, LogSource::Stdout, "one"),
                line(info, LogSource::Stdout, "two"),
                line(warn, LogSource::Stderr, "careful"),
                line(LogLevel::Debug, LogSource::Log, "from the log import"),
            ]
        );
        // What is left of an unfinished line is logged when the call ends.
        state.flush_output();
        assert_eq!(
            logged(&lines).last(),
            Some(&line(info, LogSource::Stdout, "thr"))
        );
        state.flush_output();
        assert_eq!(logged(&lines).len(), 5, "a flushed line is logged once");
    }

    #[test]
    fn the_async_stream_logs_the_same_lines() {
        let (log, lines) = recording();
        let state = HostState::new(context(log, PluginKey::NoSecret), 16);
        let mut stdout = Pin::from(state.stdout.async_stream());
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                stdout.write_all(b"async line\n").await.unwrap();
                stdout.flush().await.unwrap();
                stdout.shutdown().await.unwrap();
            });
        assert_eq!(
            logged(&lines),
            [(LogLevel::Info, LogSource::Stdout, "async line".to_string())]
        );
    }

    #[test]
    fn a_line_past_the_longest_kept_is_logged_without_waiting_for_its_end() {
        let (log, lines) = recording();
        let state = HostState::new(context(log, PluginKey::NoSecret), 16);
        state.stdout.write(&vec![b'x'; MAX_LINE]);
        assert!(
            logged(&lines).is_empty(),
            "a line as long as the limit waits"
        );
        state.stdout.write(b"y");
        let got = logged(&lines);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].2.len(), MAX_LINE + 1);
    }

    #[test]
    fn the_stderr_tail_keeps_the_last_whole_characters_of_stderr_only() {
        let (log, _lines) = recording();
        let state = HostState::new(context(log, PluginKey::NoSecret), 16);
        state.stdout.write(b"stdout is not part of it\n");
        state.write_stderr(b"first\n");
        assert_eq!(state.stderr_tail(), "first");
        // 4,001 bytes of two-byte letters: the cut at 4,001 - 2,048 = 1,953 falls inside
        // one, and moves forward to the next whole letter. On a thread of its own, waited on
        // for at most 10 s: a cut that never finds a whole letter fails instead of hanging.
        let (sent, tail) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            state.write_stderr(format!("{}\n", "é".repeat(2_000)).as_bytes());
            let _ = sent.send(state.stderr_tail());
        });
        let tail = tail
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the tail is cut within 10 s");
        assert_eq!(tail, "é".repeat(1_023));
    }

    #[test]
    fn a_plugin_hashes_under_its_own_key_and_only_with_a_secret_and_a_name() {
        let secret = KeyedHasher::new(b"deployment secret").unwrap();
        let derived = context(PluginLog::off(), PluginKey::of(Some(&secret), "p"));
        let digest = derived.keyed_hash(b"value").unwrap();
        assert_eq!(digest, secret.for_plugin("p").hash(b"value"));
        assert_ne!(digest, secret.hash(b"value"), "never the secret itself");
        let error = context(PluginLog::off(), PluginKey::of(None, "p"))
            .keyed_hash(b"value")
            .unwrap_err();
        assert!(
            error.contains("plugin p") && error.contains(super::super::keyed_hash::SECRET_VAR),
            "{error}"
        );
        let error = context(PluginLog::off(), PluginKey::Unnamed)
            .keyed_hash(b"value")
            .unwrap_err();
        assert!(error.contains("describes itself"), "{error}");
    }

    /// Instantiates `module` in `store` until it fails; returns how many instances it made.
    fn instantiate_until_refused(store: &mut Store<HostState>, module: &[u8]) -> usize {
        let module = Module::new(store.engine(), module).unwrap();
        (0..10_000)
            .position(|_| Instance::new(&mut *store, &module, &[]).is_err())
            .expect("a store took 10,000 instances")
    }

    #[test]
    fn a_store_has_room_for_what_a_component_makes_and_no_more() {
        let engine = new_engine().unwrap();
        let store = || new_store(&engine, context(PluginLog::off(), PluginKey::NoSecret), 16);
        assert_eq!(instantiate_until_refused(&mut store(), SPIN), MAX_INSTANCES);
        assert_eq!(
            instantiate_until_refused(&mut store(), ONE_MEMORY),
            MAX_MEMORIES
        );
        assert!(instantiate_until_refused(&mut store(), ONE_TABLE) > 1);
    }

    #[test]
    fn a_store_refuses_a_memory_past_its_cap_and_remembers_it() {
        let engine = new_engine().unwrap();
        let mut store = new_store(&engine, context(PluginLog::off(), PluginKey::NoSecret), 2);
        let module = Module::new(&engine, FOUR_MIB_MEMORY).unwrap();
        assert!(Instance::new(&mut store, &module, &[]).is_err());
        assert_eq!(store.data().limiter.exceeded, Some(4 * MIB));
        let mut roomy = new_store(&engine, context(PluginLog::off(), PluginKey::NoSecret), 4);
        Instance::new(&mut roomy, &module, &[]).unwrap();
        assert_eq!(roomy.data().limiter.used(), 4 * MIB);
    }

    #[test]
    fn growth_up_to_the_cap_is_allowed_and_past_it_refused() {
        let mut limiter = MemoryLimiter::new(2);
        assert_eq!(limiter.cap_mb(), 2);
        assert!(limiter.memory_growing(0, MIB, None).unwrap());
        assert!(limiter.memory_growing(MIB, 2 * MIB, None).unwrap());
        assert_eq!(limiter.used(), 2 * MIB, "exactly the cap is allowed");
        assert_eq!(limiter.exceeded, None);

        let err = limiter
            .memory_growing(2 * MIB, 2 * MIB + 1, None)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "memory limit of 2 MiB exceeded (asked for 3 MiB)"
        );
        assert_eq!(limiter.exceeded, Some(2 * MIB + 1));
        assert_eq!(
            limiter.used(),
            2 * MIB,
            "a refused growth allocates nothing"
        );
    }

    #[test]
    fn memories_and_tables_share_one_budget() {
        let mut limiter = MemoryLimiter::new(1);
        assert!(limiter.memory_growing(0, MIB / 2, None).unwrap());
        // A second memory counts with the first.
        assert!(limiter.memory_growing(0, MIB / 4, None).unwrap());
        assert_eq!(limiter.used(), 3 * MIB / 4);
        // A table's elements cost TABLE_ELEMENT_BYTES each.
        let elements = MIB / 4 / TABLE_ELEMENT_BYTES;
        assert!(limiter.table_growing(0, elements, None).unwrap());
        assert_eq!(limiter.used(), MIB);
        assert!(limiter.table_growing(elements, elements + 1, None).is_err());
        assert!(limiter.memory_growing(0, 1, None).is_err());
        assert_eq!(limiter.used(), MIB);
    }

    #[test]
    fn hostile_sizes_are_refused_without_overflow() {
        let mut limiter = MemoryLimiter::new(1);
        assert!(limiter.memory_growing(0, usize::MAX, None).is_err());
        assert!(limiter.table_growing(0, usize::MAX, None).is_err());
        assert_eq!(limiter.used(), 0);
    }
}
