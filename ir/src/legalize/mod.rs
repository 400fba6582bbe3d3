//! 256-bit legalization: a module with no `i256` anywhere.
//!
//! Targets without 256-bit registers (WASM, Cranelift) start from this form,
//! as Cranelift's own legalizer turns wide types into what an ISA has. Every
//! `i256` value becomes four `i64` limbs, least significant first:
//!
//! - block parameters, function parameters and results, and call operands
//!   become four `i64` each;
//! - `add`, `sub`, bitwise operations, comparisons, `select`, conversions and
//!   constants become limb code in place (carry and borrow chains, the top
//!   limb deciding an ordered comparison);
//! - `mul`, division and remainder, `addmod`, `mulmod` (with the 512-bit
//!   intermediate), `exp`, shifts, `signextend`, `byte` and `clz` become
//!   calls to helper functions ([`Helper`]) added to the module once, on
//!   first use, after its own functions (so every `fnN` keeps its number);
//! - an `i256` memory address or length becomes an `i64`: the word when it
//!   is below 2^63, else 2^63, which no memory reaches (so the access traps
//!   exactly where the word would); word loads and stores become four
//!   `i64` accesses in the word's byte order, a store writing its highest
//!   address first so that a store that traps writes nothing;
//! - host operations and exits take each word as four `i64` limbs and give
//!   each word result as four (the limb form the verifier accepts beside
//!   the `i256` one), so a backend passes words to its host however its ABI
//!   wants (by pointer for Stylus and native callbacks);
//! - a `switch` on an `i256` compares the high limbs first, then switches on
//!   the low one.
//!
//! The result verifies, holds no `i256`, and runs in the reference
//! interpreter with exactly the outcomes of its input (a property test and
//! every `run` file test check it).

mod builder;
pub mod runtime;

pub use runtime::Helper;

use crate::entities::{Block, Value};
use crate::function::{BlockCall, Function, Inst, Module, Terminator};
use crate::inst::{BinOp, Cond, Endian, Op};
use crate::types::Type;
use builder::{Builder, Word};
use runtime::Runtime;

/// How an input value is represented in the output.
#[derive(Debug, Clone, Copy)]
enum Lowered {
    /// A value of a type the output keeps.
    One(Value),
    /// An `i256` as four `i64` limbs, least significant first.
    Wide(Word),
}

/// The legalized copy of `m`: no `i256` anywhere; the module's functions
/// keep their numbers and the helpers follow them.
pub fn legalize(m: &Module) -> Module {
    let mut rt = Runtime::new(m.functions.len());
    let mut functions: Vec<Function> = m
        .functions
        .iter()
        .map(|f| legalize_function(f, &mut rt))
        .collect();
    functions.append(&mut rt.functions);
    Module {
        functions,
        tables: m.tables.clone(),
        code: m.code.clone(),
    }
}

/// The output types of an input type.
fn flat_types(tys: &[Type]) -> Vec<Type> {
    tys.iter()
        .flat_map(|t| match t {
            Type::I256 => vec![Type::I64; 4],
            t => vec![*t],
        })
        .collect()
}

/// Whether a module holds an `i256` value or signature anywhere (a load or
/// store of a word has an `i256` value too).
pub fn has_i256(m: &Module) -> bool {
    m.functions.iter().any(|f| {
        f.values.contains(&Type::I256)
            || f.params.contains(&Type::I256)
            || f.returns.contains(&Type::I256)
    })
}

struct Map {
    values: Vec<Option<Lowered>>,
    /// Input values defined by `iconst`, so operations by constants (shifts,
    /// multiplication and division by powers of two) become limb code in
    /// place.
    consts: rustc_hash::FxHashMap<Value, alloy_primitives::U256>,
}

impl Map {
    fn set(&mut self, old: Value, l: Lowered) {
        self.values[old.index()] = Some(l);
    }

    fn get(&self, v: Value) -> Lowered {
        // A verified input defines every value before its uses.
        self.values
            .get(v.index())
            .copied()
            .flatten()
            .unwrap_or(Lowered::One(v))
    }

    fn one(&self, v: Value) -> Value {
        match self.get(v) {
            Lowered::One(x) => x,
            Lowered::Wide(w) => w[0],
        }
    }

    fn wide(&self, v: Value) -> Word {
        match self.get(v) {
            Lowered::Wide(w) => w,
            Lowered::One(x) => [x; 4],
        }
    }

    fn flat(&self, vs: &[Value]) -> Vec<Value> {
        let mut out = Vec::with_capacity(vs.len());
        for v in vs {
            match self.get(*v) {
                Lowered::One(x) => out.push(x),
                Lowered::Wide(w) => out.extend_from_slice(&w),
            }
        }
        out
    }

    fn call(&self, c: &BlockCall, blocks: &[Block]) -> BlockCall {
        BlockCall {
            block: blocks[c.block.index()],
            args: self.flat(&c.args),
        }
    }
}

fn legalize_function(old: &Function, rt: &mut Runtime) -> Function {
    let mut f = Function::new(
        old.name.clone(),
        flat_types(&old.params),
        flat_types(&old.returns),
    );
    let mut map = Map {
        values: vec![None; old.values.len()],
        consts: Default::default(),
    };
    for ob in &old.layout {
        for inst in &old.block(*ob).insts {
            if let (Op::Iconst(k), [r]) = (&inst.op, inst.results.as_slice()) {
                map.consts.insert(*r, *k);
            }
        }
    }
    let mut blocks = vec![Block::new(0); old.blocks.len()];
    for ob in &old.layout {
        let nb = f.new_block();
        blocks[ob.index()] = nb;
        let mut params = vec![];
        for p in &old.block(*ob).params {
            let l = new_result(&mut f, old.ty(*p));
            push_flat(&mut params, l);
            map.set(*p, l);
        }
        f.block_mut(nb).params = params;
    }
    // Reachable blocks in reverse postorder, so every definition is lowered
    // before its uses (a dominator may come later in the layout). A block
    // nothing reaches keeps its parameters and becomes `trap unreachable`:
    // it never runs, and its body may use values in no useful order.
    for ob in reverse_postorder(old) {
        let data = old.block(ob);
        let mut b = Builder::new(&mut f, blocks[ob.index()], Default::default());
        for inst in &data.insts {
            b.pos = inst.pos;
            lower_inst(&mut b, &mut map, rt, old, inst);
        }
        b.pos = data.term_pos;
        lower_terminator(&mut b, &map, &blocks, &data.term);
    }
    f
}

/// The blocks reachable from the entry, in reverse postorder.
fn reverse_postorder(f: &Function) -> Vec<Block> {
    let Some(entry) = f.entry() else {
        return vec![];
    };
    let mut seen = vec![false; f.blocks.len()];
    let mut order = vec![];
    let mut stack = vec![(entry, 0usize)];
    seen[entry.index()] = true;
    while let Some((b, i)) = stack.pop() {
        let succs: Vec<Block> = f.block(b).term.targets().map(|c| c.block).collect();
        if let Some(s) = succs.get(i) {
            stack.push((b, i + 1));
            if !seen[s.index()] {
                seen[s.index()] = true;
                stack.push((*s, 0));
            }
        } else {
            order.push(b);
        }
    }
    order.reverse();
    order
}

fn new_result(f: &mut Function, ty: Type) -> Lowered {
    match ty {
        Type::I256 => Lowered::Wide([
            f.new_value(Type::I64),
            f.new_value(Type::I64),
            f.new_value(Type::I64),
            f.new_value(Type::I64),
        ]),
        t => Lowered::One(f.new_value(t)),
    }
}

fn push_flat(out: &mut Vec<Value>, l: Lowered) {
    match l {
        Lowered::One(v) => out.push(v),
        Lowered::Wide(w) => out.extend_from_slice(&w),
    }
}

fn word_of(v: &[Value]) -> Word {
    [v[0], v[1], v[2], v[3]]
}

/// An `i64` address or length for any operand: see the module doc.
fn address(b: &mut Builder, map: &Map, v: Value) -> Value {
    match map.get(v) {
        Lowered::Wide(w) => b.saturate(&w),
        Lowered::One(x) => match b.f.ty(x) {
            Type::I64 => {
                let big = b.icmp_k(Cond::Uge, x, 1 << 63);
                let cap = b.i64(1 << 63);
                b.select(big, cap, x)
            }
            _ => b.uext(x, Type::I64),
        },
    }
}

/// Rewrites one instruction into `b`.
fn lower_inst(b: &mut Builder, map: &mut Map, rt: &mut Runtime, old: &Function, inst: &Inst) {
    let arg_ty = |i: usize| old.ty(inst.args[i]);
    let res_ty = inst.results.first().map(|r| old.ty(*r));
    let wide_result = res_ty == Some(Type::I256);
    let set_word = |map: &mut Map, w: Word| map.set(inst.results[0], Lowered::Wide(w));
    let helper = |b: &mut Builder, rt: &mut Runtime, map: &Map, h: Helper| -> Vec<Value> {
        let args = map.flat(&inst.args);
        rt.call(b, h, &args)
    };
    match &inst.op {
        Op::Iconst(k) if wide_result => {
            let w = b.word_const(*k);
            set_word(map, w);
        }
        Op::Binary(op) if wide_result && by_constant(map, *op, inst).is_some() => {
            let x = map.wide(inst.args[0]);
            let (op, k) = by_constant(map, *op, inst).expect("checked by the guard");
            let w = const_shift(b, op, &x, k);
            set_word(map, w);
        }
        Op::Binary(op) if wide_result => {
            let (x, y) = (map.wide(inst.args[0]), map.wide(inst.args[1]));
            let w = match op {
                BinOp::Add => b.add_carry(&x, &y).0,
                BinOp::Sub => b.sub_borrow(&x, &y).0,
                BinOp::And | BinOp::Or | BinOp::Xor => [0, 1, 2, 3].map(|i| b.bin(*op, x[i], y[i])),
                BinOp::Mul => word_of(&helper(b, rt, map, Helper::Mul)),
                BinOp::UDiv => word_of(&helper(b, rt, map, Helper::DivRem)),
                BinOp::URem => word_of(&helper(b, rt, map, Helper::DivRem)[4..]),
                BinOp::SDiv => word_of(&helper(b, rt, map, Helper::SDivRem)),
                BinOp::SRem => word_of(&helper(b, rt, map, Helper::SDivRem)[4..]),
                BinOp::Shl => word_of(&helper(b, rt, map, Helper::Shl)),
                BinOp::LShr => word_of(&helper(b, rt, map, Helper::LShr)),
                BinOp::AShr => word_of(&helper(b, rt, map, Helper::AShr)),
                BinOp::Rotl | BinOp::Rotr => rotate(b, rt, *op == BinOp::Rotl, &x, &y),
            };
            set_word(map, w);
        }
        Op::Not if wide_result => {
            let x = map.wide(inst.args[0]);
            let w = x.map(|l| b.not(l));
            set_word(map, w);
        }
        Op::Icmp(c) if arg_ty(0) == Type::I256 => {
            let (x, y) = (map.wide(inst.args[0]), map.wide(inst.args[1]));
            let r = b.compare(*c, &x, &y);
            map.set(inst.results[0], Lowered::One(r));
        }
        Op::Select if wide_result => {
            let c = map.one(inst.args[0]);
            let (x, y) = (map.wide(inst.args[1]), map.wide(inst.args[2]));
            let w = b.select_word(c, &x, &y);
            set_word(map, w);
        }
        Op::Uext | Op::Sext if wide_result && arg_ty(0) == Type::I256 => {
            // A word "extended" to a word is itself.
            let w = map.wide(inst.args[0]);
            set_word(map, w);
        }
        Op::Uext | Op::Sext if wide_result => {
            let x = map.one(inst.args[0]);
            let signed = inst.op == Op::Sext;
            let lo = match (b.f.ty(x), signed) {
                (Type::I64, _) => x,
                (_, false) => b.uext(x, Type::I64),
                (_, true) => b.ins(Op::Sext, &[x], &[Type::I64])[0],
            };
            let hi = if signed {
                b.bin_k(BinOp::AShr, lo, 63)
            } else {
                b.i64(0)
            };
            set_word(map, [lo, hi, hi, hi]);
        }
        Op::Trunc if arg_ty(0) == Type::I256 => {
            let lo = map.wide(inst.args[0])[0];
            let t = res_ty.unwrap_or(Type::I64);
            let r = match t {
                Type::I64 => Lowered::One(lo),
                Type::I256 => Lowered::Wide(map.wide(inst.args[0])),
                t => Lowered::One(b.ins(Op::Trunc, &[lo], &[t])[0]),
            };
            map.set(inst.results[0], r);
        }
        Op::AddMod => set_word(map, word_of(&helper(b, rt, map, Helper::AddMod))),
        Op::MulMod => set_word(map, word_of(&helper(b, rt, map, Helper::MulMod))),
        Op::Exp => set_word(map, word_of(&helper(b, rt, map, Helper::Exp))),
        Op::SignExtend => set_word(map, word_of(&helper(b, rt, map, Helper::SignExtend))),
        Op::Byte => set_word(map, word_of(&helper(b, rt, map, Helper::Byte))),
        Op::Clz if wide_result => set_word(map, word_of(&helper(b, rt, map, Helper::Clz))),
        Op::Load(Type::I256, e) => {
            let a = address(b, map, inst.args[0]);
            let mut w = [a; 4];
            for (k, part) in parts(*e) {
                let at = b.bin_k(BinOp::Add, a, 8 * k as u64);
                w[part] = b.ins(Op::Load(Type::I64, *e), &[at], &[Type::I64])[0];
            }
            set_word(map, w);
        }
        Op::Store(Type::I256, e) => {
            let a = address(b, map, inst.args[0]);
            let w = map.wide(inst.args[1]);
            for (k, part) in parts(*e).into_iter().rev() {
                let at = b.bin_k(BinOp::Add, a, 8 * k as u64);
                b.ins(Op::Store(Type::I64, *e), &[at, w[part]], &[]);
            }
        }
        Op::Load(..) | Op::Store(..) if arg_ty(0) == Type::I256 => {
            let a = address(b, map, inst.args[0]);
            let mut args = vec![a];
            args.extend(inst.args[1..].iter().map(|v| map.one(*v)));
            let tys: Vec<Type> = inst.results.iter().map(|r| old.ty(*r)).collect();
            let rs = b.ins(inst.op.clone(), &args, &tys);
            for (o, n) in inst.results.iter().zip(rs) {
                map.set(*o, Lowered::One(n));
            }
        }
        Op::MemCopy | Op::MemFill | Op::MemExpand => {
            let args: Vec<Value> = inst
                .args
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if inst.op == Op::MemFill && i == 1 {
                        map.wide(*v)[0]
                    } else {
                        address(b, map, *v)
                    }
                })
                .collect();
            b.ins(inst.op.clone(), &args, &[]);
        }
        Op::MemSize if wide_result => {
            let s = b.ins(Op::MemSize, &[], &[Type::I64])[0];
            let z = b.i64(0);
            set_word(map, [s, z, z, z]);
        }
        Op::MemGrow if wide_result => {
            let d = address(b, map, inst.args[0]);
            let r = b.ins(Op::MemGrow, &[d], &[Type::I64])[0];
            let failed = b.icmp_k(Cond::Eq, r, u64::MAX);
            let ones = b.i64(u64::MAX);
            let z = b.i64(0);
            let hi = b.select(failed, ones, z);
            set_word(map, [r, hi, hi, hi]);
        }
        // A word of the EVM stack is four limbs at index * 4 + k.
        Op::StackLoad if wide_result => {
            let base = b.bin_k(BinOp::Shl, map.one(inst.args[0]), 2);
            let mut w = [base; 4];
            for (k, limb) in w.iter_mut().enumerate() {
                let at = b.bin_k(BinOp::Add, base, k as u64);
                *limb = b.ins(Op::StackLoad, &[at], &[Type::I64])[0];
            }
            set_word(map, w);
        }
        Op::StackStore if arg_ty(1) == Type::I256 => {
            let base = b.bin_k(BinOp::Shl, map.one(inst.args[0]), 2);
            let w = map.wide(inst.args[1]);
            for (k, limb) in w.into_iter().enumerate() {
                let at = b.bin_k(BinOp::Add, base, k as u64);
                b.ins(Op::StackStore, &[at, limb], &[]);
            }
        }
        Op::CallIndirect(_) => {
            let mut args = vec![address(b, map, inst.args[0])];
            args.extend(map.flat(&inst.args[1..]));
            generic(b, map, old, inst, args);
        }
        _ => {
            let args = map.flat(&inst.args);
            generic(b, map, old, inst, args);
        }
    }
}

/// A binary operation by a constant that is a shift by `k` bits, or a mask
/// of the low `k` bits (`And`), in limb code: shifts by a constant, and
/// multiplication, unsigned division and remainder by a power of two.
fn by_constant(map: &Map, op: BinOp, inst: &Inst) -> Option<(BinOp, usize)> {
    let k = *map.consts.get(&inst.args[1])?;
    let log2 = |k: alloy_primitives::U256| (k.count_ones() == 1).then(|| k.bit_len() - 1);
    match op {
        BinOp::Shl | BinOp::LShr | BinOp::AShr => {
            Some((op, usize::try_from(k).unwrap_or(256).min(256)))
        }
        BinOp::Mul => Some((BinOp::Shl, log2(k)?)),
        BinOp::UDiv => Some((BinOp::LShr, log2(k)?)),
        BinOp::URem => Some((BinOp::And, log2(k)?)),
        _ => None,
    }
}

/// `x` shifted by the constant `k` (at most 256), or its low `k` bits for
/// `And`.
fn const_shift(b: &mut Builder, op: BinOp, x: &Word, k: usize) -> Word {
    let zero = b.i64(0);
    if op == BinOp::And {
        let mut r = [zero; 4];
        for i in 0..4 {
            let lo = 64 * i;
            r[i] = if k >= lo + 64 {
                x[i]
            } else if k > lo {
                b.bin_k(BinOp::And, x[i], (1u64 << (k - lo)) - 1)
            } else {
                zero
            };
        }
        return r;
    }
    let fill = if op == BinOp::AShr {
        b.bin_k(BinOp::AShr, x[3], 63)
    } else {
        zero
    };
    let (q, n) = (k / 64, (k % 64) as u64);
    // The limb at index i of x, or the fill outside.
    let limb = |i: isize| -> Value {
        if (0..4).contains(&i) {
            x[i as usize]
        } else if i < 0 {
            zero
        } else {
            fill
        }
    };
    let mut r = [fill; 4];
    for i in 0..4isize {
        let q = q as isize;
        r[i as usize] = if op == BinOp::Shl {
            let main = limb(i - q);
            if n == 0 || i - q < 0 {
                if i - q < 0 { zero } else { main }
            } else {
                let hi = b.bin_k(BinOp::Shl, main, n);
                let from = limb(i - q - 1);
                let lo = b.bin_k(BinOp::LShr, from, 64 - n);
                b.or(hi, lo)
            }
        } else {
            let main = limb(i + q);
            if i + q >= 4 {
                fill
            } else if n == 0 {
                main
            } else {
                let shifted = if op == BinOp::AShr && i + q == 3 {
                    b.bin_k(BinOp::AShr, main, n)
                } else {
                    b.bin_k(BinOp::LShr, main, n)
                };
                if i + q == 3 {
                    shifted
                } else {
                    let from = limb(i + q + 1);
                    let hi = b.bin_k(BinOp::Shl, from, 64 - n);
                    b.or(shifted, hi)
                }
            }
        };
    }
    r
}

/// The instruction as it is, on lowered operands, with each result
/// (an `i256` as four `i64`).
fn generic(b: &mut Builder, map: &mut Map, old: &Function, inst: &Inst, args: Vec<Value>) {
    let tys: Vec<Type> = flat_types(&inst.results.iter().map(|r| old.ty(*r)).collect::<Vec<_>>());
    let rs = b.ins(inst.op.clone(), &args, &tys);
    let mut it = rs.into_iter();
    for r in &inst.results {
        let l = match old.ty(*r) {
            Type::I256 => {
                let w: Vec<Value> = it.by_ref().take(4).collect();
                Lowered::Wide(word_of(&w))
            }
            _ => Lowered::One(it.next().expect("one result per type")),
        };
        map.set(*r, l);
    }
}

/// (8-byte offset, limb) of a word's four parts in memory, in address order.
fn parts(e: Endian) -> [(usize, usize); 4] {
    match e {
        Endian::Big => [(0, 3), (1, 2), (2, 1), (3, 0)],
        Endian::Little => [(0, 0), (1, 1), (2, 2), (3, 3)],
    }
}

/// Rotation by `s mod 256`: two shifts and an or.
fn rotate(b: &mut Builder, rt: &mut Runtime, left: bool, x: &Word, s: &Word) -> Word {
    let k = b.bin_k(BinOp::And, s[0], 255);
    let k256 = b.i64(256);
    let back = b.sub(k256, k);
    let z = b.i64(0);
    let (first, second) = if left {
        (Helper::Shl, Helper::LShr)
    } else {
        (Helper::LShr, Helper::Shl)
    };
    let mut args = x.to_vec();
    args.extend_from_slice(&[k, z, z, z]);
    let a = rt.call(b, first, &args);
    let mut args = x.to_vec();
    args.extend_from_slice(&[back, z, z, z]);
    let c = rt.call(b, second, &args);
    [0, 1, 2, 3].map(|i| b.or(a[i], c[i]))
}

fn lower_terminator(b: &mut Builder, map: &Map, blocks: &[Block], term: &Terminator) {
    let t = match term {
        Terminator::Jump(c) => Terminator::Jump(map.call(c, blocks)),
        Terminator::Branch {
            cond,
            then_to,
            else_to,
        } => Terminator::Branch {
            cond: map.one(*cond),
            then_to: map.call(then_to, blocks),
            else_to: map.call(else_to, blocks),
        },
        Terminator::Switch {
            value,
            cases,
            default,
        } => match map.get(*value) {
            Lowered::One(v) => Terminator::Switch {
                value: v,
                cases: cases
                    .iter()
                    .map(|(k, c)| (*k, map.call(c, blocks)))
                    .collect(),
                default: map.call(default, blocks),
            },
            Lowered::Wide(w) => {
                return wide_switch(b, map, blocks, &w, cases, default);
            }
        },
        Terminator::Return(vs) => Terminator::Return(map.flat(vs)),
        Terminator::Exit(kind, vs) => Terminator::Exit(*kind, map.flat(vs)),
        Terminator::Trap(code) => Terminator::Trap(*code),
    };
    b.terminate(t);
}

/// A switch on a word: cases that do not fit 64 bits are compared one by
/// one; then the high limbs must be zero, and the low limb switches.
fn wide_switch(
    b: &mut Builder,
    map: &Map,
    blocks: &[Block],
    w: &Word,
    cases: &[(alloy_primitives::U256, BlockCall)],
    default: &BlockCall,
) {
    let default = map.call(default, blocks);
    for (k, c) in cases.iter().filter(|(k, _)| k.bit_len() > 64) {
        let kw = b.word_const(*k);
        let eq = b.compare(Cond::Eq, w, &kw);
        let (next, _) = b.block_with(0);
        let target = map.call(c, blocks);
        b.terminate(Terminator::Branch {
            cond: eq,
            then_to: target,
            else_to: BlockCall::new(next),
        });
        b.block = next;
    }
    let small: Vec<(alloy_primitives::U256, BlockCall)> = cases
        .iter()
        .filter(|(k, _)| k.bit_len() <= 64)
        .map(|(k, c)| (*k, map.call(c, blocks)))
        .collect();
    if small.is_empty() {
        b.terminate(Terminator::Jump(default));
        return;
    }
    let high = b.nonzero(&w[1..]);
    let (low, _) = b.block_with(0);
    b.terminate(Terminator::Branch {
        cond: high,
        then_to: default.clone(),
        else_to: BlockCall::new(low),
    });
    b.block = low;
    b.terminate(Terminator::Switch {
        value: w[0],
        cases: small,
        default,
    });
}
