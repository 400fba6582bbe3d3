//! A validated module's sections, read once into plain data: types,
//! imports, functions, tables, memory, globals, exports, start, element and
//! data segments, and the function bodies with their byte offsets.

use crate::Error;
pub use wasmparser::ValType;
use wasmparser::{
    ConstExpr, DataKind, ElementItems, ElementKind, ExternalKind, FunctionBody, Operator, Parser,
    Payload, TypeRef, Validator, WasmFeatures,
};

/// The WebAssembly features the frontend accepts: the 2.0 core. Modules
/// using later proposals are refused by validation with the proposal's name.
pub const FEATURES: WasmFeatures = WasmFeatures::WASM2;

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sig {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

/// What an import brings in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportKind {
    /// A function of the given type index.
    Func(u32),
    /// A table.
    Table,
    /// A memory.
    Memory,
    /// A global of this type.
    Global {
        /// Its value type.
        ty: ValType,
        /// Whether it is mutable.
        mutable: bool,
    },
    /// A tag or anything else outside the 2.0 core.
    Other,
}

/// One import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The module it comes from.
    pub module: String,
    /// Its name there.
    pub name: String,
    /// What it is.
    pub kind: ImportKind,
}

/// A global's initial value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// A constant (bit pattern).
    Const(u64),
    /// The value of another (imported) global.
    Global(u32),
    /// A reference expression: not an integer or float constant.
    Other,
}

/// A global defined by the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// Its value type.
    pub ty: ValType,
    /// Whether it is mutable.
    pub mutable: bool,
    /// Its initial value.
    pub init: Init,
}

/// The linear memory's limits, in 64 KiB pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Pages at instantiation.
    pub initial: u64,
    /// Largest size, if declared.
    pub maximum: Option<u64>,
    /// Whether it is imported.
    pub imported: bool,
}

/// A table's limits and its active element segments' entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Entries at instantiation.
    pub initial: u64,
    /// Whether it is imported.
    pub imported: bool,
}

/// An active element segment: function indices written at an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elements {
    /// The table.
    pub table: u32,
    /// Where the entries start.
    pub offset: Init,
    /// Function indices (`None` for a null reference).
    pub funcs: Vec<Option<u32>>,
}

/// An active data segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// Where it is written.
    pub offset: Init,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The segment's offset in the module.
    pub pos: usize,
}

/// An export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// Its name.
    pub name: String,
    /// What kind of item it is.
    pub kind: ExternalKind,
    /// The item's index in its index space.
    pub index: u32,
}

/// A validated module, read into plain data.
#[derive(Debug, Clone)]
pub struct WasmModule<'a> {
    /// Function types.
    pub types: Vec<Sig>,
    /// Imports, in order.
    pub imports: Vec<Import>,
    /// The type index of every function, imported ones first.
    pub funcs: Vec<u32>,
    /// Number of imported functions.
    pub imported_funcs: u32,
    /// Tables, imported ones first.
    pub tables: Vec<Table>,
    /// The memory, if any.
    pub memory: Option<Memory>,
    /// Defined globals (after the imported ones in the index space).
    pub globals: Vec<Global>,
    /// Imported globals' types, in index order.
    pub imported_globals: Vec<(ValType, bool)>,
    /// Exports.
    pub exports: Vec<Export>,
    /// The start function.
    pub start: Option<u32>,
    /// Active element segments.
    pub elements: Vec<Elements>,
    /// Active data segments.
    pub data: Vec<Data>,
    /// Passive data segments (for `memory.init`, not lifted).
    pub passive_data: usize,
    /// Bodies of the defined functions.
    pub bodies: Vec<FunctionBody<'a>>,
    /// Names from the `name` section, by function index.
    pub names: Vec<(u32, String)>,
    /// Custom sections: name and contents.
    pub custom: Vec<(String, &'a [u8])>,
}

impl WasmModule<'_> {
    /// The signature of function `index`.
    pub fn sig(&self, index: u32) -> Option<&Sig> {
        let ty = *self.funcs.get(index as usize)?;
        self.types.get(ty as usize)
    }

    /// The type of global `index` (imported or defined) and its mutability.
    pub fn global_type(&self, index: u32) -> Option<(ValType, bool)> {
        let i = index as usize;
        match self.imported_globals.get(i) {
            Some(g) => Some(*g),
            None => self
                .globals
                .get(i - self.imported_globals.len())
                .map(|g| (g.ty, g.mutable)),
        }
    }

    /// Number of globals, imported ones included.
    pub fn global_count(&self) -> usize {
        self.imported_globals.len() + self.globals.len()
    }

    /// The name of function `index` from the `name` section.
    pub fn name(&self, index: u32) -> Option<&str> {
        self.names
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, n)| n.as_str())
    }
}

/// Validates `bytes` as a WebAssembly 2.0 module and reads its sections.
pub fn parse(bytes: &[u8]) -> Result<WasmModule<'_>, Error> {
    Validator::new_with_features(FEATURES)
        .validate_all(bytes)
        .map_err(|e| Error::Invalid {
            offset: e.offset(),
            message: e.message().to_string(),
        })?;
    read(bytes).map_err(|e| Error::Invalid {
        offset: e.offset(),
        message: e.message().to_string(),
    })
}

fn read(bytes: &[u8]) -> wasmparser::Result<WasmModule<'_>> {
    let mut m = WasmModule {
        types: vec![],
        imports: vec![],
        funcs: vec![],
        imported_funcs: 0,
        tables: vec![],
        memory: None,
        globals: vec![],
        imported_globals: vec![],
        exports: vec![],
        start: None,
        elements: vec![],
        data: vec![],
        passive_data: 0,
        bodies: vec![],
        names: vec![],
        custom: vec![],
    };
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    let ty = ty?;
                    m.types.push(Sig {
                        params: ty.params().to_vec(),
                        results: ty.results().to_vec(),
                    });
                }
            }
            Payload::ImportSection(r) => {
                for import in r.into_imports() {
                    {
                        let import = import?;
                        let kind = match import.ty {
                            TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                                m.funcs.push(t);
                                m.imported_funcs += 1;
                                ImportKind::Func(t)
                            }
                            TypeRef::Table(t) => {
                                m.tables.push(Table {
                                    initial: t.initial,
                                    imported: true,
                                });
                                ImportKind::Table
                            }
                            TypeRef::Memory(t) => {
                                m.memory = Some(Memory {
                                    initial: t.initial,
                                    maximum: t.maximum,
                                    imported: true,
                                });
                                ImportKind::Memory
                            }
                            TypeRef::Global(g) => {
                                m.imported_globals.push((g.content_type, g.mutable));
                                ImportKind::Global {
                                    ty: g.content_type,
                                    mutable: g.mutable,
                                }
                            }
                            TypeRef::Tag(_) => ImportKind::Other,
                        };
                        m.imports.push(Import {
                            module: import.module.to_string(),
                            name: import.name.to_string(),
                            kind,
                        });
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    m.funcs.push(t?);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t?;
                    m.tables.push(Table {
                        initial: t.ty.initial,
                        imported: false,
                    });
                }
            }
            Payload::MemorySection(r) => {
                for t in r {
                    let t = t?;
                    m.memory = Some(Memory {
                        initial: t.initial,
                        maximum: t.maximum,
                        imported: false,
                    });
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g?;
                    m.globals.push(Global {
                        ty: g.ty.content_type,
                        mutable: g.ty.mutable,
                        init: const_expr(&g.init_expr)?,
                    });
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e?;
                    m.exports.push(Export {
                        name: e.name.to_string(),
                        kind: e.kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => m.start = Some(func),
            Payload::ElementSection(r) => {
                for e in r {
                    let e = e?;
                    let ElementKind::Active {
                        table_index,
                        offset_expr,
                    } = e.kind
                    else {
                        continue;
                    };
                    let mut funcs = vec![];
                    match e.items {
                        ElementItems::Functions(r) => {
                            for f in r {
                                funcs.push(Some(f?));
                            }
                        }
                        ElementItems::Expressions(_, r) => {
                            for expr in r {
                                let expr = expr?;
                                let mut ops = expr.get_operators_reader();
                                funcs.push(match ops.read()? {
                                    Operator::RefFunc { function_index } => Some(function_index),
                                    _ => None,
                                });
                            }
                        }
                    }
                    m.elements.push(Elements {
                        table: table_index.unwrap_or(0),
                        offset: const_expr(&offset_expr)?,
                        funcs,
                    });
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d?;
                    match d.kind {
                        DataKind::Active { offset_expr, .. } => m.data.push(Data {
                            offset: const_expr(&offset_expr)?,
                            bytes: d.data.to_vec(),
                            pos: d.range.start,
                        }),
                        DataKind::Passive => m.passive_data += 1,
                    }
                }
            }
            Payload::CodeSectionEntry(body) => m.bodies.push(body),
            Payload::CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                    for name in names {
                        if let Ok(wasmparser::Name::Function(map)) = name {
                            for n in map.into_iter().flatten() {
                                m.names.push((n.index, n.name.to_string()));
                            }
                        }
                    }
                }
                m.custom.push((c.name().to_string(), c.data()));
            }
            _ => {}
        }
    }
    Ok(m)
}

/// An integer constant expression: `iN.const` or `global.get`.
fn const_expr(e: &ConstExpr<'_>) -> wasmparser::Result<Init> {
    let mut ops = e.get_operators_reader();
    Ok(match ops.read()? {
        Operator::I32Const { value } => Init::Const(value as u32 as u64),
        Operator::I64Const { value } => Init::Const(value as u64),
        Operator::F32Const { value } => Init::Const(value.bits() as u64),
        Operator::F64Const { value } => Init::Const(value.bits()),
        Operator::GlobalGet { global_index } => Init::Global(global_index),
        _ => Init::Other,
    })
}

/// Whether a signature uses only integer types.
pub fn is_integer(ty: ValType) -> bool {
    matches!(ty, ValType::I32 | ValType::I64)
}

/// The types of `sig` are all integers.
pub fn integer_sig(sig: &Sig) -> bool {
    sig.params
        .iter()
        .chain(&sig.results)
        .all(|t| is_integer(*t))
}

/// The kind of item an export names, as WASM text writes it.
pub fn kind_name(kind: ExternalKind) -> &'static str {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => "func",
        ExternalKind::Table => "table",
        ExternalKind::Memory => "memory",
        ExternalKind::Global => "global",
        ExternalKind::Tag => "tag",
    }
}
