//! The house's shape, checked from the code's own `crate::` and `super::` paths: data flows
//! cli -> app -> (sync | query | report) -> (api, store), no room imports one above it, and no files
//! import each other in a circle. Test modules are left out: a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each room and the rooms it may import. A room not listed here fails the test, so a new
/// room is placed in the flow on purpose.
const ALLOWED: &[(&str, &[&str])] = &[
    (
        "lib",
        &[
            "api",
            "app",
            "cli",
            "exit",
            "output_file",
            "query",
            "redact",
            "report",
            "simulate",
            "store",
            "sync",
            "terminal",
            "time",
        ],
    ),
    (
        "app",
        &[
            "api",
            "cli",
            "exit",
            "output_file",
            "query",
            "redact",
            "report",
            "simulate",
            "store",
            "sync",
            "time",
        ],
    ),
    // Flag defaults only (the simulator's project id).
    ("cli", &["simulate"]),
    ("sync", &["api", "exit", "redact", "store", "time"]),
    (
        "query",
        &["api", "exit", "output_file", "store", "terminal", "time"],
    ),
    // The report's figures are query's own (stats, status, filters), so the two cannot
    // disagree; query never imports report, so no circle.
    ("report", &["api", "query", "store", "time"]),
    ("exit", &["api", "redact", "store", "terminal"]),
    ("simulate", &["api", "time"]),
    ("api", &["redact", "time"]),
    ("store", &["time"]),
    // Leaves: they import nothing of the crate.
    ("output_file", &[]),
    ("redact", &[]),
    ("terminal", &[]),
    ("time", &[]),
];

/// Module path (`api::client`) -> the source with its test modules cut off.
fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &mut files);
    let mut out = BTreeMap::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let name = rel.trim_end_matches(".rs");
        if name == "main" || name.ends_with("tests") || name.ends_with("test_support") {
            continue;
        }
        let module = match name.strip_suffix("/mod") {
            Some(dir) => dir.replace('/', "::"),
            None => name.replace('/', "::"),
        };
        let text = std::fs::read_to_string(&file).unwrap();
        out.insert(module, without_tests(&text));
    }
    out
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The text before the first `#[cfg(test)]` module (test modules close their files here).
fn without_tests(text: &str) -> String {
    let mut kept = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            let next = lines.peek().map(|l| l.trim()).unwrap_or("");
            if next.contains("mod ") && next.ends_with('{') {
                break;
            }
            // `#[cfg(test)] mod x;` or a test-only item: skip the next line.
            lines.next();
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// The modules `module` names through `crate::` and `super::` paths.
fn imports(module: &str, text: &str, all: &BTreeMap<String, String>) -> BTreeSet<String> {
    let parent: Vec<&str> = {
        let mut p: Vec<&str> = module.split("::").collect();
        p.pop();
        p
    };
    let mut out = BTreeSet::new();
    for (at, _) in text
        .match_indices("crate::")
        .chain(text.match_indices("super::"))
    {
        let before = text[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let (base, rest) = if text[at..].starts_with("crate::") {
            (Vec::new(), &text[at + 7..])
        } else {
            (parent.clone(), &text[at + 7..])
        };
        // `crate::{a, b::c}` or `crate::a::b::Name`.
        let items: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end]
                .split(',')
                .map(|s| s.trim().to_string())
                .collect()
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            vec![rest[..end].to_string()]
        };
        for item in items {
            let mut path: Vec<&str> = base.clone();
            path.extend(item.split("::").filter(|s| !s.is_empty()));
            for k in (1..=path.len()).rev() {
                let candidate = path[..k].join("::");
                if all.contains_key(&candidate) {
                    let inside = candidate == module
                        || module.starts_with(&format!("{candidate}::"))
                        || candidate.starts_with(&format!("{module}::"));
                    if !inside {
                        out.insert(candidate);
                    }
                    break;
                }
            }
        }
    }
    out
}

fn room(module: &str) -> &str {
    module.split("::").next().unwrap()
}

#[test]
fn rooms_import_only_the_rooms_below_them() {
    let all = modules();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, text) in &all {
        let from = room(module);
        let Some(may) = allowed.get(from) else {
            wrong.push(format!("{module}: room {from} is not placed in ALLOWED"));
            continue;
        };
        for target in imports(module, text, &all) {
            let to = room(&target);
            if to != from && !may.contains(&to) {
                wrong.push(format!("{module} imports {target}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the flow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let all = modules();
    let edges: BTreeMap<&str, BTreeSet<String>> = all
        .iter()
        .map(|(m, text)| (m.as_str(), imports(m, text, &all)))
        .collect();
    // Depth-first search; a module met again on the current path closes a circle.
    fn visit<'a>(
        m: &'a str,
        edges: &'a BTreeMap<&'a str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        circles: &mut Vec<String>,
    ) {
        if let Some(i) = path.iter().position(|p| *p == m) {
            circles.push(format!("{} -> {m}", path[i..].join(" -> ")));
            return;
        }
        if !done.insert(m) {
            return;
        }
        path.push(m);
        for next in edges.get(m).into_iter().flatten() {
            visit(next, edges, path, done, circles);
        }
        path.pop();
    }
    let mut circles = Vec::new();
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        visit(m, &edges, &mut Vec::new(), &mut done, &mut circles);
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

/// The checker itself: it sees a `use` group, a `super::` path and skips test modules.
#[test]
fn the_import_reader_reads_groups_super_and_skips_tests() {
    let mut all = BTreeMap::new();
    for m in ["a", "a::x", "a::y", "b", "c"] {
        all.insert(m.to_string(), String::new());
    }
    let text = "use crate::{b, c::Thing};\nuse super::y::Z;\n#[cfg(test)]\nmod tests {\n use crate::d;\n}\n";
    let got = imports("a::x", &without_tests(text), &all);
    let want: BTreeSet<String> = ["b", "c", "a::y"].iter().map(|s| s.to_string()).collect();
    assert_eq!(got, want);
}
