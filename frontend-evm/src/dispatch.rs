//! Dispatch recovery: the external function selectors of a contract, the pc
//! where each function's code starts, and its fallback and receive entries.
//!
//! A small path-sensitive symbolic executor runs the dispatcher from pc 0.
//! Values are constants or expressions over the unknown inputs (the first
//! calldata word, the calldata size, everything else opaque). The selector is
//! recognised in the forms compilers produce (`shr(224, calldataload(0))`,
//! `div(calldataload(0), 2**224)`, masked with `0xffffffff`). At a JUMPI:
//!
//! - a condition that, when true, implies `selector == c` records `c` with the
//!   jump target as its entry and follows only the other side;
//! - one that, when false, implies it (`xor`, `sub`, `iszero(eq(..))`) records
//!   `c` at the fall-through and follows the jump;
//! - any other unknown condition (binary-search splits on the selector,
//!   calldata-size and call-value checks) forks both ways.
//!
//! Reducing the selector to a small range (Vyper's `selector % buckets` and
//! masks) forks one path per possible value, so bucketed jump tables, which
//! then run on constants read by CODECOPY, are followed like any other code.
//!
//! A path that leaves the dispatcher without matching a selector is a
//! fallback (or, when the calldata is known to be empty, a receive) path unless
//! it only reverts. Exploration is bounded by a total instruction budget, a
//! path count and a per-path loop bound.

use crate::disasm::Instruction;
use crate::eval;
use crate::opcode::{self, Flow, op};
use alloy_primitives::U256;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// Limits of dispatch recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchOptions {
    /// Instructions executed over all paths.
    pub budget: u64,
    /// Paths explored.
    pub max_paths: usize,
    /// Times one path may pass the same JUMPI on an unknown condition.
    pub max_loop: u8,
}

impl Default for DispatchOptions {
    fn default() -> Self {
        DispatchOptions {
            budget: 400_000,
            max_paths: 8192,
            max_loop: 3,
        }
    }
}

/// An external function found in the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Selector {
    /// The 4-byte selector.
    pub selector: u32,
    /// pc where the function's code starts (the dispatcher's jump target).
    pub entry_pc: u32,
}

/// What dispatch recovery found.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Dispatch {
    /// Selectors, sorted by value, each once.
    pub selectors: Vec<Selector>,
    /// Entry of the fallback function, when calls that match no selector do
    /// more than revert.
    pub fallback: Option<u32>,
    /// Entry of the receive function (calls with empty calldata), when it
    /// differs from the fallback.
    pub receive: Option<u32>,
    /// Whether a bound stopped the exploration (the result may be partial).
    pub exhausted: bool,
    /// Paths explored.
    pub paths: usize,
    /// Jump targets the executor saw taken, by the pc of the JUMP or JUMPI:
    /// table-driven jumps the CFG's constant propagation cannot resolve.
    #[serde(skip)]
    pub observed_jumps: Vec<(u32, Vec<u32>)>,
}

#[derive(Debug, PartialEq, Eq)]
enum Expr {
    /// `calldataload(0)`.
    Calldata0,
    /// The 4-byte selector, right-aligned.
    Selector,
    /// `calldatasize()`.
    CdSize,
    /// A pure operation on at least one unknown.
    Op(u8, Vec<Val>),
    /// Anything else.
    Opaque,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    C(U256),
    S(Rc<Expr>),
}

impl Val {
    fn opaque() -> Val {
        Val::S(Rc::new(Expr::Opaque))
    }
    fn expr(&self) -> Option<&Expr> {
        match self {
            Val::S(e) => Some(e),
            Val::C(_) => None,
        }
    }
    fn konst(&self) -> Option<U256> {
        match self {
            Val::C(c) => Some(*c),
            Val::S(_) => None,
        }
    }
    fn is_selector(&self) -> bool {
        self.expr() == Some(&Expr::Selector)
    }
    fn is_cdsize(&self) -> bool {
        self.expr() == Some(&Expr::CdSize)
    }
}

fn depth(v: &Val) -> usize {
    match v.expr() {
        Some(Expr::Op(_, args)) => 1 + args.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Builds the value of pure operation `op` on `args`, folding constants and
/// recognising the selector.
fn apply(op: u8, args: Vec<Val>) -> Val {
    if let Some(consts) = args.iter().map(Val::konst).collect::<Option<Vec<_>>>() {
        return eval::pure(op, &consts).map_or_else(Val::opaque, Val::C);
    }
    let k = |i: usize| args.get(i).and_then(Val::konst);
    let e = |i: usize| args.get(i).and_then(Val::expr);
    let shift224 = U256::from(1) << 224;
    let low32 = U256::from(0xffff_ffffu64);
    let selector = Val::S(Rc::new(Expr::Selector));
    match op {
        // shr(224, calldataload(0))
        op::SHR if k(0) == Some(U256::from(224)) && e(1) == Some(&Expr::Calldata0) => {
            return selector;
        }
        // div(calldataload(0), 2**224)
        op::DIV if e(0) == Some(&Expr::Calldata0) && k(1) == Some(shift224) => return selector,
        // and(selector, 0xffffffff) in either order
        op::AND
            if (args[0].is_selector() && k(1).is_some_and(|m| m & low32 == low32))
                || (args[1].is_selector() && k(0).is_some_and(|m| m & low32 == low32)) =>
        {
            return selector;
        }
        _ => {}
    }
    if args.iter().map(depth).max().unwrap_or(0) >= 16 {
        return Val::opaque();
    }
    Val::S(Rc::new(Expr::Op(op, args)))
}

/// The selector `c` such that `cond == truth` implies `selector == c`.
fn implies(cond: &Val, truth: bool) -> Option<u32> {
    let Expr::Op(op, args) = cond.expr()? else {
        return None;
    };
    let pair = || -> Option<u32> {
        let (a, b) = (&args[0], &args[1]);
        let c = if a.is_selector() {
            b.konst()?
        } else if b.is_selector() {
            a.konst()?
        } else {
            return None;
        };
        u32::try_from(c).ok()
    };
    match (*op, truth) {
        (op::EQ, true) => pair(),
        (op::ISZERO, _) => implies(&args[0], !truth),
        (op::XOR | op::SUB, false) => pair(),
        (op::AND, true) => implies(&args[0], true).or_else(|| implies(&args[1], true)),
        (op::OR, false) => implies(&args[0], false).or_else(|| implies(&args[1], false)),
        _ => None,
    }
}

/// Whether `cond == truth` says the calldata is empty (`Some(true)`) or not.
fn calldata_empty(cond: &Val, truth: bool) -> Option<bool> {
    if cond.is_cdsize() {
        return Some(!truth);
    }
    let Expr::Op(op, args) = cond.expr()? else {
        return None;
    };
    let k = |i: usize| args.get(i).and_then(Val::konst);
    match *op {
        op::ISZERO => calldata_empty(&args[0], !truth),
        // lt(calldatasize, c) false, or gt(c, calldatasize) false: size >= c > 0
        op::LT if args[0].is_cdsize() && !truth && k(1).is_some_and(|c| !c.is_zero()) => {
            Some(false)
        }
        op::GT if args[1].is_cdsize() && !truth && k(0).is_some_and(|c| !c.is_zero()) => {
            Some(false)
        }
        op::EQ
            if (args[0].is_cdsize() && k(1) == Some(U256::ZERO))
                || (args[1].is_cdsize() && k(0) == Some(U256::ZERO)) =>
        {
            Some(truth)
        }
        _ => None,
    }
}

/// Whether the value depends on the calldata (so a branch on it is part of
/// dispatching).
fn on_calldata(v: &Val) -> bool {
    match v.expr() {
        Some(Expr::Calldata0 | Expr::Selector | Expr::CdSize) => true,
        Some(Expr::Op(_, args)) => args.iter().any(on_calldata),
        _ => false,
    }
}

/// Whether the value is computed from the selector.
fn on_selector(v: &Val) -> bool {
    match v.expr() {
        Some(Expr::Selector) => true,
        Some(Expr::Op(_, args)) => args.iter().any(on_selector),
        _ => false,
    }
}

/// Concrete memory as far as it is known, with whole symbolic words on top.
#[derive(Debug, Clone, Default)]
struct Memory {
    bytes: Vec<Option<u8>>,
    words: BTreeMap<usize, Val>,
    /// A write to an unknown place happened: nothing is known any more.
    lost: bool,
}

const MEMORY_LIMIT: usize = 1 << 16;

impl Memory {
    fn range(offset: &Val, len: usize) -> Option<usize> {
        let off = usize::try_from(offset.konst()?).ok()?;
        (off.checked_add(len)? <= MEMORY_LIMIT).then_some(off)
    }

    fn forget(&mut self, off: usize, len: usize) {
        self.words.retain(|w, _| *w + 32 <= off || *w >= off + len);
    }

    fn write(&mut self, off: usize, data: &[Option<u8>]) {
        if self.bytes.len() < off + data.len() {
            self.bytes.resize(off + data.len(), Some(0));
        }
        self.bytes[off..off + data.len()].copy_from_slice(data);
        self.forget(off, data.len());
    }

    fn store(&mut self, offset: &Val, value: Val) {
        let Some(off) = Self::range(offset, 32) else {
            self.lost = true;
            return;
        };
        match value {
            Val::C(c) => self.write(off, &c.to_be_bytes::<32>().map(Some)),
            Val::S(_) => {
                self.write(off, &[None; 32]);
                self.words.insert(off, value);
            }
        }
    }

    fn load(&self, offset: &Val) -> Val {
        let Some(off) = Self::range(offset, 32) else {
            return Val::opaque();
        };
        if self.lost {
            return Val::opaque();
        }
        if let Some(v) = self.words.get(&off) {
            return v.clone();
        }
        let mut word = [0u8; 32];
        for (i, b) in word.iter_mut().enumerate() {
            match self.bytes.get(off + i) {
                Some(Some(x)) => *b = *x,
                Some(None) => return Val::opaque(),
                None => {}
            }
        }
        Val::C(U256::from_be_bytes(word))
    }
}

#[derive(Debug, Clone)]
struct Path {
    pc: usize,
    stack: Vec<Val>,
    memory: Memory,
    /// pc where the path left the last dispatch decision.
    tail_start: usize,
    /// Instructions executed since `tail_start`.
    tail_steps: u32,
    /// First JUMPDEST entered shortly after `tail_start`.
    tail_entry: Option<usize>,
    calldata_empty: Option<bool>,
    effects: bool,
    loops: HashMap<usize, u8>,
    /// Set on the path that follows a selector match through a fall-through,
    /// to find where the function's code starts.
    matched: Option<Matched>,
}

/// A selector matched with its function on the fall-through side. Vyper's
/// table-driven dispatchers run shared checks there and then jump to the
/// function through a label read from the code; the label is the entry.
#[derive(Debug, Clone, Copy)]
struct Matched {
    selector: u32,
    /// The fall-through pc: the entry when no label jump follows.
    at: usize,
    /// Stack height at the match: a jump that leaves more is a call, not the entry.
    height: usize,
    steps: u32,
}

const MATCHED_STEPS: u32 = 48;

enum End {
    /// Reverted or halted exceptionally without effects.
    Reject,
    /// Stopped, returned, had effects, or went where we cannot follow.
    Accept,
}

struct Explorer<'a> {
    code: &'a [u8],
    jumpdests: &'a [bool],
    /// Instruction index by pc.
    index: HashMap<u32, usize>,
    instructions: &'a [Instruction],
    options: DispatchOptions,
    steps: u64,
    found: BTreeMap<u32, u32>,
    fallback: Option<u32>,
    receive: Option<u32>,
    paths: usize,
    exhausted: bool,
    /// Targets seen taken by each JUMP/JUMPI, by pc.
    observed: BTreeMap<u32, Vec<u32>>,
}

/// Recovers the dispatcher of `code` (the whole runtime bytecode), given the
/// disassembly of its code section and the JUMPDEST analysis of `code`.
pub fn recover(
    code: &[u8],
    instructions: &[Instruction],
    jumpdests: &[bool],
    options: DispatchOptions,
) -> Dispatch {
    let index = instructions
        .iter()
        .enumerate()
        .map(|(i, ins)| (ins.pc, i))
        .collect();
    let mut ex = Explorer {
        code,
        jumpdests,
        index,
        instructions,
        options,
        steps: 0,
        found: BTreeMap::new(),
        fallback: None,
        receive: None,
        paths: 0,
        exhausted: false,
        observed: BTreeMap::new(),
    };
    let start = Path {
        pc: 0,
        stack: vec![],
        memory: Memory::default(),
        tail_start: 0,
        tail_steps: 0,
        tail_entry: None,
        calldata_empty: None,
        effects: false,
        loops: HashMap::new(),
        matched: None,
    };
    let mut work = vec![start];
    while let Some(path) = work.pop() {
        if ex.paths >= options.max_paths || ex.steps >= options.budget {
            ex.exhausted = true;
            break;
        }
        ex.paths += 1;
        ex.run(path, &mut work);
    }
    let mut selectors: Vec<Selector> = ex
        .found
        .into_iter()
        .map(|(selector, entry_pc)| Selector { selector, entry_pc })
        .collect();
    selectors.sort();
    let receive = ex.receive.filter(|r| Some(*r) != ex.fallback);
    let observed_jumps = ex.observed.into_iter().collect();
    Dispatch {
        selectors,
        fallback: ex.fallback,
        receive,
        exhausted: ex.exhausted,
        paths: ex.paths,
        observed_jumps,
    }
}

impl Explorer<'_> {
    fn valid_target(&self, v: &Val) -> Option<usize> {
        let t = usize::try_from(v.konst()?).ok()?;
        (self.jumpdests.get(t) == Some(&true) && self.index.contains_key(&(t as u32))).then_some(t)
    }

    fn finish(&mut self, path: &Path, end: End) {
        if let Some(m) = path.matched {
            return self.matched_end(m, m.at);
        }
        if let End::Reject = end
            && !path.effects
        {
            return;
        }
        let entry = path.tail_entry.unwrap_or(path.tail_start) as u32;
        if path.calldata_empty == Some(true) {
            self.receive.get_or_insert(entry);
        } else {
            let e = self.fallback.get_or_insert(entry);
            *e = (*e).min(entry);
        }
    }

    fn observe(&mut self, pc: usize, target: usize) {
        let targets = self.observed.entry(pc as u32).or_default();
        if !targets.contains(&(target as u32)) && targets.len() < 4096 {
            targets.push(target as u32);
        }
    }

    /// Ends a matched path: the function starts at `entry`.
    fn matched_end(&mut self, m: Matched, entry: usize) {
        self.found.entry(m.selector).or_insert(entry as u32);
    }

    fn decide(path: &mut Path, to: usize, cond: &Val, truth: bool) {
        if on_calldata(cond) {
            path.tail_start = to;
            path.tail_steps = 0;
            path.tail_entry = None;
            if let Some(empty) = calldata_empty(cond, truth) {
                path.calldata_empty = Some(empty);
            }
        }
        path.pc = to;
    }

    fn run(&mut self, mut path: Path, work: &mut Vec<Path>) {
        loop {
            if self.steps >= self.options.budget {
                self.exhausted = true;
                return self.finish(&path, End::Accept);
            }
            self.steps += 1;
            let Some(&i) = self.index.get(&(path.pc as u32)) else {
                // Past the end of the code section: an implicit STOP.
                return self.finish(&path, End::Accept);
            };
            let ins = self.instructions[i];
            path.tail_steps = path.tail_steps.saturating_add(1);
            if let Some(m) = path.matched.as_mut() {
                m.steps += 1;
                let m = *m;
                let allowed = ins.info.is_some_and(|info| {
                    eval::is_pure(ins.opcode)
                        || matches!(
                            ins.opcode,
                            op::CALLVALUE
                                | op::CALLDATALOAD
                                | op::CALLDATASIZE
                                | op::CODECOPY
                                | op::POP
                                | op::MLOAD
                                | op::MSTORE
                                | op::JUMP
                                | op::JUMPI
                                | op::PUSH0..=op::SWAP16
                        )
                        || info.flow == Flow::Next && info.inputs == 0 && info.outputs == 0
                });
                if m.steps > MATCHED_STEPS
                    || !allowed
                    || (ins.opcode == op::JUMPDEST && path.pc != m.at)
                {
                    return self.matched_end(m, m.at);
                }
                if ins.opcode == op::JUMP {
                    let target = path.stack.last().and_then(|t| self.valid_target(t));
                    if let Some(t) = target {
                        self.observe(path.pc, t);
                    }
                    let entry = match target {
                        Some(t) if path.stack.len() <= m.height + 1 => t,
                        _ => m.at,
                    };
                    return self.matched_end(m, entry);
                }
                if ins.opcode == op::JUMPI {
                    let (Some(t), Some(c)) = (path.stack.pop(), path.stack.pop()) else {
                        return self.matched_end(m, m.at);
                    };
                    path.pc = match (c.konst(), self.valid_target(&t)) {
                        (Some(c), Some(t)) if !c.is_zero() => t,
                        (Some(c), None) if !c.is_zero() => return self.matched_end(m, m.at),
                        _ => ins.next_pc() as usize,
                    };
                    continue;
                }
            }
            let Some(info) = ins.info else {
                return self.finish(&path, End::Reject);
            };
            let op = ins.opcode;
            macro_rules! pop {
                () => {
                    match path.stack.pop() {
                        Some(v) => v,
                        None => return self.finish(&path, End::Reject),
                    }
                };
            }
            macro_rules! push {
                ($v:expr) => {{
                    if path.stack.len() >= 1024 {
                        return self.finish(&path, End::Reject);
                    }
                    path.stack.push($v);
                }};
            }
            let next = ins.next_pc() as usize;
            match op {
                op::JUMPDEST => {
                    if path.tail_entry.is_none() && path.tail_steps <= 4 {
                        path.tail_entry = Some(path.pc);
                    }
                }
                op::JUMP => {
                    let t = pop!();
                    match self.valid_target(&t) {
                        Some(t) => {
                            self.observe(path.pc, t);
                            path.pc = t;
                            continue;
                        }
                        None if t.konst().is_some() => return self.finish(&path, End::Reject),
                        None => return self.finish(&path, End::Accept),
                    }
                }
                op::JUMPI => {
                    let t = pop!();
                    let cond = pop!();
                    let target = self.valid_target(&t);
                    if let Some(c) = cond.konst() {
                        if c.is_zero() {
                            path.pc = next;
                            continue;
                        }
                        match target {
                            Some(t) => {
                                path.pc = t;
                                continue;
                            }
                            None if t.konst().is_some() => return self.finish(&path, End::Reject),
                            None => return self.finish(&path, End::Accept),
                        }
                    }
                    if let Some(sel) = implies(&cond, true) {
                        if let Some(t) = target {
                            self.found.entry(sel).or_insert(t as u32);
                        }
                        Self::decide(&mut path, next, &cond, false);
                        continue;
                    }
                    if let Some(sel) = implies(&cond, false) {
                        if !self.found.contains_key(&sel) {
                            let mut m = path.clone();
                            m.pc = next;
                            m.matched = Some(Matched {
                                selector: sel,
                                at: next,
                                height: m.stack.len(),
                                steps: 0,
                            });
                            work.push(m);
                        }
                        match target {
                            Some(t) => {
                                Self::decide(&mut path, t, &cond, true);
                                continue;
                            }
                            None => return,
                        }
                    }
                    let visits = path.loops.entry(path.pc).or_insert(0);
                    *visits += 1;
                    if *visits > self.options.max_loop {
                        return self.finish(&path, End::Accept);
                    }
                    if let Some(t) = target {
                        let mut taken = path.clone();
                        Self::decide(&mut taken, t, &cond, true);
                        work.push(taken);
                    } else if t.konst().is_none() {
                        self.finish(&path, End::Accept);
                    }
                    Self::decide(&mut path, next, &cond, false);
                    continue;
                }
                op::STOP | op::RETURN | op::SELFDESTRUCT => {
                    path.effects = true;
                    return self.finish(&path, End::Accept);
                }
                op::REVERT | op::INVALID => return self.finish(&path, End::Reject),
                op::PUSH0..=op::PUSH32 => push!(Val::C(ins.push_value(self.code))),
                op::DUP1..=op::DUP16 | op::DUPN => {
                    let n = if op == op::DUPN {
                        match ins
                            .immediate(self.code)
                            .first()
                            .and_then(|b| opcode::decode_single(*b))
                        {
                            Some(n) => n,
                            None => return self.finish(&path, End::Reject),
                        }
                    } else {
                        (op - op::DUP1 + 1) as usize
                    };
                    if path.stack.len() < n {
                        return self.finish(&path, End::Reject);
                    }
                    let v = path.stack[path.stack.len() - n].clone();
                    push!(v);
                }
                op::SWAP1..=op::SWAP16 | op::SWAPN | op::EXCHANGE => {
                    let (a, b) = match op {
                        op::SWAPN => match ins
                            .immediate(self.code)
                            .first()
                            .and_then(|b| opcode::decode_single(*b))
                        {
                            Some(n) => (0, n),
                            None => return self.finish(&path, End::Reject),
                        },
                        op::EXCHANGE => match ins
                            .immediate(self.code)
                            .first()
                            .and_then(|b| opcode::decode_pair(*b))
                        {
                            Some(p) => p,
                            None => return self.finish(&path, End::Reject),
                        },
                        _ => (0, (op - op::SWAP1 + 1) as usize),
                    };
                    let len = path.stack.len();
                    if len <= a.max(b) {
                        return self.finish(&path, End::Reject);
                    }
                    path.stack.swap(len - 1 - a, len - 1 - b);
                }
                op::PC => push!(Val::C(U256::from(path.pc))),
                op::CODESIZE => push!(Val::C(U256::from(self.code.len()))),
                op::CALLDATALOAD => {
                    let off = pop!();
                    push!(if off.konst() == Some(U256::ZERO) {
                        Val::S(Rc::new(Expr::Calldata0))
                    } else {
                        Val::opaque()
                    });
                }
                op::CALLDATASIZE => push!(Val::S(Rc::new(Expr::CdSize))),
                op::MLOAD => {
                    let off = pop!();
                    push!(path.memory.load(&off));
                }
                op::MSTORE => {
                    let off = pop!();
                    let v = pop!();
                    path.memory.store(&off, v);
                }
                op::MSTORE8 => {
                    let off = pop!();
                    let v = pop!();
                    match Memory::range(&off, 1) {
                        Some(o) => path.memory.write(o, &[v.konst().map(|c| c.byte(0))]),
                        None => path.memory.lost = true,
                    }
                }
                op::CODECOPY => {
                    let dst = pop!();
                    let src = pop!();
                    let len = pop!();
                    let len = len
                        .konst()
                        .and_then(|l| usize::try_from(l).ok())
                        .filter(|l| *l <= MEMORY_LIMIT);
                    let src = src
                        .konst()
                        .map(|s| usize::try_from(s).unwrap_or(usize::MAX));
                    match (Memory::range(&dst, len.unwrap_or(0)), len, src) {
                        (Some(d), Some(l), Some(s)) => {
                            let data: Vec<Option<u8>> = (0..l)
                                .map(|i| {
                                    Some(
                                        s.checked_add(i)
                                            .and_then(|p| self.code.get(p))
                                            .copied()
                                            .unwrap_or(0),
                                    )
                                })
                                .collect();
                            path.memory.write(d, &data);
                        }
                        _ => path.memory.lost = true,
                    }
                }
                _ if eval::is_pure(op) => {
                    let mut args = Vec::with_capacity(info.inputs as usize);
                    for _ in 0..info.inputs {
                        args.push(pop!());
                    }
                    if let Some(values) = self.reduce_selector(op, &args) {
                        // One path per value the reduced selector can take.
                        path.tail_start = next;
                        path.tail_steps = 0;
                        path.tail_entry = None;
                        for v in values.into_iter().skip(1) {
                            let mut p = path.clone();
                            p.stack.push(Val::C(v));
                            p.pc = next;
                            work.push(p);
                        }
                        push!(Val::C(U256::ZERO));
                    } else {
                        push!(apply(op, args));
                    }
                }
                _ => {
                    match op {
                        op::SSTORE
                        | op::LOG0..=op::LOG4
                        | op::CREATE
                        | op::CALL
                        | op::CALLCODE
                        | op::DELEGATECALL
                        | op::CREATE2
                        | op::STATICCALL
                        | op::TSTORE => path.effects = true,
                        op::CALLDATACOPY | op::EXTCODECOPY | op::RETURNDATACOPY | op::MCOPY => {
                            path.memory.lost = true
                        }
                        _ => {}
                    }
                    if info.flow == Flow::Halt {
                        return self.finish(&path, End::Accept);
                    }
                    for _ in 0..info.inputs {
                        pop!();
                    }
                    for _ in 0..info.outputs {
                        push!(Val::opaque());
                    }
                }
            }
            path.pc = next;
        }
    }

    /// When `op` reduces a value computed from the selector to a small range
    /// (`mod` by a small constant, `and` with a small mask, as in Vyper's
    /// bucketed and perfect-hash dispatchers), the values it can take.
    fn reduce_selector(&self, op: u8, args: &[Val]) -> Option<Vec<U256>> {
        if args.len() != 2 {
            return None;
        }
        let k = match op {
            op::MOD if on_selector(&args[0]) => args[1].konst()?,
            op::AND if on_selector(&args[0]) => args[1].konst()?,
            op::AND if on_selector(&args[1]) => args[0].konst()?,
            _ => return None,
        };
        if k.is_zero() || k > U256::from(4096u32) {
            return None;
        }
        let k = k.to::<u32>();
        let values: Vec<U256> = match op {
            op::MOD => (0..k).map(U256::from).collect(),
            _ => (0..=k).filter(|v| v & !k == 0).map(U256::from).collect(),
        };
        Some(values)
    }
}
