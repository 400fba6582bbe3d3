//! Exact 256-bit semantics of the EVM's pure stack operations, shared by the
//! CFG's constant propagation and the dispatch recovery's symbolic executor.

use crate::opcode::op;
use alloy_primitives::U256;

fn is_negative(x: U256) -> bool {
    x.bit(255)
}

fn negate(x: U256) -> U256 {
    (!x).wrapping_add(U256::from(1))
}

fn abs(x: U256) -> U256 {
    if is_negative(x) { negate(x) } else { x }
}

fn bool_word(b: bool) -> U256 {
    if b { U256::from(1) } else { U256::ZERO }
}

fn shift_amount(shift: U256) -> Option<usize> {
    (shift < U256::from(256)).then(|| shift.to::<usize>())
}

/// Whether `opcode` is a pure function of its stack inputs (so it can be
/// evaluated on constants).
pub fn is_pure(opcode: u8) -> bool {
    matches!(opcode, op::ADD..=op::SIGNEXTEND | op::LT..=op::CLZ)
}

/// Evaluates the pure operation `opcode` on `args` (top of stack first).
/// Returns `None` for an opcode that is not pure or a wrong argument count.
pub fn pure(opcode: u8, args: &[U256]) -> Option<U256> {
    let a = *args.first()?;
    let b = args.get(1).copied().unwrap_or_default();
    let c = args.get(2).copied().unwrap_or_default();
    Some(match opcode {
        op::ADD => a.wrapping_add(b),
        op::MUL => a.wrapping_mul(b),
        op::SUB => a.wrapping_sub(b),
        op::DIV => a.checked_div(b).unwrap_or_default(),
        op::SDIV => {
            if b.is_zero() {
                U256::ZERO
            } else {
                let q = abs(a) / abs(b);
                if is_negative(a) != is_negative(b) {
                    negate(q)
                } else {
                    q
                }
            }
        }
        op::MOD => a.checked_rem(b).unwrap_or_default(),
        op::SMOD => {
            if b.is_zero() {
                U256::ZERO
            } else {
                let r = abs(a) % abs(b);
                if is_negative(a) { negate(r) } else { r }
            }
        }
        op::ADDMOD => {
            if c.is_zero() {
                U256::ZERO
            } else {
                a.add_mod(b, c)
            }
        }
        op::MULMOD => {
            if c.is_zero() {
                U256::ZERO
            } else {
                a.mul_mod(b, c)
            }
        }
        op::EXP => a.wrapping_pow(b),
        op::SIGNEXTEND => {
            // SIGNEXTEND(b, x): extend the sign of byte b (0 = lowest).
            if a >= U256::from(31) {
                b
            } else {
                let bit = a.to::<usize>() * 8 + 7;
                let mask = (U256::from(1) << bit) - U256::from(1);
                if b.bit(bit) { b | !mask } else { b & mask }
            }
        }
        op::LT => bool_word(a < b),
        op::GT => bool_word(a > b),
        op::SLT => bool_word(match (is_negative(a), is_negative(b)) {
            (true, false) => true,
            (false, true) => false,
            _ => a < b,
        }),
        op::SGT => bool_word(match (is_negative(a), is_negative(b)) {
            (true, false) => false,
            (false, true) => true,
            _ => a > b,
        }),
        op::EQ => bool_word(a == b),
        op::ISZERO => bool_word(a.is_zero()),
        op::AND => a & b,
        op::OR => a | b,
        op::XOR => a ^ b,
        op::NOT => !a,
        op::BYTE => {
            // BYTE(i, x): byte i counted from the most significant.
            if a >= U256::from(32) {
                U256::ZERO
            } else {
                U256::from(b.byte(31 - a.to::<usize>()))
            }
        }
        op::SHL => shift_amount(a).map_or(U256::ZERO, |s| b << s),
        op::SHR => shift_amount(a).map_or(U256::ZERO, |s| b >> s),
        op::SAR => match shift_amount(a) {
            Some(s) => b.arithmetic_shr(s),
            None if is_negative(b) => U256::MAX,
            None => U256::ZERO,
        },
        op::CLZ => U256::from(a.leading_zeros()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(x: u64) -> U256 {
        U256::from(x)
    }

    #[test]
    fn edge_cases() {
        let minus_one = U256::MAX;
        let min = U256::from(1) << 255;
        assert_eq!(pure(op::DIV, &[u(7), U256::ZERO]), Some(U256::ZERO));
        assert_eq!(pure(op::SDIV, &[min, minus_one]), Some(min));
        assert_eq!(pure(op::SDIV, &[negate(u(7)), u(2)]), Some(negate(u(3))));
        assert_eq!(pure(op::SMOD, &[negate(u(7)), u(2)]), Some(negate(u(1))));
        assert_eq!(pure(op::SHL, &[u(256), u(1)]), Some(U256::ZERO));
        assert_eq!(pure(op::SAR, &[u(300), minus_one]), Some(minus_one));
        assert_eq!(pure(op::SIGNEXTEND, &[u(0), u(0xff)]), Some(minus_one));
        assert_eq!(pure(op::SIGNEXTEND, &[u(40), u(0xff)]), Some(u(0xff)));
        assert_eq!(pure(op::BYTE, &[u(31), u(0x1234)]), Some(u(0x34)));
        assert_eq!(pure(op::BYTE, &[u(32), u(0x1234)]), Some(U256::ZERO));
        assert_eq!(
            pure(op::MULMOD, &[minus_one, minus_one, u(12345)]),
            Some(minus_one.mul_mod(minus_one, u(12345)))
        );
        assert_eq!(pure(op::ADDMOD, &[minus_one, u(2), u(3)]), Some(u(2)));
        assert_eq!(pure(op::CLZ, &[U256::ZERO]), Some(u(256)));
        assert_eq!(pure(op::CLZ, &[u(1)]), Some(u(255)));
        assert_eq!(pure(op::EXP, &[u(2), u(256)]), Some(U256::ZERO));
        assert_eq!(pure(op::SLT, &[minus_one, u(0)]), Some(u(1)));
    }
}
