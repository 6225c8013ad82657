//! `fleet audit`: the outside-in check of every selected host.

use std::sync::Arc;

use super::{block_on, execute, Context};
use crate::cli::{AuditArgs, GlobalArgs};
use crate::error::SetupError;
use crate::plan::audit::{AuditPlan, Expectation};
use crate::plan::Schedule;
use crate::report::OutputMode;
use crate::settings::Settings;

/// Audits the selected hosts.
pub(super) fn run(global: &GlobalArgs, args: &AuditArgs) -> Result<i32, SetupError> {
    let expectations = args
        .expect
        .iter()
        .map(|text| Expectation::parse(text).map_err(SetupError::Usage))
        .collect::<Result<Vec<_>, _>>()?;
    let context = Context::load(global)?;
    let targets = context.targets(&args.selection)?;
    let settings = Settings::new(
        global,
        &args.fanout,
        Schedule::default(),
        OutputMode::Audit {
            json: args.fanout.json,
        },
        &context.defaults,
        context.env.home.clone(),
    );
    let plan = AuditPlan::new(expectations);
    block_on(execute(Arc::new(plan), &targets, &settings))
}
