//! HTTP request heads (`mesos_dns::http::request::parse`) and the router
//! (`route::find`). Never a panic; when a head parses, its length is within
//! the input, the head alone parses to the same request (the body or a
//! pipelined request after it changes nothing), a cut inside it is only
//! `Partial`, the path starts with `/`, and the route found takes its
//! parameter from the path: one non-empty segment. The listing endpoints
//! exist only with `EnumerationOn`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_dns::http::request::{parse, HeadError};
use mesos_dns::http::route::{find, Endpoint};

fuzz_target!(|data: &[u8]| {
    let Ok((req, len)) = parse(data) else {
        return;
    };
    assert!(len <= data.len() && len > 0);
    let head = &data[..len];
    assert_eq!(parse(head), Ok((req.clone(), len)), "the head alone");
    for cut in [len - 1, len / 2] {
        assert_eq!(parse(&head[..cut]), Err(HeadError::Partial), "cut at {cut}");
    }
    assert!(req.path.starts_with('/'), "{:?}", req.path);

    let (on, on_param) = find(&req.path, true);
    let (off, off_param) = find(&req.path, false);
    match on {
        Endpoint::Enumerate | Endpoint::Axfr => assert_eq!(off, Endpoint::Other),
        _ => assert_eq!((on, on_param), (off, off_param)),
    }
    let takes_param = matches!(
        on,
        Endpoint::Hosts | Endpoint::HostPorts | Endpoint::Services | Endpoint::Explain
    );
    assert_eq!(on_param.is_some(), takes_param, "{on:?}");
    if let Some(p) = on_param {
        assert!(!p.is_empty() && !p.contains('/'));
        assert!(req.path.contains(p));
    }
});
