//! `fleet run --script FILE`: a local script, read once, sent to every host
//! on stdin and run there by the interpreter its `#!` line names.
//!
//! The script never lands on the host's disk: the remote command is the
//! interpreter told to read its program from stdin, `sh -s -- ARGS` for
//! the sh family (and for a script without `#!`), `INTERPRETER - ARGS`
//! for the others (python, perl, ruby, node all read `-` as stdin). Each
//! argument is single-quoted for the remote login shell, which is what
//! reads the command.
//!
//! Because stdin carries the program, a command inside the script that
//! reads stdin reads the rest of the script (as with `ssh host sh -s <
//! script`); scripts should give such commands `</dev/null`.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::report::sanitize::sanitize;

/// The largest script `--script` sends. Every host gets the same bytes
/// from memory, so the limit keeps a mistaken `--script /var/log/big` from
/// filling it; larger payloads belong in `--stdin`, which spools.
pub const MAX_SIZE: u64 = 16 * 1024 * 1024;

/// Interpreters that take a program on stdin with `-s`, and arguments to
/// it after `--`.
const SH_FAMILY: [&str; 7] = ["sh", "bash", "dash", "ksh", "zsh", "mksh", "ash"];

/// A script ready to send: the bytes, the remote command that runs them,
/// and how the run is named in reports.
#[derive(Debug, Clone)]
pub struct Script {
    /// Sent to every host's stdin, as read.
    pub bytes: Bytes,
    /// The remote command, as the login shell reads it.
    pub command: String,
    /// `--script NAME ARGS`, for reports: quoted where a word needs it,
    /// control characters escaped.
    pub shown: String,
}

/// Why a script cannot be sent; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("cannot read script {}", shown(path))]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("script {} is a directory; --script takes a file", shown(path))]
    Directory { path: PathBuf },
    #[error(
        "script {} is larger than {} MiB, the most --script sends; copy it to the hosts \
         another way, or send it with --stdin",
        shown(path),
        MAX_SIZE / (1024 * 1024)
    )]
    TooLarge { path: PathBuf },
    #[error(
        "script {} holds NUL bytes, so it is a binary file, not a script",
        shown(path)
    )]
    Binary { path: PathBuf },
    #[error(
        "script {}: its #! line names no interpreter; write one (#!/bin/sh) or remove the line",
        shown(path)
    )]
    EmptyShebang { path: PathBuf },
    #[error("script {}: its #! line is not UTF-8", shown(path))]
    ShebangNotUtf8 { path: PathBuf },
}

/// What went wrong with a `#!` line, before the file's name is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShebangError {
    /// `#!` with nothing after it, or `#!/usr/bin/env` alone.
    Empty,
    NotUtf8,
}

/// What runs the script, as the `#!` line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The words as written: the path, then its argument (`#!/bin/sh -e`),
    /// or, through `env`, env's path, the program and its arguments.
    pub words: Vec<String>,
    /// Whether it is a shell of the sh family, which reads stdin with
    /// `-s`; the others read it with `-`.
    pub sh: bool,
}

impl Script {
    /// Reads the script at `path`, at most [`MAX_SIZE`] of it, for a run
    /// with `args`.
    pub fn read(path: &Path, args: &[String]) -> Result<Script, ScriptError> {
        let read = |source| ScriptError::Read {
            path: path.to_owned(),
            source,
        };
        // A directory opens on Linux and fails only when read, with a
        // message that does not say "directory" plainly enough.
        if std::fs::metadata(path).map_err(read)?.is_dir() {
            return Err(ScriptError::Directory {
                path: path.to_owned(),
            });
        }
        let mut bytes = Vec::new();
        // Bounded even when the size on disk says it is small: a FIFO or
        // a file that grows says nothing true.
        File::open(path)
            .and_then(|file| file.take(MAX_SIZE + 1).read_to_end(&mut bytes))
            .map_err(read)?;
        if bytes.len() as u64 > MAX_SIZE {
            return Err(ScriptError::TooLarge {
                path: path.to_owned(),
            });
        }
        Script::new(path, bytes, args)
    }

    /// The script `bytes`, read from `path`, for a run with `args`.
    pub fn new(path: &Path, bytes: Vec<u8>, args: &[String]) -> Result<Script, ScriptError> {
        let path = || path.to_owned();
        if bytes.contains(&0) {
            return Err(ScriptError::Binary { path: path() });
        }
        let interpreter = Interpreter::parse(&bytes).map_err(|e| match e {
            ShebangError::Empty => ScriptError::EmptyShebang { path: path() },
            ShebangError::NotUtf8 => ScriptError::ShebangNotUtf8 { path: path() },
        })?;
        let mut shown = vec![
            "--script".to_owned(),
            quote_if_needed(&path().to_string_lossy()),
        ];
        shown.extend(args.iter().map(|arg| quote_if_needed(arg)));
        Ok(Script {
            bytes: Bytes::from(bytes),
            command: interpreter.command(args),
            shown: sanitize(&shown.join(" ")).into_owned(),
        })
    }
}

impl Interpreter {
    /// The interpreter the script's first line names; `sh` without a `#!`
    /// line. As on Linux, what follows the path on the line is one
    /// argument, except through `env`, whose words are split (as `env -S`
    /// does; the `-S` itself is dropped, since the words are passed apart).
    pub fn parse(script: &[u8]) -> Result<Interpreter, ShebangError> {
        let Some(rest) = script.strip_prefix(b"#!") else {
            return Ok(Interpreter {
                words: vec!["sh".into()],
                sh: true,
            });
        };
        let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = std::str::from_utf8(line).map_err(|_| ShebangError::NotUtf8)?;
        // A CRLF file's `\r` is trimmed with the rest of the white space.
        let line = line.trim();
        let (path, argument) = match line.split_once([' ', '\t']) {
            Some((path, argument)) => (path, argument.trim()),
            None => (line, ""),
        };
        if path.is_empty() {
            return Err(ShebangError::Empty);
        }
        let mut words = vec![path.to_owned()];
        let program = if basename(path) == "env" {
            let mut rest = argument.split_whitespace().peekable();
            if let Some(first) = rest.peek() {
                if let Some(attached) = first.strip_prefix("-S") {
                    rest.next();
                    if !attached.is_empty() {
                        words.push(attached.to_owned());
                    }
                }
            }
            words.extend(rest.map(str::to_owned));
            // env's own options and VAR=value settings come before it.
            words[1..]
                .iter()
                .find(|word| !word.starts_with('-') && !word.contains('='))
                .ok_or(ShebangError::Empty)?
        } else {
            if !argument.is_empty() {
                words.push(argument.to_owned());
            }
            path
        };
        let sh = SH_FAMILY.contains(&basename(program));
        Ok(Interpreter { words, sh })
    }

    /// The remote command that runs the script from stdin with `args`.
    pub fn command(&self, args: &[String]) -> String {
        let mut command: Vec<String> = self.words.iter().map(|w| quote_if_needed(w)).collect();
        if self.sh {
            command.extend(["-s".into(), "--".into()]);
        } else {
            command.push("-".into());
        }
        command.extend(args.iter().map(|arg| quote(arg)));
        command.join(" ")
    }
}

/// `word` in single quotes for a POSIX shell, each `'` in it written as
/// `'\''`: nothing inside single quotes is special.
pub fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `word` as it is when no shell character is in it, else [`quote`]d.
fn quote_if_needed(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        quote(word)
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A path as a message shows it: local text, but never raw control
/// characters.
fn shown(path: &Path) -> String {
    sanitize(&path.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(script: &str, args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Interpreter::parse(script.as_bytes())
            .expect("a valid #! line")
            .command(&args)
    }

    #[test]
    fn a_script_without_a_shebang_runs_in_sh() {
        assert_eq!(command("echo hi\n", &[]), "sh -s --");
        assert_eq!(command("", &["a"]), "sh -s -- 'a'");
        // A comment that is not a `#!` line is just a comment.
        assert_eq!(command("# !/usr/bin/python3\n", &[]), "sh -s --");
    }

    #[test]
    fn sh_family_shells_read_stdin_with_dash_s() {
        assert_eq!(command("#!/bin/sh\necho\n", &["x"]), "/bin/sh -s -- 'x'");
        assert_eq!(command("#!/bin/bash -eu\n", &[]), "/bin/bash -eu -s --");
        assert_eq!(command("#! /bin/dash\n", &[]), "/bin/dash -s --");
        assert_eq!(command("#!/bin/ksh\r\n", &[]), "/bin/ksh -s --");
        assert_eq!(command("#!/usr/bin/zsh", &[]), "/usr/bin/zsh -s --");
        assert_eq!(
            command("#!/usr/bin/env bash\n", &["a"]),
            "/usr/bin/env bash -s -- 'a'"
        );
        assert_eq!(
            command("#!/usr/bin/env -S bash -e\n", &[]),
            "/usr/bin/env bash -e -s --"
        );
    }

    #[test]
    fn other_interpreters_read_stdin_as_dash() {
        assert_eq!(
            command("#!/usr/bin/python3\nprint(1)\n", &["a"]),
            "/usr/bin/python3 - 'a'"
        );
        assert_eq!(
            command("#!/usr/bin/env python3\n", &[]),
            "/usr/bin/env python3 -"
        );
        assert_eq!(command("#!/usr/bin/perl -w\n", &[]), "/usr/bin/perl -w -");
        assert_eq!(command("#!/usr/bin/env ruby\n", &[]), "/usr/bin/env ruby -");
        // A name that only starts like a shell's is not one.
        assert_eq!(command("#!/opt/bin/shx\n", &[]), "/opt/bin/shx -");
        // Options and settings for env come before the program.
        assert_eq!(
            command("#!/usr/bin/env -i LC_ALL=C python3\n", &[]),
            "/usr/bin/env -i LC_ALL=C python3 -"
        );
    }

    #[test]
    fn the_one_shebang_argument_stays_one_word() {
        let interpreter = Interpreter::parse(b"#!/usr/bin/awk -f x\n").unwrap();
        assert_eq!(interpreter.words, ["/usr/bin/awk", "-f x"]);
        assert_eq!(interpreter.command(&[]), "/usr/bin/awk '-f x' -");
    }

    #[test]
    fn an_empty_or_undecodable_shebang_is_refused() {
        for script in [
            "#!\necho\n",
            "#!   \n",
            "#!",
            "#!/usr/bin/env\n",
            "#!/usr/bin/env -S\n",
        ] {
            assert_eq!(
                Interpreter::parse(script.as_bytes()),
                Err(ShebangError::Empty),
                "{script:?}"
            );
        }
        assert_eq!(
            Interpreter::parse(b"#!/bin/\xffsh\n"),
            Err(ShebangError::NotUtf8)
        );
        // Only the first line must be UTF-8.
        assert!(Interpreter::parse(b"#!/bin/sh\necho \xff\n").is_ok());
    }

    #[test]
    fn every_argument_is_single_quoted() {
        assert_eq!(
            command("", &["a b", "it's", "", "$HOME", "`id`;x", "-n"]),
            r#"sh -s -- 'a b' 'it'\''s' '' '$HOME' '`id`;x' '-n'"#
        );
        assert_eq!(quote("'"), r"''\'''");
        assert_eq!(quote("a\nb"), "'a\nb'");
    }

    #[test]
    fn quoted_arguments_come_back_intact_from_a_real_shell() {
        let args: Vec<String> = [
            "a b", "it's", "", "$HOME", "`id`", "\\", "\"x\"", "x\ny", "*",
        ]
        .map(String::from)
        .into();
        let script = Interpreter::parse(b"#!/bin/sh\n").unwrap();
        let command = format!("{}; exit 0", script.command(&args));
        let output = std::process::Command::new("sh")
            .args(["-c", &command])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(b"for a; do printf '[%s]' \"$a\"; done\n")?;
                child.wait_with_output()
            })
            .expect("sh runs");
        let expected: String = args.iter().map(|a| format!("[{a}]")).collect();
        assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
    }

    #[test]
    fn scripts_name_the_run_as_the_user_wrote_it_without_control_characters() {
        let args = ["a b".to_string(), "x\x1b[2J".to_string()];
        let script = Script::new(Path::new("dir/check.sh"), b"#!/bin/sh\n".to_vec(), &args)
            .expect("a script");
        assert_eq!(script.shown, r"--script dir/check.sh 'a b' 'x\e[2J'");
        assert_eq!(script.command, "/bin/sh -s -- 'a b' 'x\x1b[2J'");
        assert_eq!(&script.bytes[..], b"#!/bin/sh\n");
    }

    #[test]
    fn binary_files_and_bad_shebangs_name_the_file() {
        let path = Path::new("bad\x07.sh");
        let binary = Script::new(path, b"\x7fELF\0\0".to_vec(), &[]).unwrap_err();
        assert!(matches!(binary, ScriptError::Binary { .. }));
        assert_eq!(
            binary.to_string(),
            r"script bad\a.sh holds NUL bytes, so it is a binary file, not a script"
        );
        let empty = Script::new(path, b"#!\n".to_vec(), &[]).unwrap_err();
        assert!(matches!(empty, ScriptError::EmptyShebang { .. }));
        assert!(
            empty.to_string().starts_with(r"script bad\a.sh: "),
            "{empty}"
        );
    }

    #[test]
    fn missing_files_directories_and_large_files_are_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let missing = dir.path().join("missing.sh");
        let error = Script::read(&missing, &[]).unwrap_err();
        assert!(matches!(error, ScriptError::Read { .. }), "{error}");
        assert!(error.to_string().contains("missing.sh"), "{error}");

        let error = Script::read(dir.path(), &[]).unwrap_err();
        assert!(matches!(error, ScriptError::Directory { .. }), "{error}");

        let large = dir.path().join("large.sh");
        let file = File::create(&large).expect("a file");
        file.set_len(MAX_SIZE + 1).expect("a sparse file");
        let error = Script::read(&large, &[]).unwrap_err();
        assert!(matches!(error, ScriptError::TooLarge { .. }), "{error}");
        assert!(error.to_string().contains("large.sh"), "{error}");

        let exact = dir.path().join("exact.sh");
        let mut script = b"#!/bin/sh\n".to_vec();
        script.resize(MAX_SIZE as usize, b'\n');
        std::fs::write(&exact, &script).expect("a file");
        let read = Script::read(&exact, &[]).expect("a script at the limit");
        assert_eq!(read.bytes.len() as u64, MAX_SIZE);
    }
}
