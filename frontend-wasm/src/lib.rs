//! WASM modules into the chainlift IR.
//!
//! [`read`] accepts a binary module or WASM text. [`module::parse`]
//! validates it as a WebAssembly 2.0 module (wasmparser) and reads its
//! sections; [`lift`] turns it into a verified IR module:
//!
//! - function 0 is `%init`, which instantiates the module: it grows the
//!   memory to its initial pages, sets the globals, writes the active data
//!   segments (trapping `out_of_bounds` where instantiation would fail) and
//!   calls the start function;
//! - WASM function `i` is IR function `i + 1` ([`lift::func_id`]); imported
//!   functions are functions too (a no-op when the options say so, else a
//!   `trap unsupported`);
//! - tables are IR tables filled from the active element segments.
//!
//! A function that uses an instruction outside the integer subset (floats,
//! SIMD, reference instructions, `memory.init`) lifts to a `trap
//! unsupported` at that instruction's offset and is listed in
//! [`Lifted::unsupported`], so the module's integer functions still lift
//! and run.
//!
//! Why wasmparser rather than walrus: the lifter reads each function once,
//! in order, with every operator's byte offset, which is what wasmparser's
//! reader gives; the validator runs on the same bytes; and it is the copy
//! wasmtime already builds (walrus would add a second wasmparser).

#![deny(missing_docs)]

pub mod lift;
pub mod module;
pub mod stylus;

use chainlift_ir::entities::FuncId;
use chainlift_ir::function::{Function, Inst, Module, Table, Terminator};
use chainlift_ir::inst::{Endian, Op, SourcePos, TrapCode};
use chainlift_ir::types::Type;
use chainlift_ir::verify::{Verified, VerifyError, verified};
use lift::{PAGE, Unsupported, func_id, ir_sig, trapping};
use module::{ImportKind, Init, WasmModule};
use wasmparser::{ExternalKind, ValType};

/// Globals a module may have: one stack-array limb each.
pub const MAX_GLOBALS: usize = 4096;

/// Table entries a module may have (all tables together).
pub const MAX_TABLE_ENTRIES: u64 = 1 << 20;

/// Bytes of active data segments a module may have: `%init` writes them
/// with stores (a contract's are a few KB; Stylus allows 128 KB of code).
pub const MAX_DATA_BYTES: usize = 4 << 20;

/// A module the frontend refuses, with where and why.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Not a valid WebAssembly 2.0 module.
    #[error("invalid WASM module at byte {offset:#x}: {message}")]
    Invalid {
        /// Byte offset of the problem.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// WASM text that does not parse.
    #[error("invalid WASM text: {0}")]
    Text(String),
    /// An import the options do not provide.
    #[error("import {module}.{name} ({kind}) is not provided")]
    Import {
        /// The import's module.
        module: String,
        /// Its name.
        name: String,
        /// What it is.
        kind: &'static str,
    },
    /// A module beyond what the lifter handles.
    #[error("{0}")]
    Limit(String),
    /// The lifted module fails verification: a bug in the frontend.
    #[error("lifted IR: {} verifier error(s); first: {}", .0.len(), .0[0])]
    Verify(Vec<VerifyError>),
}

/// Reads a binary module or WASM text (`(module ...)`) into binary.
pub fn read(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::Text("neither a binary module (\\0asm) nor UTF-8 text".into()))?;
    let buf = wast::parser::ParseBuffer::new(text).map_err(|e| Error::Text(e.to_string()))?;
    let mut wat = wast::parser::parse::<wast::Wat>(&buf).map_err(|e| Error::Text(e.to_string()))?;
    wat.encode().map_err(|e| Error::Text(e.to_string()))
}

/// What imports resolve to.
#[derive(Debug, Clone, Default)]
pub struct Imports {
    /// Imported functions that do nothing (`spectest.print_i32`).
    pub noop_funcs: Vec<(String, String)>,
    /// Values of imported globals (bit patterns).
    pub globals: Vec<((String, String), u64)>,
}

/// Which host a module is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// Stylus when the module exports `user_entrypoint` or imports
    /// `vm_hooks`, else generic.
    #[default]
    Auto,
    /// Any module: function 0 instantiates it, exports are called by name.
    Generic,
    /// An Arbitrum Stylus contract: function 0 is the contract's entry
    /// (instantiation, `user_entrypoint(calldatasize)`, exit).
    Stylus,
}

/// Lifting options.
#[derive(Debug, Clone)]
pub struct Options {
    /// The host profile.
    pub profile: Profile,
    /// How imports resolve (generic profile).
    pub imports: Imports,
    /// Run the optimizer after lifting.
    pub optimize: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: Profile::Auto,
            imports: Imports::default(),
            optimize: true,
        }
    }
}

/// An exported function: its IR function and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFunc {
    /// The export name.
    pub name: String,
    /// The WASM function index.
    pub index: u32,
    /// The IR function.
    pub func: FuncId,
    /// Parameter types as WASM writes them.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

/// An exported global: where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedGlobal {
    /// The export name.
    pub name: String,
    /// Its stack-array limb (the global's index).
    pub slot: u32,
    /// Its type.
    pub ty: ValType,
}

/// A lifted module and what its callers need to know.
#[derive(Debug, Clone)]
pub struct Lifted {
    /// The verified IR module; function 0 instantiates.
    pub module: Verified,
    /// Exported functions.
    pub funcs: Vec<ExportedFunc>,
    /// Exported globals.
    pub globals: Vec<ExportedGlobal>,
    /// Functions lifted as `trap unsupported`: WASM index and why.
    pub unsupported: Vec<(u32, Unsupported)>,
    /// Instructions of the raw lift, before optimization.
    pub lifted_insts: usize,
    /// The profile the module was lifted in (`Generic` or `Stylus`).
    pub profile: Profile,
    /// Imported functions no profile implements (`module.name`): they trap
    /// `unsupported` when called.
    pub unknown_imports: Vec<String>,
}

impl Lifted {
    /// The exported function named `name`.
    pub fn func(&self, name: &str) -> Option<&ExportedFunc> {
        self.funcs.iter().find(|f| f.name == name)
    }

    /// Why WASM function `index` was not lifted, if it was not.
    pub fn unsupported(&self, index: u32) -> Option<&Unsupported> {
        self.unsupported
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, u)| u)
    }
}

/// A name the IR text format prints and parses back.
fn ir_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.$-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "_".into() } else { s }
}

/// Lifts a WASM module (binary; see [`read`] for text).
pub fn lift(bytes: &[u8], options: &Options) -> Result<Lifted, Error> {
    let m = module::parse(bytes)?;
    if m.global_count() > MAX_GLOBALS {
        return Err(Error::Limit(format!(
            "{} globals: the lifter keeps at most {MAX_GLOBALS}",
            m.global_count()
        )));
    }
    let table_entries: u64 = m.tables.iter().map(|t| t.initial).sum();
    if table_entries > MAX_TABLE_ENTRIES {
        return Err(Error::Limit(format!(
            "tables of {table_entries} entries: the lifter keeps at most {MAX_TABLE_ENTRIES}"
        )));
    }
    let data_bytes: usize = m.data.iter().map(|d| d.bytes.len()).sum();
    if data_bytes > MAX_DATA_BYTES {
        return Err(Error::Limit(format!(
            "{data_bytes} bytes of data segments: the lifter writes at most {MAX_DATA_BYTES} at instantiation"
        )));
    }
    // Names: the `name` section's, else the first export's, else `fN`.
    let mut names: Vec<String> = (0..m.funcs.len()).map(|i| format!("f{i}")).collect();
    for e in m.exports.iter().rev() {
        if e.kind == ExternalKind::Func
            && let Some(n) = names.get_mut(e.index as usize)
        {
            *n = ir_name(&e.name);
        }
    }
    for (i, n) in &m.names {
        if let Some(slot) = names.get_mut(*i as usize) {
            *slot = ir_name(n);
        }
    }
    let profile = match options.profile {
        Profile::Auto if stylus::is_stylus(&m) => Profile::Stylus,
        Profile::Auto => Profile::Generic,
        p => p,
    };
    // The result's pointer and length (Stylus) live after the globals.
    let result_slot = m.global_count() as u32;
    let mut functions = vec![];
    let mut unsupported = vec![];
    let mut unknown_imports = vec![];
    let imported_globals = imported_global_values(&m, &options.imports)?;
    let init = init_function(&m, &imported_globals)?;
    functions.push(match profile {
        Profile::Stylus => stylus_entry(&m, init, result_slot)?,
        _ => init,
    });
    let mut import_index = 0;
    for imp in &m.imports {
        let ImportKind::Func(ty) = imp.kind else {
            continue;
        };
        let sig = m.types.get(ty as usize).cloned().ok_or(Error::Invalid {
            offset: 0,
            message: "unknown import type".into(),
        })?;
        let name = names[import_index].clone();
        let noop = options
            .imports
            .noop_funcs
            .iter()
            .any(|(mo, n)| *mo == imp.module && *n == imp.name);
        let hook = match profile {
            Profile::Stylus => {
                match stylus::hook_sig(&imp.module, &imp.name) {
                    Some(want) if want != sig => {
                        return Err(Error::Limit(format!(
                            "import {}.{} has type {} but Stylus defines {}",
                            imp.module,
                            imp.name,
                            sig_text(&sig),
                            sig_text(&want)
                        )));
                    }
                    _ => {}
                }
                stylus::hook(&imp.module, &imp.name, result_slot)
            }
            _ => None,
        };
        functions.push(match hook {
            Some(f) => f,
            None if noop && sig.results.is_empty() => noop_function(name, &sig),
            None => {
                unknown_imports.push(format!("{}.{}", imp.module, imp.name));
                trapping(name, &sig, TrapCode::Unsupported, 0)
            }
        });
        import_index += 1;
    }
    let table_funcs = table_funcs(&m, &imported_globals);
    let indirect = lift::IndirectChecks::default();
    for (i, body) in m.bodies.iter().enumerate() {
        let index = m.imported_funcs + i as u32;
        let name = names[index as usize].clone();
        match lift::lift_function(&m, &table_funcs, &indirect, index, name.clone(), body) {
            Ok(f) => functions.push(f),
            Err(u) => {
                let sig = m.sig(index).cloned().unwrap_or(module::Sig {
                    params: vec![],
                    results: vec![],
                });
                functions.push(trapping(name, &sig, TrapCode::Unsupported, u.offset));
                unsupported.push((index, u));
            }
        }
    }
    let tables = table_funcs
        .iter()
        .map(|t| Table {
            entries: t.iter().map(|e| e.map(func_id)).collect(),
        })
        .collect();
    let mut ir = Module {
        functions,
        tables,
        code: vec![],
    };
    let lifted = verified(ir.clone()).map_err(Error::Verify)?;
    let lifted_insts = lifted.inst_count();
    if options.optimize {
        chainlift_ir::passes::optimize(&mut ir);
    }
    let module = verified(ir).map_err(Error::Verify)?;
    let mut funcs = vec![];
    let mut globals = vec![];
    for e in &m.exports {
        match e.kind {
            ExternalKind::Func | ExternalKind::FuncExact => {
                if let Some(sig) = m.sig(e.index) {
                    funcs.push(ExportedFunc {
                        name: e.name.clone(),
                        index: e.index,
                        func: func_id(e.index),
                        params: sig.params.clone(),
                        results: sig.results.clone(),
                    });
                }
            }
            ExternalKind::Global => {
                if let Some((ty, _)) = m.global_type(e.index) {
                    globals.push(ExportedGlobal {
                        name: e.name.clone(),
                        slot: e.index,
                        ty,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(Lifted {
        module,
        funcs,
        globals,
        unsupported,
        lifted_insts,
        profile,
        unknown_imports,
    })
}

/// `(i32 i32) -> i32` for messages.
fn sig_text(sig: &module::Sig) -> String {
    let list = |ts: &[ValType]| {
        ts.iter()
            .map(|t| lift::val_name(*t))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!("({}) -> ({})", list(&sig.params), list(&sig.results))
}

/// The Stylus entry: instantiation (`init`'s code), then the call of
/// `user_entrypoint` and the exit.
fn stylus_entry(m: &WasmModule<'_>, init: Function, result: u32) -> Result<Function, Error> {
    if m.global_count() + 2 > MAX_GLOBALS {
        return Err(Error::Limit(format!(
            "{} globals: the lifter keeps at most {}",
            m.global_count(),
            MAX_GLOBALS - 2
        )));
    }
    let entry = m
        .exports
        .iter()
        .find(|e| e.name == stylus::ENTRY && e.kind == ExternalKind::Func)
        .ok_or_else(|| Error::Limit(format!("a Stylus contract exports `{}`", stylus::ENTRY)))?;
    let want = module::Sig {
        params: vec![ValType::I32],
        results: vec![ValType::I32],
    };
    if m.sig(entry.index) != Some(&want) {
        return Err(Error::Limit(format!(
            "`{}` must have type (i32) -> (i32)",
            stylus::ENTRY
        )));
    }
    let mut f = init;
    f.name = "entry".into();
    // Instantiation's code ends in the last block.
    let b = *f.layout.last().expect("a block");
    Ok(match f.block(b).term {
        Terminator::Return(_) => stylus::entry_tail(f, b, entry.index, result),
        // Instantiation fails: the trap stays.
        _ => f,
    })
}

/// The values of the imported globals, in index order.
fn imported_global_values(m: &WasmModule<'_>, imports: &Imports) -> Result<Vec<u64>, Error> {
    let mut out = vec![];
    for imp in &m.imports {
        if let ImportKind::Global { .. } = imp.kind {
            let v = imports
                .globals
                .iter()
                .find(|((mo, n), _)| *mo == imp.module && *n == imp.name)
                .map(|(_, v)| *v)
                .ok_or_else(|| Error::Import {
                    module: imp.module.clone(),
                    name: imp.name.clone(),
                    kind: "global",
                })?;
            out.push(v);
        }
    }
    Ok(out)
}

fn init_value(init: Init, imported: &[u64]) -> Option<u64> {
    match init {
        Init::Const(k) => Some(k),
        Init::Global(g) => imported.get(g as usize).copied(),
        Init::Other => None,
    }
}

/// An imported function that does nothing.
fn noop_function(name: String, sig: &module::Sig) -> Function {
    let mut f = trapping(name, sig, TrapCode::Unsupported, 0);
    let b = f.layout[0];
    f.block_mut(b).term = Terminator::Return(vec![]);
    f
}

/// Each table's entries (WASM function indices) after instantiation: its
/// initial size, filled by the active element segments that fit (one that
/// does not makes `%init` trap).
fn table_funcs(m: &WasmModule<'_>, imported: &[u64]) -> Vec<Vec<Option<u32>>> {
    let mut tables: Vec<Vec<Option<u32>>> = m
        .tables
        .iter()
        .map(|t| vec![None; t.initial.min(MAX_TABLE_ENTRIES) as usize])
        .collect();
    for seg in &m.elements {
        let Some(table) = tables.get_mut(seg.table as usize) else {
            continue;
        };
        let Some(offset) = init_value(seg.offset, imported) else {
            continue;
        };
        let offset = offset as u32 as usize;
        if offset.saturating_add(seg.funcs.len()) > table.len() {
            break;
        }
        table[offset..offset + seg.funcs.len()].copy_from_slice(&seg.funcs);
    }
    tables
}

/// `%init`: memory, globals, element and data segments (with the bounds
/// checks instantiation makes), then the start function. Its last block
/// ends in `return` unless instantiation fails (a trap).
fn init_function(m: &WasmModule<'_>, imported: &[u64]) -> Result<Function, Error> {
    let mut f = Function::new("init", vec![], vec![]);
    let b = f.new_block();
    let mut insts: Vec<Inst> = vec![];
    let konst = |f: &mut Function, insts: &mut Vec<Inst>, ty: Type, k: u64, pos: usize| {
        let v = f.new_value(ty);
        insts.push(Inst {
            op: Op::Iconst(alloy_primitives::U256::from(k)),
            args: vec![],
            results: vec![v],
            // 0: instantiation's own constants, from no instruction.
            pos: if pos == 0 {
                SourcePos::None
            } else {
                SourcePos::Wasm(pos as u32)
            },
        });
        v
    };
    let mut term = Terminator::Return(vec![]);
    let mut term_pos = SourcePos::None;
    let mut initial = 0u64;
    // Where the initial memory.grow is, and its result: past the run's
    // memory limit, instantiation fails.
    let mut grown = None;
    if let Some(mem) = m.memory {
        if mem.imported {
            return Err(Error::Import {
                module: import_of(m, |k| matches!(k, ImportKind::Memory)).0,
                name: import_of(m, |k| matches!(k, ImportKind::Memory)).1,
                kind: "memory",
            });
        }
        initial = mem.initial;
        if initial > 0 {
            let bytes = konst(&mut f, &mut insts, Type::I64, initial * PAGE, 0);
            let old = f.new_value(Type::I64);
            insts.push(Inst {
                op: Op::MemGrow,
                args: vec![bytes],
                results: vec![old],
                pos: SourcePos::None,
            });
            grown = Some((insts.len(), old));
        }
    }
    if m.tables.iter().any(|t| t.imported) {
        let (module, name) = import_of(m, |k| matches!(k, ImportKind::Table));
        return Err(Error::Import {
            module,
            name,
            kind: "table",
        });
    }
    // Globals, imported ones first.
    let values = imported.iter().copied().map(Some).chain(
        m.globals
            .iter()
            .map(|g| init_value(g.init, imported).or(Some(0))),
    );
    for (i, v) in values.enumerate() {
        let Some(v) = v else { continue };
        let index = konst(&mut f, &mut insts, Type::I64, i as u64, 0);
        let value = konst(&mut f, &mut insts, Type::I64, v, 0);
        insts.push(Inst {
            op: Op::StackStore,
            args: vec![index, value],
            results: vec![],
            pos: SourcePos::None,
        });
    }
    // Element segments were placed statically; one that does not fit
    // ends instantiation.
    let mut failed = false;
    for seg in &m.elements {
        let offset = init_value(seg.offset, imported).unwrap_or(0) as u32 as u64;
        let size = m.tables.get(seg.table as usize).map_or(0, |t| t.initial);
        if offset + seg.funcs.len() as u64 > size {
            term = Terminator::Trap(TrapCode::OutOfBounds);
            failed = true;
            break;
        }
    }
    if !failed {
        for seg in &m.data {
            let offset = init_value(seg.offset, imported).unwrap_or(0) as u32 as u64;
            if offset + seg.bytes.len() as u64 > initial * PAGE {
                term = Terminator::Trap(TrapCode::OutOfBounds);
                term_pos = SourcePos::Wasm(seg.pos as u32);
                failed = true;
                break;
            }
            let mut at = offset;
            for chunk in seg.bytes.chunks(8) {
                let (ty, value) = if chunk.len() == 8 {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(chunk);
                    (Type::I64, u64::from_le_bytes(w))
                } else {
                    (Type::I8, 0)
                };
                if ty == Type::I64 {
                    let addr = konst(&mut f, &mut insts, Type::I64, at, seg.pos);
                    let v = konst(&mut f, &mut insts, Type::I64, value, seg.pos);
                    insts.push(Inst {
                        op: Op::Store(Type::I64, Endian::Little),
                        args: vec![addr, v],
                        results: vec![],
                        pos: SourcePos::Wasm(seg.pos as u32),
                    });
                } else {
                    for (i, byte) in chunk.iter().enumerate() {
                        let addr = konst(&mut f, &mut insts, Type::I64, at + i as u64, seg.pos);
                        let v = konst(&mut f, &mut insts, Type::I8, *byte as u64, seg.pos);
                        insts.push(Inst {
                            op: Op::Store(Type::I8, Endian::Little),
                            args: vec![addr, v],
                            results: vec![],
                            pos: SourcePos::Wasm(seg.pos as u32),
                        });
                    }
                }
                at += chunk.len() as u64;
            }
        }
    }
    if !failed && let Some(start) = m.start {
        let sig = m.sig(start).cloned();
        if let Some(sig) = sig {
            let (params, results) = ir_sig(&sig);
            if params.is_empty() && results.is_empty() {
                insts.push(Inst {
                    op: Op::Call(func_id(start)),
                    args: vec![],
                    results: vec![],
                    pos: SourcePos::None,
                });
            }
        }
    }
    let last = match grown {
        Some((at, old)) => {
            // b: the grow, then `brif failed, trap out_of_memory, rest`.
            let rest = insts.split_off(at);
            let all_ones = konst(&mut f, &mut insts, Type::I64, u64::MAX, 0);
            let failed = f.new_value(Type::I1);
            insts.push(Inst {
                op: Op::Icmp(chainlift_ir::inst::Cond::Eq),
                args: vec![old, all_ones],
                results: vec![failed],
                pos: SourcePos::None,
            });
            let trap = f.new_block();
            f.block_mut(trap).term = Terminator::Trap(TrapCode::OutOfMemory);
            let next = f.new_block();
            let data = f.block_mut(b);
            data.insts = insts;
            data.term = Terminator::Branch {
                cond: failed,
                then_to: chainlift_ir::function::BlockCall::new(trap),
                else_to: chainlift_ir::function::BlockCall::new(next),
            };
            insts = rest;
            next
        }
        None => b,
    };
    let data = f.block_mut(last);
    data.insts = insts;
    data.term = term;
    data.term_pos = term_pos;
    Ok(f)
}

fn import_of(m: &WasmModule<'_>, pred: impl Fn(&ImportKind) -> bool) -> (String, String) {
    m.imports
        .iter()
        .find(|i| pred(&i.kind))
        .map(|i| (i.module.clone(), i.name.clone()))
        .unwrap_or_default()
}

/// A listing of every function body: one `offset  instruction` line per
/// operator, offsets in the module, under a `func N name (type)` header.
pub fn disasm(bytes: &[u8]) -> Result<String, Error> {
    use std::fmt::Write;
    let m = module::parse(bytes)?;
    let invalid = |e: wasmparser::BinaryReaderError| Error::Invalid {
        offset: e.offset(),
        message: e.message().to_string(),
    };
    let mut out = String::new();
    for imp in &m.imports {
        if let ImportKind::Func(ty) = imp.kind {
            let sig = m.types.get(ty as usize).map(sig_text).unwrap_or_default();
            let _ = writeln!(out, "import {}.{} {sig}", imp.module, imp.name);
        }
    }
    let names: std::collections::HashMap<u32, &str> =
        m.names.iter().map(|(i, n)| (*i, n.as_str())).collect();
    let mut exports: std::collections::HashMap<u32, Vec<&str>> = Default::default();
    for e in &m.exports {
        if e.kind == ExternalKind::Func {
            exports.entry(e.index).or_default().push(e.name.as_str());
        }
    }
    for (i, body) in m.bodies.iter().enumerate() {
        let index = m.imported_funcs + i as u32;
        let sig = m.sig(index).map(sig_text).unwrap_or_default();
        let name = names
            .get(&index)
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        let exported = exports.get(&index).cloned().unwrap_or_default();
        let exported = if exported.is_empty() {
            String::new()
        } else {
            format!(" (export {})", exported.join(", "))
        };
        let _ = writeln!(out, "\nfunc {index}{name} {sig}{exported}");
        let mut locals = body.get_locals_reader().map_err(invalid)?;
        for _ in 0..locals.get_count() {
            let (n, t) = locals.read().map_err(invalid)?;
            let _ = writeln!(out, "        local {n} x {}", lift::val_name(t));
        }
        let mut depth = 1usize;
        for op in body
            .get_operators_reader()
            .map_err(invalid)?
            .into_iter_with_offsets()
        {
            let (op, offset) = op.map_err(invalid)?;
            if matches!(op, wasmparser::Operator::End | wasmparser::Operator::Else) {
                depth = depth.saturating_sub(1);
            }
            let _ = writeln!(
                out,
                "{offset:#07x} {}{}",
                "  ".repeat(depth.min(32)),
                operator_text(&op)
            );
            if matches!(
                op,
                wasmparser::Operator::Block { .. }
                    | wasmparser::Operator::Loop { .. }
                    | wasmparser::Operator::If { .. }
                    | wasmparser::Operator::Else
            ) {
                depth += 1;
            }
        }
    }
    Ok(out)
}

/// An operator as text: its WASM name and its immediates.
fn operator_text(op: &wasmparser::Operator<'_>) -> String {
    let name = lift::op_name(op);
    let debug = format!("{op:?}");
    match (debug.find('{'), debug.rfind('}')) {
        (Some(a), Some(b)) if a < b => format!("{name} {}", debug[a + 1..b].trim()),
        _ => name,
    }
}
