//! Line coverage per crate, from an lcov file.

use std::collections::BTreeMap;

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
    let percent = |hit: u64, found: u64| {
        if found == 0 {
            100.0
        } else {
            hit as f64 * 100.0 / found as f64
        }
    };
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
