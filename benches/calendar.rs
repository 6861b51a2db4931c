//! Benchmarks for the working-day calendar.
//!
//! Run with: `cargo bench --bench calendar -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use ldr::domain::calendar::Calendar;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid bench date")
}

fn bench_calendar(c: &mut Criterion) {
    let cal = Calendar::computed();
    let start = date(2026, 3, 2);
    let end_5000 = cal
        .add_working_days(start, 5_000)
        .expect("5,000 working days after 2026-03-02 is in range");

    c.bench_function("add_working_days/20", |b| {
        b.iter(|| black_box(&cal).add_working_days(black_box(start), black_box(20)))
    });
    c.bench_function("add_working_days/5000", |b| {
        b.iter(|| black_box(&cal).add_working_days(black_box(start), black_box(5_000)))
    });
    c.bench_function("add_working_days/-5000", |b| {
        b.iter(|| black_box(&cal).add_working_days(black_box(end_5000), black_box(-5_000)))
    });
    c.bench_function("working_days_between/5000", |b| {
        b.iter(|| black_box(&cal).working_days_between(black_box(start), black_box(end_5000)))
    });
    c.bench_function("is_working_day", |b| {
        b.iter(|| black_box(&cal).is_working_day(black_box(start)))
    });
    let govuk = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bank-holidays.json"),
    )
    .expect("read the GOV.UK fixture");
    c.bench_function("Calendar::from_govuk_json (GOV.UK file)", |b| {
        b.iter(|| Calendar::from_govuk_json(black_box(&govuk)).expect("valid fixture"))
    });
    c.bench_function("Calendar::computed (cached clone)", |b| {
        b.iter(Calendar::computed)
    });
}

criterion_group!(benches, bench_calendar);
criterion_main!(benches);
