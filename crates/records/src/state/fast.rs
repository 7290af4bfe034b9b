//! The fast reader: the state read straight from the text with [`Scan`],
//! each task into its [`TaskParts`] with no intermediate values, and
//! unread fields skipped without being decoded.
//!
//! It reads what the lenient reader ([`crate::lenient`], `raw.rs`) reads,
//! the same way: keys matched ASCII case-insensitively, the last of a
//! duplicate key winning, `null` as absent. It only reads well-typed
//! entities: a slave, framework or task with a field of another type (or
//! that is not an object) is read again by the lenient reader from its own
//! text, so what it becomes and what is logged about it are the lenient
//! reader's. Only when that fails too, or the body's top level is not what
//! the fast reader reads, does the whole body go to the lenient reader.

use super::raw::{PidText, RawFramework, RawSlave, RawState, RawTask, Tasks};
use super::scan::{Bail, Fast, Scan};
use super::task::{label_ip, DiscoveryParts, Running, TaskParts};
use super::{parse_ip, StatusIps};
use crate::lenient::{Json, Shape, Text};

/// Reads a state body, or `None` when the lenient reader must read all of
/// it. Also gives how many entities the lenient reader read.
pub(super) fn read_state(text: &str) -> Option<(RawState<'_>, usize)> {
    let mut s = Scan::new(text);
    let mut lenient = 0;
    let raw = state(&mut s, &mut lenient).ok()?;
    Some((raw, lenient))
}

/// Go's key matching ([`crate::fold`], as the lenient reader).
fn is(key: &str, name: &str) -> bool {
    crate::fold::fold_eq(key, name)
}

fn state<'a>(s: &mut Scan<'a>, lenient: &mut usize) -> Fast<RawState<'a>> {
    if s.peek() != Some(b'{') {
        return Err(Bail);
    }
    let mut raw = RawState::default();
    s.object(|s, key| {
        if is(key, "leader") {
            raw.leader = text(s)?;
        } else if is(key, "frameworks") {
            raw.frameworks = list(s, lenient, framework)?;
        } else if is(key, "slaves") {
            raw.slaves = list(s, lenient, |s, _| slave(s))?;
        } else {
            s.skip()?;
        }
        Ok(())
    })?;
    if s.at_end() {
        Ok(raw)
    } else {
        Err(Bail)
    }
}

/// A string or `null`.
fn text<'a>(s: &mut Scan<'a>) -> Fast<Json<Text<'a>>> {
    Ok(s.text()?.map_or(Json::Absent, Json::Value))
}

/// A string, or `""` for `null`.
fn text_or_empty<'a>(s: &mut Scan<'a>) -> Fast<Text<'a>> {
    Ok(s.text()?.unwrap_or_default())
}

/// A `pid`: `null` is an error (see [`PidText`]).
fn pid(s: &mut Scan<'_>) -> Fast<Json<PidText>> {
    Ok(match s.text()? {
        Some(p) => Json::Value(PidText(p.into_owned())),
        None => Json::Wrong("null"),
    })
}

/// An array (or `null`) of entities, each read by `fast` when it can be.
fn list<'a, T: Shape<'a>>(
    s: &mut Scan<'a>,
    lenient: &mut usize,
    mut fast: impl FnMut(&mut Scan<'a>, &mut usize) -> Fast<T>,
) -> Fast<Json<Vec<Json<T>>>> {
    if s.null()? {
        return Ok(Json::Absent);
    }
    let mut out = Vec::new();
    s.array(|s| {
        let start = s.start();
        if s.peek() == Some(b'{') {
            if let Ok(v) = fast(s, lenient) {
                out.push(Json::Value(v));
                return Ok(());
            }
        }
        out.push(read_lenient(s, start, lenient)?);
        Ok(())
    })?;
    Ok(Json::Value(out))
}

/// The value at `start`, read again by the lenient reader. It fails only
/// where the lenient reader fails the whole body.
fn read_lenient<'a, T: Shape<'a>>(
    s: &mut Scan<'a>,
    start: usize,
    lenient: &mut usize,
) -> Fast<Json<T>> {
    s.rewind(start);
    s.skip()?;
    *lenient += 1;
    serde_json::from_str(s.since(start)?).map_err(|_| Bail)
}

fn slave<'a>(s: &mut Scan<'a>) -> Fast<RawSlave<'a>> {
    let mut slave = RawSlave::default();
    s.object(|s, key| {
        if is(key, "id") {
            slave.id = text(s)?;
        } else if is(key, "pid") {
            slave.pid = pid(s)?;
        } else {
            s.skip()?;
        }
        Ok(())
    })?;
    Ok(slave)
}

fn framework<'a>(s: &mut Scan<'a>, lenient: &mut usize) -> Fast<RawFramework<'a>> {
    let mut fw = RawFramework::default();
    s.object(|s, key| {
        if is(key, "name") {
            fw.name = text(s)?;
        } else if is(key, "hostname") {
            fw.hostname = text(s)?;
        } else if is(key, "pid") {
            fw.pid = pid(s)?;
        } else if is(key, "tasks") {
            fw.tasks = if s.null()? {
                Json::Absent
            } else {
                Json::Value(tasks(s, lenient)?)
            };
        } else {
            s.skip()?;
        }
        Ok(())
    })?;
    Ok(fw)
}

fn tasks(s: &mut Scan<'_>, lenient: &mut usize) -> Fast<Tasks> {
    let mut out = Tasks::default();
    let mut j = 0;
    s.array(|s| {
        let start = s.start();
        let parts = match s.peek() {
            Some(b'{') => task(s).ok(),
            _ => None,
        };
        match parts {
            Some(parts) => out.push(j, parts),
            None => out.push_lenient(j, read_lenient::<RawTask<'_>>(s, start, lenient)?),
        }
        j += 1;
        Ok(())
    })?;
    Ok(out)
}

fn task<'a>(s: &mut Scan<'a>) -> Fast<TaskParts<'a>> {
    let mut t = TaskParts::default();
    s.object(|s, key| {
        if is(key, "id") {
            t.id = text_or_empty(s)?;
        } else if is(key, "name") {
            t.name = text_or_empty(s)?;
        } else if is(key, "slave_id") {
            t.slave_id = text_or_empty(s)?;
        } else if is(key, "state") {
            t.state = text_or_empty(s)?;
        } else if is(key, "resources") {
            t.ports = resources(s)?;
        } else if is(key, "statuses") {
            t.running = statuses(s)?;
        } else if is(key, "discovery") {
            t.discovery = discovery(s)?;
        } else {
            s.skip()?;
        }
        Ok(())
    })?;
    Ok(t)
}

/// `resources.ports`, or `""`.
fn resources<'a>(s: &mut Scan<'a>) -> Fast<Text<'a>> {
    let mut ports = Text::default();
    if s.null()? {
        return Ok(ports);
    }
    s.object(|s, key| {
        if is(key, "ports") {
            ports = text_or_empty(s)?;
        } else {
            s.skip()?;
        }
        Ok(())
    })?;
    Ok(ports)
}

/// The IPs of the latest running status, if any.
fn statuses(s: &mut Scan<'_>) -> Fast<Option<StatusIps>> {
    let mut running = Running::new();
    if s.null()? {
        return Ok(None);
    }
    s.array(|s| {
        if !s.null()? {
            status(s, &mut running)?;
        }
        Ok(())
    })?;
    Ok(running.into_ips())
}

fn status<'a>(s: &mut Scan<'a>, running: &mut Running) -> Fast<()> {
    let mut state: Option<Text<'a>> = None;
    let mut timestamp = None;
    let mut ips = StatusIps::default();
    s.object(|s, key| {
        if is(key, "state") {
            state = s.text()?;
        } else if is(key, "timestamp") {
            timestamp = s.f64()?;
        } else if is(key, "labels") {
            ips.mesos.clear();
            ips.docker.clear();
            labels(s, &mut ips)?;
        } else if is(key, "container_status") {
            ips.netinfo.clear();
            container_status(s, &mut ips)?;
        } else {
            s.skip()?;
        }
        Ok(())
    })?;
    running.offer(state.as_deref(), timestamp.unwrap_or(0.0), ips);
    Ok(())
}

/// `labels[]`: IP label values into `ips`.
fn labels(s: &mut Scan<'_>, ips: &mut StatusIps) -> Fast<()> {
    if s.null()? {
        return Ok(());
    }
    s.array(|s| {
        if s.null()? {
            return Ok(());
        }
        let (mut k, mut v) = (None, None);
        s.object(|s, key| {
            if is(key, "key") {
                k = s.text()?;
            } else if is(key, "value") {
                v = s.text()?;
            } else {
                s.skip()?;
            }
            Ok(())
        })?;
        if let (Some(k), Some(v)) = (k, v) {
            label_ip(ips, &k, &v);
        }
        Ok(())
    })
}

/// `container_status.network_infos[]`: addresses into `ips.netinfo`.
fn container_status(s: &mut Scan<'_>, ips: &mut StatusIps) -> Fast<()> {
    if s.null()? {
        return Ok(());
    }
    s.object(|s, key| {
        if is(key, "network_infos") {
            ips.netinfo.clear();
            if !s.null()? {
                s.array(|s| {
                    if s.null()? {
                        return Ok(());
                    }
                    network_info(s, ips)
                })?;
            }
        } else {
            s.skip()?;
        }
        Ok(())
    })
}

/// One NetworkInfo: `ip_addresses[].ip_address`, or the Mesos 0.25
/// `ip_address` only when `ip_addresses` is absent or empty.
fn network_info(s: &mut Scan<'_>, ips: &mut StatusIps) -> Fast<()> {
    let mark = ips.netinfo.len();
    let mut addresses = 0;
    let mut legacy = None;
    s.object(|s, key| {
        if is(key, "ip_addresses") {
            ips.netinfo.truncate(mark);
            addresses = 0;
            if !s.null()? {
                s.array(|s| {
                    addresses += 1;
                    if s.null()? {
                        return Ok(());
                    }
                    let mut ip = None;
                    s.object(|s, key| {
                        if is(key, "ip_address") {
                            ip = s.text()?;
                        } else {
                            s.skip()?;
                        }
                        Ok(())
                    })?;
                    if let Some(ip) = ip {
                        ips.netinfo.extend(parse_ip(&ip));
                    }
                    Ok(())
                })?;
            }
        } else if is(key, "ip_address") {
            legacy = s.text()?;
        } else {
            s.skip()?;
        }
        Ok(())
    })?;
    if addresses == 0 {
        if let Some(ip) = legacy {
            ips.netinfo.extend(parse_ip(&ip));
        }
    }
    Ok(())
}

fn discovery<'a>(s: &mut Scan<'a>) -> Fast<Option<DiscoveryParts<'a>>> {
    if s.null()? {
        return Ok(None);
    }
    let mut d = DiscoveryParts::default();
    s.object(|s, key| {
        if is(key, "name") {
            d.name = text_or_empty(s)?;
        } else if is(key, "ports") {
            d.ports.clear();
            if !s.null()? {
                s.object(|s, key| {
                    if is(key, "ports") {
                        d.ports.clear();
                        if !s.null()? {
                            s.array(|s| {
                                d.ports.push(discovery_port(s)?);
                                Ok(())
                            })?;
                        }
                    } else {
                        s.skip()?;
                    }
                    Ok(())
                })?;
            }
        } else {
            s.skip()?;
        }
        Ok(())
    })?;
    Ok(Some(d))
}

/// One `ports.ports[]`: number (0 when absent), protocol, name.
fn discovery_port<'a>(s: &mut Scan<'a>) -> Fast<(i64, Text<'a>, Text<'a>)> {
    let (mut number, mut protocol, mut name) = (None, Text::default(), Text::default());
    if !s.null()? {
        s.object(|s, key| {
            if is(key, "number") {
                number = s.i64()?;
            } else if is(key, "protocol") {
                protocol = text_or_empty(s)?;
            } else if is(key, "name") {
                name = text_or_empty(s)?;
            } else {
                s.skip()?;
            }
            Ok(())
        })?;
    }
    Ok((number.unwrap_or(0), protocol, name))
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
