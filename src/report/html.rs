//! `--report FILE.html`: one self-contained page that records a run, to
//! attach to a change ticket.
//!
//! It holds the command, when it ran and the counts; a row per host with
//! its status, cause and duration; a bar chart of the durations, where
//! stragglers stand out; the grouped outputs, each group that differs from
//! the largest shown as a diff against it; and filters by status. The
//! page loads nothing: its style and script are inline, and its
//! Content-Security-Policy forbids any other source. Every remote text
//! (output, causes, even host names) is escaped, after its control
//! characters are made visible as on a terminal.

use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::atomic_file;
use crate::event::{Event, RunEnd};
use crate::outcome::Status;
use crate::report::diff::{diff_lines, DiffLine};
use crate::report::group::{diffable, Group, Grouper, MEMORY_BUDGET};
use crate::report::own_names::{ADDRESS, HOST};
use crate::report::sanitize::sanitize;
use crate::report::spool::SpoolStore;
use crate::report::summary::format_duration;
use crate::report::{Addresses, Output, Terminal};

/// Each group's output is shown up to this many bytes of text.
const SHOWN: usize = 256 * 1024;

/// The chart's drawing width, in SVG units.
const CHART_WIDTH: f64 = 1000.0;
const CHART_HEIGHT: f64 = 160.0;

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Gathers the run and writes the page when it ends.
pub(crate) struct HtmlReport {
    path: PathBuf,
    command: String,
    started: SystemTime,
    rows: Vec<Row>,
    grouper: Grouper,
}

/// One host's line in the table.
struct Row {
    host: Arc<str>,
    status: Status,
    cause: Option<String>,
    duration: Duration,
}

impl HtmlReport {
    pub(crate) fn new(path: PathBuf, command: String, addresses: Addresses) -> HtmlReport {
        HtmlReport {
            path,
            command,
            started: SystemTime::now(),
            rows: Vec::new(),
            grouper: Grouper::new(MEMORY_BUDGET, addresses),
        }
    }
}

impl Output for HtmlReport {
    fn begin(&mut self, hosts: &[Arc<str>], _: &mut Terminal) -> io::Result<()> {
        self.started = SystemTime::now();
        self.grouper.begin(hosts);
        Ok(())
    }

    fn event(&mut self, event: &Event, _: &mut Terminal) -> io::Result<()> {
        if let Event::HostFinished {
            host,
            outcome,
            duration,
            ..
        } = event
        {
            self.rows.push(Row {
                host: host.clone(),
                status: outcome.status(),
                cause: outcome.cause().map(ToString::to_string),
                duration: *duration,
            });
        }
        self.grouper.event(event)
    }

    fn finish(&mut self, end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        let grouper = &self.grouper;
        self.rows.sort_by_key(|row| grouper.place(&row.host));
        let started = humantime::format_rfc3339_seconds(self.started).to_string();
        let (groups, store) = self.grouper.groups();
        let longest = self.rows.iter().map(|r| r.duration).max();
        let page = Page {
            command: &self.command,
            longest: longest.unwrap_or_default(),
            started: &started,
            end,
            rows: &self.rows,
            groups,
            store,
        }
        .render()?;
        atomic_file::write(&self.path, page.as_bytes())?;
        use std::io::Write as _;
        writeln!(
            term.stderr(),
            "fleet: report written to {}",
            self.path.display()
        )
    }
}

/// Everything the page shows.
struct Page<'a> {
    command: &'a str,
    /// The longest host duration, which the bars are scaled to.
    longest: Duration,
    started: &'a str,
    end: &'a RunEnd,
    rows: &'a [Row],
    groups: &'a [Group],
    store: &'a SpoolStore,
}

impl Page<'_> {
    fn render(&self) -> io::Result<String> {
        let mut html = String::new();
        let title = format!("fleet run: {}", self.command);
        // Writing to a String cannot fail; `w!` drops the Ok.
        macro_rules! w {
            ($($arg:tt)*) => { let _ = write!(html, $($arg)*); };
        }
        w!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
            text(&title)
        );
        self.header(&mut html);
        self.filters(&mut html);
        self.chart(&mut html);
        self.table(&mut html);
        self.outputs(&mut html)?;
        w!("<script>\n{SCRIPT}</script>\n</body>\n</html>\n");
        Ok(html)
    }

    fn header(&self, html: &mut String) {
        let stats = &self.end.stats;
        let _ = write!(
            html,
            "<header>\n<h1>fleet run</h1>\n<pre class=\"command\">{}</pre>\n\
             <p class=\"meta\">started <time>{}</time> · took {} · {} hosts · exit code {}{}</p>\n\
             <p class=\"counts\">",
            text(self.command),
            text(self.started),
            format_duration(self.end.elapsed),
            stats.total,
            self.end.exit_code,
            if stats.interrupted {
                " · interrupted"
            } else {
                ""
            },
        );
        for status in present(stats) {
            let _ = write!(
                html,
                "<span class=\"status {0}\">{1} {0}</span> ",
                status.as_str(),
                stats.count(status)
            );
        }
        html.push_str("</p>\n</header>\n");
    }

    fn filters(&self, html: &mut String) {
        html.push_str("<nav class=\"filters\" aria-label=\"filter by status\">show:\n");
        for status in present(&self.end.stats) {
            let _ = writeln!(
                html,
                "<label><input type=\"checkbox\" data-filter=\"{0}\" checked> \
                 <span class=\"status {0}\">{0}</span> ({1})</label>",
                status.as_str(),
                self.end.stats.count(status)
            );
        }
        html.push_str("</nav>\n");
    }

    /// `duration` as a share of the longest, which a bar's full length is.
    fn share(&self, duration: Duration) -> f64 {
        duration.as_secs_f64() / self.longest.as_secs_f64().max(f64::EPSILON)
    }

    /// One bar per host in run order, as tall as its duration.
    fn chart(&self, html: &mut String) {
        let _ = write!(
            html,
            "<section id=\"durations\">\n<h2>Durations</h2>\n<svg class=\"chart\" viewBox=\"0 0 \
             {CHART_WIDTH} {CHART_HEIGHT}\" preserveAspectRatio=\"none\" role=\"img\" \
             aria-label=\"durations of {} hosts, longest {}\">\n",
            self.rows.len(),
            format_duration(self.longest)
        );
        let width = CHART_WIDTH / self.rows.len().max(1) as f64;
        for (i, row) in self.rows.iter().enumerate() {
            let height = (self.share(row.duration) * CHART_HEIGHT).max(1.0);
            let _ = writeln!(
                html,
                "<rect class=\"bar {status}\" data-status=\"{status}\" x=\"{:.2}\" y=\"{:.2}\" \
                 width=\"{:.2}\" height=\"{height:.2}\"><title>{} {status} {}</title></rect>",
                i as f64 * width,
                CHART_HEIGHT - height,
                (width * 0.9).max(0.5),
                text(&row.host),
                format_duration(row.duration),
                status = row.status.as_str(),
            );
        }
        let mut slowest: Vec<&Row> = self.rows.iter().collect();
        slowest.sort_by_key(|row| std::cmp::Reverse(row.duration));
        let named: Vec<String> = slowest
            .iter()
            .take(5)
            .map(|row| format!("{} ({})", text(&row.host), format_duration(row.duration)))
            .collect();
        let _ = write!(
            html,
            "</svg>\n<p class=\"note\">slowest: {}</p>\n</section>\n",
            if named.is_empty() {
                "none".to_string()
            } else {
                named.join(", ")
            }
        );
    }

    fn table(&self, html: &mut String) {
        html.push_str(
            "<section id=\"hosts\">\n<h2>Hosts</h2>\n<table>\n<thead><tr><th>host</th>\
             <th>status</th><th>cause</th><th class=\"num\">duration</th><th></th></tr>\
             </thead>\n<tbody>\n",
        );
        for row in self.rows {
            let _ = writeln!(
                html,
                "<tr data-status=\"{status}\"><td>{}</td><td><span class=\"status {status}\">\
                 {status}</span></td><td>{}</td><td class=\"num\">{}</td><td class=\"spark\">\
                 <span class=\"bar {status}\" style=\"width:{:.1}%\"></span></td></tr>",
                text(&row.host),
                row.cause.as_deref().map(text).unwrap_or_default(),
                format_duration(row.duration),
                self.share(row.duration) * 100.0,
                status = row.status.as_str(),
            );
        }
        html.push_str("</tbody>\n</table>\n</section>\n");
    }

    fn outputs(&self, html: &mut String) -> io::Result<()> {
        let _ = writeln!(
            html,
            "<section id=\"outputs\">\n<h2>Outputs</h2>\n<p class=\"note\">hosts with the same \
             output are one group; in it, {HOST} and {ADDRESS} stand for each host's own name and \
             address</p>"
        );
        let Some((largest, others)) = self.groups.split_first() else {
            html.push_str("<p class=\"note\">no host ran the command</p>\n</section>\n");
            return Ok(());
        };
        self.group(html, largest, false)?;
        let reference = diffable(&largest.transcript, self.store)?;
        for group in others {
            self.group(html, group, true)?;
            let changed = diffable(&group.transcript, self.store)?;
            match (&reference, &changed) {
                (Some(old), Some(new)) if old == new => {
                    html.push_str(
                        "<p class=\"note\">the same output as the largest group; only the exit \
                         status differs</p>\n",
                    );
                }
                (Some(old), Some(new)) => {
                    html.push_str("<pre class=\"diff\">");
                    diff_lines(old, new, &largest.folded(), &group.folded(), |line| {
                        let (class, sign, body) = match line {
                            DiffLine::File(body) => ("file", "", body),
                            DiffLine::Hunk(body) => ("hunk", "", body),
                            DiffLine::Context(body) => ("same", " ", body),
                            DiffLine::Removed(body) => ("del", "-", body),
                            DiffLine::Added(body) => ("add", "+", body),
                        };
                        // The texts were sanitized when rendered.
                        // Block spans: no newline between them in the <pre>.
                        let _ = write!(
                            html,
                            "<span class=\"{class}\">{}{}</span>",
                            sign,
                            escape(body)
                        );
                    });
                    html.push_str("</pre>\n");
                }
                _ => self.output(html, group)?,
            }
            html.push_str("</article>\n");
        }
        html.push_str("</section>\n");
        Ok(())
    }

    /// Opens a group's article with its heading; the largest one also gets
    /// its output and is closed.
    fn group(&self, html: &mut String, group: &Group, differs: bool) -> io::Result<()> {
        let status = group.status.as_str();
        let _ = write!(
            html,
            "<article class=\"group\" data-status=\"{status}\">\n<h3>{} <span class=\"count\">\
             ({} {})</span>",
            text(&group.folded()),
            group.hosts.len(),
            if group.hosts.len() == 1 {
                "host"
            } else {
                "hosts"
            },
        );
        if differs {
            html.push_str(" <span class=\"badge odd\">differs</span>");
        } else if self.groups.len() > 1 {
            html.push_str(" <span class=\"badge\">largest</span>");
        }
        if !group.ending.is_empty() {
            let _ = write!(
                html,
                " <span class=\"status {status}\">{}</span>",
                text(&group.ending)
            );
        }
        html.push_str("</h3>\n");
        if !differs {
            self.output(html, group)?;
            html.push_str("</article>\n");
        }
        Ok(())
    }

    fn output(&self, html: &mut String, group: &Group) -> io::Result<()> {
        let (shown, cut) = group.transcript.text(self.store, SHOWN)?;
        let _ = writeln!(html, "<pre class=\"output\">{}</pre>", escape(&shown));
        if cut {
            let _ = writeln!(
                html,
                "<p class=\"note\">shown up to {} KiB of {} bytes; --out-dir keeps every byte</p>",
                SHOWN / 1024,
                group.transcript.bytes()
            );
        }
        Ok(())
    }
}

/// The statuses some host ended with, in the documented order.
fn present(stats: &crate::event::Stats) -> impl Iterator<Item = Status> + '_ {
    Status::ALL.into_iter().filter(|s| stats.count(*s) > 0)
}

/// Remote or user text for the page: control characters made visible,
/// then escaped.
fn text(raw: &str) -> String {
    escape(&sanitize(raw))
}

/// Escapes the characters HTML gives meaning to, in text and in quoted
/// attribute values alike.
fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_remote_text_is_escaped() {
        assert_eq!(
            text("<script>alert('x')</script> & \"q\" \x1b[2J"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; \\e[2J"
        );
    }
}
