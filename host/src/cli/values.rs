//! How the command line parses values into the domain's own types. clap's traits are
//! implemented here, in the command-line layer, so that the types below it (`plugins::Kind`,
//! `Severity`, `output::Format`, `error::Convention`) do not depend on clap and no
//! argument-only copy of them is needed.

use clap::ValueEnum;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use crate::error::Convention;
use crate::output::Format;
use crate::plugins::Kind;
use crate::plugins::scaffold::PluginLang;
use crate::project::settings::linting::Severity;

/// `plugins new --kind hook|strategy|lint`.
impl ValueEnum for Kind {
    fn value_variants<'a>() -> &'a [Self] {
        &Kind::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Kind::Hook => "A migration hook",
            Kind::Strategy => "An anonymization strategy",
            Kind::Lint => "A lint rule",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

/// `plugins new --lang rust|python|js|c`.
impl ValueEnum for PluginLang {
    fn value_variants<'a>() -> &'a [Self] {
        &PluginLang::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            PluginLang::Rust => "Rust with the confiture-sdk crate",
            PluginLang::Python => "Python on the Python SDK, built with componentize-py",
            PluginLang::Js => {
                "JavaScript on the JavaScript SDK, built with componentize-qjs (QuickJS)"
            }
            PluginLang::C => {
                "C with wit-bindgen's bindings and confiture.h, built with clang and wasi-libc \
                 (strategies only)"
            }
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

/// `--format text|json|sarif|github` (`table`: upstream's name for text).
impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Format::Text => PossibleValue::new("text")
                .alias("table")
                .help("Readable text, coloured on a terminal"),
            Format::Json => PossibleValue::new("json")
                .help("One JSON document on stdout (errors too, as `{\"error\": {...}}`)"),
            Format::Sarif => PossibleValue::new("sarif")
                .help("SARIF 2.1.0 (`confiture lint` only; other commands refuse it)"),
            Format::Github => PossibleValue::new("github").help(
                "GitHub Actions annotations (`confiture lint` only; other commands refuse it)",
            ),
        })
    }
}

/// `--exit-codes confiture|upstream`.
impl ValueEnum for Convention {
    fn value_variants<'a>() -> &'a [Self] {
        &[Convention::Confiture, Convention::Upstream]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Convention::Confiture => PossibleValue::new("confiture").help(
                "Confiture's: a failed migration is 1, a missing .down.sql 8, a usage error 5",
            ),
            Convention::Upstream => PossibleValue::new("upstream").help(
                "The upstream Python Confiture 1.29's: a failed migration and a missing \
                 .down.sql are 3, a usage error 2; every other situation has the same number in \
                 both",
            ),
        })
    }
}

/// The severities `--fail-level` takes, with their help: those that can fail a run (`info`
/// never does).
const FAIL_LEVELS: [(Severity, &str); 2] = [
    (Severity::Warning, "Fail on warnings and critical findings"),
    (Severity::Critical, "Fail on critical findings only"),
];

/// Parses `--fail-level warning|critical` into a [`Severity`].
pub fn fail_level() -> impl TypedValueParser<Value = Severity> {
    PossibleValuesParser::new(
        FAIL_LEVELS.map(|(level, help)| PossibleValue::new(level.as_str()).help(help)),
    )
    .try_map(|word| Severity::parse(&word).ok_or("not a severity"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command, PluginsCommand};

    #[test]
    fn kinds_and_fail_levels_parse_into_the_domain_types() {
        let cli = Cli::try_parse_from(["confiture", "plugins", "new", "x", "--kind", "lint"])
            .expect("parses");
        let Command::Plugins(PluginsCommand::New(args)) = cli.command else {
            panic!("not plugins new: {:?}", cli.command);
        };
        assert_eq!(args.kind, Kind::Lint);
        let Command::Lint(args) =
            Cli::try_parse_from(["confiture", "lint", "--fail-level", "warning"])
                .expect("parses")
                .command
        else {
            panic!("not lint");
        };
        assert_eq!(args.fail_level, Some(Severity::Warning));
        assert!(Cli::try_parse_from(["confiture", "lint", "--fail-level", "info"]).is_err());
    }
}
