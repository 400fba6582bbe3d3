//! Running one instruction or block entry from the module itself: the
//! interpreter's path for what the decoded program does not cover, and for
//! a block that may not fit in the budget.

use super::{
    EVM_STACK_WORDS, Flow, Host, Interpreter, Stop, eval_pure, mask, to_usize, trap, words,
};
use crate::entities::Value;
use crate::function::{BlockCall, Function};
use crate::inst::{Endian, Op, TrapCode};
use crate::types::Type;
use alloy_primitives::U256;

impl Interpreter<'_> {
    pub(super) fn enter(
        &self,
        f: &Function,
        vals: &mut [U256],
        call: &BlockCall,
    ) -> crate::entities::Block {
        let incoming: Vec<U256> = call.args.iter().map(|a| vals[a.index()]).collect();
        for (p, v) in f.block(call.block).params.iter().zip(incoming) {
            vals[p.index()] = v;
        }
        call.block
    }

    pub(super) fn exec(
        &mut self,
        host: &mut dyn Host,
        f: &Function,
        vals: &mut [U256],
        inst: &crate::function::Inst,
        depth: usize,
    ) -> Flow<()> {
        let pos = inst.pos;
        let arg = |i: usize| {
            inst.args
                .get(i)
                .map_or(U256::ZERO, |v: &Value| vals[v.index()])
        };
        let result_ty = inst.results.first().map_or(Type::I256, |r| f.ty(*r));
        let arg_ty = inst.args.first().map_or(Type::I256, |a| f.ty(*a));
        if inst.op.is_pure() {
            let args = [arg(0), arg(1), arg(2)];
            let n = inst.args.len().min(3);
            let v = eval_pure(&inst.op, result_ty, arg_ty, &args[..n]).unwrap_or_default();
            if let Some(r) = inst.results.first() {
                vals[r.index()] = v;
            }
            return Ok(());
        }
        let set = |vals: &mut [U256], v: U256| {
            if let Some(r) = inst.results.first() {
                vals[r.index()] = v & mask(f.ty(*r));
            }
        };
        match &inst.op {
            Op::Load(t, e) => {
                let n = t.bytes().unwrap_or(1);
                let r = self.range(arg(0), U256::from(n), pos)?;
                let mut word = [0u8; 32];
                let bytes = &self.memory[r];
                match e {
                    Endian::Big => word[32 - n..].copy_from_slice(bytes),
                    Endian::Little => bytes
                        .iter()
                        .rev()
                        .enumerate()
                        .for_each(|(i, b)| word[32 - n + i] = *b),
                }
                set(vals, U256::from_be_bytes(word));
            }
            Op::Store(t, e) => {
                let n = t.bytes().unwrap_or(1);
                let r = self.range(arg(0), U256::from(n), pos)?;
                let word = arg(1).to_be_bytes::<32>();
                let src = &word[32 - n..];
                match e {
                    Endian::Big => self.memory[r].copy_from_slice(src),
                    Endian::Little => self.memory[r]
                        .iter_mut()
                        .zip(src.iter().rev())
                        .for_each(|(d, s)| *d = *s),
                }
            }
            Op::MemCopy => self
                .env()
                .copy(arg(0), arg(1), arg(2), pos)
                .map_err(Stop::Exit)?,
            Op::MemFill => self
                .env()
                .fill(arg(0), arg(1), arg(2), pos)
                .map_err(Stop::Exit)?,
            Op::MemSize => set(vals, U256::from(self.memory.len())),
            Op::MemGrow => {
                let old = self.memory.len();
                match to_usize(arg(0))
                    .and_then(|d| old.checked_add(d))
                    .filter(|n| *n <= self.limits.memory)
                {
                    Some(new) => {
                        self.memory.resize(new, 0);
                        set(vals, U256::from(old));
                    }
                    None => set(vals, U256::MAX),
                }
            }
            Op::MemExpand => self.expand(arg(0), arg(1), pos)?,
            Op::StackLoad | Op::StackStore => {
                // i64 accesses address limbs, four per word.
                let ty = match inst.op {
                    Op::StackLoad => result_ty,
                    _ => inst.args.get(1).map_or(Type::I256, |v| f.ty(*v)),
                };
                let index = to_usize(arg(0)).unwrap_or(usize::MAX);
                let (word, limb) = match ty {
                    Type::I64 => (index / 4, Some(index % 4)),
                    _ => (index, None),
                };
                if word >= EVM_STACK_WORDS {
                    return trap(TrapCode::StackOverflow, pos);
                }
                if self.evm_stack.is_empty() {
                    self.evm_stack = vec![U256::ZERO; EVM_STACK_WORDS];
                }
                let slot = &mut self.evm_stack[word];
                match (&inst.op, limb) {
                    (Op::StackLoad, None) => set(vals, *slot),
                    (Op::StackLoad, Some(k)) => set(vals, U256::from(slot.as_limbs()[k])),
                    (_, None) => *slot = arg(1),
                    (_, Some(k)) => {
                        let mut limbs = *slot.as_limbs();
                        limbs[k] = arg(1).as_limbs()[0];
                        *slot = U256::from_limbs(limbs);
                    }
                }
            }
            Op::Host(h) => {
                // The legalized form passes each word as four i64 limbs.
                let limbs = inst
                    .args
                    .first()
                    .or(inst.results.first())
                    .is_some_and(|v| f.ty(*v) == Type::I64);
                // Words on the stack when they fit (the common case).
                let mut few = [U256::ZERO; 8];
                let many: Vec<U256>;
                let args: &[U256] = if limbs || inst.args.len() > few.len() {
                    let all: Vec<U256> = inst.args.iter().map(|v| vals[v.index()]).collect();
                    many = if limbs { words(&all) } else { all };
                    &many
                } else {
                    for (d, v) in few.iter_mut().zip(&inst.args) {
                        *d = vals[v.index()];
                    }
                    &few[..inst.args.len()]
                };
                let v = self.env().host(host, *h, args, pos).map_err(Stop::Exit)?;
                if let Some(v) = v {
                    if limbs {
                        for (r, l) in inst.results.iter().zip(v.as_limbs()) {
                            vals[r.index()] = U256::from(*l);
                        }
                    } else {
                        set(vals, v);
                    }
                }
            }
            Op::Call(callee) => {
                let args: Vec<U256> = inst.args.iter().map(|v| vals[v.index()]).collect();
                let results = self.call(host, *callee, &args, depth + 1)?;
                for (r, v) in inst.results.iter().zip(results) {
                    vals[r.index()] = v;
                }
            }
            Op::CallIndirect(table) => {
                let index = arg(0);
                let target = self
                    .module
                    .tables
                    .get(*table as usize)
                    .and_then(|t| to_usize(index).and_then(|i| t.entries.get(i)))
                    .copied()
                    .flatten();
                let Some(callee) = target else {
                    return trap(TrapCode::BadIndirectCall, pos);
                };
                let callee_fn = &self.module.functions[callee.index()];
                let arg_types: Vec<Type> = inst.args[1..].iter().map(|a| f.ty(*a)).collect();
                let res_types: Vec<Type> = inst.results.iter().map(|r| f.ty(*r)).collect();
                if callee_fn.params != arg_types || callee_fn.returns != res_types {
                    return trap(TrapCode::BadIndirectCall, pos);
                }
                let args: Vec<U256> = inst.args[1..].iter().map(|v| vals[v.index()]).collect();
                let results = self.call(host, callee, &args, depth + 1)?;
                for (r, v) in inst.results.iter().zip(results) {
                    vals[r.index()] = v;
                }
            }
            _ => return trap(TrapCode::Unsupported, pos),
        }
        Ok(())
    }
}
