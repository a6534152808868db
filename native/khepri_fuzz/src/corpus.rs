//! Seed corpora on disk: `corpus/<target>/<n>.bin`, written from
//! [`Target::seeds`](crate::targets::Target::seeds) and read back by runs.

use crate::targets::Target;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The committed corpus directory of this crate.
pub fn default_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus"))
}

/// Replaces `root/<target>/` with the target's seeds; returns how many.
pub fn write(root: &Path, target: &dyn Target) -> io::Result<usize> {
    let dir = root.join(target.name());
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let seeds = target.seeds();
    for (i, seed) in seeds.iter().enumerate() {
        fs::write(dir.join(format!("{i:03}.bin")), seed)?;
    }
    Ok(seeds.len())
}

/// The seed files of `target` under `root`, sorted by name; an error if
/// there are none (a run without seeds would only test random bytes).
pub fn read(root: &Path, target: &str) -> io::Result<Vec<Vec<u8>>> {
    let dir = root.join(target);
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths.iter().map(fs::read).collect::<io::Result<_>>()?;
    if seeds.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no seeds in {}", dir.display()),
        ));
    }
    Ok(seeds)
}
