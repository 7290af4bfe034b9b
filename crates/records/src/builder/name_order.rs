//! The order of a record set's names: each name's number in byte order,
//! found by sorting the names a window of octets at a time.

use crate::name_text::{idx, NameText};

/// Each name's number in byte order of the distinct names (equal names
/// get the same number), and the number of distinct names.
/// Unused names (`used[i]` false) get no number (`u32::MAX`).
pub(super) fn ranked_names(names: &NameText, used: &[bool]) -> (Vec<u32>, usize) {
    let mut order: Vec<u32> = (0..idx(names.len()))
        .filter(|&i| used.get(i as usize).copied().unwrap_or(false))
        .collect();
    // `new[p]`: the name at `order[p]` differs from the one before it.
    let mut new = vec![false; order.len()];
    if let Some(first) = new.first_mut() {
        *first = true;
    }
    sort_names(names, &mut order, &mut new);
    let mut rank = vec![u32::MAX; names.len()];
    let mut count = 0u32;
    for (&id, &new) in order.iter().zip(&new) {
        count += u32::from(new);
        if let Some(r) = rank.get_mut(id as usize) {
            *r = count - 1;
        }
    }
    (rank, count as usize)
}

/// How many octets of a name one sort key holds (see [`window_key`]).
const WINDOW: usize = 12;

/// Beyond this many octets, names that are still equal are sorted by
/// comparing them whole (a bound on the passes below, for names that are
/// long and alike).
const WINDOWS_END: usize = 8 * WINDOW;

/// The sort key of name `id` at octet `at`: the name's `WINDOW` octets
/// from `at` (zero-padded, which keeps byte order: a name equal so far
/// that ends sorts first, or ties with one that goes on with zero octets
/// only) above `id`.
fn window_key(name: &[u8], at: usize, id: u32) -> u128 {
    let mut k = [0u8; 16];
    match (name.get(at..at + WINDOW), k.first_chunk_mut::<WINDOW>()) {
        // Most windows are whole: one copy of fixed length.
        (Some(whole), Some(head)) => head.copy_from_slice(whole),
        _ => {
            let window = name.get(at..).unwrap_or_default().iter().take(WINDOW);
            for (d, s) in k.iter_mut().zip(window) {
                *d = *s;
            }
        }
    }
    (u128::from_be_bytes(k) & !u128::from(u32::MAX)) | u128::from(id)
}

/// Sorts `order` (name numbers) by name in byte order and sets `new[p]`
/// where a name differs from the one before it (`new` is set at the start
/// of `order` and left as it is elsewhere). Names sort as plain integers,
/// [`WINDOW`] octets at a time: all of them by their first octets, then
/// each run that shares those by the next ones, and so on; only the runs
/// still equal where their names end (or after [`WINDOWS_END`] octets) are
/// compared whole. The names of a large cluster share long prefixes (an
/// app's names, `_app._tcp.framework.`), so comparing whole names costs
/// several times as much.
fn sort_names(names: &NameText, order: &mut [u32], new: &mut [bool]) {
    let mut keys: Vec<u128> = Vec::with_capacity(order.len());
    // Runs of `order` (start, end) whose names are equal before octet `at`.
    let mut todo = vec![(0, order.len(), 0)];
    while let Some((start, end, at)) = todo.pop() {
        let (Some(run), Some(run_new)) =
            (order.get_mut(start..end), new.get_mut(start..end))
        else {
            continue;
        };
        let ended = |&id: &u32| names.get(id).len() <= at;
        if at >= WINDOWS_END || run.iter().all(ended) {
            run.sort_unstable_by(|&x, &y| names.get(x).cmp(names.get(y)));
            for (p, pair) in run.windows(2).enumerate() {
                if let (Some(n), [x, y]) = (run_new.get_mut(p + 1), pair) {
                    *n = names.get(*x) != names.get(*y);
                }
            }
            continue;
        }
        keys.clear();
        keys.extend(
            run.iter()
                .map(|&id| window_key(names.get(id).as_bytes(), at, id)),
        );
        keys.sort_unstable();
        for (slot, &k) in run.iter_mut().zip(&keys) {
            *slot = k as u32;
        }
        let mut i = 0;
        while i < keys.len() {
            let prefix = keys.get(i).map_or(0, |k| k >> 32);
            let len = keys
                .get(i..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&k| k >> 32 == prefix)
                .count()
                .max(1);
            if i > 0 {
                if let Some(n) = run_new.get_mut(i) {
                    *n = true;
                }
            }
            if len > 1 {
                todo.push((start + i, start + i + len, at + WINDOW));
            }
            i += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ranks [`ranked_names`] must give: by sorting whole names.
    fn ranks_by_comparison(names: &NameText, used: &[bool]) -> (Vec<u32>, usize) {
        let mut order: Vec<u32> = (0..idx(names.len()))
            .filter(|&i| used[i as usize])
            .collect();
        order.sort_by(|&x, &y| names.get(x).cmp(names.get(y)));
        let mut rank = vec![u32::MAX; names.len()];
        let mut count = 0;
        let mut last = None;
        for id in order {
            if last != Some(names.get(id)) {
                count += 1;
                last = Some(names.get(id));
            }
            rank[id as usize] = count - 1;
        }
        (rank, count as usize)
    }

    proptest::proptest! {
        // Long shared prefixes, repeats, NUL octets and names of every
        // length around the windows' edges.
        #[test]
        fn names_rank_as_whole_names_compare(
            names in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(&["", "\0", "a", "b", "ab", "app-12345.", "x"][..]),
                    0..40,
                ),
                0..60,
            ),
            unused in proptest::collection::vec(proptest::bool::ANY, 60),
        ) {
            let mut text = NameText::default();
            for parts in &names {
                text.push_parts(parts.iter().copied());
            }
            let used: Vec<bool> = (0..names.len()).map(|i| !unused[i]).collect();
            proptest::prop_assert_eq!(
                ranked_names(&text, &used),
                ranks_by_comparison(&text, &used)
            );
        }
    }
}
