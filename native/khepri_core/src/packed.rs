//! Packed payloads: how node data is held in memory.
//!
//! Commands, log records and snapshots carry payloads in Erlang's external
//! term format (ETF), which is portable. In memory a node keeps a denser,
//! lossless repacking of those bytes: atoms become indexes into a
//! process-wide table (an atom costs one byte instead of its name), a map
//! whose keys are all atoms refers to an interned key set, small integers and
//! short binaries lose their fixed-width headers. The yardstick's ~90-byte
//! payload packs into ~25 bytes, and the NIF builds terms from packed bytes
//! directly, faster than `enif_binary_to_term` on the ETF.
//!
//! Packing is checked: a payload is packed only if unpacking gives back its
//! exact ETF bytes; anything else (compressed terms, funs, references,
//! non-canonical encodings) is kept as raw ETF behind a marker. So every
//! observable payload is exactly what the caller wrote, and table indexes
//! (which differ between VMs) never leave the process: [`unpack`] restores
//! ETF for the log, snapshots and replication.
//!
//! Format: one term, each starting with a tag byte:
//! * `0x00..=0x3f`: the integer 0..63;
//! * `0x40..=0x7f`: atom index 0..63;
//! * `0x80..=0xbf`: binary of 0..63 bytes, then the bytes;
//! * [`T_INT`] zigzag varint (an ETF small or 32-bit integer);
//! * [`T_ATOM`] varint index; [`T_BIN`] varint length then bytes;
//! * [`T_MAP_KS`] varint key-set id then the values, in key-set order;
//! * [`T_MAP`] varint arity then keys and values;
//! * [`T_TUPLE`] varint arity then elements; [`T_NIL`];
//! * [`T_LIST`] varint length, elements, then the tail term;
//! * [`T_STRING`] varint length then bytes (ETF `STRING_EXT`);
//! * [`T_FLOAT`] 8 bytes big-endian; [`T_RAW`] varint length then the ETF of
//!   one term (pids, big integers), without the version byte;
//! * [`T_ETF`] as first byte only: the rest is the whole ETF, unpacked.

use crate::term::tags::{
    ATOM_EXT, ATOM_UTF8_EXT, BINARY_EXT, INTEGER_EXT, LARGE_TUPLE_EXT, LIST_EXT, MAP_EXT,
    NEW_FLOAT_EXT, NEW_PID_EXT, NIL_EXT, PID_EXT, SMALL_ATOM_EXT, SMALL_ATOM_UTF8_EXT,
    SMALL_BIG_EXT, SMALL_INTEGER_EXT, SMALL_TUPLE_EXT, STRING_EXT, VERSION,
};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{LazyLock, RwLock, RwLockReadGuard};

/// Largest integer inline in a tag byte (exclusive bound).
pub const SMALL_INT_LIMIT: u8 = 0x40;
/// First tag of inline atom indexes.
pub const T_SMALL_ATOM: u8 = 0x40;
/// First tag of short binaries (length in the low 6 bits).
pub const T_SHORT_BIN: u8 = 0x80;
/// A zigzag-varint integer.
pub const T_INT: u8 = 0xc0;
/// An atom by varint index.
pub const T_ATOM: u8 = 0xc1;
/// A binary with a varint length.
pub const T_BIN: u8 = 0xc2;
/// A map over an interned key set.
pub const T_MAP_KS: u8 = 0xc3;
/// A map with explicit keys.
pub const T_MAP: u8 = 0xc4;
/// A tuple.
pub const T_TUPLE: u8 = 0xc5;
/// `[]`.
pub const T_NIL: u8 = 0xc6;
/// A list with its tail.
pub const T_LIST: u8 = 0xc7;
/// A byte list (`STRING_EXT`).
pub const T_STRING: u8 = 0xc8;
/// A float.
pub const T_FLOAT: u8 = 0xc9;
/// One term as raw ETF.
pub const T_RAW: u8 = 0xca;
/// The whole payload as raw ETF (version byte included).
pub const T_ETF: u8 = 0xcb;

/// Nesting deeper than this is kept as raw ETF (packing recurses).
const MAX_PACK_DEPTH: usize = 100;
/// Key sets are interned for maps of at most this many keys (flatmaps).
const MAX_KEY_SET_LEN: usize = 32;
/// Bound on interned key sets; later maps use explicit keys.
const MAX_KEY_SETS: usize = 1 << 16;

/// An append-only table of interned values: an index, once given, names
/// the same value for the life of the process.
pub struct Interner<K> {
    ids: HashMap<K, u32>,
    items: Vec<K>,
}

impl<K: Hash + Eq + Clone> Interner<K> {
    fn new() -> Self {
        Interner {
            ids: HashMap::new(),
            items: Vec::new(),
        }
    }

    /// The value at `index`.
    pub fn get(&self, index: usize) -> Option<&K> {
        self.items.get(index)
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The process-wide tables packed payloads refer to.
pub struct Tables {
    /// Atoms, each as its complete ETF encoding (tag, length, name): the
    /// four atom encodings stay distinct, so unpacking restores the one used.
    pub atoms: Interner<Box<[u8]>>,
    /// Key sets: atom indexes of a map's keys, in ETF order.
    pub key_sets: Interner<Box<[u32]>>,
}

static TABLES: LazyLock<RwLock<Tables>> = LazyLock::new(|| {
    RwLock::new(Tables {
        atoms: Interner::new(),
        key_sets: Interner::new(),
    })
});

/// Read access to the tables, for decoders of packed bytes. Packing waits
/// while a guard is held, so hold it for one read, not longer.
pub fn tables() -> RwLockReadGuard<'static, Tables> {
    // The tables are only appended to: a panic mid-insert leaves them usable.
    TABLES.read().unwrap_or_else(|p| p.into_inner())
}

/// Appends `v` as a LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint at `*pos`.
pub fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

/// Zigzag-encodes a signed integer.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Packs ETF bytes (see the module doc). Always succeeds: what cannot be
/// packed exactly is kept raw.
pub fn pack(etf: &[u8]) -> Vec<u8> {
    let mut p = Packer {
        input: etf,
        pos: 1,
        out: Vec::with_capacity(etf.len() / 2 + 8),
        new_atoms: Vec::new(),
        new_key_sets: Vec::new(),
    };
    if etf.first() == Some(&VERSION) && p.term(0).is_some() && p.pos == etf.len() {
        if let Some(packed) = p.commit() {
            if unpack(&packed).as_deref() == Some(etf) {
                return packed;
            }
        }
    }
    let mut raw = Vec::with_capacity(etf.len() + 1);
    raw.push(T_ETF);
    raw.extend_from_slice(etf);
    raw
}

/// A packed atom or key set not yet in the tables, referred to in `out` by
/// a provisional index; [`Packer::commit`] interns them and rewrites.
struct Packer<'a> {
    input: &'a [u8],
    pos: usize,
    out: Vec<u8>,
    /// Atoms missing from the table (their ETF encodings), by provisional id.
    new_atoms: Vec<&'a [u8]>,
    /// Key sets needing interning (atoms as provisional-or-real refs).
    new_key_sets: Vec<Vec<AtomRef>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum AtomRef {
    Known(u32),
    New(u32),
}

impl<'a> Packer<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.input.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u16(&mut self) -> Option<usize> {
        let b = self.take(2)?;
        Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads one atom's encoding (at `pos`) and returns its reference.
    fn atom(&mut self) -> Option<AtomRef> {
        let start = self.pos;
        let tag = self.u8()?;
        let len = match tag {
            ATOM_EXT | ATOM_UTF8_EXT => self.u16()?,
            SMALL_ATOM_EXT | SMALL_ATOM_UTF8_EXT => usize::from(self.u8()?),
            _ => return None,
        };
        self.take(len)?;
        let enc = &self.input[start..self.pos];
        if let Some(&id) = tables().atoms.ids.get(enc) {
            return Some(AtomRef::Known(id));
        }
        let id = match self.new_atoms.iter().position(|a| *a == enc) {
            Some(i) => i,
            None => {
                self.new_atoms.push(enc);
                self.new_atoms.len() - 1
            }
        };
        Some(AtomRef::New(id as u32))
    }

    /// Writes an atom reference; new atoms get a placeholder fixed up later.
    fn put_atom(&mut self, a: AtomRef) {
        match a {
            AtomRef::Known(i) if i < 64 => self.out.push(T_SMALL_ATOM | i as u8),
            AtomRef::Known(i) => {
                self.out.push(T_ATOM);
                put_varint(&mut self.out, u64::from(i));
            }
            // Provisional: 0xff then the provisional id; rewritten by commit.
            AtomRef::New(i) => {
                self.out.push(0xff);
                put_varint(&mut self.out, u64::from(i));
            }
        }
    }

    fn term(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_PACK_DEPTH {
            return None;
        }
        let tag = *self.input.get(self.pos)?;
        match tag {
            SMALL_INTEGER_EXT => {
                self.pos += 1;
                let v = self.u8()?;
                if v < SMALL_INT_LIMIT {
                    self.out.push(v);
                } else {
                    self.out.push(T_INT);
                    put_varint(&mut self.out, zigzag(i64::from(v)));
                }
            }
            INTEGER_EXT => {
                self.pos += 1;
                let v = self.u32()? as i32;
                self.out.push(T_INT);
                put_varint(&mut self.out, zigzag(i64::from(v)));
            }
            NEW_FLOAT_EXT => {
                self.pos += 1;
                let b = self.take(8)?;
                self.out.push(T_FLOAT);
                self.out.extend_from_slice(b);
            }
            ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_EXT | SMALL_ATOM_UTF8_EXT => {
                let a = self.atom()?;
                self.put_atom(a);
            }
            BINARY_EXT => {
                self.pos += 1;
                let len = self.u32()? as usize;
                let b = self.take(len)?;
                if len < 64 {
                    self.out.push(T_SHORT_BIN | len as u8);
                } else {
                    self.out.push(T_BIN);
                    put_varint(&mut self.out, len as u64);
                }
                self.out.extend_from_slice(b);
            }
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT => {
                self.pos += 1;
                let arity = if tag == SMALL_TUPLE_EXT {
                    usize::from(self.u8()?)
                } else {
                    self.u32()? as usize
                };
                self.out.push(T_TUPLE);
                put_varint(&mut self.out, arity as u64);
                for _ in 0..arity {
                    self.term(depth + 1)?;
                }
            }
            NIL_EXT => {
                self.pos += 1;
                self.out.push(T_NIL);
            }
            STRING_EXT => {
                self.pos += 1;
                let len = self.u16()?;
                let b = self.take(len)?;
                self.out.push(T_STRING);
                put_varint(&mut self.out, len as u64);
                self.out.extend_from_slice(b);
            }
            LIST_EXT => {
                self.pos += 1;
                let len = self.u32()? as usize;
                self.out.push(T_LIST);
                put_varint(&mut self.out, len as u64);
                for _ in 0..=len {
                    self.term(depth + 1)?;
                }
            }
            MAP_EXT => {
                self.pos += 1;
                let arity = self.u32()? as usize;
                self.map(arity, depth)?;
            }
            SMALL_BIG_EXT => {
                let start = self.pos;
                self.pos += 1;
                let n = usize::from(self.u8()?);
                self.take(1 + n)?;
                self.raw(start);
            }
            NEW_PID_EXT | PID_EXT => {
                let start = self.pos;
                self.pos += 1;
                self.atom()?;
                self.take(if tag == NEW_PID_EXT { 12 } else { 9 })?;
                self.raw(start);
            }
            _ => return None,
        }
        Some(())
    }

    fn raw(&mut self, start: usize) {
        self.out.push(T_RAW);
        put_varint(&mut self.out, (self.pos - start) as u64);
        self.out.extend_from_slice(&self.input[start..self.pos]);
    }

    fn map(&mut self, arity: usize, depth: usize) -> Option<()> {
        // Keys that are all atoms: a key set, then the values alone.
        if arity > 0 && arity <= MAX_KEY_SET_LEN {
            let save = (self.pos, self.out.len());
            let mut keys = Vec::with_capacity(arity);
            let mut values = std::mem::take(&mut self.out);
            let body_start = values.len();
            let mut all_atoms = true;
            for _ in 0..arity {
                match self.input.get(self.pos) {
                    Some(&(ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_EXT | SMALL_ATOM_UTF8_EXT)) => {
                        keys.push(self.atom()?);
                    }
                    _ => {
                        all_atoms = false;
                        break;
                    }
                }
                // Values are packed into `values` after a placeholder header.
                std::mem::swap(&mut self.out, &mut values);
                let r = self.term(depth + 1);
                std::mem::swap(&mut self.out, &mut values);
                r?;
            }
            if all_atoms {
                let body = values.split_off(body_start);
                self.out = values;
                self.out.push(T_MAP_KS);
                let id = self.key_set(keys);
                self.out.push(0xff);
                put_varint(&mut self.out, id as u64);
                self.out.extend_from_slice(&body);
                return Some(());
            }
            values.truncate(save.1);
            self.out = values;
            self.pos = save.0;
        }
        self.out.push(T_MAP);
        put_varint(&mut self.out, arity as u64);
        for _ in 0..arity {
            self.term(depth + 1)?;
            self.term(depth + 1)?;
        }
        Some(())
    }

    /// Provisional id of a key set (resolved by `commit`).
    fn key_set(&mut self, keys: Vec<AtomRef>) -> usize {
        match self.new_key_sets.iter().position(|k| *k == keys) {
            Some(i) => i,
            None => {
                self.new_key_sets.push(keys);
                self.new_key_sets.len() - 1
            }
        }
    }

    /// Interns what this payload needs and rewrites provisional references.
    /// `None` when the key-set table is full and one would be needed (the
    /// caller then keeps the payload raw).
    fn commit(self) -> Option<Vec<u8>> {
        let Packer {
            out,
            new_atoms,
            new_key_sets,
            ..
        } = self;
        let atom_ids: Vec<u32>;
        let ks_ids: Vec<u32>;
        {
            let resolve = |a: &AtomRef, atom_ids: &[u32]| match *a {
                AtomRef::Known(i) => Some(i),
                AtomRef::New(i) => atom_ids.get(i as usize).copied(),
            };
            // Fast path: every key set already interned, no new atom.
            let read = tables();
            let mut found = Vec::with_capacity(new_key_sets.len());
            if new_atoms.is_empty() {
                for ks in &new_key_sets {
                    let ids: Option<Vec<u32>> = ks.iter().map(|a| resolve(a, &[])).collect();
                    match ids.and_then(|ids| read.key_sets.ids.get(ids.as_slice()).copied()) {
                        Some(id) => found.push(id),
                        None => break,
                    }
                }
            }
            if new_atoms.is_empty() && found.len() == new_key_sets.len() {
                atom_ids = Vec::new();
                ks_ids = found;
            } else {
                drop(read);
                let mut t = TABLES.write().unwrap_or_else(|p| p.into_inner());
                let ids: Vec<u32> = new_atoms
                    .iter()
                    .map(|enc| intern(&mut t.atoms, Box::from(*enc)))
                    .collect::<Option<_>>()?;
                let mut kss = Vec::with_capacity(new_key_sets.len());
                for ks in &new_key_sets {
                    let keys: Box<[u32]> =
                        ks.iter().map(|a| resolve(a, &ids)).collect::<Option<_>>()?;
                    let id = match t.key_sets.ids.get(&keys) {
                        Some(&id) => id,
                        None if t.key_sets.len() < MAX_KEY_SETS => intern(&mut t.key_sets, keys)?,
                        None => return None,
                    };
                    kss.push(id);
                }
                atom_ids = ids;
                ks_ids = kss;
            }
        }
        if atom_ids.is_empty() && ks_ids.is_empty() {
            return Some(out);
        }
        Some(rewrite(&out, &atom_ids, &ks_ids))
    }
}

fn intern<K: Hash + Eq + Clone>(t: &mut Interner<K>, k: K) -> Option<u32> {
    if let Some(&id) = t.ids.get(&k) {
        return Some(id);
    }
    let id = u32::try_from(t.items.len()).ok()?;
    t.ids.insert(k.clone(), id);
    t.items.push(k);
    Some(id)
}

/// Copies packed bytes, replacing provisional atom references (`0xff`
/// varint) with real indexes and provisional key-set ids after `T_MAP_KS`.
fn rewrite(packed: &[u8], atom_ids: &[u32], ks_ids: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(packed.len() + 8);
    let mut pos = 0;
    rewrite_term(packed, &mut pos, &mut out, atom_ids, ks_ids);
    out
}

fn rewrite_atom(out: &mut Vec<u8>, id: u32) {
    if id < 64 {
        out.push(T_SMALL_ATOM | id as u8);
    } else {
        out.push(T_ATOM);
        put_varint(out, u64::from(id));
    }
}

// Input is our own well-formed packer output: indexing cannot fail.
fn rewrite_term(buf: &[u8], pos: &mut usize, out: &mut Vec<u8>, atoms: &[u32], kss: &[u32]) {
    let tag = buf[*pos];
    *pos += 1;
    let varint = |pos: &mut usize| get_varint(buf, pos).unwrap_or(0);
    match tag {
        0xff => {
            let i = varint(pos) as usize;
            rewrite_atom(out, atoms[i]);
        }
        t if t < T_INT => {
            out.push(t);
            if t >= T_SHORT_BIN {
                let len = usize::from(t & 0x3f);
                out.extend_from_slice(&buf[*pos..*pos + len]);
                *pos += len;
            }
        }
        T_INT | T_ATOM => {
            let v = varint(pos);
            out.push(tag);
            put_varint(out, v);
        }
        T_BIN | T_STRING | T_RAW => {
            let len = varint(pos) as usize;
            out.push(tag);
            put_varint(out, len as u64);
            out.extend_from_slice(&buf[*pos..*pos + len]);
            *pos += len;
        }
        T_FLOAT => {
            out.push(tag);
            out.extend_from_slice(&buf[*pos..*pos + 8]);
            *pos += 8;
        }
        T_NIL => out.push(tag),
        T_TUPLE => {
            let n = varint(pos);
            out.push(tag);
            put_varint(out, n);
            for _ in 0..n {
                rewrite_term(buf, pos, out, atoms, kss);
            }
        }
        T_LIST => {
            let n = varint(pos);
            out.push(tag);
            put_varint(out, n);
            for _ in 0..=n {
                rewrite_term(buf, pos, out, atoms, kss);
            }
        }
        T_MAP => {
            let n = varint(pos);
            out.push(tag);
            put_varint(out, n);
            for _ in 0..2 * n {
                rewrite_term(buf, pos, out, atoms, kss);
            }
        }
        T_MAP_KS => {
            // Always provisional in packer output.
            *pos += 1;
            let i = varint(pos) as usize;
            out.push(tag);
            put_varint(out, u64::from(kss[i]));
            let n = tables()
                .key_sets
                .get(kss[i] as usize)
                .map_or(0, |k| k.len());
            for _ in 0..n {
                rewrite_term(buf, pos, out, atoms, kss);
            }
        }
        _ => {}
    }
}

/// A copy of the tables: atoms (ETF encodings) and key sets.
pub type TableImage = (Vec<Box<[u8]>>, Vec<Box<[u32]>>);

/// The tables' contents, for a snapshot. Packed bytes made before this call
/// refer only to what it returns.
pub fn export_tables() -> TableImage {
    let t = tables();
    (t.atoms.items.clone(), t.key_sets.items.clone())
}

/// Interns another process's tables (from [`export_tables`]); returns the
/// local index of each of its atoms and key sets, for [`remap`]. `None` when
/// they are malformed.
pub fn import_tables(atoms: &[Box<[u8]>], key_sets: &[Box<[u32]>]) -> Option<(Vec<u32>, Vec<u32>)> {
    let mut t = TABLES.write().unwrap_or_else(|p| p.into_inner());
    let atom_ids = atoms
        .iter()
        .map(|a| intern(&mut t.atoms, a.clone()))
        .collect::<Option<Vec<u32>>>()?;
    let mut ks_ids = Vec::with_capacity(key_sets.len());
    for ks in key_sets {
        let local: Box<[u32]> = ks
            .iter()
            .map(|&a| atom_ids.get(a as usize).copied())
            .collect::<Option<_>>()?;
        ks_ids.push(intern(&mut t.key_sets, local)?);
    }
    Some((atom_ids, ks_ids))
}

/// Rewrites packed bytes made against another table (see [`import_tables`]):
/// `atoms[i]` and `key_sets[i]` are the local indexes. `None` for bytes that
/// are not well formed.
pub fn remap(packed: &[u8], atoms: &[u32], key_sets: &[u32]) -> Option<Vec<u8>> {
    if packed.first() == Some(&T_ETF) {
        return Some(packed.to_vec());
    }
    let t = tables();
    let mut out = Vec::with_capacity(packed.len() + 4);
    let mut pos = 0;
    remap_term(&t, packed, &mut pos, &mut out, atoms, key_sets, 0)?;
    (pos == packed.len()).then_some(out)
}

fn remap_term(
    t: &Tables,
    buf: &[u8],
    pos: &mut usize,
    out: &mut Vec<u8>,
    atoms: &[u32],
    kss: &[u32],
    depth: usize,
) -> Option<()> {
    if depth > MAX_PACK_DEPTH + 1 {
        return None;
    }
    let tag = *buf.get(*pos)?;
    *pos += 1;
    let copy = |pos: &mut usize, out: &mut Vec<u8>, len: usize| -> Option<()> {
        out.extend_from_slice(buf.get(*pos..pos.checked_add(len)?)?);
        *pos += len;
        Some(())
    };
    match tag {
        v if v < SMALL_INT_LIMIT => out.push(v),
        a if a < T_SHORT_BIN => rewrite_atom(out, *atoms.get(usize::from(a & 0x3f))?),
        b if b < T_INT => {
            out.push(b);
            copy(pos, out, usize::from(b & 0x3f))?;
        }
        T_INT => {
            out.push(tag);
            put_varint(out, get_varint(buf, pos)?);
        }
        T_ATOM => {
            let i = usize::try_from(get_varint(buf, pos)?).ok()?;
            rewrite_atom(out, *atoms.get(i)?);
        }
        T_BIN | T_STRING | T_RAW => {
            let len = get_varint(buf, pos)?;
            out.push(tag);
            put_varint(out, len);
            copy(pos, out, usize::try_from(len).ok()?)?;
        }
        T_FLOAT => {
            out.push(tag);
            copy(pos, out, 8)?;
        }
        T_NIL => out.push(tag),
        T_TUPLE | T_LIST | T_MAP => {
            let n = get_varint(buf, pos)?;
            out.push(tag);
            put_varint(out, n);
            let items = match tag {
                T_TUPLE => n,
                T_LIST => n.checked_add(1)?,
                _ => n.checked_mul(2)?,
            };
            for _ in 0..items {
                remap_term(t, buf, pos, out, atoms, kss, depth + 1)?;
            }
        }
        T_MAP_KS => {
            let i = usize::try_from(get_varint(buf, pos)?).ok()?;
            let local = *kss.get(i)?;
            out.push(tag);
            put_varint(out, u64::from(local));
            for _ in 0..t.key_sets.get(local as usize)?.len() {
                remap_term(t, buf, pos, out, atoms, kss, depth + 1)?;
            }
        }
        _ => return None,
    }
    Some(())
}

/// Restores the exact ETF bytes of a packed payload; `None` only for bytes
/// that are not packer output.
pub fn unpack(packed: &[u8]) -> Option<Vec<u8>> {
    if packed.first() == Some(&T_ETF) {
        return Some(packed[1..].to_vec());
    }
    let t = tables();
    let mut out = Vec::with_capacity(packed.len() * 3 + 16);
    out.push(VERSION);
    let mut pos = 0;
    unpack_term(&t, packed, &mut pos, &mut out, 0)?;
    (pos == packed.len()).then_some(out)
}

fn unpack_term(
    t: &Tables,
    buf: &[u8],
    pos: &mut usize,
    out: &mut Vec<u8>,
    depth: usize,
) -> Option<()> {
    if depth > MAX_PACK_DEPTH + 1 {
        return None;
    }
    let tag = *buf.get(*pos)?;
    *pos += 1;
    match tag {
        v if v < SMALL_INT_LIMIT => out.extend_from_slice(&[SMALL_INTEGER_EXT, v]),
        a if a < T_SHORT_BIN => out.extend_from_slice(t.atoms.get(usize::from(a & 0x3f))?),
        b if b < T_INT => {
            let len = usize::from(b & 0x3f);
            put_binary(out, buf.get(*pos..*pos + len)?);
            *pos += len;
        }
        T_INT => {
            let v = unzigzag(get_varint(buf, pos)?);
            if (0..=255).contains(&v) {
                out.extend_from_slice(&[SMALL_INTEGER_EXT, v as u8]);
            } else {
                out.push(INTEGER_EXT);
                out.extend_from_slice(&i32::try_from(v).ok()?.to_be_bytes());
            }
        }
        T_ATOM => {
            let i = usize::try_from(get_varint(buf, pos)?).ok()?;
            out.extend_from_slice(t.atoms.get(i)?);
        }
        T_BIN => {
            let len = usize::try_from(get_varint(buf, pos)?).ok()?;
            put_binary(out, buf.get(*pos..pos.checked_add(len)?)?);
            *pos += len;
        }
        T_STRING => {
            let len = usize::try_from(get_varint(buf, pos)?).ok()?;
            out.push(STRING_EXT);
            out.extend_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
            out.extend_from_slice(buf.get(*pos..pos.checked_add(len)?)?);
            *pos += len;
        }
        T_RAW => {
            let len = usize::try_from(get_varint(buf, pos)?).ok()?;
            out.extend_from_slice(buf.get(*pos..pos.checked_add(len)?)?);
            *pos += len;
        }
        T_FLOAT => {
            out.push(NEW_FLOAT_EXT);
            out.extend_from_slice(buf.get(*pos..*pos + 8)?);
            *pos += 8;
        }
        T_NIL => out.push(NIL_EXT),
        T_TUPLE => {
            let n = get_varint(buf, pos)?;
            match u8::try_from(n) {
                Ok(small) => out.extend_from_slice(&[SMALL_TUPLE_EXT, small]),
                Err(_) => {
                    out.push(LARGE_TUPLE_EXT);
                    out.extend_from_slice(&u32::try_from(n).ok()?.to_be_bytes());
                }
            }
            for _ in 0..n {
                unpack_term(t, buf, pos, out, depth + 1)?;
            }
        }
        T_LIST => {
            let n = get_varint(buf, pos)?;
            out.push(LIST_EXT);
            out.extend_from_slice(&u32::try_from(n).ok()?.to_be_bytes());
            for _ in 0..=n {
                unpack_term(t, buf, pos, out, depth + 1)?;
            }
        }
        T_MAP => {
            let n = get_varint(buf, pos)?;
            out.push(MAP_EXT);
            out.extend_from_slice(&u32::try_from(n).ok()?.to_be_bytes());
            for _ in 0..2 * n {
                unpack_term(t, buf, pos, out, depth + 1)?;
            }
        }
        T_MAP_KS => {
            let id = usize::try_from(get_varint(buf, pos)?).ok()?;
            let keys = t.key_sets.get(id)?;
            out.push(MAP_EXT);
            out.extend_from_slice(&(keys.len() as u32).to_be_bytes());
            for &k in keys.iter() {
                out.extend_from_slice(t.atoms.get(k as usize)?);
                unpack_term(t, buf, pos, out, depth + 1)?;
            }
        }
        _ => return None,
    }
    Some(())
}

fn put_binary(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(BINARY_EXT);
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::{encode, Term};

    fn yardstick(n: i64) -> Term {
        Term::map(vec![
            (
                Term::atom("name"),
                Term::Binary(format!("queue-{n}").into_bytes()),
            ),
            (Term::atom("vhost"), Term::Binary(b"/".to_vec())),
            (Term::atom("durable"), Term::atom("true")),
            (Term::atom("type"), Term::atom("classic")),
            (Term::atom("seq"), Term::Int(n)),
        ])
    }

    #[test]
    fn round_trips_and_is_small() {
        for n in [0, 1, 63, 64, 255, 256, 123_456, -5, i64::from(i32::MAX)] {
            let etf = encode(&yardstick(n));
            let packed = pack(&etf);
            assert_ne!(packed[0], T_ETF, "{n}");
            assert_eq!(unpack(&packed).unwrap(), etf);
            assert!(packed.len() < 30, "{} bytes", packed.len());
        }
    }

    #[test]
    fn exotic_terms_round_trip() {
        let terms = vec![
            Term::Nil,
            Term::Float(1.5),
            Term::Int(1 << 40),
            Term::Int(-(1 << 40)),
            Term::list(vec![Term::Int(1), Term::Int(300)]),
            Term::improper_list(vec![Term::atom("a")], Term::atom("b")),
            Term::Tuple((0..300).map(Term::Int).collect()),
            Term::Binary(vec![9; 1000]),
            Term::map(vec![(Term::Int(1), Term::atom("x"))]),
            Term::map(
                (0..40)
                    .map(|i| (Term::atom(&format!("k{i}")), Term::Int(i)))
                    .collect(),
            ),
            Term::atom("\u{1f600}"),
        ];
        for t in terms {
            let etf = encode(&t);
            assert_eq!(unpack(&pack(&etf)).unwrap(), etf, "{t:?}");
        }
    }

    #[test]
    fn unpackable_bytes_are_kept_raw() {
        for etf in [vec![], vec![1, 2, 3], vec![131, 97], vec![131, 97, 1, 0]] {
            let p = pack(&etf);
            assert_eq!(p[0], T_ETF);
            assert_eq!(unpack(&p).unwrap(), etf);
        }
    }
}
