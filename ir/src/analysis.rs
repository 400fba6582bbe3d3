//! Facts every backend wants, computed once on the IR.
//!
//! - **Constants**: values made by `iconst`, and host values fixed at
//!   translation (`codesize` is the module's code length; `chainid` and an
//!   empty `returndatasize` when the target says so).
//! - **Bits**: an upper bound on the significant bits of every value, from
//!   how it is made (calldata sizes and block fields fit 64 bits, addresses
//!   160, a mask bounds what it masks, a right shift what it shifts, ...).
//!   Block parameters and anything read from memory, storage or calldata
//!   count as their type's width. A backend skips limbs that are zero anyway.
//! - **Precompile calls**: value-free calls (`staticcall`, or `call` with a
//!   constant zero value) to a constant address among the precompiles the
//!   target runs itself.
//! - **Memory coverage**: the `mem.expand`s of each block, so a backend can
//!   tell that an access is inside memory an earlier expand grew.
//! - **Gas as a limit only**: `gas` values read only as a call's gas limit.

use crate::entities::{Block, Value};
use crate::function::Function;
use crate::inst::{BinOp, CallKind, HostOp, Op};
use alloy_primitives::U256;
use rustc_hash::{FxHashMap, FxHashSet};

/// What the target guarantees about host values, for [`analyze`].
#[derive(Debug, Clone, Default)]
pub struct Assumptions {
    /// `chainid` is this constant.
    pub chain_id: Option<u64>,
    /// The contract's code length (`codesize`), when the module carries it.
    pub code_len: Option<u64>,
    /// Calls leave no return data unless they reach one of
    /// `precompiles`: then `returndatasize` is the constant 0 in a function
    /// with no such call.
    pub empty_return_data: bool,
    /// The precompile addresses the target runs itself.
    pub precompiles: Vec<u64>,
    /// Bits of `callvalue` and `selfbalance` (256 when nothing is known).
    pub wei_bits: u16,
    /// Host operations without operands whose results are constants chosen
    /// at translation (block fields a target has no source for).
    pub host_constants: Vec<(HostOp, U256)>,
}

/// The facts of one function.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Values known at translation.
    pub consts: FxHashMap<Value, U256>,
    /// Upper bound on the significant bits of every value, by index.
    pub bits: Vec<u16>,
    /// Results of calls that reach a precompile the target runs, with its
    /// address.
    pub precompile_calls: FxHashMap<Value, u64>,
    /// `gas` results read only as a call's gas limit.
    pub gas_limit_only: FxHashSet<Value>,
    /// The `mem.expand`s of each block: (instruction index, offset, length).
    expands: FxHashMap<Block, Vec<(usize, Value, Value)>>,
}

/// A memory access's length: a value, or a fixed width in bytes.
#[derive(Debug, Clone, Copy)]
pub enum Len {
    /// The length is this value.
    Value(Value),
    /// The length is this many bytes.
    Bytes(u64),
}

impl Facts {
    /// Whether a `mem.expand` before instruction `before` of `block` grew
    /// memory over `len` bytes from `offset` (the same offset value, and a
    /// length that is the same value or a constant at least as large).
    pub fn covered(&self, block: Block, before: usize, offset: Value, len: Len) -> bool {
        let Some(list) = self.expands.get(&block) else {
            return false;
        };
        list.iter()
            .take_while(|(at, _, _)| *at < before)
            .any(|&(_, o, l)| {
                o == offset
                    && match (len, self.consts.get(&l)) {
                        (Len::Value(v), _) if v == l => true,
                        (Len::Value(v), Some(have)) => {
                            self.consts.get(&v).is_some_and(|n| n <= have)
                        }
                        (Len::Bytes(w), Some(have)) => U256::from(w) <= *have,
                        _ => false,
                    }
            })
    }

    /// The bound on `v`'s bits.
    pub fn bits(&self, v: Value) -> u16 {
        self.bits.get(v.index()).copied().unwrap_or(256)
    }
}

/// Computes the facts of `f` under `assume`.
pub fn analyze(f: &Function, assume: &Assumptions) -> Facts {
    let mut facts = Facts::default();
    let mut return_data_sizes = vec![];
    let mut gas = FxHashSet::default();
    let mut observed = FxHashSet::default();
    for b in &f.layout {
        let data = f.block(*b);
        for i in &data.insts {
            if let (Op::Host(HostOp::Gas), [r]) = (&i.op, i.results.as_slice()) {
                gas.insert(*r);
            }
            let is_call = matches!(i.op, Op::Host(HostOp::Call(_)));
            for (n, a) in i.args.iter().enumerate() {
                if !(is_call && n == 0) {
                    observed.insert(*a);
                }
            }
            let fixed = match &i.op {
                Op::Iconst(c) => Some(*c),
                Op::Host(HostOp::ReturnDataSize) if assume.empty_return_data => Some(U256::ZERO),
                Op::Host(HostOp::ChainId) => assume.chain_id.map(U256::from),
                Op::Host(HostOp::CodeSize) => assume.code_len.map(U256::from),
                Op::Host(h) if i.args.is_empty() => assume
                    .host_constants
                    .iter()
                    .find(|(o, _)| o == h)
                    .map(|(_, c)| *c),
                _ => None,
            };
            if let (Some(c), [r]) = (fixed, i.results.as_slice()) {
                facts.consts.insert(*r, c);
                if i.op == Op::Host(HostOp::ReturnDataSize) {
                    return_data_sizes.push(*r);
                }
            }
        }
        observed.extend(data.term.uses());
    }
    // Return data exists once a call reaches a precompile: decided once, and
    // a `returndatasize` is then not a constant (nor a zero call value).
    for b in &f.layout {
        for i in &f.block(*b).insts {
            if let (Op::Host(HostOp::Call(kind)), [r]) = (&i.op, i.results.as_slice())
                && let Some(p) = precompile(&facts.consts, &return_data_sizes, *kind, &i.args)
                && assume.precompiles.contains(&p)
            {
                facts.precompile_calls.insert(*r, p);
            }
        }
    }
    if !facts.precompile_calls.is_empty() {
        for r in return_data_sizes {
            facts.consts.remove(&r);
        }
    }
    // Expands of a constant zero length grow nothing and cover nothing.
    for b in &f.layout {
        for (k, i) in f.block(*b).insts.iter().enumerate() {
            if let (Op::MemExpand, [o, l]) = (&i.op, i.args.as_slice())
                && facts.consts.get(l).is_none_or(|n| !n.is_zero())
            {
                facts.expands.entry(*b).or_default().push((k, *o, *l));
            }
        }
    }
    facts.gas_limit_only = gas.difference(&observed).copied().collect();
    facts.bits = bit_bounds(f, &facts.consts, assume.wei_bits);
    facts
}

/// The constant address of a value-free call (a `staticcall`, or a `call`
/// whose value is a constant zero that is not a `returndatasize`).
fn precompile(
    consts: &FxHashMap<Value, U256>,
    return_data_sizes: &[Value],
    kind: CallKind,
    args: &[Value],
) -> Option<u64> {
    let value_free = match kind {
        CallKind::StaticCall => true,
        CallKind::Call => args
            .get(2)
            .filter(|v| !return_data_sizes.contains(v))
            .and_then(|v| consts.get(v))
            .is_some_and(|v| v.is_zero()),
        _ => false,
    };
    if !value_free {
        return None;
    }
    args.get(1)
        .and_then(|a| consts.get(a))
        .and_then(|a| u64::try_from(*a).ok())
}

fn bit_bounds(f: &Function, consts: &FxHashMap<Value, U256>, wei_bits: u16) -> Vec<u16> {
    let mut bits = vec![256u16; f.values.len()];
    for (v, c) in consts {
        bits[v.index()] = c.bit_len() as u16;
    }
    // Instruction results depend on their arguments only (block parameters
    // stay at their width), so a few passes in layout order reach the
    // fixpoint.
    loop {
        let mut changed = false;
        for b in &f.layout {
            for i in &f.block(*b).insts {
                let [r] = i.results.as_slice() else { continue };
                let w = |k: usize| bits[i.args[k].index()];
                let c = |k: usize| consts.get(&i.args[k]).map(|c| c.saturating_to::<u16>());
                let n: u16 = match &i.op {
                    Op::Iconst(c) => c.bit_len() as u16,
                    Op::Binary(op) => match op {
                        BinOp::And => w(0).min(w(1)),
                        BinOp::Or | BinOp::Xor => w(0).max(w(1)),
                        BinOp::Add => w(0).max(w(1)) + 1,
                        BinOp::Mul => w(0) + w(1),
                        BinOp::UDiv => w(0),
                        BinOp::URem => w(0).min(w(1)),
                        BinOp::LShr => w(0).saturating_sub(c(1).unwrap_or(0)),
                        BinOp::Shl => w(0).saturating_add(c(1).unwrap_or(256)),
                        _ => 256,
                    },
                    Op::Select => w(1).max(w(2)),
                    Op::Byte => 8,
                    Op::Clz => 9,
                    Op::MemSize => 64,
                    Op::Uext => f.ty(i.args[0]).bits() as u16,
                    Op::Host(h) => match h {
                        HostOp::CallDataSize | HostOp::Number | HostOp::Timestamp => 64,
                        HostOp::Caller | HostOp::Origin | HostOp::Address => 160,
                        HostOp::CallValue | HostOp::SelfBalance => wei_bits,
                        HostOp::Call(_) => 1,
                        _ => 256,
                    },
                    _ => 256,
                };
                let n = n.min(256).min(f.ty(*r).bits() as u16);
                if n < bits[r.index()] {
                    bits[r.index()] = n;
                    changed = true;
                }
            }
        }
        if !changed {
            return bits;
        }
    }
}
