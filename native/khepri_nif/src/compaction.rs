//! Snapshots on demand and what the log and the newest snapshot hold: for
//! the benchmark, tests and operators (snapshots are otherwise taken by the
//! store's rules, see `khepri_raft::compaction`).

use crate::atoms;
use crate::codec::encode_bytes;
use crate::engine::Engine;
use crate::reply::{map, ReplyTo};
use khepri_raft::runtime::runtime;
use rustler::{Atom, Encoder, Env, ResourceArc, Term};
use std::time::Duration;

/// `snapshot(Engine, Ref, TimeoutMs) -> ok`; later `{Ref, {ok, #{index =>
/// Index, bytes => Bytes, build_us => Micros}}}` once a snapshot of the tree
/// as of the call is durable (`build_us`: from the tree's capture to the
/// directory's fsync), or `{Ref, {error, Reason :: binary()}}`.
#[rustler::nif]
fn snapshot<'a>(
    env: Env<'a>,
    engine: ResourceArc<Engine>,
    tag: Term<'a>,
    timeout_ms: u64,
) -> Term<'a> {
    let reply = ReplyTo::new(env, tag);
    let store = engine.store.clone();
    runtime().spawn(async move {
        let built = store.snapshot(Duration::from_millis(timeout_ms)).await;
        reply.send(move |e| match built {
            Ok(r) => {
                let built = counts(
                    e,
                    &[
                        (atoms::index(), r.index.unwrap_or(0)),
                        (atoms::bytes(), r.bytes),
                        (atoms::build_us(), r.took.as_micros() as u64),
                    ],
                );
                (atoms::ok(), built).encode(e)
            }
            Err(why) => (atoms::error(), encode_bytes(e, why.as_bytes())).encode(e),
        });
    });
    atoms::ok().encode(env)
}

/// `compaction_info(Engine) -> #{snapshot_index, snapshot_bytes, log_bytes,
/// log_disk_bytes, entries_since, builds}`: the newest snapshot (index 0 and
/// 0 bytes without one), the bytes of log records after it, the bytes the
/// log's segment files take on disk, entries applied since the last build
/// began, and the builds finished so far.
#[rustler::nif]
fn compaction_info(env: Env, engine: ResourceArc<Engine>) -> Term {
    let s = engine.store.compaction_state();
    counts(
        env,
        &[
            (atoms::snapshot_index(), s.snapshot_index.unwrap_or(0)),
            (atoms::snapshot_bytes(), s.snapshot_bytes),
            (atoms::log_bytes(), s.log_bytes),
            (atoms::log_disk_bytes(), s.log_disk_bytes),
            (atoms::entries_since(), s.entries_since),
            (atoms::builds(), engine.store.snapshot_builds()),
        ],
    )
}

/// `#{Key => Count}`.
fn counts<'a>(env: Env<'a>, pairs: &[(Atom, u64)]) -> Term<'a> {
    let terms: Vec<(Term, Term)> = pairs
        .iter()
        .map(|(k, v)| (k.encode(env), v.encode(env)))
        .collect();
    map(env, &terms)
}
