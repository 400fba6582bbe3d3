//! What memory a frame may use and what it costs: EVM memory bounded by
//! the gas that pays for it, a WASM module's linear memory by the limit.

use chainlift_frontend_evm::pipeline::Compiled;

/// The largest memory (bytes) whose expansion cost, 3·w + w²/512 gas for w
/// words, fits in `gas`.
pub fn memory_for_gas(gas: u64) -> usize {
    let g = gas as f64;
    let mut w = ((-3.0 + (9.0 + 4.0 * g / 512.0).sqrt()) * 256.0).max(0.0) as u64;
    // In u128, so that the estimate's correction never saturates (which
    // would turn the loops below into billions of steps for huge gas).
    let gas = u128::from(gas);
    let cost = |w: u64| {
        let w = u128::from(w);
        3 * w + w * w / 512
    };
    while cost(w + 1) <= gas {
        w += 1;
    }
    while w > 0 && cost(w) > gas {
        w -= 1;
    }
    usize::try_from(w.saturating_mul(32)).unwrap_or(usize::MAX)
}

/// The memory a frame of `module` may use: for EVM code, what the gas pays
/// for (capped at `limit`); for a WASM module, whose linear memory is not
/// EVM memory, `limit` (a Stylus contract pays for its pages through
/// `pay_for_memory_grow`, which the engines do not meter).
pub(super) fn frame_memory(limit: usize, module: &Compiled, gas: u64) -> usize {
    if module.wasm.is_some() {
        limit
    } else {
        limit.min(memory_for_gas(gas))
    }
}

/// Gas of `len` bytes of memory: 3·w + w²/512 for w words.
pub(super) fn memory_cost(len: usize) -> u64 {
    let w = (len as u64).div_ceil(32);
    w.saturating_mul(3)
        .saturating_add(w.saturating_mul(w) / 512)
}
