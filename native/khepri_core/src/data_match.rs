//! Evaluation of `#if_data_matches{}` on stored payloads.

use crate::condition::{DataMatch, DataMatcher};
use crate::match_spec::{self, MatchSpec};
use crate::term;

/// The engine's data matcher: decodes the stored term and runs the match
/// specification on it, as `ets:match_spec_run/2` would.
pub struct TermMatcher;

/// Compiles a data condition; `Err` says why it is not supported (the API
/// refuses such conditions before they reach the log).
pub fn compile(spec: &DataMatch) -> Result<MatchSpec, String> {
    let pattern = term::decode(spec.pattern.as_slice()).map_err(|e| e.to_string())?;
    let guards = term::decode(spec.guards.as_slice()).map_err(|e| e.to_string())?;
    let guards: Vec<term::Term> = guards
        .proper_list()
        .ok_or("the guards are not a list")?
        .into_iter()
        .cloned()
        .collect();
    match_spec::compile(&pattern, &guards).map_err(|u| u.reason)
}

impl DataMatcher for TermMatcher {
    fn matches(&self, spec: &DataMatch, data: &[u8]) -> bool {
        let compiled = spec.compiled.get_or_init(|| compile(spec).ok());
        match compiled {
            // Data that does not decode does not match.
            Some(ms) => term::decode(data).is_ok_and(|t| ms.matches(&t)),
            None => false,
        }
    }
}
