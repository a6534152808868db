//! Terms built straight from packed payloads (`khepri_core::packed`).
//!
//! Faster than `enif_binary_to_term` on the ETF: atoms come from a cache
//! indexed by the packed atom index (atoms are never freed by the VM, so a
//! term made once is valid in every environment), and no sizing pass is
//! needed. Measured on the yardstick's payload in `get_many` of 10,000
//! children: see README ("Engine decisions").

use crate::codec::{decode_stored_term, encode_bytes};
use khepri_core::node::{Node, Stored};
use khepri_core::packed::{self, get_varint, unzigzag, Tables};
use khepri_core::term::tags::{ATOM_EXT, ATOM_UTF8_EXT, SMALL_ATOM_EXT, SMALL_ATOM_UTF8_EXT};
use rustler::sys::{enif_make_atom_len, enif_make_list_cell, ErlNifTerm};
use rustler::types::tuple::make_tuple;
use rustler::{Encoder, Env, Term};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Atom terms by packed atom index; 0 when not made yet.
static ATOM_TERMS: [AtomicUsize; 4096] = [const { AtomicUsize::new(0) }; 4096];

/// Decodes packed payloads of one read; holds the packing tables' read
/// lock, so it lives for one NIF call.
pub struct Decoder<'a> {
    env: Env<'a>,
    tables: std::sync::RwLockReadGuard<'static, Tables>,
    /// Children of the containers being built.
    stack: Vec<Term<'a>>,
}

impl<'a> Decoder<'a> {
    /// A decoder for terms in `env`.
    pub fn new(env: Env<'a>) -> Self {
        Decoder {
            env,
            tables: packed::tables(),
            stack: Vec::with_capacity(64),
        }
    }

    /// The node's data or sproc term; `None` when it has no payload.
    pub fn payload(&mut self, node: &Node) -> Option<Term<'a>> {
        match node.stored() {
            Stored::None => None,
            Stored::Etf(_, b) => Some(decode_stored_term(self.env, b.as_slice())),
            Stored::Packed(_, p) => Some(self.packed(p)),
        }
    }

    /// The term of packed bytes.
    pub fn packed(&mut self, p: &[u8]) -> Term<'a> {
        if p.first() == Some(&packed::T_ETF) {
            return decode_stored_term(self.env, &p[1..]);
        }
        let mut pos = 0;
        match self.term(p, &mut pos) {
            Some(t) => t,
            // Packed bytes are checked when packed; keep the VM up anyway,
            // decoding the ETF they stand for.
            None => {
                self.stack.clear();
                let etf = packed::unpack(p).unwrap_or_default();
                decode_stored_term(self.env, &etf)
            }
        }
    }

    fn atom(&self, index: usize) -> Option<Term<'a>> {
        let cached = ATOM_TERMS.get(index).map(|c| c.load(Ordering::Relaxed));
        if let Some(raw) = cached.filter(|&raw| raw != 0) {
            // SAFETY: an atom term (ErlNifTerm is a transparent usize),
            // valid in every environment.
            return Some(unsafe {
                Term::new(self.env, std::mem::transmute::<usize, ErlNifTerm>(raw))
            });
        }
        let t = make_atom(self.env, self.tables.atoms.get(index)?)?;
        if let Some(c) = ATOM_TERMS.get(index) {
            // SAFETY: ErlNifTerm is a transparent usize.
            c.store(
                unsafe { std::mem::transmute::<ErlNifTerm, usize>(t.as_c_arg()) },
                Ordering::Relaxed,
            );
        }
        Some(t)
    }

    fn binary(&self, bytes: &[u8]) -> Term<'a> {
        encode_bytes(self.env, bytes)
    }

    /// Builds the children pushed since `start` into one term with `make`.
    fn collect(
        &mut self,
        start: usize,
        make: impl FnOnce(Env<'a>, &[Term<'a>]) -> Option<Term<'a>>,
    ) -> Option<Term<'a>> {
        let t = make(self.env, &self.stack[start..]);
        self.stack.truncate(start);
        t
    }

    fn term(&mut self, buf: &[u8], pos: &mut usize) -> Option<Term<'a>> {
        let env = self.env;
        let tag = *buf.get(*pos)?;
        *pos += 1;
        Some(match tag {
            v if v < packed::SMALL_INT_LIMIT => i64::from(v).encode(env),
            a if a < packed::T_SHORT_BIN => self.atom(usize::from(a & 0x3f))?,
            b if b < packed::T_INT => {
                let len = usize::from(b & 0x3f);
                let t = self.binary(buf.get(*pos..*pos + len)?);
                *pos += len;
                t
            }
            packed::T_INT => unzigzag(get_varint(buf, pos)?).encode(env),
            packed::T_ATOM => self.atom(usize::try_from(get_varint(buf, pos)?).ok()?)?,
            packed::T_BIN => {
                let len = usize::try_from(get_varint(buf, pos)?).ok()?;
                let t = self.binary(buf.get(*pos..pos.checked_add(len)?)?);
                *pos += len;
                t
            }
            packed::T_STRING => {
                let len = usize::try_from(get_varint(buf, pos)?).ok()?;
                let bytes = buf.get(*pos..pos.checked_add(len)?)?;
                *pos += len;
                bytes
                    .iter()
                    .map(|&b| i64::from(b))
                    .collect::<Vec<_>>()
                    .encode(env)
            }
            packed::T_FLOAT => {
                let b: [u8; 8] = buf.get(*pos..*pos + 8)?.try_into().ok()?;
                *pos += 8;
                f64::from_be_bytes(b).encode(env)
            }
            packed::T_NIL => Vec::<Term>::new().encode(env),
            packed::T_RAW => {
                let len = usize::try_from(get_varint(buf, pos)?).ok()?;
                let raw = buf.get(*pos..pos.checked_add(len)?)?;
                *pos += len;
                let mut etf = Vec::with_capacity(len + 1);
                etf.push(131);
                etf.extend_from_slice(raw);
                // SAFETY: as for `decode_stored_term`, stored bytes.
                unsafe { env.binary_to_term_trusted(&etf)?.0 }
            }
            packed::T_TUPLE => {
                let n = get_varint(buf, pos)?;
                let start = self.stack.len();
                for _ in 0..n {
                    let t = self.term(buf, pos)?;
                    self.stack.push(t);
                }
                self.collect(start, |env, items| Some(make_tuple(env, items)))?
            }
            packed::T_LIST => {
                let n = get_varint(buf, pos)?;
                let start = self.stack.len();
                for _ in 0..n {
                    let t = self.term(buf, pos)?;
                    self.stack.push(t);
                }
                let tail = self.term(buf, pos)?;
                self.collect(start, |env, items| {
                    Some(items.iter().rev().fold(tail, |acc, head| {
                        // SAFETY: both terms belong to `env`.
                        unsafe {
                            Term::new(
                                env,
                                enif_make_list_cell(
                                    env.as_c_arg(),
                                    head.as_c_arg(),
                                    acc.as_c_arg(),
                                ),
                            )
                        }
                    }))
                })?
            }
            packed::T_MAP => {
                let n = get_varint(buf, pos)?;
                let start = self.stack.len();
                for _ in 0..2 * n {
                    let t = self.term(buf, pos)?;
                    self.stack.push(t);
                }
                self.collect(start, |env, items| {
                    let keys: Vec<Term> = items.iter().step_by(2).copied().collect();
                    let values: Vec<Term> = items.iter().skip(1).step_by(2).copied().collect();
                    Term::map_from_arrays(env, &keys, &values).ok()
                })?
            }
            packed::T_MAP_KS => {
                let id = usize::try_from(get_varint(buf, pos)?).ok()?;
                let n = self.tables.key_sets.get(id)?.len();
                let start = self.stack.len();
                for i in 0..n {
                    let k = self.tables.key_sets.get(id)?[i] as usize;
                    let t = self.atom(k)?;
                    self.stack.push(t);
                }
                for _ in 0..n {
                    let t = self.term(buf, pos)?;
                    self.stack.push(t);
                }
                self.collect(start, |env, items| {
                    let (keys, values) = items.split_at(n);
                    Term::map_from_arrays(env, keys, values).ok()
                })?
            }
            _ => return None,
        })
    }
}

/// An atom from its ETF encoding (tag, length, name).
fn make_atom<'a>(env: Env<'a>, enc: &[u8]) -> Option<Term<'a>> {
    let (latin1, name) = match enc {
        [ATOM_EXT, _, _, name @ ..] => (true, name),
        [SMALL_ATOM_EXT, _, name @ ..] => (true, name),
        [ATOM_UTF8_EXT, _, _, name @ ..] => (false, name),
        [SMALL_ATOM_UTF8_EXT, _, name @ ..] => (false, name),
        _ => return None,
    };
    if latin1 || name.is_ascii() {
        // SAFETY: `name` is valid for `len` bytes; Latin-1 (or ASCII) text.
        let raw = unsafe { enif_make_atom_len(env.as_c_arg(), name.as_ptr().cast(), name.len()) };
        return Some(unsafe { Term::new(env, raw) });
    }
    let mut etf = Vec::with_capacity(enc.len() + 1);
    etf.push(131);
    etf.extend_from_slice(enc);
    env.binary_to_term(&etf).map(|(t, _)| t)
}

/// The payload of `node` as a term (`None` without payload), for a single
/// read; see [`Decoder`] for many.
pub fn payload_term<'a>(env: Env<'a>, node: &Node) -> Option<Term<'a>> {
    match node.stored() {
        Stored::None => None,
        Stored::Etf(_, b) => Some(decode_stored_term(env, b.as_slice())),
        Stored::Packed(_, p) => Some(Decoder::new(env).packed(p)),
    }
}
