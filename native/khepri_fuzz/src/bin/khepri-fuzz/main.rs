//! `khepri-fuzz`: mutation fuzzing of the decoders (see the crate docs).
//!
//! ```text
//! khepri-fuzz run <target|all> [--seconds N] [--seed S] [--corpus DIR] [--crashes DIR]
//! khepri-fuzz replay <target> FILE...
//! khepri-fuzz seeds [--corpus DIR]
//! ```

mod guard;

use khepri_fuzz::runner::{self, LoopConfig, RunConfig, Stats};
use khepri_fuzz::{corpus, targets};
use std::fs::File;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: guard::Guard = guard::Guard;

const USAGE: &str = "\
usage:
  khepri-fuzz run <target|all> [--seconds N] [--seed S] [--corpus DIR] [--crashes DIR]
      fuzz each target for N seconds (default 60), one after the other;
      exits 1 if any input crashed (saved to --crashes, default fuzz-crashes/)
  khepri-fuzz replay <target> FILE...
      run the given inputs once each, reporting panics (reproduce a crash)
  khepri-fuzz seeds [--corpus DIR]
      regenerate the seed corpora from real encodings
targets: log, snapshot, etf, command";

/// Parsed options.
struct Args {
    positional: Vec<String>,
    seconds: u64,
    seed: u64,
    corpus: PathBuf,
    crashes: PathBuf,
    current: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        positional: Vec::new(),
        seconds: 60,
        seed: 0x6b68_6570_7269,
        corpus: corpus::default_dir(),
        crashes: PathBuf::from("fuzz-crashes"),
        current: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--seconds" => a.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--seed" => a.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--corpus" => a.corpus = PathBuf::from(value()?),
            "--crashes" => a.crashes = PathBuf::from(value()?),
            "--current" => a.current = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => a.positional.push(s.to_string()),
        }
    }
    Ok(a)
}

fn target_names(name: &str) -> Result<Vec<&'static str>, String> {
    if name == "all" {
        return Ok(targets::NAMES.to_vec());
    }
    targets::NAMES
        .iter()
        .find(|&&n| n == name)
        .map(|&n| vec![n])
        .ok_or(format!("unknown target {name}"))
}

/// The supervisor: each target in turn, in worker processes.
fn run(a: &Args, name: &str) -> Result<bool, String> {
    let mut clean = true;
    for target in target_names(name)? {
        let cfg = RunConfig {
            target: target.to_string(),
            seconds: a.seconds,
            seed: a.seed,
            corpus: a.corpus.clone(),
            crashes: a.crashes.clone(),
        };
        let started = Instant::now();
        let s = runner::supervise(&cfg).map_err(|e| format!("{target}: {e}"))?;
        println!(
            "{target}: {} inputs in {:.0} s ({:.0}/s), {} accepted, {} crashes",
            s.iterations,
            started.elapsed().as_secs_f64(),
            s.iterations as f64 / started.elapsed().as_secs_f64().max(1e-9),
            s.accepted,
            s.crashes
        );
        clean &= s.crashes == 0;
    }
    Ok(clean)
}

/// One worker process: the loop on a thread with a production-sized stack.
fn worker(a: &Args, name: &str) -> Result<bool, String> {
    let mut target = targets::by_name(name).ok_or(format!("unknown target {name}"))?;
    let seeds = corpus::read(&a.corpus, name).map_err(|e| e.to_string())?;
    let current = match &a.current {
        Some(p) => Some(File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let crashes = a.crashes.clone();
    let seed = a.seed;
    let stats = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(runner::WORKER_STACK)
            .spawn_scoped(s, || {
                let mut progress = |st: Stats| println!("{}", st.line());
                runner::fuzz_loop(
                    target.as_mut(),
                    &seeds,
                    LoopConfig {
                        deadline,
                        max_iterations: u64::MAX,
                        seed,
                        crashes: &crashes,
                        current: current.as_ref(),
                        progress: &mut progress,
                    },
                )
            })
            .map_err(|e| e.to_string())?
            .join()
            .map_err(|_| "the fuzz loop itself panicked".to_string())
    })?;
    println!("{}", stats.line());
    Ok(true)
}

fn replay(name: &str, files: &[String]) -> Result<bool, String> {
    let mut target = targets::by_name(name).ok_or(format!("unknown target {name}"))?;
    let mut clean = true;
    for f in files {
        let input = std::fs::read(f).map_err(|e| format!("{f}: {e}"))?;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target.run(&input)));
        match r {
            Ok(accepted) => println!("{f}: ok (accepted: {accepted})"),
            Err(_) => {
                println!("{f}: PANIC");
                clean = false;
            }
        }
    }
    Ok(clean)
}

fn seeds(a: &Args) -> Result<bool, String> {
    for name in targets::NAMES {
        let target = targets::by_name(name).ok_or("target list")?;
        let n = corpus::write(&a.corpus, target.as_ref()).map_err(|e| e.to_string())?;
        println!("{name}: {n} seeds in {}", a.corpus.join(name).display());
    }
    Ok(true)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = parse(&args).and_then(|a| {
        let pos: Vec<&str> = a.positional.iter().map(String::as_str).collect();
        match pos.as_slice() {
            ["run", name] => run(&a, name),
            ["worker", name] => worker(&a, name),
            ["replay", name, ..] => replay(name, &a.positional[2..]),
            ["seeds"] => seeds(&a),
            _ => Err(String::new()),
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("khepri-fuzz: {e}");
            }
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
