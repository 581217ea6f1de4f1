//! Migration hooks: one fresh instance per call (hooks are rare and must not share state
//! between migrations), run on a blocking thread while the caller's task serves the plugin's
//! database calls through a [`HookSession`] (see [`super::database`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::bindings::hooks::HookContext;
use super::calls::{CallFailure, PluginCallError};
use super::component::Kind;
use super::database::{DbError, DbProxy, HookDatabase, HookSession, IntegrityBreach, SessionStop};
use super::engine::PluginEngine;
use super::plugin::Plugin;

pub use super::bindings::hooks::{Direction, Migration};
pub use crate::project::settings::hooks::HookEvent;

use super::bindings::types::HookEvent as WitHookEvent;

impl From<WitHookEvent> for HookEvent {
    fn from(event: WitHookEvent) -> Self {
        match event {
            WitHookEvent::PreValidate => HookEvent::PreValidate,
            WitHookEvent::PostValidate => HookEvent::PostValidate,
            WitHookEvent::PreExecute => HookEvent::PreExecute,
            WitHookEvent::PostExecute => HookEvent::PostExecute,
            WitHookEvent::PostRollback => HookEvent::PostRollback,
            WitHookEvent::OnError => HookEvent::OnError,
        }
    }
}

impl From<HookEvent> for WitHookEvent {
    fn from(event: HookEvent) -> Self {
        match event {
            HookEvent::PreValidate => WitHookEvent::PreValidate,
            HookEvent::PostValidate => WitHookEvent::PostValidate,
            HookEvent::PreExecute => WitHookEvent::PreExecute,
            HookEvent::PostExecute => WitHookEvent::PostExecute,
            HookEvent::PostRollback => WitHookEvent::PostRollback,
            HookEvent::OnError => WitHookEvent::OnError,
        }
    }
}

/// How a hook call is named in errors: `handle(pre-execute 20261125093000_add_index)`.
fn call_name(context: &HookContext) -> String {
    let event = HookEvent::from(context.event).name();
    match &context.migration {
        Some(m) => format!("handle({event} {}_{})", m.version, m.name),
        None => format!("handle({event})"),
    }
}

impl Plugin {
    /// True when the plugin declared it handles `event`.
    pub fn handles(&self, event: HookEvent) -> bool {
        self.info.hooks.iter().any(|e| e == event.name())
    }
}

/// A failed hook call: the plugin's failure (its policy decides), or a breach of the host's
/// integrity (the run fails whatever the policy).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookCallError {
    /// The plugin failed, timed out, or was refused database access.
    #[error(transparent)]
    Plugin(#[from] PluginCallError),
    /// After one of its database calls the host's transaction or session was not intact.
    #[error(transparent)]
    Integrity(#[from] IntegrityBreach),
}

/// Calls the plugin's hook with `context`. `db` is the database the hook may use (the
/// migration's transaction, typically); with `None` every database call fails with `host`.
///
/// A refused database call (a statement its grant does not allow, a role that cannot be used)
/// fails the call with [`CallFailure::Refused`], whatever the plugin made of the error.
///
/// Must be called inside a multi-threaded or current-thread tokio runtime; the plugin runs on
/// a blocking thread, so the caller's task keeps serving the database meanwhile.
pub async fn call_hook(
    plugin: &Arc<Plugin>,
    context: HookContext,
    db: Option<&mut dyn HookDatabase>,
) -> Result<(), HookCallError> {
    let call = call_name(&context);
    if !plugin.has(Kind::Hook) {
        return Err(plugin.lacks(Kind::Hook, &call).into());
    }
    let timeout_ms = plugin.timeout_ms(Kind::Hook);
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    let (proxy, mut requests) = DbProxy::channel();
    let proxy = db.is_some().then_some(proxy);
    let mut session = db.map(|db| HookSession::new(db, plugin.name(), plugin.db_role()));
    let worker_plugin = plugin.clone();
    let worker_call = call.clone();
    let mut task = tokio::task::spawn_blocking(move || {
        run_blocking(&worker_plugin, &worker_call, context, proxy, timeout_ms)
    });
    loop {
        tokio::select! {
            Some(request) = requests.recv() => {
                let answer = match session.as_mut() {
                    Some(session) => session.serve(request.request, deadline).await,
                    None => Err(DbError::host("no database for this call")),
                };
                let _ = request.reply.send(answer);
            }
            joined = &mut task => {
                let result = joined.unwrap_or_else(|e| Err(PluginCallError::new(
                    plugin.name(),
                    &call,
                    CallFailure::Host,
                    format!("failed: the host thread running it stopped ({e})"),
                )));
                return match session.as_ref().and_then(HookSession::stopped) {
                    Some(SessionStop::Breach(breach)) => Err(breach.into()),
                    Some(SessionStop::Refused(why)) => Err(PluginCallError::new(
                        plugin.name(),
                        &call,
                        CallFailure::Refused,
                        format!("was refused database access: {why}"),
                    )
                    .into()),
                    None => result.map_err(HookCallError::from),
                };
            }
        }
    }
}

fn run_blocking(
    plugin: &Plugin,
    call: &str,
    context: HookContext,
    proxy: Option<DbProxy>,
    timeout_ms: u64,
) -> Result<(), PluginCallError> {
    let (mut store, instance) = plugin.instantiate(call, timeout_ms)?;
    store.data_mut().db = proxy;
    let export = plugin
        .exports()
        .handle
        .as_ref()
        .expect("checked by call_hook");
    let func = export
        .typed::<(&HookContext,), (Result<(), String>,)>(&mut store, &instance)
        .map_err(|e| {
            PluginCallError::new(
                plugin.name(),
                call,
                CallFailure::Host,
                format!("cannot load the hooks export: {}", anyhow::Error::from(e)),
            )
        })?;
    store.set_epoch_deadline(PluginEngine::ticks(timeout_ms));
    let result = func.call(&mut store, (&context,)).map(|(out,)| out);
    store.data().flush_output();
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(PluginCallError::new(
            plugin.name(),
            call,
            CallFailure::Returned,
            format!("failed: {message}"),
        )),
        Err(err) => Err(PluginCallError::from_wasmtime(
            plugin.name(),
            call,
            err,
            store.data(),
            timeout_ms,
        )),
    }
}
