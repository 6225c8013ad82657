//! `fleet run`: the user's command, or a local script, on every selected
//! host.

use std::sync::Arc;

use super::{block_on, execute, Context};
use crate::cli::{GlobalArgs, RunArgs};
use crate::error::SetupError;
use crate::last_run::LastRun;
use crate::plan::run::RunPlan;
use crate::plan::script::Script;
use crate::plan::{Expectations, Input, Schedule};
use crate::report::{out_dir, Files};
use crate::settings::{self, Settings};
use crate::spool::Spool;

/// Runs the command on the selected hosts.
pub(super) fn run(global: &GlobalArgs, args: &RunArgs) -> Result<i32, SetupError> {
    let context = Context::load(global)?;
    let targets = context.targets(&args.selection)?;
    let schedule = settings::schedule(&args.rollout, Schedule::default())?;
    let mut settings = Settings::new(
        global,
        &args.fanout,
        schedule,
        settings::output_mode(&args.output)?,
        &context.defaults,
        context.env.home.clone(),
    );
    let expect = Expectations::new(&args.expect, &args.expect_not).map_err(SetupError::Usage)?;
    // Read before anything else touches the disk (--out-dir), so a script
    // that cannot be sent leaves nothing behind.
    let script = args
        .script
        .as_deref()
        .map(|path| Script::read(path, &args.args))
        .transpose()?;
    let (command, shown) = match &script {
        Some(script) => (script.command.clone(), script.shown.clone()),
        None => {
            // clap gives the words after a leading `--` to `args`; without
            // --script they are the command, as they always were.
            let command = args.command.iter().chain(&args.args);
            let command = command.map(String::as_str).collect::<Vec<_>>().join(" ");
            (command.clone(), command)
        }
    };
    let output = &args.output;
    settings.report.prefix = settings::prefix(output, &targets)?;
    settings.report.checks = !expect.is_empty();
    settings.report.addresses = settings::addresses(&targets);
    if let Some(dir) = &output.out_dir {
        out_dir::prepare(dir).map_err(SetupError::Usage)?;
    }
    settings.report.files = Files {
        command: shown,
        out_dir: output.out_dir.clone(),
        html: output.report.clone(),
        rerun_file: output.rerun_file.clone(),
        last_run: Some(LastRun::path(&context.env.home)),
    };
    let timeout = args.timeout.or(context.defaults.timeout);
    block_on(async {
        let stdin = if let Some(script) = script {
            Some(Input::Bytes(script.bytes))
        } else if args.stdin {
            let spool = Spool::start(std::io::stdin()).map_err(SetupError::Stdin)?;
            Some(Input::Spool(spool))
        } else {
            None
        };
        let plan = RunPlan::new(command, stdin, timeout, expect);
        execute(Arc::new(plan), &targets, &settings).await
    })
}
