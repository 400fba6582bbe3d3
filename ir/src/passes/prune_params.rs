//! Removes block parameters that always receive the same value (or
//! themselves, around a loop): the parameter is replaced by that value.
//! With all-slots-as-parameters lifting, this is what turns the stack into
//! minimal SSA.

use super::substitute;
use crate::entities::Value;
use crate::function::Function;
use rustc_hash::FxHashMap as HashMap;

/// What a parameter receives, over every call into its block.
#[derive(Clone, Copy, PartialEq)]
enum Incoming {
    /// Nothing yet (or only itself).
    Nothing,
    /// One value.
    One(Value),
    /// Two or more different values.
    Many,
}

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let entry = f.entry();
    let mut changed_any = false;
    // incoming[base[block] + param index], excluding the param itself.
    let mut base = vec![u32::MAX; f.blocks.len()];
    let mut incoming: Vec<Incoming> = Vec::new();
    loop {
        incoming.clear();
        base.iter_mut().for_each(|b| *b = u32::MAX);
        for b in &f.layout {
            for c in f.block(*b).term.targets() {
                let params = &f.block(c.block).params;
                if base[c.block.index()] == u32::MAX {
                    base[c.block.index()] = incoming.len() as u32;
                    incoming.resize(incoming.len() + params.len(), Incoming::Nothing);
                }
                let at = base[c.block.index()] as usize;
                for (i, (a, p)) in c.args.iter().zip(params).enumerate() {
                    let slot = &mut incoming[at + i];
                    *slot = match *slot {
                        _ if a == p => *slot,
                        Incoming::Nothing => Incoming::One(*a),
                        Incoming::One(v) if v == *a => *slot,
                        _ => Incoming::Many,
                    };
                }
            }
        }
        let mut subst = HashMap::default();
        let mut remove: HashMap<usize, Vec<usize>> = HashMap::default();
        for b in &f.layout {
            if Some(*b) == entry || base[b.index()] == u32::MAX {
                continue;
            }
            let at = base[b.index()] as usize;
            for (i, p) in f.block(*b).params.iter().enumerate() {
                if let Incoming::One(v) = incoming[at + i] {
                    subst.insert(*p, v);
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
