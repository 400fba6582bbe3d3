//! Local common-subexpression elimination: within a block, a pure operation
//! with the same operands as an earlier one reuses its result (repeated
//! `iconst`s in lifted code, mostly).

use super::substitute;
use crate::function::Function;
use crate::inst::Op;
use crate::types::Type;
use rustc_hash::FxHashMap as HashMap;

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let mut subst = HashMap::default();
    for b in &f.layout {
        let mut seen: HashMap<
            (Op, Vec<crate::entities::Value>, Vec<Type>),
            crate::entities::Value,
        > = HashMap::default();
        for inst in &f.block(*b).insts {
            if !inst.op.is_pure() || inst.results.len() != 1 {
                continue;
            }
            let args: Vec<_> = inst
                .args
                .iter()
                .map(|a| *subst.get(a).unwrap_or(a))
                .collect();
            let key = (
                inst.op.clone(),
                args,
                inst.results.iter().map(|r| f.ty(*r)).collect(),
            );
            match seen.get(&key) {
                Some(prev) => {
                    subst.insert(inst.results[0], *prev);
                }
                None => {
                    seen.insert(key, inst.results[0]);
                }
            }
        }
    }
    substitute(f, &subst)
}
