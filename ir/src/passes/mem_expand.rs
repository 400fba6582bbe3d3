//! Removes `mem.expand`s that grow nothing: memory never shrinks, so an
//! expand of a constant range whose end every path to it has already
//! reached (by constant expands on the way) is a no-op. The lifter emits
//! an expand before every memory access, and Solidity's code reads and
//! writes its free-memory pointer at 0x40 over and over: most of those
//! expands go.

use crate::entities::Value;
use crate::function::Function;
use crate::inst::Op;
use alloy_primitives::U256;
use rustc_hash::FxHashMap as HashMap;

/// The end (rounded up to 32) a constant expand reaches, if its length is
/// not zero and the end fits 64 bits.
fn end(consts: &HashMap<Value, U256>, offset: Value, len: Value) -> Option<u64> {
    let (o, l) = (consts.get(&offset)?, consts.get(&len)?);
    if l.is_zero() {
        return None;
    }
    let e = u64::try_from(o.checked_add(*l)?).ok()?;
    e.checked_next_multiple_of(32)
}

/// Runs the pass; returns whether anything changed.
pub fn run(f: &mut Function) -> bool {
    let consts = super::constants(f);
    // The size memory has at least, at each block's end; a must-analysis
    // from the entry (0), starting from "any size" elsewhere.
    let Some(entry) = f.entry() else {
        return false;
    };
    let n = f.blocks.len();
    let mut preds: Vec<Vec<usize>> = vec![vec![]; n];
    for b in &f.layout {
        for c in f.block(*b).term.targets() {
            preds[c.block.index()].push(b.index());
        }
    }
    // The most a block's own constant expands reach.
    let mut own = vec![0u64; n];
    for b in &f.layout {
        for inst in &f.block(*b).insts {
            if let (Op::MemExpand, [o, l]) = (&inst.op, inst.args.as_slice())
                && let Some(e) = end(&consts, *o, *l)
            {
                own[b.index()] = own[b.index()].max(e);
            }
        }
    }
    let mut out = vec![u64::MAX; n];
    let at_entry = |b: usize, out: &[u64]| -> u64 {
        if b == entry.index() {
            0
        } else {
            preds[b].iter().map(|p| out[*p]).min().unwrap_or(u64::MAX)
        }
    };
    let mut changed = true;
    while changed {
        changed = false;
        for b in &f.layout {
            let i = b.index();
            let o = at_entry(i, &out).max(own[i]);
            if o < out[i] {
                out[i] = o;
                changed = true;
            }
        }
    }
    let mut removed = false;
    for li in 0..f.layout.len() {
        let b = f.layout[li];
        let mut size = at_entry(b.index(), &out);
        let data = f.block_mut(b);
        let before = data.insts.len();
        data.insts
            .retain(|inst| match (&inst.op, inst.args.as_slice()) {
                (Op::MemExpand, [o, l]) => match end(&consts, *o, *l) {
                    Some(e) if e <= size => false,
                    Some(e) => {
                        size = e;
                        true
                    }
                    None => true,
                },
                _ => true,
            });
        removed |= data.insts.len() != before;
    }
    removed
}
