//! Constant folding: pure operations on constants become `iconst`;
//! comparisons of a widened boolean against zero become the boolean (or its
//! inverse comparison), and of widened booleans combined by `and`, `or` or
//! `xor` the same combination of the booleans; `brif` and `switch` on
//! constants become `jump`.

use super::substitute;
use crate::entities::Value;
use crate::function::{Function, Inst, Terminator};
use crate::inst::{Cond, Op};
use crate::interp::eval_pure;
use alloy_primitives::U256;
use rustc_hash::FxHashMap as HashMap;

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

/// The boolean that `icmp.{eq,ne} d, 0` (`cond`) stands for, as an
/// operation on `i1` values, when `d` combines widened booleans:
///
/// - `and|or|xor (uext a), (uext b)` with `ne` is that operation on `a` and
///   `b`;
/// - `or (and (uext a), (uext b)), (and (uext c), (uext e))`, where `c` and
///   `e` are the inverse comparisons of `a` and `b` (in either order), is
///   `a == b` (checked signed arithmetic's overflow test, `(x < 0) != (s <
///   y)`, has this shape), so with `ne` it is `icmp.eq a, b` and with `eq`
///   `icmp.ne a, b`.
fn boolean_logic<'f>(
    d: &Inst,
    cond: Cond,
    def_of: &impl Fn(&Value) -> Option<&'f Inst>,
    ty: impl Fn(Value) -> crate::types::Type,
) -> Option<(Op, Vec<Value>)> {
    use crate::inst::BinOp;
    use crate::types::Type;
    // The `i1` value `v` widens.
    let bit = |v: &Value| {
        let w = def_of(v)?;
        (w.op == Op::Uext && ty(w.args[0]) == Type::I1).then(|| w.args[0])
    };
    let Op::Binary(op @ (BinOp::And | BinOp::Or | BinOp::Xor)) = d.op else {
        return None;
    };
    if let (Some(a), Some(b)) = (bit(&d.args[0]), bit(&d.args[1])) {
        return (cond == Cond::Ne).then(|| (Op::Binary(op), vec![a, b]));
    }
    if op != BinOp::Or {
        return None;
    }
    // The two booleans an `and` of widened booleans combines.
    let both = |v: &Value| {
        let w = def_of(v)?;
        if w.op != Op::Binary(BinOp::And) {
            return None;
        }
        Some((bit(&w.args[0])?, bit(&w.args[1])?))
    };
    // Whether `x` and `y` are comparisons of the same operands that are
    // each other's inverse.
    let opposite = |x: Value, y: Value| {
        let (Some(p), Some(q)) = (def_of(&x), def_of(&y)) else {
            return false;
        };
        matches!((&p.op, &q.op), (Op::Icmp(c), Op::Icmp(e)) if inverse(*c) == *e)
            && p.args == q.args
    };
    let ((a, b), (c, e)) = (both(&d.args[0])?, both(&d.args[1])?);
    let inverses = (opposite(a, c) && opposite(b, e)) || (opposite(a, e) && opposite(b, c));
    if !inverses {
        return None;
    }
    let equal = match cond {
        Cond::Ne => Cond::Eq,
        _ => Cond::Ne,
    };
    Some((Op::Icmp(equal), vec![a, b]))
}

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let mut changed = false;
    let mut consts: HashMap<Value, U256> = HashMap::default();
    // Where each value is defined: (block, instruction index), by value.
    let mut defs: Vec<(u32, u32)> = vec![(u32::MAX, 0); f.values.len()];
    for b in &f.layout {
        for (i, inst) in f.block(*b).insts.iter().enumerate() {
            for r in &inst.results {
                defs[r.index()] = (b.index() as u32, i as u32);
            }
            if let (Op::Iconst(c), Some(r)) = (&inst.op, inst.results.first()) {
                consts.insert(*r, *c);
            }
        }
    }
    let mut subst = HashMap::default();
    for li in 0..f.layout.len() {
        let b = f.layout[li];
        let n = f.block(b).insts.len();
        for i in 0..n {
            // Decide with shared borrows, then apply.
            enum Change {
                Replace(Inst),
                Subst(Value, Value),
            }
            let change = {
                let inst = &f.block(b).insts[i];
                if !inst.op.is_pure() || matches!(inst.op, Op::Iconst(_)) || inst.results.len() != 1
                {
                    continue;
                }
                let def_of = |v: &Value| {
                    let (db, di) = *defs.get(v.index())?;
                    f.blocks.get(db as usize)?.insts.get(di as usize)
                };
                let r = inst.results[0];
                let ty = f.ty(r);
                let arg_ty = inst.args.first().map_or(ty, |a| f.ty(*a));
                let new = |op: Op, args: Vec<Value>| Inst {
                    op,
                    args,
                    results: vec![r],
                    pos: inst.pos,
                };
                if let Some(args) = inst
                    .args
                    .iter()
                    .map(|a| consts.get(a).copied())
                    .collect::<Option<Vec<_>>>()
                    && let Some(v) = eval_pure(&inst.op, ty, arg_ty, &args)
                {
                    consts.insert(r, v);
                    Change::Replace(new(Op::Iconst(v), vec![]))
                } else if let Op::Icmp(cond @ (Cond::Eq | Cond::Ne)) = inst.op
                    && consts.get(&inst.args[1]) == Some(&U256::ZERO)
                {
                    // Widened booleans combined (see `boolean_logic`);
                    // icmp.{eq,ne} (xor|sub a, b), 0  ->  icmp.{eq,ne} a, b;
                    // icmp.{eq,ne} (uext c), 0  ->  c or its inverse comparison.
                    match def_of(&inst.args[0]) {
                        Some(d)
                            if let Some(logic) = boolean_logic(d, cond, &def_of, |v| f.ty(v)) =>
                        {
                            let (op, args) = logic;
                            Change::Replace(new(op, args))
                        }
                        Some(d)
                            if matches!(
                                d.op,
                                Op::Binary(crate::inst::BinOp::Xor | crate::inst::BinOp::Sub)
                            ) =>
                        {
                            Change::Replace(new(Op::Icmp(cond), d.args.clone()))
                        }
                        Some(d)
                            if d.op == Op::Uext && f.ty(d.args[0]) == crate::types::Type::I1 =>
                        {
                            let bit = d.args[0];
                            if cond == Cond::Ne {
                                Change::Subst(r, bit)
                            } else if let Some(inner) = def_of(&bit)
                                && let Op::Icmp(c2) = inner.op
                            {
                                Change::Replace(new(Op::Icmp(inverse(c2)), inner.args.clone()))
                            } else {
                                continue;
                            }
                        }
                        _ => continue,
                    }
                } else {
                    continue;
                }
            };
            changed = true;
            match change {
                Change::Replace(inst) => f.block_mut(b).insts[i] = inst,
                Change::Subst(from, to) => {
                    subst.insert(from, to);
                }
            }
        }
        let folded = match &f.block(b).term {
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
            f.block_mut(b).term = t;
            changed = true;
        }
    }
    substitute(f, &subst) || changed
}
