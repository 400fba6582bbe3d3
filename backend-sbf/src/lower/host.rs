//! Host operations (see the crate doc for what each is on Solana), by
//! family: storage and transient storage (the table helpers), calldata and
//! code, the value and balance in wei, the caller's and the contract's
//! addresses, the clock, return data, logs, KECCAK256, the operations with
//! no mapping, and the exits. Calls and precompiles are in
//! [`super::calls`].

use super::{Cx, unsupported};
use crate::asm::{Alu, Cond as J, R0, R1, R2, R3, R4, R5, R9, Size};
use crate::runtime::{Helper, zero};
use crate::{Error, exit, layout};
use alloy_primitives::U256;
use chainlift_ir::entities::Value;
use chainlift_ir::inst::{ExitKind, HostOp, SourcePos};

/// Log data up to this many bytes is copied into the log record rather
/// than logged as a slice of its own (which costs 100 CU more).
const LOG_INLINE: u64 = 256;

impl Cx<'_> {
    /// Lowers host operation `h` with `args`, whose result is `res`.
    pub(super) fn host(
        &mut self,
        h: HostOp,
        args: &[Value],
        res: Option<Value>,
        pos: SourcePos,
    ) -> Result<(), Error> {
        let d =
            || res.ok_or_else(|| Error::Internal(format!("host.{} without a result", h.name())));
        let constructor = self.bundle.is_some_and(|b| b.constructor);
        match h {
            // Init code's calldata is empty on the EVM (a constructor frame's
            // calldata fields hold its code): reads give 0, copies zeros.
            HostOp::CallDataLoad | HostOp::CallDataSize if constructor => {
                let o = self.off(d()?);
                zero(&mut self.asm, R9, o, 4);
            }
            HostOp::CallDataCopy if constructor => {
                self.ptr(R1, args[0]);
                self.ptr(R2, args[1]);
                self.ptr(R3, args[2]);
                self.asm.mov64(R5, 0);
                self.call_checked(Helper::CopyIn);
            }
            HostOp::CodeSize if constructor => self.global_word(layout::CALLDATA_LEN, d()?),
            HostOp::CodeCopy if constructor => self.copy_in(true, args),
            HostOp::CodeCopy if !self.immutable_sites.is_empty() && self.over_immutables(args) => {
                // A template copying its code over an immutable, which
                // the program keeps in storage.
                self.asm.mov64(R0, exit::TEMPLATE_CODE);
                self.asm.exit();
            }
            HostOp::Create | HostOp::Create2 if self.bundle.is_some() => {
                self.create(h == HostOp::Create2, args, d()?)
            }
            HostOp::SLoad | HostOp::TLoad => self.table_load(h == HostOp::TLoad, args[0], d()?),
            HostOp::SStore | HostOp::TStore => {
                self.table_store(h == HostOp::TStore, args[0], args[1])
            }
            HostOp::CallDataLoad => self.calldata_load(args[0], d()?),
            HostOp::CallDataSize => self.global_word(layout::CALLDATA_LEN, d()?),
            HostOp::CallDataCopy | HostOp::CodeCopy => {
                self.copy_in(h == HostOp::CallDataCopy, args)
            }
            HostOp::CallValue => {
                self.asm.ldx(Size::Dw, R0, R9, layout::VALUE);
                self.set_wei(d()?);
            }
            HostOp::SelfBalance => {
                crate::solana_rt::self_lamports(&mut self.asm, R0, self.bundle.is_some());
                crate::solana_rt::above_rent(&mut self.asm, R0, R1, self.rent_per_byte as i32);
                self.set_wei(d()?);
            }
            HostOp::CodeSize | HostOp::ChainId => {
                // Constants at translation (see `Facts`): never lowered.
                return Err(Error::Internal(format!(
                    "host.{} at {pos} is a constant",
                    h.name()
                )));
            }
            HostOp::ReturnDataSize => self.global_word(layout::RETURN_DATA_LEN, d()?),
            HostOp::ReturnDataCopy => self.return_data_copy(args),
            HostOp::Origin if self.bundle.is_some() => {
                // The transaction's signer: the outermost frame's caller.
                self.asm.mov64(R1, layout::HEAP_START);
                self.asm.ldx(Size::Dw, R1, R1, layout::CALLER_KEY);
                self.address_at(d()?);
            }
            HostOp::Caller if self.bundle.is_some() => self.address_of(d()?, layout::CALLER_ADDR),
            HostOp::Address if self.bundle.is_some() => self.address_of(d()?, layout::SELF_ADDR),
            HostOp::Caller | HostOp::Origin => self.address_of(d()?, layout::CALLER_KEY),
            HostOp::Address => self.address_of(d()?, layout::SELF_KEY),
            HostOp::Number | HostOp::Timestamp => self.clock(h == HostOp::Number, d()?),
            HostOp::Log(n) => self.log(n as i16, args),
            HostOp::Keccak256 => self.keccak256(args, d()?),
            HostOp::ExtCodeSize => self.ext_code_size(args[0], d()?),
            HostOp::Balance => {
                self.ptr(R1, args[0]);
                self.call_checked(Helper::Balance);
                self.asm.ldx(Size::Dw, R0, R9, layout::SCRATCH);
                self.set_wei(d()?);
            }
            HostOp::Gas if res.is_some_and(|r| self.gas_limit_only.contains(&r)) => {
                // Only a call's gas limit, which calls into accounts without
                // code ignore.
            }
            HostOp::Call(kind) => self.call_host(kind, args, d()?),
            HostOp::ExtCodeCopy => {
                // The code's address and size, then a copy as `codecopy`.
                self.ptr(R1, args[0]);
                self.call_checked(Helper::CodeOf);
                self.ptr(R1, args[1]);
                self.ptr(R2, args[2]);
                self.ptr(R3, args[3]);
                self.asm.ldx(Size::Dw, R4, R9, layout::SCRATCH);
                self.asm.ldx(Size::Dw, R5, R9, layout::SCRATCH + 8);
                self.call_checked(Helper::CopyIn);
            }
            HostOp::ExtCodeHash
            | HostOp::Coinbase
            | HostOp::BaseFee
            | HostOp::BlobBaseFee
            | HostOp::BlobHash
            | HostOp::PrevRandao
            | HostOp::GasLimit
            | HostOp::GasPrice
            | HostOp::BlockHash
            | HostOp::Gas
            | HostOp::Create
            | HostOp::Create2 => return Err(unmapped(h, pos)),
        }
        Ok(())
    }

    /// `d = sload key` or, `transient`, `tload key`.
    fn table_load(&mut self, transient: bool, key: Value, d: Value) {
        self.key(R2, transient, key);
        self.ptr(R1, d);
        // A template's immutable: from the table of the account whose code
        // runs.
        let immutable = !transient
            && self
                .consts
                .get(&key)
                .is_some_and(|k| self.immutables.contains(k));
        if immutable {
            self.asm.ldx(Size::Dw, R3, R9, layout::CODE_STORAGE);
        } else {
            self.table(R3, transient);
        }
        self.call(Helper::TableLoad);
    }

    /// `sstore key, value` or, `transient`, `tstore key, value`; a full
    /// table ends the program with its target limit.
    fn table_store(&mut self, transient: bool, key: Value, value: Value) {
        self.change();
        self.key(R1, transient, key);
        self.ptr(R2, value);
        self.table(R3, transient);
        self.asm.mov64(
            R4,
            if transient {
                exit::TRANSIENT_FULL
            } else {
                exit::STORAGE_FULL
            },
        );
        self.call_checked(Helper::TableStore);
    }

    /// In a bundle, a change of state: a halt in a static context.
    /// (Stores and lamports are journalled by their helpers, logs held
    /// by [`Helper::Log`].)
    pub(super) fn change(&mut self) {
        if self.bundle.is_none() {
            return;
        }
        let halt = self.halt;
        self.asm.ldx(Size::Dw, R0, R9, layout::STATIC);
        self.asm.jmp_imm(J::Ne, R0, 0, halt);
    }

    /// Whether `codecopy` with `args` `[memory offset, code offset,
    /// length]` may copy a byte of an immutable's `PUSH31 key; SLOAD`
    /// (any copy whose range is not constant may).
    fn over_immutables(&self, args: &[Value]) -> bool {
        let known = |v: &Value| self.consts.get(v).and_then(|c| u64::try_from(*c).ok());
        let (Some(off), Some(len)) = (known(&args[1]), known(&args[2])) else {
            return true;
        };
        len != 0
            && self
                .immutable_sites
                .iter()
                .any(|s| off < s + 33 && off.saturating_add(len) > *s)
    }

    /// `reg = &key` for a table of storage, or of transient storage
    /// (`transient`). In a bundle every contract's transient storage is in
    /// the outermost frame's table: the outermost contract's under its
    /// keys, any other's under `keccak256(address ++ key)`. Uses `r0`..`r5`.
    fn key(&mut self, reg: u8, transient: bool, key: Value) {
        if !transient || self.bundle.is_none() {
            return self.ptr(reg, key);
        }
        let s = layout::SCRATCH;
        self.ptr(R4, key);
        let a = &mut self.asm;
        let own = a.label();
        a.ldx(Size::Dw, R0, R9, layout::SELF_ADDR);
        a.mov64(R5, layout::HEAP_START);
        a.ldx(Size::Dw, R5, R5, layout::SELF_ADDR);
        a.jmp(J::Eq, R0, R5, own);
        // The address (the last 20 of the 32 bytes at SELF_ADDR), then the
        // key big-endian.
        a.ldx(Size::W, R5, R0, 12);
        a.stx(Size::W, R9, s, R5);
        for k in 0..2 {
            a.ldx(Size::Dw, R5, R0, 16 + 8 * k);
            a.stx(Size::Dw, R9, s + 4 + 8 * k, R5);
        }
        for i in 0..4 {
            a.ldx(Size::Dw, R5, R4, 8 * (3 - i));
            a.be64(R5);
            a.stx(Size::Dw, R9, s + 20 + 8 * i, R5);
        }
        a.mov(R1, R9);
        a.alu_imm(Alu::Add, R1, s as i32);
        a.stx(Size::Dw, R9, s + 56, R1);
        a.st(Size::Dw, R9, s + 64, 52);
        a.alu_imm(Alu::Add, R1, 56);
        a.mov64(R2, 1);
        a.mov(R3, R9);
        a.alu_imm(Alu::Add, R3, s as i32 + 72);
        a.syscall("sol_keccak256");
        a.mov(R4, R9);
        a.alu_imm(Alu::Add, R4, s as i32 + 72);
        a.bind(own);
        a.mov(reg, R4);
    }

    /// `reg = the storage table` (persistent or transient; in a bundle
    /// the outermost frame's transient table).
    fn table(&mut self, reg: u8, transient: bool) {
        if transient && self.bundle.is_some() {
            self.asm
                .mov64(reg, layout::HEAP_START + layout::TRANSIENT as u64);
        } else if transient {
            self.addr(reg, layout::TRANSIENT);
        } else {
            self.asm.ldx(Size::Dw, reg, R9, layout::STORAGE);
        }
    }

    /// `d = calldataload offset`: four loads for a constant offset when
    /// the calldata is long enough, else the helper (which pads with
    /// zeros).
    fn calldata_load(&mut self, offset: Value, d: Value) {
        let (slow, done) = (self.asm.label(), self.asm.label());
        let inline = self
            .consts
            .get(&offset)
            .filter(|o| **o < U256::from(i16::MAX as u64 - 32))
            .map(|o| o.to::<u64>() as i16);
        if let Some(o) = inline {
            // A constant offset inside the calldata: four loads.
            self.asm.ldx(Size::Dw, R3, R9, layout::CALLDATA_LEN);
            self.asm.jmp_imm(J::Lt, R3, o as i32 + 32, slow);
            self.asm.ldx(Size::Dw, R4, R9, layout::CALLDATA_PTR);
            self.word_from_be(d, R4, o);
            self.asm.ja(done);
        }
        self.asm.bind(slow);
        self.ptr(R1, d);
        self.ptr(R2, offset);
        self.call(Helper::CallDataLoad);
        self.asm.bind(done);
    }

    /// `d = ` the `u64` global at heap offset `at` (the calldata's size,
    /// the return data's size).
    fn global_word(&mut self, at: i16, d: Value) {
        self.asm.ldx(Size::Dw, R0, R9, at);
        self.set_word(d);
    }

    /// `calldatacopy` (`calldata`) or `codecopy` with `args` `[memory
    /// offset, source offset, length]`: the copy helper, which fills past
    /// the source's end with zeros.
    fn copy_in(&mut self, calldata: bool, args: &[Value]) {
        self.ptr(R1, args[0]);
        self.ptr(R2, args[1]);
        self.ptr(R3, args[2]);
        if calldata {
            self.asm.ldx(Size::Dw, R4, R9, layout::CALLDATA_PTR);
            self.asm.ldx(Size::Dw, R5, R9, layout::CALLDATA_LEN);
        } else {
            let base = self.bundle.map_or(0, |b| b.rodata_base);
            self.asm.mov64(R4, crate::elf::RODATA_VADDR + base);
            self.asm.mov64(R5, self.code_len);
        }
        self.call_checked(Helper::CopyIn);
    }

    /// Stores `r0` lamports as the wei value `d` (`r0 * wei_per_lamport`,
    /// up to 95 bits).
    fn set_wei(&mut self, d: Value) {
        let w = self.wei_per_lamport as i32;
        if w == 1 {
            return self.set_word(d);
        }
        // Most calls bring nothing: store zero without multiplying.
        let (some, done) = (self.asm.label(), self.asm.label());
        self.asm.jmp_imm(J::Ne, R0, 0, some);
        let o = self.off(d);
        zero(&mut self.asm, R9, o, 4);
        self.asm.ja(done);
        self.asm.bind(some);
        let a = &mut self.asm;
        a.mov(R1, R0);
        a.alu_imm(Alu::Lsh, R1, 32);
        a.alu_imm(Alu::Rsh, R1, 32);
        a.alu_imm(Alu::Mul, R1, w);
        a.alu_imm(Alu::Rsh, R0, 32);
        a.alu_imm(Alu::Mul, R0, w);
        a.mov(R2, R0);
        a.alu_imm(Alu::Lsh, R2, 32);
        a.alu(Alu::Add, R1, R2);
        a.alu_imm(Alu::Rsh, R0, 32);
        let no_carry = a.label();
        a.jmp(J::Ge, R1, R2, no_carry);
        a.alu_imm(Alu::Add, R0, 1);
        a.bind(no_carry);
        self.set_limb(d, 0, R1);
        self.set_limb(d, 1, R0);
        zero(&mut self.asm, R9, o + 16, 2);
        self.asm.bind(done);
    }

    /// An address from the last 20 of the 32 bytes (a public key, or a
    /// bundle state account's prefix) at `[r9 + key]`.
    fn address_of(&mut self, d: Value, key: i16) {
        self.asm.ldx(Size::Dw, R1, R9, key);
        self.address_at(d);
    }

    /// An address from the last 20 bytes of the public key at `r1`.
    pub(super) fn address_at(&mut self, d: Value) {
        self.asm.ldx(Size::Dw, R0, R1, 24);
        self.asm.be64(R0);
        self.set_limb(d, 0, R0);
        self.asm.ldx(Size::Dw, R0, R1, 16);
        self.asm.be64(R0);
        self.set_limb(d, 1, R0);
        self.asm.ldx(Size::W, R0, R1, 12);
        self.asm.be(R0, 32);
        self.set_limb(d, 2, R0);
        self.asm.st(Size::Dw, R9, self.off(d) + 24, 0);
    }

    /// `d = number` (`number`) or `timestamp`: the Clock sysvar's slot or
    /// Unix timestamp.
    fn clock(&mut self, number: bool, d: Value) {
        self.addr(R1, layout::SCRATCH);
        self.asm.syscall("sol_get_clock_sysvar");
        let at = if number { 0 } else { 32 };
        self.asm.ldx(Size::Dw, R0, R9, layout::SCRATCH + at);
        self.set_word(d);
    }

    /// `returndatacopy` with `args` `[memory offset, offset, length]`. When
    /// no call reaches a precompile, the return data is always empty.
    fn return_data_copy(&mut self, args: &[Value]) {
        if self.precompiles.is_empty() && self.bundle.is_none() {
            // Nothing was returned to this program: any byte is past the end.
            let halt = self.halt;
            for v in [args[1], args[2]] {
                for i in 0..4 {
                    self.limb(R1, v, i);
                    self.asm.jmp_imm(J::Ne, R1, 0, halt);
                }
            }
            return;
        }
        // offset + length within the return data, else a halt.
        let (halt, end) = (self.halt, self.asm.label());
        for v in [args[1], args[2]] {
            self.jmp_if_high(v, halt);
        }
        self.limb(R3, args[1], 0);
        self.limb(R4, args[2], 0);
        self.asm.alu(Alu::Add, R4, R3);
        self.asm.jmp(J::Lt, R4, R3, halt);
        self.asm.ldx(Size::Dw, R0, R9, layout::RETURN_DATA_LEN);
        self.asm.jmp(J::Gt, R4, R0, halt);
        self.mem_range(args[0], args[2]);
        self.asm.jmp_imm(J::Eq, R2, 0, end);
        self.asm.mov(R3, R2);
        self.limb(R2, args[1], 0);
        self.asm.alu(Alu::Add, R2, R9);
        self.asm.alu_imm(Alu::Add, R2, self.ret_buf as i32);
        self.asm.syscall("sol_memcpy_");
        self.asm.bind(end);
    }

    /// `logN` with `args` `[offset, length, topics...]`: one
    /// `sol_log_data` record of a byte with the number of topics, the
    /// topics (big-endian) and the data. Short data of a constant length
    /// is copied behind the topics (one slice); other data up to
    /// [`LOG_INLINE`] bytes is copied with `sol_memcpy_`, longer data is a
    /// second slice (each slice costs 100 CU).
    fn log(&mut self, n: i16, args: &[Value]) {
        self.change();
        let slices = layout::SCRATCH;
        // Two slice descriptors, then the record (topics aligned); in a
        // bundle the emitting contract's address comes first.
        let address = if self.bundle.is_some() { 20 } else { 0 };
        let head = layout::SCRATCH + 63 - address;
        let topics = layout::SCRATCH + 64;
        let data = topics + 32 * n;
        if address != 0 {
            let a = &mut self.asm;
            a.ldx(Size::Dw, R1, R9, layout::SELF_ADDR);
            a.ldx(Size::W, R0, R1, 12);
            a.stx(Size::W, R9, head, R0);
            a.ldx(Size::Dw, R0, R1, 16);
            a.stx(Size::Dw, R9, head + 4, R0);
            a.ldx(Size::Dw, R0, R1, 24);
            a.stx(Size::Dw, R9, head + 12, R0);
        }
        self.asm.st(Size::B, R9, layout::SCRATCH + 63, n as i32);
        for t in 0..n {
            let v = args[2 + t as usize];
            self.word_to_be(v, R9, topics + 32 * t);
        }
        self.addr(R0, head);
        self.asm.stx(Size::Dw, R9, slices, R0);
        let inline = self
            .consts
            .get(&args[1])
            .filter(|l| **l <= U256::from(LOG_INLINE) && l.to::<u64>() % 8 == 0)
            .map(|l| l.to::<u64>() as i16);
        let head_len = address as i32 + 1 + 32 * n as i32;
        self.mem_range(args[0], args[1]);
        if let Some(len) = inline {
            for k in 0..len / 8 {
                self.asm.ldx(Size::Dw, R0, R1, 8 * k);
                self.asm.stx(Size::Dw, R9, data + 8 * k, R0);
            }
            self.asm.st(Size::Dw, R9, slices + 8, head_len + len as i32);
            self.asm.mov64(R2, 1);
        } else {
            // Short data is copied with sol_memcpy_ (10 CU).
            let (two, copied, log) = (self.asm.label(), self.asm.label(), self.asm.label());
            self.asm.jmp_imm(J::Gt, R2, LOG_INLINE as i32, two);
            self.asm.mov(R3, R2);
            self.asm.alu_imm(Alu::Add, R2, head_len);
            self.asm.stx(Size::Dw, R9, slices + 8, R2);
            self.asm.jmp_imm(J::Eq, R3, 0, copied);
            self.asm.mov(R2, R1);
            self.addr(R1, data);
            self.asm.syscall("sol_memcpy_");
            self.asm.bind(copied);
            self.asm.mov64(R2, 1);
            self.asm.ja(log);
            self.asm.bind(two);
            self.asm.st(Size::Dw, R9, slices + 8, head_len);
            self.asm.stx(Size::Dw, R9, slices + 16, R1);
            self.asm.stx(Size::Dw, R9, slices + 24, R2);
            self.asm.mov64(R2, 2);
            self.asm.bind(log);
        }
        self.addr(R1, slices);
        if self.bundle.is_some() {
            self.call_checked(Helper::Log);
        } else {
            self.asm.syscall("sol_log_data");
        }
    }

    /// `d = keccak256 offset, length` by `sol_keccak256` over the range.
    fn keccak256(&mut self, args: &[Value], d: Value) {
        let slices = layout::SCRATCH;
        self.mem_range(args[0], args[1]);
        self.asm.stx(Size::Dw, R9, slices, R1);
        self.asm.stx(Size::Dw, R9, slices + 8, R2);
        self.addr(R1, slices);
        self.asm.mov64(R2, 1);
        self.addr(R3, slices + 16);
        self.asm.syscall("sol_keccak256");
        self.word_from_be(d, R9, slices + 16);
    }

    /// Lowers an exit: STOP, RETURN or REVERT (the data through
    /// `sol_set_return_data`, at most 1,024 bytes), or SELFDESTRUCT (the
    /// balance moves to the beneficiary, then success).
    pub(super) fn exit(
        &mut self,
        kind: ExitKind,
        args: &[Value],
        pos: SourcePos,
    ) -> Result<(), Error> {
        match kind {
            ExitKind::Stop if self.bundle.is_some_and(|b| b.constructor) => {
                // A constructor that returns nothing: no code.
                self.asm.st(Size::Dw, R9, layout::CALLDATA_LEN, 0);
                self.asm.mov64(R0, exit::SUCCESS);
                self.asm.exit();
            }
            ExitKind::Stop => {
                self.asm.mov64(R0, exit::SUCCESS);
                self.asm.exit();
            }
            ExitKind::Return if self.bundle.is_some_and(|b| b.constructor) => {
                // The code it returns stays in its memory for the creator
                // (see `create`), where its calldata fields were.
                self.mem_range(args[0], args[1]);
                self.asm.stx(Size::Dw, R9, layout::CALLDATA_PTR, R1);
                self.asm.stx(Size::Dw, R9, layout::CALLDATA_LEN, R2);
                self.asm.mov64(R0, exit::SUCCESS);
                self.asm.exit();
            }
            ExitKind::Return | ExitKind::Revert => {
                let code = if kind == ExitKind::Return {
                    exit::SUCCESS
                } else {
                    exit::REVERT
                };
                let (skip, too_large) = (self.asm.label(), self.asm.label());
                self.mem_range(args[0], args[1]);
                if self.bundle.is_some() {
                    // A nested frame's data goes to its caller's frame.
                    let outermost = self.asm.label();
                    let a = &mut self.asm;
                    a.ldx(Size::Dw, R3, R9, layout::PARENT);
                    a.jmp_imm(J::Eq, R3, 0, outermost);
                    a.jmp_imm(J::Gt, R2, 1024, too_large);
                    a.stx(Size::Dw, R3, layout::RETURN_DATA_LEN, R2);
                    a.jmp_imm(J::Eq, R2, 0, skip);
                    a.mov(R4, R1);
                    a.mov(R1, R3);
                    a.alu_imm(Alu::Add, R1, self.ret_buf as i32);
                    a.mov(R3, R2);
                    a.mov(R2, R4);
                    a.syscall("sol_memcpy_");
                    a.ja(skip);
                    a.bind(outermost);
                }
                self.asm.jmp_imm(J::Eq, R2, 0, skip);
                self.asm.jmp_imm(J::Gt, R2, 1024, too_large);
                self.asm.syscall("sol_set_return_data");
                self.asm.bind(skip);
                self.asm.mov64(R0, code);
                self.asm.exit();
                self.asm.bind(too_large);
                self.asm.mov64(R0, exit::RETURN_TOO_LARGE);
                self.asm.exit();
            }
            ExitKind::SelfDestruct if self.bundle.is_some_and(|b| b.constructor) => {
                return Err(unsupported(
                    "exit.selfdestruct".into(),
                    pos,
                    "a constructor that destroys its contract has no mapping in a bundle",
                ));
            }
            ExitKind::SelfDestruct => {
                // The balance moves; the state account stays (EIP-6780).
                self.change();
                self.ptr(R1, args[0]);
                self.call_checked(Helper::SelfDestruct);
                self.asm.mov64(R0, exit::SUCCESS);
                self.asm.exit();
            }
        }
        Ok(())
    }
}

/// The error for a host operation with no mapping to Solana, which says
/// why.
fn unmapped(h: HostOp, pos: SourcePos) -> Error {
    let why = match h {
        HostOp::ExtCodeHash => "other contracts' code hashes are not known to a Solana program",
        HostOp::Coinbase
        | HostOp::BaseFee
        | HostOp::BlobBaseFee
        | HostOp::PrevRandao
        | HostOp::GasLimit
        | HostOp::GasPrice => {
            "this block or transaction field has no Solana source, and the target fixes no constant for it"
        }
        HostOp::BlobHash | HostOp::BlockHash => {
            "earlier blocks' and blobs' hashes have no Solana source"
        }
        HostOp::Gas => {
            "Solana meters compute units, not EVM gas, and the target fixes no constant for `gasleft()`"
        }
        _ => {
            "contract creation runs in a bundle only (`translate --deploy` of a scenario: the program holds the init code its contracts create)"
        }
    };
    unsupported(format!("host.{}", h.name()), pos, why)
}
