//! Erlang terms in Rust: an owned representation, the external term format
//! (decoding and encoding), and Erlang's term order.
//!
//! Conditions that look into node data (`#if_data_matches{}`) decode the
//! stored `term_to_binary` bytes into a [`Term`] and evaluate the match spec
//! here: applying a command must never call back into the BEAM.
//!
//! Equality comes in two flavours, as in Erlang:
//! * `==` ([`Term::arith_eq`], also Rust's `PartialEq`/`Ord`): numbers compare
//!   by value, so `1 == 1.0`.
//! * `=:=` ([`Term::exact_eq`]): an integer never equals a float.
//!
//! Floats follow OTP 25: `0.0 =:= -0.0` is true (OTP 27 changed this).

pub(crate) mod arith;
mod bigint;
mod decode;
mod encode;
mod inflate;
mod map;
mod opaque;
mod order;
pub mod tags;

pub use bigint::{BigInt, MAX_INT_BITS};
pub use decode::{decode, decode_prefix, DecodeError, MAX_DEPTH};
pub use encode::encode;
pub use map::TermMap;
pub use opaque::{Export, Fun, Pid, Port, Reference};

pub(crate) use bigint::Wide;

use std::fmt;
use std::sync::Arc;

/// An Erlang term.
///
/// Canonical forms (what the decoder and the constructors produce, and what
/// the rest of the crate expects; non-canonical values are still compared
/// and encoded correctly):
/// * integers that fit an `i64` are `Int`, larger ones `Big`;
/// * `Float` is finite (Erlang has no infinities or NaN);
/// * a bitstring whose length is a whole number of bytes is a `Binary`;
/// * `List` has at least one element and its tail is not itself a `List`
///   (`[]` is `Nil`; `[1|[2]]` is one `List` of two elements).
///
/// `Term` implements `Drop` and `Clone` without recursion, so terms of any
/// depth can be dropped and cloned on a small stack. The price is that a
/// `Term` cannot be destructured by value (`match t { Term::Tuple(v) => v }`
/// does not compile): match on a reference, or take the parts out with
/// `std::mem::take` (`Term::default()` is `[]`).
pub enum Term {
    /// An integer that fits an `i64`.
    Int(i64),
    /// An integer that does not fit an `i64`.
    Big(BigInt),
    /// A float (finite).
    Float(f64),
    /// An atom, as UTF-8 text (at most 255 characters).
    Atom(Arc<str>),
    /// A binary: a whole number of bytes.
    Binary(Vec<u8>),
    /// A bitstring that is not a whole number of bytes.
    Bitstring {
        /// The bytes; the last one holds `bits` significant high bits, the
        /// unused low bits are zero.
        bytes: Vec<u8>,
        /// Significant bits in the last byte, 1 to 7.
        bits: u8,
    },
    /// A tuple.
    Tuple(Vec<Term>),
    /// A non-empty list: its elements and its tail (`Nil` for a proper list).
    List(Vec<Term>, Box<Term>),
    /// A map.
    Map(TermMap),
    /// The empty list `[]`.
    Nil,
    /// A process identifier.
    Pid(Pid),
    /// A port identifier.
    Port(Port),
    /// A reference.
    Reference(Reference),
    /// A local fun (`fun() -> ... end`).
    Fun(Fun),
    /// An external fun (`fun M:F/A`).
    Export(Export),
}

impl Term {
    /// An atom.
    pub fn atom(name: &str) -> Term {
        Term::Atom(Arc::from(name))
    }

    /// The atom `true` or `false`.
    pub fn boolean(b: bool) -> Term {
        Term::atom(if b { "true" } else { "false" })
    }

    /// A proper list (`Nil` when empty).
    pub fn list(elems: Vec<Term>) -> Term {
        Term::improper_list(elems, Term::Nil)
    }

    /// `[E1, ..., En | Tail]`, flattened into the canonical form (a list
    /// tail is merged into the elements; no elements gives `Tail` itself).
    pub fn improper_list(mut elems: Vec<Term>, tail: Term) -> Term {
        let mut tail = tail;
        while let Term::List(more, rest) = &mut tail {
            elems.append(more);
            let next = std::mem::take(&mut **rest);
            tail = next;
        }
        if elems.is_empty() {
            tail
        } else {
            Term::List(elems, Box::new(tail))
        }
    }

    /// A bitstring of `bit_len` bits taken from the high bits of `bytes`;
    /// a `Binary` when `bit_len` is a multiple of 8. Missing bytes are zero,
    /// extra ones are dropped, unused low bits are cleared.
    pub fn bitstring(mut bytes: Vec<u8>, bit_len: u64) -> Term {
        let whole = (bit_len / 8) as usize;
        let rest = (bit_len % 8) as u8;
        bytes.resize(whole + usize::from(rest != 0), 0);
        if rest == 0 {
            return Term::Binary(bytes);
        }
        if let Some(last) = bytes.last_mut() {
            *last &= 0xffu8 << (8 - rest);
        }
        Term::Bitstring { bytes, bits: rest }
    }

    /// A map from key-value pairs; a later duplicate key (by `=:=`) wins,
    /// as with `maps:from_list/1`.
    pub fn map(pairs: Vec<(Term, Term)>) -> Term {
        Term::Map(TermMap::from_pairs(pairs))
    }

    /// The elements of a tuple, by value (`Err(self)` if not a tuple).
    pub fn into_tuple(mut self) -> Result<Vec<Term>, Term> {
        if let Term::Tuple(es) = &mut self {
            return Ok(std::mem::take(es));
        }
        Err(self)
    }

    /// The map, by value (`Err(self)` if not a map).
    pub fn into_map(mut self) -> Result<TermMap, Term> {
        if let Term::Map(m) = &mut self {
            return Ok(std::mem::take(m));
        }
        Err(self)
    }

    /// The elements and tail of a non-empty list, by value (`Err(self)` if
    /// not a non-empty list).
    pub fn into_list(mut self) -> Result<(Vec<Term>, Term), Term> {
        if let Term::List(es, tail) = &mut self {
            let es = std::mem::take(es);
            let tail = std::mem::take(&mut **tail);
            // A non-canonical value is flattened on the way out.
            let mut flat = Term::improper_list(es, tail);
            if let Term::List(es, tail) = &mut flat {
                return Ok((std::mem::take(es), std::mem::take(&mut **tail)));
            }
            return Err(flat);
        }
        Err(self)
    }

    /// The bytes of a binary, by value (`Err(self)` if not a binary).
    pub fn into_binary(mut self) -> Result<Vec<u8>, Term> {
        if let Term::Binary(b) = &mut self {
            return Ok(std::mem::take(b));
        }
        Err(self)
    }

    /// True for the atom `true`.
    pub fn is_true(&self) -> bool {
        matches!(self, Term::Atom(a) if &**a == "true")
    }

    /// The atom's text, if this is an atom.
    pub fn as_atom(&self) -> Option<&str> {
        match self {
            Term::Atom(a) => Some(a),
            _ => None,
        }
    }

    /// True for integers and floats.
    pub fn is_number(&self) -> bool {
        matches!(self, Term::Int(_) | Term::Big(_) | Term::Float(_))
    }

    /// True for integers (small or big).
    pub fn is_integer(&self) -> bool {
        matches!(self, Term::Int(_) | Term::Big(_))
    }

    /// True for `[]` and non-empty lists (proper or not), like `is_list/1`.
    pub fn is_list(&self) -> bool {
        matches!(self, Term::Nil | Term::List(..))
    }

    /// Size in bits of a binary or bitstring.
    pub fn bit_size(&self) -> Option<u64> {
        match self {
            Term::Binary(b) => Some(b.len() as u64 * 8),
            Term::Bitstring { bytes, bits } => {
                Some((bytes.len() as u64).saturating_sub(1) * 8 + *bits as u64)
            }
            _ => None,
        }
    }

    /// Walks the cons cells of a list (canonical or not): the elements, then
    /// the tail (`Nil` for a proper list). `None` if this is not a list.
    pub fn list_parts(&self) -> Option<(Vec<&Term>, &Term)> {
        let mut elems = Vec::new();
        let mut cur = self;
        loop {
            match cur {
                Term::List(es, tail) => {
                    elems.extend(es.iter());
                    cur = tail;
                }
                Term::Nil => return Some((elems, cur)),
                _ if elems.is_empty() => return None,
                _ => return Some((elems, cur)),
            }
        }
    }

    /// The elements of a proper list (`None` for an improper list or a
    /// non-list).
    pub fn proper_list(&self) -> Option<Vec<&Term>> {
        match self.list_parts()? {
            (elems, Term::Nil) => Some(elems),
            _ => None,
        }
    }
}

impl Default for Term {
    /// `[]`.
    fn default() -> Term {
        Term::Nil
    }
}

/// True for the variants that hold other terms directly.
fn is_container(t: &Term) -> bool {
    matches!(t, Term::Tuple(_) | Term::List(..) | Term::Map(_))
}

impl Drop for Term {
    /// Moves nested containers onto a heap stack and drops them one level at
    /// a time, so dropping a deep term cannot overflow the native stack.
    fn drop(&mut self) {
        fn take_children(t: &mut Term, stack: &mut Vec<Term>) {
            match t {
                Term::Fun(f) => {
                    if let Some(free) = f.take_free_if_unique() {
                        stack.extend(free);
                    }
                }
                Term::Tuple(es) if es.iter().any(is_container) => stack.append(es),
                Term::List(es, tail) => {
                    if es.iter().any(is_container) {
                        stack.append(es);
                    }
                    if is_container(tail) {
                        stack.push(std::mem::take(&mut **tail));
                    }
                }
                Term::Map(m) if m.iter().any(|(k, v)| is_container(k) || is_container(v)) => {
                    for (k, v) in m.take_pairs() {
                        stack.push(k);
                        stack.push(v);
                    }
                }
                _ => {}
            }
        }
        if !is_container(self) && !matches!(self, Term::Fun(_)) {
            return;
        }
        let mut stack = Vec::new();
        take_children(self, &mut stack);
        while let Some(mut t) = stack.pop() {
            take_children(&mut t, &mut stack);
        }
    }
}

impl Clone for Term {
    /// Clones without recursion (an explicit work stack), like `Drop`.
    fn clone(&self) -> Term {
        enum Op<'a> {
            Enter(&'a Term),
            Build(&'a Term),
        }
        if !is_container(self) {
            return clone_leaf(self);
        }
        let mut work = vec![Op::Enter(self)];
        let mut vals: Vec<Term> = Vec::new();
        while let Some(op) = work.pop() {
            match op {
                Op::Enter(t) if !is_container(t) => vals.push(clone_leaf(t)),
                Op::Enter(t) => {
                    work.push(Op::Build(t));
                    match t {
                        Term::Tuple(es) => work.extend(es.iter().rev().map(Op::Enter)),
                        Term::List(es, tail) => {
                            work.push(Op::Enter(tail));
                            work.extend(es.iter().rev().map(Op::Enter));
                        }
                        Term::Map(m) => {
                            for (k, v) in m.iter().rev() {
                                work.push(Op::Enter(v));
                                work.push(Op::Enter(k));
                            }
                        }
                        _ => {}
                    }
                }
                Op::Build(t) => {
                    let built = match t {
                        Term::Tuple(es) => Term::Tuple(vals.split_off(vals.len() - es.len())),
                        Term::List(es, _) => {
                            let mut items = vals.split_off(vals.len() - es.len() - 1);
                            let tail = items.pop().unwrap_or_default();
                            Term::List(items, Box::new(tail))
                        }
                        Term::Map(m) => {
                            let flat = vals.split_off(vals.len() - 2 * m.len());
                            let mut pairs = Vec::with_capacity(m.len());
                            let mut it = flat.into_iter();
                            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                                pairs.push((k, v));
                            }
                            Term::Map(TermMap::from_sorted_unique(pairs))
                        }
                        _ => clone_leaf(t),
                    };
                    vals.push(built);
                }
            }
        }
        vals.pop().unwrap_or_default()
    }
}

/// Clones a term that holds no other terms directly (funs share theirs).
fn clone_leaf(t: &Term) -> Term {
    match t {
        Term::Int(v) => Term::Int(*v),
        Term::Big(b) => Term::Big(b.clone()),
        Term::Float(f) => Term::Float(*f),
        Term::Atom(a) => Term::Atom(a.clone()),
        Term::Binary(b) => Term::Binary(b.clone()),
        Term::Bitstring { bytes, bits } => Term::Bitstring {
            bytes: bytes.clone(),
            bits: *bits,
        },
        Term::Nil => Term::Nil,
        Term::Pid(p) => Term::Pid(p.clone()),
        Term::Port(p) => Term::Port(p.clone()),
        Term::Reference(r) => Term::Reference(r.clone()),
        Term::Fun(f) => Term::Fun(f.clone()),
        Term::Export(e) => Term::Export(e.clone()),
        // Containers are handled by `Clone::clone`; never reached.
        Term::Tuple(_) | Term::List(..) | Term::Map(_) => Term::Nil,
    }
}

/// Debug output is the Erlang-like text of `Display`.
impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_term(f, self, 0)
    }
}

impl From<i64> for Term {
    fn from(v: i64) -> Term {
        Term::Int(v)
    }
}

impl From<f64> for Term {
    fn from(v: f64) -> Term {
        Term::Float(v)
    }
}

/// Terms travel inside commands as their external term format bytes.
impl serde::Serialize for Term {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_bytes::Bytes::new(&encode(self)).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Term {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Term, D::Error> {
        let bytes = serde_bytes::ByteBuf::deserialize(d)?;
        decode(&bytes).map_err(serde::de::Error::custom)
    }
}

/// Erlang-like text (`~p` without line breaks); nesting past 100 levels is
/// shown as `...` so printing cannot exhaust the stack.
impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_term(f, self, 0)
    }
}

fn write_term(f: &mut fmt::Formatter<'_>, t: &Term, depth: usize) -> fmt::Result {
    if depth > 100 {
        return f.write_str("...");
    }
    let seq = |f: &mut fmt::Formatter<'_>, items: &[Term]| -> fmt::Result {
        for (i, e) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write_term(f, e, depth + 1)?;
        }
        Ok(())
    };
    match t {
        Term::Int(v) => write!(f, "{v}"),
        Term::Big(b) => write!(f, "{}", big_to_decimal(b)),
        Term::Float(v) => write!(f, "{v:?}"),
        Term::Atom(a) => write_atom(f, a),
        Term::Binary(b) => {
            f.write_str("<<")?;
            for (i, x) in b.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{x}")?;
            }
            f.write_str(">>")
        }
        Term::Bitstring { bytes, bits } => {
            f.write_str("<<")?;
            for (i, x) in bytes.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                if i + 1 == bytes.len() {
                    write!(f, "{}:{}", x >> (8 - bits), bits)?;
                } else {
                    write!(f, "{x}")?;
                }
            }
            f.write_str(">>")
        }
        Term::Tuple(es) => {
            f.write_str("{")?;
            seq(f, es)?;
            f.write_str("}")
        }
        Term::List(es, tail) => {
            f.write_str("[")?;
            seq(f, es)?;
            if !matches!(**tail, Term::Nil) {
                f.write_str("|")?;
                write_term(f, tail, depth + 1)?;
            }
            f.write_str("]")
        }
        Term::Map(m) => {
            f.write_str("#{")?;
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write_term(f, k, depth + 1)?;
                f.write_str(" => ")?;
                write_term(f, v, depth + 1)?;
            }
            f.write_str("}")
        }
        Term::Nil => f.write_str("[]"),
        Term::Pid(p) => write!(f, "{p}"),
        Term::Port(p) => write!(f, "{p}"),
        Term::Reference(r) => write!(f, "{r}"),
        Term::Fun(x) => write!(f, "{x}"),
        Term::Export(x) => write!(f, "{x}"),
    }
}

fn write_atom(f: &mut fmt::Formatter<'_>, a: &str) -> fmt::Result {
    let mut chars = a.chars();
    let plain = matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@');
    if plain {
        f.write_str(a)
    } else {
        f.write_str("'")?;
        for c in a.chars() {
            match c {
                '\'' => f.write_str("\\'")?,
                '\\' => f.write_str("\\\\")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("'")
    }
}

/// Decimal text of a big integer (repeated division by 10^9).
fn big_to_decimal(b: &BigInt) -> String {
    let mut w = Wide::from_big(b).abs();
    let billion = Wide::from_i64(1_000_000_000);
    let mut groups = Vec::new();
    while !w.is_zero() {
        match w.div_rem(&billion) {
            Ok((q, r)) => {
                groups.push(r.to_i128().unwrap_or(0));
                w = q;
            }
            Err(_) => break,
        }
    }
    let mut s = String::new();
    if b.is_negative() {
        s.push('-');
    }
    for (i, g) in groups.iter().rev().enumerate() {
        if i == 0 {
            s.push_str(&g.to_string());
        } else {
            s.push_str(&format!("{g:09}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Building, cloning, comparing, encoding, decoding and dropping a term
    /// nested far deeper than any stack allows recursion for.
    #[test]
    fn deep_terms_need_no_stack() {
        let worker = std::thread::Builder::new().stack_size(128 << 10).spawn(|| {
            let mut t = Term::Nil;
            for i in 0..200_000 {
                t = match i % 4 {
                    0 => Term::Tuple(vec![t, Term::Int(i)]),
                    1 => Term::list(vec![t]),
                    2 => Term::map(vec![(Term::Int(i), t)]),
                    _ => Term::improper_list(vec![Term::Int(i)], Term::Tuple(vec![t])),
                };
            }
            let c = t.clone();
            assert!(c.exact_eq(&t));
            let bytes = encode(&t);
            // Deeper than the decoder accepts.
            assert!(decode(&bytes).is_err());
            format!("{t} {c:?}").len()
        });
        assert!(worker.unwrap().join().unwrap() > 0);
    }

    #[test]
    fn constructors_are_canonical() {
        let l = Term::improper_list(vec![Term::Int(1)], Term::list(vec![Term::Int(2)]));
        assert!(matches!(&l, Term::List(es, tail) if es.len() == 2 && matches!(**tail, Term::Nil)));
        assert!(matches!(Term::list(vec![]), Term::Nil));
        assert!(matches!(
            Term::bitstring(vec![0xff, 0xff], 16),
            Term::Binary(_)
        ));
        assert!(
            matches!(Term::bitstring(vec![0xff], 3), Term::Bitstring { ref bytes, bits: 3 } if bytes == &[0xe0])
        );
        let m = Term::map(vec![
            (Term::Int(1), Term::atom("a")),
            (Term::Int(1), Term::atom("b")),
        ]);
        assert!(
            matches!(&m, Term::Map(m) if m.len() == 1 && m.get(&Term::Int(1)).unwrap().exact_eq(&Term::atom("b")))
        );
        assert_eq!(
            Term::map(vec![
                (Term::Float(1.0), Term::Nil),
                (Term::Int(1), Term::Nil)
            ])
            .to_string(),
            "#{1 => [],1.0 => []}"
        );
    }
}
