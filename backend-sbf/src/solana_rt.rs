//! The Solana glue among the helpers: the storage tables kept in the state
//! account's data (and the transient one in the heap, [`table`]), lamport
//! transfers to the accounts calls pay, the bundle's journal and held
//! logs, and finding the account an EVM address stands for. The 256-bit arithmetic helpers are in [`crate::runtime`]; these
//! follow its conventions (pointer arguments in `r1`..`r5`, a status in
//! `r0`, scratch in the helper's own stack frame); `balance` answers
//! through [`layout::SCRATCH`], which a status in `r0` leaves no room for.

use crate::asm::{
    Alu, Asm, Cond as J, Label, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, Reg, Size,
};
use crate::runtime::zero;
use crate::{exit, layout, storage};

pub(crate) mod call_out;
mod system;
mod table;

pub(crate) use call_out::call_out;
use system::system_transfer_syncing;
pub(crate) use system::{NewAccount, system_call, system_transfer};
pub(crate) use table::{grow, table};

/// What [`send_value`] returns in a bundle for an account of the bundle:
/// the call runs inside the program.
pub(crate) const INTERNAL: i32 = 0x10000;

/// `reg = &lamports of the contract's state account`: account 0's, or in
/// a bundle the running frame's.
pub(crate) fn self_lamports(a: &mut Asm, reg: Reg, bundle: bool) {
    if bundle {
        a.ldx(Size::Dw, reg, R9, layout::SELF_KEY);
        a.alu_imm(Alu::Add, reg, 64);
    } else {
        a.mov64(reg, layout::STATE_LAMPORTS_ADDR);
    }
}

/// The body of [`crate::runtime::Helper::Journal`]: records the `r2`
/// bytes (8 or 32) at `r1` in the bundle's journal at heap offset `at`
/// ([`crate::bundle::JOURNAL`] bytes: the bytes used, then entries of
/// [`crate::bundle::JOURNAL_ENTRY`] bytes: the address, the length and
/// the old bytes); a length of 0 records an entry inserted at `r1` into
/// the storage table at `r4` instead. Bytes one of the frame's newest
/// [`crate::bundle::JOURNAL_LOOKBACK`] entries already recorded are not
/// recorded again: the older entry is what a failure puts back (so a
/// loop that keeps overwriting a few words uses an entry per word).
/// Returns 0, or [`exit::JOURNAL_FULL`]. Changes only `r0` and `r3`.
pub(crate) fn journal(a: &mut Asm, at: u32) {
    let e = crate::bundle::JOURNAL_ENTRY as i16;
    let (full, short, bytes) = (a.label(), a.label(), a.label());
    a.mov64(R3, layout::HEAP_START + u64::from(at));
    a.ldx(Size::Dw, R0, R3, 0);
    // Scan the frame's newest entries (back to its mark) for `r1`.
    let (scan, append, above) = (a.label(), a.label(), a.label());
    a.jmp_imm(J::Eq, R2, 0, append);
    a.ldx(Size::Dw, R7, R9, layout::JOURNAL_MARK);
    a.mov(R6, R0);
    let back = (crate::bundle::JOURNAL_LOOKBACK * crate::bundle::JOURNAL_ENTRY) as i32;
    a.jmp_imm(J::Lt, R6, back, above);
    a.alu_imm(Alu::Sub, R6, back);
    a.jmp(J::Le, R6, R7, above);
    a.mov(R7, R6);
    a.bind(above);
    a.mov(R6, R0);
    a.bind(scan);
    a.jmp(J::Le, R6, R7, append);
    a.alu_imm(Alu::Sub, R6, e as i32);
    a.mov(R8, R3);
    a.alu(Alu::Add, R8, R6);
    a.ldx(Size::Dw, R8, R8, 8);
    a.jmp(J::Ne, R8, R1, scan);
    a.ja(short);
    a.bind(append);
    a.jmp_imm(
        J::Ge,
        R0,
        (crate::bundle::JOURNAL_ENTRIES * crate::bundle::JOURNAL_ENTRY) as i32,
        full,
    );
    a.alu_imm(Alu::Add, R0, e as i32);
    a.stx(Size::Dw, R3, 0, R0);
    // The entry is at `r3 + 8 + used before`, `r3 + used now - 40`.
    a.alu(Alu::Add, R3, R0);
    a.stx(Size::Dw, R3, 8 - e, R1);
    a.stx(Size::Dw, R3, 16 - e, R2);
    a.jmp_imm(J::Ne, R2, 0, bytes);
    a.stx(Size::Dw, R3, 24 - e, R4);
    a.ja(short);
    a.bind(bytes);
    a.ldx(Size::Dw, R0, R1, 0);
    a.stx(Size::Dw, R3, 24 - e, R0);
    a.jmp_imm(J::Eq, R2, 8, short);
    for k in 1..4 {
        a.ldx(Size::Dw, R0, R1, 8 * k);
        a.stx(Size::Dw, R3, 24 - e + 8 * k, R0);
    }
    a.bind(short);
    zero_or(a, full, exit::JOURNAL_FULL);
}

/// Returns 0; at `fail`, returns `code`.
fn zero_or(a: &mut Asm, fail: Label, code: u64) {
    a.mov64(R0, 0);
    a.exit();
    a.bind(fail);
    a.mov64(R0, code);
    a.exit();
}

/// The body of [`crate::runtime::Helper::Undo`]: puts back, newest first,
/// the bytes of every journal entry (see [`journal`]) past the mark in
/// `r1` (bytes used when the failed call began), and drops them. An
/// inserted table entry is emptied again (newest first, so the entries
/// inserted after it, whose probes may have passed it, are gone already).
pub(crate) fn undo(a: &mut Asm, at: u32) {
    let (top, done, short, bytes) = (a.label(), a.label(), a.label(), a.label());
    a.mov64(R3, layout::HEAP_START + u64::from(at));
    a.ldx(Size::Dw, R0, R3, 0);
    a.bind(top);
    a.jmp(J::Le, R0, R1, done);
    a.alu_imm(Alu::Sub, R0, crate::bundle::JOURNAL_ENTRY as i32);
    // The entry is at `r4 + 8`.
    a.mov(R4, R3);
    a.alu(Alu::Add, R4, R0);
    a.ldx(Size::Dw, R5, R4, 8);
    a.ldx(Size::Dw, R2, R4, 16);
    a.jmp_imm(J::Ne, R2, 0, bytes);
    zero(a, R5, 0, (storage::ENTRY / 8) as i16);
    a.ldx(Size::Dw, R6, R4, 24);
    a.ldx(Size::Dw, R2, R6, 16);
    a.alu_imm(Alu::Sub, R2, 1);
    a.stx(Size::Dw, R6, 16, R2);
    a.ja(top);
    a.bind(bytes);
    a.ldx(Size::Dw, R6, R4, 24);
    a.stx(Size::Dw, R5, 0, R6);
    a.jmp_imm(J::Eq, R2, 8, short);
    for k in 1..4 {
        a.ldx(Size::Dw, R6, R4, 24 + 8 * k);
        a.stx(Size::Dw, R5, 8 * k, R6);
    }
    a.bind(short);
    a.ja(top);
    a.bind(done);
    a.stx(Size::Dw, R3, 0, R1);
    a.exit();
}

/// The body of [`crate::runtime::Helper::Log`]: `sol_log_data` of the
/// `r2` (1 or 2) slices at `r1` in the outermost frame; in a nested frame
/// the record (the slices' bytes, joined) goes to the log buffer at heap
/// offset `at` ([`crate::bundle::LOG_BUFFER`]) instead. Returns 0, or
/// [`exit::LOG_FULL`].
pub(crate) fn log(a: &mut Asm, at: u32) {
    let (nested, full, one) = (a.label(), a.label(), a.label());
    a.ldx(Size::Dw, R0, R9, layout::DEPTH);
    a.jmp_imm(J::Ne, R0, 0, nested);
    a.syscall("sol_log_data");
    a.mov64(R0, 0);
    a.exit();
    a.bind(nested);
    // r6: the slices, r8: their number, r7: where the next bytes go.
    a.mov(R6, R1);
    a.mov(R8, R2);
    a.mov64(R3, layout::HEAP_START + u64::from(at));
    a.ldx(Size::Dw, R4, R3, 0);
    a.ldx(Size::Dw, R5, R6, 8);
    a.jmp_imm(J::Eq, R8, 1, one);
    a.ldx(Size::Dw, R0, R6, 24);
    a.alu(Alu::Add, R5, R0);
    a.bind(one);
    // The record's length at `r3 + 8 + used`; bytes used after it.
    a.mov(R0, R5);
    a.alu_imm(Alu::Add, R0, 15);
    a.alu_imm(Alu::And, R0, -8);
    a.alu(Alu::Add, R0, R4);
    a.jmp_imm(J::Gt, R0, crate::bundle::LOG_BUFFER as i32 - 8, full);
    a.stx(Size::Dw, R3, 0, R0);
    a.alu(Alu::Add, R3, R4);
    a.stx(Size::Dw, R3, 8, R5);
    a.mov(R7, R3);
    a.alu_imm(Alu::Add, R7, 16);
    for k in 0..2 {
        let done = a.label();
        if k == 1 {
            a.jmp_imm(J::Eq, R8, 1, done);
        }
        a.mov(R1, R7);
        a.ldx(Size::Dw, R2, R6, 16 * k);
        a.ldx(Size::Dw, R3, R6, 16 * k + 8);
        a.alu(Alu::Add, R7, R3);
        a.jmp_imm(J::Eq, R3, 0, done);
        a.syscall("sol_memcpy_");
        a.bind(done);
    }
    zero_or(a, full, exit::LOG_FULL);
}

/// The body of [`crate::runtime::Helper::FlushLogs`]: logs the records in
/// the log buffer at heap offset `at` (see [`log`]), one slice each and in
/// order, and empties it.
pub(crate) fn flush_logs(a: &mut Asm, at: u32) {
    let (top, done) = (a.label(), a.label());
    a.mov64(R6, layout::HEAP_START + u64::from(at));
    a.ldx(Size::Dw, R8, R6, 0);
    a.mov64(R7, 0);
    a.bind(top);
    a.jmp(J::Ge, R7, R8, done);
    // The record at `r6 + 8 + r7`: its length, then its bytes.
    a.mov(R3, R6);
    a.alu(Alu::Add, R3, R7);
    a.ldx(Size::Dw, R2, R3, 8);
    a.alu_imm(Alu::Add, R3, 16);
    a.stx(Size::Dw, R10, -16, R3);
    a.stx(Size::Dw, R10, -8, R2);
    a.alu_imm(Alu::Add, R2, 15);
    a.alu_imm(Alu::And, R2, -8);
    a.alu(Alu::Add, R7, R2);
    a.mov(R1, R10);
    a.alu_imm(Alu::Add, R1, -16);
    a.mov64(R2, 1);
    a.syscall("sol_log_data");
    a.ja(top);
    a.bind(done);
    a.st(Size::Dw, R6, 0, 0);
    a.exit();
}

/// In a bundle's nested frame (depth above 0), records the `len` bytes
/// (8 or 32) at `ptr` in the journal ([`journal`], at `label`) before
/// they change; a full journal returns [`exit::JOURNAL_FULL`] from the
/// helper this is in. Uses `r0`..`r3`.
pub(crate) fn journal_if_nested(a: &mut Asm, label: Label, ptr: Reg, off: i32, len: u64) {
    let outermost = a.label();
    a.ldx(Size::Dw, R0, R9, layout::DEPTH);
    a.jmp_imm(J::Eq, R0, 0, outermost);
    a.mov(R1, ptr);
    a.alu_imm(Alu::Add, R1, off);
    a.mov64(R2, len);
    a.call(label);
    a.jmp_imm(J::Eq, R0, 0, outermost);
    a.exit();
    a.bind(outermost);
}

/// Jumps to `not_member` unless the account at `r5` is one of the
/// bundle's state accounts: owned by the program (as the running state
/// account is) with a bundle table. Uses `r0`, `r6` and `r7`.
fn jmp_unless_member(a: &mut Asm, not_member: Label) {
    a.ldx(Size::Dw, R6, R9, layout::SELF_KEY);
    for k in 0..4 {
        a.ldx(Size::Dw, R0, R5, 40 + 8 * k);
        a.ldx(Size::Dw, R7, R6, 32 + 8 * k);
        a.jmp(J::Ne, R0, R7, not_member);
    }
    a.ldx(Size::W, R0, R5, 88);
    a.jmp_imm(J::Ne, R0, storage::BUNDLE_MAGIC as i32, not_member);
}

/// `reg = [reg] - (128 + [reg + 8]) * rent`, at least 0: what the account
/// whose lamports `reg` points at holds above its rent-exempt minimum.
/// Clobbers `tmp`.
pub(crate) fn above_rent(a: &mut Asm, reg: Reg, tmp: Reg, rent: i32) {
    a.ldx(Size::Dw, tmp, reg, 8);
    a.ldx(Size::Dw, reg, reg, 0);
    a.alu_imm(Alu::Add, tmp, 128);
    a.alu_imm(Alu::Mul, tmp, rent);
    let ok = a.label();
    a.jmp(J::Ge, reg, tmp, ok);
    a.mov(reg, tmp);
    a.bind(ok);
    a.alu(Alu::Sub, reg, tmp);
}

/// The body of [`crate::runtime::Helper::ExtCodeSize`] (`copy` false)
/// and of [`crate::runtime::Helper::CodeOf`] (`copy`): the EVM code of the
/// account the address (the word at `r1`) stands for. `ExtCodeSize`
/// writes its size to the word at `r2`; `CodeOf` writes its address and
/// size at [`layout::SCRATCH`] (`u64` each). Accounts without code and
/// precompiles have none; the contract's own is its code ([`Helper`]'s
/// `code_len` bytes at the start of the read-only data). In a bundle, a
/// contract of the bundle has its code id's, found in the tables at the
/// read-only data's start (sizes, then offsets, `u64` by code id), and
/// the contract itself the code its state account runs (in a delegate
/// call, the delegating contract's). Else an exit code: an account with
/// code outside the bundle ([`exit::CALL_INTO_CODE`]), or one not among the
/// instruction's accounts ([`exit::ACCOUNT_NEEDED`]).
///
/// [`Helper`]: crate::runtime::Helper
pub(crate) fn code_of(a: &mut Asm, code_len: u64, bundle: Option<u32>, copy: bool) {
    let (none, this, code, needed) = (a.label(), a.label(), a.label(), a.label());
    a.stx(Size::Dw, R10, -8, R2);
    let found = locate(a, none, this, needed, bundle.is_some());
    a.bind(found);
    // `r6` and `r7`: the code's address and size.
    let answer = a.label();
    if let Some(contracts) = bundle {
        // A contract of the bundle: by the code id in its table's header.
        let (not_member, member) = (a.label(), a.label());
        jmp_unless_member(a, not_member);
        a.bind(member);
        a.ldx(Size::W, R0, R5, 92);
        // A contract whose constructor runs has no code yet.
        a.mov64(R7, u64::from(u32::MAX));
        a.jmp(J::Eq, R0, R7, none);
        // A code id past the bundle's (a state account of another build).
        a.jmp_imm(J::Ge, R0, contracts as i32, code);
        a.alu_imm(Alu::Lsh, R0, 3);
        a.mov64(R6, crate::elf::RODATA_VADDR);
        a.alu(Alu::Add, R6, R0);
        a.ldx(Size::Dw, R7, R6, 0);
        // Bit 63: a template, whose immutables are in storage: its size
        // is the rest, and its code is not copied.
        if copy {
            let plain = a.label();
            a.jmp_imm(J::Sge, R7, 0, plain);
            a.mov64(R0, exit::TEMPLATE_CODE);
            a.exit();
            a.bind(plain);
        } else {
            a.alu_imm(Alu::Lsh, R7, 1);
            a.alu_imm(Alu::Rsh, R7, 1);
        }
        a.ldx(Size::Dw, R0, R6, 8 * contracts as i16);
        a.mov64(R6, crate::elf::RODATA_VADDR);
        a.alu(Alu::Add, R6, R0);
        a.ja(answer);
        // Itself (in a delegate call, the delegating contract's code).
        a.bind(this);
        a.ldx(Size::Dw, R5, R9, layout::SELF_KEY);
        a.alu_imm(Alu::Sub, R5, 8);
        a.ja(member);
        a.bind(not_member);
    }
    jmp_if_code(a, code);
    // No code (the common case, without a jump), or the contract's own.
    a.bind(none);
    a.mov64(R6, 0);
    a.mov64(R7, 0);
    if bundle.is_none() {
        a.ja(answer);
        a.bind(this);
        a.mov64(R6, crate::elf::RODATA_VADDR);
        a.mov64(R7, code_len);
    }
    a.bind(answer);
    if copy {
        a.stx(Size::Dw, R9, layout::SCRATCH, R6);
        a.stx(Size::Dw, R9, layout::SCRATCH + 8, R7);
    } else {
        a.ldx(Size::Dw, R2, R10, -8);
        a.stx(Size::Dw, R2, 0, R7);
        zero(a, R2, 8, 3);
    }
    zero_or(a, code, exit::CALL_INTO_CODE);
    a.bind(needed);
    ask_for_account(a);
}

/// The body of [`crate::runtime::Helper::Balance`]: the lamports of the
/// account the address (the word at `r1`) stands for, at
/// [`layout::SCRATCH`]; 0 for the zero address and the precompiles'.
pub(crate) fn balance(a: &mut Asm, rent_per_byte: i32, bundle: bool) {
    let (precompile, this, needed, store) = (a.label(), a.label(), a.label(), a.label());
    // The zero address is the system program's key on Solana, whose
    // lamports are no EVM balance: it has none, like a precompile.
    // (The address is the word's low 20 bytes, as `locate` reads them.)
    a.ldx(Size::Dw, R0, R1, 0);
    a.ldx(Size::Dw, R2, R1, 8);
    a.alu(Alu::Or, R0, R2);
    a.ldx(Size::W, R2, R1, 16);
    a.alu(Alu::Or, R0, R2);
    a.jmp_imm(J::Eq, R0, 0, precompile);
    let found = locate(a, precompile, this, needed, bundle);
    a.bind(found);
    if bundle {
        // Another contract of the bundle: its lamports above rent.
        let not_member = a.label();
        jmp_unless_member(a, not_member);
        a.mov(R0, R5);
        a.alu_imm(Alu::Add, R0, 72);
        above_rent(a, R0, R1, rent_per_byte);
        a.ja(store);
        a.bind(not_member);
    }
    // The account's lamports (after its flags, key and owner).
    a.ldx(Size::Dw, R0, R5, 72);
    a.bind(store);
    a.stx(Size::Dw, R9, layout::SCRATCH, R0);
    a.mov64(R0, 0);
    a.exit();
    a.bind(precompile);
    a.mov64(R0, 0);
    a.ja(store);
    a.bind(this);
    self_lamports(a, R0, bundle);
    above_rent(a, R0, R1, rent_per_byte);
    a.ja(store);
    a.bind(needed);
    ask_for_account(a);
}

/// Moves `r4` lamports from the state account to the account at `r5`
/// (found by [`locate`], without code), keeping it rent-exempt: ends the
/// helper with [`exit::RECIPIENT_RENT`] if it would not be, and goes to
/// `needed` if it is not writable. Uses `r0`, `r6` and `r7`.
fn pay(a: &mut Asm, rent: i32, needed: Label, journal: Option<Label>) {
    a.ldx(Size::B, R0, R5, 2);
    a.jmp_imm(J::Eq, R0, 0, needed);
    a.ldx(Size::Dw, R6, R5, 72);
    a.alu(Alu::Add, R6, R4);
    a.ldx(Size::Dw, R7, R5, 80);
    a.alu_imm(Alu::Add, R7, 128);
    a.alu_imm(Alu::Mul, R7, rent);
    let rent_ok = a.label();
    a.jmp(J::Ge, R6, R7, rent_ok);
    a.mov64(R0, exit::RECIPIENT_RENT);
    a.exit();
    a.bind(rent_ok);
    self_lamports(a, R7, journal.is_some());
    if let Some(j) = journal {
        journal_if_nested(a, j, R5, 72, 8);
        journal_if_nested(a, j, R7, 0, 8);
    }
    a.stx(Size::Dw, R5, 72, R6);
    a.ldx(Size::Dw, R0, R7, 0);
    a.alu(Alu::Sub, R0, R4);
    a.stx(Size::Dw, R7, 0, R0);
}

/// The body of [`crate::runtime::Helper::SelfDestruct`], SELFDESTRUCT as
/// Cancun has it for a contract created earlier (EIP-6780): the
/// contract's balance (the state account's lamports above its rent) moves
/// to the account the address (the word at `r1`) stands for, and nothing
/// is deleted. Nothing moves for a zero balance or for the contract
/// itself; in a bundle, a beneficiary of the bundle takes the lamports in
/// its state account. Returns 0, or an exit code: the beneficiary has code or is a
/// precompile ([`exit::CALL_INTO_CODE`]), would stay below its rent
/// ([`exit::RECIPIENT_RENT`]), or is not among the instruction's accounts
/// ([`exit::ACCOUNT_NEEDED`]).
pub(crate) fn self_destruct(a: &mut Asm, rent: i32, journal: Option<Label>) {
    let bundle = journal.is_some();
    let (done, into_code, needed) = (a.label(), a.label(), a.label());
    self_lamports(a, R4, bundle);
    above_rent(a, R4, R7, rent);
    a.jmp_imm(J::Eq, R4, 0, done);
    let found = locate(a, into_code, done, needed, bundle);
    a.bind(found);
    if let Some(j) = journal {
        // A contract of the bundle: its state account takes the lamports.
        let outside = a.label();
        jmp_unless_member(a, outside);
        a.ldx(Size::B, R0, R5, 2);
        a.jmp_imm(J::Eq, R0, 0, needed);
        self_lamports(a, R7, true);
        journal_if_nested(a, j, R5, 72, 8);
        journal_if_nested(a, j, R7, 0, 8);
        a.ldx(Size::Dw, R0, R5, 72);
        a.alu(Alu::Add, R0, R4);
        a.stx(Size::Dw, R5, 72, R0);
        a.ldx(Size::Dw, R0, R7, 0);
        a.alu(Alu::Sub, R0, R4);
        a.stx(Size::Dw, R7, 0, R0);
        a.ja(done);
        a.bind(outside);
    }
    jmp_if_code(a, into_code);
    pay(a, rent, needed, journal);
    paid_or_not(a, done, into_code, needed);
}

/// The ends of a helper that pays an account: `paid` returns 0,
/// `into_code` [`exit::CALL_INTO_CODE`], and `needed` asks for the
/// account ([`ask_for_account`]).
fn paid_or_not(a: &mut Asm, paid: Label, into_code: Label, needed: Label) {
    a.bind(paid);
    zero_or(a, into_code, exit::CALL_INTO_CODE);
    a.bind(needed);
    ask_for_account(a);
}

/// The body of [`crate::runtime::Helper::SendValue`], which pays
/// `value / wei_per_lamport` lamports and keeps the payee above its
/// rent-exempt minimum, `(128 + data length) * rent_per_byte`. The order
/// of the checks follows the EVM: a value above the balance fails the call
/// before anything else.
pub(crate) fn send_value(
    a: &mut Asm,
    wei_per_lamport: i32,
    rent_per_byte: i32,
    journal: Option<Label>,
) {
    let bundle = journal.is_some();
    let rent = rent_per_byte;
    let (short, not_lamports) = (a.label(), a.label());
    within_balance(a, wei_per_lamport, rent, bundle, short, not_lamports);
    let (into_code, needed, this) = (a.label(), a.label(), a.label());
    let found = locate(
        a,
        into_code,
        if bundle { this } else { into_code },
        needed,
        bundle,
    );
    // Found at r5: it must have no code, and be writable to be paid.
    a.bind(found);
    if bundle {
        // An account of the bundle: the program's own, with a bundle
        // table. The call runs inside the program, which must be able to
        // write the account.
        let not_ours = a.label();
        jmp_unless_member(a, not_ours);
        a.ldx(Size::B, R0, R5, 2);
        a.jmp_imm(J::Eq, R0, 0, needed);
        a.mov64(R0, INTERNAL as u64);
        a.exit();
        a.bind(this);
        a.ldx(Size::Dw, R5, R9, layout::SELF_KEY);
        a.alu_imm(Alu::Sub, R5, 8);
        a.mov64(R0, INTERNAL as u64);
        a.exit();
        a.bind(not_ours);
    }
    jmp_if_code(a, into_code);
    let paid = a.label();
    a.jmp_imm(J::Eq, R4, 0, paid);
    pay(a, rent, needed, journal);
    paid_or_not(a, paid, into_code, needed);
    beyond_balance(a, short, not_lamports);
}

/// The body of [`crate::runtime::Helper::Afford`]: whether the
/// contract's balance covers the value (the word at `r2`) in whole
/// lamports, as [`send_value`] checks it before paying. 0 with the
/// lamports in `r4`, 1 when the balance is short, else
/// [`exit::VALUE_NOT_LAMPORTS`].
pub(crate) fn afford(a: &mut Asm, wei_per_lamport: i32, rent_per_byte: i32, bundle: bool) {
    let (short, not_lamports) = (a.label(), a.label());
    within_balance(
        a,
        wei_per_lamport,
        rent_per_byte,
        bundle,
        short,
        not_lamports,
    );
    a.mov64(R0, 0);
    a.exit();
    beyond_balance(a, short, not_lamports);
}

/// The value at `r2` in lamports (`r4`), going on only when they are
/// whole and the contract's balance covers them; else to `short` (the
/// balance is short, which the EVM checks first) or `not_lamports`.
fn within_balance(a: &mut Asm, w: i32, rent: i32, bundle: bool, short: Label, not_lamports: Label) {
    // lamports = value / w, by 32-bit digits from the top: q in r4,
    // remainder in r3, r5 non-zero when q needs more than 64 bits.
    a.mov64(R3, 0);
    a.mov64(R4, 0);
    a.mov64(R5, 0);
    for k in (0..4).rev() {
        a.ldx(Size::Dw, R6, R2, 8 * k);
        for half in 0..2 {
            a.mov(R0, R6);
            if half == 0 {
                a.alu_imm(Alu::Rsh, R0, 32);
            } else {
                a.alu_imm(Alu::Lsh, R0, 32);
                a.alu_imm(Alu::Rsh, R0, 32);
            }
            a.alu_imm(Alu::Lsh, R3, 32);
            a.alu(Alu::Or, R0, R3);
            a.mov(R3, R0);
            a.alu_imm(Alu::Mod, R3, w);
            a.alu_imm(Alu::Div, R0, w);
            a.mov(R7, R4);
            a.alu_imm(Alu::Rsh, R7, 32);
            a.alu(Alu::Or, R5, R7);
            a.alu_imm(Alu::Lsh, R4, 32);
            a.alu(Alu::Or, R4, R0);
        }
    }
    a.jmp_imm(J::Ne, R5, 0, short);
    // The balance: the state account's lamports above its rent.
    self_lamports(a, R6, bundle);
    above_rent(a, R6, R7, rent);
    a.jmp(J::Gt, R4, R6, short);
    let whole = a.label();
    a.jmp(J::Ne, R4, R6, whole);
    a.jmp_imm(J::Ne, R3, 0, short);
    a.bind(whole);
    a.jmp_imm(J::Ne, R3, 0, not_lamports);
}

/// The ends [`within_balance`] jumps to: 1 when the balance is short,
/// [`exit::VALUE_NOT_LAMPORTS`] for a value that is not whole lamports.
fn beyond_balance(a: &mut Asm, short: Label, not_lamports: Label) {
    a.bind(short);
    a.mov64(R0, 1);
    a.exit();
    a.bind(not_lamports);
    a.mov64(R0, exit::VALUE_NOT_LAMPORTS);
    a.exit();
}

/// Finds the account an EVM address (the word at `r1`) stands for: the
/// first of accounts `[1..]` whose public key ends in the address's 20
/// bytes; in a bundle, from account 0, also a state account of the bundle
/// whose prefix holds the address ([`crate::address`]). Jumps to `precompile` for the addresses 0x1..=0x11, to `this`
/// for the contract itself, to `missing` when no account matches, and to
/// the returned label, bound by the caller, with the account at `r5`. On
/// every path but `precompile`, `r1`, `r2` and `r3` hold the key's last
/// 8, middle 8 and first 4 bytes (for [`ask_for_account`]). Uses `r0`,
/// `r5`, `r6` and `r8` (and in a bundle `r7`).
fn locate(a: &mut Asm, precompile: Label, this: Label, missing: Label, bundle: bool) -> Label {
    // The address in key form: key bytes 12..32 are its 20 bytes.
    a.ldx(Size::Dw, R5, R1, 0);
    a.ldx(Size::Dw, R2, R1, 8);
    a.ldx(Size::W, R3, R1, 16);
    let not_precompile = a.label();
    a.mov(R0, R2);
    a.alu(Alu::Or, R0, R3);
    a.jmp_imm(J::Ne, R0, 0, not_precompile);
    a.mov(R0, R5);
    a.alu_imm(Alu::Sub, R0, 1);
    a.jmp_imm(J::Lt, R0, 0x11, precompile);
    a.bind(not_precompile);
    a.mov(R1, R5);
    a.be64(R1);
    a.be64(R2);
    a.be(R3, 32);
    // `key_matches(p, at, miss)`: the 32 bytes at p + at end in the
    // address.
    let key_matches = |a: &mut Asm, p: Reg, at: i16, miss: Label| {
        a.ldx(Size::Dw, R0, p, at + 24);
        a.jmp(J::Ne, R0, R1, miss);
        a.ldx(Size::Dw, R0, p, at + 16);
        a.jmp(J::Ne, R0, R2, miss);
        a.ldx(Size::W, R0, p, at + 12);
        a.jmp(J::Ne, R0, R3, miss);
    };
    let not_self = a.label();
    if bundle {
        a.ldx(Size::Dw, R5, R9, layout::SELF_ADDR);
    } else {
        a.mov64(R5, layout::STATE_KEY_ADDR);
    }
    key_matches(a, R5, 0, not_self);
    a.ja(this);
    a.bind(not_self);
    // Walk accounts 1.. for the address (duplicates are 8 bytes); in a
    // bundle, from account 0, which a nested frame may call back.
    let found = a.label();
    a.mov64(R8, layout::INPUT_START);
    a.ldx(Size::Dw, R8, R8, 0);
    if bundle {
        a.mov64(R5, layout::INPUT_START + 8);
    } else {
        a.ldx(Size::Dw, R5, R9, layout::CALLER_KEY);
        a.alu_imm(Alu::Sub, R5, 8);
        a.alu_imm(Alu::Sub, R8, 1);
    }
    // (A state account that grew in this instruction: Agave placed the
    // next account after its original length, see [`grow`].)
    each_account(a, missing, bundle.then_some(R6), |a, next| {
        let other = if bundle { a.label() } else { next };
        key_matches(a, R5, 8, other);
        a.ja(found);
        if bundle {
            // A state account of the bundle (with the magic, owned by the
            // program as account 0 is): the address its prefix holds.
            a.bind(other);
            key_matches(a, R5, 88, next);
            a.ldx(Size::W, R0, R5, 88);
            a.jmp_imm(J::Ne, R0, storage::BUNDLE_MAGIC as i32, next);
            a.mov64(R6, layout::STATE_OWNER_ADDR);
            for k in 0..4 {
                a.ldx(Size::Dw, R0, R5, 40 + 8 * k);
                a.ldx(Size::Dw, R7, R6, 8 * k);
                a.jmp(J::Ne, R0, R7, next);
            }
            a.ja(found);
        }
    });
    found
}

/// Emits a walk over the instruction's accounts from the one at `r5`,
/// `r8` of them: a duplicate (8 bytes) is passed over, `body(a, next)`
/// runs for each other account (at `r5`; it goes on to the next by
/// jumping to, or ending at, `next`), and the walk jumps to `done` after
/// the last. The next account is after the data as Agave placed it: its
/// length, less what the program grew it by (the padding bytes, read
/// into `grown` when given: only a bundle's walks can pass a grown
/// account), then the 10 KiB of room and the rent epoch. Uses `r0`.
pub(crate) fn each_account(
    a: &mut Asm,
    done: Label,
    grown: Option<Reg>,
    body: impl FnOnce(&mut Asm, Label),
) {
    let (walk, full, next) = (a.label(), a.label(), a.label());
    a.bind(walk);
    a.jmp_imm(J::Eq, R8, 0, done);
    a.alu_imm(Alu::Sub, R8, 1);
    a.ldx(Size::B, R0, R5, 0);
    a.jmp_imm(J::Eq, R0, 0xff, full);
    a.alu_imm(Alu::Add, R5, 8);
    a.ja(walk);
    a.bind(full);
    body(a, next);
    a.bind(next);
    a.ldx(Size::Dw, R0, R5, 80);
    if let Some(reg) = grown {
        a.ldx(Size::W, reg, R5, 4);
        a.alu(Alu::Sub, R0, reg);
    }
    a.alu(Alu::Add, R5, R0);
    a.alu_imm(Alu::Add, R5, 88 + 10240 + 7);
    a.alu_imm(Alu::And, R5, -8);
    a.alu_imm(Alu::Add, R5, 8);
    a.ja(walk);
}

/// Jumps to `code` when the account at `r5` has code: it is executable or
/// owned by a program other than the system program.
fn jmp_if_code(a: &mut Asm, code: Label) {
    a.ldx(Size::B, R0, R5, 3);
    a.jmp_imm(J::Ne, R0, 0, code);
    for k in 0..4 {
        a.ldx(Size::Dw, R0, R5, 40 + 8 * k);
        a.jmp_imm(J::Ne, R0, 0, code);
    }
}

/// Goes on when the system program is among the instruction's accounts
/// (in a bundle), else ends with [`exit::ACCOUNT_NEEDED`] and the zero
/// address, its key, for the client to add it. Uses `r0`..`r8`.
pub(crate) fn need_system_program(a: &mut Asm) {
    let (needed, done) = (a.label(), a.label());
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, layout::ZERO as i32);
    let found = locate(a, needed, needed, needed, true);
    a.bind(found);
    a.ja(done);
    a.bind(needed);
    ask_for_account(a);
    a.bind(done);
}

/// Ends the program with [`exit::ACCOUNT_NEEDED`] and the address (key
/// parts in `r1`..`r3`, see [`locate`]) as return data, for the client to
/// add the account and send again.
fn ask_for_account(a: &mut Asm) {
    a.stx(Size::W, R9, layout::SCRATCH + 12, R3);
    a.stx(Size::Dw, R9, layout::SCRATCH + 16, R2);
    a.stx(Size::Dw, R9, layout::SCRATCH + 24, R1);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, layout::SCRATCH as i32 + 12);
    a.mov64(R2, 20);
    a.syscall("sol_set_return_data");
    a.mov64(R0, exit::ACCOUNT_NEEDED);
    a.exit();
}
