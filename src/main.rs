//! The `fleet` binary: parse, run, print the error once with its causes,
//! exit with the documented code.

use std::process::ExitCode;

use clap::Parser;
use fleet::cli::Cli;
use fleet::error::{chain, exit};
use fleet::report::sanitize::sanitize;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors; every usage error is exit 3.
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE as u8
            } else {
                exit::OK as u8
            });
        }
    };
    let code = match fleet::app::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote names, paths and values from local files, which
            // are as untrusted as remote output (`./fleet.toml` comes with
            // whatever repository was cloned).
            eprintln!("fleet: error: {}", sanitize(&chain(&e)));
            exit::USAGE
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX))
}
