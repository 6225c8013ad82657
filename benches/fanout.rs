//! Fan-out benchmark: the whole path (connect, handshake, host key check,
//! auth, command, output) against real local sshd hosts, with OpenSSH's own
//! client run over the same hosts in the same process for a ratio.
//!
//! `cargo bench --bench fanout` (hosts and rounds: FLEET_BENCH_HOSTS,
//! default 20, and FLEET_BENCH_ROUNDS, default 5). It prints the median
//! wall time and client CPU (user + system of the child processes, read from
//! /proc) per tool, and each tool's ratio to fleet. Absolute numbers depend
//! on the machine; compare the ratios.

#[allow(dead_code)]
#[path = "../tests/integration/fixture.rs"]
mod fixture;

use std::process::{Command, Stdio};
use std::time::Instant;

use fixture::Lab;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// user + system CPU seconds of this process's waited-for children so far
/// (`cutime` + `cstime` in /proc/self/stat, in clock ticks of 1/100 s).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("reading /proc/self/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("malformed /proc/self/stat") + 2..]
        .split(' ')
        .collect();
    let ticks = |i: usize| fields[i].parse::<f64>().expect("numeric field");
    // cutime and cstime are fields 16 and 17 of the whole line; 14 and 15 here.
    (ticks(13) + ticks(14)) / 100.0
}

struct Sample {
    wall: f64,
    cpu: f64,
}

fn measure(mut command: Command, hosts: usize) -> Sample {
    let cpu_before = children_cpu();
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .output()
        .expect("running the tool");
    let wall = started.elapsed().as_secs_f64();
    let cpu = children_cpu() - cpu_before;
    let lines = String::from_utf8_lossy(&output.stdout).lines().count();
    assert!(
        output.status.success() && lines >= hosts,
        "{command:?} failed ({}), {lines} lines: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Sample { wall, cpu }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo test --benches` runs bench binaries with no arguments too; only
    // measure under `cargo bench`, which passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let hosts = env_number("FLEET_BENCH_HOSTS", 20);
    let rounds = env_number("FLEET_BENCH_ROUNDS", 5);
    let lab = Lab::builder().healthy(hosts).build();
    let names: Vec<String> = (1..=hosts).map(|i| format!("h{i:02}")).collect();

    let fleet = || {
        let mut command = lab.fleet();
        command.args(["run", "-p", "64", "h*", "echo", "$FLEET_TEST_HOST"]);
        command
    };
    let ssh_loop = || {
        let mut command = Command::new("sh");
        let script = "printf '%s\\n' \"$@\" | xargs -P 64 -I{} ssh -F \"$CFG\" -o BatchMode=yes {} 'echo $FLEET_TEST_HOST'";
        command
            .arg("-c")
            .arg(script)
            .arg("sh")
            .args(&names)
            .env("CFG", &lab.ssh_config)
            .env_remove("SSH_AUTH_SOCK");
        command
    };
    let tools: [(&str, &dyn Fn() -> Command); 2] = [("fleet", &fleet), ("ssh-loop", &ssh_loop)];

    let mut results: Vec<(&str, Vec<Sample>)> =
        tools.iter().map(|(name, _)| (*name, Vec::new())).collect();
    for _ in 0..rounds {
        for ((_, make), (_, samples)) in tools.iter().zip(results.iter_mut()) {
            samples.push(measure(make(), hosts));
        }
    }
    let summary: Vec<(&str, f64, f64)> = results
        .into_iter()
        .map(|(name, samples)| {
            let wall = median(samples.iter().map(|s| s.wall).collect());
            let cpu = median(samples.iter().map(|s| s.cpu).collect());
            (name, wall, cpu)
        })
        .collect();
    let (_, base_wall, base_cpu) = summary[0];
    println!("fan-out over {hosts} local sshd hosts, {rounds} rounds (medians)");
    println!(
        "{:9} {:>8} {:>8} {:>12} {:>10} {:>9}",
        "tool", "wall s", "cpu s", "cpu ms/host", "wall/fleet", "cpu/fleet"
    );
    for (name, wall, cpu) in summary {
        println!(
            "{name:9} {wall:8.3} {cpu:8.3} {:12.2} {:10.2} {:9.2}",
            1000.0 * cpu / hosts as f64,
            wall / base_wall,
            cpu / base_cpu.max(0.001)
        );
    }
}
