//! Erlang's arithmetic on number terms, as guard BIFs compute it: integer
//! operations are exact (bignums), mixed operations convert the integer to a
//! float the VM's way, and a float result must be finite.

use super::bigint::{BitOp, IntError};
use super::order::int_wide;
use super::{Term, Wide};

/// Why an arithmetic guard function failed. In a match-spec guard every
/// kind simply makes the match fail; the kinds mirror Erlang's exceptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArithError {
    /// `badarith`.
    Badarith,
    /// `badarg`.
    Badarg,
    /// `system_limit` (an integer beyond [`super::MAX_INT_BITS`]).
    SystemLimit,
}

impl From<IntError> for ArithError {
    fn from(e: IntError) -> ArithError {
        match e {
            IntError::DivByZero => ArithError::Badarith,
            IntError::TooLarge => ArithError::SystemLimit,
            IntError::FloatOverflow => ArithError::Badarith,
        }
    }
}

type Res = Result<Term, ArithError>;

/// A number seen as an integer or a float.
enum Num {
    Int(Wide),
    Float(f64),
}

fn num(t: &Term) -> Result<Num, ArithError> {
    match t {
        Term::Int(_) | Term::Big(_) => Ok(Num::Int(int_wide(t))),
        Term::Float(f) => Ok(Num::Float(*f)),
        _ => Err(ArithError::Badarith),
    }
}

fn int(t: &Term) -> Result<Wide, ArithError> {
    match t {
        Term::Int(_) | Term::Big(_) => Ok(int_wide(t)),
        _ => Err(ArithError::Badarith),
    }
}

/// The integer as a float, the VM's way (for mixed arithmetic).
fn to_float(w: &Wide) -> Result<f64, ArithError> {
    Ok(w.to_f64_erlang()?)
}

fn float_result(f: f64) -> Res {
    if f.is_finite() {
        Ok(Term::Float(f))
    } else {
        Err(ArithError::Badarith)
    }
}

fn mixed(
    a: &Term,
    b: &Term,
    ints: fn(&Wide, &Wide) -> Result<Wide, IntError>,
    floats: fn(f64, f64) -> f64,
) -> Res {
    match (num(a)?, num(b)?) {
        (Num::Int(x), Num::Int(y)) => Ok(ints(&x, &y)?.into_term()),
        (Num::Int(x), Num::Float(y)) => float_result(floats(to_float(&x)?, y)),
        (Num::Float(x), Num::Int(y)) => float_result(floats(x, to_float(&y)?)),
        (Num::Float(x), Num::Float(y)) => float_result(floats(x, y)),
    }
}

/// `A + B`.
pub(crate) fn add(a: &Term, b: &Term) -> Res {
    if let (Term::Int(x), Term::Int(y)) = (a, b) {
        if let Some(v) = x.checked_add(*y) {
            return Ok(Term::Int(v));
        }
    }
    mixed(a, b, Wide::add, |x, y| x + y)
}

/// `A - B`.
pub(crate) fn sub(a: &Term, b: &Term) -> Res {
    if let (Term::Int(x), Term::Int(y)) = (a, b) {
        if let Some(v) = x.checked_sub(*y) {
            return Ok(Term::Int(v));
        }
    }
    mixed(a, b, Wide::sub, |x, y| x - y)
}

/// `A * B`.
pub(crate) fn mul(a: &Term, b: &Term) -> Res {
    if let (Term::Int(x), Term::Int(y)) = (a, b) {
        if let Some(v) = x.checked_mul(*y) {
            return Ok(Term::Int(v));
        }
    }
    mixed(a, b, Wide::mul, |x, y| x * y)
}

/// `A / B`: always a float; dividing by zero is `badarith`.
pub(crate) fn fdiv(a: &Term, b: &Term) -> Res {
    let x = match num(a)? {
        Num::Int(w) => to_float(&w)?,
        Num::Float(f) => f,
    };
    let y = match num(b)? {
        Num::Int(w) => to_float(&w)?,
        Num::Float(f) => f,
    };
    if y == 0.0 {
        return Err(ArithError::Badarith);
    }
    float_result(x / y)
}

/// `A div B` (truncating).
pub(crate) fn int_div(a: &Term, b: &Term) -> Res {
    if let (Term::Int(x), Term::Int(y)) = (a, b) {
        if *y == 0 {
            return Err(ArithError::Badarith);
        }
        if let Some(v) = x.checked_div(*y) {
            return Ok(Term::Int(v));
        }
    }
    Ok(int(a)?.div_rem(&int(b)?)?.0.into_term())
}

/// `A rem B` (sign of the dividend).
pub(crate) fn rem(a: &Term, b: &Term) -> Res {
    if let (Term::Int(x), Term::Int(y)) = (a, b) {
        if *y == 0 {
            return Err(ArithError::Badarith);
        }
        return Ok(Term::Int(x.checked_rem(*y).unwrap_or(0)));
    }
    Ok(int(a)?.div_rem(&int(b)?)?.1.into_term())
}

fn bitwise(a: &Term, b: &Term, op: BitOp) -> Res {
    if let (Term::Int(x), Term::Int(y)) = (a, b) {
        return Ok(Term::Int(match op {
            BitOp::And => x & y,
            BitOp::Or => x | y,
            BitOp::Xor => x ^ y,
        }));
    }
    Ok(int(a)?.bitwise(&int(b)?, op).into_term())
}

/// `A band B`.
pub(crate) fn band(a: &Term, b: &Term) -> Res {
    bitwise(a, b, BitOp::And)
}

/// `A bor B`.
pub(crate) fn bor(a: &Term, b: &Term) -> Res {
    bitwise(a, b, BitOp::Or)
}

/// `A bxor B`.
pub(crate) fn bxor(a: &Term, b: &Term) -> Res {
    bitwise(a, b, BitOp::Xor)
}

/// `bnot A`.
pub(crate) fn bnot(a: &Term) -> Res {
    match a {
        Term::Int(x) => Ok(Term::Int(!x)),
        _ => Ok(int(a)?.bnot().into_term()),
    }
}

/// `A bsl B` (`left = true`) or `A bsr B`.
pub(crate) fn shift(a: &Term, b: &Term, left: bool) -> Res {
    let x = int(a)?;
    let n = int(b)?;
    // A shift count beyond i128 is absurd either way: saturate.
    let count = n.to_i128().unwrap_or(if n.is_negative() {
        -(1 << 100)
    } else {
        1 << 100
    });
    let count = if left { count } else { count.saturating_neg() };
    Ok(x.shift_left(count)?.into_term())
}

/// Unary `-A`.
pub(crate) fn neg(a: &Term) -> Res {
    match num(a)? {
        Num::Int(w) => Ok(w.neg().into_term()),
        Num::Float(f) => Ok(Term::Float(-f)),
    }
}

/// Unary `+A`: the number itself.
pub(crate) fn plus(a: &Term) -> Res {
    num(a)?;
    Ok(a.clone())
}

/// `abs(A)`.
pub(crate) fn abs(a: &Term) -> Res {
    match a {
        Term::Int(_) | Term::Big(_) => Ok(int_wide(a).abs().into_term()),
        Term::Float(f) => Ok(Term::Float(f.abs())),
        _ => Err(ArithError::Badarg),
    }
}

/// `float(A)`.
pub(crate) fn float(a: &Term) -> Res {
    match a {
        Term::Int(_) | Term::Big(_) => match int_wide(a).to_f64_erlang() {
            Ok(f) => Ok(Term::Float(f)),
            Err(_) => Err(ArithError::Badarg),
        },
        Term::Float(_) => Ok(a.clone()),
        _ => Err(ArithError::Badarg),
    }
}

/// The rounding BIFs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rounding {
    /// `round/1`: half away from zero.
    Round,
    /// `trunc/1`.
    Trunc,
    /// `floor/1`.
    Floor,
    /// `ceil/1`.
    Ceil,
}

/// `round/trunc/floor/ceil(A)`.
pub(crate) fn to_integer(a: &Term, how: Rounding) -> Res {
    match a {
        Term::Int(_) | Term::Big(_) => Ok(a.clone()),
        Term::Float(f) => {
            let r = match how {
                Rounding::Round => f.round(),
                Rounding::Trunc => f.trunc(),
                Rounding::Floor => f.floor(),
                Rounding::Ceil => f.ceil(),
            };
            if !r.is_finite() {
                return Err(ArithError::Badarg);
            }
            Ok(Wide::from_integral_f64(r).into_term())
        }
        _ => Err(ArithError::Badarg),
    }
}
