//! `fleet ls`: what the selectors resolve to, without connecting.

use std::collections::HashMap;

use super::{print_warnings, write_stdout, Context};
use crate::cli::{GlobalArgs, LsArgs};
use crate::error::SetupError;
use crate::exec;
use crate::report;

pub(super) fn run(global: &GlobalArgs, args: &LsArgs) -> Result<i32, SetupError> {
    let targets = Context::load(global)?.targets(&args.selection)?;
    let (known_hosts, warnings) = exec::load_known_hosts(&targets)?;
    print_warnings(&warnings);
    let known: HashMap<&str, bool> = targets
        .iter()
        .zip(&known_hosts)
        .map(|(t, k)| (t.alias.as_str(), k.knows(&t.host_id())))
        .collect();
    let mut listing = Vec::new();
    report::listing::write_listing(&mut listing, &targets, &|t| known[t.alias.as_str()])
        .map_err(SetupError::Output)?;
    write_stdout(&listing)
}
