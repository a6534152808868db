//! Telling a torn write from damage in the tail segment.
//!
//! Only the last, unsynced appends can be torn by a crash. After SIGKILL the
//! page cache keeps every completed write, so a torn append is a prefix
//! followed by zeros. After a power loss the pages of an unsynced append may
//! reach the disk in any order, so an intact record can follow a torn one,
//! but the torn one then has a sector that was never written: the segment
//! was zero there (preallocated, and wiped past the end of data at open and
//! on truncation), and a sector is written whole or not at all.
//!
//! So an invalid frame (or an end marker) followed by an intact record that
//! continues the log is damage to durable data, unless the bytes between
//! them include a sector that still reads as never written. Damage is
//! refused; a torn write is dropped as before. Limitation: a sector zeroed
//! by the disk itself looks like a torn write and is dropped with a warning.

use crate::frame::{decode_frame, FrameResult, FRAME_HEADER_LEN};
use crate::{io_err, LogError};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Granularity at which a device writes atomically; the smallest in use, so
/// that no torn write is mistaken for damage.
pub(crate) const SECTOR: u64 = 512;

/// How much of the file is examined per read.
const WINDOW: usize = 1 << 20;

/// An intact record found after the point where a scan stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Later {
    /// Offset of its frame.
    pub offset: u64,
    /// Its index.
    pub index: u64,
}

/// Looks for an intact frame at any byte offset after `from` (where the
/// record with index `expected` should have started) whose index continues
/// the log: at least `expected`, and at most one record per frame header's
/// worth of bytes skipped. Reads the rest of the file, so it is called only
/// when a scan stopped early.
pub(crate) fn later_record(
    file: &File,
    path: &Path,
    file_len: u64,
    from: u64,
    expected: u64,
) -> Result<Option<Later>, LogError> {
    let mut start = from + 1;
    let mut buf = vec![0u8; WINDOW + FRAME_HEADER_LEN];
    while start + FRAME_HEADER_LEN as u64 <= file_len {
        // Each window also holds the header of a frame starting at its last
        // offset, so headers straddling windows are seen once.
        let len = (file_len - start).min(buf.len() as u64) as usize;
        let window = &mut buf[..len];
        file.read_exact_at(window, start).map_err(io_err(path))?;
        let checked = len.saturating_sub(FRAME_HEADER_LEN - 1).min(WINDOW);
        for k in 0..checked {
            let offset = start + k as u64;
            let max_index = expected.saturating_add((offset - from) / FRAME_HEADER_LEN as u64);
            if let Some(index) = candidate(&window[k..], file_len - offset, expected, max_index) {
                if frame_is_intact(file, path, window, k, offset, index)? {
                    return Ok(Some(Later { offset, index }));
                }
            }
        }
        start += checked as u64;
    }
    Ok(None)
}

/// The index of the frame header at `bytes[0]` if it is plausible: index in
/// `min..=max` and a length that fits in the `room` bytes left in the file.
/// Cheap, so garbage is skipped without computing checksums.
fn candidate(bytes: &[u8], room: u64, min: u64, max: u64) -> Option<u64> {
    let h = bytes.first_chunk::<FRAME_HEADER_LEN>()?;
    let len = u64::from(u32::from_le_bytes([h[0], h[1], h[2], h[3]]));
    let index = u64::from_le_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]);
    let fits = len + FRAME_HEADER_LEN as u64 <= room;
    (fits && (min..=max).contains(&index) && h.iter().any(|&b| b != 0)).then_some(index)
}

/// Whether the frame at `window[k..]` (file offset `offset`) decodes as a
/// record with `index`, reading it from the file when it runs past the window.
fn frame_is_intact(
    file: &File,
    path: &Path,
    window: &[u8],
    k: usize,
    offset: u64,
    index: u64,
) -> Result<bool, LogError> {
    let is_it = |bytes: &[u8]| matches!(decode_frame(bytes), FrameResult::Record { index: i, .. } if i == index);
    let len = u32::from_le_bytes([window[k], window[k + 1], window[k + 2], window[k + 3]]) as usize;
    let total = FRAME_HEADER_LEN + len;
    if let Some(bytes) = window.get(k..k + total) {
        return Ok(is_it(bytes));
    }
    // The caller checked that the frame ends inside the file.
    let mut bytes = vec![0u8; total];
    file.read_exact_at(&mut bytes, offset)
        .map_err(io_err(path))?;
    Ok(is_it(&bytes))
}

/// Whether `from..to` can be the torn part of an interrupted append: some
/// sector ending at or before `to` (so not shared with the intact frame
/// there, which was written) reads as zeros wherever it overlaps
/// `from..to`.
pub(crate) fn looks_torn(file: &File, path: &Path, from: u64, to: u64) -> Result<bool, LogError> {
    let mut sector = from - from % SECTOR;
    let mut buf = vec![0u8; SECTOR as usize];
    while sector + SECTOR <= to {
        let lo = sector.max(from);
        let part = &mut buf[..(sector + SECTOR - lo) as usize];
        file.read_exact_at(part, lo).map_err(io_err(path))?;
        if part.iter().all(|&b| b == 0) {
            return Ok(true);
        }
        sector += SECTOR;
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::encode_frame;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> (tempfile::NamedTempFile, u64) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f.flush().unwrap();
        (f, bytes.len() as u64)
    }

    fn frame(index: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_frame(&mut v, index, payload);
        v
    }

    #[test]
    fn finds_a_later_record_at_any_offset() {
        let mut bytes = vec![0xAB; 37];
        let at = bytes.len() as u64;
        bytes.extend(frame(12, b"intact"));
        bytes.extend([0u8; 64]);
        let (f, len) = file_with(&bytes);
        let found = later_record(f.as_file(), f.path(), len, 0, 10).unwrap();
        assert_eq!(
            found,
            Some(Later {
                offset: at,
                index: 12
            })
        );
        // An index that cannot continue the log is not taken for one.
        assert_eq!(
            later_record(f.as_file(), f.path(), len, 0, 13).unwrap(),
            None
        );
        assert_eq!(
            later_record(f.as_file(), f.path(), len, 30, 3).unwrap(),
            None
        );
    }

    #[test]
    fn a_frame_across_windows_is_found() {
        let mut bytes = vec![0x11; WINDOW - 5];
        let at = bytes.len() as u64;
        bytes.extend(frame(7, &[9; 3000]));
        let (f, len) = file_with(&bytes);
        let found = later_record(f.as_file(), f.path(), len, 0, 7).unwrap();
        assert_eq!(
            found,
            Some(Later {
                offset: at,
                index: 7
            })
        );
    }

    #[test]
    fn an_unwritten_sector_before_the_intact_frame_means_torn() {
        let mut bytes = vec![0x5A; 3 * SECTOR as usize];
        let (f, len) = file_with(&bytes);
        assert!(!looks_torn(f.as_file(), f.path(), 10, len).unwrap());
        // Zeros in the second sector from `from` on: torn.
        bytes[SECTOR as usize..2 * SECTOR as usize].fill(0);
        let (f, _) = file_with(&bytes);
        assert!(looks_torn(f.as_file(), f.path(), 10, 2 * SECTOR).unwrap());
        // A sector shared with the intact frame was written: not torn.
        assert!(!looks_torn(f.as_file(), f.path(), 10, 2 * SECTOR - 1).unwrap());
        // Zeros from `from` to the end of its sector count.
        let mut bytes = vec![0x5A; 2 * SECTOR as usize];
        bytes[100..SECTOR as usize].fill(0);
        let (f, _) = file_with(&bytes);
        assert!(looks_torn(f.as_file(), f.path(), 100, SECTOR).unwrap());
        assert!(!looks_torn(f.as_file(), f.path(), 99, SECTOR).unwrap());
    }
}
