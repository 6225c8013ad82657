//! The catalog: every host name fleet knows, from ssh_config and the
//! inventories as one namespace, and the selection of targets from it.
//!
//! Selection is strict on purpose. A selector item that matches nothing, or
//! an exclusion that leaves nothing out, is far more often a typo than an
//! intention, and running on the wrong hosts can't be undone; so either
//! stops the run before it starts.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;

use globset::GlobSet;

use super::error::TargetError;
use super::inventory::{Inventory, InventoryHost};
use super::selector::{Item, Pattern, Selector};
use super::ssh_config::{self, HostOptions, SshConfig};
use super::Target;
use crate::last_run::{LastRun, RunFilter};

/// ssh_config and the inventories, ready to turn selectors into targets.
pub struct Catalog {
    ssh_config: SshConfig,
    inventory: Inventory,
    /// Concrete ssh_config aliases and inventory hosts: what globs match.
    known: HashSet<String>,
    /// `-o Keyword=Value` from the command line, for every target.
    options: Vec<(String, String)>,
    /// The last run's record, which `@failed` and `@ok` read.
    last_run: Option<PathBuf>,
}

/// Group members already worked out during one selection, so a group that
/// several others include is expanded once.
type GroupMemo = HashMap<String, Rc<[String]>>;

/// ProxyJump chains nested deeper than this are taken for a loop.
const MAX_JUMP_DEPTH: usize = 8;

/// How many group names an "unknown group" error lists before it stops.
const GROUPS_SHOWN: usize = 10;

impl Catalog {
    pub fn new(ssh_config: SshConfig, inventory: Inventory) -> Catalog {
        let aliases = ssh_config.aliases();
        Catalog::with_aliases(ssh_config, aliases, inventory)
    }

    fn with_aliases(ssh_config: SshConfig, aliases: Vec<String>, inventory: Inventory) -> Catalog {
        let mut known: HashSet<String> = aliases.into_iter().collect();
        known.extend(inventory.host_names().map(str::to_string));
        Catalog {
            ssh_config,
            inventory,
            known,
            options: Vec::new(),
            last_run: None,
        }
    }

    /// Reads the last run's record from `path` for `@failed` and `@ok`
    /// (only when a selector asks).
    pub fn with_last_run(mut self, path: PathBuf) -> Catalog {
        self.last_run = Some(path);
        self
    }

    /// Applies command-line `-o Keyword=Value` options to every target.
    /// They come before the inventory's settings, and ssh takes the first
    /// value of a keyword, so they win over the inventory and ssh_config.
    pub fn with_options(mut self, options: Vec<(String, String)>) -> Catalog {
        self.options = options;
        self
    }

    /// Resolves `selectors` minus every `--exclude` value into targets in
    /// natural order, each with inventory settings applied over ssh_config
    /// as `ssh -o` options would be.
    ///
    /// `selectors` is one comma list of globs over known names (`web-*`),
    /// groups (`@db`), ranges (`web-[01-20]`) and plain names, any of them
    /// after `!` to leave hosts out; each `--exclude` value is such a list
    /// without the `!`.
    pub fn resolve(
        &self,
        selectors: &str,
        excludes: &[String],
    ) -> Result<Vec<Target>, TargetError> {
        self.select(selectors, excludes)?
            .into_iter()
            .map(|alias| self.target(alias))
            .collect()
    }

    /// The names that `selectors` minus `excludes` stand for, in natural
    /// order (`web-2` before `web-10`), each once.
    pub fn select(&self, selectors: &str, excludes: &[String]) -> Result<Vec<String>, TargetError> {
        let selector = Selector::parse(selectors, excludes)?;
        let mut memo = GroupMemo::new();
        let mut chosen: HashSet<String> = HashSet::new();
        for item in selector.include() {
            let names = self.included(item, &mut memo)?;
            chosen.extend(names);
        }
        let mut excluded: HashSet<String> = HashSet::new();
        for item in selector.exclude() {
            let names = self.excluded(item, &chosen, &mut memo)?;
            excluded.extend(names);
        }
        chosen.retain(|name| !excluded.contains(name));
        if chosen.is_empty() {
            return Err(TargetError::AllExcluded {
                selector: selector.text().to_string(),
            });
        }
        let mut names: Vec<String> = chosen.into_iter().collect();
        names.sort_unstable_by(|a, b| natural_cmp(a, b));
        Ok(names)
    }

    fn target(&self, alias: String) -> Result<Target, TargetError> {
        let problem = ssh_config::host_name_problem(&alias);
        if let (Some(problem), Some(at)) = (problem, self.ssh_config.alias_line(&alias)) {
            return Err(TargetError::BadAlias {
                at: at.clone(),
                host: alias,
                problem,
            });
        }
        let mut overrides = self.options.clone();
        overrides.extend(self.inventory_overrides(&alias));
        let options = self.resolve_host(&alias, &overrides)?;
        let jumps = match &options.proxy_jump {
            Some(spec) => self.jump_chain(&alias, spec, 0)?,
            None => Vec::new(),
        };
        Ok(Target {
            alias,
            options,
            jumps,
        })
    }

    fn inventory_overrides(&self, name: &str) -> Vec<(String, String)> {
        self.inventory
            .host(name)
            .map(InventoryHost::overrides)
            .unwrap_or_default()
    }

    fn resolve_host(
        &self,
        name: &str,
        overrides: &[(String, String)],
    ) -> Result<HostOptions, TargetError> {
        self.ssh_config
            .resolve(name, overrides)
            .map_err(|source| TargetError::SshConfig {
                host: name.to_string(),
                source,
            })
    }

    /// The hosts a ProxyJump value goes through, as `ssh -J` reaches them:
    /// each hop with its own ssh_config (and inventory) settings, a later hop
    /// through the one before it, and the first hop through its own
    /// ProxyJump, if it has one.
    fn jump_chain(
        &self,
        alias: &str,
        spec: &str,
        depth: usize,
    ) -> Result<Vec<Target>, TargetError> {
        let error = |problem| TargetError::Jump {
            host: alias.to_string(),
            spec: spec.to_string(),
            problem,
        };
        if depth >= MAX_JUMP_DEPTH {
            return Err(error("nests too deeply (a loop of jump hosts?)"));
        }
        let hops =
            ssh_config::jump_hops(spec).ok_or_else(|| error("is not [user@]host[:port][,...]"))?;
        let mut chain = Vec::new();
        for (index, hop) in hops.into_iter().enumerate() {
            let mut overrides = self.inventory_overrides(&hop.host);
            overrides.extend(hop.user.map(|user| ("User".to_string(), user)));
            overrides.extend(hop.port.map(|port| ("Port".to_string(), port.to_string())));
            if index > 0 {
                overrides.push(("ProxyJump".to_string(), "none".to_string()));
            }
            let options = self.resolve_host(&hop.host, &overrides)?;
            if let Some(inner) = &options.proxy_jump {
                chain.extend(self.jump_chain(&hop.host, inner, depth + 1)?);
            }
            chain.push(Target {
                alias: hop.host,
                options,
                jumps: Vec::new(),
            });
        }
        Ok(chain)
    }

    /// The names an including item adds; never none.
    fn included(&self, item: &Item, memo: &mut GroupMemo) -> Result<Vec<String>, TargetError> {
        match &item.pattern {
            Pattern::Group(group) => Ok(self.selected_group(group, memo)?.to_vec()),
            Pattern::LastRun(filter) => self.last_run_hosts(item, *filter),
            Pattern::Hosts(hosts) => {
                let mut names = hosts.names.clone();
                names.extend(
                    glob_matches(&hosts.globs, self.known.iter())
                        .into_iter()
                        .cloned(),
                );
                if names.is_empty() {
                    return Err(TargetError::NoMatch {
                        item: item.text.clone(),
                        known: self.known_summary(),
                    });
                }
                Ok(names)
            }
        }
    }

    /// The names an excluding item removes. It must name something known or
    /// chosen: `!prod-db1` meant as `!prod-db-1` would otherwise leave
    /// `prod-db-1` in the run.
    fn excluded(
        &self,
        item: &Item,
        chosen: &HashSet<String>,
        memo: &mut GroupMemo,
    ) -> Result<Vec<String>, TargetError> {
        let names = match &item.pattern {
            Pattern::Group(group) => self.selected_group(group, memo)?.to_vec(),
            Pattern::LastRun(filter) => self.last_run_hosts(item, *filter)?,
            Pattern::Hosts(hosts) => {
                let mut names: Vec<String> = hosts
                    .names
                    .iter()
                    .filter(|name| self.known.contains(*name) || chosen.contains(*name))
                    .cloned()
                    .collect();
                let unknown_chosen = chosen.iter().filter(|name| !self.known.contains(*name));
                let matches = glob_matches(&hosts.globs, self.known.iter().chain(unknown_chosen));
                names.extend(matches.into_iter().cloned());
                names
            }
        };
        if names.is_empty() {
            return Err(TargetError::ExcludesNothing {
                item: item.text.clone(),
            });
        }
        Ok(names)
    }

    /// The hosts of the last run that `filter` picks; never none.
    fn last_run_hosts(&self, item: &Item, filter: RunFilter) -> Result<Vec<String>, TargetError> {
        let error = |source| TargetError::LastRun {
            item: item.text.clone(),
            source,
        };
        let path = self.last_run.clone().unwrap_or_default();
        let record = LastRun::load(&path).map_err(error)?;
        let names = record.select(filter);
        if names.is_empty() {
            return Err(TargetError::LastRunNoMatch {
                item: item.text.clone(),
                last_run: record.describe(),
            });
        }
        Ok(names)
    }

    /// A group named in a selector: it must exist and hold a host.
    fn selected_group(
        &self,
        group: &str,
        memo: &mut GroupMemo,
    ) -> Result<Rc<[String]>, TargetError> {
        let names = self.group_members(group, memo)?;
        match self.inventory.group(group) {
            Some(definition) if names.is_empty() => Err(TargetError::EmptyGroup {
                group: group.to_string(),
                at: definition.at.clone(),
            }),
            _ => Ok(names),
        }
    }

    /// Every host in `group` and, recursively, its children. The inventory
    /// has already refused cycles and deep nesting, so this terminates.
    fn group_members(
        &self,
        group: &str,
        memo: &mut GroupMemo,
    ) -> Result<Rc<[String]>, TargetError> {
        if let Some(names) = memo.get(group) {
            return Ok(Rc::clone(names));
        }
        let definition = self
            .inventory
            .group(group)
            .ok_or_else(|| self.unknown_group(group))?;
        let mut names = Vec::new();
        for member in &definition.members {
            let before = names.len();
            names.extend(member.hosts.names.iter().cloned());
            names.extend(
                glob_matches(&member.hosts.globs, self.known.iter())
                    .into_iter()
                    .cloned(),
            );
            if names.len() == before {
                return Err(TargetError::GroupMemberNoMatch {
                    at: member.at.clone(),
                    group: group.to_string(),
                    item: member.text.clone(),
                    known: self.known_summary(),
                });
            }
        }
        for child in &definition.children {
            names.extend(self.group_members(&child.name, memo)?.iter().cloned());
        }
        let names: Rc<[String]> = names.into();
        memo.insert(group.to_string(), Rc::clone(&names));
        Ok(names)
    }

    /// `52 hosts from ssh_config and fleet.toml`, for "matches nothing"
    /// errors: it tells the user where fleet looked.
    fn known_summary(&self) -> String {
        let count = self.known.len();
        let hosts = if count == 1 { "host" } else { "hosts" };
        let sources: Vec<String> = std::iter::once("ssh_config".to_string())
            .chain(self.inventory_files())
            .collect();
        format!("{count} {hosts} from {}", join_and(&sources))
    }

    fn inventory_files(&self) -> Vec<String> {
        let files = self.inventory.files().iter();
        files.map(|path| path.display().to_string()).collect()
    }

    fn unknown_group(&self, group: &str) -> TargetError {
        let mut names: Vec<&str> = self.inventory.group_names().collect();
        names.sort_unstable_by(|a, b| natural_cmp(a, b));
        let files = self.inventory_files();
        let groups = if files.is_empty() {
            "no inventory was read; define groups in fleet.toml or pass -i FILE".to_string()
        } else if names.is_empty() {
            format!("{} defines no groups", join_and(&files))
        } else {
            let mut shown: Vec<String> = names
                .iter()
                .take(GROUPS_SHOWN)
                .map(|name| format!("@{name}"))
                .collect();
            if names.len() > GROUPS_SHOWN {
                shown.push(format!("{} more", names.len() - GROUPS_SHOWN));
            }
            format!("groups: {}", shown.join(", "))
        };
        TargetError::UnknownGroup {
            group: group.to_string(),
            groups,
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn glob_matches<'a>(globs: &GlobSet, names: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
    // Most items have no globs: skip the walk over every known name.
    if globs.is_empty() {
        return Vec::new();
    }
    names.filter(|name| globs.is_match(name.as_str())).collect()
}

/// Orders names as people count them: `web-2` before `web-10`. Runs of
/// digits compare by value; names equal that way (`web-01`, `web-1`) fall
/// back to byte order, so the order is total and sorting is stable.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let end_a = i + digit_run(&a[i..]);
            let end_b = j + digit_run(&b[j..]);
            let (x, y) = (trim_zeros(&a[i..end_a]), trim_zeros(&b[j..end_b]));
            // Without leading zeros, a longer run is a bigger number.
            let order = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
            if order != Ordering::Equal {
                return order;
            }
            (i, j) = (end_a, end_b);
        } else if a[i] != b[j] {
            return a[i].cmp(&b[j]);
        } else {
            (i, j) = (i + 1, j + 1);
        }
    }
    (a.len() - i).cmp(&(b.len() - j)).then_with(|| a.cmp(b))
}

fn digit_run(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&b| b == b'0').count();
    &digits[zeros..]
}

#[cfg(test)]
mod tests;
