//! Calls out of a bundle: a call to a contract another program holds
//! ([`crate::Target::outside`]) becomes a cross-program invocation of that
//! program, with the instruction a client would send it (the value prefix,
//! then the calldata) and the calling contract's state account as the
//! caller, signed for with its seeds.

use crate::asm::{Alu, Asm, Cond as J, Label, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, Size};
use crate::{exit, layout, storage};

use super::each_account;

/// The most accounts a call out passes on (the instruction's own, each
/// once).
const MOST: i16 = 32;
/// The helper's stack frame: the account infos, the metas (two more than
/// the accounts: the callee's state account and the caller's come first),
/// each account's data length before the call, then the rest.
const INFOS: i16 = -2000;
const METAS: i16 = -2600;
const LENS: i16 = -2904;
const INFO_END: i16 = -2912;
const INSTRUCTION: i16 = -2952;
const SAVED: i16 = -2960;
const PROGRAM_OUT: i16 = -2992;
const EVM: i16 = -3000;
const SIGNER: i16 = -3016;
const SEEDS: i16 = -3064;
// Agave checks the alignment of what it reads (8 bytes), and the places
// follow each other without overlapping.
const _: () = assert!(INFOS + 56 * (MOST + 1) <= -64);
const _: () = assert!(METAS + 16 * (MOST + 2) <= INFOS);
const _: () = assert!(LENS + 8 * (MOST + 1) <= METAS);
const _: () = assert!(INFO_END + 8 <= LENS && INSTRUCTION + 40 <= INFO_END);
const _: () = assert!(SAVED + 8 <= INSTRUCTION && PROGRAM_OUT + 32 <= SAVED);
const _: () = assert!(EVM + 8 <= PROGRAM_OUT && SIGNER + 16 <= EVM && SEEDS + 48 <= SIGNER);
const _: () = assert!(
    (INFOS | METAS | LENS | INFO_END | INSTRUCTION | SAVED | PROGRAM_OUT | EVM | SIGNER | SEEDS)
        % 8
        == 0
);

/// Where the calling frame's scratch holds what the call needs: the
/// callee's address as 32 bytes ending in it, then the program's id (so
/// that bytes 12..64 are the address and the id: what the program asks a
/// client for when the accounts are missing), then 1 for a static call.
pub(crate) const ADDRESS: i16 = layout::SCRATCH + 320;
/// See [`ADDRESS`].
pub(crate) const PROGRAM: i16 = ADDRESS + 32;
/// See [`ADDRESS`].
pub(crate) const STATIC: i16 = ADDRESS + 64;

/// The body of [`crate::runtime::Helper::CallOut`]: the calldata at the
/// pointer and length at scratch + 256 and + 264, the callee at
/// [`ADDRESS`], its program at [`PROGRAM`]. Finds the program and the
/// callee's state account (owned by the program, with a bundle prefix
/// holding the address) among the instruction's accounts, else returns
/// [`exit::ACCOUNT_NEEDED`] with the address and the program id as return
/// data (52 bytes). Then invokes the program with every account of the
/// instruction (the callee's state account first, the caller's, a signer,
/// second), the value prefix (`u64::MAX` for a static call: the callee's
/// frame is static) and the calldata, signed for with the running
/// contract's seeds (`"evm"`, its address, its bump). A failure there ends
/// the transaction (Solana cannot catch it). Before it, the records
/// nested frames hold are logged and the return data emptied; the return
/// data the program set (up to 1,024 bytes) becomes the frame's; accounts whose data grew
/// are walked past as grown. Returns 0, or [`exit::CALL_OUT`] (too many
/// accounts, too much calldata, data that shrank).
pub(crate) fn call_out(a: &mut Asm, flush: Label) {
    let s = layout::SCRATCH;
    let (needed, limit) = (a.label(), a.label());
    // r6: the callee's state account, r7: the program's account.
    a.mov64(R6, 0);
    a.mov64(R7, 0);
    a.mov64(R8, layout::INPUT_START);
    a.ldx(Size::Dw, R8, R8, 0);
    a.mov64(R5, layout::INPUT_START + 8);
    let found = a.label();
    each_account(a, found, Some(R1), |a, next| {
        let not_program = a.label();
        for k in 0..4 {
            a.ldx(Size::Dw, R0, R5, 8 + 8 * k);
            a.ldx(Size::Dw, R2, R9, PROGRAM + 8 * k);
            a.jmp(J::Ne, R0, R2, not_program);
        }
        a.mov(R7, R5);
        a.ja(next);
        a.bind(not_program);
        for k in 0..4 {
            a.ldx(Size::Dw, R0, R5, 40 + 8 * k);
            a.ldx(Size::Dw, R2, R9, PROGRAM + 8 * k);
            a.jmp(J::Ne, R0, R2, next);
        }
        a.ldx(Size::Dw, R0, R5, 80);
        a.jmp_imm(J::Lt, R0, storage::PREFIX as i32, next);
        a.ldx(Size::W, R0, R5, 88);
        a.jmp_imm(J::Ne, R0, storage::BUNDLE_MAGIC as i32, next);
        let at = 88 + storage::ADDRESS as i16;
        for (off, size) in [(0, Size::W), (4, Size::Dw), (12, Size::Dw)] {
            a.ldx(size, R0, R5, at + off);
            a.ldx(size, R2, R9, ADDRESS + 12 + off);
            a.jmp(J::Ne, R0, R2, next);
        }
        a.mov(R6, R5);
    });
    a.bind(found);
    a.jmp_imm(J::Eq, R6, 0, needed);
    a.jmp_imm(J::Eq, R7, 0, needed);
    // Metas 0 and 1: the callee's state account (writable as it is in the
    // instruction), the running contract's (a signer).
    a.mov(R0, R6);
    a.alu_imm(Alu::Add, R0, 8);
    a.stx(Size::Dw, R10, METAS, R0);
    a.ldx(Size::B, R0, R6, 2);
    a.stx(Size::B, R10, METAS + 8, R0);
    a.st(Size::B, R10, METAS + 9, 0);
    a.ldx(Size::Dw, R0, R9, layout::SELF_KEY);
    a.stx(Size::Dw, R10, METAS + 16, R0);
    a.ldx(Size::B, R2, R0, -6);
    a.stx(Size::B, R10, METAS + 24, R2);
    a.st(Size::B, R10, METAS + 25, 1);
    // r3: the next meta, r4: the next info, r2: the next length; every
    // account once, as an info; each other than those two as a meta.
    a.mov(R3, R10);
    a.alu_imm(Alu::Add, R3, METAS as i32 + 32);
    a.mov(R4, R10);
    a.alu_imm(Alu::Add, R4, INFOS as i32);
    a.mov(R2, R10);
    a.alu_imm(Alu::Add, R2, LENS as i32);
    a.mov64(R8, layout::INPUT_START);
    a.ldx(Size::Dw, R8, R8, 0);
    a.mov64(R5, layout::INPUT_START + 8);
    let listed = a.label();
    each_account(a, listed, Some(R1), |a, next| {
        a.mov(R0, R10);
        a.alu_imm(Alu::Add, R0, (INFOS + 56 * MOST) as i32);
        a.jmp(J::Ge, R4, R0, limit);
        a.mov(R1, R5);
        a.alu_imm(Alu::Add, R1, 8);
        super::system::account_info(a, R4, 0, R1);
        a.st(Size::Dw, R4, 40, 0);
        for (flag, field) in [(1, 48), (2, 49), (3, 50)] {
            a.ldx(Size::B, R0, R5, flag);
            a.stx(Size::B, R4, field, R0);
        }
        a.alu_imm(Alu::Add, R4, 56);
        a.ldx(Size::Dw, R0, R5, 80);
        a.stx(Size::Dw, R2, 0, R0);
        a.alu_imm(Alu::Add, R2, 8);
        // Its meta, unless it is one of the first two or the program.
        a.jmp(J::Eq, R5, R6, next);
        a.jmp(J::Eq, R5, R7, next);
        a.ldx(Size::Dw, R0, R9, layout::SELF_KEY);
        a.jmp(J::Eq, R1, R0, next);
        a.stx(Size::Dw, R3, 0, R1);
        a.ldx(Size::B, R0, R5, 2);
        a.stx(Size::B, R3, 8, R0);
        a.ldx(Size::B, R0, R5, 1);
        a.stx(Size::B, R3, 9, R0);
        a.alu_imm(Alu::Add, R3, 16);
    });
    a.bind(listed);
    // SolInstruction { program id, metas, n, data, len }: the data is the
    // value prefix in the 8 bytes before the calldata (kept and put back),
    // or in the helper's frame when there is no calldata.
    a.mov(R0, R9);
    a.alu_imm(Alu::Add, R0, PROGRAM as i32);
    a.stx(Size::Dw, R10, INSTRUCTION, R0);
    a.mov(R0, R10);
    a.alu_imm(Alu::Add, R0, METAS as i32);
    a.stx(Size::Dw, R10, INSTRUCTION + 8, R0);
    a.alu(Alu::Sub, R3, R0);
    a.alu_imm(Alu::Rsh, R3, 4);
    a.stx(Size::Dw, R10, INSTRUCTION + 16, R3);
    a.ldx(Size::Dw, R0, R9, s + 264);
    a.mov64(R1, (10 * 1024 - 8) as u64);
    a.jmp(J::Gt, R0, R1, limit);
    a.alu_imm(Alu::Add, R0, 8);
    a.stx(Size::Dw, R10, INSTRUCTION + 32, R0);
    let (some, data_set) = (a.label(), a.label());
    a.ldx(Size::Dw, R1, R9, s + 256);
    a.alu_imm(Alu::Sub, R1, 8);
    a.ldx(Size::Dw, R0, R9, s + 264);
    a.jmp_imm(J::Ne, R0, 0, some);
    a.mov(R1, R10);
    a.alu_imm(Alu::Add, R1, SAVED as i32);
    a.ja(data_set);
    a.bind(some);
    a.ldx(Size::Dw, R0, R1, 0);
    a.stx(Size::Dw, R10, SAVED, R0);
    a.bind(data_set);
    a.stx(Size::Dw, R10, INSTRUCTION + 24, R1);
    a.ldx(Size::Dw, R0, R9, STATIC);
    a.mov64(R2, 0);
    a.alu(Alu::Sub, R2, R0);
    a.stx(Size::Dw, R1, 0, R2);
    // One signer, the running contract: "evm", its address, its bump
    // (`SolSignerSeedC`: address and length each).
    a.st(Size::W, R10, EVM, i32::from_le_bytes(*b"evm\0"));
    a.ldx(Size::Dw, R5, R9, layout::SELF_ADDR);
    let seed = |a: &mut Asm, i: i16, ptr: u8, off: i32, len: i32| {
        a.mov(R0, ptr);
        a.alu_imm(Alu::Add, R0, off);
        a.stx(Size::Dw, R10, SEEDS + 16 * i, R0);
        a.st(Size::Dw, R10, SEEDS + 16 * i + 8, len);
    };
    seed(a, 0, R10, EVM as i32, 3);
    seed(a, 1, R5, storage::ADDRESS as i32, 20);
    seed(a, 2, R5, storage::BUMP as i32, 1);
    a.mov(R0, R10);
    a.alu_imm(Alu::Add, R0, SEEDS as i32);
    a.stx(Size::Dw, R10, SIGNER, R0);
    a.st(Size::Dw, R10, SIGNER + 8, 3);
    a.stx(Size::Dw, R10, INFO_END, R4);
    // The records nested frames hold are logged now, before the called
    // program's (a frame that fails after this ends the instruction,
    // `exit::CALL_OUT_UNDONE`); and the return data is emptied, so that
    // what is there afterwards is the called program's.
    a.call(flush);
    a.mov64(R1, 0);
    a.mov64(R2, 0);
    a.syscall("sol_set_return_data");
    a.ldx(Size::Dw, R4, R10, INFO_END);
    a.mov(R1, R10);
    a.alu_imm(Alu::Add, R1, INSTRUCTION as i32);
    a.mov(R2, R10);
    a.alu_imm(Alu::Add, R2, INFOS as i32);
    a.mov(R3, R4);
    a.alu(Alu::Sub, R3, R2);
    a.alu_imm(Alu::Div, R3, 56);
    a.mov(R4, R10);
    a.alu_imm(Alu::Add, R4, SIGNER as i32);
    a.mov64(R5, 1);
    a.syscall("sol_invoke_signed_c");
    // The calldata's 8 bytes back.
    let kept = a.label();
    a.ldx(Size::Dw, R0, R9, s + 264);
    a.jmp_imm(J::Eq, R0, 0, kept);
    a.ldx(Size::Dw, R1, R9, s + 256);
    a.ldx(Size::Dw, R0, R10, SAVED);
    a.stx(Size::Dw, R1, -8, R0);
    a.bind(kept);
    // Accounts whose data grew: walked past as grown ([`each_account`]).
    let (walk, walked) = (a.label(), a.label());
    a.mov(R2, R10);
    a.alu_imm(Alu::Add, R2, INFOS as i32);
    a.mov(R3, R10);
    a.alu_imm(Alu::Add, R3, LENS as i32);
    a.ldx(Size::Dw, R6, R10, INFO_END);
    a.bind(walk);
    a.jmp(J::Ge, R2, R6, walked);
    let same = a.label();
    a.ldx(Size::Dw, R1, R2, 0);
    a.ldx(Size::Dw, R0, R1, 72);
    a.ldx(Size::Dw, R4, R3, 0);
    a.jmp(J::Eq, R0, R4, same);
    a.jmp(J::Lt, R0, R4, limit);
    a.alu(Alu::Sub, R0, R4);
    a.ldx(Size::W, R4, R1, -4);
    a.alu(Alu::Add, R4, R0);
    a.stx(Size::W, R1, -4, R4);
    a.bind(same);
    a.alu_imm(Alu::Add, R2, 56);
    a.alu_imm(Alu::Add, R3, 8);
    a.ja(walk);
    a.bind(walked);
    // The return data, if the program called set it.
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, layout::BUNDLE_RETURN_DATA as i32);
    a.mov64(R2, 1024);
    a.mov(R3, R10);
    a.alu_imm(Alu::Add, R3, PROGRAM_OUT as i32);
    a.syscall("sol_get_return_data");
    let (theirs, set) = (a.label(), a.label());
    for k in 0..4 {
        a.ldx(Size::Dw, R1, R10, PROGRAM_OUT + 8 * k);
        a.ldx(Size::Dw, R2, R9, PROGRAM + 8 * k);
        a.jmp(J::Ne, R1, R2, theirs);
    }
    a.ja(set);
    a.bind(theirs);
    a.mov64(R0, 0);
    a.bind(set);
    a.stx(Size::Dw, R9, layout::RETURN_DATA_LEN, R0);
    // Emptied again: the transaction's return data is then this program's
    // (a contract that returns nothing sets none).
    a.mov64(R1, 0);
    a.mov64(R2, 0);
    a.syscall("sol_set_return_data");
    // One more call out of the bundle, which a failure cannot undo.
    a.mov64(R1, layout::HEAP_START);
    a.ldx(Size::Dw, R0, R1, layout::CALLS_OUT);
    a.alu_imm(Alu::Add, R0, 1);
    a.stx(Size::Dw, R1, layout::CALLS_OUT, R0);
    a.mov64(R0, 0);
    a.exit();
    a.bind(limit);
    a.mov64(R0, exit::CALL_OUT);
    a.exit();
    a.bind(needed);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, ADDRESS as i32 + 12);
    a.mov64(R2, 52);
    a.syscall("sol_set_return_data");
    a.mov64(R0, exit::ACCOUNT_NEEDED);
    a.exit();
}
