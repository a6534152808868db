//! Property test: random puts and deletes against an obviously correct model
//! (a flat map from path to payload and "auto-created" flag).

mod common;
use khepri_core::{Bytes, Command, Component, NodeId, Payload, Tree, WriteOpts};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    Put(Vec<u8>, u8),
    Delete(Vec<u8>),
}

fn path_of(ids: &[u8]) -> Vec<NodeId> {
    ids.iter()
        .map(|i| {
            if i % 2 == 0 {
                NodeId::atom(&format!("a{i}"))
            } else {
                NodeId::binary(&[*i])
            }
        })
        .collect()
}

/// path -> (payload, auto_created)
type Model = BTreeMap<Vec<NodeId>, (Option<u8>, bool)>;

fn model_put(m: &mut Model, path: &[NodeId], v: u8) {
    for d in 1..path.len() {
        m.entry(path[..d].to_vec()).or_insert((None, true));
    }
    let e = m.entry(path.to_vec()).or_insert((None, false));
    e.0 = Some(v);
}

fn model_delete(m: &mut Model, path: &[NodeId]) {
    if path.is_empty() {
        m.clear();
        return;
    }
    if !m.contains_key(path) {
        return;
    }
    m.retain(|k, _| !k.starts_with(path));
    // reclaim auto-created ancestors that are left empty, deepest first
    for d in (1..path.len()).rev() {
        let anc = path[..d].to_vec();
        let has_child = m.keys().any(|k| k.len() > d && k.starts_with(&anc));
        match m.get(&anc) {
            Some((None, true)) if !has_child => {
                m.remove(&anc);
            }
            _ => break,
        }
    }
}

fn flatten(t: &Tree) -> Model {
    fn walk(n: &khepri_core::Node, path: &mut Vec<NodeId>, out: &mut Model) {
        for (name, child) in n.children.iter() {
            path.push(name.clone());
            let v = match &child.payload {
                Payload::Data(b) => Some(b.as_slice()[0]),
                _ => None,
            };
            out.insert(path.clone(), (v, child.auto_created));
            walk(child, path, out);
            path.pop();
        }
    }
    let mut out = Model::new();
    walk(&t.root, &mut Vec::new(), &mut out);
    out
}

fn op() -> impl Strategy<Value = Op> {
    let path = prop::collection::vec(0u8..4, 0..4);
    prop_oneof![
        (path.clone(), any::<u8>()).prop_map(|(p, v)| Op::Put(p, v)),
        path.prop_map(Op::Delete),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn tree_matches_model(ops in prop::collection::vec(op(), 1..60)) {
        let mut t = Tree::new();
        let mut m = Model::new();
        for o in ops {
            match o {
                Op::Put(p, v) => {
                    let path = path_of(&p);
                    if path.is_empty() { continue; }
                    let pattern = path.iter().cloned().map(Component::Name).collect();
                    common::run(&mut t, Command::Put { pattern, payload: Payload::Data(Bytes::from(vec![v])), opts: WriteOpts::default() }).unwrap();
                    model_put(&mut m, &path, v);
                }
                Op::Delete(p) => {
                    let path = path_of(&p);
                    let pattern = path.iter().cloned().map(Component::Name).collect();
                    common::run(&mut t, Command::Delete { pattern, opts: WriteOpts::default() }).unwrap();
                    model_delete(&mut m, &path);
                }
            }
            prop_assert_eq!(flatten(&t), m.clone());
        }
    }
}
