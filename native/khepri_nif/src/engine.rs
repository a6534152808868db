//! The engine resource: one running store member, owned by the store process.

use crate::atoms;
use crate::cluster::StoreProcessOutbox;
use crate::codec::encode_bytes;
use crate::effects::StoreProcessSink;
use crate::reply::ReplyTo;
use khepri_raft::effects::EffectSinkRef;
use khepri_raft::runtime::runtime;
use khepri_raft::transport::OutboxRef;
use khepri_raft::{Store, StoreConfig};
use rustler::{Atom, Encoder, Env, LocalPid, NifResult, Resource, ResourceArc, Term};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A store member as an Erlang resource. Dropping the last reference stops it.
pub struct Engine {
    /// The member.
    pub store: Arc<Store>,
}

#[rustler::resource_impl]
impl Resource for Engine {}

impl Drop for Engine {
    fn drop(&mut self) {
        let store = self.store.clone();
        runtime().spawn(async move { store.shutdown().await });
    }
}

fn config_from(
    dir: String,
    node_name: String,
    opts: Term,
    owner: LocalPid,
) -> NifResult<StoreConfig> {
    let mut cfg = StoreConfig::new(PathBuf::from(dir), node_name);
    cfg.outbox = OutboxRef(Arc::new(StoreProcessOutbox { pid: owner }));
    cfg.effects = Some(EffectSinkRef(Arc::new(StoreProcessSink { pid: owner })));
    if let Ok(v) = opts.map_get(atoms::join()) {
        cfg.join = v.decode()?;
    }
    if let Ok(v) = opts.map_get(atoms::snapshot_interval()) {
        cfg.snapshots.interval = v.decode()?;
    }
    if let Ok(v) = opts.map_get(atoms::log_to_snapshot_ratio()) {
        cfg.snapshots.log_ratio = v.decode()?;
    }
    if let Ok(v) = opts.map_get(atoms::unreleased_command_footprint_threshold()) {
        cfg.snapshots.footprint = v.decode()?;
    }
    if let Ok(v) = opts.map_get(atoms::snapshot_time_interval()) {
        cfg.snapshots.time_interval = match v.decode::<Atom>() {
            Ok(a) if a == atoms::infinity() => Duration::MAX,
            _ => Duration::from_millis(v.decode()?),
        };
    }
    if let Ok(v) = opts.map_get(atoms::segment_bytes()) {
        cfg.segment_bytes = v.decode()?;
    }
    if let Ok(v) = opts.map_get(atoms::open_timeout()) {
        cfg.open_timeout = Duration::from_millis(v.decode()?);
    }
    Ok(cfg)
}

/// `open(Dir, NodeName, Opts, Ref) -> ok` (the caller, the store process,
/// relays calls between members: see `cluster`); later `{Ref, {ok, Engine, Warnings}}`
/// or `{Ref, {error, Reason :: binary()}}`. Recovery runs on the engine runtime.
#[rustler::nif]
fn open<'a>(
    env: Env<'a>,
    dir: String,
    node_name: String,
    opts: Term<'a>,
    tag: Term<'a>,
) -> NifResult<Atom> {
    let cfg = config_from(dir, node_name, opts, env.pid())?;
    let reply = ReplyTo::new(env, tag);
    runtime().spawn(async move {
        match Store::open(cfg).await {
            Ok((store, warnings)) => {
                let engine = ResourceArc::new(Engine {
                    store: Arc::new(store),
                });
                reply.send(move |e| {
                    let warnings: Vec<Term> = warnings
                        .iter()
                        .map(|w| encode_bytes(e, w.as_bytes()))
                        .collect();
                    (atoms::ok(), engine, warnings).encode(e)
                });
            }
            Err(err) => {
                let text = err.to_string();
                reply.send(move |e| (atoms::error(), encode_bytes(e, text.as_bytes())).encode(e));
            }
        }
    });
    Ok(atoms::ok())
}

/// `stop(Engine, Ref) -> ok`; later `{Ref, ok}` once the member has stopped.
#[rustler::nif]
fn stop<'a>(env: Env<'a>, engine: ResourceArc<Engine>, tag: Term<'a>) -> Atom {
    let reply = ReplyTo::new(env, tag);
    let store = engine.store.clone();
    runtime().spawn(async move {
        store.shutdown().await;
        reply.send(|e| atoms::ok().encode(e));
    });
    atoms::ok()
}
