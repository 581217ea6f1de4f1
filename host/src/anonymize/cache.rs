//! `cache: N` on a column rule: a bounded memory of input → output pairs in front of an
//! expensive deterministic strategy, so repeated values (countries, cities, common names) cost
//! one call each. The cache is emptied when it is full.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::bail;

use super::{ColumnType, Strategy, TextBatch};

/// Input bytes to output bytes (`None`: the strategy returned NULL).
type Entries = HashMap<Box<[u8]>, Option<Box<[u8]>>>;

/// A strategy with a bounded cache in front.
pub struct Cached {
    inner: Arc<dyn Strategy>,
    capacity: usize,
    entries: Mutex<Entries>,
}

impl Cached {
    /// `inner` behind a cache of at most `capacity` entries. Refused for strategies that read
    /// row context: their output depends on more than the value.
    pub fn wrap(inner: Arc<dyn Strategy>, capacity: usize) -> anyhow::Result<Arc<dyn Strategy>> {
        if capacity == 0 {
            bail!("`cache: 0` caches nothing; give a number of entries, or remove `cache`");
        }
        if !inner.context_columns().is_empty() {
            bail!(
                "strategy `{}` reads row context ({}), so its output cannot be cached by value; \
                 remove `cache`",
                inner.name(),
                inner.context_columns().join(", ")
            );
        }
        Ok(Arc::new(Cached {
            inner,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }))
    }
}

impl Strategy for Cached {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn needs_output_check(&self) -> bool {
        self.inner.needs_output_check()
    }

    fn check_column(&self, column: &ColumnType) -> anyhow::Result<()> {
        self.inner.check_column(column)
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> anyhow::Result<TextBatch> {
        let mut found: Vec<Option<Option<Box<[u8]>>>> = Vec::with_capacity(values.len());
        let mut misses = TextBatch::empty();
        {
            let entries = self
                .entries
                .lock()
                .expect("the cache lock is never poisoned");
            for i in 0..values.len() {
                match values.get_bytes(i) {
                    None => found.push(Some(None)),
                    Some(value) => match entries.get(value) {
                        Some(hit) => found.push(Some(hit.clone())),
                        None => {
                            found.push(None);
                            misses.push(Some(value));
                        }
                    },
                }
            }
        }
        let computed = if misses.is_empty() {
            TextBatch::empty()
        } else {
            self.inner.anonymize(column, &misses)?
        };
        if computed.len() != misses.len() {
            bail!(
                "strategy `{}` returned {} values for {}",
                self.inner.name(),
                computed.len(),
                misses.len()
            );
        }
        let mut entries = self
            .entries
            .lock()
            .expect("the cache lock is never poisoned");
        let mut out = TextBatch::with_capacity(values.len(), values.data.len());
        let mut next_miss = 0;
        for (i, slot) in found.into_iter().enumerate() {
            match slot {
                Some(value) => out.push(value.as_deref()),
                None => {
                    let result = computed.get_bytes(next_miss);
                    next_miss += 1;
                    out.push(result);
                    if entries.len() >= self.capacity {
                        entries.clear();
                    }
                    let key = values.get_bytes(i).expect("misses are not NULL");
                    entries.insert(key.into(), result.map(Into::into));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Upper-cases values and counts how many it was given.
    struct Counting(AtomicUsize);

    impl Strategy for Counting {
        fn name(&self) -> &str {
            "counting"
        }

        fn anonymize(&self, _: &ColumnType, values: &TextBatch) -> anyhow::Result<TextBatch> {
            self.0.fetch_add(values.len(), Ordering::Relaxed);
            let upper: Vec<Option<String>> =
                values.values().map(|v| v.map(str::to_uppercase)).collect();
            Ok(TextBatch::from_values(upper.iter().map(|v| v.as_deref())))
        }
    }

    #[test]
    fn repeated_values_are_computed_once_and_outputs_keep_order() {
        let inner = Arc::new(Counting(AtomicUsize::new(0)));
        let cached = Cached::wrap(inner.clone(), 100).unwrap();
        let column = ColumnType::parse("text");
        let batch = TextBatch::from_values([Some("fr"), None, Some("de"), Some("fr"), Some("fr")]);
        let out = cached.anonymize(&column, &batch).unwrap();
        assert_eq!(
            out.values().collect::<Vec<_>>(),
            [Some("FR"), None, Some("DE"), Some("FR"), Some("FR")]
        );
        // `fr` twice in the first batch: both missed before the call, so 4 computed.
        assert_eq!(inner.0.load(Ordering::Relaxed), 4);
        let again = cached.anonymize(&column, &batch).unwrap();
        assert_eq!(
            again.values().collect::<Vec<_>>(),
            out.values().collect::<Vec<_>>()
        );
        assert_eq!(
            inner.0.load(Ordering::Relaxed),
            4,
            "the second batch is all hits"
        );
    }

    #[test]
    fn stays_bounded() {
        let inner = Arc::new(Counting(AtomicUsize::new(0)));
        let cached = Cached {
            inner: inner.clone(),
            capacity: 2,
            entries: Mutex::new(HashMap::new()),
        };
        let column = ColumnType::parse("text");
        let batch = TextBatch::from_values([Some("a"), Some("b"), Some("c"), Some("d")]);
        cached.anonymize(&column, &batch).unwrap();
        assert!(cached.entries.lock().unwrap().len() <= 2);
        assert!(Cached::wrap(inner, 0).is_err());
    }
}
