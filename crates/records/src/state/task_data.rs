//! The compact forms of a task's state, ports and status IPs: the live
//! store keeps every task, so each is a few words.

use std::fmt;
use std::net::IpAddr;

/// The Mesos task states, by their code in [`TaskState`]: the terminal
/// ones (after which Mesos moves a task to `completed_tasks`) from
/// [`FIRST_TERMINAL`] on.
const TASK_STATES: [&str; 14] = [
    "TASK_RUNNING",
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_KILLING",
    "TASK_UNREACHABLE",
    "TASK_UNKNOWN",
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_ERROR",
    "TASK_LOST",
    "TASK_DROPPED",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
];

/// The code of the first terminal state in [`TASK_STATES`].
const FIRST_TERMINAL: u8 = 6;

/// The code of state `text` in [`TASK_STATES`], if it is one.
fn code(text: &str) -> Option<u8> {
    let i = TASK_STATES.iter().position(|s| *s == text)?;
    u8::try_from(i).ok()
}

/// A task's `state` text: one of the Mesos states, kept as a code, or any
/// other text as it is (empty when absent).
#[derive(Clone, PartialEq, Eq)]
pub struct TaskState(StateText);

/// A known state is always a code, so equal texts are equal values.
#[derive(Clone, PartialEq, Eq)]
enum StateText {
    Known(u8),
    /// Boxed twice: a thin pointer keeps the state two words.
    Other(Box<Box<str>>),
}

impl TaskState {
    /// The state with this text.
    pub fn new(text: &str) -> TaskState {
        match code(text) {
            Some(i) => TaskState(StateText::Known(i)),
            None => TaskState(StateText::Other(Box::new(text.into()))),
        }
    }

    /// Whether the task has ended: Mesos then moves it to
    /// `completed_tasks` (and no event brings it back).
    pub fn is_terminal(&self) -> bool {
        matches!(self.0, StateText::Known(i) if i >= FIRST_TERMINAL)
    }

    /// Whether the state `text` is a terminal one ([`TaskState::is_terminal`]),
    /// without keeping it (an unknown text is not copied).
    pub fn is_terminal_text(text: &str) -> bool {
        code(text).is_some_and(|i| i >= FIRST_TERMINAL)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            StateText::Known(i) => {
                TASK_STATES.get(usize::from(*i)).copied().unwrap_or("")
            }
            StateText::Other(t) => t,
        }
    }
}

impl Default for TaskState {
    fn default() -> Self {
        TaskState(StateText::Other(Box::default()))
    }
}

impl From<&str> for TaskState {
    fn from(text: &str) -> Self {
        TaskState::new(text)
    }
}

impl PartialEq<str> for TaskState {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for TaskState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The IPs one task status offers to each IP source, unparsable ones
/// left out, in state order: one list, the Mesos containerizer's first,
/// then Docker's, then the network infos'.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StatusIps {
    ips: IpList,
    /// Number of Mesos containerizer IPs at the start of `ips`.
    mesos: u32,
    /// Number of Docker IPs after them.
    docker: u32,
    /// The status's `healthy`, when it is a boolean (a task with a health
    /// check); mesos-dns does not read it.
    pub healthy: Option<bool>,
}

impl StatusIps {
    /// The IPs of each source: `MesosContainerizer.NetworkSettings.IPAddress`
    /// label values, `Docker.NetworkSettings.IPAddress` label values and
    /// `container_status.network_infos[]` addresses.
    pub fn new(
        mesos: Vec<IpAddr>,
        docker: Vec<IpAddr>,
        netinfo: Vec<IpAddr>,
        healthy: Option<bool>,
    ) -> StatusIps {
        // A status has at most a few IPs; the counts cannot overflow for
        // any body this server reads.
        let (m, d) = (mesos.len() as u32, docker.len() as u32);
        // Usually one source gives them all: its list is kept.
        let ips = IpList::from(
            match (mesos.is_empty(), docker.is_empty(), netinfo.is_empty()) {
                (_, true, true) => mesos,
                (true, _, true) => docker,
                (true, true, _) => netinfo,
                _ => [mesos, docker, netinfo].concat(),
            },
        );
        StatusIps {
            ips,
            mesos: m,
            docker: d,
            healthy,
        }
    }

    /// `MesosContainerizer.NetworkSettings.IPAddress` label values.
    pub fn mesos(&self) -> &[IpAddr] {
        self.ips.get(..self.mesos as usize).unwrap_or_default()
    }

    /// `Docker.NetworkSettings.IPAddress` label values.
    pub fn docker(&self) -> &[IpAddr] {
        let start = self.mesos as usize;
        self.ips
            .get(start..start + self.docker as usize)
            .unwrap_or_default()
    }

    /// `container_status.network_infos[]` addresses.
    pub fn netinfo(&self) -> &[IpAddr] {
        let start = self.mesos as usize + self.docker as usize;
        self.ips.get(start..).unwrap_or_default()
    }
}

/// A status's IPs: the one IP inline (nearly every status: at 100,000
/// tasks, a list of one took 100,000 allocations of 32 bytes; inline it
/// fits the room the task's allocation already has), more boxed.
#[derive(Clone, PartialEq, Eq)]
enum IpList {
    One(IpAddr),
    /// None, or more than one.
    Many(Box<[IpAddr]>),
}

impl Default for IpList {
    fn default() -> Self {
        IpList::Many(Box::default())
    }
}

impl From<Vec<IpAddr>> for IpList {
    fn from(v: Vec<IpAddr>) -> Self {
        match <[IpAddr; 1]>::try_from(v) {
            Ok([ip]) => IpList::One(ip),
            Err(v) => IpList::Many(v.into_boxed_slice()),
        }
    }
}

impl std::ops::Deref for IpList {
    type Target = [IpAddr];

    fn deref(&self) -> &[IpAddr] {
        match self {
            IpList::One(ip) => std::slice::from_ref(ip),
            IpList::Many(ips) => ips,
        }
    }
}

impl fmt::Debug for StatusIps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusIps")
            .field("mesos", &self.mesos())
            .field("docker", &self.docker())
            .field("netinfo", &self.netinfo())
            .field("healthy", &self.healthy)
            .finish()
    }
}

/// A task's ports: up to three kept inline (most tasks have one or two),
/// more in a boxed list.
#[derive(Clone, PartialEq, Eq)]
pub struct Ports(PortList);

/// Three ports or fewer are always inline, unused slots 0, so equal lists
/// are equal values.
#[derive(Clone, PartialEq, Eq)]
enum PortList {
    Inline(u8, [u16; 3]),
    Boxed(Box<[u16]>),
}

impl Ports {
    /// The ports as a slice.
    pub fn as_slice(&self) -> &[u16] {
        match &self.0 {
            PortList::Inline(n, p) => p.get(..usize::from(*n)).unwrap_or_default(),
            PortList::Boxed(p) => p,
        }
    }
}

impl Default for Ports {
    fn default() -> Self {
        Ports(PortList::Inline(0, [0; 3]))
    }
}

impl From<Vec<u16>> for Ports {
    fn from(v: Vec<u16>) -> Self {
        match *v.as_slice() {
            [] => Ports::default(),
            [a] => Ports(PortList::Inline(1, [a, 0, 0])),
            [a, b] => Ports(PortList::Inline(2, [a, b, 0])),
            [a, b, c] => Ports(PortList::Inline(3, [a, b, c])),
            _ => Ports(PortList::Boxed(v.into_boxed_slice())),
        }
    }
}

/// [`Ports`] made one port at a time, with no allocation for three or
/// fewer.
#[derive(Default)]
pub(crate) struct PortsBuilder {
    few: [u16; 3],
    n: u8,
    more: Vec<u16>,
}

impl PortsBuilder {
    /// Adds `p` at the end.
    pub(crate) fn push(&mut self, p: u16) {
        if self.more.is_empty() {
            if let Some(slot) = self.few.get_mut(usize::from(self.n)) {
                *slot = p;
                self.n += 1;
                return;
            }
            self.more.extend_from_slice(&self.few);
        }
        self.more.push(p);
    }

    /// The ports added.
    pub(crate) fn finish(self) -> Ports {
        match self.more.is_empty() {
            true => Ports(PortList::Inline(self.n, self.few)),
            false => Ports(PortList::Boxed(self.more.into_boxed_slice())),
        }
    }
}

impl std::ops::Deref for Ports {
    type Target = [u16];
    fn deref(&self) -> &[u16] {
        self.as_slice()
    }
}

impl<'a> IntoIterator for &'a Ports {
    type Item = &'a u16;
    type IntoIter = std::slice::Iter<'a, u16>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<const N: usize> PartialEq<[u16; N]> for Ports {
    fn eq(&self, other: &[u16; N]) -> bool {
        self.as_slice() == other
    }
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A status's one IP is kept inline, so that a task is one allocation
    // of the size it had with a boxed list: 120 bytes, in an `Arc` 136,
    // which glibc serves from a 144-byte chunk as it did 128.
    #[test]
    fn one_ip_is_inline_and_reads_as_a_list_of_one() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or(IpAddr::from([0u8; 4]));
        let one = StatusIps::new(Vec::new(), Vec::new(), vec![ip("10.0.0.1")], None);
        assert!(matches!(one.ips, IpList::One(_)));
        assert_eq!(one.netinfo(), [ip("10.0.0.1")]);
        assert!(one.mesos().is_empty() && one.docker().is_empty());
        let two = StatusIps::new(
            vec![ip("10.0.0.2")],
            Vec::new(),
            vec![ip("::1")],
            Some(true),
        );
        assert!(matches!(two.ips, IpList::Many(_)));
        assert_eq!(
            (two.mesos(), two.netinfo()),
            (&[ip("10.0.0.2")][..], &[ip("::1")][..])
        );
        let none = StatusIps::new(Vec::new(), Vec::new(), Vec::new(), None);
        assert!(none.netinfo().is_empty());
        assert_eq!(none, StatusIps::default());
        assert!(std::mem::size_of::<crate::state::Task>() <= 120);
    }

    #[test]
    fn terminal_states_are_the_eight_mesos_ends() {
        let ended: Vec<&str> = TASK_STATES
            .iter()
            .copied()
            .filter(|s| TaskState::new(s).is_terminal())
            .collect();
        assert_eq!(ended.len(), 8);
        for s in [
            "TASK_FINISHED",
            "TASK_KILLED",
            "TASK_GONE_BY_OPERATOR",
            "TASK_LOST",
        ] {
            assert!(ended.contains(&s), "{s}");
            assert!(TaskState::is_terminal_text(s), "{s}");
        }
        for s in [
            "TASK_RUNNING",
            "TASK_UNREACHABLE",
            "TASK_UNKNOWN",
            "TASK_KILLING",
            "",
            "X",
        ] {
            assert!(!TaskState::new(s).is_terminal(), "{s}");
            assert!(!TaskState::is_terminal_text(s), "{s}");
            assert_eq!(TaskState::new(s).as_str(), s);
        }
    }

    // Kept for every task: the state and ports two words each, the
    // status IPs five (one IP inline, see `IpList`).
    #[test]
    fn a_task_s_state_and_ports_take_two_words() {
        assert_eq!(std::mem::size_of::<TaskState>(), 16);
        assert_eq!(std::mem::size_of::<Ports>(), 16);
        assert_eq!(std::mem::size_of::<Option<StatusIps>>(), 40);
    }

    #[test]
    fn ports_inline_and_boxed_read_alike() {
        for n in 0..6u16 {
            let v: Vec<u16> = (1..=n).collect();
            let p = Ports::from(v.clone());
            assert_eq!(p.as_slice(), v.as_slice());
            assert_eq!(p, Ports::from(v.clone()));
        }
        assert_ne!(Ports::from(vec![1]), Ports::from(vec![1, 0]));
        for n in 0..6u16 {
            let mut b = PortsBuilder::default();
            for p in 1..=n {
                b.push(p);
            }
            assert_eq!(b.finish(), Ports::from((1..=n).collect::<Vec<u16>>()));
        }
        assert_eq!(TaskState::new("TASK_RUNNING"), "TASK_RUNNING");
        assert_eq!(TaskState::new("odd").as_str(), "odd");
        assert_eq!(TaskState::default().as_str(), "");
    }
}
