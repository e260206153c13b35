//! The architecture's dependency rules, checked from `cargo metadata`.

use cargo_metadata::{DependencyKind, MetadataCommand};

/// Crates that do IO or bring a runtime: the domain must never depend on one.
const IO_CRATES: &[&str] = &[
    "actix-web",
    "actix-rt",
    "sqlx",
    "reqwest",
    "tokio",
    "hyper",
    "serde",
    "serde_json",
];

/// For each of our crates, the crates of ours its normal `[dependencies]` may name.
const ALLOWED: &[(&str, &[&str])] = &[
    ("conduit-domain", &[]),
    ("conduit-security", &["conduit-domain"]),
    ("conduit-persistence", &["conduit-domain"]),
    ("conduit-web", &["conduit-domain"]),
    (
        "conduit-server",
        &[
            "conduit-domain",
            "conduit-persistence",
            "conduit-security",
            "conduit-web",
        ],
    ),
    (
        "conduit-test-support",
        &["conduit-domain", "conduit-persistence"],
    ),
    // The end-to-end suite's library starts the whole server for its tests: it sees what `main`
    // sees, plus the test support. Nothing depends on it.
    (
        "conduit-e2e",
        &["conduit-security", "conduit-server", "conduit-test-support"],
    ),
    ("xtask", &[]),
];

pub(crate) fn violations() -> Result<Vec<String>, cargo_metadata::Error> {
    let metadata = MetadataCommand::new().no_deps().exec()?;
    let mut violations = Vec::new();
    for package in metadata.workspace_packages() {
        let name = package.name.as_str();
        let Some((_, allowed)) = ALLOWED.iter().find(|(crate_name, _)| *crate_name == name) else {
            violations.push(format!(
                "{name} is not listed in xtask's tidy rules; add it with the crates it may use"
            ));
            continue;
        };
        for dependency in &package.dependencies {
            let normal = dependency.kind == DependencyKind::Normal;
            let ours = dependency.name.starts_with("conduit-");
            if normal && ours && !allowed.contains(&dependency.name.as_str()) {
                violations.push(format!("{name} must not depend on {}", dependency.name));
            }
            if name == "conduit-domain" && normal && IO_CRATES.contains(&dependency.name.as_str()) {
                violations.push(format!(
                    "conduit-domain must not depend on {}: it does no IO",
                    dependency.name
                ));
            }
            if name != "conduit-server"
                && name != "conduit-e2e"
                && ours
                && dependency.name == "conduit-server"
            {
                violations.push(format!(
                    "{name} must not depend on conduit-server, the composition root"
                ));
            }
        }
        let librs = package
            .manifest_path
            .parent()
            .map(|dir| dir.join("src/lib.rs"));
        if let Some(librs) = librs.filter(|path| path.exists()) {
            let opens_with_doc =
                std::fs::read_to_string(&librs).is_ok_and(|text| text.starts_with("//!"));
            if !opens_with_doc {
                violations.push(format!(
                    "{librs} must open with a //! paragraph on what the crate may depend on"
                ));
            }
        }
    }
    Ok(violations)
}
