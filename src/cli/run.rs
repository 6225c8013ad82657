//! `fleet run`: the command (or a local script), its input and limits, and
//! the rollout flags.

use std::path::PathBuf;
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
  fleet run --script examples/harden-check.sh --canary 1 --batch 10% --max-failures 0 'web-*'
  fleet run --script deploy.py '@app' -- --release 'v1.2 rc'    (arguments after --)

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
    /// are joined with spaces). Not with --script.
    //
    // Not `trailing_var_arg`: clap allows that only on the last positional,
    // and `args` must be last to be told apart. `allow_hyphen_values` on a
    // positional of many values does the same here: once the command has
    // begun, `-la` and `--json` are words of it.
    #[arg(
        required_unless_present_any = ["script", "args"],
        conflicts_with = "script",
        num_args = 1..,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,

    /// The words after `--`: with --script, the script's arguments;
    /// without it, the command, as if written without `--`.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,

    /// Send this local script to every host on stdin and run it with the
    /// interpreter its #! line names (sh without one): `sh -s -- ARGS` for
    /// the sh family, `INTERPRETER - ARGS` for python, perl, ruby... The
    /// script reads the rest of itself from stdin, so commands in it that
    /// read stdin need </dev/null. At most 16 MiB.
    #[arg(long, value_name = "FILE", conflicts_with = "stdin")]
    pub script: Option<PathBuf>,

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
