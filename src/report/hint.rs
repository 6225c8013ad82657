//! The advice printed under each kind of failure in the summary, chosen by
//! the failure's [`Cause`] and kept in one place so the wording, and the
//! spelling of fleet's own commands and flags, is easy to keep right.

use crate::cause::{Cause, SkipReason};
use crate::outcome::Status;

/// Marks where [`hint`] texts want the folded list of the hosts concerned.
pub(crate) const HOSTS: &str = "{hosts}";

const UNREACHABLE: &str = "check the address (HostName, DNS), that firewalls and security groups \
    let the SSH port through, and that the machine is running";
const REFUSED: &str = "the host answered but nothing listens on that port: check that sshd is \
    running and which Port it listens on";
const AUTH_FAILED: &str = "check that IdentityFile names the right key, that its public key is in \
    the remote user's ~/.ssh/authorized_keys (on a cloud instance: the key pair it was launched \
    with), that User is right, and that the key file is private (chmod 400 or 600)";
const HOST_KEY_CHANGED: &str =
    "the host key differs from the one known_hosts records at the lines \
    shown: a reinstalled host, or someone in the middle. Verify the new fingerprint out of band \
    (`fleet keyscan --fingerprints {hosts}` shows it), then run `fleet known-hosts forget {hosts}` \
    and run again with `-o StrictHostKeyChecking=accept-new`";
const CERTIFICATE_REQUIRED: &str = "known_hosts trusts a certificate authority for these hosts, \
    but they showed no host certificate it signed that is valid now and names them: check the \
    host's HostCertificate and its validity period, or verify its plain key out of band and \
    learn it with `-o StrictHostKeyChecking=accept-new`";
const HOST_KEY_REVOKED: &str = "this key was deliberately marked @revoked at the line shown and \
    must not be trusted again: find out why it was revoked before reaching these hosts, and do \
    not delete that line or accept the key anew";
const HOST_KEY_UNKNOWN: &str = "known_hosts has no key for these hosts: verify their fingerprints \
    out of band, then add them to known_hosts or run again with \
    `-o StrictHostKeyChecking=accept-new`";
const KNOWN_HOSTS_UNREADABLE: &str = "a @revoked or @cert-authority line that names these \
    hosts cannot be read, so fleet refuses them rather than guess what it meant: fix or delete \
    the line shown";
const KEY_MISMATCH: &str = "these hosts presented keys other than the fingerprints given out of \
    band: a man in the middle, a reinstalled host, or a stale console log. Nothing was written \
    for them; find out which before trusting them";
const UNEXPECTED: &str = "these hosts do not show what --expect asks for: change them, then \
    run fleet audit '{hosts}' again to prove it";
const TIMEOUT: &str = "the command ran longer than --timeout allows: raise it, or check whether \
    the command waits for input";
const FAILED: &str = "the command ran but exited non-zero or was killed; to retry just these \
    hosts: fleet run '{hosts}' …";
const OUTPUT_MISMATCH: &str =
    "the command ran but its output did not pass the --expect checks; to see \
    what these hosts printed: fleet run -b '{hosts}' …";
const ROLLED_BACK: &str = "the change was made, failed its check over a fresh login, and was \
    undone: each host runs its old configuration again, the backups stay beside it; the reason \
    is shown above";
const WOULD_LOCK_OUT: &str = "nothing was changed: turning passwords off where this run did not \
    log in with a key could leave no way in. Install a key first (fleet keys install '{hosts}' \
    --password), then run this again";
const NEEDS_ROOT: &str = "nothing was changed: log in as root, give the login user sudo, or run \
    again with --sudo-password if sudo asks for one";
const CHANGE_REFUSED: &str = "nothing was left changed on these hosts, for the reason shown";
const UNDO_FAILED: &str = "the change failed and putting the backups back did not bring a fresh \
    login back: the first login was kept open as long as it could, but log in now through \
    another way (console, an open session) and restore the FILE.fleet-RUN backups named above";
const SKIPPED: &str = "not started because the run was interrupted";
const OVER_BUDGET: &str = "not started because earlier stages failed on more hosts than \
    --max-failures allows: look at those first, then run '{hosts}' again";
const INTERRUPTED: &str = "abandoned by the second Ctrl-C: the command may still be running on \
    these hosts";

/// The advice for hosts that failed because of `cause`, if there is any
/// worth giving; [`HOSTS`] in it stands for those hosts. Mostly the status
/// decides; a few causes have advice of their own.
pub(crate) fn hint(cause: &Cause) -> Option<&'static str> {
    let cause = cause.root();
    let text = match (cause.status(), cause) {
        (_, Cause::Refused) => REFUSED,
        (_, Cause::CertificateRequired { .. }) => CERTIFICATE_REQUIRED,
        (_, Cause::KnownHostsUnreadable { .. }) => KNOWN_HOSTS_UNREADABLE,
        (_, Cause::Unexpected(_)) => UNEXPECTED,
        (_, Cause::FingerprintMismatch { .. }) => KEY_MISMATCH,
        (_, Cause::Mismatch { .. }) => OUTPUT_MISMATCH,
        (_, Cause::Skipped(SkipReason::FailureBudget)) => OVER_BUDGET,
        (_, Cause::WouldLockOut(_)) => WOULD_LOCK_OUT,
        (_, Cause::NeedsRoot(_)) => NEEDS_ROOT,
        (_, Cause::ChangeRefused(_)) => CHANGE_REFUSED,
        (_, Cause::UndoFailed(_)) => UNDO_FAILED,
        (Status::Unreachable, _) => UNREACHABLE,
        (Status::HostKeyUnknown, _) => HOST_KEY_UNKNOWN,
        (Status::HostKeyChanged, _) => HOST_KEY_CHANGED,
        (Status::HostKeyRevoked, _) => HOST_KEY_REVOKED,
        (Status::AuthFailed, _) => AUTH_FAILED,
        (Status::Timeout, _) => TIMEOUT,
        (Status::Failed, _) => FAILED,
        (Status::Skipped, _) => SKIPPED,
        (Status::Interrupted, _) => INTERRUPTED,
        (Status::RolledBack, _) => ROLLED_BACK,
        (
            Status::Ok | Status::Changed | Status::Unchanged | Status::Error | Status::Mismatch,
            _,
        ) => return None,
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_key_is_never_advised_to_be_accepted() {
        let revoked = Cause::HostKeyRevoked {
            fingerprint: "ssh-ed25519 SHA256:x".into(),
            at: crate::location::Location::new("kh", 1),
        };
        let text = hint(&revoked).expect("a hint");
        assert!(!text.contains("accept-new"), "{text}");
        assert!(text.contains("must not be trusted again"), "{text}");
    }

    #[test]
    fn jump_failures_get_the_hint_of_their_cause() {
        let jump = Cause::Jump {
            host: "bastion".into(),
            cause: Box::new(Cause::Refused),
        };
        assert_eq!(hint(&jump), Some(REFUSED));
    }
}
