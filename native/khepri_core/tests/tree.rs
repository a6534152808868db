//! Tree semantics of SPEC.md section 4.1 and 4.4 on the primitive operations.

use khepri_core::{Bytes, Command, DeleteReason, KhepriError, NodeId, Payload, PropsWanted, Tree};

fn p(names: &[&str]) -> Vec<NodeId> {
    names.iter().map(|n| NodeId::atom(n)).collect()
}

fn data(s: &str) -> Payload {
    Payload::Data(Bytes::from(s.as_bytes()))
}

const ALL: PropsWanted = PropsWanted {
    payload: true,
    payload_version: true,
    child_list_version: true,
    child_list_length: true,
    child_names: false,
    has_payload: false,
    raw_payload: false,
    delete_reason: true,
};

#[test]
fn versions_start_at_one_and_no_op_writes_change_nothing() {
    let mut t = Tree::new();
    let c = t.put(&p(&["fruit"]), data("apple"), ALL);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].1.payload, Payload::None, "old payload of a new node");
    assert_eq!(c[0].1.payload_version, 1);
    let c = t.put(&p(&["fruit"]), data("apple"), ALL);
    assert_eq!(c[0].1.payload, data("apple"));
    assert_eq!(c[0].1.payload_version, 1, "same payload: no bump");
    let c = t.put(&p(&["fruit"]), data("pear"), ALL);
    assert_eq!(c[0].1.payload, data("apple"), "old payload reported");
    assert_eq!(c[0].1.payload_version, 2);
    assert_eq!(t.root.child_list_version, 2, "one child added once");
}

#[test]
fn missing_nodes_are_reported_with_the_first_missing_component() {
    let mut t = Tree::new();
    t.put(&p(&["a"]), data("x"), PropsWanted::NONE);
    assert_eq!(
        t.find(&p(&["a", "b", "c"])),
        Err(KhepriError::NodeNotFound {
            node_name: NodeId::atom("b"),
            node_path: p(&["a", "b"]),
            node_is_target: false
        })
    );
    assert_eq!(
        t.find(&p(&["b"])),
        Err(KhepriError::NodeNotFound {
            node_name: NodeId::atom("b"),
            node_path: p(&["b"]),
            node_is_target: true
        })
    );
}

#[test]
fn auto_created_ancestors_are_reclaimed_but_explicit_nodes_stay() {
    let mut t = Tree::new();
    t.put(&p(&["a", "b", "c"]), data("1"), ALL);
    let c = t.delete(&p(&["a", "b", "c"]), ALL);
    let reasons: Vec<_> = c
        .iter()
        .map(|(path, pr)| (path.len(), pr.delete_reason))
        .collect();
    assert!(reasons.contains(&(3, Some(DeleteReason::Explicit))));
    assert!(reasons.contains(&(2, Some(DeleteReason::KeepWhile))));
    assert!(reasons.contains(&(1, Some(DeleteReason::KeepWhile))));
    assert!(t.root.children.is_empty());

    t.put(&p(&["dir"]), Payload::None, ALL);
    t.put(&p(&["dir", "f"]), data("1"), ALL);
    t.delete(&p(&["dir", "f"]), ALL);
    assert!(
        t.find(&p(&["dir"])).is_ok(),
        "explicit target is never reclaimed"
    );
}

#[test]
fn clearing_the_payload_of_an_auto_created_leaf_reclaims_it() {
    let mut t = Tree::new();
    t.put(&p(&["a", "b"]), data("1"), ALL);
    t.put(&p(&["a"]), data("2"), ALL);
    t.delete(&p(&["a", "b"]), ALL);
    assert!(t.find(&p(&["a"])).is_ok(), "has a payload");
    let c = t.put(&p(&["a"]), Payload::None, ALL);
    assert!(t.find(&p(&["a"])).is_err());
    assert!(c
        .iter()
        .any(|(_, pr)| pr.delete_reason == Some(DeleteReason::KeepWhile)));
}

#[test]
fn deleting_a_subtree_lists_every_removed_node_and_missing_is_a_no_op() {
    let mut t = Tree::new();
    t.put(&p(&["x", "y1"]), data("1"), ALL);
    t.put(&p(&["x", "y2", "z"]), data("2"), ALL);
    t.put(&p(&["x"]), data("0"), ALL);
    let c = t.delete(&p(&["x"]), ALL);
    assert_eq!(c.len(), 4);
    assert!(c
        .iter()
        .all(|(_, pr)| pr.delete_reason == Some(DeleteReason::Explicit)));
    assert!(t.delete(&p(&["x"]), ALL).is_empty());
    assert!(t.delete(&p(&["nope", "deeper"]), ALL).is_empty());
}

#[test]
fn deleting_the_root_empties_the_tree_and_bumps_its_versions() {
    let mut t = Tree::new();
    t.put(&[], data("r"), ALL);
    t.put(&p(&["a"]), data("1"), ALL);
    let (pv, cv) = (t.root.payload_version, t.root.child_list_version);
    t.delete(&[], ALL);
    assert_eq!(t.node_count(), 1);
    assert_eq!(t.root.payload, Payload::None);
    assert_eq!(t.root.payload_version, pv + 1);
    assert_eq!(t.root.child_list_version, cv + 1);
}

#[test]
fn replaying_a_command_log_gives_byte_identical_snapshots() {
    let mut cmds = Vec::new();
    for i in 0..500u32 {
        let path = vec![
            NodeId::atom("k"),
            NodeId::binary(format!("{}", i % 37).as_bytes()),
        ];
        if i % 5 == 4 {
            cmds.push(Command::Delete {
                path,
                wanted: PropsWanted::NONE,
            });
        } else {
            cmds.push(Command::Put {
                path,
                payload: data(&i.to_string()),
                wanted: PropsWanted::NONE,
            });
        }
    }
    let run = || {
        let mut t = Tree::new();
        for c in &cmds {
            let encoded = rmp_serde::to_vec(c).unwrap();
            let decoded: Command = rmp_serde::from_slice(&encoded).unwrap();
            decoded.apply(&mut t).unwrap();
        }
        rmp_serde::to_vec(&t).unwrap()
    };
    assert_eq!(run(), run());
}
