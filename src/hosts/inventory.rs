//! The TOML inventory: hosts with their connection settings, named groups
//! of hosts, and defaults for a run.
//!
//! ssh_config already says how to reach a host; the inventory adds what
//! ssh_config cannot: groups and run settings, for hosts that need not have
//! a `Host` block. The format is documented, with
//! examples, in `inventories/*.toml`.
//!
//! Several files merge, and the first definition of a host or group wins,
//! as the first value wins in ssh_config: a project's `./fleet.toml` can
//! redefine a host that the user's own inventory also lists.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::error::TargetError;
use super::nodeset;
use super::selector::{check_host_name, check_name, HostPattern, Pattern};
use super::ssh_config;
use crate::duration;
use crate::last_run::RunFilter;
use crate::location::Location;

/// One inventory file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryFile {
    pub path: PathBuf,
    /// Named by the user (`-i FILE`), so it must exist; a default location
    /// that holds no file is skipped.
    pub explicit: bool,
}

/// Every inventory file merged into one namespace of hosts and groups.
#[derive(Debug, Default)]
pub struct Inventory {
    files: Vec<PathBuf>,
    defaults: InventoryDefaults,
    hosts: HashMap<String, InventoryHost>,
    groups: HashMap<String, Group>,
}

/// The run settings of `[defaults]`, which the command line may override.
/// Across files the first value of each setting wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryDefaults {
    pub parallel: Option<NonZeroUsize>,
    pub connect_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
}

/// A host named in an inventory, with its file's `[defaults]` already
/// filled in where the host left a field out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryHost {
    /// `HostName`; without it ssh_config's `HostName` for this alias (or the
    /// name itself) is used.
    pub address: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    /// `IdentityFile`, made absolute against the inventory's directory when
    /// it was relative, so a project inventory can ship its own key paths.
    pub identity_file: Option<PathBuf>,
}

/// A named set of hosts: names, ranges and globs, plus nested groups.
#[derive(Debug)]
pub(crate) struct Group {
    /// Where the group is defined, for errors about it.
    pub(crate) at: Location,
    pub(crate) members: Vec<Member>,
    pub(crate) children: Vec<Child>,
}

/// One entry of a group's `hosts` list.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) text: String,
    pub(crate) at: Location,
    pub(crate) hosts: HostPattern,
}

/// One entry of a group's `children` list.
#[derive(Debug)]
pub(crate) struct Child {
    pub(crate) name: String,
    pub(crate) at: Location,
}

/// Deeper nesting than any real inventory needs; the limit keeps the
/// recursive walks over groups shallow whatever a file says.
const MAX_NESTING: usize = 32;

impl Inventory {
    /// Reads and merges `files` in order.
    pub fn load(files: &[InventoryFile]) -> Result<Inventory, TargetError> {
        let mut parsed = Vec::new();
        for file in files {
            let text = match std::fs::read_to_string(&file.path) {
                Ok(text) => text,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    if file.explicit {
                        return Err(TargetError::InventoryMissing {
                            path: file.path.clone(),
                        });
                    }
                    continue;
                }
                Err(source) => {
                    return Err(TargetError::InventoryRead {
                        path: file.path.clone(),
                        source,
                    })
                }
            };
            parsed.push(parse_file(&file.path, &text)?);
        }
        Inventory::merge(parsed)
    }

    /// The run settings from `[defaults]`.
    pub fn defaults(&self) -> &InventoryDefaults {
        &self.defaults
    }

    /// The host called `name`, if an inventory names it.
    pub fn host(&self, name: &str) -> Option<&InventoryHost> {
        self.hosts.get(name)
    }

    /// Every host an inventory names: `[hosts.*]` tables and the plain names
    /// and ranges in groups.
    pub(crate) fn host_names(&self) -> impl Iterator<Item = &str> {
        self.hosts.keys().map(String::as_str)
    }

    pub(crate) fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    pub(crate) fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.keys().map(String::as_str)
    }

    /// The files that were read, in order; missing default files are not
    /// among them.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn merge(files: Vec<FileInventory>) -> Result<Inventory, TargetError> {
        let mut inventory = Inventory::default();
        let mut implicit = Vec::new();
        for file in files {
            inventory.files.push(file.path);
            inventory.defaults = inventory.defaults.or(file.defaults);
            for (name, host) in file.hosts {
                inventory.hosts.entry(name).or_insert(host);
            }
            for (name, group) in file.groups {
                inventory.groups.entry(name).or_insert(group);
            }
            implicit.push(file.implicit);
        }
        // A `[hosts.*]` table in any file beats a bare mention in a group.
        for (name, host) in implicit.into_iter().flatten() {
            inventory.hosts.entry(name).or_insert(host);
        }
        check_groups(&inventory.groups)?;
        Ok(inventory)
    }
}

impl InventoryDefaults {
    /// Field by field, `self` first.
    fn or(self, later: InventoryDefaults) -> InventoryDefaults {
        InventoryDefaults {
            parallel: self.parallel.or(later.parallel),
            connect_timeout: self.connect_timeout.or(later.connect_timeout),
            timeout: self.timeout.or(later.timeout),
        }
    }
}

impl InventoryHost {
    /// The host's fields as `ssh -o Keyword=Value` pairs: they beat
    /// ssh_config, as the user who wrote them into the inventory expects.
    pub fn overrides(&self) -> Vec<(String, String)> {
        let fields = [
            ("HostName", self.address.clone()),
            ("User", self.user.clone()),
            ("Port", self.port.map(|port| port.to_string())),
            (
                "IdentityFile",
                self.identity_file.as_deref().map(ssh_config::path_value),
            ),
        ];
        fields
            .into_iter()
            .filter_map(|(keyword, value)| Some((keyword.to_string(), ssh_quote(&value?))))
            .collect()
    }
}

/// Quotes `value` for an `-o Keyword=Value` option when ssh's word
/// splitting would otherwise change it: ssh reads the value like a config
/// line, so `/keys/my key` would become two words and `#x` a comment.
fn ssh_quote(value: &str) -> String {
    if !value.is_empty() && !value.contains([' ', '\t', '"', '\'', '\\', '#']) {
        return value.to_string();
    }
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// One file as read, before merging.
struct FileInventory {
    path: PathBuf,
    defaults: InventoryDefaults,
    hosts: Vec<(String, InventoryHost)>,
    /// Names mentioned only in groups, with the file's defaults.
    implicit: Vec<(String, InventoryHost)>,
    groups: Vec<(String, Group)>,
}

/// An inventory file's text, for turning byte spans into `FILE:LINE`.
struct Source<'a> {
    path: &'a Path,
    /// Byte offset where each line starts, so a span finds its line by
    /// binary search even in a file listing thousands of hosts.
    line_starts: Vec<usize>,
}

impl Source<'_> {
    fn new<'a>(path: &'a Path, text: &str) -> Source<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source { path, line_starts }
    }

    fn at(&self, span: &Range<usize>) -> Location {
        Location::new(
            self.path,
            self.line_starts.partition_point(|&s| s <= span.start),
        )
    }

    fn error(&self, span: &Range<usize>, message: String) -> TargetError {
        TargetError::Inventory {
            at: self.at(span),
            message,
        }
    }

    /// Places a validation failure at `span`.
    fn check(&self, span: &Range<usize>, checked: Result<(), String>) -> Result<(), TargetError> {
        checked.map_err(|problem| self.error(span, problem))
    }

    /// A relative key path is relative to the inventory's directory; one
    /// that starts with `~`, a `%` token or `${VAR}` is left for ssh_config
    /// expansion to place.
    fn key_path(&self, key: &str) -> PathBuf {
        let path = Path::new(key);
        if key.starts_with(['~', '%', '$']) || path.is_absolute() {
            return path.to_path_buf();
        }
        match self.path.parent() {
            Some(dir) => dir.join(path),
            None => path.to_path_buf(),
        }
    }
}

fn parse_file(path: &Path, text: &str) -> Result<FileInventory, TargetError> {
    let source = Source::new(path, text);
    let raw: FileToml = toml::from_str(text).map_err(|err| TargetError::Inventory {
        at: match err.span() {
            Some(span) => source.at(&span),
            None => Location::without_line(path),
        },
        message: err.message().trim().replace('\n', "; "),
    })?;

    let defaults = raw.defaults;
    let base = InventoryHost {
        address: None,
        user: defaults.user.map(|user| user.0),
        port: defaults.port.map(|port| port.0),
        identity_file: defaults.key.map(|key| source.key_path(&key.0)),
    };

    let mut hosts = Vec::new();
    for (name, host) in raw.hosts {
        hosts.push(parse_host(&source, &base, name, host)?);
    }
    let mut groups = Vec::new();
    let mut budget = nodeset::EXPANSION_LIMIT;
    for (name, group) in raw.groups {
        groups.push(parse_group(&source, name, group, &mut budget)?);
    }
    // Names and ranges in groups name hosts too; globs only select.
    let implicit = groups
        .iter()
        .flat_map(|(_, group)| &group.members)
        .flat_map(|member| &member.hosts.names)
        .map(|name| (name.clone(), base.clone()))
        .collect();

    Ok(FileInventory {
        path: path.to_path_buf(),
        defaults: InventoryDefaults {
            parallel: defaults.parallel.map(|parallel| parallel.0),
            connect_timeout: defaults.connect_timeout.map(|timeout| timeout.0),
            timeout: defaults.timeout.map(|timeout| timeout.0),
        },
        hosts,
        implicit,
        groups,
    })
}

/// A `[hosts.NAME]` table, with `base` (the file's defaults) filling gaps.
fn parse_host(
    source: &Source<'_>,
    base: &InventoryHost,
    name: Spanned<String>,
    host: HostToml,
) -> Result<(String, InventoryHost), TargetError> {
    source.check(&name.span(), check_host_name(name.get_ref()))?;
    let host = InventoryHost {
        address: host.address.map(|address| address.0),
        user: host.user.map(|user| user.0).or_else(|| base.user.clone()),
        port: host.port.map(|port| port.0).or(base.port),
        identity_file: host
            .key
            .map(|key| source.key_path(&key.0))
            .or_else(|| base.identity_file.clone()),
    };
    Ok((name.into_inner(), host))
}

/// A `[groups.NAME]` table; whether its children exist is checked once all
/// files are merged, since a child may be defined in another file.
/// `budget` is what is left of the names the file's groups may list.
fn parse_group(
    source: &Source<'_>,
    name: Spanned<String>,
    group: GroupToml,
    budget: &mut usize,
) -> Result<(String, Group), TargetError> {
    source.check(&name.span(), check_name(name.get_ref()))?;
    if RunFilter::reserves(name.get_ref()) {
        return Err(TargetError::ReservedGroup {
            at: source.at(&name.span()),
            group: name.into_inner(),
        });
    }
    let members = group
        .hosts
        .into_iter()
        .map(|entry| parse_member(source, entry, budget))
        .collect::<Result<_, _>>()?;
    let mut children = Vec::new();
    for entry in group.children {
        // `@canary` and `canary` both name the group, as in a selector.
        let child = entry.get_ref().strip_prefix('@').unwrap_or(entry.get_ref());
        source.check(&entry.span(), check_name(child))?;
        children.push(Child {
            name: child.to_string(),
            at: source.at(&entry.span()),
        });
    }
    let group = Group {
        at: source.at(&name.span()),
        members,
        children,
    };
    Ok((name.into_inner(), group))
}

/// Parses one entry of a group's `hosts`: a name, range or glob.
fn parse_member(
    source: &Source<'_>,
    entry: Spanned<String>,
    budget: &mut usize,
) -> Result<Member, TargetError> {
    let span = entry.span();
    let text = entry.into_inner();
    let fail = |problem: String| Err(source.error(&span, problem));
    if text.starts_with('!') {
        return fail(format!(
            "'{text}': a group cannot exclude hosts; exclude them in the selector instead"
        ));
    }
    match Pattern::parse(&text) {
        Ok(Pattern::Hosts(hosts)) => {
            let Some(left) = budget.checked_sub(hosts.names.len()) else {
                return fail(format!(
                    "'{text}': the groups of this file list more than {} names in all",
                    nodeset::EXPANSION_LIMIT
                ));
            };
            *budget = left;
            for name in &hosts.names {
                source.check(&span, check_host_name(name))?;
            }
            Ok(Member {
                at: source.at(&span),
                text,
                hosts,
            })
        }
        Ok(Pattern::Group(group)) => fail(format!(
            "'{text}': list nested groups in children, e.g. children = [\"{group}\"]"
        )),
        Ok(Pattern::LastRun(_)) => fail(format!(
            "'{text}' selects by the last run, which changes with every run; a group lists \
             names, ranges or globs"
        )),
        Err(problem) => fail(problem),
    }
}

/// Every child names a group, and no group contains itself.
fn check_groups(groups: &HashMap<String, Group>) -> Result<(), TargetError> {
    let mut names: Vec<&str> = groups.keys().map(String::as_str).collect();
    names.sort_unstable();
    for &name in &names {
        for child in &groups[name].children {
            if !groups.contains_key(&child.name) {
                return Err(TargetError::UnknownChild {
                    at: child.at.clone(),
                    group: name.to_string(),
                    child: child.name.clone(),
                });
            }
        }
    }
    let mut done = HashSet::new();
    for name in names {
        visit(name, groups, &mut done, &mut Vec::new())?;
    }
    Ok(())
}

/// Depth-first walk from `name`; `path` holds the groups being visited.
fn visit<'a>(
    name: &'a str,
    groups: &'a HashMap<String, Group>,
    done: &mut HashSet<&'a str>,
    path: &mut Vec<&'a str>,
) -> Result<(), TargetError> {
    let Some(group) = groups.get(name) else {
        return Ok(());
    };
    if done.contains(name) {
        return Ok(());
    }
    path.push(name);
    for child in &group.children {
        if let Some(start) = path.iter().position(|&g| g == child.name) {
            let cycle: Vec<String> = path[start..]
                .iter()
                .chain([&child.name.as_str()])
                .map(|g| format!("@{g}"))
                .collect();
            return Err(TargetError::GroupCycle {
                at: child.at.clone(),
                cycle: cycle.join(" → "),
            });
        }
        if path.len() >= MAX_NESTING {
            return Err(TargetError::Inventory {
                at: child.at.clone(),
                message: format!("groups nest more than {MAX_NESTING} deep"),
            });
        }
        visit(&child.name, groups, done, path)?;
    }
    path.pop();
    done.insert(name);
    Ok(())
}

// The file as TOML sees it. Newtypes validate values while serde still
// knows the value's span, so their errors get a line number.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    defaults: DefaultsToml,
    #[serde(default)]
    hosts: BTreeMap<Spanned<String>, HostToml>,
    #[serde(default)]
    groups: BTreeMap<Spanned<String>, GroupToml>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DefaultsToml {
    user: Option<Word>,
    port: Option<Port>,
    key: Option<KeyPath>,
    parallel: Option<Parallel>,
    connect_timeout: Option<Timeout>,
    timeout: Option<Timeout>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostToml {
    address: Option<Word>,
    user: Option<Word>,
    port: Option<Port>,
    key: Option<KeyPath>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupToml {
    #[serde(default)]
    hosts: Vec<Spanned<String>>,
    #[serde(default)]
    children: Vec<Spanned<String>>,
}

/// A user or address: ssh would split a value with spaces in two.
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct Word(String);

impl TryFrom<String> for Word {
    type Error = String;
    fn try_from(text: String) -> Result<Word, String> {
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            Err(format!("'{text}' holds the control character {c:?}"))
        } else if text.is_empty() || text.contains(char::is_whitespace) {
            Err(format!("'{text}' must be one word, without spaces"))
        } else {
            Ok(Word(text))
        }
    }
}

/// An `IdentityFile` as written; an empty one would name the directory.
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct KeyPath(String);

impl TryFrom<String> for KeyPath {
    type Error = String;
    fn try_from(text: String) -> Result<KeyPath, String> {
        if text.is_empty() {
            Err("a key path cannot be empty".to_string())
        } else {
            Ok(KeyPath(text))
        }
    }
}

#[derive(Deserialize)]
#[serde(try_from = "i64")]
struct Port(u16);

impl TryFrom<i64> for Port {
    type Error = String;
    fn try_from(number: i64) -> Result<Port, String> {
        match u16::try_from(number) {
            Ok(port) if port > 0 => Ok(Port(port)),
            _ => Err(format!("port {number} is out of range; use 1 to 65535")),
        }
    }
}

#[derive(Deserialize)]
#[serde(try_from = "i64")]
struct Parallel(NonZeroUsize);

impl TryFrom<i64> for Parallel {
    type Error = String;
    fn try_from(number: i64) -> Result<Parallel, String> {
        usize::try_from(number)
            .ok()
            .and_then(NonZeroUsize::new)
            .map(Parallel)
            .ok_or_else(|| format!("parallel = {number}: run on at least 1 host at a time"))
    }
}

#[derive(Deserialize)]
#[serde(try_from = "toml::Value")]
struct Timeout(Duration);

impl TryFrom<toml::Value> for Timeout {
    type Error = String;
    fn try_from(value: toml::Value) -> Result<Timeout, String> {
        // A bare number is seconds, as it is in a string and on the command line.
        let text = match value {
            toml::Value::String(text) => text,
            toml::Value::Integer(number) => number.to_string(),
            other => {
                return Err(format!(
                    "{other} is not a duration; write seconds or a string such as \"10s\""
                ))
            }
        };
        duration::parse(&text)
            .map(Timeout)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests;
