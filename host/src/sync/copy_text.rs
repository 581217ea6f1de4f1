//! A codec for PostgreSQL's COPY TEXT format.
//!
//! Rows end with a newline, fields are separated by tabs, `\N` is NULL, and a backslash escapes
//! `\\ \t \n \r \b \f \v`, octal `\ooo` and hex `\xhh` bytes. A raw newline or tab byte is never
//! part of a value, so rows and fields are split without decoding anything; only the columns a
//! transform reads are decoded, and only the columns it replaces are re-encoded: the other
//! fields are copied as their original bytes.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use crate::plugins::TextBatch;

/// COPY TEXT data that does not have the expected shape.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CopyTextError {
    /// A row has more or fewer fields than the table has copied columns.
    #[error("COPY row {row} has {found} fields, expected {expected}")]
    FieldCount {
        /// Row number within the block, from 0.
        row: usize,
        /// Number of copied columns.
        expected: usize,
        /// Number of fields found.
        found: usize,
    },
    /// The data ends in the middle of a row.
    #[error("COPY data ends with an incomplete row ({0} bytes without a newline)")]
    IncompleteRow(usize),
}

/// Number of rows in COPY TEXT data: its newline bytes.
pub fn count_rows(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data).count() as u64
}

/// A run of complete rows.
#[derive(Debug, Clone)]
pub struct RowBlock {
    /// The rows' bytes, ending with a newline.
    pub data: Bytes,
    /// Number of rows.
    pub rows: u64,
}

/// Cuts a stream of COPY TEXT chunks, split anywhere, into blocks of complete rows.
#[derive(Debug)]
pub struct RowBlocker {
    buf: BytesMut,
    rows: u64,
    max_bytes: usize,
    max_rows: u64,
}

impl RowBlocker {
    /// A blocker that hands out a block once it buffers `max_rows` rows or `max_bytes` bytes.
    pub fn new(max_bytes: usize, max_rows: u64) -> RowBlocker {
        RowBlocker {
            buf: BytesMut::with_capacity(max_bytes.min(1 << 20)),
            rows: 0,
            max_bytes,
            max_rows,
        }
    }

    /// Adds a chunk; returns the complete rows buffered so far when a limit is reached.
    pub fn push(&mut self, chunk: &[u8]) -> Option<RowBlock> {
        self.buf.extend_from_slice(chunk);
        self.rows += count_rows(chunk);
        if self.rows == 0 || (self.rows < self.max_rows && self.buf.len() < self.max_bytes) {
            return None;
        }
        let end = self.buf.iter().rposition(|&b| b == b'\n')? + 1;
        let block = RowBlock {
            data: self.buf.split_to(end).freeze(),
            rows: self.rows,
        };
        self.rows = 0;
        Some(block)
    }

    /// The rows still buffered at the end of the stream; an error when a row is incomplete.
    pub fn finish(mut self) -> Result<Option<RowBlock>, CopyTextError> {
        if self.buf.last().is_some_and(|&b| b != b'\n') {
            return Err(CopyTextError::IncompleteRow(
                self.buf.len()
                    - self
                        .buf
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |p| p + 1),
            ));
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        Ok(Some(RowBlock {
            data: self.buf.split().freeze(),
            rows: self.rows,
        }))
    }
}

/// Complete rows split into fields, without decoding them.
#[derive(Debug)]
pub struct ParsedRows<'a> {
    data: &'a [u8],
    columns: usize,
    /// Field starts: row r's field c starts at `bounds[r * columns + c]` and ends one byte (its
    /// tab or newline) before the next entry. Holds `rows * columns + 1` entries.
    bounds: Vec<usize>,
}

impl<'a> ParsedRows<'a> {
    /// Splits `data` (complete rows) into rows of `columns` fields (at least one).
    pub fn parse(data: &'a [u8], columns: usize) -> Result<ParsedRows<'a>, CopyTextError> {
        assert!(columns > 0, "a COPY row has at least one field");
        let rows_hint = data.len() / (columns * 8).max(16);
        let mut bounds = Vec::with_capacity(rows_hint * columns + 1);
        bounds.push(0);
        let mut fields = 1;
        let mut row = 0;
        for i in memchr::memchr2_iter(b'\t', b'\n', data) {
            if data[i] == b'\t' {
                fields += 1;
                bounds.push(i + 1);
            } else {
                if fields != columns {
                    return Err(CopyTextError::FieldCount {
                        row,
                        expected: columns,
                        found: fields,
                    });
                }
                bounds.push(i + 1);
                fields = 1;
                row += 1;
            }
        }
        let last = *bounds.last().unwrap_or(&0);
        if last != data.len() {
            return Err(CopyTextError::IncompleteRow(data.len() - last));
        }
        Ok(ParsedRows {
            data,
            columns,
            bounds,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        (self.bounds.len() - 1) / self.columns
    }

    /// The raw (still escaped) bytes of field `column` of `row`.
    pub fn field(&self, row: usize, column: usize) -> &'a [u8] {
        let i = row * self.columns + column;
        &self.data[self.bounds[i]..self.bounds[i + 1] - 1]
    }

    /// Decodes column `column` of `rows` into a batch.
    pub fn decode_column(&self, column: usize, rows: Range<usize>) -> TextBatch {
        let mut batch = TextBatch::with_capacity(rows.len(), rows.len() * 16);
        for row in rows {
            let field = self.field(row, column);
            if field == b"\\N" {
                batch.push(None);
            } else {
                batch.push_with(|out| unescape_into(field, out));
            }
        }
        batch
    }

    /// Appends `rows` to `out`, with each `(column, batch)` of `replacements` (sorted by
    /// column, each batch holding one value per row of `rows`) in place of that column.
    pub fn encode_rows(
        &self,
        rows: Range<usize>,
        replacements: &[(usize, TextBatch)],
        out: &mut Vec<u8>,
    ) {
        let first = rows.start;
        for row in rows {
            let base = row * self.columns;
            let mut pos = self.bounds[base];
            for (column, batch) in replacements {
                let start = self.bounds[base + column];
                out.extend_from_slice(&self.data[pos..start]);
                match batch.get_bytes(row - first) {
                    Some(value) => escape_into(value, out),
                    None => out.extend_from_slice(b"\\N"),
                }
                pos = self.bounds[base + column + 1] - 1;
            }
            out.extend_from_slice(&self.data[pos..self.bounds[base + self.columns]]);
        }
    }
}

/// Appends the decoded value of one COPY TEXT field (not `\N`) to `out`.
pub fn unescape_into(field: &[u8], out: &mut Vec<u8>) {
    let Some(first) = field.iter().position(|&b| b == b'\\') else {
        out.extend_from_slice(field);
        return;
    };
    out.extend_from_slice(&field[..first]);
    let mut i = first;
    while i < field.len() {
        let b = field[i];
        if b != b'\\' {
            let run = field[i..]
                .iter()
                .position(|&b| b == b'\\')
                .unwrap_or(field.len() - i);
            out.extend_from_slice(&field[i..i + run]);
            i += run;
            continue;
        }
        let Some(&c) = field.get(i + 1) else {
            out.push(b'\\');
            break;
        };
        i += 2;
        match c {
            b'0'..=b'7' => {
                let mut value = u32::from(c - b'0');
                for _ in 0..2 {
                    match field.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xff) as u8);
            }
            b'x' if field.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut value = hex_value(field[i]);
                i += 1;
                if let Some(&d) = field.get(i).filter(|d| d.is_ascii_hexdigit()) {
                    value = value * 16 + hex_value(d);
                    i += 1;
                }
                out.push(value);
            }
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            other => out.push(other),
        }
    }
}

fn hex_value(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        _ => d - b'A' + 10,
    }
}

/// The escape letter of each byte COPY TEXT escapes, 0 for the others (as PostgreSQL writes it).
const ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0b] = b'v';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `value` as a COPY TEXT field (escaped) to `out`.
pub fn escape_into(value: &[u8], out: &mut Vec<u8>) {
    let mut start = 0;
    for (i, &b) in value.iter().enumerate() {
        let escape = ESCAPES[b as usize];
        if escape != 0 {
            out.extend_from_slice(&value[start..i]);
            out.extend_from_slice(&[b'\\', escape]);
            start = i + 1;
        }
    }
    out.extend_from_slice(&value[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*), enough for property tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const PIECES: &[&str] = &[
        "a", "Z", "0", " ", "\t", "\n", "\r", "\\", "\\N", "N", "\u{8}", "\u{b}", "\u{c}", "\u{1}",
        "é", "日本", "🦀", "\\x41", "\\101", "'", "\"", ",",
    ];

    fn random_value(rng: &mut Rng) -> Option<String> {
        if rng.below(8) == 0 {
            return None;
        }
        let len = rng.below(12);
        Some((0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect())
    }

    fn encode_table(rows: &[Vec<Option<String>>]) -> Vec<u8> {
        let mut out = Vec::new();
        for row in rows {
            for (i, value) in row.iter().enumerate() {
                if i > 0 {
                    out.push(b'\t');
                }
                match value {
                    Some(v) => escape_into(v.as_bytes(), &mut out),
                    None => out.extend_from_slice(b"\\N"),
                }
            }
            out.push(b'\n');
        }
        out
    }

    fn random_table(rng: &mut Rng, columns: usize) -> Vec<Vec<Option<String>>> {
        let rows = rng.below(40) + 1;
        (0..rows)
            .map(|_| (0..columns).map(|_| random_value(rng)).collect())
            .collect()
    }

    #[test]
    fn random_values_round_trip() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..500 {
            let columns = rng.below(5) + 1;
            let table = random_table(&mut rng, columns);
            let data = encode_table(&table);
            let parsed = ParsedRows::parse(&data, columns).unwrap();
            assert_eq!(parsed.rows(), table.len());
            for c in 0..columns {
                let batch = parsed.decode_column(c, 0..table.len());
                batch.check(batch.len()).unwrap();
                for (r, row) in table.iter().enumerate() {
                    assert_eq!(batch.get_bytes(r), row[c].as_deref().map(str::as_bytes));
                }
            }
            // Re-encoding without replacements gives the bytes back.
            let mut out = Vec::new();
            parsed.encode_rows(0..table.len(), &[], &mut out);
            assert_eq!(out, data);
        }
    }

    #[test]
    fn replacing_columns_keeps_the_others() {
        let mut rng = Rng(42);
        for _ in 0..300 {
            let columns = rng.below(5) + 1;
            let table = random_table(&mut rng, columns);
            let data = encode_table(&table);
            let parsed = ParsedRows::parse(&data, columns).unwrap();
            let replaced: Vec<usize> = (0..columns).filter(|_| rng.below(2) == 0).collect();
            let mut expected = table.clone();
            let replacements: Vec<(usize, TextBatch)> = replaced
                .iter()
                .map(|&c| {
                    let mut batch = TextBatch::empty();
                    for row in expected.iter_mut() {
                        let value = random_value(&mut rng);
                        batch.push(value.as_deref().map(str::as_bytes));
                        row[c] = value;
                    }
                    (c, batch)
                })
                .collect();
            // Encode in two row ranges to check ranges are honoured.
            let mid = table.len() / 2;
            let mut out = Vec::new();
            let first: Vec<(usize, TextBatch)> = replacements
                .iter()
                .map(|(c, b)| (*c, slice(b, 0..mid)))
                .collect();
            let second: Vec<(usize, TextBatch)> = replacements
                .iter()
                .map(|(c, b)| (*c, slice(b, mid..table.len())))
                .collect();
            parsed.encode_rows(0..mid, &first, &mut out);
            parsed.encode_rows(mid..table.len(), &second, &mut out);
            assert_eq!(out, encode_table(&expected));
        }
    }

    fn slice(batch: &TextBatch, rows: Range<usize>) -> TextBatch {
        let mut out = TextBatch::empty();
        for r in rows {
            out.push(batch.get_bytes(r));
        }
        out
    }

    #[test]
    fn rows_split_across_chunk_boundaries() {
        let mut rng = Rng(7);
        for _ in 0..200 {
            let columns = rng.below(4) + 1;
            let table = random_table(&mut rng, columns);
            let data = encode_table(&table);
            let max_rows = rng.below(5) as u64 + 1;
            let mut blocker = RowBlocker::new(rng.below(64) + 1, max_rows);
            let mut blocks = Vec::new();
            let mut pos = 0;
            while pos < data.len() {
                let n = (rng.below(17) + 1).min(data.len() - pos);
                blocks.extend(blocker.push(&data[pos..pos + n]));
                pos += n;
            }
            blocks.extend(blocker.finish().unwrap());
            let mut joined = Vec::new();
            let mut rows = 0;
            for block in &blocks {
                assert_eq!(block.data.last(), Some(&b'\n'));
                assert_eq!(block.rows, count_rows(&block.data));
                let parsed = ParsedRows::parse(&block.data, columns).unwrap();
                assert_eq!(parsed.rows() as u64, block.rows);
                rows += block.rows;
                joined.extend_from_slice(&block.data);
            }
            assert_eq!(rows as usize, table.len());
            assert_eq!(joined, data);
        }
    }

    #[test]
    fn postgres_escapes_decode() {
        let mut out = Vec::new();
        unescape_into(br"a\tb\\c\101\x42\x4\7\q\b\f\v\r\n", &mut out);
        assert_eq!(out, b"a\tb\\cAB\x04\x07q\x08\x0c\x0b\r\n");
    }

    #[test]
    fn malformed_data_is_reported() {
        assert_eq!(
            ParsedRows::parse(b"a\tb\nc\n", 2).unwrap_err(),
            CopyTextError::FieldCount {
                row: 1,
                expected: 2,
                found: 1
            }
        );
        assert_eq!(
            ParsedRows::parse(b"a\nb", 1).unwrap_err(),
            CopyTextError::IncompleteRow(1)
        );
        let mut blocker = RowBlocker::new(1024, 10);
        assert!(blocker.push(b"a\nbc").is_none());
        assert_eq!(
            blocker.finish().unwrap_err(),
            CopyTextError::IncompleteRow(2)
        );
    }
}
