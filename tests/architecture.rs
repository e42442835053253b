//! The shape of the crate (issue #20, docs/architecture.md): modules are layered in pipeline
//! order, and a module may import only modules of its own layer or earlier ones; nothing but the
//! command layer imports `cli` or the crate root, nor the argument parser (clap); no two
//! top-level modules import each other through any chain (no cycle), nor do the submodules of
//! one module.
//!
//! An edge that breaks the order must be listed, with its reason, in
//! `tests/architecture/known-violations.txt` (empty today); the test fails when a new one appears
//! **or** when a listed one is gone, so the list only shrinks.
//!
//! Imports are read from the source text (non-test code: everything before the first
//! `#[cfg(test)]` at the start of a line), at the level of top-level modules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, earliest first. A module may import modules of its own layer and of earlier ones.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &[
            "error",
            "exit",
            "codes",
            "diagnostic",
            "units",
            "timestamp",
            "intern",
            "names",
            "yaml",
            "digest",
            "outfile",
            "http",
            "git",
            "run_key",
            "bounded",
            "periods",
        ],
    ),
    (
        "data model and reference data",
        &[
            "record",
            "metrics",
            "reference",
            "embodied",
            "estimate",
            "config",
        ],
    ),
    ("ingest", &["ingest"]),
    ("ledger", &["ledger"]),
    ("ledger store", &["store"]),
    ("assessment", &["assessment"]),
    ("policy", &["policy", "provenance"]),
    ("advice", &["predict", "tradeoff", "mitigation"]),
    ("report model", &["report"]),
    ("render", &["render", "disclosure", "inventory"]),
    ("services", &["publish", "registry", "schedule"]),
    ("commands", &["cli", "cmd", "(root)"]),
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, mods)| mods.contains(&module))
        .unwrap_or_else(|| {
            panic!("module `{module}` is in no layer: add it to LAYERS here and to docs/architecture.md")
        })
}

/// Top-level modules of `src/` (files and directories), without `main`.
fn modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            if p.is_dir() {
                Some(p.file_name()?.to_str()?.to_owned())
            } else if p.extension().is_some_and(|e| e == "rs") {
                Some(p.file_stem()?.to_str()?.to_owned())
            } else {
                None
            }
        })
        .filter(|m| m != "main" && m != "lib")
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A file's code before its first `#[cfg(test)]` line, without `//` comments.
fn non_test_code(text: &str) -> String {
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first identifier of each item of a `{…}` group starting at `text[0] == '{'`.
fn group_heads(text: &str) -> Vec<String> {
    let mut depth = 0;
    let mut heads = Vec::new();
    let mut item = String::new();
    for c in text.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    heads.push(std::mem::take(&mut item));
                    break;
                }
            }
            ',' if depth == 1 => {
                heads.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        if depth >= 1 {
            item.push(c);
        }
    }
    heads
        .iter()
        .map(|i| i.trim().chars().take_while(|c| is_ident(*c)).collect())
        .filter(|h: &String| !h.is_empty())
        .collect()
}

/// The top-level names a file's code refers to through `crate::` (and, in the crate root, through
/// paths starting with a module's name).
fn references(text: &str, root: bool, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = references_after(text, "crate::");
    if root {
        let code = non_test_code(text);
        for m in modules {
            let needle = format!("{m}::");
            for (i, _) in code.match_indices(&needle) {
                let before = code[..i].chars().next_back();
                if !before.is_some_and(|c| is_ident(c) || c == ':') {
                    found.insert(m.clone());
                }
            }
        }
    }
    found
}

/// Every `.rs` file under `src`: its top-level module (`lib`, `main`, or the module's name), its
/// path relative to `src`, and its text.
fn rust_files(src: &Path) -> Vec<(String, String, String)> {
    let mut files = Vec::new();
    let mut stack = vec![src.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_str()
                .unwrap();
            let top = first.trim_end_matches(".rs").to_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            files.push((top, rel.display().to_string(), text));
        }
    }
    files.sort();
    files
}

/// Edges between top-level modules: (from, to). Names that are not modules are items of the
/// crate root (`(root)`).
fn edges(src: &Path) -> BTreeSet<(String, String)> {
    let modules = modules(src);
    let mut edges = BTreeSet::new();
    for (top, _, text) in rust_files(src) {
        let from = match top.as_str() {
            "main" => continue,
            "lib" => "(root)".to_owned(),
            _ => top,
        };
        for name in references(&text, from == "(root)", &modules) {
            let to = if modules.contains(&name) {
                name
            } else {
                "(root)".to_owned()
            };
            if to != from {
                edges.insert((from.clone(), to));
            }
        }
    }
    edges
}

/// Edges that break the rules: into a later layer, or into `cli`/the root from below commands.
fn violations(edges: &BTreeSet<(String, String)>) -> BTreeSet<String> {
    let commands = LAYERS.len() - 1;
    edges
        .iter()
        .filter(|(from, to)| {
            let (a, b) = (layer_of(from), layer_of(to));
            b > a || (a < commands && (to == "cli" || to == "(root)"))
        })
        .map(|(from, to)| format!("{from} -> {to}"))
        .collect()
}

/// Strongly connected groups of more than one module (Tarjan's algorithm would do; the graph is
/// small, so reachability both ways is enough).
fn cycles(edges: &BTreeSet<(String, String)>) -> Vec<BTreeSet<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(n) = todo.pop() {
            for &m in next.get(n).into_iter().flatten() {
                if seen.insert(m) {
                    todo.push(m);
                }
            }
        }
        seen
    };
    let nodes: BTreeSet<&str> = edges
        .iter()
        .flat_map(|(a, b)| [a.as_str(), b.as_str()])
        .collect();
    let reachable: BTreeMap<&str, BTreeSet<&str>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for n in &nodes {
        let group: BTreeSet<String> = nodes
            .iter()
            .filter(|m| m == &n || (reachable[n].contains(*m) && reachable[*m].contains(n)))
            .map(|m| (*m).to_owned())
            .collect();
        if group.len() > 1 && !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

#[test]
fn modules_import_only_their_layer_and_earlier_ones() {
    let edges = edges(Path::new("src"));
    assert!(
        edges.len() > 50,
        "the scan found too few imports: {edges:?}"
    );
    let now = violations(&edges);
    let listed: BTreeSet<String> =
        std::fs::read_to_string("tests/architecture/known-violations.txt")
            .unwrap()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
    let new: Vec<&String> = now.difference(&listed).collect();
    let gone: Vec<&String> = listed.difference(&now).collect();
    assert!(
        new.is_empty(),
        "imports against the layer order (docs/architecture.md): {new:?}; import from an earlier layer, or move the item down"
    );
    assert!(
        gone.is_empty(),
        "fixed, so remove from tests/architecture/known-violations.txt: {gone:?}"
    );
}

#[test]
fn every_cycle_goes_through_a_listed_violation() {
    let edges = edges(Path::new("src"));
    let allowed = violations(&edges);
    // Without the listed back edges, no cycle may remain: cycles inside one layer are not
    // covered by the layer rule, so they are caught here.
    let forward: BTreeSet<(String, String)> = edges
        .iter()
        .filter(|(a, b)| !allowed.contains(&format!("{a} -> {b}")))
        .cloned()
        .collect();
    assert_eq!(cycles(&forward), Vec::<BTreeSet<String>>::new());
}

/// The names a file refers to after `prefix` (`super::` or `crate::policy::`), groups included.
fn references_after(text: &str, prefix: &str) -> BTreeSet<String> {
    let code = non_test_code(text);
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices(prefix) {
        if code[..i]
            .chars()
            .next_back()
            .is_some_and(|c| is_ident(c) || c == ':')
        {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if rest.starts_with('{') {
            found.extend(group_heads(rest));
        } else {
            let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            if !ident.is_empty() {
                found.insert(ident);
            }
        }
    }
    found
}

/// Inside each top-level module with submodules (`src/policy/`…), the submodules import each
/// other without a cycle (`grid ↔ eval` and `rules ↔ validate` were cut in issue #20). `mod.rs`
/// is left out: it declares and re-exports its children.
#[test]
fn submodules_of_one_module_form_no_cycle() {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("src").unwrap() {
        let top = entry.unwrap().path();
        if !top.is_dir() {
            continue;
        }
        let name = top.file_name().unwrap().to_str().unwrap().to_owned();
        let subs: BTreeSet<String> = std::fs::read_dir(&top)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter_map(|p| {
                let stem = if p.is_dir() {
                    p.file_name()?.to_str()?.to_owned()
                } else if p.extension().is_some_and(|e| e == "rs") {
                    p.file_stem()?.to_str()?.to_owned()
                } else {
                    return None;
                };
                (stem != "mod").then_some(stem)
            })
            .collect();
        let mut edges = BTreeSet::new();
        let mut stack = vec![top.clone()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let rel = path.strip_prefix(&top).unwrap();
                let from = rel
                    .components()
                    .next()
                    .unwrap()
                    .as_os_str()
                    .to_str()
                    .unwrap()
                    .trim_end_matches(".rs")
                    .to_owned();
                if from == "mod" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let mut refs = references_after(&text, &format!("crate::{name}::"));
                if rel.components().count() == 1 {
                    refs.extend(references_after(&text, "super::"));
                }
                for r in refs {
                    if subs.contains(&r) && r != from {
                        edges.insert((from.clone(), r));
                    }
                }
            }
        }
        for group in cycles(&edges) {
            found.push(format!("{name}: {group:?}"));
        }
    }
    assert!(found.is_empty(), "submodule cycles: {found:?}");
}

/// The top-level modules of the command layer: the only ones that may name clap.
const COMMAND_MODULES: &[&str] = &["cli", "cmd", "main", "lib"];

/// Files outside the command layer whose non-test code names the argument parser.
fn clap_outside_commands(src: &Path) -> Vec<String> {
    rust_files(src)
        .into_iter()
        .filter(|(top, _, _)| !COMMAND_MODULES.contains(&top.as_str()))
        .filter(|(_, _, text)| {
            let code = non_test_code(text);
            code.match_indices("clap").any(|(i, _)| {
                let before = code[..i].chars().next_back();
                let after = code[i + 4..].chars().next();
                before.is_none_or(|c| !is_ident(c)) && after.is_none_or(|c| !is_ident(c))
            })
        })
        .map(|(_, rel, _)| rel)
        .collect()
}

#[test]
fn only_the_command_layer_knows_the_argument_parser() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = clap_outside_commands(&src);
    assert!(
        found.is_empty(),
        "clap is named outside src/cli, src/cmd, main.rs and lib.rs (give the type its \
         `ValueEnum` in src/cli/values.rs, or turn the arguments into the stage's options in \
         src/cmd): {found:?}"
    );
}

#[test]
fn the_scanner_reads_groups_and_paths() {
    let modules: BTreeSet<String> = ["ledger", "report", "cli"].map(String::from).into();
    let text = "use crate::{ledger::{self, Entry}, report::Verdict};\nfn f() { crate::cli::x(); }\n// crate::nothing\n#[cfg(test)]\nmod tests { use crate::later; }\n";
    let found = references(text, false, &modules);
    assert_eq!(found, ["cli", "ledger", "report"].map(String::from).into());
    assert_eq!(
        cycles(
            &[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
                .iter()
                .map(|(x, y)| ((*x).to_owned(), (*y).to_owned()))
                .collect()
        ),
        vec![["a", "b", "c"].map(String::from).into()]
    );
}
