//! The [`Sink`] one producer's records are collected into: the same
//! generation rules as a full generation, writing a list of records.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::values::{Rec, Text, Val, Values};
use crate::skip::Skip;
use crate::store::{Sink, Suffix};

/// One producer's records in insertion order, and its skips.
pub(crate) struct Collect<'a> {
    values: &'a Values,
    /// Also count values already in `values` as present (the master walk
    /// asks whether an earlier producer gave `master.D.` an address).
    seeded: bool,
    /// Look each name up in `values` to share its text (what is kept
    /// should share it; records made only to be counted out or replayed
    /// need not pay for the lookups).
    share: bool,
    names: Vec<Text>,
    index: HashMap<Text, u32>,
    pub(crate) recs: Vec<Rec>,
    pub(crate) skips: Vec<Skip>,
}

impl<'a> Collect<'a> {
    /// An empty collection; names known to `values` share its text.
    pub(crate) fn new(values: &'a Values, seeded: bool) -> Self {
        Collect {
            values,
            seeded,
            share: true,
            names: Vec::new(),
            index: HashMap::new(),
            recs: Vec::new(),
            skips: Vec::new(),
        }
    }

    /// An empty collection whose names do not share `values`' text.
    pub(crate) fn unshared(values: &'a Values) -> Self {
        Collect {
            share: false,
            ..Collect::new(values, false)
        }
    }

    fn at(&self, n: u32) -> Text {
        self.names
            .get(n as usize)
            .cloned()
            .unwrap_or_else(|| Text::from(""))
    }
}

impl Sink for Collect<'_> {
    fn name(&mut self, parts: &[&str], suffix: &Suffix) -> u32 {
        let mut s = String::with_capacity(
            parts.iter().map(|p| p.len()).sum::<usize>() + suffix.text.len(),
        );
        for p in parts {
            s.push_str(p);
        }
        s.push_str(&suffix.text);
        self.intern(&s)
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&n) = self.index.get(name) {
            return n;
        }
        let shared = self.share.then(|| self.values.text(name)).flatten();
        let text = shared.unwrap_or_else(|| Text::from(name));
        let n = self.names.len() as u32;
        self.names.push(text.clone());
        self.index.insert(text, n);
        n
    }

    fn text(&self, n: u32) -> &str {
        self.names.get(n as usize).map_or("", |t| t.as_ref())
    }

    fn add_a(&mut self, n: u32, ip: Ipv4Addr) {
        let rec = (self.at(n), Val::A(ip));
        self.recs.push(rec);
    }

    fn add_aaaa(&mut self, n: u32, ip: Ipv6Addr) {
        let rec = (self.at(n), Val::Aaaa(Box::new(ip)));
        self.recs.push(rec);
    }

    fn add_srv(&mut self, n: u32, target: u32, port: u16) {
        let rec = (self.at(n), Val::Srv(self.at(target), port));
        self.recs.push(rec);
    }

    fn has_ip(&self, n: u32, ip: IpAddr) -> bool {
        let v = match ip {
            IpAddr::V4(v4) => Val::A(v4),
            IpAddr::V6(v6) => Val::Aaaa(Box::new(v6)),
        };
        let name = self.at(n);
        self.recs.iter().any(|(o, x)| *o == name && *x == v)
            || (self.seeded && self.values.count(&name, &v) > 0)
    }

    fn skips(&mut self) -> &mut Vec<Skip> {
        &mut self.skips
    }
}
