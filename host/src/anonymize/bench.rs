//! Throughput of the hot strategies on one core: `cargo test --release -- --ignored bench`.

use std::time::Instant;

use super::TextBatch;
use super::column::ColumnType;
use super::testing::build;

#[test]
#[ignore = "benchmark: run with --release -- --ignored"]
fn bench_strategies() {
    const N: usize = 1_000_000;
    let emails: Vec<String> = (0..N).map(|i| format!("person.{i}@example.org")).collect();
    let names: Vec<String> = (0..N).map(|i| format!("Person Number{i}")).collect();
    let phones: Vec<String> = (0..N)
        .map(|i| format!("+1 (555) {:03}-{:04}", i / 10_000, i % 10_000))
        .collect();
    for (strategy, type_name, values) in [
        ("email", "character varying(255)", &emails),
        ("full_name", "text", &names),
        ("phone", "text", &phones),
    ] {
        let batch = TextBatch::from_values(values.iter().map(|v| Some(v.as_str())));
        let strategy = build(strategy, "{}", "bench-secret");
        let column = ColumnType::parse(type_name);
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            let out = strategy.anonymize(&column, &batch).unwrap();
            best = best.min(start.elapsed().as_secs_f64());
            assert_eq!(out.len(), N);
        }
        println!(
            "{:<10} {:>6.2} M values/s",
            strategy.name(),
            N as f64 / best / 1e6
        );
    }
}
