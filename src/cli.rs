//! The command line: every command and flag, with the help text in doc comments.
//!
//! Values that need the clock (`--since 30d`) are kept as text here and read by the command
//! that uses them, so `now` is taken once per run.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Archive the scheduled jobs of GaussDB(for MySQL) / TaurusDB into SQLite, and answer
/// questions about them offline.
#[derive(Debug, Parser)]
#[command(
    name = "gaussjobs",
    version,
    propagate_version = true,
    after_help = examples::TOP
)]
pub struct Cli {
    /// The archive file [default: gaussjobs.db; for demo, gaussjobs-demo.db].
    #[arg(long, global = true, env = "GAUSSJOBS_DB", help_heading = GLOBAL)]
    pub db: Option<PathBuf>,

    /// More log output on stderr (-v: info, -vv: debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,

    /// Log lines as text (for people) or JSON, one object a line (for log shippers); with
    /// json the final error and its hint are a JSON line too.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, help_heading = GLOBAL)]
    pub log_format: LogFormat,

    /// Colour in help and log lines: auto (a terminal, unless NO_COLOR is set), always or
    /// never.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto,
          value_name = "WHEN", help_heading = GLOBAL)]
    pub color: ColorArg,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The archive path: `--db`, else `GAUSSJOBS_DB`, else the command's default file name.
    pub fn db_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(|| match self.command {
            Command::Demo(_) => PathBuf::from("gaussjobs-demo.db"),
            _ => PathBuf::from("gaussjobs.db"),
        })
    }
}

/// The help heading of the flags every command takes.
const GLOBAL: &str = "Global options";

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

/// How log lines are written on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch new and changed jobs from the API into the archive.
    ///
    /// The first run starts at --since; later runs continue where the archive left off and
    /// re-read the last --lookback so late jobs are caught. A progress bar is drawn when
    /// stderr is a terminal (never under cron, -q or --json). Exit codes: 0 done, 1 failed
    /// (what was fetched is kept), 2 usage error, 75 another sync holds the archive.
    #[command(after_help = examples::SYNC)]
    Sync(Box<SyncArgs>),
    /// Answer questions from the archive, offline.
    #[command(after_help = examples::QUERY)]
    Query(QueryArgs),
    /// Show what the archive covers, its gaps, the last successful sync and any warning.
    #[command(after_help = examples::STATUS)]
    Status(StatusArgs),
    /// Check the setup without changing anything: the credential source, the endpoint, the
    /// clock, the archive and its lock. Takes sync's flags; one line per check, exit 1 if
    /// any fails.
    #[command(after_help = examples::DOCTOR)]
    Doctor(Box<SyncArgs>),
    /// Write one self-contained HTML report of the archive: timeline, charts, failures.
    ///
    /// Offline and read-only, like query. The file needs no server and nothing from
    /// elsewhere: open it in a browser, mail it, print it.
    #[command(after_help = examples::REPORT)]
    Report(ReportArgs),
    /// Serve a fake scheduled-jobs API on loopback, for trying the tool and for tests.
    #[command(after_help = examples::SIMULATE)]
    Simulate(SimulateArgs),
    /// Start a simulator, sync it into gaussjobs-demo.db here, and show a few answers.
    #[command(after_help = examples::DEMO)]
    Demo(DemoArgs),
    /// Print a shell completion script on stdout.
    #[command(after_help = examples::COMPLETIONS)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages: one per command (gaussjobs-sync.1, gaussjobs-query-jobs.1, ...)
    /// into DIR, or the top page (roff) on stdout.
    #[command(after_help = examples::MAN)]
    Man {
        /// The directory to write the pages into (made if missing).
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Region whose endpoints (API and IAM) to use, e.g. cn-north-4.
    #[arg(long, required_unless_present_any = ["endpoint", "config"])]
    pub region: Option<String>,

    /// API endpoint URL; overrides --region (e.g. https://gaussdb.cn-north-4.myhuaweicloud.com).
    #[arg(long)]
    pub endpoint: Option<String>,

    /// Project ID (32 letters and digits). Required unless --config lists the projects.
    #[arg(
        long,
        env = "HUAWEICLOUD_SDK_PROJECT_ID",
        required_unless_present = "config"
    )]
    pub project_id: Option<String>,

    /// Read the IAM token from this file (instead of GAUSSJOBS_TOKEN).
    #[arg(long)]
    pub token_file: Option<PathBuf>,

    /// IAM user for a password login (the password comes from GAUSSJOBS_IAM_PASSWORD or
    /// --iam-password-file, never from a flag).
    #[arg(long, env = "GAUSSJOBS_IAM_USER")]
    pub iam_user: Option<String>,

    /// The IAM user's account (domain) name [default: the user name].
    #[arg(long, env = "GAUSSJOBS_IAM_DOMAIN")]
    pub iam_domain: Option<String>,

    /// Read the IAM password from this file (instead of GAUSSJOBS_IAM_PASSWORD).
    #[arg(long)]
    pub iam_password_file: Option<PathBuf>,

    /// IAM endpoint URL; overrides the one of --region (e.g. https://iam.cn-north-4.myhuaweicloud.com).
    #[arg(long)]
    pub iam_endpoint: Option<String>,

    /// A TOML file listing accounts (projects and their credentials) to sync together.
    /// Without --project-id, every account in it is synced (or those named by --account).
    #[arg(long, env = "GAUSSJOBS_CONFIG")]
    pub config: Option<PathBuf>,

    /// Only this account of --config (repeatable).
    #[arg(long, requires = "config")]
    pub account: Vec<String>,

    /// Also trust the CA certificates in this PEM file (a corporate TLS-inspecting proxy's
    /// CA, a private endpoint's). The system's store and SSL_CERT_FILE / SSL_CERT_DIR are
    /// always trusted; verification is never turned off.
    #[arg(long, env = "GAUSSJOBS_CA_BUNDLE", value_name = "PATH")]
    pub ca_bundle: Option<PathBuf>,

    /// Send every request through this HTTP(S) proxy (http://[user:password@]host:port),
    /// instead of the one HTTPS_PROXY / HTTP_PROXY names; NO_PROXY still applies.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,

    /// Where the first sync starts (create time): 2024-03-01, 2024-03-01T00:00:00Z, 30d, ...
    /// Later syncs continue from the archive's state; an earlier --since backfills.
    #[arg(long)]
    pub since: Option<String>,

    /// Where to stop (create time); default now.
    #[arg(long)]
    pub until: Option<String>,

    /// Length of one fetch window of create time.
    #[arg(long, default_value = "1d")]
    pub window: String,

    /// How much of the newest archived time to read again, for late and boundary jobs.
    #[arg(long, default_value = "6h")]
    pub lookback: String,

    /// Jobs per request, 2..100. Each page after the first starts with the last job of the
    /// page before, to notice jobs sliding between pages; a page of one cannot overlap.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(2..=100))]
    pub page_size: u32,

    /// Windows fetched at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,

    /// Most requests per second to the endpoint (0.01..10000).
    #[arg(long, default_value_t = 10.0)]
    pub max_rps: f64,

    /// Only jobs in this status.
    #[arg(long)]
    pub status: Option<String>,

    /// Only jobs of this type (exact job_name).
    #[arg(long)]
    pub job_name: Option<String>,

    /// Only jobs of this instance.
    #[arg(long)]
    pub instance_id: Option<String>,

    /// Language of the API's messages.
    #[arg(long, value_enum, default_value_t = LanguageArg::EnUs)]
    pub language: LanguageArg,

    /// When another sync holds the archive, wait for it instead of exiting 75.
    #[arg(long)]
    pub wait: bool,

    /// Longest the whole run may take (e.g. 10m): then it stops fetching, keeps what it
    /// fetched, and exits 1. Without it a run ends when every listing has succeeded or given up.
    #[arg(long, env = "GAUSSJOBS_MAX_TIME")]
    pub max_time: Option<String>,

    /// Seconds to wait for one response before retrying (1..3600).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Print the outcome as one JSON object on stdout (also when the run fails before it
    /// starts), for monitoring; no progress bar. Human lines still go to stderr.
    #[arg(long)]
    pub json: bool,

    /// After the run (whatever its outcome), write the archive's numbers for Prometheus
    /// (node exporter textfile format) to this file, atomically.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LanguageArg {
    #[value(name = "en-us")]
    EnUs,
    #[value(name = "zh-cn")]
    ZhCn,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Output format: table (for people), json (an array; times as stored, UTC), ndjson (one
    /// object a line), csv (with a header row).
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Time zone of times in tables: utc, local, or an offset like +08:00. JSON, NDJSON and
    /// CSV always give times as stored (UTC).
    #[arg(long, global = true, default_value = "utc")]
    pub tz: String,

    /// Show these columns, in this order (comma-separated), in every format; in a table
    /// none is then left out for width. An unknown name lists the known ones.
    #[arg(long, global = true, value_delimiter = ',', value_name = "A,B,...")]
    pub columns: Vec<String>,

    /// Tables show every column and cut nothing, however wide.
    #[arg(long, global = true, conflicts_with = "columns")]
    pub wide: bool,

    /// Fit tables to this many columns [default: the terminal's width; no limit when stdout
    /// is not a terminal]. Identifiers are never cut; names give way, then columns.
    #[arg(long, global = true, value_name = "COLUMNS",
          value_parser = clap::value_parser!(u16).range(40..=1000))]
    pub width: Option<u16>,

    #[command(subcommand)]
    pub command: QueryCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Ndjson,
}

#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// List jobs, newest first.
    #[command(after_help = examples::QUERY_JOBS)]
    Jobs(JobsArgs),
    /// One job and every version of it the archive has seen, with what changed.
    #[command(after_help = examples::QUERY_JOB)]
    Job {
        /// The job's job_id.
        job_id: String,
    },
    /// One instance: its jobs in time order with durations, and the timeline of every status
    /// change the archive saw.
    #[command(after_help = examples::QUERY_INSTANCE)]
    Instance(InstanceArgs),
    /// Counts, failure rate and duration percentiles, grouped.
    #[command(after_help = examples::QUERY_STATS)]
    Stats(StatsArgs),
    /// The status every job had as the archive knew it at a point in time.
    #[command(after_help = examples::QUERY_AS_OF)]
    AsOf(AsOfArgs),
    /// Run read-only SQL against the archive (views job_durations and status_transitions
    /// make common questions short; see the README's SQL cookbook).
    #[command(after_help = examples::QUERY_SQL)]
    Sql {
        /// One SELECT (or other read-only) statement.
        sql: String,

        /// A value for a parameter, bound, never pasted into the SQL (repeatable). Plain
        /// values fill `?` / `?1`, `?2`... in order; `name=value` fills `:name`. Values are
        /// bound as text.
        #[arg(long = "param", value_name = "VALUE")]
        params: Vec<String>,
    },
}

/// Which jobs: the filters shared by jobs, stats and as-of.
#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Only jobs in this status (repeatable, or comma-separated): Running, Completed, Failed,
    /// Pending, Unauthorized, Canceled. Case does not matter.
    #[arg(long)]
    pub status: Vec<String>,

    /// Only jobs not yet final (Pending, Running, Unauthorized); adds to --status.
    #[arg(long)]
    pub open: bool,

    /// Only jobs of this type (exact job_name; with --like, a case-insensitive substring).
    #[arg(long)]
    pub job_name: Option<String>,

    /// Match --job-name as a case-insensitive substring.
    #[arg(long, requires = "job_name")]
    pub like: bool,

    /// Only jobs of this instance, by instance_id or instance_name (any case); repeatable,
    /// any of them.
    #[arg(long)]
    pub instance: Vec<String>,

    /// Only jobs of this project_id.
    #[arg(long)]
    pub project: Option<String>,

    /// Created at or after this time (2024-03-01, RFC 3339, +0800 form, or an age like 7d).
    #[arg(long)]
    pub since: Option<String>,

    /// Created before this time (same forms as --since).
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Order {
    /// Newest create time first.
    #[default]
    Newest,
    /// Oldest create time first.
    Oldest,
    /// Longest run (end_time - start_time) first; jobs without both times last.
    Longest,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(flatten)]
    pub filter: FilterArgs,

    /// Most rows to show (1..10,000,000); a note on stderr says when more match.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub limit: u64,

    /// Row order.
    #[arg(long, value_enum, default_value_t = Order::Newest)]
    pub order: Order,
}

#[derive(Debug, Args)]
pub struct InstanceArgs {
    /// The instance_id, or the instance_name (any case).
    pub instance: String,

    /// Only jobs created at or after this time.
    #[arg(long)]
    pub since: Option<String>,

    /// Only jobs created before this time.
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Group by these keys (comma-separated or repeated): job_name, job_status, instance,
    /// project, day, week, month. Days, weeks (starting Monday) and months are of create time,
    /// UTC. Without --by, one row for all matching jobs.
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,

    #[command(flatten)]
    pub filter: FilterArgs,
}

#[derive(Debug, Args)]
pub struct AsOfArgs {
    /// The point in time (2024-03-01T12:00:00Z, 2024-03-01, an age like 30d, ...).
    pub at: String,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// Most rows to show (1..10,000,000); a note on stderr says when more match.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub limit: u64,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Check health instead, for Nagios or cron: exit 0 when every scope had a successful
    /// sync within --max-age, has no gaps and its newest run did not fail; else print one
    /// line per problem and exit 1.
    #[arg(long)]
    pub check: bool,

    /// With --check: how old the last successful sync may be (e.g. 25h, 2d).
    #[arg(long, default_value = "25h", requires = "check")]
    pub max_age: String,

    /// Also write the archive's numbers for Prometheus (node exporter textfile format) to
    /// this file, atomically.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,

    /// Fit the table to this many columns [default: the terminal's width; no limit when
    /// stdout is not a terminal].
    #[arg(long, value_name = "COLUMNS",
          value_parser = clap::value_parser!(u16).range(40..=1000))]
    pub width: Option<u16>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Jobs created at or after this time (2024-03-01, RFC 3339, +0800 form, or an age like
    /// 30d) [default: 30 days before --until].
    #[arg(long)]
    pub since: Option<String>,

    /// Jobs created before this time (same forms as --since) [default: now].
    #[arg(long)]
    pub until: Option<String>,

    /// Only jobs of this instance, by instance_id or instance_name (any case); repeatable.
    #[arg(long)]
    pub instance: Vec<String>,

    /// Only jobs of this project_id.
    #[arg(long)]
    pub project: Option<String>,

    /// Only jobs in this final or current status (repeatable, or comma-separated).
    #[arg(long)]
    pub status: Vec<String>,

    /// The report's title [default: "Scheduled jobs"].
    #[arg(long)]
    pub title: Option<String>,

    /// Where to write the HTML; `-` for stdout.
    #[arg(long, default_value = "gaussjobs-report.html")]
    pub out: PathBuf,

    /// Zone of the report's times and axis: utc, local, or an offset like +08:00.
    #[arg(long, default_value = "utc")]
    pub tz: String,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Jobs to generate (at most 5,000,000).
    #[arg(long, default_value_t = 2_500, value_parser = clap::value_parser!(u64).range(0..=5_000_000))]
    pub jobs: u64,

    /// Days of history the jobs are spread over, ending now (1..3650).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,

    /// Seed for the generated jobs: the same seed gives the same jobs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// The token the fake accepts in X-Auth-Token.
    #[arg(long, default_value = "demo-token")]
    pub token: String,

    /// The project the fake serves.
    #[arg(long, default_value = crate::simulate::DEFAULT_PROJECT_ID)]
    pub project_id: String,

    /// Delay added to every response, in milliseconds (at most 60000).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub latency_ms: u64,

    /// Answer 429 (APIGW.0308) to requests beyond this many a second, as the gateway's
    /// per-user limit does.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: Option<u32>,

    /// Keep at most this many generated jobs open (the newest); the older ones completed.
    #[arg(long)]
    pub open_jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Jobs the demo's simulator holds (1..1,000,000).
    #[arg(long, default_value_t = 2_500, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub jobs: u64,
}

/// The "Examples:" section of each command's help.
mod examples {
    pub const TOP: &str = "\
Examples:
  gaussjobs demo                       # try it against a simulated API
  GAUSSJOBS_TOKEN=... gaussjobs sync --region cn-north-4 \\
      --project-id 0123456789abcdef0123456789abcdef --since 30d
  gaussjobs query jobs --status Failed --since 7d
  gaussjobs status --format json       # for monitoring
  gaussjobs completions bash \\
      > ~/.local/share/bash-completion/completions/gaussjobs";

    pub const SYNC: &str = "\
Examples:
  # an IAM token in a file, every 15 minutes from cron (quiet unless it fails)
  gaussjobs -q --db /var/lib/gaussjobs/jobs.db sync --region cn-north-4 \\
      --project-id 0123456789abcdef0123456789abcdef \\
      --token-file /etc/gaussjobs/token

  # AK/SK from the environment, backfilling 90 days
  HUAWEICLOUD_SDK_AK=... HUAWEICLOUD_SDK_SK=... \\
      gaussjobs sync --region cn-north-4 \\
      --project-id 0123456789abcdef0123456789abcdef --since 90d

  # every account of a config file, the outcome as JSON for monitoring
  gaussjobs sync --config /etc/gaussjobs/gaussjobs.toml --json";

    pub const QUERY: &str = "\
Examples:
  gaussjobs query jobs --status Failed --since 7d
  gaussjobs query instance gauss-82a1 --since 30d
  gaussjobs query stats --by job_name,month --since 90d --format csv
  gaussjobs query sql \"SELECT job_status, count(*) FROM jobs GROUP BY 1\" \\
      --format json";

    pub const QUERY_JOBS: &str = "\
Examples:
  gaussjobs query jobs --status Failed --since 7d
  gaussjobs query jobs --open --instance gauss-82a1
  gaussjobs query jobs --job-name upgrade --like --order longest --limit 10";

    pub const QUERY_JOB: &str = "\
Examples:
  gaussjobs query job demo000c1138dcf4f1da73b0170700c78d
  gaussjobs query job demo000c1138dcf4f1da73b0170700c78d --format json";

    pub const QUERY_INSTANCE: &str = "\
Examples:
  gaussjobs query instance gauss-82a1 --since 30d
  gaussjobs query instance gauss-82a1 --tz +08:00 --format table";

    pub const QUERY_STATS: &str = "\
Examples:
  gaussjobs query stats --by job_name,month --since 90d
  gaussjobs query stats --by instance --status Failed --format csv";

    pub const QUERY_AS_OF: &str = "\
Examples:
  gaussjobs query as-of now --status Running
  gaussjobs query as-of now --open --instance gauss-82a1";

    pub const QUERY_SQL: &str = "\
Examples:
  gaussjobs query sql \"SELECT * FROM job_durations WHERE instance_name = ?1\" \\
      --param gauss-82a1
  gaussjobs query sql --param i=gauss-82a1 \\
      \"SELECT * FROM status_transitions WHERE instance_name = :i\"
  gaussjobs query sql \"SELECT job_name, count(*) FROM jobs GROUP BY 1\" \\
      --format csv";

    pub const STATUS: &str = "\
Examples:
  gaussjobs status
  gaussjobs --db /var/lib/gaussjobs/jobs.db status --format json  # monitoring
  gaussjobs status --check --max-age 2d             # a Nagios or cron check
  gaussjobs status \\
      --metrics-file /var/lib/node_exporter/textfile/gaussjobs.prom";

    pub const DOCTOR: &str = "\
Examples:
  gaussjobs --db /var/lib/gaussjobs/jobs.db doctor --region cn-north-4 \\
      --project-id 0123456789abcdef0123456789abcdef
  gaussjobs doctor --config /etc/gaussjobs/gaussjobs.toml";

    pub const REPORT: &str = "\
Examples:
  gaussjobs report --since 2026-11-01 --until 2026-12-01 --out november.html
  gaussjobs report --since 7d --instance gauss-82a1 --status Failed --tz +08:00
  gaussjobs report --since 90d --out - | gzip > report.html.gz";

    pub const SIMULATE: &str = "\
Examples:
  gaussjobs simulate --port 8080 --jobs 2500 --days 60 --seed 1 &
  GAUSSJOBS_TOKEN=demo-token gaussjobs sync --endpoint http://127.0.0.1:8080 \\
      --project-id 0a1b2c3d4e5f60718293a4b5c6d7e8f9 --since 60d";

    pub const DEMO: &str = "\
Examples:
  gaussjobs demo
  gaussjobs demo --jobs 10000
  gaussjobs --db gaussjobs-demo.db query jobs --status Failed --since 7d";

    pub const COMPLETIONS: &str = "\
Examples:
  gaussjobs completions bash \\
      > ~/.local/share/bash-completion/completions/gaussjobs
  gaussjobs completions zsh > ~/.zfunc/_gaussjobs
  gaussjobs completions fish > ~/.config/fish/completions/gaussjobs.fish";

    pub const MAN: &str = "\
Examples:
  gaussjobs man /usr/local/share/man/man1   # gaussjobs.1, gaussjobs-sync.1...
  man gaussjobs-query-jobs
  gaussjobs man | man -l -";
}
