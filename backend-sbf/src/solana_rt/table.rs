//! The storage tables in a state account's data (and the transient one in
//! the heap): lookups and stores over the table and the extensions that
//! follow it, and the account's growth by one more extension.

use super::{above_rent, ask_for_account, journal_if_nested, locate, system_transfer_syncing};
use crate::asm::{
    Alu, Asm, Cond as J, Label, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, Reg, Size,
};
use crate::runtime::{copy_limbs, or_limbs, zero};
use crate::{exit, layout, storage};

/// The body of the table helpers (`TableLoad`, or `TableStore` when
/// `store`; see [`crate::runtime::Helper`]): an open-addressing lookup in a
/// table laid out as [`crate::storage`] describes, then in each extension
/// that follows it (a table in an account's data only: the transient one
/// in the heap never grows); the store updates the entry where the key is,
/// or inserts it into the first table with room. When none has room, a
/// store into an account's table calls `grow` ([`grow`]'s label: given for
/// the store, none for the load) for one more extension, and ends with its
/// full code when that cannot be. In a bundle (`journal`), a store in a
/// nested frame records the entry's old value first.
pub(crate) fn table(a: &mut Asm, journal: Option<Label>, grow: Option<Label>) {
    let store = grow.is_some();
    let (key, table) = if store { (R1, R3) } else { (R2, R3) };
    // Stack locals: the full code, the insertion candidate (entry,
    // table), the first table, the key's hash, and across `grow` the
    // operands and the chain's end.
    let (code, cand, cand_table, first, hash, ops, end_at) = (-8, -16, -24, -32, -40, -56, -64);
    if store {
        a.stx(Size::Dw, R10, code, R4);
    }
    key_hash(a, key);
    a.ldx(Size::Dw, R7, key, 0);
    // The first table; then, only when it is not there, the extensions
    // (the same probe, emitted again so the first table's needs no
    // bookkeeping).
    let absent = probe(a, store, journal, key, table);
    let (last, last_first, insert, full, done) =
        (a.label(), a.label(), a.label(), a.label(), a.label());
    a.bind(absent);
    next_table(a, table, last_first);
    if store {
        a.st(Size::Dw, R10, cand, 0);
        a.stx(Size::Dw, R10, first, table);
        a.mov(R6, R5);
        candidate(a, table, cand, cand_table);
        a.mov(R5, R6);
    }
    a.mov(table, R5);
    key_hash(a, key);
    a.stx(Size::Dw, R10, hash, R4);
    let top = a.label();
    a.bind(top);
    let absent = probe(a, store, journal, key, table);
    a.bind(absent);
    if store {
        candidate(a, table, cand, cand_table);
    }
    next_table(a, table, last);
    a.mov(table, R5);
    a.ldx(Size::Dw, R4, R10, hash);
    a.ja(top);
    let Some(grow) = grow else {
        // The load: not there, so zero.
        a.bind(last);
        a.bind(last_first);
        zero(a, R1, 0, 4);
        a.exit();
        return;
    };
    let here = a.label();
    // In the extensions: the first table with room (kept as the
    // candidate), else the last one's free entry (`r8`) if it has room.
    a.bind(last);
    or_limbs(a, R5, R2, 0);
    a.jmp_imm(J::Eq, R5, 0, done);
    a.ldx(Size::Dw, R0, R10, cand);
    a.jmp_imm(J::Eq, R0, 0, here);
    a.mov(R8, R0);
    a.ldx(Size::Dw, table, R10, cand_table);
    a.ja(insert);
    // Only the first table: its free entry, if it has room.
    a.bind(last_first);
    // A zero value needs no entry.
    or_limbs(a, R5, R2, 0);
    a.jmp_imm(J::Eq, R5, 0, done);
    a.stx(Size::Dw, R10, first, table);
    a.bind(here);
    a.ldx(Size::Dw, R0, table, 16);
    a.ldx(Size::Dw, R5, table, 8);
    let no_room = a.label();
    jmp_unless_room(a, R0, R5, R6, no_room);
    a.bind(insert);
    a.ldx(Size::Dw, R0, table, 16);
    a.alu_imm(Alu::Add, R0, 1);
    a.stx(Size::Dw, table, 16, R0);
    a.st(Size::Dw, R8, 0, 1);
    copy_limbs(a, 4, R8, 8, R1, 0);
    remember_insert(a, journal, table);
    copy_limbs(a, 4, R8, 40, R2, 0);
    a.bind(done);
    a.mov64(R0, 0);
    a.exit();
    a.bind(full);
    a.ldx(Size::Dw, R0, R10, code);
    a.exit();
    a.bind(no_room);
    // The transient table (which cannot grow) fills up to its last free
    // entry.
    let grows = a.label();
    a.ldx(Size::Dw, R6, R10, code);
    a.jmp_imm(J::Ne, R6, exit::TRANSIENT_FULL as i32, grows);
    a.ldx(Size::Dw, R0, table, 16);
    a.alu_imm(Alu::Add, R0, 1);
    a.jmp(J::Lt, R0, R5, insert);
    a.ja(full);
    // No table has room: an account's grows by an extension after the
    // last one (`table`, of `r5` entries).
    a.bind(grows);
    a.stx(Size::Dw, R10, ops, R1);
    a.stx(Size::Dw, R10, ops + 8, R2);
    a.alu_imm(Alu::Mul, R5, storage::ENTRY as i32);
    a.alu(Alu::Add, R5, table);
    a.alu_imm(Alu::Add, R5, storage::HEADER as i32);
    a.stx(Size::Dw, R10, end_at, R5);
    a.ldx(Size::Dw, R1, R10, first);
    a.mov(R2, R5);
    a.call(grow);
    let grown = a.label();
    a.jmp_imm(J::Eq, R0, 0, grown);
    a.jmp_imm(J::Eq, R0, 1, full);
    a.exit();
    a.bind(grown);
    a.ldx(Size::Dw, R1, R10, ops);
    a.ldx(Size::Dw, R2, R10, ops + 8);
    a.ldx(Size::Dw, table, R10, end_at);
    // The new extension is empty: the key's first entry is free.
    key_hash(a, R1);
    a.ldx(Size::W, R5, table, 24);
    a.alu(Alu::Rsh, R4, R5);
    a.mov(R8, R4);
    a.alu_imm(Alu::Mul, R8, storage::ENTRY as i32);
    a.alu(Alu::Add, R8, table);
    a.alu_imm(Alu::Add, R8, storage::HEADER as i32);
    a.ja(insert);
}

/// `r4` = the key's hash (at `key`), before the table's shift. Uses `r5`.
fn key_hash(a: &mut Asm, key: Reg) {
    a.ldx(Size::Dw, R4, key, 0);
    for k in 1..4 {
        a.ldx(Size::Dw, R5, key, 8 * k);
        a.alu(Alu::Xor, R4, R5);
    }
    a.mov64(R5, storage::HASH_MUL);
    a.alu(Alu::Mul, R4, R5);
}

/// [`table`]'s linear probe of one table (`table`) for the key (at `key`,
/// its first limb in `r7`, its hash in `r4`): where the key is, the load
/// copies the value out or the store writes it, and returns. Returns the
/// label (for the caller to bind) reached with `r8` at the free entry
/// that ends the probe and `r6` the capacity less one.
fn probe(a: &mut Asm, store: bool, journal: Option<Label>, key: Reg, table: Reg) -> Label {
    let (probe, next, absent) = (a.label(), a.label(), a.label());
    a.ldx(Size::W, R5, table, 24);
    a.alu(Alu::Rsh, R4, R5);
    a.ldx(Size::Dw, R6, table, 8);
    a.alu_imm(Alu::Sub, R6, 1);
    a.bind(probe);
    a.mov(R8, R4);
    a.alu_imm(Alu::Mul, R8, storage::ENTRY as i32);
    a.alu(Alu::Add, R8, table);
    a.alu_imm(Alu::Add, R8, storage::HEADER as i32);
    a.ldx(Size::Dw, R0, R8, 0);
    a.jmp_imm(J::Eq, R0, 0, absent);
    a.ldx(Size::Dw, R0, R8, 8);
    a.jmp(J::Ne, R0, R7, next);
    for k in 1..4 {
        a.ldx(Size::Dw, R0, R8, 8 + 8 * k);
        a.ldx(Size::Dw, R5, key, 8 * k);
        a.jmp(J::Ne, R0, R5, next);
    }
    if store {
        remember(a, journal);
        copy_limbs(a, 4, R8, 40, R2, 0);
        a.mov64(R0, 0);
    } else {
        copy_limbs(a, 4, R1, 0, R8, 40);
    }
    a.exit();
    a.bind(next);
    a.alu_imm(Alu::Add, R4, 1);
    a.alu(Alu::And, R4, R6);
    a.ja(probe);
    absent
}

/// After a probe of `table` ended at a free entry: `r5` = the next table
/// (right after this one's entries), or a jump to `none` when the table's
/// header does not say an extension follows it (the heap's transient
/// table never grows).
fn next_table(a: &mut Asm, table: Reg, none: Label) {
    a.ldx(Size::W, R5, table, storage::EXTENDED as i16);
    a.jmp_imm(J::Eq, R5, 0, none);
    a.mov(R5, R6);
    a.alu_imm(Alu::Add, R5, 1);
    a.alu_imm(Alu::Mul, R5, storage::ENTRY as i32);
    a.alu(Alu::Add, R5, table);
    a.alu_imm(Alu::Add, R5, storage::HEADER as i32);
}

/// In a store that walks the extensions: the free entry a probe of
/// `table` ended at (`r8`) becomes the insertion candidate unless one was
/// found already or the table has no room. Uses `r0`, `r4` and `r5`.
fn candidate(a: &mut Asm, table: Reg, cand: i16, cand_table: i16) {
    let taken = a.label();
    a.ldx(Size::Dw, R0, R10, cand);
    a.jmp_imm(J::Ne, R0, 0, taken);
    a.ldx(Size::Dw, R0, table, 16);
    a.ldx(Size::Dw, R5, table, 8);
    jmp_unless_room(a, R0, R5, R4, taken);
    a.stx(Size::Dw, R10, cand, R8);
    a.stx(Size::Dw, R10, cand_table, table);
    a.bind(taken);
}

/// Jumps to `none` unless a table in an account with `used` of `capacity`
/// entries (registers) has room for one more: an account's tables fill
/// to three quarters, then the data grows, so probing stays short.
/// Changes `used` and `tmp`.
fn jmp_unless_room(a: &mut Asm, used: Reg, capacity: Reg, tmp: Reg, none: Label) {
    a.alu_imm(Alu::Add, used, 1);
    a.alu_imm(Alu::Lsh, used, 2);
    a.mov(tmp, capacity);
    a.alu_imm(Alu::Mul, tmp, 3);
    a.jmp(J::Gt, used, tmp, none);
}

/// The body of [`crate::runtime::Helper::Grow`]: one more extension
/// ([`storage::EXTENSION_BYTES`]) at `r2`, the end of the table chain
/// whose first table is at `r1` (the account data's start, or in a bundle
/// after the state account's prefix) and whose last one,
/// at `r3`, then says an extension follows it ([`storage::EXTENDED`]). The data length
/// grows to hold it (unless the account already has the room), and the
/// transaction's signer pays the rent of the bytes added, by a system
/// transfer; the program asks for the system program when it is not among
/// the accounts. Returns 0 when the extension is there, 1 when it cannot
/// be: the data grew once already in this instruction (Solana allows
/// 10,240 bytes), the signer is read-only or cannot pay, the instruction
/// has more than 32 writable accounts, or (in a bundle's nested frame,
/// `journal_at`) the journal holds the balance of an account the program
/// does not own; else [`exit::ACCOUNT_NEEDED`]. In a bundle the journal's records of the
/// account's balance take the rent in, so a failed call keeps it.
pub(crate) fn grow(a: &mut Asm, rent: i32, journal_at: Option<u32>) {
    let (first, end, new_len, lamports, last) = (-8, -16, -24, -32, -40);
    let (cannot, needed) = (a.label(), a.label());
    a.mov64(R0, layout::HEAP_START);
    a.ldx(Size::Dw, R0, R0, layout::GREW);
    a.jmp_imm(J::Ne, R0, 0, cannot);
    if journal_at.is_some() {
        // A bundle's table comes after the state account's prefix.
        a.alu_imm(Alu::Sub, R1, storage::PREFIX as i32);
    }
    a.stx(Size::Dw, R10, first, R1);
    a.stx(Size::Dw, R10, end, R2);
    a.stx(Size::Dw, R10, last, R3);
    a.mov(R6, R2);
    a.alu_imm(Alu::Add, R6, storage::EXTENSION_BYTES as i32);
    a.alu(Alu::Sub, R6, R1);
    a.stx(Size::Dw, R10, new_len, R6);
    a.ldx(Size::Dw, R7, R1, -8);
    let room = a.label();
    a.jmp(J::Le, R6, R7, room);
    // The rent of the bytes added, from the signer.
    a.mov(R5, R6);
    a.alu(Alu::Sub, R5, R7);
    a.alu_imm(Alu::Mul, R5, rent);
    a.stx(Size::Dw, R10, lamports, R5);
    a.mov64(R8, layout::HEAP_START);
    a.ldx(Size::Dw, R8, R8, layout::CALLER_KEY);
    a.ldx(Size::B, R0, R8, -6);
    a.jmp_imm(J::Eq, R0, 0, cannot);
    a.mov(R0, R8);
    a.alu_imm(Alu::Add, R0, 64);
    above_rent(a, R0, R4, rent);
    a.jmp(J::Lt, R0, R5, cannot);
    if let Some(at) = journal_at {
        // The transfer makes the runtime see the lamports of every
        // writable account as they are now; a failed call would then take
        // back lamports from an account the program does not own (a
        // payment it journalled: the signer's or any other), which Agave
        // refuses. So no balance the journal holds may be such an
        // account's. (A balance entry is 8 bytes at `lamports`; the
        // account's owner is 32 bytes before.)
        a.ldx(Size::Dw, R2, R9, layout::SELF_KEY);
        a.alu_imm(Alu::Add, R2, 32);
        each_journal_entry(a, at, |a, entry| {
            let ours = a.label();
            a.ldx(Size::Dw, R0, entry, 8);
            a.jmp_imm(J::Ne, R0, 8, ours);
            a.ldx(Size::Dw, R1, entry, 0);
            for k in 0..4 {
                a.ldx(Size::Dw, R0, R1, -32 + 8 * k);
                a.ldx(Size::Dw, R5, R2, 8 * k);
                a.jmp(J::Ne, R0, R5, cannot);
            }
            a.bind(ours);
        });
    }
    // The system program must be among the accounts.
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, layout::ZERO as i32);
    let found = locate(a, cannot, cannot, needed, journal_at.is_some());
    a.bind(found);
    a.mov64(R6, layout::HEAP_START);
    a.ldx(Size::Dw, R6, R6, layout::CALLER_KEY);
    a.ldx(Size::Dw, R7, R10, first);
    a.alu_imm(Alu::Sub, R7, 80);
    a.ldx(Size::Dw, R5, R10, lamports);
    system_transfer_syncing(a);
    a.jmp_imm(J::Eq, R0, 1, cannot);
    if let Some(at) = journal_at {
        a.ldx(Size::Dw, R7, R10, first);
        a.alu_imm(Alu::Sub, R7, 16);
        a.ldx(Size::Dw, R5, R10, lamports);
        each_journal_entry(a, at, |a, entry| {
            let other = a.label();
            a.ldx(Size::Dw, R0, entry, 0);
            a.jmp(J::Ne, R0, R7, other);
            a.ldx(Size::Dw, R0, entry, 16);
            a.alu(Alu::Add, R0, R5);
            a.stx(Size::Dw, entry, 16, R0);
            a.bind(other);
        });
    }
    // The new length; the bytes added go in the account's four padding
    // bytes, where walks over the accounts find the original length
    // (Agave placed the next account after it).
    a.ldx(Size::Dw, R1, R10, first);
    a.ldx(Size::Dw, R6, R10, new_len);
    a.ldx(Size::Dw, R7, R1, -8);
    a.stx(Size::Dw, R1, -8, R6);
    a.alu(Alu::Sub, R6, R7);
    a.stx(Size::W, R1, -84, R6);
    a.mov64(R0, layout::HEAP_START);
    a.st(Size::Dw, R0, layout::GREW, 1);
    a.bind(room);
    a.ldx(Size::Dw, R2, R10, end);
    a.mov64(R0, storage::EXTENSION_MAGIC);
    a.stx(Size::Dw, R2, 0, R0);
    a.st(Size::Dw, R2, 8, storage::EXTENSION_CAPACITY as i32);
    a.st(Size::Dw, R2, 16, 0);
    a.st(
        Size::Dw,
        R2,
        24,
        64 - storage::EXTENSION_CAPACITY.trailing_zeros() as i32,
    );
    // The table it follows says so.
    a.ldx(Size::Dw, R3, R10, last);
    a.st(Size::W, R3, storage::EXTENDED as i16, 1);
    a.mov64(R0, 0);
    a.exit();
    a.bind(cannot);
    a.mov64(R0, 1);
    a.exit();
    a.bind(needed);
    ask_for_account(a);
}

/// Emits `body(a, entry)` for each entry of the bundle's journal at heap
/// offset `at` (the entry's address in `r3`, the journal's end in `r4`;
/// `body` may use `r0` and jump out). Uses `r3` and `r4`.
fn each_journal_entry(a: &mut Asm, at: u32, body: impl Fn(&mut Asm, Reg)) {
    let (top, done) = (a.label(), a.label());
    a.mov64(R3, layout::HEAP_START + u64::from(at));
    a.ldx(Size::Dw, R4, R3, 0);
    a.alu_imm(Alu::Add, R3, 8);
    a.alu(Alu::Add, R4, R3);
    // r3: the next entry, r4: the end.
    a.bind(top);
    a.jmp(J::Ge, R3, R4, done);
    body(a, R3);
    a.alu_imm(Alu::Add, R3, crate::bundle::JOURNAL_ENTRY as i32);
    a.ja(top);
    a.bind(done);
}

/// In [`table`]'s store, journals the value of the entry at `r8` (keeping
/// the value's address in `r2`).
fn remember(a: &mut Asm, journal: Option<Label>) {
    if let Some(j) = journal {
        a.mov(R4, R2);
        journal_if_nested(a, j, R8, 40, 32);
        a.mov(R2, R4);
    }
}

/// In [`table`]'s store, journals the entry at `r8` just inserted into the
/// table at `table` (keeping the value's address in `r2`).
fn remember_insert(a: &mut Asm, journal: Option<Label>, table: Reg) {
    if let Some(j) = journal {
        let outermost = a.label();
        a.ldx(Size::Dw, R0, R9, layout::DEPTH);
        a.jmp_imm(J::Eq, R0, 0, outermost);
        a.mov(R5, R2);
        a.mov(R4, table);
        a.mov(R1, R8);
        a.mov64(R2, 0);
        a.call(j);
        a.mov(R2, R5);
        a.jmp_imm(J::Eq, R0, 0, outermost);
        a.exit();
        a.bind(outermost);
    }
}
