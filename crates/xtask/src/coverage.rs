//! Line coverage per crate, from an lcov file, and the floor CI holds it to.

use std::collections::BTreeMap;

/// The workspace's line coverage may not fall below this (percent). CI fails under it; raise it
/// as tests close gaps, never lower it to let a change in.
pub(crate) const FLOOR: f64 = 94.0;

/// Files that are tests or test tooling, not the product: their lines would count themselves as
/// covered. Passed to cargo-llvm-cov's `--ignore-filename-regex`.
pub(crate) const IGNORED_FILES: &str =
    r"(/tests/|/tests\.rs$|/crates/(xtask|test-support|workspace-hack|ops)/)";

/// (crate, lines found, lines hit) per crate directory (`crates/<name>/`, or `tests` for the
/// end-to-end suite), in name order.
pub(crate) fn per_crate(lcov: &str) -> Vec<(String, u64, u64)> {
    let mut totals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in lcov.lines() {
        if let Some(path) = line.strip_prefix("SF:") {
            current = crate_of(path);
        } else if let (Some(name), Some(found)) = (&current, line.strip_prefix("LF:")) {
            totals.entry(name.clone()).or_default().0 += found.parse::<u64>().unwrap_or(0);
        } else if let (Some(name), Some(hit)) = (&current, line.strip_prefix("LH:")) {
            totals.entry(name.clone()).or_default().1 += hit.parse::<u64>().unwrap_or(0);
        }
    }
    totals
        .into_iter()
        .map(|(name, (found, hit))| (name, found, hit))
        .collect()
}

fn crate_of(path: &str) -> Option<String> {
    if let Some((_, rest)) = path.rsplit_once("/crates/") {
        return rest.split('/').next().map(str::to_owned);
    }
    path.contains("/tests/").then(|| "tests".to_owned())
}

/// A Markdown table of [`per_crate`], with the total.
pub(crate) fn markdown(rows: &[(String, u64, u64)]) -> String {
    let mut table = String::from("| crate | lines hit | line coverage |\n|---|---|---|\n");
    let (mut all_found, mut all_hit) = (0, 0);
    for (name, found, hit) in rows {
        table.push_str(&format!(
            "| {name} | {hit}/{found} | {:.1}% |\n",
            percent(*hit, *found)
        ));
        all_found += found;
        all_hit += hit;
    }
    table.push_str(&format!(
        "| **total** | {all_hit}/{all_found} | {:.1}% |\n",
        percent(all_hit, all_found)
    ));
    table
}

/// Lines hit over lines found, in percent, over every row of [`per_crate`].
pub(crate) fn total_percent(rows: &[(String, u64, u64)]) -> f64 {
    let (found, hit) = rows
        .iter()
        .fold((0, 0), |(found, hit), row| (found + row.1, hit + row.2));
    percent(hit, found)
}

/// `Err` with the reason when `total` (percent) is under `floor`.
pub(crate) fn gate(total: f64, floor: f64) -> Result<(), String> {
    if total < floor {
        Err(format!(
            "line coverage {total:.1}% is under the floor of {floor:.1}%: test the new lines \
             (target/coverage/html/index.html shows which ran)"
        ))
    } else {
        Ok(())
    }
}

fn percent(hit: u64, found: u64) -> f64 {
    if found == 0 {
        100.0
    } else {
        hit as f64 * 100.0 / found as f64
    }
}

/// The `NAME=value` lines of `cargo llvm-cov show-env`, values unquoted as a shell would.
pub(crate) fn parse_env(shown: &str) -> Vec<(String, String)> {
    shown
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| {
            let value = value
                .strip_prefix('\'')
                .and_then(|value| value.strip_suffix('\''))
                .unwrap_or(value);
            (name.to_owned(), value.to_owned())
        })
        .collect()
}
