//! IR → SBF instructions: value slots, then one pass over the blocks.
//!
//! Every IR value lives in a 32-byte heap slot (`[r9 + offset]`); a 256-bit
//! value is four little-endian 64-bit limbs, a narrower one a zero-extended
//! `u64`. Slots are assigned by a linear scan over live ranges, so values
//! whose ranges do not meet share a slot; a result never shares with its
//! own operands. Instructions load limbs into registers, compute and store
//! back. Block arguments are parallel copies into the target's parameter
//! slots (through a buffer when a destination is also a source).

use crate::asm::{Alu, Asm, Cond as J, Label, R0, R1, R2, R3, R4, R5, R9, Size};
use crate::runtime::{Helper, Runtime, copy_limbs, zero};
use crate::{Error, Program, Target, elf, exit, layout};
use alloy_primitives::U256;
use chainlift_ir::entities::{Block, Value};
use chainlift_ir::function::{Function, Module};
use chainlift_ir::inst::{CallKind, ExitKind, HostOp, SourcePos};
use chainlift_ir::types::Type;
use entry::{initial_entries, initial_offset};
use facts::{Facts, Precompile};
use slots::{CONST_SLOTS, Frame, SLOT, allocate};
use std::collections::{HashMap, HashSet};

mod arith;
mod edges;
mod entry;
mod facts;
mod inst;
mod memory;
mod slots;

/// Translates the module: checks that it is one EVM contract and that the
/// target is sound, gathers the facts, allocates slots, emits the program
/// and writes the ELF.
pub(crate) fn lower(module: &Module, code: &[u8], target: &Target) -> Result<Program, Error> {
    let f = contract(module)?;
    check_target(target)?;
    let facts = Facts::gather(f, code, target);
    let (slot_of, slots) = allocate(f, &facts.consts);
    let frame = Frame::new(slots, facts.max_params, target.heap_size)?;
    let mut cx = Cx::new(f, code, target, facts, slot_of, &frame);
    cx.function()?;
    let (text, listing) = cx.asm.finish()?;
    let instructions = text.len() / 8;
    // Read-only data: the EVM code, then the initial storage entries.
    let mut rodata = code.to_vec();
    rodata.resize(initial_offset(code.len() as u64) as usize, 0);
    rodata.extend_from_slice(&cx.initial);
    Ok(Program {
        elf: elf::write(&rodata, &text, 0),
        listing,
        instructions,
        memory_limit: frame.mem_limit,
    })
}

/// The module's one function, which must take no parameters and have a
/// block: an EVM contract.
fn contract(module: &Module) -> Result<&Function, Error> {
    let [f] = module.functions.as_slice() else {
        return Err(Error::Unsupported {
            what: format!("a module of {} functions", module.functions.len()),
            pos: SourcePos::None,
            why: "backend-sbf translates single-function modules (EVM contracts)",
        });
    };
    if !f.params.is_empty() || f.entry().is_none() {
        return Err(Error::Internal(
            "the entry function must take no parameters and have a block".into(),
        ));
    }
    Ok(f)
}

/// The target's amounts must fit a sign-extended 32-bit immediate.
fn check_target(target: &Target) -> Result<(), Error> {
    for (name, v) in [
        ("wei_per_lamport", target.wei_per_lamport),
        ("rent_per_byte", target.rent_per_byte),
    ] {
        if v == 0 || v > i32::MAX as u32 {
            return Err(Error::TargetLimit {
                what: format!("{name} {v} is not in 1..=2^31-1"),
            });
        }
    }
    Ok(())
}

struct Cx<'a> {
    asm: Asm,
    f: &'a Function,
    slot_of: Vec<u32>,
    slot_base: usize,
    copy_buf: usize,
    const_buf: usize,
    const_next: usize,
    mem_base: i16,
    mem_limit: u32,
    uses: Vec<u32>,
    consts: HashMap<Value, U256>,
    /// An upper bound on each value's significant bits
    /// ([`facts::bit_widths`]).
    bits: Vec<u16>,
    blocks: HashMap<Block, Label>,
    rt: Runtime,
    code_len: u64,
    halt: Label,
    fail: Label,
    memory_limit: Label,
    /// `(offset, len)` of the `mem.expand`s done so far in the current
    /// block, non-zero lengths only. Memory never shrinks, so a range one
    /// of them covers needs no check.
    expanded: Vec<(Value, Value)>,
    /// Results of `host.gas` used only as a call's gas limit, which the
    /// program ignores: they are never computed.
    gas_limit_only: HashSet<Value>,
    /// The calls (by their result) that reach a precompile. When there is
    /// one, `returndatasize` and `returndatacopy` read
    /// [`layout::RETURN_DATA`]; else the return data is always empty.
    precompiles: HashMap<Value, Precompile>,
    /// The initial storage: 64-byte entries (key, value; little-endian
    /// limbs), kept after the EVM code in the read-only data.
    initial: Vec<u8>,
    wei_per_lamport: u32,
    rent_per_byte: u32,
}

/// Log data up to this many bytes is copied into the log record rather
/// than logged as a slice of its own (which costs 100 CU more).
const LOG_INLINE: u64 = 256;

fn unsupported(what: String, pos: SourcePos, why: &'static str) -> Error {
    Error::Unsupported { what, pos, why }
}

impl Cx<'_> {
    /// The context for `f`, before anything is emitted: the shared exits'
    /// labels and the blocks' labels.
    fn new<'a>(
        f: &'a Function,
        code: &[u8],
        target: &Target,
        facts: Facts,
        slot_of: Vec<u32>,
        frame: &Frame,
    ) -> Cx<'a> {
        let mut asm = Asm::default();
        let halt = asm.named("halt");
        let fail = asm.named("fail_with_r0");
        let memory_limit = asm.named("memory_limit");
        let mut blocks = HashMap::new();
        for b in &f.layout {
            blocks.insert(*b, asm.named(&format!("block{}", b.index())));
        }
        Cx {
            asm,
            f,
            slot_of,
            slot_base: frame.slot_base,
            copy_buf: frame.copy_buf,
            const_buf: frame.const_buf,
            const_next: 0,
            mem_base: frame.mem_base as i16,
            mem_limit: frame.mem_limit,
            uses: facts.uses,
            bits: facts.bits,
            consts: facts.consts,
            precompiles: facts.precompiles,
            gas_limit_only: facts.gas_limit_only,
            wei_per_lamport: target.wei_per_lamport,
            rent_per_byte: target.rent_per_byte,
            blocks,
            rt: Runtime::new(
                target.wei_per_lamport,
                target.rent_per_byte,
                code.len() as u64,
            ),
            code_len: code.len() as u64,
            initial: initial_entries(&target.initial_storage),
            halt,
            fail,
            memory_limit,
            expanded: vec![],
        }
    }

    /// Emits the whole program: the entry, the blocks in layout order, the
    /// shared exits, then the runtime helpers the blocks called.
    fn function(&mut self) -> Result<(), Error> {
        self.entry();
        let f = self.f;
        for (i, b) in f.layout.iter().enumerate() {
            let next = f.layout.get(i + 1).copied();
            self.block(*b, next)?;
        }
        self.stubs();
        self.rt
            .emit_all(&mut self.asm, self.mem_base, self.mem_limit);
        Ok(())
    }
    /// The heap offset of `v`'s slot.
    fn off(&self, v: Value) -> i16 {
        (self.slot_base + SLOT * self.slot_of[v.index()] as usize) as i16
    }

    fn ty(&self, v: Value) -> Type {
        self.f.ty(v)
    }

    /// The heap offset where `v` can be read: its slot, or for a constant
    /// a scratch slot it is written to now.
    fn src(&mut self, v: Value) -> i16 {
        match self.consts.get(&v).copied() {
            Some(c) => {
                let o = (self.const_buf + SLOT * (self.const_next % CONST_SLOTS)) as i16;
                self.const_next += 1;
                self.store_const_at(o, self.ty(v), c);
                o
            }
            None => self.off(v),
        }
    }

    /// `reg = &slot(v)` (constants written to a scratch slot first).
    fn ptr(&mut self, reg: u8, v: Value) {
        let o = self.src(v);
        self.addr(reg, o);
    }

    /// `reg = r9 + offset`.
    fn addr(&mut self, reg: u8, offset: i16) {
        self.asm.mov(reg, R9);
        self.asm.alu_imm(Alu::Add, reg, offset as i32);
    }

    fn limb(&mut self, reg: u8, v: Value, i: i16) {
        if let Some(c) = self.consts.get(&v) {
            let l = c.as_limbs()[i as usize];
            self.asm.mov64(reg, l);
            return;
        }
        let o = self.off(v);
        self.asm.ldx(Size::Dw, reg, R9, o + 8 * i);
    }

    /// `if limb i of a (in reg) cond limb i of b goto l`, with the limb of a
    /// constant b as an immediate when it fits.
    fn jmp_limb(&mut self, cond: J, reg: u8, b: Value, i: i16, l: Label) {
        if let Some(imm) = self.imm_limb(b, i) {
            self.asm.jmp_imm(cond, reg, imm, l);
        } else {
            self.limb(R2, b, i);
            self.asm.jmp(cond, reg, R2, l);
        }
    }

    /// Limb i of a constant, when it fits a sign-extended immediate.
    fn imm_limb(&self, v: Value, i: i16) -> Option<i32> {
        let limb = self.consts.get(&v)?.as_limbs()[i as usize];
        i32::try_from(limb as i64).ok()
    }

    fn set_limb(&mut self, v: Value, i: i16, reg: u8) {
        let o = self.off(v);
        self.asm.stx(Size::Dw, R9, o + 8 * i, reg);
    }

    /// Writes a constant of type `ty` at heap offset `o`.
    fn store_const_at(&mut self, o: i16, ty: Type, c: U256) {
        let limbs = if ty == Type::I256 { 4 } else { 1 };
        for (i, l) in c.as_limbs().iter().take(limbs).enumerate() {
            let at = o + 8 * i as i16;
            if let Ok(imm) = i32::try_from(*l as i64) {
                self.asm.st(Size::Dw, R9, at, imm);
            } else {
                self.asm.mov64(R0, *l);
                self.asm.stx(Size::Dw, R9, at, R0);
            }
        }
    }

    /// Jumps to `l` if any of limbs 1..3 of `v` is non-zero (nothing to do
    /// when the value is known to fit 64 bits). Uses r1 and r5.
    fn jmp_if_high(&mut self, v: Value, l: Label) {
        if self.bits[v.index()] > 64 {
            self.upper_or(R1, v);
            self.asm.jmp_imm(J::Ne, R1, 0, l);
        }
    }

    /// How many low limbs of `v` may be non-zero (at least one).
    fn limbs(&self, v: Value) -> i16 {
        (self.bits[v.index()].div_ceil(64)).clamp(1, 4) as i16
    }

    /// `reg` = the or of limbs 1..3 of `v`, using r5.
    fn upper_or(&mut self, reg: u8, v: Value) {
        self.limb(reg, v, 1);
        self.limb(R5, v, 2);
        self.asm.alu(Alu::Or, reg, R5);
        self.limb(R5, v, 3);
        self.asm.alu(Alu::Or, reg, R5);
    }

    /// Masks `reg` to the width of `ty` (no-op for 64 bits and up).
    fn mask(&mut self, reg: u8, ty: Type) {
        match ty.bits() {
            1 => self.asm.alu_imm(Alu::And, reg, 1),
            8 => self.asm.alu_imm(Alu::And, reg, 0xff),
            32 => {
                self.asm.alu_imm(Alu::Lsh, reg, 32);
                self.asm.alu_imm(Alu::Rsh, reg, 32);
            }
            _ => {}
        }
    }

    /// Sign-extends `reg` from the width of `ty` to 64 bits.
    fn sext(&mut self, reg: u8, ty: Type) {
        let bits = ty.bits();
        if bits < 64 {
            self.asm.alu_imm(Alu::Lsh, reg, 64 - bits as i32);
            self.asm.alu_imm(Alu::Arsh, reg, 64 - bits as i32);
        }
    }

    fn copy(&mut self, dst: i16, src: i16, ty: Type) {
        let limbs = if ty == Type::I256 { 4 } else { 1 };
        copy_limbs(&mut self.asm, limbs, R9, dst, R9, src);
    }

    fn call(&mut self, h: Helper) {
        let l = self.rt.label(&mut self.asm, h);
        self.asm.call(l);
    }

    /// Calls a helper that returns a status in r0 (0 to go on).
    fn call_checked(&mut self, h: Helper) {
        self.call(h);
        let fail = self.fail;
        self.asm.jmp_imm(J::Ne, R0, 0, fail);
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

    /// An address from the last 20 bytes of the public key at `[r9 + key]`.
    fn address_of(&mut self, d: Value, key: i16) {
        self.asm.ldx(Size::Dw, R1, R9, key);
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

    /// Stores a u64 in `r0` as the value `d` (upper limbs zero).
    fn set_word(&mut self, d: Value) {
        self.set_limb(d, 0, R0);
        if self.ty(d) == Type::I256 {
            let o = self.off(d);
            zero(&mut self.asm, R9, o + 8, 3);
        }
    }

    fn host(
        &mut self,
        h: HostOp,
        args: &[Value],
        res: Option<Value>,
        pos: SourcePos,
    ) -> Result<(), Error> {
        let d =
            || res.ok_or_else(|| Error::Internal(format!("host.{} without a result", h.name())));
        match h {
            HostOp::SLoad | HostOp::TLoad => {
                let d = d()?;
                self.ptr(R1, d);
                self.ptr(R2, args[0]);
                self.table(R3, h == HostOp::TLoad);
                self.call(Helper::TableLoad);
            }
            HostOp::SStore | HostOp::TStore => {
                self.ptr(R1, args[0]);
                self.ptr(R2, args[1]);
                self.table(R3, h == HostOp::TStore);
                self.asm.mov64(
                    R4,
                    if h == HostOp::TStore {
                        exit::TRANSIENT_FULL
                    } else {
                        exit::STORAGE_FULL
                    },
                );
                self.call_checked(Helper::TableStore);
            }
            HostOp::CallDataLoad => {
                let d = d()?;
                let (slow, done) = (self.asm.label(), self.asm.label());
                let inline = self
                    .consts
                    .get(&args[0])
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
                self.ptr(R2, args[0]);
                self.call(Helper::CallDataLoad);
                self.asm.bind(done);
            }
            HostOp::CallDataSize => {
                self.asm.ldx(Size::Dw, R0, R9, layout::CALLDATA_LEN);
                self.set_word(d()?);
            }
            HostOp::CallDataCopy | HostOp::CodeCopy => {
                self.ptr(R1, args[0]);
                self.ptr(R2, args[1]);
                self.ptr(R3, args[2]);
                if h == HostOp::CallDataCopy {
                    self.asm.ldx(Size::Dw, R4, R9, layout::CALLDATA_PTR);
                    self.asm.ldx(Size::Dw, R5, R9, layout::CALLDATA_LEN);
                } else {
                    self.asm.mov64(R4, crate::elf::RODATA_VADDR);
                    self.asm.mov64(R5, self.code_len);
                }
                self.call_checked(Helper::CopyIn);
            }
            HostOp::CallValue => {
                self.asm.ldx(Size::Dw, R0, R9, layout::VALUE);
                self.set_wei(d()?);
            }
            HostOp::SelfBalance => {
                self.asm.mov64(R0, layout::STATE_LAMPORTS_ADDR);
                crate::solana_rt::above_rent(&mut self.asm, R0, R1, self.rent_per_byte as i32);
                self.set_wei(d()?);
            }
            HostOp::CodeSize | HostOp::ChainId => {
                // Constants at translation (see `lower`): never lowered.
                return Err(Error::Internal(format!(
                    "host.{} at {pos} is a constant",
                    h.name()
                )));
            }
            HostOp::ReturnDataSize => {
                self.asm.ldx(Size::Dw, R0, R9, layout::RETURN_DATA_LEN);
                self.set_word(d()?);
            }
            HostOp::ReturnDataCopy if !self.precompiles.is_empty() => {
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
                self.asm.alu_imm(Alu::Add, R2, layout::RETURN_DATA as i32);
                self.asm.syscall("sol_memcpy_");
                self.asm.bind(end);
            }
            HostOp::ReturnDataCopy => {
                // Nothing was returned to this program: any byte is past the end.
                let halt = self.halt;
                for v in [args[1], args[2]] {
                    for i in 0..4 {
                        self.limb(R1, v, i);
                        self.asm.jmp_imm(J::Ne, R1, 0, halt);
                    }
                }
            }
            HostOp::Caller | HostOp::Origin => self.address_of(d()?, layout::CALLER_KEY),
            HostOp::Address => self.address_of(d()?, layout::SELF_KEY),
            HostOp::Number | HostOp::Timestamp => {
                self.addr(R1, layout::SCRATCH);
                self.asm.syscall("sol_get_clock_sysvar");
                let at = if h == HostOp::Number { 0 } else { 32 };
                self.asm.ldx(Size::Dw, R0, R9, layout::SCRATCH + at);
                self.set_word(d()?);
            }
            HostOp::Log(n) => {
                // The record: a byte with the number of topics, the topics
                // (big-endian), the data. Short data of a constant length
                // is copied behind the topics (one slice); other data is a
                // second slice (each slice costs 100 CU).
                let n = n as i16;
                let slices = layout::SCRATCH;
                // Two slice descriptors, then the record (topics aligned).
                let head = layout::SCRATCH + 63;
                let topics = layout::SCRATCH + 64;
                let data = topics + 32 * n;
                self.asm.st(Size::B, R9, head, n as i32);
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
                let head_len = 1 + 32 * n as i32;
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
                self.asm.syscall("sol_log_data");
            }
            HostOp::Keccak256 => {
                let d = d()?;
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
            HostOp::Balance => {
                return Err(unsupported(
                    "host.balance".into(),
                    pos,
                    "other accounts' balances are not mapped (only the contract's own)",
                ));
            }
            HostOp::ExtCodeSize => {
                let d = d()?;
                self.ptr(R1, args[0]);
                self.ptr(R2, d);
                self.call_checked(Helper::ExtCodeSize);
            }
            HostOp::ExtCodeCopy | HostOp::ExtCodeHash => {
                return Err(unsupported(
                    format!("host.{}", h.name()),
                    pos,
                    "other contracts' code is not visible to a Solana program",
                ));
            }
            HostOp::Coinbase
            | HostOp::BaseFee
            | HostOp::BlobBaseFee
            | HostOp::BlobHash
            | HostOp::PrevRandao
            | HostOp::GasLimit
            | HostOp::GasPrice
            | HostOp::BlockHash => {
                return Err(unsupported(
                    format!("host.{}", h.name()),
                    pos,
                    "this block or transaction field has no Solana equivalent",
                ));
            }
            HostOp::Gas if res.is_some_and(|r| self.gas_limit_only.contains(&r)) => {
                // Only a call's gas limit, which calls into accounts without
                // code ignore.
            }
            HostOp::Call(kind @ (CallKind::Call | CallKind::StaticCall)) => {
                let d = d()?;
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
            HostOp::Gas => {
                return Err(unsupported(
                    "host.gas".into(),
                    pos,
                    "Solana meters compute units, not EVM gas",
                ));
            }
            HostOp::Call(_) | HostOp::Create | HostOp::Create2 => {
                return Err(unsupported(
                    format!("host.{}", h.name()),
                    pos,
                    "only `call` and `staticcall` into accounts without code (a lamport transfer) and the ecrecover and sha256 precompiles are mapped; other calls and contract creation have no cross-program mapping yet",
                ));
            }
        }
        Ok(())
    }

    /// A call to a precompile (`io`: input offset and length, output
    /// offset and length): the result into [`layout::RETURN_DATA`], its
    /// first bytes into the output range, success (1) in `r0`. As on the
    /// EVM, ecrecover answers nothing for a bad `v` or signature.
    fn precompile(&mut self, p: Precompile, io: &[Value]) {
        let s = layout::SCRATCH;
        let rd = layout::RETURN_DATA;
        self.mem_range(io[0], io[1]);
        match p {
            Precompile::Sha256 => {
                self.asm.stx(Size::Dw, R9, s, R1);
                self.asm.stx(Size::Dw, R9, s + 8, R2);
                self.addr(R1, s);
                self.asm.mov64(R2, 1);
                self.addr(R3, rd);
                self.asm.syscall("sol_sha256");
                self.asm.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 32);
            }
            Precompile::EcRecover => {
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
        self.addr(R2, rd);
        self.asm.syscall("sol_memcpy_");
        self.asm.bind(end);
        self.asm.mov64(R0, 1);
    }

    /// `reg = the storage table` (persistent or transient).
    fn table(&mut self, reg: u8, transient: bool) {
        if transient {
            self.addr(reg, layout::TRANSIENT);
        } else {
            self.asm.ldx(Size::Dw, reg, R9, layout::STORAGE);
        }
    }

    fn exit(&mut self, kind: ExitKind, args: &[Value], pos: SourcePos) -> Result<(), Error> {
        match kind {
            ExitKind::Stop => {
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
            ExitKind::SelfDestruct => {
                return Err(unsupported(
                    "exit.selfdestruct".into(),
                    pos,
                    "a Solana program cannot destroy itself or move ether",
                ));
            }
        }
        Ok(())
    }
}
