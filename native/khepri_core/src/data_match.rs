//! Evaluation of `#if_data_matches{}` on stored payloads.

use crate::condition::{DataMatch, DataMatcher};

/// The engine's data matcher: decodes the stored term and runs the match
/// specification on it.
pub struct TermMatcher;

impl DataMatcher for TermMatcher {
    fn matches(&self, _spec: &DataMatch, _data: &[u8]) -> bool {
        // Wired to the match-spec evaluator in the next step; until then a
        // data condition never holds (writes guarded by one are refused).
        false
    }
}
