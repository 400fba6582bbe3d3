//! Lockstep tracing: when engines disagree on a call, run revm and the IR
//! interpreter again, recording every effect with the EVM pc it comes from,
//! and report the first pc where they part.
//!
//! An effect is a storage or transient-storage write, a log, or the exit
//! (STOP, RETURN, REVERT) with its data; each carries the memory at that
//! point. EIP-3155 traces compare the stack at every instruction, but the
//! IR keeps no EVM stack (stack slots became SSA values) and optimization
//! removes instructions, so the effects and the memory are what the two
//! executions have in common. The first effect, or memory at an effect,
//! that differs is the divergence; its pc on each side says where to look.

use crate::evm::{context, spec, transaction};
use crate::ir::IrEngine;
use crate::{BlockEnv, Call, EngineError, World};
use alloy_primitives::{Address, U256};
use chainlift_frontend_evm::Fork;
use revm::context::{ContextTr, JournalTr};
use revm::interpreter::Interpreter;
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_types::{InputsTr, Jumps, MemoryTr};
use revm::primitives::TxKind;
use revm::{InspectEvm, Inspector, MainBuilder};

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
    /// revm's effects.
    pub evm: Vec<Step>,
    /// The IR interpreter's effects.
    pub ir: Vec<Step>,
    /// The first divergence.
    pub divergence: Option<Divergence>,
}

/// Where two traces part.
#[derive(Debug, Clone)]
pub struct Divergence {
    /// Index of the effect in both traces.
    pub index: usize,
    /// revm's pc there.
    pub evm_pc: Option<usize>,
    /// The IR's pc there.
    pub ir_pc: Option<usize>,
    /// What differs.
    pub what: String,
}

/// Records the effects of the frame running `target`'s code at depth 1.
struct Recorder {
    target: Address,
    steps: Vec<Step>,
}

fn slice(memory: &[u8], offset: U256, len: U256) -> Vec<u8> {
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

impl<CTX: ContextTr> Inspector<CTX, EthInterpreter> for Recorder {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        if self.steps.len() >= MAX_EFFECTS
            || interp.input.target_address() != self.target
            || context.journal_ref().depth() != 1
        {
            return;
        }
        let op = interp.bytecode.opcode();
        if !matches!(op, 0x00 | 0x55 | 0x5d | 0xa0..=0xa4 | 0xf3 | 0xfd) {
            return;
        }
        let stack = interp.stack.data();
        let peek = |i: usize| {
            stack
                .len()
                .checked_sub(1 + i)
                .and_then(|j| stack.get(j))
                .copied()
        };
        let memory = interp.memory.slice(0..interp.memory.size()).to_vec();
        let effect = match op {
            0x55 | 0x5d => {
                let (Some(key), Some(value)) = (peek(0), peek(1)) else {
                    return;
                };
                if op == 0x55 {
                    Effect::Store { key, value }
                } else {
                    Effect::TransientStore { key, value }
                }
            }
            0xa0..=0xa4 => {
                let n = usize::from(op - 0xa0);
                let (Some(o), Some(l)) = (peek(0), peek(1)) else {
                    return;
                };
                let topics: Option<Vec<U256>> = (0..n).map(|i| peek(2 + i)).collect();
                let Some(topics) = topics else { return };
                Effect::Log {
                    topics,
                    data: slice(&memory, o, l),
                }
            }
            0x00 => Effect::Exit {
                kind: "stop",
                data: vec![],
            },
            0xf3 | 0xfd => {
                let (Some(o), Some(l)) = (peek(0), peek(1)) else {
                    return;
                };
                Effect::Exit {
                    kind: if op == 0xf3 { "return" } else { "revert" },
                    data: slice(&memory, o, l),
                }
            }
            _ => return,
        };
        self.steps.push(Step {
            pc: Some(interp.bytecode.pc()),
            effect,
            memory,
        });
    }
}

/// Runs `call` in revm and in the IR interpreter, recording effects, and
/// finds the first divergence.
pub fn lockstep(
    ir: &IrEngine,
    world: &World,
    block: &BlockEnv,
    call: &Call,
    fork: Fork,
) -> Result<Lockstep, EngineError> {
    let spec = spec(fork);
    let recorder = Recorder {
        target: call.to,
        steps: vec![],
    };
    let mut evm = context(world, block, spec).build_mainnet_with_inspector(recorder);
    let tx = transaction(world, block, spec, call, TxKind::Call(call.to))?;
    evm.inspect_tx(tx).map_err(|e| EngineError::Translate {
        address: call.to,
        reason: format!("revm: {e:?}"),
    })?;
    let evm_steps = std::mem::take(&mut evm.inspector.steps);
    let (_, ir_steps) = ir.run_traced(world, block, call, fork, true)?;
    let ir_steps = ir_steps.unwrap_or_default();
    let divergence = first_divergence(&evm_steps, &ir_steps);
    Ok(Lockstep {
        evm: evm_steps,
        ir: ir_steps,
        divergence,
    })
}

fn first_divergence(a: &[Step], b: &[Step]) -> Option<Divergence> {
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
            (Some(x), None) => format!("only revm goes on, with {:?}", x.effect),
            (None, Some(y)) => format!("only the IR goes on, with {:?}", y.effect),
            (None, None) => unreachable!("i < max(len)"),
        };
        return Some(Divergence {
            index: i,
            evm_pc: x.and_then(|s| s.pc),
            ir_pc: y.and_then(|s| s.pc),
            what,
        });
    }
    None
}

/// Notes whether any frame ran out of gas.
#[derive(Default)]
struct OutOfGasProbe {
    seen: bool,
}

impl<CTX: ContextTr> Inspector<CTX, EthInterpreter> for OutOfGasProbe {
    fn call_end(
        &mut self,
        _context: &mut CTX,
        _inputs: &revm::interpreter::CallInputs,
        outcome: &mut revm::interpreter::CallOutcome,
    ) {
        // OutOfGas and every `…OOG` kind (memory, precompile, operand,
        // the SSTORE reentrancy sentry).
        let r = format!("{:?}", outcome.result.result);
        if r.contains("OutOfGas") || r.ends_with("OOG") {
            self.seen = true;
        }
    }
}

/// Whether any frame of `call` (the outermost or a nested one) runs out of
/// gas on revm: then what users see depends on gas accounting.
pub fn runs_out_of_gas(
    world: &World,
    block: &BlockEnv,
    call: &Call,
    fork: Fork,
) -> Result<bool, EngineError> {
    let spec = spec(fork);
    let mut evm =
        context(world, block, spec).build_mainnet_with_inspector(OutOfGasProbe::default());
    let tx = transaction(world, block, spec, call, TxKind::Call(call.to))?;
    let out = evm.inspect_tx(tx).map_err(|e| EngineError::Translate {
        address: call.to,
        reason: format!("revm: {e:?}"),
    })?;
    let top = matches!(&out.result, revm::context_interface::result::ExecutionResult::Halt { reason, .. } if format!("{reason:?}").contains("OutOfGas"));
    Ok(evm.inspector.seen || top)
}
