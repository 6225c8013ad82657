//! The open-files limit: a run holds one socket per host it works on at
//! once, so a wide fan-out needs more than the common soft limit of 1024.
//! The soft limit is raised to what the run needs, up to the hard limit;
//! a hard limit below that stops the run before it starts, saying so.

use rlimit::Resource;

use crate::error::SetupError;

/// Descriptors a run needs besides its connections: stdio, key files,
/// known_hosts, agent sockets, the async runtime's own.
const RESERVED: u64 = 64;

/// Makes room for `connections` sockets open at once.
pub fn ensure_open_files(connections: usize) -> Result<(), SetupError> {
    let needed = u64::try_from(connections)
        .unwrap_or(u64::MAX)
        .saturating_add(RESERVED);
    let Ok((soft, hard)) = Resource::NOFILE.get() else {
        // No limit can be read: nothing to raise, and nothing to refuse.
        return Ok(());
    };
    if soft >= needed {
        return Ok(());
    }
    if hard < needed {
        let fits = hard.saturating_sub(RESERVED);
        return Err(SetupError::Usage(format!(
            "this run keeps up to {connections} connections open, but the hard limit on open \
             files is {hard} (ulimit -Hn); lower --parallel to {fits} or less, or raise the \
             limit"
        )));
    }
    Resource::NOFILE.set(needed, hard).map_err(|e| {
        SetupError::Usage(format!(
            "could not raise the open-files limit from {soft} to {needed}: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_rises_to_what_is_needed() {
        let (_, hard) = Resource::NOFILE.get().expect("a limit");
        let connections = usize::try_from(hard.min(4096) - RESERVED).unwrap();
        ensure_open_files(connections).expect("within the hard limit");
        let (soft, _) = Resource::NOFILE.get().expect("a limit");
        assert!(soft >= connections as u64 + RESERVED, "{soft}");
        let error = ensure_open_files(usize::MAX).expect_err("beyond any hard limit");
        assert!(error.to_string().contains("lower --parallel"), "{error}");
    }
}
