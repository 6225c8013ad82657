//! Parsers for option values (ports, times, numbers, jump hosts) that accept
//! exactly what OpenSSH's misc.c accepts, C library quirks included.

use std::path::PathBuf;

use super::local;

/// `strtol()`: optional leading whitespace and sign, then digits. Returns
/// the value (clamped far outside any range we check) and the bytes used.
fn strtol(s: &[u8]) -> Option<(i128, usize)> {
    let mut i = s
        .iter()
        .take_while(|b| b" \t\n\x0b\x0c\r".contains(b))
        .count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let value = s[i..i + digits].iter().fold(0i128, |acc, d| {
        (acc * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1)
    });
    Some((if negative { -value } else { value }, i + digits))
}

/// `strtonum(s, min, max)`: the whole string must be a number in range.
fn strtonum(s: &str, min: i128, max: i128) -> Option<i128> {
    match strtol(s.as_bytes()) {
        Some((v, used)) if used == s.len() && (min..=max).contains(&v) => Some(v),
        _ => None,
    }
}

/// A `Port` value: a number or a service name from /etc/services, 1–65535.
pub(super) fn port(s: &str) -> Option<u16> {
    let port = match strtonum(s, 0, 65535) {
        Some(p) => u16::try_from(p).ok()?,
        None => local::service_port(s)?,
    };
    (port > 0).then_some(port)
}

/// A non-negative `int`, as `atoi_err()` accepts it.
pub(super) fn int(s: &str) -> Option<u32> {
    strtonum(s, 0, i128::from(i32::MAX)).and_then(|v| u32::try_from(v).ok())
}

/// `convtime()`: `90`, `90s`, `1h30m`, `2d`, `1w` … in seconds, at most
/// `INT_MAX`.
pub(super) fn time(s: &str) -> Option<u32> {
    let max = i128::from(i32::MAX);
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (mut total, mut p) = (0i128, 0);
    while p < b.len() {
        let (secs, used) = strtol(&b[p..])?;
        if secs < 0 {
            return None;
        }
        p += used;
        let multiplier = match b.get(p) {
            None => 1,
            Some(unit) => {
                p += 1;
                match unit {
                    b's' | b'S' => 1,
                    b'm' | b'M' => 60,
                    b'h' | b'H' => 60 * 60,
                    b'd' | b'D' => 24 * 60 * 60,
                    b'w' | b'W' => 7 * 24 * 60 * 60,
                    _ => return None,
                }
            }
        };
        if secs > max / multiplier {
            return None;
        }
        total += secs * multiplier;
        if total > max {
            return None;
        }
    }
    u32::try_from(total).ok()
}

/// A parsed `ProxyJump` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Jump {
    /// `ProxyJump none`: connect directly, and ignore later ProxyCommands.
    None,
    /// The last hop, split out, and the hops before it verbatim.
    Via {
        user: Option<String>,
        host: String,
        port: Option<u16>,
        extra: Option<String>,
    },
}

impl Jump {
    /// The value as `ssh -G` prints it (`extra,user@[host]:port`); `None`
    /// for a direct connection.
    pub(super) fn spec(&self) -> Option<String> {
        let Jump::Via {
            user,
            host,
            port,
            extra,
        } = self
        else {
            return None;
        };
        let mut out = String::new();
        if let Some(extra) = extra {
            out.push_str(extra);
            out.push(',');
        }
        if let Some(user) = user {
            out.push_str(user);
            out.push('@');
        }
        let numeric = host.contains(':') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if numeric {
            out.push('[');
        }
        out.push_str(host);
        if numeric {
            out.push(']');
        }
        if let Some(port) = port {
            out.push(':');
            out.push_str(&port.to_string());
        }
        Some(out)
    }
}

/// Parses a `ProxyJump` value like readconf.c's `parse_jump()` (as
/// Debian's OpenSSH 9.2 has it, with the 10.3 fixes): hops are
/// `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated.
/// `command_line` values (our overrides) must also have names that are safe
/// in a shell, as ssh demands of `-J`/`-o ProxyJump`.
pub(super) fn jump(s: &str, command_line: bool) -> Option<Jump> {
    if s.eq_ignore_ascii_case("none") {
        return Some(Jump::None);
    }
    // OpenSSH cuts a `#` comment and then, with its `rtrim()`, everything
    // from the first blank on.
    let mut spec = s.split('#').next().unwrap_or("");
    if let Some(blank) = spec
        .bytes()
        .skip(1)
        .position(|b| b" \t\n\x0b\x0c\r".contains(&b))
    {
        spec = &spec[..blank + 1];
    }
    let mut last = None;
    for hop in spec.split(',').rev() {
        let (user, host, port) = match ssh_uri(hop)? {
            Some(parsed) => parsed,
            None => user_host_port(hop)?,
        };
        if command_line && !(valid_hostname(&host) && user.as_deref().is_none_or(valid_user)) {
            return None;
        }
        last.get_or_insert((user, host, port));
    }
    let (user, host, port) = last?;
    let extra = spec.rfind(',').map(|comma| spec[..comma].to_string());
    Some(Jump::Via {
        user,
        host,
        port,
        extra,
    })
}

/// `ssh_valid_hostname()`: what ssh accepts as a host name on its command
/// line, keeping shell metacharacters out of `%h`.
pub(super) fn valid_hostname(s: &str) -> bool {
    host_name_problem(s).is_none()
}

/// Why `ssh_valid_hostname()` refuses `s`, if it does, as a clause for a
/// message. fleet also refuses the C1 controls, which ssh lets through but
/// a terminal obeys.
pub(crate) fn host_name_problem(s: &str) -> Option<String> {
    if s.starts_with('-') {
        return Some("it starts with '-', which ssh would read as an option".to_string());
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Some(format!("it holds the control character {c:?}"));
    }
    if s.contains(' ') {
        return Some("it holds a space".to_string());
    }
    s.chars()
        .find(|c| "'`\"$\\;&<>|(){},".contains(*c))
        .map(|c| format!("ssh refuses {c:?} in one, which could smuggle shell syntax into %h"))
}

/// `ssh_valid_ruser()`: the same for a user name given on the command line.
pub(super) fn valid_user(s: &str) -> bool {
    let b = s.as_bytes();
    !s.starts_with('-')
        && b.iter().enumerate().all(|(i, &c)| {
            let next = b.get(i + 1).copied();
            let refused = c.is_ascii_control()
                || b"'`\";&<>|(){}".contains(&c)
                // A blank before `-` could start an option.
                || (c == b' ' && next == Some(b'-'))
                || (c == b'\\' && next.is_none());
            !refused
        })
}

type UserHostPort = (Option<String>, String, Option<u16>);

/// The hops of a resolved `ProxyJump` value, first hop first.
pub(super) fn jump_hops(spec: &str) -> Option<Vec<UserHostPort>> {
    spec.split(',')
        .map(|hop| match ssh_uri(hop)? {
            Some(parsed) => Some(parsed),
            None => user_host_port(hop),
        })
        .collect()
}

/// `parse_user_host_port()`: `[user@]host[:port]`, host maybe in brackets.
fn user_host_port(s: &str) -> Option<UserHostPort> {
    let (user, rest) = match s.rfind('@') {
        Some(0) => return None,
        Some(at) => (Some(s[..at].to_string()), &s[at + 1..]),
        None => (None, s),
    };
    let (host, delim, tail) = host_delim(rest)?;
    if host.is_empty() || delim == Some('/') {
        return None;
    }
    let port = match tail {
        Some(t) if !t.is_empty() => Some(port(t)?),
        _ => None,
    };
    Some((user, clean_hostname(host).to_string(), port))
}

/// `parse_ssh_uri()`: `Ok`-like `Some(None)` when `s` is not an ssh:// URI,
/// `None` when it is a bad one.
fn ssh_uri(s: &str) -> Option<Option<UserHostPort>> {
    let Some(rest) = s.strip_prefix("ssh://") else {
        return Some(None);
    };
    let (user, rest) = match rest.find('@') {
        Some(at) => {
            let info = &rest[..at];
            let name = info.split(';').next().unwrap_or("");
            if name.is_empty() {
                return None;
            }
            (Some(url_decode(name)?), &rest[at + 1..])
        }
        None => (None, rest),
    };
    let (host, delim, mut tail) = host_delim(rest)?;
    if host.is_empty() {
        return None;
    }
    let host = clean_hostname(host);
    let host = valid_domain(host)?;
    let mut port = None;
    if let Some(t) = tail.filter(|t| !t.is_empty()) {
        if delim == Some(':') {
            let (port_text, path) = match t.find('/') {
                Some(slash) => (&t[..slash], Some(&t[slash + 1..])),
                None => (t, None),
            };
            port = Some(self::port(port_text)?);
            tail = path;
        }
    }
    // A path is not allowed in a jump host.
    if tail.is_some_and(|t| !t.is_empty()) {
        return None;
    }
    Some(Some((user, host.to_string(), port)))
}

/// `hpdelim2()`: splits `host` (or `[host]`) from what follows `:` or `/`.
fn host_delim(s: &str) -> Option<(&str, Option<char>, Option<&str>)> {
    let end = if s.starts_with('[') {
        s.find(']')? + 1
    } else {
        s.find([':', '/']).unwrap_or(s.len())
    };
    match s[end..].chars().next() {
        None => Some((&s[..end], None, None)),
        Some(c @ (':' | '/')) => Some((&s[..end], Some(c), Some(&s[end + 1..]))),
        Some(_) => None,
    }
}

fn clean_hostname(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// `valid_domain()` as used for URIs: letters, digits, `-`, `_`, `.`; the
/// trailing dot is dropped.
fn valid_domain(name: &str) -> Option<&str> {
    let b = name.as_bytes();
    if !b.first()?.is_ascii_alphanumeric() || name.contains("..") {
        return None;
    }
    if !b
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b'_')
    {
        return None;
    }
    Some(name.strip_suffix('.').unwrap_or(name))
}

/// `urldecode()`: `+` is a space, `%XX` a byte.
fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let byte = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                // A NUL would cut the name short in C; ssh refuses it.
                if byte == 0 {
                    return None;
                }
                out.push(byte);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Where [`decode_lossless`] puts a byte that is not UTF-8: the last 256
/// code points of the last private use plane, which no config needs (one
/// that spells such a character itself would have it read as the byte).
const RAW_BYTES: u32 = 0x10_ff00;

/// A config file's text, each byte that is not part of valid UTF-8 kept as
/// a private-use character, so a path such as `k\xe9y` survives parsing and
/// [`path_from`] gives back exactly its bytes. ssh reads bytes; paths are
/// bytes on Linux.
pub(super) fn decode_lossless(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for &byte in chunk.invalid() {
            text.extend(char::from_u32(RAW_BYTES + u32::from(byte)));
        }
    }
    text
}

/// A path value as the file spelled it, bytes [`decode_lossless`] kept
/// included.
pub(super) fn path_from(value: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let mut bytes = Vec::with_capacity(value.len());
    for c in value.chars() {
        match u32::from(c).checked_sub(RAW_BYTES).map(u8::try_from) {
            Some(Ok(byte)) => bytes.push(byte),
            _ => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}
