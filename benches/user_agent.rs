//! What reading a User-Agent costs the access log's writer (woothee), next to
//! a baseline measured in the same run: building the line's owned strings,
//! which the writer does for every line anyway. The parse runs in the writer
//! task, never in the request; this says how many lines a second one writer
//! can describe.
//!
//! Run: `cargo bench -p justbookme --bench user_agent`

use criterion::{Criterion, criterion_group, criterion_main};
use justbookme::access_log::describe_user_agent;

const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                       Chrome/124.0.0.0 Mobile Safari/537.36 Telegram-Android/11.0.0";

fn user_agents(c: &mut Criterion) {
    let mut group = c.benchmark_group("user_agent");
    group.bench_function("baseline: copy the string", |b| {
        b.iter(|| std::hint::black_box(std::hint::black_box(ANDROID).to_owned()))
    });
    group.bench_function("woothee: device, browser, OS", |b| {
        b.iter(|| describe_user_agent(std::hint::black_box(ANDROID)))
    });
    group.finish();
}

criterion_group!(benches, user_agents);
criterion_main!(benches);
