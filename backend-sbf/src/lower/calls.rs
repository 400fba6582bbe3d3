//! Calls: `call` and `staticcall` into accounts without code are lamport
//! transfers from the state account (the `SendValue` helper); those that
//! reach the ecrecover or sha256 precompile run its syscall here; and
//! `extcodesize`, which finds the account an address stands for.

use super::Cx;
use super::facts::Precompile;
use crate::asm::{Alu, Cond as J, R0, R1, R2, R3, R4, R9, Size};
use crate::layout;
use crate::runtime::{Helper, zero};
use chainlift_ir::entities::Value;
use chainlift_ir::inst::CallKind;

impl Cx<'_> {
    /// `d = call` or `staticcall` (`kind`) with `args` `[gas, address,
    /// (value,) input offset, input length, output offset, output
    /// length]`: a precompile's syscall, or a payment (nothing for a
    /// `staticcall`) into an account without code; `d` is 1 on success.
    pub(super) fn call_host(&mut self, kind: CallKind, args: &[Value], d: Value) {
        // gas, address, [value,] input offset and length, output
        // offset and length.
        let io = &args[2 + usize::from(kind == CallKind::Call)..];
        if let Some(p) = self.precompiles.get(&d).copied() {
            self.precompile(p, io);
        } else {
            self.ptr(R1, args[1]);
            if kind == CallKind::Call {
                self.ptr(R2, args[2]);
            } else {
                self.addr(R2, layout::ZERO);
            }
            self.call(Helper::SendValue);
            let fail = self.fail;
            self.asm.jmp_imm(J::Gt, R0, 1, fail);
            self.asm.alu_imm(Alu::Xor, R0, 1);
            if !self.precompiles.is_empty() {
                self.asm.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 0);
            }
        }
        self.set_word(d);
    }

    /// `d = extcodesize address`, by the helper that finds the account.
    pub(super) fn ext_code_size(&mut self, address: Value, d: Value) {
        self.ptr(R1, address);
        self.ptr(R2, d);
        self.call_checked(Helper::ExtCodeSize);
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
        // The output: the first min(length, return data) bytes.
        self.mem_range(io[2], io[3]);
        let a = &mut self.asm;
        let (fits, end) = (a.label(), a.label());
        a.ldx(Size::Dw, R3, R9, layout::RETURN_DATA_LEN);
        a.jmp(J::Le, R2, R3, fits);
        a.mov(R2, R3);
        a.bind(fits);
        a.jmp_imm(J::Eq, R2, 0, end);
        a.mov(R3, R2);
        self.addr(R2, layout::RETURN_DATA);
        self.asm.syscall("sol_memcpy_");
        self.asm.bind(end);
        self.asm.mov64(R0, 1);
    }

    /// `sol_sha256` of the input range (at `r1`, `r2` bytes) into the
    /// return data.
    fn sha256(&mut self) {
        let s = layout::SCRATCH;
        let rd = layout::RETURN_DATA;
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
        let rd = layout::RETURN_DATA;
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
