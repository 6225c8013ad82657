//! The sshd settings a rollout may change, as `KEY=VALUE` on the command
//! line: each keyword in sshd_config's spelling, whether its lines add up
//! (`Port`, `AllowUsers`…) or the first one wins, and what it means for
//! logging in.

use std::fmt;

/// One setting asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub keyword: Keyword,
    /// The values, one per line for keywords that add up line by line
    /// (`Port 22`, `Port 2222`), else a single one.
    pub values: Vec<String>,
}

/// A keyword fleet knows how to place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Keyword {
    /// As sshd_config writes it: `PasswordAuthentication`.
    pub name: &'static str,
    pub kind: Kind,
}

/// How sshd reads repeated lines of a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// The first value read wins.
    First,
    /// Every line adds values (`Port`, `ListenAddress`).
    Lines,
    /// Every line adds a list of words (`AllowUsers a b`).
    Words,
}

/// The keywords `sshd set` takes. Others are refused rather than placed by
/// a guess: where a keyword's lines go decides whether sshd obeys them.
const KEYWORDS: &[Keyword] = &[
    first("PasswordAuthentication"),
    first("KbdInteractiveAuthentication"),
    first("ChallengeResponseAuthentication"),
    first("PubkeyAuthentication"),
    first("PermitRootLogin"),
    first("PermitEmptyPasswords"),
    first("MaxAuthTries"),
    first("MaxSessions"),
    first("MaxStartups"),
    first("LoginGraceTime"),
    first("ClientAliveInterval"),
    first("ClientAliveCountMax"),
    first("X11Forwarding"),
    first("AllowTcpForwarding"),
    first("AllowAgentForwarding"),
    first("PermitTunnel"),
    first("UseDNS"),
    first("LogLevel"),
    first("Banner"),
    first("Ciphers"),
    first("MACs"),
    first("KexAlgorithms"),
    first("HostKeyAlgorithms"),
    first("PubkeyAcceptedAlgorithms"),
    first("AuthenticationMethods"),
    Keyword {
        name: "Port",
        kind: Kind::Lines,
    },
    Keyword {
        name: "ListenAddress",
        kind: Kind::Lines,
    },
    words("AllowUsers"),
    words("AllowGroups"),
    words("DenyUsers"),
    words("DenyGroups"),
];

const fn first(name: &'static str) -> Keyword {
    Keyword {
        name,
        kind: Kind::First,
    }
}

const fn words(name: &'static str) -> Keyword {
    Keyword {
        name,
        kind: Kind::Words,
    }
}

impl Keyword {
    /// The keyword called `name`, in any case.
    pub fn find(name: &str) -> Option<Keyword> {
        KEYWORDS
            .iter()
            .find(|k| k.name.eq_ignore_ascii_case(name))
            .copied()
    }

    /// How `sshd -T` names it: lowercase.
    pub fn effective_name(&self) -> String {
        self.name.to_ascii_lowercase()
    }

    /// Whether turning it off stops password logins, which only a host
    /// this run logged in to with a key may have done to it.
    pub fn guards_passwords(&self) -> bool {
        matches!(
            self.name,
            "PasswordAuthentication"
                | "KbdInteractiveAuthentication"
                | "ChallengeResponseAuthentication"
        )
    }
}

impl fmt::Display for Keyword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl Setting {
    /// `KEY=VALUE` (or `KEY VALUE`); values of keywords that add up are
    /// separated by commas for `Port`/`ListenAddress` (`Port=22,2222`) and
    /// by spaces for the user and group lists.
    pub fn parse(text: &str) -> Result<Setting, String> {
        let (name, value) = text
            .split_once(['=', ' '])
            .map(|(n, v)| (n.trim(), v.trim()))
            .filter(|(n, v)| !n.is_empty() && !v.is_empty())
            .ok_or_else(|| format!("'{text}' is not KEY=VALUE, e.g. PasswordAuthentication=no"))?;
        let keyword = Keyword::find(name).ok_or_else(|| {
            let known: Vec<&str> = KEYWORDS.iter().map(|k| k.name).collect();
            format!(
                "{name}: fleet does not set this keyword; it sets {}",
                known.join(", ")
            )
        })?;
        if value.contains(['\n', '\r', '#', '"', '\'', '\\']) || value.chars().any(char::is_control)
        {
            return Err(format!(
                "{name}={value}: the value may not hold quotes, '#', backslashes or control characters"
            ));
        }
        let values: Vec<String> = match keyword.kind {
            Kind::First => vec![value.to_string()],
            Kind::Lines => value.split(',').map(|v| v.trim().to_string()).collect(),
            Kind::Words => vec![value.split_whitespace().collect::<Vec<_>>().join(" ")],
        };
        if values.iter().any(|v| {
            v.is_empty() || (keyword.kind == Kind::Lines && v.contains(char::is_whitespace))
        }) {
            return Err(format!("{name}={value}: an empty or spaced value"));
        }
        if keyword.name == "Port" {
            for port in &values {
                match port.parse::<u16>() {
                    Ok(1..) => {}
                    _ => return Err(format!("Port={port}: not a port number (1 to 65535)")),
                }
            }
        }
        Ok(Setting { keyword, values })
    }

    /// The lines that set it: `Port 22`, `Port 2222`.
    pub fn lines(&self) -> Vec<String> {
        self.values
            .iter()
            .map(|value| format!("{} {value}", self.keyword.name))
            .collect()
    }

    /// Whether `effective` (`sshd -T`'s values of this keyword, lowercase
    /// name, in its order) already says what this asks for.
    pub fn holds_in(&self, effective: &[String]) -> bool {
        let wanted: Vec<String> = match self.keyword.kind {
            Kind::Words => self.values[0]
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect(),
            _ => self.values.iter().map(|v| v.to_ascii_lowercase()).collect(),
        };
        let mut have: Vec<String> = match self.keyword.kind {
            Kind::Words => effective
                .iter()
                .flat_map(|v| v.split_whitespace().map(str::to_ascii_lowercase))
                .collect(),
            _ => effective.iter().map(|v| v.to_ascii_lowercase()).collect(),
        };
        let mut wanted = wanted;
        if self.keyword.kind == Kind::First {
            return have.first() == wanted.first();
        }
        have.sort();
        wanted.sort();
        have.dedup();
        wanted.dedup();
        // `sshd -T` prints ListenAddress with its port; compare hosts.
        if self.keyword.name == "ListenAddress" {
            let host = |v: &String| v.rsplit_once(':').map_or(v.clone(), |(h, _)| h.to_string());
            let mut have: Vec<String> = have.iter().map(host).collect();
            let mut wanted: Vec<String> = wanted.iter().map(host).collect();
            have.sort();
            wanted.sort();
            return have == wanted;
        }
        have == wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_in_sshd_config_spelling() {
        let s = Setting::parse("passwordauthentication=no").unwrap();
        assert_eq!(s.keyword.name, "PasswordAuthentication");
        assert_eq!(s.lines(), ["PasswordAuthentication no"]);
        let p = Setting::parse("Port=22,2222").unwrap();
        assert_eq!(p.lines(), ["Port 22", "Port 2222"]);
        let a = Setting::parse("AllowUsers=root@10.0.0.0/8  deploy").unwrap();
        assert_eq!(a.lines(), ["AllowUsers root@10.0.0.0/8 deploy"]);
        assert!(Setting::parse("Frobnicate=yes")
            .unwrap_err()
            .contains("does not set"));
        assert!(Setting::parse("Port=0").is_err());
        assert!(Setting::parse("Port=ssh").is_err());
        assert!(Setting::parse("PasswordAuthentication").is_err());
        assert!(Setting::parse("Banner=x\nPort 1").is_err());
        assert!(Setting::parse("Banner=a#b").is_err());
    }

    #[test]
    fn effective_values_are_compared_as_sshd_reads_them() {
        let no = Setting::parse("PasswordAuthentication=no").unwrap();
        assert!(no.holds_in(&["no".into()]));
        assert!(!no.holds_in(&["yes".into()]));
        let ports = Setting::parse("Port=2222,22").unwrap();
        assert!(ports.holds_in(&["22".into(), "2222".into()]));
        assert!(!ports.holds_in(&["22".into()]));
        let users = Setting::parse("AllowUsers=b a").unwrap();
        assert!(users.holds_in(&["a b".into()]));
        let listen = Setting::parse("ListenAddress=10.0.0.1").unwrap();
        assert!(listen.holds_in(&["10.0.0.1:22".into()]));
        assert!(no.keyword.guards_passwords());
        assert!(!ports.keyword.guards_passwords());
    }
}
