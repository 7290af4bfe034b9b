//! The `mesos-dns` binary: flags, logging, config, run, exit code.

use std::io::Write;
use std::process::ExitCode;

use mesos_dns::cli::{self, Command};
use mesos_dns::error::ExitError;

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let argv0 = args.next().map_or_else(
        || "mesos-dns".to_string(),
        |a| a.to_string_lossy().into_owned(),
    );
    let args = match cli::parse(args) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Version) => {
            let _ = writeln!(std::io::stdout(), "{}", mesos_dns::VERSION);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Help) => {
            eprint!("{}", cli::usage(&argv0));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprint!("{e}\n{}", cli::usage(&argv0));
            return exit(ExitError::Usage);
        }
    };
    mesos_dns::logger::init(args.verbosity);
    mesos_dns::run::limit_heap_arenas();
    // Before any thread starts: it reads and clears LISTEN_FDS.
    let (udp, tcp) = mesos_dns::socket::take_inherited();
    if udp + tcp > 0 {
        log::info!(
            "socket activation: {udp} UDP socket(s), {tcp} TCP listener(s) passed"
        );
    }
    let started = mesos_dns::run::install_signals().and_then(|signals| {
        mesos_dns::run::load_config(&args.config).map(|config| (config, signals))
    });
    match started.and_then(|(config, signals)| mesos_dns::run_mode(config, signals)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit(e),
    }
}

fn exit(e: ExitError) -> ExitCode {
    ExitCode::from(u8::try_from(e.code()).unwrap_or(1))
}
