//! The Solana ABI: the program's entry reads the serialized input (the
//! state account and its storage table, the caller, the other accounts, the
//! instruction data with its value prefix, the program id), moves the value
//! an instruction brings in by a system transfer, and on a fresh state
//! account's first instruction writes its table and the initial storage.
//! See the crate doc for the mapping this implements.

use super::Cx;
use crate::asm::{Alu, Asm, Cond as J, Label, R0, R1, R2, R3, R4, R5, R6, R7, R9, Size};
use crate::runtime::Helper;
use crate::{exit, layout};
use alloy_primitives::U256;

/// Where the initial storage entries start in the read-only data: after
/// the EVM code, aligned to 8.
pub(super) fn initial_offset(code_len: u64) -> u64 {
    code_len.next_multiple_of(8)
}

/// The non-zero slots of `storage` as 64-byte entries (key and value as
/// little-endian limbs), in key order.
pub(super) fn initial_entries(storage: &std::collections::BTreeMap<U256, U256>) -> Vec<u8> {
    storage
        .iter()
        .filter(|(_, v)| !v.is_zero())
        .flat_map(|(k, v)| [k.to_le_bytes::<32>(), v.to_le_bytes::<32>()])
        .flatten()
        .collect()
}

/// Reads the input after the state account (its data at `r7`, its length
/// in `r4`, its owner's address in `r6`, the number of accounts in `r2`):
/// the caller (account 1, a signer), the other accounts, the instruction
/// data (the lamports sent, then the calldata) and the program id, which
/// must own the state account when `owned`; `r3` ends at the program id.
fn rest_of_input(a: &mut Asm, bad_accounts: Label, bad_input: Label, owned: bool) {
    // Next account: data, 10 KiB of growth room, aligned to 8, rent epoch.
    let next = |a: &mut Asm, base: u8, len: u8| {
        a.alu(Alu::Add, base, len);
        a.alu_imm(Alu::Add, base, 10240 + 7);
        a.alu_imm(Alu::And, base, -8);
        a.alu_imm(Alu::Add, base, 8);
    };
    a.mov(R3, 7);
    next(a, R3, R4);
    // Account 1: the caller, not a duplicate, a signer.
    a.ldx(Size::B, R5, R3, 0);
    a.jmp_imm(J::Ne, R5, 0xff, bad_accounts);
    a.ldx(Size::B, R5, R3, 1);
    a.jmp_imm(J::Eq, R5, 0, bad_accounts);
    a.mov(R5, R3);
    a.alu_imm(Alu::Add, R5, 8);
    a.stx(Size::Dw, R9, layout::CALLER_KEY, R5);
    a.ldx(Size::Dw, R4, R3, 80);
    a.alu_imm(Alu::Add, R3, 88);
    next(a, R3, R4);
    // Skip the other accounts.
    a.alu_imm(Alu::Sub, R2, 2);
    let skip = a.label();
    let done = a.label();
    let dup = a.label();
    a.bind(skip);
    a.jmp_imm(J::Eq, R2, 0, done);
    a.alu_imm(Alu::Sub, R2, 1);
    a.ldx(Size::B, R5, R3, 0);
    a.jmp_imm(J::Ne, R5, 0xff, dup);
    a.ldx(Size::Dw, R4, R3, 80);
    a.alu_imm(Alu::Add, R3, 88);
    next(a, R3, R4);
    a.ja(skip);
    a.bind(dup);
    a.alu_imm(Alu::Add, R3, 8);
    a.ja(skip);
    a.bind(done);
    // Instruction data (the lamports sent, then the calldata), then
    // the program id.
    a.ldx(Size::Dw, R4, R3, 0);
    a.alu_imm(Alu::Add, R3, 8);
    a.jmp_imm(J::Lt, R4, 8, bad_input);
    a.ldx(Size::Dw, R5, R3, 0);
    a.stx(Size::Dw, R9, layout::VALUE, R5);
    a.alu_imm(Alu::Add, R3, 8);
    a.alu_imm(Alu::Sub, R4, 8);
    a.stx(Size::Dw, R9, layout::CALLDATA_PTR, R3);
    a.stx(Size::Dw, R9, layout::CALLDATA_LEN, R4);
    a.alu(Alu::Add, R3, R4);
    if owned {
        for i in 0..4 {
            a.ldx(Size::Dw, R0, R3, 8 * i);
            a.ldx(Size::Dw, R5, R6, 8 * i);
            a.jmp(J::Ne, R0, R5, bad_accounts);
        }
    }
}

/// Account 0, the state account (not a duplicate, writable), from the
/// input at `r1` (with at least two accounts): its key's address kept
/// ([`layout::SELF_KEY`]); `r6` its owner's address, `r4` its data length
/// and `r7` its data.
fn state_account(a: &mut Asm, bad_accounts: Label) {
    a.ldx(Size::Dw, R2, R1, 0);
    a.jmp_imm(J::Lt, R2, 2, bad_accounts);
    a.ldx(Size::B, R3, R1, 8);
    a.jmp_imm(J::Ne, R3, 0xff, bad_accounts);
    a.ldx(Size::B, R3, R1, 10);
    a.jmp_imm(J::Eq, R3, 0, bad_accounts);
    a.mov(R3, R1);
    a.alu_imm(Alu::Add, R3, 16);
    a.stx(Size::Dw, R9, layout::SELF_KEY, R3);
    a.mov(R6, R1);
    a.alu_imm(Alu::Add, R6, 48); // owner
    a.ldx(Size::Dw, R4, R1, 88); // data length
    a.mov(7, R1);
    a.alu_imm(Alu::Add, 7, 96); // data
}

/// The entry's exits for bad accounts, a bad state account and bad
/// instruction data.
fn bad_exits(a: &mut Asm, bad_accounts: Label, bad_state: Label, bad_input: Label) {
    a.bind(bad_accounts);
    a.mov64(R0, exit::BAD_ACCOUNTS);
    a.exit();
    a.bind(bad_state);
    a.mov64(R0, exit::BAD_STATE);
    a.exit();
    a.bind(bad_input);
    a.mov64(R0, exit::BAD_INPUT);
    a.exit();
}

/// Checks the storage table's header in the state account's data (at
/// `r7`, its length in `r4`): a power-of-two capacity (at most 2^24) that
/// matches the hash shift and fits the data; keeps the table's address
/// ([`layout::STORAGE`]). Uses `r0`, `r3` and `r5`.
fn table_header(a: &mut Asm, bad_state: Label) {
    a.ldx(Size::Dw, R3, 7, 8); // capacity
    a.jmp_imm(J::Gt, R3, 1 << 24, bad_state);
    a.jmp_imm(J::Lt, R3, 2, bad_state);
    a.ldx(Size::W, R5, 7, 24); // shift (the u32 after it: an extension follows)
    a.jmp_imm(J::Gt, R5, 63, bad_state);
    a.mov64(R0, 64);
    a.alu(Alu::Sub, R0, R5);
    a.mov64(R5, 1);
    a.alu(Alu::Lsh, R5, R0);
    a.jmp(J::Ne, R5, R3, bad_state); // capacity == 1 << (64 - shift)
    a.alu_imm(Alu::Mul, R3, crate::storage::ENTRY as i32);
    a.alu_imm(Alu::Add, R3, crate::storage::HEADER as i32);
    a.jmp(J::Gt, R3, R4, bad_state);
    a.stx(Size::Dw, R9, layout::STORAGE, 7);
}

/// The transient-storage table's header in the frame at `r9`.
fn transient_header(a: &mut Asm) {
    let cap = layout::TRANSIENT_CAPACITY;
    a.st(Size::Dw, R9, layout::TRANSIENT + 8, cap as i32);
    a.st(
        Size::Dw,
        R9,
        layout::TRANSIENT + 24,
        64 - cap.trailing_zeros() as i32,
    );
}

/// A bundle's entry: reads the input as [`Cx::entry`] does, then calls the
/// code the state account's prefix names (its code id, through
/// `dispatch`) in the outermost frame and ends with what it returns. An
/// account that does not exist yet (no data, owned by the system program)
/// is created as the state account of a contract instance
/// ([`create_state`]), then initialized by `inits[id]`. Returns the exits
/// for bad accounts and a bad state account.
pub(super) fn bundle_entry(
    a: &mut Asm,
    dispatch: Label,
    inits: &[Label],
    addresses: &[Option<alloy_primitives::Address>],
    target: &crate::Target,
) -> (Label, Label) {
    use crate::storage::{BUNDLE_MAGIC, HEADER, PREFIX};
    let rent_per_byte = target.rent_per_byte;
    a.comment("entry: parse the accounts and instruction data at r1");
    a.mov64(R9, layout::HEAP_START);
    let bad_accounts = a.named("bad_accounts");
    let bad_state = a.named("bad_state");
    let bad_input = a.named("bad_input");
    state_account(a, bad_accounts);
    let create = a.label();
    a.jmp_imm(J::Eq, R4, 0, create);
    // The prefix (magic, then the code id, kept in r8), then the table.
    a.jmp_imm(J::Lt, R4, (PREFIX + HEADER) as i32, bad_state);
    a.ldx(Size::W, R5, 7, 0);
    a.jmp_imm(J::Ne, R5, BUNDLE_MAGIC as i32, bad_state);
    a.ldx(Size::W, 8, 7, 4);
    a.stx(Size::Dw, R9, layout::SELF_ADDR, 7);
    a.alu_imm(Alu::Add, 7, PREFIX as i32);
    a.alu_imm(Alu::Sub, R4, PREFIX as i32);
    table_header(a, bad_state);
    a.stx(Size::Dw, R9, layout::CODE_STORAGE, 7);
    rest_of_input(a, bad_accounts, bad_input, true);
    a.ldx(Size::Dw, R5, R9, layout::CALLER_KEY);
    a.stx(Size::Dw, R9, layout::CALLER_ADDR, R5);
    if !target.trusted.is_empty() {
        called_from_the_system(a, &target.trusted);
    }
    transient_header(a);
    let (run, pay) = (a.label(), a.named("pay_in"));
    a.ldx(Size::Dw, R5, R9, layout::VALUE);
    a.jmp_imm(J::Ne, R5, 0, pay);
    a.bind(run);
    // The heap starts zeroed: no parent, not static, depth 0.
    a.mov(R1, 8);
    a.call(dispatch);
    a.exit();
    a.bind(pay);
    Cx::pay_in(a, bad_accounts);
    a.ja(run);
    bad_exits(a, bad_accounts, bad_state, bad_input);
    a.bind(create);
    create_state(a, bad_accounts, bad_input, addresses, rent_per_byte);
    for (k, l) in inits.iter().enumerate() {
        a.jmp_imm(J::Eq, R5, k as i32, *l);
    }
    a.ja(bad_input);
    (bad_accounts, bad_state)
}

/// In a program of a system that other programs call
/// ([`crate::Target::trusted`]): a caller (account 1, a signer, key at
/// [`layout::CALLER_KEY`]) that one of `trusted` owns, with a bundle
/// prefix, is the contract whose address the prefix holds
/// ([`layout::CALLER_ADDR`] points at its data), and the transaction's
/// signer it passed on becomes [`layout::CALLER_KEY`]; and the value prefix
/// `u64::MAX` makes the outermost frame static, bringing nothing (how a
/// `staticcall` arrives from another program, `solana_rt::call_out`).
fn called_from_the_system(a: &mut Asm, trusted: &[[u8; 32]]) {
    use crate::storage::{BUNDLE_MAGIC, PREFIX};
    let (plain, not_static, payer) = (a.label(), a.label(), a.label());
    a.ldx(Size::Dw, R5, R9, layout::CALLER_KEY);
    a.ldx(Size::Dw, R0, R5, 72);
    a.jmp_imm(J::Lt, R0, PREFIX as i32, plain);
    a.ldx(Size::W, R0, R5, 80);
    a.jmp_imm(J::Ne, R0, BUNDLE_MAGIC as i32, plain);
    for program in trusted {
        let other = a.label();
        for (k, word) in program.chunks(8).enumerate() {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            a.ldx(Size::Dw, R0, R5, 32 + 8 * k as i16);
            a.mov64(R1, word);
            a.jmp(J::Ne, R0, R1, other);
        }
        a.alu_imm(Alu::Add, R5, 80);
        a.stx(Size::Dw, R9, layout::CALLER_ADDR, R5);
        a.ja(payer);
        a.bind(other);
    }
    a.ja(plain);
    // The transaction's signer, which the calling program passed on,
    // pays rent here (the caller's state account holds data, which the
    // system program does not move lamports from) and is `tx.origin`: the
    // first writable signer the system program owns, without data.
    a.bind(payer);
    a.stx(Size::Dw, R9, layout::SCRATCH, 8);
    a.mov64(8, layout::INPUT_START);
    a.ldx(Size::Dw, 8, 8, 0);
    a.mov64(R5, layout::INPUT_START + 8);
    let walked = a.label();
    crate::solana_rt::each_account(a, walked, Some(R1), |a, next| {
        a.ldx(Size::B, R0, R5, 1);
        a.jmp_imm(J::Eq, R0, 0, next);
        a.ldx(Size::B, R0, R5, 2);
        a.jmp_imm(J::Eq, R0, 0, next);
        a.ldx(Size::Dw, R0, R5, 80);
        a.jmp_imm(J::Ne, R0, 0, next);
        for k in 0..4 {
            a.ldx(Size::Dw, R0, R5, 40 + 8 * k);
            a.jmp_imm(J::Ne, R0, 0, next);
        }
        a.alu_imm(Alu::Add, R5, 8);
        a.stx(Size::Dw, R9, layout::CALLER_KEY, R5);
        a.ja(walked);
    });
    a.bind(walked);
    a.ldx(Size::Dw, 8, R9, layout::SCRATCH);
    a.bind(plain);
    a.ldx(Size::Dw, R5, R9, layout::VALUE);
    a.jmp_imm(J::Ne, R5, -1, not_static);
    a.st(Size::Dw, R9, layout::VALUE, 0);
    a.st(Size::Dw, R9, layout::STATIC, 1);
    a.bind(not_static);
}

/// Creates account 0 as the state account of a contract the system
/// deploys: checks the instruction (no value; the calldata a code id, the
/// address `addresses` gives that contract, and a bump byte; account 0
/// owned by the system program, account 1 a writable signer) and that
/// account 0 is the program-derived address of the seeds `"evm"` and the
/// address with the canonical bump, the highest that gives one
/// (`sol_try_find_program_address`, as [`crate::address::state_account`]):
/// so each address has one state account, of the code the system
/// deploys there. Then creates it by a system `CreateAccount` the program
/// signs for with those seeds: owned by the program,
/// [`crate::storage::CREATED_BYTES`] of data, its rent paid by account 1.
/// Ends with the code id in `r5`, for its initialization.
fn create_state(
    a: &mut Asm,
    bad_accounts: Label,
    bad_input: Label,
    addresses: &[Option<alloy_primitives::Address>],
    rent_per_byte: u32,
) {
    use crate::storage::CREATED_BYTES;
    for k in 0..4 {
        a.ldx(Size::Dw, R0, R6, 8 * k);
        a.jmp_imm(J::Ne, R0, 0, bad_accounts);
    }
    rest_of_input(a, bad_accounts, bad_input, false);
    a.ldx(Size::Dw, R5, R9, layout::VALUE);
    a.jmp_imm(J::Ne, R5, 0, bad_input);
    a.ldx(Size::Dw, R5, R9, layout::CALLDATA_LEN);
    a.jmp_imm(
        J::Ne,
        R5,
        (crate::bundle::CREATE_DATA - 8) as i32,
        bad_input,
    );
    a.ldx(Size::Dw, R4, R9, layout::CALLDATA_PTR);
    a.ldx(Size::W, R5, R4, 0);
    // The code id and the address its contract is deployed at.
    let deployed = a.label();
    for (k, at) in addresses.iter().enumerate() {
        let Some(at) = at else { continue };
        let other = a.label();
        a.jmp_imm(J::Ne, R5, k as i32, other);
        let b = at.as_slice();
        for (off, size, bytes) in [
            (4, Size::W, &b[0..4]),
            (8, Size::Dw, &b[4..12]),
            (16, Size::Dw, &b[12..20]),
        ] {
            let mut word = [0u8; 8];
            word[..bytes.len()].copy_from_slice(bytes);
            a.ldx(size, R0, R4, off);
            a.mov64(R2, u64::from_le_bytes(word));
            a.jmp(J::Ne, R0, R2, bad_input);
        }
        a.ja(deployed);
        a.bind(other);
    }
    a.ja(bad_input);
    a.bind(deployed);
    a.ldx(Size::Dw, R5, R9, layout::CALLER_KEY);
    a.ldx(Size::B, R0, R5, -6);
    a.jmp_imm(J::Eq, R0, 0, bad_accounts);
    // The seeds (`SolSignerSeedC`: address and length each): "evm", the
    // address, the bump.
    let s = layout::SCRATCH;
    let seeds = s + 256;
    a.st(Size::W, R9, seeds + 48, i32::from_le_bytes(*b"evm\0"));
    a.mov(R0, R9);
    a.alu_imm(Alu::Add, R0, i32::from(seeds) + 48);
    a.stx(Size::Dw, R9, seeds, R0);
    a.st(Size::Dw, R9, seeds + 8, 3);
    a.alu_imm(Alu::Add, R4, 4);
    a.stx(Size::Dw, R9, seeds + 16, R4);
    a.st(Size::Dw, R9, seeds + 24, 20);
    a.alu_imm(Alu::Add, R4, 20);
    a.stx(Size::Dw, R9, seeds + 32, R4);
    a.st(Size::Dw, R9, seeds + 40, 1);
    // The first two with the canonical bump must give account 0's key,
    // and that bump must be the third.
    a.stx(Size::Dw, R9, s + 240, R3);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, i32::from(seeds));
    a.mov64(R2, 2);
    a.mov(R4, R9);
    a.alu_imm(Alu::Add, R4, i32::from(s) + 312);
    a.mov(R5, R9);
    a.alu_imm(Alu::Add, R5, i32::from(s) + 308);
    a.syscall("sol_try_find_program_address");
    a.jmp_imm(J::Ne, R0, 0, bad_accounts);
    a.ldx(Size::Dw, R7, R9, layout::SELF_KEY);
    for k in 0..4 {
        a.ldx(Size::Dw, R0, R9, s + 312 + 8 * k);
        a.ldx(Size::Dw, R5, R7, 8 * k);
        a.jmp(J::Ne, R0, R5, bad_accounts);
    }
    a.ldx(Size::B, R0, R9, s + 308);
    a.ldx(Size::Dw, R5, R9, layout::CALLDATA_PTR);
    a.ldx(Size::B, R5, R5, 24);
    a.jmp(J::Ne, R0, R5, bad_accounts);
    // Created by the caller's lamports; an account someone already sent
    // lamports to (which `CreateAccount` refuses) is topped up to its rent,
    // then allocated and assigned.
    use crate::solana_rt::{NewAccount, system_call};
    let rent = (128 + CREATED_BYTES as u64) * u64::from(rent_per_byte);
    let space = CREATED_BYTES as i32;
    let (funded, created, enough) = (a.label(), a.label(), a.label());
    a.ldx(Size::Dw, R7, R9, layout::SELF_KEY);
    a.ldx(Size::Dw, R0, R7, 64);
    a.jmp_imm(J::Ne, R0, 0, funded);
    system_call(
        a,
        NewAccount::Create {
            lamports: rent,
            space,
        },
    );
    a.ja(created);
    a.bind(funded);
    a.mov64(R1, rent);
    a.jmp(J::Ge, R0, R1, enough);
    system_call(a, NewAccount::TopUp { rent });
    a.bind(enough);
    system_call(a, NewAccount::Allocate { space });
    system_call(a, NewAccount::Assign);
    a.bind(created);
    // Growth would take the account past what Solana lets it have in its
    // first instruction.
    a.st(Size::Dw, R9, layout::GREW, 1);
    a.ldx(Size::Dw, R5, R9, layout::CALLDATA_PTR);
    a.ldx(Size::W, R5, R5, 0);
}

impl Cx<'_> {
    /// Reads the instruction input (see the crate doc), then enters block 0.
    pub(super) fn entry(&mut self) {
        use crate::storage::MAGIC;
        let a = &mut self.asm;
        a.comment("entry: parse the accounts and instruction data at r1");
        a.mov64(R9, layout::HEAP_START);
        let bad_accounts = a.named("bad_accounts");
        let bad_state = a.named("bad_state");
        state_account(a, bad_accounts);
        a.jmp_imm(J::Lt, R4, crate::storage::HEADER as i32, bad_state);
        a.ldx(Size::Dw, R3, 7, 0);
        // Not a table: a fresh account (all zeros) or a bad one.
        let not_table = a.label();
        a.mov64(R5, MAGIC);
        a.jmp(J::Ne, R3, R5, not_table);
        table_header(a, bad_state);
        let bad_input = a.named("bad_input");
        rest_of_input(a, bad_accounts, bad_input, true);
        transient_header(a);
        let first = self.blocks[&self.f.layout[0]];
        let pay = a.named("pay_in");
        a.ldx(Size::Dw, R5, R9, layout::VALUE);
        a.jmp_imm(J::Ne, R5, 0, pay);
        a.ja(first);
        bad_exits(a, bad_accounts, bad_state, bad_input);
        a.bind(pay);
        Self::pay_in(a, bad_accounts);
        a.ja(first);
        // A fresh state account: the same checks of the other accounts
        // and the owner, then its table.
        a.bind(not_table);
        a.jmp_imm(J::Ne, R3, 0, bad_state);
        rest_of_input(a, bad_accounts, bad_input, true);
        // It brings no value.
        a.ldx(Size::Dw, R5, R9, layout::VALUE);
        a.jmp_imm(J::Ne, R5, 0, bad_input);
        a.mov64(R1, layout::INPUT_START);
        a.mov64(R4, layout::STATE_DATA_LEN_ADDR);
        a.ldx(Size::Dw, R4, R4, 0);
        a.mov64(7, layout::STATE_DATA_ADDR);
        self.init_state(bad_accounts, bad_state);
    }

    /// In a bundle, the initialization of a state account [`create_state`]
    /// just created for this contract: its prefix (the magic and code id,
    /// the bump byte and the address from the calldata, the nonce), then
    /// its table.
    pub(super) fn init_bundle_state(&mut self) {
        use crate::storage::{ADDRESS, BUMP, BUNDLE_MAGIC, PREFIX};
        let Some(b) = self.bundle else { return };
        let a = &mut self.asm;
        a.mov64(R4, layout::STATE_DATA_LEN_ADDR);
        a.ldx(Size::Dw, R4, R4, 0);
        a.mov64(7, layout::STATE_DATA_ADDR);
        a.mov64(R0, u64::from(BUNDLE_MAGIC) | u64::from(b.code_id) << 32);
        a.stx(Size::Dw, 7, 0, R0);
        a.ldx(Size::Dw, R5, R9, layout::CALLDATA_PTR);
        a.ldx(Size::B, R0, R5, 24);
        a.stx(Size::B, 7, BUMP as i16, R0);
        for (at, size) in [(0, Size::W), (4, Size::Dw), (12, Size::Dw)] {
            a.ldx(size, R0, R5, 4 + at);
            a.stx(size, 7, ADDRESS as i16 + at, R0);
        }
        a.mov64(R0, self.nonce);
        a.stx(Size::Dw, 7, crate::storage::NONCE as i16, R0);
        a.alu_imm(Alu::Add, 7, PREFIX as i32);
        a.alu_imm(Alu::Sub, R4, PREFIX as i32);
        self.init_state(b.bad_accounts, b.bad_state);
    }

    /// A fresh state account's table (all zeros; its length in `r4`, at
    /// `r7`): write the table header (the largest power-of-two capacity
    /// that fits) and the initial storage, then stop. Outside a bundle the
    /// account (input at `r1`) must sign.
    fn init_state(&mut self, bad_accounts: Label, bad_state: Label) {
        let a = &mut self.asm;
        if self.bundle.is_none() {
            a.ldx(Size::B, R0, R1, 9);
            a.jmp_imm(J::Eq, R0, 0, bad_accounts);
        }
        a.mov(R0, R4);
        a.alu_imm(Alu::Sub, R0, crate::storage::HEADER as i32);
        a.alu_imm(Alu::Div, R0, crate::storage::ENTRY as i32);
        // Capacity in r3, hash shift (64 - log2) in r5.
        a.mov64(R3, 1);
        a.mov64(R5, 64);
        let (grow, sized) = (a.label(), a.label());
        a.bind(grow);
        a.mov(R2, R3);
        a.alu_imm(Alu::Lsh, R2, 1);
        a.jmp(J::Gt, R2, R0, sized);
        a.mov(R3, R2);
        a.alu_imm(Alu::Sub, R5, 1);
        a.ja(grow);
        a.bind(sized);
        a.jmp_imm(J::Lt, R3, 2, bad_state);
        a.jmp_imm(J::Gt, R3, 1 << 24, bad_state);
        a.mov64(R0, crate::storage::MAGIC);
        a.stx(Size::Dw, 7, 0, R0);
        a.stx(Size::Dw, 7, 8, R3);
        a.stx(Size::Dw, 7, 24, R5);
        // Each entry through the table's store (r6-r9 survive calls).
        let entries = (self.initial.len() / 64) as i32;
        let base = self.bundle.map_or(0, |b| b.rodata_base);
        let at = crate::elf::RODATA_VADDR + base + initial_offset(self.code_len);
        let (next, done) = (a.label(), a.label());
        a.mov64(R6, at);
        a.mov64(8, entries as u64);
        a.bind(next);
        a.jmp_imm(J::Eq, 8, 0, done);
        a.mov(R1, R6);
        a.mov(R2, R6);
        a.alu_imm(Alu::Add, R2, 32);
        a.mov(R3, 7);
        a.mov64(R4, exit::STORAGE_FULL);
        self.call_checked(Helper::TableStore);
        let a = &mut self.asm;
        a.alu_imm(Alu::Add, R6, 64);
        a.alu_imm(Alu::Sub, 8, 1);
        a.ja(next);
        a.bind(done);
        a.mov64(R0, exit::SUCCESS);
        a.exit();
    }

    /// The value the instruction brings (lamports in `r5`) moves from the
    /// caller to the state account: a system-program transfer
    /// ([`crate::solana_rt::system_transfer`]). The caller signs it; the
    /// system program must be among the accounts.
    fn pay_in(a: &mut Asm, bad_accounts: Label) {
        a.ldx(Size::Dw, R6, R9, layout::CALLER_KEY);
        a.ldx(Size::B, R0, R6, -6);
        a.jmp_imm(J::Eq, R0, 0, bad_accounts); // the caller must be writable
        a.mov64(R7, layout::STATE_KEY_ADDR);
        crate::solana_rt::system_transfer(a);
    }
}
