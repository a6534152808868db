//! Every target runs its committed seeds and a short burst of mutants
//! without a crash. The long runs are `khepri-fuzz run` (README, "Fuzzing").

use khepri_fuzz::runner::{fuzz_loop, LoopConfig, Stats};
use khepri_fuzz::{corpus, targets};
use std::time::{Duration, Instant};

/// Mutants per target: about a second each in a release build.
const ITERATIONS: u64 = 3_000;

#[test]
fn committed_seeds_are_accepted() {
    for name in targets::NAMES {
        let mut target = targets::by_name(name).unwrap();
        let seeds = corpus::read(&corpus::default_dir(), name).unwrap();
        let accepted: Vec<bool> = seeds.iter().map(|s| target.run(s)).collect();
        if name == "etf" {
            // The VM-made fixture also holds encodings binary_to_term refuses.
            let n = accepted.iter().filter(|&&a| a).count();
            assert!(
                n * 4 > seeds.len() * 3,
                "etf: {n} of {} accepted",
                seeds.len()
            );
        } else if let Some(i) = accepted.iter().position(|&a| !a) {
            panic!("{name} seed {i} is not accepted");
        }
    }
}

#[test]
fn a_short_run_of_each_target_finds_no_crash() {
    let crashes = tempfile_dir();
    for name in targets::NAMES {
        let mut target = targets::by_name(name).unwrap();
        let seeds = corpus::read(&corpus::default_dir(), name).unwrap();
        let mut progress = |_: Stats| {};
        let stats = fuzz_loop(
            target.as_mut(),
            &seeds,
            LoopConfig {
                deadline: Instant::now() + Duration::from_secs(60),
                max_iterations: ITERATIONS,
                seed: 42,
                crashes: &crashes,
                current: None,
                progress: &mut progress,
            },
        );
        assert_eq!(
            stats.crashes,
            0,
            "{name}: crashes saved in {}",
            crashes.display()
        );
        assert_eq!(stats.iterations, ITERATIONS, "{name}");
        assert!(stats.accepted > 0, "{name}: no mutant was accepted");
    }
    let _ = std::fs::remove_dir_all(&crashes);
}

/// Inputs that once crashed a target (`regressions/<target>/`, each named
/// after the crash file it was) run clean.
#[test]
fn past_crashes_stay_fixed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut seen = 0;
    for name in targets::NAMES {
        let Ok(files) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        let mut target = targets::by_name(name).unwrap();
        for f in files {
            let path = f.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            let _ = target.run(&input);
            seen += 1;
        }
    }
    assert!(seen > 0, "no regression inputs under {}", root.display());
}

fn tempfile_dir() -> std::path::PathBuf {
    khepri_fuzz::scratch::dir("smoke-crashes")
}
