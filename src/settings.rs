//! Settings: the command line, the inventory's `[defaults]` and the
//! environment merged into one validated value. The command line wins, then
//! the inventory, then built-in defaults.

use std::io::IsTerminal;

use crate::cli::{ColorChoice, GlobalArgs, RunArgs};
use crate::error::SetupError;
use crate::exec::ExecOptions;
use crate::hosts::InventoryDefaults;
use crate::report::ReportOptions;

/// How many hosts are worked on at once when nothing says otherwise.
pub const DEFAULT_PARALLEL: usize = 64;

/// Everything `fleet run` needs besides the targets and the command.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub exec: ExecOptions,
    pub report: ReportOptions,
    pub read_stdin: bool,
}

impl RunSettings {
    pub fn new(
        global: &GlobalArgs,
        args: &RunArgs,
        defaults: &InventoryDefaults,
        home: std::path::PathBuf,
    ) -> RunSettings {
        let json = args.json;
        RunSettings {
            exec: ExecOptions {
                parallel: args
                    .parallel
                    .map(|n| n as usize)
                    .or(defaults.parallel.map(usize::from))
                    .unwrap_or(DEFAULT_PARALLEL),
                connect_timeout: args.connect_timeout.or(defaults.connect_timeout),
                command_timeout: args.timeout.or(defaults.timeout),
                insecure_ignore_host_keys: global.insecure_ignore_host_keys,
                home,
            },
            report: ReportOptions {
                json,
                color: !json && use_color(global.color),
                progress: !json && std::io::stderr().is_terminal(),
            },
            read_stdin: args.stdin,
        }
    }
}

/// Color only for a terminal, and never when NO_COLOR is set (no-color.org).
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// `-o Key=Value` (or `-o 'Key Value'`) as ssh takes it.
pub fn parse_options(options: &[String]) -> Result<Vec<(String, String)>, SetupError> {
    options
        .iter()
        .map(|option| {
            let option = option.trim();
            let split = option.find(['=', ' ', '\t']).filter(|&i| i > 0);
            match split {
                Some(i) => {
                    let value = option[i + 1..].trim_start_matches(['=', ' ', '\t']).trim();
                    if value.is_empty() {
                        return Err(SetupError::Usage(format!(
                            "-o {option}: missing value (use -o Keyword=Value)"
                        )));
                    }
                    Ok((option[..i].to_string(), value.to_string()))
                }
                None => Err(SetupError::Usage(format!(
                    "-o {option}: expected Keyword=Value"
                ))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_take_equals_or_space() {
        let parsed =
            parse_options(&["User=deploy".into(), "Port 2222".into(), "Foo = bar".into()]).unwrap();
        assert_eq!(
            parsed,
            [
                ("User".into(), "deploy".into()),
                ("Port".into(), "2222".into()),
                ("Foo".into(), "bar".into())
            ]
        );
        assert!(parse_options(&["User".into()]).is_err());
        assert!(parse_options(&["User=".into()]).is_err());
    }
}
