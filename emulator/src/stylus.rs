//! Accounts whose code is a WASM module (`\0asm`): Arbitrum Stylus
//! contracts. Every IR-based engine runs them from frontend-wasm's lift,
//! compiled once per code hash and stages as EVM code is; the `wasm`
//! engine runs the original module itself (see [`crate::wasm`]).

use alloy_primitives::{B256, keccak256};
use chainlift_frontend_evm::pipeline::{Compiled, Stages};
use chainlift_frontend_wasm::Profile;
use chainlift_ir::verify::verified;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// Whether `code` is a WASM module rather than EVM bytecode.
pub fn is_wasm(code: &[u8]) -> bool {
    code.starts_with(b"\0asm")
}

type Key = (B256, bool, bool, Profile);
type Entry = Result<Arc<Compiled>, String>;
static CACHE: LazyLock<Mutex<HashMap<Key, Entry>>> = LazyLock::new(Default::default);

/// The lifted module of WASM `code` as a contract (the Stylus profile),
/// optimized and legalized as `stages` say, compiled once. The module's
/// own code is the WASM bytes.
pub fn compile(code: &[u8], stages: Stages) -> Result<Arc<Compiled>, String> {
    compile_as(code, stages, Profile::Stylus)
}

/// [`compile`] in `profile` (`Auto`: Stylus for a Stylus contract, else
/// generic).
pub fn compile_as(code: &[u8], stages: Stages, profile: Profile) -> Result<Arc<Compiled>, String> {
    let key = (keccak256(code), stages.optimize, stages.legalize, profile);
    if let Some(hit) = CACHE.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit;
    }
    let result = lift(code, stages, profile, false);
    if let Ok(mut m) = CACHE.lock() {
        m.insert(key, result.clone());
    }
    result
}

/// `whole`: every function must lift; else one that does not traps
/// `unsupported` when it runs.
fn lift(
    code: &[u8],
    stages: Stages,
    profile: Profile,
    whole: bool,
) -> Result<Arc<Compiled>, String> {
    let options = chainlift_frontend_wasm::Options {
        profile,
        optimize: stages.optimize,
        ..Default::default()
    };
    let lifted = chainlift_frontend_wasm::lift(code, &options).map_err(|e| e.to_string())?;
    if let (true, Some((index, why))) = (whole, lifted.unsupported.first()) {
        return Err(format!(
            "{NOT_LIFTED} {index}: {} at 0x{:x}",
            why.what, why.offset
        ));
    }
    let mut module = lifted.module.into_module();
    if stages.legalize {
        module = chainlift_ir::legalize::legalize(&module);
        if stages.optimize {
            chainlift_ir::passes::optimize(&mut module);
        }
    }
    let module = verified(module).map_err(verify_error)?;
    Ok(Arc::new(Compiled::from_wasm(
        module,
        lifted.lifted_insts,
        code,
    )))
}

fn verify_error(errors: Vec<chainlift_ir::verify::VerifyError>) -> String {
    format!(
        "lifted WASM IR: {} verifier error(s); first: {}",
        errors.len(),
        errors[0]
    )
}

/// How a round trip's error begins when frontend-wasm refused one of
/// backend-wasm's functions (an analysis bound: too many locals times
/// blocks).
const NOT_LIFTED: &str = "frontend-wasm does not lift WASM function";

/// The engine's error for code whose module could not be had: a round trip
/// that frontend-wasm's bounds stop is code the `ir-wasm` engine cannot
/// run (Stylus would refuse such a module too); anything else is a failed
/// translation.
pub(crate) fn module_error(
    address: alloy_primitives::Address,
    reason: String,
) -> crate::EngineError {
    if reason.starts_with(NOT_LIFTED) {
        crate::EngineError::Unsupported {
            engine: "ir-wasm",
            reason,
        }
    } else {
        crate::EngineError::Translate { address, reason }
    }
}

/// EVM code's module after a round trip: translated to a Stylus module by
/// backend-wasm (from its legalized module `evm`), then lifted back by
/// frontend-wasm, once per module.
pub fn round_trip(evm: &Arc<Compiled>, stages: Stages) -> Result<Arc<Compiled>, String> {
    type Trips = HashMap<(usize, bool), (Arc<Compiled>, Entry)>;
    static TRIPS: LazyLock<Mutex<Trips>> = LazyLock::new(Default::default);
    // Keyed by the EVM module's address, which the entry keeps alive.
    let key = (Arc::as_ptr(evm) as usize, stages.optimize);
    if let Some((_, hit)) = TRIPS.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit;
    }
    // The module is backend-wasm's own: a function frontend-wasm cannot
    // lift (too large) leaves the round trip nothing to run, which is not
    // a different outcome.
    let result = chainlift_backend_wasm::translate(&evm.module, &Default::default())
        .map_err(|e| format!("backend-wasm: {e}"))
        .and_then(|wasm| lift(&wasm.bytes, stages, Profile::Stylus, true));
    if let Ok(mut m) = TRIPS.lock() {
        m.insert(key, (evm.clone(), result.clone()));
    }
    result
}

/// Instructions an inlined WASM contract may have.
const MAX_INLINED: usize = 400_000;

/// A lifted WASM contract as one function, every call inlined and the
/// result optimized (what backend-sbf translates). `Err` names what keeps
/// it from one function (recursion, indirect calls, size).
pub fn one_function(compiled: &Compiled) -> Result<chainlift_ir::verify::Verified, String> {
    let mut flat = chainlift_ir::passes::inline::inline_into_entry(&compiled.module, MAX_INLINED)
        .map_err(|e| e.to_string())?;
    chainlift_ir::passes::optimize(&mut flat);
    verified(flat).map_err(verify_error)
}
