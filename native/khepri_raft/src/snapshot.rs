//! Snapshot files: the whole tree and the Raft metadata at one log position.
//!
//! Format: 8-byte magic, u32 LE CRC-32C of the body, u64 LE body length, then
//! the body: u32 LE length of the metadata, the metadata (MessagePack of
//! [`SnapshotMeta`]), then the tree image (`khepri_core::image`: packed
//! payloads and their tables, ~3 times smaller than MessagePack of the tree
//! with ETF payloads). Written to a temporary file,
//! fsynced, renamed over the previous one, then the directory is fsynced, so a
//! crash leaves either the old snapshot or the new one, never a mix.

use crate::types::SnapshotMeta;
use khepri_core::Tree;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const MAGIC: &[u8; 8] = b"KHEPSNP3";
const FILE: &str = "snapshot";
const TMP: &str = "snapshot.tmp";
const HEADER: usize = 8 + 4 + 8;

/// What a snapshot holds.
pub struct SnapshotBody {
    /// Last log id and membership covered.
    pub meta: SnapshotMeta,
    /// The tree as of `meta.last_log_id`.
    pub tree: Tree,
}

fn invalid(path: &Path, offset: usize, why: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "corrupt snapshot {} at offset {offset}: {why}",
            path.display()
        ),
    )
}

/// Serializes a snapshot body into the bytes sent to followers and stored on disk.
pub fn encode(body: &SnapshotBody) -> io::Result<Vec<u8>> {
    let meta = rmp_serde::to_vec(&body.meta).map_err(io::Error::other)?;
    // One buffer: header, then the body written in place.
    let mut out = Vec::with_capacity(HEADER + 4 + meta.len() + (1 << 20));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[0; HEADER - 8]);
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta);
    khepri_core::image::encode_into(&body.tree, &mut out).map_err(io::Error::other)?;
    let crc = crc32c::crc32c(&out[HEADER..]);
    let len = (out.len() - HEADER) as u64;
    out[8..12].copy_from_slice(&crc.to_le_bytes());
    out[12..20].copy_from_slice(&len.to_le_bytes());
    Ok(out)
}

/// Decodes and checks snapshot bytes; `origin` names them in errors.
pub fn decode(bytes: &[u8], origin: &Path) -> io::Result<SnapshotBody> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(invalid(origin, 0, "not a khepri-rs snapshot"));
    }
    let crc = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let body = &bytes[HEADER..];
    if body.len() as u64 != len {
        return Err(invalid(
            origin,
            HEADER,
            format!("body is {} bytes, header says {len}", body.len()),
        ));
    }
    if crc32c::crc32c(body) != crc {
        return Err(invalid(origin, HEADER, "checksum mismatch"));
    }
    let meta_len = body
        .get(..4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
        .filter(|&n| n <= body.len() - 4)
        .ok_or_else(|| invalid(origin, HEADER, "truncated metadata"))?;
    let meta = rmp_serde::from_slice(&body[4..4 + meta_len])
        .map_err(|e| invalid(origin, HEADER + 4, e))?;
    let tree = khepri_core::image::decode(&body[4 + meta_len..])
        .map_err(|e| invalid(origin, HEADER + 4 + meta_len, e))?;
    Ok(SnapshotBody { meta, tree })
}

/// Stores `bytes` (from [`encode`]) as the snapshot of `dir`, atomically.
pub fn store(dir: &Path, bytes: &[u8]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(TMP);
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, dir.join(FILE))?;
    File::open(dir)?.sync_all()
}

/// A member's snapshot directory, closed for writing when the member stops:
/// a snapshot build still running then must not write into a directory that
/// its owner has released (and that may be reopened or removed).
pub struct SnapshotDir {
    path: PathBuf,
    closed: Mutex<bool>,
}

impl SnapshotDir {
    /// The snapshot directory at `path`, open for writing.
    pub fn new(path: PathBuf) -> Self {
        SnapshotDir {
            path,
            closed: Mutex::new(false),
        }
    }

    /// Where the snapshot lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Like [`store`], unless the directory is closed.
    pub fn store(&self, bytes: &[u8]) -> io::Result<()> {
        let closed = self.closed.lock().unwrap_or_else(|p| p.into_inner());
        if *closed {
            return Err(io::Error::other("the store has stopped"));
        }
        store(&self.path, bytes)
    }

    /// Refuses later writes; waits for a write in progress to finish.
    pub fn close(&self) {
        *self.closed.lock().unwrap_or_else(|p| p.into_inner()) = true;
    }
}

/// Where the snapshot of `dir` is stored.
pub fn file_path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// Reads the snapshot of `dir`: `Ok(None)` when there is none, an error naming
/// the file when it exists but is damaged (never silently ignored).
pub fn load(dir: &Path) -> io::Result<Option<(SnapshotBody, Vec<u8>)>> {
    let path = file_path(dir);
    match fs::read(&path) {
        Ok(bytes) => Ok(Some((decode(&bytes, &path)?, bytes))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
