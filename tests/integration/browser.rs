//! The HTML report of a run against real sshd: what the page holds, with
//! every remote text escaped and nothing loaded from elsewhere; and in a
//! real browser, headless Chromium loads it, logs no console message (a
//! script error or a blocked resource would be one), runs the page's
//! script to its end, and renders a screenshot.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it); without it the test
//! fails with that hint rather than passing without running.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::fixture::Lab;
use super::invocation::invoke;

/// The flags that keep Chromium to the page: no sandbox (CI runs as
/// root), no GPU, no network of its own, a fresh profile.
fn chromium(profile: &Path) -> Command {
    let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the browser test needs Chromium at /usr/bin/chromium; install it \
                 (Debian, Ubuntu: apt-get install chromium) and run the tests again"
            )
        });
    let mut command = Command::new(binary);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

#[test]
fn the_html_report_renders_in_chromium_without_console_errors() {
    let lab = Lab::builder().healthy(3).refused("down").build();
    let report = lab.home.join("report.html");
    let command = "echo '<script>alert(1)</script>'; \
                   [ \"$FLEET_TEST_HOST\" != h02 ] || echo extra";
    let run = invoke(
        lab.fleet()
            .args(["run", "--report"])
            .arg(&report)
            .args(["h*,down", command]),
    );
    run.assert_exit(2);
    run.assert_stderr_mentions(&["report written to"]);
    let html = std::fs::read_to_string(&report).unwrap();
    for needle in [
        "<td>h01</td>",
        "<td>down</td>",
        "connection refused",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<span class=\"add\">+extra</span>",
        "data-filter=\"unreachable\"",
        "<svg class=\"chart\"",
    ] {
        assert!(html.contains(needle), "the report lacks {needle:?}\n{html}");
    }
    assert!(
        !html.contains("<script>alert"),
        "remote markup reached the page"
    );
    assert!(!html.contains("://"), "the page refers to another resource");

    let url = format!("file://{}", report.display());

    let dom = invoke(
        chromium(&lab.home.join("profile-dom"))
            .arg("--dump-dom")
            .arg(&url),
    );
    assert_eq!(dom.code, Some(0), "{dom}");
    let console: Vec<&str> = dom
        .stderr
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .collect();
    assert!(console.is_empty(), "the page logged {console:?}\n{dom}");
    assert!(
        dom.stdout.contains("<body data-ready=\"true\">"),
        "the page's script did not run to its end\n{dom}"
    );
    assert!(
        dom.stdout.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "remote text was not shown as text\n{dom}"
    );

    let screenshot = lab.home.join("report.png");
    let shot = invoke(
        chromium(&lab.home.join("profile-shot"))
            .arg("--window-size=1280,1600")
            .arg(format!("--screenshot={}", screenshot.display()))
            .arg(&url),
    );
    assert_eq!(shot.code, Some(0), "{shot}");
    let png = std::fs::read(&screenshot).unwrap_or_else(|e| panic!("no screenshot ({e})\n{shot}"));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG\n{shot}");
    // Width and height from the IHDR chunk.
    let size = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    assert_eq!((size(16), size(20)), (1280, 1600), "{shot}");
}
