//! Dead-code elimination: pure instructions whose results are unused, and
//! block parameters that nothing reads (except to pass them on to other dead
//! parameters), are removed.

use super::prune_params::drop_params;
use crate::entities::Value;
use crate::function::Function;
use rustc_hash::FxHashMap as HashMap;

/// Where a value comes from, for the liveness walk.
#[derive(Clone, Copy)]
enum Def {
    None,
    /// Result of instruction `.1` of block `.0` (arena indices).
    Inst(u32, u32),
    /// Parameter of a block: its incoming arguments are
    /// `feeds[.0 .. .0 + .1]`.
    Param(u32, u32),
}

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let mut changed = false;
    // Live values: used by an impure instruction, a terminator operand, or a
    // live value's definition; parameters are live when read by something
    // live or passed to a live parameter.
    let n = f.values.len();
    let mut def = vec![Def::None; n];
    for b in &f.layout {
        for (i, inst) in f.block(*b).insts.iter().enumerate() {
            for r in &inst.results {
                def[r.index()] = Def::Inst(b.index() as u32, i as u32);
            }
        }
    }
    // Block-call edges, grouped by parameter (param <- args), as one flat
    // table: count, then fill.
    let mut count = vec![0u32; n];
    for b in &f.layout {
        for c in f.block(*b).term.targets() {
            for p in f.block(c.block).params.iter().take(c.args.len()) {
                count[p.index()] += 1;
            }
        }
    }
    let mut start = 0u32;
    for (v, c) in count.iter_mut().enumerate() {
        if *c > 0 {
            def[v] = Def::Param(start, 0);
            start += *c;
        }
        *c = 0;
    }
    let mut feeds = vec![Value::new(0); start as usize];
    for b in &f.layout {
        for c in f.block(*b).term.targets() {
            for (p, a) in f.block(c.block).params.iter().zip(&c.args) {
                if let Def::Param(s, k) = &mut def[p.index()] {
                    feeds[(*s + *k) as usize] = *a;
                    *k += 1;
                }
            }
        }
    }
    let mut live = vec![false; n];
    let mut work: Vec<Value> = vec![];
    for b in &f.layout {
        let data = f.block(*b);
        for inst in &data.insts {
            if !inst.op.is_pure() {
                work.extend(&inst.args);
            }
        }
        work.extend(data.term.operands());
    }
    while let Some(v) = work.pop() {
        let Some(l) = live.get_mut(v.index()) else {
            continue;
        };
        if *l {
            continue;
        }
        *l = true;
        match def[v.index()] {
            Def::Inst(b, i) => work.extend(&f.blocks[b as usize].insts[i as usize].args),
            Def::Param(s, k) => work.extend(&feeds[s as usize..(s + k) as usize]),
            Def::None => {}
        }
    }
    let is_live = |v: &Value| live.get(v.index()).copied().unwrap_or(true);
    // Remove dead pure instructions.
    for li in 0..f.layout.len() {
        let data = f.block_mut(f.layout[li]);
        let before = data.insts.len();
        data.insts
            .retain(|inst| !inst.op.is_pure() || inst.results.iter().any(is_live));
        changed |= data.insts.len() != before;
    }
    // Remove dead parameters (never of the entry block).
    let entry = f.entry();
    let mut remove: HashMap<usize, Vec<usize>> = HashMap::default();
    for b in &f.layout {
        if Some(*b) == entry {
            continue;
        }
        for (i, p) in f.block(*b).params.iter().enumerate() {
            if !is_live(p) {
                remove.entry(b.index()).or_default().push(i);
            }
        }
    }
    if !remove.is_empty() {
        drop_params(f, &remove);
        changed = true;
    }
    changed
}
