//! Projections and triggers in the engine: firings recorded in the
//! replicated state in SPEC 4.6 order and removed when acknowledged,
//! projection effects per changed node, registration refusals, the diff of
//! a snapshot install, and hooks surviving a tree image.

mod common;

use common::{data, p, pat, NoData};
use khepri_core::condition::{Condition, NameRegex};
use khepri_core::hooks::{self, actions, Effect, ProjectionDef, ProjectionKind, TriggerDef};
use khepri_core::{Bytes, Change, Command, Component, KhepriError, Pattern, Tree, WriteOpts};

fn star(names: &[&str]) -> Pattern {
    let mut pattern = pat(names);
    pattern.push(Component::Cond(Condition::NameMatches(NameRegex::Any)));
    pattern
}

fn apply(t: &mut Tree, c: Command, index: u64) -> (khepri_core::Reply, Vec<Effect>) {
    let mut effects = Vec::new();
    let reply = hooks::apply(&c, t, &NoData, index, Some(&mut effects));
    (reply, effects)
}

/// Applies a command that must succeed; its effects.
fn run(t: &mut Tree, c: Command, index: u64) -> Vec<Effect> {
    let (reply, effects) = apply(t, c, index);
    assert!(reply.is_ok(), "{reply:?}");
    effects
}

fn put(names: &[&str], value: &str) -> Command {
    Command::Put {
        pattern: pat(names),
        payload: data(value),
        opts: WriteOpts::default(),
    }
}

fn trigger(id: &str, pattern: Pattern, on: u8, priority: i64) -> Command {
    Command::RegisterTrigger {
        def: TriggerDef {
            id: id.into(),
            pattern,
            on,
            priority,
            sproc: p(&["sprocs", id]),
        },
    }
}

fn projection(name: &str, pattern: Pattern) -> Command {
    Command::RegisterProjection {
        def: ProjectionDef {
            name: name.into(),
            pattern,
            kind: ProjectionKind::Copy,
            spec: Bytes::from(&b"spec"[..]),
        },
    }
}

fn fired(effects: &[Effect]) -> Vec<(String, Vec<String>, Change)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Fire(f) => Some((
                f.trigger.clone(),
                f.path.iter().map(|n| format!("{n:?}")).collect(),
                f.change,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn firings_follow_priority_then_id_then_path_and_are_owed_until_acked() {
    let mut t = Tree::new();
    run(&mut t, put(&["w", "y"], "1"), 1);
    run(&mut t, put(&["w", "x"], "1"), 2);
    run(&mut t, trigger("b", star(&["w"]), actions::ALL, 0), 3);
    run(&mut t, trigger("a", star(&["w"]), actions::ALL, 0), 4);
    run(&mut t, trigger("z", star(&["w"]), actions::DELETE, 9), 5);
    run(&mut t, trigger("c", star(&["w"]), actions::CREATE, 20), 6);
    let delete = Command::Delete {
        pattern: star(&["w"]),
        opts: WriteOpts::default(),
    };
    let (reply, effects) = apply(&mut t, delete, 7);
    assert!(reply.is_ok(), "{reply:?}");
    let x = format!("{:?}", p(&["x"])[0]);
    let y = format!("{:?}", p(&["y"])[0]);
    let order: Vec<(String, String, Change)> = fired(&effects)
        .into_iter()
        .map(|(id, path, change)| (id, path[1].clone(), change))
        .collect();
    let del = Change::Delete(khepri_core::DeleteReason::Explicit);
    assert_eq!(
        order,
        vec![
            ("z".into(), x.clone(), del),
            ("z".into(), y.clone(), del),
            ("a".into(), x.clone(), del),
            ("a".into(), y.clone(), del),
            ("b".into(), x, del),
            ("b".into(), y, del),
        ]
    );
    // Owed, numbered in order: the same on any member applying the same log.
    let seqs: Vec<u64> = t.hooks.pending.keys().copied().collect();
    assert_eq!(seqs, (0..6).collect::<Vec<_>>());
    // A create fires the triggers that take creates, in priority order.
    let (_, effects) = apply(&mut t, put(&["w", "x"], "2"), 8);
    let ids: Vec<String> = fired(&effects).into_iter().map(|f| f.0).collect();
    assert_eq!(ids, ["c", "a", "b"]);
    run(
        &mut t,
        Command::AckTriggers {
            seqs: (0..8).collect(),
        },
        9,
    );
    assert_eq!(
        t.hooks.pending.keys().copied().collect::<Vec<_>>(),
        [8],
        "seq 8 was not acknowledged"
    );
    // A no-op write fires nothing.
    let (_, effects) = apply(&mut t, put(&["w", "x"], "2"), 10);
    assert!(effects.is_empty());
}

#[test]
fn projection_effects_carry_old_and_new_nodes() {
    let mut t = Tree::new();
    run(&mut t, put(&["c", "a"], "1"), 1);
    let (reply, effects) = apply(&mut t, projection("pc", star(&["c"])), 2);
    assert!(reply.is_ok());
    assert!(matches!(&effects[..], [Effect::Register(def, tree)]
        if def.name == "pc" && tree.get(&p(&["c", "a"])).is_some()));
    let (reply, _) = apply(&mut t, projection("pc", pat(&["other"])), 3);
    assert_eq!(
        reply,
        Err(KhepriError::ProjectionAlreadyExists { name: "pc".into() })
    );
    let (_, effects) = apply(&mut t, put(&["c", "a"], "2"), 4);
    match &effects[..] {
        [Effect::Project {
            path,
            old: Some(old),
            new: Some(new),
            projections,
        }] => {
            assert_eq!(path, &p(&["c", "a"]));
            assert_eq!((old.payload_version, new.payload_version), (1, 2));
            assert_eq!(projections.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    // Nodes outside the pattern are not projected.
    let (_, effects) = apply(&mut t, put(&["d", "a"], "1"), 5);
    assert!(effects.is_empty());
    let (_, effects) = apply(
        &mut t,
        Command::UnregisterProjections {
            names: Some(vec!["pc".into(), "unknown".into()]),
        },
        6,
    );
    assert!(matches!(&effects[..], [Effect::Unregister(n)] if n == &["pc".to_string()]));
    assert!(t.hooks.projections.is_empty());
}

#[test]
fn a_snapshot_install_updates_kept_projections_by_diff() {
    let mut old = Tree::new();
    run(&mut old, projection("kept", star(&["c"])), 1);
    run(&mut old, projection("gone", star(&["c"])), 2);
    run(&mut old, put(&["c", "same"], "1"), 3);
    run(&mut old, put(&["c", "changed"], "1"), 4);
    run(&mut old, put(&["c", "deleted"], "1"), 5);
    let mut new = old.clone();
    run(&mut new, put(&["c", "changed"], "2"), 6);
    run(
        &mut new,
        Command::Delete {
            pattern: pat(&["c", "deleted"]),
            opts: WriteOpts::default(),
        },
        7,
    );
    run(&mut new, put(&["c", "created"], "1"), 8);
    run(
        &mut new,
        Command::UnregisterProjections {
            names: Some(vec!["gone".into()]),
        },
        9,
    );
    run(&mut new, projection("added", star(&["c"])), 10);
    let effects = hooks::diff(&old, &new, &NoData);
    let mut changed = Vec::new();
    for e in &effects {
        match e {
            Effect::Unregister(names) => assert_eq!(names, &["gone".to_string()]),
            Effect::Register(def, _) => assert_eq!(def.name, "added"),
            Effect::Project {
                path, projections, ..
            } => {
                assert_eq!(projections.len(), 1);
                assert_eq!(projections[0].name, "kept");
                changed.push(path.clone());
            }
            Effect::Fire(_) => panic!("a snapshot install fires nothing"),
        }
    }
    changed.sort();
    let mut expected = vec![
        p(&["c", "changed"]),
        p(&["c", "created"]),
        p(&["c", "deleted"]),
    ];
    expected.sort();
    assert_eq!(changed, expected);
}

#[test]
fn registrations_and_owed_firings_survive_a_tree_image() {
    let mut t = Tree::new();
    run(&mut t, projection("pc", star(&["c"])), 1);
    run(&mut t, trigger("t", star(&["c"]), actions::ALL, 3), 2);
    run(&mut t, put(&["c", "a"], "1"), 3);
    let image = khepri_core::image::encode(&t).expect("image");
    let back = khepri_core::image::decode(&image).expect("decoded");
    assert_eq!(back.hooks, t.hooks);
    assert_eq!(back.hooks.pending.len(), 1);
}

/// One step of the projection property test.
#[derive(Clone, Debug)]
enum Step {
    /// Put `value` at `[c, names...]`.
    Put(Vec<&'static str>, u8),
    /// Put at `[k, name]`, kept while `[c, watched]` exists (or, when
    /// `false`, does not: a put there then deletes it).
    PutKept(&'static str, &'static str, bool),
    /// Delete `[c, names...]` or `[k, name]`.
    Delete(Vec<&'static str>),
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    let name = || prop::sample::select(vec!["a", "b", "c"]);
    prop_oneof![
        4 => (prop::collection::vec(name(), 1..3), any::<u8>())
            .prop_map(|(names, v)| Step::Put(names, v % 4)),
        2 => (name(), name(), any::<bool>()).prop_map(|(n, w, e)| Step::PutKept(n, w, e)),
        2 => (prop::bool::ANY, prop::collection::vec(name(), 1..3)).prop_map(|(k, mut names)| {
            if k {
                names.truncate(1);
                names.insert(0, "k");
            } else {
                names.insert(0, "c");
            }
            Step::Delete(names)
        }),
    ]
}

fn command(step: &Step) -> Command {
    match step {
        Step::Put(names, v) => {
            let mut path = vec!["c"];
            path.extend(names);
            put(&path, &v.to_string())
        }
        Step::PutKept(name, watched, exists) => Command::Put {
            pattern: pat(&["k", name]),
            payload: data("kept"),
            opts: WriteOpts {
                keep_while: Some(vec![(pat(&["c", watched]), Condition::NodeExists(*exists))]),
                ..WriteOpts::default()
            },
        },
        Step::Delete(names) => Command::Delete {
            pattern: pat(names),
            opts: WriteOpts::default(),
        },
    }
}

/// What a copy projection of every node with data under `[c, *]` and
/// `[k, *]` holds, recomputed from the tree.
fn recomputed(
    t: &Tree,
) -> std::collections::BTreeMap<Vec<khepri_core::NodeId>, khepri_core::Payload> {
    let mut out = std::collections::BTreeMap::new();
    for top in ["c", "k"] {
        if let Some(parent) = t.get(&p(&[top])) {
            for (name, node) in parent.children().iter() {
                let payload = node.payload();
                if matches!(payload, khepri_core::Payload::Data(_)) {
                    let mut path = p(&[top]);
                    path.push(name.clone());
                    out.insert(path, payload);
                }
            }
        }
    }
    out
}

proptest::proptest! {
    /// Projection effects, applied as the store process applies them to a
    /// copy projection, keep it equal to the projection recomputed from
    /// the tree, whichever way the engine works them out (a put that
    /// cannot cascade keeps only its target's old node; others keep the
    /// tree from before the command).
    #[test]
    fn projection_effects_keep_a_projection_in_step(steps in proptest::collection::vec(step(), 1..60)) {
        let mut t = Tree::new();
        run(&mut t, projection("pc", star(&["c"])), 1);
        run(&mut t, projection("pk", star(&["k"])), 2);
        let mut model = std::collections::BTreeMap::new();
        for (i, s) in steps.iter().enumerate() {
            let before = t.clone();
            let (_, effects) = apply(&mut t, command(s), 3 + i as u64);
            for effect in effects {
                if let Effect::Project { path, old, new, .. } = effect {
                    // the nodes as they were and are (extended projections get both)
                    proptest::prop_assert_eq!(&old, &before.get(&path).cloned(), "old {:?} after {:?}", path, s);
                    proptest::prop_assert_eq!(&new, &t.get(&path).cloned(), "new {:?} after {:?}", path, s);
                    let has_data = |n: &Option<khepri_core::Node>| {
                        n.as_ref().map(|n| n.payload()).filter(|p| matches!(p, khepri_core::Payload::Data(_)))
                    };
                    match (has_data(&old), has_data(&new)) {
                        (_, Some(payload)) => { model.insert(path, payload); }
                        (Some(_), None) => { model.remove(&path); }
                        (None, None) => {}
                    }
                }
            }
            proptest::prop_assert_eq!(&model, &recomputed(&t), "after {:?}", s);
        }
    }
}
