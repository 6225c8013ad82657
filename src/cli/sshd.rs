//! `fleet sshd get` and `fleet sshd set`: what sshd obeys, and changing it
//! in stages without locking anyone out.

use clap::{Args, Subcommand};

use super::{FanoutArgs, RolloutArgs, Selection, STATUSES};

const GET_EXAMPLES: &str = "\
Examples:
  fleet sshd get 'web-*' PasswordAuthentication PermitRootLogin
  fleet -o User=deploy sshd get @db Port --sudo-password

The values are sshd's own (sshd -T), after every Include, drop-in and
default, folded over the hosts that share them.";

const SET_EXAMPLES: &str = "\
Examples:
  fleet sshd set 'web-*' PasswordAuthentication=no --check
  fleet sshd set 'web-*' PasswordAuthentication=no KbdInteractiveAuthentication=no
  fleet sshd set @db Port=2222 --update-ssh-config
  fleet sshd set 'web-*' 'AllowUsers=root@10.0.0.0/8 deploy' --canary 2 --batch 10%

Each host: read the files and sshd -T; leave it alone if it already has the
values; refuse to turn passwords off unless this run logged in with a key;
write where sshd obeys it (a drop-in that sorts first, or before the first
Match), back up every file as FILE.fleet-RUN, check with sshd -t, reload,
and log in again on a new connection while the first stays open. A failed
check puts the backups back, reloads and ends rolled_back. A new Port is
probed from here first, then listened on beside the old one, proven, and
only then is the old one dropped.

The rollout starts with one canary host, goes on in batches of --parallel
and stops at the first failure, unless --canary, --batch or
--max-failures say otherwise.";

#[derive(Debug, Args)]
pub struct SshdArgs {
    #[command(subcommand)]
    pub command: SshdCommand,
}

#[derive(Debug, Subcommand)]
pub enum SshdCommand {
    /// Show the effective values of sshd keywords (sshd -T), folded by
    /// value.
    #[command(after_help = GET_EXAMPLES)]
    Get(SshdGetArgs),
    /// Change sshd settings safely: validated, reloaded, verified over a
    /// fresh login, rolled back when that fails, in stages.
    #[command(after_help = set_after_help())]
    Set(Box<SshdSetArgs>),
}

/// The examples, then the statuses.
fn set_after_help() -> String {
    format!("{SET_EXAMPLES}\n\n{STATUSES}")
}

/// How a command that needs root on the hosts gets it.
#[derive(Debug, Args)]
pub struct RootArgs {
    /// Where the login user is not root and sudo asks for a password: ask
    /// for it once (on the terminal, or through SSH_ASKPASS) and give it to
    /// sudo on its standard input. Without it, sudo -n is used.
    #[arg(long)]
    pub sudo_password: bool,
}

#[derive(Debug, Args)]
pub struct SshdGetArgs {
    #[command(flatten)]
    pub selection: Selection,

    /// sshd keywords, e.g. PasswordAuthentication Port.
    #[arg(required = true, value_name = "KEYWORD")]
    pub keywords: Vec<String>,

    #[command(flatten)]
    pub root: RootArgs,

    #[command(flatten)]
    pub fanout: FanoutArgs,
}

#[derive(Debug, Args)]
pub struct SshdSetArgs {
    #[command(flatten)]
    pub selection: Selection,

    /// KEYWORD=VALUE settings, e.g. PasswordAuthentication=no Port=2222.
    #[arg(required = true, value_name = "KEYWORD=VALUE")]
    pub settings: Vec<String>,

    /// Change nothing: show, per host, the diff that would be written and
    /// how sshd would be reloaded, folded over hosts with the same diff.
    #[arg(long)]
    pub check: bool,

    /// Move the port even when the probe from here finds it filtered (the
    /// fresh login on the new port still has to work, or it is undone).
    #[arg(long)]
    pub skip_port_probe: bool,

    /// After a port move, write the new port into the ssh_config file (the
    /// -F file, or ~/.ssh/config), with a backup, and teach known_hosts the
    /// host's proven key at the new port.
    #[arg(long, conflicts_with = "check")]
    pub update_ssh_config: bool,

    #[command(flatten)]
    pub root: RootArgs,

    #[command(flatten)]
    pub fanout: FanoutArgs,

    #[command(flatten)]
    pub rollout: RolloutArgs,
}
