//! Every engine, declared once: its name, what it is, its cost unit, what
//! it cannot run and whether it traces. The CLI lists and builds engines
//! from this table only (`chainlift engines`, `--engines all`).

use crate::Engine;
use crate::evm::EvmEngine;
use crate::ir::IrEngine;
use crate::sbf::SbfEngine;

/// One engine's declaration.
#[derive(Debug, Clone, Copy)]
pub struct EngineInfo {
    /// The name `--engine`/`--engines` take.
    pub name: &'static str,
    /// One line: what runs the code.
    pub description: &'static str,
    /// The unit of its cost (reported, never compared).
    pub cost_unit: &'static str,
    /// What it cannot run (such a call is reported as "cannot run", not as a
    /// difference).
    pub cannot_run: &'static str,
    /// Whether it offers [`Engine::trace`] (for `diff --trace`).
    pub traces: bool,
    /// Whether `diff` and `test` compare it when no engines are named.
    pub default: bool,
    make: fn() -> Box<dyn Engine>,
}

impl EngineInfo {
    /// A fresh engine.
    pub fn build(&self) -> Box<dyn Engine> {
        (self.make)()
    }
}

/// Every engine, the oracle first.
pub const ENGINES: &[EngineInfo] = &[
    EngineInfo {
        name: "evm",
        description: "revm, the reference EVM (the oracle)",
        cost_unit: "gas",
        cannot_run: "nothing",
        traces: true,
        default: true,
        make: || Box::new(EvmEngine),
    },
    EngineInfo {
        name: "ir",
        description: "the lifted, optimized IR in the reference interpreter",
        cost_unit: "IR instructions",
        cannot_run: "code the lifter refuses (too many block instances)",
        traces: true,
        default: true,
        make: || Box::new(IrEngine::default()),
    },
    EngineInfo {
        name: "ir64",
        description: "the IR legalized to 64-bit limbs (the WASM and native backends' input) in the reference interpreter",
        cost_unit: "IR instructions",
        cannot_run: "code the lifter refuses (too many block instances)",
        traces: true,
        default: false,
        make: || Box::new(IrEngine::legalized()),
    },
    EngineInfo {
        name: "sbf",
        description: "the Solana SBPF v3 program from backend-sbf, in solana-sbpf's interpreter",
        cost_unit: "CU",
        cannot_run: "host operations backend-sbf does not map and Solana's limits (calls into code, creates, value below a lamport; see its mapping)",
        traces: false,
        default: false,
        make: || Box::new(SbfEngine::new(false)),
    },
    EngineInfo {
        name: "sbf-jit",
        description: "the same Solana program, compiled by solana-sbpf's JIT",
        cost_unit: "CU",
        cannot_run: "as sbf",
        traces: false,
        default: false,
        make: || Box::new(SbfEngine::new(true)),
    },
];

/// The engine called `name`.
pub fn find(name: &str) -> Option<&'static EngineInfo> {
    ENGINES.iter().find(|e| e.name == name)
}

/// Every engine's name.
pub fn names() -> Vec<&'static str> {
    ENGINES.iter().map(|e| e.name).collect()
}

/// The engines compared when none are named.
pub fn defaults() -> Vec<&'static str> {
    ENGINES
        .iter()
        .filter(|e| e.default)
        .map(|e| e.name)
        .collect()
}
