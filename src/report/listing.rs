//! `fleet ls`: the resolved targets as an aligned table, so the user can see
//! where a run would connect, as whom and with which keys, before anything
//! runs.

use std::io::{self, Write};

use crate::hosts::Target;
use crate::report::sanitize::sanitize;

const HEADER: [&str; 7] = [
    "ALIAS", "ADDRESS", "PORT", "USER", "IDENTITY", "JUMP", "KNOWN",
];

/// Writes one row per target under a header, columns separated by two
/// spaces. `known` says whether known_hosts already holds a key for a
/// target, which tells the user whether a run would stop at its host key.
pub fn write_listing(
    mut out: impl Write,
    targets: &[Target],
    known: &dyn Fn(&Target) -> bool,
) -> io::Result<()> {
    // Every cell comes from local files: escaped, and measured as shown.
    let rows: Vec<[String; 7]> = targets
        .iter()
        .map(|target| row(target, known(target)).map(|cell| sanitize(&cell).into_owned()))
        .collect();
    let mut widths = HEADER.map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    write_row(&mut out, &HEADER, &widths)?;
    for row in &rows {
        write_row(&mut out, row, &widths)?;
    }
    Ok(())
}

fn row(target: &Target, known: bool) -> [String; 7] {
    let options = &target.options;
    let identity = if options.default_identities {
        "(default keys)".to_string()
    } else if options.identity_files.is_empty() {
        "(none)".to_string()
    } else {
        let files: Vec<String> = options
            .identity_files
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        files.join(",")
    };
    [
        target.alias.clone(),
        options.hostname.clone(),
        options.port.to_string(),
        options.user.clone(),
        identity,
        match (&options.proxy_jump, options.proxy_command) {
            (Some(jump), _) => jump.clone(),
            // `run` refuses such a host rather than reach it directly.
            (None, true) => "ProxyCommand (refused)".to_string(),
            (None, false) => "-".to_string(),
        },
        if known { "yes" } else { "no" }.to_string(),
    ]
}

fn write_row(out: &mut impl Write, cells: &[impl AsRef<str>], widths: &[usize]) -> io::Result<()> {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(widths) {
        if !line.is_empty() {
            line.push_str("  ");
        }
        line.push_str(&format!("{:width$}", cell.as_ref()));
    }
    writeln!(out, "{}", line.trim_end())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::hosts::ssh_config::{HostOptions, StrictHostKeyChecking};

    fn target(alias: &str, hostname: &str, port: u16, user: &str) -> Target {
        Target {
            alias: alias.to_string(),
            options: HostOptions {
                host: alias.to_string(),
                hostname: hostname.to_string(),
                user: user.to_string(),
                port,
                identity_files: Vec::new(),
                default_identities: true,
                identities_only: false,
                identity_agent: None,
                certificate_files: Vec::new(),
                proxy_command: false,
                proxy_jump: None,
                user_known_hosts_files: Vec::new(),
                global_known_hosts_files: Vec::new(),
                strict_host_key_checking: StrictHostKeyChecking::Yes,
                connect_timeout: None,
                server_alive_interval: None,
                server_alive_count_max: 3,
                host_key_alias: None,
                hash_known_hosts: false,
                revoked_host_keys: None,
            },
            jumps: Vec::new(),
        }
    }

    #[test]
    fn aligns_columns_and_fills_gaps() {
        let mut web = target("web-01", "10.0.0.11", 22, "deploy");
        web.options.identity_files = vec![
            PathBuf::from("/home/ops/.ssh/web"),
            PathBuf::from("/home/ops/.ssh/id_ed25519"),
        ];
        web.options.default_identities = false;
        let mut db = target("db-primary", "db1.internal.example.com", 2222, "postgres");
        db.options.proxy_jump = Some("bastion".to_string());
        let targets = [web, db];
        let mut out = Vec::new();
        write_listing(&mut out, &targets, &|target| target.alias == "web-01").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
ALIAS       ADDRESS                   PORT  USER      IDENTITY                                      JUMP     KNOWN
web-01      10.0.0.11                 22    deploy    /home/ops/.ssh/web,/home/ops/.ssh/id_ed25519  -        yes
db-primary  db1.internal.example.com  2222  postgres  (default keys)                                bastion  no
"
        );
    }

    #[test]
    fn no_targets_prints_the_header_only() {
        let mut out = Vec::new();
        write_listing(&mut out, &[], &|_| false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ALIAS  ADDRESS  PORT  USER  IDENTITY  JUMP  KNOWN\n"
        );
    }
}
