//! Encoding to the external term format.
//!
//! The output is what `term_to_binary(T, [{minor_version, 2}])` produces
//! (atoms as UTF-8, floats as `NEW_FLOAT_EXT`, byte lists as `STRING_EXT`),
//! byte for byte, except that maps of more than 32 keys are written in key
//! order where Erlang uses its internal hash order, and pids, ports and
//! references that came in a pre-OTP-23 format (`PID_EXT`, `PORT_EXT`,
//! `REFERENCE_EXT`, `NEW_REFERENCE_EXT`) are written back exactly as they
//! came. `binary_to_term` gives back an `=:=` term in every case.

use super::opaque::{Pid, Port, Reference};
use super::{Term, Wide};

/// Work left for the encoder: a term, or the size field of a fun to fill
/// in once its free variables are written.
enum Job<'a> {
    Term(&'a Term),
    FunSize(usize),
}

/// Encodes a term, version byte included. Iterative: any depth is fine.
pub fn encode(term: &Term) -> Vec<u8> {
    let mut out = vec![131u8];
    let mut stack: Vec<Job<'_>> = vec![Job::Term(term)];
    while let Some(job) = stack.pop() {
        match job {
            Job::Term(t) => encode_one(t, &mut out, &mut stack),
            Job::FunSize(at) => {
                let size = (out.len() - at) as u32;
                out[at..at + 4].copy_from_slice(&size.to_be_bytes());
            }
        }
    }
    out
}

fn put_u16(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&(v as u16).to_be_bytes());
}

fn put_u32(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&(v as u32).to_be_bytes());
}

/// Writes `t`'s header (or all of it, for a leaf) and pushes its children
/// so that they come out in order.
fn encode_one<'a>(t: &'a Term, out: &mut Vec<u8>, stack: &mut Vec<Job<'a>>) {
    match t {
        Term::Int(v) => encode_int(*v, out),
        Term::Big(b) => {
            let w = Wide::from_big(b);
            match w.to_i128().and_then(|v| i64::try_from(v).ok()) {
                Some(v) => encode_int(v, out),
                None => encode_big(b.is_negative(), b.magnitude_le(), out),
            }
        }
        Term::Float(f) => {
            out.push(70);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        Term::Atom(a) => encode_atom(a, out),
        Term::Binary(b) => {
            out.push(109);
            put_u32(out, b.len());
            out.extend_from_slice(b);
        }
        Term::Bitstring { bytes, .. } => encode_bits(bytes, t.bit_size().unwrap_or(0), out),
        Term::Tuple(es) => {
            if es.len() <= 255 {
                out.push(104);
                out.push(es.len() as u8);
            } else {
                out.push(105);
                put_u32(out, es.len());
            }
            stack.extend(es.iter().rev().map(Job::Term));
        }
        Term::Map(m) => {
            out.push(116);
            put_u32(out, m.len());
            for (k, v) in m.iter().rev() {
                stack.push(Job::Term(v));
                stack.push(Job::Term(k));
            }
        }
        Term::Nil => out.push(106),
        Term::List(..) => {
            let Some((elems, tail)) = t.list_parts() else {
                out.push(106);
                return;
            };
            if elems.is_empty() {
                stack.push(Job::Term(tail));
                return;
            }
            let bytes: Option<Vec<u8>> = if matches!(tail, Term::Nil) && elems.len() <= 65535 {
                elems
                    .iter()
                    .map(|e| match e {
                        Term::Int(v) if (0..=255).contains(v) => Some(*v as u8),
                        _ => None,
                    })
                    .collect()
            } else {
                None
            };
            if let Some(bytes) = bytes {
                out.push(107);
                put_u16(out, bytes.len());
                out.extend_from_slice(&bytes);
                return;
            }
            out.push(108);
            put_u32(out, elems.len());
            stack.push(Job::Term(tail));
            stack.extend(elems.into_iter().rev().map(Job::Term));
        }
        Term::Pid(p) => encode_pid(p, out),
        Term::Port(p) => encode_port(p, out),
        Term::Reference(r) => encode_ref(r, out),
        Term::Fun(f) => {
            out.push(112);
            let size_at = out.len();
            out.extend_from_slice(&[0; 4]);
            out.push(f.arity());
            out.extend_from_slice(f.uniq());
            out.extend_from_slice(&f.index().to_be_bytes());
            put_u32(out, f.free_vars().len());
            encode_atom(f.module(), out);
            encode_int(f.old_index(), out);
            encode_int(f.old_uniq(), out);
            encode_pid(f.pid(), out);
            stack.push(Job::FunSize(size_at));
            stack.extend(f.free_vars().iter().rev().map(Job::Term));
        }
        Term::Export(e) => {
            out.push(113);
            encode_atom(e.module(), out);
            encode_atom(e.function(), out);
            out.push(97);
            out.push(e.arity());
        }
    }
}

fn encode_pid(p: &Pid, out: &mut Vec<u8>) {
    if p.is_legacy() {
        out.extend_from_slice(p.etf());
        return;
    }
    out.push(88);
    encode_atom(p.node(), out);
    out.extend_from_slice(&p.id().to_be_bytes());
    out.extend_from_slice(&p.serial().to_be_bytes());
    out.extend_from_slice(&p.creation().to_be_bytes());
}

fn encode_port(p: &Port, out: &mut Vec<u8>) {
    if p.is_legacy() {
        out.extend_from_slice(p.etf());
        return;
    }
    match u32::try_from(p.id()) {
        Ok(id) => {
            out.push(89);
            encode_atom(p.node(), out);
            out.extend_from_slice(&id.to_be_bytes());
        }
        Err(_) => {
            out.push(120);
            encode_atom(p.node(), out);
            out.extend_from_slice(&p.id().to_be_bytes());
        }
    }
    out.extend_from_slice(&p.creation().to_be_bytes());
}

fn encode_ref(r: &Reference, out: &mut Vec<u8>) {
    if r.is_legacy() {
        out.extend_from_slice(r.etf());
        return;
    }
    out.push(90);
    put_u16(out, r.words().len());
    encode_atom(r.node(), out);
    out.extend_from_slice(&r.creation().to_be_bytes());
    for w in r.words() {
        out.extend_from_slice(&w.to_be_bytes());
    }
}

/// Writes the first `nbits` bits of `bytes` (zero-padded) as a binary or a
/// bitstring, clearing unused low bits.
fn encode_bits(bytes: &[u8], nbits: u64, out: &mut Vec<u8>) {
    let whole = (nbits / 8) as usize;
    let rest = (nbits % 8) as u8;
    let len = whole + usize::from(rest != 0);
    if rest == 0 {
        out.push(109);
        put_u32(out, len);
    } else {
        out.push(77);
        put_u32(out, len);
        out.push(rest);
    }
    for i in 0..len {
        let b = bytes.get(i).copied().unwrap_or(0);
        if rest != 0 && i + 1 == len {
            out.push(b & (0xffu8 << (8 - rest)));
        } else {
            out.push(b);
        }
    }
}

fn encode_int(v: i64, out: &mut Vec<u8>) {
    if (0..=255).contains(&v) {
        out.push(97);
        out.push(v as u8);
    } else if i32::try_from(v).is_ok() {
        out.push(98);
        out.extend_from_slice(&(v as i32).to_be_bytes());
    } else {
        let mag = v.unsigned_abs().to_le_bytes();
        let len = 8 - (v.unsigned_abs().leading_zeros() / 8) as usize;
        encode_big(v < 0, &mag[..len], out);
    }
}

fn encode_big(negative: bool, mag: &[u8], out: &mut Vec<u8>) {
    let mut len = mag.len();
    while len > 0 && mag[len - 1] == 0 {
        len -= 1;
    }
    if len <= 255 {
        out.push(110);
        out.push(len as u8);
    } else {
        out.push(111);
        put_u32(out, len);
    }
    out.push(u8::from(negative && len > 0));
    out.extend_from_slice(&mag[..len]);
}

fn encode_atom(a: &str, out: &mut Vec<u8>) {
    // Atoms are at most 255 characters; never write a length that wraps.
    let mut end = a.len().min(65535);
    while !a.is_char_boundary(end) {
        end -= 1;
    }
    let text = &a.as_bytes()[..end];
    if text.len() <= 255 {
        out.push(119);
        out.push(text.len() as u8);
    } else {
        out.push(118);
        put_u16(out, text.len());
    }
    out.extend_from_slice(text);
}
