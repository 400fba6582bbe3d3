//! The stack-in-memory form: EVM blocks whose stack lives in the IR's
//! stack array behind an explicit stack pointer, the spills that move a
//! specialized instance into that form, and its dispatch.

use super::*;

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

    /// Lifts EVM block `id` in the stack-in-memory form into `block`, whose
    /// one parameter is the stack pointer.
    pub(super) fn lift_stack_block(&mut self, id: usize, block: Block) -> Result<(), Restart> {
        let a = self.a;
        let evm_block = &a.cfg.blocks[id];
        let pc = evm_block.start;
        let sp = self.f.block(block).params[0];
        // The deepest slot below the entry pointer the block reads, and the
        // highest it writes above it.
        let (mut height, mut depth, mut growth) = (0isize, 0usize, 0usize);
        for ins in &a.instructions[evm_block.instructions.clone()] {
            let Some((needed, pushes)) = self.stack_effect(ins) else {
                break;
            };
            depth = depth.max((needed as isize - height).max(0) as usize);
            height += pushes as isize - needed as isize;
            growth = growth.max(height.max(0) as usize);
        }
        let depth = depth.min(STACK_LIMIT + 1);
        let mut body = block;
        let checks = [
            (depth > 0, Cond::Ult, depth as u64, TrapCode::StackUnderflow),
            (
                growth > 0,
                Cond::Ugt,
                STACK_LIMIT.saturating_sub(growth) as u64,
                TrapCode::StackOverflow,
            ),
        ];
        for (needed, cond, bound, code) in checks {
            if !needed {
                continue;
            }
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
            body = next;
        }
        let first_new = self.f.blocks.len();
        let mut entry = Vec::with_capacity(depth);
        for i in 0..depth {
            let at = self.sp_plus(body, sp, i as i64 - depth as i64, pc);
            let v = self
                .emit(body, Op::StackLoad, vec![at], Some(Type::I256), pc)
                .expect("result");
            entry.push(v);
        }
        let stack = entry.clone();
        self.lift_block(id, body, stack, &Frame::Memory { sp, entry })?;
        self.drop_unused_loads(body, first_new);
        Ok(())
    }

    /// Removes the entry loads of `body` nothing reads: the block's values
    /// are used only in `body` and the blocks made while lifting it.
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
        let Frame::Memory { sp, entry } = frame else {
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
