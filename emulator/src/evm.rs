//! The `evm` engine: revm, the oracle. The world is loaded into an in-memory
//! database, the call is sent as a transaction without committing, and the
//! result and state changes are normalized. Transaction checks that are not
//! what the emulator compares (nonce, balance for fees, base fee, block gas
//! limit) are switched off, so any call can be replayed from any state.

use crate::trace;
use crate::{BlockEnv, Call, Cost, Engine, EngineError, Log, Outcome, Status, World};
use alloy_primitives::{Address, U256};
use chainlift_frontend_evm::Fork;
use chainlift_frontend_evm::opcode::op;
use revm::bytecode::Bytecode;
use revm::context::{BlockEnv as RevmBlock, CfgEnv, Context, TxEnv};
use revm::context::{ContextTr, JournalTr};
use revm::context_interface::result::{EVMError, ExecutionResult, Output};
use revm::database::{CacheDB, EmptyDB};
use revm::interpreter::Interpreter;
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_types::{InputsTr, Jumps, MemoryTr};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{B256, Bytes, TxKind};
use revm::state::AccountInfo;
use revm::{ExecuteEvm, InspectEvm, Inspector, MainBuilder, MainContext};

/// The revm engine.
#[derive(Debug, Clone, Default)]
pub struct EvmEngine;

/// The revm rules for a fork (revm has no separate Constantinople: it is
/// Petersburg without EIP-1283, what mainnet ran).
pub fn spec(fork: Fork) -> SpecId {
    match fork {
        Fork::Frontier => SpecId::FRONTIER,
        Fork::Homestead => SpecId::HOMESTEAD,
        Fork::Tangerine => SpecId::TANGERINE,
        Fork::Spurious => SpecId::SPURIOUS_DRAGON,
        Fork::Byzantium => SpecId::BYZANTIUM,
        Fork::Constantinople | Fork::Petersburg => SpecId::PETERSBURG,
        Fork::Istanbul => SpecId::ISTANBUL,
        Fork::Berlin => SpecId::BERLIN,
        Fork::London => SpecId::LONDON,
        Fork::Paris => SpecId::MERGE,
        Fork::Shanghai => SpecId::SHANGHAI,
        Fork::Cancun => SpecId::CANCUN,
        Fork::Prague => SpecId::PRAGUE,
        Fork::Osaka => SpecId::OSAKA,
        Fork::Amsterdam => SpecId::AMSTERDAM,
    }
}

/// Osaka caps a transaction's gas (EIP-7825).
const TX_GAS_CAP: u64 = 1 << 24;

type Ctx = revm::handler::MainnetContext<CacheDB<EmptyDB>>;
type Evm = revm::MainnetEvm<Ctx>;

/// An in-memory revm database holding `world`.
pub(crate) fn database(world: &World) -> CacheDB<EmptyDB> {
    let mut db = CacheDB::new(EmptyDB::default());
    for (address, account) in &world.accounts {
        let info = AccountInfo::default()
            .with_balance(account.balance)
            .with_nonce(account.nonce)
            .with_code(Bytecode::new_raw(Bytes::copy_from_slice(&account.code)));
        db.insert_account_info(*address, info);
        for (k, v) in &account.storage {
            let _ = db.insert_account_storage(*address, *k, *v);
        }
    }
    db
}

/// A revm context holding `world`, with the transaction checks that the
/// emulator does not compare switched off.
pub(crate) fn context(world: &World, block: &BlockEnv, spec: SpecId) -> Ctx {
    let db = database(world);
    let mut cfg = CfgEnv::new_with_spec(spec);
    cfg.chain_id = block.chain_id;
    cfg.disable_nonce_check = true;
    cfg.disable_balance_check = true;
    cfg.disable_base_fee = true;
    cfg.disable_block_gas_limit = true;
    cfg.disable_eip3607 = true;
    let revm_block = RevmBlock {
        number: block.number,
        timestamp: block.timestamp,
        beneficiary: block.coinbase,
        gas_limit: block.gas_limit,
        basefee: block.basefee.saturating_to::<u64>(),
        difficulty: block.prevrandao,
        prevrandao: Some(B256::from(block.prevrandao.to_be_bytes::<32>())),
        ..Default::default()
    };
    Context::mainnet()
        .with_db(db)
        .with_cfg(cfg)
        .with_block(revm_block)
}

fn build(world: &World, block: &BlockEnv, spec: SpecId) -> Evm {
    context(world, block, spec).build_mainnet()
}

/// A transaction from `caller` (`kind` is a call or a creation).
pub(crate) fn transaction(
    world: &World,
    block: &BlockEnv,
    spec: SpecId,
    call: &Call,
    kind: TxKind,
) -> Result<TxEnv, EngineError> {
    let nonce = world.accounts.get(&call.caller).map_or(0, |a| a.nonce);
    let gas_limit = if spec.is_enabled_in(SpecId::OSAKA) {
        call.gas_limit.min(TX_GAS_CAP)
    } else {
        call.gas_limit
    };
    TxEnv::builder()
        .caller(call.caller)
        .kind(kind)
        .data(Bytes::copy_from_slice(&call.data))
        .value(call.value)
        .gas_limit(gas_limit)
        .gas_price(call.gas_price.saturating_to::<u128>())
        .nonce(nonce)
        .chain_id(Some(block.chain_id))
        .build()
        .map_err(|e| EngineError::Translate {
            address: call.to,
            reason: format!("{e:?}"),
        })
}

fn transact(
    evm: &mut Evm,
    tx: TxEnv,
    address: Address,
) -> Result<revm::context_interface::result::ResultAndState, EngineError> {
    match evm.transact(tx) {
        Ok(out) => Ok(out),
        Err(EVMError::Transaction(e)) => Err(EngineError::Translate {
            address,
            reason: format!("revm rejected the transaction: {e:?}"),
        }),
        Err(e) => Err(EngineError::Translate {
            address,
            reason: format!("revm: {e:?}"),
        }),
    }
}

fn status(result: &ExecutionResult) -> (Status, Vec<u8>) {
    match result {
        ExecutionResult::Success { output, .. } => {
            let data = match output {
                Output::Call(b) => b.to_vec(),
                Output::Create(b, _) => b.to_vec(),
            };
            (Status::Success, data)
        }
        ExecutionResult::Revert { output, .. } => (Status::Revert, output.to_vec()),
        ExecutionResult::Halt { reason, .. } => (Status::Halt(format!("{reason:?}")), vec![]),
    }
}

/// Writes every account revm touched into `world`: balance, nonce, code and
/// storage; self-destructed accounts, and (from Spurious Dragon, EIP-161)
/// touched empty ones, are removed.
pub(crate) fn commit(world: &mut World, state: &revm::state::EvmState, spec: SpecId) {
    for (a, account) in state {
        if !account.is_touched() {
            continue;
        }
        if account.is_selfdestructed()
            || (account.is_empty() && spec.is_enabled_in(SpecId::SPURIOUS_DRAGON))
        {
            world.accounts.remove(a);
            continue;
        }
        let entry = world.accounts.entry(*a).or_default();
        entry.balance = account.info.balance;
        entry.nonce = account.info.nonce;
        if let Some(code) = &account.info.code {
            entry.code = code.original_bytes().to_vec();
        }
        for (slot, v) in &account.storage {
            if v.present_value().is_zero() {
                entry.storage.remove(slot);
            } else {
                entry.storage.insert(*slot, v.present_value());
            }
        }
    }
}

/// The transaction kind of `call`: a creation, or a call to `call.to`.
fn kind(call: &Call) -> TxKind {
    if call.create {
        TxKind::Create
    } else {
        TxKind::Call(call.to)
    }
}

/// Fills `o` with every change revm's `state` holds against `world`:
/// storage, balances (those fees move left out: see [`fees_hide`]), nonces
/// (the caller's transaction increment left out), the code of created
/// accounts and destroyed accounts, as [`World::commit`] reads them.
fn changes(
    o: &mut Outcome,
    world: &World,
    state: &revm::state::EvmState,
    spec: SpecId,
    call: &Call,
    coinbase: Address,
) {
    let caller = call.caller;
    for (a, account) in state {
        if !account.is_touched() {
            continue;
        }
        let before = world.accounts.get(a);
        let gone = account.is_selfdestructed()
            || (account.is_empty()
                && spec.is_enabled_in(SpecId::SPURIOUS_DRAGON)
                && before.is_some());
        if gone {
            o.destroyed.insert(*a);
            continue;
        }
        for (slot, v) in account.changed_storage_slots() {
            let was = before
                .and_then(|b| b.storage.get(slot))
                .copied()
                .unwrap_or_default();
            if was != v.present_value() {
                o.storage.insert((*a, *slot), (was, v.present_value()));
            }
        }
        let balance = before.map_or(U256::ZERO, |x| x.balance);
        let after = account.info.balance;
        if !crate::fees_hide(*a, call, coinbase) && after != balance {
            o.balances.insert(*a, (balance, after));
        }
        let nonce = before.map_or(0, |x| x.nonce);
        let mut after = account.info.nonce;
        if *a == caller {
            after = after.saturating_sub(1);
        }
        if after != nonce {
            o.nonces.insert(*a, (nonce, after));
        }
        if account.is_created()
            && let Some(code) = account.info.code.as_ref().filter(|c| !c.is_empty())
        {
            o.code.insert(*a, code.original_bytes().to_vec());
        }
    }
}

/// A contract deployed by [`deploy`].
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Its address (`None` when the creation failed).
    pub address: Option<Address>,
    /// The creation's outcome (return data is the runtime code).
    pub outcome: Outcome,
}

/// Runs creation code (`call.data`, constructor arguments appended) from
/// `call.caller` on revm and commits every account it changed into `world`:
/// the new contract's runtime code (immutables filled in), storage, balance
/// and nonce, and the deployer's nonce. `call.to` is ignored.
pub fn deploy(
    world: &mut World,
    block: &BlockEnv,
    call: &Call,
    fork: Fork,
) -> Result<Deployment, EngineError> {
    let spec = spec(fork);
    let mut evm = build(world, block, spec);
    let tx = transaction(world, block, spec, call, TxKind::Create)?;
    let out = transact(&mut evm, tx, call.to)?;
    let (status, return_data) = status(&out.result);
    let address = match &out.result {
        ExecutionResult::Success {
            output: Output::Create(_, a),
            ..
        } => *a,
        _ => None,
    };
    commit(world, &out.state, spec);
    let logs = if status == Status::Success {
        logs(&out.result)
    } else {
        vec![]
    };
    Ok(Deployment {
        address,
        outcome: Outcome {
            logs,
            ..Outcome::new(
                status,
                return_data,
                Cost {
                    unit: "gas",
                    amount: out.result.tx_gas_used(),
                },
            )
        },
    })
}

fn logs(result: &ExecutionResult) -> Vec<Log> {
    result
        .logs()
        .iter()
        .map(|log| Log {
            address: log.address,
            topics: log
                .topics()
                .iter()
                .map(|t| U256::from_be_bytes(t.0))
                .collect(),
            data: log.data.data.to_vec(),
        })
        .collect()
}

impl Engine for EvmEngine {
    fn name(&self) -> &'static str {
        "evm"
    }

    fn trace(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        fork: Fork,
    ) -> Option<Result<Vec<trace::Step>, EngineError>> {
        let run = || {
            let spec = spec(fork);
            let recorder = Recorder {
                target: call.to,
                steps: vec![],
            };
            let mut evm = context(world, block, spec).build_mainnet_with_inspector(recorder);
            let tx = transaction(world, block, spec, call, kind(call))?;
            evm.inspect_tx(tx).map_err(|e| EngineError::Translate {
                address: call.to,
                reason: format!("revm: {e:?}"),
            })?;
            Ok(std::mem::take(&mut evm.inspector.steps))
        };
        Some(run())
    }

    fn run(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        fork: Fork,
    ) -> Result<Outcome, EngineError> {
        // revm would run a WASM module as EVM code (a STOP): refuse any
        // world that holds one, as callee or as a contract it may reach.
        if world
            .accounts
            .values()
            .any(|a| crate::stylus::is_wasm(&a.code))
        {
            return Err(EngineError::Unsupported {
                engine: "evm",
                reason: "revm runs EVM code; this world holds a WASM (Stylus) contract".into(),
            });
        }
        let spec = spec(fork);
        let mut evm = build(world, block, spec);
        let tx = transaction(world, block, spec, call, kind(call))?;
        let out = transact(&mut evm, tx, call.to)?;
        let (status, return_data) = status(&out.result);
        let cost = Cost {
            unit: "gas",
            amount: out.result.tx_gas_used(),
        };
        let mut o = Outcome::new(status, return_data, cost);
        if o.status == Status::Success {
            o.logs = logs(&out.result);
            changes(&mut o, world, &out.state, spec, call, block.coinbase);
        }
        Ok(o)
    }
}

/// Records the effects of the frame running `target`'s code at depth 1.
struct Recorder {
    target: Address,
    steps: Vec<trace::Step>,
}

impl<CTX: ContextTr> Inspector<CTX, EthInterpreter> for Recorder {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        if self.steps.len() >= trace::MAX_EFFECTS
            || interp.input.target_address() != self.target
            || context.journal_ref().depth() != 1
        {
            return;
        }
        let op = interp.bytecode.opcode();
        if !matches!(
            op,
            op::STOP | op::SSTORE | op::TSTORE | op::LOG0..=op::LOG4 | op::RETURN | op::REVERT
        ) {
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
            op::SSTORE | op::TSTORE => {
                let (Some(key), Some(value)) = (peek(0), peek(1)) else {
                    return;
                };
                if op == op::SSTORE {
                    trace::Effect::Store { key, value }
                } else {
                    trace::Effect::TransientStore { key, value }
                }
            }
            op::LOG0..=op::LOG4 => {
                let n = usize::from(op - op::LOG0);
                let (Some(o), Some(l)) = (peek(0), peek(1)) else {
                    return;
                };
                let topics: Option<Vec<U256>> = (0..n).map(|i| peek(2 + i)).collect();
                let Some(topics) = topics else { return };
                trace::Effect::Log {
                    topics,
                    data: trace::slice(&memory, o, l),
                }
            }
            op::STOP => trace::Effect::Exit {
                kind: "stop",
                data: vec![],
            },
            op::RETURN | op::REVERT => {
                let (Some(o), Some(l)) = (peek(0), peek(1)) else {
                    return;
                };
                trace::Effect::Exit {
                    kind: if op == op::RETURN { "return" } else { "revert" },
                    data: trace::slice(&memory, o, l),
                }
            }
            _ => return,
        };
        self.steps.push(trace::Step {
            pc: Some(interp.bytecode.pc()),
            effect,
            memory,
        });
    }
}

/// Notes whether any frame (a call or a creation) ran out of gas.
#[derive(Default)]
struct OutOfGasProbe {
    seen: bool,
}

impl OutOfGasProbe {
    fn note(&mut self, result: &revm::interpreter::InstructionResult) {
        // OutOfGas and every `…OOG` kind (memory, precompile, operand, the
        // SSTORE reentrancy sentry, code deposit).
        let r = format!("{result:?}");
        if r.contains("OutOfGas") || r.ends_with("OOG") {
            self.seen = true;
        }
    }
}

impl<CTX: ContextTr> Inspector<CTX, EthInterpreter> for OutOfGasProbe {
    fn call_end(
        &mut self,
        _context: &mut CTX,
        _inputs: &revm::interpreter::CallInputs,
        outcome: &mut revm::interpreter::CallOutcome,
    ) {
        self.note(&outcome.result.result);
    }

    fn create_end(
        &mut self,
        _context: &mut CTX,
        _inputs: &revm::interpreter::CreateInputs,
        outcome: &mut revm::interpreter::CreateOutcome,
    ) {
        // A creation whose code deposit the remaining gas cannot pay.
        self.note(&outcome.result.result);
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
    let tx = transaction(world, block, spec, call, kind(call))?;
    let out = evm.inspect_tx(tx).map_err(|e| EngineError::Translate {
        address: call.to,
        reason: format!("revm: {e:?}"),
    })?;
    let top = matches!(&out.result, revm::context_interface::result::ExecutionResult::Halt { reason, .. } if format!("{reason:?}").contains("OutOfGas"));
    Ok(evm.inspector.seen || top)
}
