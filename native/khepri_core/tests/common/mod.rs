//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use khepri_core::condition::DataMatch;
use khepri_core::{
    Bytes, Command, Component, Condition, DataMatcher, NodeId, Payload, PropsWanted, Reply, Tree,
    WriteOpts,
};

/// Data conditions are not exercised here: they never hold.
pub struct NoData;

impl DataMatcher for NoData {
    fn matches(&self, _spec: &DataMatch, _data: &[u8]) -> bool {
        false
    }
}

/// Every property, for asserting on results.
pub const ALL: PropsWanted = PropsWanted {
    payload: true,
    payload_version: true,
    child_list_version: true,
    child_list_length: true,
    child_names: false,
    has_payload: false,
    raw_payload: false,
    delete_reason: true,
};

pub fn p(names: &[&str]) -> Vec<NodeId> {
    names.iter().map(|n| NodeId::atom(n)).collect()
}

pub fn pat(names: &[&str]) -> Vec<Component> {
    names
        .iter()
        .map(|n| Component::Name(NodeId::atom(n)))
        .collect()
}

pub fn data(s: &str) -> Payload {
    Payload::Data(Bytes::from(s.as_bytes()))
}

pub fn opts() -> WriteOpts {
    WriteOpts {
        report: true,
        wanted: ALL,
        ..WriteOpts::default()
    }
}

pub fn run(t: &mut Tree, c: Command) -> Reply {
    c.apply(t, &NoData, 1).reply
}

pub fn put(t: &mut Tree, pattern: Vec<Component>, payload: Payload) -> Reply {
    run(
        t,
        Command::Put {
            pattern,
            payload,
            opts: opts(),
        },
    )
}

pub fn delete(t: &mut Tree, pattern: Vec<Component>) -> Reply {
    run(
        t,
        Command::Delete {
            pattern,
            opts: opts(),
        },
    )
}

/// `#if_all{conditions = [Name | Conds]}` as the last component.
pub fn with_conds(names: &[&str], conds: Vec<Condition>) -> Vec<Component> {
    let mut pattern = pat(names);
    let Some(Component::Name(last)) = pattern.pop() else {
        panic!("empty")
    };
    let mut all = vec![Condition::Name(last)];
    all.extend(conds);
    pattern.push(Component::Cond(Condition::All(all)));
    pattern
}
