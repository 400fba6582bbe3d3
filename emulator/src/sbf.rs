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

/// Programs by code hash, fork, chain id and translation-time constants.
type Cache = HashMap<
    ([u8; 32], Fork, u64, Vec<(EnvField, U256)>),
    Arc<Result<Executable<Context>, EngineError>>,
>;

/// The `sbf` and `sbf-jit` engines.
pub struct SbfEngine {
    /// Run the JIT-compiled program instead of the interpreter.
    pub jit: bool,
    /// What programs are built for.
    pub target: Target,
    /// The pipeline's settings (its stages) and the module cache.
    pub lifter: IrEngine,
    programs: Mutex<Cache>,
}

impl SbfEngine {
    /// The interpreter (`jit = false`) or JIT engine.
    pub fn new(jit: bool) -> Self {
        SbfEngine {
            jit,
            target: Target::default(),
            lifter: IrEngine::default(),
            programs: Mutex::default(),
        }
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

/// Loads and verifies an ELF as Solana's loader would.
pub fn load(elf: &[u8]) -> Result<Executable<Context>, EbpfError> {
    let config = Config {
        enabled_sbpf_versions: SBPFVersion::V3..=SBPFVersion::V3,
        enable_instruction_meter: true,
        ..Config::default()
    };
    let mut loader = BuiltinProgram::new_loader(config);
    loader
        .register_definition::<SetReturnData>("sol_set_return_data")
        .and_then(|_| loader.register_definition::<LogData>("sol_log_data"))
        .and_then(|_| loader.register_definition::<Keccak256>("sol_keccak256"))
        .and_then(|_| loader.register_definition::<Sha256>("sol_sha256"))
        .and_then(|_| loader.register_definition::<Secp256k1Recover>("sol_secp256k1_recover"))
        .and_then(|_| loader.register_definition::<MemCopy>("sol_memcpy_"))
        .and_then(|_| loader.register_definition::<MemCopy>("sol_memmove_"))
        .and_then(|_| loader.register_definition::<MemSet>("sol_memset_"))
        .and_then(|_| loader.register_definition::<Clock>("sol_get_clock_sysvar"))
        .and_then(|_| loader.register_definition::<InvokeSignedC>("sol_invoke_signed_c"))
        .map_err(EbpfError::ElfError)?;
    let executable = Executable::from_elf(elf, Arc::new(loader))?;
    executable.verify::<RequisiteVerifier>()?;
    executable.verify::<LocalVerifier>()?;
    Ok(executable)
}

/// What a program run leaves behind.
pub struct Context {
    remaining: u64,
    mapping: MemoryMapping,
    /// Bytes given to `sol_set_return_data`.
    pub return_data: Vec<u8>,
    /// Each `sol_log_data` call's slices.
    pub logs: Vec<Vec<Vec<u8>>>,
    /// The Clock sysvar: slot and unix timestamp.
    pub clock: (u64, i64),
    /// The instruction's accounts: key, signer, writable.
    accounts: Vec<([u8; 32], bool, bool)>,
}

impl ContextObject for Context {
    fn consume(&mut self, amount: u64) {
        self.remaining = self.remaining.saturating_sub(amount);
    }

    fn get_remaining(&self) -> u64 {
        self.remaining
    }

    fn active_mapping_ptr(&mut self) -> NonNull<MemoryMapping> {
        NonNull::from(&mut self.mapping)
    }
}

type SyscallError = Box<dyn std::error::Error>;

impl Context {
    /// Charges `cost` CU, failing when the budget runs out.
    fn charge(&mut self, cost: u64) -> Result<(), Box<dyn std::error::Error>> {
        if cost > self.remaining {
            self.remaining = 0;
            return Err("compute budget exceeded".into());
        }
        self.remaining -= cost;
        Ok(())
    }

    fn read(&self, addr: u64, len: u64) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        if len == 0 {
            return Ok(vec![]);
        }
        // SAFETY (both arms): `map` checked that [addr, addr + len) lies in
        // one region of the mapping, whose backing vector lives as long as
        // the mapping, and nothing else touches it while we copy.
        match self.mapping.map(AccessType::Load, addr, len) {
            StableResult::Ok(HostBuffer::Immutable(p)) => Ok(unsafe { (*p).to_vec() }),
            StableResult::Ok(HostBuffer::Mutable(p)) => Ok(unsafe { (*p).to_vec() }),
            StableResult::Err(e) => Err(Box::new(e)),
        }
    }

    fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
        if bytes.is_empty() {
            return Ok(());
        }
        let p = self.writable(addr, bytes.len() as u64)?;
        // SAFETY: `writable` mapped exactly `bytes.len()` writable bytes of a
        // region whose vector outlives the mapping; no other reference to
        // them exists during the copy.
        unsafe { (*p).copy_from_slice(bytes) };
        Ok(())
    }

    /// The joined slices of a hash syscall, charged as Agave does: 85 CU,
    /// then max(10, length / 2) per slice, at most 20,000 slices.
    fn hash_input(&mut self, addr: u64, n: u64) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        self.charge(85)?;
        let slices = self.slices(addr, n, 20_000)?;
        let mut all = vec![];
        for s in &slices {
            self.charge((s.len() as u64 / 2).max(10))?;
            all.extend_from_slice(s);
        }
        Ok(all)
    }

    /// The host bytes behind `len` bytes at `addr`, which must be
    /// writable.
    fn writable(&mut self, addr: u64, len: u64) -> Result<*mut [u8], Box<dyn std::error::Error>> {
        match self.mapping.map(AccessType::Store, addr, len) {
            StableResult::Ok(HostBuffer::Mutable(p)) => Ok(p),
            StableResult::Ok(HostBuffer::Immutable(_)) => Err("write to read-only memory".into()),
            StableResult::Err(e) => Err(Box::new(e)),
        }
    }

    /// The `n` `{ptr, len}` slices at `addr`, at most `max` of them.
    fn slices(
        &self,
        addr: u64,
        n: u64,
        max: u64,
    ) -> Result<Vec<Vec<u8>>, Box<dyn std::error::Error>> {
        if n > max {
            return Err("too many slices".into());
        }
        let raw = self.read(addr, 16 * n)?;
        raw.chunks(16)
            .map(|c| {
                let ptr = u64::from_le_bytes(c[0..8].try_into().unwrap_or_default());
                let len = u64::from_le_bytes(c[8..16].try_into().unwrap_or_default());
                self.read(ptr, len)
            })
            .collect()
    }
}

declare_builtin_function!(
    /// `sol_set_return_data(ptr, len)`: 100 + len/250 CU, at most 1,024 bytes.
    SetReturnData,
    fn rust(ctx: &mut Context, ptr: u64, len: u64, _c: u64, _d: u64, _e: u64,) -> Result<u64, SyscallError> {
        ctx.charge(100 + len / 250)?;
        if len > 1024 {
            return Err("return data too large".into());
        }
        ctx.return_data = ctx.read(ptr, len)?;
        Ok(0)
    }
);

declare_builtin_function!(
    /// `sol_log_data(slices, n)`: 100 + 100 per slice + bytes CU.
    LogData,
    fn rust(ctx: &mut Context, addr: u64, n: u64, _c: u64, _d: u64, _e: u64,) -> Result<u64, SyscallError> {
        ctx.charge(100 + 100 * n.min(64))?;
        let slices = ctx.slices(addr, n, 64)?;
        ctx.charge(slices.iter().map(|s| s.len() as u64).sum())?;
        ctx.logs.push(slices);
        Ok(0)
    }
);

declare_builtin_function!(
    /// `sol_keccak256(slices, n, out)`: 85 + max(10, len/2) per slice CU.
    Keccak256,
    fn rust(ctx: &mut Context, addr: u64, n: u64, out: u64, _d: u64, _e: u64,) -> Result<u64, SyscallError> {
        let all = ctx.hash_input(addr, n)?;
        ctx.write(out, keccak256(&all).as_slice())?;
        Ok(0)
    }
);

declare_builtin_function!(
    /// `sol_sha256(slices, n, out32)`: costed as `sol_keccak256`.
    Sha256,
    fn rust(ctx: &mut Context, addr: u64, n: u64, out: u64, _d: u64, _e: u64,) -> Result<u64, SyscallError> {
        use sha2::Digest;
        let all = ctx.hash_input(addr, n)?;
        ctx.write(out, &sha2::Sha256::digest(&all)[..])?;
        Ok(0)
    }
);

declare_builtin_function!(
    /// `sol_secp256k1_recover(hash32, recovery_id, signature64, out64)`:
    /// 25,000 CU. Writes the 64-byte public key (x, y) and returns 0, or
    /// returns Agave's error code (2: a bad recovery id, 3: a bad
    /// signature) and writes nothing.
    Secp256k1Recover,
    fn rust(ctx: &mut Context, hash: u64, recovery_id: u64, signature: u64, out: u64, _e: u64,) -> Result<u64, SyscallError> {
        ctx.charge(25_000)?;
        // Agave translates the output first: a bad pointer fails the
        // program whatever the signature.
        ctx.writable(out, 64)?;
        let hash = ctx.read(hash, 32)?;
        let signature = ctx.read(signature, 64)?;
        match secp256k1_recover(&hash, recovery_id, &signature) {
            Ok(key) => {
                ctx.write(out, &key)?;
                Ok(0)
            }
            Err(code) => Ok(code),
        }
    }
);

/// What Agave's `sol_secp256k1_recover` answers (libsecp256k1): the public
/// key, or its error code. Like libsecp256k1, it takes signatures with a
/// high `s`, which k256 refuses, so those are normalized first.
fn secp256k1_recover(hash: &[u8], recovery_id: u64, signature: &[u8]) -> Result<[u8; 64], u64> {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    const BAD_RECOVERY_ID: u64 = 2;
    const BAD_SIGNATURE: u64 = 3;
    let id = u8::try_from(recovery_id)
        .ok()
        .and_then(RecoveryId::from_byte)
        .ok_or(BAD_RECOVERY_ID)?;
    let mut signature = Signature::from_slice(signature).map_err(|_| BAD_SIGNATURE)?;
    let mut id = id;
    if let Some(low) = signature.normalize_s() {
        signature = low;
        id = RecoveryId::from_byte(id.to_byte() ^ 1).ok_or(BAD_RECOVERY_ID)?;
    }
    let key =
        VerifyingKey::recover_from_prehash(hash, &signature, id).map_err(|_| BAD_SIGNATURE)?;
    let point = key.to_encoded_point(false);
    let mut out = [0u8; 64];
    out.copy_from_slice(point.as_bytes().get(1..65).ok_or(BAD_SIGNATURE)?);
    Ok(out)
}

declare_builtin_function!(
    /// `sol_memcpy_` / `sol_memmove_(dst, src, n)`: max(10, n/250) CU.
    MemCopy,
    fn rust(ctx: &mut Context, dst: u64, src: u64, n: u64, _d: u64, _e: u64,) -> Result<u64, SyscallError> {
        ctx.charge((n / 250).max(10))?;
        let bytes = ctx.read(src, n)?;
        ctx.write(dst, &bytes)?;
        Ok(0)
    }
);

declare_builtin_function!(
    /// `sol_memset_(dst, byte, n)`: max(10, n/250) CU.
    MemSet,
    fn rust(ctx: &mut Context, dst: u64, byte: u64, n: u64, _d: u64, _e: u64,) -> Result<u64, SyscallError> {
        ctx.charge((n / 250).max(10))?;
        if n > 1 << 20 {
            return Err("memset too large".into());
        }
        ctx.write(dst, &vec![byte as u8; n as usize])?;
        Ok(0)
    }
);

declare_builtin_function!(
    /// `sol_get_clock_sysvar(out)`: 100 + 40 CU; the 40-byte Clock.
    Clock,
    fn rust(ctx: &mut Context, out: u64, _b: u64, _c: u64, _d: u64, _e: u64,) -> Result<u64, SyscallError> {
        ctx.charge(100 + 40)?;
        let mut clock = [0u8; 40];
        clock[0..8].copy_from_slice(&ctx.clock.0.to_le_bytes());
        clock[32..40].copy_from_slice(&ctx.clock.1.to_le_bytes());
        ctx.write(out, &clock)?;
        Ok(0)
    }
);

declare_builtin_function!(
    /// `sol_invoke_signed_c(instruction, infos, n, seeds, n_seeds)`, for
    /// the one cross-program call a translated program makes: a system
    /// transfer from the caller to the state account. Agave's costs: 946
    /// for the invoke; instruction data and account metas (34 bytes each)
    /// by bytes/250; account infos by 80 bytes each/250; each account's
    /// data by length/250; 150 for the system program.
    InvokeSignedC,
    fn rust(ctx: &mut Context, ix: u64, infos: u64, n: u64, _s: u64, n_seeds: u64,) -> Result<u64, SyscallError> {
        ctx.charge(946)?;
        let word = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
        let head = ctx.read(ix, 40)?;
        let (program, metas, n_metas) = (word(&head, 0), word(&head, 8), word(&head, 16));
        let (data, n_data) = (word(&head, 24), word(&head, 32));
        ctx.charge(n_data / 250 + n_metas.saturating_mul(34) / 250)?;
        if ctx.read(program, 32)? != [0u8; 32] || n_seeds != 0 {
            return Err("cpi: only unsigned calls to the system program are emulated".into());
        }
        if !ctx.accounts.iter().any(|a| a.0 == [0u8; 32]) {
            return Err("cpi: Unknown program 11111111111111111111111111111111 (the system program is not among the instruction's accounts)".into());
        }
        let data = ctx.read(data, n_data)?;
        if data.len() != 12 || data[0..4] != [2, 0, 0, 0] || n_metas != 2 || n > 255 {
            return Err("cpi: not a system transfer".into());
        }
        let lamports = word(&data, 4);
        let metas = ctx.read(metas, 32)?;
        let from = ctx.read(word(&metas, 0), 32)?;
        let to = ctx.read(word(&metas, 16), 32)?;
        ctx.charge(n * 80 / 250)?;
        let infos = ctx.read(infos, 56 * n)?;
        let mut at = [0u64; 2];
        for (k, key) in [&from, &to].into_iter().enumerate() {
            let mut found = None;
            for i in infos.chunks(56) {
                if ctx.read(word(i, 0), 32)? == *key {
                    found = Some(i);
                    break;
                }
            }
            let Some(info) = found else {
                return Err("cpi: Instruction references an unknown account".into());
            };
            if k == 0 || key != &from {
                ctx.charge(word(info, 16) / 250)?;
            }
            at[k] = word(info, 8);
        }
        let signs = ctx.accounts.iter().any(|a| a.0[..] == from[..] && a.1 && a.2);
        if metas[8] != 1 || metas[9] != 1 || !signs || metas[24] != 1 {
            return Err("cpi: the transfer's source must be a writable signer".into());
        }
        let have = word(&ctx.read(at[0], 8)?, 0);
        if have < lamports {
            return Err("cpi: system transfer: insufficient lamports".into());
        }
        ctx.write(at[0], &(have - lamports).to_le_bytes())?;
        let theirs = word(&ctx.read(at[1], 8)?, 0);
        ctx.write(at[1], &theirs.saturating_add(lamports).to_le_bytes())?;
        ctx.charge(150)?;
        Ok(0)
    }
);

/// The native loader's id, the owner of builtin programs.
const NATIVE_LOADER: [u8; 32] = [
    5, 135, 132, 191, 20, 139, 164, 40, 47, 176, 18, 87, 72, 136, 169, 241, 83, 160, 125, 173, 247,
    101, 192, 69, 92, 154, 151, 3, 128, 0, 0, 0,
];

/// One account of an instruction, as the runtime holds it.
#[derive(Debug, Clone)]
pub struct AccountIn<'a> {
    /// Public key.
    pub key: [u8; 32],
    /// Owner program.
    pub owner: [u8; 32],
    /// Lamports.
    pub lamports: u64,
    /// Signed the transaction.
    pub signer: bool,
    /// Writable in the instruction.
    pub writable: bool,
    /// A program.
    pub executable: bool,
    /// Data.
    pub data: &'a [u8],
}

impl AccountIn<'_> {
    /// The system program, as a transaction lists it.
    pub fn system_program() -> AccountIn<'static> {
        AccountIn {
            key: [0; 32],
            owner: NATIVE_LOADER,
            lamports: 1,
            signer: false,
            writable: false,
            executable: true,
            data: b"system_program",
        }
    }
}

/// Instruction data for a call: the lamports it brings (`u64`
/// little-endian), then the calldata.
pub fn instruction_data(lamports: u64, calldata: &[u8]) -> Vec<u8> {
    [&lamports.to_le_bytes()[..], calldata].concat()
}

/// Solana's ABI v1 input: accounts, instruction data, program id. Returns
/// the bytes and the offset of each account's data.
fn serialize(accounts: &[AccountIn], data: &[u8], program_id: &[u8; 32]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    let mut offsets = vec![];
    out.extend_from_slice(&(accounts.len() as u64).to_le_bytes());
    for a in accounts {
        out.extend_from_slice(&[
            0xff,
            a.signer as u8,
            a.writable as u8,
            a.executable as u8,
            0,
            0,
            0,
            0,
        ]);
        out.extend_from_slice(&a.key);
        out.extend_from_slice(&a.owner);
        out.extend_from_slice(&a.lamports.to_le_bytes());
        out.extend_from_slice(&(a.data.len() as u64).to_le_bytes());
        offsets.push(out.len());
        out.extend_from_slice(a.data);
        out.resize(out.len() + 10240, 0);
        out.resize(out.len().next_multiple_of(8), 0);
        out.extend_from_slice(&u64::MAX.to_le_bytes());
    }
    out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(program_id);
    (out, offsets)
}

/// What one run of a program gave.
pub struct Run {
    /// `r0` at exit, or the VM's error.
    pub result: Result<u64, String>,
    /// Whether the compute budget ran out (in an instruction or a syscall).
    pub out_of_budget: bool,
    /// Compute units spent.
    pub compute_units: u64,
    /// The state account's data afterwards.
    pub state: Vec<u8>,
    /// Every account's lamports afterwards, in the instruction's order.
    pub lamports: Vec<u64>,
    /// Return data.
    pub return_data: Vec<u8>,
    /// Each `sol_log_data` call's slices.
    pub logs: Vec<Vec<Vec<u8>>>,
}

/// One instruction to run: the accounts' contents and the call.
pub struct Invocation<'a> {
    /// The program's id (the state account's owner).
    pub program_id: [u8; 32],
    /// The accounts: the state account (its data a storage table), the
    /// caller (a signer), then any others.
    pub accounts: &'a [AccountIn<'a>],
    /// The instruction data ([`instruction_data`]).
    pub data: &'a [u8],
    /// The Clock sysvar's slot and unix timestamp.
    pub clock: (u64, i64),
    /// Heap bytes.
    pub heap_size: usize,
}

/// Runs `exe` (interpreted, or JIT-compiled when `jit`).
pub fn execute(exe: &Executable<Context>, jit: bool, call: &Invocation) -> Run {
    let Invocation {
        program_id,
        accounts,
        data,
        clock,
        heap_size,
    } = *call;
    let state = accounts.first().map_or(&[][..], |a| a.data);
    let (mut input, offsets) = serialize(accounts, data, &program_id);
    let config = exe.get_config().clone();
    let mut stack = vec![0u8; config.stack_size()];
    let mut heap = vec![0u8; heap_size];
    let regions = vec![
        exe.get_ro_region(),
        MemoryRegion::new(stack.as_mut_slice() as *mut [u8], MM_STACK_START),
        MemoryRegion::new(heap.as_mut_slice() as *mut [u8], MM_HEAP_START),
        MemoryRegion::new(input.as_mut_slice() as *mut [u8], MM_INPUT_START),
    ];
    let version = exe.get_sbpf_version();
    // SAFETY: the stack, heap and input vectors outlive the mapping (they
    // are dropped at the end of this function, after the VM), and plain
    // bytes have no invariants the program could break.
    let mapping = match unsafe { MemoryMapping::new(regions, &config, version) } {
        Ok(m) => m,
        Err(e) => {
            return Run {
                result: Err(e.to_string()),
                out_of_budget: false,
                compute_units: 0,
                state: state.to_vec(),
                lamports: accounts.iter().map(|a| a.lamports).collect(),
                return_data: vec![],
                logs: vec![],
            };
        }
    };
    let mut ctx = Context {
        remaining: COMPUTE_BUDGET,
        mapping,
        return_data: vec![],
        logs: vec![],
        clock,
        accounts: accounts
            .iter()
            .map(|a| (a.key, a.signer, a.writable))
            .collect(),
    };
    let (count, result) = {
        let mut vm = EbpfVm::new(
            exe.get_loader().clone(),
            version,
            &mut ctx,
            config.stack_size(),
        );
        vm.registers[1] = MM_INPUT_START;
        let mut frames = vec![CallFrame::default(); config.max_call_depth];
        let mut mode = if jit {
            ExecutionMode::Jit
        } else {
            ExecutionMode::Interpreted
        };
        vm.execute_program(exe, &mut mode, &mut frames)
    };
    let result = match result {
        ProgramResult::Ok(code) => Ok(code),
        ProgramResult::Err(e) => Err(e.to_string()),
    };
    let start = offsets.first().copied().unwrap_or(0);
    let state = input[start..start + state.len()].to_vec();
    let lamports = offsets
        .iter()
        .map(|&o| u64::from_le_bytes(input[o - 16..o - 8].try_into().unwrap_or_default()))
        .collect();
    drop(ctx.mapping);
    drop((stack, heap));
    Run {
        result,
        out_of_budget: ctx.remaining == 0,
        compute_units: count,
        state,
        lamports,
        return_data: ctx.return_data,
        logs: ctx.logs,
    }
}

/// Whether `code` has any of `ops` as an instruction (not push data).
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
        let caller_balance = self.lamports_floor(caller_wei);
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
                && (self.lamports(caller_wei).is_none() || caller_balance < value)
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
            AccountIn {
                key: key_of(call.caller),
                owner: [0; 32],
                lamports: caller_balance.max(value),
                signer: true,
                writable: true,
                executable: false,
                data: &[],
            },
        ];
        if value != 0 {
            addresses.push(Address::ZERO);
            accounts.push(AccountIn::system_program());
        }
        let data = instruction_data(value, &call.data);
        // A call paying an account that is not passed ends asking for it
        // (its address as return data): add it and send again, as a
        // client would after a simulation.
        let run = loop {
            let run = execute(
                exe,
                self.jit,
                &Invocation {
                    program_id: PROGRAM_ID,
                    accounts: &accounts,
                    data: &data,
                    clock,
                    heap_size,
                },
            );
            let needed = (run.result == Ok(exit::ACCOUNT_NEEDED) && run.return_data.len() == 20)
                .then(|| Address::from_slice(&run.return_data));
            match needed {
                Some(a) if !addresses.contains(&a) && accounts.len() < 32 => {
                    let other = world.accounts.get(&a);
                    // BALANCE reads its lamports: they must be the balance.
                    if let Some(o) = other
                        && self.lamports(o.balance).is_none()
                        && uses_any(&account.code, &[0x31])
                    {
                        return Err(unsupported(format!(
                            "the balance of {a}, {} wei, is not a whole number of lamports",
                            o.balance
                        )));
                    }
                    addresses.push(a);
                    if a == Address::ZERO {
                        // Its key is the system program's.
                        accounts.push(AccountIn::system_program());
                        continue;
                    }
                    accounts.push(AccountIn {
                        key: key_of(a),
                        owner: match other {
                            Some(o) if !o.code.is_empty() => PROGRAM_ID,
                            _ => [0; 32],
                        },
                        lamports: other.map_or(0, |o| self.lamports_floor(o.balance)),
                        signer: false,
                        writable: true,
                        executable: false,
                        data: &[],
                    });
                }
                _ => break run,
            }
        };
        let code = match &run.result {
            Ok(c) => *c,
            Err(_) if run.out_of_budget => {
                return Ok(outcome(
                    Status::TargetLimit(format!("compute budget of {COMPUTE_BUDGET} CU")),
                    vec![],
                    &run,
                ));
            }
            Err(e) => {
                return Ok(outcome(Status::Halt(format!("sbf: {e}")), vec![], &run));
            }
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
        let mut o = outcome(status, return_data, &run);
        if o.status == Status::Success {
            // Balances move by the lamport differences, in wei.
            let w = U256::from(self.target.wei_per_lamport);
            for (i, a) in addresses.iter().enumerate() {
                let (b, l) = (accounts[i].lamports, run.lamports[i]);
                if *a == Address::ZERO || crate::fees_hide(*a, call, block.coinbase) || b == l {
                    continue;
                }
                let before = world.accounts.get(a).map_or(U256::ZERO, |x| x.balance);
                let after = if l > b {
                    before.saturating_add(U256::from(l - b) * w)
                } else {
                    before.saturating_sub(U256::from(b - l) * w)
                };
                // A caller that could not pay (revm, with its balance check
                // off, lends it the value) ends where it started.
                if after != before {
                    o.balances.insert(*a, (before, after));
                }
            }
            let after = storage::decode(&run.state).map_err(|reason| EngineError::Translate {
                address: call.to,
                reason: format!("state account after the call: {reason}"),
            })?;
            let keys: std::collections::BTreeSet<&U256> =
                before.keys().chain(after.keys()).collect();
            for k in keys {
                let (b, a) = (
                    before.get(k).copied().unwrap_or_default(),
                    after.get(k).copied().unwrap_or_default(),
                );
                if a != b {
                    o.storage.insert((call.to, *k), (b, a));
                }
            }
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

fn outcome(status: Status, return_data: Vec<u8>, run: &Run) -> Outcome {
    let cost = Cost {
        unit: "CU",
        amount: run.compute_units,
    };
    Outcome::new(status, return_data, cost)
}
