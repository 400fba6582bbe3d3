//! backend-wasm: legalized chainlift IR (no `i256`: 64-bit limbs) to a
//! WebAssembly module for the **Arbitrum Stylus** host ABI.
//!
//! # The module
//!
//! - Exports `user_entrypoint(len: i32) -> i32` (0 success, 1 revert) and
//!   `memory`; no start function. The entry reads the calldata with
//!   `read_args`, runs the contract, and ends with `storage_flush_cache`
//!   and `write_result`, as Stylus's SDK does.
//! - Imports from `vm_hooks` only what Stylus provides, each where the IR's
//!   host operation maps onto it ([`abi::Hook`]); EVM operations Stylus
//!   lacks (BLOCKHASH, PREVRANDAO, BLOBHASH, BLOBBASEFEE, SELFDESTRUCT,
//!   CALLCODE) import from module `chainlift`, which chainlift's own engine
//!   provides; [`Report::non_stylus`] lists them, and [`Options::strict`]
//!   refuses them.
//! - CODESIZE and CODECOPY read the contract's original EVM code, which the
//!   module embeds as a data segment: the translated contract reads its
//!   constants and constructor arguments from where its compiler put them,
//!   and needs no host support for it on any chain.
//! - Uses WebAssembly 1.0 (MVP) with sign-extension operators and mutable
//!   globals only, no floats, no multi-value, no bulk memory: what Stylus,
//!   CosmWasm and NEAR all accept. Functions with several results return
//!   them through globals. Every module is validated with wasmparser under
//!   exactly those features before it is returned.
//! - Memory layout ([`abi::layout`]): scratch slots for host operands, the
//!   EVM stack array when the lifter kept a stack in memory, the embedded
//!   code, the calldata, then EVM memory from the exported `chainlift_heap`
//!   global on, with its size in `chainlift_msize`, grown word by word by
//!   `mem.expand` up to `chainlift_memory_limit` (an engine lowers it to
//!   what the call's gas pays for).
//! - A trap site stores its IR trap code and source position at address 0
//!   ([`abi::trap_info`]) before it executes `unreachable`, so an engine
//!   reports the same trap, at the same EVM pc, as the IR interpreter.
//! - Custom section `chainlift.ops` lists, one per line, `function-index
//!   helper-name` for each function that implements an IR helper of the
//!   legalizer (`u256_mul`, `u256_divrem`, ...), so a WASM frontend can lift
//!   it back to the operation; a `name` section names every function.
//!
//! 256-bit arithmetic is the legalizer's limb code and helpers, compiled
//! like any code, not Stylus's `math_*` hooks: a hook call per operation
//! crosses into the host, while helper code runs as native code in
//! wasmtime (and `math_*` does not exist before ArbOS 50).
//!
//! # Control flow
//!
//! See [`lower`]: structured code from the dominator tree for reducible
//! functions, one dispatch loop for irreducible ones. Locals are shared by
//! values whose lives do not overlap ([`code::Body::allocate`]).

#![deny(missing_docs)]

pub mod abi;
mod code;
pub mod inspect;
mod lower;
mod rt;

use abi::{Hook, layout};
use chainlift_ir::entities::FuncId;
use chainlift_ir::function::Module;
use chainlift_ir::inst::{Op, SourcePos};
use chainlift_ir::legalize::Helper;
use chainlift_ir::verify::Verified;
use code::{Body, Callee, Ins};
use rt::{Rt, globals};
use std::collections::{BTreeSet, HashMap};
use wasm_encoder::{
    CodeSection, ConstExpr, CustomSection, DataSection, EntityType, ExportKind, ExportSection,
    Function, FunctionSection, GlobalSection, GlobalType, ImportSection, Instruction,
    MemorySection, MemoryType, NameMap, NameSection, TypeSection, ValType,
};

/// How to translate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Refuse operations Arbitrum cannot run (imports from `chainlift`).
    pub strict: bool,
    /// 256-bit DIV, MOD, EXP, ADDMOD and MULMOD through Stylus's `math_*`
    /// hooks (ArbOS 50) instead of the legalizer's helper functions, which
    /// are then left out: smaller modules, a host call per operation.
    pub math_hooks: bool,
}

/// Why a module could not be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The module still has `i256` values: legalize it first.
    #[error("the module is not legalized (it has i256 values); run the legalizer first")]
    NotLegalized,
    /// An operation backend-wasm does not translate.
    #[error("{what} in {function} {pos} is not supported by the WASM target")]
    Unsupported {
        /// The operation.
        what: String,
        /// The function.
        function: String,
        /// Where.
        pos: SourcePos,
    },
    /// `--strict`: an operation Arbitrum Stylus does not provide.
    #[error(
        "{op} {pos} has no Arbitrum Stylus host function (it needs the `chainlift` import module)"
    )]
    NotStylus {
        /// The operation.
        op: String,
        /// Where.
        pos: SourcePos,
    },
    /// The module's shape is not what the backend expects.
    #[error("invalid module: {0}")]
    Invalid(String),
    /// The emitted module did not validate (a backend bug).
    #[error("the emitted module does not validate: {0}")]
    Validate(String),
}

/// A translated module and what is known about it.
#[derive(Debug, Clone)]
pub struct Program {
    /// The module's bytes.
    pub bytes: Vec<u8>,
    /// Size, functions and imports.
    pub report: Report,
}

impl Program {
    /// Everything [`inspect::inspect`] says about the module: its brotli
    /// size and the Stylus activation rules it breaks, among the rest
    /// (compressing takes a while, so translation leaves it to callers).
    pub fn inspect(&self) -> Result<inspect::Inspection, Error> {
        inspect::inspect(&self.bytes).map_err(Error::Validate)
    }
}

/// Facts about a translated module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Functions defined (imports excluded).
    pub functions: usize,
    /// Imports as `module.name`.
    pub imports: Vec<String>,
    /// Operations imported from `chainlift` (not deployable on Arbitrum),
    /// with their first position.
    pub non_stylus: Vec<(String, SourcePos)>,
    /// The most locals (parameters included) of any function.
    pub max_locals: usize,
    /// The most instructions of any function.
    pub max_instructions: usize,
    /// Bytes.
    pub size: usize,
}

/// Stylus's activation limits (nitro's `binary.rs`).
pub mod stylus {
    /// Functions per module.
    pub const MAX_FUNCTIONS: usize = 4096;
    /// Locals per function.
    pub const MAX_LOCALS: usize = 348;
    /// Instructions per function.
    pub const MAX_INSTRUCTIONS: usize = 65_536;
    /// Imports per module.
    pub const MAX_IMPORTS: usize = 513;
    /// Data segments per module.
    pub const MAX_DATA_SEGMENTS: usize = 128;
    /// Compressed code size a deployment may have.
    pub const MAX_COMPRESSED: usize = 24 * 1024;
    /// Uncompressed size.
    pub const MAX_UNCOMPRESSED: usize = 128 * 1024;
}

/// Where the calldata is copied: after the embedded code, word-aligned.
pub(crate) fn calldata_base(m: &Module, code_base: u32) -> u32 {
    (code_base + m.code.len() as u32).div_ceil(32) * 32
}

/// Translates a verified, legalized module.
pub fn translate(module: &Verified, options: &Options) -> Result<Program, Error> {
    // Lowering recurses along the dominator tree, as deep as the longest
    // chain of blocks: run it on a thread with room for that.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("backend-wasm".into())
            .stack_size(256 << 20)
            .spawn_scoped(s, || assemble(module, options))
            .map_err(|e| Error::Invalid(format!("cannot start the translation thread: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(Error::Invalid("the translation panicked".into())))
    })
}

fn assemble(module: &Module, options: &Options) -> Result<Program, Error> {
    if chainlift_ir::legalize::has_i256(module) {
        return Err(Error::NotLegalized);
    }
    if module.functions.is_empty() {
        return Err(Error::Invalid("no functions".into()));
    }
    if !module.functions[0].params.is_empty() {
        return Err(Error::Invalid("the entry function takes parameters".into()));
    }
    let uses_stack = module.functions.iter().any(|f| {
        f.layout.iter().any(|b| {
            f.block(*b)
                .insts
                .iter()
                .any(|i| matches!(i.op, Op::StackLoad | Op::StackStore))
        })
    });
    let code_base = layout::STACK_BASE + if uses_stack { layout::STACK_BYTES } else { 0 };
    // Result globals: enough of each class for the widest multi-result function.
    let mut widest = [0u32; 2];
    for f in &module.functions {
        if f.returns.len() > 1 {
            let wide = f
                .returns
                .iter()
                .filter(|t| lower::class(**t) == Ok(ValType::I64));
            let wide = wide.count() as u32;
            widest[0] = widest[0].max(f.returns.len() as u32 - wide);
            widest[1] = widest[1].max(wide);
        }
    }
    let result_globals = [globals::RESULTS, globals::RESULTS + widest[0]];
    let mut cx = lower::ModuleCx {
        module,
        math_hooks: options.math_hooks,
        code_base,
        result_globals,
        non_stylus: vec![],
    };
    let mut bodies = vec![];
    for i in 0..module.functions.len() {
        bodies.push(lower::function(&mut cx, FuncId::new(i))?);
    }
    let mut non_stylus: Vec<(String, SourcePos)> = vec![];
    for (op, pos) in cx.non_stylus {
        if !non_stylus.iter().any(|(o, _)| *o == op) {
            non_stylus.push((op, pos));
        }
    }
    if options.strict
        && let Some((op, pos)) = non_stylus.first()
    {
        return Err(Error::NotStylus {
            op: op.clone(),
            pos: *pos,
        });
    }
    // Functions nothing reaches from the entry (helpers the math hooks
    // replaced) keep their index but lose their code.
    let mut reached = vec![false; bodies.len()];
    let mut work = vec![0usize];
    reached[0] = true;
    while let Some(f) = work.pop() {
        for ins in &bodies[f].ins {
            if let Ins::Call(Callee::Func(g)) = ins
                && !reached[g.index()]
            {
                reached[g.index()] = true;
                work.push(g.index());
            }
        }
    }
    for (f, body) in bodies.iter_mut().enumerate() {
        if !reached[f] {
            body.ins = vec![Ins::W(Instruction::Unreachable)];
            body.live.clear();
            body.types.truncate(body.params as usize);
        }
    }
    let entry = entry_body(calldata_base(module, code_base));

    // Everything called, helpers' own calls included.
    let mut called: BTreeSet<Callee> = BTreeSet::new();
    for b in bodies.iter().chain([&entry]) {
        for ins in &b.ins {
            if let Ins::Call(c) = ins {
                called.insert(*c);
            }
        }
    }
    let mut work: Vec<Rt> = called
        .iter()
        .filter_map(|c| match c {
            Callee::Rt(r) => Some(*r),
            _ => None,
        })
        .collect();
    while let Some(r) = work.pop() {
        for d in rt::deps(r) {
            if called.insert(Callee::Rt(*d)) {
                work.push(*d);
            }
        }
    }
    let hooks: Vec<Hook> = Hook::ALL
        .into_iter()
        .filter(|h| called.contains(&Callee::Hook(*h)))
        .collect();
    let helpers: Vec<Rt> = called
        .iter()
        .filter_map(|c| match c {
            Callee::Rt(r) => Some(*r),
            _ => None,
        })
        .collect();
    let n_imports = hooks.len() as u32;
    let n_funcs = module.functions.len() as u32;
    let mut index: HashMap<Callee, u32> = HashMap::new();
    for (i, h) in hooks.iter().enumerate() {
        index.insert(Callee::Hook(*h), i as u32);
    }
    for i in 0..n_funcs {
        index.insert(Callee::Func(FuncId::new(i as usize)), n_imports + i);
    }
    for (i, r) in helpers.iter().enumerate() {
        index.insert(Callee::Rt(*r), n_imports + n_funcs + i as u32);
    }
    let entry_index = n_imports + n_funcs + helpers.len() as u32;

    let mut types = Types::default();
    let mut imports = ImportSection::new();
    for h in &hooks {
        let (p, r) = h.signature();
        let t = types.get(p.to_vec(), r.to_vec());
        imports.import(h.module(), h.name(), EntityType::Function(t));
    }
    let mut functions = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut report = Report {
        functions: (n_funcs as usize) + helpers.len() + 1,
        imports: hooks
            .iter()
            .map(|h| format!("{}.{}", h.module(), h.name()))
            .collect(),
        non_stylus,
        ..Report::default()
    };
    let mut names = NameMap::new();
    let mut ops = String::new();
    for (i, (f, body)) in module.functions.iter().zip(&bodies).enumerate() {
        let params: Vec<ValType> = f
            .params
            .iter()
            .map(|t| lower::class(*t))
            .collect::<Result<_, _>>()?;
        let results = match (i, f.returns.as_slice()) {
            (0, _) => vec![ValType::I32],
            (_, [t]) => vec![lower::class(*t)?],
            _ => vec![],
        };
        functions.function(types.get(params, results));
        code.function(&encode(body, &index, &mut report));
        names.append(n_imports + i as u32, &f.name);
        if Helper::from_name(&f.name).is_some() {
            ops.push_str(&format!("{} {}\n", n_imports + i as u32, f.name));
        }
    }
    for r in &helpers {
        let (p, res) = r.signature();
        functions.function(types.get(p, res));
        code.function(&encode(&r.body(), &index, &mut report));
        names.append(index[&Callee::Rt(*r)], &r.name());
    }
    functions.function(types.get(vec![ValType::I32], vec![ValType::I32]));
    code.function(&encode(&entry, &index, &mut report));
    names.append(entry_index, abi::ENTRY);

    let cd_base = calldata_base(module, code_base);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: u64::from(cd_base).div_ceil(65536).max(1),
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut globals_section = GlobalSection::new();
    let var = |t| GlobalType {
        val_type: t,
        mutable: true,
        shared: false,
    };
    globals_section.global(var(ValType::I32), &ConstExpr::i32_const(cd_base as i32));
    globals_section.global(var(ValType::I64), &ConstExpr::i64_const(0));
    globals_section.global(
        var(ValType::I64),
        &ConstExpr::i64_const(rt::INITIAL_LIMIT as i64),
    );
    globals_section.global(var(ValType::I32), &ConstExpr::i32_const(0));
    for _ in 0..widest[0] {
        globals_section.global(var(ValType::I32), &ConstExpr::i32_const(0));
    }
    for _ in 0..widest[1] {
        globals_section.global(var(ValType::I64), &ConstExpr::i64_const(0));
    }
    let mut exports = ExportSection::new();
    exports.export(abi::ENTRY, ExportKind::Func, entry_index);
    exports.export("memory", ExportKind::Memory, 0);
    exports.export(abi::HEAP_GLOBAL, ExportKind::Global, globals::HEAP);
    exports.export(abi::MSIZE_GLOBAL, ExportKind::Global, globals::MSIZE);
    exports.export(abi::LIMIT_GLOBAL, ExportKind::Global, globals::LIMIT);
    let mut data = DataSection::new();
    if !module.code.is_empty() {
        data.active(
            0,
            &ConstExpr::i32_const(code_base as i32),
            module.code.iter().copied(),
        );
    }

    let mut out = wasm_encoder::Module::new();
    out.section(&types.section);
    out.section(&imports);
    out.section(&functions);
    out.section(&memories);
    out.section(&globals_section);
    out.section(&exports);
    out.section(&code);
    if !module.code.is_empty() {
        out.section(&data);
    }
    out.section(&CustomSection {
        name: abi::OPS_SECTION.into(),
        data: ops.into_bytes().into(),
    });
    let mut name_section = NameSection::new();
    name_section.functions(&names);
    out.section(&name_section);
    let bytes = out.finish();
    validate(&bytes)?;

    report.size = bytes.len();
    Ok(Program { bytes, report })
}

/// Validates `bytes` under exactly the features the backend may emit.
pub fn validate(bytes: &[u8]) -> Result<(), Error> {
    use wasmparser::WasmFeatures as F;
    let features = F::FLOATS | F::MUTABLE_GLOBAL | F::SIGN_EXTENSION;
    wasmparser::Validator::new_with_features(features)
        .validate_all(bytes)
        .map(|_| ())
        .map_err(|e| Error::Validate(e.to_string()))
}

/// `user_entrypoint(len)`: calldata into memory, EVM memory after it, run.
fn entry_body(cd_base: u32) -> Body {
    let mut b = Body {
        params: 1,
        ..Body::default()
    };
    b.local(ValType::I32);
    let w = Ins::W;
    b.ins.extend([
        Ins::Get(0),
        w(Instruction::GlobalSet(globals::CD_LEN)),
        w(Instruction::I32Const(cd_base as i32)),
        Ins::Get(0),
        w(Instruction::I32Add),
        w(Instruction::I32Const(31)),
        w(Instruction::I32Add),
        w(Instruction::I32Const(-32)),
        w(Instruction::I32And),
        w(Instruction::GlobalSet(globals::HEAP)),
        w(Instruction::GlobalGet(globals::HEAP)),
        w(Instruction::I64ExtendI32U),
        Ins::Call(Callee::Rt(Rt::Ensure)),
        w(Instruction::I32Const(cd_base as i32)),
        Ins::Call(Callee::Hook(Hook::ReadArgs)),
        Ins::Call(Callee::Func(FuncId::new(0))),
    ]);
    b
}

/// Encodes a body: locals allocated, callees resolved.
fn encode(body: &Body, index: &HashMap<Callee, u32>, report: &mut Report) -> Function {
    let mut body = body.clone();
    body.peephole();
    let (map, groups) = body.allocate();
    let locals = body.params as usize + groups.iter().map(|g| g.0 as usize).sum::<usize>();
    report.max_locals = report.max_locals.max(locals);
    let mut f = Function::new(groups);
    let mut count = 0;
    for ins in &body.ins {
        let i = match ins {
            Ins::W(i) => i.clone(),
            Ins::Get(v) => Instruction::LocalGet(map[*v as usize]),
            Ins::Set(v) => Instruction::LocalSet(map[*v as usize]),
            Ins::Tee(v) => Instruction::LocalTee(map[*v as usize]),
            Ins::Call(c) => Instruction::Call(index[c]),
            Ins::LoopStart | Ins::LoopEnd => continue,
        };
        f.instruction(&i);
        count += 1;
    }
    f.instruction(&Instruction::End);
    report.max_instructions = report.max_instructions.max(count + 1);
    f
}

/// Function types, each once.
#[derive(Default)]
struct Types {
    section: TypeSection,
    known: HashMap<(Vec<ValType>, Vec<ValType>), u32>,
}

impl Types {
    fn get(&mut self, params: Vec<ValType>, results: Vec<ValType>) -> u32 {
        let next = self.known.len() as u32;
        *self
            .known
            .entry((params.clone(), results.clone()))
            .or_insert_with(|| {
                self.section.ty().function(params, results);
                next
            })
    }
}
