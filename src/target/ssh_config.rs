//! Placeholder for the ssh_config parser: the API others build against.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct LocalEnv {
    pub home: PathBuf,
    pub user: String,
}

impl LocalEnv {
    pub fn from_process() -> LocalEnv {
        LocalEnv {
            home: PathBuf::from("/"),
            user: "root".into(),
        }
    }
}

pub struct SshConfig;

impl SshConfig {
    pub fn load(_path: &Path, _env: &LocalEnv) -> Result<SshConfig, ConfigError> {
        Err(ConfigError)
    }
    pub fn empty(_env: &LocalEnv) -> SshConfig {
        SshConfig
    }
    pub fn aliases(&self) -> Vec<String> {
        Vec::new()
    }
    pub fn resolve(
        &self,
        _host: &str,
        _overrides: &[(String, String)],
    ) -> Result<HostOptions, ConfigError> {
        Err(ConfigError)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HostOptions {
    pub host: String,
    pub hostname: String,
    pub user: String,
    pub port: u16,
    pub identity_files: Vec<PathBuf>,
    pub identities_only: bool,
    pub identity_agent: Option<String>,
    pub certificate_files: Vec<PathBuf>,
    pub proxy_jump: Option<String>,
    pub user_known_hosts_files: Vec<PathBuf>,
    pub global_known_hosts_files: Vec<PathBuf>,
    pub strict_host_key_checking: StrictHostKeyChecking,
    pub connect_timeout: Option<Duration>,
    pub server_alive_interval: Option<Duration>,
    pub server_alive_count_max: u32,
    pub host_key_alias: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    Yes,
    AcceptNew,
    No,
    Ask,
}

#[derive(Debug, thiserror::Error)]
#[error("ssh_config parser not merged yet")]
pub struct ConfigError;
