//! A host's rollout driven step by step with the answers a host would give,
//! so every branch (unchanged, refused, changed, rolled back, moved port)
//! can be checked without a network.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;

use super::*;
use crate::outcome::Status;
use crate::plan::tests::reached;
use crate::plan::Input;

const MAIN: &str = "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n#PasswordAuthentication yes\n";

fn ran(code: u32, stdout: &str) -> StepResult {
    StepResult {
        exit: Ok(code),
        stdout: Bytes::from(stdout.to_string()),
        stderr: Bytes::new(),
        truncated: false,
        verdict: None,
    }
}

fn discovered(effective: &[(&str, &str)]) -> StepResult {
    let mut out = format!(
        "@@fleet listener 42\n@@fleet sshd /usr/sbin/sshd\n@@fleet config /etc/ssh/sshd_config\n\
         @@fleet reload hup 42\n@@fleet file /etc/ssh/sshd_config\n{}\n@@fleet end\n@@fleet effective\n",
        BASE64.encode(MAIN)
    );
    for (key, value) in effective {
        out.push_str(&format!("{key} {value}\n"));
    }
    out.push_str("@@fleet end\n");
    ran(0, &out)
}

fn includes() -> StepResult {
    ran(
        0,
        "@@fleet include /etc/ssh/sshd_config.d/*.conf\n@@fleet end\n",
    )
}

fn effective_now(effective: &[(&str, &str)]) -> StepResult {
    let body: String = effective
        .iter()
        .map(|(k, v)| format!("{k} {v}\n"))
        .collect();
    ran(0, &format!("@@fleet effective\n{body}@@fleet end\n"))
}

fn plan(settings: &[&str]) -> Box<dyn HostPlan> {
    let intent = Intent::Set {
        settings: settings
            .iter()
            .map(|s| Setting::parse(s).unwrap())
            .collect(),
        check: false,
        skip_port_probe: false,
    };
    SshdPlan::new(intent, None, "run1".into()).host("web")
}

fn with_key() -> Reached {
    Reached {
        login: Some(Login::Key("ssh-ed25519 SHA256:k".into())),
        ..reached()
    }
}

/// Starts the plan and answers the who, discovery and includes steps.
fn through_discovery(plan: &mut dyn HostPlan, login: &Reached, effective: &[(&str, &str)]) -> Next {
    assert!(matches!(plan.start(login), Next::Run(_)));
    assert!(matches!(plan.step_done(ran(0, "0\nsudo\n")), Next::Run(_)));
    match plan.step_done(discovered(effective)) {
        Next::Run(_) => plan.step_done(includes()),
        other => other,
    }
}

fn done(next: Next) -> Outcome {
    match next {
        Next::Done(outcome) => outcome,
        other => panic!("not done: {other:?}"),
    }
}

fn fresh(
    login: Result<Login, Cause>,
    methods: &[&str],
    effective: &[(&str, &str)],
) -> FreshLoginResult {
    FreshLoginResult {
        login,
        auth_methods: Some(methods.iter().map(|m| m.to_string()).collect()),
        step: Some(effective_now(effective)),
    }
}

#[test]
fn a_host_that_already_has_the_values_is_unchanged() {
    let mut plan = plan(&["PasswordAuthentication=no"]);
    let next = through_discovery(
        plan.as_mut(),
        &with_key(),
        &[("passwordauthentication", "no")],
    );
    assert_eq!(done(next).status(), Status::Unchanged);
}

#[test]
fn passwords_are_not_turned_off_from_a_password_login() {
    let mut plan = plan(&["PasswordAuthentication=no"]);
    let by_password = Reached {
        login: Some(Login::Password),
        ..reached()
    };
    let next = through_discovery(
        plan.as_mut(),
        &by_password,
        &[("passwordauthentication", "yes")],
    );
    let outcome = done(next);
    assert!(
        matches!(outcome.cause(), Some(Cause::WouldLockOut(_))),
        "{outcome:?}"
    );
}

#[test]
fn sudo_asking_for_a_password_without_one_is_a_clear_failure() {
    let mut plan = plan(&["PasswordAuthentication=no"]);
    plan.start(&with_key());
    let outcome = done(plan.step_done(ran(0, "1001\nsudo-password\n")));
    assert!(
        matches!(outcome.cause(), Some(Cause::NeedsRoot(why)) if why.contains("--sudo-password"))
    );
}

#[test]
fn a_verified_change_is_changed() {
    let mut plan = plan(&["PasswordAuthentication=no"]);
    let next = through_discovery(
        plan.as_mut(),
        &with_key(),
        &[("passwordauthentication", "yes")],
    );
    let Next::Run(apply) = next else {
        panic!("no apply: {next:?}")
    };
    let Some(Input::Bytes(script)) = &apply.stdin else {
        panic!("no script")
    };
    assert!(String::from_utf8_lossy(script).contains("00-fleet.conf"));
    assert!(matches!(plan.step_done(ran(0, "")), Next::Run(_)), "reload");
    let Next::FreshLogin(check) = plan.step_done(ran(0, "")) else {
        panic!("no fresh login")
    };
    assert!(check.auth_methods && check.port.is_none());
    let result = fresh(
        Ok(Login::Key("k".into())),
        &["publickey"],
        &[("passwordauthentication", "no")],
    );
    let outcome = done(plan.fresh_login_done(result));
    assert_eq!(outcome.status(), Status::Changed);
}

#[test]
fn a_change_that_fails_its_check_is_rolled_back() {
    let mut plan = plan(&["PubkeyAuthentication=no"]);
    through_discovery(
        plan.as_mut(),
        &with_key(),
        &[("pubkeyauthentication", "yes")],
    );
    plan.step_done(ran(0, "")); // applied
    plan.step_done(ran(0, "")); // reloaded
    let denied = fresh(
        Err(Cause::AuthDenied {
            methods: vec!["password".into()],
        }),
        &[],
        &[],
    );
    let Next::Run(restore) = plan.fresh_login_done(denied) else {
        panic!("no restore")
    };
    let Some(Input::Bytes(script)) = &restore.stdin else {
        panic!("no script")
    };
    assert!(String::from_utf8_lossy(script).contains("rm -f /etc/ssh/sshd_config.d/00-fleet.conf"));
    assert!(matches!(plan.step_done(ran(0, "")), Next::Run(_)), "reload");
    assert!(matches!(plan.step_done(ran(0, "")), Next::FreshLogin(_)));
    let back = fresh(Ok(Login::Key("k".into())), &["publickey"], &[]);
    let outcome = done(plan.fresh_login_done(back));
    assert_eq!(outcome.status(), Status::RolledBack);
    assert!(outcome
        .cause()
        .unwrap()
        .to_string()
        .contains("Permission denied"));
}

#[test]
fn a_refused_validation_puts_the_files_back_and_fails() {
    let mut plan = plan(&["MaxAuthTries=3"]);
    through_discovery(plan.as_mut(), &with_key(), &[("maxauthtries", "6")]);
    let outcome = done(plan.step_done(ran(3, "Bad configuration option")));
    assert!(
        matches!(outcome.cause(), Some(Cause::ChangeRefused(why)) if why.contains("Bad configuration"))
    );
}

#[test]
fn a_new_port_is_probed_then_added_then_the_old_one_dropped() {
    let mut plan = plan(&["Port=2222"]);
    let next = through_discovery(plan.as_mut(), &with_key(), &[("port", "22")]);
    assert!(matches!(next, Next::Probe(2222)), "{next:?}");
    // Round one: both ports.
    let Next::Run(apply) = plan.probed(2222, PortProbe::Refused) else {
        panic!("no apply")
    };
    let Some(Input::Bytes(script)) = &apply.stdin else {
        panic!("no script")
    };
    let decoded: String = String::from_utf8_lossy(script)
        .split('\'')
        .filter_map(|piece| BASE64.decode(piece).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .collect();
    assert!(decoded.contains("Port 22\nPort 2222\n"), "{decoded}");
    plan.step_done(ran(0, ""));
    let Next::FreshLogin(check) = plan.step_done(ran(0, "")) else {
        panic!("no fresh login")
    };
    assert_eq!(check.port, Some(2222));
    let both = fresh(
        Ok(Login::Key("k".into())),
        &[],
        &[("port", "22"), ("port", "2222")],
    );
    // Round two: the new port alone.
    assert!(matches!(plan.fresh_login_done(both), Next::Run(_)));
    plan.step_done(ran(0, ""));
    assert!(matches!(plan.step_done(ran(0, "")), Next::FreshLogin(_)));
    let moved = fresh(Ok(Login::Key("k".into())), &[], &[("port", "2222")]);
    let outcome = done(plan.fresh_login_done(moved));
    assert_eq!(outcome.status(), Status::Changed);
    assert!(matches!(
        outcome.finding(),
        Some(Finding::Sshd(SshdFinding::Changed {
            moved: Some((2222, _)),
            ..
        }))
    ));
}

#[test]
fn a_filtered_port_stops_the_change_before_it_starts() {
    let mut plan = plan(&["Port=2222"]);
    through_discovery(plan.as_mut(), &with_key(), &[("port", "22")]);
    let outcome = done(plan.probed(2222, PortProbe::Filtered));
    assert!(outcome
        .cause()
        .unwrap()
        .to_string()
        .contains("security group"));
}
