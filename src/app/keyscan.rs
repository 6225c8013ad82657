//! `fleet keyscan`: collect, check and print every host key, then, with
//! `--update-known-hosts`, write the ones that came out trusted.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{block_on, execute, Context};
use crate::cli::{GlobalArgs, KeyscanArgs};
use crate::error::{exit, SetupError};
use crate::hosts::Target;
use crate::known_hosts::{self, Added, HostId, HostKeys};
use crate::plan::keyscan::{Accepted, KeyscanPlan, ScanTarget};
use crate::plan::reference::References;
use crate::plan::Schedule;
use crate::report::sanitize::sanitize;
use crate::report::{KeyFormat, OutputMode};
use crate::settings::Settings;

/// Scans the selected hosts.
pub(super) fn run(global: &GlobalArgs, args: &KeyscanArgs) -> Result<i32, SetupError> {
    let context = Context::load(global)?;
    let targets = context.targets(&args.selection)?;
    let references = args.verify.as_deref().map(References::load).transpose()?;
    let format = if args.fingerprints {
        KeyFormat::Fingerprints
    } else if args.fanout.json {
        KeyFormat::Json
    } else {
        KeyFormat::KnownHosts { hash: args.hash }
    };
    let settings = Settings::new(
        global,
        &args.fanout,
        Schedule::default(),
        OutputMode::HostKeys(format),
        &context.defaults,
        context.env.home.clone(),
    );
    let scanned = targets
        .iter()
        .map(|t| (t.alias.clone(), scan_target(t)))
        .collect();
    let plan = Arc::new(KeyscanPlan::new(scanned, references, args.replace_changed));
    let code = block_on(execute(plan.clone(), &targets, &settings))?;
    match &args.update_known_hosts {
        None => Ok(code),
        Some(file) => {
            let written = update(&plan.accepted(), &targets, file.as_deref())?;
            Ok(code.max(written))
        }
    }
}

/// What the plan needs to know of a target.
fn scan_target(target: &Target) -> ScanTarget {
    let host = target.host_id();
    let alias = HostId::new(&target.alias, target.options.port);
    let mut names = vec![alias.lookup_name().to_string()];
    if !names.iter().any(|n| n == host.lookup_name()) {
        names.push(host.lookup_name().to_string());
    }
    let known_as = vec![
        target.alias.clone(),
        target.options.hostname.clone(),
        host.name().to_string(),
    ];
    ScanTarget {
        host,
        names,
        known_as,
    }
}

/// What goes to one known_hosts file: whether to hash (HashKnownHosts of
/// one of its hosts), and the hosts, by alias.
type Destination<'a> = (bool, Vec<(&'a str, HostKeys)>);

/// Writes the accepted keys to `file`, or to each host's first
/// UserKnownHostsFile; returns the exit code that what could not be
/// written deserves.
fn update(
    accepted: &[Accepted],
    targets: &[Target],
    file: Option<&Path>,
) -> Result<i32, SetupError> {
    let by_alias: HashMap<&str, &Target> = targets.iter().map(|t| (t.alias.as_str(), t)).collect();
    let hosts = accepted.iter().filter_map(|host| {
        let target = by_alias.get(host.alias.as_str())?;
        let keys = HostKeys {
            host: target.host_id(),
            names: host.scanned.names.clone(),
            keys: host.scanned.keys.iter().map(|k| k.key.clone()).collect(),
            may_replace: host.may_replace,
        };
        Some((*target, keys))
    });
    write_keys(hosts, file)
}

/// Adds each host's keys to `file`, or to its first UserKnownHostsFile,
/// and says what it did; returns the exit code that what could not be
/// written deserves.
pub(super) fn write_keys<'a>(
    hosts: impl IntoIterator<Item = (&'a Target, HostKeys)>,
    file: Option<&Path>,
) -> Result<i32, SetupError> {
    let mut files: BTreeMap<PathBuf, Destination> = BTreeMap::new();
    let mut code = exit::OK;
    for (target, keys) in hosts {
        let Some(path) = file
            .map(Path::to_path_buf)
            .or_else(|| target.options.user_known_hosts_files.first().cloned())
        else {
            eprintln!(
                "fleet: warning: {}: UserKnownHostsFile is none, so its keys are not written",
                sanitize(&target.alias)
            );
            continue;
        };
        let entry = files.entry(path).or_insert((false, Vec::new()));
        entry.0 |= target.options.hash_known_hosts;
        entry.1.push((target.alias.as_str(), keys));
    }
    for (path, (hash, hosts)) in files {
        let hash = hash || is_hashed(&path);
        let keys: Vec<HostKeys> = hosts.iter().map(|(_, keys)| keys.clone()).collect();
        let (results, backup) = known_hosts::add_keys(&path, &keys, hash)?;
        let (mut added, mut unchanged, mut lines) = (0, 0, 0);
        for ((alias, _), result) in hosts.iter().zip(results) {
            match result {
                Added::Unchanged => unchanged += 1,
                Added::Added(n) | Added::Replaced(n) => {
                    added += 1;
                    lines += n;
                }
                // The file changed since the scan checked it.
                Added::Refused(verdict) => {
                    code = exit::UNREACHED;
                    eprintln!(
                        "fleet: error: {}: not written to {}: it now says the key is {}",
                        sanitize(alias),
                        sanitize(&path.display().to_string()),
                        crate::finding::verdict_label(&verdict)
                    );
                }
            }
        }
        let backup = backup
            .map(|b| format!(" (the old file is {})", b.display()))
            .unwrap_or_default();
        let written = format!(
            "{}: {lines} keys added for {added} hosts, {unchanged} hosts already there{backup}",
            path.display()
        );
        eprintln!("fleet: {}", sanitize(&written));
    }
    Ok(code)
}

/// Whether the file's entries are hashed, so new ones should be too.
fn is_hashed(path: &Path) -> bool {
    let Ok(text) = fs::read_to_string(path) else {
        return false;
    };
    let mut entries = text
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('@'))
        .peekable();
    entries.peek().is_some() && entries.all(|l| l.starts_with("|1|"))
}
