//! A real ZooKeeper for tests: Debian's `zookeeper` package run standalone
//! on 127.0.0.1 with its own temporary data dir and port. It can be stopped
//! and restarted on the same port, and is killed and cleaned up on drop.
//!
//! Fake masters register the way Mesos does: an `EPHEMERAL_SEQUENTIAL`
//! `json.info_` node holding a JSON `MasterInfo`, owned by the master's own
//! session (kept alive by a ping thread). Resigning closes that session, so
//! ZooKeeper deletes the node at once and watchers see the change.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mesos_sources::zookeeper::{CreateMode, Session};

/// Where Debian installs ZooKeeper's jar.
pub const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
/// How long a start may take before the harness gives up.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a ZooKeeper started by the harness may live, in seconds.
const MAX_LIFETIME_SECS: &str = "900";
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// A running (or stopped) standalone ZooKeeper.
pub struct ZkServer {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl ZkServer {
    /// Starts ZooKeeper on a free loopback port and waits until it answers.
    ///
    /// # Errors
    /// ZooKeeper is not installed (run `tests/run.sh`), or did not start.
    pub fn start() -> io::Result<ZkServer> {
        if !Path::new(ZOOKEEPER_JAR).exists() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{ZOOKEEPER_JAR} missing: install Debian's zookeeper (tests/run.sh does)"),
            ));
        }
        let port = crate::port::free_port();
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mesos-dns-zk-{}-{port}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(dir.join("data"))?;
        let cfg = format!(
            "tickTime=500\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             admin.enableServer=false\nmaxSessionTimeout=20000\n4lw.commands.whitelist=*\n",
            dir.join("data").display()
        );
        std::fs::write(dir.join("zoo.cfg"), cfg)?;
        let mut zk = ZkServer {
            dir,
            port,
            child: None,
        };
        zk.restart()?;
        Ok(zk)
    }

    /// The `host:port` clients connect to.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Kills the server (as a crash would); the data dir stays.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // `timeout` passes the TERM on to the JVM and exits with it.
            // The shell's builtin `kill`: no procps needed.
            let _ = Command::new("sh")
                .args(["-c", &format!("kill -TERM {}", c.id())])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port and data dir, and waits
    /// until it accepts a session.
    ///
    /// # Errors
    /// It did not come up within a minute.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        let log = std::fs::File::create(self.dir.join("zookeeper.log"))?;
        // Under `timeout`, so a test process killed before its drops ran
        // cannot leave a JVM behind for longer than the bound.
        let child = Command::new("timeout")
            .args(["-s", "KILL", MAX_LIFETIME_SECS, "java"])
            .arg("-cp")
            .arg(ZOOKEEPER_JAR)
            .arg("-Xmx128m")
            .arg("-Dzookeeper.admin.enableServer=false")
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(self.dir.join("zoo.cfg"))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match Session::connect(self.addr(), SESSION_TIMEOUT, IO_TIMEOUT) {
                Ok(s) => {
                    let _ = s.close();
                    return Ok(());
                }
                Err(e) if Instant::now() >= deadline => {
                    self.stop();
                    return Err(io::Error::other(format!(
                        "ZooKeeper did not start: {e}"
                    )));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                let log = std::fs::read_to_string(self.dir.join("zookeeper.log"))
                    .unwrap_or_default();
                return Err(io::Error::other(format!(
                    "ZooKeeper exited ({status}): {log}"
                )));
            }
        }
    }

    /// Opens a fresh client session (for test setup).
    ///
    /// # Errors
    /// Connection failure.
    pub fn session(&self) -> io::Result<Session> {
        Session::connect(self.addr(), SESSION_TIMEOUT, IO_TIMEOUT)
            .map_err(io::Error::other)
    }

    /// Registers a master under `znode` (e.g. `/mesos`) as Mesos does, with
    /// `MasterInfo` `{"id", "address": {"ip", "port", "hostname"}}`.
    ///
    /// # Errors
    /// ZooKeeper errors.
    pub fn register_master(
        &self,
        znode: &str,
        id: &str,
        master: SocketAddr,
    ) -> io::Result<Registration> {
        let info = serde_json::json!({
            "id": id,
            "hostname": master.ip().to_string(),
            "pid": format!("master@{master}"),
            "address": {"ip": master.ip().to_string(), "port": master.port(), "hostname": master.ip().to_string()},
            "version": "1.11.0",
        });
        self.register_raw(znode, "json.info_", info.to_string().as_bytes())
    }

    /// Registers any data as an ephemeral sequential `<prefix>` child.
    ///
    /// # Errors
    /// ZooKeeper errors.
    pub fn register_raw(
        &self,
        znode: &str,
        prefix: &str,
        data: &[u8],
    ) -> io::Result<Registration> {
        let mut s = self.session()?;
        s.create_all(znode).map_err(io::Error::other)?;
        let path = s
            .create(
                &format!("{znode}/{prefix}"),
                data,
                CreateMode::EphemeralSequential,
            )
            .map_err(io::Error::other)?;
        Ok(Registration::keep_alive(s, path))
    }
}

impl Drop for ZkServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A registered master: its ZooKeeper session stays alive until
/// [`Registration::resign`] or drop.
pub struct Registration {
    /// The created node's path (`/mesos/json.info_0000000003`).
    pub path: String,
    session: Arc<Mutex<Option<Session>>>,
    stop: Arc<AtomicBool>,
    pinger: Option<JoinHandle<()>>,
}

impl Registration {
    fn keep_alive(session: Session, path: String) -> Registration {
        let every = session.session_timeout() / 4;
        let session = Arc::new(Mutex::new(Some(session)));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&session), Arc::clone(&stop));
        let pinger = std::thread::spawn(move || {
            let mut last = Instant::now();
            while !st.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                if last.elapsed() < every {
                    continue;
                }
                last = Instant::now();
                let mut guard = s.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(sess) = guard.as_mut() {
                    if sess.ping().is_err() {
                        // ZooKeeper went away: the session is lost.
                        *guard = None;
                    }
                }
            }
        });
        Registration {
            path,
            session,
            stop,
            pinger: Some(pinger),
        }
    }

    /// Closes the session: ZooKeeper deletes the node at once (the master
    /// lost leadership or died).
    pub fn resign(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(p) = self.pinger.take() {
            let _ = p.join();
        }
        let taken = self
            .session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(s) = taken {
            let _ = s.close();
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.finish();
    }
}
