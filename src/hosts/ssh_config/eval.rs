//! Computes the options for one host the way ssh.c and readconf.c do:
//! `-o` overrides first, then the files line by line with the first value
//! winning, an optional second ("final") pass, defaults, then token
//! expansion.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use sha1::{Digest, Sha1};

use super::expand;
use super::keywords::{self, Keyword};
use super::lexer;
use super::local;
use super::parse::{Criterion, Header, HostPattern, ItemKind, Setting};
use super::pattern::{self, ListMatch};
use super::value::{self, Jump};
use super::{ConfigError, HostOptions, SshConfig, StrictHostKeyChecking};
use crate::location::Location;
use crate::wildcard::match_pattern;

/// ssh's `SSH_MAX_IDENTITY_FILES` (also its limit on certificate files).
const MAX_KEY_FILES: usize = 100;

/// Where a value came from, for error messages.
#[derive(Debug, Clone, Copy)]
enum At {
    Line { file: usize, line: u32 },
    Override(usize),
}

/// A value with the place it was set.
#[derive(Debug, Clone)]
struct Sourced<T> {
    value: T,
    at: At,
}

/// An IdentityFile/CertificateFile entry; ssh drops repeats of the same
/// path from the same kind of config.
#[derive(Debug, Clone)]
struct KeyFile {
    path: String,
    user_config: bool,
    at: At,
}

/// Options as obtained so far; `None` means "not set yet".
#[derive(Debug, Default)]
struct State {
    hostname: Option<Sourced<String>>,
    /// Set for the final pass, where the resolved name is fixed.
    hostname_fixed: bool,
    user: Option<String>,
    port: Option<u16>,
    identity_files: Vec<KeyFile>,
    identities_only: Option<bool>,
    identity_agent: Option<Sourced<String>>,
    certificate_files: Vec<KeyFile>,
    /// Whether a ProxyCommand (or a ProxyJump hop, which ssh turns into
    /// one) is set: only used to decide which of the two wins.
    proxy_command: bool,
    /// The ProxyCommand that won, when it is a real command (not `none`).
    proxy_command_used: bool,
    jump: Option<Sourced<Jump>>,
    user_known_hosts: Option<Sourced<Vec<String>>>,
    global_known_hosts: Option<Vec<String>>,
    strict: Option<StrictHostKeyChecking>,
    connect_timeout: Option<u32>,
    server_alive_interval: Option<u32>,
    server_alive_count_max: Option<u32>,
    host_key_alias: Option<String>,
    hash_known_hosts: Option<bool>,
    revoked_host_keys: Option<Sourced<Option<String>>>,
    ignore_unknown: Option<String>,
    canonicalize: Option<bool>,
}

/// One walk over the files.
#[derive(Clone, Copy)]
struct Pass<'p> {
    /// What `Host` lines match: the name as given, or in the final pass the
    /// resolved host name.
    host: &'p str,
    /// In the final pass `Match final`/`canonical` hold and `Match host`
    /// sees the resolved name.
    final_host: Option<&'p str>,
}

/// One `resolve` call in progress.
struct Eval<'a> {
    cfg: &'a SshConfig,
    overrides: &'a [(String, String)],
    host_arg: &'a str,
    st: State,
}

pub(super) fn resolve(
    cfg: &SshConfig,
    host_arg: &str,
    overrides: &[(String, String)],
) -> Result<HostOptions, ConfigError> {
    if let Some(problem) = value::host_name_problem(host_arg) {
        return Err(ConfigError::InvalidHost {
            host: host_arg.to_string(),
            problem,
        });
    }
    let mut eval = Eval {
        cfg,
        overrides,
        host_arg,
        st: State::default(),
    };
    eval.apply_overrides()?;
    let first = Pass {
        host: host_arg,
        final_host: None,
    };
    eval.walk_roots(first)?;

    let mut host = match &eval.st.hostname {
        Some(h) => eval.expand_hostname(h)?,
        None => host_arg.to_string(),
    };
    host = normalize_host(host);

    if cfg.wants_final_pass || eval.st.canonicalize == Some(true) {
        eval.st.hostname_fixed = true;
        let last = Pass {
            host: &host,
            final_host: Some(&host),
        };
        eval.walk_roots(last)?;
    }
    eval.finish(host)
}

impl Eval<'_> {
    fn error(&self, at: At, message: String) -> ConfigError {
        match at {
            At::Line { file, line } => ConfigError::Invalid {
                at: Location::new(self.cfg.files[file].path.clone(), line as usize),
                message,
            },
            At::Override(i) => {
                let (keyword, value) = &self.overrides[i];
                ConfigError::InvalidOverride {
                    keyword: keyword.clone(),
                    value: value.clone(),
                    message,
                }
            }
        }
    }

    /// `-o Keyword=Value` options, processed before any file like ssh does.
    fn apply_overrides(&mut self) -> Result<(), ConfigError> {
        for (i, (keyword, value)) in self.overrides.iter().enumerate() {
            let at = At::Override(i);
            let line = format!("{keyword}={value}");
            let raw = match lexer::split_line(&line) {
                Ok(Some(raw)) => raw,
                Ok(None) => continue,
                Err(message) => return Err(self.error(at, message)),
            };
            match keywords::lookup(&raw.keyword.to_ascii_lowercase()) {
                None => self.check_unknown(&raw.keyword, at)?,
                Some(Keyword::Ignored) => {}
                Some(Keyword::Host | Keyword::Match | Keyword::Include) => {
                    return Err(
                        self.error(at, format!("'{}' only works in a config file", raw.keyword))
                    )
                }
                Some(keyword) => {
                    let setting = super::parse::setting(keyword, &raw, true)
                        .map_err(|message| self.error(at, message))?;
                    self.apply(&setting, at, true)?;
                }
            }
        }
        Ok(())
    }

    fn walk_roots(&mut self, pass: Pass) -> Result<(), ConfigError> {
        for &root in &self.cfg.roots {
            let mut active = true;
            self.walk(root, &mut active, false, pass)?;
        }
        Ok(())
    }

    /// Processes one file. `never` is OpenSSH's SSHCONF_NEVERMATCH: the file
    /// was included from an inactive block, so nothing in it applies.
    fn walk(
        &mut self,
        file: usize,
        active: &mut bool,
        never: bool,
        pass: Pass,
    ) -> Result<(), ConfigError> {
        let cfg = self.cfg;
        let sections = &cfg.files[file].sections;
        let mut index = 0;
        while index < sections.len() {
            let section = &sections[index];
            if let Some(run) = &section.run {
                // Only the sections naming the host can switch on; the
                // state after the run is that of its last section.
                let candidates = run.sections_by_name.get(pass.host);
                for &i in candidates.into_iter().flatten() {
                    if let Header::Host(patterns) = &sections[i].header {
                        *active = !never && host_matches(patterns, pass.host);
                        self.items(file, i, active, never, pass)?;
                    }
                }
                if let Header::Host(patterns) = &sections[run.end - 1].header {
                    *active = !never && host_matches(patterns, pass.host);
                }
                index = run.end;
                continue;
            }
            match &section.header {
                Header::Start => {}
                Header::Host(patterns) => *active = !never && host_matches(patterns, pass.host),
                Header::Match { line, criteria } => {
                    let at = At::Line { file, line: *line };
                    *active = !never && self.matches(criteria, at, pass)?;
                }
            }
            if *active || section.visit_inactive {
                self.items(file, index, active, never, pass)?;
            }
            index += 1;
        }
        Ok(())
    }

    /// Processes the lines of one section.
    fn items(
        &mut self,
        file: usize,
        section: usize,
        active: &mut bool,
        never: bool,
        pass: Pass,
    ) -> Result<(), ConfigError> {
        let cfg = self.cfg;
        let config_file = &cfg.files[file];
        for item in &config_file.sections[section].items {
            let at = At::Line {
                file,
                line: item.line,
            };
            match &item.kind {
                ItemKind::Set(setting) if *active => {
                    self.apply(setting, at, config_file.user_config)?;
                }
                ItemKind::Set(_) => {}
                ItemKind::Unknown(keyword) => self.check_unknown(keyword, at)?,
                ItemKind::Include(files) => {
                    // Each included file starts from, and cannot change,
                    // the including block's state.
                    let was_active = *active;
                    for &included in files {
                        self.walk(included, active, never || !was_active, pass)?;
                        *active = was_active;
                    }
                }
            }
        }
        Ok(())
    }

    /// Evaluates a `Match` line like `match_cfg_line()`.
    fn matches(
        &self,
        criteria: &[(bool, Criterion)],
        at: At,
        pass: Pass,
    ) -> Result<bool, ConfigError> {
        let host = match (pass.final_host, &self.st.hostname) {
            (Some(host), _) => host.to_string(),
            (None, Some(hostname)) => self.expand_hostname(hostname)?,
            (None, None) => self.host_arg.to_string(),
        };
        let remote_user = self.st.user.as_deref().unwrap_or(&self.cfg.env.user);
        let mut result = true;
        for (negated, criterion) in criteria {
            let matched = match criterion {
                Criterion::All => return Ok(result && !negated),
                Criterion::Canonical | Criterion::Final => pass.final_host.is_some(),
                Criterion::Host(list) => pattern::match_hostname(list, &host),
                Criterion::OriginalHost(list) => pattern::match_hostname(list, self.host_arg),
                Criterion::User(list) => {
                    pattern::match_pattern_list(list, remote_user, false) == ListMatch::Matched
                }
                Criterion::LocalUser(list) => {
                    pattern::match_pattern_list(list, &self.cfg.env.user, false)
                        == ListMatch::Matched
                }
                // ssh only runs the command while everything before it matched.
                Criterion::Exec if !result => continue,
                Criterion::Exec => {
                    return Err(self.error(
                        at,
                        "'Match exec' would run a local command, which fleet does not do \
                         while reading ssh_config; use host/user criteria instead, or pass \
                         fleet a config without it"
                            .into(),
                    ))
                }
            };
            if matched == *negated {
                result = false;
            }
        }
        Ok(result)
    }

    fn check_unknown(&self, keyword: &str, at: At) -> Result<(), ConfigError> {
        let ignored = self.st.ignore_unknown.as_deref().is_some_and(|list| {
            pattern::match_pattern_list(list, &keyword.to_ascii_lowercase(), true)
                == ListMatch::Matched
        });
        if ignored {
            return Ok(());
        }
        Err(self.error(
            at,
            format!(
                "unknown keyword '{keyword}' (fix the spelling, or add \
                 'IgnoreUnknown {keyword}' above this line)"
            ),
        ))
    }

    /// Records a value unless one was obtained before.
    fn apply(&mut self, setting: &Setting, at: At, user_config: bool) -> Result<(), ConfigError> {
        let st = &mut self.st;
        match setting {
            Setting::HostName(v) => {
                if !st.hostname_fixed {
                    st.hostname.get_or_insert_with(|| Sourced {
                        value: v.clone(),
                        at,
                    });
                }
            }
            Setting::User(v) => {
                // ssh keeps shell metacharacters out of `%r` when the user
                // comes from its command line.
                if st.user.is_none() && matches!(at, At::Override(_)) && !value::valid_user(v) {
                    return Err(self.error(
                        at,
                        format!(
                            "user name '{v}' contains characters ssh refuses on its command line"
                        ),
                    ));
                }
                st.user.get_or_insert_with(|| v.clone());
            }
            Setting::Port(v) => {
                st.port.get_or_insert(*v);
            }
            Setting::IdentityFile(path) => {
                add_key_file(&mut st.identity_files, path, user_config, at)
                    .map_err(|m| self.error(at, m))?;
            }
            Setting::CertificateFile(path) => {
                add_key_file(&mut st.certificate_files, path, user_config, at)
                    .map_err(|m| self.error(at, m))?;
            }
            Setting::IdentitiesOnly(v) => {
                st.identities_only.get_or_insert(*v);
            }
            Setting::IdentityAgent(v) => {
                st.identity_agent.get_or_insert_with(|| Sourced {
                    value: v.clone(),
                    at,
                });
            }
            // The first of ProxyCommand and ProxyJump shuts out the other.
            Setting::ProxyCommand(real) => {
                if st.jump.is_none() && !st.proxy_command {
                    st.proxy_command = true;
                    st.proxy_command_used = *real;
                }
            }
            Setting::ProxyJump(jump) => {
                // `none` only yields to an earlier ProxyJump; a hop also to
                // an earlier ProxyCommand.
                let applies = st.jump.is_none() && (*jump == Jump::None || !st.proxy_command);
                if applies {
                    st.proxy_command |= *jump != Jump::None;
                    st.jump = Some(Sourced {
                        value: jump.clone(),
                        at,
                    });
                }
            }
            Setting::UserKnownHostsFile(files) => {
                if st.user_known_hosts.is_none() && !files.is_empty() {
                    st.user_known_hosts = Some(Sourced {
                        value: files.clone(),
                        at,
                    });
                }
            }
            Setting::GlobalKnownHostsFile(files) => {
                if st.global_known_hosts.is_none() && !files.is_empty() {
                    st.global_known_hosts = Some(files.clone());
                }
            }
            Setting::StrictHostKeyChecking(v) => {
                st.strict.get_or_insert(*v);
            }
            Setting::ConnectTimeout(v) => {
                if st.connect_timeout.is_none() {
                    st.connect_timeout = *v;
                }
            }
            Setting::ServerAliveInterval(v) => {
                if st.server_alive_interval.is_none() {
                    st.server_alive_interval = *v;
                }
            }
            Setting::ServerAliveCountMax(v) => {
                st.server_alive_count_max.get_or_insert(*v);
            }
            Setting::HostKeyAlias(v) => {
                st.host_key_alias.get_or_insert_with(|| v.clone());
            }
            Setting::HashKnownHosts(v) => {
                st.hash_known_hosts.get_or_insert(*v);
            }
            Setting::RevokedHostKeys(v) => {
                st.revoked_host_keys.get_or_insert_with(|| Sourced {
                    value: v.clone(),
                    at,
                });
            }
            Setting::IgnoreUnknown(v) => {
                st.ignore_unknown.get_or_insert_with(|| v.clone());
            }
            Setting::CanonicalizeHostname(v) => {
                st.canonicalize.get_or_insert(*v);
            }
        }
        Ok(())
    }

    /// `HostName` with `%h` (the name as given) and `%%` replaced.
    fn expand_hostname(&self, hostname: &Sourced<String>) -> Result<String, ConfigError> {
        expand::expand(&hostname.value, Some(&[('h', self.host_arg)]), false)
            .map_err(|m| self.error(hostname.at, format!("HostName: {m}")))
    }

    /// Fills defaults and expands `~`, tokens and `${VAR}` like ssh.c does
    /// after reading the config.
    fn finish(self, host: String) -> Result<HostOptions, ConfigError> {
        let env = &self.cfg.env;
        let st = &self.st;
        let user = st.user.clone().unwrap_or_else(|| env.user.clone());
        let port = st.port.unwrap_or(22);
        let host_key_alias = st.host_key_alias.as_ref().map(|a| a.to_ascii_lowercase());

        if let Some(Sourced {
            value:
                Jump::Via {
                    user: jump_user,
                    host: jump_host,
                    port: jump_port,
                    ..
                },
            at,
        }) = &st.jump
        {
            let same_user = jump_user.as_deref().unwrap_or(&user) == user;
            if *jump_host == host && jump_port.unwrap_or(22) == port && same_user {
                return Err(self.error(
                    *at,
                    format!("ProxyJump leads back to {host} itself; remove it for this host"),
                ));
            }
        }

        let this_host = local::hostname().unwrap_or_default();
        let short_host = this_host.split('.').next().unwrap_or_default().to_string();
        let port_text = port.to_string();
        let uid = local::uid().map(|u| u.to_string()).unwrap_or_default();
        let key_alias = host_key_alias
            .clone()
            .unwrap_or_else(|| self.host_arg.to_string());
        let home = env.home.to_string_lossy().into_owned();
        let conn_hash = connection_hash(&this_host, &host, &port_text, &user);
        let tokens: [(char, &str); 11] = [
            ('C', &conn_hash),
            ('L', &short_host),
            ('i', &uid),
            ('k', &key_alias),
            ('l', &this_host),
            ('n', self.host_arg),
            ('p', &port_text),
            ('d', &home),
            ('h', &host),
            ('r', &user),
            ('u', &env.user),
        ];
        // Paths get `~` first, then tokens and environment variables.
        let path = |raw: &str, at: At, what: &str| -> Result<String, ConfigError> {
            expand::tilde(raw, &env.home)
                .and_then(|p| expand::expand(&p, Some(&tokens), true))
                .map_err(|m| self.error(at, format!("{what}: {m}")))
        };

        let identity_files = st
            .identity_files
            .iter()
            .filter(|f| !f.path.eq_ignore_ascii_case("none"))
            .map(|f| path(&f.path, f.at, "IdentityFile").map(|p| value::path_from(&p)))
            .collect::<Result<Vec<_>, _>>()?;
        let certificate_files = st
            .certificate_files
            .iter()
            .map(|f| path(&f.path, f.at, "CertificateFile").map(|p| value::path_from(&p)))
            .collect::<Result<Vec<_>, _>>()?;
        let user_known_hosts_files = match &st.user_known_hosts {
            Some(files) if is_none(&files.value) => Vec::new(),
            Some(files) => files
                .value
                .iter()
                .map(|f| path(f, files.at, "UserKnownHostsFile").map(|p| value::path_from(&p)))
                .collect::<Result<Vec<_>, _>>()?,
            None => ["known_hosts", "known_hosts2"]
                .iter()
                .map(|name| env.home.join(".ssh").join(name))
                .collect(),
        };
        let global_known_hosts_files = match &st.global_known_hosts {
            Some(files) if is_none(files) => Vec::new(),
            Some(files) => files.iter().map(|f| value::path_from(f)).collect(),
            None => vec![
                PathBuf::from("/etc/ssh/ssh_known_hosts"),
                PathBuf::from("/etc/ssh/ssh_known_hosts2"),
            ],
        };
        let revoked_host_keys = match &st.revoked_host_keys {
            Some(Sourced {
                value: Some(file),
                at,
            }) => Some(path(file, *at, "RevokedHostKeys").map(|p| value::path_from(&p))?),
            _ => None,
        };
        let identity_agent = match &st.identity_agent {
            Some(agent) => Some(path(&agent.value, agent.at, "IdentityAgent")?),
            None => None,
        };
        let proxy_jump = match &st.jump {
            Some(jump) => match jump.value.spec() {
                Some(spec) => {
                    // The tokens ssh expands in the ProxyCommand it makes
                    // of a ProxyJump.
                    let jump_tokens = [
                        ('h', host.as_str()),
                        ('k', &key_alias),
                        ('n', self.host_arg),
                        ('p', &port_text),
                        ('r', &user),
                    ];
                    Some(
                        expand::expand(&spec, Some(&jump_tokens), false)
                            .map_err(|m| self.error(jump.at, format!("ProxyJump: {m}")))?,
                    )
                }
                None => None,
            },
            None => None,
        };
        let seconds = |s: Option<u32>| s.filter(|&s| s > 0).map(|s| Duration::from_secs(s.into()));

        Ok(HostOptions {
            host: self.host_arg.to_string(),
            hostname: host,
            user,
            port,
            identity_files,
            default_identities: st.identity_files.is_empty(),
            identities_only: st.identities_only.unwrap_or(false),
            identity_agent,
            certificate_files,
            proxy_jump,
            proxy_command: st.proxy_command_used && st.jump.is_none(),
            user_known_hosts_files,
            global_known_hosts_files,
            strict_host_key_checking: st.strict.unwrap_or(StrictHostKeyChecking::Ask),
            connect_timeout: seconds(st.connect_timeout),
            server_alive_interval: seconds(st.server_alive_interval),
            server_alive_count_max: st.server_alive_count_max.unwrap_or(3),
            host_key_alias,
            hash_known_hosts: st.hash_known_hosts.unwrap_or(false),
            revoked_host_keys,
        })
    }
}

fn host_matches(patterns: &[HostPattern], host: &str) -> bool {
    let mut matched = false;
    for p in patterns {
        if match_pattern(p.pattern.as_bytes(), host.as_bytes()) {
            if p.negated {
                return false;
            }
            matched = true;
        }
    }
    matched
}

fn add_key_file(
    list: &mut Vec<KeyFile>,
    path: &str,
    user_config: bool,
    at: At,
) -> Result<(), String> {
    if list.len() >= MAX_KEY_FILES {
        return Err(format!(
            "more than {MAX_KEY_FILES} key files for one host; ssh refuses that too"
        ));
    }
    if !list
        .iter()
        .any(|f| f.path == path && f.user_config == user_config)
    {
        list.push(KeyFile {
            path: path.to_string(),
            user_config,
            at,
        });
    }
    Ok(())
}

fn is_none(files: &[String]) -> bool {
    files
        .first()
        .is_some_and(|f| f.eq_ignore_ascii_case("none"))
}

/// Lowercases a host name, but canonicalizes an address instead, as ssh.c
/// does before it connects (and before `ssh -G` prints it).
fn normalize_host(host: String) -> String {
    let looks_like_address =
        host.contains(['%', ':']) || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    match host.parse::<IpAddr>() {
        Ok(ip) => {
            let canonical = ip.to_string();
            if canonical.eq_ignore_ascii_case(&host) {
                host
            } else {
                canonical
            }
        }
        Err(_) if looks_like_address => host,
        Err(_) => host.to_ascii_lowercase(),
    }
}

/// `%C`: the SHA-1 of local host, remote host, port and user, in hex.
fn connection_hash(this_host: &str, host: &str, port: &str, user: &str) -> String {
    let mut hasher = Sha1::new();
    for part in [this_host, host, port, user] {
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
