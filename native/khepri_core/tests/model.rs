//! Property test: random sequences of put, create, update, compare-and-swap
//! (version-guarded), delete, put_many and delete_many, with keep_while,
//! against an obviously correct model: a flat map from path to node, where
//! every rule is re-derived naively (cascades run to a fixpoint).

mod common;
use common::NoData;
use khepri_core::condition::{CmpOp, Comparison, NameRegex};
use khepri_core::{
    Bytes, Command, Component, Condition, KhepriError, NodeId, Payload, Tree, WriteOpts,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

type P = Vec<NodeId>;

#[derive(Clone, Debug, PartialEq)]
struct MNode {
    data: Option<u8>,
    pv: u32,
    clv: u32,
    auto: bool,
    /// keep_while: exact paths that must exist
    kw: Option<Vec<P>>,
}

#[derive(Default, Clone, Debug)]
struct Model {
    nodes: BTreeMap<P, MNode>,
    root_clv: u32,
    /// Paths created, updated or removed by the current operation: a watcher
    /// is re-evaluated only when one of them lies under one of its keys.
    changed: Vec<P>,
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        self.nodes == other.nodes && self.root_clv == other.root_clv
    }
}

#[derive(Clone, Debug)]
enum Op {
    Put(Vec<u8>, u8, Option<Vec<u8>>),
    Create(Vec<u8>, u8),
    Update(Vec<u8>, u8),
    Cas(Vec<u8>, u32, u8),
    Delete(Vec<u8>),
    PutMany(u8, u8),
    DeleteMany(u8),
}

fn name(i: u8) -> NodeId {
    if i.is_multiple_of(2) {
        NodeId::atom(&format!("a{i}"))
    } else {
        NodeId::binary(&[b'b', i])
    }
}

fn path(ids: &[u8]) -> P {
    ids.iter().map(|i| name(*i)).collect()
}

fn names(p: &P) -> Vec<Component> {
    p.iter().cloned().map(Component::Name).collect()
}

fn last_with(p: &P, cond: Condition) -> Vec<Component> {
    let mut c = names(p);
    let last = p.last().unwrap().clone();
    c.pop();
    c.push(Component::Cond(Condition::All(vec![
        Condition::Name(last),
        cond,
    ])));
    c
}

impl Model {
    fn exists(&self, p: &P) -> bool {
        p.is_empty() || self.nodes.contains_key(p)
    }

    fn has_children(&self, p: &P) -> bool {
        self.nodes
            .keys()
            .any(|k| k.len() == p.len() + 1 && k.starts_with(p))
    }

    fn bump(&mut self, parent: &[NodeId], bumped: &mut BTreeSet<P>) {
        if bumped.insert(parent.to_vec()) {
            if parent.is_empty() {
                self.root_clv += 1;
            } else if let Some(n) = self.nodes.get_mut(parent) {
                n.clv += 1;
            }
        }
    }

    fn put(
        &mut self,
        p: &P,
        v: u8,
        kw: Option<Vec<P>>,
        bumped: &mut BTreeSet<P>,
        fresh: &mut BTreeSet<P>,
    ) {
        for d in 1..=p.len() {
            let at = p[..d].to_vec();
            if !self.nodes.contains_key(&at) {
                self.bump(&p[..d - 1], bumped);
                let target = d == p.len();
                self.nodes.insert(
                    at.clone(),
                    MNode {
                        data: if target { Some(v) } else { None },
                        pv: 1,
                        clv: 1,
                        auto: !target,
                        kw: None,
                    },
                );
                self.changed.push(at.clone());
                bumped.insert(at.clone());
                fresh.insert(at);
            } else if d == p.len() {
                let n = self.nodes.get_mut(&at).unwrap();
                if n.data != Some(v) {
                    n.data = Some(v);
                    n.pv += 1;
                    self.changed.push(at.clone());
                }
            }
        }
        if let Some(kw) = kw {
            let n = self.nodes.get_mut(p).unwrap();
            n.auto = false;
            n.kw = if kw.is_empty() { None } else { Some(kw) };
            fresh.insert(p.clone());
        }
    }

    fn remove(&mut self, p: &P, bumped: &mut BTreeSet<P>) {
        if self.nodes.contains_key(p) {
            let gone: Vec<P> = self
                .nodes
                .keys()
                .filter(|k| k.starts_with(p))
                .cloned()
                .collect();
            self.changed.extend(gone);
            self.nodes.retain(|k, _| !k.starts_with(p));
            self.bump(&p[..p.len() - 1], bumped);
        }
    }

    /// Reclaims empty auto-created nodes and watchers whose keep_while fails,
    /// until nothing changes.
    fn settle(&mut self, bumped: &mut BTreeSet<P>, fresh: &BTreeSet<P>) {
        loop {
            let victim = self.nodes.iter().find_map(|(k, n)| {
                let empty_auto = n.auto && n.data.is_none() && !self.has_children(k);
                let touched = |w: &P| self.changed.iter().any(|c| c.starts_with(w));
                let kw_fails = !fresh.contains(k)
                    && n.kw.as_ref().is_some_and(|kw| {
                        kw.iter().any(touched) && kw.iter().any(|w| !self.exists(w))
                    });
                (empty_auto || kw_fails).then(|| k.clone())
            });
            match victim {
                Some(k) => self.remove(&k, bumped),
                None => return,
            }
        }
    }

    fn keep_while_ok(&self, p: &P, kw: &Option<Vec<P>>) -> bool {
        kw.iter()
            .flatten()
            .filter(|w| !w.starts_with(p))
            .all(|w| self.exists(w))
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    NotFound,
    Mismatch,
    KeepWhile,
}

fn outcome(r: khepri_core::Reply) -> Outcome {
    match r {
        Ok(_) => Outcome::Ok,
        Err(KhepriError::NodeNotFound { .. }) => Outcome::NotFound,
        Err(KhepriError::MismatchingNode { .. }) => Outcome::Mismatch,
        Err(KhepriError::KeepWhileConditionsNotMet { .. }) => Outcome::KeepWhile,
        Err(e @ (KhepriError::Conflict | KhepriError::ProjectionAlreadyExists { .. })) => {
            panic!("not an outcome of a plain write: {e:?}")
        }
    }
}

fn model_apply(m: &mut Model, op: &Op) -> Outcome {
    m.changed.clear();
    let mut bumped = BTreeSet::new();
    let mut fresh = BTreeSet::new();
    let out = match op {
        Op::Put(p, v, kw) => {
            let p = path(p);
            let kw = kw.as_ref().map(|w| vec![path(w)]);
            if !m.keep_while_ok(&p, &kw) {
                return Outcome::KeepWhile;
            }
            m.put(&p, *v, kw, &mut bumped, &mut fresh);
            Outcome::Ok
        }
        Op::Create(p, v) => {
            let p = path(p);
            if m.exists(&p) {
                return Outcome::Mismatch;
            }
            m.put(&p, *v, None, &mut bumped, &mut fresh);
            Outcome::Ok
        }
        Op::Update(p, v) => {
            let p = path(p);
            if !m.exists(&p) {
                return Outcome::NotFound;
            }
            m.put(&p, *v, None, &mut bumped, &mut fresh);
            Outcome::Ok
        }
        Op::Cas(p, version, v) => {
            let p = path(p);
            match m.nodes.get(&p) {
                None => return Outcome::NotFound,
                Some(n) if n.pv != *version => return Outcome::Mismatch,
                Some(_) => m.put(&p, *v, None, &mut bumped, &mut fresh),
            }
            Outcome::Ok
        }
        Op::Delete(p) => {
            m.remove(&path(p), &mut bumped);
            Outcome::Ok
        }
        Op::PutMany(parent, v) => {
            let parent = vec![name(*parent)];
            let targets: Vec<P> = m
                .nodes
                .keys()
                .filter(|k| k.len() == 2 && k.starts_with(&parent))
                .map(|k| {
                    let mut t = k.clone();
                    t.push(name(9));
                    t
                })
                .collect();
            for t in targets {
                m.put(&t, *v, None, &mut bumped, &mut fresh);
            }
            Outcome::Ok
        }
        Op::DeleteMany(parent) => {
            let parent = vec![name(*parent)];
            let targets: Vec<P> = m
                .nodes
                .keys()
                .filter(|k| k.len() == 2 && k.starts_with(&parent))
                .cloned()
                .collect();
            for t in targets {
                m.remove(&t, &mut bumped);
            }
            Outcome::Ok
        }
    };
    m.settle(&mut bumped, &fresh);
    out
}

fn engine_apply(t: &mut Tree, op: &Op) -> Outcome {
    let data = |v: u8| Payload::Data(Bytes::from(vec![v]));
    let opts = WriteOpts::default();
    let star = |parent: u8| {
        vec![
            Component::Name(name(parent)),
            Component::Cond(Condition::NameMatches(NameRegex::Any)),
        ]
    };
    let cmd = match op {
        Op::Put(p, v, kw) => Command::Put {
            pattern: names(&path(p)),
            payload: data(*v),
            opts: WriteOpts {
                keep_while: kw
                    .as_ref()
                    .map(|w| vec![(names(&path(w)), Condition::NodeExists(true))]),
                ..opts
            },
        },
        Op::Create(p, v) => Command::Put {
            pattern: last_with(&path(p), Condition::NodeExists(false)),
            payload: data(*v),
            opts,
        },
        Op::Update(p, v) => Command::Put {
            pattern: last_with(&path(p), Condition::NodeExists(true)),
            payload: data(*v),
            opts,
        },
        Op::Cas(p, version, v) => Command::Put {
            pattern: last_with(
                &path(p),
                Condition::PayloadVersion(Comparison {
                    op: CmpOp::Eq,
                    value: i64::from(*version),
                    bare: true,
                }),
            ),
            payload: data(*v),
            opts,
        },
        Op::Delete(p) => Command::Delete {
            pattern: names(&path(p)),
            opts,
        },
        Op::PutMany(parent, v) => {
            let mut pattern = star(*parent);
            pattern.push(Component::Name(name(9)));
            Command::PutMany {
                pattern,
                payload: data(*v),
                opts,
            }
        }
        Op::DeleteMany(parent) => Command::Delete {
            pattern: star(*parent),
            opts,
        },
    };
    outcome(cmd.apply(t, &NoData, 1).reply)
}

fn flatten(t: &Tree) -> Model {
    fn walk(n: &khepri_core::Node, p: &mut P, out: &mut BTreeMap<P, MNode>) {
        for (name, child) in n.children().iter() {
            p.push(name.clone());
            let data = match &child.payload() {
                Payload::Data(b) => Some(b.as_slice()[0]),
                _ => None,
            };
            let kw = child.keep_while().map(|kw| {
                kw.iter()
                    .map(|(k, _)| {
                        k.iter()
                            .map(|c| c.specific_name().unwrap().clone())
                            .collect()
                    })
                    .collect()
            });
            out.insert(
                p.clone(),
                MNode {
                    data,
                    pv: child.payload_version,
                    clv: child.child_list_version,
                    auto: child.auto_created(),
                    kw,
                },
            );
            walk(child, p, out);
            p.pop();
        }
    }
    let mut nodes = BTreeMap::new();
    walk(&t.root, &mut Vec::new(), &mut nodes);
    Model {
        nodes,
        root_clv: t.root.child_list_version,
        changed: Vec::new(),
    }
}

fn short_path() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u8..3, 1..4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (short_path(), 0u8..4, prop::option::weighted(0.2, short_path())).prop_map(|(p, v, kw)| Op::Put(p, v, kw)),
        1 => (short_path(), 0u8..4).prop_map(|(p, v)| Op::Create(p, v)),
        1 => (short_path(), 0u8..4).prop_map(|(p, v)| Op::Update(p, v)),
        1 => (short_path(), 1u32..4, 0u8..4).prop_map(|(p, ver, v)| Op::Cas(p, ver, v)),
        2 => short_path().prop_map(Op::Delete),
        1 => (0u8..3, 0u8..4).prop_map(|(p, v)| Op::PutMany(p, v)),
        1 => (0u8..3).prop_map(Op::DeleteMany),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn engine_matches_model(ops in prop::collection::vec(op(), 1..40)) {
        let mut t = Tree::new();
        let mut m = Model { root_clv: 1, ..Model::default() };
        for o in &ops {
            let want = model_apply(&mut m, o);
            let got = engine_apply(&mut t, o);
            prop_assert_eq!(got, want, "outcome of {:?}", o);
            prop_assert_eq!(flatten(&t), m.clone(), "tree after {:?}", o);
        }
    }
}
