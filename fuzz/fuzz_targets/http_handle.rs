//! The HTTP API's answers (`mesos_dns::http::route::handle`) to any request
//! head that parses, against a table with records, with `EnumerationOn`
//! and without: never a panic; the endpoint is the router's; the status is
//! one the metrics count; a 200 JSON body is JSON (`/v1/hosts/{host}` and
//! `/v1/services/{service}` take the parameter from the request).
#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mesos_dns::config::render::render;
use mesos_dns::config::ConfigFile;
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::http::request::parse;
use mesos_dns::http::response::JSON;
use mesos_dns::http::route::{find, handle};
use mesos_dns::http::{ApiContext, ApiSettings, HttpLimits, HttpState, STATUS_CODES};
use mesos_dns::table::{SharedTable, Table};
use mesos_records::RecordSet;
use mesos_sources::PollerStatus;

fn shared(enumeration_on: bool) -> HttpState {
    let mut rs = RecordSet::default();
    rs.insert_a("leader.mesos.", Ipv4Addr::new(10, 0, 0, 1));
    rs.insert_a("web.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 2));
    rs.insert_aaaa("web.marathon.mesos.", Ipv6Addr::LOCALHOST);
    rs.insert_a("Web-é.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 3));
    rs.insert_srv("_web._tcp.marathon.mesos.", "web.marathon.mesos.", 31000);
    rs.insert_srv("_web._tcp.marathon.mesos.", "gone.marathon.mesos.", 31001);
    let cfg = DnsConfig::default();
    let table = Arc::new(SharedTable::new(Table::compile(Arc::new(rs), &cfg, 7)));
    let file = ConfigFile::default();
    let settings = ApiSettings {
        version: "fuzz".to_owned(),
        config: render(&file, 7),
        enumeration_on,
        domain: "mesos".to_owned(),
        ttl: 60,
        refresh_seconds: 60,
        state_timeout_seconds: 300,
        soa_mname: "ns1.mesos.".to_owned(),
        soa_rname: "root.ns1.mesos.".to_owned(),
    };
    let ctx = ApiContext {
        table,
        settings: settings.into(),
        poller: Arc::new(PollerStatus::default()),
        dns: None,
        snapshot: Arc::default(),
        guard: Arc::default(),
    };
    HttpState::new(Arc::new(ctx), HttpLimits::default())
}

fn servers() -> &'static [HttpState; 2] {
    static S: OnceLock<[HttpState; 2]> = OnceLock::new();
    S.get_or_init(|| [shared(true), shared(false)])
}

fuzz_target!(|data: &[u8]| {
    let Ok((req, _)) = parse(data) else {
        return;
    };
    for (s, on) in servers().iter().zip([true, false]) {
        let (endpoint, response) = handle(s, &req);
        assert_eq!(endpoint, find(&req.path, on).0);
        assert!(
            STATUS_CODES.contains(&response.status),
            "{}",
            response.status
        );
        if response.status == 200 && response.content_type == JSON {
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(&response.body) {
                panic!("{endpoint:?}: not JSON ({e}): {:?}", response.body);
            }
        }
    }
});
