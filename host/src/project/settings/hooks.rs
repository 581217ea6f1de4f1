//! `hooks:`: metadata given to every hook, the firing order, and per hook plugin its events,
//! environments and failure policy.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::values::ConfigValue;
use super::yaml::{at_line, line_below, line_of_key};
use crate::error::Failure;
use crate::strings::is_plugin_name;

/// `hooks:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHooks {
    metadata: Option<BTreeMap<String, ConfigValue>>,
    order: Option<Vec<String>>,
    plugins: Option<BTreeMap<String, RawHook>>,
}

/// One entry of `hooks.plugins:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHook {
    events: Option<Vec<HookEvent>>,
    environments: Option<Vec<String>>,
    policy: Option<HookPolicy>,
}

/// A migration event hook plugins fire on: the one type the environment file, the hook runtime
/// and the output share. The WIT's `hook-event` is converted to and from it where a plugin is
/// called (`plugins::hooks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HookEvent {
    /// Once per run, before the checks that precede applying (plan, checksums, lock).
    PreValidate,
    /// Once per run, after those checks passed.
    PostValidate,
    /// Per migration, inside its transaction, before its SQL runs.
    PreExecute,
    /// Per migration, inside its transaction, after its SQL ran.
    PostExecute,
    /// After a migration was rolled back.
    PostRollback,
    /// When a migration fails.
    OnError,
}

impl HookEvent {
    /// Every event, in the order a run fires them.
    pub const ALL: [HookEvent; 6] = [
        HookEvent::PreValidate,
        HookEvent::PostValidate,
        HookEvent::PreExecute,
        HookEvent::PostExecute,
        HookEvent::PostRollback,
        HookEvent::OnError,
    ];

    /// The WIT spelling (`pre-execute`), as the environment file and the output write it.
    pub fn name(self) -> &'static str {
        match self {
            HookEvent::PreValidate => "pre-validate",
            HookEvent::PostValidate => "post-validate",
            HookEvent::PreExecute => "pre-execute",
            HookEvent::PostExecute => "post-execute",
            HookEvent::PostRollback => "post-rollback",
            HookEvent::OnError => "on-error",
        }
    }

    /// The event named `text`: its WIT spelling, or the same with `_` (`pre_execute`).
    pub fn from_name(text: &str) -> Option<Self> {
        let canonical = text.replace('_', "-");
        Self::ALL
            .into_iter()
            .find(|event| event.name() == canonical)
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl<'de> Deserialize<'de> for HookEvent {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct EventVisitor;
        impl Visitor<'_> for EventVisitor {
            type Value = HookEvent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a hook event, e.g. `pre-execute`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                // serde's own wording, which `yaml::yaml_failure` turns into the value, its
                // place, the valid ones and a "did you mean".
                HookEvent::from_name(v).ok_or_else(|| {
                    let names: Vec<String> = HookEvent::ALL
                        .iter()
                        .map(|event| format!("`{event}`"))
                        .collect();
                    E::custom(format!(
                        "unknown variant `{v}`, expected one of {}",
                        names.join(", ")
                    ))
                })
            }
        }
        de.deserialize_str(EventVisitor)
    }
}

/// What a failing hook does to the run (`hooks.plugins.<name>.policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookPolicy {
    /// The migration is rolled back and the run stops with the hook's message (exit 1).
    #[default]
    Abort,
    /// The failure is reported and the run continues.
    Warn,
    /// The failure is recorded in the JSON output only.
    Ignore,
}

impl fmt::Display for HookPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HookPolicy::Abort => "abort",
            HookPolicy::Warn => "warn",
            HookPolicy::Ignore => "ignore",
        })
    }
}

/// `hooks:` of the environment file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HooksSettings {
    /// Extra `metadata` given to every hook (`${VAR}`-expanded).
    pub metadata: BTreeMap<String, String>,
    /// Plugin names that fire first, in this order; the others follow by name.
    pub order: Vec<String>,
    /// Per-hook settings, by plugin name.
    pub plugins: BTreeMap<String, HookSettings>,
}

/// `hooks.plugins.<name>`: where and how one hook plugin fires. Its time limit and `enabled`
/// are the plugin's own settings under `plugins.<name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookSettings {
    /// Only these events (of those the plugin declares); `None` = all it declares.
    pub events: Option<Vec<HookEvent>>,
    /// Only in these environments; `None` = everywhere.
    pub environments: Option<Vec<String>>,
    /// What a failure does.
    pub policy: HookPolicy,
    /// 1-based line of the entry, for messages.
    pub line: Option<usize>,
}

/// Validates `hooks:`.
pub(super) fn hooks_settings(
    raw: RawHooks,
    shown: &str,
    text: &str,
    expand: &impl Fn(&str, String) -> Result<String, Failure>,
) -> Result<HooksSettings, Failure> {
    let hooks_line = line_of_key(text, "hooks");
    let at = |key: &str| {
        let line = line_below(text, hooks_line, key);
        (line, at_line(shown, line))
    };
    let metadata = raw
        .metadata
        .unwrap_or_default()
        .into_iter()
        .map(|(key, ConfigValue(value))| {
            let value = expand(&format!("hooks.metadata.{key}"), value)?;
            Ok((key, value))
        })
        .collect::<Result<_, Failure>>()?;
    let order = raw.order.unwrap_or_default();
    for (i, name) in order.iter().enumerate() {
        if order[..i].contains(name) {
            return Err(Failure::config(format!(
                "{}: hooks.order lists `{name}` twice",
                at("order").1
            ))
            .hint("list each hook plugin once"));
        }
    }
    let mut plugins = BTreeMap::new();
    for (name, hook) in raw.plugins.unwrap_or_default() {
        let (line, here) = at(&name);
        if !is_plugin_name(&name) {
            return Err(Failure::config(format!(
                "{here}: hooks.plugins: `{name}` is not a plugin name"
            ))
            .hint("plugin names are lower-case letters, digits and `-`, as the plugin's metadata declares them"));
        }
        // An event listed twice fires once.
        let events = hook.events.map(|events| {
            let mut unique: Vec<HookEvent> = Vec::new();
            for event in events {
                if !unique.contains(&event) {
                    unique.push(event);
                }
            }
            unique
        });
        plugins.insert(
            name,
            HookSettings {
                events,
                environments: hook.environments,
                policy: hook.policy.unwrap_or_default(),
                line,
            },
        );
    }
    Ok(HooksSettings {
        metadata,
        order,
        plugins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::settings::testing::{failure, parse};

    #[test]
    fn hooks_key_reads_metadata_order_and_per_hook_settings() {
        let env = parse(
            "hooks:\n  metadata:\n    team: data\n    secret: ${DB_PASSWORD}\n    n: 3\n  \
             order: [b-hook, a-hook]\n  plugins:\n    a-hook:\n      events: [post_execute, \
             pre-validate]\n      environments: [production]\n      policy: warn\n",
        )
        .unwrap();
        let hooks = &env.hooks;
        assert_eq!(hooks.metadata["team"], "data");
        assert_eq!(hooks.metadata["secret"], "s3cret");
        assert_eq!(hooks.metadata["n"], "3");
        assert_eq!(hooks.order, ["b-hook", "a-hook"]);
        let a = &hooks.plugins["a-hook"];
        assert_eq!(
            a.events.as_deref(),
            Some(&[HookEvent::PostExecute, HookEvent::PreValidate][..])
        );
        assert_eq!(
            a.environments.as_deref(),
            Some(&["production".to_string()][..])
        );
        assert_eq!(a.policy, HookPolicy::Warn);
        assert_eq!(a.line, Some(8));
        assert_eq!(parse("").unwrap().hooks, HooksSettings::default());
        // Both spellings of one event, twice: it fires once.
        let env = parse(
            "hooks:\n  plugins:\n    a-hook:\n      events: [on-error, pre_execute, on_error]\n",
        )
        .unwrap();
        assert_eq!(
            env.hooks.plugins["a-hook"].events.as_deref(),
            Some(&[HookEvent::OnError, HookEvent::PreExecute][..])
        );
    }

    #[test]
    fn hooks_key_errors_name_the_line_and_the_fix() {
        let f = failure("hooks:\n  plugins:\n    a-hook:\n      policy: warn\n      evnts: []\n");
        assert!(f.message.contains("local.yaml:5"), "{}", f.message);
        assert!(
            f.message.contains("hooks.plugins.a-hook.evnts"),
            "{}",
            f.message
        );
        assert_eq!(f.hint.as_deref(), Some("did you mean `events`?"));

        let f = failure("hooks:\n  plugins:\n    a-hook:\n      events: [post-exec]\n");
        assert!(f.message.contains("local.yaml:4"), "{}", f.message);
        assert!(
            f.message.contains(
                "hooks.plugins.a-hook.events[0]: `post-exec` is not one of `pre-validate`, \
                 `post-validate`, `pre-execute`, `post-execute`, `post-rollback`, `on-error`"
            ),
            "{}",
            f.message
        );
        assert_eq!(f.hint.as_deref(), Some("did you mean `post-execute`?"));
        let f = failure("hooks:\n  plugins:\n    a-hook:\n      events: [pre-execute, deploy]\n");
        assert!(f.message.contains("local.yaml:4:"), "{}", f.message);
        assert!(
            f.message.contains("events[1]: `deploy` is not one of"),
            "{}",
            f.message
        );
        let f = failure("hooks:\n  plugins:\n    a-hook:\n      policy: abrot\n");
        assert!(f.message.contains("local.yaml:4:"), "{}", f.message);
        assert_eq!(f.hint.as_deref(), Some("did you mean `abort`?"));

        let f = failure("hooks:\n  order: [a-hook, a-hook]\n");
        assert!(
            f.message
                .contains("local.yaml:2: hooks.order lists `a-hook` twice"),
            "{}",
            f.message
        );

        let f = failure("hooks:\n  ordr: []\n");
        assert_eq!(f.hint.as_deref(), Some("did you mean `order`?"));
    }
}
