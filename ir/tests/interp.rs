//! The interpreter's exact integer semantics, case by case, through
//! `interp::{binary, compare, eval_pure}` (what both the interpreter and
//! constant folding evaluate), cross-checked against references written
//! here: native `i128` arithmetic for the narrow widths, `I256` for signed
//! division at 256 bits, square-and-multiply for EXP and 512-bit arithmetic
//! (`U512`) for ADDMOD and MULMOD.
//!
//! Operands are written as strings: `0x` hex, decimal, or `-N` (two's
//! complement, then masked to the operation's type, so `-1` at i8 is 0xff).

use alloy_primitives::{I256, U256, U512};
use chainlift_ir::entities::FuncId;
use chainlift_ir::inst::{BinOp, Cond, Op};
use chainlift_ir::interp::{Interpreter, Limits, Outcome, SimpleHost, binary, compare, eval_pure};
use chainlift_ir::parse::parse_module;
use chainlift_ir::types::Type::{self, I1, I8, I32, I64, I256 as W};

// ---------------------------------------------------------------------------
// Helpers

/// Parses `0x..`, decimal or `-N` (two's complement at 256 bits).
fn u(s: &str) -> U256 {
    let s = s.trim();
    let parsed = if let Some(h) = s.strip_prefix("0x") {
        U256::from_str_radix(h, 16)
    } else if let Some(n) = s.strip_prefix('-') {
        U256::from_str_radix(n, 10).map(|v| U256::ZERO.wrapping_sub(v))
    } else {
        U256::from_str_radix(s, 10)
    };
    parsed.unwrap_or_else(|e| panic!("bad constant `{s}`: {e}"))
}

fn mask(v: U256, t: Type) -> U256 {
    if t.bits() >= 256 {
        v
    } else {
        v & ((U256::from(1) << t.bits()) - U256::from(1))
    }
}

/// `2**n`.
fn pow2(n: usize) -> U256 {
    U256::from(1) << n
}

const MAX: &str = "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const MIN: &str = "0x8000000000000000000000000000000000000000000000000000000000000000";

/// The most negative value of `t`, as a string for [`u`].
fn min_of(t: Type) -> String {
    format!("{:#x}", pow2(t.bits() - 1))
}

/// `binary(op, t, a, b) == want`, operands and expectation masked to `t`.
#[track_caller]
fn check(op: BinOp, t: Type, a: &str, b: &str, want: &str) {
    let (x, y) = (mask(u(a), t), mask(u(b), t));
    let got = binary(op, t, x, y);
    assert_eq!(
        got,
        mask(u(want), t),
        "{}.{t} {a}, {b}: got {got:#x}, want {want}",
        op.name()
    );
}

/// `eval_pure(op)` at i256 with i256 operands.
#[track_caller]
fn evm(op: Op, args: &[&str], want: &str) {
    let vals: Vec<U256> = args.iter().map(|a| u(a)).collect();
    let got = eval_pure(&op, W, W, &vals).expect("pure");
    assert_eq!(got, u(want), "{op:?} {args:?}: got {got:#x}, want {want}");
}

/// `compare(c, t, a, b) == want`.
#[track_caller]
fn cmp(c: Cond, t: Type, a: &str, b: &str, want: bool) {
    let (x, y) = (mask(u(a), t), mask(u(b), t));
    assert_eq!(compare(c, t, x, y), want, "icmp.{} {t} {a}, {b}", c.name());
}

/// A deterministic stream of 256-bit values (xorshift64*, four draws each).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn word(&mut self) -> U256 {
        let limbs = [
            self.next_u64(),
            self.next_u64(),
            self.next_u64(),
            self.next_u64(),
        ];
        // Vary the magnitude so small and large operands both occur.
        let shift = (self.next_u64() % 256) as usize;
        U256::from_limbs(limbs) >> shift
    }
}

/// Values that sit on every boundary of a 256-bit word.
fn edge_words() -> Vec<U256> {
    let mut v = vec![
        U256::ZERO,
        U256::from(1),
        U256::from(2),
        U256::from(3),
        U256::from(7),
        U256::from(255),
        U256::from(256),
        U256::MAX,
        U256::MAX - U256::from(1),
        pow2(255),
        pow2(255) - U256::from(1),
        pow2(255) + U256::from(1),
    ];
    for k in [8, 31, 32, 63, 64, 127, 128, 192] {
        v.push(pow2(k));
        v.push(pow2(k) - U256::from(1));
    }
    v
}

// ---------------------------------------------------------------------------
// Division and remainder

#[test]
fn division_by_zero_is_zero_at_every_width() {
    for t in [I1, I8, I32, I64, W] {
        let min = min_of(t);
        for op in [BinOp::UDiv, BinOp::SDiv, BinOp::URem, BinOp::SRem] {
            for a in ["0", "1", "-1", "5", "-5", &min, MAX] {
                check(op, t, a, "0", "0");
            }
        }
    }
}

#[test]
fn sdiv_min_by_minus_one_is_min() {
    check(BinOp::SDiv, W, MIN, "-1", MIN);
    check(
        BinOp::SDiv,
        I64,
        "0x8000000000000000",
        "-1",
        "0x8000000000000000",
    );
    check(BinOp::SDiv, I32, "0x80000000", "-1", "0x80000000");
    check(BinOp::SDiv, I8, "0x80", "-1", "0x80");
    check(BinOp::SDiv, I1, "1", "1", "1"); // -1 / -1 = 1, which is -1 at i1
    // The remainder of the same division is 0, not a trap.
    check(BinOp::SRem, W, MIN, "-1", "0");
    check(BinOp::SRem, I64, "0x8000000000000000", "-1", "0");
    check(BinOp::SRem, I32, "0x80000000", "-1", "0");
    check(BinOp::SRem, I8, "0x80", "-1", "0");
    // Nearby: MIN / 1, MIN / MIN, MIN / 2.
    check(BinOp::SDiv, W, MIN, "1", MIN);
    check(BinOp::SDiv, W, MIN, MIN, "1");
    check(
        BinOp::SDiv,
        W,
        MIN,
        "2",
        "0xc000000000000000000000000000000000000000000000000000000000000000",
    );
    check(BinOp::SDiv, I8, "0x80", "2", "-64");
}

#[test]
fn sdiv_rounds_toward_zero() {
    for t in [I8, I32, I64, W] {
        check(BinOp::SDiv, t, "7", "2", "3");
        check(BinOp::SDiv, t, "-7", "2", "-3");
        check(BinOp::SDiv, t, "7", "-2", "-3");
        check(BinOp::SDiv, t, "-7", "-2", "3");
        check(BinOp::SDiv, t, "-1", "2", "0");
        check(BinOp::SDiv, t, "1", "-2", "0");
    }
    // Unsigned division sees -7 as a large number.
    check(BinOp::UDiv, I8, "-7", "2", "0x7c");
    check(
        BinOp::UDiv,
        W,
        "-2",
        "2",
        "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    );
}

#[test]
fn smod_takes_the_sign_of_the_dividend() {
    for t in [I8, I32, I64, W] {
        check(BinOp::SRem, t, "7", "2", "1");
        check(BinOp::SRem, t, "-7", "2", "-1");
        check(BinOp::SRem, t, "7", "-2", "1");
        check(BinOp::SRem, t, "-7", "-2", "-1");
        check(BinOp::SRem, t, "-8", "3", "-2");
        check(BinOp::SRem, t, "8", "-3", "2");
        check(BinOp::SRem, t, "-6", "3", "0");
    }
    check(BinOp::SRem, W, MIN, "3", "-2");
    check(BinOp::SRem, W, MIN, MAX, "0");
    check(
        BinOp::SRem,
        W,
        "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        MIN,
        "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    );
    check(BinOp::URem, W, "-7", "2", "1");
    check(BinOp::URem, I8, "-7", "10", "9"); // 249 % 10
}

// ---------------------------------------------------------------------------
// Shifts and rotates

#[test]
fn shifts_by_the_width_or_more() {
    for s in [
        "256",
        "257",
        "511",
        "0x10000000000000000",
        "0x10000000000000001",
        MIN,
        MAX,
    ] {
        check(BinOp::Shl, W, "1", s, "0");
        check(BinOp::Shl, W, MAX, s, "0");
        check(BinOp::LShr, W, MAX, s, "0");
        check(BinOp::LShr, W, MIN, s, "0");
        check(BinOp::AShr, W, MIN, s, MAX);
        check(BinOp::AShr, W, "-1", s, MAX);
        check(BinOp::AShr, W, "-12345", s, MAX);
        check(
            BinOp::AShr,
            W,
            "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            s,
            "0",
        );
        check(BinOp::AShr, W, "1", s, "0");
    }
    // Just below the width.
    check(BinOp::Shl, W, "1", "255", MIN);
    check(BinOp::Shl, W, "3", "255", MIN);
    check(BinOp::LShr, W, MIN, "255", "1");
    check(BinOp::AShr, W, MIN, "255", MAX);
    check(BinOp::AShr, W, MIN, "254", "-2");
    check(BinOp::AShr, W, "-16", "2", "-4");
    check(BinOp::AShr, W, "-1", "0", "-1");
    // The narrow widths: the count is not masked (the WASM frontend masks).
    for t in [I8, I32, I64] {
        let w = t.bits().to_string();
        let w1 = (t.bits() + 1).to_string();
        let min = min_of(t);
        for s in [w.as_str(), w1.as_str(), "-1"] {
            check(BinOp::Shl, t, "1", s, "0");
            check(BinOp::LShr, t, &min, s, "0");
            check(BinOp::AShr, t, &min, s, "-1");
            check(BinOp::AShr, t, "1", s, "0");
        }
        let top = (t.bits() - 1).to_string();
        check(BinOp::Shl, t, "1", &top, &min);
        check(BinOp::AShr, t, &min, &top, "-1");
        check(BinOp::LShr, t, &min, &top, "1");
    }
}

#[test]
fn rotates_by_any_amount() {
    check(BinOp::Rotl, W, MIN, "1", "1");
    check(BinOp::Rotl, W, "1", "256", "1");
    check(BinOp::Rotl, W, "1", "257", "2");
    check(BinOp::Rotl, W, "1", MAX, MIN); // MAX mod 256 = 255
    check(BinOp::Rotr, W, "1", "1", MIN);
    check(BinOp::Rotr, W, "1", "0x10000000000000000", "1");
    check(
        BinOp::Rotr,
        W,
        "3",
        "257",
        "0x8000000000000000000000000000000000000000000000000000000000000001",
    );
    check(BinOp::Rotl, I8, "0x81", "1", "0x03");
    check(BinOp::Rotl, I8, "0x81", "9", "0x03");
    check(BinOp::Rotr, I8, "0x81", "1", "0xc0");
    check(BinOp::Rotr, I8, "0x01", "0xff", "0x02");
    check(BinOp::Rotl, I32, "0x12345678", "8", "0x34567812");
    check(
        BinOp::Rotr,
        I64,
        "0x0123456789abcdef",
        "4",
        "0xf0123456789abcde",
    );
    check(BinOp::Rotl, I1, "1", "1", "1");
}

// ---------------------------------------------------------------------------
// Narrow widths against native arithmetic

/// The reference for one binary operation at a width of at most 64 bits,
/// with `i128` doing the signed work.
fn native(op: BinOp, bits: u32, a: u128, b: u128) -> u128 {
    let m = (1u128 << bits) - 1;
    let (a, b) = (a & m, b & m);
    let s = |v: u128| -> i128 {
        if (v >> (bits - 1)) & 1 == 1 {
            v as i128 - (1i128 << bits)
        } else {
            v as i128
        }
    };
    let bits128 = u128::from(bits);
    let r = match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::UDiv => a.checked_div(b).unwrap_or(0),
        BinOp::URem => a.checked_rem(b).unwrap_or(0),
        BinOp::SDiv => s(a).checked_div(s(b)).map_or(0, |q| q as u128),
        BinOp::SRem => s(a).checked_rem(s(b)).map_or(0, |q| q as u128),
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        BinOp::Shl if b >= bits128 => 0,
        BinOp::Shl => a << b,
        BinOp::LShr if b >= bits128 => 0,
        BinOp::LShr => a >> b,
        BinOp::AShr if b >= bits128 => (s(a) >> 127) as u128,
        BinOp::AShr => (s(a) >> b) as u128,
        BinOp::Rotl | BinOp::Rotr => {
            let k = b % bits128;
            let k = if op == BinOp::Rotr {
                (bits128 - k) % bits128
            } else {
                k
            };
            if k == 0 {
                a
            } else {
                (a << k) | (a >> (bits128 - k))
            }
        }
    };
    r & m
}

fn check_native(t: Type, a: u128, b: u128) {
    let bits = t.bits() as u32;
    for op in BinOp::ALL {
        let want = native(op, bits, a, b);
        let got = binary(op, t, U256::from(a), U256::from(b));
        assert_eq!(
            got,
            U256::from(want),
            "{}.{t} {a:#x}, {b:#x}: got {got:#x}, want {want:#x}",
            op.name()
        );
    }
}

#[test]
fn i1_and_i8_match_native_arithmetic_exhaustively() {
    for a in 0..2u128 {
        for b in 0..2u128 {
            check_native(I1, a, b);
        }
    }
    for a in 0..256u128 {
        for b in 0..256u128 {
            check_native(I8, a, b);
        }
    }
}

#[test]
fn i32_and_i64_match_native_arithmetic() {
    for t in [I32, I64] {
        let bits = t.bits() as u32;
        let m = (1u128 << bits) - 1;
        let top = 1u128 << (bits - 1);
        let mut vals = vec![
            0,
            1,
            2,
            3,
            7,
            31,
            32,
            33,
            63,
            64,
            65,
            m,
            m - 1,
            top,
            top - 1,
            top + 1,
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(bits));
        vals.extend((0..40).map(|_| u128::from(rng.next_u64()) & m));
        vals.extend((0..10).map(|_| u128::from(rng.next_u64() % 100)));
        for a in &vals {
            for b in &vals {
                check_native(t, *a, *b);
            }
        }
    }
}

#[test]
fn i256_signed_division_and_shifts_match_i256() {
    let mut vals = edge_words();
    let mut rng = Rng(42);
    vals.extend((0..40).map(|_| rng.word()));
    for a in &vals {
        for b in &vals {
            let (x, y) = (I256::from_raw(*a), I256::from_raw(*b));
            let (q, r) = if y.is_zero() {
                (U256::ZERO, U256::ZERO)
            } else {
                (x.wrapping_div(y).into_raw(), x.wrapping_rem(y).into_raw())
            };
            assert_eq!(binary(BinOp::SDiv, W, *a, *b), q, "sdiv {a:#x}, {b:#x}");
            assert_eq!(binary(BinOp::SRem, W, *a, *b), r, "srem {a:#x}, {b:#x}");
            let sar = match usize::try_from(*b) {
                Ok(s) if s < 256 => x.asr(s).into_raw(),
                _ if x.is_negative() => U256::MAX,
                _ => U256::ZERO,
            };
            assert_eq!(binary(BinOp::AShr, W, *a, *b), sar, "ashr {a:#x}, {b:#x}");
            let shl = usize::try_from(*b)
                .ok()
                .filter(|s| *s < 256)
                .map_or(U256::ZERO, |s| *a << s);
            assert_eq!(binary(BinOp::Shl, W, *a, *b), shl, "shl {a:#x}, {b:#x}");
        }
    }
}

// ---------------------------------------------------------------------------
// Comparisons

#[test]
fn signed_and_unsigned_comparisons() {
    cmp(Cond::Ult, W, MAX, "0", false);
    cmp(Cond::Slt, W, MAX, "0", true);
    cmp(Cond::Slt, W, MIN, MAX, true);
    cmp(
        Cond::Sgt,
        W,
        "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        MIN,
        true,
    );
    cmp(
        Cond::Ugt,
        W,
        MIN,
        "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        true,
    );
    cmp(Cond::Sle, W, MIN, MIN, true);
    cmp(Cond::Sge, W, "-2", "-3", true);
    cmp(Cond::Slt, I8, "0x80", "0x7f", true);
    cmp(Cond::Ult, I8, "0x80", "0x7f", false);
    cmp(Cond::Slt, I32, "-1", "0", true);
    cmp(Cond::Slt, I64, "0x80000000", "0", false); // positive at i64
    cmp(Cond::Slt, I1, "1", "0", true); // 1 is -1 at i1
    cmp(Cond::Eq, I8, "-1", "0xff", true);
    cmp(Cond::Ne, W, "1", "2", true);
    cmp(Cond::Ule, W, "5", "5", true);
    cmp(Cond::Uge, W, "4", "5", false);
}

// ---------------------------------------------------------------------------
// SIGNEXTEND, BYTE, CLZ

/// EVM SIGNEXTEND, written out bit by bit.
fn ref_signextend(b: U256, x: U256) -> U256 {
    if b >= U256::from(31) {
        return x;
    }
    let bit = b.to::<usize>() * 8 + 7;
    let sign = x.bit(bit);
    let mut r = x;
    for i in bit + 1..256 {
        r.set_bit(i, sign);
    }
    r
}

#[test]
fn signextend_from_every_byte() {
    let se = |b: &str, x: &str, want: &str| evm(Op::SignExtend, &[b, x], want);
    se("0", "0xff", MAX);
    se("0", "0x7f", "0x7f");
    se("0", "0x1ff", MAX);
    se("0", "0x100", "0");
    se(
        "1",
        "0x8000",
        "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8000",
    );
    se("1", "0xff7fff", "0x7fff");
    se(
        "30",
        "0x0080000000000000000000000000000000000000000000000000000000000000",
        "0xff80000000000000000000000000000000000000000000000000000000000000",
    );
    se(
        "30",
        "0xff7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "0x007fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    );
    // 31 and beyond: unchanged, however large the index.
    for b in [
        "31",
        "32",
        "255",
        "256",
        "0x10000000000000000",
        "0x1000000000000000000000000000000000000000000000000000000000000000",
        MAX,
    ] {
        se(b, "0x80", "0x80");
        se(b, MIN, MIN);
        se(b, "0x7f", "0x7f");
    }
    // Every byte index against the reference, for patterns that set and
    // clear each sign bit.
    let mut rng = Rng(7);
    let patterns: Vec<U256> = edge_words()
        .into_iter()
        .chain((0..20).map(|_| rng.word()))
        .collect();
    for b in 0..40u64 {
        let b = U256::from(b);
        for x in &patterns {
            let k = b.to::<usize>().min(31);
            for x in [*x, *x ^ pow2(k * 8 + 7)] {
                let got = eval_pure(&Op::SignExtend, W, W, &[b, x]).expect("pure");
                assert_eq!(got, ref_signextend(b, x), "signextend {b}, {x:#x}");
            }
        }
    }
}

#[test]
fn byte_in_and_out_of_range() {
    let x = "0x112233445566778899aabbccddeeff00112233445566778899aabbccddeeff01";
    let bytes = u(x).to_be_bytes::<32>();
    for (i, b) in bytes.iter().enumerate() {
        evm(Op::Byte, &[&i.to_string(), x], &b.to_string());
    }
    evm(Op::Byte, &["0", x], "0x11");
    evm(Op::Byte, &["31", x], "0x01");
    for i in [
        "32",
        "33",
        "255",
        "256",
        "0x10000000000000000",
        "0x10000000000000001",
        "0x1000000000000000000000000000000000000000000000000000000000000000",
        MAX,
    ] {
        evm(Op::Byte, &[i, x], "0");
        evm(Op::Byte, &[i, MAX], "0");
    }
}

#[test]
fn clz_at_every_width() {
    for t in [I1, I8, I32, I64, W] {
        let bits = t.bits();
        let clz = |a: U256| eval_pure(&Op::Clz, t, t, &[a]).expect("pure");
        assert_eq!(clz(U256::ZERO), U256::from(bits), "clz.{t} 0");
        assert_eq!(clz(U256::from(1)), U256::from(bits - 1), "clz.{t} 1");
        assert_eq!(clz(pow2(bits - 1)), U256::ZERO, "clz.{t} top bit");
        assert_eq!(clz(mask(U256::MAX, t)), U256::ZERO, "clz.{t} all ones");
        for k in 0..bits {
            assert_eq!(clz(pow2(k)), U256::from(bits - 1 - k), "clz.{t} 2**{k}");
        }
    }
}

// ---------------------------------------------------------------------------
// EXP

/// a ** b mod 2**256 by left-to-right square-and-multiply.
fn ref_pow(a: U256, b: U256) -> U256 {
    let mut acc = U256::from(1);
    for i in (0..256).rev() {
        acc = acc.wrapping_mul(acc);
        if b.bit(i) {
            acc = acc.wrapping_mul(a);
        }
    }
    acc
}

#[test]
fn exp_with_huge_exponents() {
    evm(Op::Exp, &["2", "256"], "0");
    evm(Op::Exp, &["2", "255"], MIN);
    evm(Op::Exp, &["2", MAX], "0");
    evm(Op::Exp, &["2", "0x10000000000000000"], "0");
    evm(Op::Exp, &["4", "0x8000000000000000"], "0"); // 4**(2**63) = 2**(2**64)
    evm(Op::Exp, &["0x100000000", "0x40000000"], "0");
    evm(
        Op::Exp,
        &["0x8000000000000000", "3"],
        "0x200000000000000000000000000000000000000000000000",
    );
    evm(Op::Exp, &["0x8000000000000000", "5"], "0");
    evm(Op::Exp, &["0", "0"], "1");
    evm(Op::Exp, &["0", MAX], "0");
    evm(Op::Exp, &["1", MAX], "1");
    evm(Op::Exp, &[MAX, MAX], MAX); // (-1) ** odd
    evm(Op::Exp, &[MAX, "0x10000000000000000"], "1"); // (-1) ** even
    evm(Op::Exp, &["3", MIN], "1"); // 3 ** (2**255): the unit group mod 2**256 has exponent 2**254
    assert_eq!(ref_pow(U256::from(3), pow2(255)), U256::from(1));
    assert_eq!(ref_pow(U256::from(3), pow2(254)), U256::from(1));
    evm(
        Op::Exp,
        &[
            "3",
            "0x4000000000000000000000000000000000000000000000000000000000000000",
        ],
        "1",
    );
    evm(
        Op::Exp,
        &[
            "3",
            "0x2000000000000000000000000000000000000000000000000000000000000000",
        ],
        &format!("{:#x}", ref_pow(U256::from(3), pow2(253))),
    );
    assert_ne!(ref_pow(U256::from(3), pow2(253)), U256::from(1));
    evm(Op::Exp, &["10", "18"], "1000000000000000000");
    // Against the reference, on edge and random operands.
    let mut vals = edge_words();
    let mut rng = Rng(3);
    vals.extend((0..30).map(|_| rng.word()));
    for a in &vals {
        for b in &vals {
            let got = eval_pure(&Op::Exp, W, W, &[*a, *b]).expect("pure");
            assert_eq!(got, ref_pow(*a, *b), "exp {a:#x}, {b:#x}");
        }
    }
}

// ---------------------------------------------------------------------------
// ADDMOD and MULMOD

fn wide(x: U256) -> U512 {
    U512::from(x)
}

fn ref_addmod(a: U256, b: U256, n: U256) -> U256 {
    if n.is_zero() {
        return U256::ZERO;
    }
    ((wide(a) + wide(b)) % wide(n)).to::<U256>()
}

fn ref_mulmod(a: U256, b: U256, n: U256) -> U256 {
    if n.is_zero() {
        return U256::ZERO;
    }
    let product: U512 = a.widening_mul(b);
    (product % wide(n)).to::<U256>()
}

#[test]
fn addmod_and_mulmod_with_overflowing_intermediates() {
    // a + b overflows 256 bits.
    evm(Op::AddMod, &[MAX, MAX, "7"], "2");
    evm(Op::AddMod, &[MAX, "1", MAX], "1");
    evm(Op::AddMod, &[MAX, MAX, MAX], "0");
    evm(Op::AddMod, &[MAX, "2", MIN], "1");
    evm(Op::AddMod, &[MIN, MIN, "3"], "1");
    evm(Op::AddMod, &["10", "10", "8"], "4");
    evm(Op::AddMod, &["5", "5", "0"], "0");
    // a * b overflows 256 bits.
    evm(Op::MulMod, &[MAX, MAX, MAX], "0");
    evm(Op::MulMod, &[MAX, MAX, "12345"], "0x13b");
    evm(
        Op::MulMod,
        &[
            "0x100000000000000000000000000000000",
            "0x100000000000000000000000000000000",
            MAX,
        ],
        "1",
    );
    evm(
        Op::MulMod,
        &[
            MAX,
            MAX,
            "0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe",
        ],
        "1",
    );
    evm(
        Op::MulMod,
        &[MIN, MIN, MAX],
        "0x4000000000000000000000000000000000000000000000000000000000000000",
    );
    evm(Op::MulMod, &["10", "10", "7"], "2");
    evm(Op::MulMod, &["3", "4", "0"], "0");
    evm(Op::MulMod, &[MAX, MAX, "1"], "0");
    // Against 512-bit arithmetic.
    let mut vals = edge_words();
    let mut rng = Rng(11);
    vals.extend((0..12).map(|_| rng.word()));
    for a in &vals {
        for b in &vals {
            for n in &vals {
                let got = eval_pure(&Op::AddMod, W, W, &[*a, *b, *n]).expect("pure");
                assert_eq!(got, ref_addmod(*a, *b, *n), "addmod {a:#x}, {b:#x}, {n:#x}");
                let got = eval_pure(&Op::MulMod, W, W, &[*a, *b, *n]).expect("pure");
                assert_eq!(got, ref_mulmod(*a, *b, *n), "mulmod {a:#x}, {b:#x}, {n:#x}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Other pure operations

#[test]
fn conversions_select_and_constants() {
    let e = |op: Op, ty: Type, arg_ty: Type, args: &[U256]| {
        eval_pure(&op, ty, arg_ty, args).expect("pure")
    };
    let x = u("0x1234567890abcdef");
    assert_eq!(e(Op::Trunc, I8, I64, &[x]), U256::from(0xef));
    assert_eq!(e(Op::Trunc, I32, W, &[x]), U256::from(0x90ab_cdef_u32));
    assert_eq!(e(Op::Uext, W, I8, &[U256::from(0x80)]), U256::from(0x80));
    assert_eq!(e(Op::Sext, W, I8, &[U256::from(0x80)]), u("-128"));
    assert_eq!(
        e(Op::Sext, I32, I8, &[U256::from(0x80)]),
        U256::from(0xffff_ff80_u32)
    );
    assert_eq!(e(Op::Sext, I64, I1, &[U256::from(1)]), U256::from(u64::MAX));
    assert_eq!(
        e(Op::Sext, I64, I32, &[U256::from(0x7fff_ffff)]),
        U256::from(0x7fff_ffff)
    );
    assert_eq!(e(Op::Not, I8, I8, &[U256::ZERO]), U256::from(0xff));
    assert_eq!(e(Op::Not, W, W, &[U256::ZERO]), U256::MAX);
    assert_eq!(
        e(Op::Iconst(U256::MAX), I32, I32, &[]),
        U256::from(u32::MAX)
    );
    assert_eq!(e(Op::Iconst(u("0x1ff")), I8, I8, &[]), U256::from(0xff));
    let (one, a, b) = (U256::from(1), U256::from(10), U256::from(20));
    assert_eq!(e(Op::Select, I64, I1, &[one, a, b]), a);
    assert_eq!(e(Op::Select, I64, I1, &[U256::ZERO, a, b]), b);
    assert_eq!(
        e(Op::Icmp(Cond::Slt), I1, I8, &[U256::from(0x80), U256::ZERO]),
        one
    );
    // Operations with effects are not pure.
    assert_eq!(eval_pure(&Op::MemSize, W, W, &[]), None);
    assert_eq!(eval_pure(&Op::Call(FuncId::new(0)), W, W, &[]), None);
}

// ---------------------------------------------------------------------------
// Through the interpreter

fn run(text: &str, func: usize, args: &[U256]) -> (Outcome, u64) {
    let module = parse_module(text).expect("parses");
    chainlift_ir::verify::verify(&module).expect("verifies");
    let mut host = SimpleHost::default();
    let mut interp = Interpreter::new(&module, Limits::default());
    let outcome = interp.run(&mut host, FuncId::new(func), args);
    (outcome, interp.steps)
}

#[test]
fn interpreter_masks_arguments_and_constants_to_their_types() {
    let text = "
function %f(i8, i32) -> i8, i32, i8 {
block0(v0: i8, v1: i32):
    v2 = iconst.i8 -1
    v3 = udiv.i8 v2, v0
    v4 = iconst.i32 0x1ffffffff
    v5 = add.i32 v1, v4
    return v0, v5, v3
}
";
    // 0x1ff enters as 0xff; 0x100000002 as 2; -1 at i8 is 0xff.
    let (outcome, steps) = run(text, 0, &[u("0x1ff"), u("0x100000002")]);
    assert_eq!(
        outcome,
        Outcome::Values(vec![U256::from(0xff), U256::from(1), U256::from(1)])
    );
    assert_eq!(steps, 5);
}

#[test]
fn interpreter_evm_word_semantics() {
    let text = "
function %f(i256, i256) -> i256, i256, i256, i256, i256 {
block0(v0: i256, v1: i256):
    v2 = sdiv.i256 v0, v1
    v3 = srem.i256 v0, v1
    v4 = ashr.i256 v0, v1
    v5 = exp v0, v1
    v6 = mulmod v0, v0, v1
    return v2, v3, v4, v5, v6
}
";
    let (outcome, _) = run(text, 0, &[u(MIN), u("-1")]);
    assert_eq!(
        outcome,
        Outcome::Values(vec![
            u(MIN),
            U256::ZERO,
            u("-1"),
            ref_pow(u(MIN), u("-1")),
            ref_mulmod(u(MIN), u(MIN), u("-1")),
        ])
    );
    let (outcome, _) = run(text, 0, &[u("-7"), U256::ZERO]);
    assert_eq!(
        outcome,
        Outcome::Values(vec![
            U256::ZERO,
            U256::ZERO,
            u("-7"),
            U256::from(1),
            U256::ZERO
        ])
    );
}

#[test]
fn switch_finds_its_case_in_any_order_and_takes_the_default_otherwise() {
    // Cases out of order, and values past 64 bits, which the decoded
    // switch leaves to the default.
    let text = "
function %f(i256) -> i256 {
block0(v0: i256):
    switch v0, [0x30: block1, 0x10: block2, 0x20: block3], block4
block1:
    v1 = iconst.i256 1
    return v1
block2:
    v2 = iconst.i256 2
    return v2
block3:
    v3 = iconst.i256 3
    return v3
block4:
    v4 = iconst.i256 4
    return v4
}
";
    for (arg, want) in [
        ("0x30", 1),
        ("0x10", 2),
        ("0x20", 3),
        ("0x0", 4),
        ("0x15", 4),
        ("0x10000000000000030", 4),
        (MAX, 4),
    ] {
        let (outcome, _) = run(text, 0, &[u(arg)]);
        assert_eq!(outcome, Outcome::Values(vec![U256::from(want)]), "{arg}");
    }
}

#[test]
fn sixty_four_bit_arithmetic_wraps_at_64_bits() {
    let text = "
function %f(i64, i64) -> i64, i64, i64, i64, i64, i64 {
block0(v0: i64, v1: i64):
    v2 = add.i64 v0, v1
    v3 = sub.i64 v1, v0
    v4 = mul.i64 v0, v1
    v5 = and.i64 v0, v1
    v6 = or.i64 v0, v1
    v7 = xor.i64 v0, v1
    return v2, v3, v4, v5, v6, v7
}
";
    let (outcome, _) = run(text, 0, &[u("0xffffffffffffffff"), u("3")]);
    let w = |s: &str| u(s);
    assert_eq!(
        outcome,
        Outcome::Values(vec![
            w("2"),
            w("4"),
            w("0xfffffffffffffffd"),
            w("3"),
            w("0xffffffffffffffff"),
            w("0xfffffffffffffffc"),
        ])
    );
}
