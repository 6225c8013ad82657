//! Compares [`SshConfig::resolve`] with `ssh -G`, OpenSSH's own evaluation,
//! on tricky configs. Requires the OpenSSH client; fails if it is missing.
//!
//! `ssh -G` prints IdentityFile and CertificateFile before expanding them,
//! so the test expands those itself; it prints UserKnownHostsFile and
//! IdentityAgent expanded, with `~` and `%d` taken from the passwd entry
//! rather than $HOME, so the configs here only use `~`/`%d` in the former.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::super::{HostOptions, LocalEnv, SshConfig, StrictHostKeyChecking};

/// `ssh -G` output: keyword → values, in order.
type Dump = BTreeMap<String, Vec<String>>;

struct Oracle {
    home: tempfile::TempDir,
    env: LocalEnv,
    /// What `ssh -G` prints for IdentityFile and UserKnownHostsFile when a
    /// config sets neither.
    default_identity_files: Vec<String>,
    default_user_known_hosts: Vec<String>,
}

impl Oracle {
    fn new() -> Oracle {
        match Command::new("ssh").arg("-V").stderr(Stdio::piped()).output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "`ssh -V` failed ({}); this test compares with OpenSSH's `ssh -G` and needs a working \
                 OpenSSH client",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => panic!(
                "cannot run `ssh` ({e}); this test compares with OpenSSH's `ssh -G` and needs the \
                 OpenSSH client installed (e.g. apt install openssh-client)"
            ),
        }
        let home = tempfile::tempdir().expect("temp dir");
        let env = LocalEnv {
            home: home.path().to_path_buf(),
            user: LocalEnv::from_process().user,
        };
        let mut oracle = Oracle {
            home,
            env,
            default_identity_files: Vec::new(),
            default_user_known_hosts: Vec::new(),
        };
        let empty = oracle.write(".ssh/empty.conf", "");
        let defaults = oracle
            .ssh_g(&empty, "h", &[])
            .expect("ssh -G with an empty config");
        oracle.default_identity_files = defaults["identityfile"].clone();
        oracle.default_user_known_hosts = defaults["userknownhostsfile"].clone();
        oracle
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.home.path().join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, text).expect("write");
        path
    }

    fn ssh_g(&self, config: &Path, host: &str, overrides: &[(&str, &str)]) -> Result<Dump, String> {
        let mut cmd = Command::new("ssh");
        cmd.arg("-G").arg("-F").arg(config);
        for (k, v) in overrides {
            cmd.arg("-o").arg(format!("{k}={v}"));
        }
        let out = cmd
            .arg(host)
            .env("HOME", self.home.path())
            .stdin(Stdio::null())
            .output()
            .expect("run ssh -G");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let mut dump = Dump::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            dump.entry(key.to_string())
                .or_default()
                .push(value.to_string());
        }
        Ok(dump)
    }

    /// Asserts that fleet and `ssh -G` agree on `host`, or both refuse.
    fn check(&self, config: &Path, host: &str, overrides: &[(&str, &str)]) {
        let ours = SshConfig::load(config, &self.env).and_then(|c| {
            let overrides: Vec<(String, String)> = overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            c.resolve(host, &overrides)
        });
        let what = format!("{} {host} {overrides:?}", config.display());
        let theirs = self
            .ssh_g(config, host, overrides)
            .and_then(|dump| self.expected(host, &dump));
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "{what}"),
            (Err(_), Err(_)) => {}
            (Ok(ours), Err(e)) => panic!("{what}: ssh refuses ({e}) but fleet resolves {ours:?}"),
            (Err(e), Ok(_)) => panic!("{what}: fleet refuses ({e}) but ssh accepts"),
        }
    }

    /// The HostOptions that `ssh -G`'s output stands for, or why ssh
    /// would fail once it expands what `-G` prints unexpanded.
    fn expected(&self, host: &str, dump: &Dump) -> Result<HostOptions, String> {
        let one = |key: &str| -> String {
            dump.get(key)
                .and_then(|v| v.first())
                .cloned()
                .unwrap_or_else(|| panic!("no {key} in ssh -G output"))
        };
        let opt = |key: &str| dump.get(key).and_then(|v| v.first()).cloned();
        let home = self.env.home.display().to_string();
        let hostname = one("hostname");
        let user = one("user");
        let port = one("port");
        let key_alias = opt("hostkeyalias").unwrap_or_else(|| host.to_string());
        let tokens = [
            ('h', hostname.as_str()),
            ('p', &port),
            ('r', &user),
            ('u', &self.env.user),
            ('n', host),
            ('k', &key_alias),
            ('d', &home),
        ];
        let raw_paths = |key: &str| -> Result<Vec<PathBuf>, String> {
            dump.get(key)
                .into_iter()
                .flatten()
                .filter(|p| !p.eq_ignore_ascii_case("none"))
                .map(|p| {
                    let p = match p.strip_prefix("~/") {
                        Some(rest) => format!("{home}/{rest}"),
                        None => p.clone(),
                    };
                    expand(&p, &tokens).map(PathBuf::from)
                })
                .collect()
        };
        let default_identities = dump.get("identityfile") == Some(&self.default_identity_files);
        let identity_files = if default_identities {
            Vec::new()
        } else {
            let mut paths = raw_paths("identityfile")?;
            paths.retain(|p| !p.as_os_str().eq_ignore_ascii_case("none"));
            paths
        };
        // ssh expands the ProxyCommand it builds from ProxyJump.
        let proxy_jump = match opt("proxyjump") {
            Some(jump) => {
                let jump_tokens = [
                    ('h', hostname.as_str()),
                    ('k', &key_alias),
                    ('n', host),
                    ('p', &port),
                    ('r', &user),
                ];
                Some(expand(&jump, &jump_tokens)?)
            }
            None => None,
        };
        let user_known = dump["userknownhostsfile"].clone();
        let user_known_hosts_files = if user_known == self.default_user_known_hosts {
            ["known_hosts", "known_hosts2"]
                .iter()
                .map(|f| self.env.home.join(".ssh").join(f))
                .collect()
        } else {
            split_files(&user_known[0])
        };
        let seconds = |key: &str| match one(key).as_str() {
            "none" | "0" => None,
            n => Some(Duration::from_secs(n.parse().expect("seconds"))),
        };
        Ok(HostOptions {
            host: one("host"),
            hostname: hostname.clone(),
            user: user.clone(),
            port: port.parse().expect("port"),
            identity_files,
            default_identities,
            identities_only: one("identitiesonly") == "yes",
            identity_agent: opt("identityagent"),
            certificate_files: raw_paths("certificatefile")?,
            // ssh -G prints a ProxyJump as the ProxyCommand it becomes.
            proxy_command: proxy_jump.is_none() && opt("proxycommand").is_some_and(|c| c != "none"),
            proxy_jump,
            user_known_hosts_files,
            global_known_hosts_files: split_files(&one("globalknownhostsfile")),
            strict_host_key_checking: match one("stricthostkeychecking").as_str() {
                "true" => StrictHostKeyChecking::Yes,
                "false" => StrictHostKeyChecking::No,
                "ask" => StrictHostKeyChecking::Ask,
                "accept-new" => StrictHostKeyChecking::AcceptNew,
                other => panic!("unexpected stricthostkeychecking {other}"),
            },
            connect_timeout: seconds("connecttimeout"),
            server_alive_interval: seconds("serveraliveinterval"),
            server_alive_count_max: one("serveralivecountmax").parse().expect("count"),
            host_key_alias: opt("hostkeyalias"),
            hash_known_hosts: one("hashknownhosts") == "yes",
            revoked_host_keys: opt("revokedhostkeys").map(PathBuf::from),
        })
    }
}

/// What ssh does to `%` tokens when it uses a value `-G` prints raw, for
/// the tokens these configs use; unknown ones fail as in ssh.
fn expand(raw: &str, tokens: &[(char, &str)]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(t) => match tokens.iter().find(|(k, _)| *k == t) {
                Some((_, v)) => out.push_str(v),
                None => return Err(format!("ssh fails on %{t} in {raw}")),
            },
            None => return Err(format!("ssh fails on the trailing % in {raw}")),
        }
    }
    Ok(out)
}

/// A one-line file list as `ssh -G` prints it; `none` is no files.
fn split_files(line: &str) -> Vec<PathBuf> {
    if line == "none" {
        return Vec::new();
    }
    line.split(' ').map(PathBuf::from).collect()
}

const MAIN: &str = r#"
# Options before the first Host apply to every host.
User globaluser
IdentityFile ~/.ssh/global_key
ServerAliveInterval=30
IgnoreUnknown UseKeychain,AddKeysToAgentX
UseKeychain yes
AddKeysToAgentX whatever
ForwardAgent no
SendEnv LANG LC_*

Host web-* !web-bad
  HostName %h.Example.COM
  Port = 2222
  IdentityFile "~/.ssh/my key"
  IdentityFile ~/.ssh/id_%h_%p_%r
  IdentityFile ~/.ssh/global_key
  IdentitiesOnly yes
  StrictHostKeyChecking accept-new

Host web-bad
  HostName bad.example.com
  StrictHostKeyChecking off

Host db? "quoted alias"
  User dbadmin
  ProxyJump jumpuser@bastion:2200
  UserKnownHostsFile /kh/%h /kh/%r-%p
  ConnectTimeout 1m30s
  IdentityFile none

Match host *.example.com user globaluser
  CertificateFile ~/.ssh/cert-%n
  ServerAliveCountMax 7

Match originalhost db1
  HostKeyAlias DB-One

Match user dbadmin !localuser nobody
  IdentityAgent /agent/%r/%h

Match !host *.example.com
  ServerAliveCountMax 1

Host WEB-UPPER
  Port 2300

Host *
  GlobalKnownHostsFile /etc/a /etc/b
  StrictHostKeyChecking no
  ConnectTimeout 10
  IdentitiesOnly no
"#;

const INCLUDE: &str = "\
Include conf.d/*.conf extra.conf missing-*.conf
Host inc-*
  Include sub/host-specific
  Port 2023
Host *
  Port 2022
";

const FINAL: &str = "\
Host alias1
  HostName Real.Example.org
Match final host real.example.org
  User finaluser
Match canonical
  Port 2200
Host real.example.org
  IdentityFile ~/.ssh/final-pass
Match !final
  ServerAliveCountMax 9
";

const JUMP: &str = "\
Host pc
  ProxyCommand nc %h %p
  ProxyJump bastion
Host pcnone
  ProxyCommand none
  ProxyJump bastion
Host pjnone
  ProxyJump none
Host pjcomment
  ProxyJump none # ssh takes this for a host called none
Host uri
  ProxyJump first.example,ssh://u%40x@second.example:2022
Host v6
  ProxyJump [2001:db8::1]:22
Host numeric
  ProxyJump 10.0.0.1:2200
Host spaced
  ProxyJump a b
Host *
  ProxyJump fallback
";

const TOKENS: &str = "\
Host tok
  HostName %h.%%literal
  User tokuser
  Port 2345
  UserKnownHostsFile /kh/%h/%p/%r/%u/%n/%k/%l/%L/%i/%C /kh/${PATH}
  IdentityAgent /agent/%C/%%
  HostKeyAlias KeyAlias
  CertificateFile %d/certs/%h-%u
Host addr6
  HostName 2001:DB8:0:0::1
Host addr6b
  HostName FE80::1
Host upper
  HostName MiXeD.Example
";

const SYNTAX: &str = "
   # indented comment
hostname=h1.example
USER = bob
\tPort 2200 # trailing comment
IdentityFile \"/k/with space\"
CertificateFile='/c/single quoted'
StrictHostKeyChecking=Accept-New
SERVERALIVECOUNTMAX=5
ConnectTimeout \"20\"
Host \"with space\" other
  User spaced
";

/// Configs both must refuse (for host `h`).
const BAD: &[&str] = &[
    "Hostname2 x\n",
    "Port 0\n",
    "Port abc\n",
    "IdentitiesOnly maybe\n",
    "User \"unterminated\n",
    "User a b\n",
    "Match hostname x\n",
    "Match host\n",
    "Match all host a\n",
    "Host a\n  Bogus x\n",
    "UserKnownHostsFile /a none\n",
    "ProxyJump a,,b\n",
    "ConnectTimeout 10x\n",
    "Include \"\"\n",
    "HostName %h.%p\n",
    "IdentityAgent ${FLEET_SURELY_UNSET_VARIABLE}\n",
    "UseKeychain yes\nIgnoreUnknown UseKeychain\n",
    "Host h\n  ProxyJump h\n",
    // Included from a block that does not apply, still checked.
    "Host other\n  Include bad-inner.conf\n",
    "Include bad-loop.conf\n",
    "Include bad-writable.conf\n",
];

#[test]
fn resolve_agrees_with_ssh_dash_g() {
    let oracle = Oracle::new();
    let main = oracle.write(".ssh/main.conf", MAIN);
    for host in [
        "web-01",
        "web-bad",
        "db1",
        "db2",
        "quoted alias",
        "other",
        "WEB-UPPER",
        "web-upper",
        "10.1.2.3",
    ] {
        oracle.check(&main, host, &[]);
    }
    oracle.check(
        &main,
        "web-01",
        &[
            ("User", "cli"),
            ("Port", "2200"),
            ("IdentityFile", "~/.ssh/cli_key"),
            ("UserKnownHostsFile", "/o/1 /o/2"),
            ("StrictHostKeyChecking", "yes"),
            ("HostName", "override.example.com"),
        ],
    );
    oracle.check(&main, "db1", &[("ProxyJump", "none")]);
    oracle.check(
        &main,
        "other",
        &[
            ("IgnoreUnknown", "Foo*"),
            ("FooBar", "1"),
            ("ConnectTimeout", "none"),
        ],
    );

    oracle.write(
        ".ssh/conf.d/10-first.conf",
        "Host inc-a\n  User first-a\nMatch host inc-*\n  User match-inc\n",
    );
    oracle.write(
        ".ssh/conf.d/20-second.conf",
        "Host inc-a inc-b\n  User second\n  IdentityFile ~/.ssh/second\n",
    );
    oracle.write(".ssh/conf.d/.hidden.conf", "Host *\n  User hidden\n");
    oracle.write(
        ".ssh/extra.conf",
        "Host extra\n  HostName extra.example.org\nHost *\n  IdentityFile ~/.ssh/extra-all\n",
    );
    oracle.write(
        ".ssh/sub/host-specific",
        "ConnectTimeout 5\nHost inc-b\n  HostKeyAlias from-sub\n",
    );
    let include = oracle.write(".ssh/include.conf", INCLUDE);
    for host in ["inc-a", "inc-b", "inc-c", "extra", "plain"] {
        oracle.check(&include, host, &[]);
    }

    let fin = oracle.write(".ssh/final.conf", FINAL);
    for host in ["alias1", "real.example.org", "other"] {
        oracle.check(&fin, host, &[]);
    }

    let jump = oracle.write(".ssh/jump.conf", JUMP);
    for host in [
        "pc",
        "pcnone",
        "pjnone",
        "pjcomment",
        "uri",
        "v6",
        "numeric",
        "spaced",
        "other",
    ] {
        oracle.check(&jump, host, &[]);
    }

    let tokens = oracle.write(".ssh/tokens.conf", TOKENS);
    for host in ["tok", "addr6", "addr6b", "upper", "Direct.Example.COM"] {
        oracle.check(&tokens, host, &[]);
    }

    let syntax = oracle.write(".ssh/syntax.conf", SYNTAX);
    for host in ["a", "with space"] {
        oracle.check(&syntax, host, &[]);
    }

    oracle.write(".ssh/bad-inner.conf", "Bogus 1\n");
    oracle.write(".ssh/bad-loop.conf", "Include bad-loop.conf\n");
    let writable = oracle.write(".ssh/bad-writable.conf", "Port 2200\n");
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&writable, fs::Permissions::from_mode(0o666)).expect("chmod");
    }
    for (i, text) in BAD.iter().enumerate() {
        let path = oracle.write(&format!(".ssh/bad-{i}.conf"), text);
        let ours = SshConfig::load(&path, &oracle.env).and_then(|c| c.resolve("h", &[]));
        assert!(ours.is_err(), "fleet accepts {text:?}");
        assert!(
            oracle.ssh_g(&path, "h", &[]).is_err(),
            "ssh accepts {text:?}"
        );
    }
}

/// Small configs probing one corner each, with the hosts to try.
const CORNERS: &[(&str, &[&str])] = &[
    // An Include in a block that does not apply contributes nothing, even
    // Host blocks that would match.
    ("Host other\n  Include corner-inner.conf\n", &["h", "other", "inner"]),
    // A run of literal Host blocks (looked up by name) with repeats and a
    // negation.
    (
        "Host a b\n  Port 2301\nHost c\n  User c\nHost b !c\n  User b\nHost d a\n  IdentityFile ~/.ssh/d\n\
         Host e\n  Port 2302\nHost f\nHost *\n  ConnectTimeout 3\n",
        &["a", "b", "c", "d", "e", "f", "g"],
    ),
    // Separators and quotes around keywords and Match criteria.
    ("Match host=h\n  Port 2201\nHost=x\n  Port 2202\n", &["h", "x"]),
    ("Host a\\\"b h\n  User esc\n", &["h"]),
    ("Host h # comment\n  User c\nHost #\n  User never\n", &["h", "x"]),
    ("Match all # everything\n  Port 2203\n", &["h"]),
    ("Match host h all\n  Port 2204\n", &["h", "x"]),
    ("Match !all\n  Port 2205\n", &["h"]),
    ("Match HOST h OriginalHost h\n  Port 2206\n", &["h", "x"]),
    ("Match host \"h\"\n  Port 2207\n", &["h"]),
    // Numbers as C parses them.
    ("ConnectTimeout +5\nServerAliveInterval \" 1h1m1S\"\nPort \" 22\"\n", &["h"]),
    ("ServerAliveCountMax 007\nIdentitiesOnly TRUE\n", &["h"]),
    ("Port 2222 # c\nUserKnownHostsFile # nothing\nUserKnownHostsFile /kh/later\n", &["h"]),
    // Jump hosts.
    ("ProxyJump ssh://u%40x;fp=abc@jump.example.:2022,b\n", &["h"]),
    ("ProxyJump ssh://[::1]\n", &["h"]),
    // Not `ProxyJump a,b # c,d`: Debian's 9.2p1-2+deb12u6 prints that one
    // as `a,b # c,b` in ssh -G, so the oracle depends on the patch level.
    ("ProxyJump a,b\n", &["h"]),
    ("ProxyJump 127.0.0.1,[::1]:2022\n", &["h"]),
    ("ProxyCommand none\nProxyJump none\nProxyJump x\n", &["h"]),
    // Host names and addresses.
    ("HostName %h%%\n", &["h"]),
    ("HostName %h%\n", &["h"]),
    ("Host *\n  HostName ::FFFF:1.2.3.4\n", &["h"]),
    ("Host *\n  HostName 2001:db8::0:1\n", &["h"]),
    ("", &["FE80::1", "Host.Example", "10.0.0.1", "::ffff:10.0.0.1"]),
    // IgnoreUnknown patterns.
    ("IgnoreUnknown !foo,*\nFoo 1\n", &["h"]),
    ("IgnoreUnknown f*\nFOO 1\n", &["h"]),
    // Repeated key files are only dropped when written identically.
    ("IdentityFile ~/.ssh/k\nIdentityFile ~/.ssh/k\nIdentityFile ~/.ssh//k\n", &["h"]),
    // Match final: HostName from the second pass is ignored, Host lines
    // see the resolved name.
    (
        "Host h\n  HostName Target\nMatch final\n  HostName ignored\n  User fin\nHost target\n  Port 2208\n",
        &["h", "target"],
    ),
    ("Match final host nomatch\n  User no\nMatch !canonical\n  Port 2209\n", &["h"]),
    ("Match user alice,bob\n  Port 2210\nMatch localuser root,*\n  User mapped\n", &["h"]),
    // ssh only runs `exec` when the criteria before it hold.
    ("Match host nomatch exec false\n  Port 2211\n", &["h"]),
    // Include globs with brackets, ~ and absolute paths, nesting.
    ("Include corner-[ab].conf ~/.ssh/corner-c.conf\n", &["h"]),
    ("Include corner-nest.conf\nPort 2212\n", &["h"]),
];

#[test]
fn corners_agree_with_ssh_dash_g() {
    let oracle = Oracle::new();
    oracle.write(
        ".ssh/corner-inner.conf",
        "User inner\nHost inner h\n  Port 2299\n",
    );
    oracle.write(".ssh/corner-a.conf", "Port 2301\n");
    oracle.write(".ssh/corner-b.conf", "User corner-b\n");
    oracle.write(".ssh/corner-c.conf", "ConnectTimeout 7\n");
    oracle.write(
        ".ssh/corner-nest.conf",
        "Include corner-b.conf\nHost nomatch\n",
    );
    for (i, (text, hosts)) in CORNERS.iter().enumerate() {
        let path = oracle.write(&format!(".ssh/corner-{i}.conf"), text);
        for host in *hosts {
            oracle.check(&path, host, &[]);
        }
    }
    // Overrides that ssh checks harder than config lines.
    let empty = oracle.write(".ssh/corner-empty.conf", "Match user ovr\n  Port 2213\n");
    for (k, v) in [
        ("User", "ovr"),
        ("User", "a;b"),
        ("User", "-x"),
        ("ProxyJump", "a$b"),
        ("ProxyJump", "u;x@a"),
        ("ProxyJump", "good@host:22"),
        ("HostName", "Real.Example"),
        ("Include", "x"),
    ] {
        oracle.check(&empty, "h", &[(k, v)]);
    }
}
