//! Wiring: settings → targets → plan → executor → outputs, one file per
//! subcommand. `main` calls [`run`]; so do the tests.

mod audit;
mod keys;
mod keyscan;
mod known_hosts;
mod ls;
mod run;
mod sshd;
mod summarize;

use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::CommandFactory;
use tokio::sync::mpsc;

use crate::cli::{Cli, Command, GlobalArgs, Selection};
use crate::error::{exit, SetupError};
use crate::event::Event;
use crate::exec::{self, Interrupts};
use crate::hosts::ssh_config::{LocalEnv, SshConfig};
use crate::hosts::{Catalog, Target};
use crate::hosts::{Inventory, InventoryDefaults, InventoryFile};
use crate::last_run::LastRun;
use crate::plan::Plan;
use crate::report;
use crate::settings::{self, Settings};

/// How many events may wait for the outputs before hosts pause: enough to
/// smooth bursts, small enough that a stalled stdout bounds memory (each
/// event holds at most one SSH packet of output, plus a cut line).
const EVENT_QUEUE: usize = 256;

/// Output is written once this much of it is waiting, even in the middle
/// of a batch of events: a batch of prefixed short lines can be several
/// times the size of the events it came from.
const FLUSH_AT: usize = 256 * 1024;

/// Runs one invocation and returns its exit code.
pub fn run(cli: Cli) -> Result<i32, SetupError> {
    match &cli.command {
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "fleet", &mut script);
            write_stdout(&script)
        }
        Command::Man { subcommand } => write_stdout(&man_page(subcommand.as_deref())?),
        Command::Ls(args) => ls::run(&cli.global, args),
        Command::Run(args) => run::run(&cli.global, args),
        Command::Report(args) => summarize::run(&cli.global, args),
        Command::Keyscan(args) => keyscan::run(&cli.global, args),
        Command::KnownHosts(args) => known_hosts::run(&cli.global, args),
        Command::Audit(args) => audit::run(&cli.global, args),
        Command::Sshd(args) => sshd::run(&cli.global, args),
        Command::Keys(args) => keys::run(&cli.global, args),
    }
}

/// The roff manual page of fleet, or of one of its subcommands, rendered
/// from the same definitions as `--help`.
fn man_page(subcommand: Option<&str>) -> Result<Vec<u8>, SetupError> {
    let fleet = Cli::command();
    let page = match subcommand {
        None => fleet,
        Some(name) => {
            let names: Vec<String> = fleet
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let found = fleet.find_subcommand(name).cloned();
            let Some(command) = found else {
                return Err(SetupError::Usage(format!(
                    "fleet man {name}: no such subcommand (one of {})",
                    names.join(", ")
                )));
            };
            // `fleet-run(1)`, run as `fleet run`.
            let bin = format!("fleet {}", command.get_name());
            let name = format!("fleet-{}", command.get_name());
            command
                .name(name)
                .bin_name(bin)
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut roff)
        .map_err(SetupError::Output)?;
    Ok(roff)
}

/// What every subcommand reads first: the local environment, ssh_config
/// and the inventories.
struct Context {
    env: LocalEnv,
    catalog: Catalog,
    defaults: InventoryDefaults,
}

impl Context {
    fn load(global: &GlobalArgs) -> Result<Context, SetupError> {
        Context::load_adding(global, Vec::new())
    }

    /// As [`Context::load`], with `extra` options after the `-o` ones.
    fn load_adding(
        global: &GlobalArgs,
        extra: Vec<(String, String)>,
    ) -> Result<Context, SetupError> {
        let env = LocalEnv::from_process();
        let ssh_config = match &global.ssh_config {
            Some(path) => SshConfig::load(path, &env)?,
            None => SshConfig::load_default(&env)?,
        };
        let inventory = Inventory::load(&inventory_files(global, &env.home))?;
        let defaults = inventory.defaults().clone();
        let mut options = settings::parse_options(&global.options)?;
        options.extend(extra);
        if let Some(jump) = &global.jump {
            // As ssh -J: ProxyJump from the command line, for the targets
            // only (each jump host keeps its own ssh_config).
            options.insert(0, ("ProxyJump".to_string(), jump.clone()));
        }
        let catalog = Catalog::new(ssh_config, inventory)
            .with_options(options)
            .with_last_run(LastRun::path(&env.home));
        Ok(Context {
            env,
            catalog,
            defaults,
        })
    }

    /// The targets `selection` stands for, in its shard if it names one.
    fn targets(&self, selection: &Selection) -> Result<Vec<Target>, SetupError> {
        let mut targets = self
            .catalog
            .resolve(&selection.selectors, &selection.exclude)?;
        if let Some(shard) = settings::shard(selection)? {
            targets.retain(|t| shard.contains(&t.alias));
        }
        Ok(targets)
    }
}

/// Runs `work` on a new multi-threaded runtime, which also ends the
/// process on SIGTERM or SIGHUP, leaving no temporary file behind.
fn block_on<T>(work: impl Future<Output = Result<T, SetupError>>) -> Result<T, SetupError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| SetupError::Usage(format!("could not start the async runtime: {e}")))?;
    runtime.spawn(exec::signal::terminate());
    runtime.block_on(work)
}

/// `-i` files, or the default ones, which may be absent.
fn inventory_files(global: &GlobalArgs, home: &Path) -> Vec<InventoryFile> {
    if !global.inventories.is_empty() {
        return global
            .inventories
            .iter()
            .map(|p| InventoryFile {
                path: p.clone(),
                explicit: true,
            })
            .collect();
    }
    [
        PathBuf::from("fleet.toml"),
        home.join(".config/fleet/inventory.toml"),
    ]
    .into_iter()
    .map(|path| InventoryFile {
        path,
        explicit: false,
    })
    .collect()
}

/// Tells the user, once each, about settings or lines that are not used.
/// They quote local files, so they are escaped like remote output.
fn print_warnings(warnings: &[String]) {
    for warning in warnings {
        eprintln!("fleet: warning: {}", report::sanitize::sanitize(warning));
    }
}

/// Writes what a command printed; a reader that went away (`| head`) is
/// no error.
fn write_stdout(bytes: &[u8]) -> Result<i32, SetupError> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(SetupError::Output(e)),
        _ => Ok(exit::OK),
    }
}

/// Runs `plan` on `targets` and shows it; returns the run's exit code.
async fn execute(
    plan: Arc<dyn Plan>,
    targets: &[Target],
    settings: &Settings,
) -> Result<i32, SetupError> {
    let (hosts, warnings) = exec::prepare(targets, &settings.exec, plan.access()).await?;
    // One socket per host worked on at once, and one per jump host.
    let jump_hosts: std::collections::HashSet<&str> = hosts
        .iter()
        .flat_map(|h| h.jumps.iter().map(|j| &*j.alias))
        .collect();
    exec::ensure_open_files(settings.fanout.parallel.min(hosts.len()) + jump_hosts.len())?;
    print_warnings(&warnings);
    let interrupts = Interrupts::default();
    tokio::spawn(exec::signal::listen(interrupts.clone()));
    let (events, received) = mpsc::channel(EVENT_QUEUE);
    let options = settings.report.clone();
    let reporting = std::thread::spawn(move || report_loop(received, &options));
    let end = exec::execute(plan, hosts, &settings.fanout, events, interrupts).await;
    // The outputs have seen every event once the channel is drained; a
    // reporter that panicked has already said so on stderr, and the run's
    // exit code stands.
    let _ = reporting.join();
    Ok(end.exit_code)
}

/// Hands every event to the outputs, on a thread of its own so blocking
/// terminal writes never stall the async workers.
fn report_loop(mut received: mpsc::Receiver<Event>, options: &report::ReportOptions) {
    let mut reporters = report::build(options, Box::new(io::stdout()), Box::new(io::stderr()));
    while let Some(first) = received.blocking_recv() {
        // Whatever else is already waiting goes out in the same write.
        let waiting = std::iter::from_fn(|| received.try_recv().ok()).take(EVENT_QUEUE);
        for event in std::iter::once(first).chain(waiting) {
            reporters.report(&event);
            if reporters.pending() >= FLUSH_AT {
                reporters.flush();
            }
        }
        reporters.flush();
    }
}
