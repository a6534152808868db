//! Conversions between Erlang terms and engine values.

use crate::atoms;
use crate::pattern_codec::{decode_keep_while, decode_pattern};
use khepri_core::hooks::{actions, ProjectionDef, ProjectionKind, TriggerDef};
use khepri_core::node_id::{TAG_ATOM, TAG_BINARY};
use khepri_core::{Bytes, Command, Node, NodeId, Payload, PropsWanted, WriteOpts};
use rustler::types::ListIterator;
use rustler::{Atom, Binary, Encoder, Env, Error, NewBinary, NifResult, Term, TermType};

/// Payloads larger than this are handed to Erlang as external-format bytes and
/// decoded there, because `binary_to_term` in Erlang yields and a NIF does not.
pub const INLINE_DECODE_LIMIT: usize = 64 * 1024;

/// Decodes a native path: a proper list of atoms and binaries.
pub fn decode_path(term: Term) -> NifResult<Vec<NodeId>> {
    term.list_length()?; // refuses improper lists
    let items: ListIterator = term.decode()?;
    items.map(decode_node_id).collect()
}

/// Decodes a node id: an atom or a binary.
pub fn decode_node_id(term: Term) -> NifResult<NodeId> {
    let mut key = Vec::with_capacity(32);
    push_key(term, &mut key)?;
    NodeId::from_key(&key).ok_or(Error::BadArg)
}

/// Appends the node-id key of `term` (an atom or a binary) to `buf`: the
/// form in which the tree indexes children (see `NodeId::key`).
pub fn push_key(term: Term, buf: &mut Vec<u8>) -> NifResult<()> {
    match term.get_type() {
        TermType::Atom => {
            buf.push(TAG_ATOM);
            push_atom_utf8(term, buf)
        }
        TermType::Binary => {
            let bin: Binary = term.decode()?;
            buf.push(TAG_BINARY);
            buf.extend_from_slice(bin.as_slice());
            Ok(())
        }
        _ => Err(Error::BadArg),
    }
}

/// Appends the UTF-8 name of an atom. NIF 2.16 (OTP 25) reads atom names as
/// Latin-1 only: names are re-encoded from Latin-1 here, and an atom with
/// characters beyond it is read from its external format instead (slower,
/// and rare).
fn push_atom_utf8(term: Term, buf: &mut Vec<u8>) -> NifResult<()> {
    use rustler::sys::{enif_get_atom, enif_get_atom_length, ErlNifCharEncoding};
    let env = term.get_env().as_c_arg();
    let mut len: std::os::raw::c_uint = 0;
    // SAFETY: `term` belongs to `env`; the buffer has room for `len` bytes
    // plus the NUL that enif_get_atom writes.
    unsafe {
        if enif_get_atom_length(
            env,
            term.as_c_arg(),
            &mut len,
            ErlNifCharEncoding::ERL_NIF_LATIN1,
        ) == 0
        {
            return push_atom_from_etf(term, buf);
        }
        let start = buf.len();
        buf.reserve(len as usize + 1);
        let written = enif_get_atom(
            env,
            term.as_c_arg(),
            buf.as_mut_ptr().add(start).cast(),
            len + 1,
            ErlNifCharEncoding::ERL_NIF_LATIN1,
        );
        if written as usize != len as usize + 1 {
            return Err(Error::BadArg);
        }
        buf.set_len(start + len as usize);
        if !buf[start..].is_ascii() {
            let latin1: Vec<u8> = buf.drain(start..).collect();
            buf.extend(
                latin1
                    .iter()
                    .map(|&b| b as char)
                    .collect::<String>()
                    .as_bytes(),
            );
        }
    }
    Ok(())
}

/// External-format tags of UTF-8 atoms.
const SMALL_ATOM_UTF8_EXT: u8 = 119;
const ATOM_UTF8_EXT: u8 = 118;

fn push_atom_from_etf(term: Term, buf: &mut Vec<u8>) -> NifResult<()> {
    let etf = term.to_binary();
    let name = match etf.as_slice() {
        [131, SMALL_ATOM_UTF8_EXT, _len, name @ ..] => name,
        [131, ATOM_UTF8_EXT, _hi, _lo, name @ ..] => name,
        _ => return Err(Error::BadArg),
    };
    buf.extend_from_slice(name);
    Ok(())
}

/// An atom from its UTF-8 name, whatever its characters (see
/// [`push_atom_utf8`] for why the external format is needed beyond Latin-1).
pub fn make_atom<'a>(env: Env<'a>, name: &str) -> Option<Term<'a>> {
    if let Ok(atom) = Atom::from_str(env, name) {
        return Some(atom.encode(env));
    }
    let bytes = name.as_bytes();
    let len = u16::try_from(bytes.len()).ok()?;
    let mut etf = Vec::with_capacity(bytes.len() + 4);
    etf.extend_from_slice(&[131, ATOM_UTF8_EXT]);
    etf.extend_from_slice(&len.to_be_bytes());
    etf.extend_from_slice(bytes);
    env.binary_to_term(&etf).map(|(t, _)| t)
}

/// Walks `root` along the path list `path` without allocating node ids.
/// `Ok(None)` when a node is missing; `badarg` for a malformed path.
pub fn lookup<'t>(root: &'t Node, path: Term) -> NifResult<Option<&'t Node>> {
    path.list_length()?; // refuses improper lists
    let items: ListIterator = path.decode()?;
    let mut key = Vec::with_capacity(64);
    let mut node = root;
    for item in items {
        key.clear();
        push_key(item, &mut key)?;
        match node.child(&key) {
            Some(child) => node = child,
            None => return Ok(None),
        }
    }
    Ok(Some(node))
}

/// Encodes a node id.
pub fn encode_node_id<'a>(env: Env<'a>, id: &NodeId) -> Term<'a> {
    if let Some(atom) = id.as_atom().and_then(|name| make_atom(env, name)) {
        return atom;
    }
    encode_bytes(env, id.as_binary().unwrap_or_default())
}

/// Encodes a path as a list.
pub fn encode_path<'a>(env: Env<'a>, path: &[NodeId]) -> Term<'a> {
    let items: Vec<Term> = path.iter().map(|id| encode_node_id(env, id)).collect();
    items.encode(env)
}

/// A new binary term holding `bytes`.
pub fn encode_bytes<'a>(env: Env<'a>, bytes: &[u8]) -> Term<'a> {
    // A heap binary up to 64 bytes (node names, small values): no
    // allocation outside the process heap and no reference count.
    let mut bin = NewBinary::new(env, bytes.len());
    bin.as_mut_slice().copy_from_slice(bytes);
    Term::from(bin)
}

/// Decodes a payload: `none`, `{data, Etf}` or `{sproc, Etf}` (Etf: the
/// external term format of the term, made in Erlang).
pub fn decode_payload(term: Term) -> NifResult<Payload> {
    if term.is_atom() {
        let a: Atom = term.decode()?;
        return if a == atoms::none() {
            Ok(Payload::None)
        } else {
            Err(Error::BadArg)
        };
    }
    let (kind, bin): (Atom, Binary) = term.decode()?;
    let bytes = Bytes::from(bin.as_slice());
    if kind == atoms::data() {
        Ok(Payload::Data(bytes))
    } else if kind == atoms::sproc() {
        Ok(Payload::Sproc(bytes))
    } else {
        Err(Error::BadArg)
    }
}

/// Decodes a `props_to_return` list; unknown atoms are ignored as SPEC says.
pub fn decode_wanted(term: Term) -> NifResult<PropsWanted> {
    let mut w = PropsWanted::NONE;
    let items: ListIterator = term.decode()?;
    for item in items {
        let a: Atom = item.decode()?;
        if a == atoms::payload() {
            w.payload = true;
        } else if a == atoms::payload_version() {
            w.payload_version = true;
        } else if a == atoms::child_list_version() {
            w.child_list_version = true;
        } else if a == atoms::child_list_length() {
            w.child_list_length = true;
        } else if a == atoms::child_names() {
            w.child_names = true;
        } else if a == atoms::has_payload() {
            w.has_payload = true;
        } else if a == atoms::raw_payload() {
            w.raw_payload = true;
        } else if a == atoms::delete_reason() {
            w.delete_reason = true;
        }
    }
    Ok(w)
}

/// Decodes write options: `{PropsToReturn | none, KeepWhile | undefined,
/// ReturnIndirectDeletes}`; `none` (the simple API) reports no node.
pub fn decode_write_opts(term: Term) -> NifResult<WriteOpts> {
    let (props, keep_while, indirect): (Term, Term, bool) = term.decode()?;
    let report = !(props.is_atom() && props.decode::<Atom>()? == atoms::none());
    let keep_while = if keep_while.is_atom() && keep_while.decode::<Atom>()? == atoms::undefined() {
        None
    } else {
        Some(decode_keep_while(keep_while)?)
    };
    Ok(WriteOpts {
        report,
        wanted: if report {
            decode_wanted(props)?
        } else {
            PropsWanted::NONE
        },
        keep_while,
        return_indirect_deletes: indirect,
    })
}

/// Decodes a command: `{put | put_many, Pattern, Payload, Opts}` or
/// `{delete | clear_payload, Pattern, Opts}`.
pub fn decode_command(term: Term) -> NifResult<Command> {
    let tuple = rustler::types::tuple::get_tuple(term)?;
    let tag: Atom = tuple.first().ok_or(Error::BadArg)?.decode()?;
    let tag = tag.to_term(term.get_env()).atom_to_string()?;
    match (tag.as_str(), tuple.as_slice()) {
        ("put", [_, pattern, payload, opts]) => Ok(Command::Put {
            pattern: decode_pattern(*pattern)?,
            payload: decode_payload(*payload)?,
            opts: decode_write_opts(*opts)?,
        }),
        ("put_many", [_, pattern, payload, opts]) => Ok(Command::PutMany {
            pattern: decode_pattern(*pattern)?,
            payload: decode_payload(*payload)?,
            opts: decode_write_opts(*opts)?,
        }),
        ("delete", [_, pattern, opts]) => Ok(Command::Delete {
            pattern: decode_pattern(*pattern)?,
            opts: decode_write_opts(*opts)?,
        }),
        ("clear_payload", [_, pattern, opts]) => Ok(Command::ClearPayload {
            pattern: decode_pattern(*pattern)?,
            opts: decode_write_opts(*opts)?,
        }),
        ("register_projection", [_, name, pattern, kind, spec]) => {
            let kind = match kind.atom_to_string()?.as_str() {
                "copy" => ProjectionKind::Copy,
                "simple" => ProjectionKind::Simple,
                "extended" => ProjectionKind::Extended,
                _ => return Err(Error::BadArg),
            };
            let spec: Binary = spec.decode()?;
            Ok(Command::RegisterProjection {
                def: ProjectionDef {
                    name: name_of(*name)?,
                    pattern: decode_pattern(*pattern)?,
                    kind,
                    spec: Bytes::from(spec.as_slice()),
                },
            })
        }
        ("unregister_projections", [_, names]) => Ok(Command::UnregisterProjections {
            names: if names.is_atom() {
                None
            } else {
                let items: ListIterator = names.decode()?;
                Some(items.map(name_of).collect::<NifResult<_>>()?)
            },
        }),
        ("register_trigger", [_, id, pattern, on, priority, sproc]) => {
            let mut bits = 0;
            let items: ListIterator = on.decode()?;
            for item in items {
                bits |= match item.atom_to_string()?.as_str() {
                    "create" => actions::CREATE,
                    "update" => actions::UPDATE,
                    "delete" => actions::DELETE,
                    _ => return Err(Error::BadArg),
                };
            }
            Ok(Command::RegisterTrigger {
                def: TriggerDef {
                    id: name_of(*id)?,
                    pattern: decode_pattern(*pattern)?,
                    // None listed means all (SPEC 2.11).
                    on: if bits == 0 { actions::ALL } else { bits },
                    priority: priority.decode()?,
                    sproc: decode_path(*sproc)?,
                },
            })
        }
        ("ack_triggers", [_, seqs]) => Ok(Command::AckTriggers {
            seqs: seqs.decode()?,
        }),
        ("once", [_, dedup, command]) => {
            let inner = decode_command(*command)?;
            if matches!(inner, Command::Once { .. }) {
                return Err(Error::BadArg);
            }
            Ok(once(decode_dedup(*dedup)?, inner))
        }
        _ => Err(Error::BadArg),
    }
}

/// The UTF-8 name of an atom (projection names, trigger ids).
fn name_of(term: Term) -> NifResult<String> {
    let mut key = Vec::new();
    push_key(term, &mut key)?;
    match key.split_first() {
        Some((&TAG_ATOM, name)) => String::from_utf8(name.to_vec()).map_err(|_| Error::BadArg),
        _ => Err(Error::BadArg),
    }
}

/// A dedup marker `{IdHigh, IdLow, NowMs, ExpiresMs}` (`protect_against_dups`).
pub struct Dedup {
    id: (u64, u64),
    now_ms: u64,
    expires_ms: u64,
}

/// Decodes a dedup marker.
pub fn decode_dedup(term: Term) -> NifResult<Dedup> {
    let (hi, lo, now_ms, expires_ms): (u64, u64, u64, u64) = term.decode()?;
    Ok(Dedup {
        id: (hi, lo),
        now_ms,
        expires_ms,
    })
}

/// `command`, to be applied at most once.
pub fn once(dedup: Dedup, command: Command) -> Command {
    Command::Once {
        id: dedup.id,
        now_ms: dedup.now_ms,
        expires_ms: dedup.expires_ms,
        command: Box::new(command),
    }
}

/// Decodes stored external-format bytes into a term. Used on engine threads,
/// where a long decode blocks no scheduler; sync reads check the size first.
///
/// Not in "safe" mode: safe mode refuses terms that would create atoms or
/// funs unknown to this VM, such as a projection or trigger fun made on
/// another member (seen refused on a peer node). Stored bytes are
/// `term_to_binary` output that members replicate under CRC checks; the
/// decoder still rejects malformed bytes.
pub fn decode_stored_term<'a>(env: Env<'a>, bytes: &[u8]) -> Term<'a> {
    // SAFETY: see above; `enif_binary_to_term` validates the encoding
    // whatever the mode.
    match unsafe { env.binary_to_term_trusted(bytes) } {
        Some((term, _)) => term,
        // Stored bytes always come from term_to_binary; keep the VM up anyway.
        None => encode_bytes(env, bytes),
    }
}
