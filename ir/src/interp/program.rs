//! The module decoded once for the interpreter's fast path.

use super::mask;
use crate::entities::{Block, Value};
use crate::function::{BlockCall, Function, Module, Terminator};
use crate::inst::{BinOp, Cond, Endian, ExitKind, Op};
use crate::types::Type;
use alloy_primitives::U256;

/// A module decoded once for the interpreter: per block, the common pure
/// operations with their operand slots resolved, and jumps and branches
/// with their parameter copies listed, so running them looks nothing up.
/// Everything else runs from the module itself. Build it once per module
/// and share it between runs ([`Interpreter::with_program`]).
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub(super) funcs: Vec<DFunc>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct DFunc {
    pub(super) blocks: Vec<DBlock>,
    /// Every constant of the function (`iconst` result slot and value),
    /// written once when the function is entered: an SSA value has one
    /// definition, so the blocks need not write them again.
    pub(super) consts: Vec<(u32, U256)>,
    /// Values of the function. A program decoded from another module's
    /// function of other blocks or values is not used; the caller must not
    /// pass one of the same shape ([`super::Interpreter::with_program`]).
    pub(super) values: usize,
    /// The guards each [`DOp::Bounds`] stands for.
    pub(super) guard_pairs: Vec<[DOp; 2]>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct DBlock {
    /// The block's instructions but its constants, each with its index in
    /// the block.
    pub(super) ops: Vec<(u32, DOp)>,
    /// Steps the block takes: its instructions and its terminator.
    pub(super) cost: u64,
    pub(super) term: DTerm,
    /// When the block runs on through the blocks it guards (see
    /// [`DOp::Guard`]): its own steps and terminator, for a run that
    /// stops in it. `ops`, `cost` and `term` are then the whole chain's.
    pub(super) alone: Option<Box<(u64, DTerm)>>,
}

impl DBlock {
    /// The block's own terminator.
    pub(super) fn own_term(&self) -> &DTerm {
        self.alone.as_ref().map_or(&self.term, |a| &a.1)
    }
}

#[derive(Debug, Clone)]
pub(super) enum DOp {
    Bin {
        op: BinOp,
        ty: Type,
        a: u32,
        b: u32,
        r: u32,
    },
    /// A 256-bit add, sub, mul, and, or or xor (no mask to apply).
    Bin256 {
        op: BinOp,
        a: u32,
        b: u32,
        r: u32,
    },
    /// A 64-bit add, sub, mul, and, or or xor, or a narrower and, or or
    /// xor, on the low limbs.
    Bin64 {
        op: BinOp,
        a: u32,
        b: u32,
        r: u32,
    },
    Cmp {
        c: Cond,
        ty: Type,
        a: u32,
        b: u32,
        r: u32,
    },
    /// `mem.expand`, and big-endian word loads and stores.
    Expand {
        offset: u32,
        len: u32,
    },
    LoadWord {
        addr: u32,
        r: u32,
    },
    StoreWord {
        addr: u32,
        v: u32,
    },
    /// `mem.expand addr, 32` then a word load or store at `addr` (the
    /// instruction at index `at` of the block), as one operation.
    LoadWordGrow {
        addr: u32,
        r: u32,
        at: u32,
    },
    StoreWordGrow {
        addr: u32,
        v: u32,
        at: u32,
    },
    /// A word of the EVM stack (`i256`) at `sp + off`: decoded at offset 0
    /// from the access's `i64` index (`sp` = `index`), or at `sp + k` when
    /// the index is an `add.i64 sp, k` only such accesses use, which is then
    /// not run (`index`, its result, is written only when the access
    /// traps).
    StackLoadAt {
        sp: u32,
        off: i32,
        index: u32,
        r: u32,
    },
    StackStoreAt {
        sp: u32,
        off: i32,
        index: u32,
        v: u32,
    },
    /// `uext` and `trunc`: the operand masked to the narrower type `ty`.
    Mask {
        a: u32,
        ty: Type,
        r: u32,
    },
    /// The end of a block that checks something on its way to the next
    /// one (`next`, which takes no arguments), the rest of whose operations
    /// follow: when the comparison is `fail_when`, the run goes to `fail`
    /// instead (taking no arguments either), a block that traps or goes
    /// straight on to a revert or a trap (see `chain_guards`). `cost` is
    /// the steps of the guarding block itself; the operations after it are
    /// numbered in `next`.
    Guard {
        c: Cond,
        ty: Type,
        a: u32,
        b: u32,
        fail_when: bool,
        fail: Block,
        next: Block,
        cost: u32,
    },
    /// Two guards in a row on one `i64` (a stack pointer's two bounds),
    /// checked as one range, `a - lo <= span` unsigned: when it holds both
    /// pass (`cost` is their steps, `next` where the second leads); else
    /// the two run as written (`DFunc::guard_pairs[pair]`).
    Bounds {
        a: u32,
        lo: u16,
        span: u16,
        cost: u32,
        next: Block,
        pair: u32,
    },
    /// Run from the module's instruction.
    Slow,
}

#[derive(Debug, Clone, Default)]
pub(super) enum DTerm {
    Jump(DEdge),
    Branch {
        cond: u32,
        then_to: DEdge,
        else_to: DEdge,
    },
    /// A branch on a comparison the block computes for it alone (the
    /// comparison is not among the block's operations).
    BranchCmp {
        c: Cond,
        ty: Type,
        a: u32,
        b: u32,
        then_to: DEdge,
        else_to: DEdge,
    },
    /// A switch: cases sorted by value (all below 2^64), found by binary
    /// search, or through `dense` (the case index + 1 by value, 0 for the
    /// default) when the values are dense enough.
    Switch {
        value: u32,
        keys: Vec<u64>,
        cases: Vec<DEdge>,
        default: DEdge,
        dense: Vec<u32>,
    },
    /// Run from the module's terminator.
    #[default]
    Slow,
}

#[derive(Debug, Clone)]
pub(super) struct DEdge {
    pub(super) block: Block,
    /// (argument slot, parameter slot): copied in order when `parallel` is
    /// false (ordered so that no copy overwrites a later one's argument),
    /// else in parallel (a cycle).
    pub(super) moves: Vec<(u32, u32)>,
    pub(super) parallel: bool,
}

impl DEdge {
    /// The edge to `block` with `moves` copied in parallel: the copies
    /// that change something, ordered to run one after another when they
    /// can.
    fn new(block: Block, moves: impl Iterator<Item = (u32, u32)>) -> DEdge {
        let left: Vec<(u32, u32)> = moves.filter(|(a, p)| a != p).collect();
        // How many copies read each value, and which copy writes each
        // parameter (parameters are distinct).
        let mut reads: rustc_hash::FxHashMap<u32, u32> = Default::default();
        let mut writes: rustc_hash::FxHashMap<u32, usize> = Default::default();
        for (i, (a, p)) in left.iter().enumerate() {
            *reads.entry(*a).or_default() += 1;
            writes.insert(*p, i);
        }
        // Take a copy whose parameter no copy left reads, while there is one.
        let mut ready: Vec<usize> = (0..left.len())
            .filter(|i| !reads.contains_key(&left[*i].1))
            .collect();
        let mut done = vec![false; left.len()];
        let mut moves = Vec::with_capacity(left.len());
        while let Some(i) = ready.pop() {
            done[i] = true;
            moves.push(left[i]);
            let a = left[i].0;
            let n = reads.get_mut(&a).expect("counted");
            *n -= 1;
            if *n == 0
                && let Some(&j) = writes.get(&a)
                && !done[j]
            {
                ready.push(j);
            }
        }
        // What is left is a cycle: all copies run in parallel (as all do
        // when two write one parameter, which no valid module has).
        let parallel = moves.len() < left.len() || writes.len() < left.len();
        if parallel {
            moves = left;
        }
        DEdge {
            block,
            moves,
            parallel,
        }
    }
}

impl Program {
    /// Decodes every function of `module`.
    pub fn new(module: &Module) -> Program {
        let funcs = module.functions.iter().map(decode_function).collect();
        Program { funcs }
    }
}

fn decode_function(f: &Function) -> DFunc {
    let slot = |v: &Value| v.index() as u32;
    let edge = |c: &BlockCall| {
        let params = &f.block(c.block).params;
        DEdge::new(
            c.block,
            c.args.iter().zip(params).map(|(a, p)| (slot(a), slot(p))),
        )
    };
    let uses = f.use_counts();
    // The values that are the constant 32 (a word's length), and the
    // `i64` constants.
    let mut words = vec![false; f.values.len()];
    let mut consts64: Vec<Option<u64>> = vec![None; f.values.len()];
    for b in &f.layout {
        for inst in &f.block(*b).insts {
            if let (Op::Iconst(k), Some(r)) = (&inst.op, inst.results.first()) {
                let k = *k & mask(f.ty(*r));
                words[r.index()] = k == U256::from(32);
                if f.ty(*r) == Type::I64 {
                    consts64[r.index()] = Some(k.as_limbs()[0]);
                }
            }
        }
    }
    let mut blocks = vec![DBlock::default(); f.blocks.len()];
    let mut consts = vec![];
    for b in &f.layout {
        let data = f.block(*b);
        let mut ops: Vec<(u32, DOp)> = data
            .insts
            .iter()
            .enumerate()
            .filter_map(|(i, inst)| {
                let r = inst.results.first().map(slot);
                let ty = inst.results.first().map(|r| f.ty(*r));
                let op = match (&inst.op, r, ty, inst.args.as_slice()) {
                    (Op::Iconst(k), Some(r), Some(ty), []) => {
                        consts.push((r, *k & mask(ty)));
                        return None;
                    }
                    (
                        Op::Binary(
                            op @ (BinOp::Add
                            | BinOp::Sub
                            | BinOp::Mul
                            | BinOp::And
                            | BinOp::Or
                            | BinOp::Xor),
                        ),
                        Some(r),
                        Some(ty @ (Type::I64 | Type::I256)),
                        [a, b],
                    ) => {
                        let (op, a, b) = (*op, slot(a), slot(b));
                        match ty {
                            Type::I64 => DOp::Bin64 { op, a, b, r },
                            _ => DOp::Bin256 { op, a, b, r },
                        }
                    }
                    // Bitwise operations keep narrower values in range.
                    (
                        Op::Binary(op @ (BinOp::And | BinOp::Or | BinOp::Xor)),
                        Some(r),
                        Some(Type::I1 | Type::I8 | Type::I32),
                        [a, b],
                    ) => DOp::Bin64 {
                        op: *op,
                        a: slot(a),
                        b: slot(b),
                        r,
                    },
                    (Op::Binary(op), Some(r), Some(ty), [a, b]) => DOp::Bin {
                        op: *op,
                        ty,
                        a: slot(a),
                        b: slot(b),
                        r,
                    },
                    (Op::MemExpand, None, None, [o, l]) => DOp::Expand {
                        offset: slot(o),
                        len: slot(l),
                    },
                    (Op::Load(Type::I256, Endian::Big), Some(r), Some(Type::I256), [a]) => {
                        DOp::LoadWord { addr: slot(a), r }
                    }
                    (Op::Store(Type::I256, Endian::Big), None, None, [a, v])
                        if f.ty(*v) == Type::I256 =>
                    {
                        DOp::StoreWord {
                            addr: slot(a),
                            v: slot(v),
                        }
                    }
                    (Op::StackLoad, Some(r), Some(Type::I256), [i]) if f.ty(*i) == Type::I64 => {
                        DOp::StackLoadAt {
                            sp: slot(i),
                            off: 0,
                            index: slot(i),
                            r,
                        }
                    }
                    (Op::StackStore, None, None, [i, v])
                        if f.ty(*v) == Type::I256 && f.ty(*i) == Type::I64 =>
                    {
                        DOp::StackStoreAt {
                            sp: slot(i),
                            off: 0,
                            index: slot(i),
                            v: slot(v),
                        }
                    }
                    (Op::Uext, Some(r), Some(_), [a]) => DOp::Mask {
                        a: slot(a),
                        ty: f.ty(*a),
                        r,
                    },
                    (Op::Trunc, Some(r), Some(ty), [a]) => DOp::Mask { a: slot(a), ty, r },
                    (Op::Icmp(c), Some(r), Some(_), [a, b]) => DOp::Cmp {
                        c: *c,
                        ty: f.ty(*a),
                        a: slot(a),
                        b: slot(b),
                        r,
                    },
                    _ => DOp::Slow,
                };
                Some((i as u32, op))
            })
            .collect();
        // A branch on the block's last operation, a comparison used only
        // there.
        let fused = match (&data.term, ops.last()) {
            (Terminator::Branch { cond, .. }, Some((i, DOp::Cmp { c, ty, a, b, .. })))
                if data.insts[*i as usize].results.first() == Some(cond)
                    && uses[cond.index()] == 1 =>
            {
                Some((*c, *ty, *a, *b))
            }
            _ => None,
        };
        if fused.is_some() {
            ops.pop();
        }
        fuse_word_access(&mut ops, &words);
        fuse_stack_offsets(&mut ops, &consts64, &uses);
        fuse_widened_compares(&mut ops, &uses);
        let term = match &data.term {
            Terminator::Jump(c) => DTerm::Jump(edge(c)),
            Terminator::Branch {
                then_to, else_to, ..
            } if fused.is_some() => {
                let (c, ty, a, b) = fused.expect("fused");
                DTerm::BranchCmp {
                    c,
                    ty,
                    a,
                    b,
                    then_to: edge(then_to),
                    else_to: edge(else_to),
                }
            }
            Terminator::Branch {
                cond,
                then_to,
                else_to,
            } => DTerm::Branch {
                cond: slot(cond),
                then_to: edge(then_to),
                else_to: edge(else_to),
            },
            Terminator::Switch {
                value,
                cases,
                default,
            } if cases.iter().all(|(k, _)| *k <= U256::from(u64::MAX)) => {
                let mut sorted: Vec<(u64, &BlockCall)> =
                    cases.iter().map(|(k, c)| (k.to::<u64>(), c)).collect();
                // The first case of a value is the one taken.
                sorted.sort_by_key(|(k, _)| *k);
                sorted.dedup_by_key(|(k, _)| *k);
                let keys: Vec<u64> = sorted.iter().map(|(k, _)| *k).collect();
                DTerm::Switch {
                    value: slot(value),
                    keys,
                    cases: sorted.iter().map(|(_, c)| edge(c)).collect(),
                    default: edge(default),
                    dense: vec![],
                }
            }
            _ => DTerm::Slow,
        };
        blocks[b.index()] = DBlock {
            ops,
            cost: data.insts.len() as u64 + 1,
            term,
            alone: None,
        };
    }
    chain_guards(f, &mut blocks);
    let guard_pairs = pair_guards(&mut blocks, &consts64);
    dense_switches(&mut blocks);
    DFunc {
        blocks,
        consts,
        values: f.values.len(),
        guard_pairs,
    }
}

/// Blocks a guarding block runs on through, at most.
const MAX_CHAIN: usize = 8;

/// Blocks followed to see where a side of a branch ends, at most.
const MAX_FAIL_WALK: usize = 8;

/// Lets each block that ends in a check, one side of which fails (traps at
/// once, as the stack-in-memory form's bound checks do, or goes straight
/// on to a revert or a trap, as checked arithmetic does), run on through
/// the block on the other side, and through that one's checks in turn: one
/// decoded block where the module has a chain of them.
fn chain_guards(f: &Function, blocks: &mut [DBlock]) {
    let traps = |c: &BlockCall| {
        let data = f.block(c.block);
        data.insts.is_empty() && matches!(data.term, Terminator::Trap(_))
    };
    // Whether the run from `b` ends in a trap or a revert with no choice on
    // the way: only jumps and checks whose other side traps at once.
    let fails_from = |mut b: Block| {
        for _ in 0..MAX_FAIL_WALK {
            match &f.block(b).term {
                Terminator::Trap(_) | Terminator::Exit(ExitKind::Revert, _) => return true,
                Terminator::Jump(c) => b = c.block,
                Terminator::Branch {
                    then_to, else_to, ..
                } if traps(then_to) || traps(else_to) => {
                    b = if traps(then_to) { else_to } else { then_to }.block;
                }
                _ => return false,
            }
        }
        false
    };
    let fails = |e: &DEdge| e.moves.is_empty() && fails_from(e.block);
    // Where a block guards another: (comparison, the side that fails).
    let guard = |db: &DBlock| match &db.term {
        DTerm::BranchCmp {
            c,
            ty,
            a,
            b,
            then_to,
            else_to,
        } => {
            let (fail_when, fail, next) = if fails(then_to) && else_to.moves.is_empty() {
                (true, then_to.block, else_to.block)
            } else if fails(else_to) && then_to.moves.is_empty() {
                (false, else_to.block, then_to.block)
            } else {
                return None;
            };
            Some(DOp::Guard {
                c: *c,
                ty: *ty,
                a: *a,
                b: *b,
                fail_when,
                fail,
                next,
                cost: db.cost as u32,
            })
        }
        _ => None,
    };
    // The chains, built from the blocks as decoded alone, then put in.
    let mut chains = vec![];
    for b in &f.layout {
        let first = &blocks[b.index()];
        let Some(mut g) = guard(first) else {
            continue;
        };
        let mut ops = first.ops.clone();
        let mut cost = first.cost;
        let mut last = *b;
        let mut seen = vec![*b];
        loop {
            let DOp::Guard { next, .. } = g else {
                unreachable!("a guard")
            };
            if seen.contains(&next) || seen.len() >= MAX_CHAIN {
                break;
            }
            seen.push(next);
            let to = &blocks[next.index()];
            ops.push((0, g));
            ops.extend(to.ops.iter().cloned());
            cost += to.cost;
            last = next;
            match guard(to) {
                Some(again) => g = again,
                None => break,
            }
        }
        if last != *b {
            chains.push((*b, ops, cost, last));
        }
    }
    let terms: Vec<DTerm> = chains
        .iter()
        .map(|(_, _, _, last)| blocks[last.index()].term.clone())
        .collect();
    for ((b, ops, cost, _), term) in chains.into_iter().zip(terms) {
        let db = &mut blocks[b.index()];
        let own = std::mem::replace(&mut db.term, term);
        db.alone = Some(Box::new((db.cost, own)));
        db.ops = ops;
        db.cost = cost;
    }
}

/// Gives switches of 4 or more cases a table by value (at most 64 Ki
/// entries, so the code's jump targets fit), those of the most cases first,
/// while the function's tables stay under 1 Mi entries; the rest search.
fn dense_switches(blocks: &mut [DBlock]) {
    let mut switches: Vec<(usize, &mut DTerm)> = blocks
        .iter_mut()
        .flat_map(|db| {
            let alone = db.alone.as_deref_mut().map(|a| &mut a.1);
            std::iter::once(&mut db.term).chain(alone)
        })
        .filter_map(|t| match t {
            DTerm::Switch { keys, .. } if keys.len() >= 4 => Some((keys.len(), t)),
            _ => None,
        })
        .collect();
    switches.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    let mut total = 0u64;
    for (_, t) in switches {
        let DTerm::Switch { keys, dense, .. } = t else {
            continue;
        };
        let span = keys.last().map_or(0, |k| k.saturating_add(1));
        if span <= 1 << 16 && total + span <= 1 << 20 {
            total += span;
            *dense = vec![0u32; span as usize];
            for (i, k) in keys.iter().enumerate() {
                dense[*k as usize] = i as u32 + 1;
            }
        }
    }
}

/// Replaces each two guards in a row that bound one `i64` from below and
/// above by constants (the stack-in-memory form's checks of a stack
/// pointer) with one [`DOp::Bounds`]; returns the guards replaced.
fn pair_guards(blocks: &mut [DBlock], consts64: &[Option<u64>]) -> Vec<[DOp; 2]> {
    // The range a guard lets through: (value, lowest, highest).
    let range = |op: &DOp| match *op {
        DOp::Guard {
            c,
            ty: Type::I64,
            a,
            b,
            fail_when: true,
            ..
        } => {
            let k = consts64.get(b as usize).copied().flatten()?;
            let k = u16::try_from(k).ok()?;
            match c {
                Cond::Ult => Some((a, k, u16::MAX)),
                Cond::Ugt => Some((a, 0, k)),
                _ => None,
            }
        }
        _ => None,
    };
    let mut pairs = vec![];
    for db in blocks {
        let mut k = 0;
        while k + 1 < db.ops.len() {
            let (first, second) = (&db.ops[k].1, &db.ops[k + 1].1);
            if let (Some((a, lo0, hi0)), Some((b, lo1, hi1))) = (range(first), range(second))
                && a == b
                && let (DOp::Guard { cost: c0, .. }, DOp::Guard { cost: c1, next, .. }) =
                    (first, second)
            {
                let (lo, hi) = (lo0.max(lo1), hi0.min(hi1));
                if lo <= hi {
                    let bounds = DOp::Bounds {
                        a,
                        lo,
                        span: hi - lo,
                        cost: c0 + c1,
                        next: *next,
                        pair: pairs.len() as u32,
                    };
                    pairs.push([first.clone(), second.clone()]);
                    db.ops[k].1 = bounds;
                    db.ops.remove(k + 1);
                }
            }
            k += 1;
        }
    }
    pairs
}

/// Makes each stack access (decoded at offset 0 from its index) whose
/// index is an `add.i64 sp, k` of the block one at `sp + k`, and drops the
/// additions only such accesses use.
fn fuse_stack_offsets(ops: &mut Vec<(u32, DOp)>, consts64: &[Option<u64>], uses: &[u32]) {
    // (sp, k) by the addition's result, and how many accesses took it.
    let mut sums: rustc_hash::FxHashMap<u32, (u32, i32, u32)> = Default::default();
    for (_, op) in ops.iter_mut() {
        match *op {
            DOp::Bin64 {
                op: BinOp::Add,
                a,
                b,
                r,
            } => {
                // (Offsets are small: an `i64` constant read as an `i32`.)
                let k = |v: u32| {
                    let c = consts64.get(v as usize).copied().flatten()?;
                    i32::try_from(c as i64).ok()
                };
                if let Some(off) = k(b) {
                    sums.insert(r, (a, off, 0));
                } else if let Some(off) = k(a) {
                    sums.insert(r, (b, off, 0));
                }
            }
            // (Decoded at offset 0 from the index itself.)
            DOp::StackLoadAt {
                ref mut sp,
                ref mut off,
                index,
                ..
            }
            | DOp::StackStoreAt {
                ref mut sp,
                ref mut off,
                index,
                ..
            } => {
                if let Some((s, k, n)) = sums.get_mut(&index) {
                    *n += 1;
                    (*sp, *off) = (*s, *k);
                }
            }
            _ => {}
        }
    }
    ops.retain(|(_, op)| match op {
        DOp::Bin64 {
            op: BinOp::Add, r, ..
        } => sums.get(r).is_none_or(|(_, _, n)| *n != uses[*r as usize]),
        _ => true,
    });
}

/// Lets a comparison whose one use is the `uext` right after it write the
/// widened result itself (0 or 1 either way).
fn fuse_widened_compares(ops: &mut Vec<(u32, DOp)>, uses: &[u32]) {
    // One pass: a mask whose compare took its result is left out.
    let mut out: Vec<(u32, DOp)> = Vec::with_capacity(ops.len());
    for (i, op) in ops.drain(..) {
        if let DOp::Mask { a, r: wide, .. } = op
            && let Some((_, DOp::Cmp { r, .. })) = out.last_mut()
            && *r == a
            && uses[a as usize] == 1
        {
            *r = wide;
            continue;
        }
        out.push((i, op));
    }
    *ops = out;
}

/// Replaces each `mem.expand addr, 32` directly followed by a word load or
/// store at `addr` with one operation (`words[v]`: the value `v` is the
/// constant 32). The pair keeps the expansion's instruction index, where
/// its steps are counted.
fn fuse_word_access(ops: &mut Vec<(u32, DOp)>, words: &[bool]) {
    let mut out = Vec::with_capacity(ops.len());
    let mut it = ops.drain(..).peekable();
    while let Some((i, op)) = it.next() {
        if let DOp::Expand { offset, len } = op
            && words.get(len as usize).copied().unwrap_or(false)
        {
            let fused = match it.peek() {
                Some((at, DOp::LoadWord { addr, r })) if *addr == offset => {
                    Some(DOp::LoadWordGrow {
                        addr: *addr,
                        r: *r,
                        at: *at,
                    })
                }
                Some((at, DOp::StoreWord { addr, v })) if *addr == offset => {
                    Some(DOp::StoreWordGrow {
                        addr: *addr,
                        v: *v,
                        at: *at,
                    })
                }
                _ => None,
            };
            if let Some(fused) = fused {
                it.next();
                out.push((i, fused));
                continue;
            }
        }
        out.push((i, op));
    }
    drop(it);
    *ops = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `e`'s copies as the interpreter does.
    fn apply(e: &DEdge, vals: &mut [u32]) {
        if e.parallel {
            let read: Vec<u32> = e.moves.iter().map(|(a, _)| vals[*a as usize]).collect();
            for ((_, p), v) in e.moves.iter().zip(read) {
                vals[*p as usize] = v;
            }
        } else {
            for (a, p) in &e.moves {
                vals[*p as usize] = vals[*a as usize];
            }
        }
    }

    #[test]
    fn ordered_copies_do_what_parallel_ones_do() {
        let cases: Vec<Vec<(u32, u32)>> = vec![
            // A chain, written in the worst order.
            vec![(0, 1), (1, 2), (2, 3), (3, 4)],
            // One argument to two parameters, a parameter also an argument.
            vec![(5, 0), (5, 1), (0, 2)],
            // A swap and a rotation (cycles), beside a plain copy.
            vec![(0, 1), (1, 0), (6, 7)],
            vec![(0, 1), (1, 2), (2, 0)],
            // Self-copies.
            vec![(3, 3), (4, 5)],
        ];
        for moves in cases {
            let e = DEdge::new(Block::new(0), moves.iter().copied());
            let mut want: Vec<u32> = (100..110).collect();
            let read: Vec<u32> = moves.iter().map(|(a, _)| want[*a as usize]).collect();
            for ((_, p), v) in moves.iter().zip(read) {
                want[*p as usize] = v;
            }
            let mut got: Vec<u32> = (100..110).collect();
            apply(&e, &mut got);
            assert_eq!(got, want, "{moves:?} as {:?}", e.moves);
        }
        // Only cycles need the parallel copy.
        assert!(!DEdge::new(Block::new(0), [(0, 1), (1, 2), (2, 3)].into_iter()).parallel);
        assert!(DEdge::new(Block::new(0), [(0, 1), (1, 0)].into_iter()).parallel);
    }
}
