//! Compaction of a table's templates: a copy of those still in use, in
//! one fresh arena (see the table publisher's `compact` module).

use super::{Arena, Head, Template, Templates};

impl Templates {
    /// A copy of the templates `keep` marks (by index), in one fresh
    /// arena shared as the copy's base, and each one's index in the copy
    /// (`u32::MAX` for the others): what a table patched many times still
    /// uses, without what the patches replaced.
    pub(crate) fn compacted(&self, keep: &[bool]) -> (Templates, Vec<u32>) {
        let kept = || {
            (0..self.len())
                .filter(|&i| keep.get(i).copied().unwrap_or(false))
                .filter_map(|i| Some((i, self.get(i as u32)?)))
        };
        let (mut heads, mut bytes, mut words) = (0, 0, 0);
        for (_, t) in kept() {
            heads += 1;
            bytes += t.body().len();
            words += t.words().len();
        }
        let mut out = Arena {
            heads: Vec::with_capacity(heads),
            bytes: Vec::with_capacity(bytes),
            words: Vec::with_capacity(words),
        };
        let mut map = vec![u32::MAX; self.len()];
        for (i, t) in kept() {
            let head = Head {
                body: out.bytes.len() as u32,
                words: out.words.len() as u32,
                ..*t.head
            };
            out.bytes.extend_from_slice(t.body());
            out.words.extend_from_slice(t.words());
            if let Some(m) = map.get_mut(i) {
                *m = out.heads.len() as u32;
            }
            out.heads.push(head);
        }
        let copy = Templates {
            base: std::sync::Arc::new(out),
            own: Arena::default(),
        };
        (copy, map)
    }
}

impl<'t> Template<'t> {
    /// Every word of the template: its bounds, fixups and moves.
    fn words(&self) -> &'t [u16] {
        let h = self.head;
        let fixups = usize::from(h.fixups);
        let n =
            usize::from(h.records) + 1 + fixups + if h.into_answers { fixups } else { 0 };
        let at = h.words as usize;
        self.all.words.get(at..at + n).unwrap_or_default()
    }
}
