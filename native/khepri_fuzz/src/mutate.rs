//! Mutations of seed inputs: what a damaged file or a hostile peer could
//! hand a decoder. Several are stacked per input; most keep the input close
//! to a valid encoding so decoders get past their first check.

use crate::rng::Rng;

/// Largest input produced: decoders are meant for small records, and
/// bounding inputs keeps each iteration fast.
pub const MAX_INPUT: usize = 64 << 10;

/// Interesting values for length and count fields.
const EDGE_U32: [u32; 10] = [
    0,
    1,
    2,
    0x7F,
    0x80,
    0xFF,
    0xFFFF,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
    0x1000_0000,
];

/// A mutant of `corpus[k]` for a random `k` (or random bytes), with 1 to 4
/// stacked mutations; `corpus` must not be empty.
pub fn mutant(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    if rng.one_in(50) {
        let n = rng.below(256);
        return (0..n).map(|_| rng.byte()).collect();
    }
    let mut input = corpus[rng.below(corpus.len())].clone();
    for _ in 0..=rng.below(4) {
        mutate_once(rng, &mut input, corpus);
    }
    input.truncate(MAX_INPUT);
    input
}

/// Applies one random mutation to `input`.
pub fn mutate_once(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    match rng.below(10) {
        0 | 1 => flip_bit(rng, input),
        2 => set_random_byte(rng, input),
        3 => truncate(rng, input),
        4 => splice(rng, input, corpus),
        5 => insert_random(rng, input),
        6 => delete_range(rng, input),
        7 | 8 => tweak_length_field(rng, input),
        _ => duplicate_range(rng, input),
    }
}

fn flip_bit(rng: &mut Rng, input: &mut [u8]) {
    if !input.is_empty() {
        let at = rng.below(input.len());
        input[at] ^= 1 << rng.below(8);
    }
}

fn set_random_byte(rng: &mut Rng, input: &mut [u8]) {
    if !input.is_empty() {
        let at = rng.below(input.len());
        input[at] = if rng.one_in(2) {
            rng.byte()
        } else {
            [0, 0xFF, 0x7F, 0x80][rng.below(4)]
        };
    }
}

fn truncate(rng: &mut Rng, input: &mut Vec<u8>) {
    let keep = rng.below(input.len() + 1);
    input.truncate(keep);
}

/// Replaces a range of `input` with a range of another corpus entry.
fn splice(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    let other = &corpus[rng.below(corpus.len())];
    if other.is_empty() {
        return;
    }
    let from = rng.below(other.len());
    let len = rng.below(other.len() - from + 1);
    let at = rng.below(input.len() + 1);
    let cut = rng.below(input.len() - at + 1);
    input.splice(at..at + cut, other[from..from + len].iter().copied());
}

fn insert_random(rng: &mut Rng, input: &mut Vec<u8>) {
    let at = rng.below(input.len() + 1);
    let n = 1 + rng.below(16);
    let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
    input.splice(at..at, bytes);
}

fn delete_range(rng: &mut Rng, input: &mut Vec<u8>) {
    if !input.is_empty() {
        let at = rng.below(input.len());
        let n = 1 + rng.below((input.len() - at).min(32));
        input.drain(at..at + n);
    }
}

fn duplicate_range(rng: &mut Rng, input: &mut Vec<u8>) {
    if !input.is_empty() && input.len() < MAX_INPUT / 2 {
        let at = rng.below(input.len());
        let n = 1 + rng.below((input.len() - at).min(256));
        let copy = input[at..at + n].to_vec();
        let to = rng.below(input.len() + 1);
        input.splice(to..to, copy);
    }
}

/// Overwrites 1, 2, 4 or 8 bytes, in either byte order, with an edge value
/// or a small change of what is there: where a length or count field sits,
/// this is what makes a decoder trust a wrong size.
fn tweak_length_field(rng: &mut Rng, input: &mut [u8]) {
    let width = [1usize, 2, 4, 8][rng.below(4)];
    if input.len() < width {
        return;
    }
    let at = rng.below(input.len() - width + 1);
    let field = &mut input[at..at + width];
    let big_endian = rng.one_in(2);
    let mut word = [0u8; 8];
    if big_endian {
        word[8 - width..].copy_from_slice(field);
    } else {
        word[..width].copy_from_slice(field);
    }
    let old = if big_endian {
        u64::from_be_bytes(word)
    } else {
        u64::from_le_bytes(word)
    };
    let new = match rng.below(3) {
        0 => u64::from(EDGE_U32[rng.below(EDGE_U32.len())]),
        1 => old.wrapping_add(1 + rng.below(16) as u64),
        _ => old.wrapping_sub(1 + rng.below(16) as u64),
    };
    let bytes = if big_endian {
        new.to_be_bytes()
    } else {
        new.to_le_bytes()
    };
    if big_endian {
        field.copy_from_slice(&bytes[8 - width..]);
    } else {
        field.copy_from_slice(&bytes[..width]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutants_differ_and_stay_bounded() {
        let corpus = vec![(0..200u8).collect::<Vec<u8>>(), vec![1, 2, 3]];
        let mut rng = Rng::new(1);
        let mut changed = 0;
        for _ in 0..10_000 {
            let m = mutant(&mut rng, &corpus);
            assert!(m.len() <= MAX_INPUT);
            changed += usize::from(!corpus.contains(&m));
        }
        assert!(changed > 9_000, "{changed}");
    }
}
