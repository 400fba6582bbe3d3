//! Operations: arithmetic with the IR's total semantics, conversions,
//! memory accesses (checked, or covered by the block's `mem.expand`), the
//! EVM stack array.

use super::{Error, Lower, ty};
use crate::vm::{self, STACK_LIMBS, encode_pos, offset};
use chainlift_ir::entities::Value as IrValue;
use chainlift_ir::function::{Function, Inst};
use chainlift_ir::inst::{BinOp, Cond, Endian, Op, SourcePos, TrapCode};
use chainlift_ir::types::Type;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I8, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};

/// Each value of `f` that is an `i64` constant or a value plus one, as
/// (base, offset).
pub(super) fn parts(f: &Function) -> Vec<Option<(Option<IrValue>, u64)>> {
    let mut out = vec![None; f.values.len()];
    let mut consts = vec![None; f.values.len()];
    for blk in &f.layout {
        for inst in &f.block(*blk).insts {
            let Some(r) = inst.results.first() else {
                continue;
            };
            if f.ty(*r) != Type::I64 {
                continue;
            }
            match (&inst.op, inst.args.as_slice()) {
                (Op::Iconst(c), _) => {
                    let c = c.as_limbs()[0];
                    consts[r.index()] = Some(c);
                    out[r.index()] = Some((None, c));
                }
                (Op::Binary(BinOp::Add), [x, y]) => {
                    let (cx, cy) = (consts[x.index()], consts[y.index()]);
                    out[r.index()] = match (cx, cy) {
                        (None, Some(c)) => Some((Some(*x), c)),
                        (Some(c), None) => Some((Some(*y), c)),
                        _ => None,
                    };
                }
                _ => {}
            }
        }
    }
    out
}

impl Lower<'_, '_, '_> {
    /// `v` masked to one bit when it is an `i1`.
    pub(super) fn mask_bit(&mut self, v: Value, t: Option<Type>) -> Value {
        match t {
            Some(Type::I1) => self.b.ins().band_imm_u(v, 1),
            _ => v,
        }
    }

    pub(super) fn set(&mut self, inst: &Inst, v: Value) {
        if let Some(r) = inst.results.first() {
            self.vals[r.index()] = Some(v);
        }
    }

    pub(super) fn inst(&mut self, inst: &Inst) -> Result<(), Error> {
        let f = self.f;
        let pos = inst.pos;
        let rty = inst.results.first().map(|r| f.ty(*r));
        let aty = inst.args.first().map(|v| f.ty(*v));
        let unsupported = |what: &str| Error::Unsupported {
            what: what.to_string(),
            pos,
        };
        match &inst.op {
            Op::Iconst(c) => {
                let t = rty.unwrap_or(Type::I64);
                let v = c.as_limbs()[0] & if t == Type::I1 { 1 } else { u64::MAX };
                let v = self.iconst(ty(t, &f.name)?, v as i64);
                self.set(inst, v);
            }
            Op::Binary(op) => {
                let (x, y) = (self.arg(inst, 0)?, self.arg(inst, 1)?);
                let t = rty.unwrap_or(Type::I64);
                let v = self.binary(*op, t, x, y)?;
                self.set(inst, v);
            }
            Op::Not => {
                let x = self.arg(inst, 0)?;
                let v = match rty {
                    Some(Type::I1) => self.b.ins().bxor_imm_u(x, 1),
                    _ => self.b.ins().bnot(x),
                };
                self.set(inst, v);
            }
            Op::Icmp(c) => {
                let (mut x, mut y) = (self.arg(inst, 0)?, self.arg(inst, 1)?);
                let signed = matches!(c, Cond::Slt | Cond::Sle | Cond::Sgt | Cond::Sge);
                if signed && aty == Some(Type::I1) {
                    // An i1's one bit is its sign: 1 is -1.
                    x = self.b.ins().ineg(x);
                    y = self.b.ins().ineg(y);
                }
                let v = self.b.ins().icmp(intcc(*c), x, y);
                self.set(inst, v);
            }
            Op::Select => {
                let (c, x, y) = (self.arg(inst, 0)?, self.arg(inst, 1)?, self.arg(inst, 2)?);
                let v = self.b.ins().select(c, x, y);
                self.set(inst, v);
            }
            Op::Uext | Op::Sext | Op::Trunc => {
                let x = self.arg(inst, 0)?;
                let (from, to) = (aty.unwrap_or(Type::I64), rty.unwrap_or(Type::I64));
                let v = self.convert(&inst.op, from, to, x)?;
                self.set(inst, v);
            }
            Op::Clz => {
                let x = self.arg(inst, 0)?;
                let v = match rty {
                    Some(Type::I1) => self.b.ins().bxor_imm_u(x, 1),
                    _ => self.b.ins().clz(x),
                };
                self.set(inst, v);
            }
            Op::AddMod | Op::MulMod | Op::Exp | Op::SignExtend | Op::Byte => {
                return Err(Error::NotLegalized {
                    func: f.name.clone(),
                });
            }
            Op::Load(t, e) => {
                let n = t.bytes().unwrap_or(1) as i64;
                let p = self.address(inst.args[0], n, pos)?;
                let t = ty(*t, &f.name)?;
                let mut v = self.b.ins().load(t, self.heap, p, 0);
                if *e == Endian::Big && n > 1 {
                    v = self.b.ins().bswap(v);
                }
                self.set(inst, v);
            }
            Op::Store(t, e) => {
                let n = t.bytes().unwrap_or(1) as i64;
                let mut v = self.arg(inst, 1)?;
                let p = self.address(inst.args[0], n, pos)?;
                if *e == Endian::Big && n > 1 {
                    v = self.b.ins().bswap(v);
                }
                self.b.ins().store(self.heap, v, p, 0);
            }
            Op::MemCopy | Op::MemFill => {
                let (x, y, n) = (self.arg(inst, 0)?, self.arg(inst, 1)?, self.arg(inst, 2)?);
                let (x, y, n) = (self.widen(x), self.widen(y), self.widen(n));
                let pos = self.iconst(I64, encode_pos(pos));
                self.save_fuel();
                let cb = match inst.op {
                    Op::MemCopy => vm::copy as *const () as usize,
                    _ => vm::fill as *const () as usize,
                };
                let sig = self.sigs.copy;
                let status = self.callback(sig, cb, &[self.vm, x, y, n, pos]);
                self.load_fuel();
                if let Some(s) = status {
                    self.stop_if(s);
                }
            }
            Op::MemSize => {
                let size = self.ctx_load(offset::MEM_SIZE);
                let t = ty(rty.unwrap_or(Type::I64), &f.name)?;
                let v = match t {
                    I64 => size,
                    _ => self.b.ins().ireduce(t, size),
                };
                let v = self.mask_bit(v, rty);
                self.set(inst, v);
            }
            Op::MemGrow => {
                let d = self.arg(inst, 0)?;
                let d = self.widen(d);
                let sig = self.sigs.grow;
                let old = self.callback(sig, vm::grow as *const () as usize, &[self.vm, d]);
                let t = ty(rty.unwrap_or(Type::I64), &f.name)?;
                if let Some(old) = old {
                    let v = match t {
                        I64 => old,
                        _ => self.b.ins().ireduce(t, old),
                    };
                    let v = self.mask_bit(v, rty);
                    self.set(inst, v);
                }
            }
            Op::MemExpand => {
                let (o, n) = (self.arg(inst, 0)?, self.arg(inst, 1)?);
                let (o, n) = (self.widen(o), self.widen(n));
                self.expand(o, n, pos);
                // Past it, memory holds [o, o + n) for a constant n (it
                // never shrinks).
                let len = self.parts[inst.args[1].index()];
                if let (Some(Some((base, off))), Some((None, n))) =
                    (self.parts.get(inst.args[0].index()).copied(), len)
                    && let Some(end) = off.checked_add(n)
                {
                    self.grown.push((base, off, end));
                } else if let Some((None, n)) = len {
                    self.grown.push((Some(inst.args[0]), 0, n));
                }
            }
            Op::StackLoad | Op::StackStore => {
                let i = self.arg(inst, 0)?;
                let i = self.widen(i);
                let word_ty = match inst.op {
                    Op::StackLoad => rty,
                    _ => inst.args.get(1).map(|v| f.ty(*v)),
                };
                if word_ty != Some(Type::I64) {
                    return Err(unsupported("a stack access that is not of i64 limbs"));
                }
                let out = self.b.ins().icmp_imm_s(
                    IntCC::UnsignedGreaterThanOrEqual,
                    i,
                    STACK_LIMBS as i64,
                );
                self.trap_if(out, Self::trap_code(TrapCode::StackOverflow), pos);
                let base = self.ctx_load(offset::STACK_BASE);
                let off = self.b.ins().ishl_imm_u(i, 3);
                let p = self.b.ins().iadd(base, off);
                let flags = MemFlagsData::trusted();
                match inst.op {
                    Op::StackLoad => {
                        let v = self.b.ins().load(I64, flags, p, 0);
                        self.set(inst, v);
                    }
                    _ => {
                        let v = self.arg(inst, 1)?;
                        self.b.ins().store(flags, v, p, 0);
                    }
                }
            }
            Op::Host(op) => self.host(*op, inst)?,
            Op::Call(callee) => self.call(*callee, inst)?,
            // `compile` devirtualizes first: none is left here.
            Op::CallIndirect(_) => return Err(unsupported("call_indirect")),
        }
        Ok(())
    }

    pub(super) fn binary(
        &mut self,
        op: BinOp,
        t: Type,
        x: Value,
        y: Value,
    ) -> Result<Value, Error> {
        let clt = ty(t, &self.f.name)?;
        let width = t.bits() as i64;
        let bit = t == Type::I1;
        Ok(match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul => {
                let v = match op {
                    BinOp::Add => self.b.ins().iadd(x, y),
                    BinOp::Sub => self.b.ins().isub(x, y),
                    _ => self.b.ins().imul(x, y),
                };
                if bit {
                    self.b.ins().band_imm_u(v, 1)
                } else {
                    v
                }
            }
            BinOp::And => self.b.ins().band(x, y),
            BinOp::Or => self.b.ins().bor(x, y),
            BinOp::Xor => self.b.ins().bxor(x, y),
            // On one bit, x / 1 = x (also signed: -1 / -1 wraps to -1),
            // x / 0 = 0, and every remainder is 0.
            BinOp::UDiv | BinOp::SDiv if bit => self.b.ins().band(x, y),
            BinOp::URem | BinOp::SRem if bit => self.iconst(I8, 0),
            BinOp::UDiv | BinOp::URem => {
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                let one = self.iconst(clt, 1);
                let d = self.b.ins().select(zero, one, y);
                let q = match op {
                    BinOp::UDiv => self.b.ins().udiv(x, d),
                    _ => self.b.ins().urem(x, d),
                };
                let z = self.iconst(clt, 0);
                self.b.ins().select(zero, z, q)
            }
            BinOp::SDiv | BinOp::SRem => {
                // x / 0 = 0, x % 0 = 0; MIN / -1 = MIN (= -x), x % -1 = 0.
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                let minus = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let either = self.b.ins().bor(zero, minus);
                let one = self.iconst(clt, 1);
                let d = self.b.ins().select(either, one, y);
                match op {
                    BinOp::SDiv => {
                        let q = self.b.ins().sdiv(x, d);
                        let neg = self.b.ins().ineg(x);
                        let q = self.b.ins().select(minus, neg, q);
                        let z = self.iconst(clt, 0);
                        self.b.ins().select(zero, z, q)
                    }
                    _ => self.b.ins().srem(x, d),
                }
            }
            BinOp::Shl | BinOp::LShr => {
                let big = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, y, width);
                let s = match op {
                    BinOp::Shl => self.b.ins().ishl(x, y),
                    _ => self.b.ins().ushr(x, y),
                };
                let z = self.iconst(clt, 0);
                self.b.ins().select(big, z, s)
            }
            BinOp::AShr => {
                let big = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, y, width);
                let top = self.iconst(clt, width - 1);
                let s = self.b.ins().select(big, top, y);
                self.b.ins().sshr(x, s)
            }
            BinOp::Rotl | BinOp::Rotr if bit => x,
            BinOp::Rotl => self.b.ins().rotl(x, y),
            BinOp::Rotr => self.b.ins().rotr(x, y),
        })
    }

    pub(super) fn convert(
        &mut self,
        op: &Op,
        from: Type,
        to: Type,
        x: Value,
    ) -> Result<Value, Error> {
        let (cf, ct) = (ty(from, &self.f.name)?, ty(to, &self.f.name)?);
        let same = cf == ct;
        Ok(match op {
            Op::Uext if same => x,
            Op::Uext => self.b.ins().uextend(ct, x),
            Op::Sext => {
                // An i1 sign-extends to all ones.
                let x = match from {
                    Type::I1 => self.b.ins().ineg(x),
                    _ => x,
                };
                match same {
                    true => x,
                    false => self.b.ins().sextend(ct, x),
                }
            }
            _ => {
                let x = match same {
                    true => x,
                    false => self.b.ins().ireduce(ct, x),
                };
                match to {
                    Type::I1 => self.b.ins().band_imm_u(x, 1),
                    _ => x,
                }
            }
        })
    }

    /// Whether `n` bytes at `at` lie in a range a `mem.expand` of this
    /// block made part of memory.
    pub(super) fn covered(&self, at: IrValue, n: u64) -> bool {
        let (base, off) = self.parts[at.index()].unwrap_or((Some(at), 0));
        self.grown.iter().any(|(b, lo, hi)| {
            *b == base && off >= *lo && off.checked_add(n).is_some_and(|e| e <= *hi)
        })
    }

    /// The host address of `n` bytes of linear memory at `at`, after a
    /// check that they lie within its current size (`out_of_bounds`),
    /// unless a `mem.expand` of the block already covers them.
    pub(super) fn address(
        &mut self,
        at_ir: IrValue,
        n: i64,
        pos: SourcePos,
    ) -> Result<Value, Error> {
        let at = self.val(at_ir)?;
        let at = self.widen(at);
        if !self.covered(at_ir, n as u64) {
            let size = self.ctx_load(offset::MEM_SIZE);
            // `at < size` first, so `at + n` cannot wrap (size is far
            // below 2^64).
            let past = self
                .b
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, at, size);
            let end = self.b.ins().iadd_imm_s(at, n);
            let over = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, size);
            let out = self.b.ins().bor(past, over);
            self.trap_if(out, Self::trap_code(TrapCode::OutOfBounds), pos);
        }
        let base = self.ctx_load(offset::MEM_BASE);
        Ok(self.b.ins().iadd(base, at))
    }

    /// `mem.expand`: nothing when the range is empty or already within
    /// memory, else the callback.
    pub(super) fn expand(&mut self, o: Value, n: Value, pos: SourcePos) {
        let size = self.ctx_load(offset::MEM_SIZE);
        // Growth is to a multiple of 32: nothing grows exactly when `end`
        // is within the size rounded down to one.
        let words = self.b.ins().band_imm_s(size, -32);
        let end = self.b.ins().iadd(o, n);
        let past = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, words);
        let wrapped = self.b.ins().icmp(IntCC::UnsignedLessThan, end, o);
        let grow = self.b.ins().bor(past, wrapped);
        let some = self.b.ins().icmp_imm_s(IntCC::NotEqual, n, 0);
        let slow = self.b.ins().band(grow, some);
        let call = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(call);
        self.b.ins().brif(slow, call, &[], cont, &[]);
        self.b.switch_to_block(call);
        self.save_fuel();
        let pos = self.iconst(I64, encode_pos(pos));
        let sig = self.sigs.expand;
        let status = self.callback(sig, vm::expand as *const () as usize, &[self.vm, o, n, pos]);
        self.load_fuel();
        if let Some(s) = status {
            self.b.ins().brif(s, self.stop, &[], cont, &[]);
        }
        self.b.switch_to_block(cont);
    }
}

fn intcc(c: Cond) -> IntCC {
    match c {
        Cond::Eq => IntCC::Equal,
        Cond::Ne => IntCC::NotEqual,
        Cond::Ult => IntCC::UnsignedLessThan,
        Cond::Ule => IntCC::UnsignedLessThanOrEqual,
        Cond::Ugt => IntCC::UnsignedGreaterThan,
        Cond::Uge => IntCC::UnsignedGreaterThanOrEqual,
        Cond::Slt => IntCC::SignedLessThan,
        Cond::Sle => IntCC::SignedLessThanOrEqual,
        Cond::Sgt => IntCC::SignedGreaterThan,
        Cond::Sge => IntCC::SignedGreaterThanOrEqual,
    }
}
