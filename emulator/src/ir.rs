//! The `ir` engine: lift the called code under the fork's rules, optimize,
//! and run the reference interpreter against the world. Other accounts are
//! visible (balances, code); external calls and creation are not executed
//! yet (they fail, as calls to a missing account would).

use crate::trace;
use crate::{Account, BlockEnv, Call, Cost, Engine, EngineError, Log, Outcome, Status, World};
use alloy_primitives::{Address, B256, U256, keccak256};
use chainlift_frontend_evm::{Fork, Options, analyze, lift};
use chainlift_ir::entities::FuncId;
use chainlift_ir::function::Module;
use chainlift_ir::inst::{CallKind, HostOp, SourcePos};
use chainlift_ir::interp::{Host, Interpreter, Limits, Outcome as IrOutcome};
use chainlift_ir::passes;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Lifted modules by (code hash, fork, optimized).
type ModuleCache = HashMap<(B256, Fork, bool), Arc<Module>>;

/// The IR engine. Each code is lifted once per fork and kept: a scenario's
/// calls into one contract share one module.
#[derive(Debug, Clone)]
pub struct IrEngine {
    /// Interpreter limits (instruction budget, memory).
    pub limits: Limits,
    /// Whether to run the optimized IR (the raw lift otherwise).
    pub optimize: bool,
    modules: Arc<Mutex<ModuleCache>>,
}

impl Default for IrEngine {
    fn default() -> Self {
        IrEngine {
            limits: Limits::default(),
            optimize: true,
            modules: Arc::default(),
        }
    }
}

impl IrEngine {
    /// The lifted (and, if asked, optimized) module of `code`.
    pub fn module(&self, code: &[u8], fork: Fork) -> Result<Arc<Module>, String> {
        let key = (keccak256(code), fork, self.optimize);
        if let Some(m) = self.modules.lock().map_err(|e| e.to_string())?.get(&key) {
            return Ok(m.clone());
        }
        let analysis = analyze(
            code,
            &Options {
                fork,
                ..Options::default()
            },
        )
        .map_err(|e| e.to_string())?;
        let mut module = lift::lift(&analysis, Default::default()).map_err(|e| e.to_string())?;
        if self.optimize {
            passes::optimize(&mut module);
        }
        let module = Arc::new(module);
        self.modules
            .lock()
            .map_err(|e| e.to_string())?
            .insert(key, module.clone());
        Ok(module)
    }
}

/// The largest memory (bytes) whose expansion cost, 3·w + w²/512 gas for w
/// words, fits in `gas`.
pub fn memory_for_gas(gas: u64) -> usize {
    let g = gas as f64;
    let mut w = ((-3.0 + (9.0 + 4.0 * g / 512.0).sqrt()) * 256.0).max(0.0) as u64;
    let cost = |w: u64| {
        3u64.saturating_mul(w)
            .saturating_add(w.saturating_mul(w) / 512)
    };
    while cost(w + 1) <= gas {
        w += 1;
    }
    while w > 0 && cost(w) > gas {
        w -= 1;
    }
    usize::try_from(w.saturating_mul(32)).unwrap_or(usize::MAX)
}

fn word(a: Address) -> U256 {
    U256::from_be_slice(a.as_slice())
}

fn address(w: U256) -> Address {
    Address::from_slice(&w.to_be_bytes::<32>()[12..])
}

struct WorldHost<'a> {
    world: &'a World,
    block: &'a BlockEnv,
    call: &'a Call,
    code: Vec<u8>,
    storage: BTreeMap<U256, U256>,
    transient: BTreeMap<U256, U256>,
    logs: Vec<Log>,
    gas: U256,
    /// Balances changed during the call (the call's value, value sent on).
    balances: BTreeMap<Address, U256>,
    /// Effects recorded for a lockstep trace, when tracing.
    trace: Option<Vec<trace::Step>>,
    /// The pc and memory at the last host operation (tracing only).
    pos: Option<usize>,
    memory: Vec<u8>,
}

impl WorldHost<'_> {
    fn balance_of(&self, a: Address) -> U256 {
        self.balances.get(&a).copied().unwrap_or_else(|| {
            self.world
                .accounts
                .get(&a)
                .map_or(U256::ZERO, |x| x.balance)
        })
    }

    fn transfer(&mut self, from: Address, to: Address, value: U256) -> (bool, Vec<u8>) {
        let have = self.balance_of(from);
        if have < value {
            return (false, vec![]);
        }
        self.balances.insert(from, have - value);
        let theirs = self.balance_of(to);
        self.balances.insert(to, theirs.saturating_add(value));
        (true, vec![])
    }

    fn record(&mut self, effect: trace::Effect) {
        if let Some(t) = &mut self.trace
            && t.len() < trace::MAX_EFFECTS
        {
            t.push(trace::Step {
                pc: self.pos,
                effect,
                memory: self.memory.clone(),
            });
        }
    }

    fn account(&self, a: U256) -> Option<&Account> {
        self.world.accounts.get(&address(a))
    }
}

impl Host for WorldHost<'_> {
    fn sload(&mut self, key: U256) -> U256 {
        self.storage.get(&key).copied().unwrap_or_default()
    }
    fn sstore(&mut self, key: U256, value: U256) {
        self.record(trace::Effect::Store { key, value });
        self.storage.insert(key, value);
    }
    fn tload(&mut self, key: U256) -> U256 {
        self.transient.get(&key).copied().unwrap_or_default()
    }
    fn tstore(&mut self, key: U256, value: U256) {
        self.record(trace::Effect::TransientStore { key, value });
        self.transient.insert(key, value);
    }
    fn calldata(&self) -> &[u8] {
        &self.call.data
    }
    fn code(&self) -> &[u8] {
        &self.code
    }
    fn env(&mut self, op: HostOp) -> U256 {
        let (b, c) = (self.block, self.call);
        match op {
            HostOp::Caller => word(c.caller),
            HostOp::Origin => word(c.origin),
            HostOp::Address => word(c.to),
            HostOp::CallValue => c.value,
            HostOp::SelfBalance => self.balance_of(c.to),
            HostOp::Number => b.number,
            HostOp::Timestamp => b.timestamp,
            HostOp::ChainId => U256::from(b.chain_id),
            HostOp::BaseFee => b.basefee,
            HostOp::Coinbase => word(b.coinbase),
            HostOp::PrevRandao => b.prevrandao,
            HostOp::GasLimit => U256::from(b.gas_limit),
            HostOp::GasPrice => c.gas_price,
            HostOp::Gas => self.gas,
            _ => U256::ZERO,
        }
    }
    fn at(&mut self, pos: SourcePos, memory: &[u8]) {
        if self.trace.is_some() {
            self.pos = match pos {
                SourcePos::Evm(pc) => Some(pc as usize),
                _ => None,
            };
            self.memory = memory.to_vec();
        }
    }
    fn log(&mut self, topics: &[U256], data: &[u8]) {
        self.record(trace::Effect::Log {
            topics: topics.to_vec(),
            data: data.to_vec(),
        });
        self.logs.push(Log {
            address: self.call.to,
            topics: topics.to_vec(),
            data: data.to_vec(),
        });
    }
    fn balance(&mut self, a: U256) -> U256 {
        self.balance_of(address(a))
    }
    fn call(
        &mut self,
        kind: CallKind,
        _gas: U256,
        to: U256,
        value: U256,
        _input: &[u8],
    ) -> (bool, Vec<u8>) {
        // Only plain value transfers to accounts without code (and not
        // precompiles) are executed; other calls fail, and the engines'
        // outcomes then differ, which `diff` names.
        let to = address(to);
        let has_code = self
            .world
            .accounts
            .get(&to)
            .is_some_and(|a| !a.code.is_empty());
        let precompile = word(to) <= U256::from(0x11) && !to.is_zero();
        if has_code || precompile {
            return (false, vec![]);
        }
        match kind {
            CallKind::Call => self.transfer(self.call.to, to, value),
            CallKind::CallCode | CallKind::DelegateCall | CallKind::StaticCall => (true, vec![]),
        }
    }
    fn ext_code(&mut self, a: U256) -> Vec<u8> {
        self.account(a).map(|x| x.code.clone()).unwrap_or_default()
    }
    fn ext_code_hash(&mut self, a: U256) -> U256 {
        match self.account(a) {
            Some(x) => U256::from_be_bytes(keccak256(&x.code).0),
            None => U256::ZERO,
        }
    }
}

impl Engine for IrEngine {
    fn name(&self) -> &'static str {
        "ir"
    }

    fn run(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        fork: Fork,
    ) -> Result<Outcome, EngineError> {
        self.run_traced(world, block, call, fork, false)
            .map(|(o, _)| o)
    }
}

impl IrEngine {
    /// Runs `call`, recording its effects by pc when `trace` is set (see
    /// [`crate::trace`]).
    pub fn run_traced(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        fork: Fork,
        trace: bool,
    ) -> Result<(Outcome, Option<Vec<trace::Step>>), EngineError> {
        let account = world
            .accounts
            .get(&call.to)
            .ok_or(EngineError::NoAccount(call.to))?;
        let module = self
            .module(&account.code, fork)
            .map_err(|reason| EngineError::Translate {
                address: call.to,
                reason,
            })?;
        let mut host = WorldHost {
            world,
            block,
            call,
            code: account.code.clone(),
            storage: account.storage.clone(),
            transient: BTreeMap::new(),
            logs: vec![],
            gas: U256::from(call.gas_limit),
            balances: BTreeMap::new(),
            trace: trace.then(Vec::new),
            pos: None,
            memory: vec![],
        };
        // Memory costs gas on the EVM: memory may grow only as far as the
        // call's gas could pay for, so memory-bound out-of-gas halts match.
        let limits = Limits {
            memory: self.limits.memory.min(memory_for_gas(call.gas_limit)),
            ..self.limits
        };
        // The call's value moves before the code runs.
        if !call.value.is_zero() && call.caller != call.to {
            let from = host.balance_of(call.caller);
            let to = host.balance_of(call.to);
            host.balances
                .insert(call.caller, from.saturating_sub(call.value));
            host.balances.insert(call.to, to.saturating_add(call.value));
        }
        let mut interp = Interpreter::new(&module, limits);
        let result = interp.run(&mut host, FuncId::new(0), &[]);
        if let Some(kind) = match &result {
            IrOutcome::Stop => Some("stop"),
            IrOutcome::Return(_) => Some("return"),
            IrOutcome::Revert(_) => Some("revert"),
            _ => None,
        } {
            let data = match &result {
                IrOutcome::Return(d) | IrOutcome::Revert(d) => d.clone(),
                _ => vec![],
            };
            host.record(trace::Effect::Exit { kind, data });
        }
        let (status, return_data) = match result.clone() {
            IrOutcome::Stop | IrOutcome::SelfDestruct(_) | IrOutcome::Values(_) => {
                (Status::Success, vec![])
            }
            IrOutcome::Return(d) => (Status::Success, d),
            IrOutcome::Revert(d) => (Status::Revert, d),
            IrOutcome::Trap { code, pos } => (
                Status::Halt(format!("{code} {pos}").trim().to_string()),
                vec![],
            ),
            IrOutcome::OutOfBudget { pos } => (
                Status::Halt(format!("out of budget {pos}").trim().to_string()),
                vec![],
            ),
        };
        if let IrOutcome::SelfDestruct(beneficiary) = &result {
            // The contract's balance goes to the beneficiary. Before Cancun
            // the account is destroyed, so a balance it sends to itself is
            // burnt; since EIP-6780 a contract not created in this
            // transaction keeps it.
            let (me, to) = (call.to, address(*beneficiary));
            let all = host.balance_of(me);
            if me != to {
                host.transfer(me, to, all);
            } else if fork < Fork::Cancun {
                host.balances.insert(me, U256::ZERO);
            }
            if fork < Fork::Cancun {
                host.balances.insert(me, U256::ZERO);
            }
        }
        let mut balances = BTreeMap::new();
        if status == Status::Success {
            for (a, after) in &host.balances {
                let before = world.accounts.get(a).map_or(U256::ZERO, |x| x.balance);
                if *a != call.caller && *a != block.coinbase && *after != before {
                    balances.insert(*a, (before, *after));
                }
            }
        }
        let (storage, logs) = if status == Status::Success {
            let mut changes = BTreeMap::new();
            let keys: std::collections::BTreeSet<U256> = account
                .storage
                .keys()
                .chain(host.storage.keys())
                .copied()
                .collect();
            for k in keys {
                let before = account.storage.get(&k).copied().unwrap_or_default();
                let after = host.storage.get(&k).copied().unwrap_or_default();
                if before != after {
                    changes.insert(k, (before, after));
                }
            }
            (changes, host.logs)
        } else {
            (BTreeMap::new(), vec![])
        };
        let outcome = Outcome {
            status,
            return_data,
            storage,
            logs,
            balances,
            cost: Cost {
                unit: "instructions",
                amount: interp.steps,
            },
        };
        Ok((outcome, host.trace))
    }
}
