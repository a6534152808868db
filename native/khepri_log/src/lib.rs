//! Durable, segmented, append-only record log (the Raft log of khepri-rs).
//!
//! Records are opaque payloads identified by contiguous `u64` indexes; the log
//! knows nothing about Raft. Data lives in segment files named by their first
//! index (`{first:020}.seg`), each preallocated so that an fdatasync after an
//! append has no file-size change to flush.
//!
//! Segment layout: a [`SEGMENT_HEADER_LEN`]-byte header (magic, format
//! version, first index, header CRC), then frames as described in
//! [`decode_frame`], then zeros up to the allocated size.
//!
//! Crash-safety invariants the recovery rules rely on:
//! - a segment file is created only after every earlier segment's data is on
//!   disk, and the directory is fsynced after each creation or removal, so
//!   only the last segment can hold a torn write;
//! - every segment holds at least one record (empty ones are never left
//!   behind), so segment names alone give the index layout;
//! - segments are removed newest-first by truncation and oldest-first by
//!   purging, so an interrupted removal still leaves contiguous segments;
//! - once a new segment is on disk, the one before it is marked as followed
//!   (see [`SUCCESSOR_MARK`]), and truncation clears the mark before it
//!   removes the segment that follows, so a last segment carrying the mark
//!   means later segments were lost.

#![warn(missing_docs)]

mod damage;
mod frame;
mod sys;

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub use frame::{decode_frame, frame_crc, FrameResult, FRAME_HEADER_LEN, MAX_PAYLOAD};

/// Bytes of the segment header that precedes the first frame.
pub const SEGMENT_HEADER_LEN: u64 = 32;
/// First bytes of every segment file; anything else is not ours.
pub const SEGMENT_MAGIC: [u8; 8] = *b"KHPRILOG";
/// Segment format version written and accepted by this crate.
pub const FORMAT_VERSION: u32 = 1;
/// Default preallocated segment size: 64 MiB.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;
/// File-name suffix of segment files.
pub const SEGMENT_SUFFIX: &str = ".seg";
/// Added to the name of a segment file taken out of the log by
/// [`SegmentedLog::retire_upto`].
pub const RETIRED_SUFFIX: &str = ".retired";

/// Written at [`SUCCESSOR_OFFSET`] of a segment's header once the next
/// segment is durable. Bytes 28..32 are outside the header checksum, so the
/// mark is one small write to a closed segment that cannot spoil its header;
/// any other value there (zero in segments never followed) means unmarked.
pub const SUCCESSOR_MARK: [u8; 4] = *b"NEXT";
/// Offset of [`SUCCESSOR_MARK`] in the segment header.
pub const SUCCESSOR_OFFSET: u64 = 28;

/// Why an empty last segment after a marked one is refused: the mark is set
/// only once the new segment's header and first records are durable.
const DAMAGED_SUCCESSOR: &str = "the segment before it is marked as followed, which happens only once this one's first records are durable: they are damaged, not an interrupted append";

/// How much of a segment the recovery scan reads at a time.
const SCAN_CHUNK: usize = 1 << 20;

/// How many bytes after an end marker are at least checked for data.
const END_PROBE: usize = 64 << 10;

/// Log tuning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Size each segment file is preallocated to. A record that does not fit
    /// in the remaining space starts a new segment; a record larger than a
    /// whole segment gets a segment of its own, sized to fit. At most
    /// `u32::MAX` so in-memory frame offsets fit in 32 bits.
    pub segment_bytes: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
        }
    }
}

impl LogConfig {
    fn validate(&self) -> Result<(), LogError> {
        let min = SEGMENT_HEADER_LEN + FRAME_HEADER_LEN as u64;
        if self.segment_bytes < min || self.segment_bytes > u64::from(u32::MAX) {
            return Err(LogError::InvalidConfig(format!(
                "segment_bytes must be in {min}..={}, got {}",
                u32::MAX,
                self.segment_bytes
            )));
        }
        Ok(())
    }
}

/// What `open` found on disk.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Every surviving record, in index order.
    pub records: Vec<(u64, Vec<u8>)>,
    /// Repairs made while opening (torn tail dropped, unwritten segment
    /// removed, ...), each naming the file and offset concerned.
    pub warnings: Vec<String>,
    /// Index of the first record dropped as (part of) a torn write, if any:
    /// callers that know records up to some index were durable can tell
    /// such a loss from a missing file.
    pub torn_from: Option<u64>,
}

/// Errors of the log. Those about a file name it and, where known, the offset.
#[derive(Debug)]
pub enum LogError {
    /// An I/O call failed on `path`.
    Io {
        /// File or directory the call was about.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Data that must be intact is not (outside the repairable tail), or a
    /// file named like a segment is not one of ours.
    Corrupt {
        /// Segment file.
        path: PathBuf,
        /// Byte offset of the first bad byte range found.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// Segment files do not continue each other (a segment is missing).
    Gap {
        /// First segment file after the hole.
        path: PathBuf,
        /// Index the file should have started with.
        expected: u64,
        /// Index it starts with.
        found: u64,
    },
    /// `append` was given an index that does not continue the log.
    NotContiguous {
        /// Index the record had to carry.
        expected: u64,
        /// Index it carried.
        found: u64,
    },
    /// The log already ends at `u64::MAX`; nothing can follow.
    IndexOverflow,
    /// A payload longer than [`MAX_PAYLOAD`].
    TooLarge {
        /// Index of the offending record.
        index: u64,
        /// Its payload length.
        len: usize,
    },
    /// Bad [`LogConfig`].
    InvalidConfig(String),
    /// Another handle (in this or another process) has the log open.
    Locked {
        /// The log directory.
        path: PathBuf,
    },
    /// An earlier write or sync failed, so what is on disk is unknown (after
    /// a failed fsync the kernel may have dropped the dirty pages). Reopen the
    /// log to recover from the disk's actual state.
    Poisoned,
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Io { path, source } => write!(f, "I/O error on {}: {source}", path.display()),
            LogError::Corrupt {
                path,
                offset,
                reason,
            } => write!(
                f,
                "corrupt log segment {} at offset {offset}: {reason}",
                path.display()
            ),
            LogError::Gap {
                path,
                expected,
                found,
            } => write!(
                f,
                "log segments do not continue at {}: it starts at index {found}, expected {expected} (a segment is missing or the one before lost records)",
                path.display()
            ),
            LogError::NotContiguous { expected, found } => write!(
                f,
                "appended index {found} does not continue the log (expected {expected})"
            ),
            LogError::IndexOverflow => write!(f, "log index space exhausted"),
            LogError::TooLarge { index, len } => write!(
                f,
                "record {index} has a {len}-byte payload, more than {MAX_PAYLOAD}"
            ),
            LogError::InvalidConfig(msg) => write!(f, "invalid log configuration: {msg}"),
            LogError::Locked { path } => {
                write!(f, "log {} is already open elsewhere", path.display())
            }
            LogError::Poisoned => write!(
                f,
                "log unusable after an earlier I/O failure; reopen it to recover"
            ),
        }
    }
}

impl std::error::Error for LogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LogError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
    move |source| LogError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One open segment file.
#[derive(Debug)]
struct Segment {
    path: PathBuf,
    file: File,
    first: u64,
    /// Offset of each record's frame; record `first + i` is at `offsets[i]`.
    /// 4 bytes per record keeps the map small; offsets fit because frames
    /// only start below `segment_bytes <= u32::MAX` (or at the header of a
    /// one-record oversized segment).
    offsets: Vec<u32>,
    /// Where the next frame goes (end of written data).
    write_off: u64,
    /// Allocated file length.
    capacity: u64,
}

impl Segment {
    /// Last index held. Segments are never empty, so this is well defined.
    fn last(&self) -> u64 {
        self.first + (self.offsets.len() as u64).saturating_sub(1)
    }

    /// Offset just past the frame of record `index` (which must be held).
    fn end_of(&self, index: u64) -> u64 {
        let k = (index - self.first) as usize + 1;
        self.offsets
            .get(k)
            .map_or(self.write_off, |&o| u64::from(o))
    }
}

/// A durable record log over a directory of segment files.
#[derive(Debug)]
pub struct SegmentedLog {
    dir: PathBuf,
    /// Open directory: fsynced after segment creation/removal, and holder of
    /// the exclusive lock that keeps two writers off the same log.
    dir_file: File,
    cfg: LogConfig,
    /// In index order, contiguous, each non-empty. Only the last takes appends.
    segments: Vec<Segment>,
    poisoned: bool,
}

fn segment_name(first: u64) -> String {
    format!("{first:020}{SEGMENT_SUFFIX}")
}

/// Parses `{20 digits}.seg`; `None` for any other name.
fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn encode_header(first: u64) -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut h = [0u8; SEGMENT_HEADER_LEN as usize];
    h[0..8].copy_from_slice(&SEGMENT_MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    // 12..16 reserved (flags), zero.
    h[16..24].copy_from_slice(&first.to_le_bytes());
    let crc = crc32c::crc32c(&h[0..24]);
    h[24..28].copy_from_slice(&crc.to_le_bytes());
    // 28..32: the successor mark, zero until a later segment exists.
    h
}

/// Sets or clears the successor mark of a segment and makes it durable.
fn set_successor_mark(file: &File, path: &Path, followed: bool) -> Result<(), LogError> {
    let bytes = if followed { SUCCESSOR_MARK } else { [0; 4] };
    file.write_all_at(&bytes, SUCCESSOR_OFFSET)
        .and_then(|()| file.sync_data())
        .map_err(io_err(path))
}

enum Header {
    /// Valid header carrying this first index.
    Valid(u64),
    /// Zero or short: the file was created but its first write never reached
    /// the disk.
    Unwritten,
    /// Present but wrong.
    Bad { offset: u64, reason: String },
}

fn decode_header(bytes: &[u8]) -> Header {
    let Some(h) = bytes.first_chunk::<{ SEGMENT_HEADER_LEN as usize }>() else {
        return if bytes.iter().all(|&b| b == 0) {
            Header::Unwritten
        } else {
            Header::Bad {
                offset: 0,
                reason: format!(
                    "file of {} bytes is shorter than a segment header",
                    bytes.len()
                ),
            }
        };
    };
    if h.iter().all(|&b| b == 0) {
        return Header::Unwritten;
    }
    if h[0..8] != SEGMENT_MAGIC {
        return Header::Bad {
            offset: 0,
            reason: "bad magic: not a khepri log segment".into(),
        };
    }
    let version = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
    if version != FORMAT_VERSION {
        return Header::Bad {
            offset: 8,
            reason: format!("unsupported segment format version {version}"),
        };
    }
    let stored = u32::from_le_bytes([h[24], h[25], h[26], h[27]]);
    if crc32c::crc32c(&h[0..24]) != stored {
        return Header::Bad {
            offset: 24,
            reason: "segment header checksum mismatch".into(),
        };
    }
    Header::Valid(u64::from_le_bytes([
        h[16], h[17], h[18], h[19], h[20], h[21], h[22], h[23],
    ]))
}

/// Why a segment scan stopped.
enum Stop {
    /// Clean end of data (zero header, or end of file).
    End,
    /// First invalid frame.
    Invalid { offset: u64, reason: String },
}

struct Scanned {
    offsets: Vec<u32>,
    payloads: Vec<Vec<u8>>,
    write_off: u64,
    stop: Stop,
    /// Non-zero bytes seen after a clean End marker (only the part already
    /// read is checked; reading a whole preallocated segment to look for
    /// them would cost more than it tells).
    dirty_after_end: bool,
}

/// Reads the frames of one segment from just after its header until the end
/// of data or the first invalid frame, whose offset and reason it reports.
fn scan_segment(
    seg_file: &File,
    path: &Path,
    file_len: u64,
    first: u64,
) -> Result<Scanned, LogError> {
    let mut out = Scanned {
        offsets: Vec::new(),
        payloads: Vec::new(),
        write_off: SEGMENT_HEADER_LEN,
        stop: Stop::End,
        dirty_after_end: false,
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut buf_off = SEGMENT_HEADER_LEN; // file offset of buf[0]
    let mut pos = 0usize; // next frame within buf
    let mut expected = Some(first);
    loop {
        let off = buf_off + pos as u64;
        out.write_off = off;
        if off >= file_len {
            return Ok(out);
        }
        let avail = &buf[pos..];
        let invalid = |reason: String| Stop::Invalid {
            offset: off,
            reason,
        };
        match decode_frame(avail) {
            FrameResult::Record {
                index,
                payload,
                frame_len,
            } => {
                if Some(index) != expected {
                    out.stop = invalid(match expected {
                        Some(e) => format!("frame has index {index}, expected {e}"),
                        None => format!("frame with index {index} after index {}", u64::MAX),
                    });
                    return Ok(out);
                }
                let Ok(off32) = u32::try_from(off) else {
                    out.stop = invalid("frame starts beyond 4 GiB into the segment".into());
                    return Ok(out);
                };
                out.offsets.push(off32);
                out.payloads.push(payload.to_vec());
                expected = index.checked_add(1);
                pos += frame_len;
            }
            FrameResult::End => {
                out.dirty_after_end = avail.iter().any(|&b| b != 0)
                    || (avail.len() < END_PROBE
                        && !is_zero_at(seg_file, path, off, END_PROBE, file_len)?);
                return Ok(out);
            }
            FrameResult::BadChecksum {
                index,
                stored,
                computed,
            } => {
                out.stop = invalid(format!(
                    "checksum mismatch (stored {stored:#010x}, computed {computed:#010x}, index field {index})"
                ));
                return Ok(out);
            }
            FrameResult::Incomplete { needed } => {
                let loaded_end = buf_off + buf.len() as u64;
                if loaded_end >= file_len {
                    // Zero padding shorter than a frame header is a clean end.
                    if avail.len() < FRAME_HEADER_LEN && avail.iter().all(|&b| b == 0) {
                        return Ok(out);
                    }
                    out.stop = invalid(format!(
                        "frame of {needed} bytes runs past the end of the file ({file_len} bytes)"
                    ));
                    return Ok(out);
                }
                // Slide the window to this frame and read at least the whole
                // frame (capped by the file), so each frame is decoded once.
                buf.drain(..pos);
                buf_off = off;
                pos = 0;
                let want = needed.max(SCAN_CHUNK as u64).min(file_len - buf_off);
                let old = buf.len();
                // `want` <= file length, which we could not have stat'ed if it
                // did not fit in memory-addressable size on 64-bit targets.
                let new_len = usize::try_from(want).map_err(|_| LogError::Corrupt {
                    path: path.to_path_buf(),
                    offset: off,
                    reason: "frame too large for this platform".into(),
                })?;
                if new_len > old {
                    buf.resize(new_len, 0);
                    seg_file
                        .read_exact_at(&mut buf[old..], buf_off + old as u64)
                        .map_err(io_err(path))?;
                }
            }
        }
    }
}

/// The intact record after `offset` (where the scan of the last segment
/// stopped, expecting record `next`) that shows the stop to be damage rather
/// than a torn write, if there is one (see `damage`).
fn damage_before(
    file: &File,
    path: &Path,
    file_len: u64,
    offset: u64,
    next: u64,
) -> Result<Option<damage::Later>, LogError> {
    let Some(later) = damage::later_record(file, path, file_len, offset, next)? else {
        return Ok(None);
    };
    if damage::looks_torn(file, path, offset, later.offset)? {
        return Ok(None);
    }
    Ok(Some(later))
}

/// Whether the (at most) `len` bytes of `file` at `from` are all zero.
fn is_zero_at(
    file: &File,
    path: &Path,
    from: u64,
    len: usize,
    file_len: u64,
) -> Result<bool, LogError> {
    let n = file_len.saturating_sub(from).min(len as u64) as usize;
    let mut buf = vec![0u8; n];
    file.read_exact_at(&mut buf, from).map_err(io_err(path))?;
    Ok(buf.iter().all(|&b| b == 0))
}

/// Cuts `file` back to `from` and reallocates it to `capacity`, so every byte
/// from `from` on reads as zero, then makes that durable. Used to wipe a torn
/// or truncated tail: stale frames left behind could otherwise line up with
/// later appends and be read back as records.
fn wipe_from(file: &File, path: &Path, from: u64, capacity: u64) -> Result<(), LogError> {
    file.set_len(from).map_err(io_err(path))?;
    sys::allocate(file, capacity).map_err(io_err(path))?;
    file.sync_data().map_err(io_err(path))
}

/// Appends planned for one segment within an `append` call.
struct Batch {
    /// `Some(i)`: existing segment `i`; `None`: a segment to create.
    existing: Option<usize>,
    first: u64,
    capacity: u64,
    write_at: u64,
    buf: Vec<u8>,
    offsets: Vec<u32>,
    end: u64,
}

impl SegmentedLog {
    /// Opens (creating the directory if needed) and recovers. Returns the
    /// surviving records in index order.
    ///
    /// Segments must continue each other ([`LogError::Gap`] otherwise). In
    /// the last segment, the first invalid frame and everything after it are
    /// a torn write: dropped, zeroed on disk, and reported as a warning. An
    /// invalid frame in any earlier segment is [`LogError::Corrupt`]: those
    /// were fully synced before the next segment existed, so damage there is
    /// real data loss and must not be papered over.
    ///
    /// A bad frame (or an end marker) in the last segment followed by an
    /// intact record that continues the log is damage, not a torn write, and
    /// is [`LogError::Corrupt`] too, unless a never-written sector lies
    /// between them (see the `damage` module for the rule and its limits).
    pub fn open(dir: &Path, cfg: LogConfig) -> Result<(SegmentedLog, Recovery), LogError> {
        cfg.validate()?;
        let existed = dir.is_dir();
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        if !existed {
            // Make the new directory's own entry durable.
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                File::open(parent)
                    .and_then(|p| p.sync_all())
                    .map_err(io_err(parent))?;
            }
        }
        let dir_file = File::open(dir).map_err(io_err(dir))?;
        if !sys::try_lock_exclusive(&dir_file).map_err(io_err(dir))? {
            return Err(LogError::Locked {
                path: dir.to_path_buf(),
            });
        }
        let mut log = SegmentedLog {
            dir: dir.to_path_buf(),
            dir_file,
            cfg,
            segments: Vec::new(),
            poisoned: false,
        };
        let mut rec = Recovery::default();

        let mut found = Vec::new();
        for entry in fs::read_dir(dir).map_err(io_err(dir))? {
            let entry = entry.map_err(io_err(dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            match parse_segment_name(name) {
                Some(first) => found.push((first, entry.path())),
                None if name.ends_with(SEGMENT_SUFFIX) => rec.warnings.push(format!(
                    "ignoring {}: not a segment file name",
                    entry.path().display()
                )),
                None => {}
            }
        }
        found.sort_unstable_by_key(|(first, _)| *first);

        let count = found.len();
        let mut expected: Option<u64> = None;
        // Whether the last segment kept so far was marked as followed.
        let mut last_followed = false;
        for (i, (first, path)) in found.into_iter().enumerate() {
            let is_last = i + 1 == count;
            if let Some(e) = expected {
                if first != e {
                    return Err(LogError::Gap {
                        path,
                        expected: e,
                        found: first,
                    });
                }
            }
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io_err(&path))?;
            let file_len = file.metadata().map_err(io_err(&path))?.len();
            let mut head = vec![0u8; file_len.min(SEGMENT_HEADER_LEN) as usize];
            file.read_exact_at(&mut head, 0).map_err(io_err(&path))?;
            let corrupt = |offset: u64, reason: String| LogError::Corrupt {
                path: path.clone(),
                offset,
                reason,
            };
            let followed = head.get(SUCCESSOR_OFFSET as usize..) == Some(&SUCCESSOR_MARK[..]);
            match decode_header(&head) {
                Header::Valid(h) if h == first => {}
                Header::Valid(h) => {
                    return Err(corrupt(
                        16,
                        format!("header says first index {h}, file name says {first}"),
                    ))
                }
                Header::Unwritten if is_last && last_followed => {
                    return Err(corrupt(0, DAMAGED_SUCCESSOR.into()));
                }
                Header::Unwritten if is_last => {
                    // Created by an append that crashed before its first
                    // write was synced: it never held an acknowledged record.
                    rec.warnings.push(format!(
                        "removed {}: segment header never written (interrupted append)",
                        path.display()
                    ));
                    rec.torn_from = Some(first);
                    drop(file);
                    log.remove_segment_file(&path)?;
                    continue;
                }
                Header::Unwritten => {
                    return Err(corrupt(0, "segment header is all zeros".into()));
                }
                Header::Bad { offset, reason } => return Err(corrupt(offset, reason)),
            }

            let scan = scan_segment(&file, &path, file_len, first)?;
            let stopped_early = match &scan.stop {
                Stop::Invalid { offset, reason } => Some((*offset, reason.clone())),
                Stop::End if scan.dirty_after_end => Some((
                    scan.write_off,
                    "end marker followed by non-zero bytes".to_string(),
                )),
                Stop::End => None,
            };
            if let Some((offset, reason)) = stopped_early {
                if !is_last {
                    // Synced whole before the next segment was created:
                    // nothing in it can be torn.
                    return Err(corrupt(offset, reason));
                }
                let next = first + scan.offsets.len() as u64;
                if let Some(later) = damage_before(&file, &path, file_len, offset, next)? {
                    return Err(corrupt(
                        offset,
                        format!(
                            "{reason}, yet record {} follows intact at offset {}: damage to durable records, not a torn write",
                            later.index, later.offset
                        ),
                    ));
                }
            }
            if let Stop::Invalid { offset, reason } = &scan.stop {
                rec.warnings.push(format!(
                    "torn tail in {} at offset {offset}: {reason}; dropped it and everything after it",
                    path.display()
                ));
                rec.torn_from = Some(first + scan.offsets.len() as u64);
            } else if scan.dirty_after_end {
                rec.warnings.push(format!(
                    "non-zero bytes after the end of data in {} at offset {}; zeroed them",
                    path.display(),
                    scan.write_off
                ));
            }
            if scan.offsets.is_empty() {
                if !is_last {
                    return Err(corrupt(
                        SEGMENT_HEADER_LEN,
                        "segment holds no records".into(),
                    ));
                }
                if last_followed {
                    return Err(corrupt(SEGMENT_HEADER_LEN, DAMAGED_SUCCESSOR.into()));
                }
                rec.warnings.push(format!(
                    "removed {}: no complete record in it (interrupted append)",
                    path.display()
                ));
                drop(file);
                log.remove_segment_file(&path)?;
                continue;
            }
            let n = scan.offsets.len() as u64;
            expected = (first + (n - 1)).checked_add(1);
            if expected.is_none() && !is_last {
                return Err(corrupt(
                    scan.write_off,
                    "index space exhausted but later segments exist".into(),
                ));
            }
            rec.records.extend(
                scan.payloads
                    .into_iter()
                    .enumerate()
                    .map(|(k, p)| (first + k as u64, p)),
            );
            last_followed = followed;
            log.segments.push(Segment {
                path,
                file,
                first,
                offsets: scan.offsets,
                write_off: scan.write_off,
                capacity: file_len,
            });
        }
        if let Some(tail) = log.segments.last().filter(|_| last_followed) {
            let next = tail.last().saturating_add(1);
            return Err(LogError::Corrupt {
                path: tail.path.clone(),
                offset: SUCCESSOR_OFFSET,
                reason: format!(
                    "marked as followed by a later segment, but {} is missing: records from index {next} on are lost",
                    tail.path.with_file_name(segment_name(next)).display()
                ),
            });
        }

        // The tail takes appends: make it clean past its data and full size.
        // Always wiping is cheap (two metadata calls) and removes any stale
        // bytes an earlier crash left after the end marker.
        let min_capacity = log.cfg.segment_bytes;
        if let Some(tail) = log.segments.last_mut() {
            let capacity = tail.capacity.max(min_capacity);
            wipe_from(&tail.file, &tail.path, tail.write_off, capacity)?;
            tail.capacity = capacity;
        }
        Ok((log, rec))
    }

    /// Appends records whose indexes continue the log (the first must be
    /// `last_index() + 1`, or anything when the log is empty).
    ///
    /// One write per touched segment and one fdatasync per touched segment;
    /// when this returns `Ok` every record is durable. On an I/O error the
    /// handle is poisoned (see [`LogError::Poisoned`]).
    pub fn append(&mut self, records: &[(u64, &[u8])]) -> Result<(), LogError> {
        self.append_with(records, true).map(|_| ())
    }

    /// Like [`append`](Self::append), but leaves the records written to the
    /// tail segment unsynced: returns a handle to that segment's file, whose
    /// `sync_data` (on any thread) makes them durable, or `None` when
    /// everything is durable already (a record that starts a new segment
    /// is synced here, as creating a segment requires every earlier record
    /// on disk). Until that sync the records may be lost in a crash; the
    /// caller must not report them durable before it.
    pub fn append_unsynced(&mut self, records: &[(u64, &[u8])]) -> Result<Option<File>, LogError> {
        self.append_with(records, false)
    }

    fn append_with(
        &mut self,
        records: &[(u64, &[u8])],
        sync: bool,
    ) -> Result<Option<File>, LogError> {
        self.check_usable()?;
        let Some(&(first_new, _)) = records.first() else {
            return Ok(None);
        };
        // Validate everything first so a bad call changes nothing.
        let mut expected = match self.last_index() {
            Some(last) => last.checked_add(1).ok_or(LogError::IndexOverflow)?,
            None => first_new,
        };
        for (k, &(index, payload)) in records.iter().enumerate() {
            if k > 0 {
                expected = expected.checked_add(1).ok_or(LogError::IndexOverflow)?;
            }
            if index != expected {
                return Err(LogError::NotContiguous {
                    expected,
                    found: index,
                });
            }
            if payload.len() > MAX_PAYLOAD {
                return Err(LogError::TooLarge {
                    index,
                    len: payload.len(),
                });
            }
        }

        let batches = self.plan(records);
        let mut unsynced = false;
        for batch in batches {
            unsynced = !sync && batch.existing.is_some();
            if let Err(e) = self.write_batch(batch, sync) {
                self.poisoned = true;
                return Err(e);
            }
        }
        match self.segments.last() {
            Some(tail) if unsynced => {
                let file = tail.file.try_clone().map_err(io_err(&tail.path));
                if file.is_err() {
                    self.poisoned = true;
                }
                file.map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Splits `records` into per-segment writes: fill the tail, then open new
    /// segments as needed.
    fn plan(&self, records: &[(u64, &[u8])]) -> Vec<Batch> {
        let mut batches: Vec<Batch> = Vec::new();
        for &(index, payload) in records {
            let frame_len = (FRAME_HEADER_LEN + payload.len()) as u64;
            let (end, capacity) = match batches.last() {
                Some(b) => (b.end, b.capacity),
                None => match self.segments.last() {
                    Some(t) => (t.write_off, t.capacity),
                    None => (0, 0),
                },
            };
            let fits = capacity > 0
                && end.saturating_add(frame_len) <= capacity
                && u32::try_from(end).is_ok();
            if !fits {
                let capacity = self.cfg.segment_bytes.max(SEGMENT_HEADER_LEN + frame_len);
                let mut buf = Vec::new();
                buf.extend_from_slice(&encode_header(index));
                batches.push(Batch {
                    existing: None,
                    first: index,
                    capacity,
                    write_at: 0,
                    buf,
                    offsets: Vec::new(),
                    end: SEGMENT_HEADER_LEN,
                });
            } else if batches.is_empty() {
                let i = self.segments.len() - 1;
                batches.push(Batch {
                    existing: Some(i),
                    first: self.segments[i].first,
                    capacity,
                    write_at: end,
                    buf: Vec::new(),
                    offsets: Vec::new(),
                    end,
                });
            }
            // Just pushed or checked above, so a batch exists.
            if let Some(b) = batches.last_mut() {
                // `fits` or a fresh segment guarantees `end` fits in u32:
                // fresh segments start frames at the header.
                b.offsets.push(b.end as u32);
                frame::encode_frame(&mut b.buf, index, payload);
                b.end += frame_len;
            }
        }
        batches
    }

    /// Writes one planned batch (and syncs it unless `sync` is false and it
    /// goes to an existing segment), then records it in memory.
    fn write_batch(&mut self, b: Batch, sync: bool) -> Result<(), LogError> {
        match b.existing {
            Some(i) => {
                let seg = &mut self.segments[i];
                seg.file
                    .write_all_at(&b.buf, b.write_at)
                    .and_then(|()| if sync { seg.file.sync_data() } else { Ok(()) })
                    .map_err(io_err(&seg.path))?;
                seg.offsets.extend_from_slice(&b.offsets);
                seg.write_off = b.end;
            }
            None => {
                // The tail may hold records appended unsynced: they must be
                // on disk before a later segment exists (cheap when clean).
                if let Some(tail) = self.segments.last() {
                    tail.file.sync_data().map_err(io_err(&tail.path))?;
                }
                let path = self.dir.join(segment_name(b.first));
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(io_err(&path))?;
                sys::allocate(&file, b.capacity)
                    .and_then(|()| file.write_all_at(&b.buf, 0))
                    .and_then(|()| file.sync_data())
                    .map_err(io_err(&path))?;
                // Before any later segment is created, so a crash can never
                // leave a later segment without this one.
                self.sync_dir()?;
                if let Some(prev) = self.segments.last() {
                    set_successor_mark(&prev.file, &prev.path, true)?;
                }
                self.segments.push(Segment {
                    path,
                    file,
                    first: b.first,
                    offsets: b.offsets,
                    write_off: b.end,
                    capacity: b.capacity,
                });
            }
        }
        Ok(())
    }

    /// Durably removes every record with index >= `index` (Raft conflict
    /// truncation). Whole segments go newest first; the rest of the segment
    /// holding `index` is zeroed. No-op if `index` is past the end.
    pub fn truncate_from(&mut self, index: u64) -> Result<(), LogError> {
        self.check_usable()?;
        let r = self.truncate_inner(index);
        if r.is_err() {
            self.poisoned = true;
        }
        r
    }

    fn truncate_inner(&mut self, index: u64) -> Result<(), LogError> {
        while let Some(seg) = self.segments.last() {
            if seg.first < index {
                break;
            }
            let path = seg.path.clone();
            // Unmarked first: a crash between the two leaves a segment
            // that is followed but unmarked, never marked with none after.
            if let Some(prev) = self.segments.iter().rev().nth(1) {
                set_successor_mark(&prev.file, &prev.path, false)?;
            }
            self.remove_segment_file(&path)?;
            self.segments.pop();
        }
        if let Some(seg) = self.segments.last_mut() {
            if seg.last() >= index {
                // first < index <= last, so k is within offsets.
                let k = (index - seg.first) as usize;
                let off = u64::from(seg.offsets[k]);
                wipe_from(&seg.file, &seg.path, off, seg.capacity)?;
                seg.offsets.truncate(k);
                seg.write_off = off;
            }
        }
        Ok(())
    }

    /// Removes whole segment files whose records are all <= `index` (after a
    /// snapshot), oldest first. Records above `index` are never touched, so
    /// records <= `index` sharing a segment with newer ones remain. If every
    /// record is <= `index` the log becomes empty and the next append may
    /// start at any index.
    pub fn purge_upto(&mut self, index: u64) -> Result<(), LogError> {
        self.take_oldest_upto(index, |log, path| log.remove_segment_file(path))
    }

    /// Like [`purge_upto`](Self::purge_upto), but each segment file goes
    /// out of the log by a rename to `<name>`[`RETIRED_SUFFIX`] (then a
    /// directory fsync, oldest first) instead of being removed; returns the
    /// retired files, for the caller to free later, off the append path.
    /// Removing a file frees all its blocks at once, which with online
    /// discard held the disk ~4 ms per 16 MiB segment. [`open`](Self::open)
    /// ignores retired files.
    pub fn retire_upto(&mut self, index: u64) -> Result<Vec<PathBuf>, LogError> {
        let mut retired = Vec::new();
        self.take_oldest_upto(index, |log, path| {
            let mut name = path.to_path_buf().into_os_string();
            name.push(RETIRED_SUFFIX);
            let to = PathBuf::from(name);
            fs::rename(path, &to).map_err(io_err(path))?;
            log.sync_dir()?;
            retired.push(to);
            Ok(())
        })?;
        Ok(retired)
    }

    /// Takes out of the log, oldest first, each whole segment whose records
    /// are all <= `index`, by `take_out` (which must make it durable). A
    /// failure poisons the log: the segments taken out so far stay out.
    fn take_oldest_upto(
        &mut self,
        index: u64,
        mut take_out: impl FnMut(&Self, &Path) -> Result<(), LogError>,
    ) -> Result<(), LogError> {
        self.check_usable()?;
        while let Some(seg) = self.segments.first() {
            if seg.last() > index {
                break;
            }
            let path = seg.path.clone();
            if let Err(e) = take_out(self, &path) {
                self.poisoned = true;
                return Err(e);
            }
            self.segments.remove(0);
        }
        Ok(())
    }

    /// Reads one record back from disk, verifying its checksum. `Ok(None)` if
    /// `index` is not in the log.
    pub fn read(&self, index: u64) -> Result<Option<Vec<u8>>, LogError> {
        let i = self.segments.partition_point(|s| s.first <= index);
        let Some(seg) = i.checked_sub(1).map(|i| &self.segments[i]) else {
            return Ok(None);
        };
        if index > seg.last() {
            return Ok(None);
        }
        let off = u64::from(seg.offsets[(index - seg.first) as usize]);
        let mut head = [0u8; FRAME_HEADER_LEN];
        seg.file
            .read_exact_at(&mut head, off)
            .map_err(io_err(&seg.path))?;
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let next = seg.end_of(index);
        if off + (FRAME_HEADER_LEN + len) as u64 != next {
            // Checked before allocating: a damaged length must not make us
            // allocate gigabytes.
            return Err(LogError::Corrupt {
                path: seg.path.clone(),
                offset: off,
                reason: format!(
                    "reading record {index}: length field {len} does not match the layout"
                ),
            });
        }
        let mut frame = vec![0u8; FRAME_HEADER_LEN + len];
        frame[..FRAME_HEADER_LEN].copy_from_slice(&head);
        seg.file
            .read_exact_at(
                &mut frame[FRAME_HEADER_LEN..],
                off + FRAME_HEADER_LEN as u64,
            )
            .map_err(io_err(&seg.path))?;
        let reason = match decode_frame(&frame) {
            FrameResult::Record {
                index: got,
                payload,
                ..
            } if got == index => return Ok(Some(payload.to_vec())),
            FrameResult::Record { index: got, .. } => format!("frame has index {got}"),
            FrameResult::BadChecksum { .. } => "checksum mismatch".to_string(),
            FrameResult::End | FrameResult::Incomplete { .. } => "frame missing".to_string(),
        };
        Err(LogError::Corrupt {
            path: seg.path.clone(),
            offset: off,
            reason: format!("reading record {index}: {reason}"),
        })
    }

    /// Index of the first record held, if any.
    pub fn first_index(&self) -> Option<u64> {
        self.segments.first().map(|s| s.first)
    }

    /// Index of the last record held, if any.
    pub fn last_index(&self) -> Option<u64> {
        self.segments.last().map(Segment::last)
    }

    /// Bytes allocated on disk by the segment files.
    pub fn disk_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.capacity).sum()
    }

    /// Bytes of the frames of records with an index above `index` (all
    /// records for `None`): the log written since a snapshot at `index`,
    /// without headers and preallocated space.
    pub fn bytes_after(&self, index: Option<u64>) -> u64 {
        self.segments
            .iter()
            .map(|s| match index {
                Some(i) if i >= s.last() => 0,
                Some(i) if i >= s.first => s.write_off - s.end_of(i),
                _ => s.write_off - SEGMENT_HEADER_LEN,
            })
            .sum()
    }

    /// Number of segment files.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn check_usable(&self) -> Result<(), LogError> {
        if self.poisoned {
            Err(LogError::Poisoned)
        } else {
            Ok(())
        }
    }

    /// Removes one segment file and makes the removal durable before the
    /// next one, so removals persist in the order they were made.
    fn remove_segment_file(&self, path: &Path) -> Result<(), LogError> {
        fs::remove_file(path).map_err(io_err(path))?;
        self.sync_dir()
    }

    fn sync_dir(&self) -> Result<(), LogError> {
        self.dir_file.sync_all().map_err(io_err(&self.dir))
    }
}

/// Replaces the small file `dir/name` atomically: write `name.tmp`,
/// fdatasync, rename over `name`, fsync the directory. After a crash the file
/// holds either the old or the new bytes, never a mix.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_data()?;
    drop(f);
    fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

/// Reads the small file `dir/name` whole; `Ok(None)` if it does not exist.
pub fn read_small(dir: &Path, name: &str) -> io::Result<Option<Vec<u8>>> {
    match fs::read(dir.join(name)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
