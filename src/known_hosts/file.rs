//! Changing a user's file (known_hosts, ssh_config) safely, against other
//! fleet processes and against crashes.
//!
//! * Every change happens under an exclusive `flock` on the file itself,
//!   and the caller re-reads the file under that lock before deciding what
//!   to write, so two processes learning keys at once lose no line.
//!   Because a change replaces the file by renaming, a lock taken on the
//!   old file is worthless: [`LockedFile::open`] checks, once it holds the
//!   lock, that the path still names the file it locked, and tries again
//!   if not.
//! * A regular file is replaced atomically: a temporary file in the same
//!   directory gets the new content, the old mode and owner, is synced and
//!   renamed over it. Where that would break something, it is written in
//!   place under the lock instead, as ssh does: a file with hard links
//!   (renaming would split them), or one whose owner can't be kept.
//! * Anything that is not a regular file (a device such as `/dev/null`, a
//!   FIFO) is never renamed over: lines are appended to it, as ssh does.
//! * A symlink is followed to its target, which is what changes, so a
//!   symlinked dotfile stays a symlink.
//! * Temporary files are named `.NAME.fleet-XXXXXX`. Any such file found
//!   under the lock is left over from a fleet that died, and is removed;
//!   those of this process are removed on SIGTERM ([`remove_temporary_files`]).

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The temporary files this process is writing, so that a SIGTERM can
/// remove them. A std Mutex: never held across an `.await`.
static TEMPORARY_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn temporary_files() -> MutexGuard<'static, Vec<PathBuf>> {
    TEMPORARY_FILES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Removes the temporary files of writes in progress and keeps any new one
/// from being created, for a process about to exit on a signal: the guard
/// it returns must be held until the process exits.
pub fn remove_temporary_files() -> MutexGuard<'static, Vec<PathBuf>> {
    let mut files = temporary_files();
    for file in files.drain(..) {
        // Already renamed into place, or never fully created: nothing to do.
        let _ = fs::remove_file(file);
    }
    files
}

/// Symlinks followed before giving up, as the kernel's own limit.
const MAX_SYMLINKS: usize = 40;

/// The file `path` stands for: the last target of a chain of symlinks
/// (which need not exist yet), else `path` itself.
fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&path)?;
                path = match path.parent() {
                    Some(parent) => parent.join(target),
                    None => target,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// How a locked file takes changes.
enum Kind {
    /// A regular file (created empty if it was missing).
    Regular,
    /// A device, FIFO or the like: only appended to, never locked or
    /// replaced.
    Special,
}

/// A known_hosts file opened for changing; for a regular file, an
/// exclusive lock on it is held until this is dropped.
pub(crate) struct LockedFile {
    /// The file itself, past any symlink.
    path: PathBuf,
    file: File,
    kind: Kind,
}

impl LockedFile {
    /// Opens `path` (created 0600, in a directory created 0700, if
    /// missing) and, for a regular file, waits for the lock on it.
    pub(crate) fn open(path: &Path) -> io::Result<LockedFile> {
        let path = resolve_symlinks(path)?;
        let dir = parent(&path);
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        loop {
            if let Ok(meta) = fs::metadata(&path) {
                if !meta.is_file() {
                    // Non-blocking, so a FIFO nobody reads is an error
                    // rather than a hang.
                    let file = OpenOptions::new()
                        .append(true)
                        .custom_flags(libc::O_NONBLOCK)
                        .open(&path)?;
                    return Ok(LockedFile {
                        path,
                        file,
                        kind: Kind::Special,
                    });
                }
            }
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(&path)?;
            file.lock()?;
            // The lock is on what was the file when it was opened; if a
            // writer renamed a new file over it meanwhile, start again.
            let locked = file.metadata()?;
            match fs::metadata(&path) {
                Ok(now) if now.dev() == locked.dev() && now.ino() == locked.ino() => {
                    return Ok(LockedFile {
                        path,
                        file,
                        kind: Kind::Regular,
                    });
                }
                _ => continue,
            }
        }
    }

    /// The file's whole content as it is now (empty for a special file,
    /// which is never read back).
    pub(crate) fn content(&mut self) -> io::Result<Vec<u8>> {
        let mut content = Vec::new();
        if let Kind::Regular = self.kind {
            self.file.seek(SeekFrom::Start(0))?;
            self.file.read_to_end(&mut content)?;
        }
        Ok(content)
    }

    /// Adds `text` at the end of the file, whose current content is
    /// `content`, with a newline first if its last line lacks one.
    pub(crate) fn append(&mut self, content: &[u8], text: &str) -> io::Result<()> {
        let mut added = Vec::new();
        if content.last().is_some_and(|&b| b != b'\n') {
            added.push(b'\n');
        }
        added.extend_from_slice(text.as_bytes());
        match self.kind {
            Kind::Special => self.file.write_all(&added),
            Kind::Regular => {
                let mut whole = content.to_vec();
                whole.extend_from_slice(&added);
                self.replace(&whole)
            }
        }
    }

    /// Replaces the file's content by `content`.
    pub(crate) fn replace(&mut self, content: &[u8]) -> io::Result<()> {
        if let Kind::Special = self.kind {
            return Err(io::Error::other(
                "not a regular file, so lines can only be added to it",
            ));
        }
        let meta = self.file.metadata()?;
        if meta.nlink() > 1 {
            return self.write_in_place(content);
        }
        match self.write_beside(content, &meta)? {
            Replaced::Done => Ok(()),
            Replaced::OwnerNotKept => self.write_in_place(content),
        }
    }

    /// Writes `content` to `FILE.old` (replacing any older backup), with
    /// the file's mode, as `ssh-keygen -R` keeps one.
    pub(crate) fn back_up(&mut self, content: &[u8]) -> io::Result<PathBuf> {
        let mut backup = self.path.clone().into_os_string();
        backup.push(".old");
        let backup = PathBuf::from(backup);
        let meta = self.file.metadata()?;
        let temp = self.temporary(&meta)?;
        write_synced(temp.as_file(), content)?;
        temp.persist(&backup).map_err(|e| e.error)?;
        sync_dir(parent(&self.path))?;
        Ok(backup)
    }

    /// The file as the user named it, past symlinks.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Overwrites the file itself, keeping its inode, links and owner. Not
    /// atomic, but under the lock no fleet reads it half written.
    fn write_in_place(&mut self, content: &[u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(content)?;
        self.file.set_len(content.len() as u64)?;
        self.file.sync_all()
    }

    /// Writes `content` to a temporary file with the file's mode and owner
    /// and renames it over the file.
    fn write_beside(&mut self, content: &[u8], meta: &Metadata) -> io::Result<Replaced> {
        let temp = self.temporary(meta)?;
        let made = temp.as_file().metadata()?;
        if (made.uid(), made.gid()) != (meta.uid(), meta.gid())
            && std::os::unix::fs::fchown(temp.as_file(), Some(meta.uid()), Some(meta.gid()))
                .is_err()
        {
            return Ok(Replaced::OwnerNotKept);
        }
        write_synced(temp.as_file(), content)?;
        temp.persist(&self.path).map_err(|e| e.error)?;
        sync_dir(parent(&self.path))?;
        Ok(Replaced::Done)
    }

    /// A new temporary file beside the file, with its mode, after removing
    /// those that fleets that died left behind. It is deleted when dropped,
    /// and on SIGTERM.
    fn temporary(&self, meta: &Metadata) -> io::Result<TemporaryFile> {
        let dir = parent(&self.path);
        let prefix = temporary_prefix(&self.path);
        remove_stale(dir, &prefix);
        let mode = meta.permissions().mode() & 0o7777;
        let file = tempfile::Builder::new()
            .prefix(&prefix)
            .make_in(dir, |path| {
                // Registered as it is created, under the same lock that a
                // SIGTERM takes, so none escapes the cleanup.
                let mut registry = temporary_files();
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)?;
                registry.push(path.to_path_buf());
                Ok(file)
            })?;
        file.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
        Ok(TemporaryFile(Some(file)))
    }
}

/// How a replacement beside the file went.
enum Replaced {
    Done,
    /// The temporary file could not be given the file's owner.
    OwnerNotKept,
}

/// A temporary file that leaves the registry when it is renamed into place
/// or deleted.
struct TemporaryFile(Option<tempfile::NamedTempFile<File>>);

impl TemporaryFile {
    fn as_file(&self) -> &File {
        self.0.as_ref().expect("present until persisted").as_file()
    }

    fn persist(mut self, to: &Path) -> Result<File, tempfile::PersistError<File>> {
        let temp = self.0.take().expect("persisted once");
        let path = temp.path().to_path_buf();
        let result = temp.persist(to);
        temporary_files().retain(|p| *p != path);
        result
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        if let Some(temp) = self.0.take() {
            let path = temp.path().to_path_buf();
            drop(temp);
            temporary_files().retain(|p| *p != path);
        }
    }
}

/// `.known_hosts.fleet-` for `known_hosts`.
fn temporary_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.fleet-")
}

/// Removes temporary files of ours for this file. Called under the file's
/// lock, which every fleet writing it holds, so any found is stale.
fn remove_stale(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(prefix));
        if stale && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn write_synced(mut file: &File, content: &[u8]) -> io::Result<()> {
    file.write_all(content)?;
    file.sync_all()
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}
