//! A fixed 128-bit digest (FNV-1a) of what a transaction observed.
//!
//! Every member compares digests carried in the log with digests it computes
//! at apply time, so the function must never change between builds: std's
//! hashers make no such promise, hence this one.

const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

/// An incremental FNV-1a 128 digest.
#[derive(Clone, Copy, Debug)]
pub struct Digest(u128);

impl Default for Digest {
    fn default() -> Self {
        Digest(OFFSET)
    }
}

impl Digest {
    /// An empty digest.
    pub fn new() -> Self {
        Digest::default()
    }

    /// Feeds bytes, prefixed with their length so that concatenations of
    /// different splits differ.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.u64(bytes.len() as u64);
        self.raw(bytes);
    }

    /// Feeds an integer.
    pub fn u64(&mut self, v: u64) {
        self.raw(&v.to_le_bytes());
    }

    fn raw(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    /// The digest, as two words (the log's encoding has no 128-bit integer).
    pub fn finish(self) -> [u64; 2] {
        [(self.0 >> 64) as u64, self.0 as u64]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_of_fnv1a_128() {
        // Published FNV-1a 128 test vectors: "" and "a".
        assert_eq!(Digest::new().0, 0x6c62272e07bb014262b821756295c58d);
        let mut d = Digest::new();
        d.raw(b"a");
        assert_eq!(d.0, 0xd228cb696f1a8caf78912b704e4a8964);
    }

    #[test]
    fn length_prefixes_separate_splits() {
        let mut a = Digest::new();
        a.bytes(b"ab");
        a.bytes(b"c");
        let mut b = Digest::new();
        b.bytes(b"a");
        b.bytes(b"bc");
        assert_ne!(a.finish(), b.finish());
    }
}
