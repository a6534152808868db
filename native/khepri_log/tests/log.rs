//! Behaviour of the segmented log on disk: round trips, torn tails, corruption,
//! truncation and purging, each checked across a reopen.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use khepri_log::{
    frame_crc, read_small, write_atomic, LogConfig, LogError, SegmentedLog, FRAME_HEADER_LEN,
    SEGMENT_HEADER_LEN, SUCCESSOR_MARK, SUCCESSOR_OFFSET,
};

const SEG: u64 = 4096;

fn cfg() -> LogConfig {
    LogConfig { segment_bytes: SEG }
}

/// Deterministic payload; lengths vary so frames straddle segment ends in
/// different ways, and never have a zero low byte in the length (see
/// `chopped_last_record_is_dropped`).
fn payload(index: u64) -> Vec<u8> {
    let len = 40 + (index * 37 % 300) as usize;
    let len = if len.is_multiple_of(256) {
        len + 1
    } else {
        len
    };
    (0..len)
        .map(|k| (index as u8).wrapping_mul(31).wrapping_add(k as u8))
        .collect()
}

fn frame_len(p: &[u8]) -> u64 {
    (FRAME_HEADER_LEN + p.len()) as u64
}

fn open(dir: &Path) -> (SegmentedLog, khepri_log::Recovery) {
    SegmentedLog::open(dir, cfg()).expect("open")
}

fn segs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

fn seg_first(path: &Path) -> u64 {
    path.file_stem().unwrap().to_str().unwrap().parse().unwrap()
}

/// Appends `range` with `payloads`, in batches of 1, 2, 3, ... 7 records.
fn append_range(
    log: &mut SegmentedLog,
    range: std::ops::RangeInclusive<u64>,
    p: impl Fn(u64) -> Vec<u8>,
) {
    let all: Vec<(u64, Vec<u8>)> = range.map(|i| (i, p(i))).collect();
    let mut rest = &all[..];
    let mut size = 1;
    while !rest.is_empty() {
        let n = size.min(rest.len());
        let batch: Vec<(u64, &[u8])> = rest[..n].iter().map(|(i, p)| (*i, &p[..])).collect();
        log.append(&batch).expect("append");
        rest = &rest[n..];
        size = size % 7 + 1;
    }
}

fn expected(range: std::ops::RangeInclusive<u64>) -> Vec<(u64, Vec<u8>)> {
    range.map(|i| (i, payload(i))).collect()
}

/// Offset of record `index`'s frame in the segment starting at `first`,
/// computed from the documented layout.
fn frame_offset(first: u64, index: u64) -> u64 {
    SEGMENT_HEADER_LEN + (first..index).map(|i| frame_len(&payload(i))).sum::<u64>()
}

fn fill(dir: &Path, last: u64) -> Vec<PathBuf> {
    let (mut log, rec) = open(dir);
    assert!(rec.records.is_empty() && rec.warnings.is_empty());
    append_range(&mut log, 1..=last, payload);
    segs(dir)
}

fn flip_byte(path: &Path, offset: u64) {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, offset).unwrap();
    b[0] ^= 0x40;
    f.write_all_at(&b, offset).unwrap();
}

fn zero_range(path: &Path, from: u64, to: u64) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(&vec![0u8; (to - from) as usize], from)
        .unwrap();
}

fn frame_bytes(index: u64, p: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&(p.len() as u32).to_le_bytes());
    v.extend_from_slice(&frame_crc(index, p).to_le_bytes());
    v.extend_from_slice(&index.to_le_bytes());
    v.extend_from_slice(p);
    v
}

#[test]
fn round_trip_across_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let files = fill(&dir, 300);
    assert!(files.len() >= 10, "only {} segments", files.len());
    for f in &files {
        assert_eq!(fs::metadata(f).unwrap().len(), SEG, "{f:?} preallocated");
    }

    let (mut log, rec) = open(&dir);
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.records, expected(1..=300));
    assert_eq!(log.first_index(), Some(1));
    assert_eq!(log.last_index(), Some(300));
    assert_eq!(log.segment_count(), files.len());
    assert_eq!(log.disk_bytes(), SEG * files.len() as u64);
    for i in 1..=300 {
        assert_eq!(log.read(i).unwrap(), Some(payload(i)), "read {i}");
    }
    assert_eq!(log.read(0).unwrap(), None);
    assert_eq!(log.read(301).unwrap(), None);

    // A record bigger than a segment gets one sized to fit, and the next
    // record starts a fresh segment.
    let big = vec![0xABu8; 10_000];
    log.append(&[(301, &big[..]), (302, &payload(302)[..])])
        .unwrap();
    append_range(&mut log, 303..=320, payload);
    drop(log);
    let big_seg = dir.join(format!("{:020}.seg", 301));
    assert_eq!(
        fs::metadata(&big_seg).unwrap().len(),
        SEGMENT_HEADER_LEN + frame_len(&big)
    );
    assert!(dir.join(format!("{:020}.seg", 302)).exists());

    let (log, rec) = open(&dir);
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.records.len(), 320);
    assert_eq!(rec.records[300], (301, big.clone()));
    assert_eq!(rec.records[319], (320, payload(320)));
    assert_eq!(log.read(301).unwrap(), Some(big));
}

#[test]
fn empty_log_accepts_any_first_index() {
    let tmp = tempfile::tempdir().unwrap();
    for start in [0u64, 1, 1_000_000, u64::MAX - 3] {
        let dir = tmp.path().join(format!("s{start}"));
        let (mut log, rec) = open(&dir);
        assert!(rec.records.is_empty());
        assert_eq!(log.first_index(), None);
        log.append(&[(start, b"a"), (start + 1, b""), (start + 2, b"c")])
            .unwrap();
        drop(log);
        let (log, rec) = open(&dir);
        assert_eq!(
            rec.records,
            vec![
                (start, b"a".to_vec()),
                (start + 1, vec![]),
                (start + 2, b"c".to_vec())
            ]
        );
        assert_eq!(log.last_index(), Some(start + 2));
    }
}

#[test]
fn append_rejects_bad_indexes_without_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut log, _) = open(tmp.path());
    log.append(&[(5, b"x")]).unwrap();
    for bad in [
        vec![(5u64, &b"y"[..])],
        vec![(7, &b"y"[..])],
        vec![(6, &b"y"[..]), (8, &b"z"[..])],
    ] {
        match log.append(&bad) {
            Err(e @ LogError::NotContiguous { .. }) => {
                assert!(e.to_string().contains("expected"))
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(log.last_index(), Some(5));
    log.append(&[]).unwrap();
    drop(log);
    let (_, rec) = open(tmp.path());
    assert_eq!(rec.records, vec![(5, b"x".to_vec())]);
}

/// Builds a log whose last segment ends with record `last` (a 200-byte
/// payload) and returns (last segment path, offset of that frame).
fn log_with_known_tail(dir: &Path, last: u64) -> (PathBuf, u64) {
    let files = fill(dir, last);
    let tail = files.last().unwrap().clone();
    (tail.clone(), frame_offset(seg_first(&tail), last))
}

#[test]
fn chopped_last_record_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let last = 100;
    let flen = frame_len(&payload(last));
    for cut in [1, 3, 4, 8, 15, 16, 17, flen / 2, flen - 1] {
        let dir = tmp.path().join(format!("cut{cut}"));
        let (tail, off) = log_with_known_tail(&dir, last);
        OpenOptions::new()
            .write(true)
            .open(&tail)
            .unwrap()
            .set_len(off + cut)
            .unwrap();

        let (mut log, rec) = open(&dir);
        assert_eq!(rec.records, expected(1..=last - 1), "cut {cut}");
        assert_eq!(rec.warnings.len(), 1, "cut {cut}: {:?}", rec.warnings);
        let w = &rec.warnings[0];
        assert!(w.contains(&tail.display().to_string()), "{w}");
        assert!(w.contains(&format!("offset {off}")), "{w}");
        assert_eq!(log.last_index(), Some(last - 1));
        // The tail was re-extended to its full size and appends continue.
        assert_eq!(fs::metadata(&tail).unwrap().len(), SEG);
        log.append(&[(last, b"replacement"), (last + 1, b"next")])
            .unwrap();
        drop(log);

        let (_, rec) = open(&dir);
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        let mut want = expected(1..=last - 1);
        want.push((last, b"replacement".to_vec()));
        want.push((last + 1, b"next".to_vec()));
        assert_eq!(rec.records, want);
    }
}

#[test]
fn zeroed_suffix_of_last_record_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let last = 100;
    // (start of zeroing relative to the frame, whether it reads as torn)
    for (rel, torn) in [(5u64, true), (12, true), (16, true), (40, true), (0, false)] {
        let dir = tmp.path().join(format!("z{rel}"));
        let (tail, off) = log_with_known_tail(&dir, last);
        zero_range(&tail, off + rel, SEG);

        let (mut log, rec) = open(&dir);
        assert_eq!(rec.records, expected(1..=last - 1), "rel {rel}");
        if torn {
            assert_eq!(rec.warnings.len(), 1, "rel {rel}: {:?}", rec.warnings);
            assert!(rec.warnings[0].contains(&format!("offset {off}")));
        } else {
            // A zeroed header is simply the end of data.
            assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        }
        log.append(&[(last, b"again")]).unwrap();
        drop(log);
        let (_, rec) = open(&dir);
        assert!(rec.warnings.is_empty());
        assert_eq!(rec.records.last(), Some(&(last, b"again".to_vec())));
        assert_eq!(rec.records.len() as u64, last);
    }
}

#[test]
fn crc_flip_in_earlier_segment_is_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let files = fill(tmp.path(), 200);
    assert!(files.len() > 4);
    let victim = &files[2];
    let first = seg_first(victim);
    for index in [first, first + 2] {
        let off = frame_offset(first, index);
        let at = off + FRAME_HEADER_LEN as u64 + 3; // inside the payload
        flip_byte(victim, at);
        match SegmentedLog::open(tmp.path(), cfg()) {
            Err(e @ LogError::Corrupt { .. }) => {
                let LogError::Corrupt { path, offset, .. } = &e else {
                    unreachable!()
                };
                assert_eq!(path, victim);
                assert_eq!(*offset, off);
                let msg = e.to_string();
                assert!(msg.contains(&victim.display().to_string()), "{msg}");
                assert!(msg.contains(&format!("offset {off}")), "{msg}");
                assert!(msg.contains("checksum"), "{msg}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        flip_byte(victim, at); // restore
        let (_, rec) = open(tmp.path());
        assert_eq!(rec.records, expected(1..=200));
    }
}

/// Damages a segment file at an offset.
type Damage<'a> = &'a dyn Fn(&Path, u64);

/// Asserts that opening `dir` fails with `Corrupt` naming `path` and `offset`.
fn assert_corrupt_at(dir: &Path, path: &Path, offset: u64) -> String {
    match SegmentedLog::open(dir, cfg()) {
        Err(e @ LogError::Corrupt { .. }) => {
            let msg = e.to_string();
            let LogError::Corrupt {
                path: p, offset: o, ..
            } = e
            else {
                unreachable!()
            };
            assert_eq!((p.as_path(), o), (path, offset), "{msg}");
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains(&format!("offset {offset}")), "{msg}");
            msg
        }
        other => panic!("expected Corrupt at {offset}, got {other:?}"),
    }
}

/// A tail segment with at least `after` records after record `victim`:
/// (its path, `victim`, the offset of `victim`'s frame).
fn tail_with_victim(dir: &Path, last: u64, after: u64) -> (PathBuf, u64, u64) {
    let files = fill(dir, last);
    let tail = files.last().unwrap().clone();
    let first = seg_first(&tail);
    assert!(last - first > after, "tail too short for this test");
    let victim = last - after;
    (tail, victim, frame_offset(first, victim))
}

/// Damage to a record of the last segment that is followed by intact
/// records cannot come from a torn write: the log refuses to open rather
/// than dropping the records after it, and a repaired file opens whole.
#[test]
fn damage_before_the_end_of_the_last_segment_is_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let last = 100;
    // (what is damaged relative to the victim's frame, and how)
    let cases: [(&str, u64, Damage); 5] = [
        ("payload bit", FRAME_HEADER_LEN as u64 + 2, &|p, at| {
            flip_byte(p, at)
        }),
        ("crc", 4, &|p, at| flip_byte(p, at)),
        ("length", 3, &|p, at| flip_byte(p, at)),
        ("garbage", 6, &|p, at| {
            let f = OpenOptions::new().write(true).open(p).unwrap();
            f.write_all_at(b"#garbage#", at).unwrap();
        }),
        ("zeroed header", 0, &|p, at| {
            zero_range(p, at, at + FRAME_HEADER_LEN as u64)
        }),
    ];
    for (name, rel, damage) in cases {
        for after in [1, 3] {
            let dir = tmp.path().join(format!("{name}-{after}"));
            let (tail, _, off) = tail_with_victim(&dir, last, after);
            let before = fs::read(&tail).unwrap();
            damage(&tail, off + rel);
            let msg = assert_corrupt_at(&dir, &tail, off);
            assert!(msg.contains("follows intact"), "{name}: {msg}");
            // Nothing was repaired or removed on the way.
            assert_eq!(segs(&dir).last(), Some(&tail));
            fs::write(&tail, &before).unwrap();
            let (_, rec) = open(&dir);
            assert_eq!(rec.records, expected(1..=last), "{name}");
            assert!(rec.warnings.is_empty(), "{name}: {:?}", rec.warnings);
        }
    }
}

/// The first record of the last segment damaged: the segment is not taken
/// for an interrupted append and removed.
#[test]
fn damaged_first_record_of_the_last_segment_is_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let files = fill(tmp.path(), 100);
    let tail = files.last().unwrap();
    let off = SEGMENT_HEADER_LEN;
    flip_byte(tail, off + FRAME_HEADER_LEN as u64);
    assert_corrupt_at(tmp.path(), tail, off);
    assert!(tail.exists());
}

/// A power loss can leave an intact record after a torn one when a sector
/// of the torn one was never written (still zero): that is a torn write,
/// dropped with a warning, not damage.
#[test]
fn torn_record_with_an_unwritten_sector_before_an_intact_one_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let files = fill(dir, 3);
    let tail = files.last().unwrap().clone();
    let first = seg_first(&tail);
    let end = frame_offset(first, 4);
    // An append of 4 (1100 bytes, spanning a whole sector) and 5, of
    // which only the sectors holding the end of 4 and all of 5 reached
    // the disk.
    let p4 = vec![0x77; 1100];
    let p5 = b"made it".to_vec();
    let mut batch = frame_bytes(4, &p4);
    batch.extend(frame_bytes(5, &p5));
    let first_sector_end = (end / 512 + 1) * 512;
    let f = OpenOptions::new().write(true).open(&tail).unwrap();
    let skip = (first_sector_end + 512 - end) as usize; // two sectors lost
    f.write_all_at(&batch[skip..], end + skip as u64).unwrap();
    drop(f);
    let (log, rec) = open(dir);
    assert_eq!(rec.records, expected(1..=3));
    assert_eq!(rec.warnings.len(), 1, "{:?}", rec.warnings);
    assert!(rec.warnings[0].contains(&format!("offset {end}")));
    assert_eq!(log.last_index(), Some(3));
}

#[test]
fn missing_middle_segment_is_a_gap() {
    let tmp = tempfile::tempdir().unwrap();
    let files = fill(tmp.path(), 200);
    fs::remove_file(&files[3]).unwrap();
    match SegmentedLog::open(tmp.path(), cfg()) {
        Err(e @ LogError::Gap { .. }) => {
            let LogError::Gap {
                path,
                expected,
                found,
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(path, &files[4]);
            assert_eq!(*expected, seg_first(&files[3]));
            assert_eq!(*found, seg_first(&files[4]));
            assert!(e.to_string().contains(&files[4].display().to_string()));
        }
        other => panic!("expected Gap, got {other:?}"),
    }
}

/// What a crash cannot explain: the newest segments gone while the one
/// before them says a later one was durable.
#[test]
fn missing_last_segments_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let files = fill(dir, 200);
    assert!(files.len() >= 4);
    let mark = |path: &Path| {
        let mut b = [0u8; 4];
        fs::File::open(path)
            .unwrap()
            .read_exact_at(&mut b, SUCCESSOR_OFFSET)
            .unwrap();
        b == SUCCESSOR_MARK
    };
    let (last, rest) = files.split_last().unwrap();
    assert!(rest.iter().all(|p| mark(p)) && !mark(last));
    for lost in [1, 2] {
        let keep = files.len() - lost;
        let saved: Vec<Vec<u8>> = files[keep..].iter().map(|p| fs::read(p).unwrap()).collect();
        files[keep..]
            .iter()
            .for_each(|p| fs::remove_file(p).unwrap());
        let tail = &files[keep - 1];
        match SegmentedLog::open(dir, cfg()) {
            Err(e @ LogError::Corrupt { .. }) => {
                let LogError::Corrupt { path, offset, .. } = &e else {
                    unreachable!()
                };
                assert_eq!((path, *offset), (tail, SUCCESSOR_OFFSET));
                let text = e.to_string();
                assert!(text.contains(&files[keep].display().to_string()), "{text}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        for (p, bytes) in files[keep..].iter().zip(saved) {
            fs::write(p, bytes).unwrap();
        }
        let (_, rec) = open(dir);
        assert_eq!(rec.records, expected(1..=200));
    }
    // The first record of the newest segment damaged: it was durable before
    // the mark was set, so this is damage too, and nothing is removed.
    let first = seg_first(last);
    flip_byte(last, frame_offset(first, first) + FRAME_HEADER_LEN as u64);
    assert!(matches!(
        SegmentedLog::open(dir, cfg()),
        Err(LogError::Corrupt { .. })
    ));
    assert_eq!(segs(dir), files);
}

/// Truncation clears the mark of the segment it makes the last one, before
/// it removes the segment after it.
#[test]
fn truncation_unmarks_the_new_last_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let files = fill(dir, 200);
    let (mut log, _) = open(dir);
    log.truncate_from(seg_first(&files[2])).unwrap();
    drop(log);
    let (mut log, rec) = open(dir);
    assert_eq!(rec.records.len() as u64, seg_first(&files[2]) - 1);
    // Appending rolls to a new segment again, which marks the old one.
    append_range(&mut log, seg_first(&files[2])..=200, payload);
    drop(log);
    assert_eq!(segs(dir), files);
    let (_, rec) = open(dir);
    assert_eq!(rec.records, expected(1..=200));
}

#[test]
fn truncate_within_and_across_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let files = fill(dir, 200);
    let (mut log, _) = open(dir);

    // Middle of the second-to-last segment: removes the last file too.
    let seg = &files[files.len() - 2];
    let cut = seg_first(seg) + 2;
    log.truncate_from(cut).unwrap();
    assert_eq!(log.last_index(), Some(cut - 1));
    assert_eq!(segs(dir), files[..files.len() - 1].to_vec());
    // Re-append shorter payloads so stale frames would misalign if the
    // truncated bytes had not been zeroed.
    let short = |i: u64| vec![i as u8; 3];
    append_range(&mut log, cut..=cut + 5, short);
    drop(log);
    let (mut log, rec) = open(dir);
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    let mut want = expected(1..=cut - 1);
    want.extend((cut..=cut + 5).map(|i| (i, short(i))));
    assert_eq!(rec.records, want);

    // Across many segments, at a segment's exact first index.
    let boundary = seg_first(&files[2]);
    log.truncate_from(boundary).unwrap();
    assert_eq!(segs(dir), files[..2].to_vec());
    assert_eq!(log.last_index(), Some(boundary - 1));
    append_range(&mut log, boundary..=boundary + 30, payload);
    // Past the end: nothing happens.
    log.truncate_from(boundary + 31).unwrap();
    drop(log);
    let (mut log, rec) = open(dir);
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.records, expected(1..=boundary + 30));

    // Inside the first segment, then everything.
    log.truncate_from(3).unwrap();
    assert_eq!(segs(dir).len(), 1);
    assert_eq!(log.last_index(), Some(2));
    log.truncate_from(1).unwrap();
    assert!(segs(dir).is_empty());
    assert_eq!(log.last_index(), None);
    assert_eq!(log.disk_bytes(), 0);
    log.append(&[(77, b"fresh")]).unwrap();
    drop(log);
    let (log, rec) = open(dir);
    assert_eq!(rec.records, vec![(77, b"fresh".to_vec())]);
    assert_eq!(log.first_index(), Some(77));
}

/// The bytes written after an index are exactly its successors' frames,
/// across segments and after a purge.
#[test]
fn bytes_after_counts_the_frames_of_later_records() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let files = fill(dir, 200);
    let (mut log, _) = open(dir);
    let after = |i: u64| ((i + 1)..=200).map(|k| frame_len(&payload(k))).sum::<u64>();
    assert_eq!(log.bytes_after(None), after(0));
    for i in [
        1,
        2,
        seg_first(&files[3]) - 1,
        seg_first(&files[3]),
        150,
        199,
    ] {
        assert_eq!(log.bytes_after(Some(i)), after(i), "after {i}");
    }
    assert_eq!(log.bytes_after(Some(200)), 0);
    assert_eq!(log.bytes_after(Some(500)), 0);
    log.purge_upto(seg_first(&files[2]) + 1).unwrap();
    assert_eq!(log.bytes_after(Some(150)), after(150));
    assert_eq!(
        log.bytes_after(None),
        after(seg_first(&files[2]) - 1),
        "what the log still holds"
    );
}

/// Retiring takes the same segments out of the log as purging, under new
/// names that a reopen ignores.
#[test]
fn retired_segments_leave_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let files = fill(dir, 200);
    let (mut log, _) = open(dir);
    let retired = log.retire_upto(seg_first(&files[2]) + 1).unwrap();
    assert_eq!(segs(dir), files[2..].to_vec());
    assert_eq!(retired.len(), 2);
    for (r, f) in retired.iter().zip(&files) {
        assert_eq!(
            r.file_name().unwrap().to_str().unwrap(),
            format!("{}.retired", f.file_name().unwrap().to_str().unwrap())
        );
        assert_eq!(fs::metadata(r).unwrap().len(), SEG);
    }
    assert_eq!(log.first_index(), Some(seg_first(&files[2])));
    drop(log);
    let (log, rec) = open(dir);
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.records, expected(seg_first(&files[2])..=200));
    assert_eq!(log.first_index(), Some(seg_first(&files[2])));
}

#[test]
fn purge_removes_only_whole_old_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let files = fill(dir, 200);
    let (mut log, _) = open(dir);

    // Purge point inside segment 3: segments 1 and 2 go, 3 stays whole.
    let upto = seg_first(&files[2]) + 1;
    log.purge_upto(upto).unwrap();
    assert_eq!(segs(dir), files[2..].to_vec());
    assert_eq!(log.first_index(), Some(seg_first(&files[2])));
    assert_eq!(log.last_index(), Some(200));
    assert_eq!(log.disk_bytes(), SEG * (files.len() as u64 - 2));
    // Purging below the first segment's end is a no-op.
    log.purge_upto(0).unwrap();
    assert_eq!(segs(dir).len(), files.len() - 2);
    drop(log);

    let (mut log, rec) = open(dir);
    assert!(rec.warnings.is_empty());
    assert_eq!(rec.records, expected(seg_first(&files[2])..=200));
    append_range(&mut log, 201..=220, payload);

    // Everything: the log is empty and may restart anywhere (after a
    // snapshot install the next index is the snapshot's + 1).
    log.purge_upto(220).unwrap();
    assert!(segs(dir).is_empty());
    assert_eq!(log.first_index(), None);
    log.append(&[(1000, b"after snapshot")]).unwrap();
    drop(log);
    let (_, rec) = open(dir);
    assert_eq!(rec.records, vec![(1000, b"after snapshot".to_vec())]);
}

#[test]
fn unwritten_last_segment_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fill(dir, 50);
    for len in [0u64, 10, SEG] {
        // What a crash between creating a segment and syncing its first
        // write can leave: a zero-length or all-zero file.
        let stray = dir.join(format!("{:020}.seg", 51));
        fs::write(&stray, vec![0u8; len as usize]).unwrap();
        let (log, rec) = open(dir);
        assert_eq!(rec.records, expected(1..=50));
        assert_eq!(rec.warnings.len(), 1, "{:?}", rec.warnings);
        assert!(rec.warnings[0].contains(&stray.display().to_string()));
        assert!(!stray.exists());
        assert_eq!(log.last_index(), Some(50));
    }
    // A last segment whose only record is torn goes as well, when the
    // crash came before its first write was synced, that is before the
    // segment before it was marked as followed.
    let (mut log, _) = open(dir);
    let big = vec![7u8; 5000];
    log.append(&[(51, &big[..])]).unwrap();
    drop(log);
    let big_seg = dir.join(format!("{:020}.seg", 51));
    zero_range(&big_seg, SEGMENT_HEADER_LEN + 100, SEGMENT_HEADER_LEN + 200);
    let before = segs(dir)[segs(dir).len() - 2].clone();
    zero_range(&before, SUCCESSOR_OFFSET, SUCCESSOR_OFFSET + 4);
    let (log, rec) = open(dir);
    assert_eq!(rec.records, expected(1..=50));
    assert_eq!(rec.warnings.len(), 2, "{:?}", rec.warnings);
    assert!(!big_seg.exists());
    assert_eq!(log.last_index(), Some(50));
}

/// Bytes left after the end marker by an interrupted append (a whole
/// never-written sector between) are wiped with a warning; an intact frame
/// right after the end marker, in the same sector, cannot be left by a torn
/// write and is refused.
#[test]
fn stale_bytes_after_end_are_wiped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let files = fill(dir, 100);
    let tail = files.last().unwrap();
    let end = frame_offset(seg_first(tail), 101);
    // A frame for index 102 past where a 0-byte record 101 would end, a
    // whole sector later: if not wiped, appending up to there would make
    // it readable.
    let stale = frame_bytes(102, b"stale");
    let at = (end / 512 + 2) * 512;
    let f = OpenOptions::new().write(true).open(tail).unwrap();
    f.write_all_at(&stale, at).unwrap();
    drop(f);

    let (mut log, rec) = open(dir);
    assert_eq!(rec.records, expected(1..=100));
    assert_eq!(rec.warnings.len(), 1, "{:?}", rec.warnings);
    assert!(rec.warnings[0].contains(&format!("offset {end}")));
    log.append(&[(101, b"")]).unwrap();
    drop(log);
    let (log, rec) = open(dir);
    assert!(rec.warnings.is_empty());
    assert_eq!(rec.records.last(), Some(&(101, vec![])));
    assert_eq!(log.last_index(), Some(101));

    let f = OpenOptions::new().write(true).open(tail).unwrap();
    let end = end + FRAME_HEADER_LEN as u64; // past the empty record 101
    f.write_all_at(&stale, end + FRAME_HEADER_LEN as u64)
        .unwrap();
    drop(f);
    drop(log);
    assert_corrupt_at(dir, tail, end);
}

/// Data after the end of a segment that is not the last one was synced
/// before its successor existed: it is damage, never repaired away.
#[test]
fn bytes_after_the_end_of_an_earlier_segment_are_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let files = fill(tmp.path(), 200);
    let (victim, end) = files
        .windows(2)
        .map(|w| (&w[0], frame_offset(seg_first(&w[0]), seg_first(&w[1]))))
        .find(|&(_, end)| end + 20 < SEG)
        .expect("a segment with room after its data");
    let f = OpenOptions::new().write(true).open(victim).unwrap();
    f.write_all_at(b"x", end + 19).unwrap();
    drop(f);
    assert_corrupt_at(tmp.path(), victim, end);
}

#[test]
fn foreign_or_inconsistent_files_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let alien = dir.join(format!("{:020}.seg", 1));
    fs::write(&alien, b"this is not a khepri segment, just some text file").unwrap();
    match SegmentedLog::open(dir, cfg()) {
        Err(e @ LogError::Corrupt { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("magic") && msg.contains(&alien.display().to_string()),
                "{msg}"
            );
        }
        other => panic!("{other:?}"),
    }
    fs::remove_file(&alien).unwrap();

    // A valid segment renamed so its name disagrees with its header.
    fill(dir, 5);
    fs::rename(
        dir.join(format!("{:020}.seg", 1)),
        dir.join(format!("{:020}.seg", 2)),
    )
    .unwrap();
    assert!(matches!(
        SegmentedLog::open(dir, cfg()),
        Err(LogError::Corrupt { offset: 16, .. })
    ));
}

#[test]
fn other_files_are_left_alone_and_config_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("meta"), b"x").unwrap();
    fs::write(dir.join("junk.seg"), b"x").unwrap();
    let (_, rec) = open(dir);
    assert_eq!(rec.warnings.len(), 1, "{:?}", rec.warnings);
    assert!(dir.join("meta").exists() && dir.join("junk.seg").exists());
    for bad in [0, 10, u64::from(u32::MAX) + 1] {
        let d = dir.join(format!("bad{bad}"));
        assert!(matches!(
            SegmentedLog::open(&d, LogConfig { segment_bytes: bad }),
            Err(LogError::InvalidConfig(_))
        ));
    }
}

#[test]
fn second_open_is_locked_out() {
    let tmp = tempfile::tempdir().unwrap();
    let (log, _) = open(tmp.path());
    assert!(matches!(
        SegmentedLog::open(tmp.path(), cfg()),
        Err(LogError::Locked { .. })
    ));
    drop(log);
    open(tmp.path());
}

#[test]
fn atomic_small_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    assert_eq!(read_small(dir, "vote").unwrap(), None);
    write_atomic(dir, "vote", b"first").unwrap();
    write_atomic(dir, "vote", b"second, longer").unwrap();
    assert_eq!(
        read_small(dir, "vote").unwrap(),
        Some(b"second, longer".to_vec())
    );
    write_atomic(dir, "vote", b"3").unwrap();
    assert_eq!(read_small(dir, "vote").unwrap(), Some(b"3".to_vec()));
    assert!(!dir.join("vote.tmp").exists());
}

#[test]
fn read_verifies_checksum() {
    let tmp = tempfile::tempdir().unwrap();
    let files = fill(tmp.path(), 60);
    let (log, _) = open(tmp.path());
    let first = seg_first(&files[1]);
    let off = frame_offset(first, first + 1);
    flip_byte(&files[1], off + FRAME_HEADER_LEN as u64);
    match log.read(first + 1) {
        Err(LogError::Corrupt { path, offset, .. }) => {
            assert_eq!(path, files[1]);
            assert_eq!(offset, off);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(log.read(first).unwrap(), Some(payload(first)));
}

#[test]
fn unsynced_appends_hand_back_the_tail_to_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (mut log, _) = open(&dir);
    // The first record creates a segment, which is synced at once.
    let p1 = payload(1);
    assert!(log.append_unsynced(&[(1, &p1[..])]).unwrap().is_none());
    // Later ones go to that segment and are left for the caller to sync.
    let mut last_handle = None;
    for i in 2..=60u64 {
        let p = payload(i);
        match log.append_unsynced(&[(i, &p[..])]).unwrap() {
            Some(file) => last_handle = Some(file),
            // A rollover syncs the tail before it and the new segment.
            None => assert_eq!(log.segment_count() as u64, segs(&dir).len() as u64),
        }
    }
    assert!(log.segment_count() > 1, "the records span segments");
    last_handle.expect("a tail to sync").sync_data().unwrap();
    for i in 1..=60 {
        assert_eq!(log.read(i).unwrap(), Some(payload(i)), "read {i}");
    }
    drop(log);
    let (_, rec) = open(&dir);
    assert_eq!(rec.records, expected(1..=60));
}
