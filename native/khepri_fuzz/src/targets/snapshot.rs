//! Snapshot files (`khepri_raft::snapshot::decode`) and the tree image
//! inside them (`khepri_core::image::decode`), which is also fed directly so
//! that mutants need not get past the snapshot checksum to reach it.

use super::Target;
use crate::samples;
use khepri_core::image;
use khepri_raft::snapshot;
use std::path::Path;

/// Snapshot header: magic, CRC-32C of the body, body length.
const HEADER: usize = 8 + 4 + 8;

/// The snapshot and tree image decoders.
pub struct SnapshotTarget;

/// The tree image inside snapshot bytes, if the layout gets that far.
fn image_of(input: &[u8]) -> Option<&[u8]> {
    let meta_len = u32::from_le_bytes(input.get(HEADER..HEADER + 4)?.try_into().ok()?) as usize;
    input.get(HEADER + 4 + meta_len..)
}

impl Target for SnapshotTarget {
    fn name(&self) -> &'static str {
        "snapshot"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        samples::store_files().snapshots
    }

    fn fix_up(&self, input: &mut Vec<u8>) {
        if input.len() >= HEADER {
            let crc = crc32c::crc32c(&input[HEADER..]);
            let len = (input.len() - HEADER) as u64;
            input[8..12].copy_from_slice(&crc.to_le_bytes());
            input[12..20].copy_from_slice(&len.to_le_bytes());
        }
    }

    fn run(&mut self, input: &[u8]) -> bool {
        if let Some(img) = image_of(input) {
            if let Ok(tree) = image::decode(img) {
                let again = image::encode(&tree).expect("a decoded tree has an image");
                let back = image::decode(&again).expect("an image we made decodes");
                assert!(back == tree, "image round trip changed the tree");
            }
        }
        let Ok(body) = snapshot::decode(input, Path::new("fuzz")) else {
            return false;
        };
        let again = snapshot::encode(&body).expect("a decoded snapshot encodes");
        assert!(snapshot::decode(&again, Path::new("again")).is_ok());
        true
    }
}
