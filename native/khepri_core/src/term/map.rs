//! Erlang maps.

use super::order::cmp_exact;
use super::Term;
use std::cmp::Ordering;

/// An Erlang map: pairs sorted by Erlang's map key order, keys unique.
///
/// Map key order is the exact term order ([`Term::cmp_exact`]): like the
/// standard order except that every integer sorts before every float, so
/// `1` and `1.0` are different keys. Keeping pairs sorted this way makes
/// comparing maps and encoding small maps (as `term_to_binary` does) direct.
#[derive(Clone, Debug, Default)]
pub struct TermMap {
    pairs: Vec<(Term, Term)>,
}

impl TermMap {
    /// An empty map.
    pub fn new() -> TermMap {
        TermMap::default()
    }

    /// A map from pairs; for duplicate keys (by `=:=`) the last one wins.
    pub fn from_pairs(pairs: Vec<(Term, Term)>) -> TermMap {
        let mut indexed: Vec<(usize, (Term, Term))> = pairs.into_iter().enumerate().collect();
        // Stable on the key, later index last, so keeping the last of each
        // run of equal keys implements "last wins".
        indexed.sort_by(|a, b| cmp_exact(&a.1 .0, &b.1 .0).then(a.0.cmp(&b.0)));
        let mut out: Vec<(Term, Term)> = Vec::with_capacity(indexed.len());
        for (_, (k, v)) in indexed {
            match out.last_mut() {
                Some(last) if cmp_exact(&last.0, &k) == Ordering::Equal => *last = (k, v),
                _ => out.push((k, v)),
            }
        }
        TermMap { pairs: out }
    }

    /// A map from pairs that must have unique keys (as in the external
    /// format, where a duplicate makes `binary_to_term` fail). `None` on a
    /// duplicate.
    pub fn from_unique_pairs(mut pairs: Vec<(Term, Term)>) -> Option<TermMap> {
        pairs.sort_by(|a, b| cmp_exact(&a.0, &b.0));
        for w in pairs.windows(2) {
            if cmp_exact(&w[0].0, &w[1].0) == Ordering::Equal {
                return None;
            }
        }
        Some(TermMap { pairs })
    }

    /// Pairs already sorted in map key order with unique keys (as in
    /// another map).
    pub(crate) fn from_sorted_unique(pairs: Vec<(Term, Term)>) -> TermMap {
        TermMap { pairs }
    }

    /// Moves the pairs out, leaving the map empty.
    pub(crate) fn take_pairs(&mut self) -> Vec<(Term, Term)> {
        std::mem::take(&mut self.pairs)
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True for `#{}`.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The value under `key` (looked up with `=:=`).
    pub fn get(&self, key: &Term) -> Option<&Term> {
        self.pairs
            .binary_search_by(|(k, _)| cmp_exact(k, key))
            .ok()
            .map(|i| &self.pairs[i].1)
    }

    /// The pairs in map key order.
    pub fn iter(&self) -> std::slice::Iter<'_, (Term, Term)> {
        self.pairs.iter()
    }

    /// The pairs in map key order, as a slice.
    pub fn as_slice(&self) -> &[(Term, Term)] {
        &self.pairs
    }

    /// The pairs, consuming the map.
    pub fn into_pairs(self) -> Vec<(Term, Term)> {
        self.pairs
    }
}
