//! Short-circuit branches: a block that branches on `and.i1 a, b` (or
//! `or.i1`) computed for the branch alone branches on `a` first, and only
//! where the outcome is still open on `b`, in a new block. When `b` is a
//! pure operation of the block that only the `and` reads, it moves to the
//! new block, so it is computed only where it is needed; when only `a` is,
//! the two swap and `a` moves. (Checked arithmetic tests overflow this way:
//! `y == -1 && x == MIN` before a signed division, whose first comparison
//! almost never holds.)
//!
//! A branch on `icmp.eq x, 0` (read only by it) where `x` is an `and`,
//! `or` or `xor` of the block becomes a branch on `icmp.ne x, 0` with its
//! targets swapped: where `x` combines widened booleans, constant folding
//! turns that into the `i1` operation (see `const_fold`) this pass then
//! splits, as in `x == 0 || y == z` tested as `iszero(or(...))` before a
//! checked multiplication's revert.

use crate::entities::{Block, Value};
use crate::function::{BlockCall, Function, Terminator};
use crate::inst::{BinOp, Cond, Op};
use crate::types::Type;
use alloy_primitives::U256;

/// Splits the branches on `and` and `or` of two booleans; returns whether
/// anything changed. Nothing the other passes do follows from a split, so
/// it runs once, after them (see `optimize_function`).
pub fn run(f: &mut Function) -> bool {
    let uses = f.use_counts();
    let mut layout = Vec::with_capacity(f.layout.len());
    let mut changed = false;
    for li in 0..f.layout.len() {
        let b = f.layout[li];
        layout.push(b);
        let Some(at) = sole_condition(f, b, &uses) else {
            continue;
        };
        let insts = &f.block(b).insts;
        let (is_and, x, y) = match (&insts[at].op, insts[at].args.as_slice()) {
            (Op::Binary(BinOp::And), [x, y]) => (true, *x, *y),
            (Op::Binary(BinOp::Or), [x, y]) => (false, *x, *y),
            _ => continue,
        };
        // The instruction of this block that defines `v` for the `and`
        // alone, and may move.
        let movable = |v: Value| {
            insts
                .iter()
                .position(|i| i.results.first() == Some(&v))
                .filter(|k| insts[*k].op.is_pure() && uses[v.index()] == 1)
        };
        // Test first the operand that stays, and move the other.
        let (first, second, moved) = match (movable(x), movable(y)) {
            (_, Some(k)) => (x, y, Some(k)),
            (Some(k), None) => (y, x, Some(k)),
            (None, None) => (x, y, None),
        };
        let pos = f.block(b).term_pos;
        let Terminator::Branch {
            then_to, else_to, ..
        } = f.block(b).term.clone()
        else {
            unreachable!("a branch")
        };
        let second_block = f.new_block();
        f.layout.pop();
        layout.push(second_block);
        let data = f.block_mut(b);
        // The `and` (read only by the branch) goes; so does the operand
        // that moves, after it when it is defined later.
        let mut gone = vec![at];
        gone.extend(moved);
        gone.sort_unstable();
        let moved_inst = moved.map(|k| data.insts[k].clone());
        for k in gone.into_iter().rev() {
            data.insts.remove(k);
        }
        let (then_first, else_first) = if is_and {
            (BlockCall::new(second_block), else_to.clone())
        } else {
            (then_to.clone(), BlockCall::new(second_block))
        };
        data.term = Terminator::Branch {
            cond: first,
            then_to: then_first,
            else_to: else_first,
        };
        let next = f.block_mut(second_block);
        next.insts.extend(moved_inst);
        next.term = Terminator::Branch {
            cond: second,
            then_to,
            else_to,
        };
        next.term_pos = pos;
        changed = true;
    }
    f.layout = layout;
    changed
}

/// Turns the branches on `icmp.eq x, 0` into branches on `icmp.ne x, 0`;
/// returns whether anything changed. Runs with the other passes, just
/// before constant folding, which finishes the work in the same round.
pub fn negate_branches(f: &mut Function) -> bool {
    let uses = f.use_counts();
    let mut changed = false;
    for li in 0..f.layout.len() {
        let b = f.layout[li];
        let Some(at) = sole_condition(f, b, &uses) else {
            continue;
        };
        let insts = &f.block(b).insts;
        // (The zero and the combination, both of this block.)
        let defined = |v: &Value, what: &dyn Fn(&Op) -> bool| {
            insts
                .iter()
                .any(|i| i.results.first() == Some(v) && what(&i.op))
        };
        if let (Op::Icmp(Cond::Eq), [x, zero]) = (&insts[at].op, insts[at].args.as_slice())
            && defined(zero, &|op| *op == Op::Iconst(U256::ZERO))
            && defined(x, &|op| {
                matches!(op, Op::Binary(BinOp::And | BinOp::Or | BinOp::Xor))
            })
        {
            let data = f.block_mut(b);
            data.insts[at].op = Op::Icmp(Cond::Ne);
            if let Terminator::Branch {
                then_to, else_to, ..
            } = &mut data.term
            {
                std::mem::swap(then_to, else_to);
            }
            changed = true;
        }
    }
    changed
}

/// The index of the instruction of block `b` that defines the `i1` its
/// branch tests, when nothing else reads that value (`uses`, by value).
fn sole_condition(f: &Function, b: Block, uses: &[u32]) -> Option<usize> {
    let Terminator::Branch { cond, .. } = &f.block(b).term else {
        return None;
    };
    if f.ty(*cond) != Type::I1 || uses[cond.index()] != 1 {
        return None;
    }
    f.block(b)
        .insts
        .iter()
        .position(|i| i.results.first() == Some(cond))
}
