//! `fleet run`: the command, its input and limits, and the rollout flags.

use std::time::Duration;

use clap::Args;

use super::{FanoutArgs, RolloutArgs, Selection, STATUSES};
use crate::duration;

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
