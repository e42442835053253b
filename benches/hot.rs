//! Criterion benchmarks of the hot paths of `carbon-gate check` on CodeCarbon logs: parsing (from
//! a string into records, and streamed in chunks into the check's ledger), reconciliation,
//! aggregation and the exactly rounded sum. `cargo bench --bench hot`; whole commands: `bash bench/compare.sh`.
// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::Path;

use carbon_gate::ingest::{codecarbon, stream};
use carbon_gate::ledger::{self, Attribution};
use carbon_gate::units::exact_sum;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const FIXTURE: &str = include_str!("../tests/fixtures/codecarbon/v3.3.2/emissions.csv");

/// A CodeCarbon 3.3 log of `rows` rows: the fixture's header and first row, with distinct run
/// ids (1–3 cumulative snapshots each), four projects and varying figures (deterministic).
fn log(rows: usize) -> String {
    let mut lines = FIXTURE.lines();
    let header = lines.next().unwrap_or_default();
    let template: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.split(',').position(|h| h == name).unwrap_or(0);
    let (project, run, energy, emissions, duration) = (
        col("project_name"),
        col("run_id"),
        col("energy_consumed"),
        col("emissions"),
        col("duration"),
    );
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut text = String::with_capacity(rows * 450);
    text.push_str(header);
    text.push('\n');
    let mut written = 0;
    let mut run_no = 0u64;
    while written < rows {
        run_no += 1;
        let snapshots = 1 + (next() % 3) as usize;
        let name = ["text-gen", "summarizer", "classifier", "embedder"][(next() % 4) as usize];
        let kwh = (next() % 10_000) as f64 / 1000.0 + 0.001;
        for k in 1..=snapshots.min(rows - written) {
            let share = k as f64 / snapshots as f64;
            let mut row = template.clone();
            let (id, e, c, d) = (
                format!(
                    "{run_no:08x}-0000-4000-8000-{:012x}",
                    next() & 0xffff_ffff_ffff
                ),
                (kwh * share).to_string(),
                (kwh * share * 0.056).to_string(),
                (3600.0 * share).to_string(),
            );
            row[project] = name;
            row[run] = &id;
            row[energy] = &e;
            row[emissions] = &c;
            row[duration] = &d;
            text.push_str(&row.join(","));
            text.push('\n');
            written += 1;
        }
    }
    text
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("codecarbon_parse");
    group.sample_size(10);
    for rows in [1_000, 100_000] {
        let text = log(rows);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("str/{rows}"), |b| {
            b.iter(|| codecarbon::parse(Path::new("e.csv"), black_box(&text)))
        });
        group.bench_function(format!("reduce/{rows}"), |b| {
            b.iter(|| {
                let mut reducer = ledger::reduce::Reducer::default();
                let mut warnings = Vec::new();
                let mut rest = black_box(text.as_bytes());
                stream::read(
                    Path::new("e.csv"),
                    Vec::new(),
                    &mut rest,
                    None,
                    &mut reducer,
                    &mut warnings,
                )
                .map(|_| {
                    reducer
                        .finish(&Attribution::default())
                        .map(|(e, _)| e.len())
                })
            })
        });
    }
    group.finish();
}

fn ledger(c: &mut Criterion) {
    let mut group = c.benchmark_group("ledger");
    group.sample_size(10);
    for rows in [1_000, 100_000] {
        let records = codecarbon::parse(Path::new("e.csv"), &log(rows))
            .map(|p| p.records)
            .unwrap_or_default();
        assert_eq!(records.len(), rows);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(format!("reconcile/{rows}"), |b| {
            b.iter_batched(|| records.clone(), ledger::reconcile, BatchSize::LargeInput)
        });
        group.bench_function(format!("aggregate/{rows}"), |b| {
            b.iter_batched(
                || ledger::reconcile(records.clone()),
                |r| r.and_then(|mut r| ledger::aggregate(&mut r, &Attribution::default())),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn sums(c: &mut Criterion) {
    let mut group = c.benchmark_group("exact_sum");
    let mut x = 0.1f64;
    let values: Vec<f64> = (0..1_000_000)
        .map(|i| {
            x = (x * 3.7 + 0.123).fract();
            x * 10f64.powi(i % 7 - 3)
        })
        .collect();
    group.throughput(Throughput::Elements(values.len() as u64));
    group.bench_function("exact_sum/1000000", |b| {
        b.iter(|| exact_sum(black_box(&values).iter().copied()))
    });
    group.bench_function("naive_sum/1000000", |b| {
        b.iter(|| black_box(&values).iter().sum::<f64>())
    });
    group.finish();
}

criterion_group!(benches, parse, ledger, sums);
criterion_main!(benches);
