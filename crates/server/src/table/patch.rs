//! Patching the served table for a new record set, instead of compiling
//! every answer again: a refresh of a large cluster changes a few names.
//!
//! The old and the new record set are walked together (both keep their
//! names in byte order), which finds every owner whose values changed, was
//! added or removed. A name must be rendered again when:
//!
//! - its own values changed (its A, AAAA, SRV and ANY templates);
//! - the first A or AAAA of one of its SRV targets changed: its SRV and ANY
//!   templates carry that address in the additional section;
//! - it is the apex: its SOA, NS and ANY templates carry the serial (and
//!   NS the nameserver's address), as does the negative template.
//!
//! The new table starts as a copy of the old one's arenas; templates are
//! rendered into the copy's template arena (the old ones they replace stay
//! unused), and changed names are put into the copy's name index. A new
//! served name brings its ancestors as empty non-terminals, and a removed
//! one takes away the ancestors left with no descendant, which the child
//! counts in the index tell. Every other name keeps its record and its
//! templates, octet for octet.
//!
//! The patch gives up (and the caller compiles in full) when the settings
//! the templates depend on differ, when many names changed, when the
//! unused parts of the arenas would pass half of a full compile's size,
//! when a name has no trailing dot (two texts would then share a wire name,
//! which the full compile resolves by order), when a name to render is
//! spelled with capitals or has the key of one that is (spellings share
//! keys, which the full compile resolves), or when the index is full.

use dns_wire::{Rtype, MAX_NAME_LEN};
use mesos_records::RecordSet;

use super::compiled::{Basis, Compiled, RecordCounts};
use super::index::{hash, AnswerKind, NameIndex, Record, NONE};
use super::key::{in_zone, lookup_key, parent, wire_key};
use super::render::Renderer;
use super::source::{self, Values};
use crate::dns_config::DnsConfig;

/// A patch is given up when more owners changed than this share of the
/// record values (1/16, about 1/8 of the owners): rendering them costs
/// about as much as a full compile.
pub(super) const MAX_CHANGED_SHIFT: u32 = 4;

/// Names (without the trailing dot) whose glue changed, to check every SRV
/// target against: a filter on the length stops most targets, then the
/// hash.
#[derive(Default)]
struct NameSet<'r> {
    /// One bit per length of a name in the set (all bits if one is longer
    /// than 255).
    lens: [u64; 4],
    /// The names with their hashes, sorted.
    names: Vec<(u64, &'r str)>,
}

impl<'r> NameSet<'r> {
    fn insert(&mut self, name: &'r str) {
        match self.lens.get_mut(name.len() / 64) {
            Some(w) => *w |= 1 << (name.len() % 64),
            None => self.lens = [u64::MAX; 4],
        }
        self.names.push((hash(name.as_bytes()), name));
    }

    /// Sorts the names; [`NameSet::contains`] needs it.
    fn seal(&mut self) {
        self.names.sort_unstable();
    }

    fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn contains(&self, name: &str) -> bool {
        let bit = self
            .lens
            .get(name.len() / 64)
            .map_or(self.lens[0] == u64::MAX, |w| {
                w & (1 << (name.len() % 64)) != 0
            });
        if !bit {
            return false;
        }
        let h = hash(name.as_bytes());
        let at = self.names.partition_point(|&(x, _)| x < h);
        self.names
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&(x, _)| x == h)
            .any(|&(_, n)| n == name)
    }
}

/// An owner whose values differ between the old and the new record set
/// (`None` where it has none).
#[derive(Clone, Copy)]
struct Change<'r> {
    old: Option<Values<'r>>,
    new: Option<Values<'r>>,
}

impl<'r> Change<'r> {
    fn name(&self) -> &'r str {
        self.new.or(self.old).map_or("", |o| o.name)
    }
}

/// The owners that differ, in name order, and the names (without the
/// trailing dot) whose glue differs; `None` if the patch should be given
/// up.
fn diff<'r>(
    old: &'r RecordSet,
    new: &'r RecordSet,
) -> Option<(Vec<Change<'r>>, NameSet<'r>)> {
    let limit = (new.len() >> MAX_CHANGED_SHIFT).max(64);
    let (mut changes, mut glue) = (Vec::new(), NameSet::default());
    let mut xs = source::owners(old).peekable();
    let mut ys = source::owners(new).peekable();
    let undotted = |o: Option<&Values<'_>>| o.is_some_and(|o| !o.name.ends_with('.'));
    loop {
        // Every owner, changed or not (see the module docs).
        if undotted(xs.peek()) || undotted(ys.peek()) {
            return None;
        }
        let change = match (xs.peek(), ys.peek()) {
            (None, None) => break,
            (Some(x), Some(y)) if x.name == y.name => {
                let c = Change {
                    old: xs.next(),
                    new: ys.next(),
                };
                match (c.old, c.new) {
                    (Some(x), Some(y)) if !x.same_values(&y) => c,
                    _ => continue,
                }
            }
            (Some(x), y) if y.is_none_or(|y| x.name < y.name) => Change {
                old: xs.next(),
                new: None,
            },
            _ => Change {
                old: None,
                new: ys.next(),
            },
        };
        let name = change.name();
        let stripped = name.strip_suffix('.')?;
        let first =
            |o: Option<Values<'_>>| o.map_or((None, None), |o| o.first_addresses());
        if first(change.old) != first(change.new) {
            glue.insert(stripped);
        }
        changes.push(change);
        if changes.len() > limit {
            return None;
        }
    }
    glue.seal();
    Some((changes, glue))
}

/// The owners of `new` with the same values but an SRV target in `glue`:
/// their templates must be rendered again. In name order.
fn glue_dependents<'r>(
    new: &'r RecordSet,
    changes: &[Change<'r>],
    glue: &NameSet<'_>,
) -> Vec<Values<'r>> {
    let mut out = Vec::new();
    if glue.is_empty() {
        return out;
    }
    let mut changed = changes.iter().map(Change::name).peekable();
    for (name, mut values) in source::srv(new) {
        if !values.any(|(t, _)| glue.contains(t.strip_suffix('.').unwrap_or(t))) {
            continue;
        }
        while changed.next_if(|&c| c < name).is_some() {}
        if changed.peek() == Some(&name) {
            continue;
        }
        out.push(source::values_of(new, name));
    }
    out
}

/// What one owner adds to the record counts (as the full compile counts).
pub(super) fn counts_of(o: &Values<'_>, apex: &[u8]) -> RecordCounts {
    let mut c = RecordCounts::default();
    let mut buf = [0u8; MAX_NAME_LEN];
    let kinds = [!o.a.is_empty(), !o.aaaa.is_empty(), o.srv_len() > 0];
    let kinds = kinds.iter().filter(|&&k| k).count() as u64;
    // Names with capitals are never patched (see `patch`).
    match lookup_key(o.name, &mut buf) {
        Some((wire, false)) if in_zone(wire, apex) => {
            c.a = o.a.len() as u64;
            c.aaaa = o.aaaa.len() as u64;
            for (target, _) in o.srv() {
                match wire_key(target, &mut buf) {
                    Some(_) => c.srv += 1,
                    None => {
                        c.skipped += 1;
                        c.unencodable += 1;
                    }
                }
            }
            c.names = 1;
        }
        Some(_) => c.skipped = kinds,
        None => {
            c.skipped = kinds;
            c.unencodable = kinds;
        }
    }
    c
}

/// `counts` plus `add` minus `sub`.
pub(super) fn adjust(
    counts: RecordCounts,
    add: RecordCounts,
    sub: RecordCounts,
) -> RecordCounts {
    let f = |c: u64, a: u64, s: u64| c.wrapping_add(a).wrapping_sub(s);
    RecordCounts {
        a: f(counts.a, add.a, sub.a),
        aaaa: f(counts.aaaa, add.aaaa, sub.aaaa),
        srv: f(counts.srv, add.srv, sub.srv),
        names: f(counts.names, add.names, sub.names),
        skipped: f(counts.skipped, add.skipped, sub.skipped),
        unencodable: f(counts.unencodable, add.unencodable, sub.unencodable),
    }
}

/// The text of the apex as a record set owner name: lowercase, with a
/// trailing dot.
pub(super) fn apex_text(cfg: &DnsConfig, apex: &[u8]) -> Option<String> {
    let text = format!("{}.", cfg.domain.trim_end_matches('.').to_ascii_lowercase());
    let mut buf = [0u8; MAX_NAME_LEN];
    let (wire, _) = wire_key(&text, &mut buf)?;
    (wire == apex).then_some(text)
}

/// The templates and index of `old` (compiled from `old_rs`) patched for
/// `rs`, or `None` where a full compile is needed (see the module docs).
pub(super) fn patch(
    old: &Compiled,
    old_rs: &RecordSet,
    rs: &RecordSet,
    cfg: &DnsConfig,
    apex: &[u8],
    serial: u32,
) -> Option<Compiled> {
    // A label TTL or SRV weight (issue 22) can change with no value
    // changing: such record sets are compiled in full.
    if old.basis != Basis::new(cfg, apex)
        || old.arena_len() > old.full_len + old.full_len / 2
        || old_rs.has_overrides()
        || rs.has_overrides()
    {
        return None;
    }
    let apex_text = apex_text(cfg, apex)?;
    let (changes, glue) = diff(old_rs, rs)?;
    let dependents = glue_dependents(rs, &changes, &glue);
    let to_render = changes.iter().map(Change::name);
    let to_render = to_render.chain(dependents.iter().map(|o| o.name));
    if to_render.clone().any(has_capitals) {
        return None;
    }
    if !old.case_keys.is_empty() {
        let mut buf = [0u8; MAX_NAME_LEN];
        for name in to_render {
            if let Some((key, _)) = lookup_key(name, &mut buf) {
                if old.case_keys.binary_search_by(|k| (**k).cmp(key)).is_ok() {
                    return None;
                }
            }
        }
    }
    let changed: Vec<Values<'_>> = changes.iter().filter_map(|c| c.new).collect();
    // Room for what is rendered, so the copies are not copied again.
    let (mut bytes, mut words, mut keys) = (2048, 64, 0);
    for o in changed.iter().chain(&dependents) {
        let srv: usize = o.srv().map(|(t, _)| 80 + 2 * t.len()).sum();
        bytes += 2 * (16 * o.a.len() + 28 * o.aaaa.len() + srv);
        words += 2 * (4 + o.a.len() + o.aaaa.len() + 3 * o.srv_len());
        keys += (o.name.len() + 32) * (1 + o.name.matches('.').count());
    }
    let templates = old.templates.copy_with_room(
        4 * (changes.len() + dependents.len()) + 8,
        bytes,
        words,
    );
    let mut p = Patch {
        r: Renderer::new(cfg, rs, apex, serial, templates),
        names: old.names.copy_with_room(keys + (changes.len() + 8) * 8),
        apex,
    };
    for o in changed.iter().chain(&dependents) {
        p.render(o)?;
    }
    for c in &changes {
        if c.new.is_none() {
            p.remove(c.name())?;
        }
    }
    p.render_apex(&source::values_of(rs, &apex_text))?;
    let negative = p.r.negative();
    let (mut add, mut sub) = (RecordCounts::default(), RecordCounts::default());
    for c in &changes {
        if let Some(o) = &c.new {
            add = adjust(add, counts_of(o, apex), RecordCounts::default());
        }
        if let Some(o) = &c.old {
            sub = adjust(sub, counts_of(o, apex), RecordCounts::default());
        }
    }
    Some(Compiled {
        names: p.names,
        templates: p.r.templates,
        negative,
        counts: adjust(old.counts, add, sub),
        basis: old.basis.clone(),
        full_len: old.full_len,
        case_keys: old.case_keys.clone(),
    })
}

/// True if `name` holds an ASCII capital letter.
pub(super) fn has_capitals(name: &str) -> bool {
    name.bytes().any(|c| c.is_ascii_uppercase())
}

/// A patch in progress (also of a table taking a delta: `apply`).
pub(super) struct Patch<'r> {
    pub r: Renderer<'r>,
    pub names: NameIndex,
    pub apex: &'r [u8],
}

impl<'r> Patch<'r> {
    /// The served wire key of `name` (`None` if it is not served, or is
    /// the apex).
    fn served<'b>(
        &self,
        name: &str,
        buf: &'b mut [u8; MAX_NAME_LEN],
    ) -> Option<&'b [u8]> {
        match lookup_key(name, buf)? {
            (wire, false) if in_zone(wire, self.apex) && wire != self.apex => Some(wire),
            _ => None,
        }
    }

    /// Renders every template of owner `o` (of the new record set) and
    /// puts its record, adding its ancestors if the name is new.
    pub fn render(&mut self, o: &Values<'r>) -> Option<()> {
        let mut buf = [0u8; MAX_NAME_LEN];
        let Some(wire) = self.served(o.name, &mut buf) else {
            return Some(());
        };
        let known = self.names.get(wire);
        let mut rec = known.unwrap_or(Record::EMPTY);
        rec.kinds = self.templates_of(o, false);
        self.put(wire, &rec)?;
        if known.is_none() {
            self.add_to_parent(wire)?;
        }
        Some(())
    }

    /// The A, AAAA, SRV and ANY templates of `o` (ANY with SOA and NS
    /// first at the apex).
    fn templates_of(&mut self, o: &Values<'r>, apex: bool) -> [u32; 6] {
        let rs = self.r.records;
        let glue = |_: &[u8], text: &str| source::glue_of_key(rs, text);
        let mut kinds = [NONE; 6];
        if !o.a.is_empty() {
            let ips = o.a.iter().map(|ip| ip.octets());
            kinds[AnswerKind::A as usize] = self.r.addresses(Rtype::A, o.name, ips).0;
        }
        if !o.aaaa.is_empty() {
            let ips = o.aaaa.iter().map(|ip| ip.octets());
            kinds[AnswerKind::Aaaa as usize] =
                self.r.addresses(Rtype::AAAA, o.name, ips).0;
        }
        if o.srv_len() > 0 {
            kinds[AnswerKind::Srv as usize] = self.r.srv(o.name, o.srv(), &glue).0;
        }
        let mut own = kinds[..3].iter().filter(|&&t| t != NONE);
        kinds[AnswerKind::Any as usize] = match (own.next(), own.next()) {
            (Some(&t), None) if !apex => t,
            (None, _) if !apex => NONE,
            _ => self.r.any(apex, Some(o.name), &glue),
        };
        kinds
    }

    /// The apex: its own records `owner` (if it owns any), SOA, NS and
    /// ANY.
    pub fn render_apex(&mut self, owner: &Values<'r>) -> Option<()> {
        let mut rec = self.names.get(self.apex).unwrap_or(Record::EMPTY);
        rec.kinds = self.templates_of(owner, true);
        rec.kinds[AnswerKind::Soa as usize] = self.r.apex_soa();
        rec.kinds[AnswerKind::Ns as usize] = self.r.apex_ns();
        let apex = self.apex;
        self.put(apex, &rec)
    }

    fn put(&mut self, wire: &[u8], rec: &Record) -> Option<()> {
        self.names.put(wire, rec).then_some(())
    }

    /// Counts new name `wire` as a child of its parent, adding the parent
    /// (and so on up) as an empty non-terminal if it is new.
    fn add_to_parent(&mut self, wire: &[u8]) -> Option<()> {
        let mut child = wire;
        while child.len() > self.apex.len() {
            let up = parent(child);
            match self.names.get(up) {
                Some(mut rec) => {
                    rec.children += 1;
                    return self.put(up, &rec);
                }
                None => {
                    let rec = Record {
                        children: 1,
                        ..Record::EMPTY
                    };
                    self.put(up, &rec)?;
                    child = up;
                }
            }
        }
        Some(())
    }

    /// Takes away the templates of `name`, which owns nothing now: it
    /// stays as an empty non-terminal if it has children, else it goes,
    /// and so do the ancestors it leaves without any.
    pub fn remove(&mut self, name: &str) -> Option<()> {
        let mut buf = [0u8; MAX_NAME_LEN];
        let Some(wire) = self.served(name, &mut buf) else {
            return Some(());
        };
        let Some(mut rec) = self.names.get(wire) else {
            return Some(());
        };
        if rec.children > 0 {
            rec.kinds = [NONE; 6];
            return self.put(wire, &rec);
        }
        self.names.remove(wire);
        let mut up = parent(wire);
        while let Some(mut rec) = self.names.get(up) {
            rec.children = rec.children.saturating_sub(1);
            if rec.children > 0 || rec.has_data() || up.len() <= self.apex.len() {
                return self.put(up, &rec);
            }
            self.names.remove(up);
            up = parent(up);
        }
        Some(())
    }
}

#[cfg(test)]
pub(super) mod tests;
