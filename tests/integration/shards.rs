//! Shards end to end: the shards of one selection cover every host exactly
//! once, and their concatenated `--json` output summarises, with `fleet
//! report`, to what one unsharded run says.

use std::collections::BTreeSet;
use std::fs;

use super::fixture::Lab;
use super::invocation::invoke;

/// The first line of a summary without its duration: `9 hosts: 8 ok, 1
/// unreachable`.
fn counts(summary: &str) -> String {
    let first = summary
        .lines()
        .find(|l| l.contains(" host"))
        .unwrap_or_default();
    first
        .rsplit_once(" (")
        .map_or(first, |(counts, _)| counts)
        .to_string()
}

#[test]
fn three_shards_cover_every_host_once_and_summarise_like_one_run() {
    let lab = Lab::builder().healthy(8).refused("gone").build();
    let whole = invoke(lab.fleet().args(["run", "--json", "h*,gone", "true"]));
    whole.assert_exit(2);
    let everyone: BTreeSet<String> = whole.results().into_keys().collect();
    assert_eq!(everyone.len(), 9, "{whole}");

    let mut seen = BTreeSet::new();
    let mut merged = String::new();
    for k in 1..=3 {
        let shard = invoke(lab.fleet().args([
            "run",
            "--json",
            "--shard",
            &format!("{k}/3"),
            "h*,gone",
            "true",
        ]));
        for host in shard.results().into_keys() {
            assert!(seen.insert(host.clone()), "{host} is in two shards");
        }
        merged.push_str(&shard.stdout);
    }
    assert_eq!(seen, everyone);

    // The same shards, as a Kubernetes Indexed Job numbers them from 0.
    let mut indexed = BTreeSet::new();
    for index in 0..3 {
        let pod = invoke(
            lab.fleet()
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .args(["run", "--json", "--shard-count", "3", "h*,gone", "true"]),
        );
        indexed.extend(pod.results().into_keys());
    }
    assert_eq!(indexed, everyone);

    let file = lab.home.join("shards.jsonl");
    fs::write(&file, merged).unwrap();
    let report = invoke(lab.fleet().arg("report").arg(&file));
    report.assert_exit(2);
    let unsharded = invoke(lab.fleet().args(["run", "h*,gone", "true"]));
    assert_eq!(
        counts(&report.stderr),
        counts(&unsharded.stderr),
        "{report}"
    );
    assert_eq!(
        counts(&report.stderr),
        "9 hosts: 8 ok, 1 unreachable",
        "{report}"
    );
    assert!(
        report.stderr.contains("connection refused: gone"),
        "{report}"
    );
    assert!(
        report.stderr.contains("hint: the host answered"),
        "{report}"
    );
}

#[test]
fn bad_shards_and_records_are_clear_errors() {
    let lab = Lab::builder().healthy(1).build();
    let run = invoke(lab.fleet().args(["run", "--shard", "4/3", "h01", "true"]));
    run.assert_exit(3);
    assert!(run.stderr.contains("'4/3' is not a shard"), "{run}");
    let run = invoke(lab.fleet().env_remove("JOB_COMPLETION_INDEX").args([
        "run",
        "--shard-count",
        "3",
        "h01",
        "true",
    ]));
    run.assert_exit(3);
    assert!(run.stderr.contains("JOB_COMPLETION_INDEX"), "{run}");
    let file = lab.home.join("broken.jsonl");
    fs::write(&file, "{\"type\":\"summary\"}\n{oops\n").unwrap();
    let report = invoke(lab.fleet().arg("report").arg(&file));
    report.assert_exit(3);
    assert!(
        report
            .stderr
            .contains(&format!("{}:2: not a fleet --json record", file.display())),
        "{report}"
    );
}
