//! Mutation fuzzing of khepri-rs decoders, on stable Rust.
//!
//! `cargo fuzz` needs a nightly toolchain; this is the equivalent loop: each
//! target ([`targets`]) is fed mutants ([`mutate`]) of seed files made from
//! real encodings (committed under `corpus/`), for a given time. A panic is
//! caught and its input saved; an abort (stack overflow, an allocation past
//! the guard's limit) kills the worker process, whose supervisor saves the
//! input it was running ([`runner`]). Run `khepri-fuzz --help`.

pub mod corpus;
pub mod mutate;
pub mod rng;
pub mod runner;
pub mod samples;
pub mod scratch;
pub mod targets;
