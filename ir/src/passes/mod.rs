//! Optimization passes. Each is a free function `passes::name::run(&mut
//! Function) -> bool` (whether it changed anything) that keeps the function
//! valid and keeps every surviving instruction's source position.

pub mod const_fold;
pub mod copy_prop;
pub mod cse;
pub mod dce;
pub mod devirtualize;
pub mod inline;
pub mod mem_expand;
pub mod prune_params;
pub mod short_circuit;
pub mod simplify_cfg;

use crate::entities::Value;
use crate::function::{Function, Module};
use crate::inst::Op;
use alloy_primitives::U256;

/// Runs every pass to a fixpoint (at most 16 rounds), then compacts.
pub fn optimize(m: &mut Module) {
    for f in &mut m.functions {
        optimize_function(f);
    }
    m.compact();
}

/// Runs every pass on one function to a fixpoint (at most 16 rounds), then
/// short-circuits branches and removes redundant memory expansion.
pub fn optimize_function(f: &mut Function) {
    let passes: [fn(&mut Function) -> bool; 7] = [
        simplify_cfg::run,
        prune_params::run,
        copy_prop::run,
        short_circuit::negate_branches,
        const_fold::run,
        cse::run,
        dce::run,
    ];
    // Each pass depends on the function alone: once every pass has run,
    // one after another, without a change, none would change anything, so
    // the rounds stop there rather than at the end of a whole round.
    let mut unchanged = 0;
    'rounds: for round in 0..16 {
        // The first round leaves most of the lifter's values dead: every
        // later pass's tables are sized by the values.
        if round == 1 {
            f.compact();
        }
        for pass in passes {
            if pass(f) {
                unchanged = 0;
            } else {
                unchanged += 1;
                if unchanged == passes.len() {
                    break 'rounds;
                }
            }
        }
    }
    // Neither short-circuiting nor removing expands enables anything the
    // passes above do; once is enough. (Short-circuiting after dead code
    // is gone, so that an operand read only by the `and` or `or` it splits
    // counts as such, and moves.)
    short_circuit::run(f);
    mem_expand::run(f);
}

/// The function's `iconst` results, each as its type holds it (the
/// constant as written, truncated).
pub(crate) fn constants(f: &Function) -> rustc_hash::FxHashMap<Value, U256> {
    let mut consts = rustc_hash::FxHashMap::default();
    for b in &f.layout {
        for inst in &f.block(*b).insts {
            if let (Op::Iconst(c), Some(r)) = (&inst.op, inst.results.first()) {
                consts.insert(*r, *c & crate::interp::mask(f.ty(*r)));
            }
        }
    }
    consts
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
    for li in 0..f.layout.len() {
        let data = f.block_mut(f.layout[li]);
        for inst in &mut data.insts {
            inst.args.iter_mut().for_each(|a| *a = resolve(*a));
        }
        data.term.map_uses(resolve);
    }
    true
}

/// Splits block `b` of `f` at its call instruction `at` (a `call` or
/// `call_indirect`): the call is removed, and the instructions after it and
/// `b`'s terminator move to a new block (not in the layout yet) whose
/// parameters are the call's results themselves, so every use of them
/// stays dominated by their definition. Returns the call and the new
/// block; `b` is left ending in a placeholder trap for the caller to
/// replace.
pub(crate) fn split_at_call(
    f: &mut Function,
    b: crate::entities::Block,
    at: usize,
) -> (crate::function::Inst, crate::entities::Block) {
    use crate::function::{BlockData, Terminator};
    let rest = f.new_block();
    f.layout.pop();
    let data = f.block_mut(b);
    let after = data.insts.split_off(at + 1);
    let call = data.insts.pop().expect("the call at `at`");
    let term = std::mem::replace(
        &mut data.term,
        Terminator::Trap(crate::inst::TrapCode::Unreachable),
    );
    let term_pos = data.term_pos;
    *f.block_mut(rest) = BlockData {
        params: call.results.clone(),
        insts: after,
        term,
        term_pos,
    };
    (call, rest)
}

/// The first instruction, from layout index `from` on, for which `pred`
/// holds: (layout index, instruction index).
pub(crate) fn find_inst(
    f: &Function,
    from: usize,
    pred: impl Fn(&crate::inst::Op) -> bool,
) -> Option<(usize, usize)> {
    f.layout.iter().enumerate().skip(from).find_map(|(li, b)| {
        f.block(*b)
            .insts
            .iter()
            .position(|i| pred(&i.op))
            .map(|at| (li, at))
    })
}
