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
//!
//! Operations are lowered in [`inst`], host operations and exits in
//! [`host`].

use crate::Error;
use crate::abi::{Hook, pos_bits, trap_info};
use crate::code::{Body, Callee, Ins};
use crate::rt::Rt;
use chainlift_ir::entities::{Block, FuncId, Value};
use chainlift_ir::function::{BlockCall, Function, Module, Terminator};
use chainlift_ir::inst::{Op, SourcePos, TrapCode};
use chainlift_ir::types::Type;
use wasm_encoder::{BlockType, Instruction as I, ValType};

mod host;
mod inst;

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
        cx.dispatcher()?;
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
    fn dispatcher(&mut self) -> Result<(), Error> {
        let mut order: Vec<Block> = (0..self.f.blocks.len())
            .map(Block::new)
            .filter(|b| self.rpo[b.index()] != usize::MAX)
            .collect();
        order.sort_by_key(|b| self.rpo[b.index()]);
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
        for (_, call) in cases {
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
}
