//! `fleet audit`: the expectations that make hosts pass or fail.

use clap::Args;

use super::{FanoutArgs, Selection, STATUSES};

#[derive(Debug, Args)]
#[command(after_help = STATUSES)]
pub struct AuditArgs {
    #[command(flatten)]
    pub selection: Selection,

    #[command(flatten)]
    pub fanout: FanoutArgs,

    /// A host that does not meet this fails: METHOD=on|off (password,
    /// publickey, keyboard-interactive…), kex=no-sha1, hostkey=no-sha1,
    /// mac=no-sha1, cipher=no-cbc, known-hosts=trusted; repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub expect: Vec<String>,
}
