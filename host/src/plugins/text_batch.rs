//! [`TextBatch`], the packed column of text values that crosses the WASM boundary and the sync
//! pipeline alike: building, reading and checking one.

use super::bindings::strategy::TextBatch;

impl TextBatch {
    /// Packs values (`None` is NULL) into one buffer with offsets and a null bitmap.
    pub fn from_values<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> TextBatch {
        let mut batch = TextBatch::empty();
        for value in values {
            batch.push(value.map(str::as_bytes));
        }
        batch
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` (`None` for NULL, and for bytes that are not UTF-8); call
    /// [`TextBatch::check`] first on untrusted batches.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.get_bytes(i).and_then(|b| std::str::from_utf8(b).ok())
    }

    /// Every value, in order.
    pub fn values(&self) -> impl Iterator<Item = Option<&str>> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Checks the batch is well formed and holds `expected` values: offsets start at 0,
    /// never decrease and stay inside the data, the bitmap covers every value, and every
    /// non-NULL value is UTF-8.
    pub fn check(&self, expected: usize) -> Result<(), String> {
        if self.offsets.len() != expected + 1 {
            return Err(format!(
                "returned {} values for {expected}",
                self.offsets.len().saturating_sub(1)
            ));
        }
        if self.offsets.first() != Some(&0) {
            return Err("returned offsets that do not start at 0".into());
        }
        if self.offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err("returned decreasing offsets".into());
        }
        if *self.offsets.last().unwrap_or(&0) as usize > self.data.len() {
            return Err(format!(
                "returned offsets past the end of its {} bytes of data",
                self.data.len()
            ));
        }
        if self.nulls.len() < expected.div_ceil(8) {
            return Err(format!(
                "returned a null bitmap of {} bytes for {expected} values",
                self.nulls.len()
            ));
        }
        // The common case in one pass: all the data is UTF-8 and every offset falls on a
        // character boundary, so every value is UTF-8. Otherwise each non-NULL value is checked
        // on its own (bytes outside any value, or in NULL ones, do not matter) to name the bad one.
        if let Ok(text) = std::str::from_utf8(&self.data)
            && self
                .offsets
                .iter()
                .all(|&o| text.is_char_boundary(o as usize))
        {
            return Ok(());
        }
        for i in 0..expected {
            let null = self.nulls[i / 8] & (1 << (i % 8)) != 0;
            let (start, end) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
            if !null && std::str::from_utf8(&self.data[start..end]).is_err() {
                return Err(format!("returned value {i}, which is not UTF-8"));
            }
        }
        Ok(())
    }

    /// An empty batch.
    pub fn empty() -> TextBatch {
        TextBatch::with_capacity(0, 0)
    }

    /// An empty batch with room for `values` values holding `bytes` bytes in all.
    pub fn with_capacity(values: usize, bytes: usize) -> TextBatch {
        let mut offsets = Vec::with_capacity(values + 1);
        offsets.push(0);
        TextBatch {
            data: Vec::with_capacity(bytes),
            offsets,
            nulls: Vec::with_capacity(values.div_ceil(8)),
        }
    }

    /// True when value `i` is NULL.
    pub fn is_null(&self, i: usize) -> bool {
        self.nulls
            .get(i / 8)
            .is_some_and(|byte| byte & (1 << (i % 8)) != 0)
    }

    /// Value `i` as bytes, `None` when NULL. Panics when `i >= len()`.
    pub fn get_bytes(&self, i: usize) -> Option<&[u8]> {
        if self.is_null(i) {
            None
        } else {
            Some(&self.data[self.offsets[i] as usize..self.offsets[i + 1] as usize])
        }
    }

    /// Appends a value (`None` for NULL).
    pub fn push(&mut self, value: Option<&[u8]>) {
        match value {
            Some(bytes) => self.push_with(|data| data.extend_from_slice(bytes)),
            None => {
                let i = self.len();
                self.push_with(|_| {});
                self.nulls[i / 8] |= 1 << (i % 8);
            }
        }
    }

    /// Appends a value whose bytes `write` appends to `data` (for decoders writing in place).
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let i = self.len();
        if i.is_multiple_of(8) {
            self.nulls.push(0);
        }
        write(&mut self.data);
        let end = u32::try_from(self.data.len()).expect("a text batch holds less than 4 GiB");
        self.offsets.push(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_checks_batches() {
        let batch = TextBatch::from_values([Some("a@x.org"), None, Some(""), Some("é")]);
        assert_eq!(batch.len(), 4);
        assert_eq!(batch.offsets, vec![0, 7, 7, 7, 9]);
        assert_eq!(batch.nulls, vec![0b10]);
        assert_eq!(
            batch.values().collect::<Vec<_>>(),
            vec![Some("a@x.org"), None, Some(""), Some("é")]
        );
        assert!(batch.check(4).is_ok());
        assert_eq!(batch.check(3).unwrap_err(), "returned 4 values for 3");

        let mut bad = batch.clone();
        bad.offsets[4] = 99;
        assert!(bad.check(4).unwrap_err().contains("past the end"));
        let mut bad = batch.clone();
        bad.offsets[2] = 1;
        assert!(bad.check(4).unwrap_err().contains("decreasing"));
        let mut bad = batch.clone();
        bad.data[7] = 0xff;
        assert!(bad.check(4).unwrap_err().contains("not UTF-8"));
        // Bytes that are not UTF-8 inside a NULL value, or split characters across values, are
        // judged value by value, as the slow path does.
        let mut null_garbage = TextBatch::from_values([Some("a"), None, Some("b")]);
        null_garbage.data = vec![b'a', 0xff, b'b'];
        null_garbage.offsets = vec![0, 1, 2, 3];
        assert!(null_garbage.check(3).is_ok());
        let mut split = TextBatch::from_values([Some("é")]);
        split.offsets = vec![0, 1];
        assert!(split.check(1).unwrap_err().contains("value 0"));
        let mut bad = batch;
        bad.nulls.clear();
        assert!(bad.check(4).unwrap_err().contains("null bitmap"));
    }
}
