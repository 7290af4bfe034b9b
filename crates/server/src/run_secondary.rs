//! The process wiring of secondary mode (`StateSource: "secondary"`): the
//! same sockets, workers and HTTP API as [`crate::run`], fed by a
//! [`Follower`] of `Primaries` instead of a poller of Mesos.
//!
//! A SIGHUP is not applied in this mode (logged): restart to change the
//! config.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use mesos_sources::PollerStatus;

use crate::config::Config;
use crate::error::{ExitError, Failed};
use crate::http::{self, ApiContext, ApiSettings, HttpLimits, LiveSettings};
use crate::parts::{dns_config, dns_server, http_listener};
use crate::run::Signals;
use crate::serve;
use crate::stats::Stats;
use crate::table::{SharedTable, Table};
use crate::xfr::secondary::{Follower, Targets};

const TICK: Duration = Duration::from_millis(50);

/// Serves the zone of `config.primaries` until SIGINT or SIGTERM.
///
/// # Errors
///
/// A socket that cannot be bound or a thread that cannot start: logged,
/// exit 1.
pub fn run(config: Config, signals: Signals) -> Result<(), ExitError> {
    let dns = dns_config(&config);
    let http_listener = http_listener(&config)?;
    let table = Arc::new(SharedTable::new(Table::empty(&dns)));
    let stats = Arc::new(Stats::for_config(&dns));
    let transfers = Arc::new(crate::parts::transfers(&config, stats.transfer_counters()));
    let dns_server = dns_server(&config, &dns, &table, &stats, &transfers)?;
    let status = Arc::new(PollerStatus::default());
    let follower = Follower::spawn(
        dns.clone(),
        config.primaries.clone(),
        Targets {
            table: Arc::clone(&table),
            transfers: Arc::clone(&transfers),
            status: Arc::clone(&status),
            stats: Arc::clone(&stats),
        },
    )
    .map_err(|e| Failed::logged(format!("cannot start the secondary: {e}")))?;
    transfers.hear_notify(
        config.primaries.iter().map(|p| p.ip()).collect(),
        follower.poker(),
    );
    let http_server = match http_listener {
        Some(listener) => {
            let ctx = Arc::new(ApiContext {
                table: Arc::clone(&table),
                settings: Arc::new(LiveSettings::from(ApiSettings::from_config(&config))),
                poller: status,
                snapshot: Arc::default(),
                guard: Arc::default(),
                dns: dns_server.as_ref().map(|_| Arc::clone(&stats)),
            });
            Some(
                http::start(listener, ctx, HttpLimits::default()).map_err(|e| {
                    Failed::logged(format!("failed to setup http server: {e}"))
                })?,
            )
        }
        None => None,
    };
    crate::run::log_startup(
        &config,
        dns_server.as_ref().map(serve::DnsServer::local_addr),
        http_server.as_ref().map(|h| h.local_addr()),
    );
    while !signals.stop.load(Ordering::Relaxed) {
        if signals.reload.swap(false, Ordering::Relaxed) {
            log::warn!(
                "SIGHUP: a reload is not applied in secondary mode; restart instead"
            );
        }
        std::thread::sleep(TICK);
    }
    log::info!(target: crate::logger::STARTUP, "shutting down");
    drop(follower);
    if let Some(h) = http_server {
        h.stop();
    }
    if let Some(d) = dns_server {
        d.stop();
    }
    Ok(())
}
