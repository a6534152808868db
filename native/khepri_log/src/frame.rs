//! Record framing: `len: u32 LE | crc: u32 LE | index: u64 LE | payload`.
//!
//! The CRC-32C covers `index ++ payload`, so a frame copied to the wrong place
//! in the log (stale data, misdirected write) fails its check.

/// Bytes of the fixed frame header (length, CRC, index) before the payload.
pub const FRAME_HEADER_LEN: usize = 16;

/// Largest payload a frame can carry: the length field is a `u32`.
pub const MAX_PAYLOAD: usize = u32::MAX as usize;

/// Outcome of decoding the bytes at one frame position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameResult<'a> {
    /// A well-formed record whose checksum matches.
    Record {
        /// Log index stored in the frame.
        index: u64,
        /// The record's payload, borrowed from the input.
        payload: &'a [u8],
        /// Total bytes the frame occupies (header + payload).
        frame_len: usize,
    },
    /// Sixteen zero bytes: the end of written data (preallocated space is zero).
    End,
    /// The input is shorter than the frame it starts; `needed` is the total
    /// number of bytes the frame would occupy.
    Incomplete {
        /// Bytes needed from the start of the input to decode this frame.
        needed: u64,
    },
    /// The frame is complete but its checksum does not match its content.
    BadChecksum {
        /// Index field as stored (not trustworthy).
        index: u64,
        /// CRC field as stored.
        stored: u32,
        /// CRC computed over the stored index and payload.
        computed: u32,
    },
}

/// CRC-32C of `index as u64 LE ++ payload`.
pub fn frame_crc(index: u64, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&index.to_le_bytes()), payload)
}

/// Decodes the frame starting at `buf[0]`.
///
/// Total: never panics and never allocates, whatever the input, because it
/// runs on bytes read back from disk that may be torn or garbage.
pub fn decode_frame(buf: &[u8]) -> FrameResult<'_> {
    let Some(h) = buf.first_chunk::<FRAME_HEADER_LEN>() else {
        return FrameResult::Incomplete {
            needed: FRAME_HEADER_LEN as u64,
        };
    };
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let stored = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    let index = u64::from_le_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]);
    // An all-zero header can never be a record: an empty payload at index 0
    // has CRC crc32c([0; 8]) != 0. So zeros unambiguously mean "no more data".
    if len == 0 && stored == 0 && index == 0 {
        return FrameResult::End;
    }
    let total = FRAME_HEADER_LEN as u64 + u64::from(len);
    let payload = usize::try_from(total)
        .ok()
        .and_then(|end| buf.get(FRAME_HEADER_LEN..end));
    let Some(payload) = payload else {
        return FrameResult::Incomplete { needed: total };
    };
    let computed = frame_crc(index, payload);
    if computed != stored {
        return FrameResult::BadChecksum {
            index,
            stored,
            computed,
        };
    }
    FrameResult::Record {
        index,
        payload,
        frame_len: FRAME_HEADER_LEN + payload.len(),
    }
}

/// Appends the frame for (`index`, `payload`) to `out`.
///
/// The caller has checked `payload.len() <= MAX_PAYLOAD` (`append` does so
/// before writing anything), since the length field cannot hold more.
pub(crate) fn encode_frame(out: &mut Vec<u8>, index: u64, payload: &[u8]) {
    debug_assert!(payload.len() <= MAX_PAYLOAD);
    let len = payload.len() as u32;
    out.reserve(FRAME_HEADER_LEN + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&frame_crc(index, payload).to_le_bytes());
    out.extend_from_slice(&index.to_le_bytes());
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic RNG so the test needs no dependency and replays.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
    }

    fn frame(index: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_frame(&mut v, index, payload);
        v
    }

    #[test]
    fn zero_header_is_not_a_record() {
        // The End marker relies on this.
        assert_ne!(frame_crc(0, &[]), 0);
        let f = frame(0, &[]);
        assert_eq!(
            decode_frame(&f),
            FrameResult::Record {
                index: 0,
                payload: &[],
                frame_len: 16
            }
        );
        assert_eq!(decode_frame(&[0u8; 16]), FrameResult::End);
        assert_eq!(decode_frame(&[0u8; 40]), FrameResult::End);
    }

    #[test]
    fn round_trip_and_prefixes() {
        let payload: Vec<u8> = (0..=255u8).collect();
        let f = frame(42, &payload);
        assert_eq!(
            decode_frame(&f),
            FrameResult::Record {
                index: 42,
                payload: &payload,
                frame_len: f.len()
            }
        );
        for cut in 0..f.len() {
            let needed = if cut < 16 { 16 } else { f.len() as u64 };
            assert_eq!(
                decode_frame(&f[..cut]),
                FrameResult::Incomplete { needed },
                "cut {cut}"
            );
        }
    }

    #[test]
    fn any_single_bit_flip_is_detected() {
        let f = frame(7, b"hello, log");
        for bit in 0..f.len() * 8 {
            let mut g = f.clone();
            g[bit / 8] ^= 1 << (bit % 8);
            match decode_frame(&g) {
                FrameResult::Record { .. } => panic!("flip of bit {bit} not detected"),
                FrameResult::End => panic!("flip produced End"),
                FrameResult::Incomplete { .. } | FrameResult::BadChecksum { .. } => {}
            }
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut buf = Vec::new();
        let mut records = 0u32;
        for i in 0..100_000u32 {
            let r = rng.next();
            let len = (r % 96) as usize;
            buf.clear();
            if i % 4 == 0 {
                // Start from a valid frame and damage it, so the decoder also
                // sees plausible lengths and near-miss checksums.
                let payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                encode_frame(&mut buf, rng.next(), &payload);
                let n = buf.len();
                match rng.next() % 3 {
                    0 => buf.truncate((rng.next() as usize) % (n + 1)),
                    1 => {
                        let at = (rng.next() as usize) % n;
                        buf[at] ^= 1 << (rng.next() % 8);
                    }
                    _ => {}
                }
            } else {
                buf.extend((0..len).map(|_| rng.next() as u8));
                if i % 4 == 1 && buf.len() >= 4 {
                    // Small length fields make complete frames likely.
                    buf[..4].copy_from_slice(&((rng.next() % 64) as u32).to_le_bytes());
                }
            }
            match decode_frame(&buf) {
                FrameResult::Record {
                    payload, frame_len, ..
                } => {
                    assert!(frame_len <= buf.len());
                    assert_eq!(payload.len() + FRAME_HEADER_LEN, frame_len);
                    records += 1;
                }
                FrameResult::Incomplete { needed } => assert!(needed > buf.len() as u64),
                FrameResult::End | FrameResult::BadChecksum { .. } => {}
            }
        }
        // The valid-frame branch must have produced some records, or the test
        // would only ever exercise the rejection paths.
        assert!(records > 1000, "only {records} records decoded");
    }
}
