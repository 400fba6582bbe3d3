//! The `native` engine's executor: a contract's legalized module compiled
//! to machine code by backend-native (Cranelift) once per code, and run
//! against the IR engine's world host. Host operations call back into the
//! interpreter's own definitions, so nested calls and creations go through
//! the same world host as the `ir` engine's, each nested frame running the
//! callee's compiled code.
//!
//! Compilation is tiered: a module of more than [`LARGE`] IR instructions
//! is first compiled with Cranelift's single-pass register allocator
//! (several times faster to compile) and without inlining, and compiled
//! again with the best allocator and inlining once it has run [`HOT`] fuel
//! per IR instruction: large
//! contracts whose calls are short never pay for the slow compile, and hot
//! ones (a ray tracer) get the best code.

use chainlift_backend_native::{Options, Program, Regalloc};
use chainlift_frontend_evm::pipeline::Compiled;
use chainlift_ir::interp::{Host, Limits, Outcome};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Compiled programs, one per pipeline result.
pub struct NativeRuntime {
    /// How modules are compiled.
    pub options: Options,
    /// Per pipeline result (kept alive here, so its address is its key).
    programs: Mutex<HashMap<usize, Entry>>,
}

/// Modules larger than this (IR instructions) start in the fast tier.
pub const LARGE: usize = 4_000;

/// Fuel per IR instruction after which a fast-tier program is compiled
/// again with the best register allocator.
pub const HOT: u64 = 1_000;

struct Entry {
    _compiled: Arc<Compiled>,
    program: Result<Arc<Program>, String>,
    /// Fuel used by its runs while in the fast tier.
    fuel: u64,
    /// Whether it has been compiled again (or is being), once.
    upgraded: bool,
}

impl std::fmt::Debug for NativeRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeRuntime")
    }
}

impl NativeRuntime {
    /// A runtime that compiles as `options` say.
    pub fn new(options: Options) -> Self {
        NativeRuntime {
            options,
            programs: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Entry>> {
        self.programs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The program of `compiled` (legalized), compiled once.
    pub fn program(&self, compiled: &Arc<Compiled>) -> Result<Arc<Program>, String> {
        let key = Arc::as_ptr(compiled) as usize;
        if let Some(e) = self.lock().get(&key) {
            return e.program.clone();
        }
        let large = chainlift_backend_native::ir_size(&compiled.module) > LARGE;
        let options = match large && self.options.regalloc == Regalloc::Best {
            true => Options {
                regalloc: Regalloc::Fast,
                inline: false,
                ..self.options
            },
            false => self.options,
        };
        let program = self.compile(compiled, &options);
        self.lock().insert(
            key,
            Entry {
                _compiled: compiled.clone(),
                program: program.clone(),
                fuel: 0,
                upgraded: false,
            },
        );
        program
    }

    fn compile(&self, compiled: &Compiled, options: &Options) -> Result<Arc<Program>, String> {
        // A panic in Cranelift is a bug to report, not a reason to stop
        // the process.
        let compile = || chainlift_backend_native::compile(&compiled.module, options);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(compile)) {
            Ok(r) => r.map(Arc::new).map_err(|e| e.to_string()),
            Err(_) => Err("Cranelift panicked (a bug in backend-native)".into()),
        }
    }

    /// Counts `fuel` against a fast-tier program of `compiled`, and
    /// compiles it again with the best allocator once it is hot.
    fn used(&self, compiled: &Arc<Compiled>, program: &Program, fuel: u64) {
        if program.options.regalloc != Regalloc::Fast || self.options.regalloc == Regalloc::Fast {
            return;
        }
        let key = Arc::as_ptr(compiled) as usize;
        let hot = {
            let mut map = self.lock();
            let Some(e) = map.get_mut(&key) else {
                return;
            };
            // Only runs of the program still cached count, and it moves up
            // once, whatever other frames (nested calls into the same
            // code, other threads) were running meanwhile.
            let current = e
                .program
                .as_ref()
                .is_ok_and(|p| std::ptr::eq(Arc::as_ptr(p), program));
            if e.upgraded || !current {
                return;
            }
            e.fuel = e.fuel.saturating_add(fuel);
            e.upgraded = e.fuel > HOT.saturating_mul(program.stats.ir_instructions as u64);
            e.upgraded
        };
        // A failed compile keeps the working fast-tier program.
        if hot
            && let Ok(best) = self.compile(compiled, &self.options)
            && let Some(e) = self.lock().get_mut(&key)
        {
            e.program = Ok(best);
        }
    }

    /// Runs one frame of `compiled` against `host`: how it ended and the
    /// fuel it used. `Err` when the code cannot be compiled.
    pub fn run(
        &self,
        host: &mut dyn Host,
        compiled: &Arc<Compiled>,
        limits: Limits,
    ) -> Result<(Outcome, u64), String> {
        let program = self.program(compiled)?;
        let (outcome, fuel) = program.run(host, limits);
        self.used(compiled, &program, fuel);
        Ok((outcome, fuel))
    }
}
