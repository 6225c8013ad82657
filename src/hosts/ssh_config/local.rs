//! Facts about the local machine that ssh takes from libc (`getuid`,
//! `getpwnam`, `gethostname`), found here without unsafe code.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The real user id of this process, if it can be found.
pub(super) fn uid() -> Option<u32> {
    static UID: OnceLock<Option<u32>> = OnceLock::new();
    *UID.get_or_init(|| {
        // /proc/self belongs to the process's user; `id -u` covers systems
        // without procfs.
        fs::metadata("/proc/self")
            .map(|m| m.uid())
            .ok()
            .or_else(|| command_output("id", &["-u"])?.parse().ok())
    })
}

/// The local host name with its domain, as `gethostname()` returns it.
pub(super) fn hostname() -> Option<String> {
    static HOSTNAME: OnceLock<Option<String>> = OnceLock::new();
    HOSTNAME
        .get_or_init(|| {
            fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .or_else(|| command_output("uname", &["-n"]))
        })
        .clone()
}

/// The user name of `uid` in the passwd database.
pub(super) fn user_name(uid: u32) -> Option<String> {
    passwd_entries().find(|e| e.uid == uid).map(|e| e.name)
}

/// The home directory of `name` in the passwd database.
pub(super) fn home_of(name: &str) -> Option<PathBuf> {
    passwd_entries().find(|e| e.name == name).map(|e| e.home)
}

struct PasswdEntry {
    name: String,
    uid: u32,
    home: PathBuf,
}

/// Entries of /etc/passwd; users only known to NSS services (LDAP…) are not
/// seen.
fn passwd_entries() -> impl Iterator<Item = PasswdEntry> {
    let text = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let entries: Vec<PasswdEntry> = text
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() < 7 {
                return None;
            }
            Some(PasswdEntry {
                name: fields[0].to_string(),
                uid: fields[2].parse().ok()?,
                home: PathBuf::from(fields[5]),
            })
        })
        .collect();
    entries.into_iter()
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The TCP port of a service name in /etc/services, like
/// `getservbyname(name, "tcp")`.
pub(super) fn service_port(name: &str) -> Option<u16> {
    let text = fs::read_to_string("/etc/services").ok()?;
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let service = fields.next()?;
        let (port, proto) = fields.next()?.split_once('/')?;
        let known = service == name || fields.any(|alias| alias == name);
        (known && proto == "tcp").then(|| port.parse().ok())?
    })
}
