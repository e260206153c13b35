//! The contract suite checks itself: every check written is run by every store.

use std::collections::BTreeSet;

/// The source of each module of checks, by module name.
const MODULES: [(&str, &str); 7] = [
    ("users", include_str!("users.rs")),
    ("profiles", include_str!("profiles.rs")),
    ("articles", include_str!("articles.rs")),
    ("comments", include_str!("comments.rs")),
    ("sessions", include_str!("sessions.rs")),
    ("login_failures", include_str!("login_failures.rs")),
    ("live", include_str!("live.rs")),
];

/// `module::check` for every public async function of the modules: the checks as written.
fn written() -> BTreeSet<String> {
    MODULES
        .iter()
        .flat_map(|(module, source)| {
            source.lines().filter_map(move |line| {
                let name = line.strip_prefix("pub async fn ")?.split('(').next()?;
                Some(format!("{module}::{name}"))
            })
        })
        .collect()
}

/// `module::check` for every check listed in `store_contract!`: the checks every store runs.
fn registered() -> BTreeSet<String> {
    let source = include_str!("../contract.rs");
    let mut module = "";
    let mut listed = BTreeSet::new();
    for line in source.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("$crate::store_contract!(@checks $store; ") {
            module = rest.trim_end_matches(';');
        } else if let Some(check) = line.strip_suffix(',')
            && !module.is_empty()
            && check.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            listed.insert(format!("{module}::{check}"));
        } else if line.starts_with(");") {
            module = "";
        }
    }
    listed
}

#[test]
fn every_contract_check_is_registered() {
    let written = written();
    let registered = registered();

    let unregistered: Vec<_> = written.difference(&registered).collect();
    let unwritten: Vec<_> = registered.difference(&written).collect();
    assert!(
        unregistered.is_empty(),
        "checks missing from store_contract!: {unregistered:?}"
    );
    assert!(
        unwritten.is_empty(),
        "listed but not written: {unwritten:?}"
    );
    for (module, _) in MODULES {
        let prefix = format!("{module}::");
        assert!(
            written.iter().any(|check| check.starts_with(&prefix)),
            "no check read from {module}.rs: the reading above is broken"
        );
    }
}
