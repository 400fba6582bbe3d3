//! Dead-code elimination: pure instructions whose results are unused, and
//! block parameters that nothing reads (except to pass them on to other dead
//! parameters), are removed.

use super::prune_params::drop_params;
use crate::entities::Value;
use crate::function::Function;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let mut changed = false;
    // Live values: used by an impure instruction, a terminator operand, or a
    // live value's definition; parameters are live when read by something
    // live or passed to a live parameter.
    let mut param_of: HashMap<Value, (usize, usize)> = HashMap::default();
    for b in &f.layout {
        for (i, p) in f.block(*b).params.iter().enumerate() {
            param_of.insert(*p, (b.index(), i));
        }
    }
    let mut def: HashMap<Value, (usize, usize)> = HashMap::default();
    for b in &f.layout {
        for (i, inst) in f.block(*b).insts.iter().enumerate() {
            for r in &inst.results {
                def.insert(*r, (b.index(), i));
            }
        }
    }
    let mut live: HashSet<Value> = HashSet::default();
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
    // Block-call edges: (param) <- (arg)
    let mut feeds: HashMap<Value, Vec<Value>> = HashMap::default();
    for b in &f.layout {
        for c in f.block(*b).term.targets() {
            let params = &f.block(c.block).params;
            for (p, a) in params.iter().zip(&c.args) {
                feeds.entry(*p).or_default().push(*a);
            }
        }
    }
    while let Some(v) = work.pop() {
        if !live.insert(v) {
            continue;
        }
        if let Some((b, i)) = def.get(&v) {
            work.extend(&f.blocks[*b].insts[*i].args);
        }
        if let Some(args) = feeds.get(&v) {
            work.extend(args);
        }
    }
    // Remove dead pure instructions.
    let layout = f.layout.clone();
    for b in &layout {
        let data = f.block_mut(*b);
        let before = data.insts.len();
        data.insts
            .retain(|inst| !inst.op.is_pure() || inst.results.iter().any(|r| live.contains(r)));
        changed |= data.insts.len() != before;
    }
    // Remove dead parameters (never of the entry block).
    let entry = f.entry();
    let mut remove: HashMap<usize, Vec<usize>> = HashMap::default();
    for b in &layout {
        if Some(*b) == entry {
            continue;
        }
        for (i, p) in f.block(*b).params.iter().enumerate() {
            if !live.contains(p) {
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
