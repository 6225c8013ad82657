//! Output kept back for later, in bounded memory.
//!
//! Outputs that print at the end (grouped, per-host blocks, the HTML
//! report) must keep what hosts sent until then. A [`Spool`] holds one
//! such stream of bytes; its [`SpoolStore`] keeps the bytes of all its
//! spools in memory up to a budget, and past it appends them to one
//! anonymous temporary file, so a host printing a gigabyte costs a
//! gigabyte of disk, not of memory. The file is unlinked from the moment it
//! is created, so it disappears when the store is dropped, even if fleet is
//! killed.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

/// How many bytes a spilled spool gathers before it appends them to the
/// file: large writes, and few extents to remember.
const STAGE: usize = 64 * 1024;

/// Bytes kept for later, in memory or in the store's file.
#[derive(Debug, Default)]
pub(crate) struct Spool {
    /// Every byte while in memory; once spilled, the bytes not yet
    /// appended to the file.
    memory: Vec<u8>,
    /// Where the spilled bytes lie in the file, in order.
    extents: Vec<Extent>,
    spilled: bool,
}

/// A run of bytes in the spill file.
#[derive(Debug, Clone, Copy)]
struct Extent {
    offset: u64,
    len: u64,
}

/// The memory budget and spill file shared by a set of spools.
#[derive(Debug)]
pub(crate) struct SpoolStore {
    /// Created on the first spill.
    file: Option<File>,
    /// Where the next extent goes.
    end: u64,
    /// Bytes the spools hold in memory.
    in_memory: usize,
    budget: usize,
}

impl SpoolStore {
    /// A store that keeps up to `budget` bytes in memory.
    pub(crate) fn new(budget: usize) -> SpoolStore {
        SpoolStore {
            file: None,
            end: 0,
            in_memory: 0,
            budget,
        }
    }

    /// Appends `bytes` to `spool`; spills it first when the memory budget
    /// would be exceeded.
    pub(crate) fn push(&mut self, spool: &mut Spool, bytes: &[u8]) -> io::Result<()> {
        if !spool.spilled && self.in_memory + bytes.len() > self.budget {
            spool.spilled = true;
            self.flush(spool)?;
        }
        spool.memory.extend_from_slice(bytes);
        self.in_memory += bytes.len();
        if spool.spilled && spool.memory.len() >= STAGE {
            self.flush(spool)?;
        }
        Ok(())
    }

    /// The spool is complete: what a spilled spool still holds in memory
    /// goes to the file, and spare capacity is given back.
    pub(crate) fn seal(&mut self, spool: &mut Spool) -> io::Result<()> {
        if spool.spilled {
            self.flush(spool)?;
        }
        spool.memory.shrink_to_fit();
        Ok(())
    }

    /// Forgets `spool`, giving its memory back to the budget. (Its bytes in
    /// the file stay until the store is dropped.)
    pub(crate) fn release(&mut self, spool: Spool) {
        self.in_memory -= spool.memory.len();
    }

    /// Reads `spool` from its beginning.
    pub(crate) fn reader<'a>(&'a self, spool: &'a Spool) -> SpoolReader<'a> {
        SpoolReader {
            file: self.file.as_ref(),
            extents: &spool.extents,
            memory: &spool.memory,
            at: 0,
        }
    }

    /// Appends what `spool` holds in memory to the file.
    fn flush(&mut self, spool: &mut Spool) -> io::Result<()> {
        if spool.memory.is_empty() {
            return Ok(());
        }
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(tempfile::tempfile()?),
        };
        file.write_all_at(&spool.memory, self.end)?;
        let len = spool.memory.len() as u64;
        match spool.extents.last_mut() {
            Some(last) if last.offset + last.len == self.end => last.len += len,
            _ => spool.extents.push(Extent {
                offset: self.end,
                len,
            }),
        }
        self.end += len;
        self.in_memory -= spool.memory.len();
        spool.memory.clear();
        Ok(())
    }
}

/// Reads a spool's extents from the file, then its bytes in memory.
pub(crate) struct SpoolReader<'a> {
    file: Option<&'a File>,
    extents: &'a [Extent],
    memory: &'a [u8],
    /// How far into the first remaining extent reading has come.
    at: u64,
}

impl Read for SpoolReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let (Some(extent), Some(file)) = (self.extents.first(), self.file) {
            let left = extent.len - self.at;
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = file.read_at(&mut buf[..want], extent.offset + self.at)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.at += n as u64;
            if self.at == extent.len {
                self.extents = &self.extents[1..];
                self.at = 0;
            }
            return Ok(n);
        }
        self.memory.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(store: &SpoolStore, spool: &Spool) -> Vec<u8> {
        let mut bytes = Vec::new();
        store.reader(spool).read_to_end(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn spools_stay_in_memory_within_the_budget() {
        let mut store = SpoolStore::new(100);
        let mut spool = Spool::default();
        store.push(&mut spool, b"hello ").unwrap();
        store.push(&mut spool, b"world").unwrap();
        store.seal(&mut spool).unwrap();
        assert!(!spool.spilled);
        assert!(store.file.is_none());
        assert_eq!(contents(&store, &spool), b"hello world");
    }

    #[test]
    fn past_the_budget_spools_spill_and_read_back_whole() {
        let mut store = SpoolStore::new(1000);
        let mut small = Spool::default();
        let mut big = Spool::default();
        let mut other = Spool::default();
        store.push(&mut small, b"kept").unwrap();
        let mut expected = Vec::new();
        for i in 0..5000u32 {
            let chunk = format!("line {i}\n");
            store.push(&mut big, chunk.as_bytes()).unwrap();
            // Interleaved, so the two spilled spools' extents alternate.
            store.push(&mut other, b"o").unwrap();
            expected.extend_from_slice(chunk.as_bytes());
        }
        store.seal(&mut big).unwrap();
        store.seal(&mut other).unwrap();
        assert!(big.spilled && other.spilled && !small.spilled);
        assert!(store.in_memory <= 1000, "{}", store.in_memory);
        assert_eq!(contents(&store, &big), expected);
        assert_eq!(contents(&store, &other), vec![b'o'; 5000]);
        assert_eq!(contents(&store, &small), b"kept");
        store.release(small);
        store.release(big);
        store.release(other);
        assert_eq!(store.in_memory, 0);
    }
}
