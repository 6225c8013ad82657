//! OpenSSH client config (ssh_config(5)) evaluated exactly as `ssh -G` does
//! it, so that fleet connects to the host, as the user, with the keys and
//! known_hosts files that `ssh` would use.
//!
//! Existing crates get details wrong that matter here (options before the
//! first `Host`, `Include`, `Match` blocks of their own), so this module
//! follows OpenSSH 9.2's readconf.c and ssh.c (as Debian 12 ships them, with
//! their security backports) directly:
//!
//! * [`SshConfig::load`] reads a file and its Includes once and checks every
//!   line, as ssh does for any host;
//! * [`SshConfig::resolve`] walks the parsed lines for one host: first value
//!   wins, `Host`/`Match` switch lines on and off, a `Match final` causes a
//!   second pass, then defaults and `%`/`~`/`${}` expansion.
//!
//! Deliberate differences from ssh:
//!
//! * `Match exec` is an error where ssh would run the command: fleet runs no
//!   commands from a config, and guessing the result could pick wrong keys.
//! * No DNS: `CanonicalizeHostname` only causes the second pass;
//!   `CanonicalDomains` are not tried.
//! * Values of keywords fleet does not use are not checked.
//! * `~` and `%d` come from [`LocalEnv::home`], where ssh reads the passwd
//!   entry; `~user` is looked up in /etc/passwd only.
//! * Bad tokens in IdentityFile, CertificateFile or ProxyJump fail
//!   `resolve`; `ssh -G` prints those raw and only a real connection fails.
//! * `Include` paths expand `${VAR}` and the local tokens (`%d %i %L %l
//!   %u`), as newer OpenSSH releases do; a token for the host being reached
//!   (`%h`, `%p`, `%r`…) is an error, since fleet reads each file once for
//!   all hosts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::location::Location;

mod eval;
mod expand;
mod keywords;
mod lexer;
mod local;
mod parse;
mod pattern;
mod value;

#[cfg(test)]
mod tests;

/// Facts about the local side that config evaluation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEnv {
    /// Home directory: `~`, `%d` and relative Include paths start here.
    pub home: PathBuf,
    /// Local user name: `%u`, `Match localuser`, and the default `User`.
    pub user: String,
}

impl LocalEnv {
    /// `$HOME` (else the platform's idea of home) and the user's name.
    ///
    /// The name comes from the passwd entry of the process's uid, as ssh
    /// takes it, rather than from `$USER`, which `su` and friends can leave
    /// stale; `$USER`/`$LOGNAME` are the fallback.
    pub fn from_process() -> LocalEnv {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(dirs::home_dir)
            .unwrap_or_else(|| PathBuf::from("/"));
        let user = local::uid()
            .and_then(local::user_name)
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .or_else(|| std::env::var("LOGNAME").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "root".to_string());
        LocalEnv { home, user }
    }
}

/// A parsed config: the files, with their Includes, ready to resolve hosts.
#[derive(Debug, Clone)]
pub struct SshConfig {
    env: LocalEnv,
    /// Every file read, top-level ones and included ones.
    files: Vec<parse::ConfigFile>,
    /// The top-level files, in the order ssh reads them.
    roots: Vec<usize>,
    /// Some `Match` uses `final`: ssh then evaluates everything twice.
    wants_final_pass: bool,
    aliases: Vec<String>,
    /// The `Host` line that first names each concrete alias.
    alias_lines: HashMap<String, Location>,
}

/// Why ssh refuses `name` as a host name on its command line, if it does
/// (`ssh_valid_hostname()`), as a clause: `it holds a space`.
pub(crate) fn host_name_problem(name: &str) -> Option<String> {
    value::host_name_problem(name)
}

/// `path` as an option value (`-o IdentityFile=…`) that resolves back to
/// exactly its bytes, UTF-8 or not.
pub(crate) fn path_value(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    value::decode_lossless(path.as_os_str().as_bytes())
}

impl SshConfig {
    /// Reads `path` and everything it Includes, like `ssh -F path`
    /// (`none` means no config, as for ssh). Relative Include paths are
    /// taken from ~/.ssh.
    pub fn load(path: &Path, env: &LocalEnv) -> Result<SshConfig, ConfigError> {
        if path == Path::new("none") {
            return Ok(SshConfig::empty(env));
        }
        let origin = parse::Origin {
            user_config: true,
            include_dir: "~/.ssh",
            check_perm: false,
        };
        let mut loader = parse::Loader::new(env);
        let roots = loader
            .load_root(path, &origin, false)?
            .into_iter()
            .collect();
        Ok(SshConfig::new(env, loader, roots))
    }

    /// What ssh reads without `-F`: ~/.ssh/config (refused if others can
    /// write it), then /etc/ssh/ssh_config, whose relative Includes are
    /// taken from /etc/ssh. Either may be missing.
    pub fn load_default(env: &LocalEnv) -> Result<SshConfig, ConfigError> {
        let user_config = env.home.join(".ssh").join("config");
        SshConfig::load_user_and_system(&user_config, Path::new("/etc/ssh/ssh_config"), env)
    }

    fn load_user_and_system(
        user_config: &Path,
        system_config: &Path,
        env: &LocalEnv,
    ) -> Result<SshConfig, ConfigError> {
        let user = parse::Origin {
            user_config: true,
            include_dir: "~/.ssh",
            check_perm: true,
        };
        let system = parse::Origin {
            user_config: false,
            include_dir: "/etc/ssh",
            check_perm: false,
        };
        let mut loader = parse::Loader::new(env);
        let mut roots = Vec::new();
        for (path, origin) in [(user_config, &user), (system_config, &system)] {
            roots.extend(loader.load_root(path, origin, true)?);
        }
        Ok(SshConfig::new(env, loader, roots))
    }

    /// No config at all (default ~/.ssh/config absent).
    pub fn empty(env: &LocalEnv) -> SshConfig {
        SshConfig::new(env, parse::Loader::new(env), Vec::new())
    }

    fn new(env: &LocalEnv, loader: parse::Loader, roots: Vec<usize>) -> SshConfig {
        let mut config = SshConfig {
            env: env.clone(),
            wants_final_pass: loader.wants_final_pass,
            files: loader.files,
            roots,
            aliases: Vec::new(),
            alias_lines: HashMap::new(),
        };
        (config.aliases, config.alias_lines) = config.collect_aliases();
        config
    }

    /// Concrete host aliases: every `Host` pattern with no wildcard (`*`,
    /// `?`) and no `!`, in file order (Includes inline), de-duplicated.
    pub fn aliases(&self) -> Vec<String> {
        self.aliases.clone()
    }

    /// The `Host` line that first names `alias`, if one does.
    pub fn alias_line(&self, alias: &str) -> Option<&Location> {
        self.alias_lines.get(alias)
    }

    fn collect_aliases(&self) -> (Vec<String>, HashMap<String, Location>) {
        let mut aliases = Vec::new();
        let mut lines = HashMap::new();
        for &root in &self.roots {
            self.collect_aliases_from(root, &mut lines, &mut aliases);
        }
        (aliases, lines)
    }

    /// Recursion is bounded: Includes nest at most 16 deep.
    fn collect_aliases_from(
        &self,
        file: usize,
        lines: &mut HashMap<String, Location>,
        aliases: &mut Vec<String>,
    ) {
        let path = &self.files[file].path;
        for section in &self.files[file].sections {
            if let parse::Header::Host(patterns) = &section.header {
                for p in patterns {
                    let concrete = !p.negated && !p.pattern.contains(['*', '?', '!']);
                    if concrete && !lines.contains_key(&p.pattern) {
                        lines.insert(p.pattern.clone(), Location::new(path, section.line));
                        aliases.push(p.pattern.clone());
                    }
                }
            }
            for item in &section.items {
                if let parse::ItemKind::Include(files) = &item.kind {
                    for &included in files {
                        self.collect_aliases_from(included, lines, aliases);
                    }
                }
            }
        }
    }

    /// The options for `host` as `ssh -G -o K=V ... host` would compute
    /// them: `overrides` behave exactly like `-o Keyword=Value` command-line
    /// options (applied first, so they win).
    pub fn resolve(
        &self,
        host: &str,
        overrides: &[(String, String)],
    ) -> Result<HostOptions, ConfigError> {
        eval::resolve(self, host, overrides)
    }
}

/// What ssh would use to connect to one host.
/// One hop of a ProxyJump chain: `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHop {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// Splits a resolved [`HostOptions::proxy_jump`] into its hops, first hop
/// first; `None` if a hop is malformed.
pub fn jump_hops(spec: &str) -> Option<Vec<JumpHop>> {
    let hops = value::jump_hops(spec)?;
    Some(
        hops.into_iter()
            .map(|(user, host, port)| JumpHop { user, host, port })
            .collect(),
    )
}

#[derive(Debug, Clone, PartialEq)]
pub struct HostOptions {
    /// The name as given (the alias).
    pub host: String,
    /// HostName after %-tokens, lowercased as ssh does; defaults to `host`.
    pub hostname: String,
    /// Defaults to the local user.
    pub user: String,
    /// Default 22.
    pub port: u16,
    /// Only the explicitly configured ones, in order, `~`, tokens and
    /// `${VAR}` expanded; `none` left out.
    pub identity_files: Vec<PathBuf>,
    /// Whether OpenSSH's default keys (`~/.ssh/id_*`) are tried: only when
    /// no IdentityFile line applies at all, so `IdentityFile none` alone
    /// means no key files, as it does for ssh.
    pub default_identities: bool,
    pub identities_only: bool,
    /// After `~`/token/env expansion: "none", "SSH_AUTH_SOCK", or a path;
    /// `None` if unset.
    pub identity_agent: Option<String>,
    pub certificate_files: Vec<PathBuf>,
    /// `[user@]host[:port]` hops, comma-separated, as `ssh -G` prints them,
    /// with the tokens ssh expands in them (`%h %k %n %p %r`) expanded;
    /// `None` if unset or `none`.
    pub proxy_jump: Option<String>,
    /// A ProxyCommand is in effect. fleet does not run local commands to
    /// reach hosts, so such a host is refused rather than reached directly.
    pub proxy_command: bool,
    /// Default ~/.ssh/known_hosts ~/.ssh/known_hosts2; empty for `none`.
    pub user_known_hosts_files: Vec<PathBuf>,
    /// Default /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2; empty
    /// for `none`.
    pub global_known_hosts_files: Vec<PathBuf>,
    /// Default `Ask`.
    pub strict_host_key_checking: StrictHostKeyChecking,
    /// `None` when unset, `none` or 0 (no timeout).
    pub connect_timeout: Option<Duration>,
    /// `None` when 0 or unset.
    pub server_alive_interval: Option<Duration>,
    /// Default 3.
    pub server_alive_count_max: u32,
    /// Lowercased, as ssh uses it.
    pub host_key_alias: Option<String>,
    /// Whether learned host names are hashed. Default no.
    pub hash_known_hosts: bool,
    /// Host keys never to accept, `~` and tokens expanded; `None` if unset
    /// or `none`.
    pub revoked_host_keys: Option<PathBuf>,
}

/// `StrictHostKeyChecking`; `off` and `false` mean `No`, `true` means `Yes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    Yes,
    AcceptNew,
    No,
    Ask,
}

/// Why a config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The top-level file could not be read.
    #[error("cannot read ssh config {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// ssh refuses config files that others could have changed.
    #[error(
        "{}: bad owner or permissions; it must belong to you or root and not be writable \
         by group or others (chmod go-w {})",
        path.display(),
        path.display()
    )]
    Permissions { path: PathBuf },
    /// ssh refuses host names that could smuggle shell syntax into `%h`.
    #[error("'{host}' cannot be a host name: {problem}")]
    InvalidHost { host: String, problem: String },
    /// A file that an `Include` line matched could not be read.
    #[error("{at}: cannot read included file {}", file.display())]
    IncludeRead {
        at: Location,
        file: PathBuf,
        source: std::io::Error,
    },
    /// A line that ssh would reject.
    #[error("{at}: {message}")]
    Invalid { at: Location, message: String },
    /// A `-o` override that ssh would reject, shown as the option it is.
    #[error("-o {keyword}={value}: {message}")]
    InvalidOverride {
        keyword: String,
        value: String,
        message: String,
    },
}
