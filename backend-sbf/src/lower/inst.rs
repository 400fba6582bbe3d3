//! The lowering of one instruction: which instructions need no code, the
//! dispatch to the families (arithmetic, memory, host operations), and the
//! small operations lowered here (`not`, an `icmp`'s value, `select`,
//! conversions, and the helper calls of `addmod`, `mulmod`, `exp`, `clz`).

use super::{Cx, unsupported};
use crate::asm::{Alu, Cond as J, R0, R1, R2, R3, R4, R9, Size};
use crate::runtime::{Helper, zero};
use crate::{Error, layout};
use chainlift_ir::entities::Value;
use chainlift_ir::function::Inst;
use chainlift_ir::inst::{Cond, Op};
use chainlift_ir::print::op_name;
use chainlift_ir::types::Type;

impl Cx<'_> {
    /// Lowers one instruction. An instruction whose result nothing
    /// observes, or whose result is known at translation, needs no code.
    pub(super) fn inst(&mut self, inst: &Inst) -> Result<(), Error> {
        let args = &inst.args;
        let res = inst.results.first().copied();
        let pos = inst.pos;
        let need = |r: Option<Value>| {
            r.ok_or_else(|| {
                Error::Internal(format!("{} at {pos} has no result", op_name(&inst.op)))
            })
        };
        let pure = !matches!(
            inst.op,
            Op::Store(..)
                | Op::MemCopy
                | Op::MemFill
                | Op::MemExpand
                | Op::Host(_)
                | Op::StackStore
        );
        if pure && res.is_none() {
            // Nothing observes it (loads still check their bounds).
            if !matches!(inst.op, Op::Load(..)) {
                return Ok(());
            }
        }
        self.const_next = 0;
        if res.is_some_and(|r| self.consts.contains_key(&r)) {
            // Known at translation: an immediate where it is used.
            return Ok(());
        }
        match &inst.op {
            // Constants are immediates where they are used.
            Op::Iconst(_) => {}
            Op::Binary(op) => self.binary(*op, args[0], args[1], need(res)?, pos)?,
            Op::Not => self.not(args[0], need(res)?),
            Op::Icmp(c) => self.icmp(*c, args[0], args[1], need(res)?),
            Op::Select => self.select(args[0], args[1], args[2], need(res)?),
            Op::Uext | Op::Sext | Op::Trunc => self.convert(&inst.op, args[0], need(res)?),
            Op::AddMod | Op::MulMod => self.modular(inst.op == Op::AddMod, args, need(res)?),
            Op::Exp => {
                self.ptr(R1, need(res)?);
                self.ptr(R2, args[0]);
                self.ptr(R3, args[1]);
                self.call(Helper::Exp);
            }
            Op::SignExtend => self.signextend(args[0], args[1], need(res)?),
            Op::Byte => self.byte(args[0], args[1], need(res)?),
            Op::Clz if self.ty(need(res)?) != Type::I256 => {
                // The width, less one per significant bit (at most 64 rounds).
                let d = need(res)?;
                let ty = self.ty(d);
                let top = self.asm.label();
                let done = self.asm.label();
                self.limb(R1, args[0], 0);
                self.mask(R1, ty);
                self.asm.mov64(R0, ty.bits() as u64);
                self.asm.bind(top);
                self.asm.jmp_imm(J::Eq, R1, 0, done);
                self.asm.alu_imm(Alu::Rsh, R1, 1);
                self.asm.alu_imm(Alu::Sub, R0, 1);
                self.asm.ja(top);
                self.asm.bind(done);
                self.set_word(d);
            }
            Op::Clz => {
                let d = need(res)?;
                self.ptr(R1, d);
                self.ptr(R2, args[0]);
                self.call(Helper::Clz);
            }
            Op::Load(t, e) => self.load(*t, *e, args[0], res),
            Op::Store(t, e) => self.store(*t, *e, args[0], args[1]),
            Op::MemCopy | Op::MemFill => {
                self.mem_copy_fill(inst.op == Op::MemCopy, args[0], args[1], args[2])
            }
            Op::MemSize => {
                let d = need(res)?;
                self.asm.ldx(Size::Dw, R0, R9, layout::MEM_SIZE);
                self.set_word(d);
            }
            Op::MemExpand => self.mem_expand(args[0], args[1]),
            Op::MemGrow => {
                // The old size (the heap starts zeroed and memory never
                // shrinks, so grown bytes are zero).
                let d = need(res)?;
                let ty = self.ty(d);
                let fail = self.asm.label();
                let done = self.asm.label();
                self.jmp_if_high(args[0], fail);
                self.limb(R1, args[0], 0);
                // 4 GiB or more is past any WASM memory's maximum (the
                // frontend asks all ones then): -1, as the IR says. A
                // smaller request past the heap's share is the target's
                // limit, not the program's answer.
                self.asm.mov64(R2, 1 << 32);
                self.asm.jmp(J::Ge, R1, R2, fail);
                self.asm.ldx(Size::Dw, R0, R9, layout::MEM_SIZE);
                self.asm.mov64(R2, self.mem_limit as u64);
                self.asm.alu(Alu::Sub, R2, R0);
                let limit = self.memory_limit;
                self.asm.jmp(J::Gt, R1, R2, limit);
                self.asm.alu(Alu::Add, R1, R0);
                self.asm.stx(Size::Dw, R9, layout::MEM_SIZE, R1);
                self.asm.ja(done);
                self.asm.bind(fail);
                self.asm.mov64(R0, u64::MAX);
                self.mask(R0, ty);
                self.asm.bind(done);
                self.set_word(d);
            }
            Op::Host(h) => self.host(*h, args, res, pos)?,
            Op::StackLoad | Op::StackStore => {
                let word = match inst.op {
                    Op::StackLoad => need(res)?,
                    _ => args[1],
                };
                match self.ty(word) {
                    Type::I256 => self.evm_stack(args[0], word, inst.op == Op::StackLoad),
                    // A limb (WASM globals live there): index counts limbs.
                    Type::I64 => self.evm_stack_limb(args[0], word, inst.op == Op::StackLoad),
                    _ => return Err(self.narrow(inst)),
                }
            }
            Op::Call(_) | Op::CallIndirect(_) => {
                return Err(unsupported(
                    op_name(&inst.op),
                    pos,
                    "function calls are not translated to sbf yet",
                ));
            }
        }
        Ok(())
    }

    /// `word = stack.load index` (`load`) or `stack.store index, word`:
    /// the array at the heap's end; an index past its share of the heap
    /// ends with the stack limit (the lifter checked the EVM's bounds).
    fn evm_stack(&mut self, index: Value, word: Value, load: bool) {
        let limit = self.stack_limit;
        self.limb(R1, index, 0);
        self.asm.jmp_imm(J::Ge, R1, self.stack_words as i32, limit);
        self.asm.alu_imm(Alu::Lsh, R1, 5);
        self.asm.alu(Alu::Add, R1, R9);
        self.asm.alu_imm(Alu::Add, R1, self.stack_base as i32);
        for i in 0..4 {
            if load {
                self.asm.ldx(Size::Dw, R0, R1, 8 * i);
                self.set_limb(word, i, R0);
            } else {
                self.limb(R0, word, i);
                self.asm.stx(Size::Dw, R1, 8 * i, R0);
            }
        }
    }

    /// `limb = stack.load.i64 index` (`load`) or `stack.store index, limb`:
    /// limb `index % 4` of word `index / 4` of the array.
    fn evm_stack_limb(&mut self, index: Value, limb: Value, load: bool) {
        let limit = self.stack_limit;
        self.limb(R1, index, 0);
        self.asm
            .jmp_imm(J::Ge, R1, (self.stack_words * 4) as i32, limit);
        self.asm.alu_imm(Alu::Lsh, R1, 3);
        self.asm.alu(Alu::Add, R1, R9);
        self.asm.alu_imm(Alu::Add, R1, self.stack_base as i32);
        if load {
            self.asm.ldx(Size::Dw, R0, R1, 0);
            self.set_limb(limb, 0, R0);
        } else {
            self.limb(R0, limb, 0);
            self.asm.stx(Size::Dw, R1, 0, R0);
        }
    }

    /// The error for an operation lowered for words only, met at a
    /// narrower type.
    fn narrow(&self, inst: &Inst) -> Error {
        let t = inst
            .results
            .first()
            .or(inst.args.first())
            .map_or("?", |v| self.ty(*v).name());
        unsupported(
            format!("{}.{t}", op_name(&inst.op)),
            inst.pos,
            "this operation is lowered for i256 only",
        )
    }

    /// `d = not a`, limb by limb, masked to the type.
    fn not(&mut self, a: Value, d: Value) {
        let t = self.ty(d);
        let limbs = if t == Type::I256 { 4 } else { 1 };
        for i in 0..limbs {
            self.limb(R1, a, i);
            self.asm.alu_imm(Alu::Xor, R1, -1);
            self.mask(R1, t);
            self.set_limb(d, i, R1);
        }
    }

    /// `d = a cond b` as a value (0 or 1); an `icmp` that only feeds the
    /// branch after it is fused into the branch instead.
    fn icmp(&mut self, c: Cond, a: Value, b: Value, d: Value) {
        let (t, f, end) = (self.asm.label(), self.asm.label(), self.asm.label());
        self.compare(c, a, b, t, f);
        self.asm.bind(t);
        self.asm.mov64(R0, 1);
        self.asm.ja(end);
        self.asm.bind(f);
        self.asm.mov64(R0, 0);
        self.asm.bind(end);
        self.set_limb(d, 0, R0);
    }

    /// `d = c ? x : y`.
    fn select(&mut self, c: Value, x: Value, y: Value, d: Value) {
        let t = self.ty(d);
        let (other, end) = (self.asm.label(), self.asm.label());
        self.limb(R0, c, 0);
        self.asm.jmp_imm(J::Eq, R0, 0, other);
        let dd = self.off(d);
        let a = self.src(x);
        let b = self.src(y);
        self.copy(dd, a, t);
        self.asm.ja(end);
        self.asm.bind(other);
        self.copy(dd, b, t);
        self.asm.bind(end);
    }

    /// `d = uext a`, `sext a` or `trunc a` (`op`): limb 0 extended or
    /// masked, then the upper limbs of a word (copied, the sign, or zero).
    fn convert(&mut self, op: &Op, a: Value, d: Value) {
        let (from, to) = (self.ty(a), self.ty(d));
        self.limb(R0, a, 0);
        if *op == Op::Sext {
            self.sext(R0, from);
        }
        if *op == Op::Trunc || to != Type::I256 {
            self.mask(R0, to);
        }
        self.set_limb(d, 0, R0);
        if to == Type::I256 {
            if from == Type::I256 {
                let dd = self.off(d);
                let aa = self.src(a);
                self.copy(dd, aa, to);
            } else if *op == Op::Sext {
                self.asm.alu_imm(Alu::Arsh, R0, 63);
                for i in 1..4 {
                    self.set_limb(d, i, R0);
                }
            } else {
                let o = self.off(d);
                zero(&mut self.asm, R9, o + 8, 3);
            }
        }
    }

    /// `d = (a + b) % n` (`add`) or `(a * b) % n`, for `args` `[a, b, n]`,
    /// through their helpers.
    fn modular(&mut self, add: bool, args: &[Value], d: Value) {
        self.ptr(R1, d);
        self.ptr(R2, args[0]);
        self.ptr(R3, args[1]);
        self.ptr(R4, args[2]);
        self.call(if add { Helper::AddMod } else { Helper::MulMod });
    }
}
