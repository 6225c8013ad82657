//! The progress bar on stderr: hosts finished out of all, and how they ended
//! so far. It is only shown on a terminal, and [`Terminal`] hides it while
//! anything else is printed.

use std::io;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

use crate::event::{Event, RunEnd, Stats};
use crate::report::{Output, Terminal};

/// `⠙ 00:00:04 [=========>          ] 18/52 hosts  15 ok, 3 unreachable, 8 running`
const TEMPLATE: &str = "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} hosts  {wide_msg}";

/// A bar with fleet's look, drawn on `target`; its length is set when the
/// run starts.
pub(crate) fn bar(target: ProgressDrawTarget) -> ProgressBar {
    // The template is a constant checked by a test; the fallback only keeps
    // a typo from costing more than looks.
    let style = ProgressStyle::with_template(TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::with_draw_target(None, target)
        .with_style(style)
        // If the run ends without RunFinished (stdout closed), dropping the
        // bar must not leave it on screen.
        .with_finish(ProgressFinish::AndClear)
}

/// Moves the bar along with the dispatcher's counts, and removes it when
/// the run is over so the summary takes its place.
pub(crate) struct Progress;

/// `15 ok, 3 unreachable, 8 running`.
fn message(stats: &Stats) -> String {
    let mut message = stats.breakdown();
    if stats.running > 0 {
        let sep = if message.is_empty() { "" } else { ", " };
        message.push_str(&format!("{sep}{} running", stats.running));
    }
    message
}

impl Output for Progress {
    fn begin(&mut self, hosts: &[Arc<str>], term: &mut Terminal) -> io::Result<()> {
        if let Some(bar) = term.bar() {
            bar.set_length(hosts.len() as u64);
        }
        Ok(())
    }

    fn event(&mut self, event: &Event, term: &mut Terminal) -> io::Result<()> {
        let (Some(bar), Event::HostStarted { stats, .. } | Event::HostFinished { stats, .. }) =
            (term.bar(), event)
        else {
            return Ok(());
        };
        bar.set_position(stats.finished() as u64);
        bar.set_message(message(stats));
        Ok(())
    }

    fn finish(&mut self, _: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        term.clear_bar();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use indicatif::TermLike;

    use super::*;
    use crate::cause::{Cause, SkipReason};
    use crate::report::testing::{
        err, exited, feed, finished, host_started, out, run_finished, started, Capture, Counter,
        PLAIN,
    };
    use crate::report::{ReportOptions, Reporters};

    /// A terminal that records what the bar does as `<clear>` and `<bar>`
    /// into the same capture as the printed text, so their order shows.
    #[derive(Debug)]
    struct Screen(Capture);

    impl Screen {
        fn note(&self, what: &str) -> io::Result<()> {
            self.0.clone().write_all(what.as_bytes())
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            100
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            if s.trim().is_empty() {
                return Ok(());
            }
            self.note("<bar>")
        }
        fn clear_line(&self) -> io::Result<()> {
            self.note("<clear>")
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Reporters with a bar, where stdout, stderr and the bar all land in
    /// one capture, like on a real terminal.
    fn with_bar() -> (Reporters, Capture) {
        let screen = Capture::default();
        let bar = bar(ProgressDrawTarget::term_like(Box::new(Screen(
            screen.clone(),
        ))));
        let term = Terminal::new(
            Box::new(screen.clone()),
            Box::new(screen.clone()),
            Some(bar),
        );
        let opts = ReportOptions {
            progress: true,
            ..PLAIN
        };
        (Reporters::new(&opts, term), screen)
    }

    #[test]
    fn template_is_valid() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
    }

    #[test]
    fn bar_counts_finished_hosts_and_statuses() {
        let (mut reporters, _) = with_bar();
        let mut counter = Counter::default();
        feed(
            &mut reporters,
            &mut counter,
            &[
                started(&["a", "b", "c", "d"]),
                host_started("a"),
                host_started("b"),
                host_started("c"),
            ],
        );
        let bar = reporters.terminal.bar().expect("a bar").clone();
        assert_eq!((bar.position(), bar.length()), (0, Some(4)));
        assert_eq!(bar.message(), "3 running");
        feed(
            &mut reporters,
            &mut counter,
            &[
                exited("a", 0),
                finished("b", Cause::NoRoute),
                // Never started, so the running count must not drop.
                finished("d", Cause::Skipped(SkipReason::Interrupted)),
            ],
        );
        assert_eq!(bar.position(), 3);
        assert_eq!(bar.message(), "1 ok, 1 unreachable, 1 skipped, 1 running");
    }

    #[test]
    fn bar_is_hidden_while_lines_print_and_gone_before_the_summary() {
        let (mut reporters, screen) = with_bar();
        let mut counter = Counter::default();
        feed(
            &mut reporters,
            &mut counter,
            &[
                started(&["a", "b"]),
                host_started("a"),
                out("a", "hello"),
                err("a", "oops"),
            ],
        );
        let shown = screen.text();
        assert!(shown.contains("<clear>a | hello\n<bar>"), "{shown}");
        assert!(shown.contains("<clear>a ! oops\n<bar>"), "{shown}");
        feed(
            &mut reporters,
            &mut counter,
            &[exited("a", 0), exited("b", 0), run_finished()],
        );
        assert!(reporters.terminal.bar().is_none());
        let shown = screen.text();
        assert!(shown.ends_with("<clear>2 hosts: 2 ok (4.1s)\n"), "{shown}");
    }
}
