//! CFG simplification: unreachable blocks are dropped, branches whose
//! targets agree become jumps, jumps through empty blocks are threaded, and
//! a block is merged into its only predecessor when that predecessor jumps
//! to it unconditionally.

use super::substitute;
use crate::entities::Block;
use crate::function::{BlockCall, Function, Terminator};
use rustc_hash::FxHashMap as HashMap;

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let mut changed = false;
    changed |= fold_branches(f);
    changed |= thread_jumps(f);
    changed |= merge_blocks(f);
    changed |= remove_unreachable(f);
    changed
}

fn fold_branches(f: &mut Function) -> bool {
    let mut changed = false;
    for li in 0..f.layout.len() {
        let b = f.layout[li];
        let new = match &f.block(b).term {
            Terminator::Branch {
                then_to, else_to, ..
            } if then_to == else_to => Some(Terminator::Jump(then_to.clone())),
            Terminator::Switch { cases, default, .. }
                if cases.iter().all(|(_, c)| c == default) =>
            {
                Some(Terminator::Jump(default.clone()))
            }
            Terminator::Switch {
                value,
                cases,
                default,
            } => {
                let kept: Vec<_> = cases
                    .iter()
                    .filter(|(_, c)| c != default)
                    .cloned()
                    .collect();
                (kept.len() != cases.len()).then(|| Terminator::Switch {
                    value: *value,
                    cases: kept,
                    default: default.clone(),
                })
            }
            _ => None,
        };
        if let Some(t) = new {
            f.block_mut(b).term = t;
            changed = true;
        }
    }
    changed
}

/// A block with no instructions that only jumps on: callers can go straight
/// to its target, with its parameters replaced by their arguments.
fn thread_jumps(f: &mut Function) -> bool {
    let entry = f.entry();
    // The candidates: empty blocks (not the entry) that only jump on.
    let mut candidate = vec![false; f.blocks.len()];
    let mut param_of = vec![u32::MAX; f.values.len()];
    for b in &f.layout {
        let data = f.block(*b);
        if Some(*b) != entry
            && data.insts.is_empty()
            && matches!(&data.term, Terminator::Jump(c) if c.block != *b)
        {
            candidate[b.index()] = true;
            for p in &data.params {
                param_of[p.index()] = b.index() as u32;
            }
        }
    }
    // A candidate whose parameter is read outside it (its parameters are
    // live beyond its terminator) cannot go.
    for b in &f.layout {
        let data = f.block(*b);
        let reads = data
            .insts
            .iter()
            .flat_map(|i| i.args.iter().copied())
            .chain(data.term.operands())
            .chain(data.term.targets().flat_map(|c| c.args.iter().copied()));
        for v in reads {
            if let Some(&owner) = param_of.get(v.index())
                && owner != u32::MAX
                && owner as usize != b.index()
            {
                candidate[owner as usize] = false;
            }
        }
    }
    let mut forward: HashMap<Block, BlockCall> = HashMap::default();
    for b in &f.layout {
        if candidate[b.index()]
            && let Terminator::Jump(c) = &f.block(*b).term
        {
            forward.insert(*b, c.clone());
        }
    }
    if forward.is_empty() {
        return false;
    }
    let mut changed = false;
    // The argument each parameter of the forwarder being passed gets
    // (set and cleared per hop).
    let mut arg_of: Vec<Option<crate::entities::Value>> = vec![None; f.values.len()];
    for li in 0..f.layout.len() {
        let b = f.layout[li];
        if !f
            .block(b)
            .term
            .targets()
            .any(|c| forward.contains_key(&c.block))
        {
            continue;
        }
        let mut term = std::mem::replace(
            &mut f.block_mut(b).term,
            Terminator::Trap(crate::inst::TrapCode::Unreachable),
        );
        for c in term.targets_mut() {
            let mut hops = 0;
            while let Some(next) = forward.get(&c.block) {
                if hops > 8 || next.block == c.block {
                    break;
                }
                let params = &f.block(c.block).params;
                for (p, a) in params.iter().zip(&c.args) {
                    arg_of[p.index()] = Some(*a);
                }
                // Arguments of the forwarded call must be the forwarder's
                // parameters or values that dominate (defined outside it).
                let args = next
                    .args
                    .iter()
                    .map(|a| arg_of.get(a.index()).copied().flatten().unwrap_or(*a))
                    .collect();
                for p in params {
                    arg_of[p.index()] = None;
                }
                *c = BlockCall {
                    block: next.block,
                    args,
                };
                hops += 1;
                changed = true;
            }
        }
        f.block_mut(b).term = term;
    }
    changed
}

fn merge_blocks(f: &mut Function) -> bool {
    let mut preds = f.pred_counts();
    let Some(entry) = f.entry() else { return false };
    let mut subst = HashMap::default();
    let mut gone = vec![false; f.blocks.len()];
    let mut any_gone = false;
    for li in 0..f.layout.len() {
        let b = f.layout[li];
        if gone[b.index()] {
            continue;
        }
        // Keep absorbing successors while `b` ends in a jump to a block only it reaches.
        while let Terminator::Jump(c) = &f.block(b).term {
            let s = c.block;
            if s == b || s == entry || preds[s.index()] != 1 || gone[s.index()] {
                break;
            }
            let args = c.args.clone();
            let succ = std::mem::replace(
                f.block_mut(s),
                crate::function::BlockData {
                    params: vec![],
                    insts: vec![],
                    term: Terminator::Trap(crate::inst::TrapCode::Unreachable),
                    term_pos: crate::inst::SourcePos::None,
                },
            );
            for (p, a) in succ.params.iter().zip(args) {
                subst.insert(*p, a);
            }
            preds[s.index()] = 0;
            let data = f.block_mut(b);
            data.insts.extend(succ.insts);
            data.term = succ.term;
            data.term_pos = succ.term_pos;
            gone[s.index()] = true;
            any_gone = true;
        }
    }
    if !any_gone {
        return false;
    }
    f.layout.retain(|x| !gone[x.index()]);
    substitute(f, &subst);
    true
}

fn remove_unreachable(f: &mut Function) -> bool {
    let Some(entry) = f.entry() else { return false };
    let mut seen = vec![false; f.blocks.len()];
    let mut work = vec![entry];
    while let Some(b) = work.pop() {
        if !std::mem::replace(&mut seen[b.index()], true) {
            work.extend(f.block(b).term.targets().map(|c| c.block));
        }
    }
    let before = f.layout.len();
    f.layout.retain(|b| seen[b.index()]);
    f.layout.len() != before
}
