//! The `ir` engine: lift the called code under the fork's rules, optimize,
//! and run the reference interpreter against the world. Message calls
//! (CALL, CALLCODE, DELEGATECALL, STATICCALL) run as nested frames on the
//! callee's lifted code, with storage, transient storage, balances and logs
//! journalled so a failing frame is undone; precompiles run revm's own
//! implementations. CREATE and CREATE2 run the init code as a nested frame
//! on its own lifted code and install what it returns, with the EVM's
//! checks (depth, balance, nonce, address collision, code size, the 0xEF
//! prefix). SELFDESTRUCT destroys the account at the end of the call, since
//! Cancun only when it was created in the same transaction (EIP-6780).
//! Gas is not metered, so a nested frame never runs out of gas (the suites
//! skip cases where revm's does).

use crate::trace;
use crate::{Account, BlockEnv, Call, Cost, Engine, EngineError, Log, Outcome, Status, World};
use alloy_primitives::{Address, B256, U256, keccak256};
use chainlift_frontend_evm::Fork;
use chainlift_frontend_evm::pipeline::{Cache, Compiled, Stages};
use chainlift_ir::entities::FuncId;
use chainlift_ir::inst::{CallKind, HostOp, SourcePos};
use chainlift_ir::interp::{Host, Interpreter, Limits, Outcome as IrOutcome};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

mod memory;

pub use memory::memory_for_gas;
use memory::{frame_memory, memory_cost};

/// What runs a frame's code.
#[derive(Debug, Clone)]
pub enum Exec {
    /// The reference interpreter.
    Interp,
    /// The module translated by backend-wasm, in wasmtime (`wasm`).
    Wasm(Arc<crate::wasm::WasmRuntime>),
    /// The module compiled by backend-native (`native`).
    Native(Arc<crate::native::NativeRuntime>),
}

/// The IR engine. Each code goes through the pipeline once per fork and is
/// kept: a scenario's calls into one contract share one module.
#[derive(Debug, Clone)]
pub struct IrEngine {
    /// Interpreter limits (instruction budget, memory).
    pub limits: Limits,
    /// The pipeline's stages: optimized by default; legalized to 64-bit
    /// limbs for the `ir64` engine.
    pub stages: Stages,
    /// Instructions allowed per unit of the call's gas, so that whatever
    /// revm finishes within its gas the interpreter finishes too (no EVM
    /// instruction costs less than 1 gas, and the lifted IR runs at most a
    /// few instructions per EVM instruction); the budget is the larger of
    /// this and `limits.budget`, and still bounded by the gas.
    pub budget_per_gas: u64,
    /// What runs each frame: the interpreter, wasmtime or native code.
    pub exec: Exec,
    /// Run EVM code after a round trip: translated to WASM by backend-wasm
    /// and lifted back by frontend-wasm (the `ir-wasm` engine).
    pub via_wasm: bool,
    modules: Cache,
}

impl Default for IrEngine {
    fn default() -> Self {
        IrEngine {
            limits: Limits::default(),
            stages: Stages::default(),
            budget_per_gas: 4,
            exec: Exec::Interp,
            via_wasm: false,
            modules: Cache::shared(),
        }
    }
}

impl IrEngine {
    /// The IR interpreter on the module legalized to 64-bit limbs, the form
    /// the WASM and native backends start from. Limb code runs several
    /// instructions per 256-bit operation (a long division or `exp` many
    /// more), so its budget is 100 times the `ir` engine's.
    pub fn legalized() -> Self {
        let default = IrEngine::default();
        IrEngine {
            stages: Stages {
                legalize: true,
                ..Stages::default()
            },
            limits: Limits {
                budget: default.limits.budget.saturating_mul(100),
                ..default.limits
            },
            budget_per_gas: default.budget_per_gas.saturating_mul(100),
            ..default
        }
    }

    /// The `wasm` engine: the legalized module translated by backend-wasm
    /// and run by wasmtime, with the same world host (nested frames run in
    /// wasmtime too). Its budget is fuel: WASM instructions, a few per IR
    /// limb instruction.
    pub fn wasm() -> Result<Self, String> {
        Self::wasm_with(Default::default())
    }

    /// The `wasm` engine with modules translated as `options` say (the
    /// `wasm-math` engine: through Stylus's `math_*` hooks).
    pub fn wasm_with(options: chainlift_backend_wasm::Options) -> Result<Self, String> {
        let legalized = IrEngine::legalized();
        Ok(IrEngine {
            exec: Exec::Wasm(Arc::new(crate::wasm::WasmRuntime::new(options)?)),
            limits: Limits {
                budget: legalized.limits.budget.saturating_mul(4),
                ..legalized.limits
            },
            budget_per_gas: legalized.budget_per_gas.saturating_mul(4),
            ..legalized
        })
    }

    /// The `native` engine: the legalized module compiled to machine code
    /// by backend-native (Cranelift) and run in this process, with the same
    /// world host. Its budget is the interpreter's instruction count on
    /// the legalized module (charged per block), with the division,
    /// `addmod`, `mulmod` and `exp` helpers counted at a fixed cost.
    pub fn native() -> Self {
        Self::native_with(Default::default())
    }

    /// The `native` engine compiling as `options` say.
    pub fn native_with(options: chainlift_backend_native::Options) -> Self {
        IrEngine {
            exec: Exec::Native(Arc::new(crate::native::NativeRuntime::new(options))),
            ..IrEngine::legalized()
        }
    }

    /// The verified module of `code` under `fork`, from the pipeline.
    /// WASM code (a Stylus contract) comes from frontend-wasm instead.
    pub fn module(&self, code: &[u8], fork: Fork) -> Result<Arc<Compiled>, String> {
        if crate::stylus::is_wasm(code) {
            return crate::stylus::compile(code, self.stages);
        }
        if self.via_wasm {
            let legal = Stages {
                legalize: true,
                ..self.stages
            };
            let evm = self
                .modules
                .get(code, fork, legal)
                .map_err(|e| e.to_string())?;
            return crate::stylus::round_trip(&evm, self.stages);
        }
        self.modules
            .get(code, fork, self.stages)
            .map_err(|e| e.to_string())
    }
}

fn word(a: Address) -> U256 {
    U256::from_be_slice(a.as_slice())
}

fn address(w: U256) -> Address {
    Address::from_slice(&w.to_be_bytes::<32>()[12..])
}

/// One message-call (or init-code) frame.
struct Frame<'a> {
    /// Whose storage and balance the code acts on (ADDRESS).
    address: Address,
    caller: Address,
    value: U256,
    data: Vec<u8>,
    /// The world's code, borrowed; init code and code created during the
    /// call, owned.
    code: Cow<'a, [u8]>,
    is_static: bool,
    /// The gas this frame was given: its memory may grow only as far as
    /// that pays for, and it hands 63/64 of what is left to a callee, so
    /// memory over the whole call stack stays bounded as on the EVM.
    gas: u64,
    /// Memory size and instructions run at its last host operation.
    memory_len: usize,
    seen_steps: u64,
}

/// What a call changed so far, over the world it started from; a nested
/// frame that fails goes back to the copy taken when it started.
#[derive(Clone, Default)]
struct Changes {
    /// Storage written, by account.
    storage: BTreeMap<Address, BTreeMap<U256, U256>>,
    transient: BTreeMap<(Address, U256), U256>,
    /// Balances changed (fees, values sent, self-destructs).
    balances: BTreeMap<Address, U256>,
    /// Nonces changed (creators, created accounts).
    nonces: BTreeMap<Address, u64>,
    /// Code installed by creations.
    code: BTreeMap<Address, Vec<u8>>,
    /// Accounts created in this transaction.
    created: std::collections::BTreeSet<Address>,
    /// Accounts that self-destructed (removed when the call ends).
    destroyed: std::collections::BTreeSet<Address>,
}

/// The state a nested frame may undo.
struct Journal {
    changes: Changes,
    logs: usize,
}

/// EVM call depth limit.
const MAX_DEPTH: usize = 1024;

/// The largest runtime code a creation may return: EIP-170's 24 KiB,
/// 64 KiB from Amsterdam (EIP-7954).
fn max_code_size(fork: Fork) -> usize {
    if fork >= Fork::Amsterdam {
        0x10000
    } else {
        0x6000
    }
}

/// How a creation ended.
enum Created {
    /// The new account.
    Account(Address),
    /// The init code reverted with this data.
    Reverted(Vec<u8>),
    /// It failed; why.
    Failed(String),
}

struct WorldHost<'a> {
    engine: &'a IrEngine,
    fork: Fork,
    world: &'a World,
    block: &'a BlockEnv,
    call: &'a Call,
    frames: Vec<Frame<'a>>,
    changes: Changes,
    logs: Vec<Log>,
    gas: U256,
    /// Instructions run by nested frames (reported in the cost).
    nested_steps: u64,
    /// Instructions run by every frame so far (they share one budget).
    spent: u64,
    /// The call's instruction budget (see [`IrEngine::budget_per_gas`]).
    budget: u64,
    /// A nested frame's code that could not be lifted.
    error: Option<EngineError>,
    /// Effects recorded for a lockstep trace, when tracing.
    trace: Option<Vec<trace::Step>>,
    /// The pc and memory at the last host operation (tracing only).
    pos: Option<usize>,
    memory: Vec<u8>,
}

impl<'a> WorldHost<'a> {
    fn frame(&self) -> &Frame<'a> {
        self.frames.last().expect("a frame is always running")
    }

    /// Frames of EVM code running: a creation transaction's first frame
    /// stands for the caller and runs no code.
    fn depth(&self) -> usize {
        self.frames.len() - usize::from(self.call.create)
    }

    fn balance_of(&self, a: Address) -> U256 {
        self.changes.balances.get(&a).copied().unwrap_or_else(|| {
            self.world
                .accounts
                .get(&a)
                .map_or(U256::ZERO, |x| x.balance)
        })
    }

    fn nonce_of(&self, a: Address) -> u64 {
        self.changes
            .nonces
            .get(&a)
            .copied()
            .unwrap_or_else(|| self.world.accounts.get(&a).map_or(0, |x| x.nonce))
    }

    /// The account's code: installed during this call (copied, which is
    /// rare), or the world's (borrowed).
    fn code_of(&self, a: Address) -> Cow<'a, [u8]> {
        let world = self.world;
        match self.changes.code.get(&a) {
            Some(c) => Cow::Owned(c.clone()),
            None => Cow::Borrowed(world.accounts.get(&a).map_or(&[][..], |x| &x.code[..])),
        }
    }

    /// Whether the account exists for EXTCODEHASH: it has a balance, a
    /// nonce or code (an empty account hashes to 0, as in revm).
    fn exists(&self, a: Address) -> bool {
        !self.balance_of(a).is_zero() || self.nonce_of(a) != 0 || !self.code_of(a).is_empty()
    }

    fn transfer(&mut self, from: Address, to: Address, value: U256) -> bool {
        let have = self.balance_of(from);
        if have < value {
            return false;
        }
        if from != to {
            self.changes.balances.insert(from, have - value);
            let theirs = self.balance_of(to);
            self.changes
                .balances
                .insert(to, theirs.saturating_add(value));
        }
        true
    }

    /// The beneficiary of SELFDESTRUCT takes the frame's balance. Before
    /// Cancun the account is destroyed when the call ends, so a balance it
    /// sends to itself is burnt; since EIP-6780 only a contract created in
    /// this transaction is destroyed, and any other keeps its code, storage
    /// and a balance it sends to itself.
    fn self_destruct(&mut self, me: Address, beneficiary: Address) {
        let all = self.balance_of(me);
        if me != beneficiary {
            self.transfer(me, beneficiary, all);
        }
        if self.fork < Fork::Cancun || self.changes.created.contains(&me) {
            self.changes.balances.insert(me, U256::ZERO);
            self.changes.destroyed.insert(me);
        }
    }

    fn storage_of(&self, a: Address, key: U256) -> U256 {
        match self.changes.storage.get(&a).and_then(|s| s.get(&key)) {
            Some(v) => *v,
            // A contract created in this call starts with empty storage,
            // whatever the world held at its address.
            None if self.changes.created.contains(&a) => U256::ZERO,
            None => self
                .world
                .accounts
                .get(&a)
                .and_then(|x| x.storage.get(&key))
                .copied()
                .unwrap_or_default(),
        }
    }

    fn journal(&self) -> Journal {
        Journal {
            changes: self.changes.clone(),
            logs: self.logs.len(),
        }
    }

    fn undo(&mut self, j: Journal) {
        self.changes = j.changes;
        self.logs.truncate(j.logs);
    }

    /// The gas a nested frame gets: at most 63/64 of what the current one
    /// has left after paying for its memory (EIP-150), and at most `asked`.
    fn child_gas(&self, asked: u64) -> u64 {
        let left = self
            .frame()
            .gas
            .saturating_sub(memory_cost(self.frame().memory_len));
        asked.min(left - left / 64)
    }

    /// Runs `frame` on the lifted code `module` under what is left of the
    /// shared budget, and returns how it ended.
    fn run_frame(&mut self, frame: Frame<'a>, module: &Arc<Compiled>, budget: u64) -> IrOutcome {
        let limits = Limits {
            budget,
            memory: frame_memory(self.engine.limits.memory, module, frame.gas),
            ..self.engine.limits
        };
        self.frames.push(frame);
        let (result, steps) = self.execute(module, limits);
        self.nested_steps = self.nested_steps.saturating_add(steps);
        if let Some(f) = self.frames.pop() {
            self.spent = self
                .spent
                .saturating_add(steps.saturating_sub(f.seen_steps));
        }
        result
    }

    /// Runs the top frame's code `module` to its end: in the interpreter,
    /// or as WASM for the `wasm` engine. Returns how it ended and the
    /// instructions (or fuel) it took.
    fn execute(&mut self, module: &Arc<Compiled>, limits: Limits) -> (IrOutcome, u64) {
        let ran = match self.engine.exec.clone() {
            Exec::Interp => {
                let mut interp =
                    Interpreter::with_program(&module.module, module.program(), limits);
                let result = interp.run(self, FuncId::new(0), &[]);
                Ok((result, interp.steps))
            }
            Exec::Wasm(rt) => rt.run(self, module, limits),
            Exec::Native(rt) => rt.run(self, module, limits),
        };
        match ran {
            Ok(r) => r,
            Err(reason) => {
                let address = self.frame().address;
                self.error
                    .get_or_insert(EngineError::Translate { address, reason });
                let pos = SourcePos::None;
                let code = chainlift_ir::inst::TrapCode::Unsupported;
                (IrOutcome::Trap { code, pos }, 0)
            }
        }
    }

    /// The lifted module of `code`, or `None` after recording why it could
    /// not be lifted (the whole call then fails with that error).
    fn lifted(&mut self, address: Address, code: &[u8]) -> Option<Arc<Compiled>> {
        match self.engine.module(code, self.fork) {
            Ok(m) => Some(m),
            Err(reason) => {
                self.error = Some(crate::stylus::module_error(address, reason));
                None
            }
        }
    }

    /// CREATE (`salt` none) or CREATE2 from the running frame's account:
    /// the creator's nonce goes up, the init code runs in the new account,
    /// and its return data becomes the account's code.
    fn create_account(&mut self, value: U256, init: &[u8], salt: Option<U256>) -> Created {
        if self.depth() > MAX_DEPTH || self.error.is_some() {
            return Created::Failed("call depth".into());
        }
        let me = self.frame().address;
        let nonce = self.nonce_of(me);
        let budget = self.budget.saturating_sub(self.spent);
        if budget == 0 || self.balance_of(me) < value || nonce == u64::MAX {
            return Created::Failed("out of budget, balance or nonces".into());
        }
        // The creator's nonce goes up even when the creation then fails.
        self.changes.nonces.insert(me, nonce + 1);
        let new = match salt {
            None => me.create(nonce),
            Some(s) => me.create2(B256::from(s.to_be_bytes::<32>()), keccak256(init)),
        };
        // An address with code or a nonce is taken (EIP-684; revm 43 does
        // not check storage, EIP-7610).
        if !self.code_of(new).is_empty() || self.nonce_of(new) != 0 {
            return Created::Failed("address collision".into());
        }
        let journal = self.journal();
        self.changes.created.insert(new);
        let first_nonce = u64::from(self.fork >= Fork::Spurious);
        self.changes.nonces.insert(new, first_nonce);
        self.transfer(me, new, value);
        let code = Cow::Owned(init.to_vec());
        let Some(module) = self.lifted(new, &code) else {
            self.undo(journal);
            return Created::Failed("init code does not lift".into());
        };
        let frame = Frame {
            address: new,
            caller: me,
            value,
            data: vec![],
            code,
            is_static: false,
            // A creation transaction's init code has the whole gas limit.
            gas: if self.depth() == 0 {
                self.frame().gas
            } else {
                self.child_gas(u64::MAX)
            },
            memory_len: 0,
            seen_steps: 0,
        };
        let runtime = match self.run_frame(frame, &module, budget) {
            IrOutcome::Return(d) => d,
            IrOutcome::Stop | IrOutcome::Values(_) => vec![],
            IrOutcome::SelfDestruct(b) => {
                self.self_destruct(new, address(b));
                vec![]
            }
            IrOutcome::Revert(d) => {
                self.undo(journal);
                return Created::Reverted(d);
            }
            IrOutcome::Trap { code, pos } => {
                self.undo(journal);
                return Created::Failed(format!("{code} {pos}").trim().to_string());
            }
            IrOutcome::OutOfBudget { pos } => {
                self.undo(journal);
                return Created::Failed(format!("out of budget {pos}").trim().to_string());
            }
        };
        // EIP-170 (code size) and EIP-3541 (no 0xEF prefix) reject the code.
        let too_big = self.fork >= Fork::Spurious && runtime.len() > max_code_size(self.fork);
        if too_big || (self.fork >= Fork::London && runtime.first() == Some(&0xef)) {
            self.undo(journal);
            return Created::Failed("the code is too large or starts with 0xEF".into());
        }
        if !runtime.is_empty() {
            self.changes.code.insert(new, runtime);
        }
        Created::Account(new)
    }

    fn record(&mut self, effect: trace::Effect) {
        // Only the outermost frame's effects are traced (as revm's are); a
        // creation transaction's exit is recorded after its frame ended.
        if self.depth() <= 1
            && let Some(t) = &mut self.trace
            && t.len() < trace::MAX_EFFECTS
        {
            t.push(trace::Step {
                pc: self.pos,
                effect,
                memory: self.memory.clone(),
            });
        }
    }

    /// A precompile at `to` under this fork, run by revm's implementation.
    fn precompile(&self, to: Address, gas: U256, input: &[u8]) -> Option<(bool, Vec<u8>)> {
        let spec = crate::evm::spec(self.fork);
        let p = revm::precompile::Precompiles::new(spec.into()).get(&to)?;
        let gas = gas.saturating_to::<u64>().min(self.call.gas_limit);
        Some(match p.execute(input, gas, 0) {
            Ok(out) if out.status == revm::precompile::PrecompileStatus::Success => {
                (true, out.bytes.to_vec())
            }
            Ok(out) if out.status == revm::precompile::PrecompileStatus::Revert => {
                (false, out.bytes.to_vec())
            }
            _ => (false, vec![]),
        })
    }
}

impl<'a> Host for WorldHost<'a> {
    fn max_init_code(&self) -> Option<usize> {
        // EIP-3860 since Shanghai: twice the code size limit.
        (self.fork >= Fork::Shanghai).then(|| 2 * max_code_size(self.fork))
    }

    fn sload(&mut self, key: U256) -> U256 {
        self.storage_of(self.frame().address, key)
    }
    fn sstore(&mut self, key: U256, value: U256) {
        self.record(trace::Effect::Store { key, value });
        let a = self.frame().address;
        self.changes
            .storage
            .entry(a)
            .or_default()
            .insert(key, value);
    }
    fn tload(&mut self, key: U256) -> U256 {
        let a = self.frame().address;
        self.changes
            .transient
            .get(&(a, key))
            .copied()
            .unwrap_or_default()
    }
    fn tstore(&mut self, key: U256, value: U256) {
        self.record(trace::Effect::TransientStore { key, value });
        let a = self.frame().address;
        self.changes.transient.insert((a, key), value);
    }
    fn calldata(&self) -> &[u8] {
        &self.frame().data
    }
    fn code(&self) -> &[u8] {
        &self.frame().code
    }
    fn is_static(&self) -> bool {
        self.frame().is_static
    }
    fn env(&mut self, op: HostOp) -> U256 {
        let (b, c, f) = (self.block, self.call, self.frame());
        match op {
            HostOp::Caller => word(f.caller),
            HostOp::Origin => word(c.origin),
            HostOp::Address => word(f.address),
            HostOp::CallValue => f.value,
            HostOp::SelfBalance => self.balance_of(f.address),
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
    fn at(&mut self, pos: SourcePos, memory: &[u8], steps: u64) {
        if let Some(f) = self.frames.last_mut() {
            self.spent = self
                .spent
                .saturating_add(steps.saturating_sub(f.seen_steps));
            f.seen_steps = steps;
            f.memory_len = memory.len();
        }
        if self.trace.is_some() && self.depth() == 1 {
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
        let address = self.frame().address;
        self.logs.push(Log {
            address,
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
        gas: U256,
        to: U256,
        value: U256,
        input: &[u8],
    ) -> (bool, Vec<u8>) {
        // Nested frames run in this interpreter on the target's lifted code,
        // with the state journalled so a failing frame is undone. Gas is not
        // metered: a frame fails only by reverting, trapping or running out
        // of the shared instruction budget, never by running out of gas.
        if self.depth() > MAX_DEPTH || self.error.is_some() {
            return (false, vec![]);
        }
        let to = address(to);
        let me = self.frame().address;
        let (address, caller, frame_value) = match kind {
            CallKind::Call | CallKind::StaticCall => (to, me, value),
            CallKind::CallCode => (me, me, value),
            CallKind::DelegateCall => (me, self.frame().caller, self.frame().value),
        };
        let is_static = self.frame().is_static || kind == CallKind::StaticCall;
        let budget = self.budget.saturating_sub(self.spent);
        if budget == 0 {
            return (false, vec![]);
        }
        let child_gas = self.child_gas(gas.saturating_to::<u64>());
        if kind == CallKind::Call && is_static && !value.is_zero() {
            return (false, vec![]);
        }
        let moves_value = matches!(kind, CallKind::Call | CallKind::CallCode);
        if moves_value && self.balance_of(me) < value {
            return (false, vec![]);
        }
        let journal = self.journal();
        if moves_value {
            self.transfer(me, address, value);
        }
        if let Some(r) = self.precompile(to, gas, input) {
            if !r.0 {
                self.undo(journal);
            }
            return r;
        }
        let code = self.code_of(to);
        if code.is_empty() {
            return (true, vec![]);
        }
        let Some(module) = self.lifted(to, &code) else {
            self.undo(journal);
            return (false, vec![]);
        };
        let frame = Frame {
            address,
            caller,
            value: frame_value,
            data: input.to_vec(),
            code,
            is_static,
            gas: child_gas,
            memory_len: 0,
            seen_steps: 0,
        };
        let result = self.run_frame(frame, &module, budget);
        match result {
            IrOutcome::Stop | IrOutcome::Values(_) => (true, vec![]),
            IrOutcome::Return(d) => (true, d),
            IrOutcome::SelfDestruct(b) => {
                self.self_destruct(address, self::address(b));
                (true, vec![])
            }
            IrOutcome::Revert(d) => {
                self.undo(journal);
                (false, d)
            }
            IrOutcome::Trap { .. } | IrOutcome::OutOfBudget { .. } => {
                self.undo(journal);
                (false, vec![])
            }
        }
    }
    fn ext_code(&mut self, a: U256) -> Vec<u8> {
        self.code_of(address(a)).to_vec()
    }
    fn block_hash(&mut self, number: U256) -> U256 {
        self.block.block_hash(number)
    }
    fn ext_code_hash(&mut self, a: U256) -> U256 {
        let a = address(a);
        if self.exists(a) {
            U256::from_be_bytes(keccak256(&*self.code_of(a)).0)
        } else {
            U256::ZERO
        }
    }
    fn create(&mut self, value: U256, init: &[u8], salt: Option<U256>) -> (U256, Vec<u8>) {
        match self.create_account(value, init, salt) {
            Created::Account(a) => (word(a), vec![]),
            Created::Reverted(data) => (U256::ZERO, data),
            Created::Failed(_) => (U256::ZERO, vec![]),
        }
    }
}

/// Fills `o` with what a successful call changed against `world`, as
/// [`World::commit`] reads it: the caller's transaction nonce and the
/// balances fees move left out (see [`crate::fees_hide`]), destroyed
/// accounts named and nothing else of theirs reported.
fn changes(o: &mut Outcome, world: &World, c: Changes, call: &Call, coinbase: Address) {
    let before = |a: &Address| world.accounts.get(a);
    for (a, written) in c.storage {
        if c.destroyed.contains(&a) {
            continue;
        }
        for (k, after) in written {
            let was = before(&a)
                .and_then(|x| x.storage.get(&k))
                .copied()
                .unwrap_or_default();
            if was != after {
                o.storage.insert((a, k), (was, after));
            }
        }
    }
    for (a, after) in c.balances {
        let was = before(&a).map_or(U256::ZERO, |x| x.balance);
        if !crate::fees_hide(a, call, coinbase) && after != was && !c.destroyed.contains(&a) {
            o.balances.insert(a, (was, after));
        }
    }
    for (a, after) in c.nonces {
        let was = before(&a).map_or(0, |x| x.nonce);
        if after != was && !c.destroyed.contains(&a) {
            o.nonces.insert(a, (was, after));
        }
    }
    for (a, code) in c.code {
        if !c.destroyed.contains(&a) {
            o.code.insert(a, code);
        }
    }
    o.destroyed = c.destroyed;
}

impl Engine for IrEngine {
    fn name(&self) -> &'static str {
        match (&self.exec, self.stages.legalize) {
            _ if self.via_wasm => "ir-wasm",
            (Exec::Wasm(w), _) if w.options.math_hooks => "wasm-math",
            (Exec::Wasm(_), _) => "wasm",
            (Exec::Native(_), _) => "native",
            (Exec::Interp, true) => "ir64",
            (Exec::Interp, false) => "ir",
        }
    }

    fn trace(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        fork: Fork,
    ) -> Option<Result<Vec<trace::Step>, EngineError>> {
        if !matches!(self.exec, Exec::Interp) {
            return None;
        }
        Some(
            self.run_traced(world, block, call, fork, true)
                .map(|(_, steps)| steps.unwrap_or_default()),
        )
    }

    fn run(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        fork: Fork,
    ) -> Result<Outcome, EngineError> {
        if matches!(self.exec, Exec::Interp) {
            return self
                .run_traced(world, block, call, fork, false)
                .map(|(o, _)| o);
        }
        // Each nested frame enters wasmtime or compiled code again from a
        // host function, up to 1,024 deep: run the call where the stack
        // has room for that.
        crate::wasm::on_big_stack(|| self.run_traced(world, block, call, fork, false))
            .unwrap_or_else(|| {
                Err(EngineError::Unsupported {
                    engine: self.name(),
                    reason: "the engine's thread failed".into(),
                })
            })
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
        // A call to an address without an account runs no code.
        let empty = Account::default();
        // A creation runs its init code from the caller's account, through
        // the CREATE path nested frames take.
        let account = match call.create {
            true => &empty,
            false => world.accounts.get(&call.to).unwrap_or(&empty),
        };
        let module = match call.create {
            true => None,
            false => Some(
                self.module(&account.code, fork)
                    .map_err(|reason| crate::stylus::module_error(call.to, reason))?,
            ),
        };
        let mut host = WorldHost {
            engine: self,
            fork,
            world,
            block,
            call,
            frames: vec![Frame {
                address: if call.create { call.caller } else { call.to },
                caller: call.caller,
                value: call.value,
                data: call.data.clone(),
                code: Cow::Borrowed(&account.code[..]),
                is_static: false,
                gas: call.gas_limit,
                memory_len: 0,
                seen_steps: 0,
            }],
            spent: 0,
            budget: self
                .limits
                .budget
                .max(call.gas_limit.saturating_mul(self.budget_per_gas)),
            changes: Changes::default(),
            nested_steps: 0,
            error: None,
            logs: vec![],
            gas: U256::from(call.gas_limit),
            trace: trace.then(Vec::new),
            pos: None,
            memory: vec![],
        };
        // Memory costs gas on the EVM: memory may grow only as far as the
        // call's gas could pay for, so memory-bound out-of-gas halts match.
        let limits = Limits {
            memory: self.limits.memory.min(memory_for_gas(call.gas_limit)),
            budget: host.budget,
            ..self.limits
        };
        // The gas is bought up front, as on the EVM (the caller's balance is
        // observable through BALANCE), and the call's value moves before
        // the code runs.
        let fee = U256::from(call.gas_limit).saturating_mul(call.gas_price);
        if !fee.is_zero() {
            let have = host.balance_of(call.caller);
            host.changes
                .balances
                .insert(call.caller, have.saturating_sub(fee));
        }
        if !call.create && !call.value.is_zero() && call.caller != call.to {
            let from = host.balance_of(call.caller);
            let to = host.balance_of(call.to);
            host.changes
                .balances
                .insert(call.caller, from.saturating_sub(call.value));
            host.changes
                .balances
                .insert(call.to, to.saturating_add(call.value));
        }
        let (result, steps, failed) = match &module {
            Some(module) => {
                let limits = Limits {
                    memory: frame_memory(self.limits.memory, module, call.gas_limit),
                    ..limits
                };
                let (result, steps) = host.execute(module, limits);
                (result, steps, None)
            }
            None => match host.create_account(call.value, &call.data, None) {
                Created::Account(a) => {
                    let code = host.changes.code.get(&a).cloned().unwrap_or_default();
                    (IrOutcome::Return(code), 0, None)
                }
                Created::Reverted(d) => (IrOutcome::Revert(d), 0, None),
                Created::Failed(why) => (IrOutcome::Stop, 0, Some(why)),
            },
        };
        if let Some(e) = host.error.take() {
            return Err(e);
        }
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
            _ if failed.is_some() => (Status::Halt(failed.unwrap_or_default()), vec![]),
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
            host.self_destruct(call.to, address(*beneficiary));
        }
        let cost = Cost {
            unit: match self.exec {
                Exec::Interp => "instructions",
                Exec::Wasm(_) | Exec::Native(_) => "fuel",
            },
            amount: steps.saturating_add(host.nested_steps),
        };
        // The caller's transaction nonce is left out, as for calls.
        if call.create {
            host.changes.nonces.remove(&call.caller);
        }
        let mut outcome = Outcome::new(status, return_data, cost);
        if outcome.status == Status::Success {
            outcome.logs = std::mem::take(&mut host.logs);
            changes(&mut outcome, world, host.changes, call, block.coinbase);
        }
        Ok((outcome, host.trace))
    }
}
