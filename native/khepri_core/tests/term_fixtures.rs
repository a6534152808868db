//! The Rust term engine against the real Erlang VM.
//!
//! `tests/fixtures/term_fixtures.etf` was written by
//! `tests/fixtures/gen_term_fixtures.escript` (see the README there): terms
//! as `term_to_binary` bytes, their `lists:sort` order, comparison results,
//! hand-made decoding edge cases, and match specs with the results of
//! `ets:match_spec_run`. Everything here must agree with it.

use khepri_core::match_spec::{self, MatchSpec};
use khepri_core::term::{decode, encode, Term, TermMap};
use std::cmp::Ordering;
use std::sync::OnceLock;

fn fixture() -> &'static TermMap {
    static FIXTURE: OnceLock<TermMap> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/term_fixtures.etf"
        );
        let bytes = std::fs::read(path).expect("fixture file");
        let t = decode(&bytes).expect("the fixture decodes");
        t.into_map()
            .unwrap_or_else(|other| panic!("fixture is not a map: {other}"))
    })
}

fn field(name: &str) -> &'static Term {
    fixture()
        .get(&Term::atom(name))
        .unwrap_or_else(|| panic!("fixture has no {name}"))
}

fn list(t: &Term) -> Vec<&Term> {
    t.proper_list().expect("a proper list")
}

fn bin(t: &Term) -> &[u8] {
    match t {
        Term::Binary(b) => b,
        Term::Bitstring { bytes, .. } => bytes,
        Term::Nil => &[],
        other => panic!("not a binary: {other}"),
    }
}

fn tuple(t: &Term) -> &[Term] {
    match t {
        Term::Tuple(es) => es,
        other => panic!("not a tuple: {other}"),
    }
}

fn int(t: &Term) -> i64 {
    match t {
        Term::Int(v) => *v,
        other => panic!("not a small integer: {other}"),
    }
}

fn decoded(list_name: &str) -> Vec<Term> {
    list(field(list_name))
        .into_iter()
        .map(|b| decode(bin(b)).unwrap_or_else(|e| panic!("{list_name}: {e}")))
        .collect()
}

/// Whether a term holds a map of more than 32 keys (Erlang writes those in
/// hash order, so our encoding differs in bytes though not in value).
fn has_large_map(t: &Term) -> bool {
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        match t {
            Term::Map(m) => {
                if m.len() > 32 {
                    return true;
                }
                for (k, v) in m.iter() {
                    stack.push(k);
                    stack.push(v);
                }
            }
            Term::Tuple(es) => stack.extend(es.iter()),
            Term::List(es, tail) => {
                stack.extend(es.iter());
                stack.push(tail);
            }
            _ => {}
        }
    }
    false
}

/// Erlang's comparison code: `(Cmp + 1) | (Exact << 2)`.
fn code(a: &Term, b: &Term) -> i64 {
    let cmp = match a.cmp(b) {
        Ordering::Less => 0,
        Ordering::Equal => 1,
        Ordering::Greater => 2,
    };
    assert_eq!(a == b, a.arith_eq(b));
    cmp | (i64::from(a.exact_eq(b)) << 2)
}

#[test]
fn fixture_comes_from_otp_25() {
    assert_eq!(bin(field("otp_release")), b"25");
}

#[test]
fn terms_decode_and_encode_back() {
    let mut identical = 0;
    for (i, b) in list(field("terms")).into_iter().enumerate() {
        let bytes = bin(b);
        let t = decode(bytes).unwrap_or_else(|e| panic!("term {i}: {e}"));
        let again = encode(&t);
        let back = decode(&again).unwrap_or_else(|e| panic!("term {i} re-encoded: {e}"));
        assert!(back.exact_eq(&t), "term {i} does not round-trip: {t}");
        if has_large_map(&t) {
            continue;
        }
        assert_eq!(
            again, bytes,
            "term {i} encodes differently from Erlang: {t}"
        );
        identical += 1;
    }
    assert!(
        identical > 1500,
        "only {identical} byte-identical encodings"
    );
}

#[test]
fn default_encoding_decodes_to_the_same_terms() {
    let v2 = decoded("terms");
    let v1 = decoded("terms_v1");
    for (i, t) in v1.iter().enumerate() {
        assert!(t.exact_eq(&v2[i]), "term {i}: {t} vs {}", v2[i]);
    }
}

#[test]
fn sort_order_is_erlangs() {
    let terms = decoded("terms");
    let mut idx: Vec<usize> = (0..terms.len()).collect();
    // Stable, like lists:sort on {Term, Index}.
    idx.sort_by(|a, b| terms[*a].cmp(&terms[*b]));
    let expected: Vec<usize> = list(field("sorted"))
        .into_iter()
        .map(|t| int(t) as usize)
        .collect();
    if idx != expected {
        let at = idx
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "sort differs at {at}: we have {} where Erlang has {}",
            terms[idx[at]], terms[expected[at]]
        );
    }
}

#[test]
fn pairwise_comparisons_agree() {
    let terms = decoded("terms");
    let pairs = bin(field("pairs"));
    assert_eq!(pairs.len() % 5, 0);
    for p in pairs.chunks(5) {
        let i = u16::from_be_bytes([p[0], p[1]]) as usize;
        let j = u16::from_be_bytes([p[2], p[3]]) as usize;
        let (a, b) = (&terms[i], &terms[j]);
        assert_eq!(code(a, b), p[4] as i64, "comparing {a} with {b}");
    }
}

#[test]
fn number_comparisons_agree() {
    let nums = decoded("numbers");
    let codes = bin(field("number_cmp"));
    assert_eq!(codes.len(), nums.len() * nums.len());
    for (i, a) in nums.iter().enumerate() {
        for (j, b) in nums.iter().enumerate() {
            assert_eq!(
                code(a, b),
                codes[i * nums.len() + j] as i64,
                "comparing {a} with {b}"
            );
        }
    }
}

#[test]
fn special_pairs_agree() {
    for p in list(field("special_pairs")) {
        let p = tuple(p);
        let a = decode(bin(&p[0])).unwrap();
        let b = decode(bin(&p[1])).unwrap();
        assert_eq!(code(&a, &b), int(&p[2]), "comparing {a} with {b}");
        assert_eq!(code(&b, &a) & 4, int(&p[2]) & 4);
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in data {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn compressed_terms_decode() {
    let cases = list(field("compressed"));
    assert!(cases.len() > 10);
    for c in cases {
        let c = tuple(c);
        let bytes = bin(&c[0]);
        let t = decode(bytes).unwrap_or_else(|e| panic!("compressed term: {e}"));
        assert_eq!(
            crc32(&encode(&t)) as i64,
            int(&c[1]),
            "compressed term decodes to {t}"
        );
    }
}

#[test]
fn decoding_edge_cases_agree() {
    for c in list(field("decode_cases")) {
        let c = tuple(c);
        let input = bin(&c[0]);
        let ours = decode(input);
        match (&c[1], &ours) {
            (Term::Atom(e), Err(_)) if &**e == "error" => {}
            (Term::Atom(_), Ok(t)) => panic!("{input:?}: Erlang refuses it, we decode {t}"),
            (Term::Tuple(ok), Ok(t)) => {
                let expected = decode(bin(&ok[1])).unwrap();
                assert!(
                    t.exact_eq(&expected),
                    "{input:?}: we decode {t}, Erlang {expected}"
                );
            }
            (_, Err(e)) => panic!("{input:?}: Erlang decodes it, we refuse: {e}"),
            _ => unreachable!(),
        }
    }
}

fn spec(pattern: Term, guards: Vec<Term>) -> MatchSpec {
    match_spec::compile(&pattern, &guards).expect("compiles")
}

#[test]
fn integer_to_float_conversion_is_the_vms() {
    let v = || Term::atom("$1");
    let call = |f: &str, a: Term| Term::Tuple(vec![Term::atom(f), a]);
    for c in list(field("float_conv")) {
        let c = tuple(c);
        let (i, expected) = (&c[0], &c[1]);
        match expected {
            Term::Float(_) => {
                let g = Term::Tuple(vec![
                    Term::atom("=:="),
                    call("float", v()),
                    Term::Tuple(vec![Term::atom("const"), expected.clone()]),
                ]);
                assert!(
                    spec(v(), vec![g]).matches(i),
                    "float({i}) should be {expected}"
                );
            }
            _ => {
                let g = Term::Tuple(vec![
                    Term::atom("orelse"),
                    call("is_float", call("float", v())),
                    Term::atom("true"),
                ]);
                assert!(!spec(v(), vec![g]).matches(i), "float({i}) should fail");
            }
        }
    }
}

#[test]
fn match_specs_agree_with_ets() {
    let data = decoded("spec_data");
    let (mut ets_ok, mut refused, mut newer, mut nondet) = (0, 0, 0, 0);
    for s in list(field("specs")) {
        let s = tuple(s);
        let (pattern, guards, status, bits) =
            (&s[0], list(&s[1]), s[2].as_atom().unwrap(), bin(&s[3]));
        let guards: Vec<Term> = guards.into_iter().cloned().collect();
        let compiled = match_spec::compile(pattern, &guards);
        match status {
            "ets_refused" => {
                refused += 1;
                assert!(
                    compiled.is_err(),
                    "ETS refuses {pattern} when {guards:?}, we accept it"
                );
                continue;
            }
            "nondeterministic" => {
                nondet += 1;
                assert!(
                    compiled.is_err(),
                    "{pattern} when {guards:?} must be refused (self/node)"
                );
                continue;
            }
            "ets_ok" => ets_ok += 1,
            "newer_ok" => newer += 1,
            other => panic!("unknown status {other}"),
        }
        let ms = compiled.unwrap_or_else(|e| panic!("{pattern} when {guards:?}: {e}"));
        for (i, d) in data.iter().enumerate() {
            let expected = bits[i / 8] >> (7 - i % 8) & 1 == 1;
            assert_eq!(
                ms.matches(d),
                expected,
                "{pattern} when [{}] on {d}",
                guards
                    .iter()
                    .map(|g| g.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    assert!(
        ets_ok > 1000 && refused > 50 && newer > 20 && nondet > 2,
        "{ets_ok} {refused} {newer} {nondet}"
    );
}

#[test]
fn match_spec_serde_round_trip() {
    let ms = spec(
        Term::Tuple(vec![Term::atom("$1"), Term::atom("_")]),
        vec![Term::Tuple(vec![
            Term::atom(">"),
            Term::atom("$1"),
            Term::Int(3),
        ])],
    );
    let bytes = rmp_serde::to_vec(&ms).unwrap();
    let back: MatchSpec = rmp_serde::from_slice(&bytes).unwrap();
    let d = Term::Tuple(vec![Term::Int(4), Term::Nil]);
    assert!(back.matches(&d) && ms.matches(&d));
    assert!(back.pattern().exact_eq(ms.pattern()));
}

/// xorshift64*: a small deterministic generator for the fuzz loop.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn decoder_survives_random_and_mutated_input() {
    let mut seeds: Vec<Vec<u8>> = list(field("terms"))
        .into_iter()
        .map(|b| bin(b).to_vec())
        .filter(|b| b.len() < 4096)
        .collect();
    for c in list(field("decode_cases")) {
        seeds.push(bin(&tuple(c)[0]).to_vec());
    }
    for c in list(field("compressed")).into_iter().take(20) {
        seeds.push(bin(&tuple(c)[0]).to_vec());
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut decoded_ok = 0;
    for round in 0..200_000 {
        let input: Vec<u8> = if round % 10 == 0 {
            let n = rng.below(64);
            let mut v = vec![131u8];
            v.extend((0..n).map(|_| rng.next() as u8));
            v
        } else {
            let mut v = seeds[rng.below(seeds.len())].clone();
            for _ in 0..1 + rng.below(4) {
                let len = v.len();
                match rng.below(6) {
                    0 if len > 0 => {
                        let i = rng.below(len);
                        v[i] ^= 1 << rng.below(8);
                    }
                    1 if len > 0 => {
                        let i = rng.below(len);
                        v[i] = rng.next() as u8;
                    }
                    2 => v.truncate(rng.below(len + 1)),
                    3 => {
                        let i = rng.below(len + 1);
                        v.insert(i, [0, 0xff, 0x7f, 0x80, 106, 104][rng.below(6)]);
                    }
                    4 if len > 4 => {
                        // A length field set to something huge.
                        let i = rng.below(len - 4);
                        v[i..i + 4].copy_from_slice(&[0xff, 0xff, 0xff, rng.next() as u8]);
                    }
                    _ => {
                        let other = &seeds[rng.below(seeds.len())];
                        let from = rng.below(other.len());
                        let at = rng.below(len + 1);
                        v.splice(at..at, other[from..].iter().copied().take(32));
                    }
                }
            }
            v
        };
        if let Ok(t) = decode(&input) {
            decoded_ok += 1;
            let back = decode(&encode(&t)).expect("our own encoding decodes");
            assert!(back.exact_eq(&t), "round trip of fuzzed {t}");
        }
    }
    assert!(decoded_ok > 1000, "only {decoded_ok} fuzzed inputs decoded");
}

/// Random terms as patterns and guards, and the fixture's specs run on
/// random data: compiling and matching never panic.
#[test]
fn match_specs_survive_random_input() {
    let terms = decoded("terms");
    let data = decoded("spec_data");
    let specs: Vec<(Term, Vec<Term>)> = list(field("specs"))
        .into_iter()
        .map(|s| {
            let s = tuple(s);
            (s[0].clone(), list(&s[1]).into_iter().cloned().collect())
        })
        .collect();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut compiled = 0;
    for round in 0..20_000 {
        let (pattern, guards) = if round % 2 == 0 {
            let (p, g) = &specs[rng.below(specs.len())];
            // Swap one guard for a random term, sometimes.
            let mut g = g.clone();
            if !g.is_empty() && rng.below(3) == 0 {
                let i = rng.below(g.len());
                g[i] = terms[rng.below(terms.len())].clone();
            }
            (p.clone(), g)
        } else {
            let g = (0..rng.below(3))
                .map(|_| terms[rng.below(terms.len())].clone())
                .collect();
            (terms[rng.below(terms.len())].clone(), g)
        };
        if let Ok(ms) = match_spec::compile(&pattern, &guards) {
            compiled += 1;
            for _ in 0..4 {
                let d = if rng.below(2) == 0 {
                    &data[rng.below(data.len())]
                } else {
                    &terms[rng.below(terms.len())]
                };
                ms.matches(d);
            }
        }
    }
    assert!(compiled > 5_000, "only {compiled} specs compiled");
}

#[test]
fn nesting_limit() {
    let depth = khepri_core::term::MAX_DEPTH;
    let nested = |n: usize| {
        let mut v = vec![131u8];
        v.extend(std::iter::repeat_n([104u8, 1], n).flatten());
        v.push(106);
        v
    };
    let ok = decode(&nested(depth - 1)).expect("just below the limit");
    assert!(ok.clone().exact_eq(&ok));
    assert!(decode(&nested(depth + 1)).is_err());
    // A huge declared length with nothing behind it is refused, not allocated.
    assert!(decode(&[131, 108, 0xff, 0xff, 0xff, 0xff, 106]).is_err());
    assert!(decode(&[131, 105, 0xff, 0xff, 0xff, 0xff]).is_err());
    assert!(decode(&[131, 80, 0xff, 0xff, 0xff, 0xff, 120, 156]).is_err());
}
