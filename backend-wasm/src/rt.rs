//! Runtime helpers: small WASM functions a module carries for what its
//! code does in many places (EVM memory growth and bounds, copies, guarded
//! division, traps). Each is emitted once, only when used.

use crate::abi::{DEFAULT_MEMORY_LIMIT, layout, trap_info};
use crate::code::{Body, Callee, Ins, mem};
use chainlift_ir::inst::{SourcePos, TrapCode};
use wasm_encoder::{BlockType, Instruction as I, ValType};

/// A runtime helper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rt {
    /// `trap(info: i64)`: store the trap's code and position, then trap.
    Trap,
    /// `ensure(end: i64)`: grow linear memory to at least `end` bytes.
    Ensure,
    /// `expand(offset, len, pos: i64)`: EVM memory expansion (`mem.expand`).
    Expand,
    /// `range(offset, len, pos: i64) -> ptr`: a range of EVM memory, checked.
    Range,
    /// `zero(ptr, len: i32)`.
    Zero,
    /// `move(dst, src, len: i32)`: overlapping copy.
    Move,
    /// `copy_padded(dst, len, src, src_len: i32, offset: i64)`: copy
    /// `src[offset..offset+len]` to `dst`, zeros past `src_len`.
    CopyPadded,
    /// `mem_copy(dst, src, len, pos: i64)`: IR `mem.copy`.
    MemCopy,
    /// `mem_fill(dst, byte, len, pos: i64)`: IR `mem.fill`.
    MemFill,
    /// `mem_grow(bytes: i64) -> i64`: IR `mem.grow`.
    MemGrow,
    /// `tmp(size: i64) -> ptr`: room past EVM memory for a host operand.
    Tmp,
    /// `load_be64(addr, pos: i64) -> i64`: a checked big-endian limb load.
    LoadBe64,
    /// `store_be64(addr, value, pos: i64)`: a checked big-endian limb store.
    StoreBe64,
    /// `bswap64(x) -> x` with its bytes reversed.
    Bswap64,
    /// `saturate(l0, l1, l2, l3) -> i64`: a word as a u64, all ones if larger.
    Saturate,
    /// Guarded 64-bit `udiv`, `sdiv`, `urem`, `srem` (x / 0 = 0, MIN / -1 = MIN).
    Div64(DivKind),
    /// The same on 32 bits.
    Div32(DivKind),
}

/// Which division.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DivKind {
    /// Unsigned quotient.
    UDiv,
    /// Signed quotient.
    SDiv,
    /// Unsigned remainder.
    URem,
    /// Signed remainder.
    SRem,
}

/// Global indices every module has.
pub mod globals {
    /// `i32`: where EVM memory starts.
    pub const HEAP: u32 = 0;
    /// `i64`: EVM memory size.
    pub const MSIZE: u32 = 1;
    /// `i64`: EVM memory limit.
    pub const LIMIT: u32 = 2;
    /// `i32`: calldata size.
    pub const CD_LEN: u32 = 3;
    /// First of the result globals (see `lower`).
    pub const RESULTS: u32 = 4;
}

impl Rt {
    /// The helper's name (in the name section).
    pub fn name(self) -> String {
        match self {
            Rt::Div64(k) => format!("rt_{k:?}64").to_lowercase(),
            Rt::Div32(k) => format!("rt_{k:?}32").to_lowercase(),
            other => format!("rt_{other:?}").to_lowercase(),
        }
    }

    /// (parameters, results).
    pub fn signature(self) -> (Vec<ValType>, Vec<ValType>) {
        use ValType::{I32, I64};
        match self {
            Rt::Trap | Rt::Ensure => (vec![I64], vec![]),
            Rt::Expand => (vec![I64, I64, I64], vec![]),
            Rt::Range => (vec![I64, I64, I64], vec![I32]),
            Rt::Zero => (vec![I32, I32], vec![]),
            Rt::Move => (vec![I32, I32, I32], vec![]),
            Rt::CopyPadded => (vec![I32, I32, I32, I32, I64], vec![]),
            Rt::MemCopy | Rt::MemFill => (vec![I64, I64, I64, I64], vec![]),
            Rt::MemGrow => (vec![I64], vec![I64]),
            Rt::Tmp => (vec![I64], vec![I32]),
            Rt::Div64(_) => (vec![I64, I64], vec![I64]),
            Rt::LoadBe64 => (vec![I64, I64], vec![I64]),
            Rt::StoreBe64 => (vec![I64, I64, I64], vec![]),
            Rt::Bswap64 => (vec![I64], vec![I64]),
            Rt::Saturate => (vec![I64, I64, I64, I64], vec![I64]),
            Rt::Div32(_) => (vec![I32, I32], vec![I32]),
        }
    }

    /// The helper's body.
    pub fn body(self) -> Body {
        let (params, _) = self.signature();
        let mut b = Body {
            params: params.len() as u32,
            ..Body::default()
        };
        for p in params {
            b.local(p);
        }
        match self {
            Rt::Trap => {
                b.w(I::I32Const(layout::TRAP as i32));
                b.ins.push(Ins::Get(0));
                b.w(I::I64Store(mem(0, 3)));
                b.w(I::Unreachable);
            }
            Rt::Ensure => ensure(&mut b),
            Rt::Expand => expand(&mut b),
            Rt::Range => range(&mut b),
            Rt::Zero => zero(&mut b),
            Rt::Move => move_bytes(&mut b),
            Rt::CopyPadded => copy_padded(&mut b),
            Rt::MemCopy => mem_copy(&mut b),
            Rt::MemFill => mem_fill(&mut b),
            Rt::MemGrow => mem_grow(&mut b),
            Rt::Tmp => tmp(&mut b),
            Rt::Div64(k) => div(&mut b, k, true),
            Rt::LoadBe64 | Rt::StoreBe64 => limb_access(&mut b, self == Rt::LoadBe64),
            Rt::Bswap64 => {
                b.ins.push(Ins::Get(0));
                bswap64(&mut b);
            }
            Rt::Saturate => {
                b.ins.push(Ins::Get(0));
                b.w(I::I64Const(-1));
                b.ins.push(Ins::Get(1));
                b.ins.push(Ins::Get(2));
                b.w(I::I64Or);
                b.ins.push(Ins::Get(3));
                b.w(I::I64Or);
                b.w(I::I64Eqz);
                b.w(I::Select);
            }
            Rt::Div32(k) => div(&mut b, k, false),
        }
        b
    }
}

/// Traps with `code` at the position passed in local `pos` (an i64 of
/// position bits), or at no position when `pos` is `None`.
fn trap(b: &mut Body, code: TrapCode, pos: Option<u32>) {
    b.w(I::I64Const(trap_info(code, SourcePos::None)));
    if let Some(p) = pos {
        b.ins.push(Ins::Get(p));
        b.w(I::I64Or);
    }
    b.ins.push(Ins::Call(Callee::Rt(Rt::Trap)));
    b.w(I::Unreachable);
}

/// `if (cond on the stack) trap`.
fn trap_if(b: &mut Body, code: TrapCode, pos: Option<u32>) {
    b.w(I::If(BlockType::Empty));
    trap(b, code, pos);
    b.w(I::End);
}

fn ensure(b: &mut Body) {
    // end > memory.size * 64 KiB: grow by the missing pages.
    let need = b.local(ValType::I64);
    b.ins.push(Ins::Get(0));
    b.w(I::MemorySize(0));
    b.w(I::I64ExtendI32U);
    b.w(I::I64Const(16));
    b.w(I::I64Shl);
    b.w(I::I64Sub);
    b.ins.push(Ins::Tee(need));
    b.w(I::I64Const(0));
    b.w(I::I64GtS);
    b.w(I::If(BlockType::Empty));
    // The whole 32-bit space is 65,536 pages.
    b.ins.push(Ins::Get(0));
    b.w(I::I64Const(1 << 32));
    b.w(I::I64GtU);
    trap_if(b, TrapCode::OutOfMemory, None);
    b.ins.push(Ins::Get(need));
    b.w(I::I64Const(0xffff));
    b.w(I::I64Add);
    b.w(I::I64Const(16));
    b.w(I::I64ShrU);
    b.w(I::I32WrapI64);
    b.w(I::MemoryGrow(0));
    b.w(I::I32Const(-1));
    b.w(I::I32Eq);
    trap_if(b, TrapCode::OutOfMemory, None);
    b.w(I::End);
}

fn expand(b: &mut Body) {
    let (off, len, pos) = (0, 1, 2);
    let size = b.local(ValType::I64);
    // len == 0: nothing.
    b.ins.push(Ins::Get(len));
    b.w(I::I64Eqz);
    b.w(I::If(BlockType::Empty));
    b.w(I::Return);
    b.w(I::End);
    // Operands are below 2^63 + 1 each (the legalizer caps them), so the
    // sum does not wrap; past the limit is out of memory.
    b.ins.push(Ins::Get(off));
    b.ins.push(Ins::Get(len));
    b.w(I::I64Add);
    b.w(I::I64Const(31));
    b.w(I::I64Add);
    b.w(I::I64Const(-32));
    b.w(I::I64And);
    b.ins.push(Ins::Tee(size));
    b.w(I::GlobalGet(globals::LIMIT));
    b.w(I::I64GtU);
    // A sum that wrapped (operands of 2^63 each) is past any limit too.
    b.ins.push(Ins::Get(off));
    b.w(I::I64Const(1 << 62));
    b.w(I::I64GeU);
    b.w(I::I32Or);
    b.ins.push(Ins::Get(len));
    b.w(I::I64Const(1 << 62));
    b.w(I::I64GeU);
    b.w(I::I32Or);
    trap_if(b, TrapCode::OutOfMemory, Some(pos));
    b.ins.push(Ins::Get(size));
    b.w(I::GlobalGet(globals::MSIZE));
    b.w(I::I64GtU);
    b.w(I::If(BlockType::Empty));
    // Linear memory to heap + size, then zeros over the new part (memory
    // past MSIZE may hold a host operand from before).
    b.w(I::GlobalGet(globals::HEAP));
    b.w(I::I64ExtendI32U);
    b.ins.push(Ins::Get(size));
    b.w(I::I64Add);
    b.ins.push(Ins::Call(Callee::Rt(Rt::Ensure)));
    b.w(I::GlobalGet(globals::HEAP));
    b.w(I::GlobalGet(globals::MSIZE));
    b.w(I::I32WrapI64);
    b.w(I::I32Add);
    b.ins.push(Ins::Get(size));
    b.w(I::GlobalGet(globals::MSIZE));
    b.w(I::I64Sub);
    b.w(I::I32WrapI64);
    b.ins.push(Ins::Call(Callee::Rt(Rt::Zero)));
    b.ins.push(Ins::Get(size));
    b.w(I::GlobalSet(globals::MSIZE));
    b.w(I::End);
}

/// Pushes `off > msize || len > msize - off` for locals `off`, `len`.
fn out_of_range(b: &mut Body, off: u32, len: u32) {
    b.ins.push(Ins::Get(off));
    b.w(I::GlobalGet(globals::MSIZE));
    b.w(I::I64GtU);
    b.ins.push(Ins::Get(len));
    b.w(I::GlobalGet(globals::MSIZE));
    b.ins.push(Ins::Get(off));
    b.w(I::I64Sub);
    b.w(I::I64GtU);
    b.w(I::I32Or);
}

fn range(b: &mut Body) {
    let (off, len, pos) = (0, 1, 2);
    b.ins.push(Ins::Get(len));
    b.w(I::I64Eqz);
    b.w(I::If(BlockType::Empty));
    b.w(I::GlobalGet(globals::HEAP));
    b.w(I::Return);
    b.w(I::End);
    out_of_range(b, off, len);
    trap_if(b, TrapCode::OutOfBounds, Some(pos));
    b.w(I::GlobalGet(globals::HEAP));
    b.ins.push(Ins::Get(off));
    b.w(I::I32WrapI64);
    b.w(I::I32Add);
}

/// `for (i = 0; i < len; i++) body(i)` with `i` an i32 local.
fn byte_loop(b: &mut Body, len: u32, body: impl FnOnce(&mut Body, u32)) {
    let i = b.local(ValType::I32);
    b.w(I::I32Const(0));
    b.ins.push(Ins::Set(i));
    b.w(I::Block(BlockType::Empty));
    b.ins.push(Ins::LoopStart);
    b.w(I::Loop(BlockType::Empty));
    b.ins.push(Ins::Get(i));
    b.ins.push(Ins::Get(len));
    b.w(I::I32GeU);
    b.w(I::BrIf(1));
    body(b, i);
    b.ins.push(Ins::Get(i));
    b.w(I::I32Const(1));
    b.w(I::I32Add);
    b.ins.push(Ins::Set(i));
    b.w(I::Br(0));
    b.w(I::End);
    b.ins.push(Ins::LoopEnd);
    b.w(I::End);
}

fn zero(b: &mut Body) {
    let (ptr, len) = (0, 1);
    byte_loop(b, len, |b, i| {
        b.ins.push(Ins::Get(ptr));
        b.ins.push(Ins::Get(i));
        b.w(I::I32Add);
        b.w(I::I32Const(0));
        b.w(I::I32Store8(mem(0, 0)));
    });
}

fn move_bytes(b: &mut Body) {
    let (dst, src, len) = (0, 1, 2);
    // Forwards when dst <= src, else backwards.
    b.ins.push(Ins::Get(dst));
    b.ins.push(Ins::Get(src));
    b.w(I::I32LeU);
    b.w(I::If(BlockType::Empty));
    byte_loop(b, len, |b, i| {
        b.ins.push(Ins::Get(dst));
        b.ins.push(Ins::Get(i));
        b.w(I::I32Add);
        b.ins.push(Ins::Get(src));
        b.ins.push(Ins::Get(i));
        b.w(I::I32Add);
        b.w(I::I32Load8U(mem(0, 0)));
        b.w(I::I32Store8(mem(0, 0)));
    });
    b.w(I::Else);
    byte_loop(b, len, |b, i| {
        // Index len - 1 - i.
        let at = |b: &mut Body, base: u32| {
            b.ins.push(Ins::Get(base));
            b.ins.push(Ins::Get(len));
            b.w(I::I32Add);
            b.w(I::I32Const(1));
            b.w(I::I32Sub);
            b.ins.push(Ins::Get(i));
            b.w(I::I32Sub);
        };
        at(b, dst);
        at(b, src);
        b.w(I::I32Load8U(mem(0, 0)));
        b.w(I::I32Store8(mem(0, 0)));
    });
    b.w(I::End);
}

fn copy_padded(b: &mut Body) {
    let (dst, len, src, src_len, off) = (0, 1, 2, 3, 4);
    let n = b.local(ValType::I32);
    b.ins.push(Ins::Get(dst));
    b.ins.push(Ins::Get(len));
    b.ins.push(Ins::Call(Callee::Rt(Rt::Zero)));
    // Nothing to copy unless offset < src_len.
    b.ins.push(Ins::Get(off));
    b.ins.push(Ins::Get(src_len));
    b.w(I::I64ExtendI32U);
    b.w(I::I64LtU);
    b.w(I::If(BlockType::Empty));
    // n = min(len, src_len - offset)
    b.ins.push(Ins::Get(src_len));
    b.ins.push(Ins::Get(off));
    b.w(I::I32WrapI64);
    b.w(I::I32Sub);
    b.ins.push(Ins::Set(n));
    b.ins.push(Ins::Get(len));
    b.ins.push(Ins::Get(n));
    b.ins.push(Ins::Get(len));
    b.ins.push(Ins::Get(n));
    b.w(I::I32LtU);
    b.w(I::Select);
    b.ins.push(Ins::Set(n));
    b.ins.push(Ins::Get(dst));
    b.ins.push(Ins::Get(src));
    b.ins.push(Ins::Get(off));
    b.w(I::I32WrapI64);
    b.w(I::I32Add);
    b.ins.push(Ins::Get(n));
    b.ins.push(Ins::Call(Callee::Rt(Rt::Move)));
    b.w(I::End);
}

/// `ptr = heap + x` for an i64 local `x` already checked against MSIZE.
fn heap_ptr(b: &mut Body, x: u32) {
    b.w(I::GlobalGet(globals::HEAP));
    b.ins.push(Ins::Get(x));
    b.w(I::I32WrapI64);
    b.w(I::I32Add);
}

fn mem_copy(b: &mut Body) {
    let (dst, src, len, pos) = (0, 1, 2, 3);
    b.ins.push(Ins::Get(len));
    b.w(I::I64Eqz);
    b.w(I::If(BlockType::Empty));
    b.w(I::Return);
    b.w(I::End);
    out_of_range(b, dst, len);
    out_of_range(b, src, len);
    b.w(I::I32Or);
    trap_if(b, TrapCode::OutOfBounds, Some(pos));
    heap_ptr(b, dst);
    heap_ptr(b, src);
    b.ins.push(Ins::Get(len));
    b.w(I::I32WrapI64);
    b.ins.push(Ins::Call(Callee::Rt(Rt::Move)));
}

fn mem_fill(b: &mut Body) {
    let (dst, byte, len, pos) = (0, 1, 2, 3);
    let p = b.local(ValType::I32);
    let n = b.local(ValType::I32);
    b.ins.push(Ins::Get(len));
    b.w(I::I64Eqz);
    b.w(I::If(BlockType::Empty));
    b.w(I::Return);
    b.w(I::End);
    out_of_range(b, dst, len);
    trap_if(b, TrapCode::OutOfBounds, Some(pos));
    heap_ptr(b, dst);
    b.ins.push(Ins::Set(p));
    b.ins.push(Ins::Get(len));
    b.w(I::I32WrapI64);
    b.ins.push(Ins::Set(n));
    byte_loop(b, n, |b, i| {
        b.ins.push(Ins::Get(p));
        b.ins.push(Ins::Get(i));
        b.w(I::I32Add);
        b.ins.push(Ins::Get(byte));
        b.w(I::I32WrapI64);
        b.w(I::I32Store8(mem(0, 0)));
    });
}

fn mem_grow(b: &mut Body) {
    let bytes = 0;
    let old = b.local(ValType::I64);
    let new = b.local(ValType::I64);
    b.w(I::GlobalGet(globals::MSIZE));
    b.ins.push(Ins::Tee(old));
    b.ins.push(Ins::Get(bytes));
    b.w(I::I64Add);
    b.ins.push(Ins::Tee(new));
    b.w(I::GlobalGet(globals::LIMIT));
    b.w(I::I64GtU);
    b.ins.push(Ins::Get(bytes));
    b.w(I::GlobalGet(globals::LIMIT));
    b.w(I::I64GtU);
    b.w(I::I32Or);
    b.w(I::If(BlockType::Empty));
    b.w(I::I64Const(-1));
    b.w(I::Return);
    b.w(I::End);
    b.w(I::GlobalGet(globals::HEAP));
    b.w(I::I64ExtendI32U);
    b.ins.push(Ins::Get(new));
    b.w(I::I64Add);
    b.ins.push(Ins::Call(Callee::Rt(Rt::Ensure)));
    heap_ptr(b, old);
    b.ins.push(Ins::Get(bytes));
    b.w(I::I32WrapI64);
    b.ins.push(Ins::Call(Callee::Rt(Rt::Zero)));
    b.ins.push(Ins::Get(new));
    b.w(I::GlobalSet(globals::MSIZE));
    b.ins.push(Ins::Get(old));
}

fn tmp(b: &mut Body) {
    let size = 0;
    // Past MSIZE, word-aligned; memory there is zeroed again when EVM
    // memory grows over it.
    b.w(I::GlobalGet(globals::HEAP));
    b.w(I::I64ExtendI32U);
    b.w(I::GlobalGet(globals::MSIZE));
    b.w(I::I64Add);
    b.ins.push(Ins::Get(size));
    b.w(I::I64Add);
    b.ins.push(Ins::Call(Callee::Rt(Rt::Ensure)));
    b.w(I::GlobalGet(globals::HEAP));
    b.w(I::GlobalGet(globals::MSIZE));
    b.w(I::I32WrapI64);
    b.w(I::I32Add);
}

fn div(b: &mut Body, k: DivKind, wide: bool) {
    let (x, y) = (0, 1);
    let (c0, cm1, eq, eqz) = if wide {
        (I::I64Const(0), I::I64Const(-1), I::I64Eq, I::I64Eqz)
    } else {
        (I::I32Const(0), I::I32Const(-1), I::I32Eq, I::I32Eqz)
    };
    // y == 0: 0.
    b.ins.push(Ins::Get(y));
    b.w(eqz);
    b.w(I::If(BlockType::Empty));
    b.w(c0.clone());
    b.w(I::Return);
    b.w(I::End);
    if matches!(k, DivKind::SDiv | DivKind::SRem) {
        // y == -1: -x (MIN stays MIN) for the quotient, 0 for the remainder.
        b.ins.push(Ins::Get(y));
        b.w(cm1);
        b.w(eq);
        b.w(I::If(BlockType::Empty));
        if k == DivKind::SDiv {
            b.w(c0.clone());
            b.ins.push(Ins::Get(x));
            b.w(if wide { I::I64Sub } else { I::I32Sub });
        } else {
            b.w(c0);
        }
        b.w(I::Return);
        b.w(I::End);
    }
    b.ins.push(Ins::Get(x));
    b.ins.push(Ins::Get(y));
    b.w(match (k, wide) {
        (DivKind::UDiv, true) => I::I64DivU,
        (DivKind::SDiv, true) => I::I64DivS,
        (DivKind::URem, true) => I::I64RemU,
        (DivKind::SRem, true) => I::I64RemS,
        (DivKind::UDiv, false) => I::I32DivU,
        (DivKind::SDiv, false) => I::I32DivS,
        (DivKind::URem, false) => I::I32RemU,
        (DivKind::SRem, false) => I::I32RemS,
    });
}

/// Reverses the bytes of the i64 on the stack.
pub fn bswap64(b: &mut Body) {
    let t = b.local(ValType::I64);
    // Swap bytes within 16-bit, then 32-bit halves, then rotate.
    for (m, s) in [
        (0x00ff_00ff_00ff_00ffu64, 8i64),
        (0x0000_ffff_0000_ffff, 16),
    ] {
        b.ins.push(Ins::Tee(t));
        b.w(I::I64Const(s));
        b.w(I::I64ShrU);
        b.w(I::I64Const(m as i64));
        b.w(I::I64And);
        b.ins.push(Ins::Get(t));
        b.w(I::I64Const(m as i64));
        b.w(I::I64And);
        b.w(I::I64Const(s));
        b.w(I::I64Shl);
        b.w(I::I64Or);
    }
    b.w(I::I64Const(32));
    b.w(I::I64Rotl);
}

fn limb_access(b: &mut Body, load: bool) {
    let addr = 0;
    let pos = if load { 1 } else { 2 };
    // addr + 8 > msize: out of bounds (addresses are at most 2^63).
    b.ins.push(Ins::Get(addr));
    b.w(I::I64Const(8));
    b.w(I::I64Add);
    b.w(I::GlobalGet(globals::MSIZE));
    b.w(I::I64GtU);
    trap_if(b, TrapCode::OutOfBounds, Some(pos));
    heap_ptr(b, addr);
    if load {
        b.w(I::I64Load(mem(0, 0)));
        bswap64(b);
    } else {
        b.ins.push(Ins::Get(1));
        bswap64(b);
        b.w(I::I64Store(mem(0, 0)));
    }
}

/// Helpers a helper calls.
pub fn deps(r: Rt) -> &'static [Rt] {
    match r {
        Rt::Ensure => &[Rt::Trap],
        Rt::Expand => &[Rt::Trap, Rt::Ensure, Rt::Zero],
        Rt::Range => &[Rt::Trap],
        Rt::Move | Rt::Zero | Rt::Trap | Rt::Div32(_) | Rt::Div64(_) => &[],
        Rt::LoadBe64 | Rt::StoreBe64 => &[Rt::Trap],
        Rt::Bswap64 | Rt::Saturate => &[],
        Rt::CopyPadded => &[Rt::Zero, Rt::Move],
        Rt::MemCopy => &[Rt::Trap, Rt::Move],
        Rt::MemFill => &[Rt::Trap],
        Rt::MemGrow => &[Rt::Ensure, Rt::Zero],
        Rt::Tmp => &[Rt::Ensure],
    }
}

/// The initial EVM memory limit (the engine lowers it per call).
pub const INITIAL_LIMIT: u64 = DEFAULT_MEMORY_LIMIT;
