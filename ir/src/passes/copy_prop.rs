//! Copy propagation: an operation that yields one of its operands unchanged
//! (`add x, 0`, `or x, x`, `uext` to the same type, `select c, x, x`, ...)
//! is replaced by that operand at every use; DCE then removes it.

use super::substitute;
use crate::entities::Value;
use crate::function::Function;
use crate::inst::{BinOp, Op};
use alloy_primitives::U256;
use rustc_hash::FxHashMap as HashMap;

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let consts = super::constants(f);
    let is = |v: &Value, k: u64| consts.get(v) == Some(&U256::from(k));
    let mut subst = HashMap::default();
    for b in &f.layout {
        for inst in &f.block(*b).insts {
            let Some(r) = inst.results.first().copied() else {
                continue;
            };
            let a = &inst.args;
            let same = match &inst.op {
                Op::Binary(op) => match op {
                    BinOp::Add | BinOp::Or | BinOp::Xor if is(&a[1], 0) => Some(a[0]),
                    BinOp::Add | BinOp::Or | BinOp::Xor if is(&a[0], 0) => Some(a[1]),
                    BinOp::Sub | BinOp::Shl | BinOp::LShr | BinOp::AShr if is(&a[1], 0) => {
                        Some(a[0])
                    }
                    BinOp::Mul | BinOp::UDiv | BinOp::SDiv if is(&a[1], 1) => Some(a[0]),
                    BinOp::Mul if is(&a[0], 1) => Some(a[1]),
                    BinOp::And | BinOp::Or if a[0] == a[1] => Some(a[0]),
                    BinOp::And
                        if consts
                            .get(&a[1])
                            .is_some_and(|c| all_ones(*c, f.ty(r).bits())) =>
                    {
                        Some(a[0])
                    }
                    BinOp::And
                        if consts
                            .get(&a[0])
                            .is_some_and(|c| all_ones(*c, f.ty(r).bits())) =>
                    {
                        Some(a[1])
                    }
                    _ => None,
                },
                Op::Uext | Op::Sext | Op::Trunc if f.ty(a[0]) == f.ty(r) => Some(a[0]),
                Op::Select if a[1] == a[2] => Some(a[1]),
                _ => None,
            };
            if let Some(v) = same {
                subst.insert(r, v);
            }
        }
    }
    substitute(f, &subst)
}

fn all_ones(c: U256, bits: usize) -> bool {
    if bits >= 256 {
        c == U256::MAX
    } else {
        c == (U256::from(1) << bits) - U256::from(1)
    }
}
