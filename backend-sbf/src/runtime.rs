//! Helpers emitted once per program, as internal functions.
//!
//! Arguments are pointers to 256-bit values (four little-endian limbs) in
//! `r1`..`r5`; helpers that can fail return a status in `r0` (0 to go on,
//! else an [`crate::exit`] code the caller exits with). A helper's scratch
//! lives in its own 4 KiB stack frame below `r10`; `r6`..`r9` are restored
//! by the VM when it returns, so `r9` (the heap) is still valid on entry.
//! Results are written after the operands are read, so a result may alias
//! an operand.

use crate::asm::{Alu, Asm, Cond as J, Label, R0, R1, R2, R3, R4, R5, R6, R9, R10, Reg, Size};
use crate::{exit, layout, solana_rt};
use std::collections::HashMap;

const R7: Reg = 7;
const R8: Reg = 8;

/// The helpers, each emitted at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Helper {
    /// `(d, a, b)`: d = a * b mod 2^256.
    Mul,
    /// `(d, a, b)`: the 512-bit product into 64 bytes at d.
    Mul512,
    /// `(p)`: p = -p.
    Neg,
    /// `(num, limbs, den, quot, rem)`: long division of a `limbs` (4 or 8)
    /// limb number by a non-zero 256-bit one.
    LongDiv,
    /// `(q or 0, r or 0, a, b)`: unsigned quotient and remainder.
    DivMod,
    /// `(q or 0, r or 0, a, b)`: signed (rounding to zero).
    SDivMod,
    /// `(d, a, b, n)`.
    AddMod,
    /// `(d, a, b, n)`.
    MulMod,
    /// `(d, a, b)`: a ** b.
    Exp,
    /// `(d, a)`: leading zero bits.
    Clz,
    /// `(d, a, s)`.
    Shl,
    /// `(d, a, s)`.
    LShr,
    /// `(d, a, s)`.
    AShr,
    /// `(offset, len) -> status`: EVM memory expansion.
    MemExpand,
    /// `(d, key, table)`.
    TableLoad,
    /// `(key, value, table, full code) -> status`.
    TableStore,
    /// `(d, offset)`.
    CallDataLoad,
    /// `(mem offset, source offset, len, source, source len) -> status`:
    /// copy with zeros past the source's end.
    CopyIn,
    /// `(to, value) -> status`: a call with value into an account without
    /// code. 0: paid; 1: the balance is short (the call fails); else an
    /// exit code ([`exit::VALUE_NOT_LAMPORTS`], [`exit::CALL_INTO_CODE`],
    /// [`exit::RECIPIENT_RENT`], [`exit::ACCOUNT_NEEDED`]).
    SendValue,
    /// `(address, d) -> status`: d = the code size of the account the
    /// address stands for: the contract's own, or 0 for an account without
    /// code (and a precompile). Else an exit code: an account with code
    /// whose EVM size is not known ([`exit::CALL_INTO_CODE`]), or one that
    /// is not among the instruction's accounts ([`exit::ACCOUNT_NEEDED`]).
    ExtCodeSize,
}

/// Where the division helpers keep a, b, the quotient and the remainder in
/// their frames.
const DIV_A: i16 = -48;
const DIV_B: i16 = -80;
const DIV_Q: i16 = -112;
const DIV_R: i16 = -144;

#[derive(Debug)]
pub(crate) struct Runtime {
    labels: HashMap<Helper, Label>,
    order: Vec<Helper>,
    wei_per_lamport: i32,
    rent_per_byte: i32,
    code_len: u64,
}

/// `reg = r10 + off` (a stack address).
fn frame(a: &mut Asm, reg: Reg, off: i32) {
    a.mov(reg, R10);
    a.alu_imm(Alu::Add, reg, off);
}

/// Copies `limbs` limbs from `[src + soff]` to `[dst + doff]`, via r0.
pub(crate) fn copy_limbs(a: &mut Asm, limbs: i16, dst: Reg, doff: i16, src: Reg, soff: i16) {
    for k in 0..limbs {
        a.ldx(Size::Dw, R0, src, soff + 8 * k);
        a.stx(Size::Dw, dst, doff + 8 * k, R0);
    }
}

/// Zeroes `limbs` limbs.
pub(crate) fn zero(a: &mut Asm, dst: Reg, off: i16, limbs: i16) {
    for k in 0..limbs {
        a.st(Size::Dw, dst, off + 8 * k, 0);
    }
}

/// Reads the big-endian word at `[src + soff]` into the limbs at
/// `[dst + doff]`, via r0.
pub(crate) fn from_be(a: &mut Asm, dst: Reg, doff: i16, src: Reg, soff: i16) {
    for i in 0..4 {
        a.ldx(Size::Dw, R0, src, soff + 8 * (3 - i));
        a.be64(R0);
        a.stx(Size::Dw, dst, doff + 8 * i, R0);
    }
}

/// Writes the limbs at `[src + soff]` as a big-endian word at
/// `[dst + doff]`, via r0.
pub(crate) fn to_be(a: &mut Asm, dst: Reg, doff: i16, src: Reg, soff: i16) {
    for i in 0..4 {
        a.ldx(Size::Dw, R0, src, soff + 8 * i);
        a.be64(R0);
        a.stx(Size::Dw, dst, doff + 8 * (3 - i), R0);
    }
}

/// `reg = limb0 | limb1 | limb2 | limb3` of the value at `[src + off]`
/// (zero exactly when the value is), via r0.
pub(crate) fn or_limbs(a: &mut Asm, reg: Reg, src: Reg, off: i16) {
    a.ldx(Size::Dw, reg, src, off);
    for k in 1..4 {
        a.ldx(Size::Dw, R0, src, off + 8 * k);
        a.alu(Alu::Or, reg, R0);
    }
}

/// Reads a memory range's 256-bit offset and length (at `[off_ptr]` and
/// `[len_ptr]`) into `off` and `len`: jumps to `fail` when either is past
/// `limit`, and to `empty` when the length is 0 (before the offset, which
/// may then be anything). Uses r0.
#[allow(clippy::too_many_arguments)]
fn mem_operands(
    a: &mut Asm,
    off_ptr: Reg,
    len_ptr: Reg,
    off: Reg,
    len: Reg,
    limit: i32,
    fail: Label,
    empty: Label,
) {
    upper(a, len, len_ptr, 0);
    a.jmp_imm(J::Ne, len, 0, fail);
    a.ldx(Size::Dw, len, len_ptr, 0);
    a.jmp_imm(J::Eq, len, 0, empty);
    upper(a, off, off_ptr, 0);
    a.jmp_imm(J::Ne, off, 0, fail);
    a.ldx(Size::Dw, off, off_ptr, 0);
    a.jmp_imm(J::Gt, off, limit, fail);
    a.jmp_imm(J::Gt, len, limit, fail);
}

/// `reg = limb1 | limb2 | limb3` of the value at `[src + off]`, via r0.
fn upper(a: &mut Asm, reg: Reg, src: Reg, off: i16) {
    a.ldx(Size::Dw, reg, src, off + 8);
    a.ldx(Size::Dw, R0, src, off + 16);
    a.alu(Alu::Or, reg, R0);
    a.ldx(Size::Dw, R0, src, off + 24);
    a.alu(Alu::Or, reg, R0);
}

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

impl Runtime {
    /// The label of `h`, which will be emitted.
    pub(crate) fn new(wei_per_lamport: u32, rent_per_byte: u32, code_len: u64) -> Self {
        Runtime {
            code_len,
            labels: HashMap::new(),
            order: vec![],
            wei_per_lamport: wei_per_lamport as i32,
            rent_per_byte: rent_per_byte as i32,
        }
    }

    pub(crate) fn label(&mut self, a: &mut Asm, h: Helper) -> Label {
        if let Some(l) = self.labels.get(&h) {
            return *l;
        }
        let l = a.named(&format!("helper_{h:?}").to_lowercase());
        self.labels.insert(h, l);
        self.order.push(h);
        l
    }

    fn call(&mut self, a: &mut Asm, h: Helper) {
        let l = self.label(a, h);
        a.call(l);
    }

    /// Emits every helper used so far (and those they use).
    pub(crate) fn emit_all(&mut self, a: &mut Asm, mem_base: i16, mem_limit: u32) {
        let mut i = 0;
        while i < self.order.len() {
            let h = self.order[i];
            a.bind(self.labels[&h]);
            self.emit(a, h, mem_base, mem_limit as i32);
            i += 1;
        }
    }

    fn emit(&mut self, a: &mut Asm, h: Helper, mem_base: i16, limit: i32) {
        match h {
            Helper::Mul => Self::mul_limbs(a, false),
            Helper::Mul512 => Self::mul_limbs(a, true),
            Helper::Neg => {
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
            Helper::LongDiv => self.long_div(a),
            Helper::SendValue => solana_rt::send_value(a, self.wei_per_lamport, self.rent_per_byte),
            Helper::ExtCodeSize => solana_rt::ext_code_size(a, self.code_len),
            Helper::DivMod => self.divmod(a),
            Helper::SDivMod => self.sdivmod(a),
            Helper::AddMod => self.addmod(a),
            Helper::MulMod => self.mulmod(a),
            Helper::Exp => self.exp(a),
            Helper::Clz => {
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
            Helper::Shl | Helper::LShr | Helper::AShr => self.shift(a, h),
            Helper::MemExpand => {
                let (limit_l, ok) = (a.label(), a.label());
                mem_operands(a, R1, R2, R4, R5, limit, limit_l, ok);
                a.alu(Alu::Add, R4, R5);
                a.alu_imm(Alu::Add, R4, 31);
                a.alu_imm(Alu::And, R4, -32);
                a.jmp_imm(J::Gt, R4, limit, limit_l);
                a.ldx(Size::Dw, R3, R9, layout::MEM_SIZE);
                a.jmp(J::Le, R4, R3, ok);
                a.stx(Size::Dw, R9, layout::MEM_SIZE, R4);
                a.bind(ok);
                a.mov64(R0, 0);
                a.exit();
                a.bind(limit_l);
                a.mov64(R0, exit::MEMORY_LIMIT);
                a.exit();
            }
            Helper::TableLoad | Helper::TableStore => solana_rt::table(a, h == Helper::TableStore),
            Helper::CallDataLoad => {
                let (zero_l, partial) = (a.label(), a.label());
                a.ldx(Size::Dw, R3, R9, layout::CALLDATA_LEN);
                a.ldx(Size::Dw, R4, R9, layout::CALLDATA_PTR);
                upper(a, R5, R2, 0);
                a.jmp_imm(J::Ne, R5, 0, zero_l);
                a.ldx(Size::Dw, R5, R2, 0);
                a.jmp(J::Ge, R5, R3, zero_l);
                a.mov(R0, R5);
                a.alu_imm(Alu::Add, R0, 32);
                a.jmp(J::Gt, R0, R3, partial);
                a.alu(Alu::Add, R4, R5);
                from_be(a, R1, 0, R4, 0);
                a.exit();
                a.bind(partial);
                zero(a, R10, -32, 4);
                frame(a, R6, -32);
                a.alu(Alu::Add, R4, R5);
                a.alu(Alu::Sub, R3, R5);
                let l = a.label();
                a.bind(l);
                a.ldx(Size::B, R0, R4, 0);
                a.stx(Size::B, R6, 0, R0);
                a.alu_imm(Alu::Add, R4, 1);
                a.alu_imm(Alu::Add, R6, 1);
                a.alu_imm(Alu::Sub, R3, 1);
                a.jmp_imm(J::Ne, R3, 0, l);
                from_be(a, R1, 0, R10, -32);
                a.exit();
                a.bind(zero_l);
                zero(a, R1, 0, 4);
                a.exit();
            }
            Helper::CopyIn => {
                let (halt, ok, fill, have) = (a.label(), a.label(), a.label(), a.label());
                mem_operands(a, R1, R3, R7, R6, limit, halt, ok);
                a.mov(R0, R7);
                a.alu(Alu::Add, R0, R6);
                a.ldx(Size::Dw, R8, R9, layout::MEM_SIZE);
                a.jmp(J::Gt, R0, R8, halt);
                a.alu(Alu::Add, R7, R9);
                a.alu_imm(Alu::Add, R7, mem_base as i32);
                a.mov64(R8, 0);
                upper(a, R3, R2, 0);
                a.jmp_imm(J::Ne, R3, 0, fill);
                a.ldx(Size::Dw, R0, R2, 0);
                a.jmp(J::Ge, R0, R5, fill);
                a.mov(R8, R5);
                a.alu(Alu::Sub, R8, R0);
                a.jmp(J::Le, R8, R6, have);
                a.mov(R8, R6);
                a.bind(have);
                a.mov(R1, R7);
                a.mov(R2, R4);
                a.alu(Alu::Add, R2, R0);
                a.mov(R3, R8);
                a.syscall("sol_memcpy_");
                a.bind(fill);
                a.mov(R1, R7);
                a.alu(Alu::Add, R1, R8);
                a.mov64(R2, 0);
                a.mov(R3, R6);
                a.alu(Alu::Sub, R3, R8);
                a.jmp_imm(J::Eq, R3, 0, ok);
                a.syscall("sol_memset_");
                a.bind(ok);
                a.mov64(R0, 0);
                a.exit();
                a.bind(halt);
                a.mov64(R0, exit::HALT);
                a.exit();
            }
        }
    }

    /// `d = a * b mod 2^256` (or, `wide`, the 512-bit product) on 64-bit
    /// limbs, column by column into a three-limb accumulator (r6, r7, r8).
    /// The limb products (ten below 2^256, sixteen in all) are unrolled; a
    /// product with a zero limb is skipped. A 64 x 64
    /// -> 128-bit product is built from four 32 x 32-bit ones (the SBF
    /// `mul` keeps only the low 64 bits), the halves read straight from
    /// memory.
    fn mul_limbs(a: &mut Asm, wide: bool) {
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

    /// Knuth's algorithm D (TAOCP 4.3.1) on 32-bit digits, so that every
    /// digit product and two-digit quotient fits the 64-bit `mul`/`div`.
    /// Costs about 20 instructions per digit of divisor and quotient,
    /// against about 40 per bit for shift-and-subtract.
    fn long_div(&mut self, a: &mut Asm) {
        // Frame: the pointers, the top two divisor digits, and the
        // normalized digit arrays (un has one digit more than u).
        const QP: i16 = -8;
        const RP: i16 = -16;
        const UP: i16 = -24;
        const VP: i16 = -32;
        const VTOP: i16 = -40;
        const VSEC: i16 = -48;
        const UN: i16 = -200; // 17 digits
        const VN: i16 = -240; // 8 digits
        let b = 1u64 << 32;
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
        {
            // One divisor digit: short division from the top.
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
        a.bind(long);
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
        let normalize = |a: &mut Asm, ptr: i16, len: Reg, out: i16, extra: bool| {
            // out[len] = src[len - 1] >> (32 - s) when `extra`; then
            // out[i] = src[i] << s | src[i - 1] >> (32 - s), down to 0.
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
        };
        normalize(a, VP, R6, VN, false);
        normalize(a, UP, R8, UN, true);
        // The top two digits of vn, for the quotient estimate.
        a.mov(R0, R6);
        a.alu_imm(Alu::Lsh, R0, 2);
        a.alu(Alu::Add, R0, R10);
        a.ldx(Size::W, R1, R0, VN - 4);
        a.stx(Size::Dw, R10, VTOP, R1);
        a.ldx(Size::W, R1, R0, VN - 8);
        a.stx(Size::Dw, R10, VSEC, R1);
        // r8 = j = m = len(u) - n, down to 0.
        a.alu(Alu::Sub, R8, R6);
        let (outer, again, adjust, estimated, msub, add_back, next, finish) = (
            a.label(),
            a.label(),
            a.label(),
            a.label(),
            a.label(),
            a.label(),
            a.label(),
            a.label(),
        );
        a.bind(outer);
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
        // Remainder: un[0..n] shifted back right by s.
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
    fn divmod(&mut self, a: &mut Asm) {
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

    fn sdivmod(&mut self, a: &mut Asm) {
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

    fn addmod(&mut self, a: &mut Asm) {
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

    fn mulmod(&mut self, a: &mut Asm) {
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

    fn exp(&mut self, a: &mut Asm) {
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
    fn shift(&mut self, a: &mut Asm, h: Helper) {
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
