//! `fleet run`: one step, the user's command, with its output streamed.

use std::time::Duration;

use super::{Access, Capture, HostPlan, Input, Next, Plan, Reached, Step, StepResult};
use crate::outcome::Outcome;

/// The same command on every host.
#[derive(Debug, Clone)]
pub struct RunPlan {
    step: Step,
}

impl RunPlan {
    /// `command` as the remote shell will read it, with `stdin` fed to
    /// every host and `timeout` on the command.
    pub fn new(command: String, stdin: Option<Input>, timeout: Option<Duration>) -> RunPlan {
        RunPlan {
            step: Step {
                command,
                stdin,
                output: Capture::Stream,
                timeout,
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
        Next::Done(match result.exit {
            Ok(code) => Outcome::exited(code),
            Err(cause) => Outcome::failed(cause),
        })
    }
}
