//! The `ir` engine: lift the called code under the fork's rules, optimize,
//! and run the reference interpreter against the world. Other accounts are
//! visible (balances, code); external calls and creation are not executed
//! yet (they fail, as calls to a missing account would).

use crate::{Account, BlockEnv, Call, Cost, Engine, EngineError, Log, Outcome, Status, World};
use alloy_primitives::{Address, U256, keccak256};
use chainlift_frontend_evm::{Fork, Options, analyze, lift};
use chainlift_ir::entities::FuncId;
use chainlift_ir::inst::HostOp;
use chainlift_ir::interp::{Host, Interpreter, Limits, Outcome as IrOutcome};
use chainlift_ir::passes;
use std::collections::BTreeMap;

/// The IR engine.
#[derive(Debug, Clone)]
pub struct IrEngine {
    /// Interpreter limits (instruction budget, memory).
    pub limits: Limits,
    /// Whether to run the optimized IR (the raw lift otherwise).
    pub optimize: bool,
}

impl Default for IrEngine {
    fn default() -> Self {
        IrEngine {
            limits: Limits::default(),
            optimize: true,
        }
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
}

impl WorldHost<'_> {
    fn account(&self, a: U256) -> Option<&Account> {
        self.world.accounts.get(&address(a))
    }
}

impl Host for WorldHost<'_> {
    fn sload(&mut self, key: U256) -> U256 {
        self.storage.get(&key).copied().unwrap_or_default()
    }
    fn sstore(&mut self, key: U256, value: U256) {
        self.storage.insert(key, value);
    }
    fn tload(&mut self, key: U256) -> U256 {
        self.transient.get(&key).copied().unwrap_or_default()
    }
    fn tstore(&mut self, key: U256, value: U256) {
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
            HostOp::SelfBalance => self.account(word(c.to)).map_or(U256::ZERO, |a| a.balance),
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
    fn log(&mut self, topics: &[U256], data: &[u8]) {
        self.logs.push(Log {
            address: self.call.to,
            topics: topics.to_vec(),
            data: data.to_vec(),
        });
    }
    fn balance(&mut self, a: U256) -> U256 {
        self.account(a).map_or(U256::ZERO, |x| x.balance)
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
        let account = world
            .accounts
            .get(&call.to)
            .ok_or(EngineError::NoAccount(call.to))?;
        let translate = |reason: String| EngineError::Translate {
            address: call.to,
            reason,
        };
        let analysis = analyze(
            &account.code,
            &Options {
                fork,
                ..Options::default()
            },
        )
        .map_err(|e| translate(e.to_string()))?;
        let mut module =
            lift::lift(&analysis, Default::default()).map_err(|e| translate(e.to_string()))?;
        if self.optimize {
            passes::optimize(&mut module);
        }
        let mut host = WorldHost {
            world,
            block,
            call,
            code: account.code.clone(),
            storage: account.storage.clone(),
            transient: BTreeMap::new(),
            logs: vec![],
            gas: U256::from(call.gas_limit),
        };
        // Memory costs gas on the EVM: memory may grow only as far as the
        // call's gas could pay for, so memory-bound out-of-gas halts match.
        let limits = Limits {
            memory: self.limits.memory.min(memory_for_gas(call.gas_limit)),
            ..self.limits
        };
        let mut interp = Interpreter::new(&module, limits);
        let result = interp.run(&mut host, FuncId::new(0), &[]);
        let (status, return_data) = match result {
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
        Ok(Outcome {
            status,
            return_data,
            storage,
            logs,
            cost: Cost {
                unit: "instructions",
                amount: interp.steps,
            },
        })
    }
}
