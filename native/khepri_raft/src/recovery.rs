//! Whether a member's log and snapshot, as found on disk, together hold
//! every entry: checked once both are open, before Raft starts.
//!
//! Each part checks itself (frame checksums and segment continuity in the
//! log, a checksum over the snapshot); what neither can see is a hole
//! between them: a snapshot deleted after the log was purged behind it, or
//! the oldest segments gone while no snapshot covers them. Starting anyway
//! would serve a tree missing acknowledged writes, so the member refuses.

use crate::log_store::Recovered;
use std::io;
use std::path::Path;

/// Checks `log` (opened from `log_dir`) against the snapshot covering
/// entries up to `snapshot` (`None`: no snapshot file, at `snapshot_file`).
/// `Err` names the files concerned; `Ok` carries warnings to log.
///
/// Rules: a purged log needs a snapshot at least as new as the purge point;
/// the log's first record must directly follow what the snapshot or the
/// purge covers (index 0 when neither exists, where openraft starts); the
/// committed index written at the last clean stop must be held by the log
/// or the snapshot, unless a torn write right after what is held was
/// dropped (a warning then: the torn tail lost committed entries).
pub fn check(
    log: &Recovered,
    snapshot: Option<u64>,
    log_dir: &Path,
    snapshot_file: &Path,
) -> io::Result<Vec<String>> {
    let refuse = |why: String| Err(io::Error::new(io::ErrorKind::InvalidData, why));
    if let Some(purged) = log.purged {
        match snapshot {
            None => {
                return refuse(format!(
                    "snapshot {} is missing, but the log in {} was purged up to index {purged} behind it: entries up to {purged} would be lost",
                    snapshot_file.display(),
                    log_dir.display()
                ))
            }
            Some(s) if s < purged => {
                return refuse(format!(
                    "snapshot {} covers entries up to index {s}, but the log in {} was purged up to index {purged}: entries {} to {purged} would be lost",
                    snapshot_file.display(),
                    log_dir.display(),
                    s + 1
                ))
            }
            Some(_) => {}
        }
    }
    let covered = snapshot.max(log.purged);
    let needed_first = covered.map_or(0, |c| c.saturating_add(1));
    if let Some(first) = log.first.filter(|&f| f > needed_first) {
        return refuse(format!(
            "the log in {} starts at index {first}, but {}: a log segment holding entries {needed_first} to {} is missing",
            log_dir.display(),
            match covered {
                Some(c) => format!("the snapshot covers only up to index {c}"),
                None => format!("there is no snapshot ({})", snapshot_file.display()),
            },
            first - 1
        ));
    }
    let mut warnings = Vec::new();
    let held = log.last.max(covered);
    if let Some(c) = log.committed_hint.filter(|&c| Some(c) > held) {
        let next = held.map_or(0, |h| h + 1);
        let ends = held.map_or_else(|| "nothing".to_string(), |h| format!("index {h}"));
        if log.torn_from.is_none_or(|t| t > next) {
            return refuse(format!(
                "entries up to index {c} were committed before the last stop, but the log in {} holds up to {ends} and no torn write was found: a log segment holding entries {next} to {c} is missing",
                log_dir.display()
            ));
        }
        warnings.push(format!(
            "entries up to index {c} were committed before the last stop, but the log in {} now holds up to {ends}: the torn entries after it were lost on this member",
            log_dir.display()
        ));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(first: Option<u64>, last: Option<u64>, purged: Option<u64>) -> Recovered {
        Recovered {
            first,
            last,
            purged,
            committed_hint: None,
            torn_from: None,
        }
    }

    fn run(l: &Recovered, snapshot: Option<u64>) -> io::Result<Vec<String>> {
        check(
            l,
            snapshot,
            Path::new("d/log"),
            Path::new("d/snapshot/snapshot"),
        )
    }

    #[test]
    fn consistent_layouts_pass() {
        assert!(run(&log(None, None, None), None).unwrap().is_empty());
        assert!(run(&log(Some(0), Some(9), None), None).is_ok());
        // purged behind a snapshot, log resuming after it (or not yet purged)
        assert!(run(&log(Some(101), Some(150), Some(100)), Some(100)).is_ok());
        assert!(run(&log(Some(0), Some(150), Some(100)), Some(120)).is_ok());
        // a follower given a snapshot: no purge point, log after the snapshot
        assert!(run(&log(Some(51), Some(60), None), Some(50)).is_ok());
        // everything in the snapshot
        assert!(run(&log(None, None, Some(100)), Some(100)).is_ok());
    }

    #[test]
    fn holes_between_snapshot_and_log_are_refused() {
        let e = run(&log(Some(101), Some(150), Some(100)), None).unwrap_err();
        assert!(
            e.to_string().contains("d/snapshot/snapshot is missing"),
            "{e}"
        );
        let e = run(&log(Some(101), Some(150), Some(100)), Some(80)).unwrap_err();
        assert!(e.to_string().contains("entries 81 to 100"), "{e}");
        let e = run(&log(Some(40), Some(150), None), None).unwrap_err();
        assert!(e.to_string().contains("holding entries 0 to 39"), "{e}");
        let e = run(&log(Some(40), Some(150), None), Some(20)).unwrap_err();
        assert!(e.to_string().contains("holding entries 21 to 39"), "{e}");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn committed_entries_beyond_the_log_need_a_torn_tail() {
        let mut l = log(Some(0), Some(19), None);
        l.committed_hint = Some(19);
        assert!(run(&l, None).unwrap().is_empty());
        l.committed_hint = Some(30);
        assert!(run(&l, Some(30)).unwrap().is_empty());
        // The last segment is gone: nothing explains the loss.
        let e = run(&l, None).unwrap_err();
        assert!(e.to_string().contains("holding entries 20 to 30"), "{e}");
        // A torn tail from 20 on was dropped: a warning.
        l.torn_from = Some(20);
        let w = run(&l, None).unwrap();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("up to index 30") && w[0].contains("up to index 19"),
            "{w:?}"
        );
        l.torn_from = Some(25);
        assert!(run(&l, None).is_err());
    }
}
