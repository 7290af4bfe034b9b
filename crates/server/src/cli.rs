//! Command-line flags, Go style (`-config`, `-version`, `-v`).
//!
//! mesos-dns parses its flags with Go's `flag` package, so this module
//! accepts what that package accepts: one or two dashes (`-config x`,
//! `-config=x`, `--config=x`), booleans as `-version` or `-version=true`
//! (any of Go's `strconv.ParseBool` spellings), the last occurrence of a
//! flag wins, and parsing stops at the first argument that is not a flag
//! (the rest is ignored). The glog flags that the Go binary registers
//! (`-logtostderr`, `-alsologtostderr`, `-stderrthreshold`, `-log_dir`,
//! `-vmodule`, `-log_backtrace_at`) are accepted and ignored.
//!
//! Our extensions: `-v` alone means `-v=1`, and `-vv` means `-v=2` (in Go,
//! `-v` needs a value and `-vv` is an unknown flag).

use std::ffi::OsString;
use std::fmt;

use getopts::{HasArg, Occur, Options, ParsingStyle};

/// `-config` when the flag is not given.
pub const DEFAULT_CONFIG: &str = "config.json";

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Serve with these arguments.
    Run(Args),
    /// `-version`: print the version and exit 0.
    Version,
    /// `-h` or `-help`: print the usage to stderr and exit 0.
    Help,
}

/// The flags that matter when serving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args {
    /// `-config`: the path of `config.json`.
    pub config: String,
    /// `-v`: 0 quiet, 1 verbose, 2 or more very verbose.
    pub verbosity: i32,
}

/// A bad command line: the first line Go's `flag` package would print
/// before the usage (the process then exits 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Boolean flags (value optional, Go `strconv.ParseBool` syntax).
const BOOL_FLAGS: [&str; 4] = ["version", "logtostderr", "alsologtostderr", "vv"];
/// Flags that need a value.
const VALUE_FLAGS: [&str; 5] = [
    "config",
    "stderrthreshold",
    "log_dir",
    "vmodule",
    "log_backtrace_at",
];

fn options() -> Options {
    let mut opts = Options::new();
    opts.long_only(true)
        .parsing_style(ParsingStyle::StopAtFirstFree);
    for name in BOOL_FLAGS {
        opts.opt("", name, "", "", HasArg::Maybe, Occur::Multi);
    }
    for name in VALUE_FLAGS {
        opts.opt("", name, "", "", HasArg::Yes, Occur::Multi);
    }
    // Single-letter names are short options in getopts; long_only mode
    // still accepts them with one or two dashes and `=value`.
    opts.opt("v", "", "", "", HasArg::Maybe, Occur::Multi);
    opts.opt("h", "help", "", "", HasArg::Maybe, Occur::Multi);
    opts
}

/// Parses the arguments after the program name.
///
/// # Errors
///
/// A [`UsageError`] with Go's message for an unknown flag, a missing value
/// or a bad boolean or integer value.
pub fn parse<I, S>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let args = join_verbosity_values(args.into_iter().map(Into::into).collect());
    let flag_args = leading_flags(&args);
    let matches = match options().parse(&args) {
        Ok(m) => m,
        Err(fail) => {
            let (name, message) = describe(&fail);
            if help_comes_first(&flag_args, &name) {
                return Ok(Command::Help);
            }
            return Err(UsageError(message));
        }
    };
    if matches.opt_present("h") {
        return Ok(Command::Help);
    }
    for name in BOOL_FLAGS {
        // Validates every boolean, as Go does while parsing.
        last_bool(&matches, name)?;
    }
    if last_bool(&matches, "version")? {
        return Ok(Command::Version);
    }
    let config = matches
        .opt_strs("config")
        .pop()
        .unwrap_or_else(|| DEFAULT_CONFIG.to_string());
    Ok(Command::Run(Args {
        config,
        verbosity: verbosity(&matches)?,
    }))
}

/// Go reads `-v 2` as `-v=2`; getopts would take `2` as the first
/// non-flag argument, so join the two before parsing.
fn join_verbosity_values(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter().peekable();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            out.push(arg);
            out.extend(iter);
            break;
        }
        let is_v = arg == "-v" || arg == "--v";
        let next_is_int = iter
            .peek()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.parse::<i32>().is_ok());
        match (is_v, next_is_int, iter.peek().cloned()) {
            (true, true, Some(n)) => {
                let mut joined = OsString::from("-v=");
                joined.push(n);
                out.push(joined);
                iter.next();
            }
            _ => out.push(arg),
        }
    }
    out
}

/// The flag names before the first non-flag argument, in order.
fn leading_flags(args: &[OsString]) -> Vec<String> {
    let mut names = Vec::new();
    for arg in args {
        let Some(arg) = arg.to_str() else { break };
        if arg == "--" || arg.len() < 2 || !arg.starts_with('-') {
            break;
        }
        let body = arg.strip_prefix("--").unwrap_or(&arg[1..]);
        names.push(body.split('=').next().unwrap_or(body).to_string());
    }
    names
}

/// Go stops at `-h` as soon as it meets it: a bad flag after it is never
/// seen.
fn help_comes_first(flags: &[String], bad: &str) -> bool {
    for name in flags {
        if name == "h" || name == "help" {
            return true;
        }
        if name == bad {
            return false;
        }
    }
    false
}

/// The flag a getopts failure is about, and Go's message for it.
fn describe(fail: &getopts::Fail) -> (String, String) {
    use getopts::Fail;
    match fail {
        Fail::ArgumentMissing(n) => (n.clone(), format!("flag needs an argument: -{n}")),
        Fail::UnrecognizedOption(n) => (
            n.clone(),
            format!("flag provided but not defined: -{}", n.trim_matches('"')),
        ),
        Fail::UnexpectedArgument(n)
        | Fail::OptionMissing(n)
        | Fail::OptionDuplicated(n) => (n.clone(), format!("bad flag: -{n}")),
    }
}

/// The value of the last occurrence of boolean flag `name` (false if
/// absent).
fn last_bool(matches: &getopts::Matches, name: &str) -> Result<bool, UsageError> {
    match last_value(matches, name) {
        None => Ok(false),
        Some(None) => Ok(true),
        Some(Some(v)) => parse_go_bool(&v).ok_or_else(|| {
            UsageError(format!(
                "invalid boolean value {v:?} for -{name}: parse error"
            ))
        }),
    }
}

/// `-v=N`, `-v` (1) and `-vv` (2); the last one given wins.
fn verbosity(matches: &getopts::Matches) -> Result<i32, UsageError> {
    let v_pos = matches.opt_positions("v").last().copied();
    let vv_pos = matches.opt_positions("vv").last().copied();
    if vv_pos > v_pos {
        return Ok(if last_bool(matches, "vv")? { 2 } else { 0 });
    }
    match last_value(matches, "v") {
        None => Ok(0),
        Some(None) => Ok(1),
        Some(Some(v)) => v.parse::<i32>().map_err(|_| {
            UsageError(format!("invalid value {v:?} for flag -v: parse error"))
        }),
    }
}

/// `None` if the flag is absent; `Some(None)` if its last occurrence has no
/// `=value`; `Some(Some(v))` otherwise.
fn last_value(matches: &getopts::Matches, name: &str) -> Option<Option<String>> {
    let last = *matches.opt_positions(name).last()?;
    let value = matches
        .opt_strs_pos(name)
        .into_iter()
        .find(|(pos, _)| *pos == last)
        .map(|(_, v)| v);
    Some(value)
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The usage text, as Go's `flag.PrintDefaults` writes it for mesos-dns.
pub fn usage(argv0: &str) -> String {
    format!(
        "Usage of {argv0}:
  -alsologtostderr
    \tlog to standard error as well as files (accepted, ignored)
  -config string
    \tpath to config file (json) (default \"{DEFAULT_CONFIG}\")
  -log_backtrace_at value
    \twhen logging hits line file:N, emit a stack trace (accepted, ignored)
  -log_dir string
    \tIf non-empty, write log files in this directory (accepted, ignored)
  -logtostderr
    \tlog to standard error instead of files (accepted, ignored)
  -stderrthreshold value
    \tlogs at or above this threshold go to stderr (accepted, ignored)
  -v value
    \tverbosity: 1 verbose, 2 very verbose; -v alone means 1
  -version
    \toutput the version
  -vmodule value
    \tcomma-separated list of pattern=N settings (accepted, ignored)
  -vv
    \tvery verbose, the same as -v=2
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().copied())
    }

    fn args(config: &str, verbosity: i32) -> Result<Command, UsageError> {
        Ok(Command::Run(Args {
            config: config.to_string(),
            verbosity,
        }))
    }

    fn err(msg: &str) -> Result<Command, UsageError> {
        Err(UsageError(msg.to_string()))
    }

    #[test]
    fn defaults_without_flags() {
        assert_eq!(run(&[]), args("config.json", 0));
    }

    #[test]
    fn config_in_every_go_form() {
        for form in [
            &["-config", "a.json"][..],
            &["--config", "a.json"],
            &["-config=a.json"],
            &["--config=a.json"],
            &["-config=b.json", "-config", "a.json"],
        ] {
            assert_eq!(run(form), args("a.json", 0), "{form:?}");
        }
        assert_eq!(run(&["-config="]), args("", 0));
        assert_eq!(run(&["-config=x=y"]), args("x=y", 0));
    }

    #[test]
    fn version_in_every_go_form() {
        for form in [
            "-version",
            "--version",
            "-version=true",
            "-version=1",
            "--version=T",
        ] {
            assert_eq!(run(&[form]), Ok(Command::Version), "{form}");
        }
        assert_eq!(run(&["-version=false"]), args("config.json", 0));
        assert_eq!(run(&["-version", "-version=0"]), args("config.json", 0));
        assert_eq!(run(&["-version", "-config", "x"]), Ok(Command::Version));
        assert_eq!(
            run(&["-version=yes"]),
            err("invalid boolean value \"yes\" for -version: parse error")
        );
    }

    #[test]
    fn a_boolean_never_takes_the_next_argument() {
        // Go: `-version true` is `-version` then the positional `true`.
        assert_eq!(run(&["-version", "true"]), Ok(Command::Version));
        assert_eq!(run(&["-logtostderr", "-config", "c"]), args("c", 0));
    }

    #[test]
    fn verbosity_forms() {
        assert_eq!(run(&["-v=1"]), args("config.json", 1));
        assert_eq!(run(&["--v=2"]), args("config.json", 2));
        assert_eq!(run(&["-v", "2"]), args("config.json", 2));
        assert_eq!(run(&["-v"]), args("config.json", 1));
        assert_eq!(run(&["-v", "-config", "c"]), args("c", 1));
        assert_eq!(run(&["-vv"]), args("config.json", 2));
        assert_eq!(run(&["--vv", "-config=c"]), args("c", 2));
        assert_eq!(run(&["-vv", "-v=1"]), args("config.json", 1));
        assert_eq!(run(&["-v=1", "-vv"]), args("config.json", 2));
        assert_eq!(run(&["-v=-1"]), args("config.json", -1));
        assert_eq!(
            run(&["-v=x"]),
            err("invalid value \"x\" for flag -v: parse error")
        );
        assert_eq!(
            run(&["-v="]),
            err("invalid value \"\" for flag -v: parse error")
        );
    }

    #[test]
    fn glog_flags_are_accepted() {
        assert_eq!(
            run(&[
                "-logtostderr",
                "-alsologtostderr=true",
                "-stderrthreshold=INFO",
                "-log_dir",
                "/var/log",
                "--vmodule=logging=2",
                "-log_backtrace_at=main.go:10",
                "-config=c",
            ]),
            args("c", 0)
        );
        assert_eq!(
            run(&["-logtostderr=maybe"]),
            err("invalid boolean value \"maybe\" for -logtostderr: parse error")
        );
    }

    #[test]
    fn help_forms() {
        for form in ["-h", "--h", "-help", "--help", "-help=false", "-h=1"] {
            assert_eq!(run(&[form]), Ok(Command::Help), "{form}");
        }
        assert_eq!(run(&["-h", "-bogus"]), Ok(Command::Help));
        assert_eq!(
            run(&["-bogus", "-h"]),
            err("flag provided but not defined: -bogus")
        );
    }

    #[test]
    fn unknown_and_incomplete_flags() {
        assert_eq!(run(&["-x"]), err("flag provided but not defined: -x"));
        assert_eq!(
            run(&["--nope=1"]),
            err("flag provided but not defined: -nope")
        );
        assert_eq!(
            run(&["-configs", "x"]),
            err("flag provided but not defined: -configs")
        );
        assert_eq!(run(&["-config"]), err("flag needs an argument: -config"));
    }

    #[test]
    fn parsing_stops_at_the_first_non_flag() {
        assert_eq!(run(&["extra", "-bogus"]), args("config.json", 0));
        assert_eq!(run(&["-config=c", "-", "-bogus"]), args("c", 0));
        assert_eq!(run(&["--", "-bogus"]), args("config.json", 0));
        assert_eq!(run(&["-v", "--", "-bogus"]), args("config.json", 1));
    }

    #[test]
    fn usage_lists_every_flag() {
        let text = usage("mesos-dns");
        assert!(text.starts_with("Usage of mesos-dns:\n"));
        for name in BOOL_FLAGS
            .iter()
            .chain(VALUE_FLAGS.iter())
            .chain(["v"].iter())
        {
            assert!(text.contains(&format!("  -{name}")), "{name}");
        }
    }
}
