//! Command-line arguments (clap derive). Only parsing lives here; what the
//! flags mean is decided in `settings`. Each subcommand's arguments live in
//! a file of their own; the flags several share are here.

mod audit;
mod keys;
mod keyscan;
mod known_hosts;
mod run;
mod sshd;

pub use audit::AuditArgs;
pub use keys::{KeysArgs, KeysCommand, KeysInstallArgs};
pub use keyscan::KeyscanArgs;
pub use known_hosts::{KnownHostsArgs, KnownHostsCommand};
pub use run::RunArgs;
pub use sshd::{RootArgs, SshdArgs, SshdCommand, SshdGetArgs, SshdSetArgs};

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::duration;
use crate::hosts::shard::Shard;
use crate::plan::Share;

const EXIT_CODES: &str = "\
Exit codes:
  0    every host ran the command and it exited 0 (sshd, keys: changed or unchanged)
  1    every host was reached, but some failed, timed out, rolled back or were skipped
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
  changed           sshd set, keys install: changed as asked, and verified
  unchanged         sshd set, keys install: already as asked, not touched
  rolled_back       sshd set: the change failed its check and was undone
  failed            the command exited non-zero or was killed (audit: an --expect failed)
  mismatch          the output failed --expect(-not); keyscan --verify: another key
  timeout           the command ran longer than --timeout
  unreachable       no SSH session: refused, no route, DNS, connect timeout
  host_key_unknown  known_hosts has no key for the host
  host_key_changed  the host presented another key than known_hosts holds
  host_key_revoked  the host presented a key marked @revoked in known_hosts
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

const LS_EXAMPLES: &str = "\
Examples:
  fleet ls 'web-*'                 every web host, with its address, user and keys
  fleet ls '@db,!db-03'            the db group but db-03
  fleet ls @failed                 the hosts that failed in the last run";

const REPORT_EXAMPLES: &str = "\
Examples:
  fleet report shard-*.jsonl         the summary of a run done in shards
  fleet run --json 'web-*' uptime | tee run.jsonl | fleet report -

An HTML page of a run, to attach to a ticket, is fleet run --report FILE.html.";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  fleet completions bash > ~/.local/share/bash-completion/completions/fleet
  fleet completions zsh > ~/.zfunc/_fleet        (with ~/.zfunc in $fpath)
  fleet completions fish > ~/.config/fish/completions/fleet.fish";

const MAN_EXAMPLES: &str = "\
Examples:
  fleet man > ~/.local/share/man/man1/fleet.1
  fleet man run > ~/.local/share/man/man1/fleet-run.1
  fleet man | man -l -";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command on every selected host.
    Run(Box<RunArgs>),
    /// Show what selectors resolve to, without connecting.
    #[command(after_help = LS_EXAMPLES)]
    Ls(LsArgs),
    /// Summarise the --json output of earlier runs (such as the shards of
    /// one run, concatenated), with the exit code that run would have.
    #[command(after_help = REPORT_EXAMPLES)]
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
    /// Read sshd's effective settings, or change them safely in stages.
    Sshd(SshdArgs),
    /// Install a public key on every host (the first step of hardening).
    Keys(KeysArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), of fleet or of one subcommand.
    #[command(after_help = MAN_EXAMPLES)]
    Man {
        /// The subcommand whose page to print, e.g. run.
        #[arg(value_name = "SUBCOMMAND")]
        subcommand: Option<String>,
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

/// How a run's output is shown and kept: grouped, per host, in files, as
/// an HTML report, and with which prefix.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Show hosts whose output (stdout, stderr and exit status) is
    /// identical once, under their folded names, largest group first and
    /// the odd ones marked; -b/--group=end at the end, --group=live line by
    /// line as lines arrive.
    #[arg(
        short = 'b',
        long = "group",
        value_enum,
        value_name = "WHEN",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "end",
        conflicts_with_all = ["json", "buffer"]
    )]
    pub group: Option<GroupWhen>,

    /// Show each group that differs from the largest as a unified diff
    /// against it (implies -b).
    #[arg(long, conflicts_with_all = ["json", "buffer"])]
    pub diff: bool,

    /// Print each host's output as one block when the host finishes,
    /// never interleaved with other hosts'.
    #[arg(long, conflicts_with = "json")]
    pub buffer: bool,

    /// Write each host's exact output to DIR/HOST.out and DIR/HOST.err, its
    /// status to DIR/HOST.status, and the run to DIR/summary.json; DIR must
    /// be new or empty.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Write a self-contained HTML report of the run: hosts, statuses,
    /// durations, grouped outputs and diffs.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,

    /// Write the hosts that did not succeed to FILE, one per line.
    #[arg(long, value_name = "FILE")]
    pub rerun_file: Option<PathBuf>,

    /// What each output line is prefixed with.
    #[arg(long, value_enum, value_name = "PREFIX", default_value_t = PrefixFormat::Alias)]
    pub format: PrefixFormat,

    /// Print lines without a host prefix; only when one host is selected.
    #[arg(short = 'N', long, conflicts_with_all = ["format", "json"])]
    pub no_prefix: bool,
}

/// When `-b` groups output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupWhen {
    /// Once every host is done.
    End,
    /// Line by line, as lines arrive.
    Live,
}

/// The per-host prefix of output lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrefixFormat {
    /// The alias it was selected by: web-01.
    Alias,
    /// The address connected to: 10.0.0.7, or 10.0.0.7:2222 off port 22.
    Address,
    /// The login user and alias: deploy@web-01.
    #[value(name = "user@alias")]
    UserAtAlias,
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
        // After `--` the words are `args`, which `run` takes as the command
        // when there is no --script.
        assert!(run.command.is_empty());
        assert_eq!(run.args, ["hostname"]);
    }

    #[test]
    fn a_script_takes_its_arguments_after_the_double_dash_only() {
        let parse = |args: &[&str]| {
            let mut all = vec!["fleet", "run"];
            all.extend(args);
            match Cli::try_parse_from(all).map(|cli| cli.command) {
                Ok(Command::Run(run)) => Ok((run.script, run.command, run.args)),
                Ok(_) => panic!("not run"),
                Err(e) => Err(e.kind()),
            }
        };
        assert_eq!(
            parse(&["--script", "s.sh", "web-*", "--", "a b", "--json", "-p"]),
            Ok((
                Some(PathBuf::from("s.sh")),
                vec![],
                vec!["a b".into(), "--json".into(), "-p".into()]
            ))
        );
        assert_eq!(
            parse(&["--script", "s.sh", "web-*"]),
            Ok((Some(PathBuf::from("s.sh")), vec![], vec![]))
        );
        use clap::error::ErrorKind;
        assert_eq!(
            parse(&["--script", "s.sh", "web-*", "uptime"]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            parse(&["--script", "s.sh", "--stdin", "web-*"]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert_eq!(parse(&["web-*"]), Err(ErrorKind::MissingRequiredArgument));
        // A command keeps every word after its first, `--` included.
        assert_eq!(
            parse(&["web-*", "ls", "--", "-l"]),
            Ok((None, vec!["ls".into(), "--".into(), "-l".into()], vec![]))
        );
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
    fn group_takes_an_optional_value_only_after_equals() {
        let parse = |args: &[&str]| {
            let mut all = vec!["fleet", "run"];
            all.extend(args);
            match Cli::try_parse_from(all).map(|cli| cli.command) {
                Ok(Command::Run(run)) => Ok((run.output.group, run.selection.selectors)),
                Ok(_) => panic!("not run"),
                Err(e) => Err(e.kind()),
            }
        };
        assert_eq!(
            parse(&["-b", "web-*", "true"]),
            Ok((Some(GroupWhen::End), "web-*".into()))
        );
        assert_eq!(
            parse(&["--group=live", "web-*", "true"]),
            Ok((Some(GroupWhen::Live), "web-*".into()))
        );
        assert_eq!(parse(&["web-*", "true"]), Ok((None, "web-*".into())));
        assert!(parse(&["-b", "--json", "web-*", "true"]).is_err());
        assert!(parse(&["-b", "--buffer", "web-*", "true"]).is_err());
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
