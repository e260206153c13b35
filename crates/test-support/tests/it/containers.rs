use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use conduit_test_support::postgres::IDLE_VAR;

/// How long the container may outlive its killed owner: the idle limit set below, the watchdog's
/// one-second polls, a fast shutdown and Docker's removal, with room to spare on a loaded machine.
const DEADLINE_SECS: u64 = 60;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[test]
fn a_killed_test_process_leaves_no_container() {
    // Arrange: a process that started a container and holds a connection, as a test does.
    let mut holder = Command::new(env!("CARGO_BIN_EXE_conduit-test-postgres"))
        .arg("hold")
        .env(IDLE_VAR, "2")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts conduit-test-postgres hold");
    let mut first_line = String::new();
    BufReader::new(holder.stdout.take().expect("stdout is piped"))
        .read_line(&mut first_line)
        .expect("reads the container id");
    let container = first_line
        .trim()
        .strip_prefix("container ")
        .unwrap_or_else(|| panic!("expected `container <id>`, got {first_line:?}"))
        .to_owned();
    let killed_at = now_secs();

    // Act: kill it, with no chance to clean up.
    holder.kill().expect("kills the holder");
    holder.wait().expect("reaps the holder");

    // Assert: Docker reports the container destroyed, within the deadline. `docker events`
    // replays from `--since` and stops by itself at `--until`.
    let mut events = Command::new("docker")
        .args([
            "events",
            "--since",
            &killed_at.saturating_sub(1).to_string(),
            "--until",
            &(killed_at + DEADLINE_SECS).to_string(),
            "--filter",
            &format!("container={container}"),
            "--filter",
            "event=destroy",
            "--format",
            "{{.Action}}",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs docker events");
    let mut event = String::new();
    BufReader::new(events.stdout.take().expect("stdout is piped"))
        .read_line(&mut event)
        .expect("reads docker events");
    events.kill().expect("stops docker events");
    events.wait().expect("reaps docker events");
    assert_eq!(
        event.trim(),
        "destroy",
        "container {container} outlived its killed owner by {DEADLINE_SECS} s"
    );
}
