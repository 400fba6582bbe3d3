//! backend-native: legalized chainlift IR (no `i256`: 64-bit limbs) to host
//! machine code with Cranelift, and the runtime that runs it.
//!
//! # Compilation
//!
//! Each IR function becomes one Cranelift function ([`lower`]): blocks and
//! block parameters carry over as they are, `i1` lives in an `i8`, and the
//! IR's total operations (division by zero, shifts past the width, signed
//! overflow) are guarded where Cranelift's differ. The legalizer's helpers
//! are recognized by name and signature: `mul_wide_u64` becomes two
//! instructions (`imul`, `umulhi`); division, signed division, `addmod`,
//! `mulmod` and `exp` call Rust (the interpreter's own 256-bit semantics),
//! which is faster than their limb loops; the others compile like any
//! function. One [`cranelift_jit::JITModule`] per contract, freed with its
//! [`Program`].
//!
//! # Running
//!
//! [`Program::run`] gives compiled code a context ([`vm`]) and calls it on
//! the current thread. Everything compiled code does outside its own
//! registers and stack is bounded:
//! - **Memory**: every load and store checks its range against the current
//!   size (`out_of_bounds`), unless a `mem.expand` earlier in its block
//!   covers it; `mem.expand` and `mem.grow` raise the size only up to the
//!   run's limit, growing the buffer (from 64 KiB, zeroed) as they do.
//! - **Work**: a fuel counter, charged per block with the block's
//!   instruction count (the interpreter's unit), checked at every loop
//!   header and function entry; copies and memory growth charge as in the
//!   interpreter; host operations, exits and the end of a run check it too.
//!   A run stops `out of budget` once it is spent.
//! - **Native stack**: every function checks its IR call depth against the
//!   limit and the stack pointer against a floor (the thread's stack end,
//!   from the thread library, plus 1 MiB for the host's frames), and
//!   stops with `call_stack_exhausted` rather than overflow. Host
//!   operations that start nested frames (calls, creations) run them
//!   through the same host, so nesting is bounded by the same floor.
//! - **Host operations, exits, traps, memory copies** call back into Rust,
//!   into the interpreter's definitions of them ([`chainlift_ir::interp::Env`]),
//!   so the outcome of every run is the interpreter's: the same return
//!   data, traps and positions.

#![deny(missing_docs)]

mod lower;
mod vm;

pub use chainlift_ir::legalize::Helper;

use alloy_primitives::U256;
use chainlift_ir::entities::FuncId;
use chainlift_ir::function::Module;
use chainlift_ir::inst::{SourcePos, TrapCode};
use chainlift_ir::interp::{Host, Limits, Outcome};
use chainlift_ir::types::Type;
use chainlift_ir::verify::Verified;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Signature};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module as _};
use lower::{Callee, Lower};
use std::time::{Duration, Instant};
use vm::{Math, Vm};

/// Why a module could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The module still has `i256` values: legalize it first.
    #[error("function %{func} is not legalized (it has i256 values or word operands)")]
    NotLegalized {
        /// The function.
        func: String,
    },
    /// An operation the native backend does not compile.
    #[error("{what} @{pos} is not supported by the native backend")]
    Unsupported {
        /// What.
        what: String,
        /// Where.
        pos: SourcePos,
    },
    /// Cranelift refused a function: a bug in this backend.
    #[error("Cranelift refused %{func} (a bug in backend-native): {reason}")]
    Codegen {
        /// The function.
        func: String,
        /// Cranelift's message.
        reason: String,
    },
    /// An inconsistency in this backend.
    #[error("internal error in %{func} (a bug in backend-native): {what}")]
    Internal {
        /// The function.
        func: String,
        /// What.
        what: String,
    },
}

/// Cranelift's register allocator: most of the compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Regalloc {
    /// Backtracking with range splitting: the best code.
    #[default]
    Best,
    /// One pass: compiles 2-9 times faster, code up to 1.7 times slower
    /// in register-bound loops (more spills), no slower where host calls
    /// dominate.
    Fast,
}

/// How to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The register allocator.
    pub regalloc: Regalloc,
    /// Cranelift's optimization level: `true` for `speed`, `false` for
    /// `none` (faster compilation).
    pub optimize: bool,
    /// Inline small functions (the legalizer's `u256_mul`, shifts) into
    /// their callers: faster code, larger and slower to compile.
    pub inline: bool,
    /// Run Cranelift's verifier on every function (slower; for tests).
    pub verify: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            regalloc: Regalloc::Best,
            optimize: true,
            inline: true,
            verify: cfg!(debug_assertions),
        }
    }
}

/// What compilation took and made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Functions compiled.
    pub functions: usize,
    /// Bytes of machine code.
    pub code_bytes: usize,
    /// Instructions (and terminators) of the IR compiled.
    pub ir_instructions: usize,
    /// Wall time of compilation.
    pub compile_time: Duration,
}

/// A function's trampoline: `(vm, args, results) -> status`.
type Entry = unsafe extern "C" fn(*mut Vm, *const u64, *mut u64) -> u32;

/// A compiled contract: its machine code, freed when it is dropped.
pub struct Program {
    module: Option<JITModule>,
    /// Per function: its trampoline and its parameter and result counts
    /// (`None` for helpers computed in place or in Rust).
    entries: Vec<Option<(Entry, usize, usize)>>,
    stack: bool,
    /// How it was compiled.
    pub options: Options,
    /// What compilation took and made.
    pub stats: Stats,
}

// SAFETY: the machine code is immutable once finalized and may run on any
// thread; the module is touched again only by `Drop`.
unsafe impl Send for Program {}
// SAFETY: as above; `run` only reads the program.
unsafe impl Sync for Program {}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("stats", &self.stats)
            .finish()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: no code of the module runs any more: `run` borrows
            // the program, so none is running while it is dropped.
            unsafe { m.free_memory() };
        }
    }
}

fn isa(options: &Options) -> Result<cranelift_codegen::isa::OwnedTargetIsa, Error> {
    let err = |reason: String| Error::Codegen {
        func: String::new(),
        reason,
    };
    let mut flags = settings::builder();
    let level = if options.optimize { "speed" } else { "none" };
    for (k, v) in [
        ("opt_level", level),
        (
            "enable_verifier",
            if options.verify { "true" } else { "false" },
        ),
        ("enable_multi_ret_implicit_sret", "true"),
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
        (
            "regalloc_algorithm",
            match options.regalloc {
                Regalloc::Best => "backtracking",
                Regalloc::Fast => "single_pass",
            },
        ),
    ] {
        flags.set(k, v).map_err(|e| err(e.to_string()))?;
    }
    let builder = cranelift_native::builder().map_err(|e| err(e.to_string()))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| err(e.to_string()))
}

/// How calls to each function of `m` are made, and whether it is compiled.
fn callees(m: &Module) -> Vec<Option<Helper>> {
    m.functions
        .iter()
        .map(|f| {
            let h = Helper::from_name(&f.name)?;
            let (p, r) = h.signature();
            let all64 = |ts: &[Type]| ts.iter().all(|t| *t == Type::I64);
            (f.params.len() == p && f.returns.len() == r && all64(&f.params) && all64(&f.returns))
                .then_some(h)
        })
        .collect()
}

/// Callees at most this large (Cranelift instructions) are inlined.
const INLINE_MAX: usize = 400;

/// Inlines calls to small compiled functions other than the caller itself
/// (the legalizer's helpers: `u256_mul`, shifts), once, not their callees.
struct Inliner<'a> {
    built: &'a [Option<cranelift_codegen::ir::Function>],
    by_id: &'a std::collections::HashMap<u32, usize>,
    caller: usize,
}

impl cranelift_codegen::inline::Inline for Inliner<'_> {
    fn inline(
        &mut self,
        caller: &cranelift_codegen::ir::Function,
        _inst: cranelift_codegen::ir::Inst,
        _opcode: cranelift_codegen::ir::Opcode,
        callee: cranelift_codegen::ir::FuncRef,
        _args: &[cranelift_codegen::ir::Value],
    ) -> cranelift_codegen::inline::InlineCommand<'_> {
        use cranelift_codegen::inline::InlineCommand;
        let cranelift_codegen::ir::ExternalName::User(r) = caller.dfg.ext_funcs[callee].name else {
            return InlineCommand::KeepCall;
        };
        let index = caller.params.user_named_funcs()[r].index;
        match self
            .by_id
            .get(&index)
            .and_then(|i| Some((*i, self.built.get(*i)?.as_ref()?)))
        {
            Some((i, f)) if i != self.caller && f.dfg.num_insts() <= INLINE_MAX => {
                InlineCommand::Inline {
                    callee: std::borrow::Cow::Borrowed(f),
                    visit_callee: false,
                }
            }
            _ => InlineCommand::KeepCall,
        }
    }
}

/// Instructions and terminators of `m`.
pub fn ir_size(m: &Module) -> usize {
    m.functions
        .iter()
        .flat_map(|f| f.layout.iter().map(|b| f.block(*b).insts.len() + 1))
        .sum()
}

/// Compiles a legalized module to machine code.
pub fn compile(module: &Verified, options: &Options) -> Result<Program, Error> {
    let start = Instant::now();
    let m: &Module = module;
    // Indirect calls (WASM tables) become switches over direct calls.
    let direct;
    let m = if m.functions.iter().any(|f| {
        f.layout.iter().any(|b| {
            f.block(*b)
                .insts
                .iter()
                .any(|i| matches!(i.op, chainlift_ir::inst::Op::CallIndirect(_)))
        })
    }) {
        let mut owned = m.clone();
        chainlift_ir::passes::devirtualize::run(&mut owned).map_err(|what| Error::Unsupported {
            pos: SourcePos::None,
            what,
        })?;
        direct = owned;
        &direct
    } else {
        m
    };
    let isa = isa(options)?;
    let call_conv = isa.default_call_conv();
    // All of a module's code in one reserved region, so calls between its
    // functions (32-bit relative) always reach, however many modules the
    // process holds; reserving address space costs nothing until used.
    let size = ir_size(m);
    let reserve = (size.saturating_mul(256)).clamp(1 << 20, 1 << 30);
    let arena =
        cranelift_jit::ArenaMemoryProvider::new_with_size(reserve).map_err(|e| Error::Codegen {
            func: String::new(),
            reason: format!("cannot reserve {reserve} bytes for code: {e}"),
        })?;
    let mut builder = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    builder.memory_provider(Box::new(arena));
    let mut jit = JITModule::new(builder);
    let codegen = |func: &str, e: String| Error::Codegen {
        func: func.to_string(),
        reason: e,
    };
    let entry_fn = m.functions.first().ok_or_else(|| Error::Internal {
        func: String::new(),
        what: "the module has no functions".into(),
    })?;
    let helpers = callees(m);
    if !matches!(helpers.first(), Some(None)) {
        return Err(Error::Internal {
            func: entry_fn.name.clone(),
            what: "the entry function is a helper".into(),
        });
    }
    let mut kinds = Vec::with_capacity(m.functions.len());
    for (i, f) in m.functions.iter().enumerate() {
        let kind = match helpers[i] {
            Some(Helper::MulWide) => Callee::MulWide,
            Some(Helper::DivRem) => Callee::Math(Math::DivRem),
            Some(Helper::SDivRem) => Callee::Math(Math::SDivRem),
            Some(Helper::AddMod) => Callee::Math(Math::AddMod),
            Some(Helper::MulMod) => Callee::Math(Math::MulMod),
            Some(Helper::Exp) => Callee::Math(Math::Exp),
            _ => {
                let sig = lower::signature(f, call_conv)?;
                let id = jit
                    .declare_function(&format!("f{i}"), Linkage::Local, &sig)
                    .map_err(|e| codegen(&f.name, e.to_string()))?;
                Callee::Compiled(id)
            }
        };
        kinds.push(kind);
    }
    let frontend = jit.isa().frontend_config();
    let mut ctx = jit.make_context();
    let mut fctx = FunctionBuilderContext::new();
    // Every function to Cranelift IR first, so small ones can be inlined
    // into their callers.
    let mut built: Vec<Option<cranelift_codegen::ir::Function>> = vec![None; m.functions.len()];
    for (i, f) in m.functions.iter().enumerate() {
        if !matches!(kinds[i], Callee::Compiled(_)) {
            continue;
        }
        let mut func = cranelift_codegen::ir::Function::new();
        func.signature = lower::signature(f, call_conv)?;
        let refs = kinds
            .iter()
            .map(|k| match k {
                Callee::Compiled(cid) => Some(jit.declare_func_in_func(*cid, &mut func)),
                _ => None,
            })
            .collect();
        let cx = lower::Context {
            callees: &kinds,
            call_conv,
            refs,
        };
        {
            let mut b = FunctionBuilder::new(&mut func, &mut fctx);
            Lower::function(&cx, f, &mut b)?;
            b.finalize(frontend);
        }
        built[i] = Some(func);
    }
    let by_id: std::collections::HashMap<u32, usize> = kinds
        .iter()
        .enumerate()
        .filter_map(|(i, k)| match k {
            Callee::Compiled(id) => Some((id.as_u32(), i)),
            _ => None,
        })
        .collect();
    let (mut functions, mut code_bytes) = (0, 0);
    for (i, f) in m.functions.iter().enumerate() {
        let (Callee::Compiled(id), Some(func)) = (kinds[i], &built[i]) else {
            continue;
        };
        ctx.func = func.clone();
        if options.inline {
            let inliner = Inliner {
                built: &built,
                by_id: &by_id,
                caller: i,
            };
            ctx.inline(inliner)
                .map_err(|e| codegen(&f.name, format!("inlining: {e:?}")))?;
        }
        jit.define_function(id, &mut ctx)
            .map_err(|e| codegen(&f.name, format!("{e:?}")))?;
        code_bytes += ctx.compiled_code().map_or(0, |c| c.code_buffer().len());
        jit.clear_context(&mut ctx);
        functions += 1;
    }
    // A trampoline per compiled function: loads its arguments from an
    // array of u64, calls it at depth 0, stores its results (zero-extended)
    // to another.
    let mut tsig = Signature::new(call_conv);
    for _ in 0..3 {
        tsig.params.push(AbiParam::new(I64));
    }
    tsig.returns.push(AbiParam::new(I32));
    let mut trampolines = vec![None; m.functions.len()];
    for (i, f) in m.functions.iter().enumerate() {
        let Callee::Compiled(fid) = kinds[i] else {
            continue;
        };
        let name = format!("t{i}");
        let tid = jit
            .declare_function(&name, Linkage::Local, &tsig)
            .map_err(|e| codegen(&name, e.to_string()))?;
        ctx.func.signature = tsig.clone();
        {
            let fref = jit.declare_func_in_func(fid, &mut ctx.func);
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let blk = b.create_block();
            b.append_block_params_for_function_params(blk);
            b.switch_to_block(blk);
            let p = b.block_params(blk).to_vec();
            let zero = b.ins().iconst(I64, 0);
            let mut args = vec![p[0], zero];
            for (k, t) in f.params.iter().enumerate() {
                let v = b
                    .ins()
                    .load(I64, MemFlagsData::trusted(), p[1], 8 * k as i32);
                let v = match lower::cl_type(*t) {
                    Some(I64) | None => v,
                    Some(ct) => b.ins().ireduce(ct, v),
                };
                let v = match t {
                    Type::I1 => b.ins().band_imm_u(v, 1),
                    _ => v,
                };
                args.push(v);
            }
            let call = b.ins().call(fref, &args);
            let rs = b.inst_results(call).to_vec();
            for (k, r) in rs[1..].iter().enumerate() {
                let r = match b.func.dfg.value_type(*r) {
                    I64 => *r,
                    _ => b.ins().uextend(I64, *r),
                };
                b.ins()
                    .store(MemFlagsData::trusted(), r, p[2], 8 * k as i32);
            }
            let status = b.ins().uextend(I32, rs[0]);
            b.ins().return_(&[status]);
            b.seal_all_blocks();
            b.finalize(frontend);
        }
        jit.define_function(tid, &mut ctx)
            .map_err(|e| codegen(&name, format!("{e:?}")))?;
        jit.clear_context(&mut ctx);
        trampolines[i] = Some(tid);
    }
    jit.finalize_definitions()
        .map_err(|e| codegen("", e.to_string()))?;
    let entries = trampolines
        .iter()
        .zip(&m.functions)
        .map(|(t, f)| {
            t.map(|tid| {
                let ptr = jit.get_finalized_function(tid);
                // SAFETY: `ptr` is a trampoline just compiled with signature
                // `tsig`, which is `Entry` in the platform's C convention.
                let entry = unsafe { std::mem::transmute::<*const u8, Entry>(ptr) };
                (entry, f.params.len(), f.returns.len())
            })
        })
        .collect();
    let stack = m.functions.iter().any(|f| {
        f.layout.iter().any(|b| {
            f.block(*b).insts.iter().any(|i| {
                matches!(
                    i.op,
                    chainlift_ir::inst::Op::StackLoad | chainlift_ir::inst::Op::StackStore
                )
            })
        })
    });
    Ok(Program {
        module: Some(jit),
        entries,
        stack,
        options: *options,
        stats: Stats {
            functions,
            code_bytes,
            ir_instructions: size,
            compile_time: start.elapsed(),
        },
    })
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The outcome, as the interpreter reports it.
    pub outcome: Outcome,
    /// Fuel used.
    pub steps: u64,
    /// Linear memory's size at the end, in bytes.
    pub memory_size: usize,
}

impl Program {
    /// Runs the contract (the entry function) against `host` within
    /// `limits`: how it ended and the fuel it used (the interpreter's
    /// instruction count, roughly).
    pub fn run(&self, host: &mut dyn Host, limits: Limits) -> (Outcome, u64) {
        let r = self.call(host, FuncId::new(0), &[], limits);
        (r.outcome, r.steps)
    }

    /// Calls function `func` with `args` (truncated to its parameter
    /// types) against `host` within `limits`. A function that cannot be
    /// called (a helper, a wrong argument count) ends as a
    /// `bad_indirect_call` trap, as in the interpreter.
    pub fn call(&self, host: &mut dyn Host, func: FuncId, args: &[U256], limits: Limits) -> Run {
        let bad = |code| Run {
            outcome: Outcome::Trap {
                code,
                pos: SourcePos::None,
            },
            steps: 0,
            memory_size: 0,
        };
        let Some(Some((entry, params, results))) = self.entries.get(func.index()).copied() else {
            return bad(TrapCode::BadIndirectCall);
        };
        if args.len() != params {
            return bad(TrapCode::BadIndirectCall);
        }
        // SAFETY: `host` outlives `vm`, which is dropped before returning,
        // and nothing else uses it meanwhile.
        let mut vm = unsafe {
            Vm::new(
                host,
                limits.memory,
                limits.budget,
                limits.call_depth,
                self.stack,
            )
        };
        let args: Vec<u64> = args.iter().map(|a| a.as_limbs()[0]).collect();
        let mut out = vec![0u64; results.max(1)];
        // SAFETY: the trampoline takes the context and arrays as long as
        // the function's parameters and results; compiled code touches
        // memory only through the context's checked ranges.
        let status = unsafe { entry(&mut *vm, args.as_ptr(), out.as_mut_ptr()) };
        let outcome = match (status, vm.take_outcome()) {
            (_, Some(o)) => o,
            (0, None) => Outcome::Values(out[..results].iter().map(|r| U256::from(*r)).collect()),
            (_, None) => Outcome::Trap {
                code: TrapCode::Unsupported,
                pos: SourcePos::None,
            },
        };
        Run {
            outcome,
            steps: vm.steps(),
            memory_size: vm.memory_size(),
        }
    }
}
