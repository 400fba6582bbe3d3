//! Values the lifter makes lazily: entry-slot placeholders that become
//! block parameters only where read, and pushed constants that become
//! `iconst`s only in the blocks that read them.

use super::*;

/// The constant of each value that has one, by value index: made by
/// `iconst`, or pushed and not yet emitted (lazy, with its pc). The lifter
/// emits a lazy constant's `iconst` in a block only where something there
/// reads it ([`Lifter::materialize`]), so the many constants that only feed
/// folding (jump targets, return addresses) cost nothing.
#[derive(Default)]
pub(super) struct Consts {
    /// Index into `pool`, or `u32::MAX`.
    of: Vec<u32>,
    /// (constant, pc if lazy).
    pool: Vec<(U256, Option<u32>)>,
}

impl Consts {
    pub(super) fn with_capacity(values: usize) -> Consts {
        Consts {
            of: Vec::with_capacity(values),
            pool: Vec::with_capacity(values / 4),
        }
    }

    pub(super) fn insert(&mut self, v: Value, c: U256, lazy_pc: Option<u32>) {
        if self.of.len() <= v.index() {
            self.of.resize(v.index() + 1, u32::MAX);
        }
        self.of[v.index()] = self.pool.len() as u32;
        self.pool.push((c, lazy_pc));
    }

    pub(super) fn entry(&self, v: Value) -> Option<&(U256, Option<u32>)> {
        let i = *self.of.get(v.index())?;
        self.pool.get(i as usize)
    }

    pub(super) fn get(&self, v: Value) -> Option<U256> {
        self.entry(v).map(|(c, _)| *c)
    }

    /// The constant and pc of a lazy constant.
    pub(super) fn lazy(&self, v: Value) -> Option<(U256, u32)> {
        self.entry(v).and_then(|(c, pc)| Some((*c, (*pc)?)))
    }
}

impl Lifter<'_> {
    /// Gives block `b` one placeholder per entry stack slot, plus `fixed`
    /// trailing parameters. Placeholders become parameters at the end only
    /// where the block (or a block it passes them to) reads them.
    pub(super) fn new_slots(&mut self, b: Block, h: usize, fixed: Vec<Value>) -> Vec<Value> {
        let slots: Vec<Value> = (0..h).map(|_| self.f.new_value(Type::I256)).collect();
        self.placeholder.resize(self.f.values.len(), None);
        for (i, v) in slots.iter().enumerate() {
            self.placeholder[v.index()] = Some((b, i as u32));
        }
        if self.slots.len() <= b.index() {
            self.slots.resize(b.index() + 1, None);
        }
        self.slots[b.index()] = Some((slots.clone(), fixed));
        slots
    }

    /// A constant word, emitted only where it is read.
    pub(super) fn konst(&mut self, c: U256, pc: u32) -> Value {
        let v = self.f.new_value(Type::I256);
        self.consts.insert(v, c, Some(pc));
        // Counted as emitted, so the lift's budget does not depend on it.
        self.emitted += 1;
        v
    }

    /// `v`, or, for a lazy constant, its `iconst` in `block` (emitted at
    /// the first read there).
    pub(super) fn materialize(&mut self, block: Block, v: Value) -> Value {
        let Some((c, pc)) = self.consts.lazy(v) else {
            return v;
        };
        if let Some(e) = self.emitted_consts.get(&(block, v)) {
            return *e;
        }
        self.emitted -= 1;
        let e = self
            .emit(block, Op::Iconst(c), vec![], Some(Type::I256), pc)
            .expect("result");
        self.emitted_consts.insert((block, v), e);
        e
    }

    /// Turns the entry-slot placeholders that are read into block
    /// parameters, and trims every block call to the parameters kept: a slot
    /// is kept where the block reads it, or passes it to a block that keeps
    /// it (a fixpoint over the edges). This is on-demand SSA construction for
    /// stack slots; slots only passed through never become parameters.
    pub(super) fn materialize_slots(&mut self) {
        let f = &self.f;
        let n_blocks = f.blocks.len();
        // Which entry slots each block keeps, by block index.
        let mut needed: Vec<Vec<bool>> = (0..n_blocks)
            .map(|b| match self.slots.get(b) {
                Some(Some((s, _))) => vec![false; s.len()],
                _ => vec![],
            })
            .collect();
        // Slots newly kept, to pass on to the blocks that call theirs.
        let mut work: Vec<(Block, u32)> = vec![];
        let placeholder = &self.placeholder;
        let mark = |v: Value, needed: &mut Vec<Vec<bool>>, work: &mut Vec<(Block, u32)>| {
            if let Some(Some((b, i))) = placeholder.get(v.index())
                && let Some(kept) = needed[b.index()].get_mut(*i as usize)
                && !*kept
            {
                *kept = true;
                work.push((*b, *i));
            }
        };
        // Calls into each block: (calling block, index among its targets).
        let mut calls_into: Vec<Vec<(Block, u32)>> = vec![Vec::new(); n_blocks];
        for b in &f.layout {
            let data = f.block(*b);
            for inst in &data.insts {
                for a in &inst.args {
                    mark(*a, &mut needed, &mut work);
                }
            }
            for v in data.term.operands() {
                mark(v, &mut needed, &mut work);
            }
            for (k, c) in data.term.targets().enumerate() {
                calls_into[c.block.index()].push((*b, k as u32));
                // Fixed trailing arguments are always passed.
                let h = needed[c.block.index()].len();
                for a in c.args.iter().skip(h) {
                    mark(*a, &mut needed, &mut work);
                }
            }
        }
        while let Some((t, j)) = work.pop() {
            for &(caller, k) in &calls_into[t.index()] {
                let call = f.block(caller).term.targets().nth(k as usize);
                if let Some(a) = call.and_then(|c| c.args.get(j as usize)) {
                    mark(*a, &mut needed, &mut work);
                }
            }
        }
        // Rebuild parameters and arguments.
        for (b, slots) in self.slots.iter().enumerate() {
            let Some((slots, fixed)) = slots else {
                continue;
            };
            let keep = &needed[b];
            let mut params: Vec<Value> = slots
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(v, _)| *v)
                .collect();
            params.extend(fixed);
            self.f.blocks[b].params = params;
        }
        for i in 0..self.f.layout.len() {
            let b = self.f.layout[i];
            let mut term = std::mem::replace(
                &mut self.f.block_mut(b).term,
                Terminator::Trap(TrapCode::Unreachable),
            );
            for c in term.targets_mut() {
                let keep = &needed[c.block.index()];
                if !keep.is_empty() {
                    let h = keep.len();
                    let mut j = 0;
                    c.args.retain(|_| {
                        let kept = j >= h || keep[j];
                        j += 1;
                        kept
                    });
                }
                for a in &mut c.args {
                    *a = self.materialize(b, *a);
                }
            }
            self.f.block_mut(b).term = term;
        }
    }
}
