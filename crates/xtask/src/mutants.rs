//! `cargo xtask mutants`: cargo-mutants with the workspace's choices (`.cargo/mutants.toml`),
//! for named packages or for the lines changed since a base revision.

use std::process::{Command, ExitCode};

/// Packages whose mutants the end-to-end tests catch, beside their own tests: the composition
/// root has few tests of its own, and real HTTP is what exercises it.
const COVERED_END_TO_END: &[&str] = &["conduit-server"];
const END_TO_END: &str = "conduit-e2e";
const DIFF: &str = "target/mutants.diff";

/// What to mutate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every mutant in these packages.
    Packages(Vec<String>),
    /// The mutants on lines changed since this revision (`main` by default).
    ChangedSince(String),
}

impl Scope {
    /// `-p PACKAGE...` or `--in-diff [BASE]`; nothing at all means the changes since `main`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut packages = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-p" | "--package" => match args.next() {
                    Some(package) => packages.push(package.clone()),
                    None => return Err(format!("{arg} needs a package name")),
                },
                "--in-diff" => {
                    let base = args.next().cloned().unwrap_or_else(|| "main".to_owned());
                    return Ok(Self::ChangedSince(base));
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(if packages.is_empty() {
            Self::ChangedSince("main".to_owned())
        } else {
            Self::Packages(packages)
        })
    }

    /// The arguments for `cargo mutants`.
    pub(crate) fn cargo_mutants_args(&self) -> Vec<String> {
        let mut args = vec!["mutants".to_owned()];
        match self {
            Self::ChangedSince(_) => {
                args.extend(["--in-diff".to_owned(), DIFF.to_owned()]);
                // A diff may touch any package: test the whole workspace.
                args.push("--test-workspace=true".to_owned());
            }
            Self::Packages(packages) => {
                for package in packages {
                    args.extend(["--package".to_owned(), package.clone()]);
                }
                if packages
                    .iter()
                    .any(|package| COVERED_END_TO_END.contains(&package.as_str()))
                {
                    for package in packages {
                        args.extend(["--test-package".to_owned(), package.clone()]);
                    }
                    args.extend(["--test-package".to_owned(), END_TO_END.to_owned()]);
                }
            }
        }
        args
    }
}

pub(crate) fn run(args: &[String]) -> ExitCode {
    let scope = match Scope::parse(args) {
        Ok(scope) => scope,
        Err(error) => {
            eprintln!(
                "mutants: {error}\nusage: cargo xtask mutants [-p PACKAGE]... | --in-diff [BASE]"
            );
            return ExitCode::FAILURE;
        }
    };
    if let Scope::ChangedSince(base) = &scope {
        let diff = Command::new("git")
            .args(["diff", &format!("{base}...HEAD"), "--", "*.rs"])
            .output();
        let written = match diff {
            Ok(output) if output.status.success() => {
                std::fs::create_dir_all("target").and_then(|()| std::fs::write(DIFF, output.stdout))
            }
            _ => {
                eprintln!("mutants: `git diff {base}...HEAD` failed");
                return ExitCode::FAILURE;
            }
        };
        if let Err(error) = written {
            eprintln!("mutants: cannot write {DIFF}: {error}");
            return ExitCode::FAILURE;
        }
    }
    match Command::new("cargo")
        .args(scope.cargo_mutants_args())
        .status()
    {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => {
            eprintln!("mutants: some mutants survived or timed out; see mutants.out/missed.txt");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!(
                "mutants: cannot run cargo-mutants ({error}); install it with `cargo install cargo-mutants --locked`"
            );
            ExitCode::FAILURE
        }
    }
}
