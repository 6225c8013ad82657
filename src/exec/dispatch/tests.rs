//! The dispatcher driven by scripted workers, in paused time: each host
//! "works" for a scripted while, then ends as scripted, so stages, the
//! failure budget, Ctrl-C and panics can be checked to the event.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::*;
use crate::cause::SkipReason;
use crate::error::exit;
use crate::outcome::Status;
use crate::plan::Share;

/// How a scripted host ends.
#[derive(Clone)]
enum Ends {
    Exit(u32),
    Fails(Cause),
    Panics,
}

/// A host of the script: its name, how long it works and how it ends.
#[derive(Clone)]
struct Scripted {
    name: &'static str,
    works: Duration,
    ends: Ends,
}

fn host(name: &'static str, secs: u64, ends: Ends) -> Scripted {
    Scripted {
        name,
        works: Duration::from_secs(secs),
        ends,
    }
}

/// Counts how many hosts work at once, and the most there ever were.
#[derive(Default)]
struct Script {
    now: AtomicUsize,
    most: AtomicUsize,
    started: Mutex<Vec<&'static str>>,
}

impl Worker for Script {
    type Host = Scripted;

    fn alias(&self, host: &Scripted) -> Arc<str> {
        host.name.into()
    }

    async fn work(self: Arc<Self>, host: Scripted, _events: mpsc::Sender<Event>) -> Outcome {
        self.started.lock().unwrap().push(host.name);
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        // Leaves the count right even when the task is cut off.
        struct Leave<'a>(&'a AtomicUsize);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _leave = Leave(&self.now);
        tokio::time::sleep(host.works).await;
        match host.ends {
            Ends::Exit(code) => Outcome::exited(code),
            Ends::Fails(cause) => Outcome::failed(cause),
            Ends::Panics => panic!("scripted panic on {}", host.name),
        }
    }
}

/// What a run produced: its end, its events, and the script's counters.
struct Ran {
    end: RunEnd,
    events: Vec<Event>,
    script: Arc<Script>,
}

impl Ran {
    /// Each host's status, in the order the hosts finished.
    fn finished(&self) -> Vec<(String, Status)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::HostFinished { host, outcome, .. } => {
                    Some((host.to_string(), outcome.status()))
                }
                _ => None,
            })
            .collect()
    }

    fn outcome(&self, name: &str) -> Outcome {
        self.events
            .iter()
            .find_map(|e| match e {
                Event::HostFinished { host, outcome, .. } if &**host == name => {
                    Some(outcome.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("{name} never finished"))
    }

    /// Where in the event stream `name` started or finished.
    fn position(&self, name: &str, started: bool) -> usize {
        self.events
            .iter()
            .position(|e| match e {
                Event::HostStarted { host, .. } => started && &**host == name,
                Event::HostFinished { host, .. } => !started && &**host == name,
                _ => false,
            })
            .unwrap_or_else(|| panic!("no event for {name}"))
    }

    fn notices(&self) -> Vec<Notice> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Notice(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }
}

async fn dispatch_with(
    hosts: Vec<Scripted>,
    schedule: Schedule,
    parallel: usize,
    interrupts: Interrupts,
) -> Ran {
    let script = Arc::new(Script::default());
    let (events, mut received) = mpsc::channel(4096);
    let end = dispatch(
        script.clone(),
        hosts,
        &schedule,
        parallel,
        events,
        interrupts,
    )
    .await;
    let mut seen = Vec::new();
    while let Ok(event) = received.try_recv() {
        seen.push(event);
    }
    Ran {
        end,
        events: seen,
        script,
    }
}

fn ok_hosts(names: &[&'static str]) -> Vec<Scripted> {
    names.iter().map(|n| host(n, 1, Ends::Exit(0))).collect()
}

#[tokio::test(start_paused = true)]
async fn every_host_is_reported_once_at_most_parallel_at_a_time() {
    let names = ["a", "b", "c", "d", "e", "f", "g"];
    let ran = dispatch_with(
        ok_hosts(&names),
        Schedule::default(),
        3,
        Interrupts::default(),
    )
    .await;
    assert_eq!(ran.end.exit_code, exit::OK);
    assert_eq!(ran.end.stats.count(Status::Ok), 7);
    assert_eq!(ran.script.most.load(Ordering::SeqCst), 3);
    let mut finished: Vec<String> = ran.finished().into_iter().map(|(h, _)| h).collect();
    finished.sort();
    assert_eq!(finished, names);
    assert!(matches!(ran.events.first(), Some(Event::RunStarted { hosts }) if hosts.len() == 7));
    assert!(matches!(ran.events.last(), Some(Event::RunFinished(end)) if *end == ran.end));
    // The counts travel with the events: the last host's finish sees all.
    let last_finish = ran
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::HostFinished { stats, .. } => Some(*stats),
            _ => None,
        })
        .unwrap();
    assert_eq!((last_finish.finished(), last_finish.running), (7, 0));
    // Seven hosts of one second, three at a time: three rounds.
    assert_eq!(ran.end.elapsed, Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn stages_run_one_after_another() {
    let schedule = Schedule {
        canary: 1,
        batch: Some(Share::Hosts(2)),
        max_failures: None,
    };
    let ran = dispatch_with(
        ok_hosts(&["a", "b", "c", "d", "e"]),
        schedule,
        8,
        Interrupts::default(),
    )
    .await;
    let stages: Vec<Stage> = ran
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StageStarted { stage } => Some(stage.clone()),
            _ => None,
        })
        .collect();
    let shape: Vec<(usize, bool, usize)> = stages
        .iter()
        .map(|s| (s.number, s.canary, s.hosts))
        .collect();
    assert_eq!(shape, [(1, true, 1), (2, false, 2), (3, false, 2)]);
    assert!(stages.iter().all(|s| s.of == 3));
    // Nothing of a stage starts before the one before it has finished.
    assert!(ran.position("a", false) < ran.position("b", true));
    assert!(ran.position("c", false) < ran.position("d", true));
    assert!(ran.position("b", false) < ran.position("d", true));
    assert_eq!(ran.end.elapsed, Duration::from_secs(3));
    assert_eq!(ran.end.exit_code, exit::OK);
}

#[tokio::test(start_paused = true)]
async fn a_spent_failure_budget_skips_the_later_stages() {
    let schedule = Schedule {
        canary: 1,
        batch: Some(Share::Hosts(2)),
        max_failures: Some(Share::Hosts(0)),
    };
    let hosts = vec![
        host("a", 1, Ends::Exit(0)),
        host("b", 1, Ends::Exit(0)),
        host("c", 1, Ends::Fails(Cause::Refused)),
        host("d", 1, Ends::Exit(0)),
        host("e", 1, Ends::Exit(0)),
    ];
    let ran = dispatch_with(hosts, schedule, 8, Interrupts::default()).await;
    assert_eq!(
        ran.finished(),
        [
            ("a".into(), Status::Ok),
            ("b".into(), Status::Ok),
            ("c".into(), Status::Unreachable),
            ("d".into(), Status::Skipped),
            ("e".into(), Status::Skipped),
        ]
    );
    assert_eq!(
        ran.outcome("d").cause(),
        Some(&Cause::Skipped(SkipReason::FailureBudget))
    );
    assert_eq!(
        ran.notices(),
        [Notice::BudgetExhausted {
            failures: 1,
            allowed: 0
        }]
    );
    assert_eq!(*ran.script.started.lock().unwrap(), ["a", "b", "c"]);
    assert_eq!(ran.end.exit_code, exit::UNREACHED);
}

#[tokio::test(start_paused = true)]
async fn the_budget_allows_what_it_says() {
    let schedule = Schedule {
        canary: 0,
        batch: Some(Share::Hosts(1)),
        max_failures: Some(Share::Percent(50)),
    };
    let hosts = vec![
        host("a", 1, Ends::Exit(1)),
        host("b", 1, Ends::Exit(0)),
        host("c", 1, Ends::Exit(1)),
        host("d", 1, Ends::Exit(0)),
    ];
    let ran = dispatch_with(hosts, schedule, 8, Interrupts::default()).await;
    // Two of four may fail: every host runs, and the run exits 1.
    assert!(ran.finished().iter().all(|(_, s)| *s != Status::Skipped));
    assert!(ran.notices().is_empty());
    assert_eq!(ran.end.exit_code, exit::COMMAND_FAILED);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_host_is_an_error_and_the_run_goes_on() {
    let hosts = vec![
        host("a", 1, Ends::Exit(0)),
        host("b", 1, Ends::Panics),
        host("c", 2, Ends::Exit(0)),
    ];
    let ran = dispatch_with(hosts, Schedule::default(), 8, Interrupts::default()).await;
    let b = ran.outcome("b");
    assert_eq!(b.status(), Status::Error);
    assert!(
        matches!(b.cause(), Some(Cause::Panicked(m)) if m == "scripted panic on b"),
        "{b:?}"
    );
    assert_eq!(ran.outcome("c").status(), Status::Ok);
    assert_eq!(ran.end.stats.finished(), 3);
    assert_eq!(ran.end.exit_code, exit::UNREACHED);
}

#[tokio::test(start_paused = true)]
async fn the_first_ctrl_c_drains_the_second_aborts() {
    let names = ["a", "b", "c", "d"];
    let hosts = names.iter().map(|n| host(n, 10, Ends::Exit(0))).collect();
    let interrupts = Interrupts::default();
    let ctrl_c = interrupts.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        ctrl_c.drain.cancel();
    });
    let ran = dispatch_with(hosts, Schedule::default(), 2, interrupts).await;
    // The two running hosts finished their work; the two waiting never
    // started.
    assert_eq!(ran.outcome("a").status(), Status::Ok);
    assert_eq!(ran.outcome("b").status(), Status::Ok);
    assert_eq!(
        ran.outcome("c").cause(),
        Some(&Cause::Skipped(SkipReason::Interrupted))
    );
    assert_eq!(ran.outcome("d").status(), Status::Skipped);
    assert_eq!(ran.notices(), [Notice::Draining]);
    assert_eq!(ran.end.elapsed, Duration::from_secs(10));
    assert_eq!(ran.end.exit_code, exit::INTERRUPTED);

    let names = ["a", "b", "c"];
    let hosts = names.iter().map(|n| host(n, 10, Ends::Exit(0))).collect();
    let interrupts = Interrupts::default();
    let ctrl_c = interrupts.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        ctrl_c.drain.cancel();
        tokio::time::sleep(Duration::from_secs(1)).await;
        ctrl_c.kill.cancel();
    });
    let ran = dispatch_with(hosts, Schedule::default(), 2, interrupts).await;
    assert_eq!(ran.outcome("a").cause(), Some(&Cause::Interrupted));
    assert_eq!(ran.outcome("b").status(), Status::Interrupted);
    assert_eq!(ran.outcome("c").status(), Status::Skipped);
    assert_eq!(ran.notices(), [Notice::Draining, Notice::Aborting]);
    assert_eq!(ran.end.elapsed, Duration::from_secs(2));
    assert_eq!(
        ran.script.now.load(Ordering::SeqCst),
        0,
        "abandoned work is dropped"
    );
    assert_eq!(ran.end.exit_code, exit::INTERRUPTED);
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_between_stages_starts_no_further_stage() {
    let schedule = Schedule {
        canary: 1,
        batch: None,
        max_failures: None,
    };
    let interrupts = Interrupts::default();
    let ctrl_c = interrupts.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        ctrl_c.drain.cancel();
    });
    let ran = dispatch_with(ok_hosts(&["a", "b", "c"]), schedule, 8, interrupts).await;
    assert_eq!(*ran.script.started.lock().unwrap(), ["a"]);
    assert_eq!(
        ran.finished(),
        [
            ("a".into(), Status::Ok),
            ("b".into(), Status::Skipped),
            ("c".into(), Status::Skipped)
        ]
    );
    assert!(ran.end.stats.interrupted);
}
