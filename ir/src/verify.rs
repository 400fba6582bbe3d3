//! The verifier. A module that passes it is well formed, and backends and the
//! interpreter may rely on every check below. A verifier failure on the
//! output of a frontend or a pass is a bug in that frontend or pass.
//!
//! Checks, per function:
//! 1. The layout is not empty, lists each block once, and every branch
//!    target is in the layout. The entry block is not a branch target.
//! 2. The entry block's parameter types are the function's parameter types.
//! 3. Every value is defined once (as a block parameter or an instruction
//!    result) and every use is dominated by its definition.
//! 4. Every block call passes one argument per parameter, of the same type.
//! 5. Operands and results have the count and types the operation documents
//!    (see [`crate::inst::Op`]); `brif` takes an `i1`; `switch` cases are
//!    distinct and fit the scrutinee's type; `exit` operands are `i256` in the
//!    documented number (host operations and exits may instead take and give
//!    each word as four `i64` limbs, least significant first: the legalized
//!    form); `return` values match the function's result types;
//!    `iconst` constants fit their type (constants are kept truncated).
//! 6. Called functions and tables exist and signatures match.

use crate::entities::{Block, Value};
use crate::function::{BlockCall, Function, Module, Terminator};
use crate::inst::{Op, SourcePos};
use crate::types::Type;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// A verifier failure: which function and entity, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "%{function}: {location}: {message} (IR verifier; after a frontend or pass this is a bug in it)"
)]
pub struct VerifyError {
    /// The function's name.
    pub function: String,
    /// The entity: `block3`, `v7`, `block3 terminator`.
    pub location: String,
    /// What is wrong.
    pub message: String,
    /// Source position of the offending instruction, when it has one.
    pub pos: SourcePos,
}

struct Checker<'a> {
    m: &'a Module,
    f: &'a Function,
    errors: Vec<VerifyError>,
}

impl Checker<'_> {
    fn fail(
        &mut self,
        location: impl std::fmt::Display,
        message: impl Into<String>,
        pos: SourcePos,
    ) {
        self.errors.push(VerifyError {
            function: self.f.name.clone(),
            location: location.to_string(),
            message: message.into(),
            pos,
        });
    }

    fn ty(&self, v: Value) -> Option<Type> {
        self.f.values.get(v.index()).copied()
    }
}

/// Immediate dominators by the iterative algorithm of Cooper, Harvey and
/// Kennedy, over blocks reachable from the entry; `None` for unreachable ones.
pub fn dominators(f: &Function) -> HashMap<Block, Block> {
    let Some(entry) = f.entry() else {
        return HashMap::default();
    };
    // Reverse postorder.
    let mut order = vec![];
    let mut seen = HashSet::default();
    let mut stack = vec![(entry, 0usize)];
    seen.insert(entry);
    while let Some((b, i)) = stack.pop() {
        let succs: Vec<Block> = f.block(b).term.targets().map(|c| c.block).collect();
        if i < succs.len() {
            stack.push((b, i + 1));
            let s = succs[i];
            if s.index() < f.blocks.len() && seen.insert(s) {
                stack.push((s, 0));
            }
        } else {
            order.push(b);
        }
    }
    order.reverse();
    let rpo: HashMap<Block, usize> = order.iter().enumerate().map(|(i, b)| (*b, i)).collect();
    let mut preds: HashMap<Block, Vec<Block>> = HashMap::default();
    for b in &order {
        for c in f.block(*b).term.targets() {
            preds.entry(c.block).or_default().push(*b);
        }
    }
    let mut idom: HashMap<Block, Block> = HashMap::default();
    idom.insert(entry, entry);
    let mut changed = true;
    while changed {
        changed = false;
        for b in order.iter().skip(1) {
            let mut new: Option<Block> = None;
            for p in preds.get(b).into_iter().flatten() {
                if !idom.contains_key(p) {
                    continue;
                }
                new = Some(match new {
                    None => *p,
                    Some(mut x) => {
                        let mut y = *p;
                        while x != y {
                            while rpo[&x] > rpo[&y] {
                                x = idom[&x];
                            }
                            while rpo[&y] > rpo[&x] {
                                y = idom[&y];
                            }
                        }
                        x
                    }
                });
            }
            if let Some(n) = new
                && idom.get(b) != Some(&n)
            {
                idom.insert(*b, n);
                changed = true;
            }
        }
    }
    idom
}

/// Pre- and post-order numbers of the dominator tree, so that "a dominates
/// b" is an O(1) interval test.
struct DomTree {
    interval: HashMap<Block, (usize, usize)>,
}

impl DomTree {
    fn new(idom: &HashMap<Block, Block>) -> DomTree {
        let mut children: HashMap<Block, Vec<Block>> = HashMap::default();
        let mut root = None;
        for (b, p) in idom {
            if b == p {
                root = Some(*b);
            } else {
                children.entry(*p).or_default().push(*b);
            }
        }
        let mut interval = HashMap::default();
        let mut clock = 0;
        if let Some(r) = root {
            let mut stack = vec![(r, false)];
            while let Some((b, done)) = stack.pop() {
                if done {
                    interval
                        .entry(b)
                        .and_modify(|e: &mut (usize, usize)| e.1 = clock);
                    clock += 1;
                    continue;
                }
                interval.insert(b, (clock, usize::MAX));
                clock += 1;
                stack.push((b, true));
                for c in children.get(&b).into_iter().flatten() {
                    stack.push((*c, false));
                }
            }
        }
        DomTree { interval }
    }

    fn dominates(&self, a: Block, b: Block) -> bool {
        match (self.interval.get(&a), self.interval.get(&b)) {
            (Some(x), Some(y)) => x.0 <= y.0 && y.1 <= x.1,
            _ => false,
        }
    }
}

/// A module the verifier accepted. Only [`verified`] makes one, so a backend
/// or engine that takes a `&Verified` cannot be handed a module nobody
/// checked (naga's `ModuleInfo` idea). It reads as the module it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    module: Module,
}

impl Verified {
    /// The module.
    pub fn module(&self) -> &Module {
        self
    }

    /// The module, to change it (it must be verified again to be used).
    pub fn into_module(self) -> Module {
        self.module
    }
}

impl std::ops::Deref for Verified {
    type Target = Module;
    fn deref(&self) -> &Module {
        &self.module
    }
}

/// Verifies `m` and wraps it in the token backends and engines require.
pub fn verified(m: Module) -> Result<Verified, Vec<VerifyError>> {
    verify(&m)?;
    Ok(Verified { module: m })
}

/// Verifies every function of `m`; returns every failure found.
pub fn verify(m: &Module) -> Result<(), Vec<VerifyError>> {
    let mut errors = vec![];
    for f in &m.functions {
        let mut c = Checker {
            m,
            f,
            errors: vec![],
        };
        check_function(&mut c);
        errors.extend(c.errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn check_function(c: &mut Checker) {
    let f = c.f;
    let Some(entry) = f.entry() else {
        c.fail("function", "has no blocks", SourcePos::None);
        return;
    };
    // 1. Layout.
    let mut in_layout = vec![false; f.blocks.len()];
    for b in &f.layout {
        if b.index() >= f.blocks.len() {
            c.fail(
                b.to_string(),
                "is in the layout but not in the block arena",
                SourcePos::None,
            );
            return;
        }
        if in_layout[b.index()] {
            c.fail(
                b.to_string(),
                "appears twice in the layout",
                SourcePos::None,
            );
        }
        in_layout[b.index()] = true;
    }
    // 2. Entry parameters.
    let entry_types: Vec<Option<Type>> = f.block(entry).params.iter().map(|p| c.ty(*p)).collect();
    if entry_types != f.params.iter().map(|t| Some(*t)).collect::<Vec<_>>() {
        c.fail(
            entry.to_string(),
            "entry block parameters differ from the function's parameters",
            SourcePos::None,
        );
    }
    // 3. Definitions.
    let mut def_block: Vec<Option<(Block, usize)>> = vec![None; f.values.len()];
    for b in &f.layout {
        let data = f.block(*b);
        let defs = data.params.iter().map(|p| (*p, 0usize)).chain(
            data.insts
                .iter()
                .enumerate()
                .flat_map(|(i, inst)| inst.results.iter().map(move |r| (*r, i + 1))),
        );
        for (v, at) in defs.collect::<Vec<_>>() {
            match def_block.get_mut(v.index()) {
                None => c.fail(v.to_string(), "is not in the value table", SourcePos::None),
                Some(Some(_)) => {
                    c.fail(v.to_string(), "is defined more than once", SourcePos::None)
                }
                Some(slot) => *slot = Some((*b, at)),
            }
        }
    }
    let idom = dominators(f);
    let tree = DomTree::new(&idom);
    let check_use =
        |c: &mut Checker, v: Value, b: Block, at: usize, loc: &Loc, pos: SourcePos| match def_block
            .get(v.index())
            .copied()
            .flatten()
        {
            None => c.fail(loc, format!("uses {v}, which is never defined"), pos),
            Some((db, dat)) => {
                let ok = if db == b {
                    dat <= at
                } else {
                    !idom.contains_key(&b) || tree.dominates(db, b)
                };
                if !ok {
                    c.fail(
                        loc,
                        format!("uses {v}, whose definition in {db} does not dominate the use"),
                        pos,
                    );
                }
            }
        };
    for b in &f.layout {
        let data = f.block(*b);
        for (i, inst) in data.insts.iter().enumerate() {
            let loc = Loc::Inst(*b, i);
            for a in &inst.args {
                check_use(c, *a, *b, i, &loc, inst.pos);
            }
            check_inst(c, inst, &loc);
        }
        let loc = Loc::Term(*b);
        for v in data.term.uses() {
            check_use(c, v, *b, data.insts.len() + 1, &loc, data.term_pos);
        }
        check_terminator(c, *b, &data.term, &in_layout, entry, data.term_pos);
    }
}

fn check_call(
    c: &mut Checker,
    call: &BlockCall,
    in_layout: &[bool],
    entry: Block,
    loc: &Loc,
    pos: SourcePos,
) {
    let f = c.f;
    if in_layout.get(call.block.index()) != Some(&true) {
        c.fail(
            loc.to_string(),
            format!("branches to {}, which is not in the layout", call.block),
            pos,
        );
        return;
    }
    if call.block == entry {
        c.fail(loc.to_string(), "branches to the entry block", pos);
    }
    let params = &f.block(call.block).params;
    if params.len() != call.args.len() {
        c.fail(
            loc.to_string(),
            format!(
                "passes {} arguments to {}, which has {} parameters",
                call.args.len(),
                call.block,
                params.len()
            ),
            pos,
        );
        return;
    }
    for (a, p) in call.args.iter().zip(params) {
        if c.ty(*a) != c.ty(*p) {
            c.fail(
                loc.to_string(),
                format!("passes {a} ({:?}) for {p} ({:?})", c.ty(*a), c.ty(*p)),
                pos,
            );
        }
    }
}

fn check_terminator(
    c: &mut Checker,
    b: Block,
    term: &Terminator,
    in_layout: &[bool],
    entry: Block,
    pos: SourcePos,
) {
    let loc = Loc::Term(b);
    for call in term.targets() {
        check_call(c, call, in_layout, entry, &loc, pos);
    }
    match term {
        Terminator::Branch { cond, .. } => {
            if c.ty(*cond) != Some(Type::I1) {
                c.fail(&loc, format!("brif condition {cond} is not i1"), pos);
            }
        }
        Terminator::Switch { value, cases, .. } => {
            let ty = c.ty(*value).unwrap_or(Type::I256);
            let mut seen = HashSet::default();
            for (k, _) in cases {
                if !seen.insert(*k) {
                    c.fail(&loc, format!("switch case {k:#x} appears twice"), pos);
                }
                if ty.bits() < 256 && k.bit_len() > ty.bits() {
                    c.fail(&loc, format!("switch case {k:#x} does not fit {ty}"), pos);
                }
            }
        }
        Terminator::Return(vs) => {
            let types: Vec<Option<Type>> = vs.iter().map(|v| c.ty(*v)).collect();
            if types != c.f.returns.iter().map(|t| Some(*t)).collect::<Vec<_>>() {
                c.fail(
                    &loc,
                    "returns values that differ from the function's result types",
                    pos,
                );
            }
        }
        Terminator::Exit(kind, vs) => {
            let limbs = vs.first().is_some_and(|v| c.ty(*v) == Some(Type::I64));
            let (n, ty) = if limbs {
                (4 * kind.arity(), Type::I64)
            } else {
                (kind.arity(), Type::I256)
            };
            if vs.len() != n {
                c.fail(
                    &loc,
                    format!(
                        "exit.{} takes {} operands ({} as i64 limbs)",
                        kind.name(),
                        kind.arity(),
                        4 * kind.arity()
                    ),
                    pos,
                );
            }
            if vs.iter().any(|v| c.ty(*v) != Some(ty)) {
                c.fail(
                    &loc,
                    "exit operands must be i256 (or four i64 limbs each)",
                    pos,
                );
            }
        }
        Terminator::Jump(_) | Terminator::Trap(_) => {}
    }
}

/// Where in a block a check failed; written out only for a failure.
enum Loc {
    Inst(Block, usize),
    Term(Block),
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::Inst(b, i) => write!(f, "{b} instruction {i}"),
            Loc::Term(b) => write!(f, "{b} terminator"),
        }
    }
}

fn check_inst(c: &mut Checker, inst: &crate::function::Inst, loc: &Loc) {
    let arg_tys: Vec<Type> = inst
        .args
        .iter()
        .map(|a| c.ty(*a).unwrap_or(Type::I256))
        .collect();
    let res_tys: Vec<Type> = inst
        .results
        .iter()
        .map(|r| c.ty(*r).unwrap_or(Type::I256))
        .collect();
    let pos = inst.pos;
    let i256 = Type::I256;
    let expect = |c: &mut Checker, args: &[Type], results: &[Type]| {
        if arg_tys != args {
            c.fail(
                loc,
                format!("operands are {arg_tys:?}, expected {args:?}"),
                pos,
            );
        }
        if res_tys != results {
            c.fail(
                loc,
                format!("results are {res_tys:?}, expected {results:?}"),
                pos,
            );
        }
    };
    let t = res_tys.first().copied().unwrap_or(i256);
    let a0 = arg_tys.first().copied().unwrap_or(i256);
    match &inst.op {
        Op::Iconst(k) => {
            expect(c, &[], &[t]);
            if t.bits() < 256 && k.bit_len() > t.bits() {
                c.fail(loc, format!("constant {k:#x} does not fit {t}"), pos);
            }
        }
        Op::Binary(_) => expect(c, &[t, t], &[t]),
        Op::Not | Op::Clz => expect(c, &[t], &[t]),
        Op::Icmp(_) => expect(c, &[a0, a0], &[Type::I1]),
        Op::Select => expect(c, &[Type::I1, t, t], &[t]),
        Op::Uext | Op::Sext => {
            expect(c, &[a0], &[t]);
            if a0.bits() > t.bits() {
                c.fail(loc, format!("extends {a0} to the narrower {t}"), pos);
            }
        }
        Op::Trunc => {
            expect(c, &[a0], &[t]);
            if a0.bits() < t.bits() {
                c.fail(loc, format!("truncates {a0} to the wider {t}"), pos);
            }
        }
        Op::AddMod | Op::MulMod => expect(c, &[i256, i256, i256], &[i256]),
        Op::Exp | Op::SignExtend | Op::Byte => expect(c, &[i256, i256], &[i256]),
        Op::Load(ty, _) => {
            if *ty == Type::I1 {
                c.fail(loc, "i1 cannot be loaded", pos);
            }
            expect(c, &[a0], &[*ty]);
        }
        Op::Store(ty, _) => {
            if *ty == Type::I1 {
                c.fail(loc, "i1 cannot be stored", pos);
            }
            expect(c, &[a0, *ty], &[]);
        }
        Op::MemCopy | Op::MemFill => {
            if arg_tys.len() != 3 || !res_tys.is_empty() {
                c.fail(loc, "takes 3 operands and has no result", pos);
            }
        }
        Op::MemExpand => {
            if arg_tys.len() != 2 || !res_tys.is_empty() {
                c.fail(loc, "takes 2 operands and has no result", pos);
            }
        }
        Op::MemSize => expect(c, &[], &[t]),
        Op::StackLoad => {
            if !matches!(t, Type::I256 | Type::I64) {
                c.fail(
                    loc,
                    format!("loads {t} from the stack (i256 or i64 only)"),
                    pos,
                );
            }
            expect(c, &[Type::I64], &[t]);
        }
        Op::StackStore => {
            let v = arg_tys.get(1).copied().unwrap_or(Type::I256);
            if !matches!(v, Type::I256 | Type::I64) {
                c.fail(
                    loc,
                    format!("stores {v} to the stack (i256 or i64 only)"),
                    pos,
                );
            }
            expect(c, &[Type::I64, v], &[]);
        }
        Op::MemGrow => expect(c, &[t], &[t]),
        Op::Host(h) => {
            let (n, r) = h.arity();
            let limbs = arg_tys.len() == 4 * n && res_tys.len() == 4 * r && n + r > 0;
            if limbs {
                expect(c, &vec![Type::I64; 4 * n], &vec![Type::I64; 4 * r]);
            } else {
                expect(c, &vec![i256; n], &vec![i256; r]);
            }
        }
        Op::Call(callee) => match c.m.functions.get(callee.index()) {
            None => c.fail(loc, format!("calls {callee}, which does not exist"), pos),
            Some(g) => {
                let (p, r) = (g.params.clone(), g.returns.clone());
                expect(c, &p, &r);
            }
        },
        Op::CallIndirect(t) => {
            if c.m.tables.get(*t as usize).is_none() {
                c.fail(loc, format!("uses table{t}, which does not exist"), pos);
            }
            if arg_tys.is_empty() {
                c.fail(loc, "needs an index operand", pos);
            }
        }
    }
}
