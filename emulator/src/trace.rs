//! Lockstep tracing: when engines disagree on a call, run two of them again
//! (any that offer [`Engine::trace`]: revm and the IR interpreter today),
//! recording every effect with the EVM pc it comes from, and report the
//! first pc where they part.
//!
//! An effect is a storage or transient-storage write, a log, or the exit
//! (STOP, RETURN, REVERT) with its data; each carries the memory at that
//! point. EIP-3155 traces compare the stack at every instruction, but the
//! IR keeps no EVM stack (stack slots became SSA values) and optimization
//! removes instructions, so the effects and the memory are what the two
//! executions have in common. The first effect, or memory at an effect,
//! that differs is the divergence; its pc on each side says where to look.

use crate::{BlockEnv, Call, Engine, EngineError, World};
use alloy_primitives::U256;
use chainlift_frontend_evm::Fork;

/// At most this many effects are recorded per engine.
pub const MAX_EFFECTS: usize = 100_000;

/// One recorded effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// SSTORE.
    Store {
        /// Slot.
        key: U256,
        /// Value written.
        value: U256,
    },
    /// TSTORE.
    TransientStore {
        /// Slot.
        key: U256,
        /// Value written.
        value: U256,
    },
    /// LOG0..LOG4.
    Log {
        /// Topics.
        topics: Vec<U256>,
        /// Data.
        data: Vec<u8>,
    },
    /// STOP, RETURN or REVERT (`kind`), with the returned data.
    Exit {
        /// `stop`, `return` or `revert`.
        kind: &'static str,
        /// Data.
        data: Vec<u8>,
    },
}

/// An effect at a pc, with the memory at that point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The EVM pc (None when the IR carried no position).
    pub pc: Option<usize>,
    /// The effect.
    pub effect: Effect,
    /// Memory when the effect happened.
    pub memory: Vec<u8>,
}

/// Both traces and where they part.
#[derive(Debug, Clone)]
pub struct Lockstep {
    /// The two engines' names.
    pub engines: [&'static str; 2],
    /// The first engine's effects.
    pub first: Vec<Step>,
    /// The second engine's effects.
    pub second: Vec<Step>,
    /// The first divergence.
    pub divergence: Option<Divergence>,
}

/// Where two traces part.
#[derive(Debug, Clone)]
pub struct Divergence {
    /// Index of the effect in both traces.
    pub index: usize,
    /// Each engine's pc there.
    pub pcs: [Option<usize>; 2],
    /// What differs.
    pub what: String,
}

/// `len` bytes of `memory` from `offset`, zero past its end (at most 1 MiB).
pub(crate) fn slice(memory: &[u8], offset: U256, len: U256) -> Vec<u8> {
    let (Ok(o), Ok(l)) = (usize::try_from(offset), usize::try_from(len)) else {
        return vec![];
    };
    let l = l.min(1 << 20);
    (0..l)
        .map(|i| {
            o.checked_add(i)
                .and_then(|p| memory.get(p))
                .copied()
                .unwrap_or(0)
        })
        .collect()
}

/// Runs `call` in two engines that can trace, recording effects, and finds
/// the first divergence. An engine that cannot trace is an
/// [`EngineError::Unsupported`].
pub fn lockstep(
    first: &dyn Engine,
    second: &dyn Engine,
    world: &World,
    block: &BlockEnv,
    call: &Call,
    fork: Fork,
) -> Result<Lockstep, EngineError> {
    let traced = |e: &dyn Engine| {
        e.trace(world, block, call, fork).unwrap_or_else(|| {
            Err(EngineError::Unsupported {
                engine: e.name(),
                reason: "this engine cannot trace".into(),
            })
        })
    };
    let a = traced(first)?;
    let b = traced(second)?;
    let divergence = first_divergence(&a, &b, first.name(), second.name());
    Ok(Lockstep {
        engines: [first.name(), second.name()],
        first: a,
        second: b,
        divergence,
    })
}

fn first_divergence(a: &[Step], b: &[Step], na: &str, nb: &str) -> Option<Divergence> {
    let n = a.len().max(b.len());
    for i in 0..n {
        let (x, y) = (a.get(i), b.get(i));
        let what = match (x, y) {
            (Some(x), Some(y)) if x.effect != y.effect => {
                format!("{:?} vs {:?}", x.effect, y.effect)
            }
            (Some(x), Some(y)) if x.memory != y.memory => {
                let at = x
                    .memory
                    .iter()
                    .zip(&y.memory)
                    .position(|(p, q)| p != q)
                    .unwrap_or(x.memory.len().min(y.memory.len()));
                format!(
                    "memory differs at byte {at:#x} (sizes {} and {}) before {:?}",
                    x.memory.len(),
                    y.memory.len(),
                    x.effect
                )
            }
            (Some(_), Some(_)) => continue,
            (Some(x), None) => format!("only {na} goes on, with {:?}", x.effect),
            (None, Some(y)) => format!("only {nb} goes on, with {:?}", y.effect),
            (None, None) => unreachable!("i < max(len)"),
        };
        return Some(Divergence {
            index: i,
            pcs: [x.and_then(|s| s.pc), y.and_then(|s| s.pc)],
            what,
        });
    }
    None
}
