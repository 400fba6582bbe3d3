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
    make: fn(&Build) -> Box<dyn Engine>,
}

/// How to build an engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Build {
    /// Lift every block with the EVM stack in memory (the lifter's fallback
    /// form), in the engines that lift; others ignore it.
    pub stack_in_memory: bool,
    /// For the suites: the sbf engines translate each case as a deployment
    /// made for it would be, for a wei-per-lamport under which its amounts
    /// are exact (`SbfEngine::exact_wei`) and for Solana's largest heap
    /// (256 KiB, which a transaction asks for with `RequestHeapFrame`).
    pub for_suites: bool,
}

impl EngineInfo {
    /// A fresh engine.
    pub fn build(&self) -> Box<dyn Engine> {
        self.build_with(&Build::default())
    }

    /// A fresh engine built as `build` says.
    pub fn build_with(&self, build: &Build) -> Box<dyn Engine> {
        (self.make)(build)
    }
}

fn ir_engine(mut e: IrEngine, build: &Build) -> IrEngine {
    e.stages.stack_in_memory = build.stack_in_memory;
    e
}

fn sbf_engine(jit: bool, build: &Build) -> SbfEngine {
    let mut e = SbfEngine::new(jit);
    e.lifter.stages.stack_in_memory = build.stack_in_memory;
    if build.for_suites {
        e.exact_wei = true;
        e.target.heap_size = chainlift_backend_sbf::bundle::HEAP;
    }
    e
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
        make: |_| Box::new(EvmEngine),
    },
    EngineInfo {
        name: "ir",
        description: "the lifted, optimized IR in the reference interpreter",
        cost_unit: "IR instructions",
        cannot_run: "nothing the EVM runs; gas is not metered, so gas-exact outcomes may differ",
        traces: true,
        default: true,
        make: |b| Box::new(ir_engine(IrEngine::default(), b)),
    },
    EngineInfo {
        name: "ir64",
        description: "the IR legalized to 64-bit limbs (the WASM and native backends' input) in the reference interpreter",
        cost_unit: "IR instructions",
        cannot_run: "nothing the EVM runs; gas is not metered, so gas-exact outcomes may differ",
        traces: true,
        default: false,
        make: |b| Box::new(ir_engine(IrEngine::legalized(), b)),
    },
    EngineInfo {
        name: "ir-wasm",
        description: "a round trip: the WASM module from backend-wasm lifted back by frontend-wasm, in the reference interpreter",
        cost_unit: "IR instructions",
        cannot_run: "as wasm",
        traces: false,
        default: false,
        make: |b| {
            let mut e = IrEngine::legalized();
            e.via_wasm = true;
            Box::new(ir_engine(e, b))
        },
    },
    EngineInfo {
        name: "wasm",
        description: "the WASM module from backend-wasm (Arbitrum Stylus ABI), compiled and run by wasmtime",
        cost_unit: "fuel",
        cannot_run: "nothing the EVM runs; gas is not metered, so gas-exact outcomes may differ",
        traces: false,
        default: false,
        make: |b| match IrEngine::wasm() {
            Ok(e) => Box::new(ir_engine(e, b)),
            Err(reason) => Box::new(Unavailable {
                name: "wasm",
                reason,
            }),
        },
    },
    EngineInfo {
        name: "wasm-math",
        description: "the same WASM module with DIV, MOD, EXP, ADDMOD and MULMOD through Stylus's math_* host functions",
        cost_unit: "fuel",
        cannot_run: "as wasm",
        traces: false,
        default: false,
        make: |b| {
            let options = chainlift_backend_wasm::Options {
                math_hooks: true,
                ..Default::default()
            };
            match IrEngine::wasm_with(options) {
                Ok(e) => Box::new(ir_engine(e, b)),
                Err(reason) => Box::new(Unavailable {
                    name: "wasm-math",
                    reason,
                }),
            }
        },
    },
    EngineInfo {
        name: "native",
        description: "the module compiled to machine code by backend-native (Cranelift), run in this process",
        cost_unit: "fuel",
        cannot_run: "nothing the EVM runs; gas is not metered, so gas-exact outcomes may differ",
        traces: false,
        default: false,
        make: |b| Box::new(ir_engine(IrEngine::native(), b)),
    },
    EngineInfo {
        name: "sbf",
        description: "the Solana SBPF v3 program from backend-sbf, in solana-sbpf's interpreter",
        cost_unit: "CU",
        cannot_run: "host operations backend-sbf does not map and Solana's limits (calls into code, creates, value below a lamport; see its mapping)",
        traces: false,
        default: false,
        make: |b| Box::new(sbf_engine(false, b)),
    },
    EngineInfo {
        name: "sbf-jit",
        description: "the same Solana program, compiled by solana-sbpf's JIT",
        cost_unit: "CU",
        cannot_run: "as sbf",
        traces: false,
        default: false,
        make: |b| Box::new(sbf_engine(true, b)),
    },
];

/// An engine that could not be built: every call says why.
struct Unavailable {
    name: &'static str,
    reason: String,
}

impl Engine for Unavailable {
    fn name(&self) -> &'static str {
        self.name
    }
    fn run(
        &self,
        _: &crate::World,
        _: &crate::BlockEnv,
        _: &crate::Call,
        _: chainlift_frontend_evm::Fork,
    ) -> Result<crate::Outcome, crate::EngineError> {
        Err(crate::EngineError::Unsupported {
            engine: self.name,
            reason: self.reason.clone(),
        })
    }
}

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
