//! A codec for PostgreSQL's COPY binary format, for transformed tables whose columns all have
//! a binary form, whose transformed columns are text (`text`, `varchar`, `char`: there a binary
//! field is the value's UTF-8 bytes, the session's client encoding) and whose other read
//! columns are text or integers (printed here as PostgreSQL prints them). Nothing is printed by
//! the source, parsed by the target, escaped or unescaped.
//!
//! The stream is a header (signature, flags, extension), tuples (a 16-bit field count, then per
//! field a 32-bit length, -1 for NULL, and that many bytes) and a trailer (a count of -1). Only
//! the fields a transform reads are copied out; the others travel as their original bytes.

use std::io::Write as _;
use std::ops::Range;

use bytes::{Buf, BytesMut};

use crate::plugins::TextBatch;
use crate::sync::copy_text::RowBlock;

/// The signature opening every COPY binary stream.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// Signature, flags and extension length.
const HEADER_LEN: usize = 19;
/// The header this side writes: no OIDs, no extension.
pub const HEADER: [u8; HEADER_LEN] = *b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The trailer: a field count of -1.
pub const TRAILER: [u8; 2] = [0xff, 0xff];

/// How a column's binary field reads as the text a transform sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldText {
    /// `text`, `varchar`, `char`: the field is the text; a transform may also replace it.
    Text,
    /// `smallint`, `integer`, `bigint`: a big-endian integer of 2, 4 or 8 bytes, read-only.
    Integer,
}

impl FieldText {
    /// The reading of a column of type `type_name` (as `format_type` spells it, with an empty
    /// `search_path`), `None` when its binary form is neither.
    pub fn of_type(type_name: &str) -> Option<FieldText> {
        match type_name {
            "text" => Some(FieldText::Text),
            "smallint" | "integer" | "bigint" => Some(FieldText::Integer),
            t if t.starts_with("character") && !t.ends_with(']') => Some(FieldText::Text),
            _ => None,
        }
    }
}

/// COPY binary data that does not have the expected shape.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CopyBinaryError {
    /// The stream does not start with COPY's binary signature, or sets flags this codec does
    /// not read (OIDs).
    #[error("the COPY binary stream has an unexpected header")]
    Header,
    /// A tuple has more or fewer fields than the table has copied columns.
    #[error("COPY tuple {row} has {found} fields, expected {expected}")]
    FieldCount {
        /// Tuple number within the block, from 0.
        row: usize,
        /// Number of copied columns.
        expected: usize,
        /// Number of fields found.
        found: i16,
    },
    /// A field length below -1.
    #[error("COPY tuple {row} has a field of length {length}")]
    FieldLength {
        /// Tuple number within the block, from 0.
        row: usize,
        /// The length read.
        length: i32,
    },
    /// The data ends in the middle of a tuple, or without the trailer.
    #[error("COPY binary data ends with an incomplete tuple ({0} bytes) or without its trailer")]
    Incomplete(usize),
    /// Bytes after the trailer.
    #[error("COPY binary data continues after its trailer")]
    AfterTrailer,
    /// A replacement value too long for a field.
    #[error("a transformed value of {0} bytes is too long for a field")]
    ValueTooLong(usize),
    /// A column read or replaced whose binary form is not text (or, read, an integer).
    #[error("column {0} cannot be read or written as text in COPY's binary format")]
    NotText(usize),
    /// An integer field of another width than 2, 4 or 8 bytes.
    #[error("COPY tuple {row} has an integer field of {length} bytes")]
    IntegerWidth {
        /// Tuple number within the block, from 0.
        row: usize,
        /// The field's length.
        length: usize,
    },
}

/// One step of walking the tuples of a buffer.
enum Tuple {
    /// A complete tuple ending at this offset.
    Ends(usize),
    /// The trailer.
    Trailer,
    /// The buffer ends inside the tuple.
    Incomplete,
}

fn read_i16(data: &[u8], at: usize) -> Option<i16> {
    Some(i16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn read_i32(data: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// The tuple starting at `start` of `data` (tuple `row` of its block), calling `field` with
/// the offset of each field's length word.
fn walk_tuple(
    data: &[u8],
    start: usize,
    columns: usize,
    row: usize,
    mut field: impl FnMut(usize),
) -> Result<Tuple, CopyBinaryError> {
    let Some(count) = read_i16(data, start) else {
        return Ok(Tuple::Incomplete);
    };
    if count == -1 {
        return Ok(Tuple::Trailer);
    }
    if usize::try_from(count).ok() != Some(columns) {
        return Err(CopyBinaryError::FieldCount {
            row,
            expected: columns,
            found: count,
        });
    }
    let mut at = start + 2;
    for _ in 0..columns {
        let Some(length) = read_i32(data, at) else {
            return Ok(Tuple::Incomplete);
        };
        field(at);
        at += 4;
        match length {
            -1 => {}
            n if n >= 0 => at += n as usize,
            length => return Err(CopyBinaryError::FieldLength { row, length }),
        }
    }
    Ok(if at <= data.len() {
        Tuple::Ends(at)
    } else {
        Tuple::Incomplete
    })
}

/// Cuts a COPY binary stream, split anywhere, into blocks of complete tuples (without the
/// header and the trailer).
#[derive(Debug)]
pub struct BinaryRowBlocker {
    buf: BytesMut,
    columns: usize,
    header_read: bool,
    trailer_read: bool,
    /// Bytes of complete tuples at the start of `buf`, and their count.
    complete: usize,
    rows: u64,
    max_bytes: usize,
    max_rows: u64,
}

impl BinaryRowBlocker {
    /// A blocker for tuples of `columns` fields that hands out a block once it holds
    /// `max_rows` tuples or `max_bytes` bytes.
    pub fn new(columns: usize, max_bytes: usize, max_rows: u64) -> BinaryRowBlocker {
        BinaryRowBlocker {
            buf: BytesMut::with_capacity(max_bytes.min(1 << 20)),
            columns,
            header_read: false,
            trailer_read: false,
            complete: 0,
            rows: 0,
            max_bytes,
            max_rows,
        }
    }

    /// Adds a chunk; returns the complete tuples buffered so far when a limit is reached.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Option<RowBlock>, CopyBinaryError> {
        if self.trailer_read && !chunk.is_empty() {
            return Err(CopyBinaryError::AfterTrailer);
        }
        self.buf.extend_from_slice(chunk);
        if !self.header_read {
            if self.buf.len() < HEADER_LEN {
                return Ok(None);
            }
            let flags = read_i32(&self.buf, 11).unwrap_or(0);
            if &self.buf[..11] != SIGNATURE || flags & (1 << 16) != 0 {
                return Err(CopyBinaryError::Header);
            }
            let extension = read_i32(&self.buf, 15).unwrap_or(0);
            let extension = usize::try_from(extension).map_err(|_| CopyBinaryError::Header)?;
            if self.buf.len() < HEADER_LEN + extension {
                return Ok(None);
            }
            self.buf.advance(HEADER_LEN + extension);
            self.header_read = true;
        }
        while !self.trailer_read {
            let row = self.rows as usize;
            match walk_tuple(&self.buf, self.complete, self.columns, row, |_| {})? {
                Tuple::Ends(end) => {
                    self.complete = end;
                    self.rows += 1;
                }
                Tuple::Trailer => {
                    if self.buf.len() > self.complete + TRAILER.len() {
                        return Err(CopyBinaryError::AfterTrailer);
                    }
                    self.trailer_read = true;
                }
                Tuple::Incomplete => break,
            }
        }
        if self.rows == 0 || (self.rows < self.max_rows && self.complete < self.max_bytes) {
            return Ok(None);
        }
        Ok(Some(self.take()))
    }

    fn take(&mut self) -> RowBlock {
        let block = RowBlock {
            data: self.buf.split_to(self.complete).freeze(),
            rows: self.rows,
        };
        self.complete = 0;
        self.rows = 0;
        block
    }

    /// The tuples still buffered at the end of the stream; an error when the stream did not
    /// end with its trailer.
    pub fn finish(mut self) -> Result<Option<RowBlock>, CopyBinaryError> {
        if !self.trailer_read {
            return Err(CopyBinaryError::Incomplete(self.buf.len() - self.complete));
        }
        Ok((self.rows > 0).then(|| self.take()))
    }
}

/// Complete tuples split into fields, without decoding them.
#[derive(Debug)]
pub struct BinaryRows<'a> {
    data: &'a [u8],
    /// How each column reads as text, `None` for columns only passed through.
    kinds: &'a [Option<FieldText>],
    columns: usize,
    /// Offset of the length word of row r's field c at `fields[r * columns + c]`; then one
    /// entry two bytes past the data's end, so that every row's end is the next row's first
    /// entry less its 2-byte field count.
    fields: Vec<usize>,
}

impl<'a> BinaryRows<'a> {
    /// Splits `data` (complete tuples, no header or trailer) into tuples of one field per entry
    /// of `kinds` (how each column reads as text).
    pub fn parse(
        data: &'a [u8],
        kinds: &'a [Option<FieldText>],
    ) -> Result<BinaryRows<'a>, CopyBinaryError> {
        let columns = kinds.len();
        let mut fields = Vec::with_capacity(data.len() / 8 + 1);
        let mut start = 0;
        let mut row = 0;
        while start < data.len() {
            match walk_tuple(data, start, columns, row, |at| fields.push(at))? {
                Tuple::Ends(end) => start = end,
                Tuple::Trailer => return Err(CopyBinaryError::AfterTrailer),
                Tuple::Incomplete => return Err(CopyBinaryError::Incomplete(data.len() - start)),
            }
            row += 1;
        }
        fields.push(data.len() + 2);
        Ok(BinaryRows {
            data,
            kinds,
            columns,
            fields,
        })
    }

    /// Number of tuples.
    pub fn rows(&self) -> usize {
        (self.fields.len() - 1) / self.columns.max(1)
    }

    /// The bytes of field `column` of `row`, `None` for NULL.
    pub fn field(&self, row: usize, column: usize) -> Option<&'a [u8]> {
        let at = self.fields[row * self.columns + column];
        let length = read_i32(self.data, at).expect("parsed");
        usize::try_from(length)
            .ok()
            .map(|n| &self.data[at + 4..at + 4 + n])
    }

    /// The end of field `i` (an index into `fields`).
    fn field_end(&self, i: usize) -> usize {
        if (i + 1).is_multiple_of(self.columns) {
            self.fields[i + 1] - 2
        } else {
            self.fields[i + 1]
        }
    }

    /// Decodes column `column` of `rows` into a batch.
    pub fn decode_column(
        &self,
        column: usize,
        rows: Range<usize>,
    ) -> Result<TextBatch, CopyBinaryError> {
        let mut batch = TextBatch::with_capacity(rows.len(), rows.len() * 16);
        match self.kinds.get(column).copied().flatten() {
            Some(FieldText::Text) => {
                for row in rows {
                    batch.push(self.field(row, column));
                }
            }
            Some(FieldText::Integer) => {
                for row in rows {
                    let Some(bytes) = self.field(row, column) else {
                        batch.push(None);
                        continue;
                    };
                    let value = match *bytes {
                        [a, b] => i64::from(i16::from_be_bytes([a, b])),
                        [a, b, c, d] => i64::from(i32::from_be_bytes([a, b, c, d])),
                        _ => i64::from_be_bytes(bytes.try_into().map_err(|_| {
                            CopyBinaryError::IntegerWidth {
                                row,
                                length: bytes.len(),
                            }
                        })?),
                    };
                    batch.push_with(|out| {
                        let _ = write!(out, "{value}");
                    });
                }
            }
            None => return Err(CopyBinaryError::NotText(column)),
        }
        Ok(batch)
    }

    /// Appends `rows` to `out`, with each `(column, batch)` of `replacements` (sorted by
    /// column, each batch holding one value per row of `rows`) in place of that column.
    pub fn encode_rows(
        &self,
        rows: Range<usize>,
        replacements: &[(usize, TextBatch)],
        out: &mut Vec<u8>,
    ) -> Result<(), CopyBinaryError> {
        if let Some((column, _)) = replacements
            .iter()
            .find(|(c, _)| self.kinds.get(*c) != Some(&Some(FieldText::Text)))
        {
            return Err(CopyBinaryError::NotText(*column));
        }
        let first = rows.start;
        for row in rows {
            let base = row * self.columns;
            let mut pos = self.fields[base] - 2;
            for (column, batch) in replacements {
                let start = self.fields[base + column];
                out.extend_from_slice(&self.data[pos..start]);
                match batch.get_bytes(row - first) {
                    Some(value) => {
                        let length = i32::try_from(value.len())
                            .map_err(|_| CopyBinaryError::ValueTooLong(value.len()))?;
                        out.extend_from_slice(&length.to_be_bytes());
                        out.extend_from_slice(value);
                    }
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                }
                pos = self.field_end(base + column);
            }
            out.extend_from_slice(&self.data[pos..self.fields[base + self.columns] - 2]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A COPY binary stream of `rows` (header, tuples, trailer).
    fn stream(rows: &[Vec<Option<&[u8]>>]) -> Vec<u8> {
        let mut out = HEADER.to_vec();
        out.extend_from_slice(&tuples(rows));
        out.extend_from_slice(&TRAILER);
        out
    }

    fn tuples(rows: &[Vec<Option<&[u8]>>]) -> Vec<u8> {
        let mut out = Vec::new();
        for row in rows {
            out.extend_from_slice(&(row.len() as i16).to_be_bytes());
            for field in row {
                match field {
                    Some(v) => {
                        out.extend_from_slice(&(v.len() as i32).to_be_bytes());
                        out.extend_from_slice(v);
                    }
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                }
            }
        }
        out
    }

    fn sample() -> Vec<Vec<Option<&'static [u8]>>> {
        vec![
            vec![Some(&[0, 0, 0, 1][..]), Some("ana@x.org".as_bytes()), None],
            vec![Some(&[0, 0, 0, 2][..]), None, Some("Ζωή Δ.".as_bytes())],
            vec![Some(&[0, 0, 0, 3][..]), Some(b""), Some(b"\t\n\\")],
        ]
    }

    #[test]
    fn blocks_hold_whole_tuples_however_the_stream_is_split() {
        let data = stream(&sample());
        for chunk in 1..data.len() {
            let mut blocker = BinaryRowBlocker::new(3, 1, u64::MAX);
            let mut blocks = Vec::new();
            for piece in data.chunks(chunk) {
                blocks.extend(blocker.push(piece).unwrap());
            }
            blocks.extend(blocker.finish().unwrap());
            let joined: Vec<u8> = blocks.iter().flat_map(|b| b.data.to_vec()).collect();
            assert_eq!(joined, tuples(&sample()), "chunks of {chunk}");
            assert_eq!(blocks.iter().map(|b| b.rows).sum::<u64>(), 3);
        }
    }

    const KINDS: [Option<FieldText>; 3] = [
        Some(FieldText::Integer),
        Some(FieldText::Text),
        Some(FieldText::Text),
    ];

    #[test]
    fn replacing_columns_keeps_the_others() {
        let data = tuples(&sample());
        let parsed = BinaryRows::parse(&data, &KINDS).unwrap();
        assert_eq!(parsed.rows(), 3);
        assert_eq!(
            parsed
                .decode_column(1, 0..3)
                .unwrap()
                .values()
                .collect::<Vec<_>>(),
            vec![Some("ana@x.org"), None, Some("")]
        );
        assert_eq!(
            parsed
                .decode_column(0, 1..3)
                .unwrap()
                .values()
                .collect::<Vec<_>>(),
            vec![Some("2"), Some("3")]
        );
        let email = TextBatch::from_values([None, Some("b@y.org")]);
        let name = TextBatch::from_values([Some("Ωμέγα"), None]);
        let mut out = Vec::new();
        parsed
            .encode_rows(1..3, &[(1, email), (2, name)], &mut out)
            .unwrap();
        let expected = tuples(&[
            vec![Some(&[0, 0, 0, 2][..]), None, Some("Ωμέγα".as_bytes())],
            vec![Some(&[0, 0, 0, 3][..]), Some(b"b@y.org"), None],
        ]);
        assert_eq!(out, expected);
        let mut unchanged = Vec::new();
        parsed.encode_rows(0..3, &[], &mut unchanged).unwrap();
        assert_eq!(unchanged, data);
        let ids = TextBatch::from_values([Some("7")]);
        assert_eq!(
            parsed.encode_rows(0..1, &[(0, ids)], &mut Vec::new()),
            Err(CopyBinaryError::NotText(0))
        );
    }

    #[test]
    fn integers_read_as_postgres_prints_them() {
        let (small, min, max) = (
            (-2i16).to_be_bytes(),
            i32::MIN.to_be_bytes(),
            i64::MAX.to_be_bytes(),
        );
        let rows: Vec<Vec<Option<&[u8]>>> = vec![
            vec![Some(&small[..])],
            vec![Some(&min[..])],
            vec![Some(&max[..])],
            vec![None],
        ];
        let data = tuples(&rows);
        let kinds = [Some(FieldText::Integer)];
        let parsed = BinaryRows::parse(&data, &kinds).unwrap();
        assert_eq!(
            parsed
                .decode_column(0, 0..4)
                .unwrap()
                .values()
                .collect::<Vec<_>>(),
            vec![
                Some("-2"),
                Some("-2147483648"),
                Some("9223372036854775807"),
                None
            ]
        );
        assert_eq!(
            FieldText::of_type("character varying(40)"),
            Some(FieldText::Text)
        );
        assert_eq!(FieldText::of_type("character varying(40)[]"), None);
        assert_eq!(FieldText::of_type("bigint"), Some(FieldText::Integer));
        assert_eq!(FieldText::of_type("public.citext"), None);
    }

    #[test]
    fn malformed_streams_are_reported() {
        let mut blocker = BinaryRowBlocker::new(3, 1 << 20, u64::MAX);
        assert!(matches!(
            blocker.push(b"PGCOPY\n\xff\r\n\0\0\x01\0\0\0\0\0\0"),
            Err(CopyBinaryError::Header)
        ));
        let data = stream(&sample());
        let mut blocker = BinaryRowBlocker::new(2, 1 << 20, u64::MAX);
        assert!(matches!(
            blocker.push(&data),
            Err(CopyBinaryError::FieldCount { row: 0, .. })
        ));
        let mut blocker = BinaryRowBlocker::new(3, 1 << 20, u64::MAX);
        assert!(matches!(blocker.push(&data[..data.len() - 3]), Ok(None)));
        assert!(matches!(
            blocker.finish(),
            Err(CopyBinaryError::Incomplete(_))
        ));
        let mut blocker = BinaryRowBlocker::new(3, 1 << 20, u64::MAX);
        let mut longer = data.clone();
        longer.push(0);
        assert!(matches!(
            blocker.push(&longer),
            Err(CopyBinaryError::AfterTrailer)
        ));
        assert!(BinaryRows::parse(&tuples(&sample())[..10], &KINDS).is_err());
    }
}
