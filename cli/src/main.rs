//! The `chainlift` binary: see the library crate for the commands.

use std::io::Write;
use std::process::ExitCode;

/// mimalloc: lifting, the passes and the IR engines allocate many small
/// vectors; it makes `chainlift` lift about 30% faster than the system
/// allocator (`cargo bench -p chainlift-frontend-evm --bench lift`, which
/// uses it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("chainlift: internal error (a bug, please report it): {info}");
    }));
    let args: Vec<String> = std::env::args().collect();
    // The wasm engine's nested calls need a deep stack: run the whole
    // command on one (the engines then need no thread of their own).
    let code = chainlift_emulator::wasm::on_big_stack(|| {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let mut err = std::io::stderr();
        let code = chainlift_cli::run(args, &mut out, &mut err);
        let _ = out.flush();
        code
    })
    .unwrap_or(3);
    ExitCode::from(code)
}
