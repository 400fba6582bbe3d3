//! The stack-in-memory form: EVM blocks whose stack lives in the IR's
//! stack array behind an explicit stack pointer, the spills that move a
//! specialized instance into that form, and its dispatch.

use super::*;

/// EVM blocks a stack-in-memory block's code runs on through at most (its
/// trace): static jumps and fall-throughs continue in the same IR code,
/// with the slots still in values.
const MAX_TRACE: usize = 16;

/// EVM instructions in a trace at most.
const MAX_TRACE_INSTRUCTIONS: usize = 64;

impl Lifter<'_> {
    /// The block that stores `h` slots to the EVM stack array and enters
    /// EVM block `id` in the stack-in-memory form.
    pub(super) fn spill(&mut self, id: usize, h: usize) -> Result<Block, Restart> {
        if let Some(b) = self.spills.get(&(id, h)) {
            return Ok(*b);
        }
        self.arguments += h;
        if self.arguments > self.options.max_arguments {
            return Err(Restart);
        }
        let b = self.f.new_block();
        self.spills.insert((id, h), b);
        let slots = self.new_slots(b, h, vec![]);
        let pc = self.a.cfg.blocks[id].start;
        for (i, v) in slots.into_iter().enumerate() {
            let at = self.i64_const(b, i as u64, pc);
            self.emit(b, Op::StackStore, vec![at, v], None, pc);
        }
        let sp = self.i64_const(b, h as u64, pc);
        let target = self.stack_block(id);
        self.finish(
            b,
            Terminator::Jump(BlockCall {
                block: target,
                args: vec![sp],
            }),
            pc,
        );
        Ok(b)
    }

    /// The stack-in-memory block of EVM block `id` (param: the stack
    /// pointer), queued for lifting when first asked for.
    pub(super) fn stack_block(&mut self, id: usize) -> Block {
        if let Some(b) = self.stack_blocks.get(&id) {
            return *b;
        }
        let b = self.f.new_block();
        let sp = self.f.new_value(Type::I64);
        self.f.block_mut(b).params = vec![sp];
        self.stack_blocks.insert(id, b);
        self.queue.push_back(Work::Stack(id, b));
        b
    }

    /// The dispatch block of the stack-in-memory form: params `sp` and the
    /// target; every JUMPDEST, else `invalid_jump`.
    pub(super) fn stack_dispatcher(&mut self) -> Block {
        if let Some(b) = self.stack_dispatcher {
            return b;
        }
        let b = self.f.new_block();
        self.stack_dispatcher = Some(b);
        let sp = self.f.new_value(Type::I64);
        let target = self.f.new_value(Type::I256);
        self.f.block_mut(b).params = vec![sp, target];
        let dests: Vec<(u32, usize)> = self.jumpdest_blocks();
        let mut cases = Vec::with_capacity(dests.len());
        for (pc, id) in dests {
            let block = self.stack_block(id);
            cases.push((
                U256::from(pc),
                BlockCall {
                    block,
                    args: vec![sp],
                },
            ));
        }
        let invalid = self.invalid_jump_block();
        self.finish(
            b,
            Terminator::Switch {
                value: target,
                cases,
                default: BlockCall::new(invalid),
            },
            0,
        );
        b
    }

    /// (start pc, id) of every block that starts with a JUMPDEST.
    pub(super) fn jumpdest_blocks(&self) -> Vec<(u32, usize)> {
        self.a
            .cfg
            .blocks
            .iter()
            .filter(|blk| self.a.jumpdests.get(blk.start as usize) == Some(&true))
            .map(|blk| (blk.start, blk.id))
            .collect()
    }

    pub(super) fn i64_const(&mut self, block: Block, c: u64, pc: u32) -> Value {
        self.emit(
            block,
            Op::Iconst(U256::from(c)),
            vec![],
            Some(Type::I64),
            pc,
        )
        .expect("result")
    }

    /// `sp + k` (k may be negative) as an `i64`.
    pub(super) fn sp_plus(&mut self, block: Block, sp: Value, k: i64, pc: u32) -> Value {
        if k == 0 {
            return sp;
        }
        let c = self.i64_const(block, k as u64, pc);
        self.emit(
            block,
            Op::Binary(BinOp::Add),
            vec![sp, c],
            Some(Type::I64),
            pc,
        )
        .expect("result")
    }

    /// The deepest slot below its entry pointer EVM block `id` reads, and
    /// the highest above it it writes.
    fn stack_bounds(&self, id: usize) -> (usize, usize) {
        let a = self.a;
        let (mut height, mut depth, mut growth) = (0isize, 0usize, 0usize);
        for ins in &a.instructions[a.cfg.blocks[id].instructions.clone()] {
            let Some((needed, pushes)) = self.stack_effect(ins) else {
                break;
            };
            depth = depth.max((needed as isize - height).max(0) as usize);
            height += pushes as isize - needed as isize;
            growth = growth.max(height.max(0) as usize);
        }
        (depth.min(STACK_LIMIT + 1), growth)
    }

    /// Ends `body` with a check of the stack pointer `sp` (`cond` against
    /// `bound` traps with `code`) and returns the block after it.
    fn stack_check(
        &mut self,
        body: Block,
        sp: Value,
        (cond, bound, code): (Cond, u64, TrapCode),
        pc: u32,
    ) -> Block {
        let k = self.i64_const(body, bound, pc);
        let bad = self
            .emit(body, Op::Icmp(cond), vec![sp, k], Some(Type::I1), pc)
            .expect("result");
        let next = self.f.new_block();
        let trap = self.stack_trap_block(code);
        self.finish(
            body,
            Terminator::Branch {
                cond: bad,
                then_to: BlockCall::new(trap),
                else_to: BlockCall::new(next),
            },
            pc,
        );
        next
    }

    /// Loads `n` slots, from `below` slots under the stack pointer `sp` up.
    fn load_slots(
        &mut self,
        body: Block,
        sp: Value,
        n: usize,
        below: usize,
        pc: u32,
    ) -> Vec<Value> {
        (0..n)
            .map(|i| {
                let at = self.sp_plus(body, sp, i as i64 - below as i64, pc);
                self.emit(body, Op::StackLoad, vec![at], Some(Type::I256), pc)
                    .expect("result")
            })
            .collect()
    }

    /// Lifts EVM block `id` in the stack-in-memory form into `block`, whose
    /// one parameter is the stack pointer: a trace that starts with nothing
    /// loaded or checked.
    pub(super) fn lift_stack_block(&mut self, id: usize, block: Block) -> Result<(), Restart> {
        let pc = self.a.cfg.blocks[id].start;
        let sp = self.f.block(block).params[0];
        let frame = Frame::Memory {
            sp,
            entry: vec![],
            top: 0,
            trace: vec![],
        };
        self.run_on(id, block, vec![], &frame, pc)
    }

    /// The EVM block a stack-in-memory block lifted with `frame` runs on
    /// into, in the same IR code, when it continues at `next` (a static
    /// jump, a fall-through, or the side of a branch that does not revert):
    /// while its trace is short, does not repeat a block, and the lift has
    /// room for the copies. A block run on into is a copy; the block keeps
    /// its own code for its other entries.
    pub(super) fn runs_on(&self, frame: &Frame, next: Option<usize>) -> Option<usize> {
        let Frame::Memory { trace, .. } = frame else {
            return None;
        };
        // Only where the whole contract is in this form (contracts lifted
        // in both forms keep their code as it was), and while the lift has
        // emitted fewer than two instructions per byte of code, which
        // bounds the copies.
        let room = if self.stack_only {
            self.a.bytes.len() * 2
        } else {
            0
        };
        let size = |id: usize| self.a.cfg.blocks[id].instructions.len();
        let traced: usize = trace.iter().map(|id| size(*id)).sum();
        next.filter(|n| {
            trace.len() < MAX_TRACE
                && traced + size(*n) <= MAX_TRACE_INSTRUCTIONS
                && !trace.contains(n)
                && self.emitted < room
        })
    }

    /// Whether EVM block `id` ends in REVERT or INVALID (where checked
    /// arithmetic and bounds checks branch to).
    pub(super) fn reverts(&self, id: usize) -> bool {
        let range = self.a.cfg.blocks[id].instructions.clone();
        self.a.instructions[range]
            .last()
            .is_some_and(|ins| matches!(ins.opcode, op::REVERT | op::INVALID))
    }

    /// Lifts EVM block `next` on from `block`, where the stack is `stack`
    /// (in the stack-in-memory form, `frame`): the slots it reads below
    /// `stack` are loaded and the pointer checked for them, and for the
    /// height it reaches when that is above what was checked before.
    pub(super) fn run_on(
        &mut self,
        next: usize,
        block: Block,
        mut stack: Vec<Value>,
        frame: &Frame,
        pc: u32,
    ) -> Result<(), Restart> {
        let Frame::Memory {
            sp,
            entry,
            top,
            trace,
        } = frame
        else {
            unreachable!("only the stack-in-memory form runs on")
        };
        let (sp, mut entry) = (*sp, entry.clone());
        let (depth, growth) = self.stack_bounds(next);
        // Slots to load below `stack`, and the height the block reaches
        // (both counted as `entry`'s slots are, once the loads are in).
        let more = depth.saturating_sub(stack.len());
        let base = entry.len() + more;
        let height = stack.len() + more + growth;
        let mut body = block;
        if more > 0 {
            let check = (Cond::Ult, base as u64, TrapCode::StackUnderflow);
            body = self.stack_check(body, sp, check, pc);
        }
        let mut top = top + more;
        if height > top {
            let above = (height - base).min(STACK_LIMIT + 1);
            let bound = STACK_LIMIT.saturating_sub(above) as u64;
            body = self.stack_check(body, sp, (Cond::Ugt, bound, TrapCode::StackOverflow), pc);
            top = height;
        }
        if more > 0 {
            let mut loaded = self.load_slots(body, sp, more, base, pc);
            entry.splice(0..0, loaded.iter().copied());
            loaded.append(&mut stack);
            stack = loaded;
        }
        let first_new = self.f.blocks.len();
        let mut trace = trace.clone();
        trace.push(next);
        let frame = Frame::Memory {
            sp,
            entry,
            top,
            trace,
        };
        self.lift_block(next, body, stack, &frame)?;
        if more > 0 {
            self.drop_unused_loads(body, first_new);
        }
        Ok(())
    }

    /// Removes the loads of `body` nothing reads: its values are used only
    /// in `body` and the blocks made while lifting it (from `first_new`).
    pub(super) fn drop_unused_loads(&mut self, body: Block, first_new: usize) {
        let mut used: HashSet<Value> = HashSet::default();
        let blocks = std::iter::once(body).chain((first_new..self.f.blocks.len()).map(Block::new));
        for b in blocks {
            let data = self.f.block(b);
            for inst in &data.insts {
                used.extend(inst.args.iter().copied());
            }
            used.extend(data.term.uses());
        }
        self.f.block_mut(body).insts.retain(|inst| {
            inst.op != Op::StackLoad || inst.results.iter().any(|r| used.contains(r))
        });
    }

    /// The stack a block leaves with: its slots, or, in the stack-in-memory
    /// form, the new stack pointer after storing every slot that changed.
    pub(super) fn leave(&mut self, block: Block, stack: &[Value], frame: &Frame, pc: u32) -> Out {
        let Frame::Memory { sp, entry, .. } = frame else {
            return Out::Values(stack.to_vec());
        };
        let base = entry.len() as i64;
        for (i, v) in stack.iter().enumerate() {
            if entry.get(i) == Some(v) {
                continue;
            }
            let at = self.sp_plus(block, *sp, i as i64 - base, pc);
            self.emit(block, Op::StackStore, vec![at, *v], None, pc);
        }
        Out::Memory(self.sp_plus(block, *sp, stack.len() as i64 - base, pc))
    }
}
