//! Copying one table: source readers (one per CTID range), optional transform threads, and
//! the single COPY IN stream of the target, joined by bounded channels.

use std::pin::pin;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_postgres::{Client, CopyOutStream};

use crate::sync::catalog::{Table, TableName, quote_ident};
use crate::sync::copy_binary::{self, BinaryRowBlocker};
use crate::sync::copy_text::{RowBlock, RowBlocker};
use crate::sync::plan::GroupSequence;
use crate::sync::progress::Progress;
use crate::sync::source::SourcePool;
use crate::sync::transform::{BlockTransformer, CopyFormat, TableTransform};

/// Bytes a raw reader gathers before handing rows to the writer.
const RAW_BLOCK_BYTES: usize = 512 * 1024;
/// Upper bound of a transformed block, whatever its row count (wide rows).
const TRANSFORM_BLOCK_BYTES: usize = 16 * 1024 * 1024;
/// Blocks waiting for the writer.
const WRITER_QUEUE: usize = 4;
/// Blocks waiting for one transform thread.
const TRANSFORM_QUEUE: usize = 2;

/// What a table's copy shares with the rest of the run.
pub(crate) struct CopyContext {
    /// Source connections in the run's snapshot.
    pub(crate) pool: Arc<SourcePool>,
    /// Progress observer.
    pub(crate) progress: Arc<dyn Progress>,
    /// Rows per transform call.
    pub(crate) batch_size: usize,
}

/// A sequence set after a load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SequenceSet {
    /// The sequence.
    pub sequence: TableName,
    /// The value given to `setval`.
    pub value: i64,
    /// `setval`'s `is_called`: false when the table is empty (the next value is `value`).
    pub is_called: bool,
}

/// The outcome of one table's load, inside its group's transaction.
pub(crate) struct TableCopy {
    pub(crate) rows_read: u64,
    pub(crate) rows_written: u64,
}

/// A range of heap pages `[from, to)`; `None` leaves that side open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageRange {
    from: Option<u64>,
    to: Option<u64>,
}

/// `parts` ranges covering a table of `pages` pages (the first and last are open-ended).
pub(crate) fn page_ranges(pages: u64, parts: usize) -> Vec<PageRange> {
    let parts = parts.max(1) as u64;
    (0..parts)
        .map(|i| PageRange {
            from: (i > 0).then(|| pages * i / parts),
            to: (i + 1 < parts).then(|| pages * (i + 1) / parts),
        })
        .collect()
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// COPY's options for `binary` (COPY's binary format) or text.
fn copy_format(binary: bool) -> &'static str {
    if binary { " (FORMAT binary)" } else { "" }
}

/// The `COPY ... TO STDOUT` reading `range` of `table`.
fn copy_out_sql(table: &Table, range: PageRange, binary: bool) -> String {
    let columns = column_list(table);
    let format = copy_format(binary);
    if range.from.is_none() && range.to.is_none() {
        if table.columns.is_empty() {
            return format!("COPY {} TO STDOUT{format}", table.name.quoted());
        }
        return format!("COPY {} ({columns}) TO STDOUT{format}", table.name.quoted());
    }
    let mut conditions = Vec::new();
    if let Some(from) = range.from {
        conditions.push(format!("ctid >= '({from},0)'::tid"));
    }
    if let Some(to) = range.to {
        conditions.push(format!("ctid < '({to},0)'::tid"));
    }
    format!(
        "COPY (SELECT {columns} FROM ONLY {} WHERE {}) TO STDOUT{format}",
        table.name.quoted(),
        conditions.join(" AND ")
    )
}

/// The first `limit` rows of `table` (for dry-run samples).
pub(crate) fn copy_out_limit_sql(table: &Table, limit: usize) -> String {
    format!(
        "COPY (SELECT {} FROM ONLY {} LIMIT {limit}) TO STDOUT",
        column_list(table),
        table.name.quoted()
    )
}

fn copy_in_sql(table: &Table, binary: bool) -> String {
    let format = copy_format(binary);
    if table.columns.is_empty() {
        format!("COPY {} FROM STDIN{format}", table.name.quoted())
    } else {
        format!(
            "COPY {} ({}) FROM STDIN{format}",
            table.name.quoted(),
            column_list(table)
        )
    }
}

/// Loads `table` into `target` (inside the caller's transaction, after its truncation) from
/// `parts` CTID ranges of the source, through `transform` when given; then checks the loaded
/// row count.
pub(crate) async fn copy_table(
    target: &Client,
    table: &Arc<Table>,
    parts: usize,
    transform: Option<&Arc<dyn TableTransform>>,
    ctx: &CopyContext,
) -> anyhow::Result<TableCopy> {
    let name = &table.name;
    // A table travels in COPY's binary format when every column has a binary form (built-in
    // types) and a transform, if any, reads only text columns: no value is printed by the
    // source or parsed by the target.
    let format = match transform {
        Some(transform) => CopyFormat::for_transform(table, transform.as_ref()),
        None if table.columns.iter().all(|c| c.binary) => CopyFormat::Binary,
        None => CopyFormat::Text,
    };
    let binary = format == CopyFormat::Binary;
    let sink = target
        .copy_in::<_, Bytes>(&copy_in_sql(table, binary))
        .await
        .with_context(|| format!("starting the load of {name}"))?;
    let mut sink = pin!(sink);
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(WRITER_QUEUE);
    let mut readers = JoinSet::new();
    for range in page_ranges(table.pages, parts) {
        let reader = Reader {
            pool: ctx.pool.clone(),
            progress: ctx.progress.clone(),
            table: table.clone(),
            sql: copy_out_sql(table, range, binary),
        };
        match transform {
            None if binary => readers.spawn(reader.read_binary(out_tx.clone(), RAW_BLOCK_BYTES)),
            None => readers.spawn(reader.read(
                RowBlocker::new(RAW_BLOCK_BYTES, u64::MAX).into(),
                out_tx.clone(),
            )),
            Some(transform) => readers.spawn(reader.read_transformed(
                transform.clone(),
                format,
                ctx.batch_size,
                out_tx.clone(),
            )),
        };
    }
    drop(out_tx);
    // Transformed binary blocks are bare tuples: the stream's header and trailer are this
    // side's.
    let framed = transform.is_some() && binary;
    if framed {
        sink.send(Bytes::from_static(&copy_binary::HEADER))
            .await
            .with_context(|| format!("loading {name}"))?;
    }
    let mut rows_read = 0;
    loop {
        tokio::select! {
            Some(joined) = readers.join_next() => rows_read += joined
                .with_context(|| format!("a reader of {name} panicked"))??,
            block = out_rx.recv() => match block {
                Some(data) => sink
                    .send(data)
                    .await
                    .with_context(|| format!("loading {name}"))?,
                None => break,
            },
        }
    }
    while let Some(joined) = readers.join_next().await {
        rows_read += joined.with_context(|| format!("a reader of {name} panicked"))??;
    }
    if framed {
        sink.send(Bytes::from_static(&copy_binary::TRAILER))
            .await
            .with_context(|| format!("loading {name}"))?;
    }
    let rows_written = sink
        .as_mut()
        .finish()
        .await
        .with_context(|| format!("loading {name}"))?;
    if rows_written != rows_read {
        bail!("loaded {rows_written} rows into {name}, but read {rows_read} from the source");
    }
    Ok(TableCopy {
        rows_read,
        rows_written,
    })
}

/// Sets each sequence of a group past the loaded values of every column that uses it (before
/// them for a descending sequence); when those columns are all empty, back to its start value
/// (see [`sequence_position`]).
pub(crate) async fn set_sequences(
    target: &Client,
    sequences: &[GroupSequence],
) -> anyhow::Result<Vec<SequenceSet>> {
    let mut set = Vec::with_capacity(sequences.len());
    for sequence in sequences {
        let extremes: Vec<String> = sequence
            .uses
            .iter()
            .map(|(table, column)| {
                let column = quote_ident(column);
                format!(
                    "SELECT max({column})::int8 AS hi, min({column})::int8 AS lo FROM ONLY {}",
                    table.quoted()
                )
            })
            .collect();
        let sql = format!(
            "SELECT s.seqincrement, s.seqstart, v.lo, v.hi \
             FROM pg_catalog.pg_sequence s, \
                  (SELECT min(u.lo) AS lo, max(u.hi) AS hi FROM ({}) u) v \
             WHERE s.seqrelid = $1::text::regclass",
            extremes.join(" UNION ALL ")
        );
        let name = sequence.sequence.quoted();
        let context = || format!("setting the sequence {}", sequence.sequence);
        let row = target
            .query_one(&sql, &[&name])
            .await
            .with_context(context)?;
        let loaded = match (row.get::<_, Option<i64>>(2), row.get::<_, Option<i64>>(3)) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ => None,
        };
        let (value, is_called) = sequence_position(row.get(0), row.get(1), loaded);
        target
            .execute(
                "SELECT pg_catalog.setval($1::text::regclass, $2, $3)",
                &[&name, &value, &is_called],
            )
            .await
            .with_context(context)?;
        set.push(SequenceSet {
            sequence: sequence.sequence.clone(),
            value,
            is_called,
        });
    }
    Ok(set)
}

/// Where a sequence must stand after a load, as `setval`'s `(value, is_called)`: at the largest
/// loaded value (the smallest, for a descending sequence — a negative `increment`), so its next
/// value is past every loaded one; when the columns using it are all empty (`loaded` is
/// `None`; else it holds their `(smallest, largest)` values), back at `start` with its next
/// value `start` itself.
pub(crate) fn sequence_position(
    increment: i64,
    start: i64,
    loaded: Option<(i64, i64)>,
) -> (i64, bool) {
    match loaded {
        Some((_, largest)) if increment > 0 => (largest, true),
        Some((smallest, _)) => (smallest, true),
        None => (start, false),
    }
}

/// Reads one CTID range of a table from a snapshot connection.
struct Reader {
    pool: Arc<SourcePool>,
    progress: Arc<dyn Progress>,
    table: Arc<Table>,
    sql: String,
}

impl Reader {
    /// A snapshot connection from the pool and the range's COPY stream on it; give the
    /// connection back when the stream is done.
    async fn copy_out(&self) -> anyhow::Result<(Client, CopyOutStream)> {
        let client = self.pool.get().await?;
        let stream = client
            .copy_out(&self.sql)
            .await
            .with_context(|| format!("reading {}", self.table.name))?;
        Ok((client, stream))
    }

    /// Sends the range's rows to `out` in the blocks `blocker` cuts; returns the number of rows
    /// read.
    async fn read(self, mut blocker: Blocker, out: mpsc::Sender<Bytes>) -> anyhow::Result<u64> {
        let name = &self.table.name;
        let (client, stream) = self.copy_out().await?;
        let mut stream = pin!(stream);
        let mut rows = 0;
        let closed = || anyhow!("the load of {name} stopped");
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.with_context(|| format!("reading {name}"))?;
            if let Some(block) = blocker
                .push(&chunk)
                .with_context(|| format!("reading {name}"))?
            {
                rows += block.rows;
                self.progress.on_rows(name, block.rows);
                out.send(block.data).await.map_err(|_| closed())?;
            }
        }
        if let Some(block) = blocker
            .finish()
            .with_context(|| format!("reading {name}"))?
        {
            rows += block.rows;
            self.progress.on_rows(name, block.rows);
            out.send(block.data).await.map_err(|_| closed())?;
        }
        self.pool.put(client);
        Ok(rows)
    }

    /// Forwards the range's rows in COPY's binary format, in blocks of about `max_bytes`.
    /// The server sends each row in a message of its own (the file header rides with the
    /// first, the trailer comes alone), so the rows are the messages less one; the caller
    /// checks that count against the target's.
    async fn read_binary(self, out: mpsc::Sender<Bytes>, max_bytes: usize) -> anyhow::Result<u64> {
        let name = &self.table.name;
        let (client, stream) = self.copy_out().await?;
        let mut stream = pin!(stream);
        let mut block = BytesMut::with_capacity(max_bytes);
        let (mut messages, mut reported) = (0u64, 0u64);
        let closed = || anyhow!("the load of {name} stopped");
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.with_context(|| format!("reading {name}"))?;
            messages += 1;
            block.extend_from_slice(&chunk);
            if block.len() >= max_bytes {
                self.progress.on_rows(name, messages - reported);
                reported = messages;
                out.send(block.split().freeze())
                    .await
                    .map_err(|_| closed())?;
            }
        }
        let rows = messages.saturating_sub(1);
        if !block.is_empty() {
            out.send(block.freeze()).await.map_err(|_| closed())?;
        }
        self.progress.on_rows(name, rows.saturating_sub(reported));
        self.pool.put(client);
        Ok(rows)
    }

    /// Like [`Self::read`], through a transform thread of its own that sends the re-encoded
    /// rows to `out`.
    async fn read_transformed(
        self,
        transform: Arc<dyn TableTransform>,
        format: CopyFormat,
        batch_size: usize,
        out: mpsc::Sender<Bytes>,
    ) -> anyhow::Result<u64> {
        let (tx, mut rx) = mpsc::channel::<Bytes>(TRANSFORM_QUEUE);
        let table = self.table.clone();
        let worker = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut transformer = BlockTransformer::new(&table, transform.as_ref(), batch_size)?;
            while let Some(block) = rx.blocking_recv() {
                let mut encoded = Vec::with_capacity(block.len() + block.len() / 4);
                transformer.transform_block(format, &block, &mut encoded)?;
                if out.blocking_send(Bytes::from(encoded)).is_err() {
                    // The writer stopped; it reports why.
                    break;
                }
            }
            Ok(())
        });
        let name = self.table.name.clone();
        let blocker = match format {
            CopyFormat::Text => RowBlocker::new(TRANSFORM_BLOCK_BYTES, batch_size as u64).into(),
            CopyFormat::Binary => BinaryRowBlocker::new(
                self.table.columns.len(),
                TRANSFORM_BLOCK_BYTES,
                batch_size as u64,
            )
            .into(),
        };
        let read = self.read(blocker, tx).await;
        worker
            .await
            .with_context(|| format!("the transform thread of {name} panicked"))??;
        read
    }
}

/// Cuts a COPY stream into blocks of complete rows, in either format.
enum Blocker {
    Text(RowBlocker),
    Binary(BinaryRowBlocker),
}

impl From<RowBlocker> for Blocker {
    fn from(blocker: RowBlocker) -> Blocker {
        Blocker::Text(blocker)
    }
}

impl From<BinaryRowBlocker> for Blocker {
    fn from(blocker: BinaryRowBlocker) -> Blocker {
        Blocker::Binary(blocker)
    }
}

impl Blocker {
    fn push(&mut self, chunk: &[u8]) -> anyhow::Result<Option<RowBlock>> {
        match self {
            Blocker::Text(b) => Ok(b.push(chunk)),
            Blocker::Binary(b) => Ok(b.push(chunk)?),
        }
    }

    fn finish(self) -> anyhow::Result<Option<RowBlock>> {
        match self {
            Blocker::Text(b) => Ok(b.finish()?),
            Blocker::Binary(b) => Ok(b.finish()?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::testing::{column, table};

    fn range(from: Option<u64>, to: Option<u64>) -> PageRange {
        PageRange { from, to }
    }

    #[test]
    fn a_sequence_goes_past_every_loaded_value() {
        // Ascending: its next value follows the largest loaded one, whatever the start.
        assert_eq!(sequence_position(1, 1, Some((3, 42))), (42, true));
        assert_eq!(sequence_position(5, 1000, Some((-7, 12))), (12, true));
        // Descending: its next value comes before the smallest loaded one.
        assert_eq!(sequence_position(-1, -1, Some((-42, -3))), (-42, true));
        assert_eq!(sequence_position(-2, 100, Some((7, 90))), (7, true));
        // Nothing loaded: back at the start, which is the next value handed out.
        assert_eq!(sequence_position(1, 1, None), (1, false));
        assert_eq!(sequence_position(-1, -10, None), (-10, false));
        // The extremes of 64-bit columns are kept as they are.
        assert_eq!(
            sequence_position(1, 1, Some((0, i64::MAX))),
            (i64::MAX, true)
        );
        assert_eq!(
            sequence_position(-1, -1, Some((i64::MIN, 0))),
            (i64::MIN, true)
        );
    }

    #[test]
    fn page_ranges_cover_the_table_in_equal_parts() {
        assert_eq!(page_ranges(10, 1), vec![range(None, None)]);
        assert_eq!(page_ranges(10, 0), vec![range(None, None)]);
        assert_eq!(
            page_ranges(10, 3),
            vec![
                range(None, Some(3)),
                range(Some(3), Some(6)),
                range(Some(6), None)
            ]
        );
        assert_eq!(
            page_ranges(7, 2),
            vec![range(None, Some(3)), range(Some(3), None)]
        );
        // More parts than pages: the empty ranges read nothing, and the open ends the rest.
        assert_eq!(
            page_ranges(1, 3),
            vec![
                range(None, Some(0)),
                range(Some(0), Some(0)),
                range(Some(0), None)
            ]
        );
    }

    #[test]
    fn copy_statements_name_every_column_the_range_and_the_format() {
        let mut orders = table("Orders", 10);
        orders.columns = vec![column("id", true), column(r#"note "x""#, true)];
        let (whole, from, to, both) = (
            range(None, None),
            range(Some(4), None),
            range(None, Some(9)),
            range(Some(4), Some(9)),
        );
        let name = r#""public"."Orders""#;
        let columns = r#""id", "note ""x""""#;
        assert_eq!(
            copy_out_sql(&orders, whole, false),
            format!("COPY {name} ({columns}) TO STDOUT")
        );
        assert_eq!(
            copy_out_sql(&orders, whole, true),
            format!("COPY {name} ({columns}) TO STDOUT (FORMAT binary)")
        );
        assert_eq!(
            copy_out_sql(&orders, from, false),
            format!(
                "COPY (SELECT {columns} FROM ONLY {name} WHERE ctid >= '(4,0)'::tid) TO STDOUT"
            )
        );
        assert_eq!(
            copy_out_sql(&orders, to, true),
            format!(
                "COPY (SELECT {columns} FROM ONLY {name} WHERE ctid < '(9,0)'::tid) \
                 TO STDOUT (FORMAT binary)"
            )
        );
        assert_eq!(
            copy_out_sql(&orders, both, false),
            format!(
                "COPY (SELECT {columns} FROM ONLY {name} \
                 WHERE ctid >= '(4,0)'::tid AND ctid < '(9,0)'::tid) TO STDOUT"
            )
        );
        assert_eq!(
            copy_out_limit_sql(&orders, 5),
            format!("COPY (SELECT {columns} FROM ONLY {name} LIMIT 5) TO STDOUT")
        );
        assert_eq!(
            copy_in_sql(&orders, false),
            format!("COPY {name} ({columns}) FROM STDIN")
        );
        assert_eq!(
            copy_in_sql(&orders, true),
            format!("COPY {name} ({columns}) FROM STDIN (FORMAT binary)")
        );
        // A table whose every column is generated: no column list, which would be empty.
        let generated = table("Orders", 10);
        assert_eq!(
            copy_out_sql(&generated, whole, false),
            format!("COPY {name} TO STDOUT")
        );
        assert_eq!(
            copy_in_sql(&generated, true),
            format!("COPY {name} FROM STDIN (FORMAT binary)")
        );
    }

    #[test]
    fn a_blocker_hands_on_whole_rows_of_either_format() {
        let mut text = Blocker::from(RowBlocker::new(1, u64::MAX));
        assert!(text.push(b"1\ta").unwrap().is_none(), "no row is complete");
        let block = text.push(b"\n2\tb\n3").unwrap().expect("two complete rows");
        assert_eq!((&block.data[..], block.rows), (&b"1\ta\n2\tb\n"[..], 2));
        assert!(text.push(b"\tc").unwrap().is_none());
        // The last row lacks its newline: an error, not a row lost.
        assert!(
            Blocker::from(RowBlocker::new(1, u64::MAX))
                .finish()
                .unwrap()
                .is_none()
        );
        assert!(text.finish().is_err());

        // One column: a tuple is its field count, then each field's length and bytes.
        let tuple = [&1i16.to_be_bytes()[..], &1i32.to_be_bytes(), b"x"].concat();
        let mut binary = Blocker::from(BinaryRowBlocker::new(1, usize::MAX, u64::MAX));
        assert!(binary.push(&copy_binary::HEADER).unwrap().is_none());
        assert!(
            binary.push(&tuple).unwrap().is_none(),
            "under the block size"
        );
        assert!(binary.push(&tuple).unwrap().is_none());
        assert!(binary.push(&copy_binary::TRAILER).unwrap().is_none());
        let block = binary.finish().unwrap().expect("the two tuples");
        assert_eq!(
            (&block.data[..], block.rows),
            (&[tuple.clone(), tuple].concat()[..], 2)
        );
        let mut cut = Blocker::from(BinaryRowBlocker::new(1, usize::MAX, u64::MAX));
        cut.push(&copy_binary::HEADER).unwrap();
        assert!(cut.push(&[0, 1]).unwrap().is_none());
        assert!(cut.finish().is_err(), "a stream cut inside a tuple");
    }
}
