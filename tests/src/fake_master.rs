//! A fake Mesos master: a small HTTP(S) server on `127.0.0.1:0` serving a
//! state JSON at `/master/state`, with switchable faults (down, slow, an
//! HTTP error status, garbage JSON, a truncated body, a redirect), optional
//! gzip, an optional required `Authorization` value, and a DC/OS IAM login
//! endpoint at `/acs/api/v1/auth/login`. Every request is recorded.
//!
//! [`TestCa`] makes a throwaway CA, a server certificate for 127.0.0.1 and a
//! client certificate with the `openssl` command line tool.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// What the master does with the next requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Serve the state normally.
    None,
    /// Not listening at all: connections are refused.
    Down,
    /// Send the headers and half the body, wait this long, then the rest.
    Slow(Duration),
    /// Answer with this HTTP status and a small text body.
    Status(u16),
    /// 200 with a body that is not JSON.
    Garbage,
    /// Announce the full length, send half the body, close.
    Truncated,
    /// 307 to this URL (a non-leading master redirecting to the leader).
    Redirect(String),
}

/// One request the master received.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    /// `GET`, `POST`.
    pub method: String,
    /// The request target.
    pub path: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
}

impl SeenRequest {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Inner {
    addr: SocketAddr,
    state: Mutex<Vec<u8>>,
    fault: Mutex<Fault>,
    stop: AtomicBool,
    gzip: AtomicBool,
    require_auth: Mutex<Option<String>>,
    login_token: Mutex<Option<String>>,
    requests: Mutex<Vec<SeenRequest>>,
    state_hits: AtomicU64,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// A running fake master. Stops on drop.
pub struct FakeMaster {
    inner: Arc<Inner>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeMaster {
    /// Starts a plain-HTTP master serving `state`.
    ///
    /// # Errors
    /// Bind failure.
    pub fn start(state: &[u8]) -> io::Result<FakeMaster> {
        Self::start_with(state, None)
    }

    /// Starts an HTTPS master with the CA's server certificate; when
    /// `client_ca` is true, clients must present a certificate signed by it.
    ///
    /// # Errors
    /// Bind or TLS setup failure.
    pub fn start_tls(
        state: &[u8],
        ca: &TestCa,
        client_ca: bool,
    ) -> io::Result<FakeMaster> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs = read_certs(&ca.server_cert)?;
        let key =
            PrivateKeyDer::from_pem_file(&ca.server_key).map_err(io::Error::other)?;
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?;
        let builder = if client_ca {
            let mut roots = rustls::RootCertStore::empty();
            for c in read_certs(&ca.ca_cert)? {
                roots.add(c).map_err(io::Error::other)?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(io::Error::other)?;
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let cfg = builder
            .with_single_cert(certs, key)
            .map_err(io::Error::other)?;
        Self::start_with(state, Some(Arc::new(cfg)))
    }

    fn start_with(
        state: &[u8],
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> io::Result<FakeMaster> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let inner = Arc::new(Inner {
            addr: listener.local_addr()?,
            state: Mutex::new(state.to_vec()),
            fault: Mutex::new(Fault::None),
            stop: AtomicBool::new(false),
            gzip: AtomicBool::new(false),
            require_auth: Mutex::new(None),
            login_token: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            state_hits: AtomicU64::new(0),
            tls,
        });
        let i = Arc::clone(&inner);
        let thread = std::thread::spawn(move || accept_loop(&i, Some(listener)));
        Ok(FakeMaster {
            inner,
            thread: Some(thread),
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `127.0.0.1:<port>`, as a masters list entry.
    pub fn host_port(&self) -> String {
        self.inner.addr.to_string()
    }

    /// The URL of `/master/state`.
    pub fn state_url(&self) -> String {
        let scheme = if self.inner.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}/master/state", self.inner.addr)
    }

    /// The URL of the IAM login endpoint.
    pub fn login_url(&self) -> String {
        let scheme = if self.inner.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}/acs/api/v1/auth/login", self.inner.addr)
    }

    /// Replaces the served state.
    pub fn set_state(&self, state: &[u8]) {
        *lock(&self.inner.state) = state.to_vec();
    }

    /// Switches the fault.
    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.inner.fault) = fault;
    }

    /// Gzip the state when the client accepts it.
    pub fn set_gzip(&self, on: bool) {
        self.inner.gzip.store(on, Ordering::Relaxed);
    }

    /// Requires this exact `Authorization` value on `/master/state` (else 401).
    pub fn require_auth(&self, value: Option<&str>) {
        *lock(&self.inner.require_auth) = value.map(str::to_owned);
    }

    /// Enables the IAM login endpoint, which hands out `token`; the state
    /// then requires `Authorization: token=<token>`.
    pub fn enable_iam(&self, token: &str) {
        *lock(&self.inner.login_token) = Some(token.to_owned());
        self.require_auth(Some(&format!("token={token}")));
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.inner.requests).clone()
    }

    /// How many `/master/state` requests arrived.
    pub fn state_hits(&self) -> u64 {
        self.inner.state_hits.load(Ordering::Relaxed)
    }
}

impl Drop for FakeMaster {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(inner: &Arc<Inner>, mut listener: Option<TcpListener>) {
    while !inner.stop.load(Ordering::Relaxed) {
        if *lock(&inner.fault) == Fault::Down {
            listener = None;
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let Some(l) = listener.as_ref() else {
            // Back up: listen on the same port again.
            match TcpListener::bind(inner.addr).and_then(|l| {
                l.set_nonblocking(true)?;
                Ok(l)
            }) {
                Ok(l) => listener = Some(l),
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
            continue;
        };
        match l.accept() {
            Ok((stream, _)) => {
                let i = Arc::clone(inner);
                std::thread::spawn(move || {
                    let _ = serve(&i, stream);
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve(inner: &Arc<Inner>, stream: TcpStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    match &inner.tls {
        None => handle(inner, stream.try_clone()?, &stream),
        Some(cfg) => {
            let conn = rustls::ServerConnection::new(Arc::clone(cfg))
                .map_err(io::Error::other)?;
            let tls = rustls::StreamOwned::new(conn, stream.try_clone()?);
            handle(inner, tls, &stream)
        }
    }
}

fn handle<S: Read + Write>(
    inner: &Arc<Inner>,
    mut s: S,
    tcp: &TcpStream,
) -> io::Result<()> {
    let req = read_request(&mut s)?;
    lock(&inner.requests).push(req.clone());
    if req.path.starts_with("/acs/api/v1/auth/login") {
        return login(inner, &mut s, &req);
    }
    if !req.path.starts_with("/master/state") {
        return respond(&mut s, 404, &[], b"not found");
    }
    inner.state_hits.fetch_add(1, Ordering::Relaxed);
    let required = lock(&inner.require_auth).clone();
    if let Some(want) = required {
        if req.header("authorization") != Some(want.as_str()) {
            return respond(&mut s, 401, &[], b"unauthorized");
        }
    }
    let fault = lock(&inner.fault).clone();
    let mut body = lock(&inner.state).clone();
    let mut extra: Vec<(&str, String)> =
        vec![("Content-Type", "application/json".into())];
    let accepts_gzip = req
        .header("accept-encoding")
        .is_some_and(|v| v.contains("gzip"));
    if inner.gzip.load(Ordering::Relaxed)
        && accepts_gzip
        && !matches!(fault, Fault::Garbage)
    {
        let mut enc =
            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&body)?;
        body = enc.finish()?;
        extra.push(("Content-Encoding", "gzip".into()));
    }
    match fault {
        Fault::None | Fault::Down => respond(&mut s, 200, &extra, &body),
        Fault::Status(code) => respond(&mut s, code, &[], b"injected failure"),
        Fault::Garbage => respond(&mut s, 200, &extra, b"<html>this is not { json"),
        Fault::Redirect(to) => respond(&mut s, 307, &[("Location", to)], b""),
        Fault::Truncated | Fault::Slow(_) => {
            let half = body.len() / 2;
            let (a, b) = body.split_at(half);
            write_head(&mut s, 200, &extra, body.len())?;
            s.write_all(a)?;
            s.flush()?;
            if let Fault::Slow(d) = fault {
                let until = Instant::now() + d;
                while Instant::now() < until && !inner.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                s.write_all(b)?;
                s.flush()?;
            }
            let _ = tcp.shutdown(Shutdown::Both);
            Ok(())
        }
    }
}

fn login<S: Read + Write>(
    inner: &Arc<Inner>,
    s: &mut S,
    req: &SeenRequest,
) -> io::Result<()> {
    let Some(token) = lock(&inner.login_token).clone() else {
        return respond(s, 404, &[], b"no IAM here");
    };
    let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let jwt_ok = v["token"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3);
    if req.method != "POST" || v["uid"].as_str().is_none() || !jwt_ok {
        return respond(s, 401, &[], b"bad login");
    }
    let reply = serde_json::json!({ "token": token }).to_string();
    respond(
        s,
        200,
        &[("Content-Type", "application/json".into())],
        reply.as_bytes(),
    )
}

fn read_request<S: Read>(s: &mut S) -> io::Result<SeenRequest> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 64 * 1024 || s.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let path = first.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(1 << 20)];
    s.read_exact(&mut body)?;
    Ok(SeenRequest {
        method,
        path,
        headers,
        body,
    })
}

fn write_head<S: Write>(
    s: &mut S,
    code: u16,
    extra: &[(&str, String)],
    len: usize,
) -> io::Result<()> {
    let mut head =
        format!("HTTP/1.1 {code} Fake\r\nContent-Length: {len}\r\nConnection: close\r\n");
    for (n, v) in extra {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())
}

fn respond<S: Write>(
    s: &mut S,
    code: u16,
    extra: &[(&str, String)],
    body: &[u8],
) -> io::Result<()> {
    write_head(s, code, extra, body.len())?;
    s.write_all(body)?;
    s.flush()
}

fn read_certs(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    CertificateDer::pem_file_iter(path)
        .map_err(io::Error::other)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io::Error::other)
}

/// A throwaway CA made with `openssl` in a temporary directory: a server
/// certificate for `127.0.0.1` and a client certificate, both signed by it.
pub struct TestCa {
    /// The directory holding every file (removed on drop).
    pub dir: PathBuf,
    /// CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// Server certificate for IP 127.0.0.1 (PEM).
    pub server_cert: PathBuf,
    /// Server key (PEM).
    pub server_key: PathBuf,
    /// Client certificate (PEM).
    pub client_cert: PathBuf,
    /// Client key (PEM).
    pub client_key: PathBuf,
    /// A second, unrelated CA certificate (PEM) that verifies nothing here.
    pub other_ca_cert: PathBuf,
}

impl TestCa {
    /// Makes the CA and certificates. Fails (never skips) without openssl.
    ///
    /// # Errors
    /// `openssl` missing or failing.
    pub fn new() -> io::Result<TestCa> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mesos-dns-ca-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        let p = |n: &str| dir.join(n);
        let run = |args: &[&str]| -> io::Result<()> {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()?;
            if out.status.success() {
                Ok(())
            } else {
                Err(io::Error::other(format!(
                    "openssl {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                )))
            }
        };
        for ca in ["ca", "other-ca"] {
            run(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=mesos-dns test {ca}"),
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.pem"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ])?;
        }
        std::fs::write(p("server.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")?;
        std::fs::write(
            p("client.ext"),
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
        )?;
        for who in ["server", "client"] {
            run(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={who}"),
                "-keyout",
                &format!("{who}.key"),
                "-out",
                &format!("{who}.csr"),
            ])?;
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{who}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &format!("{who}.ext"),
                "-out",
                &format!("{who}.pem"),
            ])?;
        }
        Ok(TestCa {
            ca_cert: p("ca.pem"),
            server_cert: p("server.pem"),
            server_key: p("server.key"),
            client_cert: p("client.pem"),
            client_key: p("client.key"),
            other_ca_cert: p("other-ca.pem"),
            dir,
        })
    }

    /// Makes an RSA private key (PKCS#8 PEM) for IAM tests; returns the PEM.
    ///
    /// # Errors
    /// `openssl` missing or failing.
    pub fn rsa_key(&self) -> io::Result<String> {
        let out = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ])
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        String::from_utf8(out.stdout).map_err(io::Error::other)
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
