//! `~`, `%x` tokens and `${VAR}` in option values, following the TOKENS and
//! ENVIRONMENT VARIABLES sections of ssh_config(5).

use std::env;
use std::path::Path;

use super::local;

/// Replaces `%x` tokens from `tokens` (and `%%`) unless `tokens` is `None`;
/// with `dollar`, also `${VAR}` from the environment. Unknown tokens are
/// errors, as in ssh.
pub(super) fn expand(
    value: &str,
    tokens: Option<&[(char, &str)]>,
    dollar: bool,
) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if dollar && c == '$' && value[i + 1..].starts_with('{') {
            let name_start = i + 2;
            let Some(len) = value[name_start..].find('}') else {
                return Err(format!("'${{' without a closing '}}' in '{value}'"));
            };
            if len == 0 {
                return Err(format!("empty '${{}}' in '{value}'"));
            }
            let name = &value[name_start..name_start + len];
            match env::var_os(name) {
                Some(v) => out.push_str(&v.to_string_lossy()),
                None => {
                    return Err(format!(
                        "environment variable '{name}' used in '{value}' is not set"
                    ))
                }
            }
            // Skip the name and the closing brace.
            while chars.next_if(|&(j, _)| j <= name_start + len).is_some() {}
            continue;
        }
        let Some(tokens) = tokens.filter(|_| c == '%') else {
            out.push(c);
            continue;
        };
        match chars.next() {
            Some((_, '%')) => out.push('%'),
            Some((_, key)) => match tokens.iter().find(|(k, _)| *k == key) {
                Some((_, replacement)) => out.push_str(replacement),
                None => {
                    let allowed: Vec<String> =
                        tokens.iter().map(|(k, _)| format!("%{k}")).collect();
                    return Err(format!(
                        "unknown token '%{key}' in '{value}' (allowed here: {} and %%)",
                        allowed.join(" ")
                    ));
                }
            },
            None => {
                return Err(format!(
                    "'%' at the end of '{value}'; write '%%' for a literal '%'"
                ))
            }
        }
    }
    Ok(out)
}

/// Expands a leading `~` or `~user` like OpenSSH's `tilde_expand()`; `home`
/// stands for the current user's passwd home directory.
pub(super) fn tilde(value: &str, home: &Path) -> Result<String, String> {
    let Some(after) = value.strip_prefix('~') else {
        return Ok(value.to_string());
    };
    let (user, path) = match after.find('/') {
        Some(slash) => (&after[..slash], after[slash..].trim_start_matches('/')),
        None => (after, ""),
    };
    let dir = if user.is_empty() {
        home.to_string_lossy().into_owned()
    } else {
        match local::home_of(user) {
            Some(dir) => dir.to_string_lossy().into_owned(),
            None => return Err(format!("no such user '{user}' in '{value}'")),
        }
    };
    let slash = if dir.ends_with('/') { "" } else { "/" };
    Ok(format!("{dir}{slash}{path}"))
}

/// Checks `${VAR}` references at parse time, like readconf.c does for
/// `IdentityAgent`: they must be well-formed and set.
pub(super) fn check_dollar(value: &str) -> Result<(), String> {
    expand(value, None, true).map(|_| ())
}

/// Checks that `value` only uses the `%` tokens in `keys`.
pub(super) fn check_tokens(value: &str, keys: &str) -> Result<(), String> {
    let tokens: Vec<(char, &str)> = keys.chars().map(|k| (k, "")).collect();
    expand(value, Some(&tokens), false).map(|_| ())
}
