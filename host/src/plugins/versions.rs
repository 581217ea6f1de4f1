//! Every contract version the host speaks, with one set of types: the bindings are generated
//! from the current contract (`wit/`), and a component built against an older supported
//! version (`wit/v<version>/`) is served through the same code.
//!
//! That works because a newer minor version may only *add* to the contract (the policy in
//! `wit/README.md`), and the component model checks records, enums and functions by their
//! structure, not by the interface that named them:
//!
//! - imports: [`add_older_imports`] links each older version's `host` and `database` instances
//!   to the current [`host::Host`] / [`database::Host`] implementations, function by function;
//! - exports: [`Exports`] finds `describe`, `anonymize`, `handle` and `check` under the version
//!   the component was built against, and calls them with the current types.

use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Linker, Lower, TypedFunc,
};
use wasmtime::{AsContextMut, Store};

use super::bindings::{database, host};
use super::component::{CONTRACT_PACKAGE, CONTRACT_VERSION, Kind};
use super::sandbox::HostState;

/// Contract versions a component may be built against, newest first. A version leaves this
/// list only in a major release of Confiture (`wit/README.md`).
pub const SUPPORTED_VERSIONS: &[&str] = &[CONTRACT_VERSION, "0.1.0"];

/// Links the imports of every supported version older than the current one (whose imports
/// `bindgen!` links) to the host's implementations of the current ones.
pub(crate) fn add_older_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    for version in SUPPORTED_VERSIONS
        .iter()
        .filter(|v| **v != CONTRACT_VERSION)
    {
        // `types` holds only types; the instance must exist for the import to resolve.
        linker.instance(&format!("{CONTRACT_PACKAGE}/types@{version}"))?;

        let mut host_instance = linker.instance(&format!("{CONTRACT_PACKAGE}/host@{version}"))?;
        host_instance.func_wrap(
            "log",
            |mut store, (level, message): (host::LogLevel, String)| {
                host::Host::log(store.data_mut(), level, message);
                Ok(())
            },
        )?;
        host_instance.func_wrap("config", |mut store, (key,): (String,)| {
            Ok((host::Host::config(store.data_mut(), key),))
        })?;
        host_instance.func_wrap("keyed-hash", |mut store, (data,): (Vec<u8>,)| {
            Ok((host::Host::keyed_hash(store.data_mut(), data),))
        })?;

        let mut db = linker.instance(&format!("{CONTRACT_PACKAGE}/database@{version}"))?;
        db.func_wrap(
            "query",
            |mut store, (sql, params): (String, Vec<Option<String>>)| {
                Ok((database::Host::query(store.data_mut(), sql, params),))
            },
        )?;
        db.func_wrap(
            "execute",
            |mut store, (sql, params): (String, Vec<Option<String>>)| {
                Ok((database::Host::execute(store.data_mut(), sql, params),))
            },
        )?;
    }
    Ok(())
}

/// One exported function, found once per plugin and typed at each instance.
#[derive(Debug, Clone)]
pub struct ExportFunc {
    index: ComponentExportIndex,
    name: String,
}

impl ExportFunc {
    /// `interface.func` of the contract `version`, e.g. `confiture:plugin/strategy@0.1.0`
    /// `anonymize`.
    fn find(
        pre: &InstancePre<HostState>,
        version: &str,
        interface: &str,
        func: &str,
    ) -> Result<Self, String> {
        let instance_name = format!("{CONTRACT_PACKAGE}/{interface}@{version}");
        let component = pre.component();
        let (_, instance) = component
            .get_export(None, &instance_name)
            .ok_or_else(|| format!("no export `{instance_name}`"))?;
        let (_, index) = component
            .get_export(Some(&instance), func)
            .ok_or_else(|| format!("`{instance_name}` exports no function `{func}`"))?;
        Ok(ExportFunc {
            index,
            name: format!("{instance_name}#{func}"),
        })
    }

    /// The function in `instance`, checked against the host's types.
    pub(crate) fn typed<P, R>(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<TypedFunc<P, R>>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        instance
            .get_typed_func::<P, R>(store.as_context_mut(), self.index)
            .map_err(|e| e.context(format!("{} does not match the contract", self.name)))
    }
}

/// The contract functions a component exports, found under the version it was built against.
#[derive(Debug, Clone)]
pub struct Exports {
    /// `metadata.describe`.
    pub describe: ExportFunc,
    /// `hooks.handle`, when it provides hooks.
    pub handle: Option<ExportFunc>,
    /// `strategy.anonymize`, when it provides strategies.
    pub anonymize: Option<ExportFunc>,
    /// `lint.check`, when it provides lint rules.
    pub check: Option<ExportFunc>,
}

impl Exports {
    /// Finds every export of `kinds` under `version`; each is checked against the host's
    /// types on a throwaway typing of the component before anything runs.
    pub(crate) fn find(
        pre: &InstancePre<HostState>,
        version: &str,
        kinds: &[Kind],
    ) -> Result<Self, (Option<Kind>, String)> {
        let of = |kind: Kind, func: &str| -> Result<Option<ExportFunc>, (Option<Kind>, String)> {
            if !kinds.contains(&kind) {
                return Ok(None);
            }
            ExportFunc::find(pre, version, kind.interface(), func)
                .map(Some)
                .map_err(|e| (Some(kind), e))
        };
        Ok(Exports {
            describe: ExportFunc::find(pre, version, "metadata", "describe")
                .map_err(|e| (None, e))?,
            handle: of(Kind::Hook, "handle")?,
            anonymize: of(Kind::Strategy, "anonymize")?,
            check: of(Kind::Lint, "check")?,
        })
    }
}
