//! Test plugin `context-strategy` (used by the `confiture sync` end-to-end tests):
//! - `by_country`: reads the row-context column `country` and replaces a value with
//!   `<country>-<length of the value>` (`none-<length>` when the country is NULL), so a test can
//!   see the context reached the plugin row for row. NULL stays NULL.
//! - `wrong_type`: replaces every non-NULL value with the text in param `value` (default
//!   `not-a-valid-value`), whatever the column's type: the host must refuse what does not fit
//!   the column, naming the table, column, strategy and row.

use confiture_sdk::{Batch, Plugin, Result, Strategy, StrategyInfo, TextBatch, TextBatchBuilder};

/// The plugin.
#[derive(Default)]
pub struct ContextStrategy;

impl Plugin for ContextStrategy {
    const NAME: &'static str = "context-strategy";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Test strategies: row context, and wrong-typed output";
}

impl Strategy for ContextStrategy {
    const STRATEGIES: &'static [StrategyInfo] = &[
        StrategyInfo {
            name: "by_country",
            description: "<country of the row>-<length of the value>",
            context_columns: &["country"],
            accepted_types: &["text", "character varying"],
            deterministic: true,
        },
        StrategyInfo {
            name: "wrong_type",
            description: "Param `value` for every non-NULL value, whatever the column's type",
            context_columns: &[],
            accepted_types: &[],
            deterministic: true,
        },
    ];

    fn anonymize(&self, batch: &Batch<'_>) -> Result<TextBatch> {
        let values = &batch.values;
        let mut out = TextBatchBuilder::with_capacity(values.len(), values.len() * 16);
        match batch.strategy {
            "by_country" => {
                let country = batch.context("country");
                for (row, value) in values.iter().enumerate() {
                    match value {
                        None => out.push_null(),
                        Some(value) => {
                            let country = country.and_then(|c| c.get(row)).unwrap_or("none");
                            out.push_str(&format!("{country}-{}", value.chars().count()));
                        }
                    }
                }
            }
            _ => {
                let garbage = batch.param("value").unwrap_or("not-a-valid-value");
                for value in values.iter() {
                    match value {
                        None => out.push_null(),
                        Some(_) => out.push_str(garbage),
                    }
                }
            }
        }
        Ok(out.finish())
    }
}

confiture_sdk::export_plugin!(ContextStrategy: strategy);
