//! sshd hardening that cannot lock anyone out: `fleet sshd set` and
//! `fleet sshd get`.
//!
//! For each host, over one login (as root, directly or through sudo):
//!
//! 1. find the sshd that serves the login, its configuration files, how
//!    the host reloads it, and its effective values (`sshd -T`); a host
//!    that already has the wanted values is `unchanged` and not touched;
//! 2. refuse to turn password logins off where this run did not log in
//!    with a key;
//! 3. write each change where sshd obeys it ([`config`]), backing every
//!    file up with the run's id in its name, and validate with `sshd -t`,
//!    putting everything back if that fails;
//! 4. reload sshd the way the host does;
//! 5. log in again on a new connection, with a key, while the first one
//!    stays open, and check the effective values and (for password
//!    changes) that the server no longer offers passwords;
//! 6. if that check fails, restore the backups through the old login,
//!    reload, check that a fresh login works again, and end `rolled_back`.
//!
//! A new `Port` takes two rounds: sshd first listens on the old and the
//! new port, a fresh login proves the new one, then the old one is
//! dropped. Before that, the new port is probed from where fleet runs: a
//! refusal means the way is open, a timeout means a firewall or security
//! group drops it, and the change stops there.

pub mod config;
pub mod remote;
pub mod settings;

use std::sync::{Arc, Mutex};

use russh::keys::ssh_key::PublicKey;

use config::{FileChange, SshdConfig};
use remote::{Discovered, Root, Who};
use settings::Setting;

use super::{
    Access, FreshLogin, FreshLoginResult, HostPlan, Login, Next, Plan, PortProbe, Reached,
    StepResult,
};
use crate::cause::Cause;
use crate::finding::{Finding, SshdFinding};
use crate::outcome::Outcome;
use crate::secret::Secret;

/// What the run does to each host's sshd.
#[derive(Debug, Clone)]
pub enum Intent {
    /// `sshd get`: show these keywords' effective values.
    Get(Vec<String>),
    /// `sshd set`: make these settings so.
    Set {
        settings: Vec<Setting>,
        /// `--check`: show what would change, change nothing.
        check: bool,
        /// `--skip-port-probe`: change the port even if a probe finds it
        /// filtered.
        skip_port_probe: bool,
    },
}

/// `fleet sshd get` and `fleet sshd set`.
pub struct SshdPlan {
    intent: Arc<Intent>,
    /// `--sudo-password`, asked once for the run.
    sudo_password: Option<Secret>,
    /// Names this run's backups: `FILE.fleet-RUN`.
    run: Arc<str>,
    /// The hosts whose sshd moved to another port, for ssh_config.
    moved: Arc<Mutex<Vec<Moved>>>,
}

/// A host whose sshd now listens on another port.
#[derive(Debug, Clone)]
pub struct Moved {
    pub alias: String,
    pub port: u16,
    /// The host key it proved on the old port and the new one.
    pub host_key: PublicKey,
}

impl SshdPlan {
    pub fn new(intent: Intent, sudo_password: Option<Secret>, run: String) -> SshdPlan {
        SshdPlan {
            intent: Arc::new(intent),
            sudo_password,
            run: run.into(),
            moved: Arc::default(),
        }
    }

    /// The hosts moved to another port so far.
    pub fn moved(&self) -> Vec<Moved> {
        self.moved.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl Plan for SshdPlan {
    fn access(&self) -> Access {
        Access::Login
    }

    fn host(&self, alias: &str) -> Box<dyn HostPlan> {
        Box::new(SshdHost {
            alias: alias.to_string(),
            moved: self.moved.clone(),
            intent: self.intent.clone(),
            sudo_password: self.sudo_password.clone(),
            run: self.run.clone(),
            login: None,
            host_key: None,
            state: State::Who,
        })
    }
}

/// One host's rollout.
struct SshdHost {
    alias: String,
    moved: Arc<Mutex<Vec<Moved>>>,
    intent: Arc<Intent>,
    sudo_password: Option<Secret>,
    run: Arc<str>,
    /// How this run logged in.
    login: Option<Login>,
    /// The key the host proved on the first connection.
    host_key: Option<PublicKey>,
    state: State,
}

/// Where a host's rollout is.
enum State {
    Who,
    Discover(Root),
    Includes(Box<Found>),
    Probe(Box<Work>),
    Apply(Box<Work>),
    Reload(Box<Work>),
    Verify(Box<Work>),
    Restore(Box<Work>, String),
    ReloadRestored(Box<Work>, String),
    VerifyRestored(String),
    Done,
}

/// What discovery found, before the includes are read.
struct Found {
    root: Root,
    discovered: Discovered,
    patterns: Vec<String>,
}

/// A change under way.
struct Work {
    root: Root,
    discovered: Discovered,
    config: SshdConfig,
    /// The settings of each round: one, or two for a new port.
    rounds: Vec<Vec<Setting>>,
    round: usize,
    /// The port of the fresh logins, when the change moves it.
    new_port: Option<u16>,
    /// The files written so far, as they were before this run: what a
    /// rollback puts back.
    originals: Vec<FileChange>,
    /// The files the current round writes.
    changes: Vec<FileChange>,
}

impl SshdHost {
    fn done(&mut self, outcome: Outcome) -> Next {
        self.state = State::Done;
        Next::Done(outcome)
    }

    fn fail(&mut self, cause: Cause) -> Next {
        self.done(Outcome::failed(cause))
    }

    /// After discovery: decide, and plan the rounds.
    fn decide(&mut self, found: Found, includes: Vec<config::Include>) -> Next {
        let Found {
            root, discovered, ..
        } = found;
        let config = SshdConfig {
            main: discovered.config.clone(),
            includes,
        };
        let Intent::Set {
            settings,
            check,
            skip_port_probe,
        } = &*self.intent
        else {
            return self.done(Outcome::ok());
        };
        let settings = settings.clone();
        let (check, skip_port_probe) = (*check, *skip_port_probe);
        let effective = |s: &Setting| {
            discovered
                .effective
                .get(&s.keyword.effective_name())
                .cloned()
                .unwrap_or_default()
        };
        if settings.iter().all(|s| s.holds_in(&effective(s))) {
            return self.done(Outcome::unchanged());
        }
        if let Some(why) = lockout(&settings, self.login.as_ref()) {
            return self.fail(Cause::WouldLockOut(why));
        }
        let (rounds, new_port) = match rounds(&settings, &discovered) {
            Ok(rounds) => rounds,
            Err(why) => return self.fail(Cause::ChangeRefused(why)),
        };
        if check {
            let changes = config::edit(&config, &settings);
            let diff = diff(&changes);
            let finding = SshdFinding::Planned {
                diff,
                reload: discovered.reload.to_string(),
            };
            return self.done(Outcome::ok().with_finding(Finding::Sshd(finding)));
        }
        let work = Box::new(Work {
            root,
            discovered,
            config,
            rounds,
            round: 0,
            new_port,
            originals: Vec::new(),
            changes: Vec::new(),
        });
        match new_port {
            Some(port) if !skip_port_probe => {
                self.state = State::Probe(work);
                Next::Probe(port)
            }
            _ => self.apply_round(work),
        }
    }

    /// Applies the current round, or fails the host if it cannot.
    fn apply_round(&mut self, mut work: Box<Work>) -> Next {
        match self.apply(&mut work) {
            Ok(next) => {
                self.state = State::Apply(work);
                next
            }
            Err(cause) => self.fail(cause),
        }
    }

    /// The current round's writes, as a step.
    fn apply(&self, work: &mut Work) -> Result<Next, Cause> {
        let changes = config::edit(&work.config, &work.rounds[work.round]);
        if changes.is_empty() {
            return Err(Cause::ChangeRefused(
                "sshd does not run the asked-for values, but its files already hold them; \
                 reload it, or check for a Match block or a nested Include"
                    .into(),
            ));
        }
        let backed_up: Vec<&str> = work.originals.iter().map(|c| c.path.as_str()).collect();
        let fresh: Vec<FileChange> = changes
            .iter()
            .filter(|c| !backed_up.contains(&c.path.as_str()))
            .cloned()
            .collect();
        work.originals.extend(fresh.iter().cloned());
        let script = remote::apply_script(
            &work.discovered.sshd,
            &work.discovered.config.path,
            &changes,
            &fresh,
            &work.originals,
            &self.run,
        )
        .map_err(Cause::ChangeRefused)?;
        work.changes = changes;
        Ok(Next::Run(work.root.step(script)))
    }

    /// The fresh login that checks the current round.
    fn verify(&self, work: &Work) -> Next {
        let settings = &work.rounds[work.round];
        let passwords = settings.iter().any(|s| s.keyword.guards_passwords());
        let script = remote::effective_script(&work.discovered.sshd, &work.discovered.config.path);
        Next::FreshLogin(FreshLogin {
            port: work.new_port,
            auth_methods: passwords,
            step: Some(work.root.step(script)),
            identity: None,
        })
    }

    /// Why a fresh login does not prove the round, if it does not.
    fn check(&self, work: &Work, result: &FreshLoginResult) -> Option<String> {
        if let Err(cause) = &result.login {
            return Some(format!("a fresh login failed: {cause}"));
        }
        let effective = match &result.step {
            Some(StepResult {
                exit: Ok(0),
                stdout,
                ..
            }) => remote::parse_effective(stdout),
            Some(step) => {
                return Some(format!(
                    "sshd -T over the fresh login failed: {}",
                    describe(step)
                ))
            }
            None => return Some("the fresh login ran no check".into()),
        };
        for setting in &work.rounds[work.round] {
            let have = effective
                .get(&setting.keyword.effective_name())
                .cloned()
                .unwrap_or_default();
            if !setting.holds_in(&have) {
                return Some(format!(
                    "sshd runs {} {} after the reload",
                    setting.keyword.effective_name(),
                    have.join(",")
                ));
            }
        }
        let methods = result.auth_methods.as_deref().unwrap_or_default();
        for setting in &work.rounds[work.round] {
            let off = setting
                .values
                .first()
                .is_some_and(|v| v.eq_ignore_ascii_case("no"));
            if setting.keyword.guards_passwords() && off {
                let method = if setting.keyword.name == "PasswordAuthentication" {
                    "password"
                } else {
                    "keyboard-interactive"
                };
                if methods.iter().any(|m| m == method) {
                    return Some(format!("the server still offers {method}"));
                }
            }
        }
        None
    }

    /// Starts undoing the change, for `reason`.
    fn undo(&mut self, work: Box<Work>, reason: String) -> Next {
        let script = remote::restore_script(&work.originals, &self.run);
        let step = work.root.step(script);
        self.state = State::Restore(work, reason);
        Next::Run(step)
    }
}

impl HostPlan for SshdHost {
    fn start(&mut self, reached: &Reached) -> Next {
        self.login = reached.login.clone();
        self.host_key = Some(reached.host_key().clone());
        self.state = State::Who;
        Next::Run(remote::who_step())
    }

    fn step_done(&mut self, result: StepResult) -> Next {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Who => {
                let root = match (remote::parse_who(&result.stdout), &self.sudo_password) {
                    (Who::Root, _) => Root::Already,
                    (Who::Sudo, _) => Root::Sudo,
                    (Who::SudoPassword, Some(password)) => Root::SudoPassword(password.clone()),
                    (Who::SudoPassword, None) => {
                        return self.fail(Cause::NeedsRoot(
                            "sudo asks for a password; pass --sudo-password".into(),
                        ))
                    }
                    (Who::Nobody, _) => {
                        return self.fail(Cause::NeedsRoot(
                            "the login user is not root and there is no sudo".into(),
                        ))
                    }
                };
                let step = root.step(remote::discover_script());
                self.state = State::Discover(root);
                Next::Run(step)
            }
            State::Discover(root) => {
                if result.exit != Ok(0) {
                    return self.fail(Cause::ChangeRefused(format!(
                        "could not read sshd's configuration: {}",
                        describe(&result)
                    )));
                }
                let discovered = match remote::parse_discovered(&result.stdout) {
                    Ok(discovered) => discovered,
                    Err(why) => return self.fail(Cause::ChangeRefused(why)),
                };
                if let Intent::Get(keys) = &*self.intent {
                    let lines = keys
                        .iter()
                        .flat_map(|key| {
                            let key = key.to_ascii_lowercase();
                            // sshd -T leaves out keywords it has no value for.
                            let values = match discovered.effective.get(&key) {
                                Some(values) if !values.is_empty() => values.clone(),
                                _ => vec!["(none)".to_string()],
                            };
                            values.into_iter().map(move |v| format!("{key} {v}"))
                        })
                        .collect();
                    let finding = Finding::Sshd(SshdFinding::Effective(lines));
                    return self.done(Outcome::ok().with_finding(finding));
                }
                let patterns = config::include_patterns(&discovered.config.text);
                let script = match remote::includes_script(&patterns) {
                    Ok(script) => script,
                    Err(why) => return self.fail(Cause::ChangeRefused(why)),
                };
                let step = root.step(script);
                self.state = State::Includes(Box::new(Found {
                    root,
                    discovered,
                    patterns,
                }));
                Next::Run(step)
            }
            State::Includes(found) => {
                let includes = match (
                    &result.exit,
                    remote::parse_includes(&result.stdout, &found.patterns),
                ) {
                    (Ok(0), Ok(includes)) => includes,
                    (Ok(0), Err(why)) => return self.fail(Cause::ChangeRefused(why)),
                    _ => {
                        return self.fail(Cause::ChangeRefused(format!(
                            "could not read the included files: {}",
                            describe(&result)
                        )))
                    }
                };
                self.decide(*found, includes)
            }
            State::Apply(mut work) => match result.exit {
                Ok(0) => {
                    let step = work
                        .root
                        .step(remote::reload_script(&work.discovered.reload));
                    self.state = State::Reload(work);
                    Next::Run(step)
                }
                Ok(3) => {
                    let said = String::from_utf8_lossy(&result.stdout).trim().to_string();
                    let why = format!("sshd -t refused it, the files were put back: {said}");
                    if work.round == 0 {
                        self.fail(Cause::ChangeRefused(why))
                    } else {
                        self.undo(work, why)
                    }
                }
                _ => {
                    let why = format!("writing the files failed: {}", describe(&result));
                    // Some files may be written: put everything back.
                    work.changes.clear();
                    self.undo(work, why)
                }
            },
            State::Reload(work) => match result.exit {
                Ok(0) => {
                    let next = self.verify(&work);
                    self.state = State::Verify(work);
                    next
                }
                _ => {
                    let why = format!(
                        "reloading sshd ({}) failed: {}",
                        work.discovered.reload,
                        describe(&result)
                    );
                    self.undo(work, why)
                }
            },
            State::Restore(work, reason) => match result.exit {
                Ok(0) => {
                    let step = work
                        .root
                        .step(remote::reload_script(&work.discovered.reload));
                    self.state = State::ReloadRestored(work, reason);
                    Next::Run(step)
                }
                _ => self.fail(Cause::UndoFailed(format!(
                    "{reason}; putting the backups (*.fleet-{}) back failed: {}",
                    self.run,
                    describe(&result)
                ))),
            },
            State::ReloadRestored(work, reason) => match result.exit {
                Ok(0) => {
                    let script = remote::effective_script(
                        &work.discovered.sshd,
                        &work.discovered.config.path,
                    );
                    let next = Next::FreshLogin(FreshLogin {
                        port: None,
                        auth_methods: false,
                        step: Some(work.root.step(script)),
                        identity: None,
                    });
                    self.state = State::VerifyRestored(reason);
                    next
                }
                _ => self.fail(Cause::UndoFailed(format!(
                    "{reason}; the backups are back but reloading sshd failed: {}",
                    describe(&result)
                ))),
            },
            _ => self.fail(Cause::PlanError(
                "a step came back that was not asked for".into(),
            )),
        }
    }

    fn probed(&mut self, port: u16, probe: PortProbe) -> Next {
        let State::Probe(work) = std::mem::replace(&mut self.state, State::Done) else {
            return self.fail(Cause::PlanError(
                "a probe came back that was not asked for".into(),
            ));
        };
        match probe {
            PortProbe::Refused => self.apply_round(work),
            PortProbe::Filtered => self.fail(Cause::ChangeRefused(format!(
                "port {port} does not answer from here, so a firewall or security group drops it: \
                 allow it there first (or pass --skip-port-probe)"
            ))),
            PortProbe::Listening => self.fail(Cause::ChangeRefused(format!(
                "something else already listens on port {port}"
            ))),
            PortProbe::Failed(cause) => self.fail(Cause::ChangeRefused(format!(
                "port {port} could not be probed: {cause}"
            ))),
        }
    }

    fn fresh_login_done(&mut self, result: FreshLoginResult) -> Next {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Verify(mut work) => {
                if let Some(why) = self.check(&work, &result) {
                    return self.undo(work, why);
                }
                work.round += 1;
                if work.round < work.rounds.len() {
                    return match self.apply(&mut work) {
                        Ok(next) => {
                            self.state = State::Apply(work);
                            next
                        }
                        Err(cause) => {
                            let why = cause.to_string();
                            self.undo(work, why)
                        }
                    };
                }
                let moved = work.new_port.zip(self.host_key.clone());
                if let (Some((port, host_key)), Ok(mut all)) = (&moved, self.moved.lock()) {
                    all.push(Moved {
                        alias: self.alias.clone(),
                        port: *port,
                        host_key: host_key.clone(),
                    });
                }
                let finding = SshdFinding::Changed {
                    files: work.originals.iter().map(|c| c.path.clone()).collect(),
                    moved,
                };
                self.done(Outcome::changed().with_finding(Finding::Sshd(finding)))
            }
            State::VerifyRestored(reason) => match result.login {
                Ok(_) => self.fail(Cause::RolledBack(reason)),
                Err(cause) => self.fail(Cause::UndoFailed(format!(
                    "{reason}; after putting the backups back, a fresh login still fails: {cause}"
                ))),
            },
            _ => self.fail(Cause::PlanError(
                "a fresh login came back that was not asked for".into(),
            )),
        }
    }
}

/// Why the settings would lock the user out, when they would: password
/// logins off on a host this run did not log in to with a key.
fn lockout(settings: &[Setting], login: Option<&Login>) -> Option<String> {
    let off = settings.iter().any(|s| {
        s.keyword.guards_passwords()
            && s.values
                .first()
                .is_some_and(|v| v.eq_ignore_ascii_case("no"))
    });
    match login {
        Some(Login::Key(_) | Login::Certificate(_)) => None,
        _ if off => Some(
            "this run logged in with a password, not a key; install a key first \
             (fleet keys install) and run again"
                .into(),
        ),
        _ => None,
    }
}

/// The rounds a change takes: one, or two when it moves sshd to a new port
/// (listen on both, then on the new one alone); and that new port.
fn rounds(
    settings: &[Setting],
    discovered: &Discovered,
) -> Result<(Vec<Vec<Setting>>, Option<u16>), String> {
    let Some(ports) = settings.iter().find(|s| s.keyword.name == "Port") else {
        return Ok((vec![settings.to_vec()], None));
    };
    let current: Vec<String> = discovered
        .effective
        .get("port")
        .cloned()
        .unwrap_or_default();
    let added: Vec<&String> = ports
        .values
        .iter()
        .filter(|p| !current.contains(p))
        .collect();
    let [new] = added.as_slice() else {
        if added.is_empty() {
            return Ok((vec![settings.to_vec()], None));
        }
        return Err("fleet moves sshd to one new port at a time".into());
    };
    let listen = discovered
        .effective
        .get("listenaddress")
        .cloned()
        .unwrap_or_default();
    if discovered.config.text.lines().any(|l| {
        let l = l.trim_start();
        l.len() > 14
            && l[..13].eq_ignore_ascii_case("listenaddress")
            && l[13..].trim().contains(':')
            && !l.contains('[')
    }) && !listen.is_empty()
    {
        return Err("a ListenAddress names its own port, which Port does not change".into());
    }
    let port: u16 = new.parse().map_err(|_| format!("Port {new}: not a port"))?;
    let both = Setting {
        keyword: ports.keyword,
        values: current.iter().cloned().chain([new.to_string()]).collect(),
    };
    let first: Vec<Setting> = settings
        .iter()
        .map(|s| {
            if s.keyword.name == "Port" {
                both.clone()
            } else {
                s.clone()
            }
        })
        .collect();
    Ok((vec![first, settings.to_vec()], Some(port)))
}

/// Unified diffs of `changes`, file by file.
fn diff(changes: &[FileChange]) -> String {
    changes
        .iter()
        .map(|change| {
            let before = change.before.as_deref().unwrap_or("");
            let old = if change.before.is_some() {
                change.path.as_str()
            } else {
                "/dev/null"
            };
            similar::TextDiff::from_lines(before, &change.after)
                .unified_diff()
                .header(old, &change.path)
                .to_string()
        })
        .collect()
}

/// A failed step, in a few words: its exit and what it said.
fn describe(step: &StepResult) -> String {
    let said = String::from_utf8_lossy(if step.stderr.is_empty() {
        &step.stdout
    } else {
        &step.stderr
    })
    .trim()
    .lines()
    .last()
    .unwrap_or_default()
    .to_string();
    match &step.exit {
        Ok(code) if said.is_empty() => format!("exit {code}"),
        Ok(code) => format!("exit {code}: {said}"),
        Err(cause) => cause.to_string(),
    }
}

#[cfg(test)]
mod tests;
