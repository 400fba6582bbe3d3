//! IR → SBF instructions: value slots, then one pass over the blocks.
//!
//! Every IR value lives in a 32-byte heap slot (`[r9 + offset]`); a 256-bit
//! value is four little-endian 64-bit limbs, a narrower one a zero-extended
//! `u64`. Slots are assigned by a linear scan over live ranges, so values
//! whose ranges do not meet share a slot; a result never shares with its
//! own operands. Instructions load limbs into registers, compute and store
//! back. Block arguments are parallel copies into the target's parameter
//! slots (through a buffer when a destination is also a source).
//!
//! This module holds the driver ([`lower`]) and the context [`Cx`] with the
//! ways instructions reach values (slots, limbs, constants as immediates).
//! The lowering itself is split as Cranelift splits a backend:
//!
//! * [`facts`]: what is known before emitting (constants, uses, precompile
//!   calls, bit widths);
//! * [`slots`]: the heap frame and the slot allocator (live ranges, linear
//!   scan);
//! * [`entry`]: the Solana ABI (input, pay-in, a fresh state account);
//! * [`edges`]: blocks, terminators, edge copies and switches;
//! * [`inst`]: one instruction, dispatched to [`arith`] (arithmetic and
//!   comparisons), [`memory`] (EVM memory), [`host`] (host operations and
//!   exits) and [`calls`] (calls and precompiles).
//!
//! The 256-bit helpers the code calls are emitted by [`crate::runtime`].

mod arith;
mod calls;
mod create;
mod edges;
mod entry;
pub(crate) mod facts;
mod host;
mod inst;
mod memory;
mod slots;

use crate::asm::{Alu, Asm, Cond as J, Label, R0, R1, R2, R5, R9, Size};
use crate::runtime::{Helper, Runtime, copy_limbs, zero};
use crate::{Error, Program, Target, elf};
use alloy_primitives::U256;
use chainlift_ir::entities::{Block, Value};
use chainlift_ir::function::{Function, Module, Terminator};
use chainlift_ir::inst::{Op, SourcePos};
use chainlift_ir::types::Type;
use entry::{initial_entries, initial_offset};
use facts::{Facts, Precompile};
use slots::{CONST_SLOTS, Frame, SLOT, allocate};
use std::collections::{HashMap, HashSet};

/// Translates the module: checks that it is one EVM contract and that the
/// target is sound, gathers the facts, allocates slots, emits the program
/// and writes the ELF.
pub(crate) fn lower(module: &Module, code: &[u8], target: &Target) -> Result<Program, Error> {
    let (program, problems) = lower_all(module, code, target)?;
    match problems.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(program),
    }
}

/// [`lower`], going on past operations with no mapping: the program (in
/// which each of them halts) and every such operation, in layout order.
pub(crate) fn lower_all(
    module: &Module,
    code: &[u8],
    target: &Target,
) -> Result<(Program, Vec<Error>), Error> {
    let f = contract(module)?;
    check_target(target)?;
    let facts = Facts::gather(f, code, target, false, false);
    let (slot_of, slots) = allocate(f, &facts.consts);
    let frame = Frame::new(
        slots,
        facts.max_params,
        target.heap_size,
        evm_stack(f),
        false,
    )?;
    let mut cx = Cx::new(
        f,
        code,
        target,
        facts,
        slot_of,
        &frame,
        Asm::default(),
        None,
    );
    cx.function()?;
    let (text, listing) = cx.asm.finish()?;
    let instructions = text.len() / 8;
    // Read-only data: the EVM code, then the initial storage entries.
    let mut rodata = code.to_vec();
    rodata.resize(initial_offset(code.len() as u64) as usize, 0);
    rodata.extend_from_slice(&cx.initial);
    let program = Program {
        elf: elf::write(&rodata, &text, 0),
        listing,
        instructions,
        memory_limit: frame.mem_limit,
    };
    Ok((program, cx.problems))
}

/// Whether `f` keeps the EVM stack in memory (code lifted in that form).
fn evm_stack(f: &Function) -> bool {
    f.layout
        .iter()
        .flat_map(|b| &f.block(*b).insts)
        .any(|i| matches!(i.op, Op::StackLoad | Op::StackStore))
}

/// A bundle ([`crate::translate_bundle`]): one program running every
/// contract's code, each in frames of [`crate::bundle::stride`] bytes. The
/// entry reads the state account's code id and calls that contract's
/// code through the dispatch, as calls between the contracts do.
pub(crate) fn lower_bundle(
    contracts: &[crate::Contract],
    target: &Target,
) -> Result<(Program, Vec<Error>), Error> {
    check_target(target)?;
    let stride = crate::bundle::stride(target.heap_size);
    if contracts.is_empty() || stride < 8 * 1024 {
        return Err(Error::TargetLimit {
            what: format!(
                "a bundle of {} contracts in a heap of {} bytes (at least one contract, and {} frames of at least 8 KiB, a journal and a log buffer of {} bytes)",
                contracts.len(),
                target.heap_size,
                crate::bundle::FRAMES,
                crate::bundle::JOURNAL + crate::bundle::LOG_BUFFER
            ),
        });
    }
    let mut asm = Asm::default();
    let dispatch = asm.named("dispatch");
    let bodies: Vec<Label> = (0..contracts.len())
        .map(|k| asm.named(&format!("contract{k}")))
        .collect();
    let inits: Vec<Label> = (0..contracts.len())
        .map(|k| asm.named(&format!("init{k}")))
        .collect();
    let addresses: Vec<_> = contracts.iter().map(|c| c.address).collect();
    let exits = entry::bundle_entry(&mut asm, dispatch, &inits, &addresses, target);
    asm.bind(dispatch);
    for (k, b) in bodies.iter().enumerate() {
        asm.jmp_imm(J::Eq, R1, k as i32, *b);
    }
    asm.mov64(R0, crate::exit::BAD_STATE);
    asm.exit();
    // The read-only data starts with each contract's code size, then
    // where its code is (`u64` each, by code id), for `extcodesize` and
    // `extcodecopy` (`solana_rt::code_of`).
    // (A template with immutables has bit 63 of its size set: its code
    // is not copied, `solana_rt::code_of`.)
    let mut rodata: Vec<u8> = contracts
        .iter()
        .flat_map(|c| {
            let flag = u64::from(!c.immutables.is_empty()) << 63;
            (c.module.code.len() as u64 | flag).to_le_bytes()
        })
        .collect();
    let offsets = rodata.len();
    rodata.resize(2 * offsets, 0);
    // Each contract's code, then its initial storage.
    let mut bases = vec![];
    for (k, c) in contracts.iter().enumerate() {
        bases.push(rodata.len() as u64);
        let at = (rodata.len() as u64).to_le_bytes();
        rodata[offsets + 8 * k..offsets + 8 * k + 8].copy_from_slice(&at);
        rodata.extend_from_slice(&c.module.code);
        rodata.resize(rodata.len().next_multiple_of(8), 0);
        rodata.extend_from_slice(&initial_entries(c.initial_storage));
    }
    // What `create` and `create2` can make: each init code's template.
    let creatables: std::rc::Rc<[create::Creatable]> = contracts
        .iter()
        .enumerate()
        .filter_map(|(k, c)| Some((k, c, c.init?)))
        .map(|(k, c, init)| {
            create::Creatable::new(k as u32, bases[k], c.module.code.len(), &init, &mut rodata)
        })
        .collect::<Result<_, _>>()?;
    let mut problems = Vec::new();
    let mut memory_limit = u32::MAX;
    for (k, c) in contracts.iter().enumerate() {
        let f = contract(c.module)?;
        let code = &c.module.code;
        let constructor = c.init.is_some();
        let facts = Facts::gather(f, code, target, true, constructor);
        let (slot_of, slots) = allocate(f, &facts.consts);
        let frame = Frame::new(slots, facts.max_params, stride, evm_stack(f), true)?;
        memory_limit = memory_limit.min(frame.mem_limit);
        let info = Bundle {
            code_id: k as u32,
            dispatch,
            stride,
            journal_at: stride * crate::bundle::FRAMES,
            contracts: contracts.len() as u32,
            rodata_base: bases[k],
            bad_accounts: exits.0,
            bad_state: exits.1,
            constructor,
            calls_out: !target.outside.is_empty(),
        };
        let mut one = target.clone();
        one.initial_storage = c.initial_storage.clone();
        let mut cx = Cx::new(f, code, &one, facts, slot_of, &frame, asm, Some(info));
        cx.creatables = creatables.clone();
        cx.outside = target.outside.clone().into();
        cx.nonce = c.nonce;
        cx.immutables = c.immutables.to_vec();
        cx.immutable_sites = create::immutable_sites(code, c.immutables);
        cx.asm.bind(inits[k]);
        cx.init_bundle_state();
        cx.asm.bind(bodies[k]);
        cx.body()?;
        problems.append(&mut cx.problems);
        asm = cx.asm;
    }
    let (text, listing) = asm.finish()?;
    let instructions = text.len() / 8;
    let program = Program {
        elf: elf::write(&rodata, &text, 0),
        listing,
        instructions,
        memory_limit,
    };
    Ok((program, problems))
}

/// What the lowering of one of a bundle's contracts needs to know.
#[derive(Debug, Clone, Copy)]
struct Bundle {
    /// The contract's code id.
    code_id: u32,
    /// The shared dispatch: `r1` the code id, the frame at `r9`.
    dispatch: Label,
    /// Bytes of one frame.
    stride: u32,
    /// The journal's heap offset, past the frames (the log buffer
    /// follows it).
    journal_at: u32,
    /// How many contracts the bundle has.
    contracts: u32,
    /// Where its EVM code (then its initial storage) is in the read-only
    /// data.
    rodata_base: u64,
    /// The entry's exits for bad accounts and a bad state account.
    bad_accounts: Label,
    bad_state: Label,
    /// Init code ([`crate::Contract::init`]), run in a constructor frame:
    /// its calldata fields hold its code (the init code and the
    /// constructor's arguments, in the creating frame's memory), and
    /// `return` leaves the returned range there.
    constructor: bool,
    /// Whether the bundle calls out of itself ([`Target::outside`]): a
    /// frame that fails after a call out ends the instruction.
    calls_out: bool,
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
    // The legalized form passes words to the host as four i64 limbs; this
    // backend lowers 256-bit words itself and takes the module before
    // legalization.
    for b in &f.layout {
        let data = f.block(*b);
        let limbs = data
            .insts
            .iter()
            .filter(|i| matches!(i.op, Op::Host(_)))
            .find(|i| {
                i.args
                    .iter()
                    .chain(&i.results)
                    .any(|v| f.ty(*v) == Type::I64)
            })
            .map(|i| i.pos)
            .or_else(|| {
                let ops = match &data.term {
                    Terminator::Exit(_, vs) => vs.as_slice(),
                    _ => &[],
                };
                ops.iter()
                    .any(|v| f.ty(*v) == Type::I64)
                    .then_some(data.term_pos)
            });
        if let Some(pos) = limbs {
            return Err(Error::Unsupported {
                what: "a host operation or exit on 64-bit limbs".into(),
                pos,
                why: "backend-sbf lowers 256-bit words itself: translate the module before legalization",
            });
        }
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

/// The lowering context: the program being assembled, the function, and
/// what the lowering knows about it.
struct Cx<'a> {
    /// The program so far.
    asm: Asm,
    /// The function being lowered.
    f: &'a Function,
    /// Each value's slot index ([`slots::allocate`]).
    slot_of: Vec<u32>,
    /// The heap offset of slot 0 (see [`Frame`]).
    slot_base: usize,
    /// The heap offset of the buffer edge copies go through.
    copy_buf: usize,
    /// The heap offset of the scratch slots for constant operands.
    const_buf: usize,
    /// The next constant scratch slot (modulo [`CONST_SLOTS`]); reset for
    /// each instruction.
    const_next: usize,
    /// The heap offset of EVM memory.
    mem_base: i16,
    /// Bytes EVM memory can grow to.
    mem_limit: u32,
    /// The heap offset of the EVM stack array, and its words.
    stack_base: usize,
    stack_words: usize,
    /// How many times each value is used.
    uses: Vec<u32>,
    /// Values known at translation (see [`Facts::consts`]).
    consts: HashMap<Value, U256>,
    /// An upper bound on each value's significant bits ([`Facts::bits`]).
    bits: Vec<u16>,
    /// Each block's label.
    blocks: HashMap<Block, Label>,
    /// The runtime helpers called so far.
    rt: Runtime,
    /// Bytes of EVM code.
    code_len: u64,
    /// The shared exit for an exceptional halt.
    halt: Label,
    /// The operations met so far that have no mapping
    /// ([`Error::Unsupported`]); each was lowered as a halt.
    problems: Vec<Error>,
    /// The shared exit with the code a helper returned in `r0`.
    fail: Label,
    /// The shared exit for memory growth past the heap.
    memory_limit: Label,
    /// The shared exit for an EVM stack deeper than its share of the heap
    /// (emitted when the function keeps its stack in memory).
    stack_limit: Label,
    /// The IR analysis, for memory an earlier `mem.expand` in the block
    /// covered: memory never shrinks, so such a range needs no check.
    coverage: chainlift_ir::analysis::Facts,
    /// In a bundle, the init code its contracts can create instances of.
    creatables: std::rc::Rc<[create::Creatable]>,
    /// In a bundle, the system's contracts other programs hold.
    outside: std::rc::Rc<[crate::Outside]>,
    /// In a bundle, the nonce a state account created from outside starts
    /// with ([`crate::Contract::nonce`]).
    nonce: u64,
    /// A template's immutables' slots ([`crate::Contract::immutables`]),
    /// and the pcs of the `PUSH31 key; SLOAD` that read them.
    immutables: Vec<U256>,
    immutable_sites: Vec<u64>,
    /// The block and instruction index being lowered.
    at: (Block, usize),
    /// Results of `host.gas` used only as a call's gas limit, which the
    /// program ignores: they are never computed.
    gas_limit_only: HashSet<Value>,
    /// The calls (by their result) that reach a precompile. When there is
    /// one, `returndatasize` and `returndatacopy` read
    /// [`crate::layout::RETURN_DATA`]; else the return data is always empty.
    precompiles: HashMap<Value, Precompile>,
    /// The initial storage: 64-byte entries (key, value; little-endian
    /// limbs), kept after the EVM code in the read-only data.
    initial: Vec<u8>,
    /// Wei per lamport ([`Target::wei_per_lamport`]).
    wei_per_lamport: u32,
    /// Lamports per byte of the rent-exempt minimum
    /// ([`Target::rent_per_byte`]).
    rent_per_byte: u32,
    /// For one of a bundle's contracts, what its lowering needs.
    bundle: Option<Bundle>,
    /// The heap offset of the last call's return data.
    ret_buf: i16,
}

/// An [`Error::Unsupported`].
fn unsupported(what: String, pos: SourcePos, why: &'static str) -> Error {
    Error::Unsupported { what, pos, why }
}

impl Cx<'_> {
    /// The context for `f`, before anything is emitted: the shared exits'
    /// labels and the blocks' labels.
    #[allow(clippy::too_many_arguments)]
    fn new<'a>(
        f: &'a Function,
        code: &[u8],
        target: &Target,
        facts: Facts,
        slot_of: Vec<u32>,
        frame: &Frame,
        mut asm: Asm,
        bundle: Option<Bundle>,
    ) -> Cx<'a> {
        let halt = asm.named("halt");
        let fail = asm.named("fail_with_r0");
        let memory_limit = asm.named("memory_limit");
        let stack_limit = asm.named("stack_limit");
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
            stack_base: frame.stack_base,
            stack_words: frame.stack_words,
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
                bundle.map(|b| (b.journal_at, b.contracts)),
            ),
            bundle,
            ret_buf: if bundle.is_some() {
                crate::layout::BUNDLE_RETURN_DATA
            } else {
                crate::layout::RETURN_DATA
            },
            code_len: code.len() as u64,
            initial: initial_entries(&target.initial_storage),
            halt,
            problems: Vec::new(),
            fail,
            memory_limit,
            stack_limit,
            coverage: facts.ir,
            at: (Block::new(0), 0),
            creatables: std::rc::Rc::from([]),
            outside: std::rc::Rc::from([]),
            nonce: 1,
            immutables: vec![],
            immutable_sites: vec![],
        }
    }

    /// Emits the whole program: the entry, the blocks in layout order, the
    /// shared exits, then the runtime helpers the blocks called.
    fn function(&mut self) -> Result<(), Error> {
        self.entry();
        self.body()
    }

    /// Emits the contract's code: the blocks in layout order, the shared
    /// exits, then the runtime helpers the blocks called.
    fn body(&mut self) -> Result<(), Error> {
        if let Some(b) = self.bundle {
            // What a later call into this frame clears (see MEM_BASE).
            let dirty = if self.stack_words > 0 {
                b.stride as i32
            } else {
                i32::from(self.mem_base)
            };
            self.asm.st(Size::Dw, R9, crate::layout::MEM_BASE, dirty);
            let first = self.blocks[&self.f.layout[0]];
            self.asm.ja(first);
        }
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

    /// The type of `v`.
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

    /// `reg = limb i of v` (an immediate for a constant).
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

    /// `limb i of v = reg`.
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

    /// Copies a value of type `ty` from heap offset `src` to `dst`.
    fn copy(&mut self, dst: i16, src: i16, ty: Type) {
        let limbs = if ty == Type::I256 { 4 } else { 1 };
        copy_limbs(&mut self.asm, limbs, R9, dst, R9, src);
    }

    /// Calls a runtime helper (emitted after the blocks).
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

    /// Stores a u64 in `r0` as the value `d` (upper limbs zero).
    fn set_word(&mut self, d: Value) {
        self.set_limb(d, 0, R0);
        if self.ty(d) == Type::I256 {
            let o = self.off(d);
            zero(&mut self.asm, R9, o + 8, 3);
        }
    }
}
