//! Passphrases and passwords: asked for once, on the terminal or through
//! `SSH_ASKPASS`, never taken from the command line or the environment,
//! kept in memory that is zeroed when dropped, and never stored.

use std::io::IsTerminal;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use zeroize::Zeroizing;

/// A secret shared by every connection of a run; zeroed when the last
/// holder drops it.
pub type Secret = Arc<Zeroizing<String>>;

/// Why a secret cannot be asked for.
const NO_TERMINAL: &str = "there is no terminal to ask on; add the key to ssh-agent, or set \
    SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force";

/// Asks for a secret the way OpenSSH does: through `SSH_ASKPASS` when
/// `SSH_ASKPASS_REQUIRE` is `force` (or `prefer`), or when there is no
/// terminal but a display; otherwise on the terminal, without echo.
pub fn ask(prompt: &str) -> Result<Zeroizing<String>, String> {
    let askpass = std::env::var_os("SSH_ASKPASS").filter(|s| !s.is_empty());
    let require = std::env::var("SSH_ASKPASS_REQUIRE").unwrap_or_default();
    let has_display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    let has_tty = std::io::stdin().is_terminal() || std::fs::File::open("/dev/tty").is_ok();
    let use_askpass = match require.as_str() {
        "force" | "prefer" => askpass.is_some(),
        "never" => false,
        _ => askpass.is_some() && has_display && !has_tty,
    };
    if use_askpass {
        let program = askpass.unwrap_or_default();
        let output = Command::new(&program)
            .arg(prompt)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| {
                format!(
                    "could not run SSH_ASKPASS {}: {e}",
                    Path::new(&program).display()
                )
            })?;
        if !output.status.success() {
            return Err("the entry was cancelled".into());
        }
        let mut text = Zeroizing::new(String::from_utf8_lossy(&output.stdout).into_owned());
        let trimmed_len = text.trim_end_matches(['\n', '\r']).len();
        text.truncate(trimmed_len);
        return Ok(text);
    }
    if !has_tty {
        return Err(NO_TERMINAL.into());
    }
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .map_err(|e| format!("could not read it: {e}"))
}
