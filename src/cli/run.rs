//! `fleet run`: the command, its input and limits, and the rollout flags.

use std::time::Duration;

use clap::Args;

use super::{FanoutArgs, OutputArgs, RolloutArgs, Selection, STATUSES};
use crate::duration;

const EXAMPLES: &str = "\
Examples:
  fleet run 'web-*' uptime
  fleet run -b --diff '@web' 'cat /etc/resolv.conf'
  fleet run --expect '^permitrootlogin no$' '@web' 'sshd -T'
  fleet run --out-dir out --report run.html '@db' 'df -h'
  fleet run @failed 'apt-get -y upgrade'     (retry those that failed last time)

Selectors of the last run: @failed (every host that did not end ok),
@failed:STATUS (e.g. @failed:unreachable) and @ok. The record is replaced
by each run as it ends, so with two runs at once \"last\" is the one that
finished last.";

/// The examples, then the statuses every host-reaching command shares.
fn after_help() -> String {
    format!("{EXAMPLES}\n\n{STATUSES}")
}

#[derive(Debug, Args)]
#[command(after_help = after_help())]
pub struct RunArgs {
    #[command(flatten)]
    pub selection: Selection,

    /// The command, run by each host's login shell as ssh runs it (the words
    /// are joined with spaces).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,

    #[command(flatten)]
    pub fanout: FanoutArgs,

    /// Time allowed for the command on each host, once logged in.
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    pub timeout: Option<Duration>,

    /// Send fleet's standard input to the command on every host.
    #[arg(long)]
    pub stdin: bool,

    /// Check the output: some stdout line must match REGEX, or the host's
    /// status is mismatch (repeatable; every one must match).
    #[arg(long, value_name = "REGEX")]
    pub expect: Vec<String>,

    /// Check the output: no stdout line may match REGEX, or the host's
    /// status is mismatch (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub expect_not: Vec<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub rollout: RolloutArgs,
}
