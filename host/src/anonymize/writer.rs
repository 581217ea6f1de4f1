//! Building an output batch in one pass: each replacement is written straight into the
//! output buffer, so the hot loop allocates nothing but that buffer's growth.

use std::fmt;

use anyhow::{Context, Result};

use super::TextBatch;

/// The value being written: appends to the output buffer from `start` on.
pub(crate) struct Out<'b> {
    buffer: &'b mut String,
    start: usize,
}

impl Out<'_> {
    /// Appends text.
    pub(crate) fn push_str(&mut self, text: &str) {
        self.buffer.push_str(text);
    }

    /// Appends one character.
    pub(crate) fn push(&mut self, c: char) {
        self.buffer.push(c);
    }

    /// The value written so far.
    pub(crate) fn written(&self) -> &str {
        &self.buffer[self.start..]
    }

    /// The buffer behind the value, for helpers that append to a `String`.
    pub(crate) fn buffer(&mut self) -> &mut String {
        self.buffer
    }

    /// Replaces the value written so far with `text`.
    pub(crate) fn replace(&mut self, text: &str) {
        self.buffer.truncate(self.start);
        self.buffer.push_str(text);
    }

    /// Cuts the value written so far to at most `max` characters.
    pub(crate) fn truncate_chars(&mut self, max: usize) {
        if let Some((cut, _)) = self.written().char_indices().nth(max) {
            self.buffer.truncate(self.start + cut);
        }
    }
}

impl fmt::Write for Out<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.buffer.push_str(text);
        Ok(())
    }
}

/// Accumulates an output batch.
pub(crate) struct BatchWriter {
    data: String,
    offsets: Vec<u32>,
    nulls: Vec<u8>,
}

impl BatchWriter {
    /// A writer with room for `values` values of about `bytes` bytes in all.
    pub(crate) fn with_capacity(values: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(values + 1);
        offsets.push(0);
        Self {
            data: String::with_capacity(bytes),
            offsets,
            nulls: Vec::with_capacity(values.div_ceil(8)),
        }
    }

    /// Appends NULL.
    pub(crate) fn push_null(&mut self) -> Result<()> {
        self.close(true)
    }

    /// Appends a value written by `write`.
    pub(crate) fn push_with(
        &mut self,
        write: impl FnOnce(&mut Out<'_>) -> Result<()>,
    ) -> Result<()> {
        let start = self.data.len();
        write(&mut Out {
            buffer: &mut self.data,
            start,
        })?;
        self.close(false)
    }

    fn close(&mut self, null: bool) -> Result<()> {
        let index = self.offsets.len() - 1;
        if index.is_multiple_of(8) {
            self.nulls.push(0);
        }
        if null {
            self.nulls[index / 8] |= 1 << (index % 8);
        }
        let end = u32::try_from(self.data.len())
            .context("an output batch grew past 4 GiB; use smaller batches")?;
        self.offsets.push(end);
        Ok(())
    }

    /// The finished batch.
    pub(crate) fn finish(self) -> TextBatch {
        TextBatch {
            data: self.data.into_bytes(),
            offsets: self.offsets,
            nulls: self.nulls,
        }
    }
}

/// Rewrites every non-NULL value of `values` with `write(position, value, out)`; NULL stays
/// NULL. Errors name the strategy and the value's position in the batch, never the value.
pub(crate) fn map_values(
    strategy: &str,
    values: &TextBatch,
    mut write: impl FnMut(&str, &mut Out<'_>) -> Result<()>,
) -> Result<TextBatch> {
    let mut writer = BatchWriter::with_capacity(values.len(), values.data.len() + values.len() * 4);
    for (position, value) in values.values().enumerate() {
        match value {
            None => writer.push_null()?,
            Some(value) => writer
                .push_with(|out| write(value, out))
                .with_context(|| format!("strategy `{strategy}`, value {position} of the batch"))?,
        }
    }
    Ok(writer.finish())
}

/// `value` folded to lower case (Unicode's full lower-casing) into `out`, replacing what it
/// held; ASCII without allocating.
pub(crate) fn fold_into(value: &str, out: &mut String) {
    out.clear();
    if value.is_ascii() {
        out.extend(value.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.extend(value.chars().flat_map(char::to_lowercase));
    }
}

/// `values` folded to lower case (see [`fold_into`]), NULL kept: what a case-insensitive
/// column (`citext`) compares.
pub fn lowercased(values: &TextBatch) -> TextBatch {
    let mut out = TextBatch::with_capacity(values.len(), values.data.len());
    let mut folded = String::new();
    for value in values.values() {
        match value {
            Some(text) => {
                fold_into(text, &mut folded);
                out.push(Some(folded.as_bytes()));
            }
            None => out.push(None),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_nulls_and_positions() {
        let input = TextBatch::from_values([Some("ab"), None, Some("é"), None, Some("")]);
        let output = map_values("demo", &input, |value, out| {
            out.push_str(value);
            out.push('!');
            Ok(())
        })
        .unwrap();
        let values: Vec<_> = output.values().collect();
        assert_eq!(values, [Some("ab!"), None, Some("é!"), None, Some("!")]);
        output.check(5).unwrap();
    }

    #[test]
    fn truncates_by_characters() {
        let input = TextBatch::from_values([Some("x")]);
        let output = map_values("demo", &input, |_, out| {
            out.push_str("ééé");
            out.truncate_chars(2);
            Ok(())
        })
        .unwrap();
        assert_eq!(output.get(0), Some("éé"));
    }

    #[test]
    fn errors_name_the_position() {
        let input = TextBatch::from_values([Some("ok"), Some("private")]);
        let error = map_values("demo", &input, |value, _| {
            anyhow::ensure!(value == "ok", "not acceptable");
            Ok(())
        })
        .unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("value 1 of the batch"), "{message}");
        assert!(!message.contains("private"), "{message}");
    }
}
