//! Operations: arithmetic on the narrow and 64-bit types, conversions,
//! memory, the EVM stack array and calls.

use super::{FnCx, bits, class};
use crate::Error;
use crate::abi::layout;
use crate::code::{Callee, Ins, mem};
use crate::rt::{DivKind, Rt, globals};
use chainlift_ir::entities::Value;
use chainlift_ir::inst::{BinOp, Cond, Endian, Op, SourcePos, TrapCode};
use chainlift_ir::types::Type;
use wasm_encoder::{BlockType, Instruction as I, ValType};

impl FnCx<'_, '_> {
    pub(super) fn inst(
        &mut self,
        op: &Op,
        args: &[Value],
        results: &[Value],
        pos: SourcePos,
    ) -> Result<(), Error> {
        let f = self.f;
        let rty = results.first().map(|r| f.ty(*r));
        let aty = args.first().map(|a| f.ty(*a));
        match op {
            Op::Iconst(c) => {
                let t = rty.unwrap_or(Type::I64);
                let v = c.as_limbs()[0];
                match class(t)? {
                    ValType::I64 => self.b.w(I::I64Const(v as i64)),
                    _ => self.b.w(I::I32Const(v as u32 as i32)),
                }
                self.mask(t);
            }
            Op::Binary(bop) => self.binary(*bop, args, rty.unwrap_or(Type::I64))?,
            Op::Not => {
                let t = rty.unwrap_or(Type::I64);
                self.get(args[0]);
                if t == Type::I64 {
                    self.b.w(I::I64Const(-1));
                    self.b.w(I::I64Xor);
                } else {
                    self.b.w(I::I32Const(-1));
                    self.b.w(I::I32Xor);
                    self.mask(t);
                }
            }
            Op::Icmp(c) => {
                let t = aty.unwrap_or(Type::I64);
                let signed = matches!(c, Cond::Slt | Cond::Sle | Cond::Sgt | Cond::Sge);
                self.get(args[0]);
                if signed {
                    self.sext32(t);
                }
                self.get(args[1]);
                if signed {
                    self.sext32(t);
                }
                self.b.w(icmp(*c, t == Type::I64));
            }
            Op::Select => {
                self.get(args[1]);
                self.get(args[2]);
                self.get(args[0]);
                self.b.w(I::Select);
            }
            Op::Uext | Op::Sext | Op::Trunc => {
                let (from, to) = (aty.unwrap_or(Type::I64), rty.unwrap_or(Type::I64));
                self.get(args[0]);
                self.convert(op, from, to);
            }
            Op::Clz => {
                let t = rty.unwrap_or(Type::I64);
                self.get(args[0]);
                match t {
                    Type::I64 => self.b.w(I::I64Clz),
                    Type::I32 => self.b.w(I::I32Clz),
                    Type::I8 => {
                        self.b.w(I::I32Clz);
                        self.b.w(I::I32Const(24));
                        self.b.w(I::I32Sub);
                    }
                    _ => {
                        self.b.w(I::I32Const(1));
                        self.b.w(I::I32Xor);
                    }
                }
            }
            Op::Load(Type::I64, Endian::Big) => {
                self.get(args[0]);
                self.widen(args[0]);
                self.pos_const(pos);
                self.call(Callee::Rt(Rt::LoadBe64));
            }
            Op::Store(Type::I64, Endian::Big) => {
                self.get(args[0]);
                self.widen(args[0]);
                self.get(args[1]);
                self.pos_const(pos);
                self.call(Callee::Rt(Rt::StoreBe64));
            }
            Op::Load(t, e) => {
                let w = bits(*t) / 8;
                self.check_access(args[0], w, pos);
                self.heap_addr(args[0]);
                match t {
                    Type::I64 => self.b.w(I::I64Load(mem(0, 0))),
                    Type::I32 => self.b.w(I::I32Load(mem(0, 0))),
                    Type::I8 => self.b.w(I::I32Load8U(mem(0, 0))),
                    _ => return Err(self.unsupported("a load of this width", pos)),
                }
                if *e == Endian::Big && w > 1 {
                    self.bswap(w == 8);
                }
            }
            Op::Store(t, e) => {
                let w = bits(*t) / 8;
                self.check_access(args[0], w, pos);
                self.heap_addr(args[0]);
                self.get(args[1]);
                if *e == Endian::Big && w > 1 {
                    self.bswap(w == 8);
                }
                match t {
                    Type::I64 => self.b.w(I::I64Store(mem(0, 0))),
                    Type::I32 => self.b.w(I::I32Store(mem(0, 0))),
                    Type::I8 => self.b.w(I::I32Store8(mem(0, 0))),
                    _ => return Err(self.unsupported("a store of this width", pos)),
                }
            }
            Op::MemCopy | Op::MemFill => {
                for a in args {
                    self.get(*a);
                    self.widen(*a);
                }
                self.pos_const(pos);
                self.call(Callee::Rt(if *op == Op::MemCopy {
                    Rt::MemCopy
                } else {
                    Rt::MemFill
                }));
            }
            Op::MemSize => {
                self.b.w(I::GlobalGet(globals::MSIZE));
                if rty != Some(Type::I64) {
                    self.b.w(I::I32WrapI64);
                    self.mask(rty.unwrap_or(Type::I32));
                }
            }
            Op::MemGrow => {
                self.get(args[0]);
                self.widen(args[0]);
                self.call(Callee::Rt(Rt::MemGrow));
                if rty != Some(Type::I64) {
                    self.b.w(I::I32WrapI64);
                    self.mask(rty.unwrap_or(Type::I32));
                }
            }
            Op::MemExpand => {
                // The helper returns at once when memory is large enough.
                for a in args {
                    self.get(*a);
                    self.widen(*a);
                }
                self.pos_const(pos);
                self.call(Callee::Rt(Rt::Expand));
            }
            Op::StackLoad | Op::StackStore => {
                let t = match op {
                    Op::StackLoad => rty,
                    _ => args.get(1).map(|v| f.ty(*v)),
                };
                if t != Some(Type::I64) {
                    return Err(Error::NotLegalized);
                }
                // A limb index past the 1,024-word array overflows.
                self.get(args[0]);
                self.widen(args[0]);
                self.b.w(I::I64Const(4 * 1024));
                self.b.w(I::I64GeU);
                self.b.w(I::If(BlockType::Empty));
                self.trap(TrapCode::StackOverflow, pos);
                self.b.w(I::End);
                self.get(args[0]);
                self.widen(args[0]);
                self.b.w(I::I32WrapI64);
                self.b.w(I::I32Const(3));
                self.b.w(I::I32Shl);
                if *op == Op::StackLoad {
                    self.b.w(I::I64Load(mem(u64::from(layout::STACK_BASE), 3)));
                } else {
                    self.get(args[1]);
                    self.b.w(I::I64Store(mem(u64::from(layout::STACK_BASE), 3)));
                }
            }
            Op::Host(h) => self.host(*h, args, results, pos)?,
            Op::Call(callee) => {
                if callee.index() == 0 {
                    return Err(self.unsupported("a call to the entry function", pos));
                }
                let name = &self.m.module.functions[callee.index()].name;
                if self.m.math_hooks
                    && let Some(h) = chainlift_ir::legalize::Helper::from_name(name)
                    && self.math_hook(h, args, results, pos)
                {
                    return Ok(());
                }
                for a in args {
                    self.get(*a);
                }
                self.call(Callee::Func(*callee));
                if results.len() > 1 {
                    let mut next = self.m.result_globals;
                    for r in results {
                        let c = usize::from(f.ty(*r) == Type::I64);
                        self.b.w(I::GlobalGet(next[c]));
                        next[c] += 1;
                        self.set(*r);
                    }
                    return Ok(());
                }
            }
            Op::CallIndirect(_) => return Err(self.unsupported("call_indirect", pos)),
            Op::AddMod | Op::MulMod | Op::Exp | Op::SignExtend | Op::Byte => {
                return Err(Error::NotLegalized);
            }
        }
        if !matches!(op, Op::Host(_)) {
            for r in results {
                self.set(*r);
            }
        }
        Ok(())
    }

    pub(super) fn unsupported(&self, what: &str, pos: SourcePos) -> Error {
        Error::Unsupported {
            what: what.to_string(),
            function: self.f.name.clone(),
            pos,
        }
    }

    /// Widens the value just pushed (of `v`'s type) to i64.
    pub(super) fn widen(&mut self, v: Value) {
        if self.f.ty(v) != Type::I64 {
            self.b.w(I::I64ExtendI32U);
        }
    }

    /// Traps `out_of_bounds` unless `addr + width <= msize`.
    pub(super) fn check_access(&mut self, addr: Value, width: u32, pos: SourcePos) {
        self.get(addr);
        self.widen(addr);
        self.b.w(I::I64Const(i64::from(width)));
        self.b.w(I::I64Add);
        self.b.w(I::GlobalGet(globals::MSIZE));
        self.b.w(I::I64GtU);
        self.b.w(I::If(BlockType::Empty));
        self.trap(TrapCode::OutOfBounds, pos);
        self.b.w(I::End);
    }

    /// Pushes `heap + addr` (an address checked against MSIZE).
    pub(super) fn heap_addr(&mut self, addr: Value) {
        self.b.w(I::GlobalGet(globals::HEAP));
        self.get(addr);
        if self.f.ty(addr) == Type::I64 {
            self.b.w(I::I32WrapI64);
        }
        self.b.w(I::I32Add);
    }

    pub(super) fn convert(&mut self, op: &Op, from: Type, to: Type) {
        let (fw, tw) = (bits(from), bits(to));
        match op {
            Op::Uext => {
                if tw == 64 && fw < 64 {
                    self.b.w(I::I64ExtendI32U);
                }
            }
            Op::Sext => {
                if fw < 64 {
                    self.sext32(from);
                    if tw == 64 {
                        self.b.w(I::I64ExtendI32S);
                    } else {
                        self.mask(to);
                    }
                }
            }
            _ => {
                if fw == 64 && tw < 64 {
                    self.b.w(I::I32WrapI64);
                }
                if tw < fw {
                    self.mask(to);
                }
            }
        }
    }

    pub(super) fn binary(&mut self, op: BinOp, args: &[Value], t: Type) -> Result<(), Error> {
        let wide = t == Type::I64;
        let w = bits(t);
        let (x, y) = (args[0], args[1]);
        let konst = self.consts[y.index()];
        use BinOp::*;
        match op {
            Add | Sub | Mul | And | Or | Xor => {
                self.get(x);
                self.get(y);
                self.b.w(match (op, wide) {
                    (Add, true) => I::I64Add,
                    (Sub, true) => I::I64Sub,
                    (Mul, true) => I::I64Mul,
                    (And, true) => I::I64And,
                    (Or, true) => I::I64Or,
                    (Xor, true) => I::I64Xor,
                    (Add, false) => I::I32Add,
                    (Sub, false) => I::I32Sub,
                    (Mul, false) => I::I32Mul,
                    (And, false) => I::I32And,
                    (Or, false) => I::I32Or,
                    _ => I::I32Xor,
                });
                if matches!(op, Add | Sub | Mul) {
                    self.mask(t);
                }
            }
            UDiv | SDiv | URem | SRem => {
                let signed = matches!(op, SDiv | SRem);
                self.get(x);
                if signed {
                    self.sext32(t);
                }
                self.get(y);
                if signed {
                    self.sext32(t);
                }
                let k = match op {
                    UDiv => DivKind::UDiv,
                    SDiv => DivKind::SDiv,
                    URem => DivKind::URem,
                    _ => DivKind::SRem,
                };
                self.call(Callee::Rt(if wide { Rt::Div64(k) } else { Rt::Div32(k) }));
                self.mask(t);
            }
            Shl | LShr => match konst {
                Some(c) if c < u64::from(w) => {
                    self.get(x);
                    self.get(y);
                    self.b.w(shift_ins(op, wide));
                    self.mask(t);
                }
                Some(_) => self.konst(wide, 0),
                None => {
                    self.get(x);
                    self.get(y);
                    self.b.w(shift_ins(op, wide));
                    self.mask(t);
                    self.konst(wide, 0);
                    self.get(y);
                    self.konst(wide, u64::from(w));
                    self.b.w(if wide { I::I64LtU } else { I::I32LtU });
                    self.b.w(I::Select);
                }
            },
            AShr => {
                self.get(x);
                self.sext32(t);
                // Shift by min(y, w - 1).
                match konst {
                    Some(c) => self.konst(wide, c.min(u64::from(w) - 1)),
                    None => {
                        self.get(y);
                        self.konst(wide, u64::from(w) - 1);
                        self.get(y);
                        self.konst(wide, u64::from(w) - 1);
                        self.b.w(if wide { I::I64LtU } else { I::I32LtU });
                        self.b.w(I::Select);
                    }
                }
                self.b.w(if wide { I::I64ShrS } else { I::I32ShrS });
                self.mask(t);
            }
            Rotl | Rotr if w >= 32 => {
                self.get(x);
                self.get(y);
                self.b.w(match (op, wide) {
                    (Rotl, true) => I::I64Rotl,
                    (Rotr, true) => I::I64Rotr,
                    (Rotl, false) => I::I32Rotl,
                    _ => I::I32Rotr,
                });
            }
            Rotl | Rotr => {
                if w == 1 {
                    self.get(x);
                } else {
                    // r = y mod 8 (left); (x << r | x >> (8 - r)) & 0xff.
                    let r = self.b.local(ValType::I32);
                    self.get(y);
                    self.b.w(I::I32Const(7));
                    self.b.w(I::I32And);
                    if op == Rotr {
                        self.b.ins.push(Ins::Set(r));
                        self.b.w(I::I32Const(8));
                        self.b.ins.push(Ins::Get(r));
                        self.b.w(I::I32Sub);
                        self.b.w(I::I32Const(7));
                        self.b.w(I::I32And);
                    }
                    self.b.ins.push(Ins::Set(r));
                    self.get(x);
                    self.b.ins.push(Ins::Get(r));
                    self.b.w(I::I32Shl);
                    self.get(x);
                    self.b.w(I::I32Const(8));
                    self.b.ins.push(Ins::Get(r));
                    self.b.w(I::I32Sub);
                    self.b.w(I::I32ShrU);
                    self.b.w(I::I32Or);
                    self.mask(t);
                }
            }
        }
        Ok(())
    }
}

fn shift_ins(op: BinOp, wide: bool) -> I<'static> {
    match (op, wide) {
        (BinOp::Shl, true) => I::I64Shl,
        (BinOp::Shl, false) => I::I32Shl,
        (_, true) => I::I64ShrU,
        (_, false) => I::I32ShrU,
    }
}

fn icmp(c: Cond, wide: bool) -> I<'static> {
    match (c, wide) {
        (Cond::Eq, true) => I::I64Eq,
        (Cond::Ne, true) => I::I64Ne,
        (Cond::Ult, true) => I::I64LtU,
        (Cond::Ule, true) => I::I64LeU,
        (Cond::Ugt, true) => I::I64GtU,
        (Cond::Uge, true) => I::I64GeU,
        (Cond::Slt, true) => I::I64LtS,
        (Cond::Sle, true) => I::I64LeS,
        (Cond::Sgt, true) => I::I64GtS,
        (Cond::Sge, true) => I::I64GeS,
        (Cond::Eq, false) => I::I32Eq,
        (Cond::Ne, false) => I::I32Ne,
        (Cond::Ult, false) => I::I32LtU,
        (Cond::Ule, false) => I::I32LeU,
        (Cond::Ugt, false) => I::I32GtU,
        (Cond::Uge, false) => I::I32GeU,
        (Cond::Slt, false) => I::I32LtS,
        (Cond::Sle, false) => I::I32LeS,
        (Cond::Sgt, false) => I::I32GtS,
        (Cond::Sge, false) => I::I32GeS,
    }
}
