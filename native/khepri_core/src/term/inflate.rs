//! zlib decompression (RFC 1950 wrapper around RFC 1951 deflate), for
//! `term_to_binary(T, [compressed])` payloads.
//!
//! Written here rather than pulled in as a crate: the engine only needs to
//! read, the code is small, and it must be total (bounded output, errors on
//! every malformed stream, no panics). Code-set validation follows zlib's
//! (over-subscribed and incomplete sets are rejected the way zlib does), and
//! the Adler-32 checksum is verified, so what zlib refuses is refused here.

type Res<T> = Result<T, &'static str>;

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    bit_buf: u32,
    bit_count: u32,
}

impl<'a> Bits<'a> {
    fn bits(&mut self, n: u32) -> Res<u32> {
        while self.bit_count < n {
            let b = *self.data.get(self.pos).ok_or("truncated compressed data")?;
            self.pos += 1;
            self.bit_buf |= (b as u32) << self.bit_count;
            self.bit_count += 8;
        }
        let v = self.bit_buf & ((1u32 << n) - 1);
        self.bit_buf >>= n;
        self.bit_count -= n;
        Ok(v)
    }

    fn align(&mut self) {
        self.bit_buf = 0;
        self.bit_count = 0;
    }
}

/// A canonical Huffman code: how many codes of each length, and the
/// symbols in code order.
struct Huffman {
    counts: [u16; 16],
    symbols: Vec<u16>,
}

#[derive(PartialEq)]
enum CodeKind {
    CodeLengths,
    LitLen,
    Dist,
}

impl Huffman {
    fn new(lengths: &[u8], kind: CodeKind) -> Res<Huffman> {
        let mut counts = [0u16; 16];
        for l in lengths {
            counts[*l as usize] += 1;
        }
        let max = (1..16).rev().find(|l| counts[*l] != 0).unwrap_or(0);
        let mut symbols = Vec::new();
        if max == 0 {
            // No codes at all: legal; any use of it is an error.
            return Ok(Huffman { counts, symbols });
        }
        let mut left: i32 = 1;
        for c in counts.iter().skip(1) {
            left <<= 1;
            left -= *c as i32;
            if left < 0 {
                return Err("over-subscribed code");
            }
        }
        if left > 0 && (kind == CodeKind::CodeLengths || max != 1) {
            return Err("incomplete code");
        }
        let mut offsets = [0u16; 16];
        for l in 1..15 {
            offsets[l + 1] = offsets[l] + counts[l];
        }
        symbols.resize(lengths.len(), 0);
        for (sym, l) in lengths.iter().enumerate() {
            if *l != 0 {
                symbols[offsets[*l as usize] as usize] = sym as u16;
                offsets[*l as usize] += 1;
            }
        }
        Ok(Huffman { counts, symbols })
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Res<u16> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.bits(1)? as i32;
            let count = self.counts[len] as i32;
            if code - first < count {
                return self
                    .symbols
                    .get((index + code - first) as usize)
                    .copied()
                    .ok_or("invalid code");
            }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        Err("invalid code")
    }
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Inflates a zlib stream that must produce at most `max_out` bytes.
/// Returns the data and the number of input bytes used (checksum included).
pub(crate) fn zlib_inflate(input: &[u8], max_out: usize) -> Res<(Vec<u8>, usize)> {
    if input.len() < 2 {
        return Err("truncated compressed data");
    }
    let (cmf, flg) = (input[0], input[1]);
    if cmf & 0x0f != 8 || cmf >> 4 > 7 || !(((cmf as u16) << 8) | flg as u16).is_multiple_of(31) {
        return Err("bad zlib header");
    }
    if flg & 0x20 != 0 {
        return Err("zlib preset dictionary not supported");
    }
    let mut bits = Bits {
        data: input,
        pos: 2,
        bit_buf: 0,
        bit_count: 0,
    };
    // Grows with the data actually produced, never on the declared size.
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(1 << 16));
    loop {
        let last = bits.bits(1)?;
        match bits.bits(2)? {
            0 => stored(&mut bits, &mut out, max_out)?,
            1 => {
                let mut lengths = [0u8; 288];
                lengths[..144].fill(8);
                lengths[144..256].fill(9);
                lengths[256..280].fill(7);
                lengths[280..].fill(8);
                let lit = Huffman::new(&lengths, CodeKind::LitLen)?;
                // 32 codes as in zlib's fixed table; 30 and 31 are invalid if used.
                let dist = Huffman::new(&[5u8; 32], CodeKind::Dist)?;
                codes(&mut bits, &mut out, &lit, &dist, max_out)?;
            }
            2 => {
                let (lit, dist) = dynamic_tables(&mut bits)?;
                codes(&mut bits, &mut out, &lit, &dist, max_out)?;
            }
            _ => return Err("bad deflate block type"),
        }
        if last == 1 {
            break;
        }
    }
    bits.align();
    let at = bits.pos;
    let sum = input.get(at..at + 4).ok_or("truncated compressed data")?;
    let expected = u32::from_be_bytes([sum[0], sum[1], sum[2], sum[3]]);
    if adler32(&out) != expected {
        return Err("compressed data checksum mismatch");
    }
    Ok((out, at + 4))
}

fn stored(bits: &mut Bits<'_>, out: &mut Vec<u8>, max_out: usize) -> Res<()> {
    bits.align();
    let p = bits.pos;
    let hdr = bits.data.get(p..p + 4).ok_or("truncated compressed data")?;
    let len = u16::from_le_bytes([hdr[0], hdr[1]]) as usize;
    let nlen = u16::from_le_bytes([hdr[2], hdr[3]]) as usize;
    if len != !nlen & 0xffff {
        return Err("bad stored block length");
    }
    let data = bits
        .data
        .get(p + 4..p + 4 + len)
        .ok_or("truncated compressed data")?;
    if out.len() + len > max_out {
        return Err("decompressed data larger than declared");
    }
    out.extend_from_slice(data);
    bits.pos = p + 4 + len;
    Ok(())
}

fn dynamic_tables(bits: &mut Bits<'_>) -> Res<(Huffman, Huffman)> {
    let nlen = bits.bits(5)? as usize + 257;
    let ndist = bits.bits(5)? as usize + 1;
    let ncode = bits.bits(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err("too many length or distance codes");
    }
    let mut cl = [0u8; 19];
    for i in 0..ncode {
        cl[CODE_LENGTH_ORDER[i]] = bits.bits(3)? as u8;
    }
    let clh = Huffman::new(&cl, CodeKind::CodeLengths)?;
    let mut lengths = vec![0u8; nlen + ndist];
    let mut i = 0;
    while i < nlen + ndist {
        let sym = clh.decode(bits)?;
        if sym < 16 {
            lengths[i] = sym as u8;
            i += 1;
            continue;
        }
        let (value, repeat) = match sym {
            16 => {
                if i == 0 {
                    return Err("repeat with no previous length");
                }
                (lengths[i - 1], 3 + bits.bits(2)? as usize)
            }
            17 => (0, 3 + bits.bits(3)? as usize),
            _ => (0, 11 + bits.bits(7)? as usize),
        };
        if i + repeat > nlen + ndist {
            return Err("too many code lengths");
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    if lengths[256] == 0 {
        return Err("no end-of-block code");
    }
    let lit = Huffman::new(&lengths[..nlen], CodeKind::LitLen)?;
    let dist = Huffman::new(&lengths[nlen..], CodeKind::Dist)?;
    Ok((lit, dist))
}

fn codes(
    bits: &mut Bits<'_>,
    out: &mut Vec<u8>,
    lit: &Huffman,
    dist: &Huffman,
    max_out: usize,
) -> Res<()> {
    loop {
        let sym = lit.decode(bits)? as usize;
        if sym < 256 {
            if out.len() >= max_out {
                return Err("decompressed data larger than declared");
            }
            out.push(sym as u8);
            continue;
        }
        if sym == 256 {
            return Ok(());
        }
        let li = sym - 257;
        if li >= 29 {
            return Err("bad length code");
        }
        let len = LEN_BASE[li] as usize + bits.bits(LEN_EXTRA[li] as u32)? as usize;
        let di = dist.decode(bits)? as usize;
        if di >= 30 {
            return Err("bad distance code");
        }
        let d = DIST_BASE[di] as usize + bits.bits(DIST_EXTRA[di] as u32)? as usize;
        if d > out.len() {
            return Err("distance too far back");
        }
        if out.len() + len > max_out {
            return Err("decompressed data larger than declared");
        }
        let from = out.len() - d;
        for k in 0..len {
            let b = out[from + k];
            out.push(b);
        }
    }
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for x in chunk {
            a += *x as u32;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}
