//! Wiring: settings → targets → executor → reporters, for each subcommand.
//! `main` calls [`run`]; so do the tests.

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
use crate::exec::{self, Interrupts, Job};
use crate::hosts::ssh_config::{LocalEnv, SshConfig};
use crate::hosts::{Catalog, Target};
use crate::hosts::{Inventory, InventoryDefaults, InventoryFile};
use crate::report::{self, Reporter, Tally};
use crate::settings::{self, RunSettings};

/// How many events may wait for the reporters before hosts pause: enough
/// to smooth bursts, small enough that a stalled stdout bounds memory
/// (at most this many lines of at most 16 KiB each).
const EVENT_QUEUE: usize = 256;

/// Runs one invocation and returns its exit code.
pub fn run(cli: Cli) -> Result<i32, SetupError> {
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "fleet", &mut io::stdout());
            Ok(exit::OK)
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
    let mut out = io::stdout().lock();
    let listing = report::listing::write_listing(&mut out, &targets, &|t| known[t.alias.as_str()]);
    match listing.and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(SetupError::Output(e)),
        _ => Ok(exit::OK),
    }
}

fn run_command(global: &GlobalArgs, args: &RunArgs) -> Result<i32, SetupError> {
    let env = LocalEnv::from_process();
    let (catalog, defaults) = load_catalog(global, &env)?;
    let targets = catalog.resolve(&args.selection.selectors, &args.selection.exclude)?;
    let settings = RunSettings::new(global, args, &defaults, env.home.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| SetupError::Usage(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(fan_out(targets, args, settings))
}

async fn fan_out(
    targets: Vec<Target>,
    args: &RunArgs,
    settings: RunSettings,
) -> Result<i32, SetupError> {
    let stdin = if settings.read_stdin {
        let mut buf = Vec::new();
        tokio::io::stdin()
            .read_to_end(&mut buf)
            .await
            .map_err(SetupError::Stdin)?;
        Some(Arc::<[u8]>::from(buf))
    } else {
        None
    };
    let job = Job {
        command: args.command.join(" "),
        stdin,
    };
    let (plans, warnings) = exec::prepare(&targets, &settings.exec).await?;
    for warning in warnings {
        eprintln!("fleet: warning: {warning}");
    }

    let interrupts = Interrupts::default();
    tokio::spawn(listen_for_interrupts(interrupts.clone()));
    let (events, received) = mpsc::channel(EVENT_QUEUE);
    let reporting = std::thread::spawn({
        let options = settings.report;
        move || report_loop(received, &options)
    });
    exec::run(plans, job, &settings.exec, events, interrupts.clone()).await;
    let tally = reporting
        .join()
        .map_err(|_| SetupError::Usage("the reporter thread panicked".into()))?;
    Ok(if interrupts.kill.is_cancelled() {
        exit::INTERRUPTED
    } else {
        tally.exit_code()
    })
}

/// Hands every event to the reporters, on a thread of its own so blocking
/// terminal writes never stall the async workers. After stdout goes away
/// (a closed pipe) events are still counted for the exit code.
fn report_loop(mut received: mpsc::Receiver<Event>, options: &report::ReportOptions) -> Tally {
    let mut reporter = report::build(options, Box::new(io::stdout()), Box::new(io::stderr()));
    let mut tally = Tally::default();
    let mut writing = true;
    while let Some(first) = received.blocking_recv() {
        // Whatever else is already waiting goes out in the same write.
        let waiting = std::iter::from_fn(|| received.try_recv().ok()).take(EVENT_QUEUE);
        for event in std::iter::once(first).chain(waiting) {
            tally.record(&event);
            if writing && reporter.report(&event).is_err() {
                writing = false;
            }
        }
        if writing && reporter.flush().is_err() {
            writing = false;
        }
    }
    tally
}

/// First Ctrl-C: start no new hosts and let running ones finish. Second:
/// abandon them.
async fn listen_for_interrupts(interrupts: Interrupts) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    interrupts.drain.cancel();
    eprintln!("fleet: interrupted: starting no new hosts, waiting for running ones (Ctrl-C again to abort)");
    if tokio::signal::ctrl_c().await.is_ok() {
        interrupts.kill.cancel();
    }
}
