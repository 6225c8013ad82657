//! Where a setting must go for sshd to obey it, and the edit that puts it
//! there, keeping every other line (comments included) as it was.
//!
//! sshd keeps the **first** value it reads for most keywords, reading the
//! main file in order and each `Include`'s files (sorted) where the
//! `Include` stands; settings after a `Match` line belong to that block.
//! So a line appended to the end of a Debian sshd_config lands below its
//! `Include /etc/ssh/sshd_config.d/*.conf` (and a cloud-init drop-in that
//! says `PasswordAuthentication yes` wins), and one appended to a file that
//! ends in a `Match` block applies to that block only. The rules here:
//!
//! * where the main file includes a drop-in directory before the first line
//!   that sets the keyword, the setting goes into `00-fleet.conf` there,
//!   which sorts ahead of the other drop-ins (`50-cloud-init.conf`);
//! * otherwise the first line that sets it is changed in place;
//! * otherwise the setting is inserted before the first `Match`.
//!
//! Keywords whose lines add up (`Port`, `ListenAddress`, `AllowUsers`…)
//! get all their lines in that one place, and every other global line of
//! them is commented out. `Match` blocks are never touched, so what they
//! set for their users stays as it was.
//!
//! Only Includes of the main file's global part are followed, which is
//! where distributions put them; a nested Include is left alone.

use super::settings::{Kind, Setting};
use crate::wildcard::match_pattern;

/// The drop-in fleet writes its settings into.
pub const DROP_IN: &str = "00-fleet.conf";

/// One configuration file as read from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    pub path: String,
    pub text: String,
}

/// What sshd reads: the main file, and the files of its global Includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshdConfig {
    pub main: ConfigFile,
    pub includes: Vec<Include>,
}

/// One global `Include` of the main file and the files it reads, in the
/// order sshd reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The pattern, made absolute as sshd does (relative to `/etc/ssh`).
    pub pattern: String,
    pub files: Vec<ConfigFile>,
}

/// A file the edit writes: `before` is `None` for a new file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub before: Option<String>,
    pub after: String,
}

/// What a line of sshd_config is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// Blank, or a comment.
    Other,
    Match,
    Include(Vec<String>),
    /// A keyword (as written) and its value.
    Setting {
        keyword: String,
        value: String,
    },
}

fn classify(line: &str) -> Line {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Line::Other;
    }
    let end = trimmed
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(trimmed.len());
    let keyword = &trimmed[..end];
    let value = trimmed[end..]
        .trim_start_matches(|c: char| c.is_whitespace() || c == '=')
        .trim()
        .to_string();
    if keyword.eq_ignore_ascii_case("match") {
        Line::Match
    } else if keyword.eq_ignore_ascii_case("include") {
        Line::Include(value.split_whitespace().map(str::to_string).collect())
    } else {
        Line::Setting {
            keyword: keyword.to_string(),
            value,
        }
    }
}

/// A file being edited: its lines, each with its own line ending.
#[derive(Debug, Clone)]
struct Lines {
    path: String,
    before: Option<String>,
    lines: Vec<String>,
}

impl Lines {
    fn of(file: &ConfigFile) -> Lines {
        Lines {
            path: file.path.clone(),
            before: Some(file.text.clone()),
            lines: file
                .text
                .split_inclusive('\n')
                .map(str::to_string)
                .collect(),
        }
    }

    fn new_drop_in(path: String) -> Lines {
        Lines {
            path,
            before: None,
            lines: vec![
                "# Written by fleet sshd set. It sorts before the other drop-ins, so sshd\n"
                    .to_string(),
                "# reads these values first; backups of changed files are kept beside them.\n"
                    .to_string(),
            ],
        }
    }

    /// Lines that belong to no Match block: up to the file's first Match.
    fn global_len(&self) -> usize {
        self.lines
            .iter()
            .position(|l| classify(l) == Line::Match)
            .unwrap_or(self.lines.len())
    }

    fn text(&self) -> String {
        self.lines.concat()
    }

    /// Replaces line `at` with `new` lines, in its indentation.
    fn replace(&mut self, at: usize, new: &[String]) {
        let indent: String = self.lines[at]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        let eol = if self.lines[at].ends_with("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let lines: Vec<String> = new.iter().map(|l| format!("{indent}{l}{eol}")).collect();
        self.lines.splice(at..=at, lines);
    }

    /// Inserts `new` lines before line `at`.
    fn insert(&mut self, at: usize, new: &[String]) {
        if at > 0 && !self.lines[at - 1].ends_with('\n') {
            self.lines[at - 1].push('\n');
        }
        let lines: Vec<String> = new.iter().map(|l| format!("{l}\n")).collect();
        self.lines.splice(at..at, lines);
    }

    /// Turns line `at` into a comment that says why.
    fn comment_out(&mut self, at: usize) {
        let line = self.lines[at]
            .trim_end_matches(['\n', '\r'])
            .trim()
            .to_string();
        let eol = if self.lines[at].ends_with("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        self.lines[at] = format!("#{line}  # replaced by fleet sshd set{eol}");
    }
}

/// Where a setting's line is, in the order sshd reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Main(usize),
    /// Include `include`, its file `file`, line `line`.
    Included {
        include: usize,
        file: usize,
        line: usize,
    },
}

/// The configuration being edited.
struct Editing {
    main: Lines,
    /// Per include: where it stands in the main file, its pattern and its
    /// files (in sshd's order).
    includes: Vec<(usize, String, Vec<Lines>)>,
}

impl Editing {
    fn new(config: &SshdConfig) -> Editing {
        let main = Lines::of(&config.main);
        let global = main.global_len();
        let mut found = Vec::new();
        let mut next = 0;
        for (at, line) in main.lines[..global].iter().enumerate() {
            if let Line::Include(patterns) = classify(line) {
                for pattern in patterns {
                    let absolute = absolute(&pattern);
                    // The includes the host listed, in the same order.
                    if let Some(include) =
                        config.includes.get(next).filter(|i| i.pattern == absolute)
                    {
                        found.push((at, absolute, include.files.iter().map(Lines::of).collect()));
                        next += 1;
                    } else {
                        found.push((at, absolute, Vec::new()));
                    }
                }
            }
        }
        Editing {
            main,
            includes: found,
        }
    }

    /// Every global line that sets `name`, in the order sshd reads them.
    fn occurrences(&self, name: &str) -> Vec<Place> {
        let sets = |line: &str| matches!(classify(line), Line::Setting { keyword, .. } if keyword.eq_ignore_ascii_case(name));
        let mut places = Vec::new();
        for at in 0..self.main.global_len() {
            if sets(&self.main.lines[at]) {
                places.push(Place::Main(at));
            }
            for (include, (line, _, files)) in self.includes.iter().enumerate() {
                if *line != at {
                    continue;
                }
                for (file, lines) in files.iter().enumerate() {
                    for (number, text) in lines.lines[..lines.global_len()].iter().enumerate() {
                        if sets(text) {
                            places.push(Place::Included {
                                include,
                                file,
                                line: number,
                            });
                        }
                    }
                }
            }
        }
        places
    }

    /// The include whose pattern takes [`DROP_IN`], and where the drop-in
    /// stands (or would) among its files.
    fn drop_in(&self) -> Option<(usize, usize)> {
        self.includes
            .iter()
            .enumerate()
            .find_map(|(index, (_, pattern, files))| {
                let (dir, glob) = pattern.rsplit_once('/')?;
                if !glob.contains('*') || !match_pattern(glob.as_bytes(), DROP_IN.as_bytes()) {
                    return None;
                }
                let path = format!("{dir}/{DROP_IN}");
                let position = files
                    .iter()
                    .position(|f| f.path.as_str() >= path.as_str())
                    .unwrap_or(files.len());
                Some((index, position))
            })
    }

    /// Whether `place` comes before the drop-in's place in sshd's order.
    fn before_drop_in(&self, place: Place, (include, position): (usize, usize)) -> bool {
        let drop_in_line = self.includes[include].0;
        match place {
            Place::Main(at) => at < drop_in_line,
            Place::Included {
                include: other,
                file,
                ..
            } => {
                let other_line = self.includes[other].0;
                other_line < drop_in_line
                    || (other_line == drop_in_line && other < include)
                    || (other == include && file < position && !self.is_drop_in(other, file))
            }
        }
    }

    fn is_drop_in(&self, include: usize, file: usize) -> bool {
        self.includes[include].2[file]
            .path
            .ends_with(&format!("/{DROP_IN}"))
    }

    fn lines_at(&mut self, place: Place) -> (&mut Lines, usize) {
        match place {
            Place::Main(at) => (&mut self.main, at),
            Place::Included {
                include,
                file,
                line,
            } => (&mut self.includes[include].2[file], line),
        }
    }

    /// The drop-in's lines, created where it sorts if it is not there.
    fn drop_in_lines(&mut self, (include, position): (usize, usize)) -> &mut Lines {
        let (_, pattern, files) = &mut self.includes[include];
        let dir = pattern.rsplit_once('/').map_or("", |(dir, _)| dir);
        let path = format!("{dir}/{DROP_IN}");
        if files.get(position).is_none_or(|f| f.path != path) {
            files.insert(position, Lines::new_drop_in(path));
        }
        &mut files[position]
    }

    fn set(&mut self, setting: &Setting) {
        let name = setting.keyword.name;
        let lines = setting.lines();
        let occurrences = self.occurrences(name);
        let drop_in = self.drop_in();
        let first = occurrences.first().copied();
        let to_drop_in = match (drop_in, first) {
            (Some(_), None) => true,
            (Some(drop_in), Some(first)) => !self.before_drop_in(first, drop_in),
            (None, _) => false,
        };
        // Where the lines go now, and which earlier lines must go.
        let kept: Option<Place> = if to_drop_in { None } else { first };
        let additive = setting.keyword.kind != Kind::First;
        // Comment out, last first so line numbers stay right.
        for place in occurrences.iter().rev() {
            let in_drop_in = match place {
                Place::Included { include, file, .. } => self.is_drop_in(*include, *file),
                Place::Main(_) => false,
            };
            if Some(*place) == kept || in_drop_in {
                continue;
            }
            if additive {
                let (file, at) = self.lines_at(*place);
                file.comment_out(at);
            }
        }
        match (drop_in.filter(|_| to_drop_in), kept) {
            (Some(drop_in), _) => {
                let file = self.drop_in_lines(drop_in);
                let mine: Vec<usize> = (0..file.lines.len())
                    .filter(|&i| matches!(classify(&file.lines[i]), Line::Setting { keyword, .. } if keyword.eq_ignore_ascii_case(name)))
                    .collect();
                match mine.first() {
                    Some(&at) => {
                        for &extra in mine[1..].iter().rev() {
                            file.lines.remove(extra);
                        }
                        file.replace(at, &lines);
                    }
                    None => {
                        let end = file.global_len();
                        file.insert(end, &lines);
                    }
                }
            }
            (None, Some(place)) => {
                let (file, at) = self.lines_at(place);
                file.replace(at, &lines);
            }
            (None, None) => {
                let at = self.main.global_len();
                self.main.insert(at, &lines);
            }
        }
    }

    fn changes(self) -> Vec<FileChange> {
        let mut all = vec![self.main];
        for (_, _, files) in self.includes {
            all.extend(files);
        }
        all.into_iter()
            .filter_map(|file| {
                let after = file.text();
                (file.before.as_deref() != Some(after.as_str())).then_some(FileChange {
                    path: file.path,
                    before: file.before,
                    after,
                })
            })
            .collect()
    }
}

/// An Include pattern as sshd reads it: relative ones are in `/etc/ssh`.
pub fn absolute(pattern: &str) -> String {
    if pattern.starts_with('/') {
        pattern.to_string()
    } else {
        format!("/etc/ssh/{pattern}")
    }
}

/// The global Include patterns of a main sshd_config, made absolute, for
/// the host to list the files of.
pub fn include_patterns(main: &str) -> Vec<String> {
    let lines: Vec<&str> = main.split_inclusive('\n').collect();
    let global = lines
        .iter()
        .position(|l| classify(l) == Line::Match)
        .unwrap_or(lines.len());
    lines[..global]
        .iter()
        .filter_map(|l| match classify(l) {
            Line::Include(patterns) => Some(patterns),
            _ => None,
        })
        .flatten()
        .map(|p| absolute(&p))
        .collect()
}

/// The files to write so that sshd obeys `settings`; empty when nothing
/// needs to change in the files (sshd may still run other values, from
/// before a reload).
pub fn edit(config: &SshdConfig, settings: &[Setting]) -> Vec<FileChange> {
    let mut editing = Editing::new(config);
    for setting in settings {
        editing.set(setting);
    }
    editing.changes()
}

#[cfg(test)]
mod tests;
