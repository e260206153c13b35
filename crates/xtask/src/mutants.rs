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

/// `cargo xtask mutants`' arguments; none means the changes since `main`.
#[derive(Debug, clap::Args)]
pub(crate) struct MutantsArgs {
    /// Every mutant in this package (repeatable)
    #[arg(short = 'p', long = "package", value_name = "PACKAGE")]
    packages: Vec<String>,
    /// The mutants on lines changed since BASE
    #[arg(long, value_name = "BASE", num_args = 0..=1, default_missing_value = "main", conflicts_with = "packages")]
    in_diff: Option<String>,
}

impl From<MutantsArgs> for Scope {
    fn from(args: MutantsArgs) -> Self {
        match args.in_diff {
            Some(base) => Self::ChangedSince(base),
            None if args.packages.is_empty() => Self::ChangedSince("main".to_owned()),
            None => Self::Packages(args.packages),
        }
    }
}

impl Scope {
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

pub(crate) fn run(scope: Scope) -> ExitCode {
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
