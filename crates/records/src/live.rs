//! The live record store: records kept per producer, changed by deltas.
//!
//! Records are a function of their producers: each framework, slave and
//! task, the listener and the masters. The store keeps every producer's
//! contribution (its records in insertion order; for a task, the task
//! itself, its records made again from it and what else they depend on
//! whenever they are needed) and, per name, each value with the number of
//! producers that give it. A producer added, changed or removed changes
//! only its own records; a value enters the [`Delta`] only when its count
//! goes from 0 to 1 (added) or 1 to 0 (removed), so the many instances of
//! `app.marathon.mesos` share one name without being regenerated.
//!
//! The rules are those of [`generate()`](crate::generate()), called one
//! producer at a time; what depends on what:
//!
//! | change | regenerates |
//! |---|---|
//! | a task | that task |
//! | the slave list | every slave record; the tasks of slaves whose IPs or tail changed; the masters |
//! | the framework list | every framework record; the tasks of frameworks whose name changed; the masters |
//! | leader or master list | the masters |
//!
//! (The master walk asks whether an earlier producer already gave
//! `master.D.` an address, so it follows framework and slave changes.)
//!
//! The store hands out [`LiveView`]s: immutable snapshots, made in O(1)
//! (persistent maps), that answer [`Lookup`] and build the whole
//! [`RecordSet`] on demand, enumeration included, equal to what
//! [`generate()`](crate::generate()) gives for the same state (the
//! property test `tests/live.rs` holds them to it).
//!
//! Frameworks are known by a key the caller gives (the framework id for
//! events; for a polled state, which has none, the name and its
//! occurrence), tasks by their framework's key and a task key, and keep
//! an order key: the enumeration lists frameworks in list order and each
//! framework's tasks in order-key order.

mod collect;
mod fill;
mod inputs;
mod name_vals;
mod packed;
mod poll;
mod values;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use collect::Collect;
use inputs::Inputs;
use values::{Rec, Text, Touched, Val, Values};

use crate::builder::RecordSetBuilder;
use crate::delta::{Delta, Lookup, View};
use crate::generate::{
    framework_records, listener_record, slave_records, GenConfig, Resolving,
};
use crate::label::LabelSpec;
use crate::leader_records::master_records;
use crate::record::RecordSet;
use crate::skip::Skip;
use crate::state::{Framework, Slave, Task};
use crate::store::Store;
use crate::task_records::{FwSuffixes, Slaves};

/// Room between two order keys given in sequence.
const ORDER_STEP: u64 = 1 << 20;

/// A framework as the store knows it.
#[derive(Clone, Debug)]
struct FwHead {
    key: Text,
    name: String,
}

/// The producers that are lists replaced whole: frameworks, slaves, the
/// listener and the masters, with their records and skips.
#[derive(Clone, Debug, Default)]
struct Head {
    frameworks: Vec<FwHead>,
    framework_recs: Vec<Rec>,
    slave_recs: Vec<Rec>,
    listener_recs: Vec<Rec>,
    master_recs: Vec<Rec>,
    /// State reading, framework, slave, listener and master skips.
    skips: [Vec<Skip>; 5],
}

/// One task: its input (its records are made again from it when needed,
/// see [`Inputs`]).
#[derive(Clone, Debug)]
struct TaskProd {
    /// Shared with `orders`, and with the task's id when it is the id (as
    /// it is for nearly every task).
    key: Text,
    /// Shared with the caller's model of the cluster (the event source
    /// keeps the same tasks).
    task: Arc<Task>,
}

/// An immutable snapshot of the live store (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct LiveView {
    values: Values,
    enumerate: bool,
    head: Arc<Head>,
    /// By (framework key, order key).
    tasks: imbl::OrdMap<(Text, u64), TaskProd>,
    inputs: Inputs,
}

impl Lookup for LiveView {
    fn a(&self, name: &str) -> &[std::net::Ipv4Addr] {
        self.values.a(name)
    }

    fn aaaa(&self, name: &str) -> &[std::net::Ipv6Addr] {
        self.values.aaaa(name)
    }

    fn srv(&self, name: &str) -> Vec<(&str, u16)> {
        self.values.srv(name)
    }

    fn srv_owners(&self, target: &str) -> Vec<&str> {
        self.values.srv_owners(target)
    }
}

impl View for LiveView {
    fn record_set(&self) -> RecordSet {
        LiveView::record_set(self)
    }
}

impl LiveView {
    /// The whole record set, as [`generate()`](crate::generate()) builds
    /// it: every producer's records replayed in generation order. O(size).
    pub fn record_set(&self) -> RecordSet {
        let mut store = Store::new(self.enumerate);
        // The head's names by the address of their shared text; equal
        // texts held twice are merged by `finish`.
        let mut ids: HashMap<*const u8, u32> = HashMap::new();
        let mut id = |b: &mut RecordSetBuilder, t: &Text| -> u32 {
            *ids.entry(t.as_ptr())
                .or_insert_with(|| b.push_name([t.as_ref()]))
        };
        let h = &self.head;
        for recs in [
            &h.framework_recs,
            &h.slave_recs,
            &h.listener_recs,
            &h.master_recs,
        ] {
            let b = &mut store.records;
            for (name, v) in recs {
                let n = id(b, name);
                match v {
                    Val::A(ip) => b.add_a(n, *ip),
                    Val::Aaaa(ip) => b.add_aaaa(n, **ip),
                    Val::Srv(t, port) => {
                        let t = id(b, t);
                        b.add_srv(n, t, *port);
                    }
                }
            }
        }
        // The tasks' records, made again (see `Inputs`) straight into the
        // set, as a full generation does.
        for fw in &h.frameworks {
            store.records.framework(&fw.name);
            for (_, t) in self
                .tasks
                .range((fw.key.clone(), 0)..=(fw.key.clone(), u64::MAX))
            {
                let task = &t.task;
                self.inputs
                    .make(&mut store, &fw.key, task, |s: &mut Store| {
                        s.records.task(&task.name, &task.id)
                    });
            }
        }
        store.records.end_task();
        store.finish().0
    }

    /// Everything left out, in generation order (state reading, then
    /// frameworks, slaves, listener, masters).
    pub fn skips(&self) -> Vec<Skip> {
        self.head.skips.iter().flatten().cloned().collect()
    }

    /// Number of records (name and value pairs).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of tasks held (making records or not).
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }
}

/// The live store (see the [module docs](self)).
#[derive(Debug)]
pub struct Live {
    cfg: GenConfig,
    spec: LabelSpec,
    tail: String,
    /// Holds the slaves, framework name ends and config the tasks' records
    /// are made from ([`Inputs`]).
    view: LiveView,
    /// Order key by framework key and task key.
    orders: HashMap<Text, HashMap<Text, u64>>,
    leader: String,
    masters: Vec<String>,
    touched: Touched,
    /// Whether changes are noted for [`Live::take_delta`].
    tracking: bool,
    /// The inputs last loaded, for [`Live::load`].
    last: poll::Last,
}

impl Live {
    /// True when the store gives what [`generate()`](crate::generate())
    /// gives for `cfg`: not with `HealthFilter`, `TaskLabelPolicy` or the
    /// explain data, whose rules look at several tasks at once or keep
    /// data besides the records (use the full generation then).
    pub fn supports(cfg: &GenConfig) -> bool {
        cfg.health_filter.is_none() && !cfg.label_policy && !cfg.explain
    }

    /// An empty store (no frameworks, slaves, tasks or leader) for `cfg`;
    /// the listener record is in from the start.
    pub fn new(cfg: &GenConfig) -> Live {
        let mut live = Live {
            cfg: cfg.clone(),
            spec: cfg.label_spec(),
            tail: cfg.tail(),
            view: LiveView {
                values: Values::default(),
                enumerate: cfg.enumeration,
                head: Arc::default(),
                tasks: imbl::OrdMap::new(),
                inputs: Inputs {
                    ip_sources: cfg.ip_sources.as_slice().into(),
                    spec: cfg.label_spec(),
                    slaves: Arc::default(),
                    suffixes: Arc::default(),
                },
            },
            orders: HashMap::new(),
            leader: String::new(),
            masters: Vec::new(),
            touched: Touched::new(),
            tracking: true,
            last: poll::Last::default(),
        };
        let mut c = Collect::new(&live.view.values, false);
        listener_record(&mut c, cfg);
        let (recs, skips) = (c.recs, c.skips);
        live.swap_head(|h| (&mut h.listener_recs, &mut h.skips[3]), recs, skips);
        live.regen_masters();
        live
    }

    /// A snapshot of the store now.
    pub fn view(&self) -> LiveView {
        self.view.clone()
    }

    /// The change since the last call (or since the store was made):
    /// normalised, equal to the [`RecordSet::diff`] of the two record sets.
    pub fn take_delta(&mut self) -> Delta {
        self.view.values.delta(std::mem::take(&mut self.touched))
    }

    /// Notes changes for [`Live::take_delta`] (on), or not: a store being
    /// filled to be published whole need not note every record. Turning
    /// it off forgets what was noted.
    pub fn set_tracking(&mut self, on: bool) {
        if on == self.tracking {
            return;
        }
        self.tracking = on;
        if on {
            self.view.values.end_fill();
        } else {
            self.touched = Touched::new();
            self.view.values.begin_fill();
        }
    }

    /// Sets the skips from reading the state.
    pub fn set_state_skips(&mut self, skips: Vec<Skip>) {
        Arc::make_mut(&mut self.view.head).skips[0] = skips;
    }

    /// The leader last set.
    pub fn leader(&self) -> &str {
        &self.leader
    }

    /// Sets the leader (`/master/state` `leader`) and master list.
    pub fn set_masters(&mut self, leader: &str, masters: &[String]) {
        if leader == self.leader && masters == self.masters.as_slice() {
            return;
        }
        self.leader = leader.to_owned();
        self.masters = masters.to_vec();
        self.regen_masters();
    }

    /// Replaces the slave list (in state order).
    pub fn set_slaves(&mut self, slaves: &[Slave]) {
        let mut c = Collect::new(&self.view.values, false);
        let mut res = Resolving::new(&self.cfg.resolver);
        let mut map = Slaves::with_capacity_and_hasher(slaves.len(), Default::default());
        for s in slaves {
            let info = slave_records(&mut c, &mut res, s, &self.tail);
            map.insert(s.id.clone(), info);
        }
        let (recs, skips) = (c.recs, c.skips);
        self.swap_head(|h| (&mut h.slave_recs, &mut h.skips[2]), recs, skips);
        let old = &self.view.inputs.slaves;
        let mut changed: HashSet<&str> = old
            .iter()
            .filter(|(id, info)| map.get(*id) != Some(info))
            .map(|(id, _)| id.as_str())
            .collect();
        changed.extend(
            map.keys()
                .map(String::as_str)
                .filter(|id| !old.contains_key(*id)),
        );
        // The tasks naming them: one pass over the tasks when the slave
        // list changes, instead of an index of the tasks by slave (a tenth
        // of the task index's memory).
        let tasks: Vec<(Text, u64)> = match changed.is_empty() {
            true => Vec::new(),
            false => self
                .view
                .tasks
                .iter()
                .filter(|(_, t)| changed.contains(&*t.task.slave_id))
                .map(|(at, _)| at.clone())
                .collect(),
        };
        for at in &tasks {
            self.task_change_at(at, false);
        }
        self.view.inputs.slaves = Arc::new(map);
        for at in &tasks {
            self.task_change_at(at, true);
        }
        self.regen_masters();
    }

    /// Replaces the framework list (in state order): each framework's key
    /// and head (its `tasks` are not read).
    pub fn set_frameworks(&mut self, frameworks: &[(String, Framework)]) {
        let mut c = Collect::new(&self.view.values, false);
        let mut res = Resolving::new(&self.cfg.resolver);
        let mut heads = Vec::with_capacity(frameworks.len());
        for (key, fw) in frameworks {
            framework_records(&mut c, &mut res, fw, self.spec, &self.tail);
            let key = self
                .view
                .inputs
                .suffixes
                .get_key_value(key.as_str())
                .map_or_else(|| Text::from(key.as_str()), |(k, _)| k.clone());
            heads.push(FwHead {
                key,
                name: fw.name.clone(),
            });
        }
        let (recs, skips) = (c.recs, c.skips);
        self.swap_head(|h| (&mut h.framework_recs, &mut h.skips[1]), recs, skips);
        let old = std::mem::replace(
            &mut Arc::make_mut(&mut self.view.head).frameworks,
            heads.clone(),
        );
        let old: HashMap<Text, String> =
            old.into_iter().map(|f| (f.key, f.name)).collect();
        let new: HashMap<Text, String> =
            heads.into_iter().map(|f| (f.key, f.name)).collect();
        let mut changed: Vec<Text> = Vec::new();
        for (k, name) in &new {
            if old.get(k) != Some(name) {
                changed.push(k.clone());
            }
        }
        changed.extend(old.keys().filter(|k| !new.contains_key(*k)).cloned());
        for k in changed {
            let keys: Vec<Text> = self.task_range(&k).map(|t| t.key.clone()).collect();
            for key in &keys {
                self.task_change(&k, key, false);
            }
            let suffixes = Arc::make_mut(&mut self.view.inputs.suffixes);
            match new.get(&k) {
                Some(name) => {
                    let sfx = FwSuffixes::new(self.spec, name, &self.tail);
                    suffixes.insert(k.clone(), (name.clone(), sfx));
                }
                None => {
                    suffixes.remove(&k);
                }
            }
            for key in &keys {
                self.task_change(&k, key, true);
            }
        }
        self.regen_masters();
    }

    /// Adds task `key` of framework `fw`, or replaces it in place. A new
    /// task goes after the framework's others.
    pub fn upsert_task(&mut self, fw: &str, key: &str, task: impl Into<Arc<Task>>) {
        let task = task.into();
        let fw = self.fw_text(fw);
        let order = match self.orders.get(&fw).and_then(|m| m.get(key)) {
            Some(&o) => o,
            None => {
                let last = self.task_range_keys(&fw).next_back().map_or(0, |(_, o)| o);
                last + ORDER_STEP
            }
        };
        self.put_task(&fw, key, order, task);
    }

    /// True when the store holds task `key` of framework `fw`.
    pub fn contains_task(&self, fw: &str, key: &str) -> bool {
        self.orders.get(fw).is_some_and(|m| m.contains_key(key))
    }

    /// Removes task `key` of framework `fw` (nothing if unknown).
    pub fn remove_task(&mut self, fw: &str, key: &str) {
        let fw = self.fw_text(fw);
        let Some(order) = self.orders.get_mut(&fw).and_then(|m| m.remove(key)) else {
            return;
        };
        if self.orders.get(&fw).is_some_and(HashMap::is_empty) {
            self.orders.remove(&fw);
        }
        if let Some(old) = self.view.tasks.remove(&(fw.clone(), order)) {
            self.apply_task(&fw, &old.task, false);
        }
    }

    /// Removes every task of framework `fw`.
    pub fn remove_tasks_of(&mut self, fw: &str) {
        let fw = self.fw_text(fw);
        let keys: Vec<Text> = self.task_range(&fw).map(|t| t.key.clone()).collect();
        for k in keys {
            self.remove_task(&fw, &k);
        }
    }

    /// Task `key` of `fw` at `order`, regenerated.
    fn put_task(&mut self, fw: &Text, key: &str, order: u64, task: Arc<Task>) {
        let old_order = self.orders.get(fw).and_then(|m| m.get(key)).copied();
        if let Some(o) = old_order {
            if let Some(old) = self.view.tasks.remove(&(fw.clone(), o)) {
                self.apply_task(fw, &old.task, false);
            }
        }
        self.apply_task(fw, &task, true);
        let key: Text = match self.orders.get(fw).and_then(|m| m.get_key_value(key)) {
            Some((k, _)) => k.clone(),
            None if *task.id == *key => task.id.clone(),
            None => Text::from(key),
        };
        self.orders
            .entry(fw.clone())
            .or_default()
            .insert(key.clone(), order);
        let prod = TaskProd { key, task };
        self.view.tasks.insert((fw.clone(), order), prod);
    }

    /// Takes task `key` of `fw`'s records out (`up` false, before its
    /// slave or framework changes) or puts them in again (after).
    fn task_change(&mut self, fw: &Text, key: &str, up: bool) {
        if let Some(&order) = self.orders.get(fw).and_then(|m| m.get(key)) {
            self.task_change_at(&(fw.clone(), order), up);
        }
    }

    /// [`Live::task_change`] of the task at (framework key, order key).
    fn task_change_at(&mut self, at: &(Text, u64), up: bool) {
        if let Some(t) = self.view.tasks.get(at) {
            let task = Arc::clone(&t.task);
            self.apply_task(&at.0, &task, up);
        }
    }

    /// Adds (`up`) or removes the records `task` makes under `fw` now.
    fn apply_task(&mut self, fw: &Text, task: &Task, up: bool) {
        let v = &self.view;
        // Records put in are kept (as names, SRV targets and owners):
        // they share the store's texts.
        if let Some(recs) = v.inputs.task_records(&v.values, up, fw, task) {
            self.apply(&recs, up);
        }
    }

    /// The master records again, after the leader, the master list or an
    /// earlier producer changed.
    fn regen_masters(&mut self) {
        let old = std::mem::take(&mut Arc::make_mut(&mut self.view.head).master_recs);
        self.apply(&old, false);
        let mut c = Collect::new(&self.view.values, true);
        master_records(
            &mut c,
            &self.tail,
            &self.masters,
            &self.leader,
            &self.cfg.resolver,
        );
        let (recs, skips) = (c.recs, c.skips);
        self.apply(&recs, true);
        let h = Arc::make_mut(&mut self.view.head);
        h.master_recs = recs;
        h.skips[4] = skips;
    }

    /// Replaces the records and skips of one head list.
    fn swap_head(
        &mut self,
        field: impl Fn(&mut Head) -> (&mut Vec<Rec>, &mut Vec<Skip>),
        recs: Vec<Rec>,
        skips: Vec<Skip>,
    ) {
        let old = {
            let (r, s) = field(Arc::make_mut(&mut self.view.head));
            *s = skips;
            std::mem::replace(r, recs)
        };
        self.apply(&old, false);
        let new = field(Arc::make_mut(&mut self.view.head)).0.clone();
        self.apply(&new, true);
    }

    fn apply(&mut self, recs: &[Rec], up: bool) {
        for r in recs {
            let touched = self.tracking.then_some(&mut self.touched);
            self.view.values.change(r, up, touched);
        }
    }

    fn fw_text(&self, fw: &str) -> Text {
        self.view
            .inputs
            .suffixes
            .get_key_value(fw)
            .map(|(k, _)| k.clone())
            .or_else(|| self.orders.get_key_value(fw).map(|(k, _)| k.clone()))
            .unwrap_or_else(|| Text::from(fw))
    }

    fn task_range(&self, fw: &Text) -> impl DoubleEndedIterator<Item = &TaskProd> + '_ {
        self.view
            .tasks
            .range((fw.clone(), 0)..=(fw.clone(), u64::MAX))
            .map(|(_, t)| t)
    }

    fn task_range_keys(
        &self,
        fw: &Text,
    ) -> impl DoubleEndedIterator<Item = (Text, u64)> + '_ {
        self.view
            .tasks
            .range((fw.clone(), 0)..=(fw.clone(), u64::MAX))
            .map(|((_, o), t)| (t.key.clone(), *o))
    }
}
