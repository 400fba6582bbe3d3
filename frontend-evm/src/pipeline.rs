//! The one way from EVM bytes to IR a backend or engine may use:
//! analysis → lift → verify → optimize → verify (→ legalize → optimize →
//! verify),
//! with one cache keyed by the code's hash and the options.
//!
//! Every stage's output is verified, and the result is a
//! [`Verified`](chainlift_ir::verify::Verified) module, the type backends and
//! engines require, so no unchecked module reaches them. The module carries
//! the contract's code (`Module::code`) for `codecopy`.

use crate::lift::{LiftOptions, LiftReport, lift_report};
use crate::{Analysis, Fork, Options, analyze};
use alloy_primitives::{B256, keccak256};
use chainlift_ir::function::Module;
use chainlift_ir::verify::{Verified, VerifyError, verified};
use chainlift_ir::{legalize, passes};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stages {
    /// Run the optimization passes.
    pub optimize: bool,
    /// Legalize to 64-bit limbs (no `i256`) after optimizing.
    pub legalize: bool,
    /// Lift every block with the EVM stack in memory, the form the lifter
    /// falls back to for recursion (see [`crate::lift`]), so that it can be
    /// tested on every contract and suite.
    pub stack_in_memory: bool,
}

impl Default for Stages {
    fn default() -> Self {
        Stages {
            optimize: true,
            legalize: false,
            stack_in_memory: false,
        }
    }
}

/// A pipeline failure, named by stage.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PipelineError {
    /// The analysis refused the bytes.
    #[error(transparent)]
    Analysis(#[from] crate::Error),
    /// A stage produced a module the verifier rejects: a bug in that stage.
    #[error("{stage} IR: {} verifier error(s); first: {}", errors.len(), errors[0])]
    Verify {
        /// `lifted` (a bug in the EVM frontend), `optimized` or `legalized`
        /// (a bug in a pass).
        stage: &'static str,
        /// Every failure.
        errors: Vec<VerifyError>,
    },
}

/// The pipeline's output.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The verified module.
    pub module: Verified,
    /// Instructions of the raw lift, before optimization.
    pub lifted_insts: usize,
    /// How the lifter kept the stack (in values, or partly or wholly in
    /// memory).
    pub lift: LiftReport,
    /// The WASM module the IR was lifted from, when another frontend
    /// (frontend-wasm) made it: engines that run WASM run this original.
    pub wasm: Option<Arc<[u8]>>,
    program: std::sync::OnceLock<std::sync::Arc<chainlift_ir::interp::Program>>,
}

impl Compiled {
    /// A result made by frontend-wasm: the verified module, the size of
    /// its raw lift and the WASM original.
    pub fn from_wasm(module: Verified, lifted_insts: usize, wasm: &[u8]) -> Compiled {
        Compiled {
            module,
            lifted_insts,
            lift: LiftReport::default(),
            wasm: Some(wasm.into()),
            program: Default::default(),
        }
    }

    /// The module decoded for the reference interpreter, decoded once.
    pub fn program(&self) -> std::sync::Arc<chainlift_ir::interp::Program> {
        self.program
            .get_or_init(|| std::sync::Arc::new(chainlift_ir::interp::Program::new(&self.module)))
            .clone()
    }
}

fn checked(m: Module, stage: &'static str) -> Result<Verified, PipelineError> {
    verified(m).map_err(|errors| PipelineError::Verify { stage, errors })
}

/// Runs the stages after analysis on `analysis`.
pub fn compile_analysis(analysis: &Analysis, stages: Stages) -> Result<Compiled, PipelineError> {
    let options = if stages.stack_in_memory {
        LiftOptions::stack_in_memory()
    } else {
        LiftOptions::default()
    };
    let (module, report) = lift_report(analysis, options);
    let module = checked(module, "lifted")?;
    let lifted_insts = module.inst_count();
    let mut module = module.into_module();
    if stages.optimize {
        passes::optimize(&mut module);
    }
    let module = checked(module, "optimized")?;
    let module = if stages.legalize {
        let mut legal = legalize::legalize(&module);
        if stages.optimize {
            passes::optimize(&mut legal);
        }
        checked(legal, "legalized")?
    } else {
        module
    };
    Ok(Compiled {
        module,
        lifted_insts,
        lift: report,
        wasm: None,
        program: Default::default(),
    })
}

/// Analyzes `code` under `fork` and runs the stages.
pub fn compile(code: &[u8], fork: Fork, stages: Stages) -> Result<Compiled, PipelineError> {
    let options = Options {
        fork,
        ..Options::default()
    };
    compile_analysis(&analyze(code, &options)?, stages)
}

type Key = (B256, Fork, Stages);
type Entry = Result<Arc<Compiled>, PipelineError>;

/// A cache of compiled modules by code hash, fork and stages; clones share
/// it ([`Cache::shared`] is the process-wide one).
#[derive(Debug, Clone, Default)]
pub struct Cache {
    entries: Arc<Mutex<HashMap<Key, Entry>>>,
}

impl Cache {
    /// The process-wide cache, which every engine and command shares (a
    /// scenario compiled for the IR is not compiled again for SBF).
    pub fn shared() -> Cache {
        static SHARED: std::sync::LazyLock<Cache> = std::sync::LazyLock::new(Cache::default);
        SHARED.clone()
    }

    /// The compiled module of `code`, compiled once.
    pub fn get(
        &self,
        code: &[u8],
        fork: Fork,
        stages: Stages,
    ) -> Result<Arc<Compiled>, PipelineError> {
        let key = (keccak256(code), fork, stages);
        if let Ok(map) = self.entries.lock()
            && let Some(hit) = map.get(&key)
        {
            return hit.clone();
        }
        let result = compile(code, fork, stages).map(Arc::new);
        if let Ok(mut map) = self.entries.lock() {
            map.insert(key, result.clone());
        }
        result
    }
}
