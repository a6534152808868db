//! Transactions replayed by the state machine: a run's steps commit on the
//! state they observed and conflict, leaving the tree untouched, on any other.

mod common;

use common::*;
use khepri_core::observe::observe;
use khepri_core::transaction::reply_digest;
use khepri_core::{Command, Component, Condition, KhepriError, Tree, TxStep, PENDING};

fn put_cmd(names: &[&str], value: &str) -> Command {
    Command::Put {
        pattern: pat(names),
        payload: data(value),
        opts: opts(),
    }
}

/// Records a transaction the way the NIF does: on a copy of `base`, a read
/// of `read`, then a put of `write`.
fn record(base: &Tree, read: Vec<Component>, write: Command) -> Vec<TxStep> {
    let mut overlay = base.clone();
    let digest = observe(&overlay, &read, false, &NoData, PENDING);
    let mut steps = vec![TxStep::Read {
        pattern: read,
        include_root: false,
        digest,
    }];
    let applied = write.apply(&mut overlay, &NoData, PENDING);
    steps.push(TxStep::Write {
        digest: reply_digest(&applied.reply),
        command: write,
    });
    steps
}

fn commit(tree: &mut Tree, steps: Vec<TxStep>, index: u64) -> Result<(), KhepriError> {
    Command::Transaction { steps }
        .apply(tree, &NoData, index)
        .reply
        .map(|_| ())
}

#[test]
fn a_transaction_commits_on_the_state_it_read() {
    let mut tree = Tree::new();
    Command::Put {
        pattern: pat(&["a"]),
        payload: data("1"),
        opts: opts(),
    }
    .apply(&mut tree, &NoData, 1);
    let steps = record(&tree, pat(&["a"]), put_cmd(&["b"], "2"));
    assert_eq!(commit(&mut tree, steps, 2), Ok(()));
    assert!(tree.get(&p(&["b"])).is_some());
    assert_eq!(tree.get(&p(&["b"])).unwrap().created, 2);
}

#[test]
fn a_changed_or_recreated_node_conflicts_and_nothing_is_applied() {
    for interfere in [
        // updated
        vec![put_cmd(&["a"], "other")],
        // deleted and re-created with the same data
        vec![
            Command::Delete {
                pattern: pat(&["a"]),
                opts: opts(),
            },
            put_cmd(&["a"], "1"),
        ],
    ] {
        let mut tree = Tree::new();
        put_cmd(&["a"], "1").apply(&mut tree, &NoData, 1);
        let steps = record(&tree, pat(&["a"]), put_cmd(&["b"], "2"));
        for (i, c) in interfere.into_iter().enumerate() {
            c.apply(&mut tree, &NoData, 2 + i as u64);
        }
        let before = tree.clone();
        assert_eq!(commit(&mut tree, steps, 10), Err(KhepriError::Conflict));
        assert_eq!(tree, before);
    }
}

#[test]
fn a_sibling_created_beside_what_was_read_does_not_conflict() {
    let mut tree = Tree::new();
    put_cmd(&["q", "x"], "1").apply(&mut tree, &NoData, 1);
    let steps = record(&tree, pat(&["q", "x"]), put_cmd(&["q", "x"], "2"));
    put_cmd(&["q", "y"], "1").apply(&mut tree, &NoData, 2);
    assert_eq!(commit(&mut tree, steps, 3), Ok(()));
}

#[test]
fn a_new_match_of_a_pattern_read_conflicts() {
    let mut tree = Tree::new();
    put_cmd(&["q", "x"], "1").apply(&mut tree, &NoData, 1);
    let star = vec![
        Component::Name(khepri_core::NodeId::atom("q")),
        Component::Cond(Condition::NameMatches(
            khepri_core::condition::NameRegex::Any,
        )),
    ];
    let steps = record(&tree, star, put_cmd(&["count"], "1"));
    put_cmd(&["q", "y"], "1").apply(&mut tree, &NoData, 2);
    assert_eq!(commit(&mut tree, steps, 3), Err(KhepriError::Conflict));
}

#[test]
fn reads_of_the_transactions_own_writes_replay_identically() {
    // Write, then read what was written (created in the overlay with the
    // pending stamp, at apply time with the entry's index).
    let tree = Tree::new();
    let mut overlay = tree.clone();
    let write = put_cmd(&["n", "m"], "1");
    let applied = write.apply(&mut overlay, &NoData, PENDING);
    let read = pat(&["n", "m"]);
    let steps = vec![
        TxStep::Write {
            digest: reply_digest(&applied.reply),
            command: write,
        },
        TxStep::Read {
            digest: observe(&overlay, &read, false, &NoData, PENDING),
            pattern: read,
            include_root: false,
        },
    ];
    let mut tree = tree;
    assert_eq!(commit(&mut tree, steps, 7), Ok(()));
    assert_eq!(tree.get(&p(&["n", "m"])).unwrap().created, 7);
}
