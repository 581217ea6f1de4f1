//! Packed batches: encode/decode round trips and layout checks.

// Test helpers unwrap: a panic in a test is a failed test with its message.
#![allow(clippy::unwrap_used)]

use confiture_sdk::{TextBatch, TextBatchBuilder, TextBatchView};

fn round_trip(values: &[Option<&str>]) {
    let batch = TextBatch::from_values(values.iter().copied());
    assert_eq!(batch.len(), values.len());
    assert_eq!(batch.view().unwrap().to_vec(), values);
}

#[test]
fn round_trips_nulls_empty_strings_and_non_ascii() {
    round_trip(&[]);
    round_trip(&[None]);
    round_trip(&[Some("")]);
    round_trip(&[Some(""), None, Some(""), None]);
    round_trip(&[
        Some("café"),
        Some("日本語"),
        None,
        Some("🦀 crab"),
        Some("a\0b"),
        Some(""),
    ]);
}

#[test]
fn round_trips_across_null_bitmap_bytes() {
    let owned: Vec<Option<String>> = (0..37)
        .map(|i| (i % 3 != 0).then(|| format!("v{i}")))
        .collect();
    let values: Vec<Option<&str>> = owned.iter().map(Option::as_deref).collect();
    let batch = TextBatch::from_values(values.iter().copied());
    assert_eq!(batch.nulls.len(), 5);
    assert_eq!(batch.view().unwrap().to_vec(), values);
}

#[test]
fn packs_as_the_contract_says() {
    let batch = TextBatch::from_values([Some("ab"), None, Some("é")]);
    assert_eq!(batch.data, "abé".as_bytes());
    assert_eq!(batch.offsets, [0, 2, 2, 4]);
    assert_eq!(batch.nulls, [0b010]);
}

#[test]
fn views_borrow_the_input_without_copying() {
    let data = b"helloworld".to_vec();
    let view = TextBatchView::new(&data, &[0, 5, 10], &[0]).unwrap();
    let first = view.get(0).unwrap();
    assert_eq!(first, "hello");
    assert!(std::ptr::eq(first.as_ptr(), data.as_ptr()));
    assert_eq!(view.iter().len(), 2);
}

#[test]
fn builder_writes_in_place_and_formats() {
    use std::fmt::Write;
    let mut builder = TextBatchBuilder::with_capacity(3, 16);
    builder.push_with(|w| write!(w, "n={}", 42).unwrap());
    builder.push_null();
    builder.push_with(|w| {
        w.push_str("x");
        w.push('ÿ');
    });
    assert_eq!(builder.len(), 3);
    let batch = builder.finish();
    assert_eq!(
        batch.view().unwrap().to_vec(),
        [Some("n=42"), None, Some("xÿ")]
    );
}

#[test]
fn builder_maps_ascii_bytes_in_place_and_copies_other_characters() {
    let mut builder = TextBatchBuilder::new();
    builder.push_ascii_mapped("☎ +33 (6) ９12-é", |byte| {
        if byte.is_ascii_digit() {
            b'#'
        } else {
            byte.to_ascii_uppercase()
        }
    });
    builder.push_ascii_mapped("", |_| b'x');
    let batch = builder.finish();
    assert_eq!(
        batch.view().unwrap().to_vec(),
        [Some("☎ +## (#) ９##-é"), Some("")]
    );
}

#[test]
#[should_panic(expected = "is not ASCII")]
fn builder_refuses_an_ascii_mapping_to_a_non_ascii_byte() {
    TextBatchBuilder::new().push_ascii_mapped("a", |_| 0xc3);
}

#[test]
fn rejects_malformed_layouts_with_a_reason() {
    let reject = |data: &[u8], offsets: &[u32], nulls: &[u8], expected: &str| {
        let error = TextBatchView::new(data, offsets, nulls).unwrap_err();
        assert!(
            error.message().contains(expected),
            "{error} lacks {expected}"
        );
    };
    reject(b"abc", &[], &[], "no offsets");
    reject(b"abc", &[1, 3], &[0], "first offset");
    reject(b"abc", &[0, 2, 1], &[0], "value 1 spans 2..1");
    reject(b"abc", &[0, 4], &[0], "outside the 3 bytes");
    reject("é".as_bytes(), &[0, 1], &[0], "inside a UTF-8 character");
    reject(&[0xff], &[0, 1], &[0], "not UTF-8");
    reject(
        b"abcdefghi",
        &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        &[0],
        "null bitmap",
    );
}

#[test]
fn an_empty_batch_needs_one_offset() {
    let view = TextBatchView::new(b"", &[0], &[]).unwrap();
    assert!(view.is_empty());
}
