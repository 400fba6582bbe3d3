//! Removes block parameters that always receive the same value (or
//! themselves, around a loop): the parameter is replaced by that value.
//! With all-slots-as-parameters lifting, this is what turns the stack into
//! minimal SSA.

use super::substitute;
use crate::entities::Value;
use crate::function::Function;
use rustc_hash::FxHashMap as HashMap;

/// Runs the pass; returns whether anything changed.
///
/// Replacing a parameter can make others trivial (a chain of blocks
/// passing one value on), so the parameters are swept until none changes,
/// reading each argument through the replacements found so far; the
/// function is rewritten once at the end.
pub fn run(f: &mut Function) -> bool {
    let entry = f.entry();
    let n = f.values.len();
    // The incoming arguments of each parameter of a block with callers,
    // as one flat table (`start[p]..start[p + 1]`), and where each such
    // parameter is (block, index).
    let mut count = vec![0u32; n + 1];
    for b in &f.layout {
        for c in f.block(*b).term.targets() {
            for p in f.block(c.block).params.iter().take(c.args.len()) {
                count[p.index()] += 1;
            }
        }
    }
    let mut params: Vec<(Value, usize, usize)> = vec![];
    for b in &f.layout {
        if Some(*b) == entry {
            continue;
        }
        for (i, p) in f.block(*b).params.iter().enumerate() {
            if count[p.index()] > 0 {
                params.push((*p, b.index(), i));
            }
        }
    }
    if params.is_empty() {
        return false;
    }
    let mut start = vec![0u32; n + 1];
    for v in 0..n {
        start[v + 1] = start[v] + count[v];
    }
    let mut fill = start.clone();
    let mut feeds = vec![Value::new(0); start[n] as usize];
    for b in &f.layout {
        for c in f.block(*b).term.targets() {
            for (p, a) in f.block(c.block).params.iter().zip(&c.args) {
                feeds[fill[p.index()] as usize] = *a;
                fill[p.index()] += 1;
            }
        }
    }
    let mut repl: Vec<Option<Value>> = vec![None; n];
    let find = |repl: &[Option<Value>], mut v: Value| {
        let mut steps = 0;
        while let Some(next) = repl.get(v.index()).copied().flatten() {
            v = next;
            steps += 1;
            if steps > n {
                break;
            }
        }
        v
    };
    loop {
        let mut changed = false;
        for (p, _, _) in &params {
            if repl[p.index()].is_some() {
                continue;
            }
            let mut one: Option<Value> = None;
            let mut many = false;
            for a in &feeds[start[p.index()] as usize..start[p.index() + 1] as usize] {
                let r = find(&repl, *a);
                if r == *p || one == Some(r) {
                    continue;
                }
                if one.is_some() {
                    many = true;
                    break;
                }
                one = Some(r);
            }
            if let (false, Some(v)) = (many, one) {
                repl[p.index()] = Some(v);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut subst = HashMap::default();
    let mut remove: HashMap<usize, Vec<usize>> = HashMap::default();
    for (p, b, i) in &params {
        if let Some(v) = repl[p.index()] {
            subst.insert(*p, v);
            remove.entry(*b).or_default().push(*i);
        }
    }
    if subst.is_empty() {
        return false;
    }
    substitute(f, &subst);
    drop_params(f, &remove);
    true
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
