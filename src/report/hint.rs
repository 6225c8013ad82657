//! The advice printed under each kind of failure in the summary, kept in one
//! place so the wording, and the spelling of fleet's own commands and flags,
//! is easy to keep right.

use crate::event::Status;

/// Marks where [`hint`] texts want the folded list of the hosts concerned.
pub(crate) const HOSTS: &str = "{hosts}";

const UNREACHABLE: &str = "check the address (HostName, DNS), that firewalls and security groups \
    let the SSH port through, and that the machine is running";
const REFUSED: &str = "the host answered but nothing listens on that port: check that sshd is \
    running and which Port it listens on";
const AUTH_FAILED: &str = "check that IdentityFile names the right key, that its public key is in \
    the remote user's ~/.ssh/authorized_keys (on a cloud instance: the key pair it was launched \
    with), that User is right, and that the key file is private (chmod 400 or 600)";
const HOST_KEY_CHANGED: &str = "the host key differs from the one known_hosts records at the line \
    shown: a reinstalled host, or someone in the middle. Verify the new fingerprint out of band, \
    then delete that line (or `ssh-keygen -R HOST -f FILE`) and run {hosts} again with \
    `-o StrictHostKeyChecking=accept-new`";
const HOST_KEY_UNKNOWN: &str = "known_hosts has no key for these hosts: verify their fingerprints \
    out of band, then add them to known_hosts or run again with \
    `-o StrictHostKeyChecking=accept-new`";
const TIMEOUT: &str = "the command ran longer than --timeout allows: raise it, or check whether \
    the command waits for input";
const FAILED: &str = "the command ran but exited non-zero or was killed; to retry just these \
    hosts: fleet run '{hosts}' …";
const SKIPPED: &str = "not started because the run was interrupted";

/// The advice for hosts that ended with `status` because of `cause`, if
/// there is any worth giving; [`HOSTS`] in it stands for those hosts.
pub(crate) fn hint(status: Status, cause: &str) -> Option<&'static str> {
    let text = match status {
        Status::Ok | Status::Error => return None,
        Status::Unreachable if cause.contains("refused") => REFUSED,
        Status::Unreachable => UNREACHABLE,
        Status::AuthFailed => AUTH_FAILED,
        Status::HostKeyChanged => HOST_KEY_CHANGED,
        Status::HostKeyUnknown => HOST_KEY_UNKNOWN,
        Status::Timeout => TIMEOUT,
        Status::Failed => FAILED,
        Status::Skipped => SKIPPED,
    };
    Some(text)
}
