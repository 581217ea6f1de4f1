//! `confiture-sdk`: write Confiture plugins — migration hooks, anonymization strategies and lint
//! rules — in Rust, as WebAssembly components (`wasm32-wasip2`).
//!
//! A plugin is a plain type implementing [`Plugin`] (its identity) and the trait of each kind it
//! provides — [`Hook`], [`Strategy`], [`Lint`] — exported by one macro call naming the kinds:
//!
//! ```ignore
//! use confiture_sdk::{Plugin, Strategy, StrategyInfo, Batch, TextBatch, TextBatchBuilder, Result};
//!
//! #[derive(Default)]
//! struct Upper;
//!
//! impl Plugin for Upper {
//!     const NAME: &'static str = "upper";
//!     const VERSION: &'static str = env!("CARGO_PKG_VERSION");
//!     const DESCRIPTION: &'static str = "Upper-cases text";
//! }
//!
//! impl Strategy for Upper {
//!     const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
//!         name: "upper", description: "Upper-cases text", context_columns: &[],
//!         accepted_types: &["text"], deterministic: true,
//!     }];
//!     fn anonymize(&self, batch: &Batch<'_>) -> Result<TextBatch> {
//!         let mut out = TextBatchBuilder::with_capacity(batch.values.len(), 0);
//!         for value in batch.values.iter() {
//!             out.push(value.map(str::to_uppercase).as_deref());
//!         }
//!         Ok(out.finish())
//!     }
//! }
//!
//! confiture_sdk::export_plugin!(Upper: strategy);
//! ```
//!
//! The host functions — [`config`], [`log()`], [`keyed_hash`], [`keyed_hash_batch`] and, for
//! hooks, the [`Database`] — call the host inside the component and read the doubles of
//! [`testing`] when compiled natively, so `cargo test` exercises a plugin's logic without WASM.
//! The guide is `docs/plugins/authoring-rust.md`.

extern crate self as confiture_sdk;

mod batch;
#[doc(hidden)]
pub mod bindings;
mod db;
mod error;
mod hook;
mod host;
pub mod lint;
mod meta;
pub mod strategy;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

#[doc(hidden)]
#[path = "export.rs"]
pub mod __private;

pub use batch::{TextBatch, TextBatchBuilder, TextBatchView, ValueWriter};
pub use db::{Database, DbError, Param, Rows, param};
pub use error::{Error, Result};
pub use hook::{Direction, Hook, HookContext, Migration};
pub use host::{Level, config, config_or, keyed_hash, keyed_hash_batch, log};
pub use lint::{Lint, LintContext, Violation};
pub use meta::{Capability, HookEvent, Plugin, PluginInfo, RuleInfo, Severity, StrategyInfo};
pub use strategy::{Batch, Strategy};

/// Exports `$ty` as a plugin providing the listed kinds — any non-empty set of `hook`,
/// `strategy` and `lint`, in any order:
///
/// ```ignore
/// confiture_sdk::export_plugin!(MyHook: hook);
/// confiture_sdk::export_plugin!(MyPlugin: hook, strategy, lint); // the full-plugin world
/// ```
///
/// `$ty` implements [`Plugin`], [`Default`] (one value is made per instance, on first use) and
/// the trait of each kind listed. The component exports `metadata` and those kinds' interfaces:
/// the contract's `hook-plugin`, `strategy-plugin`, `lint-plugin` or `full-plugin` world, or for
/// two kinds a world made of those two. Call it once per crate.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ty : $($kind:ident),+ $(,)?) => {
        $crate::__export_plugin!(@parse $ty; [no no no]; $($kind),+);
    };
}

/// The machinery behind [`export_plugin!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __export_plugin {
    // Collect the kinds into flags: [hook strategy lint].
    (@parse $ty:ty; [no $s:ident $l:ident]; hook $(, $rest:ident)*) => {
        $crate::__export_plugin!(@parse $ty; [yes $s $l]; $($rest),*);
    };
    (@parse $ty:ty; [$h:ident no $l:ident]; strategy $(, $rest:ident)*) => {
        $crate::__export_plugin!(@parse $ty; [$h yes $l]; $($rest),*);
    };
    (@parse $ty:ty; [$h:ident $s:ident no]; lint $(, $rest:ident)*) => {
        $crate::__export_plugin!(@parse $ty; [$h $s yes]; $($rest),*);
    };
    (@parse $ty:ty; [$h:ident $s:ident $l:ident]; $kind:ident $(, $rest:ident)*) => {
        ::core::compile_error!(::core::concat!(
            "export_plugin!: `", ::core::stringify!($kind),
            "` is not a plugin kind, or is listed twice (kinds: hook, strategy, lint)"
        ));
    };
    (@parse $ty:ty; [$h:ident $s:ident $l:ident];) => {
        const _: () = {
            struct __ConfiturePlugin;

            ::std::thread_local! {
                static __CONFITURE_INSTANCE: $ty = <$ty as ::core::default::Default>::default();
            }

            impl $crate::__private::bindings::exports::confiture::plugin::metadata::Guest
                for __ConfiturePlugin
            {
                fn describe() -> $crate::__private::bindings::exports::confiture::plugin::metadata::PluginInfo {
                    #[allow(unused_mut)]
                    let mut info = $crate::PluginInfo::of::<$ty>();
                    $crate::__export_plugin!(@describe $h hook info $ty);
                    $crate::__export_plugin!(@describe $s strategy info $ty);
                    $crate::__export_plugin!(@describe $l lint info $ty);
                    $crate::__private::describe(&info)
                }
            }
            $crate::__private::bindings::exports::confiture::plugin::metadata::__export_confiture_plugin_metadata_0_2_0_cabi!(
                __ConfiturePlugin with_types_in $crate::__private::bindings::exports::confiture::plugin::metadata
            );
            $crate::__export_plugin!(@kind $h hook $ty);
            $crate::__export_plugin!(@kind $s strategy $ty);
            $crate::__export_plugin!(@kind $l lint $ty);
            $crate::__export_plugin!(@world [$h $s $l]);
        };
    };

    (@describe no $kind:ident $info:ident $ty:ty) => {};
    (@describe yes hook $info:ident $ty:ty) => {
        $info.hooks = <$ty as $crate::Hook>::EVENTS;
    };
    (@describe yes strategy $info:ident $ty:ty) => {
        $info.strategies = <$ty as $crate::Strategy>::STRATEGIES;
    };
    (@describe yes lint $info:ident $ty:ty) => {
        $info.rules = <$ty as $crate::Lint>::RULES;
    };

    (@kind no $kind:ident $ty:ty) => {};
    (@kind yes hook $ty:ty) => {
        impl $crate::__private::bindings::exports::confiture::plugin::hooks::Guest
            for __ConfiturePlugin
        {
            fn handle(
                context: $crate::__private::bindings::exports::confiture::plugin::hooks::HookContext,
            ) -> ::core::result::Result<(), ::std::string::String> {
                __CONFITURE_INSTANCE.with(|plugin| $crate::__private::handle(plugin, context))
            }
        }
        $crate::__private::bindings::exports::confiture::plugin::hooks::__export_confiture_plugin_hooks_0_2_0_cabi!(
            __ConfiturePlugin with_types_in $crate::__private::bindings::exports::confiture::plugin::hooks
        );
    };
    (@kind yes strategy $ty:ty) => {
        impl $crate::__private::bindings::exports::confiture::plugin::strategy::Guest
            for __ConfiturePlugin
        {
            fn anonymize(
                batch: $crate::__private::bindings::exports::confiture::plugin::strategy::Batch,
            ) -> ::core::result::Result<
                $crate::__private::bindings::exports::confiture::plugin::strategy::TextBatch,
                ::std::string::String,
            > {
                __CONFITURE_INSTANCE.with(|plugin| $crate::__private::anonymize(plugin, batch))
            }
        }
        $crate::__private::bindings::exports::confiture::plugin::strategy::__export_confiture_plugin_strategy_0_2_0_cabi!(
            __ConfiturePlugin with_types_in $crate::__private::bindings::exports::confiture::plugin::strategy
        );
    };
    (@kind yes lint $ty:ty) => {
        impl $crate::__private::bindings::exports::confiture::plugin::lint::Guest
            for __ConfiturePlugin
        {
            fn check(
                context: $crate::__private::bindings::exports::confiture::plugin::lint::LintContext,
            ) -> ::std::vec::Vec<$crate::__private::bindings::exports::confiture::plugin::lint::Violation> {
                __CONFITURE_INSTANCE.with(|plugin| $crate::__private::check(plugin, context))
            }
        }
        $crate::__private::bindings::exports::confiture::plugin::lint::__export_confiture_plugin_lint_0_2_0_cabi!(
            __ConfiturePlugin with_types_in $crate::__private::bindings::exports::confiture::plugin::lint
        );
    };

    // The component type naming the exported interfaces, one custom section per combination.
    (@world [yes no no]) => {
        $crate::__export_plugin!(@section "component-type:confiture-sdk:hook-plugin" HOOK);
    };
    (@world [no yes no]) => {
        $crate::__export_plugin!(@section "component-type:confiture-sdk:strategy-plugin" STRATEGY);
    };
    (@world [no no yes]) => {
        $crate::__export_plugin!(@section "component-type:confiture-sdk:lint-plugin" LINT);
    };
    (@world [yes yes no]) => {
        $crate::__export_plugin!(@section "component-type:confiture-sdk:hook-strategy-plugin" HOOK_STRATEGY);
    };
    (@world [yes no yes]) => {
        $crate::__export_plugin!(@section "component-type:confiture-sdk:hook-lint-plugin" HOOK_LINT);
    };
    (@world [no yes yes]) => {
        $crate::__export_plugin!(@section "component-type:confiture-sdk:strategy-lint-plugin" STRATEGY_LINT);
    };
    (@world [yes yes yes]) => {
        $crate::__export_plugin!(@section "component-type:confiture-sdk:full-plugin" FULL);
    };
    (@section $name:literal $constant:ident) => {
        #[cfg(target_arch = "wasm32")]
        #[unsafe(link_section = $name)]
        #[used]
        static __CONFITURE_COMPONENT_TYPE: [u8; $crate::__private::worlds::$constant.len()] =
            $crate::__private::worlds::$constant;
    };
}
