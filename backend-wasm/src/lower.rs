//! One IR function to one WASM body: structured control flow from the
//! dominator tree, instructions over virtual locals, host operations
//! through the Stylus hooks.
//!
//! Control flow follows Ramsey's "Beyond Relooper" (ICFP 2022): for a
//! reducible CFG, each block is emitted once, a block with two or more
//! forward predecessors ("merge" block) after a WASM `block` that its
//! predecessors branch out of, a block with one forward predecessor inline
//! at that branch, a loop header as a WASM `loop`. An irreducible function
//! becomes one `loop` around a `br_table` on a block-number local.

use crate::Error;
use crate::abi::{Hook, layout, pos_bits, trap_info};
use crate::code::{Body, Callee, Ins};
use crate::rt::{DivKind, Rt, globals};
use chainlift_ir::entities::{Block, FuncId, Value};
use chainlift_ir::function::{BlockCall, Function, Module, Terminator};
use chainlift_ir::inst::{
    BinOp, CallKind, Cond, Endian, ExitKind, HostOp, Op, SourcePos, TrapCode,
};
use chainlift_ir::types::Type;
use wasm_encoder::{BlockType, Instruction as I, MemArg, ValType};

/// Where code stands: the enclosing WASM constructs, innermost last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// A `loop` headed by this block (a branch to it continues the loop).
    Loop(Block),
    /// A `block` this IR block follows (a branch to it leaves the `block`).
    Follow(Block),
    /// The dispatcher's loop (irreducible functions).
    Dispatch,
    /// Any other construct (`if`, a switch's trampolines).
    Other,
}

/// What lowering a module needs to know across functions.
pub struct ModuleCx<'m> {
    pub module: &'m Module,
    /// Long 256-bit operations through Stylus's `math_*` hooks.
    pub math_hooks: bool,
    /// Where the contract's code is embedded.
    pub code_base: u32,
    /// Result globals per class (i32, i64): the first index of each.
    pub result_globals: [u32; 2],
    /// Operations used that Stylus lacks, with their position.
    pub non_stylus: Vec<(String, SourcePos)>,
}

/// The WASM class of an IR type.
pub fn class(t: Type) -> Result<ValType, Error> {
    match t {
        Type::I1 | Type::I8 | Type::I32 => Ok(ValType::I32),
        Type::I64 => Ok(ValType::I64),
        Type::I256 => Err(Error::NotLegalized),
    }
}

fn bits(t: Type) -> u32 {
    match t {
        Type::I1 => 1,
        Type::I8 => 8,
        Type::I32 => 32,
        Type::I64 => 64,
        Type::I256 => 256,
    }
}

const fn mem(offset: u64, align: u32) -> MemArg {
    MemArg {
        offset,
        align,
        memory_index: 0,
    }
}

struct FnCx<'a, 'm> {
    m: &'a mut ModuleCx<'m>,
    f: &'a Function,
    fid: FuncId,
    b: Body,
    /// Reverse-postorder number of each block (`usize::MAX`: unreachable).
    rpo: Vec<usize>,
    merge: Vec<bool>,
    header: Vec<bool>,
    /// Dominator-tree children, by ascending RPO number.
    children: Vec<Vec<Block>>,
    ctx: Vec<Ctx>,
    dispatch: bool,
    /// The dispatcher's block-number local and each block's number.
    label: u32,
    /// Constants defined by `iconst` (for shifts by a constant).
    consts: Vec<Option<u64>>,
}

/// Lowers function `fid` of the module to a body.
pub fn function(m: &mut ModuleCx<'_>, fid: FuncId) -> Result<Body, Error> {
    let f = &m.module.functions[fid.index()];
    let mut b = Body::default();
    // Values are virtual locals 0..n; parameters come first in WASM, so
    // the entry block's parameters are renumbered below.
    for t in &f.values {
        b.types.push(class(*t)?);
    }
    let entry = f
        .entry()
        .ok_or_else(|| Error::Invalid(format!("{} has no blocks", f.name)))?;
    let params = f.block(entry).params.clone();
    let mut cx = FnCx {
        m,
        f,
        fid,
        b,
        rpo: vec![],
        merge: vec![],
        header: vec![],
        children: vec![],
        ctx: vec![],
        dispatch: false,
        label: 0,
        consts: vec![None; f.values.len()],
    };
    for data in &f.blocks {
        for inst in &data.insts {
            if let (Op::Iconst(c), [r]) = (&inst.op, inst.results.as_slice()) {
                cx.consts[r.index()] = Some(c.as_limbs()[0]);
            }
        }
    }
    cx.analyze(entry);
    if cx.dispatch {
        cx.dispatcher(entry)?;
    } else {
        cx.tree(entry)?;
    }
    cx.b.w(I::Unreachable);
    // Move the parameters to the front: swap virtual locals.
    let mut body = cx.b;
    let n = params.len() as u32;
    // perm[new] = old: parameter i at new index i.
    let mut perm: Vec<u32> = (0..body.types.len() as u32).collect();
    for (i, p) in params.iter().enumerate() {
        let at = perm[i..]
            .iter()
            .position(|x| *x == p.index() as u32)
            .map_or(i, |k| k + i);
        perm.swap(i, at);
    }
    // perm[new] = old; invert.
    let mut new_of = vec![0u32; perm.len()];
    for (new, old) in perm.iter().enumerate() {
        new_of[*old as usize] = new as u32;
    }
    let types = body.types.clone();
    for (old, ty) in types.iter().enumerate() {
        body.types[new_of[old] as usize] = *ty;
    }
    for ins in &mut body.ins {
        if let Ins::Get(v) | Ins::Set(v) | Ins::Tee(v) = ins {
            *v = new_of[*v as usize];
        }
    }
    for l in &mut body.live {
        l.0 = new_of[l.0 as usize];
    }
    body.params = n;
    Ok(body)
}

impl FnCx<'_, '_> {
    fn analyze(&mut self, entry: Block) {
        let f = self.f;
        let n = f.blocks.len();
        // Reverse postorder.
        let mut order = vec![];
        let mut seen = vec![false; n];
        let mut stack = vec![(entry, 0usize)];
        seen[entry.index()] = true;
        while let Some((b, i)) = stack.pop() {
            let next = f.block(b).term.targets().nth(i).map(|c| c.block);
            if let Some(s) = next {
                stack.push((b, i + 1));
                if !seen[s.index()] {
                    seen[s.index()] = true;
                    stack.push((s, 0));
                }
            } else {
                order.push(b);
            }
        }
        order.reverse();
        self.rpo = vec![usize::MAX; n];
        for (i, b) in order.iter().enumerate() {
            self.rpo[b.index()] = i;
        }
        let idom = chainlift_ir::verify::dominators(f);
        let dominates = |a: Block, mut b: Block| loop {
            if a == b {
                return true;
            }
            match idom.get(&b) {
                Some(p) if *p != b => b = *p,
                _ => return false,
            }
        };
        self.merge = vec![false; n];
        self.header = vec![false; n];
        let mut forward_in = vec![0usize; n];
        for b in &order {
            for c in f.block(*b).term.targets() {
                let t = c.block;
                if self.rpo[t.index()] <= self.rpo[b.index()] {
                    self.header[t.index()] = true;
                    if !dominates(t, *b) {
                        self.dispatch = true;
                    }
                } else {
                    forward_in[t.index()] += 1;
                }
            }
        }
        for b in &order {
            self.merge[b.index()] = forward_in[b.index()] >= 2;
        }
        self.children = vec![vec![]; n];
        for b in &order {
            if let Some(p) = idom.get(b)
                && p != b
            {
                self.children[p.index()].push(*b);
            }
        }
        let rpo = &self.rpo;
        for c in &mut self.children {
            c.sort_by_key(|b| rpo[b.index()]);
        }
        if self.dispatch {
            self.label = self.b.local(ValType::I32);
        }
    }

    fn depth(&self, target: Ctx) -> Result<u32, Error> {
        self.ctx
            .iter()
            .rev()
            .position(|c| *c == target)
            .map(|d| d as u32)
            .ok_or_else(|| Error::Invalid(format!("{}: no branch target {target:?}", self.f.name)))
    }

    /// `doTree`: the code of `x` and of everything it dominates.
    fn tree(&mut self, x: Block) -> Result<(), Error> {
        let merges: Vec<Block> = self.children[x.index()]
            .iter()
            .rev()
            .copied()
            .filter(|c| self.merge[c.index()])
            .collect();
        if self.header[x.index()] {
            self.b.ins.push(Ins::LoopStart);
            self.b.w(I::Loop(BlockType::Empty));
            self.ctx.push(Ctx::Loop(x));
            self.within(x, &merges)?;
            self.ctx.pop();
            self.b.w(I::End);
            self.b.ins.push(Ins::LoopEnd);
            Ok(())
        } else {
            self.within(x, &merges)
        }
    }

    /// `nodeWithin`: `x`'s code inside `block`s its merge children follow
    /// (`ys`, highest RPO number first).
    fn within(&mut self, x: Block, ys: &[Block]) -> Result<(), Error> {
        match ys.split_first() {
            None => {
                self.block_body(x)?;
                self.terminator(x)
            }
            Some((y, rest)) => {
                self.b.w(I::Block(BlockType::Empty));
                self.ctx.push(Ctx::Follow(*y));
                self.within(x, rest)?;
                self.ctx.pop();
                self.b.w(I::End);
                self.tree(*y)
            }
        }
    }

    /// An irreducible function: every block in one loop, chosen by a local.
    fn dispatcher(&mut self, entry: Block) -> Result<(), Error> {
        let mut order: Vec<Block> = (0..self.f.blocks.len())
            .map(Block::new)
            .filter(|b| self.rpo[b.index()] != usize::MAX)
            .collect();
        order.sort_by_key(|b| self.rpo[b.index()]);
        let _ = entry;
        self.b.w(I::I32Const(0));
        self.b.ins.push(Ins::Set(self.label));
        self.b.ins.push(Ins::LoopStart);
        self.b.w(I::Loop(BlockType::Empty));
        self.ctx.push(Ctx::Dispatch);
        for _ in &order {
            self.b.w(I::Block(BlockType::Empty));
            self.ctx.push(Ctx::Other);
        }
        self.b.ins.push(Ins::Get(self.label));
        let table: Vec<u32> = (0..order.len() as u32).collect();
        self.b.w(I::BrTable(table.into(), order.len() as u32 - 1));
        let mut ranges = vec![(0, 0); self.f.blocks.len()];
        for b in &order {
            self.b.w(I::End);
            self.ctx.pop();
            let start = self.b.ins.len();
            self.block_body(*b)?;
            self.terminator(*b)?;
            ranges[b.index()] = (start, self.b.ins.len());
        }
        self.liveness(&order, &ranges);
        self.ctx.pop();
        self.b.w(I::End);
        self.b.ins.push(Ins::LoopEnd);
        Ok(())
    }

    /// Where blocks run in an order the text does not follow (the
    /// dispatcher), each value lives over every block it is live in, and a
    /// block's parameters over their whole block (they are written at the
    /// jump, before it): ranges for the local allocator.
    fn liveness(&mut self, order: &[Block], ranges: &[(usize, usize)]) {
        let f = self.f;
        let n = f.blocks.len();
        let mut def_block = vec![usize::MAX; f.values.len()];
        let mut preds: Vec<Vec<Block>> = vec![vec![]; n];
        for b in order {
            let data = f.block(*b);
            for p in &data.params {
                def_block[p.index()] = b.index();
            }
            for i in &data.insts {
                for r in &i.results {
                    def_block[r.index()] = b.index();
                }
            }
            for c in data.term.targets() {
                preds[c.block.index()].push(*b);
            }
        }
        let mut live_in: rustc_hash::FxHashSet<(usize, usize)> = Default::default();
        let mut live_out: rustc_hash::FxHashSet<(usize, usize)> = Default::default();
        let mut work = vec![];
        for b in order {
            let data = f.block(*b);
            let uses = data
                .insts
                .iter()
                .flat_map(|i| i.args.iter().copied())
                .chain(data.term.uses());
            for v in uses {
                if def_block[v.index()] != b.index() {
                    work.push((b.index(), v.index()));
                }
            }
        }
        while let Some((b, v)) = work.pop() {
            if !live_in.insert((b, v)) {
                continue;
            }
            for p in &preds[b] {
                live_out.insert((p.index(), v));
                if def_block[v] != p.index() {
                    work.push((p.index(), v));
                }
            }
        }
        for (b, v) in live_in.into_iter().chain(live_out) {
            let (s, e) = ranges[b];
            self.b.live.push((v as u32, s, e));
        }
        for b in order {
            let (s, e) = ranges[b.index()];
            for p in &f.block(*b).params {
                self.b.live.push((p.index() as u32, s, e));
            }
        }
    }

    /// Parameter moves of a block call: every argument on the stack, then
    /// into the parameters in reverse (a parallel copy).
    fn moves(&mut self, call: &BlockCall) {
        let params = &self.f.block(call.block).params;
        for a in &call.args {
            self.b.ins.push(Ins::Get(a.index() as u32));
        }
        for p in params.iter().rev() {
            self.b.ins.push(Ins::Set(p.index() as u32));
        }
    }

    /// `doBranch`.
    fn branch(&mut self, from: Block, call: &BlockCall) -> Result<(), Error> {
        self.moves(call);
        let t = call.block;
        if self.dispatch {
            self.b.w(I::I32Const(self.rpo[t.index()] as i32));
            self.b.ins.push(Ins::Set(self.label));
            let d = self.depth(Ctx::Dispatch)?;
            self.b.w(I::Br(d));
        } else if self.rpo[t.index()] <= self.rpo[from.index()] {
            let d = self.depth(Ctx::Loop(t))?;
            self.b.w(I::Br(d));
        } else if self.merge[t.index()] {
            let d = self.depth(Ctx::Follow(t))?;
            self.b.w(I::Br(d));
        } else {
            self.tree(t)?;
        }
        Ok(())
    }

    fn terminator(&mut self, x: Block) -> Result<(), Error> {
        let data = self.f.block(x);
        let pos = data.term_pos;
        match &data.term {
            Terminator::Jump(c) => self.branch(x, c)?,
            Terminator::Branch {
                cond,
                then_to,
                else_to,
            } => {
                self.get(*cond);
                self.b.w(I::If(BlockType::Empty));
                self.ctx.push(Ctx::Other);
                self.branch(x, then_to)?;
                self.b.w(I::Else);
                self.branch(x, else_to)?;
                self.ctx.pop();
                self.b.w(I::End);
            }
            Terminator::Switch {
                value,
                cases,
                default,
            } => self.switch(x, *value, cases, default)?,
            Terminator::Return(vs) => {
                if self.fid.index() == 0 {
                    // The entry returning values: success, no data.
                    self.b.w(I::I32Const(0));
                    self.hook(Hook::StorageFlush, pos);
                    self.b.w(I::I32Const(0));
                } else if vs.len() == 1 {
                    self.get(vs[0]);
                } else {
                    let mut next = self.m.result_globals;
                    let ins: Vec<(Value, u32)> = vs
                        .iter()
                        .map(|v| {
                            let c = usize::from(self.f.ty(*v) == Type::I64);
                            next[c] += 1;
                            (*v, next[c] - 1)
                        })
                        .collect();
                    for (v, g) in ins {
                        self.get(v);
                        self.b.w(I::GlobalSet(g));
                    }
                }
                self.b.w(I::Return);
            }
            Terminator::Exit(kind, args) => self.exit(*kind, args, pos)?,
            Terminator::Trap(code) => self.trap(*code, pos),
        }
        Ok(())
    }

    fn switch(
        &mut self,
        x: Block,
        v: Value,
        cases: &[(alloy_primitives::U256, BlockCall)],
        default: &BlockCall,
    ) -> Result<(), Error> {
        let ty = self.f.ty(v);
        let wide = ty == Type::I64;
        let mask = if bits(ty) >= 64 {
            u64::MAX
        } else {
            (1u64 << bits(ty)) - 1
        };
        let k = cases.len() as u32;
        // One `block` per edge: the default outermost, case 0 innermost.
        self.b.w(I::Block(BlockType::Empty));
        self.ctx.push(Ctx::Other);
        for _ in 0..k {
            self.b.w(I::Block(BlockType::Empty));
            self.ctx.push(Ctx::Other);
        }
        let mut keyed: Vec<(u64, u32)> = cases
            .iter()
            .enumerate()
            .map(|(i, (c, _))| (c.as_limbs()[0] & mask, i as u32))
            .collect();
        keyed.sort();
        let (lo, hi) = (
            keyed.first().map_or(0, |c| c.0),
            keyed.last().map_or(0, |c| c.0),
        );
        let span = hi.wrapping_sub(lo);
        if k > 0 && span < 4 * u64::from(k) + 16 {
            // Dense: a table over value - lo.
            let t = self.b.local(if wide { ValType::I64 } else { ValType::I32 });
            self.get(v);
            if wide {
                self.b.w(I::I64Const(lo as i64));
                self.b.w(I::I64Sub);
                self.b.ins.push(Ins::Tee(t));
                self.b.w(I::I64Const(span as i64));
                self.b.w(I::I64GtU);
            } else {
                self.b.w(I::I32Const(lo as i32));
                self.b.w(I::I32Sub);
                self.b.ins.push(Ins::Tee(t));
                self.b.w(I::I32Const(span as i32));
                self.b.w(I::I32GtU);
            }
            self.b.w(I::BrIf(k));
            let mut table = vec![k; span as usize + 1];
            for (c, i) in &keyed {
                table[(c - lo) as usize] = *i;
            }
            self.b.ins.push(Ins::Get(t));
            if wide {
                self.b.w(I::I32WrapI64);
            }
            self.b.w(I::BrTable(table.into(), k));
        } else {
            self.search(v, wide, &keyed, k, 0);
        }
        for (i, (_, call)) in cases.iter().enumerate() {
            let _ = i;
            self.b.w(I::End);
            self.ctx.pop();
            self.branch(x, call)?;
        }
        self.b.w(I::End);
        self.ctx.pop();
        self.branch(x, default)
    }

    /// A binary search over sorted case keys; `extra` is the number of
    /// `if`s entered so far.
    fn search(&mut self, v: Value, wide: bool, keys: &[(u64, u32)], k: u32, extra: u32) {
        if keys.len() <= 4 {
            for (c, i) in keys {
                self.get(v);
                self.konst(wide, *c);
                self.b.w(if wide { I::I64Eq } else { I::I32Eq });
                self.b.w(I::BrIf(i + extra));
            }
            self.b.w(I::Br(k + extra));
            return;
        }
        let mid = keys.len() / 2;
        self.get(v);
        self.konst(wide, keys[mid].0);
        self.b.w(if wide { I::I64LtU } else { I::I32LtU });
        self.b.w(I::If(BlockType::Empty));
        self.search(v, wide, &keys[..mid], k, extra + 1);
        self.b.w(I::Else);
        self.search(v, wide, &keys[mid..], k, extra + 1);
        self.b.w(I::End);
        self.b.w(I::Unreachable);
    }

    fn konst(&mut self, wide: bool, c: u64) {
        self.b.w(if wide {
            I::I64Const(c as i64)
        } else {
            I::I32Const(c as i32)
        });
    }

    fn get(&mut self, v: Value) {
        self.b.ins.push(Ins::Get(v.index() as u32));
    }

    fn set(&mut self, v: Value) {
        self.b.ins.push(Ins::Set(v.index() as u32));
    }

    fn call(&mut self, c: Callee) {
        self.b.ins.push(Ins::Call(c));
    }

    fn pos_const(&mut self, pos: SourcePos) {
        self.b.w(I::I64Const(pos_bits(pos)));
    }

    fn trap(&mut self, code: TrapCode, pos: SourcePos) {
        self.b.w(I::I64Const(trap_info(code, pos)));
        self.call(Callee::Rt(Rt::Trap));
        self.b.w(I::Unreachable);
    }

    /// Masks the i32 on the stack to `t`'s width (i1, i8).
    fn mask(&mut self, t: Type) {
        if matches!(t, Type::I1 | Type::I8) {
            self.b.w(I::I32Const(((1u64 << bits(t)) - 1) as i32));
            self.b.w(I::I32And);
        }
    }

    /// Sign-extends the masked i32 on the stack from `t`'s width to 32.
    fn sext32(&mut self, t: Type) {
        match t {
            Type::I8 => self.b.w(I::I32Extend8S),
            Type::I1 => {
                let tmp = self.b.local(ValType::I32);
                self.b.ins.push(Ins::Set(tmp));
                self.b.w(I::I32Const(0));
                self.b.ins.push(Ins::Get(tmp));
                self.b.w(I::I32Sub);
            }
            _ => {}
        }
    }

    /// Byte-swaps the i64 (or i32) on the stack.
    fn bswap(&mut self, wide: bool) {
        if wide {
            self.call(Callee::Rt(Rt::Bswap64));
            return;
        }
        let t = self.b.local(ValType::I32);
        self.b.ins.push(Ins::Tee(t));
        self.b.w(I::I32Const(8));
        self.b.w(I::I32ShrU);
        self.b.w(I::I32Const(0x00ff_00ff));
        self.b.w(I::I32And);
        self.b.ins.push(Ins::Get(t));
        self.b.w(I::I32Const(0x00ff_00ff));
        self.b.w(I::I32And);
        self.b.w(I::I32Const(8));
        self.b.w(I::I32Shl);
        self.b.w(I::I32Or);
        self.b.w(I::I32Const(16));
        self.b.w(I::I32Rotl);
    }

    fn block_body(&mut self, x: Block) -> Result<(), Error> {
        let data = self.f.block(x);
        for inst in &data.insts {
            self.inst(&inst.op, &inst.args, &inst.results, inst.pos)?;
        }
        Ok(())
    }

    fn inst(
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

    fn unsupported(&self, what: &str, pos: SourcePos) -> Error {
        Error::Unsupported {
            what: what.to_string(),
            function: self.f.name.clone(),
            pos,
        }
    }

    /// Widens the value just pushed (of `v`'s type) to i64.
    fn widen(&mut self, v: Value) {
        if self.f.ty(v) != Type::I64 {
            self.b.w(I::I64ExtendI32U);
        }
    }

    /// Traps `out_of_bounds` unless `addr + width <= msize`.
    fn check_access(&mut self, addr: Value, width: u32, pos: SourcePos) {
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
    fn heap_addr(&mut self, addr: Value) {
        self.b.w(I::GlobalGet(globals::HEAP));
        self.get(addr);
        if self.f.ty(addr) == Type::I64 {
            self.b.w(I::I32WrapI64);
        }
        self.b.w(I::I32Add);
    }

    fn convert(&mut self, op: &Op, from: Type, to: Type) {
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

    fn binary(&mut self, op: BinOp, args: &[Value], t: Type) -> Result<(), Error> {
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

// Host operations and exits.
impl FnCx<'_, '_> {
    /// Stores the word in limbs `w` (least significant first) at `at`, big-endian.
    fn store_word(&mut self, at: u32, w: &[Value]) {
        for (k, limb) in w.iter().enumerate() {
            self.b.w(I::I32Const((at + 8 * (3 - k as u32)) as i32));
            self.get(*limb);
            self.bswap(true);
            self.b.w(I::I64Store(mem(0, 3)));
        }
    }

    /// Loads the big-endian word at `at` into limbs `r`.
    fn load_word(&mut self, at: u32, r: &[Value]) {
        for (k, limb) in r.iter().enumerate() {
            self.b.w(I::I32Const((at + 8 * (3 - k as u32)) as i32));
            self.b.w(I::I64Load(mem(0, 3)));
            self.bswap(true);
            self.set(*limb);
        }
    }

    /// Zeroes the 32-byte slot at `at`.
    fn zero_slot(&mut self, at: u32) {
        for k in 0..4 {
            self.b.w(I::I32Const((at + 8 * k) as i32));
            self.b.w(I::I64Const(0));
            self.b.w(I::I64Store(mem(0, 3)));
        }
    }

    /// Pushes the word in limbs `w` as a u64, all ones if it is larger.
    fn saturate(&mut self, w: &[Value]) {
        for l in w {
            self.get(*l);
        }
        self.call(Callee::Rt(Rt::Saturate));
    }

    /// Pushes the pointer, then the i32 length, of the EVM memory range in
    /// words `off`, `len`; traps `out_of_bounds` past MSIZE.
    fn range(&mut self, off: &[Value], len: &[Value], pos: SourcePos) {
        self.saturate(off);
        self.saturate(len);
        self.pos_const(pos);
        self.call(Callee::Rt(Rt::Range));
        self.saturate(len);
        self.b.w(I::I32WrapI64);
    }

    /// The same, into two new locals (pointer, length).
    fn range_locals(&mut self, off: &[Value], len: &[Value], pos: SourcePos) -> (u32, u32) {
        let (p, n) = (self.b.local(ValType::I32), self.b.local(ValType::I32));
        self.range(off, len, pos);
        self.b.ins.push(Ins::Set(n));
        self.b.ins.push(Ins::Set(p));
        (p, n)
    }

    fn hook(&mut self, h: Hook, pos: SourcePos) {
        if !h.is_stylus() {
            self.m.non_stylus.push((h.name().to_string(), pos));
        }
        // A hook the host may halt in (a state change in a static call,
        // too large init code) finds its position in the trap slot.
        if matches!(
            h,
            Hook::StorageCache
                | Hook::TransientStore
                | Hook::EmitLog
                | Hook::Create1
                | Hook::Create2
                | Hook::CallContract
                | Hook::CallCode
                | Hook::SelfDestruct
        ) && pos != SourcePos::None
        {
            self.b.w(I::I32Const(layout::TRAP as i32));
            self.b.w(I::I64Const(pos_bits(pos)));
            self.b.w(I::I64Store(mem(0, 3)));
        }
        self.call(Callee::Hook(h));
    }

    fn zero_high(&mut self, r: &[Value]) {
        for limb in &r[1..] {
            self.b.w(I::I64Const(0));
            self.set(*limb);
        }
    }

    fn host(
        &mut self,
        h: HostOp,
        args: &[Value],
        r: &[Value],
        pos: SourcePos,
    ) -> Result<(), Error> {
        if args.iter().chain(r).any(|v| self.f.ty(*v) != Type::I64) {
            return Err(Error::NotLegalized);
        }
        let w = |i: usize| &args[4 * i..4 * i + 4];
        let s0 = layout::slot(0);
        let s1 = layout::slot(1);
        let s2 = layout::slot(2);
        match h {
            HostOp::SLoad | HostOp::TLoad => {
                self.store_word(s0, w(0));
                self.b.w(I::I32Const(s0 as i32));
                self.b.w(I::I32Const(s1 as i32));
                self.hook(
                    if h == HostOp::SLoad {
                        Hook::StorageLoad
                    } else {
                        Hook::TransientLoad
                    },
                    pos,
                );
                self.load_word(s1, r);
            }
            HostOp::SStore | HostOp::TStore => {
                self.store_word(s0, w(0));
                self.store_word(s1, w(1));
                self.b.w(I::I32Const(s0 as i32));
                self.b.w(I::I32Const(s1 as i32));
                self.hook(
                    if h == HostOp::SStore {
                        Hook::StorageCache
                    } else {
                        Hook::TransientStore
                    },
                    pos,
                );
            }
            HostOp::CallDataLoad => {
                self.b.w(I::I32Const(s0 as i32));
                self.b.w(I::I32Const(32));
                self.b.w(I::I32Const(self.cd_base() as i32));
                self.b.w(I::GlobalGet(globals::CD_LEN));
                self.saturate(w(0));
                self.call(Callee::Rt(Rt::CopyPadded));
                self.load_word(s0, r);
            }
            HostOp::CallDataSize => {
                self.b.w(I::GlobalGet(globals::CD_LEN));
                self.b.w(I::I64ExtendI32U);
                self.set(r[0]);
                self.zero_high(r);
            }
            HostOp::CallDataCopy | HostOp::CodeCopy => {
                let (p, n) = self.range_locals(w(0), w(2), pos);
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(n));
                if h == HostOp::CallDataCopy {
                    self.b.w(I::I32Const(self.cd_base() as i32));
                    self.b.w(I::GlobalGet(globals::CD_LEN));
                } else {
                    self.b.w(I::I32Const(self.m.code_base as i32));
                    self.b.w(I::I32Const(self.m.module.code.len() as i32));
                }
                self.saturate(w(1));
                self.call(Callee::Rt(Rt::CopyPadded));
            }
            HostOp::CodeSize => {
                self.b.w(I::I64Const(self.m.module.code.len() as i64));
                self.set(r[0]);
                self.zero_high(r);
            }
            HostOp::ReturnDataSize => {
                self.hook(Hook::ReturnDataSize, pos);
                self.b.w(I::I64ExtendI32U);
                self.set(r[0]);
                self.zero_high(r);
            }
            HostOp::ReturnDataCopy => {
                // offset + len past the return data: a halt.
                let (off, len) = (self.b.local(ValType::I64), self.b.local(ValType::I64));
                self.saturate(w(1));
                self.b.ins.push(Ins::Set(off));
                self.saturate(w(2));
                self.b.ins.push(Ins::Set(len));
                self.b.ins.push(Ins::Get(off));
                self.b.ins.push(Ins::Get(len));
                self.b.w(I::I64Add);
                self.b.ins.push(Ins::Get(off));
                self.b.w(I::I64LtU);
                self.b.ins.push(Ins::Get(off));
                self.b.ins.push(Ins::Get(len));
                self.b.w(I::I64Add);
                self.hook(Hook::ReturnDataSize, pos);
                self.b.w(I::I64ExtendI32U);
                self.b.w(I::I64GtU);
                self.b.w(I::I32Or);
                self.b.w(I::If(BlockType::Empty));
                self.trap(TrapCode::ReturnDataOutOfBounds, pos);
                self.b.w(I::End);
                let (p, n) = self.range_locals(w(0), w(2), pos);
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(off));
                self.b.w(I::I32WrapI64);
                self.b.ins.push(Ins::Get(n));
                self.hook(Hook::ReadReturnData, pos);
                self.b.w(I::Drop);
            }
            HostOp::ExtCodeSize => {
                self.store_word(s0, w(0));
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.hook(Hook::AccountCodeSize, pos);
                self.b.w(I::I64ExtendI32U);
                self.set(r[0]);
                self.zero_high(r);
            }
            HostOp::ExtCodeCopy => {
                let (p, n) = self.range_locals(w(1), w(3), pos);
                self.store_word(s0, w(0));
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(n));
                self.call(Callee::Rt(Rt::Zero));
                self.b.w(I::I32Const(s0 as i32 + 12));
                // An offset past 4 GiB copies nothing, as one at 4 GiB - 1.
                let o = self.b.local(ValType::I64);
                self.saturate(w(2));
                self.b.ins.push(Ins::Tee(o));
                self.b.w(I::I64Const(0xffff_ffff));
                self.b.ins.push(Ins::Get(o));
                self.b.w(I::I64Const(0xffff_ffff));
                self.b.w(I::I64LtU);
                self.b.w(I::Select);
                self.b.w(I::I32WrapI64);
                self.b.ins.push(Ins::Get(n));
                self.b.ins.push(Ins::Get(p));
                self.hook(Hook::AccountCode, pos);
                self.b.w(I::Drop);
            }
            HostOp::ExtCodeHash | HostOp::Balance => {
                self.store_word(s0, w(0));
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.b.w(I::I32Const(s1 as i32));
                self.hook(
                    if h == HostOp::Balance {
                        Hook::AccountBalance
                    } else {
                        Hook::AccountCodeHash
                    },
                    pos,
                );
                self.load_word(s1, r);
            }
            HostOp::BlockHash | HostOp::BlobHash => {
                self.store_word(s0, w(0));
                self.b.w(I::I32Const(s0 as i32));
                self.b.w(I::I32Const(s1 as i32));
                self.hook(
                    if h == HostOp::BlockHash {
                        Hook::BlockHash
                    } else {
                        Hook::BlobHash
                    },
                    pos,
                );
                self.load_word(s1, r);
            }
            HostOp::Caller | HostOp::Origin | HostOp::Address | HostOp::Coinbase => {
                self.zero_slot(s0);
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.hook(
                    match h {
                        HostOp::Caller => Hook::MsgSender,
                        HostOp::Origin => Hook::TxOrigin,
                        HostOp::Address => Hook::ContractAddress,
                        _ => Hook::BlockCoinbase,
                    },
                    pos,
                );
                self.load_word(s0, r);
            }
            HostOp::CallValue
            | HostOp::BaseFee
            | HostOp::GasPrice
            | HostOp::PrevRandao
            | HostOp::BlobBaseFee => {
                self.b.w(I::I32Const(s0 as i32));
                self.hook(
                    match h {
                        HostOp::CallValue => Hook::MsgValue,
                        HostOp::BaseFee => Hook::BlockBasefee,
                        HostOp::GasPrice => Hook::TxGasPrice,
                        HostOp::PrevRandao => Hook::PrevRandao,
                        _ => Hook::BlobBaseFee,
                    },
                    pos,
                );
                self.load_word(s0, r);
            }
            HostOp::SelfBalance => {
                self.zero_slot(s0);
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.hook(Hook::ContractAddress, pos);
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.b.w(I::I32Const(s1 as i32));
                self.hook(Hook::AccountBalance, pos);
                self.load_word(s1, r);
            }
            HostOp::Number
            | HostOp::Timestamp
            | HostOp::ChainId
            | HostOp::GasLimit
            | HostOp::Gas => {
                self.hook(
                    match h {
                        HostOp::Number => Hook::BlockNumber,
                        HostOp::Timestamp => Hook::BlockTimestamp,
                        HostOp::ChainId => Hook::ChainId,
                        HostOp::GasLimit => Hook::BlockGasLimit,
                        _ => Hook::EvmGasLeft,
                    },
                    pos,
                );
                self.set(r[0]);
                self.zero_high(r);
            }
            HostOp::Log(n) => {
                let n = u32::from(n);
                let (p, len) = self.range_locals(w(0), w(1), pos);
                let t = self.b.local(ValType::I32);
                self.b.ins.push(Ins::Get(len));
                self.b.w(I::I64ExtendI32U);
                self.b.w(I::I64Const(i64::from(32 * n)));
                self.b.w(I::I64Add);
                self.call(Callee::Rt(Rt::Tmp));
                self.b.ins.push(Ins::Set(t));
                for i in 0..n as usize {
                    for (k, limb) in w(2 + i).iter().enumerate() {
                        self.b.ins.push(Ins::Get(t));
                        self.get(*limb);
                        self.bswap(true);
                        self.b
                            .w(I::I64Store(mem(32 * i as u64 + 8 * (3 - k as u64), 0)));
                    }
                }
                self.b.ins.push(Ins::Get(t));
                self.b.w(I::I32Const(32 * n as i32));
                self.b.w(I::I32Add);
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(len));
                self.call(Callee::Rt(Rt::Move));
                self.b.ins.push(Ins::Get(t));
                self.b.ins.push(Ins::Get(len));
                self.b.w(I::I32Const(32 * n as i32));
                self.b.w(I::I32Add);
                self.b.w(I::I32Const(n as i32));
                self.hook(Hook::EmitLog, pos);
            }
            HostOp::Keccak256 => {
                self.range(w(0), w(1), pos);
                self.b.w(I::I32Const(s0 as i32));
                self.hook(Hook::Keccak, pos);
                self.load_word(s0, r);
            }
            HostOp::Call(kind) => {
                let with_value = matches!(kind, CallKind::Call | CallKind::CallCode);
                let rest = if with_value { 3 } else { 2 };
                let (ip, il) = self.range_locals(w(rest), w(rest + 1), pos);
                let (op, ol) = self.range_locals(w(rest + 2), w(rest + 3), pos);
                let gas = self.b.local(ValType::I64);
                self.saturate(w(0));
                self.b.ins.push(Ins::Set(gas));
                self.store_word(s0, w(1));
                if with_value {
                    self.store_word(s1, w(2));
                }
                // Flush, and clear the cache unless the callee cannot
                // write: it may change this contract's storage.
                self.b
                    .w(I::I32Const(i32::from(kind != CallKind::StaticCall)));
                self.hook(Hook::StorageFlush, pos);
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.b.ins.push(Ins::Get(ip));
                self.b.ins.push(Ins::Get(il));
                if with_value {
                    self.b.w(I::I32Const(s1 as i32));
                }
                self.b.ins.push(Ins::Get(gas));
                self.b.w(I::I32Const(layout::RET_LEN as i32));
                self.hook(
                    match kind {
                        CallKind::Call => Hook::CallContract,
                        CallKind::CallCode => Hook::CallCode,
                        CallKind::DelegateCall => Hook::DelegateCall,
                        CallKind::StaticCall => Hook::StaticCall,
                    },
                    pos,
                );
                // Status 0 is success.
                self.b.w(I::I32Eqz);
                self.b.w(I::I64ExtendI32U);
                self.set(r[0]);
                self.zero_high(r);
                self.b.ins.push(Ins::Get(op));
                self.b.w(I::I32Const(0));
                self.b.ins.push(Ins::Get(ol));
                self.hook(Hook::ReadReturnData, pos);
                self.b.w(I::Drop);
            }
            HostOp::Create | HostOp::Create2 => {
                let (p, n) = self.range_locals(w(1), w(2), pos);
                self.store_word(s1, w(0));
                if h == HostOp::Create2 {
                    self.store_word(s2, w(3));
                }
                self.zero_slot(s0);
                // The init code may call back and write this contract's storage.
                self.b.w(I::I32Const(1));
                self.hook(Hook::StorageFlush, pos);
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(n));
                self.b.w(I::I32Const(s1 as i32));
                if h == HostOp::Create2 {
                    self.b.w(I::I32Const(s2 as i32));
                }
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.b.w(I::I32Const(layout::RET_LEN as i32));
                self.hook(
                    if h == HostOp::Create {
                        Hook::Create1
                    } else {
                        Hook::Create2
                    },
                    pos,
                );
                self.load_word(s0, r);
            }
        }
        Ok(())
    }

    /// A legalizer helper through the `math_*` hooks, where one maps:
    /// operands into word slots, the result back from the first.
    fn math_hook(
        &mut self,
        h: chainlift_ir::legalize::Helper,
        args: &[Value],
        r: &[Value],
        pos: SourcePos,
    ) -> bool {
        use chainlift_ir::legalize::Helper as H;
        let w = |i: usize| &args[4 * i..4 * i + 4];
        let slot = |i: u32| layout::slot(i) as i32;
        match h {
            H::DivRem => {
                // Quotient in slot 0, remainder in slot 2; divisor in 1.
                self.store_word(layout::slot(0), w(0));
                self.store_word(layout::slot(2), w(0));
                self.store_word(layout::slot(1), w(1));
                self.b.w(I::I32Const(slot(0)));
                self.b.w(I::I32Const(slot(1)));
                self.hook(Hook::MathDiv, pos);
                self.b.w(I::I32Const(slot(2)));
                self.b.w(I::I32Const(slot(1)));
                self.hook(Hook::MathMod, pos);
                self.load_word(layout::slot(0), &r[0..4]);
                self.load_word(layout::slot(2), &r[4..8]);
            }
            H::Exp | H::AddMod | H::MulMod => {
                let n = if h == H::Exp { 2 } else { 3 };
                for i in 0..n {
                    self.store_word(layout::slot(i as u32), w(i));
                }
                for i in 0..n {
                    self.b.w(I::I32Const(slot(i as u32)));
                }
                let hook = match h {
                    H::Exp => Hook::MathPow,
                    H::AddMod => Hook::MathAddMod,
                    _ => Hook::MathMulMod,
                };
                self.hook(hook, pos);
                self.load_word(layout::slot(0), &r[0..4]);
            }
            _ => return false,
        }
        true
    }

    fn cd_base(&self) -> u32 {
        crate::calldata_base(self.m.module, self.m.code_base)
    }

    fn exit(&mut self, kind: ExitKind, args: &[Value], pos: SourcePos) -> Result<(), Error> {
        if args.iter().any(|v| self.f.ty(*v) != Type::I64) {
            return Err(Error::NotLegalized);
        }
        let status = match kind {
            ExitKind::Stop => {
                self.b.w(I::I32Const(0));
                self.hook(Hook::StorageFlush, pos);
                0
            }
            ExitKind::Return | ExitKind::Revert => {
                let (p, n) = self.range_locals(&args[0..4], &args[4..8], pos);
                self.b.w(I::I32Const(0));
                self.hook(Hook::StorageFlush, pos);
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(n));
                self.hook(Hook::WriteResult, pos);
                i32::from(kind == ExitKind::Revert)
            }
            ExitKind::SelfDestruct => {
                self.store_word(layout::slot(0), &args[0..4]);
                self.b.w(I::I32Const(0));
                self.hook(Hook::StorageFlush, pos);
                self.b.w(I::I32Const(layout::slot(0) as i32 + 12));
                self.hook(Hook::SelfDestruct, pos);
                0
            }
        };
        self.b.w(I::I32Const(status));
        if self.fid.index() == 0 {
            self.b.w(I::Return);
        } else {
            self.hook(Hook::ExitEarly, pos);
            self.b.w(I::Unreachable);
        }
        Ok(())
    }
}
