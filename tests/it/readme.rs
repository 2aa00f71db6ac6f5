//! The README and the help as a newcomer meets them: every query example (the README's table
//! of questions, its code blocks and SQL cookbook, the help's examples) runs as written on the
//! demo archive and returns rows, and the demo's excerpt is what the demo prints.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::{command_paths, fresh_command, gaussjobs_in};

/// The demo run once for the whole module: its directory and what it printed.
fn demo() -> &'static (tempfile::TempDir, String) {
    static DEMO: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = fresh_command(dir.path()).arg("demo").assert().success();
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        (dir, stdout)
    })
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The fenced code blocks: (language, text).
fn blocks(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut open: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match (&mut open, trimmed.strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.trim().to_string(), Vec::new())),
            (Some(_), Some(_)) => {
                let (lang, lines) = open.take().unwrap();
                found.push((lang, lines.join("\n")));
            }
            (Some((_, lines)), None) => lines.push(line),
            (None, None) => {}
        }
    }
    found
}

/// Shell text split into commands of words as sh would: quotes kept together (across
/// lines too), `\` escapes (a `\` before a newline continues the line), `#` starts a comment
/// outside quotes, an unquoted newline ends a command.
fn shell_commands(text: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, '\\') => match chars.next() {
                Some('\n') | None => {}
                Some(next) => word.get_or_insert_with(String::new).push(next),
            },
            (None, '#') if word.is_none() => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                words.extend(word.take());
                commands.push(std::mem::take(&mut words));
            }
            (None, '\n') => {
                words.extend(word.take());
                commands.push(std::mem::take(&mut words));
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    commands.push(words);
    commands.retain(|c| !c.is_empty());
    commands
}

/// Every `gaussjobs query ...` and `gaussjobs status ...` the README shows: in sh blocks
/// (continued lines joined) and in the table's backticks.
fn examples(text: &str) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = Vec::new();
    for (lang, block) in blocks(text) {
        if lang == "sh" {
            commands.extend(shell_commands(&block));
        }
    }
    for row in text.lines().filter(|l| l.starts_with("| ")) {
        for cell in row.split('`').skip(1).step_by(2) {
            if cell.starts_with("gaussjobs ") {
                commands.extend(shell_commands(cell));
            }
        }
    }
    commands
        .into_iter()
        .filter(|w| w.first().is_some_and(|w| w == "gaussjobs"))
        .filter(|w| {
            let command = w.iter().skip(1).find(|a| !a.starts_with('-'));
            matches!(command.map(String::as_str), Some("query" | "status"))
        })
        .collect()
}

/// The commands of the "Examples:" section of `gaussjobs <words> --help`.
fn help_examples(words: &[String]) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let out = fresh_command(dir.path())
        .args(words)
        .arg("--help")
        .assert()
        .success();
    let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let (_, section) = help
        .split_once("Examples:\n")
        .unwrap_or_else(|| panic!("{words:?} --help has no examples:\n{help}"));
    shell_commands(section)
}

/// Runs `words` (less `gaussjobs`, `--db X` and `--format X`) as JSON on the demo archive.
fn run_json(dir: &Path, words: &[String]) -> Value {
    let mut args: Vec<&str> = Vec::new();
    let mut skip = false;
    for w in &words[1..] {
        if skip {
            skip = false;
        } else if w == "--db" || w == "--format" {
            skip = true;
        } else {
            args.push(w);
        }
    }
    args.extend(["--format", "json"]);
    let out = gaussjobs_in(dir, Path::new("gaussjobs-demo.db"))
        .args(&args)
        .assert();
    let output = out.get_output();
    assert!(
        output.status.success(),
        "{words:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{words:?} gave no JSON ({e})"))
}

/// Whether an answer has rows: a non-empty array, or an object holding one.
fn has_rows(v: &Value) -> bool {
    match v {
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => map
            .values()
            .any(|v| v.as_array().is_some_and(|a| !a.is_empty())),
        _ => false,
    }
}

#[test]
fn every_query_example_returns_rows_on_the_demo_archive() {
    let (dir, _) = demo();
    let text = readme();
    let examples = examples(&text);
    assert!(examples.len() >= 15, "found {} examples", examples.len());
    for words in &examples {
        let answer = run_json(dir.path(), words);
        assert!(has_rows(&answer), "{words:?} returned no rows: {answer}");
    }
}

/// The help's examples, as a newcomer copies them after `gaussjobs demo`: every question they
/// ask has an answer there (the demo's instance and job names, times it covers).
#[test]
fn every_query_example_in_the_help_returns_rows_on_the_demo_archive() {
    let (dir, _) = demo();
    let mut ran = 0;
    for words in command_paths() {
        // The query commands' (status writes files and checks ages, shown elsewhere).
        let examples: Vec<Vec<String>> = help_examples(&words)
            .into_iter()
            .filter(|w| w.first().is_some_and(|w| w == "gaussjobs") && w.contains(&"query".into()))
            .collect();
        let wanted = words.first().is_some_and(|w| w == "query");
        assert!(
            !wanted || !examples.is_empty(),
            "{words:?}: no query example"
        );
        for example in &examples {
            let answer = run_json(dir.path(), example);
            assert!(has_rows(&answer), "{example:?} returned no rows: {answer}");
            ran += 1;
        }
    }
    assert!(ran >= 15, "ran {ran} examples");
}

/// Statements of the sql blocks, and the `query sql` ones of the sh blocks (above).
#[test]
fn every_sql_statement_returns_rows_on_the_demo_archive() {
    let (dir, _) = demo();
    let text = readme();
    let mut statements: Vec<String> = Vec::new();
    for (lang, block) in blocks(&text) {
        if lang != "sql" {
            continue;
        }
        let code: String = block
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        statements.extend(
            code.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    assert!(
        statements.len() >= 10,
        "found {} statements",
        statements.len()
    );
    for sql in &statements {
        let words = ["gaussjobs", "query", "sql", sql].map(String::from);
        let answer = run_json(dir.path(), &words);
        assert!(has_rows(&answer), "no rows from:\n{sql}");
    }
}

/// What changes from run to run (the port, times, seconds, request counts) masked.
fn masked(line: &str) -> String {
    let mut out = String::new();
    let mut words = line.split(' ').peekable();
    while let Some(word) = words.next() {
        let next = words.peek().copied().unwrap_or("");
        let time = word.len() == 20 && word.ends_with('Z') && word.as_bytes()[10] == b'T';
        let varies = time
            || word.starts_with("http://127.0.0.1:")
            || (word.ends_with("s") && word[..word.len() - 1].parse::<f64>().is_ok())
            || (next.starts_with("request") && word.parse::<u64>().is_ok());
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(if varies { "~" } else { word });
    }
    out
}

/// The excerpt under Quick start is what this build's demo prints, line for line, but for
/// the port, the times, the seconds and the request counts (which depend on the paging).
#[test]
fn the_readmes_demo_excerpt_is_what_the_demo_prints() {
    let (_, printed) = demo();
    let text = readme();
    let quick = &text[text.find("## Quick start").unwrap()..];
    let excerpt = blocks(quick)
        .into_iter()
        .find(|(lang, _)| lang == "text")
        .expect("an excerpt")
        .1;
    let printed: Vec<String> = printed.lines().map(masked).collect();
    let mut lines = 0;
    for line in excerpt.lines().filter(|l| !l.is_empty() && *l != "...") {
        assert!(
            printed.contains(&masked(line)),
            "the README shows a line the demo does not print:\n{line}\n\nthe demo printed:\n{}",
            printed.join("\n")
        );
        lines += 1;
    }
    assert!(lines >= 5, "{excerpt}");
}

#[test]
fn shell_text_splits_into_commands_as_sh_does() {
    let text = "gaussjobs query sql \"SELECT 'a b'\n  FROM t\" --param i=x   # a comment\n\
                a \\# b \\\n  c\n";
    assert_eq!(
        shell_commands(text),
        [
            vec![
                "gaussjobs",
                "query",
                "sql",
                "SELECT 'a b'\n  FROM t",
                "--param",
                "i=x"
            ],
            vec!["a", "#", "b", "c"],
        ]
    );
}
