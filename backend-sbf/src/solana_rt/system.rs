//! Calls into the system program: transfers (one that names every
//! writable account of the instruction, for Agave's lamport balance check)
//! and the calls that make a state account at a program-derived address.

use crate::asm::{Alu, Asm, Cond as J, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, Reg, Size};
use crate::layout;

use super::each_account;

/// Where [`system_transfer_syncing`] builds its account metas and infos:
/// the helper's stack frame, below its locals.
const SYNC_METAS: i16 = -2600;
/// See [`SYNC_METAS`].
const SYNC_INFOS: i16 = -2048;
/// The most accounts [`system_transfer_syncing`] passes.
const SYNC_MOST: i16 = 32;
// The metas (two, then one per account) end before the infos, which end
// before the helper's locals.
const _: () = assert!(SYNC_METAS + 16 * (SYNC_MOST + 2) <= SYNC_INFOS);
const _: () = assert!(SYNC_INFOS + 56 * SYNC_MOST <= -64);

/// [`system_transfer`] from inside a helper, after the program may have
/// moved lamports between the instruction's accounts itself: Agave
/// copies the program's changes into only the accounts a cross-program
/// call names and refuses the call (`UnbalancedInstruction`) unless the
/// lamports of the instruction's accounts still add up, so the transfer
/// names every writable account of the instruction (the source and
/// destination first, each once). The metas and infos are built in the
/// helper's stack frame; `r0` is 1, and nothing is sent, when the
/// instruction has more than [`SYNC_MOST`] writable accounts, else 0.
pub(super) fn system_transfer_syncing(a: &mut Asm) {
    let s = layout::SCRATCH;
    let (done, too_many) = (a.label(), a.label());
    transfer_data(a);
    // Metas 0 and 1: the source (writable signer), the destination.
    a.stx(Size::Dw, R10, SYNC_METAS, R6);
    a.st(Size::B, R10, SYNC_METAS + 8, 1);
    a.st(Size::B, R10, SYNC_METAS + 9, 1);
    a.stx(Size::Dw, R10, SYNC_METAS + 16, R7);
    a.st(Size::B, R10, SYNC_METAS + 24, 1);
    a.st(Size::B, R10, SYNC_METAS + 25, 0);
    // r3: the next meta, r4: the next info; r5: the account, r8: how many
    // are left.
    a.mov(R3, R10);
    a.alu_imm(Alu::Add, R3, SYNC_METAS as i32 + 32);
    a.mov(R4, R10);
    a.alu_imm(Alu::Add, R4, SYNC_INFOS as i32);
    a.mov64(R8, layout::INPUT_START);
    a.ldx(Size::Dw, R8, R8, 0);
    a.mov64(R5, layout::INPUT_START + 8);
    each_account(a, done, Some(R1), |a, next| {
        a.ldx(Size::B, R0, R5, 2);
        a.jmp_imm(J::Eq, R0, 0, next);
        a.mov(R0, R10);
        a.alu_imm(Alu::Add, R0, (SYNC_INFOS + 56 * SYNC_MOST) as i32);
        a.jmp(J::Ge, R4, R0, too_many);
        a.mov(R1, R5);
        a.alu_imm(Alu::Add, R1, 8);
        account_info(a, R4, 0, R1);
        a.st(Size::Dw, R4, 40, 0);
        a.ldx(Size::B, R0, R5, 1);
        a.stx(Size::B, R4, 48, R0);
        a.ldx(Size::B, R0, R5, 3);
        a.stx(Size::B, R4, 50, R0);
        a.alu_imm(Alu::Add, R4, 56);
        // Its meta (writable), unless it is the source or the destination.
        a.jmp(J::Eq, R1, R6, next);
        a.jmp(J::Eq, R1, R7, next);
        a.stx(Size::Dw, R3, 0, R1);
        a.st(Size::B, R3, 8, 1);
        a.st(Size::B, R3, 9, 0);
        a.alu_imm(Alu::Add, R3, 16);
    });
    a.bind(done);
    // SolInstruction { program id (32 zero bytes), metas, n, data, 12 }.
    a.mov(R0, R9);
    a.alu_imm(Alu::Add, R0, layout::ZERO as i32);
    a.stx(Size::Dw, R9, s, R0);
    a.mov(R0, R10);
    a.alu_imm(Alu::Add, R0, SYNC_METAS as i32);
    a.stx(Size::Dw, R9, s + 8, R0);
    a.alu(Alu::Sub, R3, R0);
    a.alu_imm(Alu::Rsh, R3, 4);
    a.stx(Size::Dw, R9, s + 16, R3);
    a.mov(R0, R9);
    a.alu_imm(Alu::Add, R0, s as i32 + 72);
    a.stx(Size::Dw, R9, s + 24, R0);
    a.st(Size::Dw, R9, s + 32, 12);
    a.mov(R2, R10);
    a.alu_imm(Alu::Add, R2, SYNC_INFOS as i32);
    a.mov(R3, R4);
    a.alu(Alu::Sub, R3, R2);
    a.alu_imm(Alu::Div, R3, 56);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, s as i32);
    a.mov64(R4, 0);
    a.mov64(R5, 0);
    a.syscall("sol_invoke_signed_c");
    a.mov64(R0, 0);
    let end = a.label();
    a.ja(end);
    a.bind(too_many);
    a.mov64(R0, 1);
    a.bind(end);
}

/// The system transfer's instruction data at scratch + 72: `u32` 2, then
/// the `u64` lamports in `r5` (which it changes).
fn transfer_data(a: &mut Asm) {
    let s = layout::SCRATCH;
    a.st(Size::W, R9, s + 72, 2);
    a.stx(Size::W, R9, s + 76, R5);
    a.alu_imm(Alu::Rsh, R5, 32);
    a.stx(Size::W, R9, s + 80, R5);
}

/// A writable account's `SolAccountInfo { key, lamports, data len, data,
/// owner, rent epoch, signer, writable, executable }` at `[dst + at]`,
/// from its key's place in the input (`key`): the pointers, the data
/// length and the writable flag; the caller writes the rest it needs.
pub(super) fn account_info(a: &mut Asm, dst: Reg, at: i16, key: Reg) {
    a.stx(Size::Dw, dst, at, key);
    for (field, off) in [(8, 64), (24, 80), (32, 32)] {
        a.mov(R0, key);
        a.alu_imm(Alu::Add, R0, off);
        a.stx(Size::Dw, dst, at + field, R0);
    }
    a.ldx(Size::Dw, R0, key, 72);
    a.stx(Size::Dw, dst, at + 16, R0);
    a.st(Size::B, dst, at + 49, 1);
}

/// A system-program transfer of `r5` lamports from the account whose key
/// is at `r6` (a writable signer) to the one whose key is at `r7`
/// (writable): `sol_invoke_signed_c` with its instruction, account metas
/// and account infos (C layout) built in the frame's scratch space. The
/// system program must be among the instruction's accounts.
pub(crate) fn system_transfer(a: &mut Asm) {
    let s = layout::SCRATCH;
    // `[scratch + off] = r9 + to`: a pointer into the frame.
    let at = |a: &mut Asm, off: i16, to: i16| {
        a.mov(R0, R9);
        a.alu_imm(Alu::Add, R0, to as i32);
        a.stx(Size::Dw, R9, s + off, R0);
    };
    // SolInstruction { program id (32 zero bytes), metas, 2, data, 12 }.
    at(a, 0, layout::ZERO);
    at(a, 8, s + 40);
    a.st(Size::Dw, R9, s + 16, 2);
    at(a, 24, s + 72);
    a.st(Size::Dw, R9, s + 32, 12);
    // SolAccountMeta: the source (writable signer), the destination
    // (writable).
    a.stx(Size::Dw, R9, s + 40, R6);
    a.st(Size::B, R9, s + 48, 1);
    a.st(Size::B, R9, s + 49, 1);
    a.stx(Size::Dw, R9, s + 56, R7);
    a.st(Size::B, R9, s + 64, 1);
    transfer_data(a);
    for (info, key, signer) in [(88, R6, 1), (144, R7, 0)] {
        account_info(a, R9, s + info, key);
        a.st(Size::B, R9, s + info + 48, signer);
    }
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, s as i32);
    a.mov(R2, R9);
    a.alu_imm(Alu::Add, R2, s as i32 + 88);
    a.mov64(R3, 2);
    a.mov64(R4, 0);
    a.mov64(R5, 0);
    a.syscall("sol_invoke_signed_c");
}

/// The system program's instructions that make a state account at a
/// program-derived address ([`system_call`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum NewAccount {
    /// `CreateAccount` with these lamports and bytes of data, paid by the
    /// caller: the account holds no lamports yet.
    Create { lamports: u64, space: i32 },
    /// A transfer from the caller that brings the account's lamports up
    /// to `rent` (which it holds less of).
    TopUp { rent: u64 },
    /// A transfer of these lamports from the caller.
    Pay { lamports: u64 },
    /// `Allocate` of these bytes of data.
    Allocate { space: i32 },
    /// `Assign` to the program.
    Assign,
}

/// One system-program call for the account whose key is
/// [`layout::SELF_KEY`] (a program-derived address, signed for with the
/// seeds at scratch + 256: three `SolSignerSeedC`), paid by the one at
/// [`layout::CALLER_KEY`] (a writable signer) where it costs lamports;
/// the program's id is at the pointer at scratch + 240. The instruction,
/// metas, data, infos and the signer's seeds go in the frame's scratch
/// space. The system program must be among the instruction's accounts.
pub(crate) fn system_call(a: &mut Asm, call: NewAccount) {
    let s = layout::SCRATCH;
    let at = |a: &mut Asm, off: i16, to: i16| {
        a.mov(R0, R9);
        a.alu_imm(Alu::Add, R0, to as i32);
        a.stx(Size::Dw, R9, s + off, R0);
    };
    // `[scratch + off]` = the u64 in `r0`, as two words (it is not aligned).
    let u64_at = |a: &mut Asm, off: i16| {
        a.stx(Size::W, R9, s + off, R0);
        a.alu_imm(Alu::Rsh, R0, 32);
        a.stx(Size::W, R9, s + off + 4, R0);
    };
    a.ldx(Size::Dw, R6, R9, layout::CALLER_KEY);
    a.ldx(Size::Dw, R7, R9, layout::SELF_KEY);
    // The accounts (the payer first when there is one) and the data.
    let (accounts, data_len): (&[(Reg, i32)], i32) = match call {
        NewAccount::Create { lamports, space } => {
            a.st(Size::W, R9, s + 72, 0);
            a.mov64(R0, lamports);
            u64_at(a, 76);
            a.mov64(R0, space as u64);
            u64_at(a, 84);
            owner_at(a, s + 92);
            (&[(R6, 1), (R7, 1)], 52)
        }
        NewAccount::TopUp { rent } => {
            a.st(Size::W, R9, s + 72, 2);
            a.ldx(Size::Dw, R1, R7, 64);
            a.mov64(R0, rent);
            a.alu(Alu::Sub, R0, R1);
            u64_at(a, 76);
            (&[(R6, 1), (R7, 0)], 12)
        }
        NewAccount::Pay { lamports } => {
            a.st(Size::W, R9, s + 72, 2);
            a.mov64(R0, lamports);
            u64_at(a, 76);
            (&[(R6, 1), (R7, 0)], 12)
        }
        NewAccount::Allocate { space } => {
            a.st(Size::W, R9, s + 72, 8);
            a.mov64(R0, space as u64);
            u64_at(a, 76);
            (&[(R7, 1)], 12)
        }
        NewAccount::Assign => {
            a.st(Size::W, R9, s + 72, 1);
            owner_at(a, s + 76);
            (&[(R7, 1)], 36)
        }
    };
    // SolInstruction { program id (32 zero bytes), metas, n, data, len }.
    at(a, 0, layout::ZERO);
    at(a, 8, s + 40);
    a.st(Size::Dw, R9, s + 16, accounts.len() as i32);
    at(a, 24, s + 72);
    a.st(Size::Dw, R9, s + 32, data_len);
    for (i, (key, signer)) in accounts.iter().enumerate() {
        let (meta, info) = (s + 40 + 16 * i as i16, s + 128 + 56 * i as i16);
        a.stx(Size::Dw, R9, meta, *key);
        a.st(Size::B, R9, meta + 8, 1);
        a.st(Size::B, R9, meta + 9, *signer);
        account_info(a, R9, info, *key);
        a.st(Size::B, R9, info + 48, *signer);
    }
    // One signer: SolSignerSeedsC { the seeds, 3 }.
    at(a, 344, s + 256);
    a.st(Size::Dw, R9, s + 352, 3);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, s as i32);
    a.mov(R2, R9);
    a.alu_imm(Alu::Add, R2, s as i32 + 128);
    a.mov64(R3, accounts.len() as u64);
    a.mov(R4, R9);
    a.alu_imm(Alu::Add, R4, s as i32 + 344);
    a.mov64(R5, 1);
    a.syscall("sol_invoke_signed_c");
}

/// The program's id (at the pointer at scratch + 240) at `[r9 + off]`.
fn owner_at(a: &mut Asm, off: i16) {
    a.ldx(Size::Dw, R1, R9, layout::SCRATCH + 240);
    for k in 0..8 {
        a.ldx(Size::W, R0, R1, 4 * k);
        a.stx(Size::W, R9, off + 4 * k, R0);
    }
}
