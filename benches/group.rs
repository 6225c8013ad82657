//! `-b` at scale: the outputs of 5,000 hosts, an sshd_config of about a
//! kilobyte each in four variants (every host naming itself and its address
//! in it), hashed, grouped and printed, as the reporter thread does it.

use std::hint::black_box;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fleet::event::{Event, RunEnd, Stats, Stream, Tail};
use fleet::outcome::Outcome;
use fleet::report::{self, Files, OutputMode, Prefix, ReportOptions};

const HOSTS: usize = 5_000;
const VARIANTS: usize = 4;

fn address(i: usize) -> String {
    format!("10.0.{}.{}", i / 250, i % 250)
}

/// What a run of `HOSTS` hosts sends the outputs.
fn events() -> Vec<Event> {
    let hosts: Vec<Arc<str>> = (1..=HOSTS)
        .map(|i| Arc::from(format!("web-{i:04}")))
        .collect();
    let mut events = vec![Event::RunStarted {
        hosts: hosts.iter().cloned().collect(),
    }];
    for (i, host) in hosts.iter().enumerate() {
        let mut config = format!(
            "# {host}, style {}\nListenAddress {}\n",
            i % VARIANTS,
            address(i)
        );
        for line in 0..30 {
            config.push_str(&format!(
                "Option{line} value-{}\n",
                if line == i % VARIANTS { "x" } else { "y" }
            ));
        }
        events.push(Event::Output {
            host: host.clone(),
            stream: Stream::Stdout,
            data: Bytes::from(config),
            tail: Tail::Newline,
        });
        events.push(Event::HostFinished {
            host: host.clone(),
            outcome: Outcome::exited(0),
            duration: Duration::from_millis(300),
            stats: Stats::default(),
        });
    }
    let mut stats = Stats {
        total: HOSTS,
        ..Stats::default()
    };
    stats.counts[0] = HOSTS;
    events.push(Event::RunFinished(RunEnd::new(
        stats,
        Duration::from_secs(3),
        false,
    )));
    events
}

fn group(c: &mut Criterion) {
    let events = events();
    let bytes: usize = events
        .iter()
        .map(|event| match event {
            Event::Output { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    let opts = ReportOptions {
        mode: OutputMode::Grouped,
        color: false,
        progress: false,
        prefix: Prefix::Alias,
        checks: false,
        files: Files::NONE,
        addresses: Some(Arc::new(
            (1..=HOSTS)
                .map(|i| (format!("web-{i:04}"), address(i - 1)))
                .collect(),
        )),
    };
    assert_eq!(
        groups(&opts, &events),
        VARIANTS,
        "the bench must group what it says"
    );
    let mut bench = c.benchmark_group("group");
    bench.throughput(Throughput::Bytes(bytes as u64));
    bench.sample_size(20);
    bench.bench_function("5000 hosts, 4 distinct outputs", |b| {
        b.iter(|| {
            let mut reporters = report::build(&opts, Box::new(io::sink()), Box::new(io::sink()));
            for event in &events {
                reporters.report(black_box(event));
            }
            reporters.flush();
        })
    });
    bench.finish();
}

/// A writer whose bytes stay readable through a clone.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How many groups the run's output has.
fn groups(opts: &ReportOptions, events: &[Event]) -> usize {
    let stdout = Shared::default();
    let mut reporters = report::build(opts, Box::new(stdout.clone()), Box::new(io::sink()));
    for event in events {
        reporters.report(event);
    }
    reporters.flush();
    let bytes = stdout.0.lock().unwrap_or_else(|e| e.into_inner());
    let text = String::from_utf8_lossy(&bytes);
    text.lines().filter(|line| line.starts_with("── ")).count()
}

criterion_group!(benches, group);
criterion_main!(benches);
