//! One IR function to one Cranelift function.
//!
//! IR blocks become Cranelift blocks with the same parameters, so no
//! structuring is needed (Cranelift takes any CFG). Types map one to one,
//! `i1` living in an `i8` as 0 or 1. Every operation whose IR meaning
//! differs from Cranelift's (division by zero, shifts by the width or more,
//! signed overflow) is guarded here. Each function takes the run's context
//! and its IR call depth before its IR parameters, and returns a status (0
//! normal, 1 the run stopped: an exit, a trap or a stop a callback set)
//! before its IR results.

use crate::vm::{self, Math, OUT_OF_BUDGET, STACK_LIMBS, encode_pos, offset};
use crate::{Error, Helper};
use chainlift_ir::entities::{Block as IrBlock, FuncId as IrFunc, Value as IrValue};
use chainlift_ir::function::{BlockCall, Function, Terminator};
use chainlift_ir::inst::{BinOp, Cond, Endian, ExitKind, HostOp, Op, SourcePos, TrapCode};
use chainlift_ir::types::Type;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I8, I32, I64};
use cranelift_codegen::ir::{
    self, AbiParam, BlockArg, FuncRef, InstBuilder, MemFlagsData, SigRef, Signature, StackSlotData,
    StackSlotKind, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, Switch, Variable};

/// The Cranelift type of an IR type.
pub(crate) fn cl_type(t: Type) -> Option<types::Type> {
    match t {
        Type::I1 | Type::I8 => Some(I8),
        Type::I32 => Some(I32),
        Type::I64 => Some(I64),
        Type::I256 => None,
    }
}

/// The Cranelift signature of IR function `f`.
pub(crate) fn signature(f: &Function, call_conv: CallConv) -> Result<Signature, Error> {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(I64));
    sig.params.push(AbiParam::new(I64));
    sig.returns.push(AbiParam::new(I8));
    for t in &f.params {
        sig.params.push(AbiParam::new(ty(*t, &f.name)?));
    }
    for t in &f.returns {
        sig.returns.push(AbiParam::new(ty(*t, &f.name)?));
    }
    Ok(sig)
}

fn ty(t: Type, func: &str) -> Result<types::Type, Error> {
    cl_type(t).ok_or_else(|| Error::NotLegalized {
        func: func.to_string(),
    })
}

/// How calls to each IR function are made.
#[derive(Clone, Copy)]
pub(crate) enum Callee {
    /// A compiled function.
    Compiled(cranelift_module::FuncId),
    /// `mul_wide_u64`: two instructions in place.
    MulWide,
    /// A helper computed by [`vm::math`].
    Math(Math),
}

/// What a function's code needs from the rest of the module.
pub(crate) struct Context<'a> {
    pub callees: &'a [Callee],
    pub call_conv: CallConv,
    /// Cranelift references of compiled callees, by IR function index.
    pub refs: Vec<Option<FuncRef>>,
}

/// Signatures of the callbacks.
struct Sigs {
    host: SigRef,
    exit: SigRef,
    trap: SigRef,
    expand: SigRef,
    grow: SigRef,
    copy: SigRef,
    math: SigRef,
}

fn sig(call_conv: CallConv, params: &[types::Type], returns: &[types::Type]) -> Signature {
    let mut s = Signature::new(call_conv);
    s.params.extend(params.iter().map(|t| AbiParam::new(*t)));
    s.returns.extend(returns.iter().map(|t| AbiParam::new(*t)));
    s
}

/// Bytes of the scratch slot: the widest host operation's operands (seven
/// words), then results from [`RES`].
const SCRATCH: u32 = 512;
const RES: i32 = 256;

/// Lowers IR function `index` into `b`'s function.
pub(crate) struct Lower<'c, 'b, 'f> {
    cx: &'c Context<'c>,
    f: &'c Function,
    b: &'b mut FunctionBuilder<'f>,
    sigs: Sigs,
    vals: Vec<Option<Value>>,
    blocks: Vec<Option<ir::Block>>,
    vm: Value,
    depth: Value,
    fuel: Variable,
    scratch: ir::StackSlot,
    trap: ir::Block,
    stop: ir::Block,
    heap: MemFlagsData,
    ctx: MemFlagsData,
    /// Each value as (base value, constant offset) when it is a constant
    /// (no base) or a value plus a constant, for [`Lower::covered`].
    parts: Vec<Option<(Option<IrValue>, u64)>>,
    /// Ranges the current block's `mem.expand`s have made part of memory:
    /// (base, start, end), offsets from the base value (or absolute).
    grown: Vec<(Option<IrValue>, u64, u64)>,
}

/// Each value of `f` that is an `i64` constant or a value plus one, as
/// (base, offset).
fn parts(f: &Function) -> Vec<Option<(Option<IrValue>, u64)>> {
    let mut out = vec![None; f.values.len()];
    let mut consts = vec![None; f.values.len()];
    for blk in &f.layout {
        for inst in &f.block(*blk).insts {
            let Some(r) = inst.results.first() else {
                continue;
            };
            if f.ty(*r) != Type::I64 {
                continue;
            }
            match (&inst.op, inst.args.as_slice()) {
                (Op::Iconst(c), _) => {
                    let c = c.as_limbs()[0];
                    consts[r.index()] = Some(c);
                    out[r.index()] = Some((None, c));
                }
                (Op::Binary(BinOp::Add), [x, y]) => {
                    let (cx, cy) = (consts[x.index()], consts[y.index()]);
                    out[r.index()] = match (cx, cy) {
                        (None, Some(c)) => Some((Some(*x), c)),
                        (Some(c), None) => Some((Some(*y), c)),
                        _ => None,
                    };
                }
                _ => {}
            }
        }
    }
    out
}

/// Reverse postorder of `f`'s reachable blocks, and which blocks are
/// targets of back edges (every cycle passes through one).
fn order(f: &Function) -> (Vec<IrBlock>, Vec<bool>) {
    let n = f.blocks.len();
    let mut state = vec![0u8; n];
    let mut header = vec![false; n];
    let mut post = Vec::with_capacity(f.layout.len());
    let Some(entry) = f.entry() else {
        return (post, header);
    };
    let mut stack: Vec<(IrBlock, usize)> = vec![(entry, 0)];
    state[entry.index()] = 1;
    while let Some((b, i)) = stack.last_mut() {
        let block = *b;
        let next = f.block(block).term.targets().nth(*i).map(|c| c.block);
        *i += 1;
        match next {
            Some(s) => match state[s.index()] {
                0 => {
                    state[s.index()] = 1;
                    stack.push((s, 0));
                }
                1 => header[s.index()] = true,
                _ => {}
            },
            None => {
                state[block.index()] = 2;
                post.push(block);
                stack.pop();
            }
        }
    }
    post.reverse();
    (post, header)
}

impl<'c, 'b, 'f> Lower<'c, 'b, 'f> {
    /// Emits the whole function.
    pub(crate) fn function(
        cx: &'c Context<'c>,
        f: &'c Function,
        b: &'b mut FunctionBuilder<'f>,
    ) -> Result<(), Error> {
        let cc = cx.call_conv;
        let sigs = Sigs {
            host: b.import_signature(sig(cc, &[I64, I32, I64, I64, I64], &[I32])),
            exit: b.import_signature(sig(cc, &[I64, I32, I64, I64], &[I32])),
            trap: b.import_signature(sig(cc, &[I64, I32, I64], &[I32])),
            expand: b.import_signature(sig(cc, &[I64, I64, I64, I64], &[I32])),
            grow: b.import_signature(sig(cc, &[I64, I64], &[I64])),
            copy: b.import_signature(sig(cc, &[I64, I64, I64, I64, I64], &[I32])),
            math: b.import_signature(sig(cc, &[I32, I64, I64], &[])),
        };
        let start = b.create_block();
        b.append_block_params_for_function_params(start);
        let trap = b.create_block();
        b.append_block_param(trap, I32);
        b.append_block_param(trap, I64);
        b.set_cold_block(trap);
        let stop = b.create_block();
        b.set_cold_block(stop);
        let (order, header) = order(f);
        let mut blocks = vec![None; f.blocks.len()];
        let mut vals = vec![None; f.values.len()];
        for blk in &order {
            let cb = b.create_block();
            for p in &f.block(*blk).params {
                let v = b.append_block_param(cb, ty(f.ty(*p), &f.name)?);
                vals[p.index()] = Some(v);
            }
            blocks[blk.index()] = Some(cb);
        }
        b.switch_to_block(start);
        let params = b.block_params(start).to_vec();
        let (vm, depth) = (params[0], params[1]);
        let fuel = b.declare_var(I64);
        // Only functions that pass operands through memory have the slot
        // (a recursive function's frames stay small).
        let needs = f.layout.iter().any(|blk| {
            let data = f.block(*blk);
            matches!(data.term, Terminator::Exit(..))
                || data.insts.iter().any(|i| match i.op {
                    Op::Host(_) => true,
                    Op::Call(c) => matches!(cx.callees.get(c.index()), Some(Callee::Math(_))),
                    _ => false,
                })
        });
        let scratch = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            if needs { SCRATCH } else { 0 },
            3,
        ));
        let mut region = |user_id: u32, description: &'static str| {
            let data = ir::AliasRegionData {
                user_id,
                description: description.into(),
            };
            Some(b.func.dfg.alias_regions.insert(data))
        };
        let (heap_region, ctx_region) = (region(0, "memory"), region(1, "vm"));
        // Linear memory is little-endian on every host (`.be` accesses swap
        // their bytes).
        let heap = MemFlagsData::new()
            .with_notrap()
            .with_endianness(ir::Endianness::Little)
            .with_alias_region(heap_region);
        let ctx = MemFlagsData::trusted().with_alias_region(ctx_region);
        let mut l = Lower {
            cx,
            f,
            b,
            sigs,
            vals,
            blocks,
            vm,
            depth,
            fuel,
            scratch,
            trap,
            stop,
            heap,
            ctx,
            parts: parts(f),
            grown: vec![],
        };
        l.prologue(&params[2..])?;
        for blk in &order {
            l.block(*blk, header[blk.index()])?;
        }
        l.epilogues()?;
        l.b.seal_all_blocks();
        Ok(())
    }

    fn iconst(&mut self, t: types::Type, v: i64) -> Value {
        self.b.ins().iconst(t, v)
    }

    fn val(&self, v: IrValue) -> Result<Value, Error> {
        self.vals[v.index()].ok_or_else(|| Error::Internal {
            func: self.f.name.clone(),
            what: format!("{v} used before it is defined"),
        })
    }

    fn block_of(&self, b: IrBlock) -> Result<ir::Block, Error> {
        self.blocks[b.index()].ok_or_else(|| Error::Internal {
            func: self.f.name.clone(),
            what: format!("{b} is not reachable"),
        })
    }

    /// Jumps to the trap block when `cond` is set.
    fn trap_if(&mut self, cond: Value, code: u32, pos: SourcePos) {
        let cont = self.b.create_block();
        let code = self.iconst(I32, i64::from(code));
        let pos = self.iconst(I64, encode_pos(pos));
        let args = [BlockArg::Value(code), BlockArg::Value(pos)];
        self.b.ins().brif(cond, self.trap, &args, cont, &[]);
        self.b.switch_to_block(cont);
    }

    fn trap_code(code: TrapCode) -> u32 {
        TrapCode::ALL.iter().position(|c| *c == code).unwrap_or(0) as u32
    }

    fn ctx_load(&mut self, off: i32) -> Value {
        self.b.ins().load(I64, self.ctx, self.vm, off)
    }

    fn save_fuel(&mut self) {
        let fuel = self.b.use_var(self.fuel);
        self.b.ins().store(self.ctx, fuel, self.vm, offset::FUEL);
    }

    fn load_fuel(&mut self) {
        let fuel = self.ctx_load(offset::FUEL);
        self.b.def_var(self.fuel, fuel);
    }

    fn charge(&mut self, n: i64) {
        let fuel = self.b.use_var(self.fuel);
        let left = self.b.ins().iadd_imm_s(fuel, -n);
        self.b.def_var(self.fuel, left);
    }

    /// Calls a callback at its address.
    fn callback(&mut self, sig: SigRef, addr: usize, args: &[Value]) -> Option<Value> {
        let callee = self.iconst(I64, addr as i64);
        let call = self.b.ins().call_indirect(sig, callee, args);
        self.b.inst_results(call).first().copied()
    }

    /// Goes to the stop block when `status` is not 0.
    fn stop_if(&mut self, status: Value) {
        let cont = self.b.create_block();
        self.b.ins().brif(status, self.stop, &[], cont, &[]);
        self.b.switch_to_block(cont);
    }

    fn prologue(&mut self, params: &[Value]) -> Result<(), Error> {
        self.load_fuel();
        // Every function entry checks the fuel, as loop headers do:
        // recursion without loops is bounded too.
        let fuel = self.b.use_var(self.fuel);
        let out = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, fuel, 0);
        self.trap_if(out, OUT_OF_BUDGET, SourcePos::None);
        let limit = self.ctx_load(offset::DEPTH_LIMIT);
        let deep = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, self.depth, limit);
        let floor = self.ctx_load(offset::STACK_FLOOR);
        let sp = self.b.ins().get_stack_pointer(I64);
        let low = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, floor);
        let out = self.b.ins().bor(deep, low);
        let code = Self::trap_code(TrapCode::CallStackExhausted);
        self.trap_if(out, code, SourcePos::None);
        let Some(entry) = self.f.entry() else {
            return Err(Error::Internal {
                func: self.f.name.clone(),
                what: "no entry block".into(),
            });
        };
        let target = self.block_of(entry)?;
        let args: Vec<BlockArg> = params.iter().map(|v| BlockArg::Value(*v)).collect();
        self.b.ins().jump(target, &args);
        Ok(())
    }

    /// The trap block (stores the fuel, reports the trap, stops) and the
    /// stop block (returns status 1 with zero results).
    fn epilogues(&mut self) -> Result<(), Error> {
        self.b.switch_to_block(self.trap);
        let p = self.b.block_params(self.trap).to_vec();
        self.save_fuel();
        let sig = self.sigs.trap;
        self.callback(sig, vm::trap as *const () as usize, &[self.vm, p[0], p[1]]);
        self.b.ins().jump(self.stop, &[]);
        self.b.switch_to_block(self.stop);
        let mut rets = vec![self.iconst(I8, 1)];
        for t in &self.f.returns {
            let t = ty(*t, &self.f.name)?;
            rets.push(self.iconst(t, 0));
        }
        self.b.ins().return_(&rets);
        Ok(())
    }

    fn block(&mut self, blk: IrBlock, header: bool) -> Result<(), Error> {
        let cb = self.block_of(blk)?;
        self.b.switch_to_block(cb);
        let data = self.f.block(blk);
        self.grown.clear();
        self.charge(data.insts.len() as i64 + 1);
        if header {
            let fuel = self.b.use_var(self.fuel);
            let out = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, fuel, 0);
            self.trap_if(out, OUT_OF_BUDGET, data.term_pos);
        }
        for inst in &data.insts {
            self.inst(inst)?;
        }
        self.terminator(&data.term, data.term_pos)
    }

    fn args(&self, call: &BlockCall) -> Result<Vec<BlockArg>, Error> {
        call.args
            .iter()
            .map(|a| self.val(*a).map(BlockArg::Value))
            .collect()
    }

    fn terminator(&mut self, term: &Terminator, pos: SourcePos) -> Result<(), Error> {
        match term {
            Terminator::Jump(c) => {
                let (t, a) = (self.block_of(c.block)?, self.args(c)?);
                self.b.ins().jump(t, &a);
            }
            Terminator::Branch {
                cond,
                then_to,
                else_to,
            } => {
                let c = self.val(*cond)?;
                let (t, ta) = (self.block_of(then_to.block)?, self.args(then_to)?);
                let (e, ea) = (self.block_of(else_to.block)?, self.args(else_to)?);
                self.b.ins().brif(c, t, &ta, e, &ea);
            }
            Terminator::Switch {
                value,
                cases,
                default,
            } => {
                let v = self.val(*value)?;
                let mut sw = Switch::new();
                let mut edges = vec![];
                for (k, c) in cases {
                    let Ok(k) = u128::try_from(*k) else {
                        continue;
                    };
                    let t = self.edge(c, &mut edges)?;
                    sw.set_entry(k, t);
                }
                let d = self.edge(default, &mut edges)?;
                sw.emit(self.b, v, d);
                for (blk, call) in edges {
                    self.b.switch_to_block(blk);
                    let (t, a) = (self.block_of(call.block)?, self.args(&call)?);
                    self.b.ins().jump(t, &a);
                }
            }
            Terminator::Return(vs) => {
                self.save_fuel();
                let mut rets = vec![self.iconst(I8, 0)];
                for v in vs {
                    rets.push(self.val(*v)?);
                }
                self.b.ins().return_(&rets);
            }
            Terminator::Exit(kind, vs) => {
                self.spill(vs, 0)?;
                self.save_fuel();
                let k = ExitKind::ALL.iter().position(|x| x == kind).unwrap_or(0);
                let k = self.iconst(I32, k as i64);
                let args = self.b.ins().stack_addr(I64, self.scratch, 0);
                let pos = self.iconst(I64, encode_pos(pos));
                let sig = self.sigs.exit;
                self.callback(
                    sig,
                    vm::exit as *const () as usize,
                    &[self.vm, k, args, pos],
                );
                self.b.ins().jump(self.stop, &[]);
            }
            Terminator::Trap(code) => {
                let code = self.iconst(I32, i64::from(Self::trap_code(*code)));
                let pos = self.iconst(I64, encode_pos(pos));
                let args = [BlockArg::Value(code), BlockArg::Value(pos)];
                self.b.ins().jump(self.trap, &args);
            }
        }
        Ok(())
    }

    /// The block a switch jumps to for `call`: its target itself when it
    /// passes no arguments, else a new block that passes them.
    fn edge(
        &mut self,
        call: &BlockCall,
        edges: &mut Vec<(ir::Block, BlockCall)>,
    ) -> Result<ir::Block, Error> {
        if call.args.is_empty() {
            return self.block_of(call.block);
        }
        let blk = self.b.create_block();
        edges.push((blk, call.clone()));
        Ok(blk)
    }

    /// Stores `vs` (i64 limbs) into the scratch slot from byte `at`.
    fn spill(&mut self, vs: &[IrValue], at: i32) -> Result<(), Error> {
        for (i, v) in vs.iter().enumerate() {
            let x = self.val(*v)?;
            let x = self.widen(x);
            self.b
                .ins()
                .stack_store(I64, x, self.scratch, at + 8 * i as i32);
        }
        Ok(())
    }

    /// `v` zero-extended to `i64`.
    fn widen(&mut self, v: Value) -> Value {
        match self.b.func.dfg.value_type(v) {
            I64 => v,
            _ => self.b.ins().uextend(I64, v),
        }
    }

    /// Results `rs` from the scratch slot from byte `at`.
    fn unspill(&mut self, rs: &[IrValue], at: i32) -> Result<(), Error> {
        for (i, r) in rs.iter().enumerate() {
            let t = ty(self.f.ty(*r), &self.f.name)?;
            let x = self
                .b
                .ins()
                .stack_load(I64, I64, self.scratch, at + 8 * i as i32);
            let x = match t {
                I64 => x,
                _ => self.b.ins().ireduce(t, x),
            };
            self.vals[r.index()] = Some(x);
        }
        Ok(())
    }

    /// `v` masked to one bit when it is an `i1`.
    fn mask_bit(&mut self, v: Value, t: Option<Type>) -> Value {
        match t {
            Some(Type::I1) => self.b.ins().band_imm_u(v, 1),
            _ => v,
        }
    }

    fn arg(&self, inst: &chainlift_ir::function::Inst, i: usize) -> Result<Value, Error> {
        let v = inst.args.get(i).ok_or_else(|| Error::Internal {
            func: self.f.name.clone(),
            what: format!("operand {i} missing at {}", inst.pos),
        })?;
        self.val(*v)
    }

    fn set(&mut self, inst: &chainlift_ir::function::Inst, v: Value) {
        if let Some(r) = inst.results.first() {
            self.vals[r.index()] = Some(v);
        }
    }

    fn inst(&mut self, inst: &chainlift_ir::function::Inst) -> Result<(), Error> {
        let f = self.f;
        let pos = inst.pos;
        let rty = inst.results.first().map(|r| f.ty(*r));
        let aty = inst.args.first().map(|v| f.ty(*v));
        let unsupported = |what: &str| Error::Unsupported {
            what: what.to_string(),
            pos,
        };
        match &inst.op {
            Op::Iconst(c) => {
                let t = rty.unwrap_or(Type::I64);
                let v = c.as_limbs()[0] & if t == Type::I1 { 1 } else { u64::MAX };
                let v = self.iconst(ty(t, &f.name)?, v as i64);
                self.set(inst, v);
            }
            Op::Binary(op) => {
                let (x, y) = (self.arg(inst, 0)?, self.arg(inst, 1)?);
                let t = rty.unwrap_or(Type::I64);
                let v = self.binary(*op, t, x, y)?;
                self.set(inst, v);
            }
            Op::Not => {
                let x = self.arg(inst, 0)?;
                let v = match rty {
                    Some(Type::I1) => self.b.ins().bxor_imm_u(x, 1),
                    _ => self.b.ins().bnot(x),
                };
                self.set(inst, v);
            }
            Op::Icmp(c) => {
                let (mut x, mut y) = (self.arg(inst, 0)?, self.arg(inst, 1)?);
                let signed = matches!(c, Cond::Slt | Cond::Sle | Cond::Sgt | Cond::Sge);
                if signed && aty == Some(Type::I1) {
                    // An i1's one bit is its sign: 1 is -1.
                    x = self.b.ins().ineg(x);
                    y = self.b.ins().ineg(y);
                }
                let v = self.b.ins().icmp(intcc(*c), x, y);
                self.set(inst, v);
            }
            Op::Select => {
                let (c, x, y) = (self.arg(inst, 0)?, self.arg(inst, 1)?, self.arg(inst, 2)?);
                let v = self.b.ins().select(c, x, y);
                self.set(inst, v);
            }
            Op::Uext | Op::Sext | Op::Trunc => {
                let x = self.arg(inst, 0)?;
                let (from, to) = (aty.unwrap_or(Type::I64), rty.unwrap_or(Type::I64));
                let v = self.convert(&inst.op, from, to, x)?;
                self.set(inst, v);
            }
            Op::Clz => {
                let x = self.arg(inst, 0)?;
                let v = match rty {
                    Some(Type::I1) => self.b.ins().bxor_imm_u(x, 1),
                    _ => self.b.ins().clz(x),
                };
                self.set(inst, v);
            }
            Op::AddMod | Op::MulMod | Op::Exp | Op::SignExtend | Op::Byte => {
                return Err(Error::NotLegalized {
                    func: f.name.clone(),
                });
            }
            Op::Load(t, e) => {
                let n = t.bytes().unwrap_or(1) as i64;
                let p = self.address(inst.args[0], n, pos)?;
                let t = ty(*t, &f.name)?;
                let mut v = self.b.ins().load(t, self.heap, p, 0);
                if *e == Endian::Big && n > 1 {
                    v = self.b.ins().bswap(v);
                }
                self.set(inst, v);
            }
            Op::Store(t, e) => {
                let n = t.bytes().unwrap_or(1) as i64;
                let mut v = self.arg(inst, 1)?;
                let p = self.address(inst.args[0], n, pos)?;
                if *e == Endian::Big && n > 1 {
                    v = self.b.ins().bswap(v);
                }
                self.b.ins().store(self.heap, v, p, 0);
            }
            Op::MemCopy | Op::MemFill => {
                let (x, y, n) = (self.arg(inst, 0)?, self.arg(inst, 1)?, self.arg(inst, 2)?);
                let (x, y, n) = (self.widen(x), self.widen(y), self.widen(n));
                let pos = self.iconst(I64, encode_pos(pos));
                self.save_fuel();
                let cb = match inst.op {
                    Op::MemCopy => vm::copy as *const () as usize,
                    _ => vm::fill as *const () as usize,
                };
                let sig = self.sigs.copy;
                let status = self.callback(sig, cb, &[self.vm, x, y, n, pos]);
                self.load_fuel();
                if let Some(s) = status {
                    self.stop_if(s);
                }
            }
            Op::MemSize => {
                let size = self.ctx_load(offset::MEM_SIZE);
                let t = ty(rty.unwrap_or(Type::I64), &f.name)?;
                let v = match t {
                    I64 => size,
                    _ => self.b.ins().ireduce(t, size),
                };
                let v = self.mask_bit(v, rty);
                self.set(inst, v);
            }
            Op::MemGrow => {
                let d = self.arg(inst, 0)?;
                let d = self.widen(d);
                let sig = self.sigs.grow;
                let old = self.callback(sig, vm::grow as *const () as usize, &[self.vm, d]);
                let t = ty(rty.unwrap_or(Type::I64), &f.name)?;
                if let Some(old) = old {
                    let v = match t {
                        I64 => old,
                        _ => self.b.ins().ireduce(t, old),
                    };
                    let v = self.mask_bit(v, rty);
                    self.set(inst, v);
                }
            }
            Op::MemExpand => {
                let (o, n) = (self.arg(inst, 0)?, self.arg(inst, 1)?);
                let (o, n) = (self.widen(o), self.widen(n));
                self.expand(o, n, pos);
                // Past it, memory holds [o, o + n) for a constant n (it
                // never shrinks).
                let len = self.parts[inst.args[1].index()];
                if let (Some(Some((base, off))), Some((None, n))) =
                    (self.parts.get(inst.args[0].index()).copied(), len)
                    && let Some(end) = off.checked_add(n)
                {
                    self.grown.push((base, off, end));
                } else if let Some((None, n)) = len {
                    self.grown.push((Some(inst.args[0]), 0, n));
                }
            }
            Op::StackLoad | Op::StackStore => {
                let i = self.arg(inst, 0)?;
                let i = self.widen(i);
                let word_ty = match inst.op {
                    Op::StackLoad => rty,
                    _ => inst.args.get(1).map(|v| f.ty(*v)),
                };
                if word_ty != Some(Type::I64) {
                    return Err(unsupported("a stack access that is not of i64 limbs"));
                }
                let out = self.b.ins().icmp_imm_s(
                    IntCC::UnsignedGreaterThanOrEqual,
                    i,
                    STACK_LIMBS as i64,
                );
                self.trap_if(out, Self::trap_code(TrapCode::StackOverflow), pos);
                let base = self.ctx_load(offset::STACK_BASE);
                let off = self.b.ins().ishl_imm_u(i, 3);
                let p = self.b.ins().iadd(base, off);
                let flags = MemFlagsData::trusted();
                match inst.op {
                    Op::StackLoad => {
                        let v = self.b.ins().load(I64, flags, p, 0);
                        self.set(inst, v);
                    }
                    _ => {
                        let v = self.arg(inst, 1)?;
                        self.b.ins().store(flags, v, p, 0);
                    }
                }
            }
            Op::Host(op) => self.host(*op, inst)?,
            Op::Call(callee) => self.call(*callee, inst)?,
            Op::CallIndirect(_) => return Err(unsupported("call_indirect")),
        }
        Ok(())
    }

    fn binary(&mut self, op: BinOp, t: Type, x: Value, y: Value) -> Result<Value, Error> {
        let clt = ty(t, &self.f.name)?;
        let width = t.bits() as i64;
        let bit = t == Type::I1;
        Ok(match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul => {
                let v = match op {
                    BinOp::Add => self.b.ins().iadd(x, y),
                    BinOp::Sub => self.b.ins().isub(x, y),
                    _ => self.b.ins().imul(x, y),
                };
                if bit {
                    self.b.ins().band_imm_u(v, 1)
                } else {
                    v
                }
            }
            BinOp::And => self.b.ins().band(x, y),
            BinOp::Or => self.b.ins().bor(x, y),
            BinOp::Xor => self.b.ins().bxor(x, y),
            // On one bit, x / 1 = x (also signed: -1 / -1 wraps to -1),
            // x / 0 = 0, and every remainder is 0.
            BinOp::UDiv | BinOp::SDiv if bit => self.b.ins().band(x, y),
            BinOp::URem | BinOp::SRem if bit => self.iconst(I8, 0),
            BinOp::UDiv | BinOp::URem => {
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                let one = self.iconst(clt, 1);
                let d = self.b.ins().select(zero, one, y);
                let q = match op {
                    BinOp::UDiv => self.b.ins().udiv(x, d),
                    _ => self.b.ins().urem(x, d),
                };
                let z = self.iconst(clt, 0);
                self.b.ins().select(zero, z, q)
            }
            BinOp::SDiv | BinOp::SRem => {
                // x / 0 = 0, x % 0 = 0; MIN / -1 = MIN (= -x), x % -1 = 0.
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                let minus = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let either = self.b.ins().bor(zero, minus);
                let one = self.iconst(clt, 1);
                let d = self.b.ins().select(either, one, y);
                match op {
                    BinOp::SDiv => {
                        let q = self.b.ins().sdiv(x, d);
                        let neg = self.b.ins().ineg(x);
                        let q = self.b.ins().select(minus, neg, q);
                        let z = self.iconst(clt, 0);
                        self.b.ins().select(zero, z, q)
                    }
                    _ => self.b.ins().srem(x, d),
                }
            }
            BinOp::Shl | BinOp::LShr => {
                let big = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, y, width);
                let s = match op {
                    BinOp::Shl => self.b.ins().ishl(x, y),
                    _ => self.b.ins().ushr(x, y),
                };
                let z = self.iconst(clt, 0);
                self.b.ins().select(big, z, s)
            }
            BinOp::AShr => {
                let big = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, y, width);
                let top = self.iconst(clt, width - 1);
                let s = self.b.ins().select(big, top, y);
                self.b.ins().sshr(x, s)
            }
            BinOp::Rotl | BinOp::Rotr if bit => x,
            BinOp::Rotl => self.b.ins().rotl(x, y),
            BinOp::Rotr => self.b.ins().rotr(x, y),
        })
    }

    fn convert(&mut self, op: &Op, from: Type, to: Type, x: Value) -> Result<Value, Error> {
        let (cf, ct) = (ty(from, &self.f.name)?, ty(to, &self.f.name)?);
        let same = cf == ct;
        Ok(match op {
            Op::Uext if same => x,
            Op::Uext => self.b.ins().uextend(ct, x),
            Op::Sext => {
                // An i1 sign-extends to all ones.
                let x = match from {
                    Type::I1 => self.b.ins().ineg(x),
                    _ => x,
                };
                match same {
                    true => x,
                    false => self.b.ins().sextend(ct, x),
                }
            }
            _ => {
                let x = match same {
                    true => x,
                    false => self.b.ins().ireduce(ct, x),
                };
                match to {
                    Type::I1 => self.b.ins().band_imm_u(x, 1),
                    _ => x,
                }
            }
        })
    }

    /// Whether `n` bytes at `at` lie in a range a `mem.expand` of this
    /// block made part of memory.
    fn covered(&self, at: IrValue, n: u64) -> bool {
        let (base, off) = self.parts[at.index()].unwrap_or((Some(at), 0));
        self.grown.iter().any(|(b, lo, hi)| {
            *b == base && off >= *lo && off.checked_add(n).is_some_and(|e| e <= *hi)
        })
    }

    /// The host address of `n` bytes of linear memory at `at`, after a
    /// check that they lie within its current size (`out_of_bounds`),
    /// unless a `mem.expand` of the block already covers them.
    fn address(&mut self, at_ir: IrValue, n: i64, pos: SourcePos) -> Result<Value, Error> {
        let at = self.val(at_ir)?;
        let at = self.widen(at);
        if !self.covered(at_ir, n as u64) {
            let size = self.ctx_load(offset::MEM_SIZE);
            // `at < size` first, so `at + n` cannot wrap (size is far
            // below 2^64).
            let past = self
                .b
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, at, size);
            let end = self.b.ins().iadd_imm_s(at, n);
            let over = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, size);
            let out = self.b.ins().bor(past, over);
            self.trap_if(out, Self::trap_code(TrapCode::OutOfBounds), pos);
        }
        let base = self.ctx_load(offset::MEM_BASE);
        Ok(self.b.ins().iadd(base, at))
    }

    /// `mem.expand`: nothing when the range is empty or already within
    /// memory, else the callback.
    fn expand(&mut self, o: Value, n: Value, pos: SourcePos) {
        let size = self.ctx_load(offset::MEM_SIZE);
        // Growth is to a multiple of 32: nothing grows exactly when `end`
        // is within the size rounded down to one.
        let words = self.b.ins().band_imm_s(size, -32);
        let end = self.b.ins().iadd(o, n);
        let past = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, words);
        let wrapped = self.b.ins().icmp(IntCC::UnsignedLessThan, end, o);
        let grow = self.b.ins().bor(past, wrapped);
        let some = self.b.ins().icmp_imm_s(IntCC::NotEqual, n, 0);
        let slow = self.b.ins().band(grow, some);
        let call = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(call);
        self.b.ins().brif(slow, call, &[], cont, &[]);
        self.b.switch_to_block(call);
        self.save_fuel();
        let pos = self.iconst(I64, encode_pos(pos));
        let sig = self.sigs.expand;
        let status = self.callback(sig, vm::expand as *const () as usize, &[self.vm, o, n, pos]);
        self.load_fuel();
        if let Some(s) = status {
            self.b.ins().brif(s, self.stop, &[], cont, &[]);
        }
        self.b.switch_to_block(cont);
    }

    fn host(&mut self, op: HostOp, inst: &chainlift_ir::function::Inst) -> Result<(), Error> {
        let (n, r) = op.arity();
        let Some(code) = HostOp::ALL.iter().position(|h| *h == op) else {
            return Err(Error::Unsupported {
                what: format!("host.{}", op.name()),
                pos: inst.pos,
            });
        };
        if 32 * n > RES as usize || 32 * r > (SCRATCH as usize - RES as usize) {
            return Err(Error::Internal {
                func: self.f.name.clone(),
                what: format!("host.{} has more operands than the scratch slot", op.name()),
            });
        }
        let limbs = inst
            .args
            .first()
            .or(inst.results.first())
            .is_none_or(|v| self.f.ty(*v) == Type::I64);
        if !limbs || inst.args.len() != 4 * n || inst.results.len() != 4 * r {
            return Err(Error::NotLegalized {
                func: self.f.name.clone(),
            });
        }
        self.spill(&inst.args, 0)?;
        self.save_fuel();
        let code = self.iconst(I32, code as i64);
        let args = self.b.ins().stack_addr(I64, self.scratch, 0);
        let res = self.b.ins().stack_addr(I64, self.scratch, RES);
        let pos = self.iconst(I64, encode_pos(inst.pos));
        let sig = self.sigs.host;
        let status = self.callback(
            sig,
            vm::host_op as *const () as usize,
            &[self.vm, code, args, res, pos],
        );
        self.load_fuel();
        if let Some(s) = status {
            self.stop_if(s);
        }
        self.unspill(&inst.results, RES)
    }

    fn call(&mut self, callee: IrFunc, inst: &chainlift_ir::function::Inst) -> Result<(), Error> {
        let how = self.cx.callees.get(callee.index()).copied();
        let args: Vec<Value> = inst
            .args
            .iter()
            .map(|v| self.val(*v))
            .collect::<Result<_, _>>()?;
        match how {
            Some(Callee::MulWide) if args.len() == 2 && inst.results.len() == 2 => {
                let lo = self.b.ins().imul(args[0], args[1]);
                let hi = self.b.ins().umulhi(args[0], args[1]);
                self.vals[inst.results[0].index()] = Some(lo);
                self.vals[inst.results[1].index()] = Some(hi);
            }
            Some(Callee::Math(m)) => {
                let (n, r) = m.arity();
                if args.len() != 4 * n || inst.results.len() != 4 * r {
                    return Err(Error::NotLegalized {
                        func: self.f.name.clone(),
                    });
                }
                self.spill(&inst.args, 0)?;
                let code = self.iconst(I32, m as i64);
                let a = self.b.ins().stack_addr(I64, self.scratch, 0);
                let res = self.b.ins().stack_addr(I64, self.scratch, RES);
                let sig = self.sigs.math;
                self.callback(sig, vm::math as *const () as usize, &[code, a, res]);
                // About what the limb code costs per word.
                self.charge(64);
                self.unspill(&inst.results, RES)?;
            }
            Some(Callee::Compiled(_)) => {
                let Some(fref) = self.cx.refs.get(callee.index()).copied().flatten() else {
                    return Err(Error::Internal {
                        func: self.f.name.clone(),
                        what: format!("no reference to fn{}", callee.index()),
                    });
                };
                self.save_fuel();
                let depth = self.b.ins().iadd_imm_s(self.depth, 1);
                let mut all = vec![self.vm, depth];
                all.extend(args);
                let call = self.b.ins().call(fref, &all);
                let results = self.b.inst_results(call).to_vec();
                self.load_fuel();
                self.stop_if(results[0]);
                for (r, v) in inst.results.iter().zip(&results[1..]) {
                    self.vals[r.index()] = Some(*v);
                }
            }
            _ => {
                return Err(Error::Unsupported {
                    what: format!("a call to fn{} with the wrong arity", callee.index()),
                    pos: inst.pos,
                });
            }
        }
        Ok(())
    }
}

fn intcc(c: Cond) -> IntCC {
    match c {
        Cond::Eq => IntCC::Equal,
        Cond::Ne => IntCC::NotEqual,
        Cond::Ult => IntCC::UnsignedLessThan,
        Cond::Ule => IntCC::UnsignedLessThanOrEqual,
        Cond::Ugt => IntCC::UnsignedGreaterThan,
        Cond::Uge => IntCC::UnsignedGreaterThanOrEqual,
        Cond::Slt => IntCC::SignedLessThan,
        Cond::Sle => IntCC::SignedLessThanOrEqual,
        Cond::Sgt => IntCC::SignedGreaterThan,
        Cond::Sge => IntCC::SignedGreaterThanOrEqual,
    }
}

/// Which helper, if any, a function implements (by the legalizer's name).
pub(crate) fn helper_of(f: &Function) -> Option<Helper> {
    Helper::from_name(&f.name)
}
