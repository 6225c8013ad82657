//! Snapshot tests of every output over one scripted run: what the user sees
//! in each mode, and what each file output writes. Durations and times are
//! redacted, so the snapshots hold only what must not change unnoticed.

use std::path::Path;

use crate::cause::Cause;
use crate::event::{Event, Stream, Tail};
use crate::outcome::Outcome;
use crate::plan::Missed;
use crate::report::testing::{
    err, exited, finished, host_started, out, raw, run, run_finished, started, PLAIN,
};
use crate::report::{Files, OutputMode, ReportOptions};

const HOSTS: [&str; 8] = [
    "web-01", "web-02", "web-03", "web-04", "web-05", "web-06", "web-07", "bad-1",
];

const CONFIG: &str = "PasswordAuthentication no\nPort 22\nUsePAM yes";

/// Eight hosts print an sshd_config excerpt, interleaved: four agree,
/// web-03 allows passwords, web-05 also warns on stderr, web-06 exits 3,
/// web-07 sends a control sequence and no final newline, and bad-1 is
/// never reached.
fn events() -> Vec<Event> {
    let mut events = vec![started(&HOSTS)];
    events.extend(HOSTS.iter().map(|h| host_started(h)));
    for (i, line) in CONFIG.lines().enumerate() {
        for host in ["web-01", "web-02", "web-04", "web-05", "web-06"] {
            if !(host == "web-06" && i == 0) {
                events.push(out(host, line));
            }
        }
        let line = if i == 0 {
            "PasswordAuthentication yes"
        } else {
            line
        };
        events.push(out("web-03", line));
    }
    events.push(err("web-05", "warning: <b>deprecated</b> option"));
    events.push(raw(
        "web-07",
        Stream::Stdout,
        "\x1b]0;owned\x07title\nno newline",
        Tail::Eof,
    ));
    for host in ["web-01", "web-02", "web-03", "web-04", "web-05"] {
        events.push(exited(host, 0));
    }
    events.push(exited("web-06", 3));
    events.push(exited("web-07", 0));
    events.push(finished("bad-1", Cause::Refused));
    events.push(run_finished());
    events
}

fn mode(mode: OutputMode) -> ReportOptions {
    ReportOptions { mode, ..PLAIN }
}

/// Both streams, as one snapshot.
fn shown(opts: ReportOptions, events: &[Event]) -> String {
    let (stdout, stderr) = run(opts, events);
    format!("--- stdout ---\n{stdout}--- stderr ---\n{stderr}")
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r"\b\d+(\.\d+)?s\b", "[duration]"),
            (r"\b\d+m\d\ds\b", "[duration]"),
            (r#""duration_ms": ?\d+"#, r#""duration_ms": [ms]"#),
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[time]"),
            (r"(?s)<style>.*?</style>", "<style>[…]</style>"),
            (r"(?s)<script>.*?</script>", "<script>[…]</script>"),
            (r"/[^\s]*/fleet-snapshot[^/\s]*", "[dir]"),
        ]}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

#[test]
fn lines() {
    snapshot!("lines", shown(mode(OutputMode::Lines), &events()));
}

#[test]
fn json() {
    snapshot!("json", shown(mode(OutputMode::Json), &events()));
}

#[test]
fn buffer() {
    snapshot!("buffer", shown(mode(OutputMode::Buffer), &events()));
}

#[test]
fn grouped() {
    snapshot!("grouped", shown(mode(OutputMode::Grouped), &events()));
}

#[test]
fn diff() {
    snapshot!("diff", shown(mode(OutputMode::Diff), &events()));
}

#[test]
fn live_grouped() {
    snapshot!(
        "live_grouped",
        shown(mode(OutputMode::LiveGrouped), &events())
    );
}

#[test]
fn grouped_with_color() {
    let opts = ReportOptions {
        color: true,
        ..mode(OutputMode::Diff)
    };
    snapshot!("grouped_with_color", shown(opts, &events()));
}

#[test]
fn compliance_summary() {
    let missed = |pattern: &str, exit| {
        Outcome::failed(Cause::Mismatch {
            verdict: Missed {
                missing: vec![pattern.into()],
                forbidden: Vec::new(),
            },
            exit,
        })
    };
    let events = [
        started(&["web-01", "web-02", "web-03", "web-04", "bad-1"]),
        crate::report::testing::ended("web-01", Outcome::exited(0)),
        crate::report::testing::ended("web-02", Outcome::exited(0)),
        crate::report::testing::ended("web-03", missed("^passwordauthentication no$", 0)),
        crate::report::testing::ended("web-04", missed("^passwordauthentication no$", 1)),
        finished("bad-1", Cause::Refused),
        run_finished(),
    ];
    let opts = ReportOptions {
        checks: true,
        ..PLAIN
    };
    snapshot!("compliance_summary", shown(opts, &events));
}

/// Every file under `dir`, sorted, with its contents.
fn files(dir: &Path) -> String {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    let mut text = String::new();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        text.push_str(&format!(
            "=== {name}\n{}\n",
            String::from_utf8_lossy(&bytes).escape_debug()
        ));
    }
    text
}

fn with_files(files: impl FnOnce(&Path) -> Files) -> (tempfile::TempDir, String) {
    let dir = tempfile::Builder::new()
        .prefix("fleet-snapshot")
        .tempdir()
        .unwrap();
    let opts = ReportOptions {
        files: files(dir.path()),
        ..PLAIN
    };
    let shown = shown(opts, &events());
    (dir, shown)
}

#[test]
fn out_dir() {
    let (dir, shown) = with_files(|dir| {
        crate::report::out_dir::prepare(&dir.join("out")).unwrap();
        Files {
            command: "sshd -T".into(),
            out_dir: Some(dir.join("out")),
            ..Files::NONE
        }
    });
    snapshot!(
        "out_dir",
        format!("{}{shown}", files(&dir.path().join("out")))
    );
}

#[test]
fn rerun_file_and_run_record() {
    let (dir, _) = with_files(|dir| Files {
        command: "sshd -T".into(),
        rerun_file: Some(dir.join("rerun")),
        last_run: Some(dir.join("state/last-run.json")),
        ..Files::NONE
    });
    let mut text = files(dir.path());
    text.push_str(&files(&dir.path().join("state")));
    snapshot!("rerun_file_and_run_record", text);
}

#[test]
fn html() {
    let (dir, shown) = with_files(|dir| Files {
        command: "cat /etc/ssh/sshd_config | grep -v '<none>'".into(),
        html: Some(dir.join("report.html")),
        ..Files::NONE
    });
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        !html.contains("<b>deprecated"),
        "remote markup must be escaped"
    );
    assert!(
        !html.contains('\x1b'),
        "control characters must be made visible"
    );
    assert!(!html.contains("://"), "the page must load nothing");
    snapshot!("html", format!("{html}{shown}"));
}
