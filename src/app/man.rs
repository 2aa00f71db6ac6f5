//! `gaussjobs man DIR`: one man page per command, `gaussjobs.1`, `gaussjobs-sync.1`,
//! `gaussjobs-query-jobs.1`, ..., each with clap's options and the sections clap cannot know:
//! credentials, environment, files and exit status. Every page a page refers to is written.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Writes every page into `dir` (made if missing) and returns their paths.
pub fn write_pages(cmd: clap::Command, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut cmd = without_help(cmd);
    // Built once, so every subcommand has its page name (`gaussjobs-query-jobs`) and the
    // global flags it takes.
    cmd.build();
    let mut written = Vec::new();
    walk(&cmd, None, dir, &mut written)?;
    Ok(written)
}

/// The top page, for `gaussjobs man` on stdout.
pub fn write_top(cmd: clap::Command, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut cmd = without_help(cmd);
    cmd.build();
    out.write_all(&page(&cmd, None)?)?;
    Ok(())
}

/// The command without clap's `help` subcommands: a page for `gaussjobs help query jobs`
/// would only repeat `gaussjobs-query-jobs(1)`.
fn without_help(cmd: clap::Command) -> clap::Command {
    cmd.disable_help_subcommand(true)
        .mut_subcommands(without_help)
}

fn walk(
    cmd: &clap::Command,
    parent: Option<&str>,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let name = page_name(cmd);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        walk(sub, Some(&name), dir, written)?;
    }
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page(cmd, parent)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    Ok(())
}

/// `gaussjobs-query-jobs` for `query jobs`, as clap names it once built.
fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

fn page(cmd: &clap::Command, parent: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut roff)?;
    let name = page_name(cmd);
    let syncs = name == "gaussjobs" || name == "gaussjobs-sync";
    if syncs {
        roff.extend_from_slice(CREDENTIALS.as_bytes());
    }
    roff.extend_from_slice(ENVIRONMENT_COMMON.as_bytes());
    if syncs {
        roff.extend_from_slice(ENVIRONMENT_SYNC.as_bytes());
    }
    roff.extend_from_slice(FILES.as_bytes());
    roff.extend_from_slice(EXIT_STATUS.as_bytes());
    let mut see_also: Vec<String> = Vec::new();
    if let Some(parent) = parent {
        see_also.push(parent.to_string());
    }
    see_also.extend(
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(page_name),
    );
    if parent.is_some_and(|p| p != "gaussjobs") {
        see_also.push("gaussjobs".into());
    }
    if !see_also.is_empty() {
        let refs: Vec<String> = see_also
            .iter()
            .map(|n| format!("\\fB{}\\fR(1)", n.replace('-', "\\-")))
            .collect();
        roff.extend_from_slice(format!(".SH \"SEE ALSO\"\n{}\n", refs.join(", ")).as_bytes());
    }
    Ok(roff)
}

const CREDENTIALS: &str = r#".SH CREDENTIALS
Credentials are never a flag value (it would show in ps and the shell history). The first source found wins:
.TP
\fB\-\-token\-file\fR PATH
an IAM token in a file only you can read;
.TP
\fBGAUSSJOBS_TOKEN\fR
an IAM token, sent as X\-Auth\-Token;
.TP
\fBHUAWEICLOUD_SDK_AK\fR, \fBHUAWEICLOUD_SDK_SK\fR
an access key pair (with \fBHUAWEICLOUD_SDK_SECURITY_TOKEN\fR for temporary ones): every request is signed with SDK\-HMAC\-SHA256;
.TP
\fB\-\-iam\-user\fR USER
an IAM password login, the password from \fBGAUSSJOBS_IAM_PASSWORD\fR or \fB\-\-iam\-password\-file\fR;
.TP
\fB\-\-config\fR PATH
the account of the config file whose project_id is \-\-project\-id.
.PP
No secret is printed, logged or stored in the archive.
"#;

const ENVIRONMENT_COMMON: &str = r#".SH ENVIRONMENT
.TP
\fBGAUSSJOBS_DB\fR
the archive, as \-\-db.
.TP
\fBRUST_LOG\fR
log filter, overriding \-v and \-q (e.g. gaussjobs=debug).
.TP
\fBNO_COLOR\fR
when set and not empty, no colour with \-\-color auto.
"#;

const ENVIRONMENT_SYNC: &str = r#".TP
\fBGAUSSJOBS_TOKEN\fR, \fBHUAWEICLOUD_SDK_AK\fR, \fBHUAWEICLOUD_SDK_SK\fR, \fBHUAWEICLOUD_SDK_SECURITY_TOKEN\fR
credentials (see CREDENTIALS).
.TP
\fBHUAWEICLOUD_SDK_PROJECT_ID\fR
the project, as \-\-project\-id.
.TP
\fBGAUSSJOBS_IAM_USER\fR, \fBGAUSSJOBS_IAM_DOMAIN\fR, \fBGAUSSJOBS_IAM_PASSWORD\fR
an IAM password login.
.TP
\fBGAUSSJOBS_CONFIG\fR
the accounts file, as \-\-config.
.TP
\fBGAUSSJOBS_MAX_TIME\fR
the run's time budget, as \-\-max\-time.
.TP
\fBGAUSSJOBS_CACHE_DIR\fR
where IAM tokens got by a password login are cached (else $XDG_CACHE_HOME/gaussjobs, else ~/.cache/gaussjobs).
"#;

const FILES: &str = r#".SH FILES
.TP
\fIgaussjobs.db\fR
the archive (SQLite), in the current directory unless \-\-db names another; \fIgaussjobs\-demo.db\fR for the demo.
.TP
\fIARCHIVE\fR.lock
the sync lock beside the archive; an OS lock, released however its holder dies.
.TP
\fIARCHIVE\fR\-wal, \fIARCHIVE\fR\-shm
SQLite's write\-ahead log while a sync writes.
"#;

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
0
done
.TP
1
failed; what was fetched before the failure is kept
.TP
2
usage error: a bad flag or value, missing credentials, a file that is not an archive
.TP
75
another sync holds the archive (cron retries next time)
.TP
130, 143
stopped by SIGINT or SIGTERM; what was fetched is kept
"#;
