//! The `concord` binary itself: creating the first admin, starting, and stopping on SIGTERM.

use crate::support::PASSWORD;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn concord() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    // The developer's environment must not leak into these runs.
    for (key, _) in std::env::vars() {
        if key.starts_with("CONCORD_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn first_admin_is_created_from_the_cli_and_can_log_in_to_the_served_api() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();

    // `serve` on an empty data dir says how to create the first admin.
    let mut server = concord()
        .args(["--data-dir", data, "serve", "--listen", "127.0.0.1:0"])
        .env("CONCORD_LOG__FILTER", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut hint = false;
    let mut addr = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while addr.is_none() && Instant::now() < deadline {
        let line = lines.next().expect("server output").unwrap();
        hint |= line.contains("admin create-user --username");
        if let Some(rest) = line.strip_prefix("Concord is listening on http://") {
            addr = rest.split_whitespace().next().map(str::to_string);
        }
    }
    assert!(hint, "the first start explains how to create an admin");
    let addr = addr.expect("listening line");

    let mut create = concord()
        .args([
            "--data-dir",
            data,
            "admin",
            "create-user",
            "--username",
            "root",
            "--admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(create.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = create.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user root"));

    // The running server sees the user the CLI created.
    let body = format!(r#"{{"login":"root","password":"{PASSWORD}"}}"#);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("http://{addr}/api/v1/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);

    // A second user with the same name is refused with a clear message.
    let mut again = concord()
        .args([
            "--data-dir",
            data,
            "admin",
            "create-user",
            "--username",
            "root",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(again.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = again.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already taken"));

    // SIGTERM stops it cleanly.
    let pid = server.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn invalid_configuration_is_refused_at_start_with_a_clear_error() {
    let out = concord()
        .args(["serve"])
        .env("CONCORD_LIMITS__HISTORY_PAGE_MAX", "3")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("limits.history_page_max"), "{err}");
}
