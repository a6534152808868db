//! Integers that do not fit in an `i64` (Erlang bignums), and the exact
//! integer arithmetic that match-spec guards need.
//!
//! A [`BigInt`] is kept as sign + magnitude bytes (little-endian, as in the
//! external term format). Arithmetic converts to 32-bit limbs in [`Wide`];
//! results are normalised back so that a value fitting an `i64` is always a
//! `Term::Int`, never a `Term::Big`.

use super::Term;
use std::cmp::Ordering;

/// Largest integer, in bits, that guard arithmetic will produce or consume.
///
/// Erlang allows far larger bignums (about 2^24 bits work, 2^26 hit
/// `system_limit`); we stop earlier so that one guard cannot make every
/// member of the cluster spend seconds in a multiplication. Past this, the
/// operation fails like a `system_limit` and the match fails.
pub const MAX_INT_BITS: u64 = 1 << 18;

/// An integer outside the `i64` range: sign and magnitude.
///
/// Only built through [`BigInt::from_sign_magnitude`] (or decoding), which
/// returns a `Term::Int` instead whenever the value fits an `i64`.
#[derive(Clone, Debug)]
pub struct BigInt {
    negative: bool,
    /// Little-endian magnitude bytes, no trailing (most significant) zeros.
    magnitude: Vec<u8>,
}

impl BigInt {
    /// Builds the integer `(-1)^negative * magnitude` where `magnitude` is
    /// little-endian bytes (leading zero bytes allowed). Returns `Term::Int`
    /// when the value fits an `i64`, `Term::Big` otherwise.
    pub fn from_sign_magnitude(negative: bool, magnitude_le: &[u8]) -> Term {
        let mut mag = magnitude_le.to_vec();
        while mag.last() == Some(&0) {
            mag.pop();
        }
        if let Some(v) = small_value(negative, &mag) {
            return Term::Int(v);
        }
        Term::Big(BigInt {
            negative,
            magnitude: mag,
        })
    }

    /// True for negative values.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The magnitude as little-endian bytes, without high zero bytes.
    pub fn magnitude_le(&self) -> &[u8] {
        &self.magnitude
    }

    /// Number of significant bits of the magnitude.
    pub fn bit_len(&self) -> u64 {
        match self.magnitude.last() {
            None => 0,
            Some(&top) => (self.magnitude.len() as u64 - 1) * 8 + (8 - top.leading_zeros() as u64),
        }
    }
}

/// The value as an `i64` if the magnitude fits.
fn small_value(negative: bool, mag: &[u8]) -> Option<i64> {
    if mag.len() > 8 {
        return None;
    }
    let mut v: u64 = 0;
    for (i, b) in mag.iter().enumerate() {
        v |= (*b as u64) << (8 * i);
    }
    if negative {
        if v <= 1u64 << 63 {
            Some((v as i64).wrapping_neg())
        } else {
            None
        }
    } else if v <= i64::MAX as u64 {
        Some(v as i64)
    } else {
        None
    }
}

/// Why an integer operation gave no result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntError {
    /// Division by zero (`badarith`).
    DivByZero,
    /// The result would exceed [`MAX_INT_BITS`] (`system_limit`).
    TooLarge,
    /// The value cannot be a float (`badarg`/`badarith`).
    FloatOverflow,
}

/// A working integer for arithmetic: sign + magnitude in 32-bit limbs,
/// little-endian, normalised (no high zero limbs; zero is non-negative).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wide {
    neg: bool,
    mag: Vec<u32>,
}

impl Wide {
    pub(crate) fn zero() -> Wide {
        Wide {
            neg: false,
            mag: Vec::new(),
        }
    }

    pub(crate) fn from_i64(v: i64) -> Wide {
        Self::from_i128(v as i128)
    }

    pub(crate) fn from_i128(v: i128) -> Wide {
        let neg = v < 0;
        let mut m = v.unsigned_abs();
        let mut mag = Vec::new();
        while m != 0 {
            mag.push(m as u32);
            m >>= 32;
        }
        Wide { neg, mag }
    }

    pub(crate) fn from_big(b: &BigInt) -> Wide {
        let mut mag = Vec::with_capacity(b.magnitude.len().div_ceil(4));
        for chunk in b.magnitude.chunks(4) {
            let mut limb = 0u32;
            for (i, byte) in chunk.iter().enumerate() {
                limb |= (*byte as u32) << (8 * i);
            }
            mag.push(limb);
        }
        Wide::normalized(b.negative, mag)
    }

    fn normalized(neg: bool, mut mag: Vec<u32>) -> Wide {
        while mag.last() == Some(&0) {
            mag.pop();
        }
        let neg = neg && !mag.is_empty();
        Wide { neg, mag }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.mag.is_empty()
    }

    pub(crate) fn is_negative(&self) -> bool {
        self.neg
    }

    pub(crate) fn bit_len(&self) -> u64 {
        match self.mag.last() {
            None => 0,
            Some(&top) => (self.mag.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
        }
    }

    /// The value as an `i128` when it fits.
    pub(crate) fn to_i128(&self) -> Option<i128> {
        if self.mag.len() > 4 {
            return None;
        }
        let mut v: u128 = 0;
        for (i, l) in self.mag.iter().enumerate() {
            v |= (*l as u128) << (32 * i);
        }
        if self.neg {
            if v <= 1u128 << 127 {
                Some((v as i128).wrapping_neg())
            } else {
                None
            }
        } else if v <= i128::MAX as u128 {
            Some(v as i128)
        } else {
            None
        }
    }

    /// Back to a term: `Int` when it fits an `i64`, `Big` otherwise.
    pub(crate) fn into_term(self) -> Term {
        let mut bytes = Vec::with_capacity(self.mag.len() * 4);
        for l in &self.mag {
            bytes.extend_from_slice(&l.to_le_bytes());
        }
        BigInt::from_sign_magnitude(self.neg, &bytes)
    }

    fn check_size(self) -> Result<Wide, IntError> {
        if self.bit_len() > MAX_INT_BITS {
            Err(IntError::TooLarge)
        } else {
            Ok(self)
        }
    }

    pub(crate) fn neg(mut self) -> Wide {
        if !self.mag.is_empty() {
            self.neg = !self.neg;
        }
        self
    }

    pub(crate) fn abs(mut self) -> Wide {
        self.neg = false;
        self
    }

    pub(crate) fn cmp_value(&self, other: &Wide) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => cmp_mag(&self.mag, &other.mag),
            (true, true) => cmp_mag(&other.mag, &self.mag),
        }
    }

    pub(crate) fn add(&self, other: &Wide) -> Result<Wide, IntError> {
        let r = if self.neg == other.neg {
            Wide::normalized(self.neg, add_mag(&self.mag, &other.mag))
        } else {
            match cmp_mag(&self.mag, &other.mag) {
                Ordering::Equal => Wide::zero(),
                Ordering::Greater => Wide::normalized(self.neg, sub_mag(&self.mag, &other.mag)),
                Ordering::Less => Wide::normalized(other.neg, sub_mag(&other.mag, &self.mag)),
            }
        };
        r.check_size()
    }

    pub(crate) fn sub(&self, other: &Wide) -> Result<Wide, IntError> {
        self.add(&other.clone().neg())
    }

    pub(crate) fn mul(&self, other: &Wide) -> Result<Wide, IntError> {
        // Checked before the work so the cost stays bounded.
        if self.bit_len() + other.bit_len() > MAX_INT_BITS + 1 {
            return Err(IntError::TooLarge);
        }
        Wide::normalized(self.neg != other.neg, mul_mag(&self.mag, &other.mag)).check_size()
    }

    /// Truncating division and remainder (`div` and `rem`): the quotient
    /// rounds toward zero, the remainder takes the dividend's sign.
    pub(crate) fn div_rem(&self, other: &Wide) -> Result<(Wide, Wide), IntError> {
        if other.is_zero() {
            return Err(IntError::DivByZero);
        }
        let (q, r) = div_rem_mag(&self.mag, &other.mag);
        Ok((
            Wide::normalized(self.neg != other.neg, q),
            Wide::normalized(self.neg, r),
        ))
    }

    /// Two's complement limbs, `len` limbs long (enough to hold the value
    /// plus a sign limb).
    fn to_twos(&self, len: usize) -> Vec<u32> {
        let mut out = self.mag.clone();
        out.resize(len, 0);
        if self.neg {
            // Negate: invert and add one.
            let mut carry = 1u64;
            for l in out.iter_mut() {
                let v = (!*l) as u64 + carry;
                *l = v as u32;
                carry = v >> 32;
            }
        }
        out
    }

    fn from_twos(mut limbs: Vec<u32>) -> Wide {
        let neg = limbs.last().is_some_and(|l| l & 0x8000_0000 != 0);
        if neg {
            let mut carry = 1u64;
            for l in limbs.iter_mut() {
                let v = (!*l) as u64 + carry;
                *l = v as u32;
                carry = v >> 32;
            }
        }
        Wide::normalized(neg, limbs)
    }

    pub(crate) fn bitwise(&self, other: &Wide, op: BitOp) -> Wide {
        let len = self.mag.len().max(other.mag.len()) + 1;
        let a = self.to_twos(len);
        let b = other.to_twos(len);
        let r = a
            .iter()
            .zip(b.iter())
            .map(|(x, y)| match op {
                BitOp::And => x & y,
                BitOp::Or => x | y,
                BitOp::Xor => x ^ y,
            })
            .collect();
        Wide::from_twos(r)
    }

    /// `bnot X` is `-X - 1`.
    pub(crate) fn bnot(&self) -> Wide {
        let one = Wide::from_i64(1);
        let r = self.clone().neg().sub(&one);
        // Cannot grow past the operand by more than one bit.
        r.unwrap_or_else(|_| Wide::zero())
    }

    /// Arithmetic shift left by `n` bits (right when `n` is negative,
    /// rounding toward negative infinity like Erlang's `bsr`).
    pub(crate) fn shift_left(&self, n: i128) -> Result<Wide, IntError> {
        if self.is_zero() {
            return Ok(Wide::zero());
        }
        if n >= 0 {
            if n as u128 > MAX_INT_BITS as u128 || self.bit_len() + n as u64 > MAX_INT_BITS {
                return Err(IntError::TooLarge);
            }
            Ok(self.shift_left_unbounded(n as u64))
        } else {
            let n = n.unsigned_abs();
            if n >= self.bit_len() as u128 {
                return Ok(if self.neg {
                    Wide::from_i64(-1)
                } else {
                    Wide::zero()
                });
            }
            let n = n as u64;
            let limbs = (n / 32) as usize;
            let bits = (n % 32) as u32;
            let mut out = Vec::with_capacity(self.mag.len() - limbs);
            let mut lost = self.mag[..limbs].iter().any(|l| *l != 0);
            for i in limbs..self.mag.len() {
                let lo = self.mag[i];
                if bits == 0 {
                    out.push(lo);
                } else {
                    if i == limbs && lo & ((1u32 << bits) - 1) != 0 {
                        lost = true;
                    }
                    let hi = self.mag.get(i + 1).copied().unwrap_or(0);
                    out.push((lo >> bits) | (hi << (32 - bits)));
                }
            }
            let r = Wide::normalized(self.neg, out);
            // Flooring for negatives: -5 bsr 1 is -3.
            if self.neg && lost {
                r.sub(&Wide::from_i64(1))
            } else {
                Ok(r)
            }
        }
    }

    /// Converts to a float the way the Erlang VM does (`big_to_double`):
    /// from the most significant 64-bit digit down, `d = d * 2^64 + digit`,
    /// each step rounded; infinite is an error.
    pub(crate) fn to_f64_erlang(&self) -> Result<f64, IntError> {
        if let Some(v) = self.to_i128() {
            if let Ok(v) = i64::try_from(v) {
                return Ok(v as f64);
            }
        }
        let mut d = 0.0f64;
        let digits = self.mag.len().div_ceil(2);
        for i in (0..digits).rev() {
            let lo = self.mag[2 * i] as u64;
            let hi = self.mag.get(2 * i + 1).copied().unwrap_or(0) as u64;
            let digit = (hi << 32) | lo;
            d = d * 18_446_744_073_709_551_616.0 + digit as f64;
            if !d.is_finite() {
                return Err(IntError::FloatOverflow);
            }
        }
        Ok(if self.neg { -d } else { d })
    }

    /// The exact integer value of an integral, finite float.
    pub(crate) fn from_integral_f64(f: f64) -> Wide {
        debug_assert!(f.is_finite() && f.trunc() == f);
        if f.abs() < 9.0e15 {
            return Wide::from_i64(f as i64);
        }
        let bits = f.to_bits();
        let neg = bits >> 63 != 0;
        let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
        let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        // |f| >= 2^52 here, so exp >= 0.
        let w = Wide::from_i128(mant as i128);
        let shifted = w.shift_left_unbounded(exp.max(0) as u64);
        if neg {
            shifted.neg()
        } else {
            shifted
        }
    }

    fn shift_left_unbounded(&self, n: u64) -> Wide {
        let limbs = (n / 32) as usize;
        let bits = (n % 32) as u32;
        let mut out = vec![0u32; limbs];
        let mut carry = 0u32;
        for l in &self.mag {
            if bits == 0 {
                out.push(*l);
            } else {
                out.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
        }
        if carry != 0 {
            out.push(carry);
        }
        Wide::normalized(self.neg, out)
    }
}

/// The bitwise operators.
#[derive(Clone, Copy, Debug)]
pub(crate) enum BitOp {
    And,
    Or,
    Xor,
}

fn cmp_mag(a: &[u32], b: &[u32]) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

fn add_mag(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(long.len() + 1);
    let mut carry = 0u64;
    for (i, l) in long.iter().enumerate() {
        let v = *l as u64 + short.get(i).copied().unwrap_or(0) as u64 + carry;
        out.push(v as u32);
        carry = v >> 32;
    }
    if carry != 0 {
        out.push(carry as u32);
    }
    out
}

/// `a - b` for `a >= b`.
fn sub_mag(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i64;
    for (i, l) in a.iter().enumerate() {
        let mut v = *l as i64 - b.get(i).copied().unwrap_or(0) as i64 - borrow;
        if v < 0 {
            v += 1 << 32;
            borrow = 1;
        } else {
            borrow = 0;
        }
        out.push(v as u32);
    }
    out
}

fn mul_mag(a: &[u32], b: &[u32]) -> Vec<u32> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0u32; a.len() + b.len()];
    for (i, x) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (j, y) in b.iter().enumerate() {
            let v = out[i + j] as u64 + (*x as u64) * (*y as u64) + carry;
            out[i + j] = v as u32;
            carry = v >> 32;
        }
        let mut k = i + b.len();
        while carry != 0 {
            let v = out[k] as u64 + carry;
            out[k] = v as u32;
            carry = v >> 32;
            k += 1;
        }
    }
    out
}

/// Quotient and remainder of magnitudes (`b` non-zero), Knuth's algorithm D.
fn div_rem_mag(a: &[u32], b: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut a = a.to_vec();
    while a.last() == Some(&0) {
        a.pop();
    }
    let mut b = b.to_vec();
    while b.last() == Some(&0) {
        b.pop();
    }
    if cmp_mag(&a, &b) == Ordering::Less {
        return (Vec::new(), a);
    }
    if b.len() == 1 {
        let d = b[0] as u64;
        let mut q = vec![0u32; a.len()];
        let mut r = 0u64;
        for i in (0..a.len()).rev() {
            let cur = (r << 32) | a[i] as u64;
            q[i] = (cur / d) as u32;
            r = cur % d;
        }
        return (q, vec![r as u32]);
    }
    // Normalise so the divisor's top bit is set.
    let shift = b[b.len() - 1].leading_zeros();
    let bn = shl_bits(&b, shift);
    let mut an = shl_bits(&a, shift);
    an.push(0);
    let n = bn.len();
    let m = an.len() - n;
    let mut q = vec![0u32; m];
    let btop = bn[n - 1] as u64;
    let bnext = bn[n - 2] as u64;
    for j in (0..m).rev() {
        let num = ((an[j + n] as u64) << 32) | an[j + n - 1] as u64;
        let mut qhat = num / btop;
        let mut rhat = num % btop;
        while qhat >= (1 << 32) || qhat * bnext > ((rhat << 32) | an[j + n - 2] as u64) {
            qhat -= 1;
            rhat += btop;
            if rhat >= (1 << 32) {
                break;
            }
        }
        // Multiply and subtract.
        let mut borrow: i64 = 0;
        let mut carry: u64 = 0;
        for i in 0..n {
            let p = qhat * bn[i] as u64 + carry;
            carry = p >> 32;
            let t = an[i + j] as i64 - borrow - (p & 0xffff_ffff) as i64;
            an[i + j] = t as u32;
            borrow = if t < 0 { 1 } else { 0 };
        }
        let t = an[j + n] as i64 - borrow - carry as i64;
        an[j + n] = t as u32;
        if t < 0 {
            // Added back: qhat was one too large.
            qhat -= 1;
            let mut c = 0u64;
            for i in 0..n {
                let s = an[i + j] as u64 + bn[i] as u64 + c;
                an[i + j] = s as u32;
                c = s >> 32;
            }
            an[j + n] = an[j + n].wrapping_add(c as u32);
        }
        q[j] = qhat as u32;
    }
    // Remainder: unnormalise the low n limbs.
    let mut r = an[..n].to_vec();
    if shift != 0 {
        for i in 0..n {
            let hi = if i + 1 < n { r[i + 1] } else { 0 };
            r[i] = (r[i] >> shift) | (hi << (32 - shift));
        }
    }
    (q, r)
}

fn shl_bits(a: &[u32], shift: u32) -> Vec<u32> {
    if shift == 0 {
        return a.to_vec();
    }
    let mut out = Vec::with_capacity(a.len() + 1);
    let mut carry = 0u32;
    for l in a {
        out.push((l << shift) | carry);
        carry = l >> (32 - shift);
    }
    if carry != 0 {
        out.push(carry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: i128) -> Wide {
        Wide::from_i128(v)
    }

    #[test]
    fn division_matches_i128() {
        let vals: [i128; 9] = [
            0,
            1,
            -1,
            7,
            -7,
            (1 << 70) + 12345,
            -(1 << 90) - 99,
            (1 << 100) / 3,
            i64::MIN as i128,
        ];
        for a in vals {
            for b in vals {
                if b == 0 {
                    assert_eq!(w(a).div_rem(&w(b)), Err(IntError::DivByZero));
                    continue;
                }
                let (q, r) = w(a).div_rem(&w(b)).unwrap();
                assert_eq!(q.to_i128(), Some(a / b), "{a} div {b}");
                assert_eq!(r.to_i128(), Some(a % b), "{a} rem {b}");
            }
        }
    }

    #[test]
    fn arithmetic_and_bits_match_i128() {
        let vals: [i128; 7] = [
            0,
            5,
            -5,
            (1 << 65) + 3,
            -(1 << 66) - 7,
            i64::MAX as i128,
            255,
        ];
        for a in vals {
            for b in vals {
                assert_eq!(w(a).add(&w(b)).unwrap().to_i128(), Some(a + b));
                assert_eq!(w(a).sub(&w(b)).unwrap().to_i128(), Some(a - b));
                assert_eq!(w(a).bitwise(&w(b), BitOp::And).to_i128(), Some(a & b));
                assert_eq!(w(a).bitwise(&w(b), BitOp::Or).to_i128(), Some(a | b));
                assert_eq!(w(a).bitwise(&w(b), BitOp::Xor).to_i128(), Some(a ^ b));
            }
            assert_eq!(w(a).bnot().to_i128(), Some(!a));
            for s in [0i128, 1, 3, 31, 32, 33, 40] {
                assert_eq!(w(a).shift_left(s).unwrap().to_i128(), Some(a << s));
                assert_eq!(w(a).shift_left(-s).unwrap().to_i128(), Some(a >> s));
            }
        }
        assert_eq!(
            w(3).mul(&w(-(1 << 80))).unwrap().to_i128(),
            Some(-3 * (1 << 80))
        );
    }

    #[test]
    fn normalises_to_small() {
        assert!(matches!(
            BigInt::from_sign_magnitude(true, &[0, 0, 0, 0, 0, 0, 0, 0x80]),
            Term::Int(i64::MIN)
        ));
        assert!(matches!(
            BigInt::from_sign_magnitude(false, &[0, 0, 0, 0, 0, 0, 0, 0x80]),
            Term::Big(_)
        ));
        assert!(matches!(
            BigInt::from_sign_magnitude(true, &[]),
            Term::Int(0)
        ));
    }
}
