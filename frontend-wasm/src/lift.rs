//! One function body to IR: the translation state, blocks and structured
//! control flow here, the other operators in [`ops`].
//!
//! Locals and the operand stack are SSA values. Every block the structured
//! control flow creates (a `block`'s or `if`'s end, a `loop`'s header)
//! takes every local and its label's values as parameters, and each branch
//! passes the current ones; the optimizer's parameter pruning then leaves
//! only the locals that really merge (the way the EVM lifter treats stack
//! slots). Integer semantics WASM has and the IR leaves to frontends are
//! written out here: division traps, masked shift counts, page-sized
//! memory, bounds checks of bulk operations, `ctz` and `popcnt`.
//!
//! Globals live in the IR's stack array, one `i64` limb per global
//! (global `n` at limb index `n`): the array is beside memory, per
//! contract run, and every backend has it.

mod ops;

use crate::module::{Sig, WasmModule, is_integer};
use alloy_primitives::U256;
use chainlift_ir::entities::{Block, FuncId, Value};
use chainlift_ir::function::{BlockCall, Function, Inst, Terminator};
use chainlift_ir::inst::{BinOp, Cond, Op, SourcePos, TrapCode};
use chainlift_ir::types::Type;
use wasmparser::{BlockType, FunctionBody, Operator, ValType};

/// The WASM page size.
pub const PAGE: u64 = 65536;

/// Pages a memory may have when it declares no maximum.
pub const MAX_PAGES: u64 = 65536;

/// IR values one function's lift may make. Every block takes every local
/// as a parameter, so a function with many locals and many blocks grows
/// as their product: past this it is not lifted (it traps `unsupported`,
/// named), instead of exhausting memory.
pub const MAX_FUNCTION_VALUES: usize = 4_000_000;

/// Table entries whose WASM type differs from an indirect call's while
/// their IR types match, checked at one `call_indirect` site.
pub const MAX_MISTYPED_ENTRIES: usize = 64;

/// Per module: for (table, type index), the entries an indirect call of
/// that type must trap on although the IR's own check would let them pass.
pub type IndirectChecks =
    std::cell::RefCell<std::collections::HashMap<(u32, u32), std::rc::Rc<Vec<u64>>>>;

/// Why a body was not lifted: the first instruction outside the integer
/// subset, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The instruction or type (`f32.add`, `param f64`).
    pub what: String,
    /// Its byte offset in the module.
    pub offset: usize,
}

/// The IR type of an integer WASM type; floats keep their bit pattern's
/// width (only in signatures of functions that are not lifted).
pub fn ir_type(t: ValType) -> Type {
    match t {
        ValType::I32 | ValType::F32 => Type::I32,
        _ => Type::I64,
    }
}

/// The IR function for WASM function `index` (function 0 is the module's
/// entry or initializer).
pub fn func_id(index: u32) -> FuncId {
    FuncId::new(index as usize + 1)
}

/// The IR signature of `sig`.
pub fn ir_sig(sig: &Sig) -> (Vec<Type>, Vec<Type>) {
    (
        sig.params.iter().map(|t| ir_type(*t)).collect(),
        sig.results.iter().map(|t| ir_type(*t)).collect(),
    )
}

/// A function whose body traps `unsupported` at `offset`.
pub fn trapping(name: String, sig: &Sig, code: TrapCode, offset: usize) -> Function {
    let (params, returns) = ir_sig(sig);
    let mut f = Function::new(name, params.clone(), returns);
    let b = f.new_block();
    for t in params {
        let p = f.new_value(t);
        f.block_mut(b).params.push(p);
    }
    let data = f.block_mut(b);
    data.term = Terminator::Trap(code);
    data.term_pos = SourcePos::Wasm(offset as u32);
    f
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Func,
    Block,
    Loop,
    If { else_block: Block, has_else: bool },
}

#[derive(Debug, Clone)]
struct Frame {
    kind: Kind,
    /// Where `br` goes: the loop header, or the end.
    target: Block,
    /// Where control continues after `end`.
    end: Block,
    params: Vec<Type>,
    results: Vec<Type>,
    /// Operand stack height below the frame's parameters.
    height: usize,
}

impl Frame {
    fn label_types(&self) -> &[Type] {
        match self.kind {
            Kind::Loop => &self.params,
            _ => &self.results,
        }
    }
}

/// Function translation state.
struct Cx<'a, 'm> {
    m: &'a WasmModule<'m>,
    /// Each table's entries (WASM function indices) after instantiation.
    tables: &'a [Vec<Option<u32>>],
    /// The module's indirect-call checks, computed once per type.
    indirect: &'a IndirectChecks,
    f: Function,
    cur: Option<Block>,
    locals: Vec<Value>,
    local_types: Vec<Type>,
    stack: Vec<Value>,
    frames: Vec<Frame>,
    /// Blocks opened inside unreachable code, still to be closed.
    dead: u32,
    pos: SourcePos,
}

/// Lifts the body of WASM function `index`.
pub fn lift_function(
    m: &WasmModule<'_>,
    tables: &[Vec<Option<u32>>],
    indirect: &IndirectChecks,
    index: u32,
    name: String,
    body: &FunctionBody<'_>,
) -> Result<Function, Unsupported> {
    let sig = m.sig(index).cloned().unwrap_or(Sig {
        params: vec![],
        results: vec![],
    });
    let start = body.range().start;
    for t in sig.params.iter().chain(&sig.results) {
        if !is_integer(*t) {
            return Err(Unsupported {
                what: format!("{} in the signature", val_name(*t)),
                offset: start,
            });
        }
    }
    let (params, returns) = ir_sig(&sig);
    let mut cx = Cx {
        m,
        tables,
        indirect,
        f: Function::new(name, params.clone(), returns.clone()),
        cur: None,
        locals: vec![],
        local_types: params.clone(),
        stack: vec![],
        frames: vec![],
        dead: 0,
        pos: SourcePos::Wasm(start as u32),
    };
    let entry = cx.f.new_block();
    for t in &params {
        let v = cx.f.new_value(*t);
        cx.f.block_mut(entry).params.push(v);
        cx.locals.push(v);
    }
    cx.cur = Some(entry);
    let mut locals = body.get_locals_reader().map_err(|e| Unsupported {
        what: e.message().to_string(),
        offset: e.offset(),
    })?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, ty) = locals.read().map_err(|e| Unsupported {
            what: e.message().to_string(),
            offset: e.offset(),
        })?;
        if !is_integer(ty) {
            return Err(Unsupported {
                what: format!("local {}", val_name(ty)),
                offset,
            });
        }
        // Validation bounds the count (50,000 locals per function).
        for _ in 0..count {
            let t = ir_type(ty);
            let zero = cx.iconst(t, 0);
            cx.locals.push(zero);
            cx.local_types.push(t);
        }
    }
    let end = cx.new_block(&returns);
    cx.frames.push(Frame {
        kind: Kind::Func,
        target: end,
        end,
        params: vec![],
        results: returns.clone(),
        height: 0,
    });
    let ops = body.get_operators_reader().map_err(|e| Unsupported {
        what: e.message().to_string(),
        offset: e.offset(),
    })?;
    for op in ops.into_iter_with_offsets() {
        let (op, offset) = op.map_err(|e| Unsupported {
            what: e.message().to_string(),
            offset: e.offset(),
        })?;
        cx.pos = SourcePos::Wasm(offset as u32);
        cx.op(&op).map_err(|what| Unsupported { what, offset })?;
        if cx.f.values.len() > MAX_FUNCTION_VALUES {
            return Err(Unsupported {
                what: format!(
                    "a function too large to lift ({} locals; more than {MAX_FUNCTION_VALUES} IR values)",
                    cx.locals.len()
                ),
                offset,
            });
        }
    }
    Ok(cx.f)
}

type Lift<T = ()> = Result<T, String>;

impl Cx<'_, '_> {
    // ---- building ----

    fn block(&self) -> Block {
        self.cur.expect("reachable code has a current block")
    }

    fn ins(&mut self, op: Op, args: &[Value], tys: &[Type]) -> Vec<Value> {
        let results: Vec<Value> = tys.iter().map(|t| self.f.new_value(*t)).collect();
        let b = self.block();
        self.f.block_mut(b).insts.push(Inst {
            op,
            args: args.to_vec(),
            results: results.clone(),
            pos: self.pos,
        });
        results
    }

    fn ins1(&mut self, op: Op, args: &[Value], ty: Type) -> Value {
        self.ins(op, args, &[ty])[0]
    }

    fn iconst(&mut self, ty: Type, k: u64) -> Value {
        let v = self.f.new_value(ty);
        let b = self.cur.unwrap_or_else(|| self.f.layout[0]);
        self.f.block_mut(b).insts.push(Inst {
            op: Op::Iconst(U256::from(k)),
            args: vec![],
            results: vec![v],
            pos: self.pos,
        });
        v
    }

    fn bin(&mut self, op: BinOp, a: Value, b: Value) -> Value {
        let t = self.f.ty(a);
        self.ins1(Op::Binary(op), &[a, b], t)
    }

    fn bin_k(&mut self, op: BinOp, a: Value, k: u64) -> Value {
        let t = self.f.ty(a);
        let k = self.iconst(t, k);
        self.bin(op, a, k)
    }

    fn icmp(&mut self, c: Cond, a: Value, b: Value) -> Value {
        self.ins1(Op::Icmp(c), &[a, b], Type::I1)
    }

    fn icmp_k(&mut self, c: Cond, a: Value, k: u64) -> Value {
        let t = self.f.ty(a);
        let k = self.iconst(t, k);
        self.icmp(c, a, k)
    }

    fn conv(&mut self, op: Op, a: Value, ty: Type) -> Value {
        self.ins1(op, &[a], ty)
    }

    /// A boolean as a WASM `i32`.
    fn bool32(&mut self, c: Value) -> Value {
        self.conv(Op::Uext, c, Type::I32)
    }

    fn new_block(&mut self, tys: &[Type]) -> Block {
        let b = self.f.new_block();
        let all: Vec<Type> = self.local_types.iter().chain(tys).copied().collect();
        for t in all {
            let v = self.f.new_value(t);
            self.f.block_mut(b).params.push(v);
        }
        b
    }

    fn terminate(&mut self, term: Terminator) {
        if let Some(b) = self.cur.take() {
            let data = self.f.block_mut(b);
            data.term = term;
            data.term_pos = self.pos;
        }
    }

    /// A call of `b` with the current locals and `vals`.
    fn call_of(&self, b: Block, vals: &[Value]) -> BlockCall {
        BlockCall {
            block: b,
            args: self.locals.iter().chain(vals).copied().collect(),
        }
    }

    /// Continues in `b`: its parameters become the locals and the values.
    fn enter(&mut self, b: Block) {
        let params = self.f.block(b).params.clone();
        let n = self.locals.len();
        self.locals = params[..n].to_vec();
        self.stack.extend_from_slice(&params[n..]);
        self.cur = Some(b);
    }

    /// Traps with `code` when `c` is 1, else goes on.
    fn trap_if(&mut self, c: Value, code: TrapCode) {
        let trap = self.f.new_block();
        self.f.block_mut(trap).term = Terminator::Trap(code);
        self.f.block_mut(trap).term_pos = self.pos;
        let next = self.f.new_block();
        self.terminate(Terminator::Branch {
            cond: c,
            then_to: BlockCall::new(trap),
            else_to: BlockCall::new(next),
        });
        self.cur = Some(next);
    }

    fn pop(&mut self) -> Lift<Value> {
        self.stack
            .pop()
            .ok_or_else(|| "operand stack underflow (invalid module)".to_string())
    }

    fn pop_n(&mut self, n: usize) -> Lift<Vec<Value>> {
        if self.stack.len() < n {
            return Err("operand stack underflow (invalid module)".into());
        }
        Ok(self.stack.split_off(self.stack.len() - n))
    }

    fn block_type(&self, bt: BlockType) -> Lift<(Vec<Type>, Vec<Type>)> {
        let check = |ts: &[ValType]| match ts.iter().find(|t| !is_integer(**t)) {
            Some(t) => Err(format!("block of type {}", val_name(*t))),
            None => Ok(ts.iter().map(|t| ir_type(*t)).collect()),
        };
        match bt {
            BlockType::Empty => Ok((vec![], vec![])),
            BlockType::Type(t) => Ok((vec![], check(&[t])?)),
            BlockType::FuncType(i) => {
                let sig = self.m.types.get(i as usize).ok_or("unknown block type")?;
                Ok((check(&sig.params)?, check(&sig.results)?))
            }
        }
    }

    fn frame(&self, depth: u32) -> Lift<&Frame> {
        let i = self
            .frames
            .len()
            .checked_sub(1 + depth as usize)
            .ok_or("branch depth out of range")?;
        Ok(&self.frames[i])
    }

    /// The block call a branch to label `depth` makes (its values stay on
    /// the stack).
    fn branch(&self, depth: u32) -> Lift<BlockCall> {
        let frame = self.frame(depth)?;
        let n = frame.label_types().len();
        if self.stack.len() < n {
            return Err("operand stack underflow (invalid module)".into());
        }
        let vals = &self.stack[self.stack.len() - n..];
        Ok(self.call_of(frame.target, vals))
    }

    // ---- control ----

    fn control(&mut self, op: &Operator<'_>) -> Lift<bool> {
        if self.cur.is_none() {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    self.dead += 1;
                    return Ok(true);
                }
                Operator::End if self.dead > 0 => {
                    self.dead -= 1;
                    return Ok(true);
                }
                Operator::Else if self.dead > 0 => return Ok(true),
                Operator::End | Operator::Else => {}
                _ => return Ok(true),
            }
        }
        match *op {
            Operator::Block { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let end = self.new_block(&results);
                let height = self.stack.len() - params.len().min(self.stack.len());
                self.frames.push(Frame {
                    kind: Kind::Block,
                    target: end,
                    end,
                    params,
                    results,
                    height,
                });
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let header = self.new_block(&params);
                let end = self.new_block(&results);
                let vals = self.pop_n(params.len())?;
                let call = self.call_of(header, &vals);
                self.terminate(Terminator::Jump(call));
                let height = self.stack.len();
                self.frames.push(Frame {
                    kind: Kind::Loop,
                    target: header,
                    end,
                    params,
                    results,
                    height,
                });
                self.enter(header);
            }
            Operator::If { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let c = self.pop()?;
                let c = self.icmp_k(Cond::Ne, c, 0);
                let then_block = self.new_block(&params);
                let else_block = self.new_block(&params);
                let end = self.new_block(&results);
                let vals = self.pop_n(params.len())?;
                let (then_to, else_to) = (
                    self.call_of(then_block, &vals),
                    self.call_of(else_block, &vals),
                );
                self.terminate(Terminator::Branch {
                    cond: c,
                    then_to,
                    else_to,
                });
                let height = self.stack.len();
                self.frames.push(Frame {
                    kind: Kind::If {
                        else_block,
                        has_else: false,
                    },
                    target: end,
                    end,
                    params,
                    results,
                    height,
                });
                self.enter(then_block);
            }
            Operator::Else => {
                let frame = self.frames.last().ok_or("else outside if")?.clone();
                let Kind::If { else_block, .. } = frame.kind else {
                    return Err("else outside if".into());
                };
                if self.cur.is_some() {
                    let vals = self.pop_n(frame.results.len())?;
                    let call = self.call_of(frame.end, &vals);
                    self.terminate(Terminator::Jump(call));
                }
                self.stack.truncate(frame.height);
                if let Some(last) = self.frames.last_mut() {
                    last.kind = Kind::If {
                        else_block,
                        has_else: true,
                    };
                }
                self.enter(else_block);
            }
            Operator::End => {
                let frame = self.frames.pop().ok_or("end outside a block")?;
                if self.cur.is_some() {
                    let vals = self.pop_n(frame.results.len())?;
                    let call = self.call_of(frame.end, &vals);
                    self.terminate(Terminator::Jump(call));
                }
                self.stack.truncate(frame.height);
                if let Kind::If {
                    else_block,
                    has_else: false,
                } = frame.kind
                {
                    // No else: the if's parameters are its results.
                    self.enter(else_block);
                    let vals = self.pop_n(frame.params.len())?;
                    let call = self.call_of(frame.end, &vals);
                    self.terminate(Terminator::Jump(call));
                    self.stack.truncate(frame.height);
                }
                self.enter(frame.end);
                if frame.kind == Kind::Func {
                    let vals = self.pop_n(frame.results.len())?;
                    self.terminate(Terminator::Return(vals));
                }
            }
            Operator::Br { relative_depth } => {
                let call = self.branch(relative_depth)?;
                self.terminate(Terminator::Jump(call));
            }
            Operator::BrIf { relative_depth } => {
                let c = self.pop()?;
                let c = self.icmp_k(Cond::Ne, c, 0);
                let then_to = self.branch(relative_depth)?;
                let next = self.f.new_block();
                self.terminate(Terminator::Branch {
                    cond: c,
                    then_to,
                    else_to: BlockCall::new(next),
                });
                self.cur = Some(next);
            }
            Operator::BrTable { ref targets } => {
                // Each target passes every local: bound the product first.
                let size = (targets.len() as usize + 1).saturating_mul(self.locals.len() + 1);
                if size.saturating_add(self.f.values.len()) > MAX_FUNCTION_VALUES {
                    return Err(format!(
                        "a br_table too large to lift ({} targets × {} locals)",
                        targets.len(),
                        self.locals.len()
                    ));
                }
                let index = self.pop()?;
                let mut cases = vec![];
                for (i, depth) in targets.targets().enumerate() {
                    let depth = depth.map_err(|e| e.message().to_string())?;
                    cases.push((U256::from(i), self.branch(depth)?));
                }
                let default = self.branch(targets.default())?;
                self.terminate(Terminator::Switch {
                    value: index,
                    cases,
                    default,
                });
            }
            Operator::Return => {
                let n = self.frames.first().map_or(0, |f| f.results.len());
                let vals = self.pop_n(n)?;
                self.terminate(Terminator::Return(vals));
            }
            Operator::Unreachable => self.terminate(Terminator::Trap(TrapCode::Unreachable)),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A value type as WASM text writes it.
pub fn val_name(t: ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        ValType::Ref(_) => "ref",
    }
}

/// An operator's WASM text name, from its variant name (`F32Add` →
/// `f32.add`, `I64TruncF32S` → `i64.trunc_f32_s`, `MemoryInit` →
/// `memory.init`).
pub fn op_name(op: &Operator<'_>) -> String {
    let debug = format!("{op:?}");
    let variant: &str = debug.split([' ', '{', '(']).next().unwrap_or("");
    let prefixes = [
        "I32", "I64", "F32", "F64", "V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2",
        "Memory", "Table", "Ref", "Data", "Elem", "Local", "Global", "Atomic",
    ];
    let (prefix, rest) = prefixes
        .iter()
        .find_map(|p| variant.strip_prefix(p).map(|r| (*p, r)))
        .unwrap_or(("", variant));
    let mut snake = String::new();
    for (i, c) in rest.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
    }
    if prefix.is_empty() {
        snake
    } else {
        format!("{}.{snake}", prefix.to_ascii_lowercase())
    }
}
