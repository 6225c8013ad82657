//! Target resolution over 100,000 ssh_config aliases: globs, exclusions and
//! a range must stay far below the second a user would notice before a run
//! starts, and grow linearly with the fleet.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use fleet::hosts::ssh_config::{LocalEnv, SshConfig};
use fleet::hosts::{Catalog, Inventory};

const HOSTS: u32 = 100_000;

fn resolve(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("config");
    let config: String = (1..=HOSTS)
        .map(|i| {
            format!(
                "Host web-{i:06}\n    HostName 10.{}.{}.{}\n    User deploy\n\n",
                i / 65536,
                (i / 256) % 256,
                i % 256
            )
        })
        .collect();
    std::fs::write(&path, config).expect("write the generated ssh_config");
    let env = LocalEnv {
        home: dir.path().to_path_buf(),
        user: "bench".to_string(),
    };
    let ssh_config = SshConfig::load(&path, &env).expect("parse the generated ssh_config");
    let catalog = Catalog::new(ssh_config, Inventory::default());

    c.bench_function("select web-* from 100k aliases", |b| {
        b.iter(|| catalog.select(black_box("web-*"), &[]).expect("select"))
    });
    c.bench_function("select web-*,!web-0[0-4]* from 100k aliases", |b| {
        b.iter(|| {
            catalog
                .select(black_box("web-*,!web-0[0-4]*"), &[])
                .expect("select")
        })
    });
    c.bench_function("resolve web-* from 100k aliases", |b| {
        b.iter(|| catalog.resolve(black_box("web-*"), &[]).expect("resolve"))
    });
    c.bench_function("resolve web-[000001-100000]", |b| {
        b.iter(|| {
            catalog
                .resolve(black_box("web-[000001-100000]"), &[])
                .expect("resolve")
        })
    });
}

fn fold(c: &mut Criterion) {
    // Ten racks of ten thousand, with gaps, as a fleet that grew looks.
    let names: Vec<String> = (0..10)
        .flat_map(|rack| {
            (1..=10_000)
                .filter(|i| i % 97 != 0)
                .map(move |i| format!("r{rack}-web-{i:05}"))
        })
        .collect();
    c.bench_function("fold 100k host names into ranges", |b| {
        b.iter(|| fleet::hosts::nodeset::fold(black_box(names.iter().map(String::as_str))))
    });
}

criterion_group!(benches, resolve, fold);
criterion_main!(benches);
