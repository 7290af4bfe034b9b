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

mod task;
pub use task::{task_from_fields, StatusFields, TaskFields};

use super::raw::{PidText, RawFramework, RawSlave, RawState, RawTask, Tasks};
use super::scan::{Bail, Fast, Scan};
use crate::lenient::{Json, Shape, Text};

/// Reads a state body, or `None` when the lenient reader must read all of
/// it. Also gives how many entities the lenient reader read.
pub(super) fn read_state(text: &str) -> Option<(RawState<'_>, usize)> {
    let mut s = Scan::new(text);
    let mut lenient = 0;
    let raw = state(&mut s, &mut lenient).ok()?;
    Some((raw, lenient))
}

/// Go's key matching ([`crate::fold`], as the lenient reader). Each key
/// of a task is tried against up to a dozen field names, so the usual
/// outcomes come first: the key spelled as the field, or a first octet
/// that differs in any case (`| 0x20` lowercases an ASCII letter and can
/// only join octets that `eq_ignore_ascii_case` joins, so it never rules
/// out a match). Longer keys can still match through `ſ` and `K`.
#[inline]
fn is(key: &str, name: &str) -> bool {
    let (k, n) = (key.as_bytes(), name.as_bytes());
    if k.len() == n.len() {
        let first = |b: &[u8]| b.first().map(|c| c | 0x20);
        return k == n || (first(k) == first(n) && k.eq_ignore_ascii_case(n));
    }
    k.len() > n.len() && crate::fold::fold_eq(key, name)
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
            Some(b'{') => task::task(s).ok(),
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

#[cfg(test)]
// The fast reader against the lenient one: the same state, or the same
// error, for odd input of every kind.
mod tests {
    use super::*;
    use crate::state::State;

    /// Parses with the fast reader (falling back as `State::parse` does) and
    /// with the lenient one alone: they must agree, state or error message.
    fn agree(body: &[u8]) -> Result<State, String> {
        let fast = State::parse(body).map_err(|e| e.to_string());
        let lenient = State::parse_lenient(body).map_err(|e| e.to_string());
        assert_eq!(fast, lenient, "body {:?}", String::from_utf8_lossy(body));
        fast
    }

    #[test]
    fn key_matching_is_go_s() {
        let keys = [
            "id",
            "ID",
            "Id",
            "iD",
            "name",
            "NAME",
            "nAme",
            "mame",
            "\u{17f}tate",
            "\u{17f}TATE",
            "state",
            "State",
            "slave_id",
            "statuses",
            "SLAVE_ID",
            "slave_iD",
            "\u{212a}ey",
            "key",
            "KEY",
            "kEy",
            "@ey",
            "`ey",
            "",
            "i",
            "labels",
            "Labels",
            "lab\u{17f}",
            "_d",
            "\u{7f}d",
            "id\u{301}",
            "ports",
        ];
        let names = [
            "id", "name", "state", "slave_id", "statuses", "key", "labels",
        ];
        for k in keys {
            for n in names {
                assert_eq!(is(k, n), crate::fold::fold_eq(k, n), "{k:?} {n:?}");
            }
        }
    }

    /// How many entities the fast reader hands to the lenient one; `None`
    /// when it hands over the whole body.
    fn handed(body: &str) -> Option<usize> {
        read_state(body).map(|(_, n)| n)
    }

    fn with_task(task: &str) -> String {
        format!(
            r#"{{"leader":"m@1.2.3.4:1","slaves":[{{"id":"s","pid":"slave(1)@1.2.3.5:5051"}}],
            "frameworks":[{{"name":"f","tasks":[{{"id":"before"}},{task},{{"id":"after"}}]}}]}}"#
        )
    }

    /// Odd but well-typed tasks: read fast, nothing handed over.
    const FAST_TASKS: &[&str] = &[
        "{}",
        r#"{"id":null,"name":null,"slave_id":null,"state":null,"resources":null,"statuses":null,"discovery":null}"#,
        r#"{"resources":{"ports":null},"statuses":[null,{"state":null,"timestamp":null,"labels":null,"container_status":null},
            {"state":"TASK_RUNNING","labels":[null,{"key":null,"value":"1.2.3.4"},{"key":"Docker.NetworkSettings.IPAddress"}],"container_status":{"network_infos":null}},
            {"container_status":{"network_infos":[null,{"ip_addresses":null,"ip_address":null},{"ip_addresses":[null]},{"ip_addresses":[{"ip_address":null}]}]}}],
            "discovery":{"name":null,"ports":null}}"#,
        r#"{"id":"t\u0031","name":"a\/b\"c\\d","state":"TASK_\u0052UNNING","slave_id":"\ud83d\ude00","statuses":[{"state":"TASK_\u0052UNNING",
            "labels":[{"key":"Docker.NetworkSettings.IP\u0041ddress","value":"1.2.3.\u0034"}]}],"resources":{"ports":"[1\u002d2]"}}"#,
        r#"{"\u0069d":"x","na\u006de":"y","st\u0061tuses":[{"st\u0061te":"TASK_RUNNING","\u0074imestamp":3}]}"#,
        r#"{"id":"a","id":"b","name":"n","name":null,
            "statuses":[{"state":"TASK_RUNNING","timestamp":5,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"1.1.1.1"}]}],
            "statuses":[{"state":"TASK_RUNNING","timestamp":1,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"2.2.2.2","value":"3.3.3.3"}],
            "labels":[{"key":"MesosContainerizer.NetworkSettings.IPAddress","value":"4.4.4.4"},{"value":"9.9.9.9","key":"x","key":"MesosContainerizer.NetworkSettings.IPAddress"}]}]}"#,
        r#"{"statuses":[{"state":"TASK_RUNNING","state":"TASK_KILLED","labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"1.1.1.1"}]},
            {"state":"TASK_KILLED","state":"TASK_RUNNING","timestamp":0,"timestamp":2,"container_status":{"network_infos":[{"ip_address":"2.2.2.2"}]}}]}"#,
        r#"{"statuses":[{"state":"TASK_RUNNING","container_status":{"network_infos":[
            {"ip_addresses":[{"ip_address":"1.1.1.1"}],"ip_addresses":[],"ip_address":"2.2.2.2"}],
            "network_infos":[{"ip_addresses":[{"ip_address":"3.3.3.3"}],"ip_address":"9.9.9.9"},
            {"ip_addresses":[{"ip_address":"4.4.4.4"},{"ip_address":"junk"}],"ip_addresses":[{"ip_address":"5.5.5.5","ip_address":"fd00::5"}]},
            {"ip_address":"6.6.6.6","ip_addresses":[{"ip_address":"7.7.7.7"}],"ip_addresses":null}]}}]}"#,
        r#"{"statuses":[{"state":"TASK_RUNNING","container_status":{"network_infos":[{"ip_address":"1.1.1.1"}]},"container_status":null}]}"#,
        r#"{"statuses":[{"state":"TASK_RUNNING","labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"1.1.1.1"}],"labels":[]}]}"#,
        r#"{"id":"d","discovery":{"name":"x","ports":{"ports":[{"number":1,"number":null,"protocol":"tcp"},null,{"number":70000}],
            "ports":[{"number":2,"name":"a","name":"b"},null,{"number":9223372036854775807}]},"name":"y","visibility":{"odd":[1]}}}"#,
        r#"{"discovery":{"name":"x","ports":{"ports":[{"number":1}]},"ports":null}}"#,
        r#"{"discovery":{"name":"x","ports":{"ports":[{"number":1}],"ports":null}}}"#,
        r#"{"discovery":{"name":"x"},"discovery":null}"#,
        r#"{"discovery":{"name":"","ports":{"ports":[{"number":70000}]}}}"#,
        r#"{"ID":"x","Statuses":[{"STATE":"TASK_RUNNING","Timestamp":2,"Container_Status":{"Network_Infos":[{"IP_Addresses":[{"IP_ADDRESS":"1.2.3.4"}]}]}}],
            "Resources":{"PORTS":"[1-2]"},"DISCOVERY":{"NAME":"n","PORTS":{"Ports":[{"NUMBER":3,"Protocol":"udp"}]}}}"#,
        r#"{"x":[1,{"a":[true,false,null,-1.5e-3,"s\u00e9\ud800",1e400,123456789012345678901234567890]}],"labels":{"odd":1},
            "statuses":[{"x":{"y":[[]]},"state":"TASK_RUNNING","timestamp":1.5,"healthy":true}],"resources":{"cpus":0.5,"ports":"[5-6]","disk":{}}}"#,
        r#"{"statuses":[{"state":"TASK_RUNNING","timestamp":-0.0,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"1.1.1.1"}]},
            {"state":"TASK_RUNNING","timestamp":-1,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"2.2.2.2"}]},
            {"state":"TASK_RUNNING","timestamp":1e-300,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"3.3.3.3"}]},
            {"state":"TASK_RUNNING","timestamp":1605000200.1234567,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"4.4.4.4"}]},
            {"state":"TASK_RUNNING","timestamp":1605000200.12345671,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"5.5.5.5"}]},
            {"state":"TASK_RUNNING","timestamp":18446744073709551616,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"6.6.6.6"}]},
            {"state":"TASK_RUNNING","timestamp":1.8446744073709552e19,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"7.7.7.7"}]}]}"#,
        "{ \"id\" :\t\"w\" ,\r\n \"statuses\" : [ { \"state\" : \"TASK_RUNNING\" , \"timestamp\" : 1 } ] }",
        r#"{"id":"p","resources":{"ports":"[1-2, x-3, 70000-70001, 9]"}}"#,
        r#"{"labels":[5,null,{"key":"DNS_TTL","value":"7"},{"key":"DNS_X","value":1},{"key":"DNS_Y","key":2,"value":"v"},{"key":"other","value":"o"},[]],
            "statuses":[{"state":"TASK_RUNNING","healthy":false,"healthy":"yes"},{"state":"TASK_RUNNING","timestamp":2,"healthy":false}]}"#,
        r#"{"labels":[{"key":"DNS_EXCLUDE","value":"true"}],"labels":"x","statuses":[{"state":"TASK_RUNNING","healthy":null}]}"#,
        r#"{"Labels":[{"Key":"DNS_EXCLUDE","VALUE":"true"}],"statuses":[{"state":"TASK_RUNNING","Healthy":true,"healthy":1}]}"#,
    ];

    /// Tasks with a field of the wrong type (or not objects): handed to the
    /// lenient reader, which skips them (or, with a duplicate key, not).
    const ODD_TASKS: &[&str] = &[
        "42",
        r#""x""#,
        "[]",
        "true",
        "null",
        "1.5",
        "-0",
        r#"{"id":5}"#,
        r#"{"name":[]}"#,
        r#"{"slave_id":{}}"#,
        r#"{"state":false}"#,
        r#"{"resources":"x"}"#,
        r#"{"resources":{"ports":[1]}}"#,
        r#"{"statuses":{}}"#,
        r#"{"statuses":[5]}"#,
        r#"{"statuses":[{"state":1}]}"#,
        r#"{"statuses":[{"timestamp":"1"}]}"#,
        r#"{"statuses":[{"timestamp":true}]}"#,
        r#"{"statuses":[{"labels":{}}]}"#,
        r#"{"statuses":[{"labels":[1]}]}"#,
        r#"{"statuses":[{"labels":[{"key":1}]}]}"#,
        r#"{"statuses":[{"labels":[{"value":[]}]}]}"#,
        r#"{"statuses":[{"container_status":[]}]}"#,
        r#"{"statuses":[{"container_status":{"network_infos":1}}]}"#,
        r#"{"statuses":[{"container_status":{"network_infos":[1]}}]}"#,
        r#"{"statuses":[{"container_status":{"network_infos":[{"ip_addresses":{}}]}}]}"#,
        r#"{"statuses":[{"container_status":{"network_infos":[{"ip_addresses":[1]}]}}]}"#,
        r#"{"statuses":[{"container_status":{"network_infos":[{"ip_addresses":[{"ip_address":1}]}]}}]}"#,
        r#"{"statuses":[{"container_status":{"network_infos":[{"ip_address":1}]}}]}"#,
        r#"{"discovery":1}"#,
        r#"{"discovery":{"name":1}}"#,
        r#"{"discovery":{"ports":[]}}"#,
        r#"{"discovery":{"ports":{"ports":{}}}}"#,
        r#"{"discovery":{"ports":{"ports":[1]}}}"#,
        r#"{"discovery":{"name":"d","ports":{"ports":[{"number":"80"}]}}}"#,
        r#"{"discovery":{"name":"d","ports":{"ports":[{"number":1.5}]}}}"#,
        r#"{"discovery":{"name":"d","ports":{"ports":[{"number":80.0}]}}}"#,
        r#"{"discovery":{"name":"d","ports":{"ports":[{"number":-1}]}}}"#,
        r#"{"discovery":{"name":"d","ports":{"ports":[{"number":-0}]}}}"#,
        r#"{"discovery":{"name":"d","ports":{"ports":[{"number":9223372036854775808}]}}}"#,
        r#"{"discovery":{"name":"d","ports":{"ports":[{"number":1e2}]}}}"#,
        r#"{"discovery":{"name":"d","ports":{"ports":[{"protocol":1}]}}}"#,
        r#"{"id":5,"id":"x"}"#,
        r#"{"id":"x","id":5}"#,
        r#"{"statuses":[1],"statuses":null}"#,
        r#"{"id":"neg","statuses":[{"state":"TASK_RUNNING","timestamp":-1e2}],"discovery":{"name":"n","ports":{"ports":[{"number":-5}]}}}"#,
    ];

    /// Bodies the lenient reader fails whole (or reads, for contrast).
    const WHOLE_BODIES: &[&str] = &[
        r#"{"id":"\ud800"}"#,
        r#"{"statuses":[{"timestamp":1e400}]}"#,
        r#"{"id":1e400}"#,
        r#"{"x":1e400,"id":"ok"}"#,
        r#"{"x":"\ud800","id":"ok"}"#,
        r#"{"discovery":{"name":"d","ports":{"ports":[{"number":1e400}]}}}"#,
        r#"{"discovery":{"name":"d","ports":{"ports":[{"number":-1e400}]}}}"#,
        "{\"id\":\"a\u{1}\"}",
        r#"{"id":"a",}"#,
        r#"{"id" "a"}"#,
    ];

    #[test]
    fn well_typed_odd_tasks_are_read_fast_the_same() {
        for task in FAST_TASKS {
            let body = with_task(task);
            assert_eq!(handed(&body), Some(0), "{task}");
            agree(body.as_bytes()).unwrap_or_else(|e| panic!("{task}: {e}"));
        }
    }

    #[test]
    fn mistyped_tasks_are_handed_over_the_same() {
        for task in ODD_TASKS {
            let body = with_task(task);
            assert_eq!(handed(&body), Some(1), "{task}");
            let state = agree(body.as_bytes()).unwrap_or_else(|e| panic!("{task}: {e}"));
            // The tasks around it are read fast.
            let tasks = &state.frameworks[0].tasks;
            assert_eq!(tasks.first().map(|t| &*t.id), Some("before"));
            assert_eq!(tasks.last().map(|t| &*t.id), Some("after"));
        }
    }

    #[test]
    fn errors_and_lenient_only_values_agree() {
        for task in WHOLE_BODIES {
            agree(with_task(task).as_bytes()).ok();
        }
    }

    #[test]
    fn frameworks_slaves_and_top_level_agree() {
        let fw = |f: &str| {
            format!(r#"{{"leader":"m@1.2.3.4:1","frameworks":[{{"name":"ok"}},{f}]}}"#)
        };
        let slave = |s: &str| {
            format!(
                r#"{{"leader":"m@1.2.3.4:1","slaves":[{s},{{"id":"ok","pid":"a@1.1.1.1:1"}}]}}"#
            )
        };
        let mut bodies = Vec::new();
        for f in [
            "5",
            "null",
            r#""x""#,
            r#"{"name":5}"#,
            r#"{"hostname":[]}"#,
            r#"{"pid":null}"#,
            r#"{"pid":5}"#,
            r#"{"pid":"bad"}"#,
            r#"{"pid":" \"\u0073@1.2.3.4:5\" "}"#,
            r#"{"tasks":{}}"#,
            r#"{"tasks":"x"}"#,
            r#"{"tasks":null,"name":"n","hostname":"h"}"#,
            r#"{"tasks":[{"id":1}],"name":5}"#,
            r#"{"name":"a","NAME":"b","pid":"x@[::1]:5","pid":"y@1.1.1.1:2"}"#,
        ] {
            bodies.push(fw(f));
        }
        for s in [
            "5",
            "null",
            "[]",
            r#"{"id":5,"pid":"a@1.1.1.1:1"}"#,
            r#"{"id":"x","pid":null}"#,
            r#"{"id":"x","pid":5}"#,
            r#"{"id":"x"}"#,
            r#"{"id":"x","pid":"nope"}"#,
            r#"{"ID":"x","Pid":"a@1.1.1.1:1","hostname":7,"resources":{"ports":[1]}}"#,
        ] {
            bodies.push(slave(s));
        }
        for top in [
            "",
            " ",
            "null",
            "[]",
            r#""x""#,
            "{}",
            r#"{"leader":5}"#,
            r#"{"leader":null}"#,
            r#"{"leader":""}"#,
            r#"{"leader":"a","leader":null}"#,
            r#"{"leader":null,"leader":"a"}"#,
            r#"{"leader":"m","frameworks":{}}"#,
            r#"{"leader":"m","frameworks":null,"slaves":null}"#,
            r#"{"leader":"m","slaves":5}"#,
            r#"{"leader":"m"} {}"#,
            r#"{"leader":"m"}x"#,
            "\u{feff}{\"leader\":\"m\"}",
            " \n{\"leader\":\"m\"}\n ",
            r#"{"leader":"m\u0040x"}"#,
            r#"{"leader":"m","frameworks":[],"frameworks":[{"name":"second"}]}"#,
            r#"{"leader":"m","slaves":[{"id":"a","pid":"a@1.1.1.1:1"}],"slaves":[]}"#,
            r#"{"frameworks":[{"name":"before leader"}],"leader":"m"}"#,
        ] {
            bodies.push(top.to_owned());
        }
        for body in &bodies {
            agree(body.as_bytes()).ok();
        }
        let nested = format!(
            r#"{{"leader":"m","x":{}1{}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        assert_eq!(handed(&nested), None);
        assert!(agree(nested.as_bytes()).is_ok());
    }

    #[test]
    fn invalid_utf8_goes_to_the_lenient_reader() {
        for (before, after) in [
            (r#"{"leader":"m","x":"a"#, r#"b"}"#),
            (r#"{"leader":"m","frameworks":[{"name":"a"#, r#"b"}]}"#),
            (r#"{"leader":"m","fr"#, r#"ameworks":[]}"#),
            (r#"{"leader":"m"}"#, ""),
        ] {
            let mut body = before.as_bytes().to_vec();
            body.push(0xff);
            body.extend_from_slice(after.as_bytes());
            agree(&body).ok();
        }
    }

    /// A body with a bit of everything (`fast` and `odd` tasks from the lists
    /// above), for the exhaustive checks below.
    fn rich_body(fast: usize, odd: usize) -> String {
        let mut tasks: Vec<&str> = FAST_TASKS[..fast].to_vec();
        tasks.extend_from_slice(&ODD_TASKS[..odd]);
        format!(
            r#"{{"leader":"m@1.2.3.4:5050","slaves":[{{"id":"s","pid":"slave(1)@1.2.3.5:5051","x":[1,2.5,true]}},5],
            "frameworks":[{{"name":"f","pid":"s@1.2.3.4:1","tasks":[{}]}},{{"name":5}}]}}"#,
            tasks.join(",")
        )
    }

    #[test]
    fn every_prefix_agrees() {
        let body = rich_body(FAST_TASKS.len(), 12);
        for end in 0..body.len() {
            if let Some(prefix) = body.get(..end) {
                agree(prefix.as_bytes()).ok();
            }
        }
        assert!(agree(body.as_bytes()).is_ok());
    }

    #[test]
    fn every_one_byte_change_agrees() {
        let body = rich_body(8, 9).into_bytes();
        for i in 0..body.len() {
            for b in [b'"', b'}', b',', b'1', b'n', b'\\', 0x01] {
                let mut changed = body.clone();
                changed[i] = b;
                agree(&changed).ok();
            }
        }
    }

    #[test]
    fn fixtures_agree() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/state");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let body = std::fs::read(&path).unwrap();
                agree(&body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                n += 1;
            }
        }
        assert!(n >= 4);
    }
}
