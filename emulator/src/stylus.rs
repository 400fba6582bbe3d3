//! Accounts whose code is a WASM module (`\0asm`): Arbitrum Stylus
//! contracts. Every IR-based engine runs them from frontend-wasm's lift,
//! compiled once per code hash and stages as EVM code is; the `wasm`
//! engine runs the original module itself (see [`crate::wasm`]).

use alloy_primitives::{B256, keccak256};
use chainlift_frontend_evm::pipeline::{Compiled, Stages};
use chainlift_ir::verify::verified;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// Whether `code` is a WASM module rather than EVM bytecode.
pub fn is_wasm(code: &[u8]) -> bool {
    code.starts_with(b"\0asm")
}

type Key = (B256, bool, bool);
static CACHE: LazyLock<Mutex<HashMap<Key, Result<Arc<Compiled>, String>>>> =
    LazyLock::new(Default::default);

/// The lifted module of WASM `code` (Stylus profile), optimized and
/// legalized as `stages` say, compiled once. The module's own code is the
/// WASM bytes.
pub fn compile(code: &[u8], stages: Stages) -> Result<Arc<Compiled>, String> {
    let key = (keccak256(code), stages.optimize, stages.legalize);
    if let Some(hit) = CACHE.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit;
    }
    let result = lift(code, stages);
    if let Ok(mut m) = CACHE.lock() {
        m.insert(key, result.clone());
    }
    result
}

fn lift(code: &[u8], stages: Stages) -> Result<Arc<Compiled>, String> {
    let options = chainlift_frontend_wasm::Options {
        profile: chainlift_frontend_wasm::Profile::Stylus,
        optimize: stages.optimize,
        ..Default::default()
    };
    let lifted = chainlift_frontend_wasm::lift(code, &options).map_err(|e| e.to_string())?;
    let mut module = lifted.module.into_module();
    module.code = code.to_vec();
    if stages.legalize {
        module = chainlift_ir::legalize::legalize(&module);
        if stages.optimize {
            chainlift_ir::passes::optimize(&mut module);
        }
    }
    let module = verified(module).map_err(verify_error)?;
    Ok(Arc::new(Compiled::from_module(module, lifted.lifted_insts)))
}

fn verify_error(errors: Vec<chainlift_ir::verify::VerifyError>) -> String {
    format!(
        "lifted WASM IR: {} verifier error(s); first: {}",
        errors.len(),
        errors[0]
    )
}
