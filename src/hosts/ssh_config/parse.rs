//! Reads config files, following `Include`, into sections of checked
//! directives, once, so that resolving a host never touches the disk.
//!
//! ssh parses every line for every host, active or not, and stops at any
//! malformed one; so everything that does not depend on the host is checked
//! here and reported by [`SshConfig::load`](super::SshConfig::load).

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::expand;
use super::keywords::{self, Keyword};
use super::lexer::{self, RawLine, Words};
use super::local;
use super::pattern;
use super::value::{self, Jump};
use super::{ConfigError, LocalEnv, StrictHostKeyChecking};
use crate::location::Location;

/// OpenSSH's `READCONF_MAX_DEPTH`: how deeply Includes may nest.
const MAX_INCLUDE_DEPTH: u32 = 16;

/// How many files an Include tree may stand for, each counted as often as
/// it is included. Each file is parsed once, but resolving a host walks the
/// tree as ssh reads it; this bounds the walk, where ssh has no bound.
const MAX_INCLUDED_FILES: u64 = 1_000_000;

/// One file as read; `Include`s refer to other entries by index.
#[derive(Debug, Clone)]
pub(super) struct ConfigFile {
    pub path: PathBuf,
    /// User configs (`-F`, ~/.ssh/config and their Includes) differ from
    /// the system-wide one in Include paths and IdentityFile de-duplication.
    pub user_config: bool,
    pub sections: Vec<Section>,
}

/// The lines from one `Host`/`Match` line (or the top of a file) up to the
/// next one.
#[derive(Debug, Clone)]
pub(super) struct Section {
    pub header: Header,
    /// The line of the `Host`/`Match` line; 0 for the top of a file.
    pub line: usize,
    pub items: Vec<Item>,
    /// Whether an inactive section still has work: Includes to walk and
    /// unknown keywords to check. Lets resolving skip most of a big config.
    pub visit_inactive: bool,
    /// Set on the first of a run of sections that only literal host names
    /// can switch on (see [`LiteralRun`]).
    pub run: Option<LiteralRun>,
}

/// Consecutive `Host` sections with only literal patterns (no `*`/`?`)
/// and nothing to do when inactive: the usual one-block-per-host config.
/// For a given name only the sections listing it can apply, so resolving
/// looks them up instead of testing every block.
#[derive(Debug, Clone)]
pub(super) struct LiteralRun {
    /// The index just past the run.
    pub end: usize,
    /// Host name → the sections of the run that list it, in order.
    pub sections_by_name: HashMap<String, Vec<usize>>,
}

#[derive(Debug, Clone)]
pub(super) enum Header {
    /// Lines before the first `Host`/`Match` keep the caller's state.
    Start,
    Host(Vec<HostPattern>),
    Match {
        line: u32,
        criteria: Vec<(bool, Criterion)>,
    },
}

#[derive(Debug, Clone)]
pub(super) struct HostPattern {
    pub negated: bool,
    pub pattern: String,
}

/// One `Match` criterion; the `bool` next to it says it was negated.
#[derive(Debug, Clone)]
pub(super) enum Criterion {
    All,
    Canonical,
    Final,
    Host(String),
    OriginalHost(String),
    User(String),
    LocalUser(String),
    Exec,
}

#[derive(Debug, Clone)]
pub(super) struct Item {
    pub line: u32,
    pub kind: ItemKind,
}

#[derive(Debug, Clone)]
pub(super) enum ItemKind {
    Set(Setting),
    /// The files the glob matched, in order (indices into the file list).
    Include(Vec<usize>),
    /// A keyword OpenSSH does not know, as written. Whether it is an error
    /// depends on the `IgnoreUnknown` in force when it is reached.
    Unknown(String),
}

/// A checked value of a keyword fleet uses.
#[derive(Debug, Clone)]
pub(super) enum Setting {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    IdentitiesOnly(bool),
    IdentityAgent(String),
    CertificateFile(String),
    ProxyJump(Jump),
    /// Whether the command is a real one (`ProxyCommand none` is not).
    ProxyCommand(bool),
    /// Empty when the line held only a comment: then it sets nothing.
    UserKnownHostsFile(Vec<String>),
    GlobalKnownHostsFile(Vec<String>),
    StrictHostKeyChecking(StrictHostKeyChecking),
    /// `None` for `none`, which leaves the option unset.
    ConnectTimeout(Option<u32>),
    ServerAliveInterval(Option<u32>),
    ServerAliveCountMax(u32),
    HostKeyAlias(String),
    HashKnownHosts(bool),
    /// `None` for `none`.
    RevokedHostKeys(Option<String>),
    IgnoreUnknown(String),
    /// Whether canonicalization is on (`yes` or `always`).
    CanonicalizeHostname(bool),
}

/// Where a top-level file comes from, which decides how it reads Includes.
pub(super) struct Origin {
    pub user_config: bool,
    /// Relative Include paths are taken from here (`~/.ssh` or `/etc/ssh`).
    pub include_dir: &'static str,
    /// Refuse the file if others could have written it, as ssh does for
    /// ~/.ssh/config and every included file.
    pub check_perm: bool,
}

/// Reads files into one list; `SshConfig` keeps the result.
pub(super) struct Loader<'a> {
    env: &'a LocalEnv,
    pub files: Vec<ConfigFile>,
    /// How deeply each file's own Includes nest below it.
    heights: Vec<u32>,
    /// How many files each file stands for, itself and its Includes.
    sizes: Vec<u64>,
    /// Files already parsed, read the same way (user config or not, checked
    /// permissions or not): an Include tree names one file many times,
    /// and ssh reads it again each time, but one parse serves them all.
    parsed: HashMap<(PathBuf, bool, bool), usize>,
    /// The files being parsed, outermost first: one Included again from
    /// inside itself is a loop.
    open: Vec<usize>,
    /// Whether some `Match` uses `final`, which makes ssh evaluate the
    /// config a second time.
    pub wants_final_pass: bool,
}

impl<'a> Loader<'a> {
    pub(super) fn new(env: &'a LocalEnv) -> Loader<'a> {
        Loader {
            env,
            files: Vec::new(),
            heights: Vec::new(),
            sizes: Vec::new(),
            parsed: HashMap::new(),
            open: Vec::new(),
            wants_final_pass: false,
        }
    }

    /// Reads a top-level file; `Ok(None)` if it does not exist and is
    /// `optional`.
    pub(super) fn load_root(
        &mut self,
        path: &Path,
        origin: &Origin,
        optional: bool,
    ) -> Result<Option<usize>, ConfigError> {
        let text = match read(path, origin.check_perm) {
            Ok(text) => text,
            Err(ReadError::Io(e)) if optional && e.kind() == io::ErrorKind::NotFound => {
                return Ok(None)
            }
            Err(ReadError::Io(source)) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
            Err(ReadError::Permissions) => {
                return Err(ConfigError::Permissions {
                    path: path.to_path_buf(),
                })
            }
        };
        self.parse_file(path, &text, origin, 0).map(Some)
    }

    fn parse_file(
        &mut self,
        path: &Path,
        text: &str,
        origin: &Origin,
        depth: u32,
    ) -> Result<usize, ConfigError> {
        let index = self.files.len();
        self.files.push(ConfigFile {
            path: path.to_path_buf(),
            user_config: origin.user_config,
            sections: Vec::new(),
        });
        self.heights.push(0);
        self.sizes.push(1);
        self.parsed.insert(
            (path.to_path_buf(), origin.user_config, origin.check_perm),
            index,
        );
        self.open.push(index);
        let mut sections = Vec::new();
        let mut current = Section::new(Header::Start, 0);
        for (n, line) in text.split('\n').enumerate() {
            let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
            let at = |message: String| ConfigError::Invalid {
                at: Location::new(path, line_no as usize),
                message,
            };
            let Some(raw) = lexer::split_line(line).map_err(at)? else {
                continue;
            };
            let kind = match keywords::lookup(&raw.keyword.to_ascii_lowercase()) {
                None => ItemKind::Unknown(raw.keyword),
                Some(Keyword::Ignored) => continue,
                Some(Keyword::Host) => {
                    let patterns = host_patterns(&raw).map_err(at)?;
                    sections.push(std::mem::replace(
                        &mut current,
                        Section::new(Header::Host(patterns), line_no as usize),
                    ));
                    continue;
                }
                Some(Keyword::Match) => {
                    let criteria = self.match_criteria(&raw).map_err(at)?;
                    let header = Header::Match {
                        line: line_no,
                        criteria,
                    };
                    let section = Section::new(header, line_no as usize);
                    sections.push(std::mem::replace(&mut current, section));
                    continue;
                }
                Some(Keyword::Include) => {
                    ItemKind::Include(self.include(&raw, origin, depth, path, line_no)?)
                }
                Some(keyword) => ItemKind::Set(setting(keyword, &raw, false).map_err(at)?),
            };
            if !matches!(kind, ItemKind::Set(_)) {
                current.visit_inactive = true;
            }
            current.items.push(Item {
                line: line_no,
                kind,
            });
        }
        sections.push(current);
        mark_literal_runs(&mut sections);
        self.files[index].sections = sections;
        self.open.pop();
        Ok(index)
    }

    /// Checks a `Match` line the way `match_cfg_line()` walks it.
    fn match_criteria(&mut self, raw: &RawLine) -> Result<Vec<(bool, Criterion)>, String> {
        let mut words = Words::new(&raw.rest);
        let mut criteria = Vec::new();
        let mut attributes = 0;
        let mut saw_all = false;
        while let Some(word) = words.next() {
            if word.is_empty() {
                break;
            }
            if word.starts_with('#') {
                words.finish();
                break;
            }
            let (negated, name) = match word.strip_prefix('!') {
                Some(name) => (true, name),
                None => (false, word.as_str()),
            };
            let name = name.to_ascii_lowercase();
            if name == "all" {
                let next = words.next();
                let more = next
                    .as_deref()
                    .is_some_and(|n| !n.is_empty() && !n.starts_with('#'));
                if attributes > 1 || more {
                    return Err(format!(
                        "'{word}' cannot be combined with other Match criteria; \
                         use 'Match all' on its own or drop it"
                    ));
                }
                if next.is_some_and(|n| n.starts_with('#')) {
                    words.finish();
                }
                criteria.push((negated, Criterion::All));
                saw_all = true;
                break;
            }
            attributes += 1;
            if name == "canonical" || name == "final" {
                if name == "final" {
                    self.wants_final_pass = true;
                    criteria.push((negated, Criterion::Final));
                } else {
                    criteria.push((negated, Criterion::Canonical));
                }
                continue;
            }
            let arg = match words.next() {
                Some(arg) if !arg.is_empty() && !arg.starts_with('#') => arg,
                _ => return Err(format!("Match criterion '{word}' needs a value")),
            };
            let criterion = match name.as_str() {
                "host" => Criterion::Host(arg),
                "originalhost" => Criterion::OriginalHost(arg),
                "user" => Criterion::User(arg),
                "localuser" => Criterion::LocalUser(arg),
                "exec" => {
                    // ssh expands the tokens even when it skips the command.
                    expand::check_tokens(&arg, "CLdhiklnpru")
                        .map_err(|e| format!("Match exec: {e}"))?;
                    Criterion::Exec
                }
                _ => {
                    return Err(format!(
                        "unknown Match criterion '{word}' (known: all, canonical, final, \
                         exec, host, originalhost, user, localuser)"
                    ))
                }
            };
            criteria.push((negated, criterion));
        }
        if !saw_all && attributes == 0 {
            return Err("Match needs at least one criterion, e.g. 'Match host NAME'".into());
        }
        if !words.is_used_up() && !raw.args.is_empty() {
            return Err(format!(
                "unexpected '{}' at the end of the Match line",
                words.rest()
            ));
        }
        Ok(criteria)
    }

    /// Reads the files an `Include` line names, in glob order.
    fn include(
        &mut self,
        raw: &RawLine,
        origin: &Origin,
        depth: u32,
        path: &Path,
        line: u32,
    ) -> Result<Vec<usize>, ConfigError> {
        let location = Location::new(path, line as usize);
        let at = |message: String| ConfigError::Invalid {
            at: location.clone(),
            message,
        };
        let included = Origin {
            check_perm: true,
            ..*origin
        };
        let mut files = Vec::new();
        for arg in &raw.args {
            if arg.is_empty() {
                return Err(at("empty path in Include".into()));
            }
            if arg.starts_with('~') && !origin.user_config {
                return Err(at(format!(
                    "Include path '{arg}' starts with '~', which a system-wide config may not use; \
                     give an absolute path"
                )));
            }
            let arg = self.expand_include(arg).map_err(at)?;
            let pattern = if arg.starts_with('/') || arg.starts_with('~') {
                arg
            } else {
                format!("{}/{arg}", origin.include_dir)
            };
            let Some(pattern) = glob_tilde(&pattern, self.env) else {
                continue;
            };
            for file in pattern::glob(&pattern) {
                let too_deep = |file: &Path| {
                    at(format!(
                        "Includes nest more than {MAX_INCLUDE_DEPTH} deep at '{}'; \
                         look for a file that includes itself",
                        file.display()
                    ))
                };
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(too_deep(&file));
                }
                let key = (file.clone(), included.user_config, included.check_perm);
                if let Some(&shared) = self.parsed.get(&key) {
                    // A file still open includes itself; a finished one
                    // nests as deep below this line as it did before.
                    if self.open.contains(&shared)
                        || depth + 1 + self.heights[shared] > MAX_INCLUDE_DEPTH
                    {
                        return Err(too_deep(&file));
                    }
                    self.note_include(shared).map_err(at)?;
                    files.push(shared);
                    continue;
                }
                let text = match read(&file, included.check_perm) {
                    Ok(text) => text,
                    // A dangling symlink matched by the glob: ssh skips it.
                    Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(ReadError::Io(source)) => {
                        return Err(ConfigError::IncludeRead {
                            at: location,
                            file,
                            source,
                        })
                    }
                    Err(ReadError::Permissions) => {
                        return Err(ConfigError::Permissions { path: file })
                    }
                };
                let parsed = self.parse_file(&file, &text, &included, depth + 1)?;
                self.note_include(parsed).map_err(at)?;
                files.push(parsed);
            }
        }
        Ok(files)
    }

    /// An Include path with its `${VAR}`s and tokens expanded, as newer OpenSSH
    /// releases do (9.2 took them literally, naming files no one has).
    /// The tokens that stand for the host being reached are refused: the
    /// files are read once for every host, and guessing could read the
    /// wrong ones.
    fn expand_include(&self, arg: &str) -> Result<String, String> {
        const PER_HOST: &str = "ChknprjT";
        let mut chars = arg.chars();
        while let Some(c) = chars.next() {
            let token = if c == '%' { chars.next() } else { None };
            if let Some(token) = token.filter(|t| PER_HOST.contains(*t)) {
                return Err(format!(
                    "Include path '{arg}' uses %{token}, which stands for the host being \
                     reached; fleet reads Includes once for all hosts, so put a plain Include \
                     in a Host or Match block instead"
                ));
            }
        }
        let this_host = local::hostname().unwrap_or_default();
        let short_host = this_host.split('.').next().unwrap_or_default().to_string();
        let uid = local::uid().map(|u| u.to_string()).unwrap_or_default();
        let home = self.env.home.to_string_lossy().into_owned();
        let tokens: [(char, &str); 5] = [
            ('d', &home),
            ('i', &uid),
            ('L', &short_host),
            ('l', &this_host),
            ('u', &self.env.user),
        ];
        expand::expand(arg, Some(&tokens), true).map_err(|e| format!("Include: {e}"))
    }

    /// The file being parsed includes `child`: it nests at least one
    /// deeper than `child` does, and stands for its files too.
    fn note_include(&mut self, child: usize) -> Result<(), String> {
        let Some(&parent) = self.open.last() else {
            return Ok(());
        };
        self.heights[parent] = self.heights[parent].max(self.heights[child] + 1);
        self.sizes[parent] = self.sizes[parent].saturating_add(self.sizes[child]);
        if self.sizes[parent] > MAX_INCLUDED_FILES {
            return Err(format!(
                "Includes read more than {MAX_INCLUDED_FILES} files in all, counting a file \
                 as often as it is included; include each file fewer times"
            ));
        }
        Ok(())
    }
}

impl Section {
    fn new(header: Header, line: usize) -> Section {
        Section {
            header,
            line,
            items: Vec::new(),
            visit_inactive: false,
            run: None,
        }
    }
}

/// Runs shorter than this are not worth a lookup table.
const MIN_LITERAL_RUN: usize = 4;

/// Marks the literal runs in a file's sections.
fn mark_literal_runs(sections: &mut [Section]) {
    let literal = |s: &Section| match &s.header {
        Header::Host(patterns) => {
            !s.visit_inactive && patterns.iter().all(|p| !p.pattern.contains(['*', '?']))
        }
        _ => false,
    };
    let mut start = 0;
    while start < sections.len() {
        let end = start + sections[start..].iter().take_while(|s| literal(s)).count();
        if end - start >= MIN_LITERAL_RUN {
            let mut sections_by_name: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, section) in sections.iter().enumerate().take(end).skip(start) {
                if let Header::Host(patterns) = &section.header {
                    for p in patterns.iter().filter(|p| !p.negated) {
                        let list = sections_by_name.entry(p.pattern.clone()).or_default();
                        if list.last() != Some(&i) {
                            list.push(i);
                        }
                    }
                }
            }
            sections[start].run = Some(LiteralRun {
                end,
                sections_by_name,
            });
        }
        start = end.max(start + 1);
    }
}

enum ReadError {
    Io(io::Error),
    Permissions,
}

/// Reads a config file; a directory reads as empty, as with ssh's fopen().
fn read(path: &Path, check_perm: bool) -> Result<String, ReadError> {
    let meta = fs::metadata(path).map_err(ReadError::Io)?;
    if check_perm {
        let foreign_owner = local::uid().is_some_and(|uid| meta.uid() != 0 && meta.uid() != uid);
        if foreign_owner || meta.mode() & 0o022 != 0 {
            return Err(ReadError::Permissions);
        }
    }
    if meta.is_dir() {
        return Ok(String::new());
    }
    let bytes = fs::read(path).map_err(ReadError::Io)?;
    Ok(value::decode_lossless(&bytes))
}

/// glob(3)'s GLOB_TILDE: `~` is $HOME, `~user` that user's home; an unknown
/// user matches nothing.
fn glob_tilde(pattern: &str, env: &LocalEnv) -> Option<String> {
    let Some(after) = pattern.strip_prefix('~') else {
        return Some(pattern.to_string());
    };
    let (user, rest) = after.split_at(after.find('/').unwrap_or(after.len()));
    let home = if user.is_empty() {
        env.home.clone()
    } else {
        local::home_of(user)?
    };
    Some(format!("{}{rest}", home.to_string_lossy()))
}

/// The patterns of a `Host` line.
fn host_patterns(raw: &RawLine) -> Result<Vec<HostPattern>, String> {
    raw.args
        .iter()
        .map(|arg| {
            if arg.is_empty() {
                return Err("empty pattern in Host; remove the empty quotes".to_string());
            }
            Ok(match arg.strip_prefix('!') {
                Some(pattern) => HostPattern {
                    negated: true,
                    pattern: pattern.to_string(),
                },
                None => HostPattern {
                    negated: false,
                    pattern: arg.clone(),
                },
            })
        })
        .collect()
}

/// The spellings of a yes/no keyword.
const YES_NO: &[(&str, bool)] = &[
    ("yes", true),
    ("true", true),
    ("no", false),
    ("false", false),
];

/// Checks the value of a keyword fleet uses, as readconf.c does;
/// `command_line` is set for overrides, which ssh checks harder.
pub(super) fn setting(
    keyword: Keyword,
    raw: &RawLine,
    command_line: bool,
) -> Result<Setting, String> {
    let name = raw.keyword.as_str();
    let first = raw.args.first().filter(|a| !a.is_empty());
    let needs_value = || format!("'{name}' needs a value");
    let arg = || first.cloned().ok_or_else(needs_value);
    let setting = match keyword {
        Keyword::HostName => Setting::HostName(arg()?),
        Keyword::User => Setting::User(arg()?),
        Keyword::HostKeyAlias => Setting::HostKeyAlias(arg()?),
        Keyword::RevokedHostKeys => {
            let v = arg()?;
            Setting::RevokedHostKeys((!v.eq_ignore_ascii_case("none")).then_some(v))
        }
        Keyword::HashKnownHosts => Setting::HashKnownHosts(choice(name, first, YES_NO)?),
        Keyword::IgnoreUnknown => Setting::IgnoreUnknown(arg()?),
        Keyword::IdentityFile => Setting::IdentityFile(arg()?),
        Keyword::CertificateFile => Setting::CertificateFile(arg()?),
        Keyword::Port => {
            let v = arg()?;
            Setting::Port(value::port(&v).ok_or_else(|| {
                format!("bad port '{v}'; use a number from 1 to 65535 or a service name")
            })?)
        }
        Keyword::IdentitiesOnly => Setting::IdentitiesOnly(choice(name, first, YES_NO)?),
        Keyword::StrictHostKeyChecking => {
            use StrictHostKeyChecking::*;
            Setting::StrictHostKeyChecking(choice(
                name,
                first,
                &[
                    ("yes", Yes),
                    ("true", Yes),
                    ("no", No),
                    ("false", No),
                    ("off", No),
                    ("ask", Ask),
                    ("accept-new", AcceptNew),
                ],
            )?)
        }
        Keyword::CanonicalizeHostname => Setting::CanonicalizeHostname(choice(
            name,
            first,
            &[
                ("yes", true),
                ("true", true),
                ("always", true),
                ("no", false),
                ("false", false),
            ],
        )?),
        Keyword::ConnectTimeout => Setting::ConnectTimeout(timeout(name, first)?),
        Keyword::ServerAliveInterval => Setting::ServerAliveInterval(timeout(name, first)?),
        Keyword::ServerAliveCountMax => {
            let v = arg()?;
            Setting::ServerAliveCountMax(
                value::int(&v)
                    .ok_or_else(|| format!("'{name}' must be a whole number, not '{v}'"))?,
            )
        }
        Keyword::IdentityAgent => {
            let v = arg()?;
            expand::check_dollar(&v).map_err(|e| format!("bad '{name}': {e}"))?;
            if let Some(var) = v.strip_prefix('$').filter(|rest| !rest.starts_with('{')) {
                let valid =
                    !var.is_empty() && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !valid {
                    return Err(format!("bad environment variable name in '{name} {v}'"));
                }
            }
            Setting::IdentityAgent(v)
        }
        Keyword::ProxyCommand => {
            let command = raw
                .rest
                .trim_start_matches([' ', '\t', '\r', '\n', '='])
                .trim_end();
            return Ok(Setting::ProxyCommand(!command.eq_ignore_ascii_case("none")));
        }
        Keyword::ProxyJump => {
            let spec = raw.rest.trim_start_matches([' ', '\t', '\r', '\n', '=']);
            let jump = value::jump(spec, command_line).ok_or_else(|| {
                format!("bad ProxyJump '{spec}'; use [user@]host[:port][,…] or none")
            })?;
            return Ok(Setting::ProxyJump(jump));
        }
        Keyword::UserKnownHostsFile => {
            return file_list(name, raw).map(Setting::UserKnownHostsFile)
        }
        Keyword::GlobalKnownHostsFile => {
            return file_list(name, raw).map(Setting::GlobalKnownHostsFile)
        }
        Keyword::Host | Keyword::Match | Keyword::Include | Keyword::Ignored => {
            return Err(format!("'{name}' cannot be used here"))
        }
    };
    if let Some(extra) = raw.args.get(1) {
        return Err(format!(
            "unexpected '{extra}' after the value of '{name}'; quote a value that contains spaces"
        ));
    }
    Ok(setting)
}

/// One of a fixed set of words, compared case-insensitively.
fn choice<T: Copy>(name: &str, value: Option<&String>, choices: &[(&str, T)]) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("'{name}' needs a value"))?;
    choices
        .iter()
        .find(|(word, _)| word.eq_ignore_ascii_case(value))
        .map(|&(_, v)| v)
        .ok_or_else(|| {
            let words: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
            format!(
                "'{name}' must be one of {}, not '{value}'",
                words.join(", ")
            )
        })
}

/// A time such as `30`, `1m30s` or `none` (which leaves the option unset).
fn timeout(name: &str, value: Option<&String>) -> Result<Option<u32>, String> {
    let value = value.ok_or_else(|| format!("'{name}' needs a value"))?;
    if value == "none" {
        return Ok(None);
    }
    value::time(value).map(Some).ok_or_else(|| {
        format!("bad time '{value}' for '{name}'; use seconds or e.g. 1m30s, or none")
    })
}

/// The file names of a known-hosts keyword; `none` must stand alone.
fn file_list(name: &str, raw: &RawLine) -> Result<Vec<String>, String> {
    for (i, arg) in raw.args.iter().enumerate() {
        if arg.is_empty() {
            return Err(format!("empty file name in '{name}'"));
        }
        if arg.eq_ignore_ascii_case("none") && (i > 0 || raw.args.len() > 1) {
            return Err(format!("'none' must be the only value of '{name}'"));
        }
    }
    Ok(raw.args.clone())
}
