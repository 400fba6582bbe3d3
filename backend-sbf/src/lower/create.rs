//! `create2` in a bundle: the init code in memory must be one the bundle
//! holds ([`crate::Contract::init`]); the new contract's address comes
//! from the EVM formula, its state account is created at that address's
//! program-derived address, the constructor runs in the next frame with
//! its code (init code and arguments) as its calldata fields, and the code
//! it returns must be its template's, whose immutables go to their
//! reserved storage slots.

use super::Cx;
use super::calls::lamports;
use crate::asm::{Alu, Asm, Cond as J, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, Size};
use crate::runtime::Helper;
use crate::{Error, Init, exit, layout, storage};
use chainlift_ir::entities::Value;

/// Init code a bundle's contracts can create instances of, as the
/// program finds it.
#[derive(Debug, Clone)]
pub(crate) struct Creatable {
    /// The init code's code id.
    init_id: u32,
    /// Where the init code is (a read-only data address), and its length.
    init_at: u64,
    init_len: u64,
    /// The code id its instances run.
    runtime_id: u32,
    /// Where the template is, and its length.
    template_at: u64,
    template_len: u64,
    /// The template's bytes outside the immutables: offset and length.
    segments: Vec<(u32, u32)>,
    /// Per immutable, the pcs of its `PUSH32` copies.
    immutables: Vec<Vec<usize>>,
    /// Where the immutables' slots are (32 bytes each, little-endian).
    keys_at: u64,
}

impl Creatable {
    /// The init code of code id `init_id` (`len` bytes at `base` in the
    /// read-only data) and its template, which goes into `rodata` with the
    /// immutables' slots.
    pub(crate) fn new(
        init_id: u32,
        base: u64,
        len: usize,
        init: &Init,
        rodata: &mut Vec<u8>,
    ) -> Result<Creatable, Error> {
        let vaddr = crate::elf::RODATA_VADDR;
        rodata.resize(rodata.len().next_multiple_of(8), 0);
        let template_at = vaddr + rodata.len() as u64;
        rodata.extend_from_slice(init.template);
        rodata.resize(rodata.len().next_multiple_of(8), 0);
        let keys_at = vaddr + rodata.len() as u64;
        for k in init.keys {
            rodata.extend_from_slice(&k.to_le_bytes::<32>());
        }
        let mut sites: Vec<usize> = init.immutables.concat();
        sites.sort_unstable();
        let mut segments = vec![];
        let mut from = 0usize;
        for pc in &sites {
            if *pc + 33 > init.template.len() || init.immutables.iter().any(Vec::is_empty) {
                return Err(Error::Internal(format!(
                    "an immutable at {pc:#x} past a template of {} bytes",
                    init.template.len()
                )));
            }
            if pc + 1 > from {
                segments.push((from as u32, (pc + 1 - from) as u32));
            }
            from = pc + 33;
        }
        if from < init.template.len() {
            segments.push((from as u32, (init.template.len() - from) as u32));
        }
        if init.keys.len() != init.immutables.len() {
            return Err(Error::Internal("a slot per immutable".into()));
        }
        Ok(Creatable {
            init_id,
            init_at: vaddr + base,
            init_len: len as u64,
            runtime_id: init.runtime,
            template_at,
            template_len: init.template.len() as u64,
            segments,
            immutables: init.immutables.to_vec(),
            keys_at,
        })
    }
}

/// The code id a state account holds while its constructor runs: no code
/// (`extcodesize` reads 0, `solana_rt::code_of`; a call into it succeeds
/// without running anything, `Cx::bundle_call`).
pub(super) const CONSTRUCTING: u32 = u32::MAX;

// Scratch offsets of the creating frame.
const S: i16 = layout::SCRATCH;
/// Four keccak slices (16 bytes each).
const SLICES: i16 = S;
/// Three signer seeds (`SolSignerSeedC`), then "evm" and the bump.
const SEEDS: i16 = S + 64;
const EVM: i16 = S + 112;
const BUMP: i16 = S + 116;
/// The state account's key, found.
const KEY: i16 = S + 120;
/// The bump `sol_try_find_program_address` found.
const FOUND_BUMP: i16 = S + 152;
/// The init code in memory: pointer, length.
const INIT_PTR: i16 = S + 256;
const INIT_LEN: i16 = S + 264;
/// A `sol_memcmp_` result.
const CMP: i16 = S + 272;
/// The value in lamports.
const VALUE: i16 = S + 168;
/// The new state account in the input.
const ACCOUNT: i16 = S + 280;
/// The new address in key form (its 20 bytes at 12..32).
const ADDRESS: i16 = S + 288;
/// 0xff, then the salt (big-endian), then the init code's hash.
const FF: i16 = S + 372;
const SALT: i16 = S + 376;
const HASH: i16 = S + 408;

/// `ADDRESS` (key form) = `keccak256(0xff ‖ this ‖ salt ‖
/// keccak256(init code))`, the salt at [`SALT`] (big-endian).
fn create2_address(a: &mut Asm) {
    let slice = |a: &mut Asm, i: i16, ptr: u8, len: i32| {
        a.stx(Size::Dw, R9, SLICES + 16 * i, ptr);
        a.st(Size::Dw, R9, SLICES + 16 * i + 8, len);
    };
    a.ldx(Size::Dw, R1, R9, INIT_PTR);
    a.stx(Size::Dw, R9, SLICES, R1);
    a.ldx(Size::Dw, R1, R9, INIT_LEN);
    a.stx(Size::Dw, R9, SLICES + 8, R1);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, SLICES as i32);
    a.mov64(R2, 1);
    a.mov(R3, R9);
    a.alu_imm(Alu::Add, R3, HASH as i32);
    a.syscall("sol_keccak256");
    a.st(Size::B, R9, FF, 0xff);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, FF as i32);
    slice(a, 0, R1, 1);
    a.ldx(Size::Dw, R1, R9, layout::SELF_ADDR);
    a.alu_imm(Alu::Add, R1, storage::ADDRESS as i32);
    slice(a, 1, R1, 20);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, SALT as i32);
    slice(a, 2, R1, 32);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, HASH as i32);
    slice(a, 3, R1, 32);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, SLICES as i32);
    a.mov64(R2, 4);
    a.mov(R3, R9);
    a.alu_imm(Alu::Add, R3, ADDRESS as i32);
    a.syscall("sol_keccak256");
    a.st(Size::Dw, R9, ADDRESS, 0);
    a.st(Size::W, R9, ADDRESS + 8, 0);
}

/// `ADDRESS` (key form) = `keccak256(rlp([this, nonce]))`, the creator's
/// nonce before it goes up: the list's header, `0x94` and the 20 bytes,
/// then the nonce as RLP encodes a number (0x80 for zero, itself below
/// 0x80, else 0x80 + its length and its big-endian bytes).
fn create_address(a: &mut Asm) {
    // The nonce big-endian in the 8 bytes at NONCE_BE, its encoding
    // ending there: r2 its start, r3 its length.
    const NONCE_BE: i16 = S + 200;
    const HEADER: i16 = S + 196;
    let (small, encoded, count, counted) = (a.label(), a.label(), a.label(), a.label());
    a.ldx(Size::Dw, R1, R9, layout::SELF_ADDR);
    a.ldx(Size::Dw, R1, R1, storage::NONCE as i16);
    a.mov(R0, R1);
    a.be64(R0);
    a.stx(Size::Dw, R9, NONCE_BE, R0);
    a.mov(R2, R9);
    a.alu_imm(Alu::Add, R2, NONCE_BE as i32 + 7);
    a.mov64(R3, 1);
    a.jmp_imm(J::Lt, R1, 0x80, small);
    // Its length in bytes (r4), then the length byte before them.
    a.mov64(R4, 0);
    a.mov(R0, R1);
    a.bind(count);
    a.jmp_imm(J::Eq, R0, 0, counted);
    a.alu_imm(Alu::Rsh, R0, 8);
    a.alu_imm(Alu::Add, R4, 1);
    a.ja(count);
    a.bind(counted);
    a.mov(R2, R9);
    a.alu_imm(Alu::Add, R2, NONCE_BE as i32 + 7);
    a.alu(Alu::Sub, R2, R4);
    a.mov(R0, R4);
    a.alu_imm(Alu::Add, R0, 0x80);
    a.stx(Size::B, R2, 0, R0);
    a.mov(R3, R4);
    a.alu_imm(Alu::Add, R3, 1);
    a.ja(encoded);
    a.bind(small);
    let nonzero = a.label();
    a.jmp_imm(J::Ne, R1, 0, nonzero);
    a.st(Size::B, R2, 0, 0x80);
    a.bind(nonzero);
    a.bind(encoded);
    // The list's header: 0xc0 + 21 + the nonce's encoding, then 0x94.
    a.mov(R0, R3);
    a.alu_imm(Alu::Add, R0, 0xc0 + 21);
    a.stx(Size::B, R9, HEADER, R0);
    a.st(Size::B, R9, HEADER + 1, 0x94);
    let slice = |a: &mut Asm, i: i16, ptr: u8| {
        a.stx(Size::Dw, R9, SLICES + 16 * i, ptr);
    };
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, HEADER as i32);
    slice(a, 0, R1);
    a.st(Size::Dw, R9, SLICES + 8, 2);
    a.ldx(Size::Dw, R1, R9, layout::SELF_ADDR);
    a.alu_imm(Alu::Add, R1, storage::ADDRESS as i32);
    slice(a, 1, R1);
    a.st(Size::Dw, R9, SLICES + 24, 20);
    slice(a, 2, R2);
    a.stx(Size::Dw, R9, SLICES + 40, R3);
    a.mov(R1, R9);
    a.alu_imm(Alu::Add, R1, SLICES as i32);
    a.mov64(R2, 3);
    a.mov(R3, R9);
    a.alu_imm(Alu::Add, R3, ADDRESS as i32);
    a.syscall("sol_keccak256");
    a.st(Size::Dw, R9, ADDRESS, 0);
    a.st(Size::W, R9, ADDRESS + 8, 0);
}

/// The pcs in `code` (a template) of each `PUSH31 key; SLOAD` whose key is
/// one of `keys`: where the EVM code held an immutable.
pub(super) fn immutable_sites(code: &[u8], keys: &[alloy_primitives::U256]) -> Vec<u64> {
    let mut sites = vec![];
    if keys.is_empty() {
        return sites;
    }
    let keys: Vec<[u8; 32]> = keys.iter().map(|k| k.to_be_bytes::<32>()).collect();
    let mut pc = 0;
    while pc < code.len() {
        let op = code[pc];
        if op == 0x7e
            && code.get(pc + 32) == Some(&0x54)
            && keys.iter().any(|k| k[1..] == code[pc + 1..pc + 32])
        {
            sites.push(pc as u64);
        }
        pc += 1 + if (0x60..=0x7f).contains(&op) {
            usize::from(op - 0x5f)
        } else {
            0
        };
    }
    sites
}

impl Cx<'_> {
    /// `d = create value, offset, length` or (`two`) `create2 value,
    /// offset, length, salt` in a bundle.
    pub(super) fn create(&mut self, two: bool, args: &[Value], d: Value) {
        let halt = self.halt;
        // The constructor needs the next frame (and creating the account
        // uses its scratch space).
        let deep_ok = self.asm.label();
        self.asm.ldx(Size::Dw, R0, R9, layout::DEPTH);
        self.asm
            .jmp_imm(J::Lt, R0, crate::bundle::FRAMES as i32 - 1, deep_ok);
        self.asm.mov64(R0, exit::CALL_DEPTH);
        self.asm.exit();
        self.asm.bind(deep_ok);
        // Static context: an exceptional halt.
        self.asm.ldx(Size::Dw, R0, R9, layout::STATIC);
        self.asm.jmp_imm(J::Ne, R0, 0, halt);
        // The value in lamports, when the creator's balance covers it
        // (else 0 is the result, the nonce unchanged, as on the EVM).
        let (done, short) = (self.asm.label(), self.asm.label());
        if self.consts.get(&args[0]).is_some_and(|v| v.is_zero()) {
            self.asm.st(Size::Dw, R9, VALUE, 0);
        } else {
            self.ptr(R2, args[0]);
            self.call(Helper::Afford);
            let fail = self.fail;
            self.asm.jmp_imm(J::Gt, R0, 1, fail);
            self.asm.jmp_imm(J::Eq, R0, 1, short);
            self.asm.stx(Size::Dw, R9, VALUE, R4);
        }
        if two {
            self.word_to_be(args[3], R9, SALT);
        }
        self.mem_range(args[1], args[2]);
        self.asm.stx(Size::Dw, R9, INIT_PTR, R1);
        self.asm.stx(Size::Dw, R9, INIT_LEN, R2);
        let creatables = self.creatables.clone();
        for c in creatables.iter() {
            let next = self.asm.label();
            let a = &mut self.asm;
            a.ldx(Size::Dw, R1, R9, INIT_PTR);
            a.ldx(Size::Dw, R2, R9, INIT_LEN);
            a.mov64(R3, c.init_len);
            a.jmp(J::Lt, R2, R3, next);
            a.mov64(R2, c.init_at);
            a.mov(R4, R9);
            a.alu_imm(Alu::Add, R4, CMP as i32);
            a.syscall("sol_memcmp_");
            a.ldx(Size::W, R0, R9, CMP);
            a.jmp_imm(J::Ne, R0, 0, next);
            self.create_from(c, two, d);
            self.asm.ja(done);
            self.asm.bind(next);
        }
        self.asm.mov64(R0, exit::CREATE_UNKNOWN);
        self.asm.exit();
        self.asm.bind(short);
        self.asm.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 0);
        self.asm.mov64(R0, 0);
        self.set_word(d);
        self.asm.bind(done);
    }

    /// The rest of [`Cx::create`] once the init code is `c`'s.
    fn create_from(&mut self, c: &Creatable, two: bool, d: Value) {
        let b = self.bundle.expect("create2 lowers in bundles");
        let stride = b.stride as i32;
        let journal = self.rt.label(&mut self.asm, Helper::Journal);
        let undo = self.rt.label(&mut self.asm, Helper::Undo);
        let flush = self.rt.label(&mut self.asm, Helper::FlushLogs);
        let journal_at = layout::HEAP_START + u64::from(b.journal_at);
        let logs_at = journal_at + u64::from(crate::bundle::JOURNAL);
        let a = &mut self.asm;
        if two {
            create2_address(a);
        } else {
            create_address(a);
        }
        // The creator's nonce goes up, whatever happens next (a failure
        // of the creator itself takes it back).
        a.ldx(Size::Dw, R7, R9, layout::SELF_ADDR);
        crate::solana_rt::journal_if_nested(a, journal, R7, storage::NONCE as i32, 8);
        a.ldx(Size::Dw, R0, R7, storage::NONCE as i16);
        a.alu_imm(Alu::Add, R0, 1);
        a.stx(Size::Dw, R7, storage::NONCE as i16, R0);
        // Its state account: the program-derived address of "evm" and the
        // address, with the canonical bump.
        a.st(Size::W, R9, EVM, i32::from_le_bytes(*b"evm\0"));
        let seed = |a: &mut Asm, i: i16, at: i16, len: i32| {
            a.mov(R0, R9);
            a.alu_imm(Alu::Add, R0, at as i32);
            a.stx(Size::Dw, R9, SEEDS + 16 * i, R0);
            a.st(Size::Dw, R9, SEEDS + 16 * i + 8, len);
        };
        seed(a, 0, EVM, 3);
        seed(a, 1, ADDRESS + 12, 20);
        seed(a, 2, BUMP, 1);
        a.mov(R1, R9);
        a.alu_imm(Alu::Add, R1, SEEDS as i32);
        a.mov64(R2, 2);
        a.mov64(R3, layout::STATE_OWNER_ADDR);
        a.mov(R4, R9);
        a.alu_imm(Alu::Add, R4, KEY as i32);
        a.mov(R5, R9);
        a.alu_imm(Alu::Add, R5, FOUND_BUMP as i32);
        a.syscall("sol_try_find_program_address");
        let bad_state = b.bad_state;
        a.jmp_imm(J::Ne, R0, 0, bad_state);
        a.ldx(Size::B, R0, R9, FOUND_BUMP);
        a.stx(Size::B, R9, BUMP, R0);
        // Among the instruction's accounts, or the client must add it.
        let (missing, found) = (a.label(), a.label());
        a.mov64(R8, layout::INPUT_START);
        a.ldx(Size::Dw, R8, R8, 0);
        a.mov64(R5, layout::INPUT_START + 8);
        // An account standing for the address (a key ending in it) before
        // the state account would take the contract's calls after its
        // creation (accounts are searched in order): bad accounts.
        let bad_accounts = b.bad_accounts;
        crate::solana_rt::each_account(a, missing, Some(R6), |a, next| {
            let other = a.label();
            for k in 0..4 {
                a.ldx(Size::Dw, R0, R5, 8 + 8 * k);
                a.ldx(Size::Dw, R1, R9, KEY + 8 * k);
                a.jmp(J::Ne, R0, R1, other);
            }
            a.ja(found);
            a.bind(other);
            a.ldx(Size::W, R0, R5, 8 + 12);
            a.ldx(Size::W, R1, R9, ADDRESS + 12);
            a.jmp(J::Ne, R0, R1, next);
            for k in 0..2 {
                a.ldx(Size::Dw, R0, R5, 8 + 16 + 8 * k);
                a.ldx(Size::Dw, R1, R9, ADDRESS + 16 + 8 * k);
                a.jmp(J::Ne, R0, R1, next);
            }
            a.ja(bad_accounts);
        });
        a.bind(missing);
        a.st(Size::B, R9, ADDRESS + 32, 1);
        a.mov(R1, R9);
        a.alu_imm(Alu::Add, R1, ADDRESS as i32 + 12);
        a.mov64(R2, 21);
        a.syscall("sol_set_return_data");
        a.mov64(R0, exit::ACCOUNT_NEEDED);
        a.exit();
        a.bind(found);
        a.stx(Size::Dw, R9, ACCOUNT, R5);
        // Ours already: a contract there is a collision; one whose
        // creation was undone (no magic) is taken again. The system's and
        // empty: created now.
        let (collision, ours, vacant, fresh, written) =
            (a.label(), a.label(), a.label(), a.label(), a.label());
        a.mov64(R6, layout::STATE_OWNER_ADDR);
        let not_ours = a.label();
        for k in 0..4 {
            a.ldx(Size::Dw, R0, R5, 40 + 8 * k);
            a.ldx(Size::Dw, R1, R6, 8 * k);
            a.jmp(J::Ne, R0, R1, not_ours);
        }
        a.ja(ours);
        a.bind(not_ours);
        for k in 0..4 {
            a.ldx(Size::Dw, R0, R5, 40 + 8 * k);
            a.jmp_imm(J::Ne, R0, 0, bad_state);
        }
        a.ldx(Size::Dw, R0, R5, 80);
        a.jmp_imm(J::Ne, R0, 0, bad_state);
        a.ja(fresh);
        a.bind(ours);
        a.ldx(Size::W, R0, R5, 88);
        a.jmp_imm(J::Eq, R0, storage::BUNDLE_MAGIC as i32, collision);
        a.bind(vacant);
        // It must be writable, else the client is asked for it again (a
        // collision needs no writing).
        a.ldx(Size::B, R0, R5, 2);
        a.jmp_imm(J::Eq, R0, 0, missing);
        a.ldx(Size::Dw, R3, R5, 80);
        a.jmp_imm(J::Lt, R3, storage::CREATED_BYTES as i32, bad_state);
        a.mov(R1, R5);
        a.alu_imm(Alu::Add, R1, 88);
        a.mov64(R2, 0);
        a.syscall("sol_memset_");
        a.ja(written);
        a.bind(fresh);
        a.ldx(Size::B, R0, R5, 2);
        a.jmp_imm(J::Eq, R0, 0, missing);
        crate::solana_rt::need_system_program(a);
        self.create_account();
        let a = &mut self.asm;
        a.bind(written);
        // The value moves now (back if the constructor fails), journalled
        // for a creator that may fail itself.
        let no_value = a.label();
        a.ldx(Size::Dw, R8, R9, VALUE);
        a.jmp_imm(J::Eq, R8, 0, no_value);
        a.ldx(Size::Dw, R7, R9, layout::SELF_KEY);
        crate::solana_rt::journal_if_nested(a, journal, R7, 64, 8);
        a.ldx(Size::Dw, R7, R9, ACCOUNT);
        crate::solana_rt::journal_if_nested(a, journal, R7, 72, 8);
        a.ldx(Size::Dw, R7, R9, layout::SELF_KEY);
        lamports(a, R7, 64, Alu::Sub);
        a.ldx(Size::Dw, R7, R9, ACCOUNT);
        lamports(a, R7, 72, Alu::Add);
        a.bind(no_value);
        // Its prefix and an empty table, the magic journalled first: a
        // failed constructor, or a failure of the creator, leaves the
        // account vacant (taken again by the next creation there).
        let mark = S + 160;
        debug_assert!(mark + 8 <= VALUE);
        a.mov64(R0, journal_at);
        a.ldx(Size::Dw, R0, R0, 0);
        a.stx(Size::Dw, R9, mark, R0);
        a.ldx(Size::Dw, R5, R9, ACCOUNT);
        a.mov(R1, R5);
        a.alu_imm(Alu::Add, R1, 88);
        a.mov64(R2, 8);
        a.call(journal);
        let fail = self.fail;
        let a = &mut self.asm;
        a.jmp_imm(J::Ne, R0, 0, fail);
        a.ldx(Size::Dw, R5, R9, ACCOUNT);
        a.mov64(
            R0,
            u64::from(storage::BUNDLE_MAGIC) | u64::from(CONSTRUCTING) << 32,
        );
        a.stx(Size::Dw, R5, 88, R0);
        a.ldx(Size::B, R0, R9, BUMP);
        a.stx(Size::B, R5, 88 + storage::BUMP as i16, R0);
        for (at, size) in [(12, Size::W), (16, Size::Dw), (24, Size::Dw)] {
            a.ldx(size, R0, R9, ADDRESS + at);
            a.stx(size, R5, 88 + at, R0);
        }
        a.st(Size::Dw, R5, 88 + storage::NONCE as i16, 1);
        let table = 88 + storage::PREFIX as i16;
        a.mov64(R0, storage::MAGIC);
        a.stx(Size::Dw, R5, table, R0);
        a.st(Size::Dw, R5, table + 8, storage::CREATED_CAPACITY as i32);
        a.st(Size::Dw, R5, table + 16, 0);
        a.st(
            Size::Dw,
            R5,
            table + 24,
            64 - storage::CREATED_CAPACITY.trailing_zeros() as i32,
        );
        // The constructor's frame at r6.
        let ok = a.label();
        a.mov(R6, R9);
        a.alu_imm(Alu::Add, R6, stride);
        let a = &mut self.asm;
        super::calls::enter_frame(a, b.stride, None);
        a.ldx(Size::Dw, R0, R9, INIT_PTR);
        a.stx(Size::Dw, R6, layout::CALLDATA_PTR, R0);
        a.ldx(Size::Dw, R0, R9, INIT_LEN);
        a.stx(Size::Dw, R6, layout::CALLDATA_LEN, R0);
        a.st(Size::Dw, R6, layout::STATIC, 0);
        a.ldx(Size::Dw, R5, R9, ACCOUNT);
        a.mov(R0, R5);
        a.alu_imm(Alu::Add, R0, 88);
        a.stx(Size::Dw, R6, layout::SELF_ADDR, R0);
        a.alu_imm(Alu::Add, R0, storage::PREFIX as i32);
        a.stx(Size::Dw, R6, layout::STORAGE, R0);
        a.stx(Size::Dw, R6, layout::CODE_STORAGE, R0);
        a.mov(R0, R5);
        a.alu_imm(Alu::Add, R0, 8);
        a.stx(Size::Dw, R6, layout::SELF_KEY, R0);
        a.ldx(Size::Dw, R0, R9, layout::SELF_KEY);
        a.stx(Size::Dw, R6, layout::CALLER_KEY, R0);
        a.ldx(Size::Dw, R0, R9, layout::SELF_ADDR);
        a.stx(Size::Dw, R6, layout::CALLER_ADDR, R0);
        a.ldx(Size::Dw, R0, R9, VALUE);
        a.stx(Size::Dw, R6, layout::VALUE, R0);
        a.ldx(Size::Dw, R0, R9, mark);
        a.stx(Size::Dw, R6, layout::JOURNAL_MARK, R0);
        a.mov64(R0, logs_at);
        a.ldx(Size::Dw, R0, R0, 0);
        a.stx(Size::Dw, R6, layout::LOG_MARK, R0);
        a.mov64(R1, u64::from(c.init_id));
        let result = a.label();
        super::calls::run_frame(a, b, ok, undo, logs_at);
        // The value goes back.
        let no_value = a.label();
        a.ldx(Size::Dw, R8, R9, VALUE);
        a.jmp_imm(J::Eq, R8, 0, no_value);
        a.ldx(Size::Dw, R7, R9, layout::SELF_KEY);
        lamports(a, R7, 64, Alu::Add);
        a.ldx(Size::Dw, R7, R9, ACCOUNT);
        lamports(a, R7, 72, Alu::Sub);
        a.bind(no_value);
        a.mov64(R0, 0);
        a.stx(Size::Dw, R9, ADDRESS + 24, R0);
        a.stx(Size::Dw, R9, ADDRESS + 16, R0);
        a.stx(Size::W, R9, ADDRESS + 12, R0);
        a.ja(result);
        a.bind(collision);
        a.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 0);
        a.mov64(R0, 0);
        a.stx(Size::Dw, R9, ADDRESS + 24, R0);
        a.stx(Size::Dw, R9, ADDRESS + 16, R0);
        a.stx(Size::W, R9, ADDRESS + 12, R0);
        a.ja(result);
        a.bind(ok);
        self.check_created(c);
        let a = &mut self.asm;
        a.st(Size::Dw, R9, layout::RETURN_DATA_LEN, 0);
        let nested = a.label();
        a.ldx(Size::Dw, R0, R9, layout::DEPTH);
        a.jmp_imm(J::Ne, R0, 0, nested);
        a.mov64(R1, journal_at);
        a.st(Size::Dw, R1, 0, 0);
        a.call(flush);
        a.bind(nested);
        a.bind(result);
        a.mov(R1, R9);
        a.alu_imm(Alu::Add, R1, ADDRESS as i32);
        self.address_at(d);
    }

    /// The code the constructor (frame at `r9 + stride`) returned must be
    /// `c`'s template with each immutable's copies alike, else the program
    /// ends with [`exit::CREATED_CODE`]; the immutables go to their slots
    /// and the account takes the template's code id.
    fn check_created(&mut self, c: &Creatable) {
        let b = self.bundle.expect("in a bundle");
        let stride = b.stride as i32;
        let a = &mut self.asm;
        let wrong = a.label();
        a.mov(R6, R9);
        a.alu_imm(Alu::Add, R6, stride);
        a.ldx(Size::Dw, R7, R6, layout::CALLDATA_PTR);
        a.ldx(Size::Dw, R0, R6, layout::CALLDATA_LEN);
        a.mov64(R1, c.template_len);
        a.jmp(J::Ne, R0, R1, wrong);
        let compare = |a: &mut Asm, at: u64, other: u64, len: u64| {
            a.mov(R1, R7);
            a.alu_imm(Alu::Add, R1, at as i32);
            a.mov64(R2, other);
            a.mov64(R3, len);
            a.mov(R4, R9);
            a.alu_imm(Alu::Add, R4, CMP as i32);
            a.syscall("sol_memcmp_");
            a.ldx(Size::W, R0, R9, CMP);
            a.jmp_imm(J::Ne, R0, 0, wrong);
        };
        for (off, len) in &c.segments {
            compare(
                a,
                u64::from(*off),
                c.template_at + u64::from(*off),
                u64::from(*len),
            );
        }
        for pcs in &c.immutables {
            for pc in &pcs[1..] {
                a.mov(R1, R7);
                a.alu_imm(Alu::Add, R1, *pc as i32 + 1);
                a.mov(R2, R7);
                a.alu_imm(Alu::Add, R2, pcs[0] as i32 + 1);
                a.mov64(R3, 32);
                a.mov(R4, R9);
                a.alu_imm(Alu::Add, R4, CMP as i32);
                a.syscall("sol_memcmp_");
                a.ldx(Size::W, R0, R9, CMP);
                a.jmp_imm(J::Ne, R0, 0, wrong);
            }
        }
        // The immutables into the new table (r6..r9 survive the helper).
        for (i, pcs) in c.immutables.iter().enumerate() {
            let a = &mut self.asm;
            a.mov(R1, R7);
            a.alu_imm(Alu::Add, R1, pcs[0] as i32 + 1);
            crate::runtime::from_be(a, R9, HASH, R1, 0);
            a.mov64(R1, c.keys_at + 32 * i as u64);
            a.mov(R2, R9);
            a.alu_imm(Alu::Add, R2, HASH as i32);
            a.ldx(Size::Dw, R3, R9, ACCOUNT);
            a.alu_imm(Alu::Add, R3, 88 + storage::PREFIX as i32);
            a.mov64(R4, exit::STORAGE_FULL);
            self.call_checked(Helper::TableStore);
        }
        let a = &mut self.asm;
        a.ldx(Size::Dw, R5, R9, ACCOUNT);
        a.mov64(R0, u64::from(c.runtime_id));
        a.stx(Size::W, R5, 88 + 4, R0);
        let end = a.label();
        a.ja(end);
        a.bind(wrong);
        a.mov64(R0, exit::CREATED_CODE);
        a.exit();
        a.bind(end);
    }

    /// Creates the account at `r5` (the system's, no data) as a state
    /// account: a system `CreateAccount` the program signs for with the
    /// seeds at [`SEEDS`], paid by the transaction's signer; an account
    /// someone already sent lamports to gets the rent on top of them (they
    /// stay its balance, as on the EVM), then is allocated and assigned.
    /// The calls are made from the next frame's scratch space (its keys set
    /// for them).
    fn create_account(&mut self) {
        use crate::solana_rt::{NewAccount, system_call};
        let b = self.bundle.expect("in a bundle");
        let rent = (128 + storage::CREATED_BYTES as u64) * u64::from(self.rent_per_byte);
        let space = storage::CREATED_BYTES as i32;
        let a = &mut self.asm;
        // The payer: the outermost frame's caller, the signer, writable and
        // holding the rent above its own rent-exempt minimum (a failed
        // system call would end the transaction).
        let (can_pay, cannot) = (a.label(), a.label());
        a.mov64(R8, layout::HEAP_START);
        a.ldx(Size::Dw, R8, R8, layout::CALLER_KEY);
        a.ldx(Size::B, R0, R8, -6);
        a.jmp_imm(J::Eq, R0, 0, cannot);
        a.mov(R0, R8);
        a.alu_imm(Alu::Add, R0, 64);
        crate::solana_rt::above_rent(a, R0, R4, self.rent_per_byte as i32);
        a.mov64(R1, rent);
        a.jmp(J::Ge, R0, R1, can_pay);
        a.bind(cannot);
        a.mov64(R0, exit::CREATE_RENT);
        a.exit();
        a.bind(can_pay);
        a.mov(R6, R9);
        a.alu_imm(Alu::Add, R6, b.stride as i32);
        // The payer: the outermost frame's caller, the signer.
        a.mov64(R0, layout::HEAP_START);
        a.ldx(Size::Dw, R0, R0, layout::CALLER_KEY);
        a.stx(Size::Dw, R6, layout::CALLER_KEY, R0);
        a.ldx(Size::Dw, R5, R9, ACCOUNT);
        a.mov(R0, R5);
        a.alu_imm(Alu::Add, R0, 8);
        a.stx(Size::Dw, R6, layout::SELF_KEY, R0);
        a.mov64(R0, layout::STATE_OWNER_ADDR);
        a.stx(Size::Dw, R6, layout::SCRATCH + 240, R0);
        for k in 0..3 {
            a.ldx(Size::Dw, R0, R9, SEEDS + 16 * k);
            a.stx(Size::Dw, R6, layout::SCRATCH + 256 + 16 * k, R0);
            a.ldx(Size::Dw, R0, R9, SEEDS + 16 * k + 8);
            a.stx(Size::Dw, R6, layout::SCRATCH + 256 + 16 * k + 8, R0);
        }
        a.mov(R9, R6);
        let (funded, created) = (a.label(), a.label());
        a.ldx(Size::Dw, R7, R9, layout::SELF_KEY);
        a.ldx(Size::Dw, R0, R7, 64);
        a.jmp_imm(J::Ne, R0, 0, funded);
        system_call(
            a,
            NewAccount::Create {
                lamports: rent,
                space,
            },
        );
        a.ja(created);
        a.bind(funded);
        system_call(a, NewAccount::Pay { lamports: rent });
        system_call(a, NewAccount::Allocate { space });
        system_call(a, NewAccount::Assign);
        a.bind(created);
        a.alu_imm(Alu::Sub, R9, b.stride as i32);
        // Agave placed the next account after the data length the account
        // had (none): what it grew by goes in its padding bytes, for walks
        // over the accounts (as `grow` does).
        a.ldx(Size::Dw, R5, R9, ACCOUNT);
        a.st(Size::W, R5, 4, storage::CREATED_BYTES as i32);
        // Solana lets an account created in an instruction grow no further
        // in it: no extension (as after a growth, for every table: the
        // first store past one ends with `storage_full`).
        a.mov64(R0, layout::HEAP_START);
        a.st(Size::Dw, R0, layout::GREW, 1);
    }
}
