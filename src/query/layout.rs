//! Tables laid out for a width, the way `gh` and `kubectl get` do it: identifiers are never
//! cut or wrapped (a job_id must be copied whole into `query job`), free text (names,
//! target_config) gives way first with an ellipsis, and when that is not enough the least
//! telling columns are left out. Cells are never wrapped: comfy-table's dynamic arrangement
//! cut every cell into six-character pieces at 80 columns, so the table is fitted here and
//! drawn with its arrangement disabled.

use std::io::Write;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::render::{self, looks_stored, printable, Cell, Format, Rows, TableStyle};

/// Free text is cut to this many columns in a table even when the terminal has room (but in
/// the last column): a target_config or a long name would push every other column off the
/// screen.
const TEXT_CAP: usize = 40;

/// Free text is not cut narrower than this (or its header), so it stays recognisable.
const TEXT_MIN: usize = 10;

/// What one table command shows by default and what it gives up when narrow.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec<'a> {
    /// The columns shown without `--columns` or `--wide`, in display order.
    pub default: &'a [&'a str],
    /// The columns left out when the table is too wide, the first to go first. Columns not
    /// listed are never left out.
    pub drop_order: &'a [&'a str],
}

impl TableSpec<'_> {
    /// Every column shown, none dropped: `query sql`, where the user chose the columns.
    pub const ALL: TableSpec<'static> = TableSpec {
        default: &[],
        drop_order: &[],
    };
}

/// How a column gives way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Ids, statuses, numbers: whole or not at all.
    Whole,
    /// Archive times: whole, or shortened to `MM-DD HH:MM` when narrow.
    Time,
    /// Names and JSON: cut with an ellipsis.
    Text,
}

/// The kind of a column, by its name and, for names we do not know (`query sql`), its cells.
fn kind(name: &str, cells: &[&Cell]) -> Kind {
    match name {
        "job_name" | "instance_name" | "target_config" | "changed" | "name" | "filter"
        | "endpoint" | "last_error" | "anomalies" | "gaps" | "status" => Kind::Text,
        "job_id" | "instance_id" | "project_id" => Kind::Whole,
        n if n == "id" || n.ends_with("_id") => Kind::Whole,
        _ if cells.iter().any(|c| !matches!(c, Cell::Null))
            && cells.iter().all(|c| match c {
                Cell::Text(t) => looks_stored(t),
                Cell::Null => true,
                _ => false,
            }) =>
        {
            Kind::Time
        }
        // A column of single words (`SELECT job_id AS j`, statuses, codes) may hold ids: kept
        // whole. Anything with spaces or JSON is free text.
        _ => {
            let whole = cells.iter().all(|c| match c {
                Cell::Text(t) => t.len() <= 64 && !t.contains(char::is_whitespace),
                Cell::Json(_) => false,
                _ => true,
            });
            if whole {
                Kind::Whole
            } else {
                Kind::Text
            }
        }
    }
}

/// The display width of text in a terminal.
pub fn text_width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` cut to `width` columns, ending with `…` when something was cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text_width(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// The columns a table shows: `--columns` as given (an unknown name is a usage error listing
/// the known ones), all with `--wide`, else the command's default.
pub fn choose(
    rows: &Rows,
    spec: &TableSpec,
    picked: &[String],
    wide: bool,
) -> anyhow::Result<Rows> {
    if !picked.is_empty() {
        let unknown: Vec<&String> = picked
            .iter()
            .filter(|p| !rows.columns.contains(p))
            .collect();
        if !unknown.is_empty() {
            return Err(crate::exit::usage_with_hint(
                format!(
                    "unknown column{} {}",
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown
                        .iter()
                        .map(|u| format!("{u:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!("--columns takes some of: {}", rows.columns.join(", ")),
            ));
        }
        let names: Vec<&str> = picked.iter().map(String::as_str).collect();
        return Ok(rows.select(&names));
    }
    if wide || spec.default.is_empty() {
        return Ok(rows.clone());
    }
    Ok(rows.select(spec.default))
}

/// Writes a table of versions under a heading that counts them (`history: 3 versions`,
/// `timeline: 4 versions seen` with the `trailer` " seen"), in the spec's default columns
/// fitted to the width: a job's history and an instance's timeline are printed alike.
pub fn write_versions(
    heading: &str,
    trailer: &str,
    rows: &Rows,
    spec: &TableSpec,
    style: TableStyle,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let n = rows.rows.len() as i64;
    writeln!(
        out,
        "\n{heading}: {}{trailer}",
        super::notes::plural(n, "version", "versions")
    )?;
    let shown = choose(rows, spec, &[], style.wide)?;
    write_fitted(&shown, spec.drop_order, false, style, out)
}

/// Writes `rows` in `format`: a table of every column fitted to the width, or JSON, NDJSON,
/// CSV. An empty result still prints its shape: the header (table, CSV) or `[]` (JSON);
/// NDJSON prints nothing.
pub fn write_rows(
    rows: &Rows,
    format: Format,
    style: TableStyle,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match format {
        Format::Table => write_fitted(rows, &[], true, style, out),
        Format::Json => render::write_json(&serde_json::Value::Array(rows.to_objects()), out),
        Format::Ndjson => render::write_ndjson(rows, out),
        Format::Csv => render::write_csv(rows, out),
    }
}

/// Free text is first cut to this many columns when the table is too wide, before any column
/// is left out.
const TEXT_COMFORT: usize = 20;

/// Writes `rows` as a table fitted to the style's width. While it is too wide: free text is
/// cut to a comfortable width, then the columns of `drop_order` are left out (the first
/// first; never when `fixed`, the columns the user chose with `--columns`), then times are
/// shortened to `MM-DD HH:MM`, then free text is cut further. With no width (not a terminal)
/// or with `--wide` nothing is left out or shortened; free text is capped unless `--wide`.
pub fn write_fitted(
    rows: &Rows,
    drop_order: &[&str],
    fixed: bool,
    style: TableStyle,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if rows.columns.is_empty() {
        return Ok(());
    }
    let n = rows.columns.len();
    let full: Vec<Vec<String>> = rows
        .rows
        .iter()
        .map(|r| r.iter().map(|c| style.text(c)).collect())
        .collect();
    let short: Vec<Vec<String>> = rows
        .rows
        .iter()
        .map(|r| r.iter().map(|c| style.short_text(c)).collect())
        .collect();
    let headers: Vec<String> = rows
        .columns
        .iter()
        .map(|c| printable(c).into_owned())
        .collect();
    let kinds: Vec<Kind> = (0..n)
        .map(|i| {
            let cells: Vec<&Cell> = rows.rows.iter().map(|r| &r[i]).collect();
            kind(&rows.columns[i], &cells)
        })
        .collect();
    let natural = |text: &[Vec<String>], i: usize| {
        text.iter()
            .map(|r| text_width(&r[i]))
            .chain([text_width(&headers[i])])
            .max()
            .unwrap_or(0)
    };
    let header_width = |i: usize| text_width(&headers[i]);
    let limit = style.width.filter(|_| !style.wide);

    // The widths of the `shown` columns with times short or not and free text cut to no
    // less than `floor` (as far as needed), and by how much the table is still too wide.
    let fit = |shown: &[usize], short_times: bool, floor: usize| -> (Vec<usize>, usize) {
        let mut widths = vec![0; n];
        for &i in shown {
            let text = if short_times && kinds[i] == Kind::Time {
                &short
            } else {
                &full
            };
            widths[i] = natural(text, i);
            // The last column pushes nothing off the screen: it keeps what room is left.
            let last = shown.last() == Some(&i);
            if kinds[i] == Kind::Text && !style.wide && !last {
                widths[i] = widths[i].min(TEXT_CAP.max(header_width(i)));
            }
        }
        let Some(limit) = limit else {
            return (widths, 0);
        };
        let total = shown.iter().map(|&i| widths[i] + 3).sum::<usize>() + 1;
        let mut over = total.saturating_sub(limit);
        let mut texts: Vec<usize> = shown
            .iter()
            .copied()
            .filter(|&i| kinds[i] == Kind::Text)
            .collect();
        // The widest gives way first.
        texts.sort_by_key(|&i| std::cmp::Reverse(widths[i]));
        for i in texts {
            if over == 0 {
                break;
            }
            let floor = floor.max(header_width(i)).min(widths[i]);
            let give = (widths[i] - floor).min(over);
            widths[i] -= give;
            over -= give;
        }
        (widths, over)
    };

    let mut shown: Vec<usize> = (0..n).collect();
    let mut short_times = false;
    let (mut widths, mut over) = fit(&shown, false, TEXT_COMFORT);
    while over > 0 && !fixed {
        let Some(at) = drop_order
            .iter()
            .find_map(|name| shown.iter().position(|&i| rows.columns[i] == *name))
        else {
            break;
        };
        shown.remove(at);
        (widths, over) = fit(&shown, false, TEXT_COMFORT);
    }
    if over > 0 {
        short_times = true;
        (widths, over) = fit(&shown, true, TEXT_COMFORT);
    }
    if over > 0 {
        (widths, _) = fit(&shown, true, TEXT_MIN);
    }

    let mut table = style.table();
    table.set_header(shown.iter().map(|&i| headers[i].clone()));
    for (f, s) in full.iter().zip(&short) {
        table.add_row(shown.iter().map(|&i| match kinds[i] {
            Kind::Text => truncate(&f[i], widths[i]),
            Kind::Time if short_times => s[i].clone(),
            _ => f[i].clone(),
        }));
    }
    writeln!(out, "{table}")?;
    Ok(())
}

/// Writes the first row of `rows` as [`write_fields`] lines, its column names as keys;
/// nothing when there is no row.
pub fn write_record(rows: &Rows, style: TableStyle, out: &mut dyn Write) -> anyhow::Result<()> {
    let Some(row) = rows.rows.first() else {
        return Ok(());
    };
    let pairs: Vec<(String, Cell)> = rows
        .columns
        .iter()
        .cloned()
        .zip(row.iter().cloned())
        .collect();
    write_fields(&pairs, style, out)
}

/// Writes `pairs` as `key  value` lines, keys aligned: one record (a job, an instance, a
/// scope's status) reads down the page, not across. Free text is cut to the width with an
/// ellipsis; identifiers and times are whole.
pub fn write_fields(
    pairs: &[(String, Cell)],
    style: TableStyle,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let key_width = pairs.iter().map(|(k, _)| text_width(k)).max().unwrap_or(0);
    for (key, cell) in pairs {
        let value = style.text(cell);
        let value = match style.width.filter(|_| !style.wide) {
            Some(limit) if kind(key, &[cell]) == Kind::Text => {
                truncate(&value, limit.saturating_sub(key_width + 2).max(TEXT_MIN))
            }
            _ => value,
        };
        let key = printable(key);
        let pad = key_width - text_width(&key);
        let line = format!("{key}{:pad$}  {value}", "", pad = pad);
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// `text` wrapped at word boundaries to `width` columns, continuation lines indented by
/// `indent` spaces; as it is when there is no width (not a terminal).
pub fn wrap(text: &str, width: Option<usize>, indent: usize) -> String {
    let Some(width) = width else {
        return text.to_string();
    };
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate) > width && !line.trim().is_empty() {
            lines.push(line);
            line = format!("{:indent$}{word}", "", indent = indent);
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Rows {
        let mut rows = Rows::new(&["job_id", "job_name", "job_status", "instance_name"]);
        rows.rows.push(vec![
            Cell::Text("0123456789abcdef0123456789abcdef".into()),
            Cell::Text("RestoreGaussDBforMySQLNewInstanceWithAVeryLongName".into()),
            Cell::Text("Completed".into()),
            Cell::Text("orders-db-primary-in-the-east".into()),
        ]);
        rows
    }

    fn fitted(width: Option<usize>, drop: &[&str]) -> String {
        let style = TableStyle {
            width,
            ..TableStyle::PLAIN
        };
        let mut out = Vec::new();
        write_fitted(&rows(), drop, false, style, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ids_stay_whole_text_gives_way_then_columns_go() {
        for width in [50, 60, 80, 120] {
            let text = fitted(Some(width), &["instance_name", "job_name"]);
            for line in text.lines() {
                assert!(text_width(line) <= width, "{width}: {line}\n{text}");
            }
            assert!(text.contains("0123456789abcdef0123456789abcdef"), "{text}");
            assert!(text.contains("Completed"), "{text}");
        }
        assert!(fitted(Some(80), &["instance_name"]).contains('…'));
        assert!(!fitted(Some(50), &["instance_name"]).contains("instance_name"));
        // Piped: nothing is left out; only very long text is capped.
        let piped = fitted(None, &["instance_name"]);
        assert!(piped.contains("orders-db-primary-in-the-east"), "{piped}");
        assert!(
            piped.contains("RestoreGaussDBforMySQLNewInstanceWithAV…"),
            "{piped}"
        );
        assert!(fitted(None, &["instance_name"]).contains("orders-db-primary-in-the-east"));
    }

    #[test]
    fn truncation_ends_with_an_ellipsis_within_the_width() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abcde…");
        assert_eq!(text_width(&truncate("数据库实例名字", 6)), 5);
    }

    #[test]
    fn unknown_columns_are_a_usage_error_naming_the_known() {
        let err = choose(&rows(), &TableSpec::ALL, &["nope".into()], false).unwrap_err();
        assert_eq!(crate::exit::code_for(&err), crate::exit::USAGE);
        let picked = choose(&rows(), &TableSpec::ALL, &["job_status".into()], false).unwrap();
        assert_eq!(picked.columns, ["job_status"]);
    }

    #[test]
    fn words_wrap_to_the_width_with_an_indent() {
        let text = wrap("warning: one two three four five", Some(16), 2);
        assert_eq!(text, "warning: one two\n  three four\n  five");
        assert_eq!(wrap("a b", None, 2), "a b");
    }
}
