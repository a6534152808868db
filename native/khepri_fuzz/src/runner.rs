//! The fuzz loop, and the supervisor that runs it in a worker process.
//!
//! A panic is caught in the loop and its input saved. Aborts cannot be
//! caught (a stack overflow, the allocation guard of the binary): the worker
//! writes each input to a file before running it, and when the worker dies
//! the supervisor saves that file as the crash and starts a new worker.

use crate::mutate::mutant;
use crate::rng::Rng;
use crate::targets::Target;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Accepted mutants kept to mutate further, beyond the seeds.
const POOL: usize = 2048;

/// Stack of the thread that runs the decoders: what a tokio worker (where
/// snapshots and logs are loaded) gets by default, so a recursion too deep
/// for production overflows here too.
pub const WORKER_STACK: usize = 2 << 20;

/// Counts of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Inputs run.
    pub iterations: u64,
    /// Inputs the decoder accepted.
    pub accepted: u64,
    /// Inputs that crashed (saved).
    pub crashes: u64,
}

impl Stats {
    fn add(&mut self, o: Stats) {
        self.iterations += o.iterations;
        self.accepted += o.accepted;
        self.crashes += o.crashes;
    }

    /// One line, as the worker reports it and the supervisor parses it.
    pub fn line(&self) -> String {
        format!(
            "stats iterations={} accepted={} crashes={}",
            self.iterations, self.accepted, self.crashes
        )
    }

    fn parse(line: &str) -> Option<Stats> {
        let mut s = Stats::default();
        let rest = line.strip_prefix("stats ")?;
        for field in rest.split(' ') {
            let (k, v) = field.split_once('=')?;
            let v: u64 = v.parse().ok()?;
            match k {
                "iterations" => s.iterations = v,
                "accepted" => s.accepted = v,
                "crashes" => s.crashes = v,
                _ => return None,
            }
        }
        Some(s)
    }
}

/// The message of the last panic on this process.
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// Keeps panic messages for the crash report instead of printing each.
fn capture_panics() {
    panic::set_hook(Box::new(|info| {
        let mut last = LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner());
        *last = info.to_string();
    }));
}

/// FNV-1a of the input: crash file names, so a crash found twice is saved once.
fn fingerprint(input: &[u8]) -> u64 {
    input.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Saves a crashing input (and why, beside it); returns its path.
pub fn save_crash(dir: &Path, target: &str, input: &[u8], why: &str) -> io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let path = dir.join(format!("{target}-{:016x}.bin", fingerprint(input)));
    fs::write(&path, input)?;
    fs::write(path.with_extension("txt"), why)?;
    Ok(path)
}

/// Where the loop stops and what it does with crashes.
pub struct LoopConfig<'a> {
    /// Stop at this instant...
    pub deadline: Instant,
    /// ...or after this many inputs.
    pub max_iterations: u64,
    /// Seed of the mutations.
    pub seed: u64,
    /// Where crashing inputs go.
    pub crashes: &'a Path,
    /// Written with each input before it runs (for the supervisor).
    pub current: Option<&'a File>,
    /// Called about once a second with the counts so far.
    pub progress: &'a mut dyn FnMut(Stats),
}

/// Feeds mutants of `seeds` to `target` until the deadline. Panics are
/// caught, their inputs saved to `cfg.crashes` and reported on stderr.
pub fn fuzz_loop(target: &mut dyn Target, seeds: &[Vec<u8>], cfg: LoopConfig) -> Stats {
    capture_panics();
    let mut rng = Rng::new(cfg.seed);
    let mut pool: Vec<Vec<u8>> = seeds.to_vec();
    let mut stats = Stats::default();
    let mut next_report = Instant::now() + Duration::from_secs(1);
    while stats.iterations < cfg.max_iterations {
        // The clock is read every 64 inputs: it costs as much as a small one.
        if stats.iterations.is_multiple_of(64) {
            let now = Instant::now();
            if now >= cfg.deadline {
                break;
            }
            if now >= next_report {
                (cfg.progress)(stats);
                next_report = now + Duration::from_secs(1);
            }
        }
        let mut input = mutant(&mut rng, &pool);
        if rng.one_in(2) {
            target.fix_up(&mut input);
        }
        if let Some(f) = cfg.current {
            // Best effort: only needed if the input aborts the process.
            let _ = f.set_len(0).and_then(|()| f.write_all_at(&input, 0));
        }
        stats.iterations += 1;
        match panic::catch_unwind(AssertUnwindSafe(|| target.run(&input))) {
            Ok(true) => {
                stats.accepted += 1;
                if pool.len() < seeds.len() + POOL {
                    pool.push(input);
                } else {
                    let at = seeds.len() + rng.below(POOL);
                    pool[at] = input;
                }
            }
            Ok(false) => {}
            Err(_) => {
                stats.crashes += 1;
                let why = LAST_PANIC.lock().map(|s| s.clone()).unwrap_or_default();
                match save_crash(cfg.crashes, target.name(), &input, &why) {
                    Ok(p) => eprintln!("CRASH (panic) saved to {}: {why}", p.display()),
                    Err(e) => eprintln!("CRASH (panic), not saved ({e}): {why}"),
                }
            }
        }
    }
    stats
}

/// What the supervisor runs.
pub struct RunConfig {
    /// Target name.
    pub target: String,
    /// Wall-clock budget.
    pub seconds: u64,
    /// First worker's seed; each restart uses the next.
    pub seed: u64,
    /// Seed corpus root.
    pub corpus: PathBuf,
    /// Crash directory.
    pub crashes: PathBuf,
}

/// Runs workers of this executable (`worker` sub-command) until the time is
/// up, restarting after a worker dies and saving the input it died on.
pub fn supervise(cfg: &RunConfig) -> io::Result<Stats> {
    let exe = std::env::current_exe()?;
    let deadline = Instant::now() + Duration::from_secs(cfg.seconds);
    fs::create_dir_all(&cfg.crashes)?;
    let current = cfg
        .crashes
        .join(format!(".current-{}-{}", cfg.target, std::process::id()));
    let mut total = Stats::default();
    let mut seed = cfg.seed;
    loop {
        let left = deadline.saturating_duration_since(Instant::now()).as_secs();
        if left == 0 {
            break;
        }
        let mut child = Command::new(&exe)
            .arg("worker")
            .arg(&cfg.target)
            .args(["--seconds", &left.to_string(), "--seed", &seed.to_string()])
            .arg("--corpus")
            .arg(&cfg.corpus)
            .arg("--crashes")
            .arg(&cfg.crashes)
            .arg("--current")
            .arg(&current)
            .stdout(Stdio::piped())
            .spawn()?;
        let mut last = Stats::default();
        if let Some(out) = child.stdout.take() {
            for line in BufReader::new(out).lines() {
                if let Some(s) = Stats::parse(&line?) {
                    last = s;
                }
            }
        }
        let status = child.wait()?;
        total.add(last);
        if status.success() {
            break;
        }
        // Died on the input in `current`.
        total.crashes += 1;
        let input = fs::read(&current).unwrap_or_default();
        let why = format!("worker died: {status} (seed {seed})");
        let saved = save_crash(&cfg.crashes, &cfg.target, &input, &why)?;
        eprintln!("CRASH ({why}) saved to {}", saved.display());
        seed = seed.wrapping_add(1);
    }
    let _ = fs::remove_file(&current);
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_lines_round_trip() {
        let s = Stats {
            iterations: 12,
            accepted: 3,
            crashes: 1,
        };
        assert_eq!(Stats::parse(&s.line()), Some(s));
        assert_eq!(Stats::parse("progress 1"), None);
    }
}
