//! `fleet run`: the command, its input and limits, and the rollout flags.

use std::time::Duration;

use clap::Args;

use super::{FanoutArgs, RolloutArgs, Selection};
use crate::duration;

const STATUSES: &str = "\
Host statuses (in the summary and in --json):
  ok                the command ran and exited 0
  failed            the command exited non-zero or was killed by a signal
  timeout           the command ran longer than --timeout
  unreachable       no SSH session: refused, no route, DNS, connect timeout
  host_key_unknown  known_hosts has no key for the host
  host_key_changed  the host presented another key than known_hosts holds
  host_key_revoked  the host presented a key marked @revoked in known_hosts
  auth_failed       the server refused every identity
  error             anything else: a protocol error, a refused channel...
  interrupted       abandoned by a second Ctrl-C while it ran
  skipped           never started: Ctrl-C, or --max-failures was used up";

#[derive(Debug, Args)]
#[command(after_help = STATUSES)]
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

    #[command(flatten)]
    pub rollout: RolloutArgs,
}
