//! `fleet report`: the summary and exit code of runs recorded with
//! `--json`, such as the shards of one fleet, concatenated.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::cli::{GlobalArgs, ReportArgs};
use crate::error::{exit, SetupError};
use crate::event::Event;
use crate::location::Location;
use crate::report::replay::Replay;
use crate::report::{self, Files, OutputMode, Prefix, ReportOptions};
use crate::settings;

pub(super) fn run(global: &GlobalArgs, args: &ReportArgs) -> Result<i32, SetupError> {
    let mut replay = Replay::default();
    for path in &args.files {
        read(&mut replay, path)?;
    }
    if replay.repeated > 0 {
        eprintln!(
            "fleet: warning: {} host results repeat an earlier one; the last one counts",
            replay.repeated
        );
    }
    let options = ReportOptions {
        mode: OutputMode::Lines,
        color: settings::use_color(global.color),
        progress: false,
        prefix: Prefix::Alias,
        checks: false,
        files: Files::NONE,
        addresses: None,
    };
    let mut reporters = report::build(&options, Box::new(io::stdout()), Box::new(io::stderr()));
    let mut code = exit::OK;
    for event in replay.events() {
        reporters.report(&event);
        if let Event::RunFinished(end) = event {
            code = end.exit_code;
        }
    }
    reporters.flush();
    Ok(code)
}

/// Feeds every line of `path` (`-`: stdin) to `replay`.
fn read(replay: &mut Replay, path: &Path) -> Result<(), SetupError> {
    let unreadable = |source| SetupError::Read {
        path: path.to_path_buf(),
        source,
    };
    let input: Box<dyn Read> = if path == Path::new("-") {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(unreadable)?)
    };
    for (index, line) in BufReader::new(input).split(b'\n').enumerate() {
        let line = line.map_err(unreadable)?;
        let line = String::from_utf8_lossy(&line);
        replay.read_line(&line, || Location::new(path, index + 1))?;
    }
    Ok(())
}
