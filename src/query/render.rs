//! Result sets (`Rows` of typed `Cell`s), how a table shows a cell, and the machine formats:
//! JSON, NDJSON, CSV. Tables are laid out by `layout`.

use std::io::{IsTerminal, Write};

use chrono::{FixedOffset, Local};
use comfy_table::{presets, ContentArrangement, Table};
use rusqlite::types::ValueRef;
use serde_json::{Map, Value};

pub use crate::terminal::printable;

/// How an answer is written: a table for people, or JSON, NDJSON or CSV for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
    Ndjson,
}

/// One value of a result set, typed the way it is rendered.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    /// JSON stored as text in the archive (target_config, changed), emitted nested in JSON.
    Json(Value),
}

impl Cell {
    /// A value as SQLite typed it. BLOBs become hex text: JSON and CSV have no bytes.
    pub fn from_sql(value: ValueRef<'_>) -> Cell {
        match value {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Integer(i),
            ValueRef::Real(r) => Cell::Real(r),
            ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Cell::Text(hex::encode(b)),
        }
    }

    /// A column that holds JSON text. Text that does not parse is kept as a string rather
    /// than failing the whole query: the archive is read by tools we do not control.
    pub fn from_json_text(value: ValueRef<'_>) -> Cell {
        match value {
            ValueRef::Text(t) => match serde_json::from_slice::<Value>(t) {
                Ok(v) => Cell::Json(v),
                Err(_) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            },
            other => Cell::from_sql(other),
        }
    }

    /// The value in JSON and NDJSON output. Infinite reals (SQLite has no NaN) become null.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Integer(i) => Value::from(*i),
            Cell::Real(r) => serde_json::Number::from_f64(*r)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Cell::Text(s) => Value::String(s.clone()),
            Cell::Json(v) => v.clone(),
        }
    }

    /// The value in table and CSV output: NULL is empty, JSON is compact.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Integer(i) => i.to_string(),
            // Debug keeps the ".0" of whole reals, so 2.0 does not read as an integer.
            Cell::Real(r) => format!("{r:?}"),
            Cell::Text(s) => s.clone(),
            Cell::Json(v) => v.to_string(),
        }
    }
}

/// A result set: column names and rows of cells in the same order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Rows {
    pub fn new(columns: &[&str]) -> Rows {
        Rows {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// The same rows with only `columns`, in that order (names not present are skipped).
    pub fn select(&self, columns: &[&str]) -> Rows {
        let picks: Vec<usize> = columns
            .iter()
            .filter_map(|c| self.columns.iter().position(|have| have == c))
            .collect();
        Rows {
            columns: picks.iter().map(|&i| self.columns[i].clone()).collect(),
            rows: self
                .rows
                .iter()
                .map(|r| picks.iter().map(|&i| r[i].clone()).collect())
                .collect(),
        }
    }

    /// Object keys for JSON. SQL like `SELECT * FROM jobs JOIN job_history ...` repeats
    /// names, and a JSON object would silently keep only one; later repeats get `:2`, `:3`.
    fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::with_capacity(self.columns.len());
        for name in &self.columns {
            let mut key = name.clone();
            let mut n = 1;
            while keys.contains(&key) {
                n += 1;
                key = format!("{name}:{n}");
            }
            keys.push(key);
        }
        keys
    }

    /// Each row as a JSON object keyed by column name, in column order.
    pub fn to_objects(&self) -> Vec<Value> {
        let keys = self.keys();
        self.rows
            .iter()
            .map(|row| {
                let object: Map<String, Value> = keys
                    .iter()
                    .zip(row)
                    .map(|(k, c)| (k.clone(), c.to_json()))
                    .collect();
                Value::Object(object)
            })
            .collect()
    }
}

/// How tables are laid out. On a terminal they fit its width (or the width `--width` gives);
/// anywhere else (a pipe, a file, a test) nothing is wrapped or left out, so output does not
/// depend on who runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableStyle {
    /// The columns a table must fit in; `None`: no limit.
    pub width: Option<usize>,
    /// `--wide`: every column, nothing cut.
    pub wide: bool,
    /// The zone times are shown in. Only tables change; the file and JSON stay UTC.
    pub tz: DisplayTz,
}

/// `--tz`: where a person reading a table lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DisplayTz {
    /// As stored: `2024-03-01T08:00:00Z`.
    #[default]
    Utc,
    /// The machine's zone, with its offset shown.
    Local,
    Fixed(FixedOffset),
}

impl DisplayTz {
    /// `utc`, `local`, `+08:00`, `+0800`, `-05:30`, `Z`; anything else is a usage error.
    pub fn parse(s: &str) -> anyhow::Result<DisplayTz> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t == "z" {
            return Ok(DisplayTz::Utc);
        }
        if t.eq_ignore_ascii_case("local") {
            return Ok(DisplayTz::Local);
        }
        let fixed = (|| {
            let sign = match t.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = t[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hours: i32 = digits[..2].parse().ok()?;
            let minutes: i32 = digits[2..].parse().ok()?;
            if minutes >= 60 {
                return None;
            }
            FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
        })();
        match fixed {
            Some(offset) if offset.local_minus_utc() == 0 => Ok(DisplayTz::Utc),
            Some(offset) => Ok(DisplayTz::Fixed(offset)),
            None => Err(crate::exit::usage(format!(
                "--tz {s:?} is not a time zone; use utc, local or an offset like +08:00"
            ))),
        }
    }

    /// A stored time (`YYYY-MM-DDTHH:MM:SSZ`) in this zone, `2024-03-01 16:00:00 +08:00`;
    /// other text as it is.
    pub fn show(self, text: &str) -> String {
        if self == DisplayTz::Utc || !looks_stored(text) {
            return text.to_string();
        }
        let Some(t) = crate::time::from_store(text) else {
            return text.to_string();
        };
        let format = "%Y-%m-%d %H:%M:%S %:z";
        match self {
            DisplayTz::Utc => text.to_string(),
            DisplayTz::Local => t.with_timezone(&Local).format(format).to_string(),
            DisplayTz::Fixed(offset) => t.with_timezone(&offset).format(format).to_string(),
        }
    }
}

impl DisplayTz {
    /// A stored time as `03-01 16:00` in this zone, for tables too narrow for the whole time.
    pub fn show_short(self, text: &str) -> String {
        let Some(t) = crate::time::from_store(text) else {
            return text.to_string();
        };
        let format = "%m-%d %H:%M";
        match self {
            DisplayTz::Utc => t.format(format).to_string(),
            DisplayTz::Local => t.with_timezone(&Local).format(format).to_string(),
            DisplayTz::Fixed(offset) => t.with_timezone(&offset).format(format).to_string(),
        }
    }
}

/// Whether text has the archive's time form exactly; only such cells are converted, so ids and
/// names are never touched.
pub(super) fn looks_stored(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
}

impl TableStyle {
    /// Fixed layout: no wrapping, no terminal detection, UTC.
    pub const PLAIN: TableStyle = TableStyle {
        width: None,
        wide: false,
        tz: DisplayTz::Utc,
    };

    /// Fit `width` when given (`--width`), else the terminal when stdout is one.
    pub fn for_stdout(width: Option<usize>) -> TableStyle {
        let width = width.or_else(|| {
            let probe = Table::new();
            // comfy-table asks the terminal only when stdout is one.
            (std::io::stdout().is_terminal())
                .then(|| probe.width())
                .flatten()
                .map(usize::from)
        });
        TableStyle {
            width,
            ..TableStyle::PLAIN
        }
    }

    /// A cell as a table shows it: times in the chosen zone, control characters escaped.
    pub fn text(self, cell: &Cell) -> String {
        let text = match cell {
            Cell::Text(s) => self.tz.show(s),
            other => other.to_text(),
        };
        printable(&text).into_owned()
    }

    /// A cell as a narrow table shows it: archive times as `MM-DD HH:MM` in the chosen zone,
    /// anything else as [`TableStyle::text`].
    pub fn short_text(self, cell: &Cell) -> String {
        match cell {
            Cell::Text(s) if looks_stored(s) => self.tz.show_short(s),
            other => self.text(other),
        }
    }

    /// An empty table in this style. Never arranged by comfy-table: `layout` has already cut
    /// the cells to fit, and comfy-table's own wrapping cuts identifiers apart.
    pub fn table(self) -> Table {
        let mut table = Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .force_no_tty()
            .set_content_arrangement(ContentArrangement::Disabled);
        table
    }
}

/// Pretty JSON ending with a newline.
pub fn write_json(value: &Value, out: &mut dyn Write) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn write_ndjson(rows: &Rows, out: &mut dyn Write) -> anyhow::Result<()> {
    for object in rows.to_objects() {
        serde_json::to_writer(&mut *out, &object)?;
        writeln!(out)?;
    }
    Ok(())
}

pub fn write_csv(rows: &Rows, out: &mut dyn Write) -> anyhow::Result<()> {
    if rows.columns.is_empty() {
        return Ok(());
    }
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(&rows.columns)?;
    for row in &rows.rows {
        writer.write_record(row.iter().map(Cell::to_text))?;
    }
    writer.flush()?;
    Ok(())
}
