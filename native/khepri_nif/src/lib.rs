//! The NIF that puts the khepri-rs engine under the Erlang `khepri` API.
//!
//! Rules kept throughout: no call blocks a normal scheduler (writes and store
//! start/stop answer by message from the engine's runtime; reads walk an
//! immutable tree version in microseconds), and no call panics across the
//! boundary (bad terms are `badarg`).

mod atoms;
mod barrier;
mod cluster;
mod codec;
mod compaction;
mod effects;
mod engine;
mod packed_terms;
mod pattern_codec;
mod reads;
mod reply;
mod source;
mod tx;
mod writes;

rustler::init!("khepri_nif");
