//! EVM → IR.
//!
//! The EVM stack becomes SSA values. Each basic block is lifted once per
//! stack height it can be entered with (an *instance*); the instance takes
//! every stack slot as a block parameter (`i256`, bottom first), and the
//! parameter-pruning pass then removes the ones that are only passed through,
//! which gives the same SSA as variable-based construction (one variable per
//! stack slot). Because heights are known per instance, stack underflow and
//! overflow are decided at lift time and become `trap` terminators.
//!
//! Jumps: a target that is a constant in the same instance becomes a direct
//! `jump` (or `trap invalid_jump` when it is not a JUMPDEST). Otherwise the
//! jump becomes a `switch` over the targets the CFG analysis resolved; when
//! the analysis could not resolve the jump (or only saw targets by running
//! the dispatcher), the `switch` falls back to a dispatch block over every
//! JUMPDEST at that height, so any target still works.
//!
//! **The stack in memory.** Where instances would not end (a recursive
//! internal function enters its blocks one frame higher each time; jumps
//! whose targets and heights stay unknown multiply instances), code moves to
//! the second form at a block boundary: one IR block per EVM block, taking
//! the stack pointer (`i64`, words) as its only parameter, with the stack in
//! the frame's EVM stack array (`stack.load` / `stack.store`). Such a block
//! first checks the pointer against the deepest slot it reads and the highest
//! it writes (`trap stack_underflow` / `stack_overflow`: an exceptional halt
//! anywhere in a block reverts the same as at its instruction), loads the
//! slots it reads, computes in values as the first form does, and stores the
//! slots it changed before it leaves. Computed jumps go through one dispatch
//! block over every JUMPDEST. Where the whole contract is in this form, a
//! block runs on (a *trace*, up to 16 blocks and 64 instructions) into the
//! block a static jump or fall-through leads to, and past a branch whose
//! other side reverts (checked arithmetic): the slots stay in values, the
//! next block's checks shrink to what was not checked yet, and a return
//! address pushed earlier in the trace is a constant, so the return is a
//! direct jump. A specialized instance enters this form through
//! a *spill* block (store every slot, jump with the height as the pointer);
//! nothing returns from it, so ordinary contracts, which never spill, keep
//! their register-like code. An instance is spilled when it nests in earlier
//! instances of its block more than [`LiftOptions::max_nesting`] deep (each
//! with all its return addresses still in place below: recursion), when its
//! block already has
//! [`LiftOptions::max_heights`] heights, or when the lift has made
//! [`LiftOptions::max_instances`] instances; when even spills, block
//! arguments or the instructions emitted pass their limits, the whole
//! contract is lifted in the second form, whose size is linear in the code.
//! So every contract lifts.
//!
//! Memory: each memory access is preceded by `mem.expand offset, len`,
//! which grows memory exactly as the EVM does (32-byte words, nothing for a
//! zero length), so `mem.size` is MSIZE. Growth past the interpreter's limit
//! traps `out_of_memory`, where the EVM would run out of gas.
//!
//! Gas: EVM gas is not metered. `GAS` becomes `host.gas`, which returns what
//! the host reports; running out of gas is not reproduced (except by the
//! memory limit), so behaviour that depends on exact gas amounts may differ
//! from the EVM. Every other exceptional halt (invalid or undefined opcode,
//! invalid jump, stack underflow or overflow, a state change in a static
//! context, RETURNDATACOPY out of bounds) is an explicit trap or a trapping
//! host operation with the EVM's observable outcome.

use crate::Analysis;
use crate::cfg::EdgeKind;
use crate::disasm::Instruction;
use crate::opcode::{self, op};
use alloy_primitives::U256;
use chainlift_ir::entities::{Block, Value};
use chainlift_ir::function::{BlockCall, Function, Inst, Module, Terminator};
use chainlift_ir::inst::{
    BinOp, CallKind, Cond, Endian, ExitKind, HostOp, Op, SourcePos, TrapCode,
};
use chainlift_ir::types::Type;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::VecDeque;

mod ops;
mod slots;
mod stack;

use slots::Consts;

/// Lifting limits. Passing one moves code to the stack-in-memory form (see
/// the module docs); none makes lifting fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiftOptions {
    /// Specialized block instances (block × entry height × context) that
    /// may be created; later ones are spilled.
    pub max_instances: usize,
    /// Contexts per block before further entries share one generic instance
    /// per height.
    pub max_contexts: usize,
    /// Entry heights one block is specialized for; an entry at a further
    /// height is spilled (recursion).
    pub max_heights: usize,
    /// How deeply entries of one block may nest in each other (an entry
    /// from inside a call chain that passed through the block, with every
    /// earlier return address in place); a deeper one is spilled. Recursion
    /// nests without end; shared helpers called from a few levels of a
    /// call chain nest a few times.
    pub max_nesting: usize,
    /// Block-call arguments that may be emitted in total (deep stacks at many
    /// computed jumps make them grow as blocks × height), and spill blocks
    /// times their height; past either the contract is lifted in the
    /// stack-in-memory form throughout.
    pub max_arguments: usize,
    /// Instructions that may be emitted per byte of code (plus a fixed
    /// 10,000) before the contract is lifted in the stack-in-memory form
    /// throughout, whose size is 1.5 to 2.5 instructions per byte: code
    /// whose blocks are specialized for very many contexts (deep chains of
    /// shared helpers) lifts faster, and smaller, that way.
    pub max_insts_per_byte: usize,
}

impl Default for LiftOptions {
    fn default() -> Self {
        LiftOptions {
            max_instances: 40_000,
            max_contexts: 100_000,
            max_heights: 32,
            max_nesting: 2,
            max_arguments: 4_000_000,
            max_insts_per_byte: 5,
        }
    }
}

impl LiftOptions {
    /// Options that allow no instance: every block with the stack in
    /// memory, lifted as a contract that passed the limits is (with
    /// traces).
    pub fn stack_in_memory() -> Self {
        LiftOptions {
            max_instances: 0,
            ..LiftOptions::default()
        }
    }
}

/// Instances of one EVM block (heights × contexts) before further entries
/// are spilled.
const MAX_INSTANCES_PER_BLOCK: usize = 1024;

/// Words of the EVM stack.
const STACK_LIMIT: usize = 1024;

/// The return addresses an instance is specialised for: stack slots (from
/// the bottom) known to hold a JUMPDEST offset pushed by a caller.
type Context = Vec<(u16, u32)>;

/// How a contract was lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LiftReport {
    /// Specialized block instances.
    pub instances: usize,
    /// EVM blocks lifted in the stack-in-memory form.
    pub stack_blocks: usize,
    /// Spill blocks: entries from specialized code into that form.
    pub spills: usize,
    /// Whether the whole contract is in that form (a limit was passed).
    pub stack_only: bool,
    /// The most entry heights one block was specialized for.
    pub max_heights: usize,
}

impl std::fmt::Display for LiftReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.stack_only {
            write!(f, "the stack in memory in all {} blocks", self.stack_blocks)
        } else if self.stack_blocks > 0 {
            write!(
                f,
                "the stack in values in {} block instances, in memory in {} blocks (entered from {} spills)",
                self.instances, self.stack_blocks, self.spills
            )
        } else {
            write!(
                f,
                "the stack in values in {} block instances",
                self.instances
            )
        }
    }
}

/// Ancestors [`Lifter::nesting`] looks at, at most.
const MAX_LINEAGE_WALK: usize = 4096;

/// Where a specialized instance came from, for recursion detection.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lineage {
    /// Its EVM block, entry height and context.
    id: usize,
    h: usize,
    ctx: Context,
    /// The lowest its stack went while it ran (once lifted).
    low: usize,
    /// The instance whose lifting asked for it first.
    parent: Option<Block>,
    /// How deeply it nests in instances of its block ([`Lifter::nesting`]).
    nesting: usize,
}

/// The lift must start over in the stack-in-memory form.
struct Restart;

/// A unit of lifting work.
enum Work {
    /// A specialized instance: (EVM block, entry height, context, IR block).
    Instance(usize, usize, Context, Block),
    /// The stack-in-memory form of an EVM block.
    Stack(usize, Block),
}

/// Where the stack is while a block is lifted.
#[derive(Clone)]
enum Frame {
    /// In values: the block's entry slots.
    Values,
    /// In the EVM stack array: `sp` at entry; `entry` holds the values
    /// loaded from the `entry.len()` slots below it. The pointer was
    /// checked for a stack of `top` slots (counted as `entry`'s are), and
    /// `trace` lists the EVM blocks lifted into this code so far.
    Memory {
        sp: Value,
        entry: Vec<Value>,
        top: usize,
        trace: Vec<usize>,
    },
}

/// The stack a block leaves with.
enum Out {
    /// Its slots, bottom first.
    Values(Vec<Value>),
    /// Stored; the new stack pointer.
    Memory(Value),
}

struct Lifter<'a> {
    a: &'a Analysis,
    f: Function,
    /// (EVM block id, entry height) -> context -> IR block.
    instances: HashMap<(usize, usize), HashMap<Context, Block>>,
    /// Instances made.
    instance_count: usize,
    /// Contexts made per EVM block.
    contexts: HashMap<usize, usize>,
    /// Entry heights specialized per EVM block.
    heights: HashMap<usize, Vec<usize>>,
    /// What recursion detection needs of each instance, by its IR block's
    /// index.
    lineage: Vec<Option<Lineage>>,
    /// The instance being lifted, and the lowest its stack has been so far.
    current: Option<Block>,
    low: usize,
    /// Dispatch blocks by height.
    dispatchers: HashMap<usize, Block>,
    queue: VecDeque<Work>,
    /// Constants of values made by `iconst`, or pushed and not yet emitted.
    consts: Consts,
    /// The `iconst` emitted for a lazy constant in a block.
    emitted_consts: HashMap<(Block, Value), Value>,
    /// Jump targets per EVM block (from the CFG).
    targets: HashMap<usize, Vec<usize>>,
    /// pcs of jumps that need the dynamic fallback.
    dynamic: HashSet<u32>,
    /// EVM block id by start pc.
    block_at: HashMap<u32, usize>,
    invalid_jump: Option<Block>,
    /// Shared `trap stack_underflow` / `stack_overflow` blocks.
    stack_traps: [Option<Block>; 2],
    options: LiftOptions,
    /// Block-call arguments emitted so far.
    arguments: usize,
    /// Instructions emitted so far.
    emitted: usize,
    /// Entry-slot placeholders and fixed parameters of each block, by its
    /// index.
    slots: Vec<Option<(Vec<Value>, Vec<Value>)>>,
    /// The block and slot index of each placeholder, by its value's index.
    placeholder: Vec<Option<(Block, u32)>>,
    /// The stack-in-memory block of each EVM block.
    stack_blocks: HashMap<usize, Block>,
    /// The dispatch block of that form: params `sp`, target.
    stack_dispatcher: Option<Block>,
    /// Spill blocks by (EVM block, height).
    spills: HashMap<(usize, usize), Block>,
    /// Whether every block is lifted in the stack-in-memory form.
    stack_only: bool,
}

/// Lifts analysed EVM code to an IR module with one function, `%main`,
/// which takes no parameters and ends in `exit` or `trap`.
pub fn lift(a: &Analysis, options: LiftOptions) -> Module {
    lift_report(a, options).0
}

/// [`lift`], and how the code was lifted.
pub fn lift_report(a: &Analysis, options: LiftOptions) -> (Module, LiftReport) {
    // No instance allowed: straight to the stack-in-memory form.
    let stack_only = options.max_instances == 0;
    match Lifter::new(a, options, stack_only).run() {
        Ok(done) => done,
        Err(Restart) => match Lifter::new(a, options, true).run() {
            Ok(done) => done,
            // The stack-in-memory form makes no instances and no spills.
            Err(Restart) => unreachable!("the stack-in-memory form has no limits to pass"),
        },
    }
}

impl<'a> Lifter<'a> {
    fn new(a: &'a Analysis, options: LiftOptions, stack_only: bool) -> Self {
        let mut targets: HashMap<usize, Vec<usize>> = HashMap::default();
        for e in &a.cfg.edges {
            if matches!(e.kind, EdgeKind::Jump | EdgeKind::BranchTaken) {
                targets.entry(e.from).or_default().push(e.to);
            }
        }
        let mut dynamic: HashSet<u32> = a.cfg.unresolved.iter().map(|u| u.pc).collect();
        dynamic.extend(a.cfg.hinted.iter().copied());
        let block_at = a.cfg.blocks.iter().map(|b| (b.start, b.id)).collect();
        // Room for what contracts usually need (a few instances per EVM
        // block, a few values per byte), so the large tables seldom move.
        let blocks = a.cfg.blocks.len() * 4;
        let values = a.bytes.len() * 4;
        let mut f = Function::new("main", vec![], vec![]);
        f.blocks.reserve(blocks);
        f.layout.reserve(blocks);
        f.values.reserve(values);
        Lifter {
            a,
            f,
            instances: HashMap::default(),
            instance_count: 0,
            contexts: HashMap::default(),
            heights: HashMap::default(),
            lineage: Vec::new(),
            current: None,
            low: 0,
            dispatchers: HashMap::default(),
            queue: VecDeque::new(),
            // Sized for the code, so the tables rarely grow.
            consts: Consts::with_capacity(values),
            emitted_consts: HashMap::with_capacity_and_hasher(
                a.bytes.len() / 2,
                Default::default(),
            ),
            targets,
            dynamic,
            block_at,
            invalid_jump: None,
            stack_traps: [None, None],
            options,
            arguments: 0,
            emitted: 0,
            slots: Vec::with_capacity(blocks),
            placeholder: Vec::with_capacity(values),
            stack_blocks: HashMap::default(),
            stack_dispatcher: None,
            spills: HashMap::default(),
            stack_only,
        }
    }

    fn run(mut self) -> Result<(Module, LiftReport), Restart> {
        let a = self.a;
        let entry = self.f.new_block();
        if a.cfg.blocks.is_empty() {
            self.f.block_mut(entry).term = Terminator::Exit(ExitKind::Stop, vec![]);
        } else if self.stack_only {
            let first = self.stack_block(0);
            let sp = self.i64_const(entry, 0, 0);
            self.f.block_mut(entry).term = Terminator::Jump(BlockCall {
                block: first,
                args: vec![sp],
            });
        } else {
            let first = self.instance(0, &[])?;
            self.f.block_mut(entry).term = Terminator::Jump(BlockCall::new(first));
        }
        while let Some(work) = self.queue.pop_front() {
            match work {
                Work::Instance(id, h, ctx, block) => {
                    let mut stack: Vec<Value> = self
                        .slots
                        .get(block.index())
                        .and_then(|s| s.as_ref())
                        .map(|(s, _)| s.clone())
                        .unwrap_or_default();
                    debug_assert_eq!(stack.len(), h);
                    // The instance is specialised for these return addresses:
                    // they are constants here, so returns resolve to direct
                    // jumps.
                    let start = a.cfg.blocks[id].start;
                    for (slot, c) in &ctx {
                        stack[*slot as usize] = self.konst(U256::from(*c), start);
                    }
                    self.current = Some(block);
                    self.low = h;
                    self.lift_block(id, block, stack, &Frame::Values)?;
                    if let Some(Some(l)) = self.lineage.get_mut(block.index()) {
                        l.low = self.low;
                    }
                    self.current = None;
                }
                Work::Stack(id, block) => self.lift_stack_block(id, block)?,
            }
            let max_insts = self.a.bytes.len() * self.options.max_insts_per_byte + 10_000;
            // A large lift with most blocks in the second form already
            // (its dispatch over every JUMPDEST made them): all of the
            // code is lifted so, with traces, at once.
            let mostly_stack =
                self.stack_blocks.len() * 2 > a.cfg.blocks.len() && self.emitted > max_insts / 2;
            if !self.stack_only
                && (self.arguments > self.options.max_arguments
                    || self.emitted > max_insts
                    || mostly_stack)
            {
                return Err(Restart);
            }
        }
        self.materialize_slots();
        let report = LiftReport {
            instances: self.instance_count,
            stack_blocks: self.stack_blocks.len(),
            spills: self.spills.len(),
            stack_only: self.stack_only,
            max_heights: self.heights.values().map(Vec::len).max().unwrap_or(0),
        };
        let mut module = Module::with_function(self.f);
        module.code = a.bytes.clone();
        module.compact();
        Ok((module, report))
    }

    /// The context of a stack: slots holding constants that are JUMPDESTs.
    fn context_of(&self, stack: &[Value]) -> Context {
        stack
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let c = self.consts.get(*v)?;
                let t = usize::try_from(c).ok()?;
                (t < self.a.code_end && self.a.jumpdests.get(t) == Some(&true))
                    .then_some((i as u16, t as u32))
            })
            .collect()
    }

    /// The block entered for EVM block `id` with `stack`: an instance, or a
    /// spill into the stack-in-memory form.
    fn instance(&mut self, id: usize, stack: &[Value]) -> Result<Block, Restart> {
        let ctx = self.context_of(stack);
        self.instance_in(id, stack.len(), ctx)
    }

    fn instance_in(&mut self, id: usize, h: usize, mut ctx: Context) -> Result<Block, Restart> {
        if let Some(b) = self.instances.get(&(id, h)).and_then(|m| m.get(&ctx)) {
            return Ok(*b);
        }
        let nesting = self.nesting(id, h, &ctx);
        if nesting > self.options.max_nesting {
            return self.spill(id, h);
        }
        let count = self.contexts.get(&id).copied().unwrap_or(0);
        let heights = self.heights.entry(id).or_default();
        let new_height = !heights.contains(&h);
        if count >= MAX_INSTANCES_PER_BLOCK
            || (new_height && heights.len() >= self.options.max_heights)
            || self.instance_count >= self.options.max_instances
        {
            return self.spill(id, h);
        }
        if new_height {
            heights.push(h);
        }
        if !ctx.is_empty() && count >= self.options.max_contexts {
            ctx.clear();
            if let Some(b) = self.instances.get(&(id, h)).and_then(|m| m.get(&ctx)) {
                return Ok(*b);
            }
        }
        *self.contexts.entry(id).or_insert(0) += 1;
        let b = self.f.new_block();
        self.new_slots(b, h, vec![]);
        self.instances
            .entry((id, h))
            .or_default()
            .insert(ctx.clone(), b);
        self.instance_count += 1;
        if self.lineage.len() <= b.index() {
            self.lineage.resize(b.index() + 1, None);
        }
        self.lineage[b.index()] = Some(Lineage {
            id,
            h,
            ctx: ctx.clone(),
            low: h,
            parent: self.current,
            nesting,
        });
        self.queue.push_back(Work::Instance(id, h, ctx, b));
        Ok(b)
    }

    /// How deeply an entry of EVM block `id` at height `h` with `ctx`,
    /// made from the instance being lifted, nests in an instance of the
    /// same block it descends from: one more than the nearest such ancestor
    /// whose return addresses are all still in place and whose own return
    /// address (its context's top) no block on the way popped. A call chain
    /// that came back round to the block without returning is recursion,
    /// which nests without end; code shared between functions (tail-merged
    /// blocks) nests once or twice.
    fn nesting(&self, id: usize, h: usize, ctx: &Context) -> usize {
        // An ancestor's return addresses are among `ctx`'s, so its top slot
        // is at least the lowest of them: once the path went that low, no
        // further ancestor can match.
        let Some(lowest) = ctx.iter().map(|(s, _)| usize::from(*s)).min() else {
            return 1;
        };
        let mut path_low = self.low;
        let mut at = self.current;
        for _ in 0..MAX_LINEAGE_WALK {
            if path_low <= lowest {
                break;
            }
            let Some(x) = at.and_then(|b| self.lineage.get(b.index())?.as_ref()) else {
                break;
            };
            // (The instance being lifted still has its entry height here,
            // above `self.low`.)
            path_low = path_low.min(x.low);
            if x.id == id
                && x.h < h
                && x.ctx
                    .last()
                    .is_some_and(|(top, _)| path_low > usize::from(*top))
                && x.ctx.iter().all(|e| ctx.contains(e))
            {
                return x.nesting + 1;
            }
            at = x.parent;
        }
        1
    }

    fn invalid_jump_block(&mut self) -> Block {
        if let Some(b) = self.invalid_jump {
            return b;
        }
        let b = self.f.new_block();
        self.f.block_mut(b).term = Terminator::Trap(TrapCode::InvalidJump);
        self.invalid_jump = Some(b);
        b
    }

    /// The shared block that traps with `code` (stack under- or overflow).
    fn stack_trap_block(&mut self, code: TrapCode) -> Block {
        let i = usize::from(code == TrapCode::StackOverflow);
        if let Some(b) = self.stack_traps[i] {
            return b;
        }
        let b = self.f.new_block();
        self.f.block_mut(b).term = Terminator::Trap(code);
        self.stack_traps[i] = Some(b);
        b
    }

    /// The block that jumps to any JUMPDEST at height `h`: params are the `h`
    /// slots and the target.
    fn dispatcher(&mut self, h: usize) -> Result<Block, Restart> {
        if let Some(b) = self.dispatchers.get(&h) {
            return Ok(*b);
        }
        let b = self.f.new_block();
        self.dispatchers.insert(h, b);
        let target = self.f.new_value(Type::I256);
        let slots = self.new_slots(b, h, vec![target]);
        let mut cases = Vec::new();
        for (pc, id) in self.jumpdest_blocks() {
            let inst = self.instance_in(id, h, vec![])?;
            cases.push((
                U256::from(pc),
                BlockCall {
                    block: inst,
                    args: slots.clone(),
                },
            ));
        }
        let invalid = self.invalid_jump_block();
        self.f.block_mut(b).term = Terminator::Switch {
            value: target,
            cases,
            default: BlockCall::new(invalid),
        };
        Ok(b)
    }

    /// The block call that continues at EVM block `id` with the stack `out`.
    fn goto(&mut self, id: usize, out: &Out) -> Result<BlockCall, Restart> {
        Ok(match out {
            Out::Values(slots) => BlockCall {
                block: self.instance(id, slots)?,
                args: slots.clone(),
            },
            Out::Memory(sp) => BlockCall {
                block: self.stack_block(id),
                args: vec![*sp],
            },
        })
    }

    /// The EVM block `target` jumps to when it is a constant JUMPDEST.
    fn const_target(&self, target: Value) -> Option<usize> {
        let c = self.consts.get(target)?;
        usize::try_from(c)
            .ok()
            .filter(|t| *t < self.a.code_end && self.a.jumpdests.get(*t) == Some(&true))
            .and_then(|t| self.block_at.get(&(t as u32)).copied())
    }

    /// The block call that continues at EVM target `target` with `out`.
    fn jump_to(
        &mut self,
        from: usize,
        pc: u32,
        target: Value,
        out: &Out,
    ) -> Result<JumpPlan, Restart> {
        if self.consts.get(target).is_some() {
            return Ok(match self.const_target(target) {
                Some(id) => JumpPlan::Direct(self.goto(id, out)?),
                None => JumpPlan::Direct(BlockCall::new(self.invalid_jump_block())),
            });
        }
        let known = self.targets.get(&from).cloned().unwrap_or_default();
        let slots = match out {
            Out::Values(slots) => slots,
            Out::Memory(sp) => {
                // The analysis' targets first, then any JUMPDEST.
                let mut cases = Vec::with_capacity(known.len());
                for id in known {
                    cases.push((U256::from(self.a.cfg.blocks[id].start), self.goto(id, out)?));
                }
                let default = BlockCall {
                    block: self.stack_dispatcher(),
                    args: vec![*sp, target],
                };
                return Ok(if cases.is_empty() {
                    JumpPlan::Direct(default)
                } else {
                    JumpPlan::Switch(Terminator::Switch {
                        value: target,
                        cases,
                        default,
                    })
                });
            }
        };
        // The analysis' targets. When the analysis is complete (it resolved
        // every jump), it over-approximates every run, so a target it never
        // saw reached at this height is not a successor here, only an
        // artefact of merging contexts, and is left out.
        let complete = self.dynamic.is_empty() && !self.a.cfg.budget_exhausted;
        let mut cases = Vec::new();
        for id in known
            .into_iter()
            .filter(|id| !complete || self.a.cfg.reached_at(*id, slots.len()))
        {
            let block = self.instance(id, slots)?;
            cases.push((
                U256::from(self.a.cfg.blocks[id].start),
                BlockCall {
                    block,
                    args: slots.to_vec(),
                },
            ));
        }
        let default = if self.dynamic.contains(&pc) || cases.is_empty() {
            let d = self.dispatcher(slots.len())?;
            let mut args = slots.to_vec();
            args.push(target);
            BlockCall { block: d, args }
        } else {
            BlockCall::new(self.invalid_jump_block())
        };
        Ok(JumpPlan::Switch(Terminator::Switch {
            value: target,
            cases,
            default,
        }))
    }

    fn emit(
        &mut self,
        block: Block,
        op: Op,
        mut args: Vec<Value>,
        result: Option<Type>,
        pc: u32,
    ) -> Option<Value> {
        for a in &mut args {
            *a = self.materialize(block, *a);
        }
        let results: Vec<Value> = result.into_iter().map(|t| self.f.new_value(t)).collect();
        let r = results.first().copied();
        self.emitted += 1;
        if let (Op::Iconst(c), Some(v), Some(Type::I256)) = (&op, r, result) {
            self.consts.insert(v, *c, None);
        }
        self.f.block_mut(block).insts.push(Inst {
            op,
            args,
            results,
            pos: SourcePos::Evm(pc),
        });
        r
    }

    /// Ends `block` with `term`. Lazy constants among its operands are
    /// emitted now; those among its block-call arguments once the calls are
    /// trimmed ([`Lifter::materialize_slots`]).
    fn finish(&mut self, block: Block, mut term: Terminator, pc: u32) {
        self.arguments += term.targets().map(|c| c.args.len()).sum::<usize>();
        if term
            .operands()
            .iter()
            .any(|v| self.consts.lazy(*v).is_some())
        {
            let emitted: Vec<Value> = term
                .operands()
                .into_iter()
                .map(|v| self.materialize(block, v))
                .collect();
            let mut emitted = emitted.into_iter();
            term.map_operands(|v| emitted.next().unwrap_or(v));
        }
        let data = self.f.block_mut(block);
        data.term = term;
        data.term_pos = SourcePos::Evm(pc);
    }

    /// The stack effect of `ins` (operands it needs, values it pushes), with
    /// DUPN/SWAPN/EXCHANGE decoded; `None` for an undefined opcode or
    /// immediate.
    fn stack_effect(&self, ins: &Instruction) -> Option<(usize, usize)> {
        let info = ins.info?;
        match ins.opcode {
            op::DUPN..=op::EXCHANGE => {
                let imm = ins.immediate(&self.a.bytes).first().copied()?;
                match ins.opcode {
                    op::DUPN => opcode::decode_single(imm).map(|n| (n, n + 1)),
                    op::SWAPN => opcode::decode_single(imm).map(|n| (n + 1, n + 1)),
                    _ => opcode::decode_pair(imm).map(|(_, m)| (m + 1, m + 1)),
                }
            }
            _ => Some((info.inputs as usize, info.outputs as usize)),
        }
    }

    /// Lifts the instructions of EVM block `id` into `block`, entered with
    /// `stack` (the slots, or what the stack-in-memory form loaded).
    fn lift_block(
        &mut self,
        id: usize,
        block: Block,
        mut stack: Vec<Value>,
        frame: &Frame,
    ) -> Result<(), Restart> {
        let a = self.a;
        let evm_block = a.cfg.blocks[id].clone();
        for ins in &a.instructions[evm_block.instructions.clone()] {
            let pc = ins.pc;
            let Some((needed, pushes)) = self.stack_effect(ins) else {
                self.finish(block, Terminator::Trap(TrapCode::InvalidOpcode), pc);
                return Ok(());
            };
            let op = ins.opcode;
            // The stack-in-memory form checked these bounds on entry.
            if stack.len() < needed {
                self.finish(block, Terminator::Trap(TrapCode::StackUnderflow), pc);
                return Ok(());
            }
            if stack.len() - needed + pushes > STACK_LIMIT {
                self.finish(block, Terminator::Trap(TrapCode::StackOverflow), pc);
                return Ok(());
            }
            self.low = self.low.min(stack.len() - needed);
            let mut pop = |n: usize| -> Vec<Value> {
                (0..n)
                    .map(|_| stack.pop().expect("checked depth"))
                    .collect()
            };
            match op {
                op::STOP => {
                    self.finish(block, Terminator::Exit(ExitKind::Stop, vec![]), pc);
                    return Ok(());
                }
                op::RETURN | op::REVERT => {
                    let args = pop(2);
                    self.emit(block, Op::MemExpand, args.clone(), None, pc);
                    let kind = if op == op::RETURN {
                        ExitKind::Return
                    } else {
                        ExitKind::Revert
                    };
                    self.finish(block, Terminator::Exit(kind, args), pc);
                    return Ok(());
                }
                op::INVALID => {
                    self.finish(block, Terminator::Trap(TrapCode::InvalidOpcode), pc);
                    return Ok(());
                }
                op::SELFDESTRUCT => {
                    let args = pop(1);
                    self.finish(block, Terminator::Exit(ExitKind::SelfDestruct, args), pc);
                    return Ok(());
                }
                op::JUMP => {
                    let t = pop(1)[0];
                    if let Some(next) = self.runs_on(frame, self.const_target(t)) {
                        return self.run_on(next, block, stack, frame, pc);
                    }
                    let out = self.leave(block, &stack, frame, pc);
                    let term = match self.jump_to(id, pc, t, &out)? {
                        JumpPlan::Direct(c) => Terminator::Jump(c),
                        JumpPlan::Switch(s) => s,
                    };
                    self.finish(block, term, pc);
                    return Ok(());
                }
                op::JUMPI => {
                    let args = pop(2);
                    let (t, c) = (args[0], args[1]);
                    let next = a
                        .cfg
                        .blocks
                        .get(id + 1)
                        .filter(|next| next.start == ins.next_pc())
                        .map(|next| next.id);
                    if let Some(k) = self.consts.get(c) {
                        // A constant condition: only one side exists.
                        let term = match (k.is_zero(), next) {
                            (true, None) => Terminator::Exit(ExitKind::Stop, vec![]),
                            (true, Some(next)) => {
                                let out = self.leave(block, &stack, frame, pc);
                                Terminator::Jump(self.goto(next, &out)?)
                            }
                            (false, _) => {
                                let out = self.leave(block, &stack, frame, pc);
                                match self.jump_to(id, pc, t, &out)? {
                                    JumpPlan::Direct(c) => Terminator::Jump(c),
                                    JumpPlan::Switch(s) => s,
                                }
                            }
                        };
                        self.finish(block, term, pc);
                        return Ok(());
                    }
                    let zero = self.konst(U256::ZERO, pc);
                    let cond = self
                        .emit(block, Op::Icmp(Cond::Ne), vec![c, zero], Some(Type::I1), pc)
                        .expect("result");
                    // When one side reverts (checked arithmetic), the other
                    // runs on and the reverting side stores the slots and
                    // leaves.
                    let target = self.const_target(t);
                    let on_taken = next
                        .filter(|n| self.reverts(*n))
                        .and(self.runs_on(frame, target));
                    let on_not_taken = target
                        .filter(|b| self.reverts(*b))
                        .and(self.runs_on(frame, next));
                    if let Some(to) = on_taken.or(on_not_taken) {
                        let exit = self.f.new_block();
                        let out = self.leave(exit, &stack, frame, pc);
                        let term = match (on_taken, next) {
                            (Some(_), Some(n)) => Terminator::Jump(self.goto(n, &out)?),
                            _ => match self.jump_to(id, pc, t, &out)? {
                                JumpPlan::Direct(c) => Terminator::Jump(c),
                                JumpPlan::Switch(s) => s,
                            },
                        };
                        self.finish(exit, term, pc);
                        let on = self.f.new_block();
                        let (then_to, else_to) = if on_taken.is_some() {
                            (BlockCall::new(on), BlockCall::new(exit))
                        } else {
                            (BlockCall::new(exit), BlockCall::new(on))
                        };
                        let branch = Terminator::Branch {
                            cond,
                            then_to,
                            else_to,
                        };
                        self.finish(block, branch, pc);
                        return self.run_on(to, on, stack, frame, pc);
                    }
                    let out = self.leave(block, &stack, frame, pc);
                    let taken = match self.jump_to(id, pc, t, &out)? {
                        JumpPlan::Direct(c) => c,
                        JumpPlan::Switch(s) => {
                            let j = self.f.new_block();
                            self.finish(j, s, pc);
                            BlockCall::new(j)
                        }
                    };
                    let not_taken = match next {
                        Some(next) => self.goto(next, &out)?,
                        None => {
                            let end = self.f.new_block();
                            self.finish(end, Terminator::Exit(ExitKind::Stop, vec![]), pc);
                            BlockCall::new(end)
                        }
                    };
                    self.finish(
                        block,
                        Terminator::Branch {
                            cond,
                            then_to: taken,
                            else_to: not_taken,
                        },
                        pc,
                    );
                    return Ok(());
                }
                op::JUMPDEST => {}
                op::POP => {
                    pop(1);
                }
                op::PUSH0..=op::PUSH32 => {
                    let v = self.konst(ins.push_value(&a.bytes), pc);
                    stack.push(v);
                }
                op::DUP1..=op::DUP16 => {
                    let n = (op - op::DUP1 + 1) as usize;
                    stack.push(stack[stack.len() - n]);
                }
                op::SWAP1..=op::SWAP16 => {
                    let n = (op - op::SWAP1 + 1) as usize;
                    let len = stack.len();
                    stack.swap(len - 1, len - 1 - n);
                }
                op::DUPN => {
                    let n = needed;
                    stack.push(stack[stack.len() - n]);
                }
                op::SWAPN => {
                    let len = stack.len();
                    stack.swap(len - 1, len - needed);
                }
                op::EXCHANGE => {
                    let imm = ins.immediate(&a.bytes).first().copied().unwrap_or(0);
                    let (n, m) = opcode::decode_pair(imm).unwrap_or((1, 2));
                    let len = stack.len();
                    stack.swap(len - 1 - n, len - 1 - m);
                }
                _ => {
                    let args = pop(needed);
                    let results = self.lift_op(block, op, args, pc);
                    stack.extend(results);
                }
            }
        }
        // Fell off the block: into the next JUMPDEST, or off the end of the code.
        let last_pc = evm_block.end;
        let next_pc = a.instructions[evm_block.instructions.end - 1].next_pc();
        match a.cfg.blocks.get(id + 1) {
            Some(next) if next.start == next_pc => {
                if let Some(on) = self.runs_on(frame, Some(next.id)) {
                    return self.run_on(on, block, stack, frame, last_pc);
                }
                let out = self.leave(block, &stack, frame, last_pc);
                let call = self.goto(next.id, &out)?;
                self.finish(block, Terminator::Jump(call), last_pc);
            }
            _ => self.finish(block, Terminator::Exit(ExitKind::Stop, vec![]), last_pc),
        }
        Ok(())
    }
}

enum JumpPlan {
    Direct(BlockCall),
    Switch(Terminator),
}
