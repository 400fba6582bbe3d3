//! Inlines every call into the entry function, for targets that translate
//! one function (backend-sbf): the result is a module of one function with
//! no `call`, which behaves as the original.
//!
//! A call `r1, r2 = call fnN a, b` in block B splits B: the instructions
//! before it stay and B jumps to a copy of fnN's entry with `a, b`; the
//! instructions after it and B's terminator move to a new block whose
//! parameters are `r1, r2` themselves (so every use stays dominated by its
//! definition); each `return` in the copy jumps there. Exits and traps in
//! the copy stay as they are: they end the whole run, as before. Indirect
//! calls become direct ones first ([`super::devirtualize`]).

use crate::entities::{Block, Value};
use crate::function::{BlockCall, BlockData, Function, Inst, Module, Terminator};
use crate::inst::Op;

/// Why a module cannot be inlined into one function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InlineError {
    /// A function reachable from the entry calls itself, directly or not.
    #[error("%{0} is recursive: its calls cannot all be inlined")]
    Recursive(String),
    /// An indirect call: its callee is known only at run time.
    #[error("%{0} makes an indirect call (call_indirect), which cannot be inlined")]
    Indirect(String),
    /// A module the verifier would refuse (a call of a missing function,
    /// a function with no block).
    #[error("{0}")]
    Invalid(String),
    /// The inlined function would pass the budget.
    #[error("inlining every call would make {0} instructions or more (the limit)")]
    TooLarge(usize),
}

/// Function 0 of `m` with every call inlined, as a module of that one
/// function; at most `max_insts` instructions.
pub fn inline_into_entry(m: &Module, max_insts: usize) -> Result<Module, InlineError> {
    // Indirect calls first become switches over direct calls.
    let mut owned;
    let m = if has_indirect(m) {
        owned = m.clone();
        super::devirtualize::run(&mut owned).map_err(InlineError::Invalid)?;
        &owned
    } else {
        m
    };
    check_acyclic(m)?;
    let Some(entry) = m.functions.first() else {
        return Ok(m.clone());
    };
    let mut f = entry.clone();
    let sizes: Vec<usize> = m.functions.iter().map(Function::inst_count).collect();
    let mut size = f.inst_count();
    // Blocks are scanned in layout order; a split leaves the rest of the
    // block in a new block, visited later.
    let mut from = 0;
    while let Some((li, at)) = super::find_inst(&f, from, |op| matches!(op, Op::Call(_))) {
        let Op::Call(callee) = f.block(f.layout[li]).insts[at].op else {
            unreachable!("found a call")
        };
        let g = match (sizes.get(callee.index()), m.functions.get(callee.index())) {
            (Some(g), Some(func)) if !func.layout.is_empty() => g,
            _ => {
                return Err(InlineError::Invalid(format!(
                    "a call of {callee}, which does not exist or has no block"
                )));
            }
        };
        size += g + 1;
        if size >= max_insts {
            return Err(InlineError::TooLarge(max_insts));
        }
        inline_call(&mut f, m, li, at);
        from = li;
    }
    Ok(Module {
        functions: vec![f],
        tables: vec![],
        code: m.code.clone(),
    })
}

fn has_indirect(m: &Module) -> bool {
    m.functions.iter().any(|f| {
        f.layout.iter().any(|b| {
            f.block(*b)
                .insts
                .iter()
                .any(|i| matches!(i.op, Op::CallIndirect(_)))
        })
    })
}

/// The call graph from function 0 has no cycle and no indirect call.
fn check_acyclic(m: &Module) -> Result<(), InlineError> {
    // 0 unvisited, 1 on the path, 2 done.
    let mut state = vec![0u8; m.functions.len()];
    let mut stack: Vec<(usize, Vec<usize>)> = vec![];
    let callees = |f: &Function| -> Result<Vec<usize>, InlineError> {
        let mut out = vec![];
        for b in &f.layout {
            for inst in &f.block(*b).insts {
                match inst.op {
                    Op::Call(c) => out.push(c.index()),
                    Op::CallIndirect(_) => return Err(InlineError::Indirect(f.name.clone())),
                    _ => {}
                }
            }
        }
        Ok(out)
    };
    if m.functions.is_empty() {
        return Ok(());
    }
    state[0] = 1;
    stack.push((0, callees(&m.functions[0])?));
    while let Some((f, rest)) = stack.last_mut() {
        match rest.pop() {
            Some(c) if c < m.functions.len() => match state[c] {
                0 => {
                    state[c] = 1;
                    let next = callees(&m.functions[c])?;
                    stack.push((c, next));
                }
                1 => return Err(InlineError::Recursive(m.functions[c].name.clone())),
                _ => {}
            },
            Some(_) => {}
            None => {
                state[*f] = 2;
                stack.pop();
            }
        }
    }
    Ok(())
}

/// Inlines the call at instruction `at` of the block at layout index `li`.
fn inline_call(f: &mut Function, m: &Module, li: usize, at: usize) {
    let b = f.layout[li];
    let (call, rest) = super::split_at_call(f, b, at);
    let Op::Call(callee) = call.op else {
        return;
    };
    // (`inline_into_entry` checked that it exists and has a block.)
    let g = &m.functions[callee.index()];
    // The callee's values and blocks, renumbered into f.
    let values: Vec<Value> = g.values.iter().map(|t| f.new_value(*t)).collect();
    let v = |x: Value| values[x.index()];
    let mut blocks: Vec<Option<Block>> = vec![None; g.blocks.len()];
    let mut copied = vec![];
    for gb in &g.layout {
        let nb = f.new_block();
        f.layout.pop();
        blocks[gb.index()] = Some(nb);
        copied.push(nb);
    }
    let blk = |x: Block| blocks[x.index()].expect("a live block");
    for gb in &g.layout {
        let src = g.block(*gb);
        let mut term = src.term.clone();
        term.map_uses(v);
        for c in term.targets_mut() {
            c.block = blk(c.block);
        }
        if let Terminator::Return(vals) = &term {
            term = Terminator::Jump(BlockCall {
                block: rest,
                args: vals.clone(),
            });
        }
        *f.block_mut(blk(*gb)) = BlockData {
            params: src.params.iter().map(|p| v(*p)).collect(),
            insts: src
                .insts
                .iter()
                .map(|i| Inst {
                    op: i.op.clone(),
                    args: i.args.iter().map(|a| v(*a)).collect(),
                    results: i.results.iter().map(|r| v(*r)).collect(),
                    pos: i.pos,
                })
                .collect(),
            term,
            term_pos: src.term_pos,
        };
    }
    let entry = blk(g.layout[0]);
    let data = f.block_mut(b);
    data.term = Terminator::Jump(BlockCall {
        block: entry,
        args: call.args.clone(),
    });
    data.term_pos = call.pos;
    // The copy, then the rest, right after B.
    let mut tail = copied;
    tail.push(rest);
    f.layout.splice(li + 1..li + 1, tail);
}
