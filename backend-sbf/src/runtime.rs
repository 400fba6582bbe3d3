//! Helpers emitted once per program, as internal functions.
//!
//! Arguments are pointers to 256-bit values (four little-endian limbs) in
//! `r1`..`r5`; helpers that can fail return a status in `r0` (0 to go on,
//! else an [`crate::exit`] code the caller exits with). A helper's scratch
//! lives in its own 4 KiB stack frame below `r10`; `r6`..`r9` are restored
//! by the VM when it returns, so `r9` (the heap) is still valid on entry.
//! Results are written after the operands are read, so a result may alias
//! an operand.
//!
//! This module holds the registry ([`Helper`], [`Runtime`]) and the limb
//! moves every helper uses; the bodies are in [`arith`] (multiplication,
//! negation, leading zeros, exponentiation, shifts), [`div`] (long, unsigned
//! and signed division, `addmod` and `mulmod`) and [`memory`] (memory
//! expansion, calldata loads, copies into memory). The helpers that are
//! Solana glue rather than 256-bit arithmetic (storage tables, lamport
//! transfers, account lookup) are in [`crate::solana_rt`].

mod arith;
mod div;
mod memory;

use crate::asm::{Alu, Asm, Label, R0, R10, Reg, Size};
use crate::solana_rt;
use std::collections::HashMap;

/// The helpers, each emitted at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Helper {
    /// `(d, a, b)`: d = a * b mod 2^256.
    Mul,
    /// `(d, a, b)`: the 512-bit product into 64 bytes at d.
    Mul512,
    /// `(p)`: p = -p.
    Neg,
    /// `(num, limbs, den, quot, rem)`: long division of a `limbs` (4 or 8)
    /// limb number by a non-zero 256-bit one.
    LongDiv,
    /// `(q or 0, r or 0, a, b)`: unsigned quotient and remainder.
    DivMod,
    /// `(q or 0, r or 0, a, b)`: signed (rounding to zero).
    SDivMod,
    /// `(d, a, b, n)`.
    AddMod,
    /// `(d, a, b, n)`.
    MulMod,
    /// `(d, a, b)`: a ** b.
    Exp,
    /// `(d, a)`: leading zero bits.
    Clz,
    /// `(d, a, s)`.
    Shl,
    /// `(d, a, s)`.
    LShr,
    /// `(d, a, s)`.
    AShr,
    /// `(offset, len) -> status`: EVM memory expansion.
    MemExpand,
    /// `(d, key, table)`.
    TableLoad,
    /// `(key, value, table, full code) -> status`.
    TableStore,
    /// `(first table, end, last table) -> status`: one more extension for
    /// a full storage table (see [`crate::solana_rt::grow`]).
    Grow,
    /// `(d, offset)`.
    CallDataLoad,
    /// `(mem offset, source offset, len, source, source len) -> status`:
    /// copy with zeros past the source's end.
    CopyIn,
    /// `(to, value) -> status`: a call with value into an account without
    /// code. 0: paid; 1: the balance is short (the call fails); in a
    /// bundle, [`crate::solana_rt::INTERNAL`] for an account of the bundle
    /// (its start in `r5`, the lamports in `r4`), paid by the caller; else
    /// an exit code ([`crate::exit::VALUE_NOT_LAMPORTS`],
    /// [`crate::exit::CALL_INTO_CODE`], [`crate::exit::RECIPIENT_RENT`],
    /// [`crate::exit::ACCOUNT_NEEDED`]).
    SendValue,
    /// `(-, value) -> status`: whether the contract's balance covers the
    /// value in whole lamports (`callcode`'s check, which moves nothing):
    /// 0 with the lamports in `r4`, 1 when the balance is short, else
    /// [`crate::exit::VALUE_NOT_LAMPORTS`].
    Afford,
    /// `(address, d) -> status`: d = the code size of the account the
    /// address stands for: the contract's own, or 0 for an account without
    /// code (and a precompile). Else an exit code: an account with code
    /// whose EVM size is not known ([`crate::exit::CALL_INTO_CODE`]), or
    /// one that is not among the instruction's accounts
    /// ([`crate::exit::ACCOUNT_NEEDED`]).
    ExtCodeSize,
    /// `(address) -> status`: the address and size of the EVM code of the
    /// account the address stands for, at [`crate::layout::SCRATCH`]
    /// (see [`crate::solana_rt::code_of`]).
    CodeOf,
    /// `(address) -> status`: the lamports of the account the address
    /// stands for, at [`crate::layout::SCRATCH`]: all of them, the
    /// contract's own above its rent-exempt minimum, none for the zero
    /// address and the precompiles'. Else [`crate::exit::ACCOUNT_NEEDED`] for an account
    /// that is not among the instruction's accounts.
    Balance,
    /// `(beneficiary) -> status`: SELFDESTRUCT's transfer of the
    /// contract's balance (see [`crate::solana_rt::self_destruct`]).
    SelfDestruct,
    /// `(address, length) -> status`, in a bundle: records the bytes
    /// before they change (see [`crate::solana_rt::journal`]).
    Journal,
    /// `(mark)`, in a bundle: undoes the journal back to the mark (see
    /// [`crate::solana_rt::undo`]).
    Undo,
    /// `(slices, n) -> status`, in a bundle: a log record, held in a
    /// nested frame (see [`crate::solana_rt::log`]).
    Log,
    /// `()`, in a bundle: logs the held records (see
    /// [`crate::solana_rt::flush_logs`]).
    FlushLogs,
    /// `() -> status`, in a bundle: a call to a contract another program
    /// holds (see [`crate::solana_rt::call_out`]).
    CallOut,
}

/// The helpers a program uses, in the order they were first called (the
/// order they are emitted in), and what their bodies depend on.
#[derive(Debug)]
pub(crate) struct Runtime {
    labels: HashMap<Helper, Label>,
    order: Vec<Helper>,
    wei_per_lamport: i32,
    rent_per_byte: i32,
    code_len: u64,
    /// The helpers run in a bundle's frames ([`crate::bundle`]).
    bundle: bool,
    /// In a bundle, the journal's heap offset.
    journal_at: u32,
    /// In a bundle, how many contracts it has.
    contracts: u32,
}

/// `reg = r10 + off` (a stack address).
fn frame(a: &mut Asm, reg: Reg, off: i32) {
    a.mov(reg, R10);
    a.alu_imm(Alu::Add, reg, off);
}

/// Copies `limbs` limbs from `[src + soff]` to `[dst + doff]`, via r0.
pub(crate) fn copy_limbs(a: &mut Asm, limbs: i16, dst: Reg, doff: i16, src: Reg, soff: i16) {
    for k in 0..limbs {
        a.ldx(Size::Dw, R0, src, soff + 8 * k);
        a.stx(Size::Dw, dst, doff + 8 * k, R0);
    }
}

/// Zeroes `limbs` limbs.
pub(crate) fn zero(a: &mut Asm, dst: Reg, off: i16, limbs: i16) {
    for k in 0..limbs {
        a.st(Size::Dw, dst, off + 8 * k, 0);
    }
}

/// Reads the big-endian word at `[src + soff]` into the limbs at
/// `[dst + doff]`, via r0.
pub(crate) fn from_be(a: &mut Asm, dst: Reg, doff: i16, src: Reg, soff: i16) {
    for i in 0..4 {
        a.ldx(Size::Dw, R0, src, soff + 8 * (3 - i));
        a.be64(R0);
        a.stx(Size::Dw, dst, doff + 8 * i, R0);
    }
}

/// Writes the limbs at `[src + soff]` as a big-endian word at
/// `[dst + doff]`, via r0.
pub(crate) fn to_be(a: &mut Asm, dst: Reg, doff: i16, src: Reg, soff: i16) {
    for i in 0..4 {
        a.ldx(Size::Dw, R0, src, soff + 8 * i);
        a.be64(R0);
        a.stx(Size::Dw, dst, doff + 8 * (3 - i), R0);
    }
}

/// `reg = limb0 | limb1 | limb2 | limb3` of the value at `[src + off]`
/// (zero exactly when the value is), via r0.
pub(crate) fn or_limbs(a: &mut Asm, reg: Reg, src: Reg, off: i16) {
    a.ldx(Size::Dw, reg, src, off);
    for k in 1..4 {
        a.ldx(Size::Dw, R0, src, off + 8 * k);
        a.alu(Alu::Or, reg, R0);
    }
}

/// `reg = limb1 | limb2 | limb3` of the value at `[src + off]`, via r0.
fn upper(a: &mut Asm, reg: Reg, src: Reg, off: i16) {
    a.ldx(Size::Dw, reg, src, off + 8);
    a.ldx(Size::Dw, R0, src, off + 16);
    a.alu(Alu::Or, reg, R0);
    a.ldx(Size::Dw, R0, src, off + 24);
    a.alu(Alu::Or, reg, R0);
}

impl Runtime {
    /// No helpers yet, for a target of `wei_per_lamport` and
    /// `rent_per_byte` and a contract of `code_len` bytes of EVM code.
    pub(crate) fn new(
        wei_per_lamport: u32,
        rent_per_byte: u32,
        code_len: u64,
        bundle: Option<(u32, u32)>,
    ) -> Self {
        let (journal_at, contracts) = bundle.unwrap_or_default();
        Runtime {
            code_len,
            bundle: bundle.is_some(),
            journal_at,
            contracts,
            labels: HashMap::new(),
            order: vec![],
            wei_per_lamport: wei_per_lamport as i32,
            rent_per_byte: rent_per_byte as i32,
        }
    }

    /// The label of `h`, which [`Runtime::emit_all`] will emit.
    pub(crate) fn label(&mut self, a: &mut Asm, h: Helper) -> Label {
        if let Some(l) = self.labels.get(&h) {
            return *l;
        }
        let l = a.named(&format!("helper_{h:?}").to_lowercase());
        self.labels.insert(h, l);
        self.order.push(h);
        l
    }

    /// In a bundle, the journal helper's label.
    fn journal(&mut self, a: &mut Asm) -> Option<Label> {
        self.bundle.then(|| self.label(a, Helper::Journal))
    }

    /// Calls `h` from another helper.
    fn call(&mut self, a: &mut Asm, h: Helper) {
        let l = self.label(a, h);
        a.call(l);
    }

    /// Emits every helper used so far (and those they use).
    pub(crate) fn emit_all(&mut self, a: &mut Asm, mem_base: i16, mem_limit: u32) {
        let mut i = 0;
        while i < self.order.len() {
            let h = self.order[i];
            a.bind(self.labels[&h]);
            self.emit(a, h, mem_base, mem_limit as i32);
            i += 1;
        }
    }

    /// Emits the body of `h`. EVM memory starts at heap offset `mem_base`
    /// and may grow to `limit` bytes.
    fn emit(&mut self, a: &mut Asm, h: Helper, mem_base: i16, limit: i32) {
        match h {
            Helper::Mul => Self::mul_limbs(a, false),
            Helper::Mul512 => Self::mul_limbs(a, true),
            Helper::Neg => Self::neg(a),
            Helper::LongDiv => Self::long_div(a),
            Helper::SendValue => {
                let j = self.journal(a);
                solana_rt::send_value(a, self.wei_per_lamport, self.rent_per_byte, j)
            }
            Helper::Afford => {
                solana_rt::afford(a, self.wei_per_lamport, self.rent_per_byte, self.bundle)
            }
            Helper::ExtCodeSize | Helper::CodeOf => {
                let contracts = self.bundle.then_some(self.contracts);
                solana_rt::code_of(a, self.code_len, contracts, h == Helper::CodeOf)
            }
            Helper::Balance => solana_rt::balance(a, self.rent_per_byte, self.bundle),
            Helper::SelfDestruct => {
                let j = self.journal(a);
                solana_rt::self_destruct(a, self.rent_per_byte, j)
            }
            Helper::Journal => solana_rt::journal(a, self.journal_at),
            Helper::Undo => solana_rt::undo(a, self.journal_at),
            Helper::Log => solana_rt::log(a, self.journal_at + crate::bundle::JOURNAL),
            Helper::FlushLogs => solana_rt::flush_logs(a, self.journal_at + crate::bundle::JOURNAL),
            Helper::CallOut => {
                let flush = self.label(a, Helper::FlushLogs);
                solana_rt::call_out(a, flush)
            }
            Helper::DivMod => self.divmod(a),
            Helper::SDivMod => self.sdivmod(a),
            Helper::AddMod => self.addmod(a),
            Helper::MulMod => self.mulmod(a),
            Helper::Exp => self.exp(a),
            Helper::Clz => Self::clz(a),
            Helper::Shl | Helper::LShr | Helper::AShr => Self::shift(a, h),
            Helper::MemExpand => Self::mem_expand(a, limit),
            Helper::TableLoad | Helper::TableStore => {
                let j = if h == Helper::TableStore {
                    self.journal(a)
                } else {
                    None
                };
                let grow = (h == Helper::TableStore).then(|| self.label(a, Helper::Grow));
                solana_rt::table(a, j, grow)
            }
            Helper::Grow => {
                let at = self.bundle.then_some(self.journal_at);
                solana_rt::grow(a, self.rent_per_byte, at)
            }
            Helper::CallDataLoad => Self::calldata_load(a),
            Helper::CopyIn => Self::copy_in(a, mem_base, limit),
        }
    }
}
