//! The Solana runtime the SBF engine emulates around a program: the
//! loader's checks ([`load`]), the syscalls with Agave's compute-unit costs
//! ([`Context`]), the input serialization of ABI v1 ([`AccountIn`],
//! [`instruction_data`]) and one invocation ([`execute`]).

use super::*;

/// A loaded, verified program, as [`load`] gives it.
pub type Loaded = Executable<Context>;

/// Loads and verifies an ELF as Solana's loader would.
pub fn load(elf: &[u8]) -> Result<Loaded, EbpfError> {
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
        .and_then(|_| loader.register_definition::<MemCmp>("sol_memcmp_"))
        .and_then(|_| loader.register_definition::<Clock>("sol_get_clock_sysvar"))
        .and_then(|_| loader.register_definition::<InvokeSignedC>("sol_invoke_signed_c"))
        .and_then(|_| loader.register_definition::<GetReturnData>("sol_get_return_data"))
        .and_then(|_| {
            loader.register_definition::<CreateProgramAddress>("sol_create_program_address")
        })
        .and_then(|_| {
            loader.register_definition::<TryFindProgramAddress>("sol_try_find_program_address")
        })
        .map_err(EbpfError::ElfError)?;
    let executable = Executable::from_elf(elf, Arc::new(loader))?;
    executable.verify::<RequisiteVerifier>()?;
    executable.verify::<LocalVerifier>()?;
    Ok(executable)
}

/// Programs a cross-program invocation can run, by id (beside the system
/// program, which the engine emulates itself).
pub type Programs = Vec<([u8; 32], Arc<Result<Loaded, crate::EngineError>>)>;

/// What a program run leaves behind.
pub struct Context {
    pub(super) remaining: u64,
    mapping: MemoryMapping,
    /// Bytes given to `sol_set_return_data`.
    pub return_data: Vec<u8>,
    /// The program that set them (the transaction's return data is the
    /// last program's to set it).
    pub return_program: [u8; 32],
    /// Each `sol_log_data` call's slices.
    pub logs: Vec<Vec<Vec<u8>>>,
    /// The Clock sysvar: slot and unix timestamp.
    pub clock: (u64, i64),
    /// The instruction's accounts: key, signer, writable.
    pub(super) accounts: Vec<([u8; 32], bool, bool)>,
    /// Each account's lamports as the runtime last saw them: at the
    /// start, then as cross-program calls copied them.
    pub(super) synced: Vec<u64>,
    /// Each account's owner: at the start, then as a system
    /// `CreateAccount` made it.
    pub(super) owners: Vec<[u8; 32]>,
    /// Each account's data length as the runtime last saw it: at the
    /// start, then as a program this one invoked left it.
    pub(super) lens: Vec<u64>,
    /// Each account's data length at the start: its input has room for
    /// 10,240 bytes more.
    pub(super) room: Vec<u64>,
    /// The running program's id.
    pub(super) program_id: [u8; 32],
    /// The programs a cross-program invocation can run.
    pub(super) programs: Arc<Programs>,
    /// The programs on the invocation stack, the running one last.
    pub(super) stack: Vec<[u8; 32]>,
    /// Whether programs run JIT-compiled, and their heap.
    pub(super) jit: bool,
    pub(super) heap_size: usize,
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

/// Seeds and the program id they derive an address under.
type Seeds = (Vec<Vec<u8>>, [u8; 32]);

impl Context {
    /// Charges `cost` CU, failing when the budget runs out.
    pub(super) fn charge(&mut self, cost: u64) -> Result<(), Box<dyn std::error::Error>> {
        if cost > self.remaining {
            self.remaining = 0;
            return Err("compute budget exceeded".into());
        }
        self.remaining -= cost;
        Ok(())
    }

    pub(super) fn read(&self, addr: u64, len: u64) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
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

    pub(super) fn write(
        &mut self,
        addr: u64,
        bytes: &[u8],
    ) -> Result<(), Box<dyn std::error::Error>> {
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

    /// The `n` seeds (`{ptr, len}` slices) at `seeds`, at most `max`, and
    /// the program id at `program`: what the address syscalls read.
    fn seeds_and_program(
        &self,
        (seeds, n, max): (u64, u64, u64),
        program: u64,
    ) -> Result<Seeds, Box<dyn std::error::Error>> {
        let seeds = self.slices(seeds, n, max)?;
        let program = self
            .read(program, 32)?
            .try_into()
            .map_err(|_| "program id")?;
        Ok((seeds, program))
    }

    /// The program-derived addresses a cross-program call's `n` signers
    /// (`SolSignerSeedsC` at `seeds`) give under the running program's id.
    pub(super) fn signers(
        &self,
        seeds: u64,
        n: u64,
    ) -> Result<Vec<[u8; 32]>, Box<dyn std::error::Error>> {
        if n > 16 {
            return Err("cpi: more than 16 signers".into());
        }
        let word =
            |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
        let mut pdas = vec![];
        for signer in self.read(seeds, 16 * n)?.chunks(16) {
            let seeds = self.slices(word(signer, 0), word(signer, 8), 16)?;
            let seeds: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
            let key =
                chainlift_backend_sbf::address::create_program_address(&seeds, &self.program_id)
                    .ok_or("cpi: signer seeds that give no program-derived address")?;
            pdas.push(key);
        }
        Ok(pdas)
    }

    /// A cross-program call's `n` account infos (`SolAccountInfo`, 56
    /// bytes each, at `infos`), charged as Agave does (80 bytes each by
    /// 250), and each one's key.
    pub(super) fn account_infos(
        &mut self,
        infos: u64,
        n: u64,
    ) -> Result<(Vec<u8>, Vec<Vec<u8>>), SyscallError> {
        self.charge(n * 80 / 250)?;
        let infos = self.read(infos, 56 * n)?;
        let mut keys = vec![];
        for i in infos.chunks(56) {
            let key = u64::from_le_bytes(i[0..8].try_into().unwrap_or_default());
            keys.push(self.read(key, 32)?);
        }
        Ok((infos, keys))
    }

    /// The program's own changes to the lamports of the accounts a
    /// cross-program call names (key, info), copied into the runtime's
    /// view: they must add up (Agave's `UnbalancedInstruction`).
    pub(super) fn sync_lamports<'a>(
        &mut self,
        named: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let mut delta: i128 = 0;
        for (key, info) in named {
            if let Some(i) = self.accounts.iter().position(|a| a.0[..] == key[..]) {
                let at = u64::from_le_bytes(info[8..16].try_into().unwrap_or_default());
                let now = u64::from_le_bytes(self.read(at, 8)?.try_into().unwrap_or_default());
                delta += i128::from(now) - i128::from(self.synced[i]);
                self.synced[i] = now;
            }
        }
        if delta != 0 {
            return Err("cpi: UnbalancedInstruction (the program moved lamports to or from an account the call does not name)".into());
        }
        Ok(())
    }

    /// The `n` `{ptr, len}` slices at `addr`, at most `max` of them.
    pub(super) fn slices(
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
        ctx.return_program = ctx.program_id;
        Ok(0)
    }
);

declare_builtin_function!(
    /// `sol_get_return_data(buf, len, program_id_out)`: 100 CU, and
    /// (n + 32)/250 more when it copies n > 0 bytes; copies up to `len`
    /// bytes of the return data and then the id of the program that set
    /// them; returns their length.
    GetReturnData,
    fn rust(ctx: &mut Context, buf: u64, len: u64, program: u64, _d: u64, _e: u64,) -> Result<u64, SyscallError> {
        ctx.charge(100)?;
        let data = ctx.return_data.clone();
        let n = data.len().min(len as usize);
        if n != 0 {
            ctx.charge((n as u64 + 32) / 250)?;
            ctx.write(buf, &data[..n])?;
            let id = ctx.return_program;
            ctx.write(program, &id)?;
        }
        Ok(data.len() as u64)
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
    /// `sol_memcmp_(a, b, n, result)`: max(10, n/250) CU; the `i32` at
    /// `result` is the difference of the first bytes that differ (`a`'s
    /// less `b`'s), or 0.
    MemCmp,
    fn rust(ctx: &mut Context, a: u64, b: u64, n: u64, result: u64, _e: u64,) -> Result<u64, SyscallError> {
        ctx.charge((n / 250).max(10))?;
        if n > 1 << 20 {
            return Err("memcmp too large".into());
        }
        let (x, y) = (ctx.read(a, n)?, ctx.read(b, n)?);
        let diff = x
            .iter()
            .zip(&y)
            .find(|(p, q)| p != q)
            .map_or(0, |(p, q)| i32::from(*p) - i32::from(*q));
        ctx.write(result, &diff.to_le_bytes())?;
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
    /// `sol_create_program_address(seeds, n, program_id, out)`: 1,500 CU;
    /// 1 (and nothing written) when the seeds give no program-derived
    /// address.
    CreateProgramAddress,
    fn rust(ctx: &mut Context, seeds: u64, n: u64, program: u64, out: u64, _e: u64,) -> Result<u64, SyscallError> {
        ctx.charge(1500)?;
        let (seeds, program) = ctx.seeds_and_program((seeds, n, 16), program)?;
        let seeds: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
        match chainlift_backend_sbf::address::create_program_address(&seeds, &program) {
            Some(key) => {
                ctx.write(out, &key)?;
                Ok(0)
            }
            None => Ok(1),
        }
    }
);

declare_builtin_function!(
    /// `sol_try_find_program_address(seeds, n, program_id, out, bump_out)`:
    /// the program-derived address of the seeds and the highest bump byte
    /// that gives one; 1,500 CU, and 1,500 more per bump rejected.
    TryFindProgramAddress,
    fn rust(ctx: &mut Context, seeds: u64, n: u64, program: u64, out: u64, bump_out: u64,) -> Result<u64, SyscallError> {
        ctx.charge(1500)?;
        let (seeds, program) = ctx.seeds_and_program((seeds, n, 15), program)?;
        for bump in (1..=255u8).rev() {
            let mut with_bump: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
            let b = [bump];
            with_bump.push(&b);
            if let Some(key) = chainlift_backend_sbf::address::create_program_address(&with_bump, &program) {
                ctx.write(out, &key)?;
                ctx.write(bump_out, &[bump])?;
                return Ok(0);
            }
            ctx.charge(1500)?;
        }
        Ok(1)
    }
);

/// The system program's instructions a translated program makes.
enum SystemCall {
    /// `Transfer` of lamports from the first account to the second.
    Transfer(u64),
    /// `CreateAccount` of the second account: lamports, space, owner.
    Create(u64, u64, [u8; 32]),
    /// `Allocate` of the account's data: space.
    Allocate(u64),
    /// `Assign` of the account to an owner.
    Assign([u8; 32]),
}

impl SystemCall {
    fn parse(data: &[u8]) -> Option<SystemCall> {
        let word = |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().unwrap_or_default());
        match (data.get(0..4)?, data.len()) {
            ([2, 0, 0, 0], 12) => Some(SystemCall::Transfer(word(4))),
            ([0, 0, 0, 0], 52) => Some(SystemCall::Create(
                word(4),
                word(12),
                data[20..52].try_into().ok()?,
            )),
            ([8, 0, 0, 0], 12) => Some(SystemCall::Allocate(word(4))),
            ([1, 0, 0, 0], 36) => Some(SystemCall::Assign(data[4..36].try_into().ok()?)),
            _ => None,
        }
    }
}

declare_builtin_function!(
    /// `sol_invoke_signed_c(instruction, infos, n, seeds, n_seeds)`, for
    /// the cross-program calls a translated program makes: system
    /// transfers from a signer (the value a call brings, a storage
    /// table's rent), naming any further writable accounts, and the
    /// `CreateAccount` of a bundle's state account at a program-derived
    /// address the program signs for. Agave's checks: the program's own
    /// lamport moves between the instruction's accounts are copied into
    /// the accounts the call names only, which must then add up
    /// (`UnbalancedInstruction`); an account created must be new (no
    /// lamports, no data, the system program's) and get at most the
    /// 10,240 bytes the caller's input has room for. Agave's costs: 946
    /// for the invoke; instruction data and account metas (34 bytes each)
    /// by bytes/250; account infos by 80 bytes each/250; each named
    /// account's data by length/250; 150 for the system program.
    InvokeSignedC,
    fn rust(ctx: &mut Context, ix: u64, infos: u64, n: u64, seeds: u64, n_seeds: u64,) -> Result<u64, SyscallError> {
        ctx.charge(946)?;
        let word = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
        let head = ctx.read(ix, 40)?;
        let (program, metas, n_metas) = (word(&head, 0), word(&head, 8), word(&head, 16));
        let (data, n_data) = (word(&head, 24), word(&head, 32));
        ctx.charge(n_data / 250 + n_metas.saturating_mul(34) / 250)?;
        let program: [u8; 32] = ctx.read(program, 32)?.try_into().map_err(|_| "cpi: program id")?;
        if program != [0u8; 32] {
            return super::cpi::invoke(ctx, program, (metas, n_metas), (data, n_data), (infos, n), (seeds, n_seeds));
        }
        if !ctx.accounts.iter().any(|a| a.0 == [0u8; 32]) {
            return Err("cpi: Unknown program 11111111111111111111111111111111 (the system program is not among the instruction's accounts)".into());
        }
        let pdas = ctx.signers(seeds, n_seeds)?;
        let data = ctx.read(data, n_data)?;
        let call = SystemCall::parse(&data).ok_or("cpi: not a system transfer or account creation")?;
        if !(1..=64).contains(&n_metas) || n > 255 {
            return Err("cpi: not a system transfer or account creation".into());
        }
        let metas = ctx.read(metas, 16 * n_metas)?;
        let (infos, info_keys) = ctx.account_infos(infos, n)?;
        // Each account named (once): its info.
        let mut named: Vec<(Vec<u8>, &[u8])> = vec![];
        for m in metas.chunks(16) {
            let key = ctx.read(word(m, 0), 32)?;
            if named.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let Some(at) = info_keys.iter().position(|k| *k == key) else {
                return Err("cpi: Instruction references an unknown account".into());
            };
            let info = &infos[56 * at..56 * at + 56];
            let writable = ctx.accounts.iter().any(|a| a.0[..] == key[..] && a.2);
            if m[8] == 1 && !writable {
                return Err("cpi: a read-only account passed as writable".into());
            }
            ctx.charge(word(info, 16) / 250)?;
            named.push((key, info));
        }
        ctx.sync_lamports(named.iter().map(|(k, i)| (&k[..], *i)))?;
        let signs = |ctx: &Context, key: &[u8]| {
            ctx.accounts.iter().any(|a| a.0[..] == key[..] && a.1) || pdas.iter().any(|p| p[..] == key[..])
        };
        // Allocate and Assign: of a writable signer the system program owns.
        if let SystemCall::Allocate(_) | SystemCall::Assign(_) = call {
            let (key, info) = &named[0];
            if metas[8] != 1 || metas[9] != 1 || !signs(ctx, key) {
                return Err("cpi: allocate or assign: the account must be a writable signer".into());
            }
            if ctx.read(word(info, 32), 32)? != [0u8; 32] {
                return Err("cpi: allocate or assign: the system program does not own the account".into());
            }
            match call {
                SystemCall::Allocate(space) => {
                    if word(info, 16) != 0 {
                        return Err("cpi: allocate: account already in use".into());
                    }
                    if space > 10_240 {
                        return Err("cpi: allocate: InvalidRealloc (more data than the caller's input has room for)".into());
                    }
                    ctx.write(word(info, 24) - 8, &space.to_le_bytes())?;
                }
                SystemCall::Assign(owner) => {
                    ctx.write(word(info, 32), &owner)?;
                    if let Some(i) = ctx.accounts.iter().position(|a| a.0[..] == key[..]) {
                        ctx.owners[i] = owner;
                    }
                }
                _ => {}
            }
            ctx.charge(150)?;
            return Ok(0);
        }
        if named.len() < 2 {
            return Err("cpi: a system transfer or creation names two accounts".into());
        }
        let (from, to) = (&named[0], &named[1]);
        if metas[8] != 1 || metas[9] != 1 || !signs(ctx, &from.0) || metas[24] != 1 {
            return Err("cpi: the system call's source must be a writable signer".into());
        }
        let lamports = match call {
            SystemCall::Transfer(lamports) => lamports,
            SystemCall::Create(lamports, space, owner) => {
                if metas[25] != 1 || !signs(ctx, &to.0) {
                    return Err("cpi: create account: the new account must sign".into());
                }
                let (to_lamports, to_len) = (word(&ctx.read(word(to.1, 8), 8)?, 0), word(to.1, 16));
                let to_owner = ctx.read(word(to.1, 32), 32)?;
                if to_lamports != 0 || to_len != 0 || to_owner != [0u8; 32] {
                    return Err("cpi: create account: account already in use".into());
                }
                if space > 10_240 {
                    return Err("cpi: create account: InvalidRealloc (more data than the caller's input has room for)".into());
                }
                ctx.write(word(to.1, 32), &owner)?;
                ctx.write(word(to.1, 24) - 8, &space.to_le_bytes())?;
                if let Some(i) = ctx.accounts.iter().position(|a| a.0[..] == to.0[..]) {
                    ctx.owners[i] = owner;
                }
                lamports
            }
            SystemCall::Allocate(_) | SystemCall::Assign(_) => unreachable!("handled above"),
        };
        let have = word(&ctx.read(word(from.1, 8), 8)?, 0);
        if have < lamports {
            return Err("cpi: system program: insufficient lamports".into());
        }
        let theirs = word(&ctx.read(word(to.1, 8), 8)?, 0);
        ctx.write(word(from.1, 8), &(have - lamports).to_le_bytes())?;
        ctx.write(word(to.1, 8), &theirs.saturating_add(lamports).to_le_bytes())?;
        for (key, change) in [(&from.0, -i128::from(lamports)), (&to.0, i128::from(lamports))] {
            if let Some(i) = ctx.accounts.iter().position(|a| a.0[..] == key[..]) {
                ctx.synced[i] = (i128::from(ctx.synced[i]) + change) as u64;
            }
        }
        ctx.charge(150)?;
        Ok(0)
    }
);

/// The native loader's id, the owner of builtin programs.
const NATIVE_LOADER: [u8; 32] = [
    5, 135, 132, 191, 20, 139, 164, 40, 47, 176, 18, 87, 72, 136, 169, 241, 83, 160, 125, 173, 247,
    101, 192, 69, 92, 154, 151, 3, 128, 0, 0, 0,
];

/// The upgradeable BPF loader's id, `BPFLoaderUpgradeab1e11111111111111111111111`.
const UPGRADEABLE_LOADER: [u8; 32] = [
    2, 168, 246, 145, 78, 136, 161, 176, 226, 16, 21, 62, 247, 99, 174, 43, 0, 194, 185, 61, 22,
    193, 36, 210, 192, 83, 122, 16, 4, 128, 0, 0,
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
    /// The caller: a signer, writable, owned by the system program.
    pub fn payer(key: [u8; 32], lamports: u64) -> AccountIn<'static> {
        AccountIn {
            key,
            owner: [0; 32],
            lamports,
            signer: true,
            writable: true,
            executable: false,
            data: &[],
        }
    }

    /// An account a call reaches: writable, no data.
    pub fn other(key: [u8; 32], owner: [u8; 32], lamports: u64) -> AccountIn<'static> {
        AccountIn {
            key,
            owner,
            lamports,
            signer: false,
            writable: true,
            executable: false,
            data: &[],
        }
    }

    /// A program's account, as a transaction lists it (its code is not
    /// in it: the upgradeable loader keeps that in another account).
    pub fn program(key: [u8; 32]) -> AccountIn<'static> {
        AccountIn {
            key,
            owner: UPGRADEABLE_LOADER,
            lamports: 1,
            signer: false,
            writable: false,
            executable: true,
            data: &[],
        }
    }

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
    /// Every account's data afterwards, in the instruction's order.
    pub data: Vec<Vec<u8>>,
    /// Every account's lamports afterwards, in the instruction's order.
    pub lamports: Vec<u64>,
    /// Every account's owner afterwards, in the instruction's order (a
    /// state account the program created is the program's).
    pub owners: Vec<[u8; 32]>,
    /// Bytes each account's data grew by, in the instruction's order
    /// (storage tables that grew; the signer paid their rent).
    pub grown: Vec<u64>,
    /// Return data.
    pub return_data: Vec<u8>,
    /// The transaction's return data afterwards, and the program that set
    /// it (after a call out, perhaps another).
    pub raw_return: ([u8; 32], Vec<u8>),
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
    execute_in(exe, jit, call, Arc::new(vec![]))
}

/// [`execute`] with `programs` for the program's cross-program
/// invocations to run.
pub fn execute_in(
    exe: &Executable<Context>,
    jit: bool,
    call: &Invocation,
    programs: Arc<Programs>,
) -> Run {
    run_vm(exe, jit, call, (COMPUTE_BUDGET, vec![]), programs).0
}

/// One program's run with `budget` CU left in the transaction, invoked
/// from the programs on `stack`; also the CU left afterwards.
pub(super) fn run_vm(
    exe: &Executable<Context>,
    jit: bool,
    call: &Invocation,
    (budget, mut stack_of): (u64, Vec<[u8; 32]>),
    programs: Arc<Programs>,
) -> (Run, u64) {
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
            let run = Run {
                result: Err(e.to_string()),
                out_of_budget: false,
                compute_units: 0,
                state: state.to_vec(),
                data: accounts.iter().map(|a| a.data.to_vec()).collect(),
                lamports: accounts.iter().map(|a| a.lamports).collect(),
                owners: accounts.iter().map(|a| a.owner).collect(),
                grown: vec![0; accounts.len()],
                return_data: vec![],
                raw_return: ([0; 32], vec![]),
                logs: vec![],
            };
            return (run, budget);
        }
    };
    // Agave charges a heap larger than the default 32 KiB when it creates
    // the VM: 8 CU per further 32 KiB page (`calculate_heap_cost`).
    let heap_cost = (heap_size as u64).div_ceil(32 * 1024).saturating_sub(1) * 8;
    stack_of.push(program_id);
    let mut ctx = Context {
        remaining: budget.saturating_sub(heap_cost),
        mapping,
        return_data: vec![],
        return_program: [0; 32],
        logs: vec![],
        clock,
        accounts: accounts
            .iter()
            .map(|a| (a.key, a.signer, a.writable))
            .collect(),
        synced: accounts.iter().map(|a| a.lamports).collect(),
        owners: accounts.iter().map(|a| a.owner).collect(),
        lens: accounts.iter().map(|a| a.data.len() as u64).collect(),
        room: accounts.iter().map(|a| a.data.len() as u64).collect(),
        program_id,
        programs,
        stack: stack_of,
        jit,
        heap_size,
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
    let mut result = match result {
        ProgramResult::Ok(code) => Ok(code),
        ProgramResult::Err(e) => Err(e.to_string()),
    };
    // Account data may grow by 10,240 bytes at most, and only the
    // program's own writable accounts' (Agave's `InvalidRealloc` and
    // `AccountDataSizeChanged` otherwise).
    let mut grown = vec![0; accounts.len()];
    let mut data = Vec::with_capacity(accounts.len());
    let mut lamports = Vec::with_capacity(accounts.len());
    let mut fail = |why: String| {
        if result.is_ok() {
            result = Err(why);
        }
    };
    for (i, (a, &o)) in accounts.iter().zip(&offsets).enumerate() {
        let word = |at: usize| u64::from_le_bytes(input[at..at + 8].try_into().unwrap_or_default());
        let (len, now) = (word(o - 8), word(o - 16));
        let (old, seen) = (a.data.len() as u64, ctx.lens[i]);
        let len = if len == seen {
            // (As the start, or as a program this one invoked left it.)
            seen
        } else if len > old && len - old <= 10_240 && a.writable && ctx.owners[i] == program_id {
            // (An account the program created is not growth it pays rent
            // for: its creation paid it.)
            if a.owner == program_id {
                grown[i] = len - seen.max(old);
            }
            len
        } else {
            fail(format!(
                "invalid realloc: account data of {old} bytes set to {len}"
            ));
            old
        };
        // Nor may it take lamports from an account it does not own (below
        // what the runtime last saw of it: Agave's
        // `ExternalAccountLamportSpend`).
        if ctx.owners[i] != program_id && now < ctx.synced[i] {
            fail(format!(
                "external account lamport spend: account {i} went from {} to {now} lamports",
                ctx.synced[i]
            ));
        }
        data.push(input[o..o + len as usize].to_vec());
        lamports.push(now);
    }
    let state = data.first().cloned().unwrap_or_else(|| state.to_vec());
    drop(ctx.mapping);
    drop((stack, heap));
    let left = ctx.remaining;
    let run = Run {
        result,
        out_of_budget: ctx.remaining == 0,
        compute_units: count + heap_cost,
        state,
        data,
        lamports,
        owners: ctx.owners,
        grown,
        // What the program itself set last (after a call out that returned
        // data, the transaction's return data names the called program;
        // a client takes only the program's own).
        return_data: if ctx.return_program == program_id {
            ctx.return_data.clone()
        } else {
            vec![]
        },
        raw_return: (ctx.return_program, ctx.return_data),
        logs: ctx.logs,
    };
    (run, left)
}
