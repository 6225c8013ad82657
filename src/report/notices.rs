//! What the run itself has to say while it goes: stages starting, Ctrl-C,
//! a spent failure budget. One line each on stderr, in every output mode,
//! printed through the [`Terminal`] so the progress bar stays out of the way.

use std::io::{self, Write};

use crate::event::{Event, Notice, Stage};
use crate::report::{Output, Terminal};

/// Prints stage and notice events.
pub(crate) struct Notices;

impl Output for Notices {
    fn event(&mut self, event: &Event, term: &mut Terminal) -> io::Result<()> {
        let out = term.stderr();
        match event {
            Event::StageStarted { stage } => writeln!(out, "fleet: {}", describe(stage)),
            Event::Notice(Notice::Draining) => writeln!(
                out,
                "fleet: interrupted: starting no new hosts, waiting for running ones \
                 (Ctrl-C again to abort)"
            ),
            Event::Notice(Notice::Aborting) => {
                writeln!(out, "fleet: aborting: abandoning the running hosts")
            }
            Event::Notice(Notice::BudgetExhausted { failures, allowed }) => writeln!(
                out,
                "fleet: {failures} {} failed, more than --max-failures allows ({allowed}); \
                 no further stage starts",
                if *failures == 1 { "host" } else { "hosts" }
            ),
            _ => Ok(()),
        }
    }
}

/// `canary (stage 1 of 6): 1 host`, `stage 2 of 6: 10 hosts`.
fn describe(stage: &Stage) -> String {
    let hosts = if stage.hosts == 1 { "host" } else { "hosts" };
    let name = if stage.canary {
        "canary (stage"
    } else {
        "stage"
    };
    let close = if stage.canary { ")" } else { "" };
    format!(
        "{name} {} of {}{close}: {} {hosts}",
        stage.number, stage.of, stage.hosts
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{run, started, PLAIN};

    #[test]
    fn stages_and_notices_are_one_line_each_on_stderr() {
        let (stdout, stderr) = run(
            PLAIN,
            &[
                started(&["a", "b", "c"]),
                Event::StageStarted {
                    stage: Stage {
                        number: 1,
                        of: 3,
                        canary: true,
                        hosts: 1,
                    },
                },
                Event::Notice(Notice::BudgetExhausted {
                    failures: 1,
                    allowed: 0,
                }),
                Event::StageStarted {
                    stage: Stage {
                        number: 2,
                        of: 3,
                        canary: false,
                        hosts: 2,
                    },
                },
                Event::Notice(Notice::Draining),
            ],
        );
        assert_eq!(stdout, "");
        assert_eq!(
            stderr,
            "fleet: canary (stage 1 of 3): 1 host\n\
             fleet: 1 host failed, more than --max-failures allows (0); no further stage starts\n\
             fleet: stage 2 of 3: 2 hosts\n\
             fleet: interrupted: starting no new hosts, waiting for running ones (Ctrl-C again to abort)\n"
        );
    }
}
