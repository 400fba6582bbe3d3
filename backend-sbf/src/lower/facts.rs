//! What the lowering knows about the function before it emits anything:
//! the IR's own analysis ([`chainlift_ir::analysis`]: values known at
//! translation, bit bounds, precompile calls, `gas` read only as a limit,
//! memory covered by expands) under this target's assumptions, and how
//! often each value is used and the widest block.

use crate::Target;
use alloy_primitives::U256;
use chainlift_ir::analysis;
use chainlift_ir::entities::Value;
use chainlift_ir::function::Function;
use std::collections::{HashMap, HashSet};

/// A precompile the program runs itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Precompile {
    /// 0x1: `sol_secp256k1_recover`, then `sol_keccak256` of the key.
    EcRecover,
    /// 0x2: `sol_sha256`.
    Sha256,
}

/// The facts, gathered by [`Facts::gather`]: what [`chainlift_ir::analysis`]
/// finds under this target's assumptions, plus use counts and the widest
/// block.
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
    /// An upper bound on each value's significant bits.
    pub(super) bits: Vec<u16>,
    /// The IR analysis itself, for memory coverage.
    pub(super) ir: analysis::Facts,
}

/// What the program makes true of the code it runs, for the IR analysis.
/// In a bundle, calls reach the bundle's contracts, which return data.
/// Init code (`constructor`) has its constructor's arguments after it:
/// its code's length is known when it runs.
pub(crate) fn assumptions(
    code: &[u8],
    target: &Target,
    bundle: bool,
    constructor: bool,
) -> analysis::Assumptions {
    analysis::Assumptions {
        chain_id: Some(target.chain_id),
        code_len: (!constructor).then_some(code.len() as u64),
        // Calls reach only accounts without code, or a precompile the
        // program runs itself (ecrecover, sha256).
        empty_return_data: !bundle,
        precompiles: vec![1, 2],
        wei_bits: 64 + 32 - target.wei_per_lamport.leading_zeros() as u16,
        host_constants: target
            .constants
            .iter()
            .map(|(f, v)| (f.host(), *v))
            .collect(),
    }
}

impl Facts {
    /// The facts of `f`, lifted from `code`, for `target` (in a bundle,
    /// and as init code: see [`assumptions`]).
    pub(super) fn gather(
        f: &Function,
        code: &[u8],
        target: &Target,
        bundle: bool,
        constructor: bool,
    ) -> Facts {
        let ir = analysis::analyze(f, &assumptions(code, target, bundle, constructor));
        let mut uses = vec![0u32; f.values.len()];
        let mut max_params = 0;
        for b in &f.layout {
            let data = f.block(*b);
            max_params = max_params.max(data.params.len());
            for a in data.insts.iter().flat_map(|i| &i.args) {
                uses[a.index()] += 1;
            }
            for v in data.term.uses() {
                uses[v.index()] += 1;
            }
        }
        let precompiles = ir
            .precompile_calls
            .iter()
            .map(|(r, a)| {
                let p = if *a == 1 {
                    Precompile::EcRecover
                } else {
                    Precompile::Sha256
                };
                (*r, p)
            })
            .collect();
        Facts {
            consts: ir.consts.iter().map(|(v, c)| (*v, *c)).collect(),
            uses,
            max_params,
            gas_limit_only: ir.gas_limit_only.iter().copied().collect(),
            precompiles,
            bits: ir.bits.clone(),
            ir,
        }
    }
}
