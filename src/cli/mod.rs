//! Command-line arguments (clap derive). Only parsing lives here; what the
//! flags mean is decided in `settings`. Each subcommand's arguments live in
//! a file of their own; the flags several share are here.

mod audit;
mod keyscan;
mod known_hosts;
mod run;

pub use audit::AuditArgs;
pub use keyscan::KeyscanArgs;
pub use known_hosts::{KnownHostsArgs, KnownHostsCommand};
pub use run::RunArgs;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::duration;
use crate::hosts::shard::Shard;
use crate::plan::Share;

const EXIT_CODES: &str = "\
Exit codes:
  0    every host ran the command and it exited 0
  1    every host was reached, but the command failed or timed out on some
  2    some host was not reached (unreachable, host key, authentication)
  3    usage or configuration error: nothing was run
  130  interrupted (Ctrl-C)";

/// Run commands on many hosts over SSH at once, honouring ssh_config,
/// known_hosts and ssh-agent.
#[derive(Debug, Parser)]
#[command(name = "fleet", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags that work before or after the subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// ssh_config file to read instead of ~/.ssh/config (as ssh -F).
    #[arg(short = 'F', long = "config", global = true, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,

    /// Inventory file (TOML); repeatable. Default: ./fleet.toml and
    /// ~/.config/fleet/inventory.toml, when present.
    #[arg(short = 'i', long = "inventory", global = true, value_name = "FILE")]
    pub inventories: Vec<PathBuf>,

    /// An ssh_config option for every host, as ssh -o (it wins over the files),
    /// e.g. -o StrictHostKeyChecking=accept-new.
    #[arg(short = 'o', long = "option", global = true, value_name = "KEY=VALUE")]
    pub options: Vec<String>,

    /// Reach every host through these jump hosts, as ssh -J: the same as
    /// -o ProxyJump=[user@]host[:port][,...].
    #[arg(short = 'J', long = "jump", global = true, value_name = "JUMPS")]
    pub jump: Option<String>,

    /// Accept any host key without checking known_hosts. Dangerous: it
    /// allows man-in-the-middle attacks.
    #[arg(long, global = true)]
    pub insecure_ignore_host_keys: bool,

    /// When to color output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

pub(crate) const STATUSES: &str = "\
Host statuses (in the summary and in --json):
  ok                the command ran and exited 0
  failed            the command exited non-zero or was killed (audit: an --expect failed)
  timeout           the command ran longer than --timeout
  unreachable       no SSH session: refused, no route, DNS, connect timeout
  host_key_unknown  known_hosts has no key for the host
  host_key_changed  the host presented another key than known_hosts holds
  host_key_revoked  the host presented a key marked @revoked in known_hosts
  mismatch          keyscan --verify: a key differs from its out-of-band fingerprint
  auth_failed       the server refused every identity
  error             anything else: a protocol error, a refused channel...
  interrupted       abandoned by a second Ctrl-C while it ran
  skipped           never started: Ctrl-C, or --max-failures was used up";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Color when the output is a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command on every selected host.
    Run(RunArgs),
    /// Show what selectors resolve to, without connecting.
    Ls(LsArgs),
    /// Summarise the --json output of earlier runs (such as the shards of
    /// one run, concatenated), with the exit code that run would have.
    Report(ReportArgs),
    /// Collect every host key of the selected hosts, check them against
    /// known_hosts and fingerprints obtained out of band, and print or
    /// write them (handshake only: nobody logs in).
    Keyscan(KeyscanArgs),
    /// Look at or change known_hosts: forget hosts, check what it knows.
    #[command(name = "known-hosts")]
    KnownHosts(KnownHostsArgs),
    /// Check from outside, without logging in, what each host offers:
    /// version, algorithms, authentication methods, known_hosts match.
    Audit(AuditArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Which hosts: one comma-separated argument plus exclusions.
#[derive(Debug, Args)]
pub struct Selection {
    /// Hosts: globs over ssh_config aliases and inventory hosts (web-*),
    /// @group, ranges (web-[01-20]), !exclusions, comma-separated.
    #[arg(value_name = "SELECTORS")]
    pub selectors: String,

    /// Leave out hosts matching this selector; repeatable.
    #[arg(short = 'x', long, value_name = "SELECTOR")]
    pub exclude: Vec<String>,

    /// Take only shard K of N of the selected hosts: each host falls in
    /// one shard by a stable hash of its name, so N runs with K = 1..N
    /// cover every host exactly once.
    #[arg(long, value_name = "K/N", env = "FLEET_SHARD")]
    pub shard: Option<Shard>,

    /// Split into N shards and take the one JOB_COMPLETION_INDEX (0-based,
    /// as a Kubernetes Indexed Job sets it) names.
    #[arg(long, value_name = "N", conflicts_with = "shard", value_parser = clap::value_parser!(u32).range(1..))]
    pub shard_count: Option<u32>,
}

/// How a command reaches many hosts: how many at once, how long each may
/// take to answer, and whether to report as JSON.
#[derive(Debug, Args)]
pub struct FanoutArgs {
    /// How many hosts to work on at once [default: 64].
    #[arg(short = 'p', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel: Option<u32>,

    /// How many tunnels may be open at once through one jump host; every
    /// host behind it shares one login to it [default: 32].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jump_parallel: Option<u32>,

    /// Time allowed to connect and log in [default: ConnectTimeout, else 10s].
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    pub connect_timeout: Option<Duration>,

    /// Write JSON Lines on stdout: one object per output line, one per host
    /// result, and a final summary.
    #[arg(long)]
    pub json: bool,
}

/// Staged rollouts: a canary first, then batches, stopping when too many
/// hosts fail.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Run this many hosts alone first; the rest starts only if they do not
    /// use up --max-failures.
    #[arg(long, value_name = "N")]
    pub canary: Option<usize>,

    /// After the canary, go on in batches of N hosts (or N% of the hosts);
    /// each batch starts when the one before it is done [default: all at
    /// once, --parallel at a time].
    #[arg(long, value_name = "N|N%")]
    pub batch: Option<Share>,

    /// Start no further stage once more than N hosts (or N% of them) have
    /// failed; the hosts not started are reported as skipped [default: no
    /// limit].
    #[arg(long, value_name = "N|N%")]
    pub max_failures: Option<Share>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// JSON Lines files written by `fleet run --json`; `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub selection: Selection,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["fleet", "run", "web-*", "-F", "cfg", "--", "hostname"]).unwrap();
        assert_eq!(cli.global.ssh_config, Some(PathBuf::from("cfg")));
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.command, ["hostname"]);
    }

    #[test]
    fn words_after_the_command_belong_to_it() {
        let cli = Cli::try_parse_from([
            "fleet", "-F", "cfg", "run", "-p", "8", "web-*", "ls", "-la", "-p",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.fanout.parallel, Some(8));
        assert_eq!(run.command, ["ls", "-la", "-p"]);
    }

    #[test]
    fn rollout_flags_take_counts_and_percentages() {
        let cli = Cli::try_parse_from([
            "fleet",
            "run",
            "--canary",
            "1",
            "--batch",
            "10%",
            "--max-failures",
            "0",
            "web-*",
            "true",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.rollout.canary, Some(1));
        assert_eq!(run.rollout.batch, Some(Share::Percent(10)));
        assert_eq!(run.rollout.max_failures, Some(Share::Hosts(0)));
        assert!(Cli::try_parse_from(["fleet", "run", "--batch", "x", "h", "true"]).is_err());
    }

    #[test]
    fn timeouts_take_the_one_duration_syntax() {
        for &(text, expected) in crate::duration::EXAMPLES {
            for flag in ["--timeout", "--connect-timeout"] {
                let parsed = Cli::try_parse_from([
                    "fleet".to_string(),
                    "run".to_string(),
                    format!("{flag}={text}"),
                    "web-*".to_string(),
                    "true".to_string(),
                ]);
                let got = parsed.ok().map(|cli| match cli.command {
                    Command::Run(run) => run.timeout.or(run.fanout.connect_timeout),
                    _ => panic!("not run"),
                });
                assert_eq!(got, expected.map(Some), "{flag}={text}");
            }
        }
    }
}
