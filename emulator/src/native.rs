//! The `native` engine's executor: a contract's legalized module compiled
//! to machine code by backend-native (Cranelift) once per code, and run
//! against the IR engine's world host. Host operations call back into the
//! interpreter's own definitions, so nested calls and creations go through
//! the same world host as the `ir` engine's, each nested frame running the
//! callee's compiled code.

use chainlift_backend_native::{Options, Program};
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

struct Entry {
    _compiled: Arc<Compiled>,
    program: Result<Arc<Program>, String>,
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
        let program = chainlift_backend_native::compile(&compiled.module, &self.options)
            .map(Arc::new)
            .map_err(|e| e.to_string());
        self.lock().insert(
            key,
            Entry {
                _compiled: compiled.clone(),
                program: program.clone(),
            },
        );
        program
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
        Ok(program.run(host, limits))
    }
}
