//! EVM memory: loads and stores of every width and byte order, copies and
//! fills, and expansion, all bounds-checked against the current memory
//! size (growth past the heap is the target limit `MEMORY_LIMIT`). A range
//! that a `mem.expand` earlier in the block covered needs no check, and
//! constant offsets and lengths are checked at translation where they can
//! be.

use super::Cx;
use crate::asm::{Alu, Cond as J, R0, R1, R2, R3, R4, R5, R9, Size};
use crate::layout;
use crate::runtime::{Helper, from_be, to_be};
use alloy_primitives::U256;
use chainlift_ir::entities::Value;
use chainlift_ir::inst::Endian;
use chainlift_ir::types::Type;

impl Cx<'_> {
    /// Checks `[offset, offset + len)` against EVM memory's size; leaves
    /// `r1 = the address of offset` and `r2 = len` (jumps to halt when out
    /// of bounds; a zero length is always in bounds).
    pub(super) fn mem_range(&mut self, offset: Value, len: Value) {
        let halt = self.halt;
        if let Some(n) = self.consts.get(&len).copied() {
            if n.is_zero() {
                self.asm.mov64(R1, 0);
                self.asm.mov64(R2, 0);
                return;
            }
            if let Some(o) = self.consts.get(&offset).copied() {
                // Both known: the heap bound is checked here, only the
                // memory size at run time.
                match o.checked_add(n) {
                    Some(end) if end <= U256::from(self.mem_limit) => {
                        let end = end.to::<u64>();
                        self.asm.ldx(Size::Dw, R5, R9, layout::MEM_SIZE);
                        self.asm.jmp_imm(J::Lt, R5, end as i32, halt);
                        let at = self.mem_base as i32 + o.to::<u64>() as i32;
                        self.asm.mov(R1, R9);
                        self.asm.alu_imm(Alu::Add, R1, at);
                        self.asm.mov64(R2, n.to::<u64>());
                    }
                    _ => self.asm.ja(halt),
                }
                return;
            }
        }
        let ok = self.asm.label();
        let empty = self.asm.label();
        // A range an expand covered is in bounds, unless the length is
        // zero, when the offset may be anything.
        let covered = self.covered(offset, Ok(len));
        if !covered {
            self.jmp_if_high(len, halt);
        }
        self.limb(R2, len, 0);
        if !(covered && self.consts.contains_key(&len)) {
            self.asm.jmp_imm(J::Eq, R2, 0, empty);
        }
        if !covered {
            self.jmp_if_high(offset, halt);
        }
        self.limb(R1, offset, 0);
        if !covered {
            self.check_range(R1, R2);
        }
        self.asm.ja(ok);
        self.asm.bind(empty);
        self.asm.mov64(R1, 0);
        self.asm.bind(ok);
        self.asm.alu(Alu::Add, R1, R9);
        self.asm.alu_imm(Alu::Add, R1, self.mem_base as i32);
    }

    /// Whether a `mem.expand` earlier in the block covered `len` bytes
    /// (a value, or a constant width) from `offset` (the IR analysis).
    fn covered(&self, offset: Value, len: Result<Value, u64>) -> bool {
        let len = match len {
            Ok(v) => chainlift_ir::analysis::Len::Value(v),
            Err(w) => chainlift_ir::analysis::Len::Bytes(w),
        };
        let (b, k) = self.at;
        self.coverage.covered(b, k, offset, len)
    }

    /// Jumps to halt unless `[r_off, r_off + r_len)` lies inside memory
    /// (both registers at most the limit). Uses r0 and r5.
    fn check_range(&mut self, off: u8, len: u8) {
        let halt = self.halt;
        let limit = self.mem_limit as i32;
        self.asm.jmp_imm(J::Gt, off, limit, halt);
        self.asm.jmp_imm(J::Gt, len, limit, halt);
        self.asm.mov(R0, off);
        self.asm.alu(Alu::Add, R0, len);
        self.asm.ldx(Size::Dw, R5, R9, layout::MEM_SIZE);
        self.asm.jmp(J::Gt, R0, R5, halt);
    }

    /// Where `width` bytes at memory offset `addr` are, after checking them:
    /// `(r9, heap offset)` for a constant address, else `(r1, 0)` with r1
    /// the address.
    fn mem_addr(&mut self, addr: Value, width: usize) -> (u8, i16) {
        let halt = self.halt;
        let covered = self.covered(addr, Err(width as u64));
        let in_heap = |c: U256| c <= U256::from(self.mem_limit as usize - width);
        match self.consts.get(&addr).copied() {
            None if covered => {
                self.limb(R1, addr, 0);
                self.asm.alu(Alu::Add, R1, R9);
                self.asm.alu_imm(Alu::Add, R1, self.mem_base as i32);
                return (R1, 0);
            }
            Some(c) if in_heap(c) => {
                // The heap bound holds by construction: check only the
                // memory size at run time, unless an expand covered it.
                if !covered {
                    let end = c.to::<u64>() + width as u64;
                    self.asm.ldx(Size::Dw, R5, R9, layout::MEM_SIZE);
                    self.asm.jmp_imm(J::Lt, R5, end as i32, halt);
                }
                let at = self.mem_base as i32 + c.to::<u64>() as i32;
                if at + 32 <= i16::MAX as i32 {
                    return (R9, at as i16);
                }
                self.asm.mov(R1, R9);
                self.asm.alu_imm(Alu::Add, R1, at);
                return (R1, 0);
            }
            Some(_) => {
                self.asm.ja(halt);
                return (R1, 0);
            }
            None => {
                if self.ty(addr) == Type::I256 {
                    self.jmp_if_high(addr, halt);
                }
                self.limb(R1, addr, 0);
            }
        }
        self.asm.mov64(R2, width as u64);
        self.check_range(R1, R2);
        self.asm.alu(Alu::Add, R1, R9);
        self.asm.alu_imm(Alu::Add, R1, self.mem_base as i32);
        (R1, 0)
    }

    /// Converts a big-endian 32-byte word at `[src + off]` into the limbs
    /// of `v`.
    pub(super) fn word_from_be(&mut self, v: Value, src: u8, off: i16) {
        let o = self.off(v);
        from_be(&mut self.asm, R9, o, src, off);
    }

    /// Writes the limbs of `v` as a big-endian word at `[dst + off]`.
    pub(super) fn word_to_be(&mut self, v: Value, dst: u8, off: i16) {
        if let Some(c) = self.consts.get(&v).copied() {
            for (i, l) in c.as_limbs().iter().enumerate() {
                let at = off + 8 * (3 - i as i16);
                let be = l.swap_bytes();
                match i32::try_from(be as i64) {
                    Ok(imm) => self.asm.st(Size::Dw, dst, at, imm),
                    Err(_) => {
                        self.asm.mov64(R0, be);
                        self.asm.stx(Size::Dw, dst, at, R0);
                    }
                }
            }
            return;
        }
        let o = self.off(v);
        to_be(&mut self.asm, dst, off, R9, o);
    }

    /// `d = load.t.e addr` (a load without a result only checks its
    /// bounds).
    pub(super) fn load(&mut self, t: Type, e: Endian, addr: Value, res: Option<Value>) {
        let width = t.bytes().unwrap_or(1);
        let (base, at) = self.mem_addr(addr, width);
        let Some(d) = res else { return };
        if t == Type::I256 {
            if e == Endian::Big {
                self.word_from_be(d, base, at);
            } else {
                for i in 0..4 {
                    self.asm.ldx(Size::Dw, R0, base, at + 8 * i);
                    self.set_limb(d, i, R0);
                }
            }
        } else {
            self.asm.ldx(Size::of(width), R0, base, at);
            if e == Endian::Big && width > 1 {
                self.asm.be(R0, 8 * width as i32);
            }
            self.set_word(d);
        }
    }

    /// `store.t.e addr, v`.
    pub(super) fn store(&mut self, t: Type, e: Endian, addr: Value, v: Value) {
        let width = t.bytes().unwrap_or(1);
        let (base, at) = self.mem_addr(addr, width);
        if t == Type::I256 {
            if e == Endian::Big {
                self.word_to_be(v, base, at);
            } else {
                for i in 0..4 {
                    self.limb(R0, v, i);
                    self.asm.stx(Size::Dw, base, at + 8 * i, R0);
                }
            }
        } else {
            self.limb(R0, v, 0);
            if e == Endian::Big && width > 1 {
                self.asm.be(R0, 8 * width as i32);
            }
            self.asm.stx(Size::of(width), base, at, R0);
        }
    }

    /// `mem.copy dst, src, len` (`copy`) or `mem.fill dst, byte, len`: both
    /// ranges checked, then `sol_memmove_` or `sol_memset_`.
    pub(super) fn mem_copy_fill(&mut self, copy: bool, dst: Value, src_or_byte: Value, len: Value) {
        // Both ranges checked, then a syscall.
        self.mem_range(dst, len);
        self.asm.mov(R4, R1);
        if copy {
            self.mem_range(src_or_byte, len);
            self.asm.mov(R3, R2);
            self.asm.mov(R2, R1);
            self.asm.mov(R1, R4);
            self.asm.syscall("sol_memmove_");
        } else {
            self.asm.mov(R3, R2);
            self.limb(R2, src_or_byte, 0);
            self.asm.alu_imm(Alu::And, R2, 0xff);
            self.asm.mov(R1, R4);
            self.asm.syscall("sol_memset_");
        }
    }

    /// `mem.expand offset, length`: memory grows to cover the range (a
    /// range past the heap is the target limit). A constant length is
    /// expanded inline, any other by the helper; the range is remembered
    /// for the rest of the block.
    pub(super) fn mem_expand(&mut self, offset: Value, length: Value) {
        let limit = self.mem_limit as u64;
        match self.consts.get(&length).copied() {
            Some(len) if len.is_zero() => {}
            Some(len) if len < U256::from(limit) => {
                // A constant length (MSTORE, MLOAD, ...): inline.
                let len = len.to::<u64>();
                let grown = self.asm.label();
                match self.consts.get(&offset).copied() {
                    Some(off) if off <= U256::from(limit - len) => {
                        let end = (off.to::<u64>() + len + 31) & !31;
                        self.asm.mov64(R1, end);
                    }
                    Some(_) => {
                        let l = self.memory_limit;
                        self.asm.ja(l);
                        return;
                    }
                    None => {
                        let l = self.memory_limit;
                        self.jmp_if_high(offset, l);
                        self.limb(R1, offset, 0);
                        self.asm.jmp_imm(J::Gt, R1, (limit - len) as i32, l);
                        self.asm.alu_imm(Alu::Add, R1, len as i32 + 31);
                        self.asm.alu_imm(Alu::And, R1, -32);
                    }
                }
                self.asm.ldx(Size::Dw, R0, R9, layout::MEM_SIZE);
                self.asm.jmp(J::Ge, R0, R1, grown);
                self.asm.stx(Size::Dw, R9, layout::MEM_SIZE, R1);
                self.asm.bind(grown);
            }
            _ => {
                self.ptr(R1, offset);
                self.ptr(R2, length);
                self.call_checked(Helper::MemExpand);
            }
        }
    }
}
