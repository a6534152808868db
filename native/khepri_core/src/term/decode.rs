//! Decoding of the external term format (`binary_to_term/1`).
//!
//! The decoder is total: any input gives a term or an error, never a panic.
//! It is iterative (an explicit stack of open containers), refuses nesting
//! deeper than [`MAX_DEPTH`], and never reserves memory on the word of a
//! length field: a length is checked against the bytes actually left, and
//! container vectors start small and grow as elements really arrive.

use super::inflate::zlib_inflate;
use super::opaque::{Export, Fun, FunParts, Pid, Port, Reference};
use super::tags::*;
use super::{BigInt, Term, TermMap};
use std::fmt;
use std::sync::Arc;

/// Deepest nesting of containers the decoder accepts.
///
/// Erlang has no such limit; we need one because comparing, cloning and
/// dropping terms recurse in places (the comparison itself does not).
pub const MAX_DEPTH: usize = 10_000;

/// Largest decompressed size accepted for a `COMPRESSED` term (256 MiB).
const MAX_INFLATED: usize = 256 << 20;

/// Initial capacity bound for container vectors.
const INITIAL_CAPACITY: usize = 64;

/// In the pre-OTP-23 reference formats only 18 bits of the first id word
/// exist; the VM refuses more.
const MAX_LEGACY_REF_WORD: u32 = (1 << 18) - 1;

/// Why bytes are not a term. `offset` is where in the input (or, for a
/// compressed term, in its decompressed body) the problem was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid external term format at byte {}: {}",
            self.offset, self.reason
        )
    }
}

impl std::error::Error for DecodeError {}

/// Decodes `term_to_binary` output. Like `binary_to_term/1`, bytes after the
/// term are ignored. Compressed terms (`term_to_binary(T, [compressed])`) are
/// inflated first.
pub fn decode(bytes: &[u8]) -> Result<Term, DecodeError> {
    decode_prefix(bytes).map(|(t, _)| t)
}

/// Decodes one term at the start of `bytes` and also returns how many bytes
/// it used (for a compressed term, the whole compressed frame).
pub fn decode_prefix(bytes: &[u8]) -> Result<(Term, usize), DecodeError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    if r.u8()? != VERSION {
        return Err(r.err_at(0, "bad version byte (expected 131)"));
    }
    if r.peek() == Some(COMPRESSED) {
        r.pos += 1;
        let size = r.u32()? as usize;
        if size > MAX_INFLATED {
            return Err(r.err("compressed term too large"));
        }
        let (body, used) = zlib_inflate(&bytes[r.pos..], size).map_err(|reason| DecodeError {
            offset: r.pos,
            reason,
        })?;
        if body.len() != size {
            return Err(r.err("compressed size does not match"));
        }
        let mut inner = Reader { buf: &body, pos: 0 };
        let t = decode_term(&mut inner)?;
        if inner.pos != body.len() {
            return Err(inner.err("garbage after compressed term"));
        }
        return Ok((t, r.pos + used));
    }
    let t = decode_term(&mut r)?;
    Ok((t, r.pos))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, reason: &'static str) -> DecodeError {
        DecodeError {
            offset: self.pos,
            reason,
        }
    }

    fn err_at(&self, offset: usize, reason: &'static str) -> DecodeError {
        DecodeError { offset, reason }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.left() {
            return Err(self.err("truncated input"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Checks that `count` items of at least `min_size` bytes each can still
    /// follow, before anything is built for them.
    fn check_room(&self, count: usize, min_size: usize) -> Result<(), DecodeError> {
        if count.saturating_mul(min_size) > self.left() {
            Err(self.err("length exceeds the remaining input"))
        } else {
            Ok(())
        }
    }

    /// An atom in any of the four atom encodings.
    fn atom(&mut self) -> Result<Arc<str>, DecodeError> {
        let start = self.pos;
        let tag = self.u8()?;
        let (len, utf8) = match tag {
            ATOM_EXT => (self.u16()? as usize, false),
            SMALL_ATOM_EXT => (self.u8()? as usize, false),
            ATOM_UTF8_EXT => (self.u16()? as usize, true),
            SMALL_ATOM_UTF8_EXT => (self.u8()? as usize, true),
            _ => return Err(self.err_at(start, "expected an atom")),
        };
        let text = self.take(len)?;
        let s: String = if utf8 {
            match std::str::from_utf8(text) {
                Ok(s) => s.to_owned(),
                Err(_) => return Err(self.err_at(start, "atom is not valid UTF-8")),
            }
        } else {
            text.iter().map(|b| *b as char).collect()
        };
        if s.chars().count() > 255 {
            return Err(self.err_at(start, "atom longer than 255 characters"));
        }
        Ok(Arc::from(s))
    }

    /// A small integer field (SMALL_INTEGER_EXT or INTEGER_EXT).
    fn small_int(&mut self) -> Result<i64, DecodeError> {
        let start = self.pos;
        match self.u8()? {
            SMALL_INTEGER_EXT => Ok(self.u8()? as i64),
            INTEGER_EXT => Ok(self.u32()? as i32 as i64),
            _ => Err(self.err_at(start, "expected an integer")),
        }
    }

    /// The one-byte creation of the pre-OTP-23 formats: only 0 to 3 exist.
    fn tiny_creation(&mut self) -> Result<u32, DecodeError> {
        let c = self.u8()?;
        if c > 3 {
            return Err(self.err_at(self.pos - 1, "bad node creation"));
        }
        Ok(c as u32)
    }

    /// A pid (NEW_PID_EXT or PID_EXT), tag included.
    fn pid(&mut self) -> Result<Pid, DecodeError> {
        let start = self.pos;
        let tag = self.u8()?;
        if tag != NEW_PID_EXT && tag != PID_EXT {
            return Err(self.err_at(start, "expected a pid"));
        }
        let node = self.atom()?;
        let id = self.u32()?;
        let serial = self.u32()?;
        let creation = if tag == NEW_PID_EXT {
            self.u32()?
        } else {
            self.tiny_creation()?
        };
        Ok(Pid::new(
            node,
            id,
            serial,
            creation,
            &self.buf[start..self.pos],
        ))
    }
}

/// An open container waiting for more elements.
enum Frame {
    Tuple(Vec<Term>, usize),
    /// Elements so far, elements still to come (then the tail).
    List(Vec<Term>, usize),
    /// Map pairs so far, a key waiting for its value, pairs still to come.
    Map(Vec<(Term, Term)>, Option<Term>, usize, usize),
    Fun(Box<FunFrame>),
}

struct FunFrame {
    start: usize,
    parts: FunParts,
    left: usize,
}

enum Step {
    Value(Term),
    Open(Frame),
}

fn decode_term(r: &mut Reader<'_>) -> Result<Term, DecodeError> {
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let mut value = match item(r)? {
            Step::Value(t) => t,
            Step::Open(frame) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(r.err("term nested too deeply"));
                }
                stack.push(frame);
                continue;
            }
        };
        // Hand the value to the innermost open container; close the ones
        // that become complete.
        loop {
            let Some(frame) = stack.last_mut() else {
                return Ok(value);
            };
            match frame {
                Frame::Tuple(elems, left) => {
                    elems.push(value);
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    let Some(Frame::Tuple(elems, _)) = stack.pop() else {
                        unreachable!()
                    };
                    value = Term::Tuple(elems);
                }
                Frame::List(elems, left) => {
                    if *left > 0 {
                        elems.push(value);
                        *left -= 1;
                        break;
                    }
                    // That was the tail.
                    let Some(Frame::List(elems, _)) = stack.pop() else {
                        unreachable!()
                    };
                    value = Term::improper_list(elems, value);
                }
                Frame::Map(pairs, key, left, start) => {
                    match key.take() {
                        None => {
                            *key = Some(value);
                            break;
                        }
                        Some(k) => {
                            pairs.push((k, value));
                            *left -= 1;
                            if *left > 0 {
                                break;
                            }
                        }
                    }
                    let start = *start;
                    let Some(Frame::Map(pairs, _, _, _)) = stack.pop() else {
                        unreachable!()
                    };
                    value = match TermMap::from_unique_pairs(pairs) {
                        Some(m) => Term::Map(m),
                        None => return Err(r.err_at(start, "duplicate map key")),
                    };
                }
                Frame::Fun(f) => {
                    f.parts.free.push(value);
                    f.left -= 1;
                    if f.left > 0 {
                        break;
                    }
                    let Some(Frame::Fun(f)) = stack.pop() else {
                        unreachable!()
                    };
                    value = finish_fun(r, *f)?;
                }
            }
        }
    }
}

fn finish_fun(r: &Reader<'_>, f: FunFrame) -> Result<Term, DecodeError> {
    Ok(Term::Fun(Fun::new(f.parts, &r.buf[f.start..r.pos])))
}

/// Reads one term header: a complete leaf, or a container to fill.
fn item(r: &mut Reader<'_>) -> Result<Step, DecodeError> {
    let start = r.pos;
    let tag = r.peek().ok_or_else(|| r.err("truncated input"))?;
    let value = match tag {
        SMALL_INTEGER_EXT | INTEGER_EXT => Term::Int(r.small_int()?),
        NEW_FLOAT_EXT => {
            r.pos += 1;
            let f = f64::from_bits(r.u64()?);
            if !f.is_finite() {
                return Err(r.err_at(start, "float is not finite"));
            }
            Term::Float(f)
        }
        FLOAT_EXT => {
            r.pos += 1;
            let text = r.take(31)?;
            Term::Float(parse_old_float(text).ok_or_else(|| r.err_at(start, "bad float string"))?)
        }
        ATOM_EXT | SMALL_ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_UTF8_EXT => Term::Atom(r.atom()?),
        SMALL_TUPLE_EXT | LARGE_TUPLE_EXT => {
            r.pos += 1;
            let n = if tag == SMALL_TUPLE_EXT {
                r.u8()? as usize
            } else {
                r.u32()? as usize
            };
            if n == 0 {
                Term::Tuple(Vec::new())
            } else {
                r.check_room(n, 1)?;
                return Ok(Step::Open(Frame::Tuple(
                    Vec::with_capacity(n.min(INITIAL_CAPACITY)),
                    n,
                )));
            }
        }
        MAP_EXT => {
            r.pos += 1;
            let n = r.u32()? as usize;
            if n == 0 {
                Term::Map(TermMap::new())
            } else {
                r.check_room(n, 2)?;
                return Ok(Step::Open(Frame::Map(
                    Vec::with_capacity(n.min(INITIAL_CAPACITY)),
                    None,
                    n,
                    start,
                )));
            }
        }
        NIL_EXT => {
            r.pos += 1;
            Term::Nil
        }
        STRING_EXT => {
            r.pos += 1;
            let n = r.u16()? as usize;
            let bytes = r.take(n)?;
            Term::list(bytes.iter().map(|b| Term::Int(*b as i64)).collect())
        }
        LIST_EXT => {
            r.pos += 1;
            let n = r.u32()? as usize;
            // n elements and the tail.
            r.check_room(n.saturating_add(1), 1)?;
            return Ok(Step::Open(Frame::List(
                Vec::with_capacity(n.min(INITIAL_CAPACITY)),
                n,
            )));
        }
        BINARY_EXT => {
            r.pos += 1;
            let n = r.u32()? as usize;
            Term::Binary(r.take(n)?.to_vec())
        }
        BIT_BINARY_EXT => {
            r.pos += 1;
            let n = r.u32()? as usize;
            let bits = r.u8()?;
            let data = r.take(n)?;
            match (n, bits) {
                (0, 0) => Term::Binary(Vec::new()),
                (0, _) => return Err(r.err_at(start, "bad bit count")),
                (_, 1..=8) => Term::bitstring(data.to_vec(), (n as u64 - 1) * 8 + bits as u64),
                _ => return Err(r.err_at(start, "bad bit count")),
            }
        }
        SMALL_BIG_EXT | LARGE_BIG_EXT => {
            r.pos += 1;
            let n = if tag == SMALL_BIG_EXT {
                r.u8()? as usize
            } else {
                r.u32()? as usize
            };
            // Any non-zero sign byte means negative, as in the VM.
            let sign = r.u8()?;
            let digits = r.take(n)?;
            BigInt::from_sign_magnitude(sign != 0, digits)
        }
        NEW_PID_EXT | PID_EXT => Term::Pid(r.pid()?),
        NEW_PORT_EXT | PORT_EXT | V4_PORT_EXT => {
            r.pos += 1;
            let node = r.atom()?;
            let id = match tag {
                V4_PORT_EXT => r.u64()?,
                _ => r.u32()? as u64,
            };
            let creation = match tag {
                PORT_EXT => r.tiny_creation()?,
                _ => r.u32()?,
            };
            Term::Port(Port::new(node, id, creation, &r.buf[start..r.pos]))
        }
        NEWER_REFERENCE_EXT | NEW_REFERENCE_EXT => {
            r.pos += 1;
            let n = r.u16()? as usize;
            if n > 5 {
                return Err(r.err_at(start, "bad reference length"));
            }
            let node = r.atom()?;
            let creation = if tag == NEWER_REFERENCE_EXT {
                r.u32()?
            } else {
                r.tiny_creation()?
            };
            let mut words = Vec::with_capacity(n);
            for _ in 0..n {
                words.push(r.u32()?);
            }
            if tag == NEW_REFERENCE_EXT && words.first().is_some_and(|w| *w > MAX_LEGACY_REF_WORD) {
                return Err(r.err_at(start, "bad reference id"));
            }
            Term::Reference(Reference::new(node, creation, words, &r.buf[start..r.pos]))
        }
        REFERENCE_EXT => {
            r.pos += 1;
            let node = r.atom()?;
            let id = r.u32()?;
            let creation = r.tiny_creation()?;
            if id > MAX_LEGACY_REF_WORD {
                return Err(r.err_at(start, "bad reference id"));
            }
            Term::Reference(Reference::new(
                node,
                creation,
                vec![id],
                &r.buf[start..r.pos],
            ))
        }
        EXPORT_EXT => {
            r.pos += 1;
            let module = r.atom()?;
            let function = r.atom()?;
            let arity_pos = r.pos;
            let Ok(arity) = u8::try_from(r.small_int()?) else {
                return Err(r.err_at(arity_pos, "bad export arity"));
            };
            Term::Export(Export::new(module, function, arity, &r.buf[start..r.pos]))
        }
        NEW_FUN_EXT => {
            r.pos += 1;
            // The size field is not checked: the VM skips it too.
            r.u32()?;
            let arity = r.u8()?;
            let mut uniq = [0u8; 16];
            uniq.copy_from_slice(r.take(16)?);
            let index = r.u32()?;
            let num_free = r.u32()? as usize;
            let module = r.atom()?;
            let old_index = r.small_int()?;
            let old_uniq = r.small_int()?;
            let pid = r.pid()?;
            r.check_room(num_free, 1)?;
            let frame = FunFrame {
                start,
                parts: FunParts {
                    module,
                    arity,
                    uniq,
                    index,
                    old_index,
                    old_uniq,
                    pid,
                    free: Vec::with_capacity(num_free.min(INITIAL_CAPACITY)),
                },
                left: num_free,
            };
            if num_free == 0 {
                finish_fun(r, frame)?
            } else {
                return Ok(Step::Open(Frame::Fun(Box::new(frame))));
            }
        }
        COMPRESSED => return Err(r.err("compressed term inside a term")),
        _ => return Err(r.err("unknown or unsupported tag")),
    };
    Ok(Step::Value(value))
}

/// Parses the 31-byte text of a `FLOAT_EXT`: NUL-terminated, of the form
/// `[+-]digits(.|,)digits[(e|E)[+-]digits]`, finite.
fn parse_old_float(text: &[u8]) -> Option<f64> {
    let end = text.iter().position(|b| *b == 0).unwrap_or(text.len());
    let s = &text[..end];
    let mut i = 0;
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < s.len() && s[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > from
    };
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        i += 1;
    }
    if !digits(&mut i) {
        return None;
    }
    if i >= s.len() || (s[i] != b'.' && s[i] != b',') {
        return None;
    }
    i += 1;
    if !digits(&mut i) {
        return None;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        i += 1;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != s.len() {
        return None;
    }
    let text: String = s
        .iter()
        .map(|b| if *b == b',' { '.' } else { *b as char })
        .collect();
    let f: f64 = text.parse().ok()?;
    f.is_finite().then_some(f)
}
