//! `fleet run`: one step, the user's command, with its output streamed and,
//! with `--expect`, checked as it streams.

use std::sync::Arc;
use std::time::Duration;

use super::{
    Access, Capture, Expectations, HostPlan, Input, Next, Plan, Reached, Step, StepResult,
};
use crate::cause::Cause;
use crate::outcome::Outcome;

/// The same command on every host.
#[derive(Debug, Clone)]
pub struct RunPlan {
    step: Step,
}

impl RunPlan {
    /// `command` as the remote shell will read it, with `stdin` fed to
    /// every host, `timeout` on the command, and `expect` checked against
    /// its stdout.
    pub fn new(
        command: String,
        stdin: Option<Input>,
        timeout: Option<Duration>,
        expect: Expectations,
    ) -> RunPlan {
        RunPlan {
            step: Step {
                command,
                stdin,
                output: Capture::Stream,
                timeout,
                expect: (!expect.is_empty()).then(|| Arc::new(expect)),
            },
        }
    }
}

impl Plan for RunPlan {
    fn access(&self) -> Access {
        Access::Login
    }

    fn host(&self, _alias: &str) -> Box<dyn HostPlan> {
        Box::new(RunHost {
            step: Some(self.step.clone()),
        })
    }
}

/// The one step, until it has been handed out.
struct RunHost {
    step: Option<Step>,
}

impl HostPlan for RunHost {
    fn start(&mut self, _reached: &Reached) -> Next {
        match self.step.take() {
            Some(step) => Next::Run(step),
            None => Next::Done(Outcome::ok()),
        }
    }

    fn step_done(&mut self, result: StepResult) -> Next {
        Next::Done(outcome(result))
    }
}

/// A command that ran to an exit status but whose output missed a check is
/// a mismatch, whatever the status: `grep` exits 1 when it finds nothing,
/// and that is the check failing, not the command. Otherwise the exit
/// status (or why there is none) decides.
fn outcome(result: StepResult) -> Outcome {
    match (result.exit, result.verdict) {
        (Ok(exit), Some(verdict)) => Outcome::failed(Cause::Mismatch { verdict, exit }),
        (Ok(code), None) => Outcome::exited(code),
        (Err(cause), _) => Outcome::failed(cause),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::plan::Missed;
    use bytes::Bytes;

    fn result(exit: Result<u32, Cause>, verdict: Option<Missed>) -> StepResult {
        StepResult {
            exit,
            stdout: Bytes::new(),
            stderr: Bytes::new(),
            truncated: false,
            verdict,
        }
    }

    #[test]
    fn a_missed_check_is_a_mismatch_whatever_the_exit_status() {
        let missed = Missed {
            missing: vec!["^x$".into()],
            forbidden: Vec::new(),
        };
        for exit in [0, 1] {
            let outcome = outcome(result(Ok(exit), Some(missed.clone())));
            assert_eq!(outcome.status(), Status::Mismatch);
            assert_eq!(outcome.exit_code(), Some(exit));
        }
        assert_eq!(outcome(result(Ok(0), None)), Outcome::exited(0));
        assert_eq!(outcome(result(Ok(2), None)), Outcome::exited(2));
        let timeout = Cause::Timeout(Duration::from_secs(1));
        let timed_out = outcome(result(Err(timeout), Some(missed)));
        assert_eq!(timed_out.status(), Status::Timeout);
    }
}
