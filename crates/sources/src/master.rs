//! Which master to ask: the master specs mesos-dns accepts (BEHAVIOUR.md 3.2)
//! and the ZooKeeper `MasterInfo` nodes Mesos writes.
//!
//! - `Masters`: a static `host:port` list; hostnames are resolved when a
//!   fetch connects (mesos-dns crashes on them).
//! - `Zk`: `zk://h1:2181,h2:2181/mesos`, `file://<path>` (the file holds the
//!   real spec), or a single standalone `ip:port` / `name@ip:port`.
//! - Leader: the `json.info_<seq>` child with the lowest sequence; only when
//!   there is none, the lowest `info_<seq>` child (protobuf `MasterInfo`).

use std::fmt;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use mesos_records::hostport::{host_port, join_host_port};

/// What is shown instead of a secret.
pub const REDACTED: &str = "REDACTED";

/// Mesos' default master port, used when a `MasterInfo` has none.
pub const DEFAULT_MASTER_PORT: u16 = 5050;

/// How deep `file://` specs may nest before we give up.
const MAX_FILE_DEPTH: usize = 4;

/// A parsed `Zk` config value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DetectorSpec {
    /// `zk://hosts/path`.
    Zk(ZkUrl),
    /// A single master, `ip:port` (any `name@` prefix removed).
    Standalone(String),
}

/// `zk://h1:2181,h2:2181/mesos`: the ensemble and the znode to watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkUrl {
    /// Ensemble members as `host:port` (port 2181 when omitted).
    pub hosts: Vec<String>,
    /// The watched znode, e.g. `/mesos`.
    pub path: String,
}

/// Why a master spec was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

impl DetectorSpec {
    /// Parses a `Zk` config value; `file://` specs are read and parsed
    /// recursively.
    ///
    /// # Errors
    /// An empty or malformed spec, or an unreadable file.
    pub fn parse(spec: &str) -> Result<DetectorSpec, SpecError> {
        Self::parse_depth(spec.trim(), 0)
    }

    fn parse_depth(spec: &str, depth: usize) -> Result<DetectorSpec, SpecError> {
        if let Some(rest) = spec.strip_prefix("zk://") {
            return ZkUrl::parse_after_scheme(rest).map(DetectorSpec::Zk);
        }
        if let Some(path) = spec.strip_prefix("file://") {
            if depth >= MAX_FILE_DEPTH {
                return Err(SpecError(format!("{spec}: file:// specs nest too deep")));
            }
            let path = PathBuf::from(path);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| SpecError(format!("cannot read {}: {e}", path.display())))?;
            return Self::parse_depth(text.trim(), depth + 1);
        }
        let addr = spec.rsplit_once('@').map_or(spec, |(_, a)| a);
        if addr.is_empty() || host_port(addr).is_none() {
            return Err(SpecError(format!(
                "invalid master detector spec {spec:?}: want zk://, file:// or ip:port"
            )));
        }
        Ok(DetectorSpec::Standalone(addr.to_owned()))
    }
}

impl ZkUrl {
    /// Parses `zk://[user:pass@]h1:2181,h2/path`. Credentials are ignored,
    /// as mesos-dns does.
    ///
    /// # Errors
    /// A missing scheme, host or path.
    pub fn parse(url: &str) -> Result<ZkUrl, SpecError> {
        let rest = url
            .strip_prefix("zk://")
            .ok_or_else(|| SpecError(format!("{}: not a zk:// URL", redact_url(url))))?;
        Self::parse_after_scheme(rest)
    }

    fn parse_after_scheme(rest: &str) -> Result<ZkUrl, SpecError> {
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            return Err(SpecError(format!("{}: no znode path", shown(rest))));
        }
        let mut hosts = Vec::new();
        for h in authority
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            if host_port(h).is_some() {
                hosts.push(h.to_owned());
            } else if h.contains(':')
                && !h.starts_with('[')
                && h.matches(':').count() == 1
            {
                return Err(SpecError(format!("{}: bad port in {h:?}", shown(rest))));
            } else if h.starts_with('[') {
                hosts.push(format!("{h}:2181"));
            } else if h.contains(':') {
                hosts.push(format!("[{h}]:2181"));
            } else {
                hosts.push(format!("{h}:2181"));
            }
        }
        if hosts.is_empty() {
            return Err(SpecError(format!("{}: no hosts", shown(rest))));
        }
        Ok(ZkUrl {
            hosts,
            path: path.to_owned(),
        })
    }
}

/// `zk://<rest>` as a message may quote it: without its password.
fn shown(rest: &str) -> String {
    redact_url(&format!("zk://{rest}"))
}

/// `url` with the password of its user information replaced by
/// [`REDACTED`] (`zk://user:REDACTED@h1:2181/mesos`), or the whole user
/// information when it has no `:` (it may be a token); the rest of the URL
/// is kept, so operators still see which ensemble is used. Anything
/// without `scheme://...@` is returned as is. Every `Zk` URL shown (in
/// `/v1/config`, in logs, in errors) goes through this.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, hosts)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:{REDACTED}"),
        None => REDACTED.to_string(),
    };
    format!("{scheme}://{user}@{hosts}{path}")
}

/// One master as registered in ZooKeeper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterInfo {
    /// `id`: the master's unique id (used to deduplicate).
    pub id: String,
    /// `host:port` to fetch state from.
    pub address: String,
}

impl MasterInfo {
    /// Decodes the JSON `MasterInfo` of a `json.info_*` node: `address.ip`
    /// and `address.port` when present, else the deprecated `ip` (a uint32
    /// in host byte order, as mesos-go reads it on x86) and `port`.
    pub fn from_json(data: &[u8]) -> Option<MasterInfo> {
        let v: serde_json::Value = serde_json::from_slice(data).ok()?;
        let id = v
            .get("id")
            .and_then(|i| i.as_str())
            .unwrap_or("")
            .to_owned();
        let port_of = |p: Option<&serde_json::Value>| {
            p.and_then(serde_json::Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(DEFAULT_MASTER_PORT)
        };
        if let Some(addr) = v.get("address").filter(|a| a.is_object()) {
            let port = port_of(addr.get("port"));
            let host = addr
                .get("ip")
                .and_then(|i| i.as_str())
                .filter(|s| !s.is_empty())
                .or_else(|| addr.get("hostname").and_then(|h| h.as_str()))
                .filter(|s| !s.is_empty())?;
            return Some(MasterInfo {
                id,
                address: join_host_port(host, port),
            });
        }
        let ip = v.get("ip")?.as_u64().and_then(|i| u32::try_from(i).ok())?;
        let port = port_of(v.get("port"));
        Some(MasterInfo {
            id,
            address: format!("{}:{port}", Ipv4Addr::from(ip.to_le_bytes())),
        })
    }

    /// Decodes the protobuf `MasterInfo` of an `info_*` node (Mesos before
    /// 0.24): `id` = 1, `ip` = 2, `port` = 3, `address` = 7 {`hostname` = 1,
    /// `ip` = 2, `port` = 3}.
    pub fn from_protobuf(data: &[u8]) -> Option<MasterInfo> {
        let mut id = String::new();
        let mut ip = None;
        let mut port = DEFAULT_MASTER_PORT;
        let mut address = None;
        for field in proto_fields(data)? {
            match field {
                (1, ProtoValue::Bytes(b)) => id = String::from_utf8_lossy(b).into_owned(),
                (2, ProtoValue::Varint(v)) => ip = u32::try_from(v).ok(),
                (3, ProtoValue::Varint(v)) => port = u16::try_from(v).ok()?,
                (7, ProtoValue::Bytes(b)) => address = Some(b),
                _ => {}
            }
        }
        if let Some(a) = address {
            let (mut host, mut aport) = (String::new(), DEFAULT_MASTER_PORT);
            let mut hostname = String::new();
            for field in proto_fields(a)? {
                match field {
                    (1, ProtoValue::Bytes(b)) => {
                        hostname = String::from_utf8_lossy(b).into()
                    }
                    (2, ProtoValue::Bytes(b)) => host = String::from_utf8_lossy(b).into(),
                    (3, ProtoValue::Varint(v)) => aport = u16::try_from(v).ok()?,
                    _ => {}
                }
            }
            if host.is_empty() {
                host = hostname;
            }
            if !host.is_empty() {
                return Some(MasterInfo {
                    id,
                    address: join_host_port(&host, aport),
                });
            }
        }
        Some(MasterInfo {
            id,
            address: format!("{}:{port}", Ipv4Addr::from(ip?.to_le_bytes())),
        })
    }
}

enum ProtoValue<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Splits a protobuf message into (field number, value); fixed-width
/// fields are skipped. `None` on malformed input.
fn proto_fields(mut data: &[u8]) -> Option<Vec<(u64, ProtoValue<'_>)>> {
    fn varint(data: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = data.split_first()?;
            *data = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    let mut out = Vec::new();
    while !data.is_empty() {
        let key = varint(&mut data)?;
        let value = match key & 7 {
            0 => ProtoValue::Varint(varint(&mut data)?),
            2 => {
                let n = usize::try_from(varint(&mut data)?).ok()?;
                let (b, rest) = data.split_at_checked(n)?;
                data = rest;
                ProtoValue::Bytes(b)
            }
            1 => {
                data = data.get(8..)?;
                continue;
            }
            5 => {
                data = data.get(4..)?;
                continue;
            }
            _ => return None,
        };
        out.push((key >> 3, value));
    }
    Some(out)
}

/// The leader's node among the children of the watched znode: the lowest
/// `json.info_` sequence, else the lowest `info_` one. Returns the child
/// name and whether it holds JSON. Only master nodes ([`is_master_node`],
/// the ones the detector reads) count: `info_+1` is not one.
pub fn leader_node(children: &[String]) -> Option<(&str, bool)> {
    let lowest = |prefix: &str| {
        children
            .iter()
            .filter(|c| is_master_node(c))
            .filter_map(|c| {
                let seq: u64 = c.strip_prefix(prefix)?.parse().ok()?;
                Some((seq, c.as_str()))
            })
            .min()
            .map(|(_, c)| c)
    };
    if let Some(c) = lowest("json.info_") {
        return Some((c, true));
    }
    lowest("info_").map(|c| (c, false))
}

/// True for the children that hold a `MasterInfo`.
pub fn is_master_node(child: &str) -> bool {
    let seq = child
        .strip_prefix("json.info_")
        .or_else(|| child.strip_prefix("info_"));
    seq.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_node_is_always_a_master_node() {
        // Found by the zk_reply fuzz target: `+1` parses as a number, so
        // this node was the leader, though the detector never reads it
        // (not a master node) and then saw no leader at all.
        let children = ["json.info_0000000003".to_owned(), "json.info_+1".to_owned()];
        assert_eq!(leader_node(&children), Some(("json.info_0000000003", true)));
    }

    #[test]
    fn zk_url_with_two_hosts_and_path() {
        let u = ZkUrl::parse("zk://10.0.0.1:2181,10.0.0.2:2182/mesos").unwrap();
        assert_eq!(u.hosts, ["10.0.0.1:2181", "10.0.0.2:2182"]);
        assert_eq!(u.path, "/mesos");
    }

    #[test]
    fn zk_url_default_port_and_ignored_credentials() {
        let u = ZkUrl::parse("zk://user:pw@zk1,zk2:2190/a/b/").unwrap();
        assert_eq!(u.hosts, ["zk1:2181", "zk2:2190"]);
        assert_eq!(u.path, "/a/b");
    }

    #[test]
    fn zk_url_errors() {
        assert!(ZkUrl::parse("zk://h1:2181").is_err());
        assert!(ZkUrl::parse("zk:///mesos").is_err());
        assert!(ZkUrl::parse("zk://h1:99999/mesos").is_err());
        assert!(ZkUrl::parse("http://h1/mesos").is_err());
    }

    #[test]
    fn detector_spec_standalone_and_file() {
        assert_eq!(
            DetectorSpec::parse("master@10.0.0.1:5050").unwrap(),
            DetectorSpec::Standalone("10.0.0.1:5050".into())
        );
        assert!(DetectorSpec::parse("garbage").is_err());
        let dir = std::env::temp_dir().join(format!("zkspec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("zk");
        std::fs::write(&f, "zk://127.0.0.1:2181/mesos\n").unwrap();
        let spec = DetectorSpec::parse(&format!("file://{}", f.display())).unwrap();
        assert!(matches!(spec, DetectorSpec::Zk(ref u) if u.path == "/mesos"));
        // A file pointing at itself stops instead of looping.
        std::fs::write(&f, format!("file://{}", f.display())).unwrap();
        assert!(DetectorSpec::parse(&format!("file://{}", f.display())).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn zk_passwords_are_redacted() {
        let cases = [
            (
                "zk://u:hunter2@h1:2181,h2:2181/mesos",
                "zk://u:REDACTED@h1:2181,h2:2181/mesos",
            ),
            ("zk://tok3n@h1:2181/mesos", "zk://REDACTED@h1:2181/mesos"),
            ("zk://u:p@ss@h1/mesos", "zk://u:REDACTED@h1/mesos"),
            ("zk://u:hunter2@h1", "zk://u:REDACTED@h1"),
            ("zk://h1:2181/mesos", "zk://h1:2181/mesos"),
            ("zk://h1:2181/me@sos", "zk://h1:2181/me@sos"),
            ("file:///etc/zk", "file:///etc/zk"),
            ("", ""),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        // Errors about a URL never quote its password.
        for bad in [
            "zk://u:hunter2@h1",
            "zk://u:hunter2@h1:99999/mesos",
            "zk://u:hunter2@/mesos",
        ] {
            let e = DetectorSpec::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("hunter2") && e.contains("u:REDACTED@"), "{e}");
        }
    }

    #[test]
    fn master_info_json_address_and_deprecated_ip() {
        let m = MasterInfo::from_json(
            br#"{"id":"x","address":{"ip":"10.0.0.1","port":5051},"ip":1,"port":1}"#,
        )
        .unwrap();
        assert_eq!(m.address, "10.0.0.1:5051");
        // 10.0.0.2 as a little-endian uint32 (0x0200000a).
        let m = MasterInfo::from_json(br#"{"id":"y","ip":33554442}"#).unwrap();
        assert_eq!(m.address, "10.0.0.2:5050");
        let m =
            MasterInfo::from_json(br#"{"address":{"hostname":"m1","port":80}}"#).unwrap();
        assert_eq!(m.address, "m1:80");
        assert!(MasterInfo::from_json(b"not json").is_none());
        assert!(MasterInfo::from_json(br#"{"id":"z"}"#).is_none());
    }

    #[test]
    fn master_info_protobuf() {
        // id "a" (1), ip 0x0100000a (2), port 5051 (3).
        let mut pb = vec![0x0a, 1, b'a', 0x10];
        let mut ip: u64 = 0x0100_000a;
        loop {
            let b = (ip & 0x7f) as u8;
            ip >>= 7;
            if ip == 0 {
                pb.push(b);
                break;
            }
            pb.push(b | 0x80);
        }
        pb.extend_from_slice(&[0x18, 0xbb, 0x27]);
        let m = MasterInfo::from_protobuf(&pb).unwrap();
        assert_eq!(m.id, "a");
        assert_eq!(m.address, "10.0.0.1:5051");
        assert!(MasterInfo::from_protobuf(&[0x0a, 9, b'a']).is_none());
    }

    #[test]
    fn leader_is_lowest_json_sequence_then_protobuf() {
        let c = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let kids = c(&[
            "info_0000000001",
            "json.info_0000000010",
            "json.info_0000000003",
        ]);
        assert_eq!(leader_node(&kids), Some(("json.info_0000000003", true)));
        let kids = c(&["info_0000000004", "log_replicas", "info_0000000002"]);
        assert_eq!(leader_node(&kids), Some(("info_0000000002", false)));
        assert_eq!(leader_node(&c(&["log_replicas"])), None);
        assert!(is_master_node("json.info_0000000001"));
        assert!(!is_master_node("json.info_"));
        assert!(!is_master_node("log_replicas"));
    }
}
