//! Log segments: frame decoding, the recovery scan of `SegmentedLog::open`
//! on a segment file made of the input, reading records back, and the
//! openraft entries (`rmp_serde`) the records hold.

use super::Target;
use crate::{samples, scratch};
use khepri_log::{
    decode_frame, frame_crc, FrameResult, LogConfig, SegmentedLog, FRAME_HEADER_LEN,
    SEGMENT_HEADER_LEN,
};
use khepri_raft::types::Entry;
use std::fs;
use std::path::PathBuf;

/// Segment files small enough that appends roll over in a short run.
const SEGMENT_BYTES: u64 = 64 << 10;

/// The log decoder, on real files in a scratch directory.
pub struct LogTarget {
    dir: PathBuf,
}

impl LogTarget {
    /// Uses a fresh scratch directory (on tmpfs when there is one).
    pub fn new() -> Self {
        LogTarget {
            dir: scratch::dir("log"),
        }
    }
}

impl Default for LogTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for LogTarget {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The first index a segment header names, to name the file after it (a
/// mismatch is refused at once, before the interesting part).
fn header_first(input: &[u8]) -> u64 {
    input
        .get(16..24)
        .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

impl Target for LogTarget {
    fn name(&self) -> &'static str {
        "log"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        samples::store_files().segments
    }

    fn fix_up(&self, input: &mut Vec<u8>) {
        if input.len() >= SEGMENT_HEADER_LEN as usize {
            let crc = crc32c::crc32c(&input[..24]);
            input[24..28].copy_from_slice(&crc.to_le_bytes());
        }
        let mut pos = SEGMENT_HEADER_LEN as usize;
        while let Some(h) = input.get(pos..pos + FRAME_HEADER_LEN) {
            let len = u32::from_le_bytes(h[0..4].try_into().expect("4 bytes")) as usize;
            let index = u64::from_le_bytes(h[8..16].try_into().expect("8 bytes"));
            let end = pos + FRAME_HEADER_LEN + len;
            let Some(payload) = input.get(pos + FRAME_HEADER_LEN..end) else {
                break;
            };
            if len == 0 && index == 0 {
                break;
            }
            let crc = frame_crc(index, payload);
            input[pos + 4..pos + 8].copy_from_slice(&crc.to_le_bytes());
            pos = end;
        }
    }

    fn run(&mut self, input: &[u8]) -> bool {
        // The frame decoder alone, walking the input as the scan does.
        let mut pos = (SEGMENT_HEADER_LEN as usize).min(input.len());
        while let FrameResult::Record {
            payload, frame_len, ..
        } = decode_frame(&input[pos..])
        {
            let _ = rmp_serde::from_slice::<Entry>(payload);
            pos += frame_len;
        }
        // The whole recovery, on a real file.
        let _ = fs::remove_dir_all(&self.dir);
        fs::create_dir_all(&self.dir).expect("scratch directory");
        let name = format!("{:020}.seg", header_first(input));
        fs::write(self.dir.join(name), input).expect("scratch file");
        let cfg = LogConfig {
            segment_bytes: SEGMENT_BYTES,
        };
        let Ok((mut log, recovery)) = SegmentedLog::open(&self.dir, cfg.clone()) else {
            return false;
        };
        for (index, bytes) in &recovery.records {
            let read = log.read(*index).expect("a recovered record reads back");
            assert_eq!(
                read.as_deref(),
                Some(&bytes[..]),
                "record {index} read back differs"
            );
            let _ = rmp_serde::from_slice::<Entry>(bytes);
        }
        // Recovery left a log that takes appends and keeps them.
        let next = log.last_index().map_or(Some(1), |l| l.checked_add(1));
        if let Some(next) = next {
            log.append(&[(next, b"after recovery")])
                .expect("append after recovery");
            drop(log);
            let (_, again) = SegmentedLog::open(&self.dir, cfg).expect("reopens");
            assert_eq!(
                again.records.last().map(|(i, _)| *i),
                Some(next),
                "appended record lost on reopen"
            );
        }
        true
    }
}
