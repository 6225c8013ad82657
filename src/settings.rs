//! Settings: the command line, the inventory's `[defaults]` and the
//! environment merged into one validated value. The command line wins, then
//! the inventory, then built-in defaults.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::{
    ColorChoice, FanoutArgs, GlobalArgs, GroupWhen, OutputArgs, PrefixFormat, RolloutArgs,
    Selection,
};
use crate::error::SetupError;
use crate::exec::{ExecOptions, Fanout, DEFAULT_JUMP_PARALLEL};
use crate::hosts::shard::Shard;
use crate::hosts::{InventoryDefaults, Target};
use crate::plan::{Schedule, Share};
use crate::report::{Addresses, Files, OutputMode, Prefix, ReportOptions};

/// How many hosts are worked on at once when nothing says otherwise.
pub const DEFAULT_PARALLEL: usize = 64;

/// What every command that reaches hosts needs besides its targets and its
/// plan: how to connect, how to show the run, and how to schedule it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub exec: ExecOptions,
    pub report: ReportOptions,
    pub fanout: Fanout,
}

impl Settings {
    /// Merges the flags with the inventory's defaults. `mode` is how a
    /// run's output is shown when `--json` is not given; `schedule` comes
    /// from [`schedule`] for subcommands with rollout flags.
    pub fn new(
        global: &GlobalArgs,
        fanout: &FanoutArgs,
        schedule: Schedule,
        mode: OutputMode,
        defaults: &InventoryDefaults,
        home: PathBuf,
    ) -> Settings {
        let mode = match mode {
            OutputMode::Lines if fanout.json => OutputMode::Json,
            mode => mode,
        };
        Settings {
            exec: ExecOptions {
                connect_timeout: fanout.connect_timeout.or(defaults.connect_timeout),
                insecure_ignore_host_keys: global.insecure_ignore_host_keys,
                home,
                password: None,
            },
            report: ReportOptions {
                mode,
                color: !mode.is_json() && use_color(global.color),
                progress: std::io::stderr().is_terminal(),
                prefix: Prefix::Alias,
                checks: false,
                files: Files::NONE,
                addresses: None,
            },
            fanout: Fanout {
                parallel: fanout
                    .parallel
                    .map(|n| n as usize)
                    .or(defaults.parallel.map(usize::from))
                    .unwrap_or(DEFAULT_PARALLEL),
                jump_parallel: fanout
                    .jump_parallel
                    .map_or(DEFAULT_JUMP_PARALLEL, |n| n as usize),
                schedule,
            },
        }
    }
}

/// The stages the rollout flags ask for, over the subcommand's `default`.
pub fn schedule(args: &RolloutArgs, default: Schedule) -> Result<Schedule, SetupError> {
    if let Some(batch @ (Share::Hosts(0) | Share::Percent(0))) = args.batch {
        return Err(SetupError::Usage(format!(
            "--batch {batch}: a batch needs at least one host"
        )));
    }
    Ok(Schedule {
        canary: args.canary.unwrap_or(default.canary),
        batch: args.batch.or(default.batch),
        max_failures: args.max_failures.or(default.max_failures),
    })
}

/// The output mode the output flags ask for; `--json` is decided by
/// [`Settings::new`].
pub fn output_mode(args: &OutputArgs) -> Result<OutputMode, SetupError> {
    Ok(match (args.group, args.diff, args.buffer) {
        (Some(GroupWhen::Live), true, _) => {
            return Err(SetupError::Usage(
                "--diff needs the whole output of each host: use it with -b, not --group=live"
                    .into(),
            ))
        }
        (Some(GroupWhen::Live), false, _) => OutputMode::LiveGrouped,
        (_, true, _) => OutputMode::Diff,
        (Some(GroupWhen::End), false, _) => OutputMode::Grouped,
        (None, false, true) => OutputMode::Buffer,
        (None, false, false) => OutputMode::Lines,
    })
}

/// The line prefix `--format` or `-N` asks for, labels worked out from the
/// targets. Without a prefix, lines of several hosts could not be told
/// apart, so `-N` takes one host only.
pub fn prefix(args: &OutputArgs, targets: &[Target]) -> Result<Prefix, SetupError> {
    if args.no_prefix {
        return match targets {
            [_] => Ok(Prefix::None),
            _ => Err(SetupError::Usage(format!(
                "-N/--no-prefix prints lines without their host, so it takes one host;                  {} are selected (use --out-dir to keep each host's output apart)",
                targets.len()
            ))),
        };
    }
    let label = |target: &Target| {
        let o = &target.options;
        match args.format {
            PrefixFormat::Alias => target.alias.clone(),
            PrefixFormat::Address if o.port == 22 => o.hostname.clone(),
            PrefixFormat::Address => format!("{}:{}", o.hostname, o.port),
            PrefixFormat::UserAtAlias => format!("{}@{}", o.user, target.alias),
        }
    };
    Ok(match args.format {
        PrefixFormat::Alias => Prefix::Alias,
        _ => {
            let labels: HashMap<String, String> = targets
                .iter()
                .map(|t| (t.alias.clone(), label(t)))
                .collect();
            Prefix::Labels(Arc::new(labels))
        }
    })
}

/// The address of each target, as grouping reads it.
pub fn addresses(targets: &[Target]) -> Addresses {
    let all = targets
        .iter()
        .map(|t| (t.alias.clone(), t.options.hostname.clone()));
    Some(Arc::new(all.collect()))
}

/// The shard a selection asks for: `--shard K/N` (or `FLEET_SHARD`), or
/// `--shard-count N` with the index a Kubernetes Indexed Job gives each pod
/// in `JOB_COMPLETION_INDEX`, counted from 0.
pub fn shard(selection: &Selection) -> Result<Option<Shard>, SetupError> {
    let Some(count) = selection.shard_count else {
        return Ok(selection.shard);
    };
    let index = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
        SetupError::Usage(
            "--shard-count needs JOB_COMPLETION_INDEX in the environment, as a Kubernetes \
             Indexed Job sets it; elsewhere use --shard K/N"
                .into(),
        )
    })?;
    let shard = index
        .trim()
        .parse::<u32>()
        .ok()
        .and_then(|i| Shard::new(i.checked_add(1)?, count));
    match shard {
        Some(shard) => Ok(Some(shard)),
        None => Err(SetupError::Usage(format!(
            "JOB_COMPLETION_INDEX={index} is not an index below --shard-count {count}"
        ))),
    }
}

/// Color only for a terminal, and never when NO_COLOR is set (no-color.org).
pub fn use_color(choice: ColorChoice) -> bool {
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
