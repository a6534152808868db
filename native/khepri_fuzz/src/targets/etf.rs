//! The external term format: `term::decode` (payloads, match specs),
//! the payload packer's `unpack` and `pack`, and match-spec compilation.

use super::Target;
use crate::samples;
use khepri_core::bytes::Bytes;
use khepri_core::condition::{DataMatch, DataMatcher};
use khepri_core::data_match::{compile, TermMatcher};
use khepri_core::{packed, term};

/// ETF decoding and what consumes decoded terms.
pub struct EtfTarget;

impl Target for EtfTarget {
    fn name(&self) -> &'static str {
        "etf"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        samples::etf_terms()
    }

    fn run(&mut self, input: &[u8]) -> bool {
        let _ = term::decode_prefix(input);
        // Packed payloads come back from snapshots; any bytes may arrive.
        let _ = packed::unpack(input);
        // A data condition made of these bytes, as pattern and as guards.
        let nil = term::encode(&term::Term::Nil);
        let any = term::encode(&term::Term::atom("_"));
        let as_pattern = DataMatch::new(Bytes::from(input.to_vec()), Bytes::from(nil));
        let _ = compile(&as_pattern);
        let as_guards = DataMatch::new(Bytes::from(any), Bytes::from(input.to_vec()));
        let _ = compile(&as_guards);
        let Ok(t) = term::decode(input) else {
            return false;
        };
        let again = term::encode(&t);
        let back = term::decode(&again).expect("our encoding of a decoded term decodes");
        assert!(
            back.cmp(&t).is_eq(),
            "encode/decode round trip changed the term"
        );
        let _ = TermMatcher.matches(&as_pattern, input);
        // Packing interns atoms for good: only some inputs, so a long run
        // does not grow the tables without bound.
        if input.len().is_multiple_of(8) {
            let p = packed::pack(input);
            assert_eq!(packed::unpack(&p).as_deref(), Some(input), "pack/unpack");
        }
        true
    }
}
