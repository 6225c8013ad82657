//! The shell a rollout runs on a host, and how fleet reads its answers.
//!
//! Every script is POSIX sh, sent on stdin (`sh -s`), so nothing of it
//! passes through the login shell's quoting, and it runs as root: directly,
//! through `sudo -n`, or through `sudo -S` with the password on stdin ahead
//! of the script, never on a command line. Scripts answer in lines that
//! start with `@@fleet `; file contents travel base64-encoded, so no file
//! can forge an answer.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::config::{ConfigFile, FileChange, Include};
use crate::plan::{Capture, Input, Step};
use crate::secret::Secret;

/// What answers start with.
const MARK: &str = "@@fleet ";

/// Output kept of a script: enough for an sshd_config tree and `sshd -T`.
const KEEP: usize = 4 * 1024 * 1024;

/// How a step gets root on a host.
#[derive(Clone)]
pub enum Root {
    /// The login user is root.
    Already,
    /// `sudo -n` works.
    Sudo,
    /// `sudo` asks for a password: this one.
    SudoPassword(Secret),
}

impl std::fmt::Debug for Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Root::Already => "root",
            Root::Sudo => "sudo -n",
            Root::SudoPassword(_) => "sudo -S",
        })
    }
}

impl Root {
    /// A step that runs `script` as root, keeping its output.
    pub fn step(&self, script: String) -> Step {
        let (command, stdin) = match self {
            Root::Already => ("sh -s", Input::Bytes(script.into())),
            Root::Sudo => ("sudo -n sh -s", Input::Bytes(script.into())),
            // -k: always ask, so that sudo reads the password line and the
            // shell never sees it; the login user's cached sudo is ignored.
            Root::SudoPassword(password) => (
                "sudo -S -k -p '' sh -s",
                Input::Secret {
                    secret: password.clone(),
                    then: script.into(),
                },
            ),
        };
        Step {
            command: command.to_string(),
            stdin: Some(stdin),
            output: Capture::Keep(KEEP),
            timeout: None,
            expect: None,
        }
    }
}

/// The first step, as the login user: who it is and what sudo says.
pub fn who_step() -> Step {
    let script = "\
id -u
if command -v sudo >/dev/null 2>&1; then
  if sudo -n true 2>/dev/null; then echo sudo; else echo sudo-password; fi
else
  echo no-sudo
fi
";
    // As the login user, which is what a root login runs as too.
    Root::Already.step(script.to_string())
}

/// What [`who_step`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Root,
    /// Not root; `sudo -n` works.
    Sudo,
    /// Not root; sudo wants a password.
    SudoPassword,
    /// Not root, and no sudo.
    Nobody,
}

pub fn parse_who(output: &[u8]) -> Who {
    let text = String::from_utf8_lossy(output);
    let mut lines = text.lines();
    if lines.next().map(str::trim) == Some("0") {
        return Who::Root;
    }
    match lines.next().map(str::trim) {
        Some("sudo") => Who::Sudo,
        Some("sudo-password") => Who::SudoPassword,
        _ => Who::Nobody,
    }
}

/// Finds the sshd that serves this login (the topmost of the sshd
/// processes above the script), its configuration file, how the host
/// reloads it, its main file and its effective values.
pub fn discover_script() -> String {
    r#"set -u
out() { printf '@@fleet %s\n' "$*"; }
p=$$; listener=; seen=
while [ "$p" -gt 1 ]; do
  comm=$(cat /proc/$p/comm 2>/dev/null) || break
  case $comm in
    sshd*) listener=$p; seen=1 ;;
    *) [ -n "$seen" ] && break ;;
  esac
  read -r s < /proc/$p/stat || break
  s=${s##*) }; set -- $s; p=$2
done
[ -n "$listener" ] || { out error "no sshd process above this login"; exit 0; }
bin=$(readlink /proc/$listener/exe)
cfg=/etc/ssh/sshd_config; prev=
for a in $(tr '\0' ' ' < /proc/$listener/cmdline); do
  [ "$prev" = "-f" ] && cfg=$a
  prev=$a
done
method="hup $listener"
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  for u in ssh sshd; do
    [ "$(systemctl show -p MainPID --value "$u" 2>/dev/null)" = "$listener" ] && { method="systemctl $u"; break; }
  done
fi
if [ "${method%% *}" = hup ]; then
  for u in ssh sshd; do
    [ -x /etc/init.d/$u ] || continue
    for pf in /run/sshd.pid /var/run/sshd.pid; do
      if [ -f "$pf" ] && [ "$(cat "$pf")" = "$listener" ]; then method="initd $u"; break 2; fi
    done
  done
fi
out listener $listener
out sshd $bin
out config $cfg
out reload $method
out file $cfg
base64 "$cfg" || { out error "cannot read $cfg"; exit 0; }
out end
out effective
"$bin" -T -f "$cfg" 2>&1 || out error "sshd -T failed"
out end
"#
    .to_string()
}

/// What [`discover_script`] answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub sshd: String,
    pub config: ConfigFile,
    pub reload: Reload,
    /// `sshd -T`: every keyword (lowercase) with its values in order.
    pub effective: BTreeMap<String, Vec<String>>,
}

/// How the host reloads its sshd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reload {
    Systemctl(String),
    /// `/etc/init.d/UNIT reload`, as `service UNIT reload` runs it.
    InitScript(String),
    /// SIGHUP to the listener.
    Hup(u32),
}

impl std::fmt::Display for Reload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reload::Systemctl(unit) => write!(f, "systemctl reload {unit}"),
            Reload::InitScript(unit) => write!(f, "service {unit} reload"),
            // Without the pid, so that hosts reloaded alike fold together.
            Reload::Hup(_) => f.write_str("kill -HUP of the sshd that serves the login"),
        }
    }
}

/// The answers of a script: marked lines and the blocks after them.
struct Answers {
    lines: Vec<(String, String)>,
    blocks: Vec<(String, String, Vec<String>)>,
}

fn answers(output: &[u8]) -> Answers {
    let text = String::from_utf8_lossy(output);
    let mut lines = Vec::new();
    let mut blocks = Vec::new();
    let mut open: Option<(String, String, Vec<String>)> = None;
    for line in text.lines() {
        let Some(answer) = line.strip_prefix(MARK) else {
            if let Some((_, _, body)) = open.as_mut() {
                body.push(line.to_string());
            }
            continue;
        };
        let (key, value) = answer.split_once(' ').unwrap_or((answer, ""));
        match key {
            "end" => blocks.extend(open.take()),
            "file" | "effective" | "include" => {
                blocks.extend(open.take());
                open = Some((key.to_string(), value.to_string(), Vec::new()));
            }
            _ => lines.push((key.to_string(), value.to_string())),
        }
    }
    blocks.extend(open);
    Answers { lines, blocks }
}

impl Answers {
    fn line(&self, key: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn decode(body: &[String]) -> Result<String, String> {
    let joined: String = body.concat();
    let bytes = BASE64
        .decode(joined.trim())
        .map_err(|e| format!("a file came back garbled ({e})"))?;
    String::from_utf8(bytes).map_err(|_| "an sshd configuration file is not UTF-8".to_string())
}

pub fn parse_discovered(output: &[u8]) -> Result<Discovered, String> {
    let answers = answers(output);
    if let Some(error) = answers.line("error") {
        return Err(error.to_string());
    }
    let missing = |what: &str| format!("the host did not say {what}");
    let sshd = answers
        .line("sshd")
        .ok_or_else(|| missing("which sshd runs"))?;
    let path = answers
        .line("config")
        .ok_or_else(|| missing("its sshd_config"))?;
    let reload = match answers
        .line("reload")
        .ok_or_else(|| missing("how it reloads sshd"))?
        .split_once(' ')
    {
        Some(("systemctl", unit)) => Reload::Systemctl(unit.to_string()),
        Some(("initd", unit)) => Reload::InitScript(unit.to_string()),
        Some(("hup", pid)) => Reload::Hup(pid.parse().map_err(|_| missing("sshd's pid"))?),
        _ => return Err(missing("how it reloads sshd")),
    };
    let mut text = None;
    let mut effective = BTreeMap::<String, Vec<String>>::new();
    for (kind, name, body) in &answers.blocks {
        match kind.as_str() {
            "file" if name == path => text = Some(decode(body)?),
            "effective" => add_effective(&mut effective, body),
            _ => {}
        }
    }
    if effective.is_empty() {
        return Err("sshd -T said nothing".into());
    }
    Ok(Discovered {
        sshd: sshd.to_string(),
        config: ConfigFile {
            path: path.to_string(),
            text: text.ok_or_else(|| missing("what its sshd_config holds"))?,
        },
        reload,
        effective,
    })
}

/// Whether a path or pattern can go into a script as it is: no quoting,
/// no expansion but the glob.
fn plain_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-*?[]+,@".contains(&b))
}

/// Lists the files of each Include pattern, in the order sshd reads them
/// (the shell's glob order is sorted too), with their contents.
pub fn includes_script(patterns: &[String]) -> Result<String, String> {
    let mut script = String::from("out() { printf '@@fleet %s\\n' \"$*\"; }\n");
    for pattern in patterns {
        if !plain_path(pattern) {
            return Err(format!(
                "Include {pattern}: fleet does not follow this pattern"
            ));
        }
        script.push_str(&format!(
            "out include '{pattern}'\nout end\nfor f in {pattern}; do [ -f \"$f\" ] || continue; out file \"$f\"; base64 \"$f\"; out end; done\n"
        ));
    }
    Ok(script)
}

/// The includes [`includes_script`] listed.
pub fn parse_includes(output: &[u8], patterns: &[String]) -> Result<Vec<Include>, String> {
    let answers = answers(output);
    let mut includes: Vec<Include> = Vec::new();
    for (kind, name, body) in &answers.blocks {
        match kind.as_str() {
            "include" => includes.push(Include {
                pattern: name.clone(),
                files: Vec::new(),
            }),
            "file" => {
                let include = includes
                    .last_mut()
                    .ok_or("an included file came before its Include")?;
                include.files.push(ConfigFile {
                    path: name.clone(),
                    text: decode(body)?,
                });
            }
            _ => {}
        }
    }
    let listed: Vec<&str> = includes.iter().map(|i| i.pattern.as_str()).collect();
    if listed != patterns.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err("the host did not list every Include".into());
    }
    Ok(includes)
}

/// Writes `changes`, first keeping each file of `back_up` that exists as
/// `FILE.fleet-RUN` (mode and owner kept), then validates with `sshd -t`;
/// when that fails, puts every file of `originals` back as it was before
/// the run. Exits 0 when the new files are valid, 3 (with sshd's words)
/// when they were not and were put back, anything else on trouble.
pub fn apply_script(
    sshd: &str,
    config: &str,
    changes: &[FileChange],
    back_up: &[FileChange],
    originals: &[FileChange],
    run: &str,
) -> Result<String, String> {
    let mut script = String::from("set -u\numask 022\n");
    for change in changes {
        if !plain_path(&change.path) {
            return Err(format!(
                "{}: fleet does not write to this path",
                change.path
            ));
        }
        let path = &change.path;
        let content = BASE64.encode(change.after.as_bytes());
        if back_up
            .iter()
            .any(|b| b.path == change.path && b.before.is_some())
        {
            script.push_str(&format!(
                "p=$(readlink -f {path} 2>/dev/null || echo {path})\n\
                 cp -p \"$p\" \"$p.fleet-{run}\" || exit 10\n"
            ));
        }
        script.push_str(&format!(
            "p=$(readlink -f {path} 2>/dev/null || echo {path})\n\
             t=$(mktemp \"$(dirname \"$p\")/.fleet.XXXXXX\") || exit 11\n\
             printf '%s' '{content}' | base64 -d > \"$t\" || {{ rm -f \"$t\"; exit 12; }}\n\
             if [ -e \"$p\" ]; then chmod \"$(stat -c %a \"$p\")\" \"$t\"; chown \"$(stat -c %u:%g \"$p\")\" \"$t\"; else chmod 644 \"$t\"; fi\n\
             mv -f \"$t\" \"$p\" || exit 13\n"
        ));
    }
    if !plain_path(sshd) || !plain_path(config) {
        return Err(format!(
            "{sshd} -f {config}: fleet does not run sshd from this path"
        ));
    }
    script.push_str(&format!(
        "if ! m=$({sshd} -t -f {config} 2>&1); then\n{}printf '%s\\n' \"$m\"\nexit 3\nfi\nexit 0\n",
        restore_lines(originals, run)
    ));
    Ok(script)
}

/// Puts back what the run changed, `originals` being each file as it was
/// before: an old file from its backup (which stays), a new one removed.
pub fn restore_script(originals: &[FileChange], run: &str) -> String {
    format!("set -u\n{}exit 0\n", restore_lines(originals, run))
}

fn restore_lines(changes: &[FileChange], run: &str) -> String {
    changes
        .iter()
        .map(|change| {
            let path = &change.path;
            match change.before {
                Some(_) => format!(
                    "p=$(readlink -f {path} 2>/dev/null || echo {path}); cp -p \"$p.fleet-{run}\" \"$p\"\n"
                ),
                None => format!("rm -f {path}\n"),
            }
        })
        .collect()
}

/// Reloads sshd the way the host does it, then waits a moment: sshd
/// re-executes itself and takes no connection meanwhile.
pub fn reload_script(reload: &Reload) -> String {
    let command = match reload {
        Reload::Systemctl(unit) => format!("systemctl reload {unit}"),
        Reload::InitScript(unit) => format!("/etc/init.d/{unit} reload"),
        Reload::Hup(pid) => format!("kill -HUP {pid}"),
    };
    format!("set -u\n{command} || exit $?\nsleep 1\nexit 0\n")
}

/// `sshd -T`, as root, for a fresh login's check.
pub fn effective_script(sshd: &str, config: &str) -> String {
    format!(
        "out() {{ printf '@@fleet %s\\n' \"$*\"; }}\nout effective\n{sshd} -T -f {config} 2>&1\nout end\n"
    )
}

/// The effective values an [`effective_script`] printed.
pub fn parse_effective(output: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut effective = BTreeMap::<String, Vec<String>>::new();
    for (kind, _, body) in answers(output).blocks {
        if kind == "effective" {
            add_effective(&mut effective, &body);
        }
    }
    effective
}

/// Adds the `keyword value` lines of an `sshd -T` block to `effective`,
/// keyed by the lowercase keyword; repeated keywords keep every value.
fn add_effective(effective: &mut BTreeMap<String, Vec<String>>, body: &[String]) {
    for line in body {
        if let Some((key, value)) = line.split_once(' ') {
            effective
                .entry(key.to_ascii_lowercase())
                .or_default()
                .push(value.to_string());
        }
    }
}

/// Appends the key `kind blob comment` to the login user's
/// `~/.ssh/authorized_keys` unless a line already holds the same key (the
/// comment and options aside), creating the directory (0700) and the file
/// (0600) as the user. Answers `added` or `present`. The caller checks that
/// the three words need no quoting.
pub fn authorize_key_step(kind: &str, blob: &str, comment: &str) -> Step {
    let line = if comment.is_empty() {
        format!("{kind} {blob}")
    } else {
        format!("{kind} {blob} {comment}")
    };
    let script = format!(
        r#"set -u
umask 077
[ -d "$HOME/.ssh" ] || mkdir "$HOME/.ssh" || exit 10
f="$HOME/.ssh/authorized_keys"
[ -e "$f" ] || : > "$f" || exit 11
if awk -v t='{kind}' -v b='{blob}' '{{ for (i = 1; i < NF; i++) if ($i == t && $(i + 1) == b) found = 1 }} END {{ exit !found }}' "$f"; then
  echo present
else
  if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >> "$f"; fi
  printf '%s\n' '{line}' >> "$f" || exit 12
  echo added
fi
"#
    );
    // As the login user: it is that user's file.
    Root::Already.step(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_back_as_lines_and_decoded_blocks() {
        let config = BASE64.encode("Port 22\nInclude /etc/ssh/sshd_config.d/*.conf\n");
        let output = format!(
            "noise\n@@fleet listener 7\n@@fleet sshd /usr/sbin/sshd\n@@fleet config /etc/ssh/sshd_config\n\
             @@fleet reload initd ssh\n@@fleet file /etc/ssh/sshd_config\n{config}\n@@fleet end\n\
             @@fleet effective\nport 22\nport 2222\npasswordauthentication yes\n@@fleet end\n"
        );
        let found = parse_discovered(output.as_bytes()).unwrap();
        assert_eq!(found.sshd, "/usr/sbin/sshd");
        assert_eq!(found.reload, Reload::InitScript("ssh".into()));
        assert_eq!(
            found.config.text,
            "Port 22\nInclude /etc/ssh/sshd_config.d/*.conf\n"
        );
        assert_eq!(found.effective["port"], ["22", "2222"]);
        assert_eq!(found.effective["passwordauthentication"], ["yes"]);
        assert!(
            parse_discovered(b"@@fleet error no sshd process above this login\n")
                .unwrap_err()
                .contains("no sshd")
        );
    }

    #[test]
    fn who_answers_root_sudo_or_nothing() {
        assert_eq!(parse_who(b"0\nsudo\n"), Who::Root);
        assert_eq!(parse_who(b"1001\nsudo\n"), Who::Sudo);
        assert_eq!(parse_who(b"1001\nsudo-password\n"), Who::SudoPassword);
        assert_eq!(parse_who(b"1001\nno-sudo\n"), Who::Nobody);
    }

    #[test]
    fn paths_that_would_need_quoting_are_refused() {
        assert!(includes_script(&["/etc/ssh/sshd_config.d/*.conf".into()]).is_ok());
        assert!(includes_script(&["/etc/ssh/$(reboot)".into()]).is_err());
        let change = FileChange {
            path: "/etc/ssh/x y".into(),
            before: None,
            after: String::new(),
        };
        let changes = [change];
        let script = apply_script(
            "/usr/sbin/sshd",
            "/etc/ssh/sshd_config",
            &changes,
            &[],
            &[],
            "1",
        );
        assert!(script.is_err());
    }
}
