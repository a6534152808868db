//! keep_while rules and cascades (SPEC.md 4.3), including the worked
//! examples E5 and E6, and the cost of a large cascade.

mod common;
use common::*;
use khepri_core::condition::{CmpOp, Comparison};
use khepri_core::{
    Command, Component, Condition, DeleteReason, KeepWhileReason, KhepriError, NodeId, Payload,
    Tree, WriteOpts,
};
use std::time::Instant;

fn put_kw(
    t: &mut Tree,
    pattern: Vec<Component>,
    payload: Payload,
    kw: Vec<(Vec<Component>, Condition)>,
) -> khepri_core::Reply {
    run(
        t,
        Command::Put {
            pattern,
            payload,
            opts: WriteOpts {
                keep_while: Some(kw),
                ..opts()
            },
        },
    )
}

fn bin(s: &str) -> Component {
    Component::Name(NodeId::binary(s.as_bytes()))
}

#[test]
fn a_binding_lives_while_its_queue_exists() {
    let mut t = Tree::new();
    put(
        &mut t,
        vec![Component::Name(NodeId::atom("q")), bin("q1")],
        data("q1"),
    )
    .unwrap();
    let binding = vec![
        Component::Name(NodeId::atom("x")),
        bin("x1"),
        Component::Name(NodeId::atom("bindings")),
        bin("q1"),
    ];
    let queue = vec![Component::Name(NodeId::atom("q")), bin("q1")];
    put_kw(
        &mut t,
        binding,
        data("b1"),
        vec![(queue.clone(), Condition::NodeExists(true))],
    )
    .unwrap();
    let c = delete(&mut t, queue).unwrap();
    let mut paths: Vec<_> = c.iter().map(|(p, _)| p.clone()).collect();
    paths.sort();
    assert_eq!(paths.len(), 6, "{paths:?}");
    let reason = |len: usize, last: &str| {
        c.iter()
            .find(|(p, _)| p.len() == len && p.last() == Some(&NodeId::binary(last.as_bytes())))
            .map(|(_, pr)| pr.delete_reason)
    };
    assert_eq!(reason(2, "q1"), Some(Some(DeleteReason::Explicit)));
    assert_eq!(reason(4, "q1"), Some(Some(DeleteReason::KeepWhile)));
    assert_eq!(t.node_count(), 1, "everything went");
}

#[test]
fn keep_while_is_validated_at_write_time() {
    let mut t = Tree::new();
    let target = vec![Component::Name(NodeId::atom("x")), bin("x2")];
    let missing = vec![Component::Name(NodeId::atom("q")), bin("nope")];
    let e = put_kw(
        &mut t,
        target,
        data("v"),
        vec![(missing.clone(), Condition::NodeExists(true))],
    )
    .unwrap_err();
    assert_eq!(
        e,
        KhepriError::KeepWhileConditionsNotMet {
            node_name: NodeId::binary(b"x2"),
            node_path: vec![NodeId::atom("x"), NodeId::binary(b"x2")],
            keep_while_reason: Box::new(KeepWhileReason::PatternMatchesNoNodes(missing)),
        }
    );
    assert_eq!(t.node_count(), 1, "nothing written");
}

#[test]
fn a_node_kept_while_it_has_children_is_not_removed_by_the_command_creating_it() {
    let mut t = Tree::new();
    let gt0 = Condition::ChildListLength(Comparison {
        op: CmpOp::Gt,
        value: 0,
        bare: false,
    });
    put_kw(
        &mut t,
        pat(&["d2"]),
        Payload::None,
        vec![(pat(&["d2"]), gt0)],
    )
    .unwrap();
    assert!(t.get(&p(&["d2"])).is_some());
    put(&mut t, pat(&["d2", "c"]), data("1")).unwrap();
    delete(&mut t, pat(&["d2", "c"])).unwrap();
    assert!(t.get(&p(&["d2"])).is_none());
    assert!(t.watchers.is_empty(), "the index forgets deleted watchers");
}

#[test]
fn indirect_deletes_can_be_left_out_of_results() {
    let mut t = Tree::new();
    put(&mut t, pat(&["q"]), data("q")).unwrap();
    put_kw(
        &mut t,
        pat(&["b"]),
        data("b"),
        vec![(pat(&["q"]), Condition::NodeExists(true))],
    )
    .unwrap();
    let c = run(
        &mut t,
        Command::Delete {
            pattern: pat(&["q"]),
            opts: WriteOpts {
                return_indirect_deletes: false,
                ..opts()
            },
        },
    )
    .unwrap();
    assert_eq!(c.len(), 1);
    assert!(t.get(&p(&["b"])).is_none(), "deleted all the same");
}

#[test]
fn deleting_a_node_that_100k_nodes_keep_while_on_is_linear() {
    let mut t = Tree::new();
    put(
        &mut t,
        vec![Component::Name(NodeId::atom("q")), bin("q1")],
        data("q"),
    )
    .unwrap();
    let queue = vec![Component::Name(NodeId::atom("q")), bin("q1")];
    for i in 0..100_000u32 {
        let b = vec![
            Component::Name(NodeId::atom("x")),
            Component::Name(NodeId::atom("bindings")),
            bin(&i.to_string()),
        ];
        let c = Command::Put {
            pattern: b,
            payload: data("b"),
            opts: WriteOpts {
                keep_while: Some(vec![(queue.clone(), Condition::NodeExists(true))]),
                ..Default::default()
            },
        };
        run(&mut t, c).unwrap();
    }
    let start = Instant::now();
    run(
        &mut t,
        Command::Delete {
            pattern: queue,
            opts: Default::default(),
        },
    )
    .unwrap();
    let took = start.elapsed();
    assert_eq!(t.node_count(), 1);
    eprintln!("cascade of 100,000 keep_while deletes: {took:?}");
    assert!(took.as_secs_f64() < 2.0, "{took:?}");
}
