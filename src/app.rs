//! Wiring: settings → targets → plan → executor → outputs, for each
//! subcommand. `main` calls [`run`]; so do the tests.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::CommandFactory;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::cli::{Cli, Command, GlobalArgs, LsArgs, RunArgs};
use crate::error::{exit, SetupError};
use crate::event::Event;
use crate::exec::{self, Interrupts};
use crate::hosts::ssh_config::{LocalEnv, SshConfig};
use crate::hosts::{Catalog, Target};
use crate::hosts::{Inventory, InventoryDefaults, InventoryFile};
use crate::plan::run::RunPlan;
use crate::plan::Plan;
use crate::report;
use crate::settings::{self, RunSettings};

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
        Command::Ls(args) => list(&cli.global, args),
        Command::Run(args) => run_command(&cli.global, args),
    }
}

/// The catalog of known names: ssh_config plus inventories.
fn load_catalog(
    global: &GlobalArgs,
    env: &LocalEnv,
) -> Result<(Catalog, InventoryDefaults), SetupError> {
    let ssh_config = match &global.ssh_config {
        Some(path) => SshConfig::load(path, env)?,
        None => SshConfig::load_default(env)?,
    };
    let inventory = Inventory::load(&inventory_files(global, &env.home))?;
    let defaults = inventory.defaults().clone();
    let options = settings::parse_options(&global.options)?;
    Ok((
        Catalog::new(ssh_config, inventory).with_options(options),
        defaults,
    ))
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

fn list(global: &GlobalArgs, args: &LsArgs) -> Result<i32, SetupError> {
    let env = LocalEnv::from_process();
    let (catalog, _) = load_catalog(global, &env)?;
    let targets = catalog.resolve(&args.selection.selectors, &args.selection.exclude)?;
    let known_hosts = exec::load_known_hosts(&targets)?;
    let known: HashMap<&str, bool> = targets
        .iter()
        .zip(&known_hosts)
        .map(|(t, k)| (t.alias.as_str(), k.knows(&t.host_id())))
        .collect();
    let mut listing = Vec::new();
    report::listing::write_listing(&mut listing, &targets, &|t| known[t.alias.as_str()])
        .map_err(SetupError::Output)?;
    write_stdout(&listing)
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

fn run_command(global: &GlobalArgs, args: &RunArgs) -> Result<i32, SetupError> {
    let env = LocalEnv::from_process();
    let (catalog, defaults) = load_catalog(global, &env)?;
    let targets = catalog.resolve(&args.selection.selectors, &args.selection.exclude)?;
    let settings = RunSettings::new(global, args, &defaults, env.home.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| SetupError::Usage(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(async {
        let stdin = if settings.read_stdin {
            let mut buf = Vec::new();
            tokio::io::stdin()
                .read_to_end(&mut buf)
                .await
                .map_err(SetupError::Stdin)?;
            Some(buf.into())
        } else {
            None
        };
        let plan = RunPlan::new(args.command.join(" "), stdin, settings.command_timeout);
        execute(Arc::new(plan), &targets, &settings).await
    })
}

/// Runs `plan` on `targets` and shows it; returns the run's exit code.
async fn execute(
    plan: Arc<dyn Plan>,
    targets: &[Target],
    settings: &RunSettings,
) -> Result<i32, SetupError> {
    let (hosts, warnings) = exec::prepare(targets, &settings.exec, plan.access()).await?;
    for warning in warnings {
        eprintln!("fleet: warning: {warning}");
    }
    let interrupts = Interrupts::default();
    tokio::spawn(exec::signal::listen(interrupts.clone()));
    let (events, received) = mpsc::channel(EVENT_QUEUE);
    let options = settings.report;
    let reporting = std::thread::spawn(move || report_loop(received, &options));
    let end = exec::execute(
        plan,
        hosts,
        &settings.schedule,
        settings.parallel,
        events,
        interrupts,
    )
    .await;
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
