//! Pure operations evaluated exactly: the semantics the interpreter,
//! constant folding and the parser share.

use super::to_usize;
use crate::inst::{BinOp, Cond, Op};
use crate::types::Type;
use alloy_primitives::U256;

/// `2**bits - 1`.
#[inline]
pub fn mask(t: Type) -> U256 {
    match t {
        Type::I256 => U256::MAX,
        Type::I64 => U256::from_limbs([u64::MAX, 0, 0, 0]),
        Type::I32 => U256::from_limbs([u32::MAX as u64, 0, 0, 0]),
        Type::I8 => U256::from_limbs([0xff, 0, 0, 0]),
        Type::I1 => U256::from_limbs([1, 0, 0, 0]),
    }
}

/// Sign-extends a `t`-wide bit pattern to 256 bits.
fn sext256(v: U256, t: Type) -> U256 {
    let bits = t.bits();
    if bits >= 256 {
        return v;
    }
    if v.bit(bits - 1) {
        v | !mask(t)
    } else {
        v & mask(t)
    }
}

fn is_neg(v: U256) -> bool {
    v.bit(255)
}

fn neg(v: U256) -> U256 {
    (!v).wrapping_add(U256::from(1))
}

fn abs(v: U256) -> U256 {
    if is_neg(v) { neg(v) } else { v }
}

/// Evaluates a binary operation at type `t` (operands already masked).
#[inline]
pub fn binary(op: BinOp, t: Type, a: U256, b: U256) -> U256 {
    let bits = t.bits();
    let r = match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::UDiv => a.checked_div(b).unwrap_or_default(),
        BinOp::URem => a.checked_rem(b).unwrap_or_default(),
        BinOp::SDiv => {
            let (x, y) = (sext256(a, t), sext256(b, t));
            if y.is_zero() {
                U256::ZERO
            } else {
                let q = abs(x) / abs(y);
                if is_neg(x) != is_neg(y) { neg(q) } else { q }
            }
        }
        BinOp::SRem => {
            let (x, y) = (sext256(a, t), sext256(b, t));
            if y.is_zero() {
                U256::ZERO
            } else {
                let r = abs(x) % abs(y);
                if is_neg(x) { neg(r) } else { r }
            }
        }
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        BinOp::Shl => to_usize(b)
            .filter(|s| *s < bits)
            .map_or(U256::ZERO, |s| a << s),
        BinOp::LShr => to_usize(b)
            .filter(|s| *s < bits)
            .map_or(U256::ZERO, |s| a >> s),
        BinOp::AShr => {
            let x = sext256(a, t);
            match to_usize(b).filter(|s| *s < bits) {
                Some(s) => x.arithmetic_shr(s),
                None if is_neg(x) => U256::MAX,
                None => U256::ZERO,
            }
        }
        BinOp::Rotl | BinOp::Rotr => {
            let s = (b % U256::from(bits)).to::<usize>();
            let s = if op == BinOp::Rotr {
                (bits - s) % bits
            } else {
                s
            };
            if s == 0 {
                a
            } else {
                (a << s) | (a >> (bits - s))
            }
        }
    };
    r & mask(t)
}

/// Evaluates a comparison at type `t`.
#[inline]
pub fn compare(c: Cond, t: Type, a: U256, b: U256) -> bool {
    use std::cmp::Ordering;
    if t == Type::I64 {
        // The low limbs (the values are masked to their type).
        return compare64(c, a.as_limbs()[0], b.as_limbs()[0]);
    }
    holds(c, a.cmp(&b), || {
        let (x, y) = (sext256(a, t), sext256(b, t));
        match (is_neg(x), is_neg(y)) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => x.cmp(&y),
        }
    })
}

/// Evaluates a comparison of two `i64` values.
#[inline(always)]
pub fn compare64(c: Cond, a: u64, b: u64) -> bool {
    match c {
        Cond::Eq => a == b,
        Cond::Ne => a != b,
        Cond::Ult => a < b,
        Cond::Ule => a <= b,
        Cond::Ugt => a > b,
        Cond::Uge => a >= b,
        Cond::Slt => (a as i64) < (b as i64),
        Cond::Sle => (a as i64) <= (b as i64),
        Cond::Sgt => (a as i64) > (b as i64),
        Cond::Sge => (a as i64) >= (b as i64),
    }
}

/// Whether `c` holds of two operands ordered `unsigned` as unsigned
/// numbers and `signed()` as signed ones.
#[inline]
fn holds(
    c: Cond,
    unsigned: std::cmp::Ordering,
    signed: impl FnOnce() -> std::cmp::Ordering,
) -> bool {
    match c {
        Cond::Eq => unsigned.is_eq(),
        Cond::Ne => unsigned.is_ne(),
        Cond::Ult => unsigned.is_lt(),
        Cond::Ule => unsigned.is_le(),
        Cond::Ugt => unsigned.is_gt(),
        Cond::Uge => unsigned.is_ge(),
        Cond::Slt => signed().is_lt(),
        Cond::Sle => signed().is_le(),
        Cond::Sgt => signed().is_gt(),
        Cond::Sge => signed().is_ge(),
    }
}

/// Evaluates a pure operation whose operands are known. `arg_ty` is the type
/// of the first operand, `ty` the result type. `None` for impure operations.
pub fn eval_pure(op: &Op, ty: Type, arg_ty: Type, args: &[U256]) -> Option<U256> {
    let a = args.first().copied().unwrap_or_default();
    let b = args.get(1).copied().unwrap_or_default();
    let c = args.get(2).copied().unwrap_or_default();
    Some(match op {
        Op::Iconst(k) => *k & mask(ty),
        Op::Binary(bin) => binary(*bin, ty, a, b),
        Op::Not => !a & mask(ty),
        Op::Icmp(cond) => U256::from(compare(*cond, arg_ty, a, b) as u8),
        Op::Select => {
            if a.is_zero() {
                c
            } else {
                b
            }
        }
        Op::Uext => a & mask(arg_ty),
        Op::Sext => sext256(a, arg_ty) & mask(ty),
        Op::Trunc => a & mask(ty),
        Op::AddMod => {
            if c.is_zero() {
                U256::ZERO
            } else {
                a.add_mod(b, c)
            }
        }
        Op::MulMod => {
            if c.is_zero() {
                U256::ZERO
            } else {
                a.mul_mod(b, c)
            }
        }
        Op::Exp => a.wrapping_pow(b),
        Op::SignExtend => {
            if a >= U256::from(31) {
                b
            } else {
                let bit = a.to::<usize>() * 8 + 7;
                let m = (U256::from(1) << bit) - U256::from(1);
                if b.bit(bit) { b | !m } else { b & m }
            }
        }
        Op::Byte => {
            if a >= U256::from(32) {
                U256::ZERO
            } else {
                U256::from(b.byte(31 - a.to::<usize>()))
            }
        }
        Op::Clz => U256::from(
            (a & mask(ty))
                .leading_zeros()
                .saturating_sub(256 - ty.bits()),
        ),
        _ => return None,
    })
}

/// Whether comparison `c` at type `ty` holds of slots `a` and `b`.
#[inline(always)]
pub(super) fn compare_slots(c: Cond, ty: Type, vals: &[U256], a: u32, b: u32) -> bool {
    let (x, y) = (&vals[a as usize], &vals[b as usize]);
    match ty {
        Type::I64 => compare64(c, x.as_limbs()[0], y.as_limbs()[0]),
        // Narrower values are held zero-extended: their equality and
        // unsigned order are those of the low limbs.
        Type::I1 | Type::I8 | Type::I32
            if matches!(
                c,
                Cond::Eq | Cond::Ne | Cond::Ult | Cond::Ule | Cond::Ugt | Cond::Uge
            ) =>
        {
            compare64(c, x.as_limbs()[0], y.as_limbs()[0])
        }
        Type::I256 => {
            // Signed order is unsigned order with the sign bits flipped.
            let flip = |v: &U256| {
                let mut l = *v.as_limbs();
                l[3] ^= 1 << 63;
                U256::from_limbs(l)
            };
            match c {
                Cond::Eq => x == y,
                Cond::Ne => x != y,
                Cond::Ult => x < y,
                Cond::Ule => x <= y,
                Cond::Ugt => x > y,
                Cond::Uge => x >= y,
                Cond::Slt => flip(x) < flip(y),
                Cond::Sle => flip(x) <= flip(y),
                Cond::Sgt => flip(x) > flip(y),
                Cond::Sge => flip(x) >= flip(y),
            }
        }
        _ => compare(c, ty, *x, *y),
    }
}

/// `x + y` mod 2^256, with the carries inline (ruint's addition is an
/// out-of-line call, a tenth of a 256-bit addition-heavy run).
#[inline(always)]
pub(super) fn add256(x: &U256, y: &U256) -> U256 {
    let (a, b) = (x.as_limbs(), y.as_limbs());
    let mut r = [0u64; 4];
    let mut carry = 0u128;
    for i in 0..4 {
        let s = u128::from(a[i]) + u128::from(b[i]) + carry;
        r[i] = s as u64;
        carry = s >> 64;
    }
    U256::from_limbs(r)
}

/// `x - y` mod 2^256, with the borrows inline.
#[inline(always)]
pub(super) fn sub256(x: &U256, y: &U256) -> U256 {
    let (a, b) = (x.as_limbs(), y.as_limbs());
    let mut r = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d, o1) = a[i].overflowing_sub(b[i]);
        let (d, o2) = d.overflowing_sub(u64::from(borrow));
        r[i] = d;
        borrow = o1 | o2;
    }
    U256::from_limbs(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_add_and_sub_agree_with_ruint() {
        let edges = [
            U256::ZERO,
            U256::from(1),
            U256::from(u64::MAX),
            U256::from(u128::MAX),
            U256::MAX,
            U256::MAX - U256::from(1),
            U256::from(1) << 255,
            U256::from_limbs([0, u64::MAX, 0, u64::MAX]),
        ];
        // Edge values against each other, and a stream of mixed limbs.
        let mut words: Vec<U256> = edges.to_vec();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..64 {
            let mut limbs = [0u64; 4];
            for l in &mut limbs {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *l = match x >> 62 {
                    0 => 0,
                    1 => u64::MAX,
                    _ => x,
                };
            }
            words.push(U256::from_limbs(limbs));
        }
        for a in &words {
            for b in &words {
                assert_eq!(add256(a, b), a.wrapping_add(*b), "{a} + {b}");
                assert_eq!(sub256(a, b), a.wrapping_sub(*b), "{a} - {b}");
            }
        }
    }
}
