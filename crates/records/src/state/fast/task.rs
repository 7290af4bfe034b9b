//! One task read by the fast reader into its [`TaskParts`]: the fields
//! records need, its ports, its latest running status and its discovery
//! info.

use super::super::task::{
    finish_task, label_ip, policy_label, push_ip, DiscoveryParts, IpLists, Running,
    TaskParts, TaskTexts,
};
use super::super::Task;
use super::{is, text_or_empty};
use super::{Fast, Scan};
use crate::lenient::Text;
use crate::skip::Skip;

pub(super) fn task<'a>(s: &mut Scan<'a>) -> Fast<TaskParts<'a>> {
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
        } else if is(key, "labels") {
            t.labels.clear();
            task_labels(s, &mut t.labels)?;
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
fn statuses(s: &mut Scan<'_>) -> Fast<Option<IpLists>> {
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
    let mut ips = IpLists::default();
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
        } else if is(key, "healthy") {
            ips.healthy = boolean(s)?;
        } else {
            s.skip()?;
        }
        Ok(())
    })?;
    running.offer(state.as_deref(), timestamp.unwrap_or(0.0), ips);
    Ok(())
}

/// `labels[]`: IP label values into `ips`.
fn labels(s: &mut Scan<'_>, ips: &mut IpLists) -> Fast<()> {
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

/// A boolean, or `None` for any other value (skipped): the extension
/// fields are never type-checked.
fn boolean(s: &mut Scan<'_>) -> Fast<Option<bool>> {
    let start = s.start();
    s.skip()?;
    Ok(match s.since(start)? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    })
}

/// A string, or `None` for any other value (skipped).
fn loose_text<'a>(s: &mut Scan<'a>) -> Fast<Option<Text<'a>>> {
    if s.peek() == Some(b'"') {
        s.text()
    } else {
        s.skip()?;
        Ok(None)
    }
}

/// Task `labels[]`: the policy labels into `out`. Not type-checked: what
/// is not an array of `{key, value}` strings is skipped, as the lenient
/// reader ignores it.
fn task_labels<'a>(s: &mut Scan<'a>, out: &mut Vec<(Text<'a>, Text<'a>)>) -> Fast<()> {
    if s.peek() != Some(b'[') {
        return s.skip();
    }
    s.array(|s| {
        if s.peek() != Some(b'{') {
            return s.skip();
        }
        let (mut k, mut v) = (None, None);
        s.object(|s, key| {
            if is(key, "key") {
                k = loose_text(s)?;
            } else if is(key, "value") {
                v = loose_text(s)?;
            } else {
                s.skip()?;
            }
            Ok(())
        })?;
        if let (Some(k), Some(v)) = (k, v) {
            policy_label(out, k, v);
        }
        Ok(())
    })
}

/// `container_status.network_infos[]`: addresses into `ips.netinfo`.
fn container_status(s: &mut Scan<'_>, ips: &mut IpLists) -> Fast<()> {
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
fn network_info(s: &mut Scan<'_>, ips: &mut IpLists) -> Fast<()> {
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
                        push_ip(&mut ips.netinfo, &ip);
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
            push_ip(&mut ips.netinfo, &ip);
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

/// A task's fields as JSON texts, each as a `/master/state` task holds
/// it: for a reader of another form of the same task (the event source's
/// v1 tasks), which then needs no `/master/state` text in between.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskFields<'a> {
    /// `id`, unescaped.
    pub id: &'a str,
    /// `slave_id`, unescaped.
    pub slave_id: &'a str,
    /// `name`.
    pub name: Option<&'a str>,
    /// `state`.
    pub state: Option<&'a str>,
    /// `discovery`.
    pub discovery: Option<&'a str>,
    /// `labels`.
    pub labels: Option<&'a str>,
    /// `resources.ports`, unescaped (Mesos' range text).
    pub ports: Option<&'a str>,
}

/// A task status's fields as JSON texts (see [`TaskFields`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StatusFields<'a> {
    /// `state`.
    pub state: Option<&'a str>,
    /// `timestamp`.
    pub timestamp: Option<&'a str>,
    /// `healthy`.
    pub healthy: Option<&'a str>,
    /// `container_status`.
    pub container_status: Option<&'a str>,
    /// `labels`.
    pub labels: Option<&'a str>,
}

/// The task the state reader reads from a task object holding exactly
/// `fields` and `statuses` (`None`: not an object), each key once, and
/// what it leaves out of it. [`Bail`](super::super::scan::Bail) where the
/// fast reader hands the object to the lenient reader: the caller then
/// reads that object with [`State::parse`](super::super::State::parse).
/// The task's name and slave id are shared through `texts` with the tasks
/// read with it.
pub fn task_from_fields(
    fields: &TaskFields<'_>,
    statuses: &[Option<StatusFields<'_>>],
    texts: &mut TaskTexts,
) -> Fast<(Task, Vec<Skip>)> {
    let mut t = TaskParts {
        id: Text::Borrowed(fields.id),
        slave_id: Text::Borrowed(fields.slave_id),
        ports: Text::Borrowed(fields.ports.unwrap_or_default()),
        ..TaskParts::default()
    };
    if let Some(name) = fields.name {
        t.name = text_or_empty(&mut Scan::new(name))?;
    }
    if let Some(state) = fields.state {
        t.state = text_or_empty(&mut Scan::new(state))?;
    }
    if let Some(d) = fields.discovery {
        t.discovery = discovery(&mut Scan::new(d))?;
    }
    if let Some(labels) = fields.labels {
        task_labels(&mut Scan::new(labels), &mut t.labels)?;
    }
    let mut running = Running::new();
    for s in statuses.iter().flatten() {
        let mut state = None;
        let mut ips = IpLists::default();
        if let Some(text) = s.state {
            state = Scan::new(text).text()?;
        }
        let timestamp = match s.timestamp {
            Some(text) => Scan::new(text).f64()?,
            None => None,
        };
        if let Some(text) = s.labels {
            labels(&mut Scan::new(text), &mut ips)?;
        }
        if let Some(text) = s.container_status {
            container_status(&mut Scan::new(text), &mut ips)?;
        }
        if let Some(text) = s.healthy {
            ips.healthy = boolean(&mut Scan::new(text))?;
        }
        running.offer(state.as_deref(), timestamp.unwrap_or(0.0), ips);
    }
    t.running = running.into_ips();
    let mut skips = Vec::new();
    let task = finish_task(t, texts, &mut skips);
    for s in &skips {
        log::debug!("state: skipping {}: {}", s.reason, s.detail);
    }
    Ok((task, skips))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;

    /// The task and skips `State::parse` reads from the object holding
    /// `fields` and `statuses`.
    fn parsed(
        f: &TaskFields<'_>,
        statuses: &[Option<StatusFields<'_>>],
    ) -> (Task, Vec<Skip>) {
        let quoted = |s: &str| serde_json::to_string(s).unwrap();
        let mut o = format!(
            "{{\"id\":{},\"slave_id\":{}",
            quoted(f.id),
            quoted(f.slave_id)
        );
        for (key, v) in [
            ("name", f.name),
            ("state", f.state),
            ("discovery", f.discovery),
            ("labels", f.labels),
        ] {
            if let Some(v) = v {
                o.push_str(&format!(",\"{key}\":{v}"));
            }
        }
        if let Some(p) = f.ports {
            o.push_str(&format!(",\"resources\":{{\"ports\":{}}}", quoted(p)));
        }
        let statuses: Vec<String> = statuses
            .iter()
            .map(|s| {
                let s = s.unwrap_or_default();
                let parts: Vec<String> = [
                    ("state", s.state),
                    ("timestamp", s.timestamp),
                    ("healthy", s.healthy),
                    ("container_status", s.container_status),
                    ("labels", s.labels),
                ]
                .iter()
                .filter_map(|(k, v)| v.map(|v| format!("\"{k}\":{v}")))
                .collect();
                format!("{{{}}}", parts.join(","))
            })
            .collect();
        o.push_str(&format!(",\"statuses\":[{}]}}", statuses.join(",")));
        let body =
            format!(r#"{{"leader":"m@1.2.3.4:1","frameworks":[{{"tasks":[{o}]}}]}}"#);
        let s = State::parse(body.as_bytes()).unwrap();
        (s.frameworks[0].tasks[0].clone(), s.skips)
    }

    // Read from the fields, a task is what the state reader reads from its
    // object; where the fast reader would hand the object over, it bails.
    #[test]
    fn fields_read_as_the_object_is_read() {
        let running = StatusFields {
            state: Some(r#""TASK_RUNNING""#),
            timestamp: Some("2.5"),
            healthy: Some("true"),
            container_status: Some(
                r#"{"network_infos":[{"ip_addresses":[{"ip_address":"10.0.0.1"},{"ip_address":"junk"}]}]}"#,
            ),
            labels: Some(
                r#"[{"key":"Docker.NetworkSettings.IPAddress","value":"1.2.3.4"}]"#,
            ),
        };
        let usual = TaskFields {
            id: "t\"1",
            slave_id: "S1",
            name: Some(r#""web""#),
            state: Some(r#""TASK_RUNNING""#),
            discovery: Some(
                r#"{"name":"d","ports":{"ports":[{"number":80,"protocol":"tcp"},{"number":70000}]}}"#,
            ),
            labels: Some(r#"[{"key":"DNS_TTL","value":"5"},{"key":"x","value":"y"},7]"#),
            ports: Some("[1-2, 65535-70000]"),
        };
        let earlier = StatusFields {
            timestamp: Some("1"),
            ..running
        };
        let statuses = [
            Some(earlier),
            None,
            Some(running),
            Some(StatusFields::default()),
        ];
        let (task, skips) =
            task_from_fields(&usual, &statuses, &mut TaskTexts::default()).unwrap();
        assert_eq!((task.clone(), skips.clone()), parsed(&usual, &statuses));
        assert_eq!(task.ports, [1, 2, 65535]);
        assert_eq!(skips.len(), 2, "{skips:?}");
        let nulls = TaskFields {
            name: Some("null"),
            state: Some("null"),
            discovery: Some("null"),
            labels: Some("null"),
            ports: None,
            ..usual
        };
        let (task, skips) =
            task_from_fields(&nulls, &[], &mut TaskTexts::default()).unwrap();
        assert_eq!((task, skips), parsed(&nulls, &[]));
        for odd in [
            TaskFields {
                name: Some("5"),
                ..usual
            },
            TaskFields {
                discovery: Some(r#"{"name":7}"#),
                ..usual
            },
        ] {
            assert_eq!(
                task_from_fields(&odd, &[], &mut TaskTexts::default()).map(drop),
                Err(super::super::Bail)
            );
        }
        let odd_status = StatusFields {
            timestamp: Some(r#""1""#),
            ..running
        };
        assert!(
            task_from_fields(&usual, &[Some(odd_status)], &mut TaskTexts::default())
                .is_err()
        );
    }
}
