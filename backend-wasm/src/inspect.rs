//! What a WASM contract module is: its host profile, imports, exports,
//! features, sizes, and whether Arbitrum Stylus would activate it.

use crate::stylus;
use wasmparser::{Parser, Payload, TypeRef, WasmFeatures};

/// Which contract host a module is written for, by its imports and exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Arbitrum Stylus: exports `user_entrypoint`, imports `vm_hooks`.
    Stylus,
    /// CosmWasm: exports `interface_version_8` (or `instantiate`) and `allocate`.
    CosmWasm,
    /// NEAR: imports `env.read_register` and friends, exports methods.
    Near,
    /// Anything else: functions called by export name.
    Generic,
}

impl Profile {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Stylus => "stylus",
            Profile::CosmWasm => "cosmwasm",
            Profile::Near => "near",
            Profile::Generic => "generic",
        }
    }
}

/// Facts about a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Bytes.
    pub size: usize,
    /// Bytes after brotli compression (what Stylus limits to 24 KB).
    pub compressed: usize,
    /// The host it is written for.
    pub profile: Profile,
    /// Imports: (module, name, kind).
    pub imports: Vec<(String, String, &'static str)>,
    /// Exports: (name, kind).
    pub exports: Vec<(String, &'static str)>,
    /// Functions defined in the module.
    pub functions: usize,
    /// Data segments.
    pub data_segments: usize,
    /// Table entries (initial size of all tables).
    pub table_entries: u64,
    /// Whether it has a start function.
    pub start: bool,
    /// The most locals (parameters included) of any function.
    pub max_locals: u64,
    /// The most operators of any function.
    pub max_instructions: usize,
    /// The WebAssembly features it needs, as a short phrase.
    pub features: String,
    /// Stylus activation rules it breaks, one line each (empty: none).
    pub stylus_violations: Vec<String>,
}

/// Brotli-compressed size, at the quality Stylus deployment tools use.
pub fn compressed_size(bytes: &[u8]) -> usize {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    match brotli::BrotliCompress(&mut &bytes[..], &mut out, &params) {
        Ok(n) => n,
        Err(_) => bytes.len(),
    }
}

fn kind(t: &TypeRef) -> &'static str {
    match t {
        TypeRef::Func(_) | TypeRef::FuncExact(_) => "func",
        TypeRef::Table(_) => "table",
        TypeRef::Memory(_) => "memory",
        TypeRef::Global(_) => "global",
        TypeRef::Tag(_) => "tag",
    }
}

/// Inspects a module; `Err` names what is malformed and where.
pub fn inspect(bytes: &[u8]) -> Result<Inspection, String> {
    let mut i = Inspection {
        size: bytes.len(),
        compressed: compressed_size(bytes),
        profile: Profile::Generic,
        imports: vec![],
        exports: vec![],
        functions: 0,
        data_segments: 0,
        table_entries: 0,
        start: false,
        max_locals: 0,
        max_instructions: 0,
        features: String::new(),
        stylus_violations: vec![],
    };
    let mut func_types: Vec<u32> = vec![];
    let mut params: Vec<u64> = vec![];
    let mut body = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        match payload {
            Payload::TypeSection(r) => {
                for rec in r {
                    let rec = rec.map_err(|e| e.to_string())?;
                    for t in rec.types() {
                        let n = match &t.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => f.params().len() as u64,
                            _ => 0,
                        };
                        params.push(n);
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.map_err(|e| e.to_string())?;
                    i.imports
                        .push((imp.module.to_string(), imp.name.to_string(), kind(&imp.ty)));
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    func_types.push(t.map_err(|e| e.to_string())?);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    i.table_entries += t.map_err(|e| e.to_string())?.ty.initial;
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.map_err(|e| e.to_string())?;
                    let k = match e.kind {
                        wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                            "func"
                        }
                        wasmparser::ExternalKind::Table => "table",
                        wasmparser::ExternalKind::Memory => "memory",
                        wasmparser::ExternalKind::Global => "global",
                        wasmparser::ExternalKind::Tag => "tag",
                    };
                    i.exports.push((e.name.to_string(), k));
                }
            }
            Payload::StartSection { .. } => i.start = true,
            Payload::DataSection(r) => i.data_segments += r.count() as usize,
            Payload::CodeSectionEntry(f) => {
                let ty = func_types.get(body).copied().unwrap_or(0) as usize;
                body += 1;
                let mut locals = params.get(ty).copied().unwrap_or(0);
                for l in f.get_locals_reader().map_err(|e| e.to_string())? {
                    locals += u64::from(l.map_err(|e| e.to_string())?.0);
                }
                let mut ops = f.get_operators_reader().map_err(|e| e.to_string())?;
                let mut n = 0;
                while !ops.eof() {
                    ops.read().map_err(|e| e.to_string())?;
                    n += 1;
                }
                i.max_locals = i.max_locals.max(locals);
                i.max_instructions = i.max_instructions.max(n);
            }
            _ => {}
        }
    }
    i.functions = func_types.len();
    let exports = |n: &str| i.exports.iter().any(|e| e.0 == n);
    let imports_from = |m: &str| i.imports.iter().any(|x| x.0 == m);
    i.profile = if exports("user_entrypoint") || imports_from("vm_hooks") {
        Profile::Stylus
    } else if exports("interface_version_8") || (exports("allocate") && exports("instantiate")) {
        Profile::CosmWasm
    } else if i
        .imports
        .iter()
        .any(|x| x.0 == "env" && x.1 == "read_register")
    {
        Profile::Near
    } else {
        Profile::Generic
    };
    let ours = WasmFeatures::FLOATS | WasmFeatures::MUTABLE_GLOBAL | WasmFeatures::SIGN_EXTENSION;
    i.features = if wasmparser::Validator::new_with_features(ours)
        .validate_all(bytes)
        .is_ok()
    {
        "MVP + sign extension + mutable globals".into()
    } else {
        match wasmparser::Validator::new_with_features(WasmFeatures::WASM2).validate_all(bytes) {
            Ok(_) => "WebAssembly 2.0 (beyond MVP + sign extension + mutable globals)".into(),
            Err(e) => format!("beyond WebAssembly 2.0 or invalid: {e}"),
        }
    };
    if i.profile == Profile::Stylus {
        i.stylus_violations = stylus_rules(&i, bytes);
    }
    Ok(i)
}

/// Stylus's activation rules that `i` breaks.
fn stylus_rules(i: &Inspection, bytes: &[u8]) -> Vec<String> {
    let mut v = vec![];
    let mut over = |what: &str, n: u64, max: usize| {
        if n > max as u64 {
            v.push(format!("{n} {what} (at most {max})"));
        }
    };
    over("functions", i.functions as u64, stylus::MAX_FUNCTIONS);
    over("locals in a function", i.max_locals, stylus::MAX_LOCALS);
    over(
        "instructions in a function",
        i.max_instructions as u64,
        stylus::MAX_INSTRUCTIONS,
    );
    over("imports", i.imports.len() as u64, stylus::MAX_IMPORTS);
    over(
        "data segments",
        i.data_segments as u64,
        stylus::MAX_DATA_SEGMENTS,
    );
    over("table entries", i.table_entries, 4096);
    over(
        "compressed bytes",
        i.compressed as u64,
        stylus::MAX_COMPRESSED,
    );
    over(
        "uncompressed bytes",
        bytes.len() as u64,
        stylus::MAX_UNCOMPRESSED,
    );
    if i.start {
        v.push("a start function".into());
    }
    for e in &i.exports {
        if e.0.starts_with("stylus") {
            v.push(format!(
                "export `{}` uses the reserved prefix `stylus`",
                e.0
            ));
        }
    }
    for m in &i.imports {
        if m.0 != "vm_hooks" {
            v.push(format!(
                "imports `{}.{}`, which Arbitrum does not provide",
                m.0, m.1
            ));
        }
    }
    if !i
        .exports
        .iter()
        .any(|e| e.0 == "user_entrypoint" && e.1 == "func")
    {
        v.push("no `user_entrypoint` export".into());
    }
    if !i.exports.iter().any(|e| e.0 == "memory" && e.1 == "memory") {
        v.push("no `memory` export".into());
    }
    v
}
