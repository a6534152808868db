//! Members talking to each other through an in-process outbox: the same
//! calls the NIF carries over Erlang distribution, without the BEAM.

mod common;

use common::{key, put};
use khepri_core::Command;
use khepri_raft::transport::{Outbox, OutboxRef, RpcKind};
use khepri_raft::{CallbackResponder, Store, StoreConfig};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// Every member of the test by node name; the outbox delivers to them.
#[derive(Default)]
struct Switch {
    members: Mutex<HashMap<String, Arc<Store>>>,
}

struct Wire {
    switch: Arc<Switch>,
    from: String,
}

impl Outbox for Wire {
    fn send(&self, target: &str, id: u64, kind: RpcKind, body: Vec<u8>) -> bool {
        let members = self.switch.members.lock().unwrap();
        let (Some(to), Some(from)) = (
            members.get(target).cloned(),
            members.get(&self.from).cloned(),
        ) else {
            return false;
        };
        if kind == RpcKind::Forward {
            // In arrival order, as the NIF does.
            to.accept_forward(&body, move |answer| from.complete_call(id, answer));
            return true;
        }
        tokio::spawn(async move {
            let answer = to.handle_rpc(kind, &body).await;
            from.complete_call(id, answer);
        });
        true
    }
}

async fn open(switch: &Arc<Switch>, dir: &Path, name: &str, join: bool) -> Arc<Store> {
    let mut cfg = StoreConfig::new(dir.join(name), name.into());
    cfg.segment_bytes = 64 * 1024;
    cfg.open_timeout = Duration::from_secs(20);
    cfg.join = join;
    cfg.outbox = OutboxRef(Arc::new(Wire {
        switch: switch.clone(),
        from: name.into(),
    }));
    let store = Arc::new(Store::open(cfg).await.expect("store opens").0);
    switch
        .members
        .lock()
        .unwrap()
        .insert(name.into(), store.clone());
    store
}

async fn write(store: &Store, command: Command) {
    let (tx, rx) = oneshot::channel();
    let responder = CallbackResponder::new(move |outcome| {
        let _ = tx.send(outcome);
    });
    assert!(store.submit(command, responder).is_ok());
    let outcome = rx.await.expect("answered").expect("not dropped");
    assert!(outcome.expect("applied by the leader").data.is_ok());
}

async fn wait_applied(store: &Store, index: u64) {
    assert!(
        store.wait_applied(index, Duration::from_secs(10)).await,
        "index {index} not applied in time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_member_receives_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let switch = Arc::new(Switch::default());
    let a = open(&switch, dir.path(), "a@host", false).await;
    for i in 0..10 {
        write(&a, put(i)).await;
    }
    let b = open(&switch, dir.path(), "b@host", true).await;
    a.add_member("b@host", Duration::from_secs(10))
        .await
        .expect("b joins");
    let index = a.applied_index();
    wait_applied(&b, index).await;
    assert_eq!(b.member_names(), vec!["a@host", "b@host"]);
    assert_eq!(b.leader_name().as_deref(), Some("a@host"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_forwards_writes_and_reads_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let switch = Arc::new(Switch::default());
    let a = open(&switch, dir.path(), "a@host", false).await;
    let b = open(&switch, dir.path(), "b@host", true).await;
    a.add_member("b@host", Duration::from_secs(10))
        .await
        .expect("b joins");
    assert!(b.wait_for_leader(None, Duration::from_secs(10)).await);
    // Concurrent writes on the follower: each is answered once b applied it.
    let writes: Vec<_> = (0..50)
        .map(|i| {
            let b = b.clone();
            tokio::spawn(async move { write(&b, put(i)).await })
        })
        .collect();
    for w in writes {
        w.await.unwrap();
    }
    for i in 0..50 {
        assert!(b.tree().find(&key(i)).is_ok(), "b reads its own write {i}");
    }
    // A leader write is seen on the follower after a barrier there.
    write(&a, put(100)).await;
    assert!(b.barrier(Duration::from_secs(10)).await);
    assert!(b.tree().find(&key(100)).is_ok());
    assert!(a.tree().find(&key(7)).is_ok());
}
