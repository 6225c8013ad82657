//! fleet's own text on the terminal: names, users, addresses and key paths
//! read from local files are as untrusted as remote output, since
//! `./fleet.toml` is read from whatever repository the user cloned. None
//! of the escape sequences in them may reach the terminal raw.

use std::fs;

use super::fixture::Lab;
use super::invocation::{invoke, Invocation};

/// OSC 52 (sets the clipboard), a CSI (clears the screen), the one-character
/// C1 CSI U+009B and a right-to-left override.
const OSC_52: &str = "\x1b]52;c;cm0gLXJmIH4=\x07";
const CSI: &str = "\x1b[2J";
const C1_CSI: &str = "\u{9b}2J";
const BIDI: &str = "\u{202e}";

/// Characters that change what a terminal shows rather than being shown:
/// controls but newline and tab, and the bidi embeddings and overrides.
fn is_raw_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` as a TOML basic string, which can hold control characters only
/// as escapes.
fn toml_string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn assert_escaped(run: &Invocation) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if let Some(c) = text.chars().find(|&c| is_raw_control(c)) {
            panic!(
                "{name} holds a raw {c:?}: {:?}",
                text.escape_debug().to_string()
            );
        }
    }
}

#[test]
fn escape_sequences_in_fleet_toml_never_reach_the_terminal() {
    let lab = Lab::builder().refused("down").build();
    let down = lab.host("down").addr;
    // Read from the working directory, as from a cloned repository.
    let inventory = lab.home.join("fleet.toml");
    fs::write(
        &inventory,
        format!(
            "[hosts.\"evil{BIDI}gnp.exe\"]\n\
             address = \"127.0.0.1\"\n\
             port = {port}\n\
             user = \"ops{BIDI}\"\n\
             key = {key}\n",
            port = down.port(),
            key = toml_string(&format!("/keys/{OSC_52}id"))
        ),
    )
    .unwrap();
    let ls = invoke(lab.fleet().args(["ls", "evil*"]));
    ls.assert_exit(0);
    assert!(ls.stdout.contains("evil\\u{202e}gnp.exe"), "{ls}");
    assert!(ls.stdout.contains("\\e]52;c;"), "{ls}");
    assert_escaped(&ls);

    // The key path is refused before anything connects: the error names it.
    let run = invoke(
        lab.fleet()
            .args(["run", "--connect-timeout", "5s", "evil*", "true"]),
    );
    assert_escaped(&run);

    // The summary's host list: the same host without the bad key.
    fs::write(
        &inventory,
        format!(
            "[hosts.\"evil{BIDI}gnp.exe\"]\naddress = \"127.0.0.1\"\nport = {}\n",
            down.port()
        ),
    )
    .unwrap();
    let run = invoke(
        lab.fleet()
            .args(["run", "--connect-timeout", "5s", "evil*", "true"]),
    );
    run.assert_exit(2);
    assert!(run.stderr.contains("evil\\u{202e}gnp.exe"), "{run}");
    assert_escaped(&run);

    // A value the inventory refuses is quoted in the error.
    for value in [CSI, C1_CSI, OSC_52] {
        let user = toml_string(value);
        fs::write(&inventory, format!("[hosts.web]\nuser = {user}\n")).unwrap();
        let ls = invoke(lab.fleet().args(["ls", "web"]));
        ls.assert_exit(3);
        assert!(ls.stderr.contains("fleet.toml:2"), "{ls}");
        assert_escaped(&ls);
    }
}

#[test]
fn escape_sequences_in_ssh_config_never_reach_the_terminal() {
    let lab = Lab::builder().refused("down").build();
    let down = lab.host("down").addr;
    let config = lab.ssh_config_with_hosts(
        "hostile",
        &format!(
            "Host evil{BIDI}x\n\
             \x20   HostName 127.0.0.1\n\
             \x20   Port {port}\n\
             \x20   User {C1_CSI}root\n\
             Host shown{BIDI}\n\
             \x20   HostName {CSI}red.example\n\
             \x20   User root{BIDI}\n\
             \x20   IdentityFile /keys/{OSC_52}\n",
            port = down.port()
        ),
        &[],
    );
    let ls = invoke(lab.fleet_with_config(&config).args(["ls", "evil*,shown*"]));
    ls.assert_exit(0);
    assert!(ls.stdout.contains("\\e[2jred.example"), "{ls}");
    assert_escaped(&ls);

    let run = invoke(lab.fleet_with_config(&config).args([
        "run",
        "--connect-timeout",
        "5s",
        "evil*",
        "true",
    ]));
    run.assert_exit(2);
    assert!(run.stderr.contains("evil\\u{202e}x"), "{run}");
    assert_escaped(&run);

    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "shown*", "true"]),
    );
    assert_escaped(&run);
}
