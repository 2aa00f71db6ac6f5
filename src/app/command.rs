//! The clap command as users meet it: `cli`'s derived command with what `cli` cannot know
//! (it may not import the rooms below it): the values completions offer for `--status`,
//! `--by` and `--region`, global flags hidden where they do nothing, and colour.

use std::ffi::{OsStr, OsString};

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{ColorChoice, CommandFactory};

use crate::api::model::JobStatus;
use crate::cli::{Cli, ColorArg};
use crate::query::Key;

/// Accepts any text (the command checks it and says what to type instead, in its own
/// words, case-blind and comma-separated) but offers `values` to completions.
#[derive(Clone)]
struct Offered(Vec<&'static str>);

impl TypedValueParser for Offered {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|v| PossibleValue::new(*v))))
    }
}

fn offered(values: Vec<&'static str>) -> impl FnOnce(clap::Arg) -> clap::Arg {
    move |arg| arg.value_parser(Offered(values)).hide_possible_values(true)
}

fn statuses() -> Vec<&'static str> {
    JobStatus::ALL.iter().map(|s| s.as_str()).collect()
}

/// The global flags that do nothing for a command, which its help leaves out.
fn inert_globals(command: &str) -> &'static [&'static str] {
    match command {
        // Neither reads an archive nor logs.
        "man" | "completions" => &["db", "verbose", "quiet", "log_format", "color"],
        // The simulator logs but has no archive.
        "simulate" => &["db"],
        _ => &[],
    }
}

/// The command line's command, for parsing, help, completions and man pages.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command()
        .mut_subcommand("sync", |sync| {
            sync.mut_arg("status", offered(statuses()))
                .mut_arg("region", offered(crate::api::regions::known()))
        })
        .mut_subcommand("query", |query| {
            query
                .mut_subcommand("jobs", |c| c.mut_arg("status", offered(statuses())))
                .mut_subcommand("as-of", |c| c.mut_arg("status", offered(statuses())))
                .mut_subcommand("stats", |c| {
                    c.mut_arg("status", offered(statuses()))
                        .mut_arg("by", offered(Key::ALL.map(Key::name).to_vec()))
                })
        });
    // A global flag a subcommand defines itself is not propagated to it: a hidden copy keeps
    // the global one out of that command's help and completions.
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    for name in ["man", "completions", "simulate"] {
        let inert = inert_globals(name);
        let hidden: Vec<clap::Arg> = globals
            .iter()
            .filter(|a| inert.contains(&a.get_id().as_str()))
            .map(|a| a.clone().global(false).hide(true))
            .collect();
        cmd = cmd.mut_subcommand(name, |sub| sub.args(hidden));
    }
    cmd.color(color_choice(std::env::args_os()))
}

/// The colour asked for on the command line (`--color WHEN`, read before clap parses it, so
/// help and errors honour it too); clap's own `auto` honours `NO_COLOR`.
fn color_choice(argv: impl IntoIterator<Item = OsString>) -> ColorChoice {
    let argv: Vec<OsString> = argv.into_iter().collect();
    let mut choice = ColorChoice::Auto;
    for (i, arg) in argv.iter().enumerate() {
        let value = match arg.to_str() {
            Some("--color") => argv.get(i + 1).and_then(|v| v.to_str()),
            Some(a) => a.strip_prefix("--color="),
            None => None,
        };
        match value {
            Some("always") => choice = ColorChoice::Always,
            Some("never") => choice = ColorChoice::Never,
            Some("auto") => choice = ColorChoice::Auto,
            _ => {}
        }
    }
    choice
}

/// Whether stderr's log lines get colour: `--color always` or `never` as said; `auto` only
/// for a terminal and when `NO_COLOR` is unset or empty (<https://no-color.org>).
pub fn colour_logs(choice: ColorArg, stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => stderr_is_terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(cmd: &clap::Command, path: &[&str], arg: &str) -> Vec<String> {
        let mut cmd = cmd;
        for name in path {
            cmd = cmd.find_subcommand(name).unwrap();
        }
        let arg = cmd.get_arguments().find(|a| a.get_id() == arg).unwrap();
        arg.get_possible_values()
            .iter()
            .map(|v| v.get_name().to_string())
            .collect()
    }

    #[test]
    fn completions_offer_statuses_keys_formats_and_regions() {
        let mut cmd = command();
        // Global flags (--format) reach the subcommands when the command is built.
        cmd.build();
        assert_eq!(values(&cmd, &["sync"], "status"), statuses());
        assert_eq!(values(&cmd, &["query", "jobs"], "status"), statuses());
        assert_eq!(
            values(&cmd, &["query", "stats"], "by"),
            Key::ALL.map(Key::name)
        );
        assert!(values(&cmd, &["sync"], "region").contains(&"cn-north-4".to_string()));
        assert!(values(&cmd, &["query", "jobs"], "format").contains(&"ndjson".to_string()));
    }

    #[test]
    fn the_color_flag_and_no_color_decide_colour() {
        let argv = |s: &str| s.split(' ').map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            color_choice(argv("gaussjobs --color never --help")),
            ColorChoice::Never
        );
        assert_eq!(
            color_choice(argv("gaussjobs --color=always status")),
            ColorChoice::Always
        );
        assert_eq!(color_choice(argv("gaussjobs status")), ColorChoice::Auto);
        assert!(colour_logs(ColorArg::Auto, true, None));
        assert!(!colour_logs(ColorArg::Auto, true, Some(OsStr::new("1"))));
        assert!(colour_logs(ColorArg::Auto, true, Some(OsStr::new(""))));
        assert!(!colour_logs(ColorArg::Auto, false, None));
        assert!(colour_logs(ColorArg::Always, false, Some(OsStr::new("1"))));
        assert!(!colour_logs(ColorArg::Never, true, None));
    }
}
