//! The few file-system calls std does not offer. This is the only `unsafe` in
//! the crate: plain libc calls on a descriptor owned by a live `File`.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// Makes sure `file` has `len` bytes allocated on disk (reading as zeros past
/// its data), so later fdatasyncs of writes inside it need not flush a size
/// change. Never shrinks the file.
#[cfg(target_os = "linux")]
pub fn allocate(file: &File, len: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "segment too large"))?;
    loop {
        // SAFETY: the descriptor belongs to `file`, which outlives the call;
        // posix_fallocate touches no memory of ours.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
        match rc {
            0 => return Ok(()),
            libc::EINTR => continue,
            e => return Err(io::Error::from_raw_os_error(e)),
        }
    }
}

/// Portable fallback: a sparse extension. Still zero-filled and correct, only
/// the first fdatasync of each block may cost more.
#[cfg(not(target_os = "linux"))]
pub fn allocate(file: &File, len: u64) -> io::Result<()> {
    if file.metadata()?.len() < len {
        file.set_len(len)?;
    }
    Ok(())
}

/// Takes a non-blocking exclusive `flock` on `file`. Returns `Ok(false)` if
/// another open file description holds it. Released when `file` is closed.
pub fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    loop {
        // SAFETY: as above, a valid descriptor and no memory shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(err),
        }
    }
}
