//! Domain names (RFC 1035 §3.1, §4.1.4).
//!
//! A name is a sequence of labels, each a length octet and that many
//! octets, ended by the zero-length root label. The two top bits of the
//! length octet select the label type:
//!
//! ```text
//!     0 0 | length 0-63      a normal label (RFC 1035 §3.1)
//!     1 1 | offset (14 bits) a compression pointer (RFC 1035 §4.1.4)
//!     0 1 | ...              extended label type (RFC 6891 §5): rejected
//!     1 0 | ...              reserved: rejected
//!
//!     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//!     | 1  1|                OFFSET                   |
//!     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```
//!
//! Parsing is strict. Every pointer must point strictly before the start
//! of the run of labels that contains it, which rules out loops without a
//! hop counter. A label holds at most 63 octets and the whole name, written
//! out without compression, at most 255 (RFC 1035 §2.3.4). At most 127
//! pointers are followed per name, so chains of pointers to pointers cannot
//! make parsing slow. After
//! [`Name::parse`] succeeds, walking the labels cannot fail.
//!
//! Names are compared case-insensitively in ASCII (RFC 4343 §3), and
//! [`Name::to_lowercase`] produces an uncompressed, lowercased wire-form key
//! in a caller's stack buffer, for table lookups without allocation.

use core::fmt;

use crate::{Reader, WireError, Writer};

/// Longest name in wire form, length octets and root label included.
pub const MAX_NAME_LEN: usize = 255;
/// Longest label, in octets (excluding its length octet).
pub const MAX_LABEL_LEN: usize = 63;

const POINTER: u8 = 0xc0;

/// Most compression pointers followed in one name. A name has at most 127
/// labels, and no encoder needs more than one pointer per label; longer
/// chains (pointers to pointers) only serve to make a parser work harder.
const MAX_POINTERS: usize = 127;

fn offset16(at: usize) -> u16 {
    u16::try_from(at).unwrap_or(u16::MAX)
}

/// A validated name inside a message: a view, not a copy.
#[derive(Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    /// Offset of the first length octet.
    start: usize,
    /// Uncompressed wire length, 1..=255.
    wire_len: usize,
    /// Whether the name uses no pointers, so that its `wire_len` octets
    /// lie contiguously from `start`.
    contiguous: bool,
}

impl<'a> Name<'a> {
    /// Reads a possibly compressed name at the reader's position, following
    /// and checking every pointer, and leaves the reader after the name
    /// (after its first pointer, if it has one).
    ///
    /// # Errors
    ///
    /// - [`WireError::Truncated`]: the name runs past the reader's window;
    /// - [`WireError::LabelType`]: a length octet of `0b01xxxxxx` or `0b10xxxxxx`;
    /// - [`WireError::BadPointer`]: a pointer that is not strictly backwards,
    ///   or the 128th pointer followed in one name;
    /// - [`WireError::NameTooLong`]: more than 255 octets uncompressed.
    pub fn parse(r: &mut Reader<'a>) -> Result<Self, WireError> {
        let msg = r.message();
        let start = r.pos();
        let window_end = start.saturating_add(r.remaining());
        // Fast path: an uncompressed name inside the window (every question
        // and most owners). It returns only what the general loop below
        // would; anything else goes there for the exact error.
        let window = msg.get(start..window_end).unwrap_or_default();
        let mut i = 0usize;
        while let Some(&b) = window.get(i) {
            if b == 0 {
                let wire_len = i.saturating_add(1);
                if wire_len <= MAX_NAME_LEN {
                    r.skip(wire_len)?;
                    return Ok(Self {
                        msg,
                        start,
                        wire_len,
                        contiguous: true,
                    });
                }
                break;
            }
            if b & POINTER != 0 || i >= MAX_NAME_LEN {
                break;
            }
            i = i.saturating_add(1).saturating_add(usize::from(b));
        }
        let mut pos = start;
        let mut run_start = start;
        let mut limit = window_end;
        let mut len = 0usize;
        let mut resume: Option<usize> = None;
        let mut hops = 0usize;
        loop {
            let b = match msg.get(pos) {
                Some(&b) if pos < limit => b,
                _ => return Err(WireError::Truncated),
            };
            match b & POINTER {
                0 => {
                    // RFC 1035 §2.3.4: 255 octets or less, root label included.
                    len = len.saturating_add(1).saturating_add(usize::from(b));
                    if b == 0 {
                        if len > MAX_NAME_LEN {
                            return Err(WireError::NameTooLong);
                        }
                        let end = resume.unwrap_or(pos.saturating_add(1));
                        r.skip(end.saturating_sub(start))?;
                        return Ok(Self {
                            msg,
                            start,
                            wire_len: len,
                            contiguous: resume.is_none(),
                        });
                    }
                    if len >= MAX_NAME_LEN {
                        return Err(WireError::NameTooLong);
                    }
                    pos = pos.saturating_add(1).saturating_add(usize::from(b));
                    if pos >= limit {
                        return Err(WireError::Truncated);
                    }
                }
                POINTER => {
                    let lo = match msg.get(pos.saturating_add(1)) {
                        Some(&lo) if pos.saturating_add(1) < limit => lo,
                        _ => return Err(WireError::Truncated),
                    };
                    let to = usize::from(u16::from_be_bytes([b & !POINTER, lo]));
                    // RFC 1035 §4.1.4 says "a prior occurrence"; we demand a
                    // target before this run of labels, which forbids loops.
                    hops = hops.saturating_add(1);
                    if to >= run_start || hops > MAX_POINTERS {
                        return Err(WireError::BadPointer {
                            at: offset16(pos),
                            to: offset16(to),
                        });
                    }
                    if resume.is_none() {
                        resume = Some(pos.saturating_add(2));
                    }
                    run_start = to;
                    pos = to;
                    limit = msg.len();
                }
                // RFC 6891 §5 (0b01) and the reserved 0b10 prefix.
                _ => return Err(WireError::LabelType(b)),
            }
        }
    }

    /// The labels, first (leftmost) to last, without the root label.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            msg: self.msg,
            pos: self.start,
            steps: MAX_NAME_LEN.saturating_add(MAX_POINTERS),
        }
    }

    /// Length of the name written out without compression (1 for the root).
    pub const fn wire_len(&self) -> usize {
        self.wire_len
    }

    /// Whether this is the root name.
    pub const fn is_root(&self) -> bool {
        self.wire_len == 1
    }

    /// Number of labels, not counting the root.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// Offset in the message of the name's first octet.
    pub const fn offset(&self) -> usize {
        self.start
    }

    /// Writes the name lowercased (ASCII), uncompressed, in wire form into
    /// `out` and returns the written part: a lookup key.
    pub fn to_lowercase<'b>(&self, out: &'b mut [u8; MAX_NAME_LEN]) -> &'b [u8] {
        let n = self.lowercase_into(out);
        out.get(..n).unwrap_or_default()
    }

    /// Fills `out` with the lowercase key and returns its length.
    fn lowercase_into(&self, out: &mut [u8; MAX_NAME_LEN]) -> usize {
        if let (Some(src), Some(dst)) =
            (self.uncompressed(), out.get_mut(..self.wire_len))
        {
            // Length octets are at most 63, below b'A', so lowercasing the
            // whole wire form changes only the label octets.
            dst.copy_from_slice(src);
            dst.make_ascii_lowercase();
            return src.len();
        }
        let mut n = 0usize;
        for label in self.labels() {
            let Some(dst) =
                out.get_mut(n..n.saturating_add(1).saturating_add(label.len()))
            else {
                break;
            };
            if let Some((len, rest)) = dst.split_first_mut() {
                *len = u8::try_from(label.len()).unwrap_or(0);
                for (d, s) in rest.iter_mut().zip(label) {
                    *d = s.to_ascii_lowercase();
                }
            }
            n = n.saturating_add(1).saturating_add(label.len());
        }
        if let Some(root) = out.get_mut(n) {
            *root = 0;
        }
        n.saturating_add(1)
    }

    /// Case-insensitive comparison with another parsed name.
    pub fn eq_ignore_case(&self, other: &Name<'_>) -> bool {
        self.wire_len == other.wire_len
            && self
                .labels()
                .zip(other.labels())
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// The name's octets in the message if it uses no compression.
    fn uncompressed(&self) -> Option<&'a [u8]> {
        if !self.contiguous {
            return None;
        }
        self.msg
            .get(self.start..self.start.saturating_add(self.wire_len))
    }

    /// Case-insensitive comparison with an uncompressed wire-form name.
    pub fn eq_wire(&self, wire: &[u8]) -> bool {
        if wire.len() != self.wire_len {
            return false;
        }
        if let Some(src) = self.uncompressed() {
            // Length octets (<= 63) compare exactly under ASCII folding.
            return src.eq_ignore_ascii_case(wire);
        }
        let mut rest = wire;
        for label in self.labels() {
            let Some((&n, tail)) = rest.split_first() else {
                return false;
            };
            let Some((l, tail)) = tail.split_at_checked(usize::from(n)) else {
                return false;
            };
            if !l.eq_ignore_ascii_case(label) {
                return false;
            }
            rest = tail;
        }
        rest == [0]
    }

    /// Whether this name equals `zone` (uncompressed wire form) or lies
    /// below it, comparing whole labels case-insensitively.
    pub fn is_subdomain_of(&self, zone: &[u8]) -> bool {
        let mut key = [0u8; MAX_NAME_LEN];
        is_subdomain(self.to_lowercase(&mut key), zone)
    }

    /// Writes the name uncompressed.
    ///
    /// # Errors
    ///
    /// [`WireError::Full`] if it does not fit.
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        for label in self.labels() {
            w.u8(u8::try_from(label.len()).map_err(|_| WireError::LabelTooLong)?)?;
            w.bytes(label)?;
        }
        w.u8(0)
    }
}

impl PartialEq for Name<'_> {
    /// Names are equal if their labels are, ignoring ASCII case (RFC 4343).
    fn eq(&self, other: &Self) -> bool {
        self.eq_ignore_case(other)
    }
}

impl Eq for Name<'_> {}

impl fmt::Display for Name<'_> {
    /// Presentation format (RFC 1035 §5.1, RFC 4343 §2.1): a trailing dot,
    /// `\.` and `\\` escaped, other non-printable octets as `\DDD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for label in self.labels() {
            for &c in label {
                match c {
                    b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                        write!(f, "\\{}", char::from(c))?;
                    }
                    0x21..=0x7e => write!(f, "{}", char::from(c))?,
                    _ => write!(f, "\\{c:03}")?,
                }
            }
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// Iterator over the labels of a [`Name`]; see [`Name::labels`].
#[derive(Clone, Debug)]
pub struct Labels<'a> {
    msg: &'a [u8],
    pos: usize,
    /// Bound on iterations: a validated name has at most 127 labels, 127
    /// pointers and a root label, so this never cuts a valid name short.
    steps: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            self.steps = self.steps.checked_sub(1)?;
            let b = *self.msg.get(self.pos)?;
            match b & POINTER {
                0 if b == 0 => return None,
                0 => {
                    let start = self.pos.checked_add(1)?;
                    let end = start.checked_add(usize::from(b))?;
                    let label = self.msg.get(start..end)?;
                    self.pos = end;
                    return Some(label);
                }
                POINTER => {
                    let lo = *self.msg.get(self.pos.checked_add(1)?)?;
                    self.pos = usize::from(u16::from_be_bytes([b & !POINTER, lo]));
                }
                _ => return None,
            }
        }
    }
}

/// Advances past a name without following pointers: enough to find the
/// next field. Label types are checked; pointer targets are not.
///
/// # Errors
///
/// [`WireError::Truncated`], [`WireError::LabelType`], or
/// [`WireError::NameTooLong`] if the uncompressed part exceeds 255 octets.
pub fn skip_name(r: &mut Reader<'_>) -> Result<(), WireError> {
    let mut len = 0usize;
    loop {
        let b = r.u8()?;
        match b & POINTER {
            0 => {
                len = len.saturating_add(1).saturating_add(usize::from(b));
                if len > MAX_NAME_LEN || (b != 0 && len >= MAX_NAME_LEN) {
                    return Err(WireError::NameTooLong);
                }
                if b == 0 {
                    return Ok(());
                }
                r.skip(usize::from(b))?;
            }
            POINTER => return r.skip(1),
            _ => return Err(WireError::LabelType(b)),
        }
    }
}

/// Checks that `wire` is exactly one uncompressed name in wire form and
/// returns its length.
///
/// # Errors
///
/// [`WireError::LabelType`] for a pointer or reserved label type,
/// [`WireError::NameTooLong`], [`WireError::Truncated`] if the root label
/// is missing, [`WireError::TrailingData`] if octets follow it.
pub fn check_wire(wire: &[u8]) -> Result<usize, WireError> {
    let mut r = Reader::new(wire);
    let mut len = 0usize;
    loop {
        let b = r.u8()?;
        if b & POINTER != 0 {
            return Err(WireError::LabelType(b));
        }
        len = len.saturating_add(1).saturating_add(usize::from(b));
        if len > MAX_NAME_LEN || (b != 0 && len >= MAX_NAME_LEN) {
            return Err(WireError::NameTooLong);
        }
        if b == 0 {
            break;
        }
        r.skip(usize::from(b))?;
    }
    if r.remaining() != 0 {
        return Err(WireError::TrailingData);
    }
    Ok(len)
}

/// Converts a dotted name such as `web.marathon.mesos` or `web.marathon.mesos.`
/// into uncompressed wire form in `out`. `""` and `"."` are the root. No
/// escapes are interpreted: every `.` separates labels.
///
/// # Errors
///
/// [`WireError::EmptyLabel`] for `a..b` or a leading dot,
/// [`WireError::LabelTooLong`], [`WireError::NameTooLong`].
pub fn from_dotted<'b>(
    text: &str,
    out: &'b mut [u8; MAX_NAME_LEN],
) -> Result<&'b [u8], WireError> {
    let text = text.as_bytes();
    let text = text.strip_suffix(b".").unwrap_or(text);
    let mut w = Writer::new(out);
    if !text.is_empty() {
        for label in text.split(|&c| c == b'.') {
            if label.is_empty() {
                return Err(WireError::EmptyLabel);
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(WireError::LabelTooLong);
            }
            let n = u8::try_from(label.len()).map_err(|_| WireError::LabelTooLong)?;
            // A label plus the root octet still to come must fit in 255.
            if w.remaining() < label.len().saturating_add(2) {
                return Err(WireError::NameTooLong);
            }
            w.u8(n).map_err(|_| WireError::NameTooLong)?;
            w.bytes(label).map_err(|_| WireError::NameTooLong)?;
        }
    }
    w.u8(0).map_err(|_| WireError::NameTooLong)?;
    let n = w.len();
    Ok(out.get(..n).unwrap_or_default())
}

/// Whether the uncompressed wire name `name` equals `zone` or lies below
/// it, comparing whole labels case-insensitively. Both must be valid
/// uncompressed names (see [`check_wire`]); otherwise the answer is `false`.
pub fn is_subdomain(name: &[u8], zone: &[u8]) -> bool {
    zone_sized_suffix(name, zone).is_some_and(|s| s.eq_ignore_ascii_case(zone))
}

/// [`is_subdomain`] for names already in one letter case (lowercase lookup
/// keys and zones): the suffix is compared octet for octet, with no case
/// folding.
pub fn is_subdomain_exact(name: &[u8], zone: &[u8]) -> bool {
    zone_sized_suffix(name, zone) == Some(zone)
}

/// The suffix of `name` that starts at a label boundary and is as long as
/// `zone`, if there is one.
fn zone_sized_suffix<'n>(name: &'n [u8], zone: &[u8]) -> Option<&'n [u8]> {
    let mut rest = name;
    while rest.len() > zone.len() {
        let (&n, tail) = rest.split_first()?;
        if n == 0 || n & POINTER != 0 {
            return None;
        }
        rest = tail.get(usize::from(n)..)?;
    }
    (rest.len() == zone.len()).then_some(rest)
}

#[cfg(test)]
mod tests;
