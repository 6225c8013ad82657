//! fleet's own stdin, spooled, for `fleet run --stdin`.
//!
//! `fleet run --stdin` must give every host the whole input, though hosts
//! start at different times (`--parallel`, stages) and read at their own
//! pace, and the input may be larger than memory. So stdin is copied, as it
//! arrives, into a private temporary file (mode 0600, already unlinked),
//! and each host reads it from there at its own offset, waiting for more
//! until the input ends. Memory stays at one buffer per host, and the copy
//! runs at most [`AHEAD`] past the furthest any host has read, so an
//! endless input (`yes | fleet run --stdin …`) never fills the disk.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Condvar, Mutex};

use bytes::Bytes;
use tokio::sync::watch;

/// How much of the spool a host reads at a time.
const CHUNK: usize = 64 * 1024;

/// How far the copy may run ahead of the furthest reader.
pub const AHEAD: u64 = 64 * 1024 * 1024;

/// fleet's stdin, copied into a temporary file as it arrives.
#[derive(Debug)]
pub struct Spool {
    file: File,
    /// How far the file is written, and whether the input has ended.
    written: watch::Receiver<Written>,
    /// The furthest offset any reader has reached; the copy waits on it.
    furthest: Arc<Furthest>,
}

/// The furthest offset read, which the copying thread waits on.
#[derive(Debug, Default)]
struct Furthest {
    offset: Mutex<u64>,
    moved: Condvar,
}

impl Furthest {
    fn reached(&self, offset: u64) {
        let mut furthest = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        if offset > *furthest {
            *furthest = offset;
            self.moved.notify_all();
        }
    }

    /// Waits until a reader is within [`AHEAD`] of `written`.
    fn wait_for_readers(&self, written: u64) {
        let mut furthest = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        while written.saturating_sub(*furthest) >= AHEAD {
            furthest = self.moved.wait(furthest).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The state of the copy.
#[derive(Debug, Clone, Copy, Default)]
struct Written {
    bytes: u64,
    done: bool,
}

impl Spool {
    /// Starts copying `input` into a new temporary file, on a thread of its
    /// own; the spool can be read while the copy goes on.
    pub fn start(mut input: impl Read + Send + 'static) -> io::Result<Arc<Spool>> {
        let file = tempfile::tempfile()?;
        let mut writer = file.try_clone()?;
        let (progress, written) = watch::channel(Written::default());
        let furthest = Arc::new(Furthest::default());
        let readers = furthest.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0; CHUNK];
            let mut bytes = 0u64;
            // A read error ends the input where it broke, as a closed pipe
            // would; hosts see what arrived until then.
            loop {
                readers.wait_for_readers(bytes);
                let Ok(n @ 1..) = input.read(&mut buf) else {
                    break;
                };
                if writer.write_all(&buf[..n]).is_err() {
                    break;
                }
                bytes += n as u64;
                progress.send_replace(Written { bytes, done: false });
            }
            progress.send_replace(Written { bytes, done: true });
        });
        Ok(Arc::new(Spool {
            file,
            written,
            furthest,
        }))
    }

    /// A reader from the start of the input.
    pub fn reader(self: &Arc<Spool>) -> SpoolReader {
        SpoolReader {
            spool: self.clone(),
            offset: 0,
            written: self.written.clone(),
        }
    }
}

/// One host's position in the spool.
pub struct SpoolReader {
    spool: Arc<Spool>,
    offset: u64,
    written: watch::Receiver<Written>,
}

impl SpoolReader {
    /// The next piece of input, waiting for it to arrive; `None` once the
    /// input has ended and all of it was read.
    pub async fn next(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            let written = *self.written.borrow_and_update();
            if written.bytes > self.offset {
                let len = (written.bytes - self.offset).min(CHUNK as u64) as usize;
                let spool = self.spool.clone();
                let offset = self.offset;
                let piece = tokio::task::spawn_blocking(move || {
                    let mut buf = vec![0; len];
                    spool.file.read_exact_at(&mut buf, offset).map(|()| buf)
                })
                .await
                .map_err(io::Error::other)??;
                self.offset += len as u64;
                self.spool.furthest.reached(self.offset);
                return Ok(Some(Bytes::from(piece)));
            }
            if written.done {
                return Ok(None);
            }
            if self.written.changed().await.is_err() {
                // The copying thread is gone, having said all it will.
                let written = *self.written.borrow();
                if written.bytes <= self.offset {
                    return Ok(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(mut reader: SpoolReader) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(piece) = reader.next().await.expect("readable") {
            all.extend_from_slice(&piece);
        }
        all
    }

    #[tokio::test]
    async fn every_reader_gets_all_of_the_input_from_the_start() {
        let input: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let spool = Spool::start(io::Cursor::new(input.clone())).expect("a spool");
        let early = tokio::spawn(read_all(spool.reader()));
        assert_eq!(early.await.unwrap(), input);
        // A host that starts after the input has ended still gets it all.
        assert_eq!(read_all(spool.reader()).await, input);
    }

    #[tokio::test]
    async fn an_endless_input_is_copied_only_so_far_ahead() {
        let spool = Spool::start(io::repeat(b'y')).expect("a spool");
        let mut reader = spool.reader();
        let first = reader.next().await.expect("readable").expect("a piece");
        assert!(!first.is_empty());
        // With one piece read, the copy stops about AHEAD further on.
        let mut written = spool.written.clone();
        loop {
            let bytes = written.borrow().bytes;
            if bytes >= AHEAD {
                break;
            }
            written.changed().await.expect("the copy goes on");
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let bytes = written.borrow().bytes;
        assert!(
            bytes <= AHEAD + first.len() as u64 + CHUNK as u64,
            "{bytes}"
        );
    }

    #[tokio::test]
    async fn readers_wait_for_input_that_is_still_coming() {
        let (mut sender, receiver) = std::os::unix::net::UnixStream::pair().expect("a pipe");
        let spool = Spool::start(receiver).expect("a spool");
        let reader = tokio::spawn(read_all(spool.reader()));
        sender.write_all(b"first ").unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        sender.write_all(b"second").unwrap();
        drop(sender);
        assert_eq!(reader.await.unwrap(), b"first second");
    }
}
