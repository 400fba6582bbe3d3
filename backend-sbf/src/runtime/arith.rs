//! The arithmetic helpers besides division: multiplication on 64-bit
//! limbs, negation, leading zeros, exponentiation and the variable shifts.

use super::{Helper, Runtime, copy_limbs, frame, or_limbs, upper, zero};
use crate::asm::{Alu, Asm, Cond as J, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, Size};

impl Runtime {
    /// `d = a * b mod 2^256` (or, `wide`, the 512-bit product) on 64-bit
    /// limbs, column by column into a three-limb accumulator (r6, r7, r8).
    /// The limb products (ten below 2^256, sixteen in all) are unrolled; a
    /// product with a zero limb is skipped. A 64 x 64
    /// -> 128-bit product is built from four 32 x 32-bit ones (the SBF
    /// `mul` keeps only the low 64 bits), the halves read straight from
    /// memory.
    pub(super) fn mul_limbs(a: &mut Asm, wide: bool) {
        const LO: i16 = -8; // scratch: a 64-bit word read back as halves
        const HI: i16 = -16;
        const OUT: i16 = -80; // 8 limbs
        const D: i16 = -88;
        let columns: i16 = if wide { 7 } else { 4 };
        a.stx(Size::Dw, R10, D, R1);
        for r in [R6, R7, R8] {
            a.mov64(r, 0);
        }
        for k in 0..columns {
            for i in (k - 3).max(0)..=k.min(3) {
                let j = k - i;
                let skip = a.label();
                a.ldx(Size::Dw, R4, R2, 8 * i);
                a.jmp_imm(J::Eq, R4, 0, skip);
                a.ldx(Size::Dw, R5, R3, 8 * j);
                a.jmp_imm(J::Eq, R5, 0, skip);
                if k == 3 && !wide {
                    // Only the low 64 bits stay below 2^256.
                    a.alu(Alu::Mul, R4, R5);
                    a.alu(Alu::Add, R6, R4);
                    a.bind(skip);
                    continue;
                }
                // Halves: a0 r4, b0 r5, a1 r9, b1 r1.
                a.ldx(Size::W, R4, R2, 8 * i);
                a.ldx(Size::W, R5, R3, 8 * j);
                a.ldx(Size::W, R9, R2, 8 * i + 4);
                a.ldx(Size::W, R1, R3, 8 * j + 4);
                a.mov(R0, R4);
                a.alu(Alu::Mul, R0, R5); // p00
                a.alu(Alu::Mul, R5, R9); // p10
                a.alu(Alu::Mul, R4, R1); // p01
                a.alu(Alu::Mul, R9, R1); // p11
                a.stx(Size::Dw, R10, LO, R5);
                a.stx(Size::Dw, R10, HI, R4);
                // r1 = mid = p00 >> 32 + low(p10) + low(p01); r0 = low(p00).
                a.mov(R1, R0);
                a.alu_imm(Alu::Rsh, R1, 32);
                a.alu_imm(Alu::Lsh, R0, 32);
                a.alu_imm(Alu::Rsh, R0, 32);
                a.ldx(Size::W, R5, R10, LO);
                a.alu(Alu::Add, R1, R5);
                a.ldx(Size::W, R5, R10, HI);
                a.alu(Alu::Add, R1, R5);
                // r9 = the high word: p11 + high(p10) + high(p01) + mid >> 32.
                a.ldx(Size::W, R5, R10, LO + 4);
                a.alu(Alu::Add, R9, R5);
                a.ldx(Size::W, R5, R10, HI + 4);
                a.alu(Alu::Add, R9, R5);
                a.mov(R5, R1);
                a.alu_imm(Alu::Rsh, R5, 32);
                a.alu(Alu::Add, R9, R5);
                // r0 = the low word.
                a.alu_imm(Alu::Lsh, R1, 32);
                a.alu(Alu::Or, R0, R1);
                // (r6, r7, r8) += (r0, r9).
                let (c1, c2) = (a.label(), a.label());
                a.alu(Alu::Add, R6, R0);
                a.jmp(J::Ge, R6, R0, c1);
                a.alu_imm(Alu::Add, R9, 1);
                a.bind(c1);
                a.alu(Alu::Add, R7, R9);
                a.jmp(J::Ge, R7, R9, c2);
                a.alu_imm(Alu::Add, R8, 1);
                a.bind(c2);
                a.bind(skip);
            }
            a.stx(Size::Dw, R10, OUT + 8 * k, R6);
            a.mov(R6, R7);
            a.mov(R7, R8);
            a.mov64(R8, 0);
        }
        if wide {
            a.stx(Size::Dw, R10, OUT + 8 * 7, R6);
        }
        a.ldx(Size::Dw, R1, R10, D);
        copy_limbs(a, if wide { 8 } else { 4 }, R1, 0, R10, OUT);
        a.exit();
    }

    /// The body of [`Helper::Neg`]: two's complement in place, limb by limb
    /// with the carry of the `+ 1` in r2.
    pub(super) fn neg(a: &mut Asm) {
        a.mov64(R2, 1);
        for k in 0..4 {
            let keep = a.label();
            a.ldx(Size::Dw, R0, R1, 8 * k);
            a.alu_imm(Alu::Xor, R0, -1);
            a.alu(Alu::Add, R0, R2);
            a.stx(Size::Dw, R1, 8 * k, R0);
            a.jmp_imm(J::Eq, R0, 0, keep);
            a.mov64(R2, 0);
            a.bind(keep);
        }
        a.exit();
    }

    /// The body of [`Helper::Clz`]: whole zero limbs from the top, then a
    /// binary search in the first non-zero one.
    pub(super) fn clz(a: &mut Asm) {
        let (found, store) = (a.label(), a.label());
        a.mov64(R3, 0);
        for k in (0..4).rev() {
            a.ldx(Size::Dw, R0, R2, 8 * k);
            a.jmp_imm(J::Ne, R0, 0, found);
            a.alu_imm(Alu::Add, R3, 64);
        }
        a.ja(store);
        a.bind(found);
        for bits in [32, 16, 8, 4, 2, 1] {
            let skip = a.label();
            a.mov(R4, R0);
            a.alu_imm(Alu::Rsh, R4, 64 - bits);
            a.jmp_imm(J::Ne, R4, 0, skip);
            a.alu_imm(Alu::Add, R3, bits);
            a.alu_imm(Alu::Lsh, R0, bits);
            a.bind(skip);
        }
        a.bind(store);
        a.stx(Size::Dw, R1, 0, R3);
        zero(a, R1, 8, 3);
        a.exit();
    }

    /// The body of [`Helper::Exp`]: square-and-multiply from the lowest bit
    /// of the exponent, through the multiplication helper.
    pub(super) fn exp(&mut self, a: &mut Asm) {
        const BASE: i16 = -40;
        const E: i16 = -72;
        const RES: i16 = -104;
        a.stx(Size::Dw, R10, -8, R1);
        copy_limbs(a, 4, R10, BASE, R2, 0);
        copy_limbs(a, 4, R10, E, R3, 0);
        zero(a, R10, RES, 4);
        a.st(Size::Dw, R10, RES, 1);
        let (top, square, done) = (a.label(), a.label(), a.label());
        let e_zero = |a: &mut Asm| {
            or_limbs(a, R1, R10, E);
            a.jmp_imm(J::Eq, R1, 0, done);
        };
        a.bind(top);
        e_zero(a);
        a.ldx(Size::Dw, R0, R10, E);
        a.alu_imm(Alu::And, R0, 1);
        a.jmp_imm(J::Eq, R0, 0, square);
        frame(a, R1, RES as i32);
        frame(a, R2, RES as i32);
        frame(a, R3, BASE as i32);
        self.call(a, Helper::Mul);
        a.bind(square);
        for k in 0..4 {
            a.ldx(Size::Dw, R0, R10, E + 8 * k);
            a.alu_imm(Alu::Rsh, R0, 1);
            if k < 3 {
                a.ldx(Size::Dw, R1, R10, E + 8 * (k + 1));
                a.alu_imm(Alu::Lsh, R1, 63);
                a.alu(Alu::Or, R0, R1);
            }
            a.stx(Size::Dw, R10, E + 8 * k, R0);
        }
        e_zero(a);
        frame(a, R1, BASE as i32);
        frame(a, R2, BASE as i32);
        frame(a, R3, BASE as i32);
        self.call(a, Helper::Mul);
        a.ja(top);
        a.bind(done);
        a.ldx(Size::Dw, R1, R10, -8);
        copy_limbs(a, 4, R1, 0, R10, RES);
        a.exit();
    }

    /// Shifts through a 12-limb window: fill, a, fill.
    pub(super) fn shift(a: &mut Asm, h: Helper) {
        const W: i16 = -96;
        a.mov64(R4, 0);
        if h == Helper::AShr {
            a.ldx(Size::Dw, R4, R2, 24);
            a.alu_imm(Alu::Arsh, R4, 63);
        }
        zero(a, R10, W, 4);
        copy_limbs(a, 4, R10, W + 32, R2, 0);
        for k in 0..4 {
            a.stx(Size::Dw, R10, W + 64 + 8 * k, R4);
        }
        let (big, whole) = (a.label(), a.label());
        upper(a, R5, R3, 0);
        a.jmp_imm(J::Ne, R5, 0, big);
        a.ldx(Size::Dw, R5, R3, 0);
        a.jmp_imm(J::Gt, R5, 255, big);
        a.mov(R6, R5);
        a.alu_imm(Alu::Rsh, R6, 6);
        a.alu_imm(Alu::Lsh, R6, 3);
        a.alu_imm(Alu::And, R5, 63);
        frame(a, R7, (W + 32) as i32);
        let left = h == Helper::Shl;
        a.alu(if left { Alu::Sub } else { Alu::Add }, R7, R6);
        a.jmp_imm(J::Eq, R5, 0, whole);
        a.mov64(R8, 64);
        a.alu(Alu::Sub, R8, R5);
        for i in 0..4 {
            a.ldx(Size::Dw, R0, R7, 8 * i);
            a.alu(if left { Alu::Lsh } else { Alu::Rsh }, R0, R5);
            a.ldx(Size::Dw, R2, R7, 8 * i + if left { -8 } else { 8 });
            a.alu(if left { Alu::Rsh } else { Alu::Lsh }, R2, R8);
            a.alu(Alu::Or, R0, R2);
            a.stx(Size::Dw, R1, 8 * i, R0);
        }
        a.exit();
        a.bind(whole);
        copy_limbs(a, 4, R1, 0, R7, 0);
        a.exit();
        a.bind(big);
        for k in 0..4 {
            a.stx(Size::Dw, R1, 8 * k, R4);
        }
        a.exit();
    }
}
