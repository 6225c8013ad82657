//! A lab of real OpenSSH `sshd` processes on loopback for the integration tests.
//!
//! Every host gets its own directory, host keys (ed25519, ecdsa, rsa) and
//! `sshd_config`, and listens on 127.0.0.1 on a free high port. sshd runs as
//! whoever runs `cargo test` and logs in that same user, so the tests need no
//! root. The lab writes the `ssh_config`, `known_hosts` and client keys that
//! point at those hosts; dropping the [`Lab`] stops every process and deletes
//! the directory.
//!
//! Besides healthy hosts, a lab can hold hosts that fail in one precise way:
//! a refused port, a tarpit that accepts and never answers, a changed host
//! key, a host absent from known_hosts and a host that rejects the client key.
//!
//! Missing OpenSSH tools are a panic with a hint, never a silent skip: a test
//! suite that passes without running is worse than one that fails.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::net::TcpSocket;

/// The passphrase of [`Lab::encrypted_key`].
pub const PASSPHRASE: &str = "fleet-lab-passphrase";

/// How long sshd may take to start listening before the lab gives up.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Host key types every sshd gets, as `ssh-keygen -t` names them, with the
/// `ssh-keygen` arguments that make each: 2048-bit RSA keeps key generation
/// around a tenth of a second, where the 3072-bit default often takes a
/// second, and every test builds its own lab.
const HOST_KEY_TYPES: [(&str, &[&str]); 3] = [
    ("ed25519", &["-t", "ed25519", "-N", ""]),
    ("ecdsa", &["-t", "ecdsa", "-N", ""]),
    ("rsa", &["-t", "rsa", "-b", "2048", "-N", ""]),
];

/// A set of hosts and the client files that reach them.
pub struct Lab {
    /// ssh_config with one `Host` block per lab host and a `Host *` block
    /// naming the user, the client key and the known_hosts file.
    pub ssh_config: PathBuf,
    /// known_hosts referenced by `ssh_config`, in `[127.0.0.1]:PORT` form.
    pub known_hosts: PathBuf,
    /// Unencrypted ed25519 client key, authorized on every host except the
    /// bad-auth ones and named by `ssh_config`.
    pub key: PathBuf,
    /// Another ed25519 client key, encrypted with [`PASSPHRASE`] and
    /// authorized like `key`, but not named by `ssh_config`.
    pub encrypted_key: PathBuf,
    /// An empty home directory that [`Lab::fleet`] uses as `$HOME`.
    pub home: PathBuf,
    /// A user CA (private key; `.pub` beside it) that every host's sshd
    /// trusts with TrustedUserCAKeys, for certificate logins.
    pub user_ca: PathBuf,
    /// The user that runs the tests, who is also the remote login user.
    pub user: String,
    hosts: Vec<Host>,
    // The fields below are held only for their `Drop`. Fields drop in
    // declaration order, so the processes and sockets are gone before the
    // directory they live in is deleted.
    _sshds: Vec<Sshd>,
    _tarpits: Vec<Tarpit>,
    _refused: Vec<TcpSocket>,
    _dir: TempDir,
}

/// One lab host as ssh_config names it.
pub struct Host {
    pub name: String,
    /// Where the host listens (or, for a refused host, where nothing does).
    pub addr: SocketAddr,
    /// The keys the host's sshd presents; empty when no sshd runs.
    pub host_keys: Vec<HostKey>,
    log: Option<PathBuf>,
}

/// One public host key.
pub struct HostKey {
    /// `TYPE BASE64`, as in a `.pub` file without the comment.
    pub public: String,
    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
}

/// What kind of host to start; see the [`LabBuilder`] methods.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Healthy,
    Refused,
    Tarpit,
    ChangedKey,
    UnknownKey,
    BadAuth,
    /// Presents host certificates signed by the lab's host CA, which
    /// known_hosts trusts with one `@cert-authority` line instead of keys.
    Certified,
    /// known_hosts marks each of its keys `@revoked`.
    Revoked,
}

/// Collects the hosts of a [`Lab`]; hosts appear in `ssh_config` in the
/// order they were added.
pub struct LabBuilder {
    hosts: Vec<(String, Kind)>,
    hashed_known_hosts: bool,
    /// sshd_config lines every host gets ahead of the lab's own, so they win
    /// (sshd keeps the first value of a keyword).
    sshd_options: String,
    /// Hosts whose sshd_config is laid out as a distribution ships it.
    layouts: Vec<(String, Layout)>,
    /// Whether sshd also reads each user's own ~/.ssh/authorized_keys.
    home_authorized_keys: bool,
}

/// How a host's sshd_config is laid out: the lab's own, or as real
/// distributions and cloud images ship it, which is where sshd hardening
/// has to write the right line in the right place.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Layout {
    /// The lab's file: one flat list, passwords off.
    Lab,
    /// Debian and Ubuntu: `Include sshd_config.d/*.conf` first, the
    /// password setting commented out; with `cloud_init`, the drop-in
    /// cloud images add, `50-cloud-init.conf`, saying
    /// `PasswordAuthentication yes`.
    Include { cloud_init: bool },
    /// No Include, `PasswordAuthentication yes` in the file.
    Explicit,
    /// The file ends in a `Match User nobody` block, which any line added
    /// at the end would join.
    MatchAtEnd,
}

/// What shapes one host's sshd_config.
#[derive(Clone, Copy)]
struct ConfigSetup<'a> {
    options: &'a str,
    layout: Layout,
    home_authorized_keys: bool,
}

impl Lab {
    pub fn builder() -> LabBuilder {
        LabBuilder {
            hosts: Vec::new(),
            hashed_known_hosts: false,
            sshd_options: String::new(),
            layouts: Vec::new(),
            home_authorized_keys: false,
        }
    }

    /// The `fleet` binary under test, with `-F <ssh_config>` as its first
    /// arguments and an environment that keeps it away from the real user's
    /// files and agent: `$HOME` and the working directory (where fleet looks
    /// for `./fleet.toml`) are [`Lab::home`], `XDG_CONFIG_HOME`,
    /// `XDG_STATE_HOME` (where the last run is recorded), `SSH_AUTH_SOCK`,
    /// `SSH_ASKPASS` and the shard variables are removed and `NO_COLOR=1`.
    pub fn fleet(&self) -> Command {
        self.fleet_with_config(&self.ssh_config)
    }

    /// [`Lab::fleet`] with another ssh_config, such as one written by
    /// [`Lab::ssh_config_variant`].
    pub fn fleet_with_config(&self, ssh_config: &Path) -> Command {
        let mut command = self.fleet_without_config();
        command.arg("-F").arg(ssh_config);
        command
    }

    /// [`Lab::fleet`] without `-F`: fleet reads `~/.ssh/config` under
    /// [`Lab::home`], and the system-wide ssh_config, as ssh would.
    pub fn fleet_without_config(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fleet"));
        command
            .current_dir(&self.home)
            .env("HOME", &self.home)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_STATE_HOME")
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("SSH_ASKPASS")
            .env_remove("FLEET_SHARD")
            .env_remove("JOB_COMPLETION_INDEX")
            .env("NO_COLOR", "1");
        command
    }

    /// Writes a copy of [`Lab::ssh_config`] named `name` beside it, with
    /// each `(keyword, value)` of `settings` changed in the `Host *` block:
    /// a `Some` value replaces the line of that keyword (or is added), `None`
    /// removes it. Returns the copy's path.
    pub fn ssh_config_variant(&self, name: &str, settings: &[(&str, Option<&str>)]) -> PathBuf {
        let original = read(&self.ssh_config);
        let mut lines: Vec<String> = Vec::new();
        let mut pending: Vec<_> = settings.to_vec();
        for line in original.lines() {
            let keyword = line.split_whitespace().next().unwrap_or_default();
            match pending.iter().position(|(k, _)| *k == keyword) {
                Some(i) => {
                    if let (k, Some(value)) = pending.remove(i) {
                        lines.push(format!("    {k} {value}"));
                    }
                }
                None => lines.push(line.to_owned()),
            }
        }
        // `Host *` is the last block, so added lines belong to it.
        for (keyword, value) in pending {
            if let Some(value) = value {
                lines.push(format!("    {keyword} {value}"));
            }
        }
        let path = self.ssh_config.with_file_name(name);
        assert_ne!(
            path, self.ssh_config,
            "a variant must not replace the lab's ssh_config"
        );
        write(&path, &(lines.join("\n") + "\n"));
        path
    }

    /// Makes a new unencrypted client key of `args` (ssh-keygen's, e.g.
    /// `["-t", "rsa", "-b", "2048"]`) at `path`, mode 0600, and authorizes it
    /// on every healthy host (sshd reads authorized_keys at each login).
    pub fn new_authorized_key(&self, path: &Path, args: &[&str]) {
        let mut keygen_args = args.to_vec();
        keygen_args.extend(["-N", ""]);
        keygen(path, "fleet-lab-extra", &keygen_args);
        let authorized_keys = self._dir.path().join("authorized_keys");
        let public = read(&path.with_extension("pub"));
        write(
            &authorized_keys,
            &format!("{}{public}", read(&authorized_keys)),
        );
    }

    /// [`Lab::ssh_config_variant`] with `hosts`, ssh_config text such as
    /// extra `Host` blocks, put before every other block: the first value
    /// wins, so they override the lab's own blocks.
    pub fn ssh_config_with_hosts(
        &self,
        name: &str,
        hosts: &str,
        settings: &[(&str, Option<&str>)],
    ) -> PathBuf {
        let path = self.ssh_config_variant(name, settings);
        write(&path, &format!("{hosts}\n{}", read(&path)));
        path
    }

    /// A path inside the lab's directory, for files a test makes; it is
    /// deleted with the lab.
    pub fn path(&self, name: &str) -> PathBuf {
        self._dir.path().join(name)
    }

    /// The host named `name`; panics if the lab has none.
    pub fn host(&self, name: &str) -> &Host {
        self.hosts
            .iter()
            .find(|host| host.name == name)
            .unwrap_or_else(|| panic!("the lab has no host named {name}"))
    }
}

impl Host {
    /// The fingerprint of the host key of `algorithm` (`ssh-ed25519`,
    /// `ecdsa-sha2-nistp256` or `ssh-rsa`); panics if the host has none.
    pub fn fingerprint(&self, algorithm: &str) -> &str {
        self.host_keys
            .iter()
            .find(|key| key.public.split(' ').next() == Some(algorithm))
            .map(|key| key.fingerprint.as_str())
            .unwrap_or_else(|| panic!("{} has no {algorithm} host key", self.name))
    }

    /// Everything this host's sshd has logged so far (`LogLevel VERBOSE`,
    /// which names the key of each accepted login); panics if no sshd runs.
    pub fn sshd_log(&self) -> String {
        let path = self
            .log
            .as_ref()
            .unwrap_or_else(|| panic!("{} runs no sshd", self.name));
        fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }
}

impl LabBuilder {
    /// Adds healthy hosts `h01` to `hNN`.
    pub fn healthy(mut self, count: usize) -> Self {
        for i in 1..=count {
            self.hosts.push((format!("h{i:02}"), Kind::Healthy));
        }
        self
    }

    /// Adds a host whose port refuses connections.
    pub fn refused(self, name: &str) -> Self {
        self.with(name, Kind::Refused)
    }

    /// Adds a host that accepts TCP connections and never sends a byte.
    pub fn tarpit(self, name: &str) -> Self {
        self.with(name, Kind::Tarpit)
    }

    /// Adds a real sshd whose known_hosts entries hold different keys, one
    /// of each type.
    pub fn changed_key(self, name: &str) -> Self {
        self.with(name, Kind::ChangedKey)
    }

    /// Adds a real sshd with host certificates from the lab's CA; known_hosts
    /// holds none of its keys, only the CA.
    pub fn certified(self, name: &str) -> Self {
        self.with(name, Kind::Certified)
    }

    /// Adds a real sshd whose every key known_hosts marks `@revoked`.
    pub fn revoked(self, name: &str) -> Self {
        self.with(name, Kind::Revoked)
    }

    /// Adds a real sshd that known_hosts does not mention.
    pub fn unknown_key(self, name: &str) -> Self {
        self.with(name, Kind::UnknownKey)
    }

    /// Adds a real sshd that authorizes no client key.
    pub fn bad_auth(self, name: &str) -> Self {
        self.with(name, Kind::BadAuth)
    }

    /// Gives every host's sshd `keyword value`, over the lab's own setting.
    pub fn sshd_option(mut self, keyword: &str, value: &str) -> Self {
        writeln!(self.sshd_options, "{keyword} {value}").unwrap();
        self
    }

    /// Adds a healthy host whose sshd_config has `layout`.
    pub fn laid_out(mut self, name: &str, layout: Layout) -> Self {
        self.layouts.push((name.to_owned(), layout));
        self.with(name, Kind::Healthy)
    }

    /// Lets sshd read each user's `~/.ssh/authorized_keys` as well as the
    /// lab's file, as a stock sshd does.
    pub fn home_authorized_keys(mut self) -> Self {
        self.home_authorized_keys = true;
        self
    }

    /// Hashes the host names in known_hosts, as `HashKnownHosts yes` would.
    pub fn hashed_known_hosts(mut self, hashed: bool) -> Self {
        self.hashed_known_hosts = hashed;
        self
    }

    fn with(mut self, name: &str, kind: Kind) -> Self {
        self.hosts.push((name.to_owned(), kind));
        self
    }

    /// Creates the files and starts the hosts, in parallel; panics with the
    /// cause if any of it fails.
    pub fn build(self) -> Lab {
        let mut seen = HashSet::new();
        for (name, _) in &self.hosts {
            assert!(seen.insert(name), "the lab has two hosts named {name}");
        }

        let dir = tempfile::Builder::new()
            .prefix("fleet-lab-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating the lab directory: {e}"));
        let root = dir.path();
        let home = root.join("home");
        mkdir(&home);
        let user = id(&["-un"]);

        let real_hosts = self.hosts.iter().any(|(_, kind)| kind.runs_sshd());
        let sshd = real_hosts.then(find_sshd);
        let host_ca = root.join("host_ca");
        let certified = self.hosts.iter().any(|(_, kind)| *kind == Kind::Certified);
        if certified {
            keygen(&host_ca, "fleet-lab-host-ca", &["-t", "ed25519", "-N", ""]);
        }
        if real_hosts && id(&["-u"]) == "0" {
            // As root, sshd separates privileges and insists on this empty
            // directory, owned by root and writable by nobody else, which
            // only the openssh-server service creates.
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create("/run/sshd")
                .unwrap_or_else(|e| panic!("creating /run/sshd: {e}"));
            assert_not_locked(&user);
        }

        let key = root.join("id_ed25519");
        let encrypted_key = root.join("id_ed25519_encrypted");
        keygen(&key, "fleet-lab", &["-t", "ed25519", "-N", ""]);
        // One round of the passphrase's key derivation instead of the
        // default 16: decrypting takes a fraction of a second in OpenSSH, but
        // far longer in an unoptimized test build of fleet.
        keygen(
            &encrypted_key,
            "fleet-lab-encrypted",
            &["-t", "ed25519", "-N", PASSPHRASE, "-a", "1"],
        );
        // sshd_config finds it beside authorized_keys.
        let user_ca = root.join("user_ca");
        keygen(&user_ca, "fleet-lab-user-ca", &["-t", "ed25519", "-N", ""]);
        let authorized_keys = root.join("authorized_keys");
        let none_authorized = root.join("authorized_keys.empty");
        write(
            &authorized_keys,
            &format!(
                "{}{}",
                read(&key.with_extension("pub")),
                read(&encrypted_key.with_extension("pub"))
            ),
        );
        write(&none_authorized, "");

        let mut hosts = Vec::new();
        let mut sshds = Vec::new();
        let mut tarpits = Vec::new();
        let mut refused = Vec::new();
        let mut known_hosts = String::new();

        // Key generation dominates; start the real hosts in parallel. Every
        // thread is joined before the first panic is passed on, so started
        // sshds are dropped (and killed) during the unwind.
        let started: Vec<_> = thread::scope(|scope| {
            let handles: Vec<_> = self
                .hosts
                .iter()
                .map(|(name, kind)| {
                    let host_dir = root.join("hosts").join(name);
                    let authorized = match kind {
                        Kind::BadAuth => &none_authorized,
                        _ => &authorized_keys,
                    };
                    let sshd = sshd.as_deref();
                    let host_ca = host_ca.as_path();
                    let setup = ConfigSetup {
                        options: self.sshd_options.as_str(),
                        layout: self
                            .layouts
                            .iter()
                            .find(|(n, _)| n == name)
                            .map_or(Layout::Lab, |(_, layout)| *layout),
                        home_authorized_keys: self.home_authorized_keys,
                    };
                    scope.spawn(move || match sshd {
                        Some(sshd) if kind.runs_sshd() => Some(start_host(
                            sshd, &host_dir, name, *kind, authorized, host_ca, setup,
                        )),
                        _ => None,
                    })
                })
                .collect();
            handles.into_iter().map(|handle| handle.join()).collect()
        });
        let started: Vec<_> = started
            .into_iter()
            .map(|result| result.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect();

        for ((name, kind), started) in self.hosts.iter().zip(started) {
            let host = match started {
                Some(started) => {
                    let known = match kind {
                        Kind::ChangedKey => Some(&started.stale_keys),
                        Kind::UnknownKey | Kind::Certified => None,
                        _ => Some(&started.host.host_keys),
                    };
                    let (ip, port) = (started.host.addr.ip(), started.host.addr.port());
                    let marker = if *kind == Kind::Revoked {
                        "@revoked "
                    } else {
                        ""
                    };
                    for key in known.into_iter().flatten() {
                        writeln!(known_hosts, "{marker}[{ip}]:{port} {}", key.public).unwrap();
                    }
                    sshds.push(started.sshd);
                    started.host
                }
                None if *kind == Kind::Tarpit => {
                    let tarpit = Tarpit::start();
                    let host = Host::without_sshd(name, tarpit.addr);
                    tarpits.push(tarpit);
                    host
                }
                None => {
                    let (socket, addr) = reserve_refused_port();
                    refused.push(socket);
                    Host::without_sshd(name, addr)
                }
            };
            hosts.push(host);
        }

        if certified {
            let ca = read(&host_ca.with_extension("pub"));
            let ca: Vec<&str> = ca.split_whitespace().take(2).collect();
            writeln!(
                known_hosts,
                "@cert-authority [127.0.0.1]:* {}",
                ca.join(" ")
            )
            .unwrap();
        }
        let known_hosts_path = root.join("known_hosts");
        write(&known_hosts_path, &known_hosts);
        if self.hashed_known_hosts {
            run(Command::new("ssh-keygen")
                .arg("-H")
                .arg("-f")
                .arg(&known_hosts_path));
            let backup = root.join("known_hosts.old");
            fs::remove_file(&backup)
                .unwrap_or_else(|e| panic!("removing {}: {e}", backup.display()));
        }

        let mut ssh_config = String::from("# Written by the fleet test lab.\n");
        for host in &hosts {
            let (ip, port) = (host.addr.ip(), host.addr.port());
            write!(
                ssh_config,
                "\nHost {}\n    HostName {ip}\n    Port {port}\n",
                host.name
            )
            .unwrap();
        }
        write!(
            ssh_config,
            "\nHost *\n    User {user}\n    IdentityFile {}\n    IdentitiesOnly yes\n    \
             UserKnownHostsFile {}\n    StrictHostKeyChecking yes\n    ConnectTimeout 3\n",
            config_path(&key),
            config_path(&known_hosts_path),
        )
        .unwrap();
        let ssh_config_path = root.join("ssh_config");
        write(&ssh_config_path, &ssh_config);

        Lab {
            ssh_config: ssh_config_path,
            known_hosts: known_hosts_path,
            key,
            encrypted_key,
            home,
            user_ca,
            user,
            hosts,
            _sshds: sshds,
            _tarpits: tarpits,
            _refused: refused,
            _dir: dir,
        }
    }
}

impl Kind {
    fn runs_sshd(self) -> bool {
        !matches!(self, Kind::Refused | Kind::Tarpit)
    }
}

impl Host {
    fn without_sshd(name: &str, addr: SocketAddr) -> Host {
        Host {
            name: name.to_owned(),
            addr,
            host_keys: Vec::new(),
            log: None,
        }
    }
}

/// A host with a running sshd, and the keys known_hosts should wrongly
/// hold for it if it is a changed-key host.
struct StartedHost {
    host: Host,
    sshd: Sshd,
    stale_keys: Vec<HostKey>,
}

/// Generates host keys and starts sshd for one host.
fn start_host(
    sshd: &Path,
    dir: &Path,
    name: &str,
    kind: Kind,
    authorized_keys: &Path,
    host_ca: &Path,
    setup: ConfigSetup,
) -> StartedHost {
    mkdir(dir);
    let host_keys = generate_host_keys(dir, name);
    if kind == Kind::Certified {
        for (key_type, _) in HOST_KEY_TYPES {
            // Valid for 127.0.0.1, the name known_hosts looks the host up by.
            run(Command::new("ssh-keygen")
                .args(["-q", "-h", "-s"])
                .arg(host_ca)
                .args(["-I", name, "-n", "127.0.0.1", "-V", "-5m:+1h"])
                .arg(dir.join(format!("ssh_host_{key_type}_key.pub"))));
        }
    }
    let stale_keys = if kind == Kind::ChangedKey {
        let stale = dir.join("stale");
        mkdir(&stale);
        generate_host_keys(&stale, name)
    } else {
        Vec::new()
    };
    let (sshd, addr) = Sshd::start(sshd, dir, name, authorized_keys, setup);
    StartedHost {
        host: Host {
            name: name.to_owned(),
            addr,
            host_keys,
            log: Some(dir.join("sshd.log")),
        },
        sshd,
        stale_keys,
    }
}

/// Generates one host key of each type in `dir`.
fn generate_host_keys(dir: &Path, name: &str) -> Vec<HostKey> {
    HOST_KEY_TYPES
        .iter()
        .map(|(kind, args)| {
            let path = dir.join(format!("ssh_host_{kind}_key"));
            keygen(&path, name, args);
            let public_path = path.with_extension("pub");
            let public = read(&public_path);
            let mut fields = public.split_whitespace();
            let public = match (fields.next(), fields.next()) {
                (Some(kind), Some(base64)) => format!("{kind} {base64}"),
                _ => panic!(
                    "unexpected public key in {}: {public}",
                    public_path.display()
                ),
            };
            let listing = run(Command::new("ssh-keygen")
                .args(["-l", "-E", "sha256", "-f"])
                .arg(&public_path));
            let fingerprint = listing
                .split_whitespace()
                .nth(1)
                .filter(|fingerprint| fingerprint.starts_with("SHA256:"))
                .unwrap_or_else(|| panic!("unexpected ssh-keygen -l output: {listing}"))
                .to_owned();
            HostKey {
                public,
                fingerprint,
            }
        })
        .collect()
}

/// A running sshd, killed on drop.
struct Sshd {
    child: Child,
}

impl Sshd {
    /// Writes the host's sshd_config and starts sshd on a free port. Picking
    /// a port races with other processes doing the same, so a start that
    /// fails on a taken port is retried on another.
    fn start(
        sshd: &Path,
        dir: &Path,
        name: &str,
        authorized_keys: &Path,
        setup: ConfigSetup,
    ) -> (Sshd, SocketAddr) {
        let config = dir.join("sshd_config");
        let log = dir.join("sshd.log");
        for _ in 0..5 {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
            write(
                &config,
                &sshd_config(dir, name, addr, authorized_keys, setup),
            );
            run(Command::new(sshd).arg("-t").arg("-f").arg(&config));
            let log_file = fs::File::create(&log)
                .unwrap_or_else(|e| panic!("creating {}: {e}", log.display()));
            let child = Command::new(sshd)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", sshd.display()));
            let mut running = Sshd { child };
            if running.wait_until_listening(name, addr, &log) {
                return (running, addr);
            }
        }
        panic!(
            "sshd for {name} found no free port in 5 attempts; see {}",
            log.display()
        );
    }

    /// Waits for sshd to log that it listens on `addr`. Returns false if it
    /// exited because the port was taken; panics on any other failure.
    fn wait_until_listening(&mut self, name: &str, addr: SocketAddr, log: &Path) -> bool {
        let ready = format!("Server listening on {} port {}.", addr.ip(), addr.port());
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let text = fs::read_to_string(log).unwrap_or_default();
            if text.contains(&ready) {
                return true;
            }
            if let Some(status) = self.child.try_wait().expect("polling sshd") {
                let text = fs::read_to_string(log).unwrap_or_default();
                if text.contains("Address already in use") {
                    return false;
                }
                panic!("sshd for {name} exited with {status}:\n{}", tail(&text));
            }
            if Instant::now() > deadline {
                panic!(
                    "sshd for {name} did not listen on {addr} within {START_TIMEOUT:?}:\n{}",
                    tail(&text)
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // The process may be gone already; there is nothing to do then.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sshd_config(
    dir: &Path,
    name: &str,
    addr: SocketAddr,
    authorized_keys: &Path,
    setup: ConfigSetup,
) -> String {
    // The distributions' layouts name the port apart, as their files do.
    let listen = match setup.layout {
        Layout::Lab => format!("ListenAddress {addr}"),
        _ => format!("ListenAddress {}\nPort {}", addr.ip(), addr.port()),
    };
    let mut config = format!(
        "# sshd_config of fleet test lab host {name}.\n{listen}\n{}",
        setup.options
    );
    if let Layout::Include { cloud_init } = setup.layout {
        let drop_ins = dir.join("sshd_config.d");
        mkdir(&drop_ins);
        if cloud_init {
            write(
                &drop_ins.join("50-cloud-init.conf"),
                "PasswordAuthentication yes\n",
            );
        }
        writeln!(config, "Include {}/*.conf", config_path(&drop_ins)).unwrap();
    }
    for (kind, _) in HOST_KEY_TYPES {
        writeln!(
            config,
            "HostKey {}",
            config_path(&dir.join(format!("ssh_host_{kind}_key")))
        )
        .unwrap();
        let certificate = dir.join(format!("ssh_host_{kind}_key-cert.pub"));
        if certificate.exists() {
            writeln!(config, "HostCertificate {}", config_path(&certificate)).unwrap();
        }
    }
    let passwords = match setup.layout {
        Layout::Lab => "PasswordAuthentication no",
        Layout::Explicit => "PasswordAuthentication yes",
        Layout::Include { .. } | Layout::MatchAtEnd => "#PasswordAuthentication yes",
    };
    let home_keys = if setup.home_authorized_keys {
        " .ssh/authorized_keys"
    } else {
        ""
    };
    write!(
        config,
        "PidFile {pid}\n\
         AuthorizedKeysFile {authorized}{home_keys}\n\
         TrustedUserCAKeys {user_ca}\n\
         # authorized_keys lies under the world-writable temporary directory.\n\
         StrictModes no\n\
         # PAM would need root and the system's PAM setup; the lab runs as anyone.\n\
         UsePAM no\n\
         PubkeyAuthentication yes\n\
         {passwords}\n\
         KbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\n\
         # Tests open many connections at once; never drop one for load.\n\
         MaxStartups 100:30:200\n\
         MaxSessions 20\n\
         # Every host runs on this machine and has its hostname, so commands\n\
         # tell hosts apart by this variable.\n\
         SetEnv FLEET_TEST_HOST={name}\n\
         Subsystem sftp internal-sftp\n\
         UseDNS no\n\
         PrintMotd no\n\
         PrintLastLog no\n\
         # VERBOSE names the key of each accepted login.\n\
         LogLevel VERBOSE\n",
        pid = config_path(&dir.join("sshd.pid")),
        authorized = config_path(authorized_keys),
        user_ca = config_path(&authorized_keys.with_file_name("user_ca.pub")),
    )
    .unwrap();
    if setup.layout == Layout::MatchAtEnd {
        config.push_str("\nMatch User nobody\n    X11Forwarding no\n    AllowTcpForwarding no\n");
    }
    config
}

/// A listener that accepts connections and holds them open without ever
/// writing, like a host whose sshd hangs. Stops on drop.
struct Tarpit {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Tarpit {
    fn start() -> Tarpit {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("binding a tarpit port: {e}"));
        let addr = listener.local_addr().expect("tarpit address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut held = Vec::new();
            for connection in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                // A failed accept only means one fewer connection to hold.
                if let Ok(connection) = connection {
                    held.push(connection);
                }
            }
        });
        Tarpit {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Tarpit {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocked accept so the thread sees the flag; if the
        // connection fails the thread is gone already.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Binds a loopback port without listening on it, so connecting is refused
/// and no other process can take the port while the lab holds the socket.
/// std cannot bind without listening; tokio's `TcpSocket` can, and needs no
/// runtime for it.
fn reserve_refused_port() -> (TcpSocket, SocketAddr) {
    let socket = TcpSocket::new_v4().expect("creating a socket");
    socket
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .unwrap_or_else(|e| panic!("binding a refused port: {e}"));
    let addr = socket.local_addr().expect("refused port address");
    (socket, addr)
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .unwrap_or_else(|e| panic!("finding a free port: {e}"))
        .port()
}

/// sshd re-executes itself and so needs an absolute path; it usually lives
/// in an sbin directory that an ordinary user's PATH lacks.
pub fn find_sshd() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("sshd"))
        .find(|candidate| candidate.is_absolute() && candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the integration tests need OpenSSH's sshd, found neither in PATH nor in \
                 /usr/sbin or /usr/local/sbin; install it (Debian, Ubuntu: apt-get install \
                 openssh-server) and run the tests again"
            )
        })
}

/// Without PAM, sshd refuses every login to an account whose password is
/// locked, key logins included. sshd can only tell when it runs as root, and
/// then its log is the only hint, so say it here.
fn assert_not_locked(user: &str) {
    let shadow = fs::read_to_string("/etc/shadow").unwrap_or_default();
    let entry = format!("{user}:!");
    assert!(
        !shadow.lines().any(|line| line.starts_with(&entry)),
        "{user}'s password is locked ('!' in /etc/shadow), so sshd without PAM refuses \
         every login to it; replace the lock by a disabled password, e.g. usermod -p '*' {user}"
    );
}

/// Creates a key pair at `path` and `path.pub`; `args` name at least the
/// type (`-t`) and the passphrase (`-N`).
fn keygen(path: &Path, comment: &str, args: &[&str]) {
    run(Command::new("ssh-keygen")
        .args(["-q", "-C", comment])
        .args(args)
        .arg("-f")
        .arg(path));
}

/// Runs `id` with `args`, for the current user's name or uid.
fn id(args: &[&str]) -> String {
    run(Command::new("id").args(args)).trim().to_owned()
}

/// Runs a command to completion and returns its stdout; panics with its
/// stderr if it fails or cannot start.
fn run(command: &mut Command) -> String {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| match e.kind() {
            ErrorKind::NotFound => panic!(
                "{program} not found in PATH; the integration tests need it \
                 (OpenSSH on Debian, Ubuntu: apt-get install openssh-client openssh-server)"
            ),
            _ => panic!("running {program}: {e}"),
        });
    assert!(
        output.status.success(),
        "{command:?} failed with {}:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap_or_else(|e| panic!("{program} printed non-UTF-8: {e}"))
}

/// Whether the tests run as root, which some of them need.
pub fn is_root() -> bool {
    id(&["-u"]) == "0"
}

/// Says that a test is skipped, and why, on the process's own stderr:
/// the test harness captures `eprintln!` of passing tests, and a skip must
/// show in the output of `cargo test`.
pub fn say_skipped(why: &str) {
    use std::io::Write;
    // The harness names each test's thread after the test.
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {why}");
}

/// A path as an ssh_config or sshd_config argument, quoted if it holds
/// whitespace.
pub fn config_path(path: &Path) -> String {
    let path = path
        .to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", path.display()));
    if path.contains(char::is_whitespace) {
        format!("\"{path}\"")
    } else {
        path.to_owned()
    }
}

/// The last lines of a log, for panic messages.
fn tail(text: &str) -> String {
    let lines: Vec<_> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn mkdir(path: &Path) {
    fs::create_dir_all(path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn write(path: &Path, contents: &str) {
    fs::write(path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
