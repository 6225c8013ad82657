//! Target resolution over 10,000 ssh_config aliases: a glob and a range must
//! stay far below the second a user would notice before a run starts.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use fleet::hosts::ssh_config::{LocalEnv, SshConfig};
use fleet::hosts::{Catalog, Inventory};

const HOSTS: u32 = 10_000;

fn resolve(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("config");
    let config: String = (1..=HOSTS)
        .map(|i| {
            format!(
                "Host web-{i:05}\n    HostName 10.0.{}.{}\n    User deploy\n\n",
                i / 256,
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

    c.bench_function("select web-* from 10k aliases", |b| {
        b.iter(|| catalog.select(black_box("web-*"), &[]).expect("select"))
    });
    c.bench_function("resolve web-* from 10k aliases", |b| {
        b.iter(|| catalog.resolve(black_box("web-*"), &[]).expect("resolve"))
    });
    c.bench_function("resolve web-[00001-10000]", |b| {
        b.iter(|| {
            catalog
                .resolve(black_box("web-[00001-10000]"), &[])
                .expect("resolve")
        })
    });
}

criterion_group!(benches, resolve);
criterion_main!(benches);
