//! What the cli benchmarks share.

use std::time::{Duration, Instant};

/// The mean time of `f` over at least half a second and five runs, after
/// one warm-up run.
pub fn time(mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < Duration::from_millis(500) || runs < 5 {
        f();
        runs += 1;
    }
    start.elapsed() / runs
}
