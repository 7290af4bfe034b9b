//! `GET /v1/explain/{name}` (ours, issue 22): why a name has the values it
//! has.
//!
//! The body is JSON: the name, the serial served, the record set held back
//! if the hold-down holds one (`held_down`), then per type (`A`, `AAAA`,
//! `SRV`) each value served with the tasks that gave it (id, name,
//! framework, agent, state, `healthy`, the IP source of the address); the
//! tasks that share the name but were left out, each with its reason (not
//! running, unknown agent, excluded by label, unhealthy); and the last
//! changes of the name (time, serial, what changed, why), from
//! [`crate::guard`]. A value no task gave (framework, agent, master and
//! nameserver records) has an empty task list.
//!
//! The explain data is kept while `HealthFilter` or `TaskLabelPolicy` is on
//! (with `EnumerationOn`); otherwise the values are listed with no task. A name outside the domain, or one
//! with no value, no task and no history, is `404` with a message.

use serde_json::{json, Map, Value};

use mesos_records::TaskPart;

use super::endpoint::lookup_key;
use super::ApiContext;
use crate::table::Table;

/// The status and body for `name` under `domain` (no trailing dot).
pub fn explain(
    ctx: &ApiContext,
    table: &Table,
    domain: &str,
    name: &str,
) -> (u16, String) {
    let key = lookup_key(name);
    let apex = format!("{}.", domain.trim_end_matches('.'));
    if key != apex && !key.ends_with(&format!(".{apex}")) {
        return not_found(&format!("{key} is not in the domain {apex}"));
    }
    let records = table.records();
    let explained = records
        .explain_data()
        .and_then(|e| e.explain(records, &key));
    let history = ctx.guard.history(&key);
    let mut values: Vec<(&str, String, Vec<String>)> = Vec::new();
    let mut tasks: Vec<TaskPart> = Vec::new();
    match explained {
        Some(e) => {
            values = e.values;
            tasks = e.tasks;
        }
        None => {
            for ip in records.a(&key).into_iter().flatten() {
                values.push(("A", ip.to_string(), Vec::new()));
            }
            for ip in records.aaaa(&key).into_iter().flatten() {
                values.push(("AAAA", ip.to_string(), Vec::new()));
            }
            for s in records.srv(&key).into_iter().flatten() {
                values.push(("SRV", format!("{}:{}", s.target, s.port), Vec::new()));
            }
        }
    }
    if values.is_empty() && tasks.is_empty() && history.is_empty() {
        return not_found(&format!("{key} has no records and no task makes it"));
    }
    let mut out = Map::new();
    out.insert("name".into(), json!(key));
    out.insert("serial".into(), json!(table.serial()));
    out.insert(
        "held_down".into(),
        match ctx.guard.held() {
            Some(h) => json!({"since": h.since, "served": h.served, "held": h.held}),
            None => Value::Null,
        },
    );
    for rtype in ["A", "AAAA", "SRV"] {
        let list: Vec<Value> = values
            .iter()
            .filter(|(t, _, _)| *t == rtype)
            .map(|(_, v, ids)| {
                let given: Vec<Value> = ids
                    .iter()
                    .filter_map(|id| tasks.iter().find(|t| &t.id == id))
                    .map(task_json)
                    .collect();
                json!({"value": v, "tasks": given})
            })
            .collect();
        out.insert(rtype.into(), Value::Array(list));
    }
    let left_out: Vec<Value> = tasks
        .iter()
        .filter_map(|t| {
            let reason = t.left_out.as_ref()?;
            Some(json!({"task": task_json(t), "reason": reason}))
        })
        .collect();
    out.insert("left_out".into(), Value::Array(left_out));
    let changes: Vec<Value> = history
        .iter()
        .rev()
        .map(
            |c| json!({"time": c.time, "serial": c.serial, "what": c.what, "why": c.why}),
        )
        .collect();
    out.insert("changes".into(), Value::Array(changes));
    let body = serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_default();
    (200, body)
}

fn task_json(t: &TaskPart) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "framework": t.framework,
        "agent": t.agent,
        "state": t.state,
        "healthy": t.healthy,
        "ip_source": t.ip_source,
        "ttl": t.ttl,
        "values": t.values,
    })
}

fn not_found(message: &str) -> (u16, String) {
    (404, json!({ "error": message }).to_string())
}
