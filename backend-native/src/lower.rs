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

use crate::Error;
use crate::vm::{self, Math, OUT_OF_BUDGET, encode_pos, offset};
use chainlift_ir::entities::{Block as IrBlock, Value as IrValue};
use chainlift_ir::function::{BlockCall, Function, Terminator};
use chainlift_ir::inst::{ExitKind, Op, SourcePos, TrapCode};
use chainlift_ir::types::Type;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I8, I32, I64};
use cranelift_codegen::ir::{
    self, AbiParam, BlockArg, FuncRef, InstBuilder, MemFlagsData, SigRef, Signature, StackSlotData,
    StackSlotKind, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, Switch, Variable};

mod host;
mod inst;

use inst::parts;

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

    fn arg(&self, inst: &chainlift_ir::function::Inst, i: usize) -> Result<Value, Error> {
        let v = inst.args.get(i).ok_or_else(|| Error::Internal {
            func: self.f.name.clone(),
            what: format!("operand {i} missing at {}", inst.pos),
        })?;
        self.val(*v)
    }
}
