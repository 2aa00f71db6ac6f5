//! `query` and `status` flags turned into the checked requests `query` answers: statuses,
//! times, grouping keys and limits parsed once, every bad value a usage error saying what to
//! type instead.

use chrono::{DateTime, Utc};

use super::times::{time_range, user_time};
use crate::api::model::JobStatus;
use crate::cli::{self, FilterArgs, QueryArgs, QueryCommand};
use crate::exit::usage_with_hint;
use crate::query::{
    AsOfQuery, DisplayTz, Filter, Format, InstanceQuery, JobsQuery, Key, Order, QueryRequest,
    Question, StatsQuery, StatusRequest, TableChoice,
};

/// The request of one `query` command. Flags are checked before the archive is opened, so a
/// typo is reported as such even when the archive is missing too.
pub fn query_request(args: &QueryArgs, now: DateTime<Utc>) -> anyhow::Result<QueryRequest> {
    let question = match &args.command {
        QueryCommand::Jobs(a) => Question::Jobs(JobsQuery {
            filter: filter(&a.filter, now)?,
            limit: a.limit,
            order: order(a.order),
        }),
        QueryCommand::Job { job_id } => Question::Job {
            job_id: job_id.clone(),
        },
        QueryCommand::Instance(a) => {
            let (since, until) = time_range(a.since.as_deref(), a.until.as_deref(), now)?;
            Question::Instance(InstanceQuery {
                instance: a.instance.clone(),
                since,
                until,
            })
        }
        QueryCommand::Stats(a) => Question::Stats(StatsQuery {
            keys: stats_keys(&a.by)?,
            filter: filter(&a.filter, now)?,
        }),
        QueryCommand::AsOf(a) => Question::AsOf(AsOfQuery {
            at: user_time("as-of time", Some(&a.at), now)?.expect("a value was given"),
            filter: filter(&a.filter, now)?,
            limit: a.limit,
        }),
        QueryCommand::Sql { sql, params } => Question::Sql {
            sql: sql.clone(),
            params: params.clone(),
        },
    };
    Ok(QueryRequest {
        format: format(args.format),
        tz: DisplayTz::parse(&args.tz)?,
        table: TableChoice {
            columns: args
                .columns
                .iter()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect(),
            wide: args.wide,
            width: args.width.map(usize::from),
        },
        question,
    })
}

/// The request of `gaussjobs status`.
pub(crate) fn status_request(args: &cli::StatusArgs) -> StatusRequest {
    StatusRequest {
        format: format(args.format),
        width: args.width.map(usize::from),
    }
}

pub(crate) fn format(format: cli::Format) -> Format {
    match format {
        cli::Format::Table => Format::Table,
        cli::Format::Json => Format::Json,
        cli::Format::Csv => Format::Csv,
        cli::Format::Ndjson => Format::Ndjson,
    }
}

fn order(order: cli::Order) -> Order {
    match order {
        cli::Order::Newest => Order::Newest,
        cli::Order::Oldest => Order::Oldest,
        cli::Order::Longest => Order::Longest,
    }
}

/// The job statuses of `--status` (repeatable, or comma-separated; any case), each once.
pub(crate) fn statuses<'a>(
    given: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<Vec<JobStatus>> {
    let mut statuses = Vec::new();
    for given in given.into_iter().flat_map(|s| s.split(',')) {
        let status = JobStatus::parse(given).ok_or_else(|| {
            usage_with_hint(
                format!("unknown job status {:?}", given.trim()),
                format!("--status is one of {}", JobStatus::names()),
            )
        })?;
        if !statuses.contains(&status) {
            statuses.push(status);
        }
    }
    Ok(statuses)
}

/// The filters shared by `query jobs`, `stats` and `as-of`.
fn filter(args: &FilterArgs, now: DateTime<Utc>) -> anyhow::Result<Filter> {
    let mut statuses = statuses(args.status.iter().map(String::as_str))?;
    if args.open {
        for status in JobStatus::ALL.into_iter().filter(|s| s.is_open()) {
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
    }
    let (since, until) = time_range(args.since.as_deref(), args.until.as_deref(), now)?;
    Ok(Filter {
        statuses,
        job_name: args.job_name.clone(),
        like: args.like,
        instances: args.instance.clone(),
        project: args.project.clone(),
        since,
        until,
    })
}

/// The keys of `stats --by`, each once, in the order given.
fn stats_keys(by: &[String]) -> anyhow::Result<Vec<Key>> {
    let mut keys = Vec::new();
    for given in by.iter().filter(|s| !s.trim().is_empty()) {
        let key = Key::parse(given).ok_or_else(|| {
            usage_with_hint(
                format!("unknown --by key {:?}", given.trim()),
                format!(
                    "--by takes one or more of {}",
                    Key::ALL.map(Key::name).join(", ")
                ),
            )
        })?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// The request `gaussjobs query ARGS...` makes, for tests that ask questions as a user types
/// them. Panics when clap refuses the arguments; a bad value is the usage error `run` gives.
#[cfg(test)]
pub(crate) fn query_request_from_argv(
    args: &[&str],
    now: DateTime<Utc>,
) -> anyhow::Result<QueryRequest> {
    use clap::Parser;
    let argv = ["gaussjobs", "query"].iter().chain(args).copied();
    let cli = cli::Cli::try_parse_from(argv).expect("arguments parse");
    let cli::Command::Query(args) = cli.command else {
        panic!("not a query command")
    };
    query_request(&args, now)
}
