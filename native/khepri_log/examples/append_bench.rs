//! Append throughput with one fdatasync per `append` call.
//!
//! `cargo run --release -p khepri_log --example append_bench [DIR] [RECORDS]`
//!
//! DIR defaults to a temporary directory under the current one (not /tmp,
//! which may be tmpfs where fdatasync costs nothing). Prints appends/s and
//! records/s for batches of 1 and 64 records of 200 bytes.

use std::time::Instant;

use khepri_log::{LogConfig, SegmentedLog};

fn run(parent: &std::path::Path, batch: usize, records: u64) {
    let tmp = tempfile::tempdir_in(parent).expect("temp dir");
    let (mut log, _) = SegmentedLog::open(tmp.path(), LogConfig::default()).expect("open");
    let payload = [0x5Au8; 200];
    let mut next = 1u64;
    let start = Instant::now();
    let mut calls = 0u64;
    while next <= records {
        let n = batch.min((records - next + 1) as usize) as u64;
        let recs: Vec<(u64, &[u8])> = (next..next + n).map(|i| (i, &payload[..])).collect();
        log.append(&recs).expect("append");
        next += n;
        calls += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "batch {batch:>3}: {records} records in {secs:.3} s = {:.0} appends/s ({:.1} us/append), {:.0} records/s, {} segment(s)",
        calls as f64 / secs,
        secs * 1e6 / calls as f64,
        records as f64 / secs,
        log.segment_count()
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let parent = args.next().unwrap_or_else(|| ".".into());
    let records: u64 = args.next().map_or(20_000, |s| s.parse().expect("RECORDS"));
    let parent = std::path::Path::new(&parent);
    run(parent, 1, records);
    run(parent, 64, records * 4);
}
