//! Local common-subexpression elimination: within a block, a pure operation
//! with the same operands as an earlier one reuses its result (repeated
//! `iconst`s in lifted code, mostly).

use super::substitute;
use crate::entities::Value;
use crate::function::Function;
use crate::inst::Op;
use crate::types::Type;
use rustc_hash::FxHashMap as HashMap;

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let mut subst: HashMap<Value, Value> = HashMap::default();
    // (operation, result type, operands): every pure operation has at most
    // three operands; unused ones are `Value(u32::MAX)`.
    let mut seen: HashMap<(Op, Type, [Value; 3]), Value> = HashMap::default();
    for b in &f.layout {
        seen.clear();
        for inst in &f.block(*b).insts {
            if !inst.op.is_pure() || inst.results.len() != 1 || inst.args.len() > 3 {
                continue;
            }
            let mut args = [Value(u32::MAX); 3];
            for (k, a) in inst.args.iter().enumerate() {
                args[k] = *subst.get(a).unwrap_or(a);
            }
            let r = inst.results[0];
            match seen.entry((inst.op.clone(), f.ty(r), args)) {
                std::collections::hash_map::Entry::Occupied(prev) => {
                    subst.insert(r, *prev.get());
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(r);
                }
            }
        }
    }
    substitute(f, &subst)
}
