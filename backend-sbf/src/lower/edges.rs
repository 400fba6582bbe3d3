//! Blocks and the edges between them: each block's instructions in order,
//! then its terminator. Block arguments are parallel copies into the
//! target's parameter slots (through a buffer when a destination is also a
//! source, constants last); a branch or switch whose edge carries
//! arguments jumps to a stub that copies them. An `icmp` used only by the
//! branch right after it is fused into a compare-and-jump.

use super::{Cx, SLOT};
use crate::asm::{Cond as J, Label, R0, R1, R2};
use crate::{Error, exit};
use alloy_primitives::U256;
use chainlift_ir::entities::{Block, Value};
use chainlift_ir::function::{BlockCall, Inst, Terminator};
use chainlift_ir::inst::{Cond, Op, TrapCode};
use chainlift_ir::print::op_name;
use chainlift_ir::types::Type;

impl Cx<'_> {
    /// The shared exits that instructions jump to.
    pub(super) fn stubs(&mut self) {
        let a = &mut self.asm;
        a.bind(self.halt);
        a.mov64(R0, exit::HALT);
        a.exit();
        if self.stack_words > 0 {
            a.bind(self.stack_limit);
            a.mov64(R0, exit::STACK_LIMIT);
            a.exit();
        }
        a.bind(self.memory_limit);
        a.mov64(R0, exit::MEMORY_LIMIT);
        a.bind(self.fail);
        a.exit();
    }

    /// Lowers block `b` (`next` is the block laid out after it, which a
    /// jump to it falls through to): each instruction after a listing
    /// comment that names it, then the terminator.
    pub(super) fn block(&mut self, b: Block, next: Option<Block>) -> Result<(), Error> {
        let l = self.blocks[&b];
        self.asm.bind(l);
        let data = self.f.block(b);
        let fused = self.fused_compare(&data.term, data.insts.last());
        let n = data.insts.len() - usize::from(fused.is_some());
        for (k, inst) in data.insts[..n].iter().enumerate() {
            self.at = (b, k);
            self.asm.comment(inst_comment(inst));
            let lowered = self.inst(inst);
            self.go_on(lowered)?;
        }
        self.at = (b, data.insts.len());
        self.asm.comment(format!("{} terminator", data.term_pos));
        let lowered = self.terminator(&data.term, fused, next);
        self.go_on(lowered)
    }

    /// Goes on past an operation with no mapping: it is recorded (see
    /// [`crate::lower::lower_all`]) and halts here. Any other error stops
    /// the lowering, unless an operation with no mapping came first: that
    /// is what stops translation.
    fn go_on(&mut self, lowered: Result<(), Error>) -> Result<(), Error> {
        match lowered {
            Err(e @ Error::Unsupported { .. }) => {
                self.problems.push(e);
                self.asm.ja(self.halt);
                Ok(())
            }
            Err(e) => Err(self.problems.first().cloned().unwrap_or(e)),
            ok => ok,
        }
    }

    /// The comparison `(cond, a, b)` of a block's last instruction when it
    /// is an `icmp` whose only use is the branch right after it: the branch
    /// then compares and jumps in one go, and the `icmp` is not lowered.
    fn fused_compare(
        &self,
        term: &Terminator,
        last: Option<&Inst>,
    ) -> Option<(Cond, Value, Value)> {
        let (Terminator::Branch { cond, .. }, Some(last)) = (term, last) else {
            return None;
        };
        match last.op {
            Op::Icmp(c) if last.results == [*cond] && self.uses[cond.index()] == 1 => {
                Some((c, last.args[0], last.args[1]))
            }
            _ => None,
        }
    }

    /// Lowers a block's terminator; `fused` is the comparison a branch
    /// makes itself ([`Self::fused_compare`]).
    fn terminator(
        &mut self,
        term: &Terminator,
        fused: Option<(Cond, Value, Value)>,
        next: Option<Block>,
    ) -> Result<(), Error> {
        match term {
            Terminator::Jump(c) => self.edge(c, next),
            Terminator::Branch {
                cond,
                then_to,
                else_to,
            } => {
                let t = self.edge_label(then_to);
                let e = self.edge_label(else_to);
                if let Some((c, a, b)) = fused {
                    self.compare(c, a, b, t.0, e.0);
                } else {
                    self.limb(R0, *cond, 0);
                    self.asm.jmp_imm(J::Ne, R0, 0, t.0);
                    self.asm.ja(e.0);
                }
                self.edge_stub(t, then_to);
                self.edge_stub(e, else_to);
            }
            Terminator::Switch {
                value,
                cases,
                default,
            } => self.switch(*value, cases, default),
            Terminator::Return(_) => {
                return Err(Error::Internal(
                    "`return` in the entry function of an EVM module".into(),
                ));
            }
            Terminator::Exit(kind, args) => {
                let pos = self.f.block(self.at.0).term_pos;
                self.exit(*kind, args, pos)?
            }
            Terminator::Trap(code) => {
                let to = if *code == TrapCode::OutOfMemory {
                    self.memory_limit
                } else {
                    self.halt
                };
                self.asm.ja(to);
            }
        }
        Ok(())
    }

    /// The label to branch to for `c`: the block itself when there is
    /// nothing to copy, else a fresh stub (bound by [`Self::edge_stub`]).
    fn edge_label(&mut self, c: &BlockCall) -> (Label, bool) {
        if c.args.is_empty() {
            (self.blocks[&c.block], false)
        } else {
            (self.asm.label(), true)
        }
    }

    /// Binds the stub [`Self::edge_label`] made for `c`, if it made one, and
    /// copies `c`'s arguments there.
    fn edge_stub(&mut self, (l, stub): (Label, bool), c: &BlockCall) {
        if stub {
            self.asm.bind(l);
            self.edge(c, None);
        }
    }

    /// Copies the arguments into the parameters and jumps (unless the
    /// target comes next).
    fn edge(&mut self, c: &BlockCall, next: Option<Block>) {
        let params = self.f.block(c.block).params.clone();
        let moves: Vec<(i16, i16, Type)> = c
            .args
            .iter()
            .zip(&params)
            .filter(|(a, _)| !self.consts.contains_key(a))
            .map(|(a, p)| (self.off(*a), self.off(*p), self.ty(*p)))
            .filter(|(s, d, _)| s != d)
            .collect();
        let const_moves: Vec<(i16, Type, U256)> = c
            .args
            .iter()
            .zip(&params)
            .filter_map(|(a, p)| self.consts.get(a).map(|k| (self.off(*p), self.ty(*p), *k)))
            .collect();
        let conflict = moves
            .iter()
            .any(|(_, d, _)| moves.iter().any(|(s, _, _)| s == d));
        if conflict {
            for (i, (s, _, t)) in moves.iter().enumerate() {
                self.copy((self.copy_buf + SLOT * i) as i16, *s, *t);
            }
            for (i, (_, d, t)) in moves.iter().enumerate() {
                self.copy(*d, (self.copy_buf + SLOT * i) as i16, *t);
            }
        } else {
            for (s, d, t) in moves {
                self.copy(d, s, t);
            }
        }
        // Constants last: they read no slot that a copy could overwrite.
        for (d, t, k) in const_moves {
            self.store_const_at(d, t, k);
        }
        if next != Some(c.block) {
            let l = self.blocks[&c.block];
            self.asm.ja(l);
        }
    }

    /// A switch on `v`: the cases that fit one limb compare limb 0 (after
    /// checking, for a word, that the upper limbs are zero); the wider
    /// cases compare every limb.
    fn switch(&mut self, v: Value, cases: &[(U256, BlockCall)], default: &BlockCall) {
        let d = self.edge_label(default);
        let edges: Vec<(U256, (Label, bool))> = cases
            .iter()
            .map(|(c, b)| (*c, self.edge_label(b)))
            .collect();
        let wide = self.ty(v) == Type::I256;
        let big = self.asm.label();
        if wide {
            self.jmp_if_high(v, big);
        }
        self.limb(R1, v, 0);
        for (c, (l, _)) in &edges {
            let limbs = c.as_limbs();
            if limbs[1..].iter().any(|x| *x != 0) {
                continue;
            }
            if let Ok(imm) = i32::try_from(limbs[0] as i64) {
                self.asm.jmp_imm(J::Eq, R1, imm, *l);
            } else {
                self.asm.mov64(R2, limbs[0]);
                self.asm.jmp(J::Eq, R1, R2, *l);
            }
        }
        self.asm.ja(d.0);
        self.asm.bind(big);
        for (c, (l, _)) in &edges {
            let limbs = *c.as_limbs();
            if limbs[1..].iter().all(|x| *x == 0) {
                continue;
            }
            let miss = self.asm.label();
            for (i, x) in limbs.iter().enumerate() {
                self.limb(R1, v, i as i16);
                self.asm.mov64(R2, *x);
                self.asm.jmp(J::Ne, R1, R2, miss);
            }
            self.asm.ja(*l);
            self.asm.bind(miss);
        }
        self.asm.ja(d.0);
        for ((_, l), (_, b)) in edges.iter().zip(cases) {
            self.edge_stub(*l, b);
        }
        self.edge_stub(d, default);
    }
}

/// The listing comment before an instruction: its pc, then the instruction
/// as the IR prints it (`@0x2 v1 = host.calldataload v0`).
fn inst_comment(inst: &Inst) -> String {
    format!(
        "{} {}{} {}",
        inst.pos,
        inst.results
            .iter()
            .map(|r| format!("v{} = ", r.index()))
            .collect::<String>(),
        op_name(&inst.op),
        inst.args
            .iter()
            .map(|a| format!("v{}", a.index()))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
