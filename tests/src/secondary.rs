//! Real secondary DNS servers for zone-transfer tests: NSD and Knot
//! (Debian's `nsd` and `knot` packages), each run in the foreground on a
//! free loopback port with its own temporary directory, following one
//! primary by AXFR/IXFR and accepting its NOTIFY. Killed and cleaned up on
//! drop. A missing binary fails the test (`tests/run.sh` installs them).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::dns::{query, udp_exchange};
use crate::port::free_port;

/// How long a secondary may take to start or to follow a change.
pub const FOLLOW_WAIT: Duration = Duration::from_secs(30);

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// NLnet Labs' NSD.
    Nsd,
    /// CZ.NIC's Knot DNS.
    Knot,
}

/// A running secondary for zone `zone` of `primary`.
pub struct Secondary {
    /// Which server it is.
    pub kind: Kind,
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    dir: PathBuf,
    child: Child,
}

fn temp_dir(kind: Kind) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mesos-dns-{kind:?}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

impl Secondary {
    /// Starts `kind` as a secondary of `zone` at `primary`.
    pub fn start(kind: Kind, zone: &str, primary: SocketAddr) -> Secondary {
        Secondary::start_on(kind, zone, primary, free_port())
    }

    /// [`Secondary::start`] on loopback port `port`.
    pub fn start_on(kind: Kind, zone: &str, primary: SocketAddr, port: u16) -> Secondary {
        let dir = temp_dir(kind);
        let (bin, conf, args): (&str, String, Vec<String>) = match kind {
            Kind::Nsd => (
                "/usr/sbin/nsd",
                nsd_conf(&dir, port, zone, primary),
                vec!["-d".into(), "-c".into()],
            ),
            Kind::Knot => (
                "/usr/sbin/knotd",
                knot_conf(&dir, port, zone, primary),
                vec!["-c".into()],
            ),
        };
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install Debian's nsd and knot (tests/run.sh does)"
        );
        let path = dir.join("server.conf");
        std::fs::write(&path, conf).expect("the config is written");
        let log = std::fs::File::create(dir.join("out.log")).expect("a log file");
        let child = Command::new(bin)
            .args(&args)
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{bin} runs: {e}"));
        Secondary {
            kind,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            child,
        }
    }

    /// The SOA serial it serves for `zone`, if it answers with one.
    pub fn serial(&self, zone: &str) -> Option<u32> {
        soa_serial(self.addr, zone)
    }

    /// Waits until it serves `zone` at `serial`; panics with its log after
    /// [`FOLLOW_WAIT`].
    pub fn wait_serial(&self, zone: &str, serial: u32) {
        let start = Instant::now();
        while start.elapsed() < FOLLOW_WAIT {
            if self.serial(zone) == Some(serial) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{:?} did not reach serial {serial} (at {:?}); log:\n{}",
            self.kind,
            self.serial(zone),
            self.log()
        );
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        for f in ["out.log", "nsd.log"] {
            text += &std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
        }
        text
    }
}

impl Drop for Secondary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The SOA serial `server` answers for `zone` over UDP.
pub fn soa_serial(server: SocketAddr, zone: &str) -> Option<u32> {
    let reply = udp_exchange(server, &query(7, zone, 6, None))?;
    let m = dns_wire::Message::parse(&reply).ok()?;
    let serial = m.answers().find_map(|r| match r.rdata {
        dns_wire::Rdata::Soa(s) => Some(s.serial),
        _ => None,
    });
    serial
}

fn nsd_conf(dir: &Path, port: u16, zone: &str, primary: SocketAddr) -> String {
    let d = dir.display();
    let p = primary.port();
    format!(
        "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  username: \"\"\n  \
         chroot: \"\"\n  zonesdir: \"{d}\"\n  database: \"\"\n  pidfile: \"{d}/nsd.pid\"\n  \
         xfrdfile: \"{d}/xfrd.state\"\n  zonelistfile: \"{d}/zone.list\"\n  \
         logfile: \"{d}/nsd.log\"\n  verbosity: 2\n  server-count: 1\n  \
         xfrd-reload-timeout: 0\n\
         remote-control:\n  control-enable: no\n\
         zone:\n  name: {zone}\n  zonefile: \"{zone}.zone\"\n  \
         request-xfr: 127.0.0.1@{p} NOKEY\n  allow-notify: 127.0.0.1 NOKEY\n"
    )
}

fn knot_conf(dir: &Path, port: u16, zone: &str, primary: SocketAddr) -> String {
    let d = dir.display();
    let p = primary.port();
    format!(
        "server:\n    listen: 127.0.0.1@{port}\n    rundir: \"{d}\"\n\
         control:\n    listen: \"{d}/knot.sock\"\n\
         database:\n    storage: \"{d}\"\n\
         log:\n  - target: stderr\n    any: info\n\
         remote:\n  - id: primary\n    address: 127.0.0.1@{p}\n\
         acl:\n  - id: notify\n    address: 127.0.0.1\n    action: notify\n\
         zone:\n  - domain: {zone}\n    storage: \"{d}\"\n    master: primary\n    \
         acl: notify\n    zonefile-sync: -1\n    zonefile-load: none\n    \
         journal-content: none\n"
    )
}

/// Knot as a primary: zone `zone` from a zone file holding `records`
/// (master-file lines after the SOA and NS), transfers allowed to
/// loopback, NOTIFY sent to `notify`.
pub struct KnotPrimary {
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    dir: PathBuf,
    zone: String,
    child: Child,
}

impl KnotPrimary {
    /// Starts Knot on a free loopback port with `records` at `serial`.
    pub fn start(
        zone: &str,
        serial: u32,
        records: &str,
        notify: SocketAddr,
    ) -> KnotPrimary {
        let dir = temp_dir(Kind::Knot);
        let port = free_port();
        let d = dir.display();
        let conf = format!(
            "server:\n    listen: 127.0.0.1@{port}\n    rundir: \"{d}\"\n\
             control:\n    listen: \"{d}/knot.sock\"\n\
             database:\n    storage: \"{d}\"\n\
             log:\n  - target: stderr\n    any: info\n\
             remote:\n  - id: secondary\n    address: {}@{}\n\
             acl:\n  - id: transfer\n    address: 127.0.0.1\n    action: transfer\n\
             zone:\n  - domain: {zone}\n    storage: \"{d}\"\n    file: \"{zone}.zone\"\n    \
             notify: secondary\n    acl: transfer\n    zonefile-load: difference\n    \
             journal-content: changes\n",
            notify.ip(),
            notify.port()
        );
        std::fs::write(dir.join("server.conf"), conf).expect("the config is written");
        write_zone_file(&dir, zone, serial, records);
        let log = std::fs::File::create(dir.join("out.log")).expect("a log file");
        let child = Command::new("/usr/sbin/knotd")
            .arg("-c")
            .arg(dir.join("server.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("knotd runs: {e}"));
        let k = KnotPrimary {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            zone: zone.to_string(),
            child,
        };
        let start = Instant::now();
        while soa_serial(k.addr, &format!("{zone}.")) != Some(serial) {
            assert!(
                start.elapsed() < FOLLOW_WAIT,
                "knot did not load: {}",
                k.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        k
    }

    /// Writes the zone file: SOA (refresh 1, retry 1, expire 3600), NS, and
    /// `records`.
    pub fn write_zone(&self, serial: u32, records: &str) {
        write_zone_file(&self.dir, &self.zone, serial, records);
    }

    /// Reloads the zone file (Knot computes the difference and sends NOTIFY).
    pub fn reload(&self) {
        let out = Command::new("/usr/sbin/knotc")
            .arg("-s")
            .arg(self.dir.join("knot.sock"))
            .args(["zone-reload", &self.zone])
            .output()
            .expect("knotc runs");
        assert!(
            out.status.success(),
            "knotc: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("out.log")).unwrap_or_default()
    }
}

fn write_zone_file(dir: &Path, z: &str, serial: u32, records: &str) {
    let text = format!(
        "$ORIGIN {z}.\n$TTL 60\n@ IN SOA ns1.{z}. root.ns1.{z}. {serial} 1 1 3600 60\n\
         @ IN NS ns1.{z}.\nns1 IN A 127.0.0.1\n{records}\n"
    );
    std::fs::write(dir.join(format!("{z}.zone")), text)
        .expect("the zone file is written");
}

impl Drop for KnotPrimary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
