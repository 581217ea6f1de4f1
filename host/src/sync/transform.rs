//! The anonymization hook, and its application to blocks of COPY rows.

use std::ops::Range;
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::plugins::TextBatch;
use crate::sync::catalog::Table;
use crate::sync::copy_binary::{BinaryRows, FieldText};
use crate::sync::copy_text::ParsedRows;

/// Anonymization of one table, provided by the caller.
pub trait TableTransform: Send + Sync {
    /// Indices (into the table's copied columns) of the columns this transform reads (replaced
    /// columns and row-context columns).
    fn input_columns(&self) -> &[usize];
    /// Indices of the columns this transform replaces (some of [`Self::input_columns`]).
    fn replaced_columns(&self) -> Vec<usize>;
    /// A fresh per-worker state (e.g. one plugin instance per worker).
    fn worker(&self) -> anyhow::Result<Box<dyn TransformWorker>>;
}

/// One worker's state of a [`TableTransform`]; used by one thread at a time.
pub trait TransformWorker: Send {
    /// `inputs[i]` is the batch of column `input_columns()[i]`; returns (column index,
    /// replacement) pairs, each replacement holding exactly as many values.
    fn apply(&mut self, inputs: &[TextBatch]) -> anyhow::Result<Vec<(usize, TextBatch)>>;
}

/// Checks a transform's input columns against the table's copied columns.
pub(crate) fn check_inputs(table: &Table, transform: &dyn TableTransform) -> anyhow::Result<()> {
    if table.columns.is_empty() {
        bail!("{} has no copied column to transform", table.name);
    }
    if let Some(bad) = transform
        .input_columns()
        .iter()
        .find(|&&c| c >= table.columns.len())
    {
        bail!(
            "the transform of {} reads column index {bad}, but the table has {} copied columns",
            table.name,
            table.columns.len()
        );
    }
    Ok(())
}

/// The COPY format a transformed table travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CopyFormat {
    /// COPY TEXT: every value printed by the source and parsed by the target.
    Text,
    /// COPY binary: every column has a binary form, every column the transform replaces is
    /// text and every other one it reads is text or an integer ([`FieldText`]).
    Binary,
}

impl CopyFormat {
    /// The format `table` travels in through `transform`.
    pub(crate) fn for_transform(table: &Table, transform: &dyn TableTransform) -> CopyFormat {
        let kinds = field_texts(table);
        let readable = |c: &usize| kinds.get(*c).copied().flatten();
        let binary = table.columns.iter().all(|c| c.binary)
            && transform
                .input_columns()
                .iter()
                .all(|c| readable(c).is_some())
            && transform
                .replaced_columns()
                .iter()
                .all(|c| readable(c) == Some(FieldText::Text));
        if binary {
            CopyFormat::Binary
        } else {
            CopyFormat::Text
        }
    }
}

/// How each column of `table` reads as text in COPY's binary format.
fn field_texts(table: &Table) -> Vec<Option<FieldText>> {
    table
        .columns
        .iter()
        .map(|c| FieldText::of_type(&c.type_name).filter(|_| c.binary))
        .collect()
}

/// Rows of a block split into fields, in one of COPY's formats.
pub(crate) trait FieldRows {
    /// Number of rows.
    fn rows(&self) -> usize;
    /// Column `column` of `rows`, decoded.
    fn decode_column(&self, column: usize, rows: Range<usize>) -> anyhow::Result<TextBatch>;
    /// Appends `rows`, re-encoded, to `out`, with `replacements` (sorted by column) in place of
    /// their columns.
    fn encode_rows(
        &self,
        rows: Range<usize>,
        replacements: &[(usize, TextBatch)],
        out: &mut Vec<u8>,
    ) -> anyhow::Result<()>;
}

impl FieldRows for ParsedRows<'_> {
    fn rows(&self) -> usize {
        ParsedRows::rows(self)
    }
    fn decode_column(&self, column: usize, rows: Range<usize>) -> anyhow::Result<TextBatch> {
        Ok(ParsedRows::decode_column(self, column, rows))
    }
    fn encode_rows(
        &self,
        rows: Range<usize>,
        replacements: &[(usize, TextBatch)],
        out: &mut Vec<u8>,
    ) -> anyhow::Result<()> {
        ParsedRows::encode_rows(self, rows, replacements, out);
        Ok(())
    }
}

impl FieldRows for BinaryRows<'_> {
    fn rows(&self) -> usize {
        BinaryRows::rows(self)
    }
    fn decode_column(&self, column: usize, rows: Range<usize>) -> anyhow::Result<TextBatch> {
        Ok(BinaryRows::decode_column(self, column, rows)?)
    }
    fn encode_rows(
        &self,
        rows: Range<usize>,
        replacements: &[(usize, TextBatch)],
        out: &mut Vec<u8>,
    ) -> anyhow::Result<()> {
        Ok(BinaryRows::encode_rows(self, rows, replacements, out)?)
    }
}

/// Runs one worker over blocks of complete rows of one table, `batch_size` rows per call.
pub(crate) struct BlockTransformer<'a> {
    table: &'a Table,
    inputs: Vec<usize>,
    worker: Box<dyn TransformWorker>,
    batch_size: usize,
    /// How each column reads as text in COPY's binary format.
    field_texts: Arc<[Option<FieldText>]>,
}

impl<'a> BlockTransformer<'a> {
    /// A transformer with a fresh worker of `transform`.
    pub(crate) fn new(
        table: &'a Table,
        transform: &dyn TableTransform,
        batch_size: usize,
    ) -> anyhow::Result<BlockTransformer<'a>> {
        let worker = transform
            .worker()
            .with_context(|| format!("starting the transform of {}", table.name))?;
        Ok(BlockTransformer {
            table,
            inputs: transform.input_columns().to_vec(),
            worker,
            batch_size: batch_size.max(1),
            field_texts: field_texts(table).into(),
        })
    }

    /// Splits `data` (complete rows) into rows, for [`Self::apply`] and [`Self::encode`].
    pub(crate) fn parse<'d>(&self, data: &'d [u8]) -> anyhow::Result<ParsedRows<'d>> {
        ParsedRows::parse(data, self.table.columns.len())
            .with_context(|| format!("reading the rows of {}", self.table.name))
    }

    /// Transforms rows `rows` of `parsed`: the replacements sorted by column.
    pub(crate) fn apply(
        &mut self,
        parsed: &impl FieldRows,
        rows: Range<usize>,
    ) -> anyhow::Result<Vec<(usize, TextBatch)>> {
        let inputs: Vec<TextBatch> = self
            .inputs
            .iter()
            .map(|&c| parsed.decode_column(c, rows.clone()))
            .collect::<anyhow::Result<_>>()
            .with_context(|| format!("reading the rows of {}", self.table.name))?;
        let mut replacements = self
            .worker
            .apply(&inputs)
            .with_context(|| format!("transforming {}", self.table.name))?;
        replacements.sort_by_key(|(c, _)| *c);
        for (i, (column, batch)) in replacements.iter().enumerate() {
            let name = self.table.columns.get(*column).map(|c| &c.name);
            let Some(name) = name else {
                bail!(
                    "the transform of {} replaced column index {column}, but the table has {} \
                     copied columns",
                    self.table.name,
                    self.table.columns.len()
                );
            };
            if i > 0 && replacements[i - 1].0 == *column {
                bail!(
                    "the transform of {} replaced column {name} twice",
                    self.table.name
                );
            }
            if batch.len() != rows.len() {
                bail!(
                    "the transform of {} returned {} values for column {name}, expected {}",
                    self.table.name,
                    batch.len(),
                    rows.len()
                );
            }
            batch.check(batch.len()).map_err(|e| {
                anyhow::anyhow!(
                    "the transform of {} returned a malformed batch for column {name}: {e}",
                    self.table.name
                )
            })?;
        }
        Ok(replacements)
    }

    /// Transforms every row of `data` (complete rows in `format`, without COPY binary's header
    /// and trailer) and appends them, re-encoded, to `out`.
    pub(crate) fn transform_block(
        &mut self,
        format: CopyFormat,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> anyhow::Result<()> {
        match format {
            CopyFormat::Text => {
                let parsed = self.parse(data)?;
                self.transform_rows(&parsed, out)
            }
            CopyFormat::Binary => {
                let kinds = self.field_texts.clone();
                let parsed = BinaryRows::parse(data, &kinds)
                    .with_context(|| format!("reading the rows of {}", self.table.name))?;
                self.transform_rows(&parsed, out)
            }
        }
    }

    fn transform_rows(&mut self, parsed: &impl FieldRows, out: &mut Vec<u8>) -> anyhow::Result<()> {
        let rows = parsed.rows();
        let mut start = 0;
        while start < rows {
            let end = (start + self.batch_size).min(rows);
            let replacements = self.apply(parsed, start..end)?;
            parsed
                .encode_rows(start..end, &replacements, out)
                .with_context(|| format!("writing the rows of {}", self.table.name))?;
            start = end;
        }
        Ok(())
    }
}
