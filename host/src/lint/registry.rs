//! The rules a run knows: the built-ins (and, once the plugin runtime is wired in, WASM rules).

use super::rule::{Category, Rule};
use super::rules;

/// Names the release notes use in `linting.rules.<category>` for three rules.
pub const ALIASES: &[(&str, &str)] = &[
    ("warn_plain_text_pii", "plain-text-pii"),
    ("require_password_hash", "password-not-hashed"),
    ("warn_missing_indices", "missing-lookup-index"),
];

/// Every known rule, in a stable order.
pub struct Registry {
    rules: Vec<Box<dyn Rule>>,
}

impl Registry {
    /// The built-in rules.
    pub fn builtin() -> Self {
        Registry {
            rules: rules::builtin()
                .into_iter()
                .map(|r| Box::new(r) as Box<dyn Rule>)
                .collect(),
        }
    }

    /// Adds a rule (a plugin's). A rule with an id already taken is refused.
    pub fn add(&mut self, rule: Box<dyn Rule>) -> Result<(), String> {
        if self.get(rule.id()).is_some() {
            return Err(format!("a rule `{}` already exists", rule.id()));
        }
        self.rules.push(rule);
        Ok(())
    }

    /// Every rule.
    pub fn rules(&self) -> &[Box<dyn Rule>] {
        &self.rules
    }

    /// The rule with this id, or the one an alias names.
    pub fn get(&self, id: &str) -> Option<&dyn Rule> {
        let id = ALIASES
            .iter()
            .find(|(alias, _)| *alias == id)
            .map_or(id, |(_, real)| real);
        self.rules.iter().find(|r| r.id() == id).map(|r| r.as_ref())
    }

    /// Rule ids, categories and aliases: what a rule reference may name.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.rules.iter().map(|r| r.id().to_string()).collect();
        names.extend(Category::ALL.iter().map(|c| c.as_str().to_string()));
        names.extend(ALIASES.iter().map(|(a, _)| a.to_string()));
        names
    }
}

/// What a name in a rule list refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// One rule, by id or alias (the canonical id).
    Rule(&'a str),
    /// A whole category.
    Category(Category),
}

impl Registry {
    /// Resolves a rule id, alias or category name.
    pub fn target(&self, name: &str) -> Option<Target<'_>> {
        if let Some(category) = Category::parse(name) {
            return Some(Target::Category(category));
        }
        self.get(name).map(|r| Target::Rule(r.id()))
    }

    /// True when `target` selects rule `rule`.
    pub fn selects(target: Target<'_>, rule: &dyn Rule) -> bool {
        match target {
            Target::Rule(id) => rule.id() == id,
            Target::Category(c) => rule.category() == c,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_kebab_case_and_aliases_resolve() {
        let registry = Registry::builtin();
        let mut seen = HashSet::new();
        for rule in registry.rules() {
            assert!(
                seen.insert(rule.id().to_string()),
                "duplicate {}",
                rule.id()
            );
            assert!(
                rule.id()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                rule.id()
            );
            assert!(!rule.description().is_empty());
        }
        for (alias, id) in ALIASES {
            assert_eq!(registry.get(alias).map(|r| r.id()), Some(*id));
        }
        assert!(registry.rules().len() >= 40);
    }
}
