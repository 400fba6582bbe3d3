//! Basic blocks and the control-flow graph, with jump targets resolved by
//! abstract interpretation of the stack.
//!
//! Each stack slot holds a small set of constants or "unknown". Blocks are
//! analysed per *context*: the return addresses (JUMPDEST-valued constants)
//! on the stack when the block is entered, so an internal function called from
//! several places returns to each caller separately instead of to all of them.
//! A block gets at most [`CfgOptions::max_contexts`] contexts, at no more
//! than [`CfgOptions::max_heights`] entry heights (and 16 of unknown
//! height); further ones are merged into one catch-all context, which keeps
//! recursion finite. A recursive call string (one return address twice in
//! it) past 8 heights at a block goes on at an unknown height, so the
//! states of a recursion do not grow a frame deeper at every call. States are
//! joined per context and propagated with a worklist to a fixpoint, bounded by
//! [`CfgOptions::budget`] interpreted instructions: when the budget runs out the
//! result is partial and says so.

use crate::disasm::Instruction;
use crate::eval;
use crate::opcode::{self, Flow, op};
use alloy_primitives::U256;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A fast non-cryptographic hasher for the analysis' own keys (block ids,
/// context ids, short call strings): the inputs are not attacker-chosen keys
/// in a long-lived table, and SipHash dominated the profile.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

/// Limits of the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgOptions {
    /// Instructions the abstract interpreter may execute in total.
    pub budget: u64,
    /// Contexts per block before further ones are merged.
    pub max_contexts: usize,
    /// Entry heights per block before contexts at further heights are
    /// merged (recursion enters a block at ever new heights).
    pub max_heights: usize,
    /// Constants a stack slot may hold before it becomes unknown.
    pub max_set: usize,
}

impl Default for CfgOptions {
    fn default() -> Self {
        CfgOptions {
            budget: 3_000_000,
            max_contexts: 512,
            max_heights: 32,
            max_set: 16,
        }
    }
}

/// How a basic block ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Terminator {
    /// JUMP.
    Jump,
    /// JUMPI.
    Branch,
    /// STOP, RETURN, REVERT, INVALID, SELFDESTRUCT or an undefined opcode.
    Halt,
    /// The next instruction is a JUMPDEST (or the code ends: an implicit STOP).
    FallThrough,
}

/// The kind of a control-flow edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// Straight-line flow into a JUMPDEST.
    FallThrough,
    /// An unconditional JUMP.
    Jump,
    /// A JUMPI whose condition held.
    BranchTaken,
    /// A JUMPI whose condition did not hold.
    BranchNotTaken,
}

/// A maximal straight-line run of instructions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    /// Index in [`Cfg::blocks`].
    pub id: usize,
    /// pc of the first instruction.
    pub start: u32,
    /// pc of the last instruction.
    pub end: u32,
    /// Range of indices into the instruction list.
    #[serde(skip)]
    pub instructions: std::ops::Range<usize>,
    /// How the block ends.
    pub terminator: Terminator,
    /// Whether the analysis reached the block from pc 0.
    pub reachable: bool,
}

/// A control-flow edge between two blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Edge {
    /// Source block id.
    pub from: usize,
    /// Destination block id.
    pub to: usize,
    /// What kind of transfer it is.
    pub kind: EdgeKind,
}

/// A jump whose target the analysis could not narrow to constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct UnresolvedJump {
    /// pc of the JUMP or JUMPI.
    pub pc: u32,
    /// Block that ends with it.
    pub block: usize,
}

/// A jump to a constant that is not a JUMPDEST (an exceptional halt if taken).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct InvalidJump {
    /// pc of the JUMP or JUMPI.
    pub pc: u32,
    /// The target, truncated to 64 bits for display.
    pub target: u64,
}

/// The control-flow graph of a code section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cfg {
    /// Blocks in pc order.
    pub blocks: Vec<Block>,
    /// Edges, sorted and without duplicates.
    pub edges: Vec<Edge>,
    /// Reachable jumps with an unknown target, by pc.
    pub unresolved: Vec<UnresolvedJump>,
    /// Reachable jumps to a constant that is not a valid JUMPDEST.
    pub invalid_jumps: Vec<InvalidJump>,
    /// Jumps (by pc) whose targets constant propagation left unknown and that
    /// took the targets dispatch recovery saw instead; they may have others.
    #[serde(skip)]
    pub hinted: Vec<u32>,
    /// Stack heights each block was reached with (sorted), by block id.
    #[serde(skip)]
    pub heights: Vec<Vec<u32>>,
    /// Blocks also reached with a stack of unknown height.
    #[serde(skip)]
    pub open_heights: Vec<bool>,
    /// Whether the budget ran out (the result is then partial).
    pub budget_exhausted: bool,
    /// Instructions interpreted.
    pub steps: u64,
}

impl Cfg {
    /// Number of blocks reached from pc 0.
    pub fn reached(&self) -> usize {
        self.blocks.iter().filter(|b| b.reachable).count()
    }

    /// Whether the analysis saw block `id` entered with `height` stack items
    /// (or with an unknown height, or ran out of budget, so it cannot say no).
    pub fn reached_at(&self, id: usize, height: usize) -> bool {
        self.budget_exhausted
            || self.open_heights.get(id).copied().unwrap_or(true)
            || self
                .heights
                .get(id)
                .is_some_and(|h| h.binary_search(&(height as u32)).is_ok())
    }

    /// The block starting at `pc`, if any.
    pub fn block_at(&self, pc: u32) -> Option<&Block> {
        self.blocks
            .binary_search_by_key(&pc, |b| b.start)
            .ok()
            .map(|i| &self.blocks[i])
    }
}

/// An abstract stack value: a small set of constants, or unknown. A constant
/// that came straight from a PUSH (possibly moved by DUP/SWAP) is kept apart:
/// only such constants count as return addresses in a context, so loop
/// counters that happen to equal a JUMPDEST offset do not unroll loops.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Val {
    Top,
    /// A constant straight from a PUSH.
    Pushed(U256),
    /// A computed constant.
    Const(U256),
    /// Two or more constants, sorted.
    Set(Vec<U256>),
}

impl Val {
    fn one(v: U256) -> Val {
        Val::Const(v)
    }

    fn from_vec(mut v: Vec<U256>) -> Val {
        if v.len() == 1 {
            Val::Const(v[0])
        } else {
            v.sort();
            Val::Set(v)
        }
    }

    fn set(&self) -> Option<&[U256]> {
        match self {
            Val::Top => None,
            Val::Pushed(v) | Val::Const(v) => Some(std::slice::from_ref(v)),
            Val::Set(s) => Some(s),
        }
    }

    /// Whether every constant `other` may be is one `self` may be.
    fn covers(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Top, _) => true,
            (_, Val::Top) => false,
            (Val::Pushed(a), Val::Pushed(b)) => a == b,
            (Val::Pushed(_), _) => false,
            (a, b) => {
                let (a, b) = (a.set().unwrap_or_default(), b.set().unwrap_or_default());
                b.iter().all(|v| a.contains(v))
            }
        }
    }

    fn join(&self, other: &Val, max: usize, is_code: &dyn Fn(&U256) -> bool) -> Val {
        if let (Val::Pushed(a), Val::Pushed(b)) = (self, other)
            && a == b
        {
            return self.clone();
        }
        match (self.set(), other.set()) {
            (Some(a), Some(b)) => {
                if a == b {
                    return Val::from_vec(a.to_vec());
                }
                let mut out = a.to_vec();
                for v in b.iter() {
                    if !out.contains(v) {
                        out.push(*v);
                    }
                }
                // Code addresses (return addresses) are finitely many and
                // losing one leaves a jump unresolved: their sets may grow
                // larger than other sets.
                let limit = if out.iter().all(is_code) {
                    max * MAX_CODE_SET_FACTOR
                } else {
                    max
                };
                if out.len() > limit {
                    Val::Top
                } else {
                    Val::from_vec(out)
                }
            }
            _ => Val::Top,
        }
    }
}

/// An abstract stack: known slots (bottom first) above an unknown number of
/// unknown slots when `open`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stack {
    vals: Vec<Val>,
    open: bool,
}

/// Stack overflow or underflow: the path halts exceptionally.
struct Halted;

impl Stack {
    fn pop(&mut self) -> Result<Val, Halted> {
        match self.vals.pop() {
            Some(v) => Ok(v),
            None if self.open => Ok(Val::Top),
            None => Err(Halted),
        }
    }

    fn push(&mut self, v: Val) -> Result<(), Halted> {
        if self.vals.len() >= 1024 {
            return Err(Halted);
        }
        self.vals.push(v);
        Ok(())
    }

    /// Makes sure at least `n` slots are materialised (padding an open stack
    /// with unknowns), or fails on a closed stack that is too short.
    fn ensure(&mut self, n: usize) -> Result<(), Halted> {
        if self.vals.len() >= n {
            return Ok(());
        }
        if !self.open || n > 1024 {
            return Err(Halted);
        }
        let pad = n - self.vals.len();
        self.vals.splice(0..0, std::iter::repeat_n(Val::Top, pad));
        Ok(())
    }

    fn dup(&mut self, n: usize) -> Result<(), Halted> {
        self.ensure(n)?;
        let v = self.vals[self.vals.len() - n].clone();
        self.push(v)
    }

    fn swap(&mut self, a: usize, b: usize) -> Result<(), Halted> {
        self.ensure(a.max(b) + 1)?;
        let len = self.vals.len();
        self.vals.swap(len - 1 - a, len - 1 - b);
        Ok(())
    }

    /// Whether `self` already covers `other` (joining would change nothing).
    fn absorbs(&self, other: &Stack) -> bool {
        if self.vals.len() > other.vals.len() || (other.open && !self.open) {
            return false;
        }
        if self.vals.len() < other.vals.len() && !self.open {
            return false;
        }
        let tail = &other.vals[other.vals.len() - self.vals.len()..];
        self.vals.iter().zip(tail).all(|(a, b)| a.covers(b))
    }

    /// `joined` (the join of `self` and a new state) with every slot that
    /// differs from `self` made unknown.
    /// Sets of code addresses are not widened: there are finitely many.
    fn widen(&self, mut joined: Stack, is_code: &dyn Fn(&U256) -> bool) -> Stack {
        let offset = self.vals.len() - joined.vals.len();
        for (i, v) in joined.vals.iter_mut().enumerate() {
            if *v != self.vals[offset + i] && !v.set().is_some_and(|s| s.iter().all(is_code)) {
                *v = Val::Top;
            }
        }
        joined
    }

    fn join(&self, other: &Stack, max: usize, is_code: &dyn Fn(&U256) -> bool) -> Stack {
        let n = self.vals.len().min(other.vals.len());
        let a = &self.vals[self.vals.len() - n..];
        let b = &other.vals[other.vals.len() - n..];
        Stack {
            vals: a
                .iter()
                .zip(b)
                .map(|(x, y)| x.join(y, max, is_code))
                .collect(),
            open: self.open || other.open || self.vals.len() != other.vals.len(),
        }
    }
}

/// Inputs shared by the whole analysis.
struct Code<'a> {
    bytes: &'a [u8],
    instructions: &'a [Instruction],
    /// Valid JUMPDEST offsets (over the whole bytecode).
    jumpdests: &'a [bool],
    /// End of the analysed code section.
    code_end: usize,
    /// Block index by pc, for pcs that start a block.
    block_of: HashMap<u32, usize>,
    /// Targets known from elsewhere for jumps constant propagation cannot
    /// resolve (table-driven dispatch seen by the dispatch executor).
    hints: &'a HashMap<u32, Vec<u32>>,
}

impl Code<'_> {
    fn target(&self, t: &U256) -> Option<usize> {
        let t = usize::try_from(*t).ok()?;
        if t < self.code_end && self.jumpdests.get(t) == Some(&true) {
            self.block_of.get(&(t as u32)).copied()
        } else {
            None
        }
    }

    fn is_jumpdest_value(&self, v: &U256) -> bool {
        usize::try_from(*v).is_ok_and(|t| t < self.code_end && self.jumpdests.get(t) == Some(&true))
    }

    /// Whether the JUMPDEST at `pc` follows a JUMP: where a call returns to
    /// (compilers place the return label right after the call's jump).
    fn follows_jump(&self, pc: u32) -> bool {
        let i = self.instructions.partition_point(|ins| ins.pc < pc);
        i > 0 && self.instructions.get(i).is_some_and(|ins| ins.pc == pc) && {
            self.instructions[i - 1].opcode == op::JUMP
        }
    }

    /// Whether a context's call string holds one return address twice: a
    /// recursion, direct or through other functions.
    fn recursive(&self, key: &ContextKey) -> bool {
        let addresses = &key[1..];
        addresses
            .iter()
            .enumerate()
            .any(|(i, a)| *a != u32::MAX && addresses[i + 1..].contains(a) && self.follows_jump(*a))
    }
}

/// Splits the instructions of the code section into basic blocks.
pub fn basic_blocks(instructions: &[Instruction]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut start = 0usize;
    for (i, ins) in instructions.iter().enumerate() {
        let flow = ins.flow();
        let next_is_dest = instructions
            .get(i + 1)
            .is_some_and(|n| n.flow() == Flow::JumpDest);
        let terminator = match flow {
            Flow::Jump => Some(Terminator::Jump),
            Flow::JumpI => Some(Terminator::Branch),
            Flow::Halt => Some(Terminator::Halt),
            _ if next_is_dest || i + 1 == instructions.len() => Some(Terminator::FallThrough),
            _ => None,
        };
        if let Some(terminator) = terminator {
            blocks.push(Block {
                id: blocks.len(),
                start: instructions[start].pc,
                end: ins.pc,
                instructions: start..i + 1,
                terminator,
                reachable: false,
            });
            start = i + 1;
        }
    }
    blocks
}

fn eval_set(opcode: u8, args: &[Val], max: usize) -> Val {
    // Fast path: every argument is one constant.
    let mut single = [U256::ZERO; 3];
    let mut all_single = args.len() <= 3;
    for (k, a) in args.iter().enumerate() {
        match a {
            Val::Pushed(v) | Val::Const(v) if k < 3 => single[k] = *v,
            Val::Top => return Val::Top,
            _ => all_single = false,
        }
    }
    if all_single {
        return eval::pure(opcode, &single[..args.len()]).map_or(Val::Top, Val::Const);
    }
    let mut sets = Vec::with_capacity(args.len());
    for a in args {
        match a.set() {
            Some(s) => sets.push(s),
            None => return Val::Top,
        }
    }
    let combos: usize = sets.iter().map(|s| s.len()).product();
    if combos > max * 4 {
        return Val::Top;
    }
    let mut out: Vec<U256> = Vec::new();
    let mut idx = vec![0usize; sets.len()];
    let mut buf = vec![U256::ZERO; sets.len()];
    for _ in 0..combos {
        for (k, s) in sets.iter().enumerate() {
            buf[k] = s[idx[k]];
        }
        match eval::pure(opcode, &buf) {
            Some(v) if !out.contains(&v) => out.push(v),
            Some(_) => {}
            None => return Val::Top,
        }
        if out.len() > max {
            return Val::Top;
        }
        for k in 0..idx.len() {
            idx[k] += 1;
            if idx[k] < sets[k].len() {
                break;
            }
            idx[k] = 0;
        }
    }
    Val::from_vec(out)
}

/// What running a block's body produced: the exit stack and the jump operands.
enum Exit {
    /// The path halted (explicitly or by stack error).
    Halt,
    /// Continues to the next block.
    Fall(Stack),
    /// JUMP with this target.
    Jump(Stack, Val),
    /// JUMPI with this target and condition.
    Branch(Stack, Val, Val),
}

fn run_block(code: &Code, block: &Block, mut st: Stack, max: usize, steps: &mut u64) -> Exit {
    for ins in &code.instructions[block.instructions.clone()] {
        *steps += 1;
        match step(code, ins, &mut st, max) {
            Ok(None) => {}
            Ok(Some(exit)) => return exit,
            Err(Halted) => return Exit::Halt,
        }
    }
    Exit::Fall(st)
}

fn step(
    code: &Code,
    ins: &Instruction,
    st: &mut Stack,
    max: usize,
) -> Result<Option<Exit>, Halted> {
    let Some(info) = ins.info else {
        return Ok(Some(Exit::Halt));
    };
    let op = ins.opcode;
    match op {
        op::JUMP => {
            let t = st.pop()?;
            return Ok(Some(Exit::Jump(
                std::mem::replace(
                    st,
                    Stack {
                        vals: vec![],
                        open: false,
                    },
                ),
                t,
            )));
        }
        op::JUMPI => {
            let t = st.pop()?;
            let c = st.pop()?;
            return Ok(Some(Exit::Branch(
                std::mem::replace(
                    st,
                    Stack {
                        vals: vec![],
                        open: false,
                    },
                ),
                t,
                c,
            )));
        }
        _ if info.flow == Flow::Halt => {
            for _ in 0..info.inputs {
                st.pop()?;
            }
            return Ok(Some(Exit::Halt));
        }
        op::PUSH0..=op::PUSH32 => st.push(Val::Pushed(ins.push_value(code.bytes)))?,
        op::DUP1..=op::DUP16 => st.dup((op - op::DUP1 + 1) as usize)?,
        op::SWAP1..=op::SWAP16 => st.swap(0, (op - op::SWAP1 + 1) as usize)?,
        op::DUPN..=op::EXCHANGE => {
            let imm = *ins.immediate(code.bytes).first().ok_or(Halted)?;
            match op {
                op::DUPN => st.dup(opcode::decode_single(imm).ok_or(Halted)?)?,
                op::SWAPN => st.swap(0, opcode::decode_single(imm).ok_or(Halted)?)?,
                _ => {
                    let (n, m) = opcode::decode_pair(imm).ok_or(Halted)?;
                    st.swap(n, m)?
                }
            }
        }
        op::PC => st.push(Val::one(U256::from(ins.pc)))?,
        op::CODESIZE => st.push(Val::one(U256::from(code.bytes.len())))?,
        _ if eval::is_pure(op) => {
            let n = info.inputs as usize;
            let mut args: [Val; 3] = [Val::Top, Val::Top, Val::Top];
            for slot in args.iter_mut().take(n) {
                *slot = st.pop()?;
            }
            st.push(eval_set(op, &args[..n], max))?;
        }
        _ => {
            for _ in 0..info.inputs {
                st.pop()?;
            }
            for _ in 0..info.outputs {
                st.push(Val::Top)?;
            }
        }
    }
    Ok(None)
}

/// How much larger than other sets a set of code addresses may grow.
const MAX_CODE_SET_FACTOR: usize = 4;

/// Changes a state may go through before its changing slots are widened.
const WIDEN_AFTER: u8 = 3;

/// Contexts of unknown height one block may take.
const MAX_OPEN_CONTEXTS: usize = 16;

/// How many of the nearest return addresses make up a context.
const CONTEXT_DEPTH: usize = 8;

/// The context of a state: the nearest return addresses (JUMPDEST-valued
/// constants, from the top of the stack) it carries, a call string of length
/// [`CONTEXT_DEPTH`].
fn context_key(code: &Code, st: &Stack) -> ContextKey {
    // The exact height comes first: states of different heights never join,
    // since joining them would misalign every slot below the top. Unused
    // entries are `u32::MAX`, which no code address is.
    let mut key = [u32::MAX; CONTEXT_DEPTH + 1];
    key[0] = if st.open {
        u32::MAX - 1
    } else {
        st.vals.len() as u32
    };
    let addresses = st.vals.iter().rev().filter_map(|v| match v {
        Val::Pushed(p) if code.is_jumpdest_value(p) => Some(p.to::<u32>()),
        _ => None,
    });
    for (slot, a) in key[1..].iter_mut().zip(addresses) {
        *slot = a;
    }
    key
}

/// Entry heights a block takes from a recursive call string before its
/// state goes on at an unknown height.
const MAX_RECURSIVE_HEIGHTS: usize = 8;

/// A context: the height, then up to [`CONTEXT_DEPTH`] return addresses.
type ContextKey = [u32; CONTEXT_DEPTH + 1];

/// The catch-all context of a block once it has too many.
const MERGED: ContextKey = [u32::MAX; CONTEXT_DEPTH + 1];

/// Builds the CFG of the code section `bytes[..code_end]`.
///
/// `instructions` must be the disassembly of the code section and `jumpdests`
/// the JUMPDEST analysis of the whole `bytes`. `hints` gives targets observed
/// elsewhere for jumps whose target stays unknown here; a hinted jump is still
/// listed as unresolved if a hint misses a target.
pub fn build(
    bytes: &[u8],
    instructions: &[Instruction],
    jumpdests: &[bool],
    code_end: usize,
    hints: &HashMap<u32, Vec<u32>>,
    options: CfgOptions,
) -> Cfg {
    let mut blocks = basic_blocks(instructions);
    let block_of = blocks.iter().map(|b| (b.start, b.id)).collect();
    let code = Code {
        bytes,
        instructions,
        jumpdests,
        code_end,
        block_of,
        hints,
    };
    let max = options.max_set.max(1);

    // Contexts are interned: id 0 is the catch-all context.
    let mut context_ids: FastMap<ContextKey, u32> = FastMap::default();
    context_ids.insert(MERGED, 0);
    let mut states: FastMap<(usize, u32), (Stack, u8)> = FastMap::default();
    let mut contexts: Vec<usize> = vec![0; blocks.len()];
    let mut heights: Vec<Vec<u32>> = vec![vec![]; blocks.len()];
    let mut open_contexts: Vec<usize> = vec![0; blocks.len()];
    // The worklist is ordered by block, so straight-line code converges in
    // one sweep, and holds each (block, context) once.
    let mut queue: BTreeSet<(usize, u32)> = BTreeSet::new();
    let mut edges: HashSet<Edge> = HashSet::new();
    let mut unresolved: HashSet<UnresolvedJump> = HashSet::new();
    let mut invalid: HashSet<InvalidJump> = HashSet::new();
    let mut hinted: HashSet<u32> = HashSet::new();
    let mut steps = 0u64;
    let mut exhausted = false;

    let mut propagate = |to: usize,
                         mut st: Stack,
                         states: &mut FastMap<(usize, u32), (Stack, u8)>,
                         queue: &mut BTreeSet<(usize, u32)>| {
        let mut key = context_key(&code, &st);
        // A recursion enters its blocks a frame higher each call, and each
        // height makes the states of all its blocks a frame deeper (time
        // that grows with the square of the heights): past a few heights
        // at a block, its state goes on at an unknown height, keeping its
        // return addresses.
        if !st.open
            && heights[to].len() >= MAX_RECURSIVE_HEIGHTS
            && !heights[to].contains(&key[0])
            && code.recursive(&key)
        {
            st.open = true;
            key = context_key(&code, &st);
        }
        let height = key[0];
        let next_id = context_ids.len() as u32;
        let mut ctx = *context_ids.entry(key).or_insert(next_id);
        if !states.contains_key(&(to, ctx)) {
            // A block entered at ever new heights is in a recursion (each
            // call a frame higher): past a few heights, like past too many
            // contexts, further entries join the catch-all context.
            let seen = &mut heights[to];
            let new_height = !seen.contains(&height);
            // States of unknown height (past a merge) still carry return
            // addresses, and recursion through merged code would make a
            // context of each call string: a block takes a few, then the
            // catch-all context takes the rest.
            let open = height == u32::MAX - 1;
            let too_many_open = open && open_contexts[to] >= MAX_OPEN_CONTEXTS;
            if contexts[to] >= options.max_contexts
                || (new_height && seen.len() >= options.max_heights)
                || too_many_open
            {
                ctx = 0;
            } else {
                contexts[to] += 1;
                if new_height {
                    seen.push(height);
                }
                open_contexts[to] += usize::from(open);
            }
        }
        match states.get_mut(&(to, ctx)) {
            Some((old, changes)) => {
                if !old.absorbs(&st) {
                    let is_code = |v: &U256| code.is_jumpdest_value(v);
                    let joined = old.join(&st, max, &is_code);
                    // Widening: a state that keeps changing (a loop counter
                    // growing a set) gives up on the slots that change.
                    *changes = changes.saturating_add(1);
                    *old = if *changes > WIDEN_AFTER {
                        old.widen(joined, &is_code)
                    } else {
                        joined
                    };
                    queue.insert((to, ctx));
                }
            }
            None => {
                states.insert((to, ctx), (st, 0));
                queue.insert((to, ctx));
            }
        }
    };

    if !blocks.is_empty() {
        propagate(
            0,
            Stack {
                vals: vec![],
                open: false,
            },
            &mut states,
            &mut queue,
        );
    }
    while let Some((id, key)) = queue.pop_first() {
        if steps >= options.budget {
            exhausted = true;
            break;
        }
        // A copy with room to push, so the block's pushes do not reallocate.
        let Some(st) = states.get(&(id, key)).map(|(st, _)| {
            let mut vals = Vec::with_capacity(st.vals.len() + 16);
            vals.extend_from_slice(&st.vals);
            Stack {
                vals,
                open: st.open,
            }
        }) else {
            continue;
        };
        let block = &blocks[id];
        let last_pc = block.end;
        match run_block(&code, block, st, max, &mut steps) {
            Exit::Halt => {}
            Exit::Fall(st) => {
                if id + 1 < blocks.len()
                    && blocks[id + 1].start == block.end + instruction_len(&code, block)
                {
                    edges.insert(Edge {
                        from: id,
                        to: id + 1,
                        kind: EdgeKind::FallThrough,
                    });
                    propagate(id + 1, st, &mut states, &mut queue);
                }
            }
            Exit::Jump(st, target) => {
                jump_edges(
                    &code,
                    id,
                    last_pc,
                    &target,
                    EdgeKind::Jump,
                    &mut edges,
                    &mut unresolved,
                    &mut invalid,
                    &mut hinted,
                )
                .into_iter()
                .for_each(|to| propagate(to, st.clone(), &mut states, &mut queue));
            }
            Exit::Branch(st, target, cond) => {
                let (may_take, may_skip) = match cond.set() {
                    Some(s) => (
                        s.iter().any(|v| !v.is_zero()),
                        s.iter().any(|v| v.is_zero()),
                    ),
                    None => (true, true),
                };
                if may_take {
                    jump_edges(
                        &code,
                        id,
                        last_pc,
                        &target,
                        EdgeKind::BranchTaken,
                        &mut edges,
                        &mut unresolved,
                        &mut invalid,
                        &mut hinted,
                    )
                    .into_iter()
                    .for_each(|to| propagate(to, st.clone(), &mut states, &mut queue));
                }
                if may_skip && id + 1 < blocks.len() {
                    edges.insert(Edge {
                        from: id,
                        to: id + 1,
                        kind: EdgeKind::BranchNotTaken,
                    });
                    propagate(id + 1, st, &mut states, &mut queue);
                }
            }
        }
    }

    let mut heights: Vec<Vec<u32>> = vec![vec![]; blocks.len()];
    let mut open_heights = vec![false; blocks.len()];
    for ((id, _), (st, _)) in &states {
        blocks[*id].reachable = true;
        if st.open {
            open_heights[*id] = true;
        } else if !heights[*id].contains(&(st.vals.len() as u32)) {
            heights[*id].push(st.vals.len() as u32);
        }
    }
    heights.iter_mut().for_each(|h| h.sort_unstable());
    let mut edges: Vec<Edge> = edges.into_iter().collect();
    edges.sort();
    let mut unresolved: Vec<UnresolvedJump> = unresolved.into_iter().collect();
    unresolved.sort();
    let mut invalid_jumps: Vec<InvalidJump> = invalid.into_iter().collect();
    invalid_jumps.sort();
    let mut hinted: Vec<u32> = hinted.into_iter().collect();
    hinted.sort();
    Cfg {
        blocks,
        edges,
        unresolved,
        invalid_jumps,
        hinted,
        heights,
        open_heights,
        budget_exhausted: exhausted,
        steps,
    }
}

fn instruction_len(code: &Code, block: &Block) -> u32 {
    code.instructions
        .get(block.instructions.end.saturating_sub(1))
        .map_or(1, |i| i.next_pc() - i.pc)
}

#[allow(clippy::too_many_arguments)]
fn jump_edges(
    code: &Code,
    from: usize,
    pc: u32,
    target: &Val,
    kind: EdgeKind,
    edges: &mut HashSet<Edge>,
    unresolved: &mut HashSet<UnresolvedJump>,
    invalid: &mut HashSet<InvalidJump>,
    hinted: &mut HashSet<u32>,
) -> Vec<usize> {
    let mut out = Vec::new();
    let from_hint;
    let target = match (target, code.hints.get(&pc)) {
        (Val::Top, Some(h)) => {
            hinted.insert(pc);
            from_hint = Val::Set(h.iter().map(|t| U256::from(*t)).collect());
            &from_hint
        }
        _ => target,
    };
    match target.set() {
        None => {
            unresolved.insert(UnresolvedJump { pc, block: from });
        }
        Some(targets) => {
            for t in targets.iter() {
                match code.target(t) {
                    Some(to) => {
                        edges.insert(Edge { from, to, kind });
                        out.push(to);
                    }
                    None => {
                        invalid.insert(InvalidJump {
                            pc,
                            target: t.saturating_to::<u64>(),
                        });
                    }
                }
            }
        }
    }
    out
}
