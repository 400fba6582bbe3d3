//! What the lowering knows about the function before it emits anything,
//! from one pass over it: the values known at translation (constants, and
//! host values fixed then), how often each value is used, the widest
//! block, the `gas` values read only as a call's gas limit, the calls that
//! reach a precompile, and an upper bound on every value's bits.

use crate::Target;
use alloy_primitives::U256;
use chainlift_ir::entities::Value;
use chainlift_ir::function::Function;
use chainlift_ir::inst::{BinOp, CallKind, HostOp, Op};
use std::collections::{HashMap, HashSet};

/// A precompile the program runs itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Precompile {
    /// 0x1: `sol_secp256k1_recover`, then `sol_keccak256` of the key.
    EcRecover,
    /// 0x2: `sol_sha256`.
    Sha256,
}

/// The facts, gathered by [`Facts::gather`].
pub(super) struct Facts {
    /// Values known at translation: constants, and the host values fixed
    /// then (`chainid`, `codesize`, and `returndatasize` unless a call
    /// reaches a precompile). They have no slot: they are immediates where
    /// they are used.
    pub(super) consts: HashMap<Value, U256>,
    /// How many times each value is used (by instructions and terminators).
    pub(super) uses: Vec<u32>,
    /// The most parameters any block has.
    pub(super) max_params: usize,
    /// Results of `host.gas` used only as a call's gas limit, which the
    /// program ignores: they are never computed.
    pub(super) gas_limit_only: HashSet<Value>,
    /// The calls (by their result) that reach a precompile.
    pub(super) precompiles: HashMap<Value, Precompile>,
    /// An upper bound on each value's significant bits ([`bit_widths`]).
    pub(super) bits: Vec<u16>,
}

impl Facts {
    /// The facts of `f`, lifted from `code`, for `target`.
    pub(super) fn gather(f: &Function, code: &[u8], target: &Target) -> Facts {
        let mut facts = Facts {
            consts: HashMap::new(),
            uses: vec![0u32; f.values.len()],
            max_params: 0,
            gas_limit_only: HashSet::new(),
            precompiles: HashMap::new(),
            bits: vec![],
        };
        let return_data_sizes = facts.scan(f, code, target);
        facts.find_precompiles(f, &return_data_sizes);
        facts.bits = bit_widths(
            f,
            &facts.consts,
            64 + 32 - target.wei_per_lamport.leading_zeros() as u16,
        );
        facts
    }

    /// One pass for the constants, the use counts, the widest block and
    /// the `gas` values read only as a call's gas limit. Returns the
    /// results of `returndatasize`, which it takes for constant zeros.
    fn scan(&mut self, f: &Function, code: &[u8], target: &Target) -> Vec<Value> {
        let mut gas = HashSet::new();
        let mut observed = HashSet::new();
        let mut return_data_sizes = vec![];
        for b in &f.layout {
            let data = f.block(*b);
            self.max_params = self.max_params.max(data.params.len());
            for i in &data.insts {
                if let (Op::Host(HostOp::Gas), [r]) = (&i.op, i.results.as_slice()) {
                    gas.insert(*r);
                }
                let is_call = matches!(i.op, Op::Host(HostOp::Call(_)));
                for (k, a) in i.args.iter().enumerate() {
                    if !(is_call && k == 0) {
                        observed.insert(*a);
                    }
                }
                // Constants, and host values fixed at translation.
                let fixed = match &i.op {
                    Op::Iconst(c) => Some(*c),
                    Op::Host(HostOp::ReturnDataSize) => Some(U256::ZERO),
                    Op::Host(HostOp::ChainId) => Some(U256::from(target.chain_id)),
                    Op::Host(HostOp::CodeSize) => Some(U256::from(code.len())),
                    _ => None,
                };
                if let (Some(c), [r]) = (fixed, i.results.as_slice()) {
                    self.consts.insert(*r, c);
                    if i.op == Op::Host(HostOp::ReturnDataSize) {
                        return_data_sizes.push(*r);
                    }
                }
                for a in &i.args {
                    self.uses[a.index()] += 1;
                }
            }
            for v in data.term.uses() {
                self.uses[v.index()] += 1;
                observed.insert(v);
            }
        }
        self.gas_limit_only = gas.difference(&observed).copied().collect();
        return_data_sizes
    }

    /// Return data is empty unless a call reaches a precompile. Which calls
    /// do is decided here, once: when one does, a value of
    /// `returndatasize` is no longer taken for a constant zero (it is not
    /// one once return data exists).
    fn find_precompiles(&mut self, f: &Function, return_data_sizes: &[Value]) {
        for b in &f.layout {
            for i in &f.block(*b).insts {
                if let (Op::Host(HostOp::Call(kind)), [r]) = (&i.op, i.results.as_slice())
                    && let Some(p) = precompile(&self.consts, return_data_sizes, *kind, &i.args)
                {
                    self.precompiles.insert(*r, p);
                }
            }
        }
        if !self.precompiles.is_empty() {
            for r in return_data_sizes {
                self.consts.remove(r);
            }
        }
    }
}

/// The precompile a call reaches: a `call` without value or a
/// `staticcall` to the constant address 1 or 2.
fn precompile(
    consts: &HashMap<Value, U256>,
    return_data_sizes: &[Value],
    kind: CallKind,
    args: &[Value],
) -> Option<Precompile> {
    let value_free = match kind {
        CallKind::StaticCall => true,
        CallKind::Call => args
            .get(2)
            .filter(|v| !return_data_sizes.contains(v))
            .and_then(|v| consts.get(v))
            .is_some_and(|v| v.is_zero()),
        _ => false,
    };
    match args.get(1).and_then(|a| consts.get(a)) {
        Some(a) if value_free && *a == U256::from(1) => Some(Precompile::EcRecover),
        Some(a) if value_free && *a == U256::from(2) => Some(Precompile::Sha256),
        _ => None,
    }
}

/// An upper bound on the number of significant bits of every value, from
/// how it is made: calldata sizes and block fields fit 64 bits, addresses
/// 160, a mask bounds what it masks, a right shift what it shifts, and so
/// on. Block parameters and anything read from memory, storage or calldata
/// count as 256. Lets the lowering skip limbs that are zero anyway.
fn bit_widths(f: &Function, consts: &HashMap<Value, U256>, wei_bits: u16) -> Vec<u16> {
    let mut bits = vec![256u16; f.values.len()];
    for (v, c) in consts {
        bits[v.index()] = c.bit_len() as u16;
    }
    // Instruction results depend on their arguments only (block parameters
    // stay 256), so a few passes in layout order reach the fixpoint.
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
