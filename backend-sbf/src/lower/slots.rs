//! Value slots and the heap frame: every IR value that is not a constant
//! lives in a 32-byte heap slot, and values whose live ranges do not meet
//! share one. Live ranges are computed over a linear numbering of the
//! layout (from block liveness), then a linear scan hands out slots; a block
//! parameter prefers the slot of an argument passed to it, so that the copy
//! on the edge disappears.

use crate::{Error, layout};
use alloy_primitives::U256;
use chainlift_ir::entities::{Block, Value};
use chainlift_ir::function::Function;
use std::collections::HashMap;

/// Bytes of one value slot.
pub(super) const SLOT: usize = 32;

/// Scratch slots where constant operands are written when an operation
/// needs them in memory (helpers take pointers); constants have no slot.
pub(super) const CONST_SLOTS: usize = 4;

/// Where the lowering's parts of the heap are (offsets from its start, in
/// `r9`): after the fixed globals ([`layout`]), the constant scratch slots,
/// the buffer for block arguments, the value slots, then EVM memory, and at
/// the end, for code lifted with the EVM stack in memory, that stack.
pub(super) struct Frame {
    /// The [`CONST_SLOTS`] scratch slots for constant operands.
    pub(super) const_buf: usize,
    /// The buffer parallel copies on an edge go through.
    pub(super) copy_buf: usize,
    /// The first value slot.
    pub(super) slot_base: usize,
    /// The start of EVM memory.
    pub(super) mem_base: usize,
    /// Bytes EVM memory can grow to (a multiple of 32).
    pub(super) mem_limit: u32,
    /// The heap offset of the EVM stack array (`stack.load`/`stack.store`),
    /// at the heap's end, when the function uses it.
    pub(super) stack_base: usize,
    /// Words of that array (at most the EVM's 1024).
    pub(super) stack_words: usize,
}

/// The share of the heap after the value slots that the EVM stack array
/// takes when a function keeps its stack in memory: half, up to 1024 words.
fn stack_words(free: usize) -> usize {
    (free / 2 / SLOT).min(1024)
}

impl Frame {
    /// The frame for `slots` value slots and blocks of up to `max_params`
    /// parameters in a heap of `heap_size` bytes, or the target limit it
    /// passes (the slots must leave room for a word of memory and stay
    /// within the 16-bit offsets of loads and stores).
    pub(super) fn new(
        slots: usize,
        max_params: usize,
        heap_size: u32,
        evm_stack: bool,
        bundle: bool,
    ) -> Result<Frame, Error> {
        let fixed = if bundle {
            layout::BUNDLE_FIXED_END
        } else {
            layout::FIXED_END
        };
        let const_buf = align32(fixed as usize);
        let copy_buf = const_buf + SLOT * CONST_SLOTS;
        let slot_base = copy_buf + SLOT * max_params;
        let mem_base = align32(slot_base + SLOT * slots);
        let heap = heap_size as usize;
        if mem_base >= i16::MAX as usize - 64 || mem_base + 32 > heap {
            return Err(Error::TargetLimit {
                what: format!(
                    "{slots} live value slots and {max_params} block parameters need {mem_base} heap bytes before EVM memory (heap {heap}, offsets up to 32 KiB)"
                ),
            });
        }
        let free = (heap - mem_base) & !31;
        let stack_words = if evm_stack { stack_words(free) } else { 0 };
        let stack_base = heap - stack_words * SLOT;
        Ok(Frame {
            const_buf,
            copy_buf,
            slot_base,
            mem_base,
            mem_limit: (free - stack_words * SLOT) as u32,
            stack_base,
            stack_words,
        })
    }
}

/// `n` rounded up to a multiple of 32.
fn align32(n: usize) -> usize {
    (n + 31) & !31
}

/// Live ranges over a linear numbering of the layout, then a linear scan.
/// Returns each value's slot index (`u32::MAX` for values without one:
/// constants, and values never used) and the number of slots.
pub(super) fn allocate(f: &Function, consts: &HashMap<Value, U256>) -> (Vec<u32>, usize) {
    let (live_in, live_out) = liveness(f);
    let range = live_ranges(f, &live_in, &live_out);
    let mut order: Vec<(u32, u32, usize)> = range
        .iter()
        .enumerate()
        .filter(|(v, _)| !consts.contains_key(&Value::new(*v)))
        .filter_map(|(v, r)| r.map(|(s, e)| (s, e, v)))
        .collect();
    order.sort();
    linear_scan(&order, &param_hints(f), f.values.len())
}

/// Sets bit `v` of a bit set.
fn set(s: &mut [u64], v: Value) {
    s[v.index() / 64] |= 1 << (v.index() % 64);
}

/// Whether bit `v` of a bit set is set.
fn has(s: &[u64], v: usize) -> bool {
    s[v / 64] >> (v % 64) & 1 == 1
}

/// The values live into and out of each block (bit sets indexed by value,
/// one per block index), by the usual backward fixpoint.
fn liveness(f: &Function) -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
    let nv = f.values.len();
    let words = nv.div_ceil(64);
    let nb = f.blocks.len();
    let mut defs = vec![vec![0u64; words]; nb];
    let mut used = vec![vec![0u64; words]; nb];
    for b in &f.layout {
        let data = f.block(*b);
        let bi = b.index();
        for p in &data.params {
            set(&mut defs[bi], *p);
        }
        for i in &data.insts {
            for r in &i.results {
                set(&mut defs[bi], *r);
            }
        }
        for i in &data.insts {
            for a in &i.args {
                if !has(&defs[bi], a.index()) {
                    set(&mut used[bi], *a);
                }
            }
        }
        for a in data.term.uses() {
            if !has(&defs[bi], a.index()) {
                set(&mut used[bi], a);
            }
        }
    }
    let succs: Vec<Vec<Block>> = (0..nb)
        .map(|b| f.blocks[b].term.targets().map(|c| c.block).collect())
        .collect();
    let mut live_in = used.clone();
    let mut live_out = vec![vec![0u64; words]; nb];
    let mut changed = true;
    while changed {
        changed = false;
        for b in f.layout.iter().rev() {
            let bi = b.index();
            let mut out = vec![0u64; words];
            for s in &succs[bi] {
                for (o, i) in out.iter_mut().zip(&live_in[s.index()]) {
                    *o |= i;
                }
            }
            let inn: Vec<u64> = (0..words)
                .map(|w| used[bi][w] | (out[w] & !defs[bi][w]))
                .collect();
            if inn != live_in[bi] || out != live_out[bi] {
                live_in[bi] = inn;
                live_out[bi] = out;
                changed = true;
            }
        }
    }
    (live_in, live_out)
}

/// Each value's live range `(first, last)` over a linear numbering of the
/// layout: a block's start, each of its instructions, then its end (where
/// the terminator reads); a value live into or out of a block covers its
/// start or end. `None` for a value that appears nowhere.
fn live_ranges(
    f: &Function,
    live_in: &[Vec<u64>],
    live_out: &[Vec<u64>],
) -> Vec<Option<(u32, u32)>> {
    let nv = f.values.len();
    let mut range: Vec<Option<(u32, u32)>> = vec![None; nv];
    let mut touch = |v: usize, p: u32| {
        let r = range[v].get_or_insert((p, p));
        r.0 = r.0.min(p);
        r.1 = r.1.max(p);
    };
    let mut pos = 0u32;
    for b in &f.layout {
        let data = f.block(*b);
        let bi = b.index();
        let start = pos;
        pos += 1;
        for p in &data.params {
            touch(p.index(), start);
        }
        for i in &data.insts {
            for v in i.args.iter().chain(&i.results) {
                touch(v.index(), pos);
            }
            pos += 1;
        }
        let end = pos;
        pos += 1;
        for v in data.term.uses() {
            touch(v.index(), end);
        }
        for v in 0..nv {
            if has(&live_in[bi], v) {
                touch(v, start);
            }
            if has(&live_out[bi], v) {
                touch(v, end);
            }
        }
    }
    range
}

/// For each block parameter, the arguments passed to it: it prefers one
/// of their slots, so that the copy on the edge disappears.
fn param_hints(f: &Function) -> Vec<Vec<Value>> {
    let mut hints: Vec<Vec<Value>> = vec![vec![]; f.values.len()];
    for b in &f.layout {
        for c in f.block(*b).term.targets() {
            for (a, p) in c.args.iter().zip(&f.block(c.block).params) {
                hints[p.index()].push(*a);
            }
        }
    }
    hints
}

/// The linear scan over `order` (live ranges `(start, end, value)`, sorted):
/// a value takes a slot freed by a range that ended before it starts,
/// preferring one of its hints' slots, else a new slot. Returns each
/// value's slot (`u32::MAX` for the values not in `order`) and the number
/// of slots.
fn linear_scan(order: &[(u32, u32, usize)], hints: &[Vec<Value>], nv: usize) -> (Vec<u32>, usize) {
    let mut slot_of = vec![u32::MAX; nv];
    let mut active: Vec<(u32, u32)> = vec![]; // (end, slot)
    let mut free: Vec<u32> = vec![];
    let mut slots = 0u32;
    for &(s, e, v) in order {
        active.retain(|&(end, slot)| {
            if end < s {
                free.push(slot);
                false
            } else {
                true
            }
        });
        let hinted = hints[v].iter().find_map(|a| {
            let want = slot_of[a.index()];
            free.iter().position(|s| *s == want)
        });
        let slot = hinted.map(|i| free.swap_remove(i)).or_else(|| free.pop());
        let slot = slot.unwrap_or_else(|| {
            slots += 1;
            slots - 1
        });
        slot_of[v] = slot;
        active.push((e, slot));
    }
    (slot_of, slots as usize)
}
