//! Arithmetic lowering: binary operations on 256-bit words (limb by limb
//! with carries, constant operands as immediates, constant shifts as limb
//! moves, the long ones as runtime helpers) and on narrow types (one
//! 64-bit limb, masked), SIGNEXTEND, BYTE, and comparisons that jump.

use super::{Cx, unsupported};
use crate::Error;
use crate::asm::{Alu, Cond as J, Label, R0, R1, R2, R3, R4, R9, Size};
use crate::runtime::{Helper, zero};
use alloy_primitives::U256;
use chainlift_ir::entities::Value;
use chainlift_ir::inst::{BinOp, Cond, SourcePos};
use chainlift_ir::types::Type;

impl Cx<'_> {
    /// `d = a op b`. Words go limb by limb, or to a runtime helper;
    /// narrower types to [`Self::binary_narrow`].
    pub(super) fn binary(
        &mut self,
        op: BinOp,
        a: Value,
        b: Value,
        d: Value,
        pos: SourcePos,
    ) -> Result<(), Error> {
        let ty = self.ty(d);
        if ty != Type::I256 {
            return self.binary_narrow(op, a, b, d, pos);
        }
        // A constant on the left of a commutative operation goes right.
        let (a, b) = if matches!(op, BinOp::Add | BinOp::And | BinOp::Or | BinOp::Xor)
            && self.consts.contains_key(&a)
            && !self.consts.contains_key(&b)
        {
            (b, a)
        } else {
            (a, b)
        };
        match op {
            BinOp::Add | BinOp::Sub if self.consts.contains_key(&b) => {
                self.add_sub_const(op == BinOp::Add, a, self.consts[&b], d)
            }
            BinOp::And | BinOp::Or | BinOp::Xor if self.consts.contains_key(&b) => {
                self.bitwise_const(op, a, b, d)
            }
            BinOp::Add | BinOp::Sub => self.add_sub(op, a, b, d),
            BinOp::And | BinOp::Or | BinOp::Xor => self.bitwise(op, a, b, d),
            BinOp::Mul => {
                self.ptr(R1, d);
                self.ptr(R2, a);
                self.ptr(R3, b);
                self.call(Helper::Mul);
            }
            BinOp::UDiv | BinOp::URem | BinOp::SDiv | BinOp::SRem => self.div_rem(op, a, b, d),
            BinOp::Shl | BinOp::LShr
                if self.consts.get(&b).is_some_and(|s| *s < U256::from(256)) =>
            {
                self.shift_const(op, a, b, d)
            }
            BinOp::Shl | BinOp::LShr | BinOp::AShr => {
                self.ptr(R1, d);
                self.ptr(R2, a);
                self.ptr(R3, b);
                self.call(match op {
                    BinOp::Shl => Helper::Shl,
                    BinOp::LShr => Helper::LShr,
                    _ => Helper::AShr,
                });
            }
            BinOp::Rotl | BinOp::Rotr => {
                return Err(unsupported(
                    format!("{}.i256", op.name()),
                    pos,
                    "256-bit rotations do not occur in EVM code",
                ));
            }
        }
        Ok(())
    }

    /// `d = a op c` for a bitwise `op` and a constant `c` (the value `b`):
    /// limbs that the constant decides are stored as immediates, limbs it
    /// leaves alone are copied, and only the others are computed.
    fn bitwise_const(&mut self, op: BinOp, a: Value, b: Value, d: Value) {
        let c = self.consts[&b];
        for i in 0..4 {
            let l = c.as_limbs()[i as usize];
            match (op, l) {
                (BinOp::And, 0) | (BinOp::Or, u64::MAX) => {
                    let o = self.off(d);
                    self.asm.st(Size::Dw, R9, o + 8 * i, l as i64 as i32);
                }
                (BinOp::And, u64::MAX) | (BinOp::Or | BinOp::Xor, 0) => {
                    self.limb(R1, a, i);
                    self.set_limb(d, i, R1);
                }
                _ => {
                    let alu = bitwise_alu(op);
                    self.limb(R1, a, i);
                    match self.imm_limb(b, i) {
                        Some(imm) => self.asm.alu_imm(alu, R1, imm),
                        None => {
                            self.asm.mov64(R2, l);
                            self.asm.alu(alu, R1, R2);
                        }
                    }
                    self.set_limb(d, i, R1);
                }
            }
        }
    }

    /// `d = a ± b`, limb by limb with the carry (borrow) in r3. A sum of
    /// values that leave the upper limbs zero stops early: the next limb
    /// is the carry, the rest zero.
    fn add_sub(&mut self, op: BinOp, a: Value, b: Value, d: Value) {
        let hi = if op == BinOp::Add {
            self.limbs(a).max(self.limbs(b))
        } else {
            4
        };
        for i in 0..hi {
            self.limb(R1, a, i);
            self.limb(R2, b, i);
            let (l1, l2) = (self.asm.label(), self.asm.label());
            let carry = if i == 0 { R3 } else { R4 };
            self.asm.mov64(carry, 0);
            if op == BinOp::Add {
                self.asm.alu(Alu::Add, R1, R2);
                self.asm.jmp(J::Ge, R1, R2, l1);
                self.asm.mov64(carry, 1);
                self.asm.bind(l1);
                if i > 0 {
                    self.asm.alu(Alu::Add, R1, R3);
                    self.asm.jmp(J::Ge, R1, R3, l2);
                    self.asm.mov64(carry, 1);
                    self.asm.bind(l2);
                }
            } else {
                self.asm.jmp(J::Ge, R1, R2, l1);
                self.asm.mov64(carry, 1);
                self.asm.bind(l1);
                self.asm.alu(Alu::Sub, R1, R2);
                if i > 0 {
                    self.asm.jmp(J::Ge, R1, R3, l2);
                    self.asm.mov64(carry, 1);
                    self.asm.bind(l2);
                    self.asm.alu(Alu::Sub, R1, R3);
                }
            }
            if i > 0 && i < 3 {
                self.asm.mov(R3, R4);
            }
            self.set_limb(d, i, R1);
        }
        if hi < 4 {
            self.set_limb(d, hi, if hi == 1 { R3 } else { R4 });
            let o = self.off(d);
            zero(&mut self.asm, R9, o + 8 * (hi + 1), 3 - hi);
        }
    }

    /// `d = a op b` for a bitwise `op`, limb by limb. Limbs zero in both
    /// operands (in either, for `and`) are zero.
    fn bitwise(&mut self, op: BinOp, a: Value, b: Value, d: Value) {
        let alu = bitwise_alu(op);
        let hi = if op == BinOp::And {
            self.limbs(a).min(self.limbs(b))
        } else {
            self.limbs(a).max(self.limbs(b))
        };
        for i in 0..hi {
            self.limb(R1, a, i);
            self.limb(R2, b, i);
            self.asm.alu(alu, R1, R2);
            self.set_limb(d, i, R1);
        }
        let o = self.off(d);
        zero(&mut self.asm, R9, o + 8 * hi, 4 - hi);
    }

    /// `d = a / b` or `a % b` (signed or not) through the division helpers,
    /// which take a null pointer for the result not wanted.
    fn div_rem(&mut self, op: BinOp, a: Value, b: Value, d: Value) {
        let (q, r) = if matches!(op, BinOp::UDiv | BinOp::SDiv) {
            (true, false)
        } else {
            (false, true)
        };
        if q {
            self.ptr(R1, d);
        } else {
            self.asm.mov64(R1, 0);
        }
        if r {
            self.ptr(R2, d);
        } else {
            self.asm.mov64(R2, 0);
        }
        self.ptr(R3, a);
        self.ptr(R4, b);
        self.call(if matches!(op, BinOp::UDiv | BinOp::URem) {
            Helper::DivMod
        } else {
            Helper::SDivMod
        });
    }

    /// `d = a << s` or `a >> s` for a constant shift `s` (the value `b`)
    /// below 256: limbs move, and bits spill into the next limb; no helper.
    fn shift_const(&mut self, op: BinOp, a: Value, b: Value, d: Value) {
        let s = self.consts[&b].to::<u64>() as i16;
        let (k, bits) = (s / 64, (s % 64) as i32);
        for i in 0..4i16 {
            let (main, spill) = if op == BinOp::Shl {
                (i - k, i - k - 1)
            } else {
                (i + k, i + k + 1)
            };
            let (fwd, back) = if op == BinOp::Shl {
                (Alu::Lsh, Alu::Rsh)
            } else {
                (Alu::Rsh, Alu::Lsh)
            };
            if !(0..4).contains(&main) {
                self.asm.mov64(R1, 0);
            } else {
                self.limb(R1, a, main);
                if bits != 0 {
                    self.asm.alu_imm(fwd, R1, bits);
                    if (0..4).contains(&spill) {
                        self.limb(R2, a, spill);
                        self.asm.alu_imm(back, R2, 64 - bits);
                        self.asm.alu(Alu::Or, R1, R2);
                    }
                }
            }
            self.set_limb(d, i, R1);
        }
    }

    /// `d = a ± c` for a constant `c`: limbs of `c` that are zero only
    /// propagate the carry (borrow), and none is propagated while it is
    /// known to be zero.
    fn add_sub_const(&mut self, add: bool, a: Value, c: U256, d: Value) {
        let alu = if add { Alu::Add } else { Alu::Sub };
        // Whether r3 holds the carry so far (else it is zero).
        let mut carry = false;
        for (i, &l) in c.as_limbs().iter().enumerate() {
            let i = i as i16;
            self.limb(R1, a, i);
            if l != 0 {
                let done = self.asm.label();
                self.asm.mov64(R4, 0);
                let imm = i32::try_from(l as i64).ok();
                if !add {
                    // Borrow when a < c.
                    match imm {
                        Some(imm) => self.asm.jmp_imm(J::Ge, R1, imm, done),
                        None => {
                            self.asm.mov64(R2, l);
                            self.asm.jmp(J::Ge, R1, R2, done);
                        }
                    }
                    self.asm.mov64(R4, 1);
                    self.asm.bind(done);
                }
                match imm {
                    Some(imm) => self.asm.alu_imm(alu, R1, imm),
                    None => {
                        self.asm.mov64(R2, l);
                        self.asm.alu(alu, R1, R2);
                    }
                }
                if add {
                    // Carry when the sum wrapped below c.
                    match imm {
                        Some(imm) => self.asm.jmp_imm(J::Ge, R1, imm, done),
                        None => self.asm.jmp(J::Ge, R1, R2, done),
                    }
                    self.asm.mov64(R4, 1);
                    self.asm.bind(done);
                }
                if carry {
                    self.carry_in(add);
                }
                if i < 3 {
                    self.asm.mov(R3, R4);
                }
                carry = true;
            } else if carry {
                self.asm.mov64(R4, 0);
                self.carry_in(add);
                if i < 3 {
                    self.asm.mov(R3, R4);
                }
            }
            self.set_limb(d, i, R1);
        }
    }

    /// `r1 ±= r3` (the carry or borrow in, 0 or 1), setting r4 to 1 when
    /// that carries (borrows) out.
    fn carry_in(&mut self, add: bool) {
        let done = self.asm.label();
        if add {
            self.asm.alu(Alu::Add, R1, R3);
        }
        self.asm.jmp(J::Ge, R1, R3, done);
        self.asm.mov64(R4, 1);
        self.asm.bind(done);
        if !add {
            self.asm.alu(Alu::Sub, R1, R3);
        }
    }

    /// `d = a op b` on one limb for types narrower than a word, masked to
    /// the type; division by zero and shifts past the width give zero, an
    /// arithmetic shift past it the sign.
    fn binary_narrow(
        &mut self,
        op: BinOp,
        a: Value,
        b: Value,
        d: Value,
        pos: SourcePos,
    ) -> Result<(), Error> {
        let ty = self.ty(d);
        let bits = ty.bits() as i32;
        self.limb(R1, a, 0);
        self.limb(R2, b, 0);
        let zero = self.asm.label();
        let done = self.asm.label();
        match op {
            BinOp::Add => self.asm.alu(Alu::Add, R1, R2),
            BinOp::Sub => self.asm.alu(Alu::Sub, R1, R2),
            BinOp::Mul => self.asm.alu(Alu::Mul, R1, R2),
            BinOp::And => self.asm.alu(Alu::And, R1, R2),
            BinOp::Or => self.asm.alu(Alu::Or, R1, R2),
            BinOp::Xor => self.asm.alu(Alu::Xor, R1, R2),
            BinOp::UDiv | BinOp::URem => {
                self.asm.jmp_imm(J::Eq, R2, 0, zero);
                self.asm.alu(
                    if op == BinOp::UDiv {
                        Alu::Div
                    } else {
                        Alu::Mod
                    },
                    R1,
                    R2,
                );
            }
            BinOp::Shl | BinOp::LShr => {
                self.asm.jmp_imm(J::Ge, R2, bits, zero);
                self.asm
                    .alu(if op == BinOp::Shl { Alu::Lsh } else { Alu::Rsh }, R1, R2);
            }
            BinOp::AShr => {
                self.sext(R1, ty);
                let ok = self.asm.label();
                self.asm.jmp_imm(J::Lt, R2, bits, ok);
                self.asm.mov64(R2, bits as u64 - 1);
                self.asm.bind(ok);
                self.asm.alu(Alu::Arsh, R1, R2);
            }
            BinOp::SDiv | BinOp::SRem => {
                // On magnitudes, then the sign: the quotient's when the
                // signs differ, the remainder's the dividend's. MIN / -1
                // wraps to MIN, as the IR says.
                self.asm.jmp_imm(J::Eq, R2, 0, zero);
                self.sext(R1, ty);
                self.sext(R2, ty);
                self.asm.mov(R3, R1);
                self.asm.alu_imm(Alu::Arsh, R3, 63); // all ones when a < 0
                self.asm.mov(R4, R2);
                self.asm.alu_imm(Alu::Arsh, R4, 63);
                for (r, s) in [(R1, R3), (R2, R4)] {
                    // |x| = (x ^ s) - s
                    self.asm.alu(Alu::Xor, r, s);
                    self.asm.alu(Alu::Sub, r, s);
                }
                if op == BinOp::SDiv {
                    self.asm.alu(Alu::Div, R1, R2);
                    self.asm.alu(Alu::Xor, R3, R4);
                } else {
                    self.asm.alu(Alu::Mod, R1, R2);
                }
                self.asm.alu(Alu::Xor, R1, R3);
                self.asm.alu(Alu::Sub, R1, R3);
            }
            BinOp::Rotl | BinOp::Rotr if bits >= 8 => {
                // (a << s) | (a >> ((w - s) mod w)), s the count mod w (a
                // right rotation by s is a left one by w - s).
                self.asm.alu_imm(Alu::And, R2, bits - 1);
                if op == BinOp::Rotr {
                    self.asm.alu_imm(Alu::Xor, R2, -1);
                    self.asm.alu_imm(Alu::Add, R2, bits + 1);
                    self.asm.alu_imm(Alu::And, R2, bits - 1);
                }
                self.asm.mov(R3, R1);
                self.asm.alu(Alu::Lsh, R1, R2);
                self.asm.alu_imm(Alu::Xor, R2, -1);
                self.asm.alu_imm(Alu::Add, R2, bits + 1);
                self.asm.alu_imm(Alu::And, R2, bits - 1);
                self.asm.alu(Alu::Rsh, R3, R2);
                self.mask(R1, ty);
                self.asm.alu(Alu::Or, R1, R3);
            }
            _ => {
                return Err(unsupported(
                    format!("{}.{}", op.name(), ty.name()),
                    pos,
                    "this narrow operation is not lowered yet",
                ));
            }
        }
        self.asm.ja(done);
        self.asm.bind(zero);
        self.asm.mov64(R1, 0);
        self.asm.bind(done);
        self.mask(R1, ty);
        self.set_limb(d, 0, R1);
        Ok(())
    }

    /// SIGNEXTEND: copy x, then fill the bytes above byte b with its sign.
    pub(super) fn signextend(&mut self, b: Value, x: Value, d: Value) {
        let dd = self.off(d);
        let xx = self.src(x);
        self.copy(dd, xx, Type::I256);
        let done = self.asm.label();
        self.jmp_if_high(b, done);
        self.limb(R1, b, 0);
        self.asm.jmp_imm(J::Gt, R1, 30, done);
        // r2 = &d + b: the sign byte; fill d[b+1..32] with 0 or 0xff.
        self.asm.mov(R2, R9);
        self.asm.alu_imm(Alu::Add, R2, dd as i32);
        self.asm.alu(Alu::Add, R2, R1);
        self.asm.ldx(Size::B, R3, R2, 0);
        self.asm.alu_imm(Alu::Lsh, R3, 56);
        self.asm.alu_imm(Alu::Arsh, R3, 63); // all ones or zero
        self.asm.mov(R4, R9);
        self.asm.alu_imm(Alu::Add, R4, dd as i32 + 31);
        let fill = self.asm.label();
        self.asm.bind(fill);
        self.asm.alu_imm(Alu::Add, R2, 1);
        self.asm.stx(Size::B, R2, 0, R3);
        self.asm.jmp(J::Lt, R2, R4, fill);
        self.asm.bind(done);
    }

    /// BYTE: byte i counted from the most significant, 0 past 31.
    pub(super) fn byte(&mut self, i: Value, x: Value, d: Value) {
        let (zero, done) = (self.asm.label(), self.asm.label());
        self.jmp_if_high(i, zero);
        self.limb(R1, i, 0);
        self.asm.jmp_imm(J::Gt, R1, 31, zero);
        self.asm.mov(R2, R9);
        let xx = self.src(x);
        self.asm.alu_imm(Alu::Add, R2, xx as i32 + 31);
        self.asm.alu(Alu::Sub, R2, R1);
        self.asm.ldx(Size::B, R0, R2, 0);
        self.asm.ja(done);
        self.asm.bind(zero);
        self.asm.mov64(R0, 0);
        self.asm.bind(done);
        self.set_word(d);
    }

    /// Jumps to `t` when `a cond b`, else to `f`.
    pub(super) fn compare(&mut self, cond: Cond, a: Value, b: Value, t: Label, f: Label) {
        let ty = self.ty(a);
        let (a, b, cond) = match cond {
            Cond::Ugt => (b, a, Cond::Ult),
            Cond::Uge => (b, a, Cond::Ule),
            Cond::Sgt => (b, a, Cond::Slt),
            Cond::Sge => (b, a, Cond::Sle),
            c => (a, b, c),
        };
        if let (Some(x), Some(y)) = (self.consts.get(&a), self.consts.get(&b)) {
            // Both known: the branch is decided now.
            let bits = ty.bits();
            // Biased by half the range, signed order is unsigned order.
            let mask = U256::MAX >> (256 - bits);
            let signed = |v: &U256| v.wrapping_add(U256::ONE << (bits - 1)) & mask;
            let holds = match cond {
                Cond::Eq => x == y,
                Cond::Ne => x != y,
                Cond::Ult => x < y,
                Cond::Ule => x <= y,
                Cond::Slt => signed(x) < signed(y),
                _ => signed(x) <= signed(y),
            };
            self.asm.ja(if holds { t } else { f });
            return;
        }
        if ty != Type::I256 {
            self.limb(R1, a, 0);
            self.limb(R2, b, 0);
            if matches!(cond, Cond::Slt | Cond::Sle) {
                self.sext(R1, ty);
                self.sext(R2, ty);
            }
            let j = match cond {
                Cond::Eq => J::Eq,
                Cond::Ne => J::Ne,
                Cond::Ult => J::Lt,
                Cond::Ule => J::Le,
                Cond::Slt => J::Slt,
                _ => J::Sle,
            };
            self.asm.jmp(j, R1, R2, t);
            self.asm.ja(f);
            return;
        }
        match cond {
            Cond::Eq | Cond::Ne => {
                let (a, b) = if self.consts.contains_key(&a) {
                    (b, a)
                } else {
                    (a, b)
                };
                let (differ, same) = if cond == Cond::Eq { (f, t) } else { (t, f) };
                // Limbs both values leave zero are equal.
                for i in 0..self.limbs(a).max(self.limbs(b)) {
                    self.limb(R1, a, i);
                    self.jmp_limb(J::Ne, R1, b, i, differ);
                }
                self.asm.ja(same);
            }
            _ => {
                // Limbs both values leave zero are equal; below 2^192 both
                // are non-negative, so signed and unsigned agree.
                let hi = self.limbs(a).max(self.limbs(b));
                let signed = hi == 4 && matches!(cond, Cond::Slt | Cond::Sle);
                for i in (1..hi).rev() {
                    self.limb(R1, a, i);
                    let (lt, gt) = if signed && i == 3 {
                        (J::Slt, J::Sgt)
                    } else {
                        (J::Lt, J::Gt)
                    };
                    if self.imm_limb(b, i).is_none() {
                        self.limb(R2, b, i);
                        self.asm.jmp(lt, R1, R2, t);
                        self.asm.jmp(gt, R1, R2, f);
                    } else {
                        self.jmp_limb(lt, R1, b, i, t);
                        self.jmp_limb(gt, R1, b, i, f);
                    }
                }
                self.limb(R1, a, 0);
                let last = if matches!(cond, Cond::Ult | Cond::Slt) {
                    J::Lt
                } else {
                    J::Le
                };
                self.jmp_limb(last, R1, b, 0, t);
                self.asm.ja(f);
            }
        }
    }
}

/// The ALU operation of a bitwise `op` (`and`, `or`, else `xor`).
fn bitwise_alu(op: BinOp) -> Alu {
    match op {
        BinOp::And => Alu::And,
        BinOp::Or => Alu::Or,
        _ => Alu::Xor,
    }
}
