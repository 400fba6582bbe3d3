//! The reference interpreter: exact semantics of every operation, on a
//! narrow [`Host`], bounded by an instruction budget, a memory limit and a
//! call depth. It defines what "equivalent" means for translated code.

use crate::entities::{Block, FuncId};
use crate::function::{Module, Terminator};
use crate::inst::{BinOp, CallKind, HostOp, SourcePos, TrapCode};
use crate::types::Type;
use alloy_primitives::U256;
use std::collections::HashMap;

mod env;
mod eval;
mod exec;
mod program;

pub use env::Env;
use eval::{add256, compare_slots, sub256};
pub use eval::{binary, compare, eval_pure, mask};
pub use program::Program;
use program::{DBlock, DEdge, DOp, DTerm};

/// The environment a contract runs in. Only the storage, calldata, code,
/// environment and log methods must be written; the rest default to an empty
/// world (no other accounts, calls fail).
pub trait Host {
    /// Persistent storage read.
    fn sload(&mut self, key: U256) -> U256;
    /// Persistent storage write.
    fn sstore(&mut self, key: U256, value: U256);
    /// Transient storage read.
    fn tload(&mut self, key: U256) -> U256;
    /// Transient storage write.
    fn tstore(&mut self, key: U256, value: U256);
    /// The call's input.
    fn calldata(&self) -> &[u8];
    /// The running contract's code.
    fn code(&self) -> &[u8];
    /// A zero-operand environment value: caller, origin, address, callvalue,
    /// selfbalance, number, timestamp, chainid, basefee, blobbasefee,
    /// coinbase, prevrandao, gaslimit, gasprice, gas.
    fn env(&mut self, op: HostOp) -> U256;
    /// An event.
    fn log(&mut self, topics: &[U256], data: &[u8]);
    /// Called before every host operation and every exit with its source
    /// position, the memory at that point and the instructions run so far;
    /// tracers record here, and hosts that run nested frames share one
    /// budget through it. Does nothing by default.
    fn at(&mut self, _pos: SourcePos, _memory: &[u8], _steps: u64) {}
    /// Whether state changes are forbidden (inside STATICCALL).
    fn is_static(&self) -> bool {
        false
    }
    /// Balance of an account.
    fn balance(&mut self, _address: U256) -> U256 {
        U256::ZERO
    }
    /// Code of an account.
    fn ext_code(&mut self, _address: U256) -> Vec<u8> {
        vec![]
    }
    /// Code hash of an account (0 for a non-existent account).
    fn ext_code_hash(&mut self, _address: U256) -> U256 {
        U256::ZERO
    }
    /// Hash of a recent block.
    fn block_hash(&mut self, _number: U256) -> U256 {
        U256::ZERO
    }
    /// A blob versioned hash of the transaction.
    fn blob_hash(&mut self, _index: U256) -> U256 {
        U256::ZERO
    }
    /// A message call to another account: (success, return data).
    fn call(
        &mut self,
        _kind: CallKind,
        _gas: U256,
        _address: U256,
        _value: U256,
        _input: &[u8],
    ) -> (bool, Vec<u8>) {
        (false, vec![])
    }
    /// The longest init code a creation may run (EIP-3860); a longer one is
    /// an exceptional halt of the creating code (`init_code_too_large`).
    fn max_init_code(&self) -> Option<usize> {
        None
    }
    /// Contract creation: (new address or 0, return data).
    fn create(&mut self, _value: U256, _init_code: &[u8], _salt: Option<U256>) -> (U256, Vec<u8>) {
        (U256::ZERO, vec![])
    }
}

/// A self-contained host for tests and `chainlift ir run`: maps for storage,
/// fixed environment values, recorded logs, no other accounts.
#[derive(Debug, Clone, Default)]
pub struct SimpleHost {
    /// Persistent storage.
    pub storage: HashMap<U256, U256>,
    /// Transient storage.
    pub transient: HashMap<U256, U256>,
    /// The call's input.
    pub calldata: Vec<u8>,
    /// The running contract's code.
    pub code: Vec<u8>,
    /// Environment values; missing ones read as 0.
    pub env: HashMap<&'static str, U256>,
    /// Logs emitted: topics and data.
    pub logs: Vec<(Vec<U256>, Vec<u8>)>,
    /// Whether the context is static.
    pub is_static: bool,
}

impl Host for SimpleHost {
    fn sload(&mut self, key: U256) -> U256 {
        self.storage.get(&key).copied().unwrap_or_default()
    }
    fn sstore(&mut self, key: U256, value: U256) {
        self.storage.insert(key, value);
    }
    fn tload(&mut self, key: U256) -> U256 {
        self.transient.get(&key).copied().unwrap_or_default()
    }
    fn tstore(&mut self, key: U256, value: U256) {
        self.transient.insert(key, value);
    }
    fn calldata(&self) -> &[u8] {
        &self.calldata
    }
    fn code(&self) -> &[u8] {
        &self.code
    }
    fn env(&mut self, op: HostOp) -> U256 {
        self.env.get(op.name()).copied().unwrap_or_default()
    }
    fn log(&mut self, topics: &[U256], data: &[u8]) {
        self.logs.push((topics.to_vec(), data.to_vec()));
    }
    fn is_static(&self) -> bool {
        self.is_static
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `exit.stop`.
    Stop,
    /// `exit.return` with its data.
    Return(Vec<u8>),
    /// `exit.revert` with its data.
    Revert(Vec<u8>),
    /// `exit.selfdestruct` with the beneficiary.
    SelfDestruct(U256),
    /// The entry function returned values (`return`).
    Values(Vec<U256>),
    /// A trap, with where it happened.
    Trap {
        /// Why.
        code: TrapCode,
        /// Where.
        pos: SourcePos,
    },
    /// The instruction budget ran out.
    OutOfBudget {
        /// Where.
        pos: SourcePos,
    },
}

/// Bounds of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Instructions that may execute (copies count one per 32 bytes more).
    pub budget: u64,
    /// Largest memory size in bytes.
    pub memory: usize,
    /// Deepest nesting of IR function calls.
    pub call_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            budget: 50_000_000,
            memory: 64 << 20,
            call_depth: 512,
        }
    }
}

/// The state of a run: linear memory, the last call's return data and the
/// instructions executed.
pub struct Interpreter<'m> {
    module: &'m Module,
    limits: Limits,
    /// Linear memory.
    pub memory: Vec<u8>,
    /// Return data of the last external call.
    pub return_data: Vec<u8>,
    /// Instructions executed so far.
    pub steps: u64,
    /// The EVM stack of `stack.load`/`stack.store`, grown to its 1024
    /// words on first use.
    evm_stack: Vec<U256>,
    /// The module decoded for running.
    decoded: std::sync::Arc<Program>,
    /// Block arguments in flight (a parallel copy).
    scratch: Vec<U256>,
}

/// What a run leaves behind that a later run of the same module instance
/// sees: linear memory and the stack array (where the WASM frontend keeps
/// globals). A contract call starts from the default, empty state; a WASM
/// module instance keeps it between calls of its exports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Linear memory.
    pub memory: Vec<u8>,
    /// The stack array (empty until first used).
    pub stack: Vec<U256>,
}

/// The length of a word in memory.
const WORD: U256 = U256::from_limbs([WORD_LEN as u64, 0, 0, 0]);
/// [`WORD`] as a number of bytes.
const WORD_LEN: usize = 32;

/// Words in the EVM stack `stack.load`/`stack.store` address.
pub const EVM_STACK_WORDS: usize = 1024;

/// A non-local end of execution.
enum Stop {
    Exit(Outcome),
}

type Flow<T> = Result<T, Stop>;

/// Words from their `i64` limbs, four per word, least significant first.
fn words(limbs: &[U256]) -> Vec<U256> {
    limbs
        .chunks(4)
        .map(|c| {
            let mut l = [0u64; 4];
            for (d, s) in l.iter_mut().zip(c) {
                *d = s.as_limbs()[0];
            }
            U256::from_limbs(l)
        })
        .collect()
}

/// `x op y` for the six operations that need no mask at their type
/// (`u64` or `U256`).
macro_rules! wrapping {
    ($op:expr, $x:expr, $y:expr) => {
        match $op {
            BinOp::Add => $x.wrapping_add($y),
            BinOp::Sub => $x.wrapping_sub($y),
            BinOp::Mul => $x.wrapping_mul($y),
            BinOp::And => $x & $y,
            BinOp::Or => $x | $y,
            BinOp::Xor => $x ^ $y,
            _ => unreachable!("decoded only for the six above"),
        }
    };
}

/// The stack word `sp + off` addresses (slot `sp` holds an `i64`).
#[inline(always)]
fn stack_index(vals: &[U256], sp: u32, off: i32) -> u64 {
    vals[sp as usize].as_limbs()[0].wrapping_add(off as u64)
}

fn trap<T>(code: TrapCode, pos: SourcePos) -> Flow<T> {
    Err(Stop::Exit(Outcome::Trap { code, pos }))
}

fn to_usize(v: U256) -> Option<usize> {
    usize::try_from(v).ok()
}

impl<'m> Interpreter<'m> {
    /// A fresh run over `module` with empty memory.
    pub fn new(module: &'m Module, limits: Limits) -> Self {
        Self::with_program(module, std::sync::Arc::new(Program::new(module)), limits)
    }

    /// A fresh run over `module`, decoded as `program` (which must be
    /// `Program::new(module)`; sharing it saves decoding per run).
    pub fn with_program(
        module: &'m Module,
        program: std::sync::Arc<Program>,
        limits: Limits,
    ) -> Self {
        Interpreter {
            module,
            limits,
            memory: vec![],
            return_data: vec![],
            steps: 0,
            evm_stack: vec![],
            decoded: program,
            scratch: vec![],
        }
    }

    /// A run that starts from `state` (see [`State`]).
    pub fn with_state(
        module: &'m Module,
        program: std::sync::Arc<Program>,
        limits: Limits,
        state: State,
    ) -> Self {
        let mut i = Self::with_program(module, program, limits);
        i.memory = state.memory;
        i.evm_stack = state.stack;
        i
    }

    /// The memory and stack array this run leaves.
    pub fn into_state(self) -> State {
        State {
            memory: self.memory,
            stack: self.evm_stack,
        }
    }

    /// Takes edge `e`: its arguments to the target's parameters, in
    /// parallel.
    #[inline(always)]
    fn take(&mut self, vals: &mut [U256], e: &DEdge) -> Block {
        if !e.parallel {
            for (a, p) in &e.moves {
                vals[*p as usize] = vals[*a as usize];
            }
            return e.block;
        }
        self.scratch.clear();
        self.scratch
            .extend(e.moves.iter().map(|(a, _)| vals[*a as usize]));
        for ((_, p), v) in e.moves.iter().zip(&self.scratch) {
            vals[*p as usize] = *v;
        }
        e.block
    }

    /// Runs function `func` with `args` to its end.
    pub fn run(&mut self, host: &mut dyn Host, func: FuncId, args: &[U256]) -> Outcome {
        match self.call(host, func, args, 0) {
            Ok(values) => Outcome::Values(values),
            Err(Stop::Exit(outcome)) => outcome,
        }
    }

    fn tick(&mut self, n: u64, pos: SourcePos) -> Flow<()> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.limits.budget {
            return Err(Stop::Exit(Outcome::OutOfBudget { pos }));
        }
        Ok(())
    }

    /// The memory range `[offset, offset + len)`, checked against the size.
    fn range(&self, offset: U256, len: U256, pos: SourcePos) -> Flow<std::ops::Range<usize>> {
        env::range(self.memory.len(), offset, len, pos).map_err(Stop::Exit)
    }

    /// The run's memory, return data and step count, for host operations
    /// and exits.
    fn env(&mut self) -> Env<'_> {
        Env {
            memory: &mut self.memory,
            return_data: &mut self.return_data,
            steps: &mut self.steps,
            budget: self.limits.budget,
        }
    }

    fn expand(&mut self, offset: U256, len: U256, pos: SourcePos) -> Flow<()> {
        if len.is_zero() {
            return Ok(());
        }
        let end = offset.checked_add(len).and_then(to_usize);
        let Some(end) = end.filter(|e| *e <= self.limits.memory) else {
            return trap(TrapCode::OutOfMemory, pos);
        };
        let size = end.div_ceil(32) * 32;
        if size > self.limits.memory {
            return trap(TrapCode::OutOfMemory, pos);
        }
        if size > self.memory.len() {
            self.tick(((size - self.memory.len()) / 32) as u64, pos)?;
            self.memory.resize(size, 0);
        }
        Ok(())
    }

    fn call(
        &mut self,
        host: &mut dyn Host,
        func: FuncId,
        args: &[U256],
        depth: usize,
    ) -> Flow<Vec<U256>> {
        if depth >= self.limits.call_depth {
            return trap(TrapCode::CallStackExhausted, SourcePos::None);
        }
        let module = self.module;
        let Some(f) = module.functions.get(func.index()) else {
            return trap(TrapCode::BadIndirectCall, SourcePos::None);
        };
        let Some(entry) = f.entry() else {
            return trap(TrapCode::Unreachable, SourcePos::None);
        };
        let mut vals = vec![U256::ZERO; f.values.len()];
        let entry_data = f.block(entry);
        if entry_data.params.len() != args.len() {
            return trap(TrapCode::BadIndirectCall, SourcePos::None);
        }
        for (p, a) in entry_data.params.iter().zip(args) {
            vals[p.index()] = *a & mask(f.ty(*p));
        }
        let mut block = entry;
        let program = std::sync::Arc::clone(&self.decoded);
        let dfunc = program
            .funcs
            .get(func.index())
            .filter(|d| d.blocks.len() == f.blocks.len() && d.values == f.values.len());
        if let Some(d) = dfunc {
            for (r, v) in &d.consts {
                vals[*r as usize] = *v;
            }
        }
        let budget = self.limits.budget;
        'blocks: loop {
            let dblock = dfunc.map(|d| &d.blocks[block.index()]);
            // The block whose instructions run (a guarding block runs on
            // into the blocks it guards), and the steps of the blocks
            // before it in the run.
            let mut cur = block;
            let mut seg_at = 0u64;
            // (The module's block is read only where the decoded one does
            // not say enough: to run an instruction or terminator from it.)
            macro_rules! data {
                () => {
                    f.block(cur)
                };
            }
            // The first instruction to run one by one from the module, with
            // the budget checked per instruction: all of a block that may
            // not fit in the budget, and the rest of one that no longer
            // fits after a host operation or memory growth took steps.
            let mut tail = Some(0);
            let mut term = dblock.map(DBlock::own_term);
            match dblock {
                Some(db) if self.steps.saturating_add(db.cost) <= budget => {
                    // Steps before the block (less what host operations and
                    // memory growth added).
                    let mut base = self.steps;
                    let mut overrun = false;
                    tail = None;
                    term = Some(&db.term);
                    let mut k = 0;
                    while let Some((i, op)) = db.ops.get(k) {
                        // (An operation that runs on through the next ones
                        // of its kind moves these to each in turn.)
                        let (mut i, mut op) = (i, op);
                        let mut at = seg_at + u64::from(*i) + 1;
                        // The steps taken so far, set before an operation
                        // that can see them (memory growth, host
                        // operations, nested calls, traps), and taken
                        // back after one that may take more itself.
                        macro_rules! sync {
                            () => {
                                self.steps = base + at
                            };
                        }
                        macro_rules! rebase {
                            () => {{
                                base = self.steps - at;
                                overrun |= base.saturating_add(db.cost) > budget;
                            }};
                        }
                        macro_rules! inst {
                            () => {
                                &data!().insts[*i as usize]
                            };
                        }
                        // The memory range of the word at `addr`, growing
                        // memory to hold it first when the access (at
                        // index `grow`) follows an expansion.
                        macro_rules! word {
                            ($addr:expr, $grow:expr) => {{
                                let a = vals[*$addr as usize];
                                // Within memory already: no growth, no
                                // steps, in range. (Growth also rounds the
                                // size up to whole words and checks the
                                // limit: only a size that growth leaves as
                                // it is skips it.)
                                let size = self.memory.len();
                                let inside = to_usize(a)
                                    .filter(|o| o.checked_add(WORD_LEN).is_some_and(|e| e <= size));
                                if let Some(o) = inside
                                    && ($grow.is_none()
                                        || (size % WORD_LEN == 0 && size <= self.limits.memory))
                                {
                                    o..o + WORD_LEN
                                } else {
                                    let mut pos = inst!().pos;
                                    if let Some(j) = $grow {
                                        sync!();
                                        self.expand(a, WORD, pos)?;
                                        rebase!();
                                        // The access itself, one step later.
                                        pos = data!().insts[j as usize].pos;
                                        if overrun && base + seg_at + u64::from(j) + 1 > budget {
                                            self.steps = budget + 1;
                                            return Err(Stop::Exit(Outcome::OutOfBudget { pos }));
                                        }
                                    }
                                    match self.range(a, WORD, pos) {
                                        Ok(range) => range,
                                        Err(e) => {
                                            sync!();
                                            return Err(e);
                                        }
                                    }
                                }
                            }};
                        }
                        // A guard: on to the block it guards, or the end
                        // of the guarding block at its failing side.
                        macro_rules! guard {
                            ($g:expr) => {
                                if let DOp::Guard {
                                    c,
                                    ty,
                                    a,
                                    b,
                                    fail_when,
                                    fail,
                                    next,
                                    cost,
                                } = $g
                                {
                                    let holds = compare_slots(*c, *ty, &vals, *a, *b);
                                    seg_at += u64::from(*cost);
                                    if holds == *fail_when {
                                        self.steps = base + seg_at;
                                        block = *fail;
                                        continue 'blocks;
                                    }
                                    cur = *next;
                                }
                            };
                        }
                        // On to the next operation, `$next`, without a
                        // dispatch.
                        macro_rules! advance {
                            ($next:expr) => {{
                                k += 1;
                                (i, op) = (&$next.0, &$next.1);
                                at = seg_at + u64::from(*i) + 1;
                            }};
                        }
                        // On to the next operation when it is of the kind
                        // `$kind` (runs of stack accesses), else out of the
                        // run's loop.
                        macro_rules! run_on {
                            ($kind:pat) => {
                                match db.ops.get(k + 1) {
                                    Some(n @ (_, $kind)) => advance!(n),
                                    _ => break,
                                }
                            };
                        }
                        // A stack access at index `$x` off the stack array
                        // (or before the array exists): from the module,
                        // which traps or makes the array.
                        macro_rules! off_array {
                            ($index:expr, $x:expr) => {{
                                vals[*$index as usize] = U256::from($x);
                                sync!();
                                self.exec(host, f, &mut vals, inst!(), depth)?;
                                rebase!();
                            }};
                        }
                        // A run of stack loads.
                        macro_rules! loads {
                            () => {
                                loop {
                                    let DOp::StackLoadAt { sp, off, index, r } = op else {
                                        unreachable!("a load")
                                    };
                                    let x = stack_index(&vals, *sp, *off);
                                    match usize::try_from(x)
                                        .ok()
                                        .and_then(|x| self.evm_stack.get(x))
                                    {
                                        Some(w) => vals[*r as usize] = *w,
                                        None => {
                                            off_array!(index, x);
                                            if overrun {
                                                break;
                                            }
                                        }
                                    }
                                    run_on!(DOp::StackLoadAt { .. });
                                }
                            };
                        }
                        match op {
                            DOp::Bin { op, ty, a, b, r } => {
                                vals[*r as usize] =
                                    binary(*op, *ty, vals[*a as usize], vals[*b as usize]);
                            }
                            DOp::Bin256 { op, a, b, r } => {
                                let (x, y) = (&vals[*a as usize], &vals[*b as usize]);
                                vals[*r as usize] = match op {
                                    BinOp::Add => add256(x, y),
                                    BinOp::Sub => sub256(x, y),
                                    _ => wrapping!(op, *x, *y),
                                };
                            }
                            DOp::Bin64 { op, a, b, r } => {
                                let (x, y) = (
                                    vals[*a as usize].as_limbs()[0],
                                    vals[*b as usize].as_limbs()[0],
                                );
                                vals[*r as usize] =
                                    U256::from_limbs([wrapping!(op, x, y), 0, 0, 0]);
                            }
                            DOp::Cmp { c, ty, a, b, r } => {
                                let holds = compare_slots(*c, *ty, &vals, *a, *b);
                                vals[*r as usize] = U256::from(holds as u8);
                            }
                            DOp::Expand { offset, len } => {
                                sync!();
                                let pos = inst!().pos;
                                self.expand(vals[*offset as usize], vals[*len as usize], pos)?;
                                rebase!();
                            }
                            DOp::LoadWord { addr, r } => {
                                let range = word!(addr, None::<u32>);
                                vals[*r as usize] = U256::from_be_slice(&self.memory[range]);
                            }
                            DOp::LoadWordGrow { addr, r, at } => {
                                let range = word!(addr, Some(*at));
                                vals[*r as usize] = U256::from_be_slice(&self.memory[range]);
                            }
                            DOp::StoreWord { addr, v } => {
                                let range = word!(addr, None::<u32>);
                                self.memory[range]
                                    .copy_from_slice(&vals[*v as usize].to_be_bytes::<32>());
                            }
                            DOp::StoreWordGrow { addr, v, at } => {
                                let range = word!(addr, Some(*at));
                                self.memory[range]
                                    .copy_from_slice(&vals[*v as usize].to_be_bytes::<32>());
                            }
                            DOp::StackLoadAt { .. } => loads!(),
                            DOp::StackStoreAt { .. } => loop {
                                let DOp::StackStoreAt { sp, off, index, v } = op else {
                                    unreachable!("a store")
                                };
                                let w = vals[*v as usize];
                                let x = stack_index(&vals, *sp, *off);
                                match usize::try_from(x)
                                    .ok()
                                    .and_then(|x| self.evm_stack.get_mut(x))
                                {
                                    Some(slot) => *slot = w,
                                    None => {
                                        off_array!(index, x);
                                        if overrun {
                                            break;
                                        }
                                    }
                                }
                                run_on!(DOp::StackStoreAt { .. });
                            },
                            DOp::Mask { a, ty, r } => {
                                vals[*r as usize] = vals[*a as usize] & mask(*ty);
                            }
                            DOp::Guard { .. } => guard!(op),
                            DOp::Bounds {
                                a,
                                lo,
                                span,
                                cost,
                                next,
                                pair,
                            } => {
                                let x = vals[*a as usize].as_limbs()[0];
                                if x.wrapping_sub(u64::from(*lo)) <= u64::from(*span) {
                                    seg_at += u64::from(*cost);
                                    cur = *next;
                                    // Most checks lead to the loads they
                                    // checked for.
                                    if let Some(n @ (_, DOp::StackLoadAt { .. })) =
                                        db.ops.get(k + 1)
                                    {
                                        advance!(n);
                                        loads!();
                                    }
                                } else {
                                    let pairs = &dfunc.expect("decoded").guard_pairs;
                                    for g in &pairs[*pair as usize] {
                                        guard!(g);
                                    }
                                }
                            }
                            DOp::Slow => {
                                sync!();
                                self.exec(host, f, &mut vals, inst!(), depth)?;
                                rebase!();
                            }
                        }
                        if overrun {
                            // The rest of the block, after the instructions
                            // this operation stands for.
                            let last = match op {
                                DOp::LoadWordGrow { at, .. } | DOp::StoreWordGrow { at, .. } => *at,
                                _ => *i,
                            };
                            tail = Some(last as usize + 1);
                            // The additions the block's later stack
                            // accesses stand in for, which the module's
                            // instructions read.
                            for (_, later) in db.ops[k + 1..].iter().take_while(|(_, o)| {
                                !matches!(o, DOp::Guard { .. } | DOp::Bounds { .. })
                            }) {
                                if let DOp::StackLoadAt { sp, off, index, .. }
                                | DOp::StackStoreAt { sp, off, index, .. } = later
                                    && index != sp
                                {
                                    let i = stack_index(&vals, *sp, *off);
                                    vals[*index as usize] = U256::from(i);
                                }
                            }
                            self.steps = base + seg_at + u64::from(last) + 1;
                            term = dfunc.map(|d| d.blocks[cur.index()].own_term());
                            break;
                        }
                        k += 1;
                    }
                    if !overrun {
                        // The constants skipped and the terminator.
                        self.steps = base + db.cost;
                    }
                }
                _ => {}
            }
            if let Some(tail) = tail {
                let data = data!();
                for inst in &data.insts[tail..] {
                    self.tick(1, inst.pos)?;
                    self.exec(host, f, &mut vals, inst, depth)?;
                }
                self.tick(1, data.term_pos)?;
            }
            match term {
                Some(DTerm::Jump(e)) => {
                    block = self.take(&mut vals, e);
                    continue;
                }
                Some(DTerm::Branch {
                    cond,
                    then_to,
                    else_to,
                }) => {
                    let e = if vals[*cond as usize].is_zero() {
                        else_to
                    } else {
                        then_to
                    };
                    block = self.take(&mut vals, e);
                    continue;
                }
                Some(DTerm::BranchCmp {
                    c,
                    ty,
                    a,
                    b,
                    then_to,
                    else_to,
                }) => {
                    let holds = compare_slots(*c, *ty, &vals, *a, *b);
                    let e = if holds { then_to } else { else_to };
                    block = self.take(&mut vals, e);
                    continue;
                }
                Some(DTerm::Switch {
                    value,
                    keys,
                    cases,
                    default,
                    dense,
                }) => {
                    let v = vals[*value as usize];
                    let e = match u64::try_from(v) {
                        Ok(k) if !dense.is_empty() => match dense.get(k as usize) {
                            Some(&i) if i != 0 => &cases[i as usize - 1],
                            _ => default,
                        },
                        Ok(k) => keys.binary_search(&k).map_or(default, |i| &cases[i]),
                        Err(_) => default,
                    };
                    block = self.take(&mut vals, e);
                    continue;
                }
                _ => {}
            }
            let data = data!();
            let pos = data.term_pos;
            let next = match &data.term {
                Terminator::Jump(c) => c,
                Terminator::Branch {
                    cond,
                    then_to,
                    else_to,
                } => {
                    if vals[cond.index()].is_zero() {
                        else_to
                    } else {
                        then_to
                    }
                }
                Terminator::Switch {
                    value,
                    cases,
                    default,
                } => {
                    let v = vals[value.index()];
                    cases
                        .iter()
                        .find(|(k, _)| *k == v)
                        .map_or(default, |(_, c)| c)
                }
                Terminator::Return(vs) => return Ok(vs.iter().map(|v| vals[v.index()]).collect()),
                Terminator::Exit(kind, vs) => {
                    let mut args: Vec<U256> = vs.iter().map(|v| vals[v.index()]).collect();
                    if vs.first().is_some_and(|v| f.ty(*v) == Type::I64) {
                        args = words(&args);
                    }
                    return Err(Stop::Exit(self.env().exit(host, *kind, &args, pos)));
                }
                Terminator::Trap(code) => return trap(*code, pos),
            };
            block = self.enter(f, &mut vals, next);
        }
    }
}
