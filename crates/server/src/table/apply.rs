//! A table taking a delta: only the names the delta touches are rendered,
//! in time proportional to the change, and nothing of the table is copied.
//!
//! # What is rendered
//!
//! As in the `patch` module, a name is rendered again when its own values
//! changed (every owner name of the [`Delta`]), when the first A or AAAA of
//! one of its SRV targets changed (the owners [`Lookup::srv_owners`] gives
//! for each such name, with and without its trailing dot), and at the apex
//! (SOA, NS and ANY carry the serial, as does the negative template). A
//! name is rendered from the values after the change ([`Lookup`]): with
//! values, its record is put (a new one brings its ancestors as empty
//! non-terminals); without, it is taken away (with the ancestors it leaves
//! with no descendant, which the index's child counts tell). The record
//! counts move by what the delta removed and added.
//!
//! # Why a pair of tables mutated in place
//!
//! The workers read the published table with no lock, and a query may
//! still be reading the table a change replaces. Copying the table's
//! arenas to patch the copy (as `patch` does) costs O(size) per change:
//! tens of megabytes at 100,000 tasks. Two ways keep a change O(change):
//! persistent arenas and index (chunked, with shared copy-on-write pages),
//! or a left-right pair. The pair is taken here because it leaves the
//! lookup path untouched (one flat slot array, one flat arena: no page
//! indirection on every query) and reuses the patching code as it is:
//!
//! - the publisher keeps the table it last replaced (the *spare*), with the
//!   names that change rendered (the *pending* names);
//! - on the next change, once the spare's last reader is done (workers
//!   hold a table for one batch of queries, so that is at once), it owns
//!   the spare's compiled names and templates and patches them in place:
//!   the pending names and the new change's, each rendered from the newest
//!   values (rendering a name is idempotent: it makes the name what the
//!   values say, whatever it was);
//! - the patched spare is published, and the table it replaces becomes the
//!   next spare.
//!
//! If the spare is still read after a short wait, or there is none (after a
//! full compile), the served table is copied instead, as `patch` does. The
//! price of the pair is memory, kept down by what never changes being
//! shared: the name records and the templates of the last full compile are
//! held once by both tables (and by any copy); each holds its own index
//! slots and what was put since the full compile. Both keep what a change
//! replaced, unused, until a compaction copies the served table without
//! it (in the background; see the publisher's `compact` module) or a full
//! compile: the same bound as `patch` (half of a full compile's size).
//!
//! The checks of `patch` apply: a full compile is done instead when the
//! settings differ, when the change touches many names, when a name has
//! no trailing dot, or is spelled with capitals or shares a key with one
//! that is, or when the index is full.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dns_wire::MAX_NAME_LEN;
use mesos_records::delta::{Lookup, Record, Value};
use mesos_records::{Delta, View};

use super::compiled::{Basis, Compiled, RecordCounts};
use super::key::{lookup_key, wire_name};
use super::patch::{
    adjust, apex_text, counts_of, has_capitals, Patch, MAX_CHANGED_SHIFT,
};
use super::render::Renderer;
use super::source::Values;
use super::{Records, Table};
use crate::dns_config::DnsConfig;
use crate::reverse::Ptrs;

/// How long a change waits for the last reader of the spare before
/// copying the served table instead.
const SPARE_WAIT: Duration = Duration::from_millis(2);

/// The table a delta publisher last replaced, and the names to render in
/// it to bring it to the served table's values.
#[derive(Debug)]
pub(crate) struct Spare {
    table: Arc<Table>,
    pending: Vec<String>,
}

impl Spare {
    /// The spare table, let go of.
    pub(crate) fn into_table(self) -> Arc<Table> {
        self.table
    }
}

/// What a delta applied to a table gave.
pub(crate) struct Applied {
    /// The new table.
    pub table: Table,
    /// The served table was copied (no spare to patch).
    pub copied: bool,
    /// The names rendered for the change (the next spare's pending names).
    pub names: Vec<String>,
}

impl Table {
    /// The table after `delta`, whose values after the change `view`
    /// holds, with SOA `serial`: `spare` (see the module docs) patched in
    /// place, or a copy of `self`. `None` where a full compile is needed;
    /// then `spare` is dropped.
    pub(crate) fn apply(
        &self,
        delta: &Delta,
        view: Arc<dyn View>,
        cfg: &DnsConfig,
        serial: u32,
        spare: Option<Spare>,
    ) -> Option<Applied> {
        let apex = wire_name(&cfg.domain).unwrap_or_else(|| Box::new([0]));
        let old = &self.compiled;
        // Label TTLs and SRV weights (issue 22) are not in a delta: such
        // record sets are compiled in full.
        let overrides =
            |v: &dyn View| v.as_record_set().is_some_and(|r| r.has_overrides());
        if !self.loaded
            || old.basis != Basis::new(cfg, &apex)
            || old.arena_len() > old.full_len + old.full_len / 2
            || overrides(&*view)
            || overrides(&*self.records.view)
        {
            return None;
        }
        let values = old.counts.a + old.counts.aaaa + old.counts.srv;
        let limit = ((values >> MAX_CHANGED_SHIFT) as usize).max(64);
        let (names, add, sub) = touched(delta, &*view, &apex, limit)?;
        if !patchable(old, &names) {
            return None;
        }
        let (mut compiled, render, copied) = match spare.and_then(|s| take(s, &apex)) {
            Some((c, pending)) => (c, merge(&pending, &names), false),
            None => {
                let n = names.len();
                let copy = Compiled {
                    names: old.names.copy_with_room(n * 64 + 1024),
                    templates: old.templates.copy_with_room(
                        4 * n + 8,
                        2048 + 512 * n,
                        64 + 64 * n,
                    ),
                    negative: old.negative,
                    counts: old.counts,
                    basis: old.basis.clone(),
                    full_len: old.full_len,
                    case_keys: old.case_keys.clone(),
                };
                (copy, names.clone(), true)
            }
        };
        if compiled.arena_len() > compiled.full_len + compiled.full_len / 2 {
            return None;
        }
        render_names(&mut compiled, &render, &*view, cfg, &apex, serial)?;
        compiled.counts = adjust(old.counts, add, sub);
        let records = Records::new(view);
        let table = Table::with_compiled(records, cfg, serial, apex, Arc::new(compiled));
        // The PTR data follows the delta; derived in full (here, off the
        // query path) only if the table before has none to follow.
        if !table.reverse.follow(&self.reverse, delta, &**table.view()) {
            table.derive_reverse();
        }
        Some(Applied {
            table,
            copied,
            names,
        })
    }

    /// A table that answers as `self` does, from `compiled`: a copy of
    /// a table `self` was patched from, under the same settings, with
    /// `since` (sorted, unique: every name rendered since) rendered again
    /// from `self`'s values ([`render_names`]), and `self`'s record counts (see
    /// the publisher's `compact` module); its PTR data `self`'s, or the
    /// compacted copy of it in `ptrs` if `self` still holds what it was
    /// made from. `None` if the settings differ or a name does not fit in
    /// the index.
    pub(super) fn adopt(
        &self,
        mut compiled: Compiled,
        since: &[String],
        cfg: &DnsConfig,
        ptrs: Option<(Arc<Ptrs>, Ptrs)>,
    ) -> Option<Table> {
        let apex = wire_name(&cfg.domain).unwrap_or_else(|| Box::new([0]));
        if !self.loaded || *self.apex != *apex || compiled.basis != self.compiled.basis {
            return None;
        }
        render_names(
            &mut compiled,
            since,
            &**self.view(),
            cfg,
            &apex,
            self.serial,
        )?;
        compiled.counts = self.compiled.counts;
        let records = self.shared_records();
        let table =
            Table::with_compiled(records, cfg, self.serial, apex, Arc::new(compiled));
        if !table.reverse.share_compacted(&self.reverse, ptrs) {
            table.derive_reverse();
        }
        Some(table)
    }

    /// This table as the next spare, with `pending` names to render.
    pub(crate) fn into_spare(self: Arc<Self>, pending: Vec<String>) -> Spare {
        Spare {
            table: self,
            pending,
        }
    }
}

/// The compiled names and templates of `spare`, owned once its last
/// reader is done (waiting [`SPARE_WAIT`] at most), with its pending
/// names.
fn take(spare: Spare, apex: &[u8]) -> Option<(Compiled, Vec<String>)> {
    let Spare { mut table, pending } = spare;
    let deadline = Instant::now() + SPARE_WAIT;
    let table = loop {
        match Arc::try_unwrap(table) {
            Ok(t) => break t,
            Err(t) if Instant::now() < deadline => {
                table = t;
                std::thread::yield_now();
            }
            Err(_) => return None,
        }
    };
    if *table.apex != *apex {
        return None;
    }
    let mut compiled = table.compiled;
    loop {
        match Arc::try_unwrap(compiled) {
            Ok(c) => return Some((c, pending)),
            Err(c) if Instant::now() < deadline => {
                compiled = c;
                std::thread::yield_now();
            }
            Err(_) => return None,
        }
    }
}

/// `a` and `b` (both sorted, unique) merged, sorted and unique.
fn merge(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    out.extend_from_slice(a);
    out.extend_from_slice(b);
    out.sort_unstable();
    out.dedup();
    out
}

/// True unless a name to render is spelled with capitals or has the key
/// of a name that is (the full compile resolves those; see `patch`).
fn patchable(c: &Compiled, names: &[String]) -> bool {
    if names.iter().any(|n| has_capitals(n)) {
        return false;
    }
    let mut buf = [0u8; MAX_NAME_LEN];
    !names.iter().any(|name| {
        lookup_key(name, &mut buf).is_some_and(|(key, _)| {
            c.case_keys.binary_search_by(|k| (**k).cmp(key)).is_ok()
        })
    })
}

/// The records of `name` on one side of a delta (sorted by name first).
fn of_name<'d>(side: &'d [Record], name: &str) -> &'d [Record] {
    let lo = side.partition_point(|r| r.name.as_str() < name);
    let hi = side.partition_point(|r| r.name.as_str() <= name);
    side.get(lo..hi).unwrap_or_default()
}

/// The values of a name before a change: those after it, less what the
/// change added, plus what it removed; sorted.
struct Before<'v> {
    a: Vec<Ipv4Addr>,
    aaaa: Vec<Ipv6Addr>,
    srv: Vec<(&'v str, u16)>,
}

impl<'v> Before<'v> {
    fn of(
        view: &'v dyn Lookup,
        name: &str,
        removed: &'v [Record],
        added: &'v [Record],
    ) -> Self {
        let mut b = Before {
            a: view.a(name).to_vec(),
            aaaa: view.aaaa(name).to_vec(),
            srv: view.srv(name),
        };
        for r in added {
            match &r.value {
                Value::A(ip) => b.a.retain(|x| x != ip),
                Value::Aaaa(ip) => b.aaaa.retain(|x| x != ip),
                Value::Srv { target, port } => {
                    b.srv.retain(|&(t, p)| (t, p) != (target.as_str(), *port))
                }
            }
        }
        for r in removed {
            match &r.value {
                Value::A(ip) => b.a.push(*ip),
                Value::Aaaa(ip) => b.aaaa.push(*ip),
                Value::Srv { target, port } => b.srv.push((target, *port)),
            }
        }
        b.a.sort_unstable();
        b.aaaa.sort_unstable();
        b.srv.sort_unstable();
        b
    }
}

/// `name` if it ends with a dot and the table has no owner spelled as it
/// without the dot: the two would share a wire name, and which one is
/// served is the full compile's to decide (by order).
fn shares_no_wire_name<'n>(view: &dyn Lookup, name: &'n str) -> Option<&'n str> {
    let bare = name.strip_suffix('.')?;
    let owned = !view.a(bare).is_empty()
        || !view.aaaa(bare).is_empty()
        || !view.srv(bare).is_empty();
    (!owned).then_some(name)
}

/// The names `delta` makes the table render (sorted, unique; see the
/// module docs), and the record counts it adds and takes away; `None` if
/// there are more than `limit` or a name has no trailing dot.
fn touched(
    delta: &Delta,
    view: &dyn Lookup,
    apex: &[u8],
    limit: usize,
) -> Option<(Vec<String>, RecordCounts, RecordCounts)> {
    let (mut add, mut sub) = (RecordCounts::default(), RecordCounts::default());
    let mut names: Vec<String> = Vec::new();
    let zero = RecordCounts::default();
    for name in delta.names() {
        let stripped = name.strip_suffix('.')?;
        let removed = of_name(&delta.removed, name);
        let added = of_name(&delta.added, name);
        let before = Before::of(view, name, removed, added);
        let now_srv = view.srv(name);
        let now = Values::of_lists(name, view.a(name), view.aaaa(name), &now_srv);
        let was = Values::of_lists(name, &before.a, &before.aaaa, &before.srv);
        let some =
            |o: &Values<'_>| !o.a.is_empty() || !o.aaaa.is_empty() || o.srv_len() > 0;
        if some(&now) {
            add = adjust(add, counts_of(&now, apex), zero);
        }
        if some(&was) {
            sub = adjust(sub, counts_of(&was, apex), zero);
        }
        if now.first_addresses() != was.first_addresses() {
            for owner in view
                .srv_owners(name)
                .into_iter()
                .chain(view.srv_owners(stripped))
            {
                names.push(shares_no_wire_name(view, owner)?.to_owned());
            }
        }
        names.push(shares_no_wire_name(view, name)?.to_owned());
        if names.len() > limit {
            return None;
        }
    }
    names.sort_unstable();
    names.dedup();
    Some((names, add, sub))
}

/// Renders `names` (sorted, unique), the apex (wire name `apex`) and the
/// negative template into `c` in place from `view` at `serial`. Rendering
/// a name makes it what the values say, whatever it was, so a copy of an
/// earlier table of the same settings, with every name rendered since it,
/// then answers as the table of `view` does (a compaction's catching up).
/// `None` if a name does not fit in the index (`c` is then unusable).
pub(super) fn render_names(
    c: &mut Compiled,
    names: &[String],
    view: &dyn Lookup,
    cfg: &DnsConfig,
    apex: &[u8],
    serial: u32,
) -> Option<()> {
    let apex_text = apex_text(cfg, apex)?;
    let templates = std::mem::take(&mut c.templates);
    let mut p = Patch {
        r: Renderer::new(cfg, view, apex, serial, templates),
        names: std::mem::take(&mut c.names),
        apex,
    };
    let srvs: Vec<Vec<(&str, u16)>> = names.iter().map(|n| view.srv(n)).collect();
    let mut gone = Vec::new();
    for (name, srv) in names.iter().zip(&srvs) {
        let o = Values::of_lists(name, view.a(name), view.aaaa(name), srv);
        match o.a.is_empty() && o.aaaa.is_empty() && o.srv_len() == 0 {
            true => gone.push(name),
            false => p.render(&o)?,
        }
    }
    for name in gone {
        p.remove(name)?;
    }
    let apex_srv = view.srv(&apex_text);
    let apex_owner = Values::of_lists(
        &apex_text,
        view.a(&apex_text),
        view.aaaa(&apex_text),
        &apex_srv,
    );
    p.render_apex(&apex_owner)?;
    c.negative = p.r.negative();
    c.names = p.names;
    c.templates = p.r.templates;
    Some(())
}

#[cfg(test)]
mod tests;
