//! Removes block parameters that always receive the same value (or
//! themselves, around a loop): the parameter is replaced by that value.
//! With all-slots-as-parameters lifting, this is what turns the stack into
//! minimal SSA.

use super::substitute;
use crate::entities::Value;
use crate::function::Function;
use rustc_hash::FxHashMap as HashMap;

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let entry = f.entry();
    let mut changed_any = false;
    loop {
        // incoming[block][param index] = distinct values passed (excluding the param itself).
        let mut incoming: HashMap<usize, Vec<Vec<Value>>> = HashMap::default();
        for b in &f.layout {
            for c in f.block(*b).term.targets() {
                let params = &f.block(c.block).params;
                let slot = incoming
                    .entry(c.block.index())
                    .or_insert_with(|| vec![vec![]; params.len()]);
                for (i, a) in c.args.iter().enumerate() {
                    if i < params.len() && *a != params[i] && !slot[i].contains(a) {
                        slot[i].push(*a);
                    }
                }
            }
        }
        let mut subst = HashMap::default();
        let mut remove: HashMap<usize, Vec<usize>> = HashMap::default();
        for b in &f.layout {
            if Some(*b) == entry {
                continue;
            }
            let Some(slots) = incoming.get(&b.index()) else {
                continue;
            };
            for (i, vals) in slots.iter().enumerate() {
                if vals.len() == 1 {
                    subst.insert(f.block(*b).params[i], vals[0]);
                    remove.entry(b.index()).or_default().push(i);
                }
            }
        }
        if subst.is_empty() {
            return changed_any;
        }
        changed_any = true;
        substitute(f, &subst);
        drop_params(f, &remove);
    }
}

/// Removes parameters `remove[block]` (indices) and the matching arguments.
pub(crate) fn drop_params(f: &mut Function, remove: &HashMap<usize, Vec<usize>>) {
    // Index masks, so removal is linear in the number of arguments.
    let masks: HashMap<usize, Vec<bool>> = remove
        .iter()
        .map(|(b, idx)| {
            let n = f.blocks[*b].params.len();
            let mut mask = vec![false; n];
            for i in idx {
                if *i < n {
                    mask[*i] = true;
                }
            }
            (*b, mask)
        })
        .collect();
    let keep = |mask: &[bool], i: usize| !mask.get(i).copied().unwrap_or(false);
    let layout = f.layout.clone();
    for b in &layout {
        let data = f.block_mut(*b);
        for c in data.term.targets_mut() {
            if let Some(mask) = masks.get(&c.block.index()) {
                let args = std::mem::take(&mut c.args);
                c.args = args
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| keep(mask, *i))
                    .map(|(_, a)| a)
                    .collect();
            }
        }
    }
    for (b, mask) in &masks {
        let params = std::mem::take(&mut f.blocks[*b].params);
        f.blocks[*b].params = params
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep(mask, *i))
            .map(|(_, p)| p)
            .collect();
    }
}
