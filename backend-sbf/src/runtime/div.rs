//! Division and the modular operations built on it: Knuth's long division
//! on 32-bit digits, unsigned and signed division with their fast paths,
//! and ADDMOD and MULMOD (with a 512-bit product).

use super::{Helper, Runtime, copy_limbs, frame, or_limbs, upper, zero};
use crate::asm::{
    Alu, Asm, Cond as J, Label, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, Reg, Size,
};

/// Where the division helpers keep a, b, the quotient and the remainder in
/// their frames.
const DIV_A: i16 = -48;
/// See [`DIV_A`].
const DIV_B: i16 = -80;
/// See [`DIV_A`].
const DIV_Q: i16 = -112;
/// See [`DIV_A`].
const DIV_R: i16 = -144;

/// The long division's frame: pointers to the quotient, the remainder, the
/// dividend u and the divisor v, the divisor's top two normalized digits,
/// and the normalized digit arrays (un has one digit more than u: 17
/// digits; vn 8).
const QP: i16 = -8;
/// See [`QP`].
const RP: i16 = -16;
/// See [`QP`].
const UP: i16 = -24;
/// See [`QP`].
const VP: i16 = -32;
/// See [`QP`].
const VTOP: i16 = -40;
/// See [`QP`].
const VSEC: i16 = -48;
/// See [`QP`].
const UN: i16 = -200;
/// See [`QP`].
const VN: i16 = -240;

/// Subtracts the value at `[r10 + den]` from r6..r9 (limbs 0..3), using
/// r0, r4 and r5.
fn sub_regs(a: &mut Asm, den: i16) {
    let regs = [R6, R7, R8, R9];
    for (k, r) in regs.iter().enumerate() {
        let k = k as i16;
        a.ldx(Size::Dw, R0, R10, den + 8 * k);
        if k == 0 {
            let l = a.label();
            a.mov64(R4, 0);
            a.jmp(J::Ge, *r, R0, l);
            a.mov64(R4, 1);
            a.bind(l);
            a.alu(Alu::Sub, *r, R0);
        } else if k < 3 {
            let (l1, l2) = (a.label(), a.label());
            a.mov64(R5, 0);
            a.jmp(J::Ge, *r, R0, l1);
            a.mov64(R5, 1);
            a.bind(l1);
            a.alu(Alu::Sub, *r, R0);
            a.jmp(J::Ge, *r, R4, l2);
            a.mov64(R5, 1);
            a.bind(l2);
            a.alu(Alu::Sub, *r, R4);
            a.mov(R4, R5);
        } else {
            a.alu(Alu::Sub, *r, R0);
            a.alu(Alu::Sub, *r, R4);
        }
    }
}

/// Jumps to `ge` when r6..r9 >= the value at `[r10 + den]`, else to `lt`.
fn cmp_regs(a: &mut Asm, den: i16, ge: Label, lt: Label) {
    for (k, r) in [(3, R9), (2, R8), (1, R7)] {
        a.ldx(Size::Dw, R0, R10, den + 8 * k);
        a.jmp(J::Gt, r, R0, ge);
        a.jmp(J::Lt, r, R0, lt);
    }
    a.ldx(Size::Dw, R0, R10, den);
    a.jmp(J::Ge, R6, R0, ge);
    a.ja(lt);
}

/// `dst = r10 + 4 * (i + j)`: where digit i (+ j) of a frame array is,
/// relative to the array's offset.
fn digit_at(a: &mut Asm, dst: Reg, i: Reg, j: Option<Reg>) {
    a.mov(dst, i);
    if let Some(j) = j {
        a.alu(Alu::Add, dst, j);
    }
    a.alu_imm(Alu::Lsh, dst, 2);
    a.alu(Alu::Add, dst, R10);
}

/// Lowers `count` past the zero 32-bit digits at the top of the number at
/// `ptr` (`count` counts digits in units of `unit` bytes: 1 for a digit
/// count, 4 for a byte count), stopping at 0. Uses r0 and r5.
fn strip_zero_digits(a: &mut Asm, count: Reg, ptr: Reg, unit: i32) {
    let (top, done) = (a.label(), a.label());
    a.bind(top);
    a.jmp_imm(J::Eq, count, 0, done);
    a.mov(R5, count);
    if unit == 1 {
        a.alu_imm(Alu::Lsh, R5, 2);
    }
    a.alu(Alu::Add, R5, ptr);
    a.ldx(Size::W, R0, R5, -4);
    a.jmp_imm(J::Ne, R0, 0, done);
    a.alu_imm(Alu::Sub, count, unit);
    a.ja(top);
    a.bind(done);
}

/// Writes the digits of the number whose pointer is at `[r10 + ptr]`
/// (`len` digits), shifted left by s (r7; r9 = 32 - s), at `r10 + out`:
/// `out[len] = src[len - 1] >> (32 - s)` when `extra`, then
/// `out[i] = src[i] << s | src[i - 1] >> (32 - s)`, down to 0.
fn shift_digits(a: &mut Asm, ptr: i16, len: Reg, out: i16, extra: bool) {
    let (top, done) = (a.label(), a.label());
    a.ldx(Size::Dw, R1, R10, ptr);
    a.mov(R2, len);
    a.alu_imm(Alu::Lsh, R2, 2);
    if extra {
        a.mov(R3, R2);
        a.alu(Alu::Add, R3, R1);
        a.ldx(Size::W, R0, R3, -4);
        a.alu(Alu::Rsh, R0, R9);
        a.mov(R3, R2);
        a.alu(Alu::Add, R3, R10);
        a.stx(Size::W, R3, out, R0);
    }
    a.bind(top);
    a.jmp_imm(J::Eq, R2, 0, done);
    a.alu_imm(Alu::Sub, R2, 4);
    a.mov(R3, R2);
    a.alu(Alu::Add, R3, R1);
    a.ldx(Size::W, R0, R3, 0);
    a.alu(Alu::Lsh, R0, R7);
    let first = a.label();
    a.jmp_imm(J::Eq, R2, 0, first);
    a.ldx(Size::W, R4, R3, -4);
    a.alu(Alu::Rsh, R4, R9);
    a.alu(Alu::Or, R0, R4);
    a.bind(first);
    a.mov(R3, R2);
    a.alu(Alu::Add, R3, R10);
    a.stx(Size::W, R3, out, R0);
    a.ja(top);
    a.bind(done);
}

impl Runtime {
    /// Knuth's algorithm D (TAOCP 4.3.1) on 32-bit digits, so that every
    /// digit product and two-digit quotient fits the 64-bit `mul`/`div`.
    /// Costs about 20 instructions per digit of divisor and quotient,
    /// against about 40 per bit for shift-and-subtract. The body of
    /// [`Helper::LongDiv`]: it sets up the frame and takes the short ways
    /// (u < v, a one-digit divisor) before the general one.
    pub(super) fn long_div(a: &mut Asm) {
        a.stx(Size::Dw, R10, QP, R4);
        a.stx(Size::Dw, R10, RP, R5);
        a.stx(Size::Dw, R10, UP, R1);
        a.stx(Size::Dw, R10, VP, R3);
        // Zero the quotient (4 or 8 limbs) and the remainder.
        let four = a.label();
        zero(a, R4, 0, 4);
        a.jmp_imm(J::Eq, R2, 4, four);
        zero(a, R4, 32, 4);
        a.bind(four);
        zero(a, R5, 0, 4);
        // r6 = n, the divisor's digits (it is not zero); r8 = the
        // dividend's digits, at most 2 * limbs.
        a.mov64(R6, 8);
        a.mov(R1, R3);
        strip_zero_digits(a, R6, R1, 1);
        a.mov(R8, R2);
        a.alu_imm(Alu::Lsh, R8, 1);
        a.ldx(Size::Dw, R1, R10, UP);
        strip_zero_digits(a, R8, R1, 1);
        let (not_less, long) = (a.label(), a.label());
        a.jmp(J::Ge, R8, R6, not_less);
        // u < v: the remainder is u (at most 4 limbs here).
        a.ldx(Size::Dw, R1, R10, UP);
        a.ldx(Size::Dw, R5, R10, RP);
        copy_limbs(a, 4, R5, 0, R1, 0);
        a.exit();
        a.bind(not_less);
        a.jmp_imm(J::Ne, R6, 1, long);
        Self::short_division(a);
        a.bind(long);
        Self::normalize(a);
        Self::divide_digits(a);
        Self::unnormalized_remainder(a);
    }

    /// Divides by a divisor of one 32-bit digit (at `[VP]`; r8 = the
    /// dividend's digits), from the top digit down, and returns.
    fn short_division(a: &mut Asm) {
        let (top, done) = (a.label(), a.label());
        a.ldx(Size::Dw, R1, R10, VP);
        a.ldx(Size::W, R2, R1, 0);
        a.mov64(R3, 0);
        a.bind(top);
        a.jmp_imm(J::Eq, R8, 0, done);
        a.alu_imm(Alu::Sub, R8, 1);
        a.mov(R4, R8);
        a.alu_imm(Alu::Lsh, R4, 2);
        a.ldx(Size::Dw, R1, R10, UP);
        a.alu(Alu::Add, R1, R4);
        a.ldx(Size::W, R0, R1, 0);
        a.alu_imm(Alu::Lsh, R3, 32);
        a.alu(Alu::Or, R3, R0);
        a.mov(R0, R3);
        a.alu(Alu::Div, R0, R2);
        a.alu(Alu::Mod, R3, R2);
        a.ldx(Size::Dw, R1, R10, QP);
        a.alu(Alu::Add, R1, R4);
        a.stx(Size::W, R1, 0, R0);
        a.ja(top);
        a.bind(done);
        a.ldx(Size::Dw, R1, R10, RP);
        a.stx(Size::Dw, R1, 0, R3);
        a.exit();
    }

    /// Shifts divisor and dividend left by s, the shift that sets the top
    /// bit of the divisor's top digit, into `VN` and `UN` (r6 = n, r8 = the
    /// dividend's digits), keeping the divisor's top two digits at `VTOP`
    /// and `VSEC`. Leaves s in r7 and 32 - s in r9.
    fn normalize(a: &mut Asm) {
        // r7 = s, the shift that sets the top bit of v's top digit.
        a.ldx(Size::Dw, R1, R10, VP);
        a.mov(R0, R6);
        a.alu_imm(Alu::Lsh, R0, 2);
        a.alu(Alu::Add, R0, R1);
        a.ldx(Size::W, R0, R0, -4);
        a.mov64(R7, 0);
        for (bits, below) in [
            (16, 0xffff_u32),
            (8, 0xff_ffff),
            (4, 0xfff_ffff),
            (2, 0x3fff_ffff),
            (1, 0x7fff_ffff),
        ] {
            let skip = a.label();
            a.jmp_imm(J::Gt, R0, below as i32, skip);
            a.alu_imm(Alu::Add, R7, bits);
            a.alu_imm(Alu::Lsh, R0, bits);
            a.bind(skip);
        }
        // r9 = 32 - s; digits shift left by s, taking the top bits of the
        // digit below (x >> 32 is 0 when s = 0).
        a.mov64(R9, 32);
        a.alu(Alu::Sub, R9, R7);
        shift_digits(a, VP, R6, VN, false);
        shift_digits(a, UP, R8, UN, true);
        // The top two digits of vn, for the quotient estimate.
        a.mov(R0, R6);
        a.alu_imm(Alu::Lsh, R0, 2);
        a.alu(Alu::Add, R0, R10);
        a.ldx(Size::W, R1, R0, VN - 4);
        a.stx(Size::Dw, R10, VTOP, R1);
        a.ldx(Size::W, R1, R0, VN - 8);
        a.stx(Size::Dw, R10, VSEC, R1);
    }

    /// The main loop of algorithm D: for each quotient digit j (r8) from
    /// the top, estimate it, subtract its multiple of the divisor from the
    /// dividend's digits j..j+n, correct the rare overestimate, and store it.
    fn divide_digits(a: &mut Asm) {
        // r8 = j = m = len(u) - n, down to 0.
        a.alu(Alu::Sub, R8, R6);
        let (outer, next, finish) = (a.label(), a.label(), a.label());
        a.bind(outer);
        Self::estimate_qhat(a);
        Self::multiply_subtract(a, next);
        Self::add_back(a);
        a.bind(next);
        // q[j] = qhat.
        a.mov(R4, R8);
        a.alu_imm(Alu::Lsh, R4, 2);
        a.ldx(Size::Dw, R1, R10, QP);
        a.alu(Alu::Add, R1, R4);
        a.stx(Size::W, R1, 0, R3);
        a.jmp_imm(J::Eq, R8, 0, finish);
        a.alu_imm(Alu::Sub, R8, 1);
        a.ja(outer);
        a.bind(finish);
    }

    /// The quotient digit's estimate qhat (in r3, with rhat in r5) from the
    /// top two digits of the remainder so far and the divisor's top two,
    /// corrected down until it is at most one too large. Leaves r4 =
    /// `&un[j + n]` relative to r10 + `UN`.
    fn estimate_qhat(a: &mut Asm) {
        let b = 1u64 << 32;
        let (again, adjust, estimated) = (a.label(), a.label(), a.label());
        // r4 = &un[j + n] (relative to r10 + UN).
        a.mov(R4, R8);
        a.alu(Alu::Add, R4, R6);
        a.alu_imm(Alu::Lsh, R4, 2);
        a.alu(Alu::Add, R4, R10);
        a.ldx(Size::W, R1, R4, UN);
        a.alu_imm(Alu::Lsh, R1, 32);
        a.ldx(Size::W, R0, R4, UN - 4);
        a.alu(Alu::Or, R1, R0);
        a.ldx(Size::Dw, R2, R10, VTOP);
        // r3 = qhat, r5 = rhat.
        a.mov(R3, R1);
        a.alu(Alu::Div, R3, R2);
        a.mov(R5, R1);
        a.alu(Alu::Mod, R5, R2);
        a.bind(again);
        a.mov64(R0, b);
        a.jmp(J::Ge, R3, R0, adjust);
        a.ldx(Size::Dw, R0, R10, VSEC);
        a.alu(Alu::Mul, R0, R3);
        a.mov(R1, R5);
        a.alu_imm(Alu::Lsh, R1, 32);
        a.ldx(Size::W, R2, R4, UN - 8);
        a.alu(Alu::Or, R1, R2);
        a.jmp(J::Gt, R0, R1, adjust);
        a.ja(estimated);
        a.bind(adjust);
        a.alu_imm(Alu::Sub, R3, 1);
        a.ldx(Size::Dw, R2, R10, VTOP);
        a.alu(Alu::Add, R5, R2);
        a.mov64(R0, b);
        a.jmp(J::Lt, R5, R0, again);
        a.bind(estimated);
    }

    /// `un[j..=j+n] -= qhat * vn` (qhat in r3), then jumps to `next` unless
    /// that went below zero. Leaves r4 = `&un[j + n]` (relative to r10 +
    /// `UN`).
    fn multiply_subtract(a: &mut Asm, next: Label) {
        let msub = a.label();
        // un[j..j+n] -= qhat * vn, borrow k in r5 (signed), i in r9.
        a.mov64(R5, 0);
        a.mov64(R9, 0);
        a.bind(msub);
        digit_at(a, R4, R9, None);
        a.ldx(Size::W, R0, R4, VN);
        a.alu(Alu::Mul, R0, R3);
        digit_at(a, R4, R9, Some(R8));
        a.ldx(Size::W, R1, R4, UN);
        a.alu(Alu::Sub, R1, R5);
        a.mov(R2, R0);
        a.alu_imm(Alu::Lsh, R2, 32);
        a.alu_imm(Alu::Rsh, R2, 32);
        a.alu(Alu::Sub, R1, R2);
        a.stx(Size::W, R4, UN, R1);
        a.alu_imm(Alu::Rsh, R0, 32);
        a.alu_imm(Alu::Arsh, R1, 32);
        a.alu(Alu::Sub, R0, R1);
        a.mov(R5, R0);
        a.alu_imm(Alu::Add, R9, 1);
        a.jmp(J::Lt, R9, R6, msub);
        // r4 = &un[j + n]: the top digit takes the last borrow.
        a.alu_imm(Alu::Add, R4, 4);
        a.ldx(Size::W, R1, R4, UN);
        a.alu(Alu::Sub, R1, R5);
        a.stx(Size::W, R4, UN, R1);
        a.jmp_imm(J::Sge, R1, 0, next);
    }

    /// qhat was one too large: `un[j..=j+n] += vn` and qhat -= 1.
    fn add_back(a: &mut Asm) {
        let add_back = a.label();
        // Subtracted once too often: add v back, qhat - 1.
        a.alu_imm(Alu::Sub, R3, 1);
        a.mov64(R5, 0);
        a.mov64(R9, 0);
        a.bind(add_back);
        digit_at(a, R4, R9, None);
        a.ldx(Size::W, R0, R4, VN);
        digit_at(a, R4, R9, Some(R8));
        a.ldx(Size::W, R1, R4, UN);
        a.alu(Alu::Add, R1, R0);
        a.alu(Alu::Add, R1, R5);
        a.stx(Size::W, R4, UN, R1);
        a.mov(R5, R1);
        a.alu_imm(Alu::Rsh, R5, 32);
        a.alu_imm(Alu::Add, R9, 1);
        a.jmp(J::Lt, R9, R6, add_back);
        a.alu_imm(Alu::Add, R4, 4);
        a.ldx(Size::W, R1, R4, UN);
        a.alu(Alu::Add, R1, R5);
        a.stx(Size::W, R4, UN, R1);
    }

    /// The remainder: `un[0..n]` shifted back right by s (r7), stored
    /// through the pointer at `[RP]`; then returns.
    fn unnormalized_remainder(a: &mut Asm) {
        a.mov64(R9, 32);
        a.alu(Alu::Sub, R9, R7);
        a.ldx(Size::Dw, R5, R10, RP);
        a.mov64(R2, 0);
        let rem = a.label();
        a.bind(rem);
        a.mov(R4, R2);
        a.alu_imm(Alu::Lsh, R4, 2);
        a.alu(Alu::Add, R4, R10);
        a.ldx(Size::W, R0, R4, UN);
        a.alu(Alu::Rsh, R0, R7);
        a.ldx(Size::W, R1, R4, UN + 4);
        a.alu(Alu::Lsh, R1, R9);
        a.alu(Alu::Or, R0, R1);
        a.mov(R4, R2);
        a.alu_imm(Alu::Lsh, R4, 2);
        a.alu(Alu::Add, R4, R5);
        a.stx(Size::W, R4, 0, R0);
        a.alu_imm(Alu::Add, R2, 1);
        a.jmp(J::Lt, R2, R6, rem);
        a.exit();
    }

    /// The frame both divisions start with: the result pointers `(q, r)`
    /// at `[r10 - 8]` and `[r10 - 16]`, copies of a and b at `A` and `B`.
    fn division_frame(a: &mut Asm) {
        a.stx(Size::Dw, R10, -8, R1);
        a.stx(Size::Dw, R10, -16, R2);
        copy_limbs(a, 4, R10, DIV_A, R3, 0);
        copy_limbs(a, 4, R10, DIV_B, R4, 0);
    }

    /// Unsigned division: fast paths for 64-bit operands, 32-bit divisors
    /// (short division in the frame, without long division's set-up) and
    /// a < b, then long division.
    pub(super) fn divmod(&mut self, a: &mut Asm) {
        const A: i16 = DIV_A;
        const B: i16 = DIV_B;
        const Q: i16 = DIV_Q;
        const R: i16 = DIV_R;
        Self::division_frame(a);
        zero(a, R10, Q, 4);
        zero(a, R10, R, 4);
        let (out, not_small, general, dl, dl_done, lt) = (
            a.label(),
            a.label(),
            a.label(),
            a.label(),
            a.label(),
            a.label(),
        );
        upper(a, R5, R10, B);
        a.ldx(Size::Dw, R0, R10, B);
        a.alu(Alu::Or, R0, R5);
        a.jmp_imm(J::Eq, R0, 0, out);
        upper(a, R3, R10, A);
        a.alu(Alu::Or, R3, R5);
        a.jmp_imm(J::Ne, R3, 0, not_small);
        a.ldx(Size::Dw, R1, R10, A);
        a.ldx(Size::Dw, R2, R10, B);
        a.mov(R3, R1);
        a.alu(Alu::Div, R3, R2);
        a.alu(Alu::Mod, R1, R2);
        a.stx(Size::Dw, R10, Q, R3);
        a.stx(Size::Dw, R10, R, R1);
        a.ja(out);
        a.bind(not_small);
        a.jmp_imm(J::Ne, R5, 0, general);
        a.ldx(Size::Dw, R2, R10, B);
        a.mov(R0, R2);
        a.alu_imm(Alu::Rsh, R0, 32);
        a.jmp_imm(J::Ne, R0, 0, general);
        // One 32-bit digit at a time, from the top.
        a.mov64(R3, 0);
        a.mov64(R1, 28);
        a.bind(dl);
        frame(a, R5, A as i32);
        a.alu(Alu::Add, R5, R1);
        a.ldx(Size::W, R0, R5, 0);
        a.alu_imm(Alu::Lsh, R3, 32);
        a.alu(Alu::Or, R3, R0);
        a.mov(R0, R3);
        a.alu(Alu::Div, R0, R2);
        a.alu(Alu::Mod, R3, R2);
        frame(a, R5, Q as i32);
        a.alu(Alu::Add, R5, R1);
        a.stx(Size::W, R5, 0, R0);
        a.jmp_imm(J::Eq, R1, 0, dl_done);
        a.alu_imm(Alu::Sub, R1, 4);
        a.ja(dl);
        a.bind(dl_done);
        a.stx(Size::Dw, R10, R, R3);
        a.ja(out);
        a.bind(general);
        // a < b: quotient 0, remainder a.
        let ge = a.label();
        for k in (1..4).rev() {
            a.ldx(Size::Dw, R1, R10, A + 8 * k);
            a.ldx(Size::Dw, R2, R10, B + 8 * k);
            a.jmp(J::Lt, R1, R2, lt);
            a.jmp(J::Gt, R1, R2, ge);
        }
        a.ldx(Size::Dw, R1, R10, A);
        a.ldx(Size::Dw, R2, R10, B);
        a.jmp(J::Lt, R1, R2, lt);
        a.bind(ge);
        frame(a, R1, A as i32);
        a.mov64(R2, 4);
        frame(a, R3, B as i32);
        frame(a, R4, Q as i32);
        frame(a, R5, R as i32);
        self.call(a, Helper::LongDiv);
        a.ja(out);
        a.bind(lt);
        copy_limbs(a, 4, R10, R, R10, A);
        a.bind(out);
        Self::store_qr(a, Q, R);
    }

    /// Writes the quotient and remainder at `[r10 + q]` and `[r10 + r]`
    /// through the pointers saved at `[r10 - 8]` and `[r10 - 16]` (when
    /// not null), and returns.
    fn store_qr(a: &mut Asm, q: i16, r: i16) {
        for (ptr, src) in [(-8, q), (-16, r)] {
            let skip = a.label();
            a.ldx(Size::Dw, R1, R10, ptr);
            a.jmp_imm(J::Eq, R1, 0, skip);
            copy_limbs(a, 4, R1, 0, R10, src);
            a.bind(skip);
        }
        a.exit();
    }

    /// The body of [`Helper::SDivMod`]: the unsigned division of the
    /// magnitudes, then the signs (the quotient's is the operands' xor, the
    /// remainder's the dividend's).
    pub(super) fn sdivmod(&mut self, a: &mut Asm) {
        const A: i16 = DIV_A;
        const B: i16 = DIV_B;
        const Q: i16 = DIV_Q;
        const R: i16 = DIV_R;
        Self::division_frame(a);
        for (v, sign) in [(A, -152), (B, -160)] {
            let pos = a.label();
            a.ldx(Size::Dw, R0, R10, v + 24);
            a.alu_imm(Alu::Rsh, R0, 63);
            a.stx(Size::Dw, R10, sign, R0);
            a.jmp_imm(J::Eq, R0, 0, pos);
            frame(a, R1, v as i32);
            self.call(a, Helper::Neg);
            a.bind(pos);
        }
        frame(a, R1, Q as i32);
        frame(a, R2, R as i32);
        frame(a, R3, A as i32);
        frame(a, R4, B as i32);
        self.call(a, Helper::DivMod);
        let (qpos, rpos) = (a.label(), a.label());
        a.ldx(Size::Dw, R0, R10, -152);
        a.ldx(Size::Dw, R5, R10, -160);
        a.alu(Alu::Xor, R0, R5);
        a.jmp_imm(J::Eq, R0, 0, qpos);
        frame(a, R1, Q as i32);
        self.call(a, Helper::Neg);
        a.bind(qpos);
        a.ldx(Size::Dw, R0, R10, -152);
        a.jmp_imm(J::Eq, R0, 0, rpos);
        frame(a, R1, R as i32);
        self.call(a, Helper::Neg);
        a.bind(rpos);
        Self::store_qr(a, Q, R);
    }

    /// Saves d, copies n, and returns early with d = 0 when n = 0. Leaves
    /// a and b's pointers at `[r10 - 112]` and `[r10 - 120]`.
    fn mod_prologue(a: &mut Asm, n: i16) {
        a.stx(Size::Dw, R10, -8, R1);
        a.stx(Size::Dw, R10, -112, R2);
        a.stx(Size::Dw, R10, -120, R3);
        copy_limbs(a, 4, R10, n, R4, 0);
        let nonzero = a.label();
        or_limbs(a, R3, R10, n);
        a.jmp_imm(J::Ne, R3, 0, nonzero);
        zero(a, R1, 0, 4);
        a.exit();
        a.bind(nonzero);
    }

    /// `[r10 + dst] = [ptr at r10 + src] mod [r10 + n]`.
    fn reduce(&mut self, a: &mut Asm, dst: i16, src_ptr: i16, n: i16) {
        a.mov64(R1, 0);
        frame(a, R2, dst as i32);
        a.ldx(Size::Dw, R3, R10, src_ptr);
        frame(a, R4, n as i32);
        self.call(a, Helper::DivMod);
    }

    /// The body of [`Helper::AddMod`]: both operands reduced mod n, added
    /// into r6..r9 with the carry out, and n subtracted once when the sum
    /// reaches it.
    pub(super) fn addmod(&mut self, a: &mut Asm) {
        const N: i16 = -40;
        const A: i16 = -72;
        const B: i16 = -104;
        Self::mod_prologue(a, N);
        self.reduce(a, A, -112, N);
        self.reduce(a, B, -120, N);
        // r6..r9 = A + B, carry out in r4.
        let regs = [R6, R7, R8, R9];
        a.mov64(R4, 0);
        for (k, r) in regs.iter().enumerate() {
            let k = k as i16;
            let (l1, l2) = (a.label(), a.label());
            a.ldx(Size::Dw, *r, R10, A + 8 * k);
            a.ldx(Size::Dw, R0, R10, B + 8 * k);
            a.alu(Alu::Add, *r, R0);
            a.mov64(R5, 0);
            a.jmp(J::Ge, *r, R0, l1);
            a.mov64(R5, 1);
            a.bind(l1);
            a.alu(Alu::Add, *r, R4);
            a.jmp(J::Ge, *r, R4, l2);
            a.mov64(R5, 1);
            a.bind(l2);
            a.mov(R4, R5);
        }
        let (sub, store) = (a.label(), a.label());
        a.jmp_imm(J::Ne, R4, 0, sub);
        cmp_regs(a, N, sub, store);
        a.bind(sub);
        sub_regs(a, N);
        a.bind(store);
        a.ldx(Size::Dw, R1, R10, -8);
        for (k, r) in regs.iter().enumerate() {
            a.stx(Size::Dw, R1, 8 * k as i16, *r);
        }
        a.exit();
    }

    /// The body of [`Helper::MulMod`]: both operands reduced mod n, their
    /// 512-bit product, and its remainder by long division.
    pub(super) fn mulmod(&mut self, a: &mut Asm) {
        const N: i16 = -40;
        const A: i16 = -72;
        const B: i16 = -104;
        const P: i16 = -192; // 64 bytes
        const Q: i16 = -256; // 64 bytes
        const R: i16 = -288;
        Self::mod_prologue(a, N);
        self.reduce(a, A, -112, N);
        self.reduce(a, B, -120, N);
        frame(a, R1, P as i32);
        frame(a, R2, A as i32);
        frame(a, R3, B as i32);
        self.call(a, Helper::Mul512);
        zero(a, R10, Q, 8);
        frame(a, R1, P as i32);
        a.mov64(R2, 8);
        frame(a, R3, N as i32);
        frame(a, R4, Q as i32);
        frame(a, R5, R as i32);
        self.call(a, Helper::LongDiv);
        a.ldx(Size::Dw, R1, R10, -8);
        copy_limbs(a, 4, R1, 0, R10, R);
        a.exit();
    }
}
