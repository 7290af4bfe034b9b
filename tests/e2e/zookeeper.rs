//! Leader detection through a real ZooKeeper (Debian's package, started by
//! the harness), with fake masters registered the way Mesos registers them.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mesos_dns_tests::dns::{run_client, squash, test_config, DnsFixture};
use mesos_dns_tests::fake_master::{FakeMaster, Fault};
use mesos_dns_tests::port::closed_addr;
use mesos_dns_tests::zookeeper::ZkServer;
use mesos_sources::master::{DetectorSpec, ZkUrl};
use mesos_sources::zookeeper::CreateMode;
use mesos_sources::Source;

use crate::poller::{leader_port, poller_config, state_json, wait_until, Published};

fn zk_source(url: &str) -> Source {
    Source::Zk {
        spec: DetectorSpec::parse(url).unwrap(),
        fallback: Vec::new(),
    }
}

#[test]
fn zk_leader_is_found() {
    let zk = ZkServer::start().unwrap();
    let a = FakeMaster::start(b"").unwrap();
    let b = FakeMaster::start(b"").unwrap();
    a.set_state(&state_json(a.addr()));
    b.set_state(&state_json(a.addr()));
    // a registers first, so it holds the lowest sequence: the leader.
    let _ra = zk.register_master("/mesos", "master-a", a.addr()).unwrap();
    let _rb = zk.register_master("/mesos", "master-b", b.addr()).unwrap();
    let out = Published::default();
    let url = format!("zk://{}/mesos", zk.host_port());
    let p = out.spawn(poller_config(zk_source(&url), Duration::from_secs(60)));
    out.wait_for(Duration::from_secs(15), |s| {
        leader_port(s) == Some(a.addr().port())
    });
    assert_eq!(p.status().leader(), a.host_port());
    assert!(p.status().zk_connected.load(Ordering::Relaxed));
    assert_eq!(b.state_hits(), 0, "the leader is asked first");
    p.stop();
}

#[test]
fn zk_leader_change_is_followed_within_2s() {
    let zk = ZkServer::start().unwrap();
    let a = FakeMaster::start(b"").unwrap();
    let b = FakeMaster::start(b"").unwrap();
    a.set_state(&state_json(a.addr()));
    b.set_state(&state_json(a.addr()));
    let ra = zk.register_master("/mesos", "master-a", a.addr()).unwrap();
    let _rb = zk.register_master("/mesos", "master-b", b.addr()).unwrap();
    let out = Published::default();
    let url = format!("zk://{}/mesos", zk.host_port());
    // A long refresh: only the ZooKeeper watch can explain a quick reload.
    let p = out.spawn(poller_config(zk_source(&url), Duration::from_secs(3600)));
    out.wait_for(Duration::from_secs(15), |s| {
        leader_port(s) == Some(a.addr().port())
    });
    // a dies: its session ends, b takes over.
    a.set_fault(Fault::Down);
    b.set_state(&state_json(b.addr()));
    let t = Instant::now();
    ra.resign();
    out.wait_for(Duration::from_secs(2), |s| {
        leader_port(s) == Some(b.addr().port())
    });
    let took = t.elapsed();
    assert!(took < Duration::from_secs(2), "leader change took {took:?}");
    assert_eq!(p.status().leader(), b.host_port());
    assert_eq!(p.status().leader_changes.load(Ordering::Relaxed), 1);
    eprintln!("zookeeper leader change followed in {took:?}");
    p.stop();
}

/// A protobuf `MasterInfo` as Mesos before 0.24 wrote it: id (1), ip (2,
/// the IPv4 address as a little-endian uint32) and port (3).
fn protobuf_master_info(id: &str, addr: std::net::SocketAddr) -> Vec<u8> {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let std::net::IpAddr::V4(ip) = addr.ip() else {
        panic!("IPv4 only")
    };
    let mut pb = vec![0x0a, id.len() as u8];
    pb.extend_from_slice(id.as_bytes());
    pb.push(0x10);
    varint(&mut pb, u64::from(u32::from_le_bytes(ip.octets())));
    pb.push(0x18);
    varint(&mut pb, u64::from(addr.port()));
    pb
}

#[test]
fn zk_protobuf_only_masters_are_found() {
    let zk = ZkServer::start().unwrap();
    let a = FakeMaster::start(b"").unwrap();
    a.set_state(&state_json(a.addr()));
    let _ra = zk
        .register_raw("/mesos", "info_", &protobuf_master_info("a", a.addr()))
        .unwrap();
    let out = Published::default();
    let url = format!("zk://{}/mesos", zk.host_port());
    let p = out.spawn(poller_config(zk_source(&url), Duration::from_secs(60)));
    out.wait_for(Duration::from_secs(15), |s| {
        leader_port(s) == Some(a.addr().port())
    });
    assert_eq!(p.status().leader(), a.host_port());
    p.stop();
}

#[test]
fn zk_members_down_at_start_do_no_harm() {
    let zk = ZkServer::start().unwrap();
    let a = FakeMaster::start(b"").unwrap();
    a.set_state(&state_json(a.addr()));
    let _ra = zk.register_master("/mesos", "master-a", a.addr()).unwrap();
    // Two members that are down (nothing listens there), then the real one.
    let dead1 = closed_addr();
    let dead2 = closed_addr();
    let url = format!("zk://{dead1},{dead2},{}/mesos", zk.host_port());
    let out = Published::default();
    let p = out.spawn(poller_config(zk_source(&url), Duration::from_secs(60)));
    out.wait_for(Duration::from_secs(15), |s| {
        leader_port(s) == Some(a.addr().port())
    });
    assert!(!p.status().detection_timed_out.load(Ordering::Relaxed));
    p.stop();
}

#[test]
fn zk_gone_after_first_load_keeps_the_last_records() {
    let mut zk = ZkServer::start().unwrap();
    let a = FakeMaster::start(b"").unwrap();
    a.set_state(&state_json(a.addr()));
    let _ra = zk.register_master("/mesos", "master-a", a.addr()).unwrap();
    let url = format!("zk://{}/mesos", zk.host_port());
    let out = Published::default();
    let mut cfg = poller_config(zk_source(&url), Duration::from_millis(200));
    cfg.zk_detection_timeout = Some(Duration::from_secs(1));
    let started = Instant::now();
    let p = out.spawn(cfg);
    let first = out.wait_for(Duration::from_secs(15), |s| {
        leader_port(s) == Some(a.addr().port())
    });
    zk.stop();
    wait_until(
        Duration::from_secs(10),
        "the ZooKeeper session to drop",
        || !p.status().zk_connected.load(Ordering::Relaxed),
    );
    // The last known leader keeps being polled: same records.
    let hits = a.state_hits();
    wait_until(Duration::from_secs(5), "polls without ZooKeeper", || {
        a.state_hits() >= hits + 3
    });
    assert!(out.last().is_some_and(|s| s.same_records(&first)));
    // The master goes away too: the last records still stand.
    a.set_fault(Fault::Down);
    wait_until(Duration::from_secs(5), "a failed load", || {
        p.status().consecutive_failures.load(Ordering::Relaxed) > 0
    });
    assert!(out.last().is_some_and(|s| s.same_records(&first)));
    assert!(p.status().ready());
    // Well past ZkDetectionTimeout: after the first load it never fires
    // (mesos-dns would exit here).
    std::thread::sleep(Duration::from_millis(1500).saturating_sub(started.elapsed()));
    assert!(!p.status().detection_timed_out.load(Ordering::Relaxed));
    // ZooKeeper and the master come back: detection resumes.
    a.set_fault(Fault::None);
    zk.restart().unwrap();
    wait_until(
        Duration::from_secs(15),
        "the ZooKeeper session to return",
        || p.status().zk_connected.load(Ordering::Relaxed),
    );
    p.stop();
}

#[test]
fn zk_and_master_gone_names_still_answer_over_dns() {
    // The whole chain: ZooKeeper -> poller -> DNS table -> dig.
    let mut zk = ZkServer::start().unwrap();
    let a = FakeMaster::start(b"").unwrap();
    a.set_state(&state_json(a.addr()));
    let _ra = zk.register_master("/mesos", "master-a", a.addr()).unwrap();
    let dns = std::sync::Arc::new(DnsFixture::start_empty(test_config()));
    let serial = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let (d, n) = (std::sync::Arc::clone(&dns), std::sync::Arc::clone(&serial));
    let url = format!("zk://{}/mesos", zk.host_port());
    let p = mesos_sources::poller::spawn(
        poller_config(zk_source(&url), Duration::from_millis(200)),
        move |set| d.publish(set, n.fetch_add(1, Ordering::Relaxed) + 1),
    )
    .unwrap();
    wait_until(Duration::from_secs(15), "the first load", || {
        serial.load(Ordering::Relaxed) > 0
    });
    let ask = |name: &str| squash(&run_client("dig", dns.addr(), &["+short", name, "A"]));
    assert_eq!(ask("web.marathon.mesos."), "127.0.0.1");
    assert_eq!(ask("leader.mesos."), "127.0.0.1");
    zk.stop();
    a.set_fault(Fault::Down);
    wait_until(Duration::from_secs(10), "failed loads", || {
        p.status().consecutive_failures.load(Ordering::Relaxed) >= 2
    });
    assert_eq!(ask("web.marathon.mesos."), "127.0.0.1");
    assert_eq!(ask("leader.mesos."), "127.0.0.1");
    p.stop();
}

#[test]
fn zk_unreachable_at_start_reports_the_detection_timeout() {
    let dead = closed_addr();
    let out = Published::default();
    let mut cfg = poller_config(
        zk_source(&format!("zk://{dead}/mesos")),
        Duration::from_secs(60),
    );
    cfg.zk_detection_timeout = Some(Duration::from_secs(1));
    let p = out.spawn(cfg);
    wait_until(Duration::from_secs(5), "the detection timeout", || {
        p.status().detection_timed_out.load(Ordering::Relaxed)
    });
    assert!(!p.status().ready());
    assert_eq!(out.count(), 0);
    p.stop();
}

#[test]
fn zk_client_lists_watches_and_reads_like_mesos_expects() {
    let zk = ZkServer::start().unwrap();
    let mut s = zk.session().unwrap();
    s.create_all("/mesos").unwrap();
    let ZkUrl { path, .. } =
        ZkUrl::parse(&format!("zk://{}/mesos", zk.host_port())).unwrap();
    assert!(s.get_children(&path, true).unwrap().is_empty());
    let node = s
        .create(
            "/mesos/json.info_",
            b"{\"id\":\"x\"}",
            CreateMode::EphemeralSequential,
        )
        .unwrap();
    assert!(node.starts_with("/mesos/json.info_"), "{node}");
    // The child watch fires for the creation.
    let ev = s
        .poll_event(Duration::from_secs(5))
        .unwrap()
        .expect("watch event");
    assert_eq!((ev.kind, ev.path.as_str()), (4, "/mesos"));
    assert_eq!(s.get_data(&node, false).unwrap(), b"{\"id\":\"x\"}");
    assert!(s.get_data("/mesos/nope", false).unwrap_err().is_no_node());
    s.ping().unwrap();
    s.delete(&node).unwrap();
    assert!(s.get_children(&path, false).unwrap().is_empty());
    s.close().unwrap();
}
