//! The helpers for EVM memory and calldata: memory expansion, CALLDATALOAD
//! past the end of the calldata, and copies into memory that fill with
//! zeros past their source (CALLDATACOPY, CODECOPY).

use super::{Runtime, frame, from_be, upper, zero};
use crate::asm::{
    Alu, Asm, Cond as J, Label, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, Reg, Size,
};
use crate::{exit, layout};

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

impl Runtime {
    /// The body of [`super::Helper::MemExpand`]: grows EVM memory to cover
    /// the range, rounded up to 32 bytes, or fails with
    /// [`exit::MEMORY_LIMIT`] past `limit`.
    pub(super) fn mem_expand(a: &mut Asm, limit: i32) {
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

    /// The body of [`super::Helper::CallDataLoad`]: the word at the offset,
    /// zero-padded past the calldata's end.
    pub(super) fn calldata_load(a: &mut Asm) {
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

    /// The body of [`super::Helper::CopyIn`]: checks the memory range (an
    /// exceptional halt when it is outside memory), copies what the source
    /// holds and fills the rest with zeros. EVM memory starts at heap offset
    /// `mem_base`.
    pub(super) fn copy_in(a: &mut Asm, mem_base: i16, limit: i32) {
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
