//! Clustering: calls between members relayed by the store processes over
//! Erlang distribution, membership changes, and who leads.

use crate::atoms;
use crate::barrier::answer_when;
use crate::codec::encode_bytes;
use crate::engine::Engine;
use crate::reply::ReplyTo;
use khepri_raft::membership::MembershipError;
use khepri_raft::runtime::runtime;
use khepri_raft::timeline::{mark, Stage};
use khepri_raft::transport::{Answer, Outbox, RpcKind};
use rustler::{Binary, Encoder, Env, LocalPid, NifResult, OwnedEnv, ResourceArc, Term};
use std::time::Duration;

/// Sends a member's outgoing calls to its store process as
/// `{'$khepri_rpc', TargetNode :: binary(), Id, Kind :: atom(), Body :: binary()}`;
/// the store process forwards them to the store process on the target node.
pub struct StoreProcessOutbox {
    /// The store process that opened the engine.
    pub pid: LocalPid,
}

impl Outbox for StoreProcessOutbox {
    fn send(&self, target: &str, id: u64, kind: RpcKind, body: Vec<u8>) -> bool {
        // Called from the engine's threads only, never from a scheduler.
        if kind == RpcKind::Append {
            mark(Stage::AppendSent);
        }
        let mut env = OwnedEnv::new();
        env.send_and_clear(&self.pid, |e| {
            let kind = rustler::Atom::from_str(e, kind.name())
                .map(|a| a.encode(e))
                .unwrap_or_else(|_| atoms::undefined().encode(e));
            (
                atoms::khepri_rpc(),
                encode_bytes(e, target.as_bytes()),
                id,
                kind,
                encode_bytes(e, &body),
            )
                .encode(e)
        })
        .is_ok()
    }
}

fn kind_of(kind: Term) -> NifResult<RpcKind> {
    RpcKind::from_name(&kind.atom_to_string()?).ok_or(rustler::Error::BadArg)
}

/// `rpc_in(Engine, Kind, Body, Tag) -> ok`: answers a call from another
/// member; later `{Tag, {ok, Body}}` or `{Tag, {error, Text}}` to the caller
/// (the store process, which sends it back to the calling member).
#[rustler::nif]
fn rpc_in<'a>(
    env: Env<'a>,
    engine: ResourceArc<Engine>,
    kind: Term<'a>,
    body: Binary<'a>,
    tag: Term<'a>,
) -> NifResult<Term<'a>> {
    let kind = kind_of(kind)?;
    let reply = ReplyTo::new(env, tag);
    if kind == RpcKind::Forward {
        // Submitted here, in the order the store process received them, so
        // a follower's writes apply in the order they were issued.
        engine.store.accept_forward(body.as_slice(), move |answer| {
            // May run on this scheduler thread (a stopping store), where
            // no message may be sent from a process-independent env.
            runtime().spawn(async move { send_answer(reply, answer) });
        });
        return Ok(atoms::ok().encode(env));
    }
    let body = body.as_slice().to_vec();
    let store = engine.store.clone();
    let append = kind == RpcKind::Append;
    let mark_append = move |stage| {
        if append {
            mark(stage)
        }
    };
    mark_append(Stage::AppendIn);
    runtime().spawn(async move {
        mark_append(Stage::AppendRuns);
        let answer = store.handle_rpc(kind, &body).await;
        mark_append(Stage::AppendDone);
        send_answer(reply, answer);
        mark_append(Stage::AppendOut);
    });
    Ok(atoms::ok().encode(env))
}

fn send_answer(reply: ReplyTo, answer: Answer) {
    reply.send(move |e| match answer {
        Ok(bytes) => (atoms::ok(), encode_bytes(e, &bytes)).encode(e),
        Err(text) => (atoms::error(), encode_bytes(e, text.as_bytes())).encode(e),
    });
}

/// `rpc_reply(Engine, Id, {ok, Body} | {error, Text}) -> ok`: the answer to
/// call `Id` this member made.
#[rustler::nif]
fn rpc_reply<'a>(
    engine: ResourceArc<Engine>,
    id: u64,
    answer: Term<'a>,
) -> NifResult<rustler::Atom> {
    mark(Stage::AnswerIn);
    let (status, body): (rustler::Atom, Binary) = answer.decode()?;
    let answer = if status == atoms::ok() {
        Ok(body.as_slice().to_vec())
    } else {
        Err(String::from_utf8_lossy(body.as_slice()).into_owned())
    };
    engine.store.complete_call(id, answer);
    Ok(atoms::ok())
}

/// `members(Engine) -> [NodeName :: binary()]`: every member in this
/// member's view, sorted.
#[rustler::nif]
fn members<'a>(env: Env<'a>, engine: ResourceArc<Engine>) -> Term<'a> {
    engine
        .store
        .member_names()
        .iter()
        .map(|n| encode_bytes(env, n.as_bytes()))
        .collect::<Vec<Term>>()
        .encode(env)
}

/// `leader(Engine) -> NodeName :: binary() | undefined`: the leader this
/// member knows.
#[rustler::nif]
fn leader<'a>(env: Env<'a>, engine: ResourceArc<Engine>) -> Term<'a> {
    match engine.store.leader_name() {
        Some(n) => encode_bytes(env, n.as_bytes()),
        None => atoms::undefined().encode(env),
    }
}

/// `wait_for_leader(Engine, Tag, Except, TimeoutMs) -> ok`; later
/// `{Tag, ok}` once a leader other than node `Except` (a binary, or
/// `undefined` for any) is known, or `{Tag, {error, timeout}}`.
#[rustler::nif]
fn wait_for_leader<'a>(
    env: Env<'a>,
    engine: ResourceArc<Engine>,
    tag: Term<'a>,
    except: Term<'a>,
    timeout_ms: u64,
) -> Term<'a> {
    let except: Option<String> = except.decode().ok();
    let store = engine.store.clone();
    answer_when(env, tag, async move {
        store
            .wait_for_leader(except.as_deref(), Duration::from_millis(timeout_ms))
            .await
    })
}

/// `change_member(Engine, Tag, add | remove, NodeName, TimeoutMs) -> ok`;
/// later `{Tag, ok | {error, {not_leader, Leader | undefined}} |
/// {error, timeout} | {error, {refused, Text}}}`. Runs on the leader.
#[rustler::nif]
fn change_member<'a>(
    env: Env<'a>,
    engine: ResourceArc<Engine>,
    tag: Term<'a>,
    change: Term<'a>,
    node_name: String,
    timeout_ms: u64,
) -> NifResult<Term<'a>> {
    let add = match change.atom_to_string()?.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Err(rustler::Error::BadArg),
    };
    let reply = ReplyTo::new(env, tag);
    let store = engine.store.clone();
    runtime().spawn(async move {
        let timeout = Duration::from_millis(timeout_ms);
        let outcome = if add {
            store.add_member(&node_name, timeout).await
        } else {
            store.remove_member(&node_name, timeout).await
        };
        reply.send(move |e| match outcome {
            Ok(()) => atoms::ok().encode(e),
            Err(MembershipError::NotLeader(leader)) => {
                let leader = match leader {
                    Some(n) => encode_bytes(e, n.as_bytes()),
                    None => atoms::undefined().encode(e),
                };
                (atoms::error(), (atoms::not_leader(), leader)).encode(e)
            }
            Err(MembershipError::Timeout) => (atoms::error(), atoms::timeout()).encode(e),
            Err(MembershipError::Refused(text)) => (
                atoms::error(),
                (atoms::refused(), encode_bytes(e, text.as_bytes())),
            )
                .encode(e),
        });
    });
    Ok(atoms::ok().encode(env))
}
