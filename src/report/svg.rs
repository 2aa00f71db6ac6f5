//! Drawing pieces the timeline and the charts share: each status's fill (a colour and a
//! pattern, so grey print still tells them apart), the pattern definitions, the legend, the
//! time scale and its ticks in the report's zone.

use chrono::{DateTime, Datelike, Duration, FixedOffset, Local, Offset, TimeZone, Utc};
use maud::{html, Markup};

use crate::api::model::JobStatus;
use crate::query::DisplayTz;

/// Statuses in the order stacks and legends draw them: final ones, then open ones.
pub const ORDER: [JobStatus; 6] = [
    JobStatus::Completed,
    JobStatus::Failed,
    JobStatus::Canceled,
    JobStatus::Running,
    JobStatus::Pending,
    JobStatus::Unauthorized,
];

/// The class and pattern id of a status (`None`: a status this build does not know).
pub fn slug(status: Option<JobStatus>) -> &'static str {
    match status {
        Some(JobStatus::Completed) => "completed",
        Some(JobStatus::Failed) => "failed",
        Some(JobStatus::Canceled) => "canceled",
        Some(JobStatus::Running) => "running",
        Some(JobStatus::Pending) => "pending",
        Some(JobStatus::Unauthorized) => "unauthorized",
        None => "unknown",
    }
}

/// The SVG fill of a status.
pub fn fill(status: Option<JobStatus>) -> String {
    format!("url(#p-{})", slug(status))
}

/// The status of stored text, `None` for text this build does not know.
pub fn status_of(text: Option<&str>) -> Option<JobStatus> {
    text.and_then(JobStatus::parse)
}

/// One pattern per status: a colour and a texture. Completed is plain, the rest carry
/// stripes, dots or hatching that survive printing in grey.
pub fn patterns() -> Markup {
    // (slug, colour, texture drawn in white over it)
    let textures: [(&str, &str, &str); 7] = [
        ("completed", "#2e7d32", ""),
        ("failed", "#c62828", "M0,6 L6,0 M-1,1 L1,-1 M5,7 L7,5"),
        ("canceled", "#616161", "dots"),
        ("running", "#1565c0", "M0,3 L6,3"),
        ("pending", "#ef8f00", "M3,0 L3,6"),
        ("unauthorized", "#6a1b9a", "M0,0 L6,6 M0,6 L6,0"),
        ("unknown", "#9e9e9e", "M0,0 L6,6"),
    ];
    html! {
        svg class="defs" width="0" height="0" aria-hidden="true" {
            defs {
                @for (slug, colour, path) in textures {
                    pattern id=(format!("p-{slug}")) width="6" height="6"
                        patternUnits="userSpaceOnUse" {
                        rect width="6" height="6" fill=(colour) {}
                        @if path == "dots" {
                            circle cx="3" cy="3" r="1.3" fill="#fff" {}
                        } @else if !path.is_empty() {
                            path d=(path) stroke="#fff" stroke-width="1.4" {}
                        }
                    }
                }
            }
        }
    }
}

/// The legend: a swatch and the status's name for each status.
pub fn legend(extra: Markup) -> Markup {
    html! {
        ul class="legend" {
            @for status in ORDER {
                li {
                    svg width="22" height="12" viewBox="0 0 22 12" aria-hidden="true" {
                        rect width="22" height="12" fill=(fill(Some(status))) stroke="#333"
                            stroke-width="0.5" {}
                    }
                    " " (status.as_str())
                }
            }
            (extra)
        }
    }
}

/// A number for an SVG attribute: one decimal is finer than any screen or printer needs and
/// keeps a large report small.
pub fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// The fixed offset the report's times are shown in. A machine zone is read once at the start
/// of the range: a report spanning a daylight-saving change shows one offset throughout.
pub fn offset(tz: DisplayTz, at: DateTime<Utc>) -> FixedOffset {
    match tz {
        DisplayTz::Utc => Utc.fix(),
        DisplayTz::Fixed(offset) => offset,
        DisplayTz::Local => at.with_timezone(&Local).offset().fix(),
    }
}

/// A time in the report's zone: `2024-03-01 16:00` plus the offset unless UTC.
pub fn when(t: DateTime<Utc>, offset: FixedOffset) -> String {
    let local = t.with_timezone(&offset);
    if offset.local_minus_utc() == 0 {
        local.format("%Y-%m-%d %H:%M UTC").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M %:z").to_string()
    }
}

/// The x of each time on a line from `left` to `right`.
#[derive(Debug, Clone, Copy)]
pub struct TimeScale {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub left: f64,
    pub right: f64,
}

impl TimeScale {
    pub fn x(&self, t: DateTime<Utc>) -> f64 {
        let span = (self.end - self.start).num_seconds().max(1) as f64;
        let at = (t - self.start).num_seconds() as f64;
        let x = self.left + (self.right - self.left) * at / span;
        x.clamp(self.left, self.right)
    }

    /// Tick times and labels at round times of `offset`: hours, days, weeks or months, about
    /// eight of them.
    pub fn ticks(&self, offset: FixedOffset) -> Vec<(DateTime<Utc>, String)> {
        let span = (self.end - self.start).num_seconds().max(1);
        let hours = [1i64, 2, 3, 6, 12, 24, 48, 24 * 7, 24 * 14];
        let local_start = self.start.with_timezone(&offset);
        let mut out = Vec::new();
        if let Some(&step) = hours.iter().find(|&&h| span / (h * 3600) <= 10) {
            let step_s = step * 3600;
            // Round times of the zone: whole steps after the local midnight (weeks: Mondays).
            let midnight = local_start
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .expect("midnight exists");
            let mut t = offset
                .from_local_datetime(&midnight)
                .single()
                .expect("a fixed offset has no gaps")
                .with_timezone(&Utc);
            if step >= 24 * 7 {
                let back = i64::from(local_start.weekday().num_days_from_monday());
                t -= Duration::days(back);
            }
            while t < self.start {
                t += Duration::seconds(step_s);
            }
            let format = if step < 24 { "%m-%d %H:%M" } else { "%Y-%m-%d" };
            while t <= self.end {
                out.push((t, t.with_timezone(&offset).format(format).to_string()));
                t += Duration::seconds(step_s);
            }
        } else {
            let months = [1u32, 2, 3, 6, 12]
                .into_iter()
                .find(|m| span / (i64::from(*m) * 30 * 86_400) <= 10)
                .unwrap_or(12);
            let (mut y, mut m) = (local_start.year(), local_start.month());
            while let Some(t) = offset.with_ymd_and_hms(y, m, 1, 0, 0, 0).single() {
                let t = t.with_timezone(&Utc);
                if t > self.end {
                    break;
                }
                if t >= self.start && (m - 1) % months == 0 {
                    out.push((t, t.with_timezone(&offset).format("%Y-%m").to_string()));
                }
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        crate::time::from_store(s).unwrap()
    }

    #[test]
    fn ticks_fall_on_round_times_of_the_zone() {
        let scale = TimeScale {
            start: at("2024-03-01T05:00:00Z"),
            end: at("2024-03-08T05:00:00Z"),
            left: 0.0,
            right: 700.0,
        };
        let utc = scale.ticks(Utc.fix());
        assert_eq!(utc[0].1, "2024-03-02");
        assert_eq!(utc.len(), 7);
        // +08:00: local midnight is 16:00 UTC the day before.
        let east = FixedOffset::east_opt(8 * 3600).unwrap();
        let ticks = scale.ticks(east);
        assert_eq!(ticks[0].0, at("2024-03-01T16:00:00Z"));
        assert_eq!(ticks[0].1, "2024-03-02");
        // A year: months.
        let year = TimeScale {
            start: at("2024-01-01T00:00:00Z"),
            end: at("2025-01-01T00:00:00Z"),
            ..scale
        };
        let labels: Vec<String> = year.ticks(Utc.fix()).into_iter().map(|t| t.1).collect();
        assert_eq!(labels[..2], ["2024-01", "2024-03"]);
        assert_eq!(scale.x(at("2024-03-04T17:00:00Z")), 350.0);
        assert_eq!(scale.x(at("2020-01-01T00:00:00Z")), 0.0);
        assert_eq!(n(1.25), "1.3");
        assert_eq!(n(3.0), "3");
    }
}
