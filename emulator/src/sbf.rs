//! The SBF engine: the contract translated by `backend-sbf`, run in
//! solana-sbpf (interpreter or JIT) as Solana would run it.
//!
//! Each call builds the program's input the way Solana's loader serializes
//! it (ABI v1): the state account (key = 12 zero bytes and the contract's
//! address, owned by the program, its data the storage table made from the
//! world's storage, its lamports the rent-exempt minimum plus the
//! contract's balance), the caller (key = 12 zero bytes and the caller's
//! address, a writable signer), the system program when the call sends
//! value, then the instruction data (the value in lamports and the
//! calldata) and the program id. The one cross-program call a program
//! makes, the system transfer of the value, is emulated with Agave's cost.
//! A program that asks for an account to pay (`ACCOUNT_NEEDED`) runs again
//! with it, as a client would. Balances are reported from the accounts'
//! lamport changes, in wei. Syscalls charge Agave's compute-unit costs, and the CU spent
//! is the outcome's cost. Every ELF is verified (the loader's verifier and
//! the check that each syscall exists) before it runs.

use crate::ir::IrEngine;
use crate::{Account, BlockEnv, Call, Cost, Engine, EngineError, Log, Outcome, Status, World};
use alloy_primitives::{Address, U256, keccak256};
use chainlift_backend_sbf::{EnvField, Program, Target, exit, storage, translate};
use chainlift_frontend_evm::Fork;
use solana_sbpf::declare_builtin_function;
use solana_sbpf::ebpf::{MM_HEAP_START, MM_INPUT_START, MM_STACK_START};
use solana_sbpf::elf::Executable;
use solana_sbpf::error::{EbpfError, ProgramResult, StableResult};
use solana_sbpf::memory_region::{AccessType, HostBuffer, MemoryMapping, MemoryRegion};
use solana_sbpf::program::{BuiltinProgram, SBPFVersion};
use solana_sbpf::verifier::{LocalVerifier, RequisiteVerifier};
use solana_sbpf::vm::{CallFrame, Config, ContextObject, EbpfVm, ExecutionMode};
use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

mod bundle;
mod cpi;
mod runtime;

pub use bundle::decode_bundle_log;
pub use cpi::FAILED as CALL_OUT_FAILED;
pub use runtime::{
    AccountIn, Context, Invocation, Loaded, Programs, Run, execute, execute_in, instruction_data,
    load,
};

/// The program id every translated contract runs under in the emulator.
pub const PROGRAM_ID: [u8; 32] = [0x11; 32];

/// Compute units one instruction may use: the most a transaction can ask.
pub const COMPUTE_BUDGET: u64 = 1_400_000;

/// The heap a WASM contract's program gets: Solana's largest (256 KiB,
/// through a `RequestHeapFrame`), since WASM linear memory starts at a
/// 64 KiB page.
pub const WASM_HEAP: u32 = 256 * 1024;

/// The Solana public key that stands for an EVM address: 12 zero bytes,
/// then the address.
pub fn key_of(a: Address) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[12..].copy_from_slice(a.as_slice());
    k
}

/// The most lamports a transaction's payer starts with in the engine.
const PAYER_CAP: u64 = 1 << 62;

/// Programs by code hash, fork, chain id and translation-time constants.
type Cache = HashMap<
    ([u8; 32], Fork, u64, Vec<(EnvField, U256)>),
    Arc<Result<Executable<Context>, EngineError>>,
>;

/// Whether code (by hash, fork and translation-time constants) translates
/// as one of a bundle's contracts.
type InBundle = HashMap<([u8; 32], Fork, Vec<(EnvField, U256)>), bool>;

/// The init code each code holds, by the code's hash and fork.
type Children = HashMap<([u8; 32], Fork), Arc<Vec<crate::children::Child>>>;

/// The `sbf` and `sbf-jit` engines.
pub struct SbfEngine {
    /// Run the JIT-compiled program instead of the interpreter.
    pub jit: bool,
    /// What programs are built for.
    pub target: Target,
    /// The pipeline's settings (its stages) and the module cache.
    pub lifter: IrEngine,
    programs: Mutex<Cache>,
    /// Whether code (by hash and fork) translates as one of a bundle's
    /// contracts.
    in_bundle: Mutex<InBundle>,
    /// The init code each code holds ([`crate::children`]), by its hash
    /// and fork.
    children: Mutex<Children>,
    /// Translate each call for the smallest wei-per-lamport (a power of
    /// ten, at most the target's) at which its world's lamports cannot
    /// overflow ([`SbfEngine::exact_wei_per_lamport`]): 1, where every
    /// amount is exact, unless the balances are huge (amounts that are not
    /// whole lamports at a larger ratio are declined as usual). As a
    /// deployment picks `--wei-per-lamport` for its chain's amounts; for
    /// the suites, whose balances are any number of wei.
    pub exact_wei: bool,
    /// The engines for other wei-per-lamport ratios, by ratio.
    scaled: Mutex<HashMap<u32, Arc<SbfEngine>>>,
}

impl SbfEngine {
    /// The interpreter (`jit = false`) or JIT engine.
    pub fn new(jit: bool) -> Self {
        SbfEngine {
            jit,
            target: Target::default(),
            lifter: IrEngine::default(),
            programs: Mutex::default(),
            in_bundle: Mutex::default(),
            children: Mutex::default(),
            exact_wei: false,
            scaled: Mutex::default(),
        }
    }

    /// The smallest power of ten, up to the target's wei-per-lamport, at
    /// which the balances of the world's accounts other than the caller
    /// and the call's value add up to at most 2^64 - 2^62 lamports (with
    /// the payer's at most 2^62, no sum of lamports overflows): every amount
    /// of the call in whole lamports at 1, which is where the search starts.
    pub fn exact_wei_per_lamport(&self, world: &World, call: &Call) -> u32 {
        // The caller's own balance is not counted: as the payer it starts
        // with at most 2^62 lamports (`payer_lamports`).
        let total = world
            .accounts
            .iter()
            .filter(|(a, _)| **a != call.caller)
            .fold(call.value, |t, (_, a)| t.saturating_add(a.balance));
        let mut w = 1u32;
        let most = U256::from(u64::MAX - PAYER_CAP);
        while w < self.target.wei_per_lamport && total / U256::from(w) > most {
            w = w.saturating_mul(10);
        }
        w.min(self.target.wei_per_lamport)
    }

    /// This engine for `wei_per_lamport` (kept, with its programs).
    fn scaled(&self, wei_per_lamport: u32) -> Arc<SbfEngine> {
        let mut map = self.scaled.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(wei_per_lamport)
            .or_insert_with(|| {
                let mut e = SbfEngine::new(self.jit);
                e.target = Target {
                    wei_per_lamport,
                    ..self.target.clone()
                };
                e.lifter.stages = self.lifter.stages;
                Arc::new(e)
            })
            .clone()
    }

    /// The engine's target for a call in `block` at `gas_price`: the
    /// chain id, and the block and transaction fields Solana has no source
    /// for as the constants revm reads (coinbase, prevrandao, gas limit,
    /// gas price, base fee). `gasleft()` and the blob base fee stay
    /// unmapped: the engine meters no gas.
    pub fn target_for(&self, block: &BlockEnv, gas_price: U256) -> Target {
        let constants = [
            (
                EnvField::Coinbase,
                U256::from_be_slice(block.coinbase.as_slice()),
            ),
            (EnvField::PrevRandao, block.prevrandao),
            (EnvField::GasLimit, U256::from(block.gas_limit)),
            (EnvField::GasPrice, gas_price),
            (EnvField::BaseFee, block.basefee),
        ];
        Target {
            chain_id: block.chain_id,
            constants: constants.into_iter().collect(),
            ..self.target.clone()
        }
    }

    /// The translated, loaded and verified (and, for the JIT, compiled)
    /// program of `code` for `target`.
    pub fn compile(
        &self,
        code: &[u8],
        fork: Fork,
        address: Address,
        target: &Target,
    ) -> Arc<Result<Executable<Context>, EngineError>> {
        let constants = target.constants.iter().map(|(f, v)| (*f, *v)).collect();
        let key = (keccak256(code).0, fork, target.chain_id, constants);
        if let Ok(cache) = self.programs.lock()
            && let Some(c) = cache.get(&key)
        {
            return c.clone();
        }
        let result = Arc::new(self.build(code, fork, address, target));
        if let Ok(mut cache) = self.programs.lock() {
            cache.insert(key, result.clone());
        }
        result
    }

    /// The Solana program this engine runs for `code`: lifted, optimized
    /// and translated for `target` ([`SbfEngine::target_for`]).
    pub fn program(
        &self,
        code: &[u8],
        fork: Fork,
        address: Address,
        target: &Target,
    ) -> Result<Program, EngineError> {
        let target = target.clone();
        let failed = |reason: String| EngineError::Translate { address, reason };
        let compiled = self.lifter.module(code, fork).map_err(failed)?;
        let flat;
        let (module, target) = match &compiled.wasm {
            // A WASM contract: one function (every call inlined), and the
            // largest heap, since its linear memory starts at 64 KiB.
            Some(_) => {
                flat = crate::stylus::one_function(&compiled).map_err(|reason| {
                    EngineError::Unsupported {
                        engine: self.name(),
                        reason: format!("{reason} (code at {address})"),
                    }
                })?;
                let target = Target {
                    heap_size: target.heap_size.max(WASM_HEAP),
                    ..target
                };
                (&flat, target)
            }
            None => (&compiled.module, target),
        };
        translate(module, &target).map_err(|e| match e {
            // What the mapping cannot express is not a failure of the engine.
            chainlift_backend_sbf::Error::Unsupported { .. }
            | chainlift_backend_sbf::Error::TargetLimit { .. } => EngineError::Unsupported {
                engine: self.name(),
                reason: format!("{e} (code at {address})"),
            },
            chainlift_backend_sbf::Error::Internal(_) => failed(e.to_string()),
        })
    }

    fn build(
        &self,
        code: &[u8],
        fork: Fork,
        address: Address,
        target: &Target,
    ) -> Result<Executable<Context>, EngineError> {
        let failed = |reason: String| EngineError::Translate { address, reason };
        let program = self.program(code, fork, address, target)?;
        let executable = load(&program.elf).map_err(|e| failed(format!("sbf loader: {e}")))?;
        if self.jit {
            executable
                .jit_compile()
                .map_err(|e| failed(format!("sbf jit: {e}")))?;
        }
        Ok(executable)
    }
}

/// The addresses the `host.balance`s of a one-function module read, when
/// each reads a constant or the contract's own address (`this`); `None`
/// when one may read any.
fn balance_reads(module: &chainlift_ir::function::Module, this: Address) -> Option<Vec<Address>> {
    use chainlift_ir::inst::{HostOp, Op};
    let [f] = module.functions.as_slice() else {
        return None;
    };
    let insts = || f.layout.iter().flat_map(|b| &f.block(*b).insts);
    let def: HashMap<_, _> = insts()
        .filter_map(|i| Some((*i.results.first()?, &i.op)))
        .collect();
    let mut out = vec![];
    for i in insts().filter(|i| i.op == Op::Host(HostOp::Balance)) {
        match def.get(i.args.first()?) {
            Some(Op::Iconst(c)) => out.push(Address::from_slice(&c.to_be_bytes::<32>()[12..])),
            Some(Op::Host(HostOp::Address)) => out.push(this),
            _ => return None,
        }
    }
    Some(out)
}

/// Whether `code` has any of `ops` as an instruction (not push data).
fn uses_any(code: &[u8], ops: &[u8]) -> bool {
    let mut pc = 0;
    while let Some(&op) = code.get(pc) {
        if ops.contains(&op) {
            return true;
        }
        pc += 1 + if (0x60..=0x7f).contains(&op) {
            op as usize - 0x5f
        } else {
            0
        };
    }
    false
}

impl SbfEngine {
    /// `wei` in lamports, if it is a whole number of them that fits a `u64`.
    fn lamports(&self, wei: U256) -> Option<u64> {
        let (l, r) = wei.div_rem(U256::from(self.target.wei_per_lamport));
        r.is_zero().then(|| l.try_into().ok()).flatten()
    }

    /// The lamports the transaction's payer starts with for `wei`: rounded
    /// down and at most 2^62 (revm runs with its balance check off, so the
    /// caller can always pay; more could overflow what it is paid back).
    /// BALANCE reads of the caller decline where this is not its balance.
    fn payer_lamports(&self, wei: U256) -> u64 {
        self.lamports_floor(wei).min(PAYER_CAP)
    }

    /// `wei` in whole lamports, rounded down (at most `u64::MAX`).
    fn lamports_floor(&self, wei: U256) -> u64 {
        (wei / U256::from(self.target.wei_per_lamport)).saturating_to()
    }
}

impl Engine for SbfEngine {
    fn name(&self) -> &'static str {
        if self.jit { "sbf-jit" } else { "sbf" }
    }

    fn carries_value(&self, value: U256) -> bool {
        self.lamports(value).is_some()
    }

    fn run(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        fork: Fork,
    ) -> Result<Outcome, EngineError> {
        let unsupported = |reason: String| EngineError::Unsupported {
            engine: self.name(),
            reason,
        };
        if call.create {
            return Err(unsupported(
                "a creation transaction: contract creation has no Solana mapping yet (deploy the translated program instead)".into(),
            ));
        }
        if self.exact_wei {
            let w = self.exact_wei_per_lamport(world, call);
            if w != self.target.wei_per_lamport {
                return self.scaled(w).run(world, block, call, fork);
            }
        }
        if bundle::applies(self, world, call, fork)
            && let Some(o) = self.run_bundle(world, block, call, fork)?
        {
            return Ok(o);
        }
        let value = self.lamports(call.value).ok_or_else(|| {
            unsupported(format!(
                "the call sends {} wei, not a whole number of lamports",
                call.value
            ))
        })?;
        let empty = Account::default();
        let account = world.accounts.get(&call.to).unwrap_or(&empty);
        let program = self.compile(
            &account.code,
            fork,
            call.to,
            &self.target_for(block, call.gas_price),
        );
        let exe = program.as_ref().as_ref().map_err(Clone::clone)?;
        // The program keeps its state account: SELFDESTRUCT as Cancun has
        // it for an existing contract. Earlier forks delete the contract.
        if fork < Fork::Cancun && uses_any(&account.code, &[0xff]) {
            return Err(unsupported(format!(
                "before Cancun SELFDESTRUCT deletes the contract, which the program's state account cannot be ({fork:?})"
            )));
        }
        // The heap the program was translated for (see `program`).
        let heap_size = if crate::stylus::is_wasm(&account.code) {
            self.target.heap_size.max(WASM_HEAP)
        } else {
            self.target.heap_size
        } as usize;
        let before = &account.storage;
        let state = storage::encode(before, storage::capacity_for(before.len()));
        // The contract's balance is the state account's lamports above its
        // rent-exempt minimum.
        let reserve = (128 + state.len() as u64) * u64::from(self.target.rent_per_byte);
        let balance = match self.lamports(account.balance) {
            Some(l) => l,
            // Only code that reads its balance or sends value can tell.
            None if !uses_any(&account.code, &[0x31, 0x47, 0xf1, 0xff]) => {
                self.lamports_floor(account.balance)
            }
            None => {
                return Err(unsupported(format!(
                    "the contract's balance of {} wei is not a whole number of lamports",
                    account.balance
                )));
            }
        };
        let clock = (
            block.number.saturating_to::<u64>(),
            block.timestamp.saturating_to::<i64>(),
        );
        // revm runs with its balance check off: the caller can always pay.
        // While the call runs, its EVM balance is less the gas paid up
        // front, which BALANCE would read.
        let upfront = U256::from(call.gas_limit).saturating_mul(call.gas_price);
        let caller_wei = world
            .accounts
            .get(&call.caller)
            .map_or(U256::ZERO, |a| a.balance.saturating_sub(upfront));
        let caller_balance = self.payer_lamports(caller_wei);
        // What BALANCE may read must read as revm has it: 0 for the zero
        // address (the system program's key) and the precompiles, and the
        // caller's balance (less the gas paid up front) in whole lamports.
        if uses_any(&account.code, &[0x31]) {
            let reads = self
                .lifter
                .module(&account.code, fork)
                .ok()
                .and_then(|c| balance_reads(&c.module, call.to));
            let may_read = |a: &Address| reads.as_ref().is_none_or(|r| r.contains(a));
            let precompile_or_zero = (0..=0x11u8).map(Address::with_last_byte);
            for a in precompile_or_zero.filter(may_read) {
                if world.accounts.get(&a).is_some_and(|x| !x.balance.is_zero()) {
                    return Err(unsupported(format!(
                        "BALANCE may read {a}, which has a balance on the EVM and none on Solana"
                    )));
                }
            }
            if may_read(&call.caller)
                && (self.lamports(caller_wei) != Some(caller_balance) || caller_balance < value)
            {
                return Err(unsupported(format!(
                    "BALANCE may read the caller's balance of {caller_wei} wei, which is not a whole number of lamports that covers the value"
                )));
            }
        }
        let mut addresses = vec![call.to, call.caller];
        let mut accounts = vec![
            AccountIn {
                key: key_of(call.to),
                owner: PROGRAM_ID,
                lamports: reserve.saturating_add(balance),
                signer: false,
                writable: true,
                executable: false,
                data: &state,
            },
            AccountIn::payer(key_of(call.caller), caller_balance.max(value)),
        ];
        if value != 0 {
            addresses.push(Address::ZERO);
            accounts.push(AccountIn::system_program());
        }
        let data = instruction_data(value, &call.data);
        // A call paying an account that is not passed ends asking for it
        // (its address as return data): add it and send again, as a
        // client would after a simulation.
        let reads_balance = uses_any(&account.code, &[0x31]);
        let cluster = Cluster {
            program_id: PROGRAM_ID,
            programs: Arc::default(),
            clock,
            heap_size,
        };
        let run = self.run_adding(exe, (&mut accounts, &mut addresses), &data, &cluster, |n| {
            let a = n.address();
            Ok(vec![(
                a,
                self.account_asked_for(world, a, reads_balance, PROGRAM_ID)?,
            )])
        })?;
        let mut o = ended(&run);
        if o.status == Status::Success {
            let before_lamports: Vec<u64> = accounts.iter().map(|a| a.lamports).collect();
            o.balances =
                self.balance_changes(world, block, call, &addresses, &before_lamports, &run);
            o.storage = storage_changes(call.to, before, &run.state)?;
            o.logs = run
                .logs
                .iter()
                .map(|slices| decode_log(call.to, slices))
                .collect::<Result<_, _>>()
                .map_err(|reason| EngineError::Translate {
                    address: call.to,
                    reason,
                })?;
        }
        Ok(o)
    }
}

/// An EVM log from one `sol_log_data` call: its slices, joined, are a
/// byte with the number of topics, the topics (32 big-endian bytes each),
/// then the data.
pub fn decode_log(address: Address, slices: &[Vec<u8>]) -> Result<Log, String> {
    let record = slices.concat();
    match record.split_first() {
        Some((&n, rest)) if n <= 4 && rest.len() >= 32 * n as usize => {
            let (topics, data) = rest.split_at(32 * n as usize);
            Ok(Log {
                address,
                topics: topics.chunks(32).map(U256::from_be_slice).collect(),
                data: data.to_vec(),
            })
        }
        _ => Err(format!(
            "a sol_log_data record of {} bytes is not an EVM log",
            record.len()
        )),
    }
}

/// An account a program asked for ([`exit::ACCOUNT_NEEDED`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needed {
    /// The account an address stands for (20 bytes of return data).
    Plain(Address),
    /// The state account of a contract the program creates at the address
    /// (the address and a byte 1).
    State(Address),
    /// A contract another program holds: that program, and the address's
    /// state account under it (the address and the program's id).
    Outside(Address, [u8; 32]),
}

impl Needed {
    /// What the return data of a run that ended with
    /// [`exit::ACCOUNT_NEEDED`] asks for.
    fn parse(return_data: &[u8]) -> Option<Needed> {
        match return_data {
            [a @ .., 1] if a.len() == 20 => Some(Needed::State(Address::from_slice(a))),
            a if a.len() == 20 => Some(Needed::Plain(Address::from_slice(a))),
            a if a.len() == 52 => Some(Needed::Outside(
                Address::from_slice(&a[..20]),
                a[20..].try_into().ok()?,
            )),
            _ => None,
        }
    }

    fn address(self) -> Address {
        match self {
            Needed::Plain(a) | Needed::State(a) | Needed::Outside(a, _) => a,
        }
    }
}

/// What a run needs beside its accounts: the program's id, the programs
/// its cross-program invocations can run, the Clock and the heap.
pub(crate) struct Cluster {
    pub(crate) program_id: [u8; 32],
    pub(crate) programs: Arc<Programs>,
    pub(crate) clock: (u64, i64),
    pub(crate) heap_size: usize,
}

impl SbfEngine {
    /// Runs `exe` on `accounts` (standing for `addresses`) with `data`.
    /// When the program asks for an account it was not given
    /// ([`exit::ACCOUNT_NEEDED`], the address as return data), adds the
    /// ones `more` gives (each with the address it stands for) and runs
    /// again, as a client would after a simulation.
    fn run_adding<'a>(
        &self,
        exe: &Executable<Context>,
        (accounts, addresses): (&mut Vec<AccountIn<'a>>, &mut Vec<Address>),
        data: &[u8],
        cluster: &Cluster,
        mut more: impl FnMut(Needed) -> Result<Vec<(Address, AccountIn<'a>)>, EngineError>,
    ) -> Result<Run, EngineError> {
        loop {
            let run = runtime::execute_in(
                exe,
                self.jit,
                &Invocation {
                    program_id: cluster.program_id,
                    accounts,
                    data,
                    clock: cluster.clock,
                    heap_size: cluster.heap_size,
                },
                cluster.programs.clone(),
            );
            // (Or a program it invoked asked, and failed: the transaction's
            // return data is that program's request.)
            let asked = format!("custom program error {:#x}", exit::ACCOUNT_NEEDED);
            let needed = match &run.result {
                Ok(exit::ACCOUNT_NEEDED) => Needed::parse(&run.return_data),
                Err(e) if e.contains(cpi::FAILED) && e.ends_with(&asked) => {
                    Needed::parse(&run.raw_return.1)
                }
                _ => None,
            };
            // (An address comes once: the program refuses the account
            // standing for an address before the state account of a
            // contract it creates there.)
            let Some(n) = needed.filter(|n| !addresses.contains(&n.address())) else {
                return Ok(run);
            };
            let new: Vec<_> = more(n)?
                .into_iter()
                .filter(|(a, _)| !addresses.contains(a))
                .collect();
            if accounts.len() + new.len() > 32 {
                return Ok(run);
            }
            for (a, account) in new {
                accounts.push(account);
                addresses.push(a);
            }
        }
    }
}

/// How a run ended, as users see it: the status (an exit code, the
/// compute budget, a VM error) and, for success and revert, the return
/// data; no changes yet.
fn ended(run: &Run) -> Outcome {
    let code = match &run.result {
        Ok(c) => *c,
        Err(_) if run.out_of_budget => {
            return outcome(
                Status::TargetLimit(format!("compute budget of {COMPUTE_BUDGET} CU")),
                vec![],
                run,
            );
        }
        // A call out of the bundle that Solana cannot make as the EVM
        // would: the called program failed (the EVM's caller would go on
        // with 0), or came back into a program on the stack, or went
        // deeper than Solana's invocations may.
        Err(e)
            if e.contains(cpi::FAILED)
                || e.contains("cpi: ReentrancyNotAllowed")
                || e.contains("cpi: CallDepth") =>
        {
            return outcome(Status::TargetLimit(format!("sbf: {e}")), vec![], run);
        }
        Err(e) => return outcome(Status::Halt(format!("sbf: {e}")), vec![], run),
    };
    let status = match code {
        exit::SUCCESS => Status::Success,
        exit::REVERT => Status::Revert,
        c if exit::is_target_limit(c) => Status::TargetLimit(exit::describe(c)),
        // Asked again for an account it was given, or for too many.
        exit::ACCOUNT_NEEDED => Status::TargetLimit(exit::describe(exit::ACCOUNT_NEEDED)),
        c => Status::Halt(exit::describe(c)),
    };
    let return_data = if matches!(status, Status::Success | Status::Revert) {
        run.return_data.clone()
    } else {
        vec![]
    };
    outcome(status, return_data, run)
}

/// Storage slots that changed: (account, slot) → (before, after).
type StorageChanges = std::collections::BTreeMap<(Address, U256), (U256, U256)>;

/// The storage of the contract at `address` that changed from `before` to
/// the table in `data` (its state account's data after the call).
fn storage_changes(
    address: Address,
    before: &std::collections::BTreeMap<U256, U256>,
    data: &[u8],
) -> Result<StorageChanges, EngineError> {
    let after = storage::decode(data).map_err(|reason| EngineError::Translate {
        address,
        reason: format!("state account after the call: {reason}"),
    })?;
    let keys: std::collections::BTreeSet<&U256> = before.keys().chain(after.keys()).collect();
    Ok(keys
        .into_iter()
        .filter_map(|k| {
            let (b, a) = (
                before.get(k).copied().unwrap_or_default(),
                after.get(k).copied().unwrap_or_default(),
            );
            (a != b).then_some(((address, *k), (b, a)))
        })
        .collect())
}

impl SbfEngine {
    /// The account for address `a` that a run asks for, as a client would
    /// add it: the system program for the zero address, an account owned
    /// by `code_owner` for code, else a plain account, each with the
    /// world's balance in lamports. When the program `reads_balance`, the
    /// balance must be whole lamports.
    fn account_asked_for(
        &self,
        world: &World,
        a: Address,
        reads_balance: bool,
        code_owner: [u8; 32],
    ) -> Result<AccountIn<'static>, EngineError> {
        let other = world.accounts.get(&a);
        if let Some(o) = other
            && reads_balance
            && self.lamports(o.balance).is_none()
        {
            return Err(EngineError::Unsupported {
                engine: self.name(),
                reason: format!(
                    "the balance of {a}, {} wei, is not a whole number of lamports",
                    o.balance
                ),
            });
        }
        let lamports = other.map_or(0, |o| self.lamports_floor(o.balance));
        Ok(match other {
            // Its key is the system program's.
            _ if a == Address::ZERO => AccountIn::system_program(),
            Some(o) if !o.code.is_empty() => AccountIn::other(key_of(a), code_owner, lamports),
            _ => AccountIn::other(key_of(a), [0; 32], lamports),
        })
    }

    /// The balances that changed: each account's lamport difference
    /// (`addresses[i]` had `before[i]`), in wei, from the world's balance;
    /// not the system program's, nor the fees' accounts.
    fn balance_changes(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        addresses: &[Address],
        before: &[u64],
        run: &Run,
    ) -> std::collections::BTreeMap<Address, (U256, U256)> {
        let w = U256::from(self.target.wei_per_lamport);
        let mut out = std::collections::BTreeMap::new();
        // The rent of storage that grew is the signer's cost of the
        // transaction, as gas is on the EVM: a balance change of neither.
        let rent = |i: usize| {
            run.grown
                .get(i)
                .map_or(0, |g| g * u64::from(self.target.rent_per_byte))
        };
        let paid: u64 = (0..addresses.len()).map(rent).sum();
        for (i, a) in addresses.iter().enumerate() {
            let (b, mut l) = (before[i], run.lamports[i].saturating_sub(rent(i)));
            if *a == call.caller {
                l = l.saturating_add(paid);
            }
            if *a == Address::ZERO || crate::fees_hide(*a, call, block.coinbase) || b == l {
                continue;
            }
            let was = world.accounts.get(a).map_or(U256::ZERO, |x| x.balance);
            let now = if l > b {
                was.saturating_add(U256::from(l - b) * w)
            } else {
                was.saturating_sub(U256::from(b - l) * w)
            };
            // A caller that could not pay (revm, with its balance check
            // off, lends it the value) ends where it started.
            if now != was {
                out.insert(*a, (was, now));
            }
        }
        out
    }
}

fn outcome(status: Status, return_data: Vec<u8>, run: &Run) -> Outcome {
    let cost = Cost {
        unit: "CU",
        amount: run.compute_units,
    };
    Outcome::new(status, return_data, cost)
}
