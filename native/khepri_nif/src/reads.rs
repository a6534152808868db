//! Synchronous reads on the member's current tree version. Each walks an
//! immutable tree in microseconds and never waits for a lock held by writers.

use crate::atoms;
use crate::codec::{
    decode_path, decode_stored_term, encode_bytes, encode_path, lookup, INLINE_DECODE_LIMIT,
};
use crate::engine::Engine;
use crate::reply::encode_error;
use khepri_core::{Node, NodeId, Payload};
use rustler::{Encoder, Env, NifResult, ResourceArc, Term};

/// `get(Engine, Path)`: `{ok, Term}`, `{ok, undefined}` (no payload),
/// `{ok_etf, Binary}` (large payload, decoded by the caller) or
/// `{error, {khepri, node_not_found, Props}}`.
#[rustler::nif]
fn get<'a>(env: Env<'a>, engine: ResourceArc<Engine>, path: Term<'a>) -> NifResult<Term<'a>> {
    let tree = engine.store.tree();
    let found = match lookup(&tree.root, path)? {
        Some(node) => Ok(node),
        // Missing: decode the whole path to name the first missing node.
        None => tree.find(&decode_path(path)?),
    };
    Ok(match found {
        Ok(node) => match &node.payload {
            Payload::None => (atoms::ok(), atoms::undefined()).encode(env),
            Payload::Data(b) | Payload::Sproc(b) if b.len() > INLINE_DECODE_LIMIT => (
                rustler::types::atom::Atom::from_str(env, "ok_etf")?,
                encode_bytes(env, b.as_slice()),
            )
                .encode(env),
            Payload::Data(b) | Payload::Sproc(b) => {
                (atoms::ok(), decode_stored_term(env, b.as_slice())).encode(env)
            }
        },
        Err(e) => (atoms::error(), encode_error(env, &e)).encode(env),
    })
}

/// `exists(Engine, Path) -> boolean()`.
#[rustler::nif]
fn exists(engine: ResourceArc<Engine>, path: Term) -> NifResult<bool> {
    Ok(lookup(&engine.store.tree().root, path)?.is_some())
}

/// `applied_index(Engine) -> non_neg_integer()`: the last log index applied here.
#[rustler::nif]
fn applied_index(engine: ResourceArc<Engine>) -> u64 {
    engine.store.applied_index()
}

/// `last_log_index(Engine) -> non_neg_integer()`: the last index in the local log.
#[rustler::nif]
fn last_log_index(engine: ResourceArc<Engine>) -> u64 {
    engine.store.last_log_index().unwrap_or(0)
}

/// `dump(Engine) -> [{Path, Payload}]` in tree order, where Payload is
/// `none | {data, Term} | {sproc, Fun}`. For `info` and debugging: it walks the
/// whole tree, so it runs on a dirty scheduler.
#[rustler::nif(schedule = "DirtyCpu")]
fn dump<'a>(env: Env<'a>, engine: ResourceArc<Engine>) -> Term<'a> {
    let tree = engine.store.tree();
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(env, &tree.root, &mut path, &mut out);
    out.encode(env)
}

fn walk<'a>(env: Env<'a>, node: &Node, path: &mut Vec<NodeId>, out: &mut Vec<Term<'a>>) {
    let payload = match &node.payload {
        Payload::None => atoms::none().encode(env),
        Payload::Data(b) => (atoms::data(), decode_stored_term(env, b.as_slice())).encode(env),
        Payload::Sproc(b) => (atoms::sproc(), decode_stored_term(env, b.as_slice())).encode(env),
    };
    out.push((encode_path(env, path), payload).encode(env));
    for (name, child) in node.children.iter() {
        path.push(name.clone());
        walk(env, child, path, out);
        path.pop();
    }
}
