//! Function bodies before local allocation: WASM instructions over virtual
//! locals, with symbolic callees, and the allocator that maps virtual locals
//! to few real ones.

use crate::abi::Hook;
use crate::rt::Rt;
use chainlift_ir::entities::FuncId;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use wasm_encoder::{Instruction, MemArg, ValType};

/// A memory operand of the one memory: a static offset and the alignment
/// (log2 of bytes) promised.
pub const fn mem(offset: u64, align: u32) -> MemArg {
    MemArg {
        offset,
        align,
        memory_index: 0,
    }
}

/// Whom a `call` reaches, resolved to a function index when the module is
/// assembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Callee {
    /// A host import.
    Hook(Hook),
    /// A function of the IR module.
    Func(FuncId),
    /// A runtime helper of the module.
    Rt(Rt),
}

/// One instruction of a body under construction.
#[derive(Debug, Clone)]
pub enum Ins {
    /// A WASM instruction that names no local and no function.
    W(Instruction<'static>),
    /// `local.get` of a virtual local.
    Get(u32),
    /// `local.set` of a virtual local.
    Set(u32),
    /// `local.tee` of a virtual local.
    Tee(u32),
    /// `call`.
    Call(Callee),
    /// Where a `loop` starts and ends, for the allocator (emit nothing).
    LoopStart,
    /// See [`Ins::LoopStart`].
    LoopEnd,
}

/// A body: instructions over virtual locals, the first `params` of which
/// are the function's parameters (fixed), each with its type.
#[derive(Debug, Default, Clone)]
pub struct Body {
    pub ins: Vec<Ins>,
    pub types: Vec<ValType>,
    pub params: u32,
    /// Ranges of instructions each listed virtual local must also live
    /// over (where code's textual order is not its dominance order: the
    /// blocks it is live in, from liveness).
    pub live: Vec<(u32, usize, usize)>,
}

impl Body {
    pub fn local(&mut self, ty: ValType) -> u32 {
        self.types.push(ty);
        self.types.len() as u32 - 1
    }

    pub fn w(&mut self, i: Instruction<'static>) {
        self.ins.push(Ins::W(i));
    }

    /// Keeps on the operand stack what needs no local: a value set and
    /// read back at once by its only reader (`local.set v; local.get v`)
    /// loses both; one read again later becomes `local.tee v`. Only values
    /// set once qualify (block parameters are set on every edge).
    pub fn peephole(&mut self) {
        let n = self.types.len();
        let (mut sets, mut gets) = (vec![0u32; n], vec![0u32; n]);
        for ins in &self.ins {
            match ins {
                Ins::Set(v) => sets[*v as usize] += 1,
                Ins::Tee(v) => {
                    sets[*v as usize] += 1;
                    gets[*v as usize] += 1;
                }
                Ins::Get(v) => gets[*v as usize] += 1,
                _ => {}
            }
        }
        let mut out = Vec::with_capacity(self.ins.len());
        let mut i = 0;
        while i < self.ins.len() {
            if let (Ins::Set(a), Some(Ins::Get(b))) = (&self.ins[i], self.ins.get(i + 1))
                && a == b
                && *a >= self.params
                && sets[*a as usize] == 1
            {
                if gets[*a as usize] > 1 {
                    out.push(Ins::Tee(*a));
                }
                i += 2;
                continue;
            }
            out.push(self.ins[i].clone());
            i += 1;
        }
        self.ins = out;
    }

    /// Real locals for the virtual ones: returns the map and the declared
    /// locals (after the parameters) as (count, type) groups.
    ///
    /// A virtual local lives from its first to its last mention; one that
    /// is mentioned before a loop and inside it lives to the loop's end
    /// (it must survive every iteration). Code is emitted so that every
    /// definition comes before its uses in the text and every path from a
    /// definition to a use moves forward in the text or around a loop it
    /// started outside of, so two virtual locals whose lives do not overlap
    /// can share a real local.
    pub fn allocate(&self) -> (Vec<u32>, Vec<(u32, ValType)>) {
        let n = self.types.len();
        let mut first = vec![usize::MAX; n];
        let mut last = vec![0usize; n];
        let mut loops = vec![];
        let mut open = vec![];
        for (i, ins) in self.ins.iter().enumerate() {
            match ins {
                Ins::Get(v) | Ins::Set(v) | Ins::Tee(v) => {
                    let v = *v as usize;
                    first[v] = first[v].min(i);
                    last[v] = i;
                }
                Ins::LoopStart => open.push(i),
                Ins::LoopEnd => {
                    if let Some(s) = open.pop() {
                        loops.push((s, i));
                    }
                }
                _ => {}
            }
        }
        // Inner loops end first: one pass in order of their ends.
        loops.sort_by_key(|l| l.1);
        for &(v, start, end) in &self.live {
            let v = v as usize;
            first[v] = first[v].min(start);
            last[v] = last[v].max(end);
        }
        for v in 0..n {
            if first[v] == usize::MAX {
                continue;
            }
            for &(s, e) in &loops {
                if first[v] < s && last[v] >= s {
                    last[v] = last[v].max(e);
                }
            }
        }
        let mut map = vec![u32::MAX; n];
        let params = self.params as usize;
        for (v, m) in map.iter_mut().enumerate().take(params) {
            *m = v as u32;
        }
        // Linear scan per type over lives sorted by start.
        let mut order: Vec<usize> = (params..n).filter(|v| first[*v] != usize::MAX).collect();
        order.sort_by_key(|v| first[*v]);
        let classes = [ValType::I32, ValType::I64];
        // Per type: how many real locals, the free ones, and the busy ones
        // by the end of their current life.
        let mut count = [0usize; 2];
        let mut free: [Vec<usize>; 2] = [vec![], vec![]];
        let mut busy: [BinaryHeap<Reverse<(usize, usize)>>; 2] = Default::default();
        let mut assigned = vec![(0usize, 0usize); n];
        for v in order {
            let c = usize::from(self.types[v] == ValType::I64);
            while let Some(Reverse((end, k))) = busy[c].peek().copied() {
                if end >= first[v] {
                    break;
                }
                busy[c].pop();
                free[c].push(k);
            }
            let k = free[c].pop().unwrap_or_else(|| {
                count[c] += 1;
                count[c] - 1
            });
            busy[c].push(Reverse((last[v], k)));
            assigned[v] = (c, k);
        }
        let base = [params as u32, params as u32 + count[0] as u32];
        for v in params..n {
            if first[v] != usize::MAX {
                let (c, k) = assigned[v];
                map[v] = base[c] + k as u32;
            }
        }
        let mut groups = vec![];
        for (c, ty) in classes.iter().enumerate() {
            if count[c] > 0 {
                groups.push((count[c] as u32, *ty));
            }
        }
        (map, groups)
    }
}
