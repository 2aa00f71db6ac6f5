//! The sync progress bar on stderr: drawn only for a person at a terminal, never under cron,
//! `-q` or `--json`. Log lines are written through the bar so they never tear it.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::sync::Progress;

/// Whether to draw the bar: only when stderr is a terminal and the user asked for neither
/// quiet (`-q`) nor machine output (`--json`). Under cron stderr is a pipe or file, and a bar
/// there would be mailed as hundreds of carriage-return frames.
pub fn should_draw(stderr_is_terminal: bool, quiet: bool, json: bool) -> bool {
    stderr_is_terminal && !quiet && !json
}

/// The bar being drawn, if any, so the log writer can print above it.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A bar over every listing (windows first, then open-job lists and lookups) of every project
/// of a run, with the jobs archived and their rate in its message.
pub struct Bar {
    bar: ProgressBar,
    jobs: AtomicU64,
    projects: u64,
    projects_done: AtomicU64,
}

impl Bar {
    /// Starts drawing on stderr (the caller decided with [`should_draw`]).
    pub fn start(projects: usize) -> Bar {
        Bar::with_target(projects, ProgressDrawTarget::stderr())
    }

    fn with_target(projects: usize, target: ProgressDrawTarget) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                // The bar takes what the terminal has left, so the line fits 80 columns.
                "{spinner} {elapsed:>3} [{wide_bar}] {pos}/{len} listings, {msg}, ETA {eta}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.set_message("0 jobs");
        // A steady tick keeps the spinner and ETA moving while one slow listing pages.
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut active) = ACTIVE.lock() {
            *active = Some(bar.clone());
        }
        Bar {
            bar,
            jobs: AtomicU64::new(0),
            projects: projects as u64,
            projects_done: AtomicU64::new(0),
        }
    }

    /// Removes the bar, so the summary lines that follow start on a clean line.
    pub fn finish(&self) {
        if let Ok(mut active) = ACTIVE.lock() {
            *active = None;
        }
        self.bar.finish_and_clear();
    }

    fn update_message(&self) {
        let jobs = self.jobs.load(Ordering::Relaxed);
        let seconds = self.bar.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            jobs as f64 / seconds
        } else {
            0.0
        };
        let mut message = format!("{jobs} jobs ({rate:.0}/s)");
        if self.projects > 1 {
            let done = self.projects_done.load(Ordering::Relaxed);
            message.push_str(&format!(", {done}/{} projects", self.projects));
        }
        self.bar.set_message(message);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Progress for Bar {
    fn add_listings(&self, _project: &str, n: u64) {
        self.bar.inc_length(n);
    }

    fn listing_done(&self, _project: &str) {
        self.bar.inc(1);
    }

    fn jobs_archived(&self, _project: &str, n: u64) {
        self.jobs.fetch_add(n, Ordering::Relaxed);
        self.update_message();
    }

    fn project_done(&self, _project: &str) {
        self.projects_done.fetch_add(1, Ordering::Relaxed);
        self.update_message();
    }
}

/// Stderr for log lines: while a bar is drawn, each line is written with the bar hidden and
/// the bar redrawn below it, so `-v` output and the bar never overwrite each other.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let bar = ACTIVE.lock().ok().and_then(|active| active.clone());
        match bar {
            Some(bar) => bar
                .suspend(|| io::stderr().write_all(buf))
                .map(|()| buf.len()),
            None => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_is_drawn_only_for_a_person_at_a_terminal() {
        assert!(should_draw(true, false, false));
        assert!(!should_draw(false, false, false), "cron: stderr is a pipe");
        assert!(!should_draw(true, true, false), "-q");
        assert!(!should_draw(true, false, true), "--json");
    }

    #[test]
    fn the_bar_counts_listings_and_jobs() {
        let bar = Bar::with_target(2, ProgressDrawTarget::hidden());
        bar.add_listings("p", 3);
        bar.listing_done("p");
        bar.jobs_archived("p", 250);
        bar.project_done("p");
        assert_eq!(bar.bar.length(), Some(3));
        assert_eq!(bar.bar.position(), 1);
        let message = bar.bar.message();
        assert!(message.starts_with("250 jobs"), "{message}");
        assert!(message.ends_with("1/2 projects"), "{message}");
        bar.finish();
        assert!(ACTIVE.lock().unwrap().is_none());
    }
}
