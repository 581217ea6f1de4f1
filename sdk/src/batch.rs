//! Packed text batches: many values in one buffer, the unit a strategy gets and returns.
//!
//! Value `i` is `data[offsets[i]..offsets[i + 1]]` (UTF-8) and is SQL NULL when bit `i % 8` of
//! `nulls[i / 8]` is set. [`TextBatchView`] reads a batch without copying a byte;
//! [`TextBatchBuilder`] writes one straight into its final buffers.

use std::fmt;

use crate::Error;

/// A borrowed, validated view of a packed batch. Checking happens once, in
/// [`TextBatchView::new`]; reading a value afterwards is two slice indexings.
#[derive(Clone, Copy)]
pub struct TextBatchView<'a> {
    data: &'a str,
    offsets: &'a [u32],
    nulls: &'a [u8],
}

impl<'a> TextBatchView<'a> {
    /// Checks the layout (offsets ascending within `data` and on character boundaries, a null
    /// bitmap long enough, UTF-8 data) and wraps the buffers.
    pub fn new(data: &'a [u8], offsets: &'a [u32], nulls: &'a [u8]) -> Result<Self, Error> {
        let data = std::str::from_utf8(data)
            .map_err(|error| Error::new(format!("the batch's data is not UTF-8 ({error})")))?;
        let Some((&first, _)) = offsets.split_first() else {
            return Err(Error::new(
                "the batch has no offsets (it needs one more than it has values)",
            ));
        };
        if first != 0 {
            return Err(Error::new(format!(
                "the batch's first offset is {first}, not 0"
            )));
        }
        for (index, pair) in offsets.windows(2).enumerate() {
            let (start, end) = (pair[0] as usize, pair[1] as usize);
            if start > end || end > data.len() {
                return Err(Error::new(format!(
                    "value {index} spans {start}..{end}, outside the {} bytes of data",
                    data.len()
                )));
            }
            if !data.is_char_boundary(end) {
                return Err(Error::new(format!(
                    "value {index} ends at byte {end}, inside a UTF-8 character"
                )));
            }
        }
        let values = offsets.len() - 1;
        if nulls.len() < values.div_ceil(8) {
            return Err(Error::new(format!(
                "the null bitmap has {} bytes; {values} values need {}",
                nulls.len(),
                values.div_ceil(8)
            )));
        }
        Ok(Self {
            data,
            offsets,
            nulls,
        })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when the batch holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when value `index` is SQL NULL. Panics when `index >= len()`.
    pub fn is_null(&self, index: usize) -> bool {
        assert!(
            index < self.len(),
            "value {index} of a batch of {}",
            self.len()
        );
        self.nulls[index / 8] & (1 << (index % 8)) != 0
    }

    /// Value `index`: `None` for SQL NULL. Panics when `index >= len()`.
    pub fn get(&self, index: usize) -> Option<&'a str> {
        if self.is_null(index) {
            return None;
        }
        let start = self.offsets[index] as usize;
        let end = self.offsets[index + 1] as usize;
        Some(&self.data[start..end])
    }

    /// The values in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<&'a str>> + '_ {
        (0..self.len()).map(|index| self.get(index))
    }

    /// The values collected into a vector (handy in tests).
    pub fn to_vec(&self) -> Vec<Option<&'a str>> {
        self.iter().collect()
    }
}

impl fmt::Debug for TextBatchView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a TextBatchView<'a> {
    type Item = Option<&'a str>;
    type IntoIter = Box<dyn ExactSizeIterator<Item = Option<&'a str>> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// An owned packed batch: what a strategy returns, built with [`TextBatchBuilder`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct TextBatch {
    /// The values' bytes, one after the other.
    pub data: Vec<u8>,
    /// Start of each value in `data`, plus the end of the last.
    pub offsets: Vec<u32>,
    /// Null bitmap, least significant bit first.
    pub nulls: Vec<u8>,
}

impl TextBatch {
    /// Packs `values` (`None` is SQL NULL).
    pub fn from_values<'v>(values: impl IntoIterator<Item = Option<&'v str>>) -> Self {
        let mut builder = TextBatchBuilder::new();
        for value in values {
            builder.push(value);
        }
        builder.finish()
    }

    /// A validated view of this batch.
    pub fn view(&self) -> Result<TextBatchView<'_>, Error> {
        TextBatchView::new(&self.data, &self.offsets, &self.nulls)
    }

    /// Number of values (the offsets say; see [`TextBatch::view`] for a checked reading).
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when the batch holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for TextBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.view() {
            Ok(view) => view.fmt(f),
            Err(error) => write!(f, "TextBatch(invalid: {error})"),
        }
    }
}

/// Builds a [`TextBatch`] value by value, writing into the final buffers.
#[derive(Debug)]
pub struct TextBatchBuilder {
    /// UTF-8 by construction: only `str`s, `char`s and ASCII bytes are ever appended.
    data: Vec<u8>,
    offsets: Vec<u32>,
    nulls: Vec<u8>,
}

impl Default for TextBatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TextBatchBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::with_capacity(0, 0)
    }

    /// An empty builder with room for `values` values of `bytes` bytes in total (use the input
    /// batch's sizes when the output is about as large).
    pub fn with_capacity(values: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(values + 1);
        offsets.push(0);
        Self {
            data: Vec::with_capacity(bytes),
            offsets,
            nulls: Vec::with_capacity(values.div_ceil(8)),
        }
    }

    /// Number of values pushed so far.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when nothing was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a value, `None` being SQL NULL.
    pub fn push(&mut self, value: Option<&str>) {
        match value {
            Some(text) => self.push_str(text),
            None => self.push_null(),
        }
    }

    /// Appends a text value.
    pub fn push_str(&mut self, text: &str) {
        self.data.extend_from_slice(text.as_bytes());
        self.close_value(false);
    }

    /// Appends `text` with each ASCII byte replaced by `map(byte)`, in order, and every other
    /// character copied as it is: one copy and one pass over the bytes, for strategies that
    /// rewrite ASCII characters (digits, letters) in place. Panics when `map` returns a byte
    /// that is not ASCII (it would break the UTF-8 of the value).
    pub fn push_ascii_mapped(&mut self, text: &str, mut map: impl FnMut(u8) -> u8) {
        let start = self.data.len();
        self.data.extend_from_slice(text.as_bytes());
        for byte in &mut self.data[start..] {
            if byte.is_ascii() {
                let mapped = map(*byte);
                assert!(
                    mapped.is_ascii(),
                    "push_ascii_mapped: {mapped:#04x} is not ASCII"
                );
                *byte = mapped;
            }
        }
        self.close_value(false);
    }

    /// Appends a text value written by `write` straight into the batch's buffer (no
    /// intermediate `String`); [`ValueWriter`] also implements [`fmt::Write`] for `write!`.
    pub fn push_with(&mut self, write: impl FnOnce(&mut ValueWriter<'_>)) {
        write(&mut ValueWriter(&mut self.data));
        self.close_value(false);
    }

    /// Appends SQL NULL.
    pub fn push_null(&mut self) {
        self.close_value(true);
    }

    fn close_value(&mut self, null: bool) {
        let index = self.len();
        if index.is_multiple_of(8) {
            self.nulls.push(0);
        }
        if null {
            self.nulls[index / 8] |= 1 << (index % 8);
        }
        let end =
            u32::try_from(self.data.len()).expect("a text batch holds less than 4 GiB of data");
        self.offsets.push(end);
    }

    /// The packed batch.
    pub fn finish(self) -> TextBatch {
        TextBatch {
            data: self.data,
            offsets: self.offsets,
            nulls: self.nulls,
        }
    }
}

/// Appends to the value being written by [`TextBatchBuilder::push_with`].
pub struct ValueWriter<'b>(&'b mut Vec<u8>);

impl ValueWriter<'_> {
    /// Appends text.
    pub fn push_str(&mut self, text: &str) {
        self.0.extend_from_slice(text.as_bytes());
    }

    /// Appends one character.
    pub fn push(&mut self, character: char) {
        match u8::try_from(character) {
            Ok(byte) if byte.is_ascii() => self.0.push(byte),
            _ => self.push_str(character.encode_utf8(&mut [0; 4])),
        }
    }
}

impl fmt::Write for ValueWriter<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push_str(text);
        Ok(())
    }
}
