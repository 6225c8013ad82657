//! Drives one host plan: hands it what the connection found, runs each
//! step it asks for, and hands back each result, until it is done.

use std::future::Future;

use crate::cause::Cause;
use crate::outcome::Outcome;
use crate::plan::{HostPlan, Next, Reached, Step, StepResult};

/// Something that can run steps: a logged-in connection, or a test double.
pub trait StepRunner: Send {
    /// Runs `steps` (at once, where the runner can) and returns their
    /// results in the same order.
    fn run_all(&mut self, steps: Vec<Step>) -> impl Future<Output = Vec<StepResult>> + Send;
}

/// The runner of work that never logged in: every step is a plan error.
pub struct NoChannels;

impl StepRunner for NoChannels {
    async fn run_all(&mut self, steps: Vec<Step>) -> Vec<StepResult> {
        let refused = || {
            StepResult::failed(Cause::PlanError(
                "a handshake-only plan asked to run a command".into(),
            ))
        };
        steps.iter().map(|_| refused()).collect()
    }
}

/// Runs `plan` to its outcome on `runner`.
pub async fn drive(
    plan: &mut dyn HostPlan,
    reached: &Reached,
    runner: &mut impl StepRunner,
) -> Outcome {
    let mut next = plan.start(reached);
    loop {
        next = match next {
            Next::Done(outcome) => return outcome,
            Next::Run(step) => {
                let result = runner.run_all(vec![step]).await.pop();
                let lost = || StepResult::failed(Cause::PlanError("the step got no result".into()));
                plan.step_done(result.unwrap_or_else(lost))
            }
            Next::RunAll(steps) => {
                let results = runner.run_all(steps).await;
                plan.all_done(results)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use bytes::Bytes;

    use super::*;
    use crate::plan::{tests::reached, Capture};

    /// Answers each step with the next scripted exit code, and keeps the
    /// commands it was asked to run.
    struct Scripted {
        exits: VecDeque<u32>,
        ran: Vec<String>,
    }

    impl StepRunner for Scripted {
        async fn run_all(&mut self, steps: Vec<Step>) -> Vec<StepResult> {
            let mut results = Vec::new();
            for step in steps {
                self.ran.push(step.command.clone());
                let code = self.exits.pop_front().expect("no more scripted steps");
                results.push(StepResult {
                    exit: Ok(code),
                    stdout: Bytes::from(format!("{} said {code}", step.command)),
                    stderr: Bytes::new(),
                    truncated: false,
                    verdict: None,
                });
            }
            results
        }
    }

    /// Checks, then either changes and verifies, or rolls back.
    struct CheckThenChange {
        state: u8,
    }

    fn step(command: &str) -> Next {
        Next::Run(Step {
            command: command.into(),
            stdin: None,
            output: Capture::Keep(1024),
            timeout: None,
            expect: None,
        })
    }

    impl HostPlan for CheckThenChange {
        fn start(&mut self, _: &Reached) -> Next {
            step("check")
        }

        fn step_done(&mut self, result: StepResult) -> Next {
            self.state += 1;
            match (self.state, result.exit) {
                // Already as wanted: nothing to change.
                (1, Ok(0)) => Next::Done(Outcome::ok()),
                (1, Ok(_)) => step("change"),
                (2, Ok(0)) => step("verify"),
                (2, Ok(_)) => Next::Done(Outcome::exited(2)),
                (3, Ok(0)) => Next::Done(Outcome::ok()),
                (3, _) => step("rollback"),
                _ => Next::Done(Outcome::exited(9)),
            }
        }
    }

    async fn run(exits: &[u32]) -> (Outcome, Vec<String>) {
        let mut runner = Scripted {
            exits: exits.iter().copied().collect(),
            ran: Vec::new(),
        };
        let mut plan = CheckThenChange { state: 0 };
        let outcome = drive(&mut plan, &reached(), &mut runner).await;
        (outcome, runner.ran)
    }

    #[tokio::test]
    async fn the_plan_chooses_each_step_from_the_last_result() {
        assert_eq!(run(&[0]).await, (Outcome::ok(), vec!["check".into()]));
        assert_eq!(
            run(&[1, 0, 0]).await,
            (
                Outcome::ok(),
                vec!["check".into(), "change".into(), "verify".into()]
            )
        );
        let (outcome, ran) = run(&[1, 0, 1, 0]).await;
        assert_eq!(ran, ["check", "change", "verify", "rollback"]);
        assert_eq!(outcome, Outcome::exited(9));
    }

    #[tokio::test]
    async fn a_handshake_only_runner_refuses_steps() {
        let mut plan = CheckThenChange { state: 0 };
        let outcome = drive(&mut plan, &reached(), &mut NoChannels).await;
        // The plan saw the refusal as its first result and stopped.
        assert_eq!(outcome, Outcome::exited(9));
    }
}
