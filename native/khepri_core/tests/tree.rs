//! Tree semantics of SPEC.md sections 4.1, 4.2 and 4.4.

mod common;
use common::*;
use khepri_core::condition::{CmpOp, Comparison, NameRegex};
use khepri_core::{
    Command, Component, Condition, DeleteReason, KhepriError, NodeId, Payload, Tree,
};

#[test]
fn versions_start_at_one_and_no_op_writes_change_nothing() {
    let mut t = Tree::new();
    let c = put(&mut t, pat(&["fruit"]), data("apple")).unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].1.payload, Payload::None, "old payload of a new node");
    assert_eq!(c[0].1.payload_version, 1);
    let c = put(&mut t, pat(&["fruit"]), data("apple")).unwrap();
    assert_eq!(
        (c[0].1.payload.clone(), c[0].1.payload_version),
        (data("apple"), 1),
        "no-op: no bump"
    );
    let c = put(&mut t, pat(&["fruit"]), data("pear")).unwrap();
    assert_eq!(
        (c[0].1.payload.clone(), c[0].1.payload_version),
        (data("apple"), 2)
    );
    assert_eq!(t.root.child_list_version, 2, "one child added once");
}

#[test]
fn one_bump_per_node_per_operation() {
    let mut t = Tree::new();
    put(&mut t, pat(&["p", "seed"]), data("x")).unwrap();
    put(&mut t, pat(&["p", "a"]), data("x")).unwrap();
    put(&mut t, pat(&["p", "b"]), data("x")).unwrap();
    let before = t.get(&p(&["p"])).unwrap().child_list_version;
    let star = vec![
        Component::Name(NodeId::atom("p")),
        Component::Cond(Condition::NameMatches(NameRegex::Any)),
        Component::Name(NodeId::atom("leaf")),
    ];
    run(
        &mut t,
        Command::PutMany {
            pattern: star,
            payload: data("l"),
            opts: opts(),
        },
    )
    .unwrap();
    assert_eq!(
        t.get(&p(&["p"])).unwrap().child_list_version,
        before,
        "children modified, not added"
    );
    let c = run(
        &mut t,
        Command::Delete {
            pattern: vec![
                Component::Name(NodeId::atom("p")),
                Component::Cond(Condition::NameMatches(NameRegex::Any)),
            ],
            opts: opts(),
        },
    )
    .unwrap();
    assert_eq!(
        c.iter()
            .filter(|(_, pr)| pr.delete_reason == Some(DeleteReason::Explicit))
            .count(),
        6
    );
    let pn = t.get(&p(&["p"]));
    assert!(pn.is_none(), "auto-created [p] went with its last child");
}

#[test]
fn put_many_visits_existing_matches_and_creates_trailing_names() {
    let mut t = Tree::new();
    let any_of = |names: &[&str]| {
        Component::Cond(Condition::Any(
            names
                .iter()
                .map(|n| Condition::Name(NodeId::atom(n)))
                .collect(),
        ))
    };
    run(
        &mut t,
        Command::PutMany {
            pattern: vec![Component::Name(NodeId::atom("p")), any_of(&["c1", "c2"])],
            payload: data("x"),
            opts: opts(),
        },
    )
    .unwrap();
    assert_eq!(
        t.node_count(),
        1,
        "nothing created when c1, c2 do not exist"
    );
    put(&mut t, pat(&["p", "c1"]), data("1")).unwrap();
    run(
        &mut t,
        Command::PutMany {
            pattern: vec![Component::Name(NodeId::atom("p")), any_of(&["c1", "c2"])],
            payload: data("x"),
            opts: opts(),
        },
    )
    .unwrap();
    assert_eq!(t.get(&p(&["p", "c1"])).unwrap().payload(), data("x"));
    assert!(t.get(&p(&["p", "c2"])).is_none());
}

#[test]
fn create_update_and_compare_and_swap_errors() {
    let mut t = Tree::new();
    put(&mut t, pat(&["fruit"]), data("pear")).unwrap();
    // create on existing
    let e = put(
        &mut t,
        with_conds(&["fruit"], vec![Condition::NodeExists(false)]),
        data("kiwi"),
    )
    .unwrap_err();
    match e {
        KhepriError::MismatchingNode {
            node_path,
            node_is_target,
            node_props,
            condition,
            ..
        } => {
            assert_eq!(node_path, p(&["fruit"]));
            assert!(node_is_target);
            assert_eq!(node_props.payload, data("pear"));
            assert_eq!(*condition, Condition::NodeExists(false));
        }
        other => panic!("{other:?}"),
    }
    // update on missing
    let update = with_conds(&["veg"], vec![Condition::NodeExists(true)]);
    let e = put(&mut t, update.clone(), data("leek")).unwrap_err();
    let Component::Cond(whole) = update.last().unwrap().clone() else {
        panic!()
    };
    assert_eq!(
        e,
        KhepriError::NodeNotFound {
            node_name: NodeId::atom("veg"),
            node_path: p(&["veg"]),
            node_is_target: true,
            condition: Some(Box::new(whole))
        }
    );
    // create on missing works, update on existing works
    put(
        &mut t,
        with_conds(&["veg"], vec![Condition::NodeExists(false)]),
        data("leek"),
    )
    .unwrap();
    put(
        &mut t,
        with_conds(&["veg"], vec![Condition::NodeExists(true)]),
        data("kale"),
    )
    .unwrap();
    assert_eq!(t.get(&p(&["veg"])).unwrap().payload(), data("kale"));
    // version guard
    let guarded = with_conds(
        &["veg"],
        vec![Condition::PayloadVersion(Comparison {
            op: CmpOp::Eq,
            value: 2,
            bare: true,
        })],
    );
    put(&mut t, guarded.clone(), data("fig")).unwrap();
    assert!(matches!(
        put(&mut t, guarded, data("date")),
        Err(KhepriError::MismatchingNode { .. })
    ));
    assert_eq!(
        t.get(&p(&["veg"])).unwrap().payload(),
        data("fig"),
        "failed write changed nothing"
    );
}

#[test]
fn missing_nodes_are_reported_with_the_first_missing_component() {
    let mut t = Tree::new();
    put(&mut t, pat(&["a"]), data("x")).unwrap();
    assert_eq!(
        t.find(&p(&["a", "b", "c"])),
        Err(KhepriError::NodeNotFound {
            node_name: NodeId::atom("b"),
            node_path: p(&["a", "b"]),
            node_is_target: false,
            condition: None
        })
    );
}

#[test]
fn auto_created_ancestors_are_reclaimed_but_explicit_nodes_stay() {
    let mut t = Tree::new();
    put(&mut t, pat(&["a", "b", "c"]), data("1")).unwrap();
    let c = delete(&mut t, pat(&["a", "b", "c"])).unwrap();
    let reasons: Vec<_> = c
        .iter()
        .map(|(path, pr)| (path.len(), pr.delete_reason))
        .collect();
    assert!(reasons.contains(&(3, Some(DeleteReason::Explicit))));
    assert!(reasons.contains(&(2, Some(DeleteReason::KeepWhile))));
    assert!(reasons.contains(&(1, Some(DeleteReason::KeepWhile))));
    assert!(t.root.children().is_empty());

    put(&mut t, pat(&["dir"]), Payload::None).unwrap();
    put(&mut t, pat(&["dir", "f"]), data("1")).unwrap();
    delete(&mut t, pat(&["dir", "f"])).unwrap();
    assert!(
        t.get(&p(&["dir"])).is_some(),
        "explicit target is never reclaimed"
    );
}

#[test]
fn deleting_the_root_empties_the_tree_and_bumps_its_versions() {
    let mut t = Tree::new();
    put(&mut t, vec![], data("r")).unwrap();
    put(&mut t, pat(&["a"]), data("1")).unwrap();
    let (pv, cv) = (t.root.payload_version, t.root.child_list_version);
    delete(&mut t, vec![]).unwrap();
    assert_eq!(t.node_count(), 1);
    assert_eq!(
        (
            t.root.payload(),
            t.root.payload_version,
            t.root.child_list_version
        ),
        (Payload::None, pv + 1, cv + 1)
    );
}

#[test]
fn replaying_a_command_log_gives_byte_identical_snapshots() {
    let mut cmds = Vec::new();
    for i in 0..500u32 {
        let pattern = vec![
            Component::Name(NodeId::atom("k")),
            Component::Name(NodeId::binary(format!("{}", i % 37).as_bytes())),
        ];
        if i % 5 == 4 {
            cmds.push(Command::Delete {
                pattern,
                opts: Default::default(),
            });
        } else {
            cmds.push(Command::Put {
                pattern,
                payload: data(&i.to_string()),
                opts: Default::default(),
            });
        }
    }
    let run_all = || {
        let mut t = Tree::new();
        for c in &cmds {
            let decoded: Command = rmp_serde::from_slice(&rmp_serde::to_vec(c).unwrap()).unwrap();
            run(&mut t, decoded).unwrap();
        }
        khepri_core::image::encode(&t).unwrap()
    };
    assert_eq!(run_all(), run_all());
}
