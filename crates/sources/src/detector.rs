//! The ZooKeeper leader detector: a thread that watches the Mesos znode and
//! keeps the shared master list `[leader, others...]` current
//! (BEHAVIOUR.md 3.2).
//!
//! It lists the children with a watch and re-lists on every watch event (and
//! every few seconds anyway), so a leader change reaches the poller at once.
//! Any connection error moves to the next ensemble member; a member that is
//! down at start is simply skipped (mesos-dns #503). When ZooKeeper goes away
//! the last known master list stays in place, so the poller keeps asking the
//! last known leader and the last good records keep being served.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::master::{is_master_node, leader_node, MasterInfo, ZkUrl};
use crate::shared::SourceShared;
use crate::zookeeper::{Session, ZkError};

/// Session timeout we ask ZooKeeper for.
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on connect and on each read or write.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Re-list at least this often even without a watch event.
const RELIST_EVERY: Duration = Duration::from_secs(5);
/// How long one wait for an event may block before checking for shutdown.
const EVENT_WAIT: Duration = Duration::from_millis(200);

/// What the detector last saw, to report only changes.
#[derive(Default)]
struct Seen {
    leader_node: Option<String>,
    list: Vec<String>,
    /// Decoded `MasterInfo` by child name; sequential nodes never change.
    infos: BTreeMap<String, Option<MasterInfo>>,
}

/// Runs until the shared stop flag is set.
pub(crate) fn run(url: &ZkUrl, shared: &Arc<SourceShared>) {
    let mut seen = Seen::default();
    let mut member = 0usize;
    let mut last_problem = String::new();
    let mut retry = Duration::from_millis(100);
    while !shared.stopping() {
        let result =
            Session::connect_any(&url.hosts, member, SESSION_TIMEOUT, IO_TIMEOUT)
                .and_then(|(mut session, idx)| {
                    member = idx;
                    log::info!("connected to ZooKeeper at {}", session.server());
                    shared.status.zk_connected.store(true, Ordering::Relaxed);
                    last_problem.clear();
                    retry = Duration::from_millis(100);
                    let r = watch(&mut session, url, shared, &mut seen);
                    let _ = session.close();
                    r
                });
        shared.status.zk_connected.store(false, Ordering::Relaxed);
        if let Err(e) = result {
            let msg = e.to_string();
            if msg != last_problem {
                log::warn!(
                    "ZooKeeper: {msg}; keeping the last known masters and retrying"
                );
                last_problem = msg;
            }
            member = member.wrapping_add(1);
            shared.sleep(retry);
            retry = (retry * 2).min(Duration::from_secs(2));
        }
    }
}

/// One session: list, publish, wait for a watch event, repeat.
fn watch(
    session: &mut Session,
    url: &ZkUrl,
    shared: &Arc<SourceShared>,
    seen: &mut Seen,
) -> Result<(), ZkError> {
    let ping_every = session.session_timeout() / 3;
    loop {
        let children = match session.get_children(&url.path, true) {
            Ok(c) => c,
            Err(e) if e.is_no_node() => Vec::new(),
            Err(e) => return Err(e),
        };
        update(session, url, shared, seen, &children)?;
        let listed = Instant::now();
        loop {
            if shared.stopping() {
                return Ok(());
            }
            if session.poll_event(EVENT_WAIT)?.is_some()
                || listed.elapsed() >= RELIST_EVERY
            {
                break;
            }
            if session.idle() >= ping_every {
                session.ping()?;
            }
        }
    }
}

fn update(
    session: &mut Session,
    url: &ZkUrl,
    shared: &Arc<SourceShared>,
    seen: &mut Seen,
    children: &[String],
) -> Result<(), ZkError> {
    seen.infos.retain(|k, _| children.contains(k));
    for child in children.iter().filter(|c| is_master_node(c)) {
        if seen.infos.contains_key(child) {
            continue;
        }
        let path = format!("{}/{child}", url.path);
        let info = match session.get_data(&path, false) {
            Ok(data) if child.starts_with("json.") => MasterInfo::from_json(&data),
            Ok(data) => MasterInfo::from_protobuf(&data),
            // Gone between the list and the read: the next watch event says so.
            Err(e) if e.is_no_node() => continue,
            Err(e) => return Err(e),
        };
        if info.is_none() {
            log::warn!("ZooKeeper node {path}: cannot decode its MasterInfo; ignored");
        }
        seen.infos.insert(child.clone(), info);
    }
    let Some((node, json, list)) = master_list(children, &seen.infos) else {
        if seen.leader_node.take().is_some() {
            log::warn!(
                "ZooKeeper reports no leading master; keeping the last known masters"
            );
            shared.set_leader("");
        }
        return Ok(());
    };
    let leader_changed = seen.leader_node.as_deref() != Some(node.as_str());
    if leader_changed {
        log::info!(
            "ZooKeeper says the leader is: {}",
            list.first().map_or("", String::as_str)
        );
        if !json {
            log::warn!(
                "leading master {node} has only a protobuf MasterInfo (Mesos < 0.24)"
            );
        }
    }
    if leader_changed || list != seen.list {
        seen.leader_node = Some(node);
        seen.list.clone_from(&list);
        shared.set_masters(list, leader_changed);
    }
    Ok(())
}

/// The leader's node name, whether it holds JSON, and the master list
/// `[leader, others...]`: others deduplicated by `MasterInfo.id` and by
/// address, in id order so the list is stable. `None` when there is no
/// leader node, or its `MasterInfo` did not decode.
fn master_list(
    children: &[String],
    infos: &BTreeMap<String, Option<MasterInfo>>,
) -> Option<(String, bool, Vec<String>)> {
    let (node, json) = leader_node(children)?;
    let leader = infos.get(node)?.as_ref()?;
    let mut others: BTreeMap<&str, &str> = BTreeMap::new();
    for info in infos.values().flatten() {
        if info.address != leader.address && info.id != leader.id {
            others.entry(&info.id).or_insert(&info.address);
        }
    }
    let mut list = vec![leader.address.clone()];
    for addr in others.into_values() {
        if !list.iter().any(|a| a == addr) {
            list.push(addr.to_owned());
        }
    }
    Some((node.to_owned(), json, list))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, address: &str) -> Option<MasterInfo> {
        Some(MasterInfo {
            id: id.into(),
            address: address.into(),
        })
    }

    #[test]
    fn leader_first_then_others_deduplicated() {
        let children: Vec<String> = [
            "json.info_0000000007",
            "json.info_0000000003",
            "json.info_0000000005",
            "log_replicas",
        ]
        .map(String::from)
        .to_vec();
        let mut infos = BTreeMap::new();
        infos.insert(
            "json.info_0000000007".to_owned(),
            info("b", "10.0.0.2:5050"),
        );
        infos.insert(
            "json.info_0000000003".to_owned(),
            info("a", "10.0.0.1:5050"),
        );
        // The same master registered twice (same id): listed once.
        infos.insert(
            "json.info_0000000005".to_owned(),
            info("b", "10.0.0.2:5050"),
        );
        let (node, json, list) = master_list(&children, &infos).unwrap();
        assert_eq!((node.as_str(), json), ("json.info_0000000003", true));
        assert_eq!(list, ["10.0.0.1:5050", "10.0.0.2:5050"]);
    }

    #[test]
    fn undecodable_or_missing_leader_is_no_leader() {
        let children = vec!["json.info_0000000001".to_owned()];
        let mut infos = BTreeMap::new();
        assert!(master_list(&children, &infos).is_none());
        infos.insert("json.info_0000000001".to_owned(), None);
        assert!(master_list(&children, &infos).is_none());
        assert!(master_list(&[], &infos).is_none());
    }
}
