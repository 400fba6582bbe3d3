//! Optimization passes. Each is a free function `passes::name::run(&mut
//! Function) -> bool` (whether it changed anything) that keeps the function
//! valid and keeps every surviving instruction's source position.

pub mod const_fold;
pub mod copy_prop;
pub mod cse;
pub mod dce;
pub mod devirtualize;
pub mod inline;
pub mod prune_params;
pub mod simplify_cfg;

use crate::entities::Value;
use crate::function::{Function, Module};

/// Runs every pass to a fixpoint (at most 16 rounds), then compacts.
pub fn optimize(m: &mut Module) {
    for f in &mut m.functions {
        optimize_function(f);
    }
    m.compact();
}

/// Runs every pass on one function to a fixpoint (at most 16 rounds).
pub fn optimize_function(f: &mut Function) {
    for _ in 0..16 {
        let mut changed = false;
        changed |= simplify_cfg::run(f);
        changed |= prune_params::run(f);
        changed |= copy_prop::run(f);
        changed |= const_fold::run(f);
        changed |= cse::run(f);
        changed |= dce::run(f);
        if !changed {
            break;
        }
    }
}

/// Replaces every use of a value by `subst[value]` (following chains to
/// their end; a cycle keeps the value where it closes).
pub(crate) fn substitute(f: &mut Function, subst: &rustc_hash::FxHashMap<Value, Value>) -> bool {
    if subst.is_empty() {
        return false;
    }
    // A dense table, resolved once per chain (path compression).
    let n = f.values.len();
    let mut table: Vec<Option<Value>> = vec![None; n];
    for (from, to) in subst {
        if from.index() < n {
            table[from.index()] = Some(*to);
        }
    }
    let mut resolved: Vec<Option<Value>> = vec![None; n];
    for start in subst.keys() {
        if start.index() >= n || resolved[start.index()].is_some() {
            continue;
        }
        let mut path = vec![*start];
        let mut end = *start;
        while let Some(next) = table.get(end.index()).copied().flatten() {
            if let Some(r) = resolved.get(next.index()).copied().flatten() {
                end = r;
                break;
            }
            if path.contains(&next) || path.len() > n {
                break;
            }
            end = next;
            path.push(end);
        }
        for v in path {
            resolved[v.index()] = Some(end);
        }
    }
    let resolve = |v: Value| resolved.get(v.index()).copied().flatten().unwrap_or(v);
    for b in f.layout.clone() {
        let data = f.block_mut(b);
        for inst in &mut data.insts {
            inst.args.iter_mut().for_each(|a| *a = resolve(*a));
        }
        data.term.map_uses(resolve);
    }
    true
}
