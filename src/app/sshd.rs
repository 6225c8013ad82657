//! `fleet sshd get` and `fleet sshd set`: the sshd plan over the selected
//! hosts, staged, then what a moved port means for ssh_config and
//! known_hosts.

use std::sync::Arc;

use super::keyscan::write_keys;
use super::{block_on, execute, Context};
use crate::cli::{GlobalArgs, RootArgs, SshdArgs, SshdCommand, SshdGetArgs, SshdSetArgs};
use crate::error::SetupError;
use crate::hosts::{port_moves, Target};
use crate::known_hosts::{HostId, HostKeys};
use crate::plan::harden::settings::Setting;
use crate::plan::harden::{Intent, Moved, SshdPlan};
use crate::plan::{Schedule, Share};
use crate::report::sanitize::sanitize;
use crate::report::OutputMode;
use crate::secret::{self, Secret};
use crate::settings::{self, Settings};

pub(super) fn run(global: &GlobalArgs, args: &SshdArgs) -> Result<i32, SetupError> {
    match &args.command {
        SshdCommand::Get(get) => get_values(global, get),
        SshdCommand::Set(set) => set_values(global, set),
    }
}

/// Shows the effective values of the keywords.
fn get_values(global: &GlobalArgs, args: &SshdGetArgs) -> Result<i32, SetupError> {
    if let Some(bad) = args
        .keywords
        .iter()
        .find(|k| !k.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(SetupError::Usage(format!(
            "{bad}: not an sshd keyword (letters and digits, e.g. PasswordAuthentication)"
        )));
    }
    let context = Context::load(global)?;
    let targets = context.targets(&args.selection)?;
    let settings = sshd_settings(global, &args.fanout, Schedule::default(), &context);
    let plan = SshdPlan::new(
        Intent::Get(args.keywords.clone()),
        sudo_password(&args.root)?,
        run_id(),
    );
    block_on(execute(Arc::new(plan), &targets, &settings))
}

/// Changes the settings in stages.
fn set_values(global: &GlobalArgs, args: &SshdSetArgs) -> Result<i32, SetupError> {
    let wanted = args
        .settings
        .iter()
        .map(|text| Setting::parse(text).map_err(SetupError::Usage))
        .collect::<Result<Vec<_>, _>>()?;
    let context = Context::load(global)?;
    let targets = context.targets(&args.selection)?;
    // A rollout stops at the first failure, after one canary host, unless
    // told otherwise; the batches default to --parallel once it is known.
    // A dry run changes nothing, so it looks at every host at once.
    let default = match args.check {
        true => Schedule::default(),
        false => Schedule {
            canary: 1,
            batch: None,
            max_failures: Some(Share::Hosts(0)),
        },
    };
    let schedule = settings::schedule(&args.rollout, default)?;
    let mut settings = sshd_settings(global, &args.fanout, schedule, &context);
    if args.rollout.batch.is_none() && !args.check {
        settings.fanout.schedule.batch = Some(Share::Hosts(settings.fanout.parallel));
    }
    let intent = Intent::Set {
        settings: wanted.clone(),
        check: args.check,
        skip_port_probe: args.skip_port_probe,
    };
    let run = run_id();
    let plan = Arc::new(SshdPlan::new(
        intent,
        sudo_password(&args.root)?,
        run.clone(),
    ));
    let code = block_on(execute(plan.clone(), &targets, &settings))?;
    if args.check {
        return Ok(code);
    }
    remind_of_sources(&wanted);
    let moved = plan.moved();
    if moved.is_empty() {
        return Ok(code);
    }
    if !args.update_ssh_config {
        print_ssh_config_lines(&moved);
        return Ok(code);
    }
    let written = update_ssh_config(global, &context, &targets, &moved, &run)?;
    Ok(code.max(written))
}

/// The settings of an sshd run: its findings folded, or JSON.
fn sshd_settings(
    global: &GlobalArgs,
    fanout: &crate::cli::FanoutArgs,
    schedule: Schedule,
    context: &Context,
) -> Settings {
    Settings::new(
        global,
        fanout,
        schedule,
        OutputMode::Sshd { json: fanout.json },
        &context.defaults,
        context.env.home.clone(),
    )
}

/// `--sudo-password`, asked once for the whole run.
fn sudo_password(root: &RootArgs) -> Result<Option<Secret>, SetupError> {
    if !root.sudo_password {
        return Ok(None);
    }
    let password = secret::ask("sudo password on the hosts: ")
        .map_err(|why| SetupError::Usage(format!("--sudo-password: {why}")))?;
    Ok(Some(Arc::new(password)))
}

/// Names this run's backups on the hosts: `sshd_config.fleet-RUN`, with a
/// UTC time and fleet's pid, so two runs never share one.
fn run_id() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let compact: String = now.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("{compact}-{}", std::process::id())
}

/// sshd limiting users, addresses or ports is half of "trusted sources
/// only": the other half is outside the host, where fleet can't see.
fn remind_of_sources(wanted: &[Setting]) {
    let limits: Vec<&str> = wanted
        .iter()
        .map(|s| s.keyword.name)
        .filter(|name| {
            matches!(
                *name,
                "AllowUsers"
                    | "AllowGroups"
                    | "DenyUsers"
                    | "DenyGroups"
                    | "ListenAddress"
                    | "Port"
            )
        })
        .collect();
    if !limits.is_empty() {
        eprintln!(
            "fleet: note: {} limits sshd on the hosts; allow only trusted sources in the \
             security group or firewall as well, which fleet cannot see or check",
            limits.join(", ")
        );
    }
}

/// What ssh_config needs, for the user to add.
fn print_ssh_config_lines(moved: &[Moved]) {
    let moves: Vec<(String, u16)> = moved.iter().map(|m| (m.alias.clone(), m.port)).collect();
    eprintln!(
        "fleet: sshd moved on {} hosts; put this at the top of ssh_config, and add their host \
         keys to known_hosts under [HOST]:PORT (--update-ssh-config does both):\n{}",
        moved.len(),
        sanitize(port_moves::block(&moves, "sshd moved by fleet sshd set").trim_end())
    );
}

/// Writes the new ports into the ssh_config file and the proven keys into
/// known_hosts under the new port's names.
fn update_ssh_config(
    global: &GlobalArgs,
    context: &Context,
    targets: &[Target],
    moved: &[Moved],
    run: &str,
) -> Result<i32, SetupError> {
    let file = global
        .ssh_config
        .clone()
        .unwrap_or_else(|| context.env.home.join(".ssh").join("config"));
    let moves: Vec<(String, u16)> = moved.iter().map(|m| (m.alias.clone(), m.port)).collect();
    let why = format!("sshd moved by fleet sshd set (run {run})");
    let backup = port_moves::write(&file, &moves, &why).map_err(|e| {
        SetupError::Usage(format!(
            "{}: could not write the new ports: {e}",
            file.display()
        ))
    })?;
    let kept = backup
        .map(|b| format!(" (the old file is {})", b.display()))
        .unwrap_or_default();
    eprintln!(
        "fleet: {}",
        sanitize(&format!(
            "{}: {} hosts now use their new port{kept}",
            file.display(),
            moves.len()
        ))
    );
    let hosts = moved.iter().filter_map(|m| {
        let target = targets.iter().find(|t| t.alias == m.alias)?;
        let host = match &target.options.host_key_alias {
            // Looked up by its alias whatever the port: nothing to learn.
            Some(_) => return None,
            None => HostId::new(&target.options.hostname, m.port),
        };
        let mut names = vec![HostId::new(&target.alias, m.port).lookup_name().to_string()];
        if names[0] != host.lookup_name() {
            names.push(host.lookup_name().to_string());
        }
        let keys = HostKeys {
            host,
            names,
            keys: vec![m.host_key.clone()],
            may_replace: false,
        };
        Some((target, keys))
    });
    write_keys(hosts, None)
}
