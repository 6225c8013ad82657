//! `fleet run`: the user's command on every selected host.

use std::sync::Arc;

use super::{block_on, execute, Context};
use crate::cli::{GlobalArgs, RunArgs};
use crate::error::SetupError;
use crate::plan::run::RunPlan;
use crate::plan::{Input, Schedule};
use crate::report::OutputMode;
use crate::settings::{self, Settings};
use crate::spool::Spool;

/// Runs the command on the selected hosts.
pub(super) fn run(global: &GlobalArgs, args: &RunArgs) -> Result<i32, SetupError> {
    let context = Context::load(global)?;
    let targets = context.targets(&args.selection)?;
    let schedule = settings::schedule(&args.rollout, Schedule::default())?;
    let settings = Settings::new(
        global,
        &args.fanout,
        schedule,
        OutputMode::Lines,
        &context.defaults,
        context.env.home.clone(),
    );
    let timeout = args.timeout.or(context.defaults.timeout);
    block_on(async {
        let stdin = if args.stdin {
            let spool = Spool::start(std::io::stdin()).map_err(SetupError::Stdin)?;
            Some(Input::Spool(spool))
        } else {
            None
        };
        let plan = RunPlan::new(args.command.join(" "), stdin, timeout);
        execute(Arc::new(plan), &targets, &settings).await
    })
}
