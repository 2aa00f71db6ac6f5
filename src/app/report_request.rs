//! `report` flags turned into the checked request the report room draws: a closed range
//! (30 days to now unless told), the filters `query stats` takes, the title and the zone.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use super::query_request::statuses;
use super::times::time_range;
use crate::cli::ReportArgs;
use crate::exit::usage;
use crate::query::{DisplayTz, Filter};
use crate::report::ReportRequest;

/// How far back a report without --since reaches from its end.
const DEFAULT_SPAN: Duration = Duration::days(30);

/// The request of `gaussjobs report`. `db` is the archive as named, for the header.
pub fn report_request(
    args: &ReportArgs,
    db: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<ReportRequest> {
    let (since, until) = time_range(args.since.as_deref(), args.until.as_deref(), now)?;
    let until = until.unwrap_or(now);
    let since = since.unwrap_or(until - DEFAULT_SPAN);
    if since >= until {
        return Err(usage(format!(
            "--since ({}) must be before the report's end ({})",
            crate::time::to_store(since),
            crate::time::to_store(until)
        )));
    }
    let mut instances: Vec<String> = Vec::new();
    for i in args
        .instance
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        if !instances.iter().any(|have| have == i) {
            instances.push(i.to_string());
        }
    }
    Ok(ReportRequest {
        filter: Filter {
            statuses: statuses(args.status.iter().map(String::as_str))?,
            instances,
            project: args.project.clone(),
            since: Some(since),
            until: Some(until),
            ..Filter::default()
        },
        title: args
            .title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| "Scheduled jobs".to_string()),
        tz: DisplayTz::parse(&args.tz)?,
        archive: db.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn request(args: &[&str]) -> anyhow::Result<ReportRequest> {
        let argv = ["gaussjobs", "report"].iter().chain(args).copied();
        let cli = crate::cli::Cli::try_parse_from(argv).expect("arguments parse");
        let crate::cli::Command::Report(args) = cli.command else {
            panic!("not a report command")
        };
        let now = crate::time::from_store("2024-04-10T12:00:00Z").unwrap();
        report_request(&args, Path::new("a.db"), now)
    }

    #[test]
    fn a_report_has_a_closed_range_and_checked_filters() {
        let r = request(&[]).unwrap();
        let t = |s: &str| crate::time::from_store(s);
        assert_eq!(r.filter.since, t("2024-03-11T12:00:00Z"));
        assert_eq!(r.filter.until, t("2024-04-10T12:00:00Z"));
        assert_eq!(r.title, "Scheduled jobs");
        let r = request(&[
            "--until",
            "2024-04-01",
            "--instance",
            "a",
            "--instance",
            "b",
            "--instance",
            "a",
            "--status",
            "failed,canceled",
            "--tz",
            "+08:00",
        ])
        .unwrap();
        assert_eq!(r.filter.since, t("2024-03-02T00:00:00Z"));
        assert_eq!(r.filter.instances, ["a", "b"]);
        assert_eq!(r.filter.statuses.len(), 2);
        assert!(request(&["--status", "bogus"]).is_err());
        assert!(request(&["--tz", "mars"]).is_err());
        // A --since after the default end (now) is refused, not an empty report.
        assert!(request(&["--since", "2025-01-01"]).is_err());
    }
}
