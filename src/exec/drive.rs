//! Drives one host plan: hands it what the connection found, does what it
//! asks for (steps, a fresh login, a port probe) and hands back each
//! result, until it is done.

use std::future::Future;

use crate::cause::Cause;
use crate::outcome::Outcome;
use crate::plan::{
    FreshLogin, FreshLoginResult, HostPlan, Next, PortProbe, Reached, Step, StepResult,
};

/// What a host plan can ask the executor for: steps on channels of the
/// host's connection, a fresh login, a port probe. Implemented by the SSH
/// worker, and by test doubles.
pub trait HostActions: Send {
    /// Runs `steps` (at once, where it can) and returns their results in
    /// the same order.
    fn run_all(&mut self, steps: Vec<Step>) -> impl Future<Output = Vec<StepResult>> + Send;

    /// Logs in to the host again, on a new connection.
    fn fresh_login(&mut self, _fresh: FreshLogin) -> impl Future<Output = FreshLoginResult> + Send {
        async {
            FreshLoginResult {
                login: Err(Cause::PlanError("this work cannot log in again".into())),
                auth_methods: None,
                step: None,
            }
        }
    }

    /// Tries a TCP connection to `port` of the host.
    fn probe(&mut self, _port: u16) -> impl Future<Output = PortProbe> + Send {
        async { PortProbe::Failed(Cause::PlanError("this work cannot probe ports".into())) }
    }
}

/// Runs `plan` to its outcome with `actions`.
pub async fn drive(
    plan: &mut dyn HostPlan,
    reached: &Reached,
    actions: &mut impl HostActions,
) -> Outcome {
    let mut next = plan.start(reached);
    loop {
        next = match next {
            Next::Done(outcome) => return outcome,
            Next::Run(step) => {
                let result = actions.run_all(vec![step]).await.pop();
                let lost = || StepResult::failed(Cause::PlanError("the step got no result".into()));
                plan.step_done(result.unwrap_or_else(lost))
            }
            Next::RunAll(steps) => {
                let results = actions.run_all(steps).await;
                plan.all_done(results)
            }
            Next::FreshLogin(fresh) => {
                let result = actions.fresh_login(fresh).await;
                plan.fresh_login_done(result)
            }
            Next::Probe(port) => {
                let probe = actions.probe(port).await;
                plan.probed(port, probe)
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

    impl HostActions for Scripted {
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
}
