//! Constant folding: pure operations on constants become `iconst`;
//! comparisons of a widened boolean against zero become the boolean (or its
//! inverse comparison); `brif` and `switch` on constants become `jump`.

use super::substitute;
use crate::entities::Value;
use crate::function::{Function, Inst, Terminator};
use crate::inst::{Cond, Op};
use crate::interp::eval_pure;
use alloy_primitives::U256;
use std::collections::HashMap;

fn inverse(c: Cond) -> Cond {
    match c {
        Cond::Eq => Cond::Ne,
        Cond::Ne => Cond::Eq,
        Cond::Ult => Cond::Uge,
        Cond::Uge => Cond::Ult,
        Cond::Ule => Cond::Ugt,
        Cond::Ugt => Cond::Ule,
        Cond::Slt => Cond::Sge,
        Cond::Sge => Cond::Slt,
        Cond::Sle => Cond::Sgt,
        Cond::Sgt => Cond::Sle,
    }
}

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let mut changed = false;
    let mut consts: HashMap<Value, U256> = HashMap::new();
    let mut defs: HashMap<Value, Inst> = HashMap::new();
    for b in &f.layout {
        for inst in &f.block(*b).insts {
            for r in &inst.results {
                defs.insert(*r, inst.clone());
            }
            if let (Op::Iconst(c), Some(r)) = (&inst.op, inst.results.first()) {
                consts.insert(*r, *c);
            }
        }
    }
    let mut subst = HashMap::new();
    let layout = f.layout.clone();
    for b in &layout {
        let n = f.block(*b).insts.len();
        for i in 0..n {
            let inst = f.block(*b).insts[i].clone();
            if !inst.op.is_pure() || matches!(inst.op, Op::Iconst(_)) || inst.results.len() != 1 {
                continue;
            }
            let r = inst.results[0];
            let ty = f.ty(r);
            let arg_ty = inst.args.first().map_or(ty, |a| f.ty(*a));
            if let Some(args) = inst
                .args
                .iter()
                .map(|a| consts.get(a).copied())
                .collect::<Option<Vec<_>>>()
                && let Some(v) = eval_pure(&inst.op, ty, arg_ty, &args)
            {
                f.block_mut(*b).insts[i] = Inst {
                    op: Op::Iconst(v),
                    args: vec![],
                    results: vec![r],
                    pos: inst.pos,
                };
                consts.insert(r, v);
                changed = true;
                continue;
            }
            // icmp.{eq,ne} (xor a, b), 0 and (sub a, b), 0  ->  icmp.{eq,ne} a, b.
            if let Op::Icmp(cond @ (Cond::Eq | Cond::Ne)) = inst.op
                && consts.get(&inst.args[1]) == Some(&U256::ZERO)
                && let Some(def) = defs.get(&inst.args[0])
                && matches!(
                    def.op,
                    Op::Binary(crate::inst::BinOp::Xor | crate::inst::BinOp::Sub)
                )
            {
                f.block_mut(*b).insts[i] = Inst {
                    op: Op::Icmp(cond),
                    args: def.args.clone(),
                    results: vec![r],
                    pos: inst.pos,
                };
                changed = true;
                continue;
            }
            // icmp.{eq,ne} (uext c), 0  ->  c or its inverse.
            if let Op::Icmp(cond @ (Cond::Eq | Cond::Ne)) = inst.op {
                let (x, k) = (inst.args[0], inst.args[1]);
                if consts.get(&k) == Some(&U256::ZERO)
                    && let Some(def) = defs.get(&x)
                    && def.op == Op::Uext
                    && f.ty(def.args[0]) == crate::types::Type::I1
                {
                    let bit = def.args[0];
                    if cond == Cond::Ne {
                        subst.insert(r, bit);
                        changed = true;
                    } else if let Some(inner) = defs.get(&bit)
                        && let Op::Icmp(c2) = inner.op
                    {
                        f.block_mut(*b).insts[i] = Inst {
                            op: Op::Icmp(inverse(c2)),
                            args: inner.args.clone(),
                            results: vec![r],
                            pos: inst.pos,
                        };
                        changed = true;
                    }
                }
            }
        }
        let term = f.block(*b).term.clone();
        let folded = match &term {
            Terminator::Branch {
                cond,
                then_to,
                else_to,
            } => consts.get(cond).map(|c| {
                Terminator::Jump(if c.is_zero() {
                    else_to.clone()
                } else {
                    then_to.clone()
                })
            }),
            Terminator::Switch {
                value,
                cases,
                default,
            } => consts.get(value).map(|v| {
                Terminator::Jump(
                    cases
                        .iter()
                        .find(|(k, _)| k == v)
                        .map_or(default.clone(), |(_, c)| c.clone()),
                )
            }),
            _ => None,
        };
        if let Some(t) = folded {
            f.block_mut(*b).term = t;
            changed = true;
        }
    }
    substitute(f, &subst) || changed
}
