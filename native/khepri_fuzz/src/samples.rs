//! Real encodings to start mutating from: commands of every kind, terms
//! written by a real Erlang VM, and the segment and snapshot files of a real
//! store that applied those commands.

use khepri_core::bytes::Bytes;
use khepri_core::condition::{CmpOp, Comparison, Condition, DataMatch, NameRegex};
use khepri_core::hooks::{actions, ProjectionDef, ProjectionKind, TriggerDef};
use khepri_core::term::{self, Term};
use khepri_core::transaction::TxStep;
use khepri_core::{Command, Component, NodeId, Payload, PropsWanted, WriteOpts};
use khepri_raft::runtime::runtime;
use khepri_raft::{CallbackResponder, Store, StoreConfig};
use std::path::Path;
use std::time::Duration;

fn name(s: &str) -> Component {
    Component::Name(NodeId::atom(s))
}

fn bin(s: &str) -> Component {
    Component::Name(NodeId::binary(s.as_bytes()))
}

fn data(t: &Term) -> Payload {
    Payload::Data(Bytes::from(term::encode(t)))
}

fn etf(t: &Term) -> Bytes {
    Bytes::from(term::encode(t))
}

fn cmp(op: CmpOp, value: i64) -> Comparison {
    Comparison {
        op,
        value,
        bare: false,
    }
}

/// One command of each kind and most conditions, in an order that applies
/// cleanly to an empty tree.
pub fn commands() -> Vec<Command> {
    let user = Term::map(vec![
        (
            Term::atom("email"),
            Term::Binary(b"bob@example.com".to_vec()),
        ),
        (Term::atom("age"), Term::Int(42)),
        (
            Term::atom("tags"),
            Term::list(vec![Term::atom("a"), Term::Float(1.5)]),
        ),
    ]);
    let report = WriteOpts {
        report: true,
        wanted: PropsWanted {
            child_names: true,
            child_list_length: true,
            has_payload: true,
            ..PropsWanted::DEFAULT
        },
        ..WriteOpts::default()
    };
    let keep_while = WriteOpts {
        keep_while: Some(vec![(
            vec![name("users"), bin("bob")],
            Condition::NodeExists(true),
        )]),
        ..WriteOpts::default()
    };
    let data_match = Condition::DataMatches(DataMatch::new(
        etf(&Term::map(vec![(Term::atom("age"), Term::atom("$1"))])),
        etf(&Term::list(vec![Term::Tuple(vec![
            Term::atom(">"),
            Term::atom("$1"),
            Term::Int(18),
        ])])),
    ));
    let regex = NameRegex::regex("^b.*".into(), etf(&Term::Binary(b"^b.*".to_vec())));
    let put = |pattern, payload| Command::Put {
        pattern,
        payload,
        opts: WriteOpts::default(),
    };
    vec![
        Command::RegisterProjection {
            def: ProjectionDef {
                name: "users_proj".into(),
                pattern: vec![
                    name("users"),
                    Component::Cond(Condition::NameMatches(NameRegex::Any)),
                ],
                kind: ProjectionKind::Copy,
                spec: etf(&Term::atom("users_proj")),
            },
        },
        Command::RegisterTrigger {
            def: TriggerDef {
                id: "on_users".into(),
                pattern: vec![name("users"), Component::Cond(Condition::HasData(true))],
                on: actions::ALL,
                priority: 1,
                sproc: vec![NodeId::atom("procs"), NodeId::atom("p")],
            },
        },
        put(vec![name("users"), bin("bob")], data(&user)),
        put(
            vec![name("users"), bin("alice")],
            data(&Term::Tuple(vec![Term::Int(1), Term::Nil])),
        ),
        Command::Put {
            pattern: vec![name("sessions"), bin("s1")],
            payload: data(&Term::Binary(vec![7; 40])),
            opts: keep_while,
        },
        put(
            vec![name("procs"), name("p")],
            Payload::Sproc(Bytes::from(vec![131, 112, 0, 0])),
        ),
        Command::PutMany {
            pattern: vec![
                name("users"),
                Component::Cond(Condition::NameMatches(regex.clone())),
            ],
            payload: data(&Term::atom("updated")),
            opts: report.clone(),
        },
        Command::ClearPayload {
            pattern: vec![
                name("users"),
                Component::Cond(Condition::All(vec![
                    Condition::HasData(true),
                    Condition::PayloadVersion(cmp(CmpOp::Ge, 1)),
                    Condition::Not(Box::new(Condition::ChildListLength(cmp(CmpOp::Gt, 3)))),
                ])),
            ],
            opts: report,
        },
        put(vec![name("users"), bin("carol")], data(&user)),
        Command::Delete {
            pattern: vec![
                name("users"),
                Component::Cond(Condition::Any(vec![data_match, Condition::HasSproc(true)])),
            ],
            opts: WriteOpts::default(),
        },
        Command::Delete {
            pattern: vec![Component::Cond(Condition::PathMatches(NameRegex::Any))],
            opts: WriteOpts::default(),
        },
        Command::Transaction {
            steps: vec![
                TxStep::Read {
                    pattern: vec![name("users"), bin("bob")],
                    include_root: false,
                    digest: [1, 2],
                },
                TxStep::Write {
                    command: put(vec![name("tx"), bin("k")], data(&Term::Int(-5))),
                    digest: [3, 4],
                },
            ],
        },
        Command::Once {
            id: (1, 2),
            now_ms: 1_000,
            expires_ms: 61_000,
            command: Box::new(put(
                vec![
                    name("once"),
                    Component::Cond(Condition::ChildListVersion(cmp(CmpOp::Eq, 1))),
                ],
                data(&Term::Nil),
            )),
        },
        Command::AckTriggers {
            seqs: vec![0, 1, 2],
        },
        Command::UnregisterProjections {
            names: Some(vec!["users_proj".into(), "unknown".into()]),
        },
    ]
}

/// Terms encoded by a real VM (`khepri_core`'s test fixture): every binary
/// in it that is a term encoding, a spread of them.
pub fn etf_terms() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../khepri_core/tests/fixtures/term_fixtures.etf"
    );
    let bytes = std::fs::read(path).expect("the term fixture of khepri_core");
    let fixture = term::decode(&bytes).expect("the fixture decodes");
    let mut found = Vec::new();
    collect_encodings(&fixture, &mut found);
    // Every 16th keeps the corpus small yet covers each kind of term.
    let mut seeds: Vec<Vec<u8>> = found.into_iter().step_by(16).collect();
    seeds.retain(|s| s.len() <= 4096);
    seeds
}

fn collect_encodings(t: &Term, out: &mut Vec<Vec<u8>>) {
    match t {
        Term::Binary(b) if b.first() == Some(&131) => out.push(b.clone()),
        Term::Tuple(ts) => ts.iter().for_each(|t| collect_encodings(t, out)),
        Term::List(ts, tail) => {
            ts.iter().for_each(|t| collect_encodings(t, out));
            collect_encodings(tail, out);
        }
        Term::Map(m) => m.iter().for_each(|(k, v)| {
            collect_encodings(k, out);
            collect_encodings(v, out);
        }),
        _ => {}
    }
}

/// Files of a real store member.
pub struct StoreFiles {
    /// Log segments, trailing zeros cut.
    pub segments: Vec<Vec<u8>>,
    /// Snapshot files.
    pub snapshots: Vec<Vec<u8>>,
}

/// Runs a real member that applies [`commands`] (and more puts) twice:
/// without snapshots (log segments), and with a small snapshot interval.
pub fn store_files() -> StoreFiles {
    let mut files = StoreFiles {
        segments: Vec::new(),
        snapshots: Vec::new(),
    };
    for (k, interval) in [(0, 1_000_000), (1, 4), (2, 8)] {
        let dir = crate::scratch::dir(&format!("store-{k}"));
        let _ = std::fs::remove_dir_all(&dir);
        runtime().block_on(write_store(&dir, interval));
        let log = dir.join("log");
        for entry in std::fs::read_dir(&log).expect("log directory") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "seg") {
                let mut bytes = std::fs::read(&path).expect("segment");
                let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                bytes.truncate(end);
                files.segments.push(bytes);
            }
        }
        if let Ok(bytes) = std::fs::read(dir.join("snapshot").join("snapshot")) {
            files.snapshots.push(bytes);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    files
}

async fn write_store(dir: &Path, snapshot_interval: u64) {
    let mut cfg = StoreConfig::new(dir.to_path_buf(), "fuzz@localhost".into());
    cfg.snapshots.interval = snapshot_interval;
    cfg.open_timeout = Duration::from_secs(30);
    let (store, _) = Store::open(cfg).await.expect("a fresh store opens");
    let mut all = commands();
    all.extend((0..12).map(|i| Command::Put {
        pattern: vec![name("keys"), bin(&i.to_string())],
        payload: data(&Term::Int(i)),
        opts: WriteOpts::default(),
    }));
    for c in all {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let responder = CallbackResponder::new(move |outcome| {
            let _ = tx.send(outcome);
        });
        assert!(store.submit(c, responder).is_ok(), "store accepts writes");
        let _ = rx.await;
    }
    if snapshot_interval < 20 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while store.snapshot_index().is_none() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no snapshot in time"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    store.shutdown().await;
}
