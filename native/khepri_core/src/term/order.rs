//! Erlang's term order and the two equalities.
//!
//! `number < atom < reference < fun < port < pid < tuple < map < [] < list
//! < bitstring`. Numbers compare by mathematical value across integers and
//! floats (exactly, even for bignums against floats). Tuples compare by size,
//! then element by element; lists cell by cell (a shorter proper list is
//! smaller; an improper tail is compared as a term); bitstrings bit by bit,
//! then by length. Maps compare by size, then their keys in map key order
//! (exact order, see below), then their values in that key order.
//!
//! The *exact* order (used for map keys, and equal only for `=:=` terms)
//! differs in one point: an integer and a float are never equal, and every
//! integer sorts before every float.
//!
//! The comparison is iterative (an explicit work stack), so arbitrarily deep
//! terms cannot overflow the native stack.

use super::{Term, Wide};
use std::cmp::Ordering;

/// A local fun sorts before an export (`fun M:F/A`) on OTP 25.
const FUN_BEFORE_EXPORT: Ordering = Ordering::Less;

impl Term {
    /// Erlang's `=:=`: equal, and integers never equal floats.
    pub fn exact_eq(&self, other: &Term) -> bool {
        compare(self, other, true) == Ordering::Equal
    }

    /// Erlang's `==`: equal, with numbers compared by value (`1 == 1.0`).
    /// Same as Rust's `==` on terms.
    pub fn arith_eq(&self, other: &Term) -> bool {
        compare(self, other, false) == Ordering::Equal
    }

    /// The exact term order: Erlang's map key order, a total order whose
    /// `Equal` is exactly `=:=`. Like [`Ord::cmp`] except that any integer
    /// is less than any float.
    pub fn cmp_exact(&self, other: &Term) -> Ordering {
        compare(self, other, true)
    }
}

/// Rust's ordering of terms is Erlang's standard term order (`<`, `==`).
///
/// Its `Equal` is Erlang's `==`, not `=:=`: `1` and `1.0` are `Equal` (as are
/// `{1}` and `{1.0}`), while `#{1 => a}` and `#{1.0 => a}` are not (map keys
/// always compare exactly). Use [`Term::exact_eq`] or [`Term::cmp_exact`] to
/// tell `1` from `1.0`. A stable sort with this order gives `lists:sort/1`'s
/// result.
impl Ord for Term {
    fn cmp(&self, other: &Term) -> Ordering {
        compare(self, other, false)
    }
}

impl PartialOrd for Term {
    fn partial_cmp(&self, other: &Term) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Erlang's `==` (see [`Ord`] for terms).
impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Term {}

/// Position of a term's type in the term order (funs and exports share one).
fn rank(t: &Term) -> u8 {
    match t {
        Term::Int(_) | Term::Big(_) | Term::Float(_) => 0,
        Term::Atom(_) => 1,
        Term::Reference(_) => 2,
        Term::Fun(_) | Term::Export(_) => 3,
        Term::Port(_) => 4,
        Term::Pid(_) => 5,
        Term::Tuple(_) => 6,
        Term::Map(_) => 7,
        Term::Nil => 8,
        Term::List(es, tail) if es.is_empty() => rank(tail),
        Term::List(..) => 9,
        Term::Binary(_) | Term::Bitstring { .. } => 10,
    }
}

/// The rank of a list.
const LIST_RANK: u8 = 9;

/// A position inside a list: remaining elements of the current chunk, and
/// what follows them.
#[derive(Clone, Copy)]
struct Cursor<'a> {
    elems: &'a [Term],
    tail: &'a Term,
}

impl<'a> Cursor<'a> {
    fn of(elems: &'a [Term], tail: &'a Term) -> Cursor<'a> {
        Cursor { elems, tail }
    }

    /// The next cell's head and the rest, or `None` at the end (then
    /// [`Cursor::end`] is the tail term).
    fn next(mut self) -> Option<(&'a Term, Cursor<'a>)> {
        loop {
            if let Some((h, rest)) = self.elems.split_first() {
                return Some((h, Cursor::of(rest, self.tail)));
            }
            match self.tail {
                Term::List(es, t) => {
                    self.elems = es;
                    self.tail = t;
                }
                _ => return None,
            }
        }
    }

    /// The term after the last cell (call once `next` gave `None`).
    fn end(self) -> &'a Term {
        self.tail
    }
}

enum Job<'a> {
    Terms(&'a Term, &'a Term, bool),
    Cells(Cursor<'a>, Cursor<'a>, bool),
}

/// Compares two terms; `exact` selects the exact order (map keys, `=:=`).
pub(crate) fn compare(a: &Term, b: &Term, exact: bool) -> Ordering {
    let mut stack: Vec<Job<'_>> = vec![Job::Terms(a, b, exact)];
    while let Some(job) = stack.pop() {
        let ord = match job {
            Job::Terms(a, b, exact) => step(a, b, exact, &mut stack),
            Job::Cells(ca, cb, exact) => match (ca.next(), cb.next()) {
                (Some((ha, ra)), Some((hb, rb))) => {
                    stack.push(Job::Cells(ra, rb, exact));
                    stack.push(Job::Terms(ha, hb, exact));
                    Ordering::Equal
                }
                // One list goes on, the other ended on a non-list tail.
                (Some(_), None) => LIST_RANK.cmp(&rank(cb.end())),
                (None, Some(_)) => rank(ca.end()).cmp(&LIST_RANK),
                (None, None) => {
                    stack.push(Job::Terms(ca.end(), cb.end(), exact));
                    Ordering::Equal
                }
            },
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Map key order (exact).
pub(crate) fn cmp_exact(a: &Term, b: &Term) -> Ordering {
    compare(a, b, true)
}

/// Compares the tops of `a` and `b`; pushes the sub-comparisons that decide
/// when the tops are equal.
fn step<'a>(a: &'a Term, b: &'a Term, exact: bool, stack: &mut Vec<Job<'a>>) -> Ordering {
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Term::Atom(x), Term::Atom(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Term::Tuple(x), Term::Tuple(y)) => {
            let o = x.len().cmp(&y.len());
            if o == Ordering::Equal {
                for (p, q) in x.iter().zip(y.iter()).rev() {
                    stack.push(Job::Terms(p, q, exact));
                }
            }
            o
        }
        (Term::Map(x), Term::Map(y)) => {
            let o = x.len().cmp(&y.len());
            if o == Ordering::Equal {
                // Keys (exactly) first, then values in key order.
                for (p, q) in x.iter().zip(y.iter()).rev() {
                    stack.push(Job::Terms(&p.1, &q.1, exact));
                }
                for (p, q) in x.iter().zip(y.iter()).rev() {
                    stack.push(Job::Terms(&p.0, &q.0, true));
                }
            }
            o
        }
        (Term::Nil, Term::Nil) => Ordering::Equal,
        (Term::List(xe, xt), Term::List(ye, yt)) => {
            stack.push(Job::Cells(Cursor::of(xe, xt), Cursor::of(ye, yt), exact));
            Ordering::Equal
        }
        // A non-canonical empty-element list wrapper: compare what it wraps.
        (Term::List(xe, xt), _) if xe.is_empty() => {
            stack.push(Job::Terms(xt, b, exact));
            Ordering::Equal
        }
        (_, Term::List(ye, yt)) if ye.is_empty() => {
            stack.push(Job::Terms(a, yt, exact));
            Ordering::Equal
        }
        (Term::Reference(x), Term::Reference(y)) => {
            cmp_node(x.node(), x.creation(), y.node(), y.creation())
                .then_with(|| cmp_ref_words(x.words(), y.words()))
        }
        (Term::Port(x), Term::Port(y)) => {
            cmp_node(x.node(), x.creation(), y.node(), y.creation()).then(x.id().cmp(&y.id()))
        }
        (Term::Pid(x), Term::Pid(y)) => (x.serial(), x.id())
            .cmp(&(y.serial(), y.id()))
            .then_with(|| cmp_node(x.node(), x.creation(), y.node(), y.creation())),
        (Term::Fun(x), Term::Fun(y)) => {
            let o = x
                .module()
                .as_bytes()
                .cmp(y.module().as_bytes())
                .then(x.old_index().cmp(&y.old_index()))
                .then(x.old_uniq().cmp(&y.old_uniq()))
                .then(x.free_vars().len().cmp(&y.free_vars().len()));
            if o == Ordering::Equal {
                for (p, q) in x.free_vars().iter().zip(y.free_vars().iter()).rev() {
                    stack.push(Job::Terms(p, q, exact));
                }
            }
            o
        }
        (Term::Export(x), Term::Export(y)) => x
            .module()
            .as_bytes()
            .cmp(y.module().as_bytes())
            .then_with(|| x.function().as_bytes().cmp(y.function().as_bytes()))
            .then(x.arity().cmp(&y.arity())),
        (Term::Fun(_), Term::Export(_)) => FUN_BEFORE_EXPORT,
        (Term::Export(_), Term::Fun(_)) => FUN_BEFORE_EXPORT.reverse(),
        _ if ra == 0 => compare_numbers(a, b, exact),
        _ if ra == 10 => compare_bits(a, b),
        // Unreachable with equal ranks; a fixed answer keeps this total.
        _ => Ordering::Equal,
    }
}

fn cmp_node(an: &str, ac: u32, bn: &str, bc: u32) -> Ordering {
    an.as_bytes().cmp(bn.as_bytes()).then(ac.cmp(&bc))
}

/// Reference id words compare from the most significant (last) word; the
/// longer one's extra high words are compared against zero.
fn cmp_ref_words(a: &[u32], b: &[u32]) -> Ordering {
    let n = a.len().max(b.len());
    for i in (0..n).rev() {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        if x != y {
            return x.cmp(&y);
        }
    }
    Ordering::Equal
}

fn bits_of(t: &Term) -> (&[u8], u64) {
    match t {
        Term::Binary(b) => (b, b.len() as u64 * 8),
        Term::Bitstring { bytes, .. } => (bytes, t.bit_size().unwrap_or(0)),
        _ => (&[], 0),
    }
}

fn compare_bits(a: &Term, b: &Term) -> Ordering {
    let (ab, an) = bits_of(a);
    let (bb, bn) = bits_of(b);
    let common = an.min(bn);
    let whole = (common / 8) as usize;
    let o = ab[..whole.min(ab.len())].cmp(&bb[..whole.min(bb.len())]);
    if o != Ordering::Equal {
        return o;
    }
    let rest = (common % 8) as u32;
    if rest != 0 {
        let x = ab.get(whole).copied().unwrap_or(0) >> (8 - rest);
        let y = bb.get(whole).copied().unwrap_or(0) >> (8 - rest);
        if x != y {
            return x.cmp(&y);
        }
    }
    an.cmp(&bn)
}

/// Compares two numbers. In exact mode an integer is below any float.
pub(crate) fn compare_numbers(a: &Term, b: &Term, exact: bool) -> Ordering {
    match (a, b) {
        (Term::Int(x), Term::Int(y)) => x.cmp(y),
        (Term::Float(x), Term::Float(y)) => cmp_floats(*x, *y),
        (Term::Float(_), _) if exact => Ordering::Greater,
        (_, Term::Float(_)) if exact => Ordering::Less,
        (Term::Float(x), _) => cmp_int_float(b, *x).reverse(),
        (_, Term::Float(y)) => cmp_int_float(a, *y),
        _ => int_wide(a).cmp_value(&int_wide(b)),
    }
}

fn cmp_floats(x: f64, y: f64) -> Ordering {
    // Finite floats (all Erlang has): -0.0 == 0.0 as on OTP 25.
    x.partial_cmp(&y).unwrap_or_else(|| x.total_cmp(&y))
}

pub(crate) fn int_wide(t: &Term) -> Wide {
    match t {
        Term::Int(v) => Wide::from_i64(*v),
        Term::Big(b) => Wide::from_big(b),
        _ => Wide::zero(),
    }
}

/// Compares an integer with a float by exact mathematical value.
fn cmp_int_float(i: &Term, f: f64) -> Ordering {
    if let Term::Int(v) = i {
        // Both exactly representable: a plain float compare is exact.
        if v.unsigned_abs() < (1u64 << 53) {
            return cmp_floats(*v as f64, f);
        }
    }
    if f.is_nan() {
        return Ordering::Less;
    }
    if f.is_infinite() {
        return if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    let t = f.trunc();
    let o = int_wide(i).cmp_value(&Wide::from_integral_f64(t));
    if o != Ordering::Equal {
        return o;
    }
    let frac = f - t;
    if frac > 0.0 {
        Ordering::Less
    } else if frac < 0.0 {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::BigInt;

    #[test]
    fn numbers() {
        assert_eq!(Term::Int(1).cmp(&Term::Float(1.0)), Ordering::Equal);
        assert!(!Term::Int(1).exact_eq(&Term::Float(1.0)));
        assert_eq!(Term::Int(2).cmp_exact(&Term::Float(1.0)), Ordering::Less);
        assert!(Term::Float(-0.0).exact_eq(&Term::Float(0.0)));
        let big = BigInt::from_sign_magnitude(false, &[0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            big.cmp(&Term::Float(18446744073709551616.0)),
            Ordering::Equal
        );
        assert_eq!(big.cmp(&Term::Float(1.0e30)), Ordering::Less);
        assert_eq!(
            Term::Int(i64::MAX).cmp(&Term::Float(9.223_372_036_854_776e18)),
            Ordering::Less
        );
    }

    #[test]
    fn types_and_lists() {
        let a = Term::atom("a");
        assert!(Term::Int(5) < a);
        assert!(Term::Nil < Term::list(vec![Term::Int(1)]));
        let improper = Term::improper_list(vec![Term::Int(1)], Term::Int(2));
        let proper = Term::list(vec![Term::Int(1), Term::Int(2)]);
        assert!(improper < proper);
        assert!(improper < Term::list(vec![Term::Int(1)]));
        let non_canonical = Term::List(
            vec![Term::Int(1)],
            Box::new(Term::List(vec![Term::Int(2)], Box::new(Term::Nil))),
        );
        assert!(non_canonical.exact_eq(&proper));
        assert!(Term::bitstring(vec![0xff], 3) > Term::Binary(vec![0xc0]));
        assert!(Term::bitstring(vec![0xe0], 3) < Term::Binary(vec![0xe0]));
    }

    #[test]
    fn maps() {
        let m1 = Term::map(vec![(Term::Int(1), Term::atom("a"))]);
        let m2 = Term::map(vec![(Term::Float(1.0), Term::atom("a"))]);
        let m3 = Term::map(vec![(Term::Int(2), Term::atom("a"))]);
        assert!(m1 < m2);
        assert!(m3 < m2);
        assert!(m1 != m2);
        let v1 = Term::map(vec![(Term::Int(1), Term::Int(1))]);
        let v2 = Term::map(vec![(Term::Int(1), Term::Float(1.0))]);
        assert!(v1 == v2 && !v1.exact_eq(&v2));
    }

    #[test]
    fn deep_terms_do_not_overflow() {
        let deep = || {
            let mut t = Term::Nil;
            for _ in 0..100_000 {
                t = Term::Tuple(vec![t]);
            }
            t
        };
        let (a, b) = (deep(), deep());
        assert!(a.exact_eq(&b));
        assert_eq!(a.cmp(&b), Ordering::Equal);
    }
}
