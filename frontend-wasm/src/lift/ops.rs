//! The operators other than control flow: locals, globals, calls,
//! integer arithmetic with WASM's traps, conversions, and memory.

use super::{Cx, Lift, MAX_MISTYPED_ENTRIES, MAX_PAGES, func_id, ir_sig, op_name, val_name};
use crate::module::is_integer;
use chainlift_ir::entities::Value;
use chainlift_ir::inst::{BinOp, Cond, Endian, Op, TrapCode};
use chainlift_ir::types::Type;
use wasmparser::{MemArg, Operator, ValType};

impl Cx<'_, '_> {
    pub(super) fn op(&mut self, op: &Operator<'_>) -> Lift {
        if self.control(op)? {
            return Ok(());
        }
        use BinOp as B;
        use Operator as O;
        use Type::{I32, I64};
        match *op {
            O::Nop => {}
            O::Drop => {
                self.pop()?;
            }
            O::Select | O::TypedSelect { .. } => {
                let c = self.pop()?;
                let b = self.pop()?;
                let a = self.pop()?;
                let c = self.icmp_k(Cond::Ne, c, 0);
                let t = self.f.ty(a);
                let v = self.ins1(Op::Select, &[c, a, b], t);
                self.stack.push(v);
            }
            O::LocalGet { local_index } => {
                let v = *self
                    .locals
                    .get(local_index as usize)
                    .ok_or("unknown local")?;
                self.stack.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop()?;
                *self
                    .locals
                    .get_mut(local_index as usize)
                    .ok_or("unknown local")? = v;
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().ok_or("operand stack underflow")?;
                *self
                    .locals
                    .get_mut(local_index as usize)
                    .ok_or("unknown local")? = v;
            }
            O::GlobalGet { global_index } => {
                let (ty, _) = self.m.global_type(global_index).ok_or("unknown global")?;
                if !is_integer(ty) {
                    return Err(format!("global.get of a {} global", val_name(ty)));
                }
                let index = self.iconst(I64, global_index as u64);
                let mut v = self.ins1(Op::StackLoad, &[index], I64);
                if ty == ValType::I32 {
                    v = self.conv(Op::Trunc, v, I32);
                }
                self.stack.push(v);
            }
            O::GlobalSet { global_index } => {
                let (ty, _) = self.m.global_type(global_index).ok_or("unknown global")?;
                if !is_integer(ty) {
                    return Err(format!("global.set of a {} global", val_name(ty)));
                }
                let mut v = self.pop()?;
                if ty == ValType::I32 {
                    v = self.conv(Op::Uext, v, I64);
                }
                let index = self.iconst(I64, global_index as u64);
                self.ins(Op::StackStore, &[index, v], &[]);
            }
            O::Call { function_index } => {
                let sig = self
                    .m
                    .sig(function_index)
                    .ok_or("unknown function")?
                    .clone();
                let (_, results) = ir_sig(&sig);
                let args = self.pop_n(sig.params.len())?;
                let r = self.ins(Op::Call(func_id(function_index)), &args, &results);
                self.stack.extend(r);
            }
            O::CallIndirect {
                type_index,
                table_index,
            } => {
                let sig = self
                    .m
                    .types
                    .get(type_index as usize)
                    .ok_or("unknown type")?
                    .clone();
                let (_, results) = ir_sig(&sig);
                let index = self.pop()?;
                self.check_indirect(table_index, type_index, index)?;
                let mut args = vec![index];
                args.extend(self.pop_n(sig.params.len())?);
                let r = self.ins(Op::CallIndirect(table_index), &args, &results);
                self.stack.extend(r);
            }
            O::I32Const { value } => {
                let v = self.iconst(I32, value as u32 as u64);
                self.stack.push(v);
            }
            O::I64Const { value } => {
                let v = self.iconst(I64, value as u64);
                self.stack.push(v);
            }
            O::I32Eqz | O::I64Eqz => {
                let a = self.pop()?;
                let c = self.icmp_k(Cond::Eq, a, 0);
                let v = self.bool32(c);
                self.stack.push(v);
            }
            O::I32Eq | O::I64Eq => self.compare(Cond::Eq)?,
            O::I32Ne | O::I64Ne => self.compare(Cond::Ne)?,
            O::I32LtS | O::I64LtS => self.compare(Cond::Slt)?,
            O::I32LtU | O::I64LtU => self.compare(Cond::Ult)?,
            O::I32GtS | O::I64GtS => self.compare(Cond::Sgt)?,
            O::I32GtU | O::I64GtU => self.compare(Cond::Ugt)?,
            O::I32LeS | O::I64LeS => self.compare(Cond::Sle)?,
            O::I32LeU | O::I64LeU => self.compare(Cond::Ule)?,
            O::I32GeS | O::I64GeS => self.compare(Cond::Sge)?,
            O::I32GeU | O::I64GeU => self.compare(Cond::Uge)?,
            O::I32Clz | O::I64Clz => {
                let a = self.pop()?;
                let t = self.f.ty(a);
                let v = self.ins1(Op::Clz, &[a], t);
                self.stack.push(v);
            }
            O::I32Ctz | O::I64Ctz => {
                let a = self.pop()?;
                let v = self.ctz(a);
                self.stack.push(v);
            }
            O::I32Popcnt | O::I64Popcnt => {
                let a = self.pop()?;
                let v = self.popcnt(a);
                self.stack.push(v);
            }
            O::I32Add | O::I64Add => self.binary(B::Add)?,
            O::I32Sub | O::I64Sub => self.binary(B::Sub)?,
            O::I32Mul | O::I64Mul => self.binary(B::Mul)?,
            O::I32And | O::I64And => self.binary(B::And)?,
            O::I32Or | O::I64Or => self.binary(B::Or)?,
            O::I32Xor | O::I64Xor => self.binary(B::Xor)?,
            O::I32Rotl | O::I64Rotl => self.binary(B::Rotl)?,
            O::I32Rotr | O::I64Rotr => self.binary(B::Rotr)?,
            O::I32Shl | O::I64Shl => self.shift(B::Shl)?,
            O::I32ShrS | O::I64ShrS => self.shift(B::AShr)?,
            O::I32ShrU | O::I64ShrU => self.shift(B::LShr)?,
            O::I32DivU | O::I64DivU => self.divide(B::UDiv)?,
            O::I32DivS | O::I64DivS => self.divide(B::SDiv)?,
            O::I32RemU | O::I64RemU => self.divide(B::URem)?,
            O::I32RemS | O::I64RemS => self.divide(B::SRem)?,
            O::I32WrapI64 => self.convert(Op::Trunc, I32)?,
            O::I64ExtendI32S => self.convert(Op::Sext, I64)?,
            O::I64ExtendI32U => self.convert(Op::Uext, I64)?,
            O::I32Extend8S | O::I64Extend8S => self.extend_from(Type::I8)?,
            O::I64Extend32S => self.extend_from(I32)?,
            O::I32Extend16S | O::I64Extend16S => {
                let a = self.pop()?;
                let k = self.f.ty(a).bits() as u64 - 16;
                let s = self.bin_k(B::Shl, a, k);
                let v = self.bin_k(B::AShr, s, k);
                self.stack.push(v);
            }
            O::I32Load { memarg } => self.load(memarg, 4, I32, false)?,
            O::I64Load { memarg } => self.load(memarg, 8, I64, false)?,
            O::I32Load8S { memarg } => self.load(memarg, 1, I32, true)?,
            O::I32Load8U { memarg } => self.load(memarg, 1, I32, false)?,
            O::I32Load16S { memarg } => self.load(memarg, 2, I32, true)?,
            O::I32Load16U { memarg } => self.load(memarg, 2, I32, false)?,
            O::I64Load8S { memarg } => self.load(memarg, 1, I64, true)?,
            O::I64Load8U { memarg } => self.load(memarg, 1, I64, false)?,
            O::I64Load16S { memarg } => self.load(memarg, 2, I64, true)?,
            O::I64Load16U { memarg } => self.load(memarg, 2, I64, false)?,
            O::I64Load32S { memarg } => self.load(memarg, 4, I64, true)?,
            O::I64Load32U { memarg } => self.load(memarg, 4, I64, false)?,
            O::I32Store { memarg } | O::I64Store32 { memarg } => self.store(memarg, 4)?,
            O::I64Store { memarg } => self.store(memarg, 8)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(memarg, 1)?,
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store(memarg, 2)?,
            O::MemorySize { mem: 0 } => {
                let size = self.ins1(Op::MemSize, &[], I64);
                let pages = self.bin_k(B::LShr, size, 16);
                let v = self.conv(Op::Trunc, pages, I32);
                self.stack.push(v);
            }
            O::MemoryGrow { mem: 0 } => {
                let n = self.pop()?;
                let v = self.grow(n);
                self.stack.push(v);
            }
            O::MemoryCopy {
                dst_mem: 0,
                src_mem: 0,
            } => {
                let len = self.pop()?;
                let src = self.pop()?;
                let dst = self.pop()?;
                let (dst, src, len) = (
                    self.conv(Op::Uext, dst, I64),
                    self.conv(Op::Uext, src, I64),
                    self.conv(Op::Uext, len, I64),
                );
                let size = self.ins1(Op::MemSize, &[], I64);
                let d_end = self.bin(B::Add, dst, len);
                let s_end = self.bin(B::Add, src, len);
                let d_out = self.icmp(Cond::Ugt, d_end, size);
                let s_out = self.icmp(Cond::Ugt, s_end, size);
                let out = self.bin(B::Or, d_out, s_out);
                self.trap_if(out, TrapCode::OutOfBounds);
                self.ins(Op::MemCopy, &[dst, src, len], &[]);
            }
            O::MemoryFill { mem: 0 } => {
                let len = self.pop()?;
                let byte = self.pop()?;
                let dst = self.pop()?;
                let (dst, len) = (self.conv(Op::Uext, dst, I64), self.conv(Op::Uext, len, I64));
                let size = self.ins1(Op::MemSize, &[], I64);
                let end = self.bin(B::Add, dst, len);
                let out = self.icmp(Cond::Ugt, end, size);
                self.trap_if(out, TrapCode::OutOfBounds);
                self.ins(Op::MemFill, &[dst, byte, len], &[]);
            }
            ref other => return Err(op_name(other)),
        }
        Ok(())
    }

    /// The IR compares signatures by IR types, in which a float is an
    /// integer of its width: entries whose WASM type differs from the
    /// call's type `ty` although their IR types match trap here, as WASM's
    /// check would. (Tables are fixed at instantiation: no lifted code
    /// changes them.) The entries are found once per module and type.
    fn check_indirect(&mut self, table: u32, ty: u32, index: Value) -> Lift {
        let bad = {
            let mut cache = self.indirect.borrow_mut();
            cache
                .entry((table, ty))
                .or_insert_with(|| {
                    let Some(sig) = self.m.types.get(ty as usize) else {
                        return Default::default();
                    };
                    let want = ir_sig(sig);
                    let bad: Vec<u64> = self
                        .tables
                        .get(table as usize)
                        .map(|t| {
                            t.iter()
                                .enumerate()
                                .filter_map(|(i, e)| {
                                    let got = self.m.sig(*e.as_ref()?)?;
                                    (got != sig && ir_sig(got) == want).then_some(i as u64)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    std::rc::Rc::new(bad)
                })
                .clone()
        };
        if bad.len() > MAX_MISTYPED_ENTRIES {
            return Err(format!(
                "call_indirect over a table with {} entries of another WASM type but the same IR types",
                bad.len()
            ));
        }
        let mut any = None;
        for k in bad.iter() {
            let c = self.icmp_k(Cond::Eq, index, *k);
            any = Some(match any {
                None => c,
                Some(a) => self.bin(BinOp::Or, a, c),
            });
        }
        if let Some(c) = any {
            self.trap_if(c, TrapCode::BadIndirectCall);
        }
        Ok(())
    }

    fn compare(&mut self, c: Cond) -> Lift {
        let b = self.pop()?;
        let a = self.pop()?;
        let r = self.icmp(c, a, b);
        let v = self.bool32(r);
        self.stack.push(v);
        Ok(())
    }

    fn binary(&mut self, op: BinOp) -> Lift {
        let b = self.pop()?;
        let a = self.pop()?;
        let v = self.bin(op, a, b);
        self.stack.push(v);
        Ok(())
    }

    /// Shift counts are taken modulo the width.
    fn shift(&mut self, op: BinOp) -> Lift {
        let b = self.pop()?;
        let a = self.pop()?;
        let bits = self.f.ty(a).bits() as u64;
        let b = self.bin_k(BinOp::And, b, bits - 1);
        let v = self.bin(op, a, b);
        self.stack.push(v);
        Ok(())
    }

    /// Division and remainder trap on a zero divisor, signed division
    /// also on `MIN / -1` (where the remainder is 0).
    fn divide(&mut self, op: BinOp) -> Lift {
        let b = self.pop()?;
        let a = self.pop()?;
        let zero = self.icmp_k(Cond::Eq, b, 0);
        self.trap_if(zero, TrapCode::DivideByZero);
        if op == BinOp::SDiv {
            let bits = self.f.ty(a).bits() as u64;
            let min = self.icmp_k(Cond::Eq, a, 1 << (bits - 1));
            let minus_one = self.icmp_k(Cond::Eq, b, u64::MAX >> (64 - bits));
            let overflow = self.bin(BinOp::And, min, minus_one);
            self.trap_if(overflow, TrapCode::IntegerOverflow);
        }
        let v = self.bin(op, a, b);
        self.stack.push(v);
        Ok(())
    }

    fn convert(&mut self, op: Op, ty: Type) -> Lift {
        let a = self.pop()?;
        let v = self.conv(op, a, ty);
        self.stack.push(v);
        Ok(())
    }

    /// Sign-extends from the low bits of `narrow` within the same type.
    fn extend_from(&mut self, narrow: Type) -> Lift {
        let a = self.pop()?;
        let t = self.f.ty(a);
        let low = self.conv(Op::Trunc, a, narrow);
        let v = self.conv(Op::Sext, low, t);
        self.stack.push(v);
        Ok(())
    }

    /// `ctz x = width - clz(!x & (x - 1))`: the mask of the trailing
    /// zeros (all ones for 0).
    fn ctz(&mut self, a: Value) -> Value {
        let t = self.f.ty(a);
        let not = self.ins1(Op::Not, &[a], t);
        let dec = self.bin_k(BinOp::Sub, a, 1);
        let mask = self.bin(BinOp::And, not, dec);
        let lz = self.ins1(Op::Clz, &[mask], t);
        let w = self.iconst(t, t.bits() as u64);
        self.bin(BinOp::Sub, w, lz)
    }

    /// Population count by bit-slicing: pairs, nibbles, bytes, then a
    /// multiply sums the bytes into the top one.
    fn popcnt(&mut self, a: Value) -> Value {
        let t = self.f.ty(a);
        let bits = t.bits() as u64;
        let rep = |b: u8| u64::from_ne_bytes([b; 8]) >> (64 - bits);
        let s1 = self.bin_k(BinOp::LShr, a, 1);
        let m1 = self.bin_k(BinOp::And, s1, rep(0x55));
        let x = self.bin(BinOp::Sub, a, m1);
        let lo = self.bin_k(BinOp::And, x, rep(0x33));
        let s2 = self.bin_k(BinOp::LShr, x, 2);
        let hi = self.bin_k(BinOp::And, s2, rep(0x33));
        let x = self.bin(BinOp::Add, lo, hi);
        let s4 = self.bin_k(BinOp::LShr, x, 4);
        let x = self.bin(BinOp::Add, x, s4);
        let x = self.bin_k(BinOp::And, x, rep(0x0f));
        let x = self.bin_k(BinOp::Mul, x, rep(0x01));
        self.bin_k(BinOp::LShr, x, bits - 8)
    }

    /// `memory.grow n`: the old size in pages, or -1 past the maximum or
    /// the run's memory limit.
    fn grow(&mut self, n: Value) -> Value {
        use Type::{I32, I64};
        let max = self
            .m
            .memory
            .and_then(|m| m.maximum)
            .unwrap_or(MAX_PAGES)
            .min(MAX_PAGES);
        let n = self.conv(Op::Uext, n, I64);
        let size = self.ins1(Op::MemSize, &[], I64);
        let pages = self.bin_k(BinOp::LShr, size, 16);
        let max = self.iconst(I64, max);
        let room = self.bin(BinOp::Sub, max, pages);
        let fits = self.icmp(Cond::Ule, n, room);
        let bytes = self.bin_k(BinOp::Shl, n, 16);
        let never = self.iconst(I64, u64::MAX);
        let request = self.ins1(Op::Select, &[fits, bytes, never], I64);
        let old = self.ins1(Op::MemGrow, &[request], I64);
        let failed = self.icmp_k(Cond::Eq, old, u64::MAX);
        let old_pages = self.bin_k(BinOp::LShr, old, 16);
        let old_pages = self.conv(Op::Trunc, old_pages, I32);
        let minus_one = self.iconst(I32, u32::MAX as u64);
        self.ins1(Op::Select, &[failed, minus_one, old_pages], I32)
    }

    /// The effective address: the `i32` base plus the static offset, as
    /// an `i64` (no wrap-around: it is at most 2^33).
    fn address(&mut self, memarg: MemArg) -> Lift<Value> {
        if memarg.memory != 0 {
            return Err("a second memory".into());
        }
        let base = self.pop()?;
        let base = self.conv(Op::Uext, base, Type::I64);
        Ok(if memarg.offset == 0 {
            base
        } else {
            self.bin_k(BinOp::Add, base, memarg.offset)
        })
    }

    fn load(&mut self, memarg: MemArg, bytes: u32, ty: Type, signed: bool) -> Lift {
        let addr = self.address(memarg)?;
        let ext = if signed { Op::Sext } else { Op::Uext };
        let v = match bytes {
            1 => {
                let b = self.ins1(Op::Load(Type::I8, Endian::Little), &[addr], Type::I8);
                self.conv(ext, b, ty)
            }
            2 => {
                // Two bytes, the high one first: if it is in bounds the
                // low one is too, so a trap happens before any effect.
                let hi_addr = self.bin_k(BinOp::Add, addr, 1);
                let hi = self.ins1(Op::Load(Type::I8, Endian::Little), &[hi_addr], Type::I8);
                let lo = self.ins1(Op::Load(Type::I8, Endian::Little), &[addr], Type::I8);
                let hi = self.conv(Op::Uext, hi, ty);
                let lo = self.conv(Op::Uext, lo, ty);
                let hi = self.bin_k(BinOp::Shl, hi, 8);
                let v = self.bin(BinOp::Or, hi, lo);
                if signed {
                    let k = ty.bits() as u64 - 16;
                    let s = self.bin_k(BinOp::Shl, v, k);
                    self.bin_k(BinOp::AShr, s, k)
                } else {
                    v
                }
            }
            4 if ty == Type::I64 => {
                let w = self.ins1(Op::Load(Type::I32, Endian::Little), &[addr], Type::I32);
                self.conv(ext, w, ty)
            }
            _ => self.ins1(Op::Load(ty, Endian::Little), &[addr], ty),
        };
        self.stack.push(v);
        Ok(())
    }

    fn store(&mut self, memarg: MemArg, bytes: u32) -> Lift {
        let v = self.pop()?;
        let addr = self.address(memarg)?;
        let ty = self.f.ty(v);
        match bytes {
            1 => {
                let b = self.conv(Op::Trunc, v, Type::I8);
                self.ins(Op::Store(Type::I8, Endian::Little), &[addr, b], &[]);
            }
            2 => {
                // The high byte first, so an out-of-bounds store writes nothing.
                let hi_addr = self.bin_k(BinOp::Add, addr, 1);
                let hi = self.bin_k(BinOp::LShr, v, 8);
                let hi = self.conv(Op::Trunc, hi, Type::I8);
                let lo = self.conv(Op::Trunc, v, Type::I8);
                self.ins(Op::Store(Type::I8, Endian::Little), &[hi_addr, hi], &[]);
                self.ins(Op::Store(Type::I8, Endian::Little), &[addr, lo], &[]);
            }
            4 if ty == Type::I64 => {
                let w = self.conv(Op::Trunc, v, Type::I32);
                self.ins(Op::Store(Type::I32, Endian::Little), &[addr, w], &[]);
            }
            _ => {
                self.ins(Op::Store(ty, Endian::Little), &[addr, v], &[]);
            }
        }
        Ok(())
    }
}
