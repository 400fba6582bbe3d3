//! Calls: `call` and `staticcall` into accounts without code are lamport
//! transfers from the state account (the `SendValue` helper); those that
//! reach the ecrecover or sha256 precompile run its syscall here; and
//! `extcodesize`, which finds the account an address stands for.

use super::Bundle;
use super::Cx;
use super::facts::Precompile;
use crate::asm::{Alu, Asm, Cond as J, Label, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, Size};
use crate::exit;
use crate::layout;
use crate::runtime::{Helper, zero};
use chainlift_ir::entities::Value;
use chainlift_ir::inst::CallKind;

/// Enters the next frame (at `r6`, the caller's at `r9`), as a call or a
/// constructor does: past the frames, [`exit::CALL_DEPTH`]; a frame an
/// earlier call used is cleared past its fixed part, as far as that call
/// wrote (its slots, memory and stack: [`layout::MEM_BASE`]), since EVM
/// memory starts zeroed (the heap starts zeroed: a frame never used needs
/// nothing); then its depth and parent, no memory and no return data (nor
/// the caller's). `save`: scratch offsets of the caller's frame that keep
/// `r4` and `r5` across the clearing.
pub(super) fn enter_frame(a: &mut Asm, stride: u32, save: Option<(i16, i16)>) {
    a.ldx(Size::Dw, R0, R9, layout::DEPTH);
    let deep_ok = a.label();
    a.jmp_imm(J::Lt, R0, crate::bundle::FRAMES as i32 - 1, deep_ok);
    a.mov64(R0, exit::CALL_DEPTH);
    a.exit();
    a.bind(deep_ok);
    let (reused, set) = (a.label(), a.label());
    a.alu_imm(Alu::Add, R0, 1);
    a.mov64(R7, layout::HEAP_START);
    a.ldx(Size::Dw, R8, R7, layout::DEEPEST);
    a.jmp(J::Le, R0, R8, reused);
    // Deeper than any call so far: the frame was never used.
    a.stx(Size::Dw, R7, layout::DEEPEST, R0);
    a.ja(set);
    a.bind(reused);
    if let Some((r4, r5)) = save {
        a.stx(Size::Dw, R9, r4, R4);
        a.stx(Size::Dw, R9, r5, R5);
    }
    let within = a.label();
    a.ldx(Size::Dw, R3, R6, layout::MEM_BASE);
    a.ldx(Size::Dw, R0, R6, layout::MEM_SIZE);
    a.alu(Alu::Add, R3, R0);
    a.jmp_imm(J::Le, R3, stride as i32, within);
    a.mov64(R3, u64::from(stride));
    a.bind(within);
    a.alu_imm(Alu::Sub, R3, layout::BUNDLE_FIXED_END as i32);
    a.mov(R1, R6);
    a.alu_imm(Alu::Add, R1, layout::BUNDLE_FIXED_END as i32);
    a.mov64(R2, 0);
    a.syscall("sol_memset_");
    if let Some((r4, r5)) = save {
        a.ldx(Size::Dw, R4, R9, r4);
        a.ldx(Size::Dw, R5, R9, r5);
    }
    a.ldx(Size::Dw, R0, R9, layout::DEPTH);
    a.alu_imm(Alu::Add, R0, 1);
    a.bind(set);
    a.stx(Size::Dw, R6, layout::DEPTH, R0);
    a.stx(Size::Dw, R6, layout::PARENT, R9);
    a.st(Size::Dw, R6, layout::MEM_SIZE, 0);
    a.st(Size::Dw, R6, layout::RETURN_DATA_LEN, 0);
    a.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 0);
}

/// Runs the code id in `r1` in the next frame (at `r6`, entered), then
/// back in the caller's: success goes to `ok`; a revert or a halt (which
/// leaves no return data) is undone from the journal back to the frame's
/// mark, its held records dropped, and falls through; any other exit
/// code ends the program with it.
pub(super) fn run_frame(a: &mut Asm, b: super::Bundle, ok: Label, undo: Label, logs_at: u64) {
    let (failed, halted) = (a.label(), a.label());
    if b.calls_out {
        a.mov64(R0, layout::HEAP_START);
        a.ldx(Size::Dw, R0, R0, layout::CALLS_OUT);
        a.stx(Size::Dw, R6, layout::CALLS_OUT_MARK, R0);
    }
    a.mov(R9, R6);
    a.call(b.dispatch);
    // r6..r9 are back as they were at the call: the caller's frame.
    a.alu_imm(Alu::Sub, R9, b.stride as i32);
    a.jmp_imm(J::Eq, R0, exit::SUCCESS as i32, ok);
    a.jmp_imm(J::Eq, R0, exit::REVERT as i32, failed);
    a.jmp_imm(J::Eq, R0, exit::HALT as i32, halted);
    a.exit();
    a.bind(halted);
    a.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 0);
    a.bind(failed);
    if b.calls_out {
        // A call out of the bundle cannot be undone.
        let kept = a.label();
        a.mov64(R0, layout::HEAP_START);
        a.ldx(Size::Dw, R0, R0, layout::CALLS_OUT);
        a.ldx(Size::Dw, R1, R6, layout::CALLS_OUT_MARK);
        a.jmp(J::Eq, R0, R1, kept);
        a.mov64(R0, exit::CALL_OUT_UNDONE);
        a.exit();
        a.bind(kept);
    }
    a.ldx(Size::Dw, R1, R6, layout::JOURNAL_MARK);
    a.call(undo);
    a.ldx(Size::Dw, R0, R6, layout::LOG_MARK);
    a.mov64(R1, logs_at);
    a.stx(Size::Dw, R1, 0, R0);
}

/// `[base + off] op= r8`: lamports the value of a call (`r8`) moves.
pub(super) fn lamports(a: &mut crate::asm::Asm, base: u8, off: i16, op: Alu) {
    a.ldx(Size::Dw, R0, base, off);
    a.alu(op, R0, R8);
    a.stx(Size::Dw, base, off, R0);
}

impl Cx<'_> {
    /// `d = call` or `staticcall` (`kind`) with `args` `[gas, address,
    /// (value,) input offset, input length, output offset, output
    /// length]`: a precompile's syscall, or a payment (nothing for a
    /// `staticcall`) into an account without code; `d` is 1 on success.
    pub(super) fn call_host(&mut self, kind: CallKind, args: &[Value], d: Value) {
        // gas, address, [value,] input offset and length, output
        // offset and length.
        let valued = matches!(kind, CallKind::Call | CallKind::CallCode);
        let io = &args[2 + usize::from(valued)..];
        if let Some(p) = self.precompiles.get(&d).copied() {
            self.precompile(p, io);
        } else if let Some(b) = self.bundle {
            return self.bundle_call(b, kind, args, io, d);
        } else {
            let short = self.afford(kind, args);
            self.ptr(R1, args[1]);
            if kind == CallKind::Call {
                self.ptr(R2, args[2]);
            } else {
                self.addr(R2, layout::ZERO);
            }
            self.call(Helper::SendValue);
            let fail = self.fail;
            self.asm.jmp_imm(J::Gt, R0, 1, fail);
            self.asm.bind(short);
            self.asm.alu_imm(Alu::Xor, R0, 1);
            if !self.precompiles.is_empty() {
                self.asm.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 0);
            }
        }
        self.set_word(d);
    }

    /// In a bundle, a call (`kind`, with `args` and its input and output
    /// ranges `io`): to an account of the bundle, the callee's code runs
    /// in the next frame ([`crate::bundle`]); to any other account, as
    /// outside a bundle. A failed call is undone (its value goes back, the
    /// storage and lamports it changed come back from the journal, its
    /// held records are dropped) and gives 0.
    fn bundle_call(&mut self, b: Bundle, kind: CallKind, args: &[Value], io: &[Value], d: Value) {
        let stride = b.stride as i32;
        let s = layout::SCRATCH;
        // The input range first (memory was expanded before the call).
        self.mem_range(io[0], io[1]);
        self.asm.stx(Size::Dw, R9, s + 256, R1);
        self.asm.stx(Size::Dw, R9, s + 264, R2);
        if kind == CallKind::Call && !self.consts.get(&args[2]).is_some_and(|v| v.is_zero()) {
            // Value in a static context is an exceptional halt.
            let (not_static, halt) = (self.asm.label(), self.halt);
            self.asm.ldx(Size::Dw, R0, R9, layout::STATIC);
            self.asm.jmp_imm(J::Eq, R0, 0, not_static);
            self.limb(R1, args[2], 0);
            self.asm.jmp_imm(J::Ne, R1, 0, halt);
            self.jmp_if_high(args[2], halt);
            self.asm.bind(not_static);
        }
        let out_done = self.call_out(kind, args);
        let short = self.afford(kind, args);
        self.ptr(R1, args[1]);
        if kind == CallKind::Call {
            self.ptr(R2, args[2]);
        } else {
            self.addr(R2, layout::ZERO);
        }
        self.call(Helper::SendValue);
        let journal = self.rt.label(&mut self.asm, Helper::Journal);
        let undo = self.rt.label(&mut self.asm, Helper::Undo);
        let flush = self.rt.label(&mut self.asm, Helper::FlushLogs);
        let journal_at = layout::HEAP_START + u64::from(b.journal_at);
        let logs_at = journal_at + u64::from(crate::bundle::JOURNAL);
        let (internal, done, fail) = (self.asm.label(), self.asm.label(), self.fail);
        let ok = self.asm.label();
        let a = &mut self.asm;
        a.jmp_imm(J::Eq, R0, crate::solana_rt::INTERNAL, internal);
        a.jmp_imm(J::Gt, R0, 1, fail);
        // Paid (or not) an account without code: no return data.
        a.bind(short);
        a.alu_imm(Alu::Xor, R0, 1);
        a.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 0);
        a.ja(done);
        // The callee's frame at r6: the account at r5, lamports in r4.
        a.bind(internal);
        // A contract whose constructor runs has no code yet: the call
        // succeeds with no return data, paying it the value.
        let has_code = a.label();
        a.ldx(Size::W, R0, R5, 88 + 4);
        a.mov64(R1, u64::from(super::create::CONSTRUCTING));
        a.jmp(J::Ne, R0, R1, has_code);
        if kind == CallKind::Call {
            let none = a.label();
            a.jmp_imm(J::Eq, R4, 0, none);
            a.mov(R8, R4);
            a.ldx(Size::Dw, R7, R9, layout::SELF_KEY);
            crate::solana_rt::journal_if_nested(a, journal, R7, 64, 8);
            crate::solana_rt::journal_if_nested(a, journal, R5, 72, 8);
            lamports(a, R7, 64, Alu::Sub);
            lamports(a, R5, 72, Alu::Add);
            a.bind(none);
        }
        a.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 0);
        a.mov64(R0, 1);
        a.ja(done);
        a.bind(has_code);
        a.mov(R6, R9);
        a.alu_imm(Alu::Add, R6, stride);
        enter_frame(a, b.stride, Some((s + 272, s + 280)));
        a.ldx(Size::Dw, R0, R9, layout::STATIC);
        if kind == CallKind::StaticCall {
            a.mov64(R0, 1);
        }
        a.stx(Size::Dw, R6, layout::STATIC, R0);
        a.ldx(Size::Dw, R0, R9, s + 256);
        a.stx(Size::Dw, R6, layout::CALLDATA_PTR, R0);
        a.ldx(Size::Dw, R0, R9, s + 264);
        a.stx(Size::Dw, R6, layout::CALLDATA_LEN, R0);
        if kind == CallKind::DelegateCall {
            // The caller's storage, address, caller and value.
            for g in [
                layout::STORAGE,
                layout::SELF_KEY,
                layout::CALLER_KEY,
                layout::VALUE,
                layout::SELF_ADDR,
                layout::CALLER_ADDR,
            ] {
                a.ldx(Size::Dw, R0, R9, g);
                a.stx(Size::Dw, R6, g, R0);
            }
            a.mov64(R8, 0);
        } else if kind == CallKind::CallCode {
            // The callee's code on the caller's storage and address, the
            // caller itself as `caller`; the value stays where it is.
            for g in [layout::STORAGE, layout::SELF_KEY] {
                a.ldx(Size::Dw, R0, R9, g);
                a.stx(Size::Dw, R6, g, R0);
            }
            a.stx(Size::Dw, R6, layout::CALLER_KEY, R0);
            a.ldx(Size::Dw, R0, R9, layout::SELF_ADDR);
            a.stx(Size::Dw, R6, layout::SELF_ADDR, R0);
            a.stx(Size::Dw, R6, layout::CALLER_ADDR, R0);
            a.ldx(Size::Dw, R0, R9, s + 288);
            a.stx(Size::Dw, R6, layout::VALUE, R0);
            a.mov64(R8, 0);
        } else {
            // Its table after the prefix of its data, which holds its
            // address.
            a.mov(R0, R5);
            a.alu_imm(Alu::Add, R0, 88);
            a.stx(Size::Dw, R6, layout::SELF_ADDR, R0);
            a.alu_imm(Alu::Add, R0, crate::storage::PREFIX as i32);
            a.stx(Size::Dw, R6, layout::STORAGE, R0);
            a.mov(R0, R5);
            a.alu_imm(Alu::Add, R0, 8);
            a.stx(Size::Dw, R6, layout::SELF_KEY, R0);
            a.ldx(Size::Dw, R0, R9, layout::SELF_KEY);
            a.stx(Size::Dw, R6, layout::CALLER_KEY, R0);
            a.ldx(Size::Dw, R0, R9, layout::SELF_ADDR);
            a.stx(Size::Dw, R6, layout::CALLER_ADDR, R0);
            a.stx(Size::Dw, R6, layout::VALUE, R4);
            // The value moves now (back if the call fails), journalled
            // for a caller that may fail itself.
            a.mov(R8, R4);
            let none = a.label();
            a.jmp_imm(J::Eq, R8, 0, none);
            a.ldx(Size::Dw, R7, R9, layout::SELF_KEY);
            crate::solana_rt::journal_if_nested(a, journal, R7, 64, 8);
            crate::solana_rt::journal_if_nested(a, journal, R5, 72, 8);
            lamports(a, R7, 64, Alu::Sub);
            lamports(a, R5, 72, Alu::Add);
            a.bind(none);
        }
        // The callee's own table, where a template reads its immutables
        // (also in a delegatecall or callcode).
        a.mov(R0, R5);
        a.alu_imm(Alu::Add, R0, 88 + crate::storage::PREFIX as i32);
        a.stx(Size::Dw, R6, layout::CODE_STORAGE, R0);
        // What a failure undoes and drops back to.
        for (at, mark) in [
            (journal_at, layout::JOURNAL_MARK),
            (logs_at, layout::LOG_MARK),
        ] {
            a.mov64(R0, at);
            a.ldx(Size::Dw, R0, R0, 0);
            a.stx(Size::Dw, R6, mark, R0);
        }
        // The callee's code id, from its account's prefix.
        a.ldx(Size::W, R1, R5, 88 + 4);
        run_frame(a, b, ok, undo, logs_at);
        if kind == CallKind::Call {
            let none = a.label();
            a.jmp_imm(J::Eq, R8, 0, none);
            a.ldx(Size::Dw, R7, R9, layout::SELF_KEY);
            lamports(a, R7, 64, Alu::Add);
            a.ldx(Size::Dw, R7, R6, layout::SELF_KEY);
            lamports(a, R7, 64, Alu::Sub);
            a.bind(none);
        }
        a.mov64(R0, 0);
        a.ja(done);
        a.bind(ok);
        // Back in the outermost frame, nothing can be undone any more, and
        // the held records are logged.
        let nested = a.label();
        a.ldx(Size::Dw, R0, R9, layout::DEPTH);
        a.jmp_imm(J::Ne, R0, 0, nested);
        a.mov64(R1, journal_at);
        a.st(Size::Dw, R1, 0, 0);
        a.call(flush);
        a.bind(nested);
        a.mov64(R0, 1);
        a.bind(done);
        a.bind(out_done);
        self.set_word(d);
        self.copy_out(io[2], io[3]);
    }

    /// A call to one of the system's contracts another program holds
    /// ([`crate::Target::outside`]), by its address (`args[1]`): a
    /// cross-program invocation ([`crate::solana_rt::call_out`]) that
    /// goes to the returned label with 1 in `r0`; `delegatecall`,
    /// `callcode` and a call with value end with [`exit::CALL_OUT`]. Any
    /// other address goes on.
    fn call_out(&mut self, kind: CallKind, args: &[Value]) -> Label {
        use crate::solana_rt::call_out::{ADDRESS, PROGRAM, STATIC};
        let done = self.asm.label();
        let outside = self.outside.clone();
        let fail = self.fail;
        let inside = self.outside_dispatch(args[1], |cx, k| {
            let o = &outside[k];
            if matches!(kind, CallKind::DelegateCall | CallKind::CallCode) {
                cx.asm.mov64(R0, exit::CALL_OUT);
                cx.asm.ja(fail);
                return;
            }
            if kind == CallKind::Call && !cx.consts.get(&args[2]).is_some_and(|v| v.is_zero()) {
                for k in 0..4 {
                    cx.limb(R1, args[2], k);
                    cx.asm.mov64(R0, exit::CALL_OUT);
                    cx.asm.jmp_imm(J::Ne, R1, 0, fail);
                }
            }
            // The address as 32 bytes ending in it, then the program's id.
            let mut key = [0u8; 32];
            key[12..].copy_from_slice(o.address.as_slice());
            for (at, bytes) in [(ADDRESS, &key), (PROGRAM, &o.program)] {
                for (k, word) in bytes.chunks(8).enumerate() {
                    let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
                    cx.asm.mov64(R0, word);
                    cx.asm.stx(Size::Dw, R9, at + 8 * k as i16, R0);
                }
            }
            if kind == CallKind::StaticCall {
                cx.asm.st(Size::Dw, R9, STATIC, 1);
            } else {
                cx.asm.ldx(Size::Dw, R0, R9, layout::STATIC);
                cx.asm.stx(Size::Dw, R9, STATIC, R0);
            }
            cx.call_checked(Helper::CallOut);
            cx.asm.mov64(R0, 1);
            cx.asm.ja(done);
        });
        self.asm.bind(inside);
        done
    }

    /// `callcode`'s value (`args[2]`) checked against the contract's
    /// balance before the callee's account is found, as the EVM does: a
    /// balance that is short goes to the returned label with 1 in `r0`,
    /// which the caller binds where 1 becomes the call's 0. The lamports
    /// go to scratch + 288 (the callee frame's value). For other calls the
    /// label is never jumped to.
    fn afford(&mut self, kind: CallKind, args: &[Value]) -> crate::asm::Label {
        let short = self.asm.label();
        if kind != CallKind::CallCode {
            return short;
        }
        let s = layout::SCRATCH;
        if self.consts.get(&args[2]).is_some_and(|v| v.is_zero()) {
            self.asm.st(Size::Dw, R9, s + 288, 0);
            return short;
        }
        self.ptr(R2, args[2]);
        self.call(Helper::Afford);
        let fail = self.fail;
        self.asm.jmp_imm(J::Gt, R0, 1, fail);
        self.asm.jmp_imm(J::Eq, R0, 1, short);
        self.asm.stx(Size::Dw, R9, s + 288, R4);
        short
    }

    /// `d = extcodesize address`, by the helper that finds the account.
    pub(super) fn ext_code_size(&mut self, address: Value, d: Value) {
        // A contract another program holds: its code's size, known at
        // translation.
        let outside = self.outside.clone();
        let done = self.asm.label();
        let inside = self.outside_dispatch(address, |cx, k| {
            cx.asm.mov64(R0, outside[k].code_size);
            cx.set_word(d);
            cx.asm.ja(done);
        });
        self.asm.bind(inside);
        self.ptr(R1, address);
        self.ptr(R2, d);
        self.call_checked(Helper::ExtCodeSize);
        self.asm.bind(done);
    }

    /// Compares `address` with each contract another program holds
    /// ([`crate::Target::outside`]): `each(cx, k)` is emitted for the
    /// `k`th, which must not fall through; the returned label, for any
    /// other address, must be bound after.
    fn outside_dispatch(
        &mut self,
        address: Value,
        mut each: impl FnMut(&mut Self, usize),
    ) -> Label {
        let inside = self.asm.label();
        if self.outside.is_empty() {
            return inside;
        }
        let outside = self.outside.clone();
        let targets: Vec<Label> = outside.iter().map(|_| self.asm.label()).collect();
        self.limb(R1, address, 0);
        self.limb(R2, address, 1);
        self.limb(R3, address, 2);
        self.asm.alu_imm(Alu::Lsh, R3, 32);
        self.asm.alu_imm(Alu::Rsh, R3, 32);
        for (o, l) in outside.iter().zip(&targets) {
            let limbs = alloy_primitives::U256::from_be_slice(o.address.as_slice());
            let other = self.asm.label();
            for (reg, limb) in [(R1, 0), (R2, 1), (R3, 2)] {
                self.asm.mov64(R0, limbs.as_limbs()[limb]);
                self.asm.jmp(J::Ne, reg, R0, other);
            }
            self.asm.ja(*l);
            self.asm.bind(other);
        }
        self.asm.ja(inside);
        for (k, l) in targets.iter().enumerate() {
            self.asm.bind(*l);
            each(self, k);
        }
        inside
    }

    /// A call to a precompile (`io`: input offset and length, output
    /// offset and length): the result into [`layout::RETURN_DATA`], its
    /// first bytes into the output range, success (1) in `r0`. As on the
    /// EVM, ecrecover answers nothing for a bad `v` or signature.
    fn precompile(&mut self, p: Precompile, io: &[Value]) {
        self.mem_range(io[0], io[1]);
        match p {
            Precompile::Sha256 => self.sha256(),
            Precompile::EcRecover => self.ecrecover(),
        }
        self.copy_out(io[2], io[3]);
        self.asm.mov64(R0, 1);
    }

    /// A call's output range (`offset`, `length`) takes the first
    /// min(length, return data) bytes of the return data.
    fn copy_out(&mut self, offset: Value, length: Value) {
        self.mem_range(offset, length);
        let a = &mut self.asm;
        let (fits, end) = (a.label(), a.label());
        a.ldx(Size::Dw, R3, R9, layout::RETURN_DATA_LEN);
        a.jmp(J::Le, R2, R3, fits);
        a.mov(R2, R3);
        a.bind(fits);
        a.jmp_imm(J::Eq, R2, 0, end);
        a.mov(R3, R2);
        self.addr(R2, self.ret_buf);
        self.asm.syscall("sol_memcpy_");
        self.asm.bind(end);
    }

    /// `sol_sha256` of the input range (at `r1`, `r2` bytes) into the
    /// return data.
    fn sha256(&mut self) {
        let s = layout::SCRATCH;
        let rd = self.ret_buf;
        self.asm.stx(Size::Dw, R9, s, R1);
        self.asm.stx(Size::Dw, R9, s + 8, R2);
        self.addr(R1, s);
        self.asm.mov64(R2, 1);
        self.addr(R3, rd);
        self.asm.syscall("sol_sha256");
        self.asm.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 32);
    }

    /// ecrecover of the input range (at `r1`, `r2` bytes; zero-padded to
    /// 128: hash, v, r, s): `sol_secp256k1_recover` with the recovery id
    /// `v - 27`, then the address from `sol_keccak256` of the key, into the
    /// return data. A `v` other than 27 or 28, or a signature the syscall
    /// refuses, answers nothing.
    fn ecrecover(&mut self) {
        let s = layout::SCRATCH;
        let rd = self.ret_buf;
        let a = &mut self.asm;
        let (short, copied, bad, done) = (a.label(), a.label(), a.label(), a.label());
        // The input, zero-padded to 128 bytes: hash, v, r, s.
        zero(a, R9, s, 16);
        a.jmp_imm(J::Le, R2, 128, short);
        a.mov64(R2, 128);
        a.bind(short);
        a.mov(R3, R2);
        a.jmp_imm(J::Eq, R3, 0, copied);
        a.mov(R2, R1);
        self.addr(R1, s);
        let a = &mut self.asm;
        a.syscall("sol_memcpy_");
        a.bind(copied);
        // v (big-endian) is 27 or 28; the recovery id in r2.
        for at in [32, 40, 48] {
            a.ldx(Size::Dw, R0, R9, s + at);
            a.jmp_imm(J::Ne, R0, 0, bad);
        }
        a.ldx(Size::Dw, R2, R9, s + 56);
        a.be64(R2);
        a.alu_imm(Alu::Sub, R2, 27);
        a.jmp_imm(J::Gt, R2, 1, bad);
        // The public key (64 bytes) at s + 128.
        self.addr(R1, s);
        self.addr(R3, s + 64);
        self.addr(R4, s + 128);
        let a = &mut self.asm;
        a.syscall("sol_secp256k1_recover");
        a.jmp_imm(J::Ne, R0, 0, bad);
        // The address: the key's keccak without its first 12 bytes.
        self.addr(R0, s + 128);
        self.asm.stx(Size::Dw, R9, s + 192, R0);
        self.asm.st(Size::Dw, R9, s + 200, 64);
        self.addr(R1, s + 192);
        self.asm.mov64(R2, 1);
        self.addr(R3, rd);
        let a = &mut self.asm;
        a.syscall("sol_keccak256");
        a.st(Size::Dw, R9, rd, 0);
        a.st(Size::W, R9, rd + 8, 0);
        a.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 32);
        a.ja(done);
        a.bind(bad);
        a.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 0);
        a.bind(done);
    }
}
