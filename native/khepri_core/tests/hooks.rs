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
