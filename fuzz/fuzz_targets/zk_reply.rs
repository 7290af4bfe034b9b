//! What a ZooKeeper server (or anything answering on its port) sends the
//! leader detector (`mesos_sources::zookeeper` and `master`): frame
//! lengths, reply frames, `ConnectResponse`s, `getChildren` bodies, the
//! leader choice among the children, and the `MasterInfo` in a node's data
//! (JSON and protobuf). Never a panic; a frame length is within
//! `MAX_FRAME`; a reply body is the frame after its 16-octet header; a
//! watch event encoded again decodes the same; the children decoded fit in
//! the body; and the leader is always a master node (`is_master_node`), the
//! one the detector fetched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_sources::master::{is_master_node, leader_node, MasterInfo};
use mesos_sources::zookeeper::{
    decode_children, decode_connect, decode_reply, frame_len, Reply, MAX_FRAME,
};

fn put_i32(w: &mut Vec<u8>, v: i32) {
    w.extend_from_slice(&v.to_be_bytes());
}

fuzz_target!(|data: &[u8]| {
    if let Some(prefix) = data.first_chunk::<4>() {
        if let Ok(len) = frame_len(*prefix) {
            assert!(len <= MAX_FRAME);
            assert_eq!(i64::from(i32::from_be_bytes(*prefix)), len as i64);
        }
    }
    if let Ok((_, timeout)) = decode_connect(data) {
        assert!(!timeout.is_zero());
    }
    match decode_reply(data) {
        Ok(Reply::Answer { xid, body }) => {
            assert_ne!(xid, -1);
            if let Ok(b) = body {
                assert_eq!(b, &data[16..]);
            }
        }
        Ok(Reply::Watch(event)) => {
            let mut w = Vec::new();
            put_i32(&mut w, -1);
            w.extend_from_slice(&[0; 8]);
            put_i32(&mut w, 0);
            put_i32(&mut w, event.kind);
            put_i32(&mut w, event.state);
            put_i32(&mut w, event.path.len() as i32);
            w.extend_from_slice(event.path.as_bytes());
            assert_eq!(decode_reply(&w).ok(), Some(Reply::Watch(event)));
        }
        Err(_) => {}
    }
    if let Ok(children) = decode_children(data) {
        let used: usize = 4 + children.iter().map(|c| 4 + c.len()).sum::<usize>();
        assert!(used <= data.len());
        if let Some((node, json)) = leader_node(&children) {
            assert!(is_master_node(node), "leader {node:?} is not a master node");
            assert_eq!(json, node.starts_with("json."));
            assert!(children.iter().any(|c| c == node));
        }
    }
    for info in [MasterInfo::from_json(data), MasterInfo::from_protobuf(data)]
        .into_iter()
        .flatten()
    {
        assert!(info.address.contains(':'), "{info:?}");
    }
});
