//! What a request asked for: the endpoints the router tells apart, which
//! the request counters and the `endpoint` label of our metrics share.

/// The lookup key mesos-dns builds from a path parameter: lowercased, every
/// `.*` removed, and a trailing dot (BEHAVIOUR.md 5.3).
pub fn lookup_key(name: &str) -> String {
    let mut key = name.to_lowercase().replace(".*", "");
    if !key.ends_with('.') {
        key.push('.');
    }
    key
}

/// What a request asked for; also the `endpoint` label in our metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `/v1/version`
    Version,
    /// `/v1/config`
    Config,
    /// `/v1/hosts/{host}`
    Hosts,
    /// `/v1/hosts/{host}/ports`
    HostPorts,
    /// `/v1/services/{service}`
    Services,
    /// `/v1/enumerate`
    Enumerate,
    /// `/v1/axfr`
    Axfr,
    /// `/v1/explain/{name}` (ours, issue 22)
    Explain,
    /// `/metrics`
    Metrics,
    /// `/health`
    Health,
    /// `/ready`
    Ready,
    /// Anything else, and requests that could not be parsed.
    Other,
}

impl Endpoint {
    /// Every endpoint, in metrics order.
    pub const ALL: [Endpoint; 12] = [
        Endpoint::Version,
        Endpoint::Config,
        Endpoint::Hosts,
        Endpoint::HostPorts,
        Endpoint::Services,
        Endpoint::Enumerate,
        Endpoint::Axfr,
        Endpoint::Explain,
        Endpoint::Metrics,
        Endpoint::Health,
        Endpoint::Ready,
        Endpoint::Other,
    ];

    /// The metrics label value.
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::Version => "/v1/version",
            Endpoint::Config => "/v1/config",
            Endpoint::Hosts => "/v1/hosts",
            Endpoint::HostPorts => "/v1/hosts/ports",
            Endpoint::Services => "/v1/services",
            Endpoint::Enumerate => "/v1/enumerate",
            Endpoint::Axfr => "/v1/axfr",
            Endpoint::Explain => "/v1/explain",
            Endpoint::Metrics => "/metrics",
            Endpoint::Health => "/health",
            Endpoint::Ready => "/ready",
            Endpoint::Other => "other",
        }
    }

    /// Index into per-endpoint counters.
    pub fn index(self) -> usize {
        self as usize
    }

    /// True for mesos-dns's go-restful routes.
    pub(super) fn is_restful(self) -> bool {
        !matches!(
            self,
            Endpoint::Metrics | Endpoint::Health | Endpoint::Ready | Endpoint::Other
        )
    }
}
