//! IR → Solana SBF: an SBPF v3 ELF program that runs an EVM contract.
//!
//! [`translate`] takes a verified IR module lifted from EVM bytecode (one
//! function, ending in `exit`; before legalization, since it lowers 256-bit
//! words itself) carrying the contract's EVM code, and returns a
//! deployable ELF plus a readable listing. The program is self-contained:
//! 256-bit arithmetic is lowered to four 64-bit limbs, with the long
//! operations (multiplication, division, `addmod`/`mulmod` with 512-bit
//! intermediates, `exp`, shifts, `clz`) emitted once as internal functions.
//!
//! # The Solana mapping
//!
//! One Solana instruction is one EVM message call. The table gives, for
//! each host operation of the IR, what the program does on Solana.
//!
//! | EVM / IR | On Solana |
//! |---|---|
//! | calldata (`calldataload`, `calldatasize`, `calldatacopy`) | the instruction data after its first 8 bytes (the value); shorter data ends with [`exit::BAD_INPUT`] |
//! | accounts | `[0]` the **state account**: writable, owned by the program, holding the storage table; `[1]` the **caller**: must sign (and be writable to send value). Then, in any order: the system program when the instruction brings value, and the accounts calls pay. A missing, duplicated, read-only or foreign-owned state account or an unsigned caller ends with error [`exit::BAD_ACCOUNTS`]; a state account whose data is not a storage table ends with [`exit::BAD_STATE`] |
//! | ether | lamports, [`Target::wei_per_lamport`] wei each (10^9: 1 ether is 1 SOL) |
//! | `callvalue` | the instruction data's first 8 bytes: lamports (`u64`, little-endian), in wei. When not zero the program first moves them from the caller to the state account with a system-program transfer (`sol_invoke_signed_c`: 946 CU, the state's data length / 250, and the system program's 150) |
//! | `selfbalance` | the state account's lamports above its rent-exempt minimum (`(128 + data length) * `[`Target::rent_per_byte`]), in wei |
//! | `selfdestruct` | as Cancun has it for a contract created before the transaction (EIP-6780): the contract's balance (the state account's lamports above its rent-exempt minimum) moves to the account the beneficiary stands for, found as for `call` (else [`exit::ACCOUNT_NEEDED`]); nothing is deleted and the program ends with success. Nothing moves for a zero balance or the contract itself. Target limits: a beneficiary with code or a precompile address ([`exit::CALL_INTO_CODE`]), one left below its rent-exempt minimum ([`exit::RECIPIENT_RENT`]) |
//! | `balance` | of the contract's own address, as `selfbalance`; of a precompile address, 0; of any other address, all the lamports of the account whose public key ends in it (found among accounts `[1..]` as for `call`, else [`exit::ACCOUNT_NEEDED`] with the address), in wei |
//! | `call` with any gas (ignored) and value, and `staticcall` and `delegatecall` (which send none), into an account without code | lamports move from the state account to the account whose public key ends in the address (the first one among accounts `[1..]`). A value above the balance fails the call (0), as on the EVM; otherwise it succeeds with empty return data. A `staticcall` or a value of 0 moves nothing and needs the account only to see that it has no code. The account must be writable and among the instruction's accounts, else the program ends with [`exit::ACCOUNT_NEEDED`] and the address (20 bytes) as return data, for the client to add it and send again. Target limits: wei that are not whole lamports ([`exit::VALUE_NOT_LAMPORTS`]), an account with code: executable, owned by a program, the contract itself, or a precompile address ([`exit::CALL_INTO_CODE`]), and a payment that leaves the account below its rent-exempt minimum ([`exit::RECIPIENT_RENT`]) |
//! | `callcode` | the callee's code with the contract's own storage, address and balance; the value is checked first against the contract's balance (more fails the call: 0; wei that are not whole lamports: [`exit::VALUE_NOT_LAMPORTS`]) and moves nowhere. Into an account without code (found as for `call`, else [`exit::ACCOUNT_NEEDED`]) it succeeds with empty return data; an account with code or a precompile address is the target limit [`exit::CALL_INTO_CODE`] |
//! | precompiles `ecrecover` (0x1) and `sha256` (0x2) | a `staticcall`, or a `call` with the constant value 0, to the constant address: the input (ecrecover's zero-padded to 128 bytes) goes to `sol_secp256k1_recover` (recovery id `v - 27`; its 64-byte key is hashed with `sol_keccak256` into the address) or to `sol_sha256`. The 32-byte answer is the return data ([`layout::RETURN_DATA`]) and its first bytes go to the output range. As on the EVM, a `v` other than 27 or 28, or a signature the syscall refuses, answers nothing and the call still succeeds. Any other address in the precompile range is a call into code |
//! | `extcodesize` | the contract's own code size for its own address, 0 for a precompile address and for an account without code (the account must be among the instruction's accounts, else [`exit::ACCOUNT_NEEDED`] as for `call`). An account with code (executable or owned by a program) has no EVM code size: the target limit [`exit::CALL_INTO_CODE`] |
//! | `extcodecopy` | as `codecopy` of the code `extcodesize` measures: the contract's own for its own address, none (zeros) for an account without code or a precompile; an account with code is [`exit::CALL_INTO_CODE`] |
//! | `gas` | as a call's gas limit, ignored; read as a number (`gasleft()`), a constant fixed at translation, as below |
//! | `coinbase`, `prevrandao`, `gaslimit`, `gasprice`, `basefee`, `blobbasefee` | block and transaction fields Solana has no source for: constants fixed at translation ([`Target::constants`]). Defaults: the zero address, 0, 30,000,000, 0, 0 and 1, and 30,000,000 for `gasleft()` ([`EnvField::default_value`]); `chainlift translate --env NAME=VALUE` sets one, and the translation lists the ones the code reads. Without a constant (`--strict`) each is an operation with no mapping. The `sbf` engine fixes the values revm has for each call, so the suites compare them |
//! | `sload` / `sstore` | the state account's data: a 32-byte header (magic [`storage::MAGIC`], capacity, used entries, hash shift, and whether an extension follows) and an open-addressing table of 72-byte entries (`u64` used flag, 32-byte key, 32-byte value, both little-endian 256-bit integers), linear probing from a multiplicative hash of the key ([`storage::index`]). Writing zero keeps the entry (with value zero), so probing chains never break. A table takes entries up to three quarters of its capacity; then the account **grows**: an extension table of [`storage::EXTENSION_CAPACITY`] entries ([`storage::EXTENSION_MAGIC`]) goes after the last table, the data length grows to hold it ([`storage::EXTENSION_BYTES`], less when the account had room to spare; what it grew by goes in the account's four padding bytes, for walks over the accounts), and the signer (account `[1]`, which must be writable) pays the rent of the bytes added from its lamports above its own rent-exempt minimum, by a system transfer that names every writable account of the instruction (Agave refuses a cross-program call unless the lamports the program moved itself add up over the accounts it names); the system program must be among the accounts, else [`exit::ACCOUNT_NEEDED`] with the zero address. A lookup probes the table, then each extension. Solana lets data grow 10,240 bytes per instruction, so one extension per instruction ([`layout::GREW`]); a store that would need another, whose signer cannot pay, that comes with more than 32 writable accounts, or (in a bundle's nested frame) while the journal holds the balance of an account the program does not own (a payment a failed call would take back after the runtime saw it), ends with the target limit [`exit::STORAGE_FULL`]. The account is created with room to spare ([`storage::encode`]) |
//! | deployment | the program, then a **state account** created for it (owned by the program, its data all zeros, as large as the table it should hold: `32 + 72 * capacity` bytes for a power-of-two capacity of at least 2). The first instruction into that account, which the account must sign, writes the table: the header (the capacity is the largest power of two that fits) and the storage the constructor left ([`Target::initial_storage`], kept in the program's read-only data). Its instruction data is the value prefix alone, which must be zero (else [`exit::BAD_INPUT`]), and account `[1]` must sign, as for any call. The account's lamports above the rent-exempt minimum are the contract's balance |
//! | `tload` / `tstore` | the same table layout in the heap, fresh for each instruction (a transaction of one call), 32 entries; full ends with [`exit::TRANSIENT_FULL`] |
//! | memory | the heap after the program's own data, bounds-checked; growth past the heap ([`Target::heap_size`]) ends with the target limit [`exit::MEMORY_LIMIT`], never an access outside it |
//! | the EVM stack in memory (`stack.load` / `stack.store`, code lifted with its stack in memory) | an array of 32-byte words at the heap's end, taking half of what EVM memory could use (at most 1,024 words; about 460 in the default 32 KiB heap), index-checked on every access; deeper ends with the target limit [`exit::STACK_LIMIT`] |
//! | `return` | `sol_set_return_data` with the bytes (none when empty), exit 0; more than 1,024 bytes ends with [`exit::RETURN_TOO_LARGE`] |
//! | `revert` | `sol_set_return_data` with the revert data, then the custom program error [`exit::REVERT`]; the runtime discards every account change |
//! | exceptional halt (invalid opcode, bad jump, stack errors, out-of-bounds) | the custom program error [`exit::HALT`], no return data |
//! | `log0`..`log4` | one `sol_log_data` call whose slices, joined, are the record: a byte n (the number of topics), the n topics (32 big-endian bytes each), the data. Data up to 256 bytes is copied behind the topics (inline, or with `sol_memcpy_`) and the record is one slice; longer data is a second slice. The transaction log shows `Program data: <record>` (or `<head> <data>`) in base64. Each slice costs 100 CU, so one record beats a slice per topic by 100 CU a topic |
//! | `keccak256` | `sol_keccak256` over the memory range |
//! | `caller` | the last 20 bytes of the caller account's public key |
//! | `origin` | the same as `caller` (the program is called from a transaction, not through CPI) |
//! | `address` | the last 20 bytes of the state account's public key |
//! | `number`, `timestamp` | the Clock sysvar's `slot` and `unix_timestamp` (`sol_get_clock_sysvar`) |
//! | `chainid` | a constant chosen at translation ([`Target::chain_id`]) |
//! | `codesize`, `codecopy` | the EVM code, embedded in the read-only data |
//! | `returndatasize`, `returndatacopy` | after a precompile, its answer; after any other call, empty (calls reach only accounts without code). A program that calls no precompile has them as constants. Copying past the end is an exceptional halt |
//!
//! Everything else has no sound mapping yet and is a translation error that
//! names the operation and its pc ([`Error::Unsupported`]; `chainlift
//! translate --check` and [`check()`] list every one at once):
//! `extcodehash`, `blobhash`, `blockhash`, `create` and `create2`.
//!
//! # Bundles: systems of contracts
//!
//! [`translate_bundle`] puts several contracts in one program (see
//! [`bundle`]). What differs from the table above:
//!
//! | EVM | In a bundle |
//! |---|---|
//! | contract instances | one state account each, owned by the program, at the program-derived address of the seeds `"evm"`, the contract's EVM address and a bump byte ([`address::state_account`]); its data starts with a prefix ([`storage::PREFIX`] bytes: [`storage::BUNDLE_MAGIC`], the code id, the bump, the EVM address, the nonce), then the table. An instruction whose account 0 does not exist yet creates it ([`bundle::CREATE_DATA`] bytes of data: no value, the code id, the address, the bump): only for a contract the system deploys ([`Contract::address`]), at its address, and only at that address's program-derived address with the canonical bump (`sol_try_find_program_address`: 1,500 CU, and 1,500 more per bump rejected), so each address has one state account; the program then creates the account by a system `CreateAccount` it signs for ([`storage::CREATED_BYTES`], the rent paid by account `[1]`, a writable signer; the system program among the accounts; an account someone already sent lamports to is topped up to its rent, then allocated and assigned) and writes the prefix and the contract's initial storage |
//! | `address`, `caller` | the address in the running contract's prefix; the calling contract's, or the signer key's last 20 bytes in the outermost frame ([`layout::SELF_ADDR`], [`layout::CALLER_ADDR`]) |
//! | `call`, `staticcall` to a bundle's contract | the state account whose prefix holds the address (found among all the accounts, owned by the program as account 0 is; asked for with [`exit::ACCOUNT_NEEDED`] when missing; it must be writable) runs its code inside the program, in the next frame: its own EVM memory and calldata (the caller's input range), its state account's storage, `caller` the calling contract, the value moved between the two state accounts. Reentrancy and calls to itself work as on the EVM. Deeper than [`bundle::FRAMES`] ends with [`exit::CALL_DEPTH`] |
//! | `callcode` to a bundle's contract | the callee's code in the next frame with the caller's storage and address, the calling contract itself as `caller`, the value as `callvalue` (it stays with the caller) |
//! | `delegatecall` to a bundle's contract | the callee's code in the next frame with the caller's storage, address, caller and value (EIP-1967 proxies over an implementation in the bundle); to an account without code, success with no return data |
//! | return data | up to 1,024 bytes copied back into the caller's frame ([`layout::BUNDLE_RETURN_DATA`]); `returndatasize` and `returndatacopy` read it |
//! | a failed call (revert or halt) | returns 0 to the caller with the revert data, as on the EVM: its value moves back, the storage words and lamports it (and the calls it made) changed are put back from the journal (after the frames, [`bundle::JOURNAL_ENTRIES`] entries, one per word or balance a call changes, recorded again only when it is not among the call's newest [`bundle::JOURNAL_LOOKBACK`]; more end with [`exit::JOURNAL_FULL`]), and the records they logged are dropped |
//! | static context | `sstore`, `tstore`, logs and value in a `staticcall`'s frames are exceptional halts |
//! | `origin` | the outermost frame's caller |
//! | `extcodesize`, `extcodecopy` of a bundle's contract | its code's size and bytes, by its code id, from tables at the start of the read-only data (of the contract itself: the code its state account runs, so a delegate call reads the proxy's); of a created contract (a template, see `create`), the size, and for a copy [`exit::TEMPLATE_CODE`] |
//! | `balance` of a bundle's contract | its state account's lamports above rent, as `selfbalance` |
//! | EVM memory | each frame's starts zeroed: a frame an earlier call used is cleared when the next call enters it, as far as that call wrote (its value slots and memory, [`layout::MEM_BASE`]; the whole frame after a contract that keeps the EVM stack in memory) by `sol_memset_` (a CU per 250 bytes, at least 10) |
//! | `tload` / `tstore` | one table for the instruction, in the outermost frame: the outermost contract's keys as they are, another contract's as `keccak256(address ++ key)` (`sol_keccak256`, about 110 CU) |
//! | logs | the record starts with the emitting contract's address (20 bytes), then as above. A nested frame's records wait in the log buffer ([`bundle::LOG_BUFFER`], full: [`exit::LOG_FULL`]) and are logged, in order and one slice each, when the call returns to the outermost frame |
//! | heap | [`bundle::HEAP`]: [`bundle::FRAMES`] frames, then the journal and the log buffer (a transaction asks for it with `RequestHeapFrame`; Agave charges 56 CU for it) |
//!
//! | `selfdestruct` | as above, ending the frame; a beneficiary of the bundle takes the balance in its state account; in a static context an exceptional halt |
//! | `create`, `create2` | of init code the bundle holds ([`Contract::init`]: a child of one of its contracts, found by `chainlift_emulator::children`; compared with `sol_memcmp_`, else [`exit::CREATE_UNKNOWN`]): the address is the EVM's (`keccak256(rlp([creator, nonce]))` with the nonce in the creator's prefix; `keccak256(0xff ‖ creator ‖ salt ‖ keccak256(init code))`, two `sol_keccak256`), the creator's nonce goes up; the state account is the address's program-derived address (`sol_try_find_program_address`), which must be among the instruction's accounts, writable (else [`exit::ACCOUNT_NEEDED`] with the address and a byte 1), with the system program, and after any account standing for the address (else [`exit::BAD_ACCOUNTS`]: the search in order would find that one); one holding a contract is a collision (0); the program creates it as at deployment, the signer paying the rent, and writes its prefix (code id `u32::MAX` while the constructor runs: no code, `extcodesize` 0, a call into it succeeds without running anything and pays it the value), journalled, so a failure leaves it vacant for the next creation there. The constructor runs in the next frame with its code (init code and arguments, in the creator's memory) as `codesize`/`codecopy`, and empty calldata (`calldataload` and `calldatasize` give 0, `calldatacopy` zeros); its `return` leaves the range in its frame. The code it returns must be the template's outside the immutables (`sol_memcmp_`, else [`exit::CREATED_CODE`]); each immutable goes to its storage slot ([`Init::keys`]), which the template reads with `PUSH31 key; SLOAD` from the account whose code runs ([`layout::CODE_STORAGE`]; a copy of its code over an immutable, `codecopy` or `extcodecopy`, ends with [`exit::TEMPLATE_CODE`]), and the account takes the template's code id. The value moves from the creator's state account to the new one (a balance that is short gives 0, the nonce unchanged; one that is not whole lamports ends with [`exit::VALUE_NOT_LAMPORTS`]); a state account someone sent lamports to keeps them as its balance, the signer paying the rent on top (ether sent to the EVM address before went to the account standing for it, not here) (a signer that is read-only or cannot pay: [`exit::CREATE_RENT`]). Revert and halt give 0 with the EVM's return data, undone from the journal, the value back. No storage table grows further in the instruction ([`layout::GREW`], as after a growth) |
//! | `call`, `staticcall` of a contract another program of the system holds ([`Target::outside`]) | a cross-program invocation of that program (`solana_rt::call_out`): the instruction data is the value prefix (`u64::MAX` for a `staticcall`: the called frame is static) and the calldata; the accounts are the called contract's state account, the calling contract's (a signer, by its seeds `"evm"`, address, bump), then every other account of the instruction (at most 32); the held records are logged first; the return data is what that program set. Missing accounts: [`exit::ACCOUNT_NEEDED`] with the address and the program id (52 bytes). A program of the system takes such a caller for the address in its prefix ([`Target::trusted`]). A failure there fails the transaction; value, `delegatecall` and `callcode` end with [`exit::CALL_OUT`]; a call in the bundle that fails after calling out, with [`exit::CALL_OUT_UNDONE`] |
//!
//! Not in bundles yet: a constructor self-destructing (a translation
//! error).
//! A program run without the 256 KiB heap frame stops at its first nested
//! call with an access violation, not an exit code.
//!
//! # Memory of the running program
//!
//! `r9` holds the heap's start for the whole run. The heap holds, in order,
//! the globals ([`layout`]), the transient-storage table, a buffer for block
//! arguments, the slots of IR values (32 bytes each, reused when their live
//! ranges do not meet), and then EVM memory up to the end of the heap.

#![deny(missing_docs)]

pub mod address;
pub mod asm;
pub mod check;
pub mod elf;
mod lower;
mod runtime;
mod solana_rt;

use chainlift_ir::inst::SourcePos;
use chainlift_ir::verify::Verified;

/// What the program is built for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// Heap bytes the program may use: 32 KiB is what Solana gives without a
    /// `RequestHeapFrame` instruction; up to 256 KiB with one.
    pub heap_size: u32,
    /// What `chainid` returns.
    pub chain_id: u64,
    /// Wei per lamport: how ether amounts (`callvalue`, `selfbalance`, a
    /// call's value) map to lamports. The default, 10^9, makes 1 ether
    /// 1 SOL (ether has 18 decimals, SOL 9). At most `i32::MAX`, at least 1.
    pub wei_per_lamport: u32,
    /// Lamports per byte of the rent-exempt minimum
    /// (`(128 + data length) * rent_per_byte`, Solana's default rent).
    /// The part of the state account's lamports that is not the contract's
    /// balance; also the least an account paid by the program may hold.
    pub rent_per_byte: u32,
    /// The storage the contract's constructor left. The program keeps it in
    /// its read-only data and writes it into a fresh state account (all
    /// zeros) on that account's first instruction.
    pub initial_storage: std::collections::BTreeMap<alloy_primitives::U256, alloy_primitives::U256>,
    /// Block and transaction fields Solana has no source for, fixed at
    /// translation: the code reads these constants. A field left out has
    /// no mapping (`chainlift translate --strict`). The default holds every
    /// field at [`EnvField::default_value`].
    pub constants: std::collections::BTreeMap<EnvField, alloy_primitives::U256>,
    /// In a bundle: the system's contracts another program holds (a bundle
    /// of its own, translated with this program among its
    /// [`Target::trusted`]). A call to one leaves the bundle by a
    /// cross-program invocation of that program, signed for by the calling
    /// contract's state account.
    pub outside: Vec<Outside>,
    /// In a bundle: the programs whose state accounts speak for their
    /// contracts' addresses. When one of them owns the caller (account 1,
    /// a signer: only that program can sign for its program-derived
    /// addresses) and its data has a bundle prefix, `msg.sender` is the
    /// address in that prefix, not the last 20 bytes of its key: the other
    /// programs of the system, which call this one.
    pub trusted: Vec<[u8; 32]>,
}

/// A contract of the system that another program holds
/// ([`Target::outside`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Outside {
    /// Its EVM address.
    pub address: alloy_primitives::Address,
    /// The program that holds it: its state account is that program's
    /// program-derived address of the address.
    pub program: [u8; 32],
    /// Its code's size (`extcodesize`).
    pub code_size: u64,
}

/// A block or transaction field with no Solana source, which a program
/// reads as a constant chosen at translation ([`Target::constants`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EnvField {
    /// `block.coinbase`.
    Coinbase,
    /// `block.prevrandao` (DIFFICULTY before the merge).
    PrevRandao,
    /// `block.gaslimit`.
    GasLimit,
    /// `tx.gasprice`.
    GasPrice,
    /// `block.basefee`.
    BaseFee,
    /// `block.blobbasefee`.
    BlobBaseFee,
    /// `gasleft()` read as a number (as a call's gas limit it is ignored).
    Gas,
}

impl EnvField {
    /// Every field.
    pub const ALL: [EnvField; 7] = [
        EnvField::Coinbase,
        EnvField::PrevRandao,
        EnvField::GasLimit,
        EnvField::GasPrice,
        EnvField::BaseFee,
        EnvField::BlobBaseFee,
        EnvField::Gas,
    ];

    /// The name `--env NAME=VALUE` takes: the opcode's, lower case.
    pub fn name(self) -> &'static str {
        self.host().name()
    }

    /// The field by its name.
    pub fn parse(name: &str) -> Option<EnvField> {
        EnvField::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The host operation that reads it.
    pub fn host(self) -> chainlift_ir::inst::HostOp {
        use chainlift_ir::inst::HostOp;
        match self {
            EnvField::Coinbase => HostOp::Coinbase,
            EnvField::PrevRandao => HostOp::PrevRandao,
            EnvField::GasLimit => HostOp::GasLimit,
            EnvField::GasPrice => HostOp::GasPrice,
            EnvField::BaseFee => HostOp::BaseFee,
            EnvField::BlobBaseFee => HostOp::BlobBaseFee,
            EnvField::Gas => HostOp::Gas,
        }
    }

    /// The value it has unless set: 0 for the coinbase (the zero
    /// address), prevrandao, the gas price and the base fee (Solana's fees
    /// are paid in lamports, outside the program); 30,000,000 for the gas
    /// limit and for `gasleft()`; 1 for the blob base fee (its minimum).
    pub fn default_value(self) -> alloy_primitives::U256 {
        alloy_primitives::U256::from(match self {
            EnvField::Coinbase | EnvField::PrevRandao | EnvField::GasPrice | EnvField::BaseFee => {
                0u64
            }
            EnvField::GasLimit | EnvField::Gas => 30_000_000,
            EnvField::BlobBaseFee => 1,
        })
    }

    /// Every field at its default value.
    pub fn defaults() -> std::collections::BTreeMap<EnvField, alloy_primitives::U256> {
        EnvField::ALL
            .into_iter()
            .map(|f| (f, f.default_value()))
            .collect()
    }
}

impl Default for Target {
    fn default() -> Self {
        Target {
            heap_size: 32 * 1024,
            chain_id: 1,
            wei_per_lamport: 1_000_000_000,
            rent_per_byte: 6_960,
            initial_storage: Default::default(),
            constants: EnvField::defaults(),
            outside: vec![],
            trusted: vec![],
        }
    }
}

/// A translated program.
#[derive(Debug, Clone)]
pub struct Program {
    /// The SBPF v3 ELF.
    pub elf: Vec<u8>,
    /// The listing: every instruction, with the IR instruction and EVM pc
    /// it came from as comments.
    pub listing: String,
    /// Number of SBF instructions (an `lddw` counts as two).
    pub instructions: usize,
    /// Bytes of EVM memory the program can grow to.
    pub memory_limit: u32,
}

/// Why a module cannot be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An operation with no mapping to Solana (yet).
    #[error("unsupported {what} at {pos} for target sbf: {why}")]
    Unsupported {
        /// The operation.
        what: String,
        /// Where it came from.
        pos: SourcePos,
        /// Why there is no mapping.
        why: &'static str,
    },
    /// The program would not fit what Solana allows.
    #[error("target limit: {what}")]
    TargetLimit {
        /// What does not fit.
        what: String,
    },
    /// The module is not what the backend expects (a bug before it).
    #[error("backend-sbf internal error: {0}")]
    Internal(String),
}

/// Exit codes: `r0` at the end of the program. Non-zero codes are Solana
/// custom program errors, and make the runtime discard account changes.
pub mod exit {
    /// STOP or RETURN.
    pub const SUCCESS: u64 = 0;
    /// REVERT; the revert data is the return data.
    pub const REVERT: u64 = 1;
    /// An exceptional halt of the EVM (invalid opcode, bad jump, ...).
    pub const HALT: u64 = 2;
    /// Target limit: EVM memory would grow past the heap.
    pub const MEMORY_LIMIT: u64 = 0x101;
    /// Target limit: the storage table has no room left and cannot grow
    /// in this instruction (it grew already, or the signer cannot pay the
    /// rent; the transient table never grows).
    pub const STORAGE_FULL: u64 = 0x102;
    /// Target limit: the transient-storage table is full.
    pub const TRANSIENT_FULL: u64 = 0x103;
    /// Target limit: return or revert data longer than 1,024 bytes.
    pub const RETURN_TOO_LARGE: u64 = 0x104;
    /// Target limit: a call sends an amount of wei that is not a whole
    /// number of lamports ([`crate::Target::wei_per_lamport`]).
    pub const VALUE_NOT_LAMPORTS: u64 = 0x105;
    /// Target limit: a call into code (an executable or program-owned
    /// account, the contract itself, a precompile) that is neither a
    /// contract of the bundle nor one of the system's other programs
    /// hold ([`crate::Target::outside`]).
    pub const CALL_INTO_CODE: u64 = 0x106;
    /// Target limit: the account a call pays would hold less than the
    /// rent-exempt minimum, which Solana refuses.
    pub const RECIPIENT_RENT: u64 = 0x107;
    /// Target limit: code lifted with the EVM stack in memory went deeper
    /// than the stack's share of the heap (half of what EVM memory may use,
    /// at most the EVM's 1,024 words).
    pub const STACK_LIMIT: u64 = 0x108;
    /// Target limit: calls between a bundle's contracts nested deeper than
    /// its frames ([`crate::bundle::FRAMES`]).
    pub const CALL_DEPTH: u64 = 0x109;
    /// Target limit: calls inside a bundle changed more storage words and
    /// balances than its journal holds ([`crate::bundle::JOURNAL_ENTRIES`]).
    pub const JOURNAL_FULL: u64 = 0x10c;
    /// Target limit: the records logged by calls inside a bundle (held
    /// until the outermost frame takes them) fill its log buffer
    /// ([`crate::bundle::LOG_BUFFER`]).
    pub const LOG_FULL: u64 = 0x10d;
    /// The accounts are not `[state (writable, owned), caller (signer)]`.
    pub const BAD_ACCOUNTS: u64 = 0x201;
    /// The state account's data is not a storage table.
    pub const BAD_STATE: u64 = 0x202;
    /// The instruction data is shorter than the 8-byte value prefix.
    pub const BAD_INPUT: u64 = 0x203;
    /// Target limit: `create` or `create2` of init code the bundle does
    /// not hold ([`crate::Contract::init`]).
    pub const CREATE_UNKNOWN: u64 = 0x10e;
    /// Target limit: a constructor returned runtime code that is not the
    /// template its init code's instances run ([`crate::Init`]).
    pub const CREATED_CODE: u64 = 0x10f;
    /// Target limit: a copy of a created contract's code over its
    /// immutables (`codecopy` by a template, `extcodecopy` of one), which
    /// the program keeps in storage, not in the code.
    pub const TEMPLATE_CODE: u64 = 0x111;
    /// Target limit: the signer (a writable account) cannot pay the rent
    /// of the state account `create` or `create2` makes.
    pub const CREATE_RENT: u64 = 0x110;
    /// Target limit: a call to a contract another program holds
    /// ([`crate::Target::outside`]) that Solana's cross-program invocation
    /// cannot make as the EVM would: with value, as a `delegatecall` or
    /// `callcode`, with more than 32 accounts or over 10 KiB of calldata,
    /// past the bundle's frames, or changing the size of an account's data
    /// downwards.
    pub const CALL_OUT: u64 = 0x112;
    /// Target limit: a call inside the bundle that failed (and is undone)
    /// had made a call out of it, which Solana cannot undo short of
    /// failing the whole instruction.
    pub const CALL_OUT_UNDONE: u64 = 0x113;
    /// A call pays an address whose account is not among the instruction's
    /// writable accounts; the return data is that address (20 bytes), so a
    /// client can add the account and send the instruction again. A
    /// `create` or `create2` whose new state account is missing returns the
    /// address and a byte 1 (21 bytes): the account to add is the
    /// address's state account ([`crate::address::state_account`]). A
    /// call to a contract another program holds returns the address and
    /// that program's id (52 bytes): the accounts to add are the program
    /// and the address's state account under it.
    pub const ACCOUNT_NEEDED: u64 = 0x204;

    /// Every code the program can end with, and a name for it
    /// (`snake_case`, as a client's error enum would have it).
    pub const ALL: [(u64, &str); 24] = [
        (SUCCESS, "success"),
        (REVERT, "revert"),
        (HALT, "halt"),
        (MEMORY_LIMIT, "memory_limit"),
        (STORAGE_FULL, "storage_full"),
        (TRANSIENT_FULL, "transient_full"),
        (RETURN_TOO_LARGE, "return_too_large"),
        (VALUE_NOT_LAMPORTS, "value_not_lamports"),
        (CALL_INTO_CODE, "call_into_code"),
        (RECIPIENT_RENT, "recipient_rent"),
        (STACK_LIMIT, "stack_limit"),
        (CALL_DEPTH, "call_depth"),
        (JOURNAL_FULL, "journal_full"),
        (LOG_FULL, "log_full"),
        (CREATE_UNKNOWN, "create_unknown"),
        (CREATED_CODE, "created_code"),
        (CREATE_RENT, "create_rent"),
        (TEMPLATE_CODE, "template_code"),
        (CALL_OUT, "call_out"),
        (CALL_OUT_UNDONE, "call_out_undone"),
        (BAD_ACCOUNTS, "bad_accounts"),
        (BAD_STATE, "bad_state"),
        (BAD_INPUT, "bad_input"),
        (ACCOUNT_NEEDED, "account_needed"),
    ];

    /// What a non-zero code means, for reports.
    pub fn describe(code: u64) -> String {
        match code {
            SUCCESS => "success".into(),
            REVERT => "revert".into(),
            HALT => "exceptional halt".into(),
            MEMORY_LIMIT => "target limit: EVM memory past the heap".into(),
            STORAGE_FULL => "target limit: storage table full".into(),
            TRANSIENT_FULL => "target limit: transient storage table full".into(),
            RETURN_TOO_LARGE => "target limit: return data over 1,024 bytes".into(),
            VALUE_NOT_LAMPORTS => {
                "target limit: a call sends wei that are not whole lamports".into()
            }
            CALL_INTO_CODE => "target limit: a call into code (no cross-program mapping)".into(),
            RECIPIENT_RENT => {
                "target limit: a paid account would stay below the rent-exempt minimum".into()
            }
            STACK_LIMIT => "target limit: EVM stack past its share of the heap".into(),
            CALL_DEPTH => {
                "target limit: calls inside the bundle nested deeper than its frames".into()
            }
            JOURNAL_FULL => "target limit: the bundle's journal is full".into(),
            LOG_FULL => "target limit: the bundle's log buffer is full".into(),
            CREATE_UNKNOWN => {
                "target limit: a creation of init code the bundle does not hold".into()
            }
            CREATED_CODE => {
                "target limit: a constructor returned code that is not its template's".into()
            }
            CREATE_RENT => {
                "target limit: the signer cannot pay a created contract's state account".into()
            }
            TEMPLATE_CODE => {
                "target limit: a copy of a created contract's code over its immutables".into()
            }
            CALL_OUT => {
                "target limit: a call out of the bundle that a cross-program invocation cannot make"
                    .into()
            }
            CALL_OUT_UNDONE => {
                "target limit: a failed call inside the bundle had called out of it (not undone)"
                    .into()
            }
            BAD_ACCOUNTS => "bad accounts".into(),
            BAD_STATE => "state account is not a storage table".into(),
            BAD_INPUT => "instruction data shorter than the 8-byte value".into(),
            ACCOUNT_NEEDED => {
                "a paid address's account is missing (address in the return data)".into()
            }
            other => format!("error code {other:#x}"),
        }
    }

    /// Whether the code is a target limit rather than EVM behaviour.
    pub fn is_target_limit(code: u64) -> bool {
        (0x101..=0x1ff).contains(&code)
    }
}

/// Fixed heap offsets (from the heap's start, kept in `r9`).
pub mod layout {
    /// Start of the heap in the VM's address space.
    pub const HEAP_START: u64 = 0x3_0000_0000;
    /// Start of the input (serialized accounts) in the VM's address space.
    pub const INPUT_START: u64 = 0x4_0000_0000;
    /// Where the state account's (account 0's) public key, owner,
    /// lamports, data length and data are in the input.
    pub const STATE_KEY_ADDR: u64 = INPUT_START + 16;
    /// See [`STATE_KEY_ADDR`].
    pub const STATE_OWNER_ADDR: u64 = INPUT_START + 48;
    /// See [`STATE_KEY_ADDR`].
    pub const STATE_LAMPORTS_ADDR: u64 = INPUT_START + 80;
    /// See [`STATE_KEY_ADDR`].
    pub const STATE_DATA_LEN_ADDR: u64 = INPUT_START + 88;
    /// See [`STATE_KEY_ADDR`].
    pub const STATE_DATA_ADDR: u64 = INPUT_START + 96;
    /// Current EVM memory size in bytes (`u64`).
    pub const MEM_SIZE: i16 = 0;
    /// Pointer to the instruction data.
    pub const CALLDATA_PTR: i16 = 8;
    /// Length of the instruction data.
    pub const CALLDATA_LEN: i16 = 16;
    /// Pointer to the storage table (the state account's data).
    pub const STORAGE: i16 = 24;
    /// Pointer to the caller's public key.
    pub const CALLER_KEY: i16 = 32;
    /// Pointer to the state account's public key.
    pub const SELF_KEY: i16 = 40;
    /// Lamports the instruction brings (`u64`, the instruction data's prefix).
    pub const VALUE: i16 = 48;
    /// The length of the last call's return data (`u64`): 32 after a
    /// precompile that answered, else 0.
    pub const RETURN_DATA_LEN: i16 = 56;
    /// Scratch space for syscall arguments (448 bytes).
    pub const SCRATCH: i16 = 64;
    /// The transient-storage table (header and entries).
    pub const TRANSIENT: i16 = 512;
    /// Entries of the transient-storage table.
    pub const TRANSIENT_CAPACITY: u64 = 32;
    /// The last call's return data: calls reach accounts without code,
    /// which return nothing, and precompiles, which return one word.
    pub const RETURN_DATA: i16 = TRANSIENT + 32 + 72 * TRANSIENT_CAPACITY as i16;
    /// 32 bytes that stay zero: the value of a call that sends none.
    pub const ZERO: i16 = RETURN_DATA + 32;
    /// Non-zero once a storage table grew in this instruction (in a
    /// bundle, the outermost frame's): Solana lets account data grow by
    /// at most 10,240 bytes per instruction, one extension.
    pub const GREW: i16 = ZERO + 32;
    /// End of the fixed part.
    pub const FIXED_END: i16 = GREW + 8;
    /// In a bundle: the frame of the calling contract (its heap start, as
    /// in `r9`), 0 in the outermost frame.
    pub const PARENT: i16 = FIXED_END;
    /// In a bundle: 1 in a static context (STATICCALL), else 0.
    pub const STATIC: i16 = FIXED_END + 8;
    /// In a bundle: how deep the frame is (0 for the outermost).
    pub const DEPTH: i16 = FIXED_END + 16;
    /// In a bundle's nested frame: the log buffer's bytes used when the
    /// call began, what a failure drops the records back to.
    pub const LOG_MARK: i16 = FIXED_END + 24;
    /// In a bundle, in the outermost frame only: the deepest frame a call
    /// has run in so far; a frame used before is cleared for the next.
    pub const DEEPEST: i16 = FIXED_END + 32;
    /// In a bundle: the last call's return data (up to 1,024 bytes), in
    /// place of [`RETURN_DATA`].
    pub const BUNDLE_RETURN_DATA: i16 = FIXED_END + 40;
    /// In a bundle's nested frame: the journal's bytes used when the call
    /// began, what a failure undoes back to.
    pub const JOURNAL_MARK: i16 = BUNDLE_RETURN_DATA + 1024;
    /// In a bundle: where the running contract's EVM memory starts in the
    /// frame (the frame's size when it keeps the EVM stack at the frame's
    /// end), so that a later call into the frame clears only what this
    /// one wrote: its value slots, its memory (`MEM_SIZE` bytes) and its
    /// stack.
    pub const MEM_BASE: i16 = JOURNAL_MARK + 8;
    /// In a bundle: where the running contract's address is, as 32 bytes
    /// ending in it: its state account's data (the prefix, see
    /// [`crate::storage::ADDRESS`]).
    pub const SELF_ADDR: i16 = MEM_BASE + 8;
    /// In a bundle: where the frame's caller's address is, as 32 bytes
    /// ending in it: the signer's key in the outermost frame, the calling
    /// contract's [`SELF_ADDR`] in a nested one.
    pub const CALLER_ADDR: i16 = SELF_ADDR + 8;
    /// In a bundle: the storage table of the account whose code the frame
    /// runs (in a `delegatecall` or `callcode`, the callee's, not
    /// [`STORAGE`]): a template reads its immutables there.
    pub const CODE_STORAGE: i16 = CALLER_ADDR + 8;
    /// In a bundle, in the outermost frame only: how many calls out of the
    /// bundle the instruction made so far ([`crate::Target::outside`]).
    pub const CALLS_OUT: i16 = CODE_STORAGE + 8;
    /// In a bundle's nested frame: [`CALLS_OUT`] when the call began; a
    /// failure after a call out cannot be undone.
    pub const CALLS_OUT_MARK: i16 = CODE_STORAGE + 16;
    /// End of a bundle frame's fixed part.
    pub const BUNDLE_FIXED_END: i16 = CODE_STORAGE + 24;
}

/// The storage table kept in the state account's data.
pub mod storage {
    use alloy_primitives::U256;
    use std::collections::BTreeMap;

    /// The header's first eight bytes, `CLSTOR01` little-endian.
    pub const MAGIC: u64 = u64::from_le_bytes(*b"CLSTOR01");
    /// In a bundle, a state account's data starts with [`PREFIX`] bytes
    /// before its table: this magic (`CLSB`, a `u32`), the contract's code
    /// id (`u32`), the bump byte of its program-derived address
    /// ([`BUMP`]), its EVM address ([`ADDRESS`]) and its nonce ([`NONCE`]).
    pub const BUNDLE_MAGIC: u32 = u32::from_le_bytes(*b"CLSB");
    /// Bytes before a bundle state account's table.
    pub const PREFIX: usize = 64;
    /// Where the prefix holds the bump byte of the account's address
    /// ([`crate::address::state_account`]).
    pub const BUMP: usize = 8;
    /// Where the prefix holds the contract's 20-byte EVM address (so the
    /// prefix's first 32 bytes end in it, as a public key ends in the
    /// address of an account outside the bundle).
    pub const ADDRESS: usize = 12;
    /// Where the prefix holds the contract's nonce (`u64`).
    pub const NONCE: usize = 32;
    /// The table capacity of a state account the program creates: the
    /// largest power of two whose account fits the 10,240 bytes an
    /// account created by a program may have in its first instruction.
    pub const CREATED_CAPACITY: usize = 128;
    /// The slots a state account the program creates holds before it
    /// grows (its table fills to three quarters).
    pub const CREATED_SLOTS: usize = CREATED_CAPACITY * 3 / 4;
    /// The data length of a state account the program creates.
    pub const CREATED_BYTES: usize = PREFIX + HEADER + ENTRY * CREATED_CAPACITY;
    /// Header bytes: magic, capacity, used entries (`u64` each), the hash
    /// shift and whether an extension follows ([`EXTENDED`]; `u32` each).
    pub const HEADER: usize = 32;
    /// Where a table's header says an extension follows it (a `u32`, not
    /// zero when one does; the hash shift is the `u32` before it).
    pub const EXTENDED: usize = 28;
    /// Entry bytes: used flag (`u64`), key and value (32 bytes each).
    pub const ENTRY: usize = 72;
    /// An extension's header's first eight bytes, `CLSTORX1` little-endian:
    /// a table that grew has, right after its last entry, an extension
    /// table of [`EXTENSION_CAPACITY`] entries (its own header: magic,
    /// capacity, used entries, hash shift), and says so ([`EXTENDED`]);
    /// the extension may have one after it, and so on.
    pub const EXTENSION_MAGIC: u64 = u64::from_le_bytes(*b"CLSTORX1");
    /// Entries of an extension: the most whose bytes fit in Solana's
    /// 10,240 bytes of growth per instruction, as a power of two.
    pub const EXTENSION_CAPACITY: usize = 128;
    /// Bytes of an extension, header included.
    pub const EXTENSION_BYTES: usize = HEADER + ENTRY * EXTENSION_CAPACITY;
    /// The multiplier of the key hash.
    pub const HASH_MUL: u64 = 0x9e37_79b9_7f4a_7c15;

    /// The first entry probed for `key` in a table whose hash shift is
    /// `shift` (64 - log2 of the capacity).
    pub fn index(key: &U256, shift: u64) -> usize {
        let l = key.as_limbs();
        ((l[0] ^ l[1] ^ l[2] ^ l[3]).wrapping_mul(HASH_MUL) >> shift) as usize
    }

    /// The capacity used for `entries` initial entries: a power of two at
    /// least four times as many plus 64, at least 256.
    pub fn capacity_for(entries: usize) -> usize {
        (entries.saturating_mul(4) + 64)
            .next_power_of_two()
            .max(256)
    }

    /// Account data holding `slots` (zero values left out) in a table of
    /// `capacity` entries (a power of two, at least 2, more than the
    /// number of slots).
    pub fn encode(slots: &BTreeMap<U256, U256>, capacity: usize) -> Vec<u8> {
        encode_with(slots, capacity, MAGIC)
    }

    /// [`encode`] for a bundle: the data of the state account of the
    /// bundle contract `code_id` at `address` (its prefix, then the
    /// table), whose program-derived address has the bump byte `bump`.
    pub fn encode_bundle(
        slots: &BTreeMap<U256, U256>,
        capacity: usize,
        code_id: u32,
        address: alloy_primitives::Address,
        bump: u8,
    ) -> Vec<u8> {
        let mut data = vec![0u8; PREFIX];
        data[0..4].copy_from_slice(&BUNDLE_MAGIC.to_le_bytes());
        data[4..8].copy_from_slice(&code_id.to_le_bytes());
        data[BUMP] = bump;
        data[ADDRESS..ADDRESS + 20].copy_from_slice(address.as_slice());
        data.extend(encode_with(slots, capacity, MAGIC));
        data
    }

    /// The code id and EVM address a bundle state account's data holds.
    pub fn bundle_contract(data: &[u8]) -> Option<(u32, alloy_primitives::Address)> {
        if data.len() < PREFIX + HEADER || data[0..4] != BUNDLE_MAGIC.to_le_bytes() {
            return None;
        }
        let code_id = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
        let address = alloy_primitives::Address::from_slice(&data[ADDRESS..ADDRESS + 20]);
        Some((code_id, address))
    }

    fn encode_with(slots: &BTreeMap<U256, U256>, capacity: usize, magic: u64) -> Vec<u8> {
        let capacity = capacity.next_power_of_two().max(2);
        let shift = 64 - capacity.trailing_zeros() as u64;
        let mut data = vec![0u8; HEADER + ENTRY * capacity];
        let mut used = 0u64;
        for (k, v) in slots.iter().filter(|(_, v)| !v.is_zero()) {
            let mut i = index(k, shift);
            loop {
                let e = HEADER + ENTRY * i;
                if data[e] == 0 {
                    data[e] = 1;
                    data[e + 8..e + 40].copy_from_slice(&k.to_le_bytes::<32>());
                    data[e + 40..e + 72].copy_from_slice(&v.to_le_bytes::<32>());
                    used += 1;
                    break;
                }
                i = (i + 1) & (capacity - 1);
            }
        }
        data[0..8].copy_from_slice(&magic.to_le_bytes());
        data[8..16].copy_from_slice(&(capacity as u64).to_le_bytes());
        data[16..24].copy_from_slice(&used.to_le_bytes());
        data[24..32].copy_from_slice(&shift.to_le_bytes());
        data
    }

    /// The non-zero slots of account data made by [`encode`] and the
    /// program, or why it is not a table.
    pub fn decode(data: &[u8]) -> Result<BTreeMap<U256, U256>, String> {
        let word = |at: usize| -> u64 {
            data.get(at..at + 8)
                .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
        };
        let start = if data.len() >= PREFIX && word(0) as u32 == BUNDLE_MAGIC {
            PREFIX
        } else {
            0
        };
        if data.len() < start + HEADER || word(start) != MAGIC {
            return Err("no storage table header".into());
        }
        let mut out = BTreeMap::new();
        // The table, then each extension that follows it.
        let mut at = start;
        loop {
            let capacity = word(at + 8) as usize;
            let end = ENTRY
                .checked_mul(capacity)
                .and_then(|n| n.checked_add(at + HEADER))
                .filter(|end| *end <= data.len())
                .ok_or("storage table shorter than its capacity")?;
            for i in 0..capacity {
                let e = at + HEADER + ENTRY * i;
                if data[e] != 0 {
                    let k = U256::from_le_slice(&data[e + 8..e + 40]);
                    let v = U256::from_le_slice(&data[e + 40..e + 72]);
                    if !v.is_zero() {
                        out.insert(k, v);
                    }
                }
            }
            let extended = data
                .get(at + EXTENDED..at + EXTENDED + 4)
                .is_some_and(|b| b != [0; 4]);
            if !extended {
                return Ok(out);
            }
            if data.len() < end + HEADER || word(end) != EXTENSION_MAGIC {
                return Err("a table says an extension follows, but none does".into());
            }
            at = end;
        }
    }
}

/// Bundles: the contracts of a system in one program ([`translate_bundle`]).
///
/// Every contract's code is in the program; each instance has a state
/// account at the program-derived address of its EVM address (its
/// prefix says which code it runs: [`storage::BUNDLE_MAGIC`] and the code
/// id). Calls, static calls and delegate calls from one of
/// the bundle's contracts to another run inside the program, in a frame of
/// their own: the heap is split into [`FRAMES`](bundle::FRAMES) equal frames, one per
/// call depth, each holding the globals, value slots and EVM memory of
/// the contract running there; the call's return data comes back into the
/// caller's frame ([`crate::layout::BUNDLE_RETURN_DATA`]).
pub mod bundle {
    /// Frames of a bundle program: calls nest at most this deep (the
    /// outermost frame included); deeper ends with the target limit
    /// [`crate::exit::CALL_DEPTH`].
    pub const FRAMES: u32 = 8;
    /// The heap a bundle program is built for: Solana's largest (256 KiB,
    /// which a transaction asks for with a `RequestHeapFrame`).
    pub const HEAP: u32 = 256 * 1024;
    /// Bytes at the heap's end, after the frames, for the journal: what a
    /// nested frame's storage stores and lamport moves overwrote, undone
    /// when the call fails. A `u64` of bytes used, then the entries.
    pub const JOURNAL: u32 = 16 * 1024;
    /// Bytes of one journal entry: the address (`u64`), the length (8 or
    /// 32) and the old bytes (32).
    pub const JOURNAL_ENTRY: u32 = 48;
    /// Entries the journal holds; more end the instruction with
    /// [`crate::exit::JOURNAL_FULL`].
    pub const JOURNAL_ENTRIES: u32 = (JOURNAL - 8) / JOURNAL_ENTRY;
    /// How many of a frame's newest journal entries a change is looked up
    /// in: bytes already among them are not recorded again, so a loop
    /// that keeps overwriting up to this many words uses one entry per
    /// word.
    pub const JOURNAL_LOOKBACK: u32 = 8;
    /// Bytes after the journal for the records nested frames log: Solana
    /// cannot take a record back, so they wait there until the call
    /// returns to the outermost frame (a failed call drops its own). A
    /// `u64` of bytes used, then each record as its length (`u64`) and
    /// bytes, padded to 8.
    pub const LOG_BUFFER: u32 = 16 * 1024;
    /// Bytes of the instruction data that creates a contract instance's
    /// state account: the value (8 zero bytes), the code id (`u32`), the
    /// contract's 20-byte EVM address and the bump byte of its
    /// program-derived address ([`crate::address::state_account`]).
    pub const CREATE_DATA: u64 = 8 + 4 + 20 + 1;

    /// The bytes of each frame in a heap of `heap` bytes.
    pub fn stride(heap: u32) -> u32 {
        (heap.saturating_sub(JOURNAL + LOG_BUFFER) / FRAMES) & !31
    }
}

/// One contract of a bundle: its module (lifted from EVM code, which it
/// carries) and the storage its constructor left.
#[derive(Debug, Clone, Copy)]
pub struct Contract<'a> {
    /// The lifted module.
    pub module: &'a Verified,
    /// The storage a fresh state account of this contract starts with.
    pub initial_storage:
        &'a std::collections::BTreeMap<alloy_primitives::U256, alloy_primitives::U256>,
    /// Where the system deploys this contract: an instruction from outside
    /// may create its state account there only (at that address's
    /// program-derived address, once). `None`: never from outside.
    pub address: Option<alloy_primitives::Address>,
    /// The storage slots this code reads its immutables from: for a
    /// template (the runtime code of init code the bundle holds, see
    /// [`Init`]), whose `PUSH31 key; SLOAD` reads them from the account
    /// whose code runs, also in a `delegatecall` or `callcode` into it.
    pub immutables: &'a [alloy_primitives::U256],
    /// The nonce its state account starts with when an instruction from
    /// outside creates it: 1 for a contract (EIP-161), more when its
    /// constructor created contracts. `create` takes addresses from it.
    pub nonce: u64,
    /// Init code the bundle's contracts create instances of (`create`,
    /// `create2`): what its constructor must return. `None`: runtime code.
    pub init: Option<Init<'a>>,
}

/// What init code in a bundle ([`Contract::init`]) returns: runtime code
/// of the bundle, a template whose immutables each instance keeps in
/// reserved storage slots (see `chainlift_emulator::children`).
#[derive(Debug, Clone, Copy)]
pub struct Init<'a> {
    /// The code id of the runtime code its instances run.
    pub runtime: u32,
    /// The runtime code the constructor returns, each immutable's 32
    /// bytes zeroed.
    pub template: &'a [u8],
    /// Per immutable, the pcs of the `PUSH32` instructions holding it.
    pub immutables: &'a [Vec<usize>],
    /// Per immutable, the storage slot its value goes to.
    pub keys: &'a [alloy_primitives::U256],
}

/// Translates several contracts into one program, a bundle ([`bundle`]):
/// contract `k` of `contracts` has code id `k`. `target.heap_size` is the
/// whole heap (see [`bundle::HEAP`]); `target.initial_storage` is unused
/// (each contract brings its own).
pub fn translate_bundle(contracts: &[Contract], target: &Target) -> Result<Program, Error> {
    let (program, problems) = lower::lower_bundle(contracts, target)?;
    match problems.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(program),
    }
}

/// Translates a verified module (lifted from EVM code, which it carries for
/// `codecopy`) into an SBPF v3 program.
pub fn translate(module: &Verified, target: &Target) -> Result<Program, Error> {
    lower::lower(module, &module.code, target)
}

pub use check::check;
