//! `fleet known-hosts`: forget hosts (the `ssh-keygen -R` of fleet), or
//! check offline what known_hosts says about each target.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use super::{print_warnings, write_stdout, Context};
use crate::cli::{GlobalArgs, KnownHostsArgs, KnownHostsCommand, Selection};
use crate::error::{exit, SetupError};
use crate::exec;
use crate::finding;
use crate::known_hosts::{self, HostId, HostRecord};
use crate::report::sanitize::sanitize;

pub(super) fn run(global: &GlobalArgs, args: &KnownHostsArgs) -> Result<i32, SetupError> {
    match &args.command {
        KnownHostsCommand::Forget { hosts, file } => forget(global, hosts, file.as_ref()),
        KnownHostsCommand::Check { selection } => check(global, selection),
    }
}

/// Forgets every name each host is known by, in `file` or in each host's
/// UserKnownHostsFiles.
fn forget(
    global: &GlobalArgs,
    hosts: &[String],
    file: Option<&PathBuf>,
) -> Result<i32, SetupError> {
    let context = Context::load(global)?;
    // File → names to forget there.
    let mut plan: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let mut default_files = Vec::new();
    for host in hosts {
        let (names, files) = if host.starts_with('[') {
            // `[host]:port` is a lookup name already, not a selector.
            (vec![host.to_ascii_lowercase()], Vec::new())
        } else {
            let selection = Selection {
                selectors: host.clone(),
                exclude: Vec::new(),
                shard: None,
                shard_count: None,
            };
            let mut names = Vec::new();
            let mut files = Vec::new();
            for target in context.targets(&selection)? {
                let port = target.options.port;
                names.extend([
                    target.host_id().lookup_name().to_string(),
                    HostId::new(&target.alias, port).lookup_name().to_string(),
                    HostId::new(&target.options.hostname, port)
                        .lookup_name()
                        .to_string(),
                ]);
                files.extend(target.options.user_known_hosts_files.clone());
            }
            (names, files)
        };
        default_files.extend(files.iter().cloned());
        let files = match file {
            Some(file) => vec![file.clone()],
            None if files.is_empty() => default_files.clone(),
            None => files,
        };
        for file in files {
            plan.entry(file).or_default().extend(names.iter().cloned());
        }
    }
    let mut report = String::new();
    let mut say = |line: String| {
        let _ = writeln!(report, "{}", sanitize(&line));
    };
    for (file, mut names) in plan {
        if file != PathBuf::new() && !file.exists() {
            continue;
        }
        names.sort();
        names.dedup();
        let forgotten = known_hosts::forget(&file, &names)?;
        for at in &forgotten.removed {
            say(format!("{at}: removed"));
        }
        for at in &forgotten.edited {
            say(format!("{at}: removed the host's names, kept the others"));
        }
        for at in &forgotten.patterns {
            say(format!(
                "{at}: a wildcard pattern matches the host; left alone, edit it by hand"
            ));
        }
        if let Some(backup) = &forgotten.backup {
            say(format!(
                "{}: the old file is {}",
                file.display(),
                backup.display()
            ));
        }
        if forgotten.removed.is_empty() && forgotten.edited.is_empty() {
            say(format!("{}: the hosts are not in it", file.display()));
        }
    }
    write_stdout(report.as_bytes())
}

/// One line per target: what known_hosts says about it.
fn check(global: &GlobalArgs, selection: &Selection) -> Result<i32, SetupError> {
    let context = Context::load(global)?;
    let targets = context.targets(selection)?;
    let (known, warnings) = exec::load_known_hosts(&targets)?;
    print_warnings(&warnings);
    let width = targets.iter().map(|t| t.alias.len()).max().unwrap_or(0);
    let mut text = String::new();
    let mut code = exit::OK;
    for (target, known) in targets.iter().zip(&known) {
        let record = known.describe(&target.host_id());
        let (state, details) = describe(&record);
        if !matches!(state, "known" | "cert-authority") {
            code = exit::UNREACHED;
        }
        let line = format!("{:width$}  {state:14}  {details}", target.alias);
        let _ = writeln!(text, "{}", sanitize(line.trim_end()));
    }
    write_stdout(text.as_bytes())?;
    Ok(code)
}

/// A host's state in one word, and its keys with their lines.
fn describe(record: &HostRecord) -> (&'static str, String) {
    let keys = |keys: &[(russh::keys::ssh_key::PublicKey, crate::location::Location)]| {
        keys.iter()
            .map(|(key, at)| format!("{} {} ({at})", key.algorithm(), finding::fingerprint(key)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(at) = record.unreadable.first() {
        return (
            "unreadable",
            format!("a marker line for it cannot be read ({at})"),
        );
    }
    if !record.keys.is_empty() {
        return ("known", keys(&record.keys));
    }
    if !record.authorities.is_empty() {
        return ("cert-authority", keys(&record.authorities));
    }
    if !record.revoked.is_empty() {
        return ("revoked", keys(&record.revoked));
    }
    ("unknown", String::new())
}
