//! Turns every `call_indirect` into a `switch` over its table's entries
//! and direct calls, for backends that compile direct calls only
//! (backend-native, and backend-sbf through the inliner).
//!
//! `r = call_indirect.T idx, a, b` in block B becomes: B ends in `switch
//! idx` with one case per table entry whose function has the call's
//! signature, each case a block `r' = call fnN a, b; jump rest(r')`; empty,
//! mistyped and out-of-range entries go to a block that traps
//! `bad_indirect_call` at the call's position, as the interpreter does.
//! `rest` takes the results as its parameters (the same values), and the
//! instructions after the call and B's terminator move there. Tables are
//! fixed: nothing in the IR writes them.

use crate::entities::{Block, FuncId};
use crate::function::{BlockCall, BlockData, Function, Inst, Module, Terminator};
use crate::inst::{Op, TrapCode};
use crate::types::Type;
use alloy_primitives::U256;

/// Switch cases all the rewrites of a module may add: a table entry per
/// case at each call site.
pub const MAX_CASES: usize = 1 << 20;

/// Rewrites every function of `m`; returns whether anything changed, or
/// an error when the switches would pass [`MAX_CASES`] (call sites ×
/// table entries).
pub fn run(m: &mut Module) -> Result<bool, String> {
    let sigs: Vec<(Vec<Type>, Vec<Type>)> = m
        .functions
        .iter()
        .map(|f| (f.params.clone(), f.returns.clone()))
        .collect();
    let tables: Vec<Vec<Option<FuncId>>> = m.tables.iter().map(|t| t.entries.clone()).collect();
    let mut changed = false;
    let mut total = 0usize;
    for f in &mut m.functions {
        let mut from = 0;
        while let Some((li, at)) = super::find_inst(f, from, |op| matches!(op, Op::CallIndirect(_)))
        {
            total += rewrite(f, &sigs, &tables, li, at);
            if total > MAX_CASES {
                return Err(format!(
                    "devirtualizing call_indirect would make more than {MAX_CASES} switch cases (call sites × table entries)"
                ));
            }
            changed = true;
            from = li;
        }
    }
    Ok(changed)
}

fn rewrite(
    f: &mut Function,
    sigs: &[(Vec<Type>, Vec<Type>)],
    tables: &[Vec<Option<FuncId>>],
    li: usize,
    at: usize,
) -> usize {
    let b = f.layout[li];
    let (call, rest) = super::split_at_call(f, b, at);
    let Op::CallIndirect(table) = call.op else {
        return 0;
    };
    let index = call.args[0];
    let args = call.args[1..].to_vec();
    let arg_types: Vec<Type> = args.iter().map(|a| f.ty(*a)).collect();
    let result_types: Vec<Type> = call.results.iter().map(|r| f.ty(*r)).collect();
    let index_ty = f.ty(index);
    let trap = f.new_block();
    f.layout.pop();
    f.block_mut(trap).term = Terminator::Trap(TrapCode::BadIndirectCall);
    f.block_mut(trap).term_pos = call.pos;
    let mut added = vec![];
    let mut cases = vec![];
    // One case block per distinct callee.
    let mut by_callee: std::collections::HashMap<FuncId, Block> = Default::default();
    let entries = tables.get(table as usize).map_or(&[][..], |t| t.as_slice());
    let max = if index_ty.bits() >= 64 {
        u64::MAX
    } else {
        (1u64 << index_ty.bits()) - 1
    };
    for (k, entry) in entries.iter().enumerate() {
        let Some(callee) = entry else { continue };
        let Some((p, r)) = sigs.get(callee.index()) else {
            continue;
        };
        if *p != arg_types || *r != result_types || k as u64 > max {
            continue;
        }
        if let Some(case) = by_callee.get(callee) {
            cases.push((U256::from(k), BlockCall::new(*case)));
            continue;
        }
        let case = f.new_block();
        f.layout.pop();
        by_callee.insert(*callee, case);
        let results: Vec<_> = result_types.iter().map(|t| f.new_value(*t)).collect();
        *f.block_mut(case) = BlockData {
            params: vec![],
            insts: vec![Inst {
                op: Op::Call(*callee),
                args: args.clone(),
                results: results.clone(),
                pos: call.pos,
            }],
            term: Terminator::Jump(BlockCall {
                block: rest,
                args: results,
            }),
            term_pos: call.pos,
        };
        added.push(case);
        cases.push((U256::from(k), BlockCall::new(case)));
    }
    let n = cases.len();
    let data = f.block_mut(b);
    data.term = Terminator::Switch {
        value: index,
        cases,
        default: BlockCall::new(trap),
    };
    data.term_pos = call.pos;
    let mut tail: Vec<Block> = added;
    tail.push(trap);
    tail.push(rest);
    f.layout.splice(li + 1..li + 1, tail);
    n
}
