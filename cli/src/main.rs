//! The `chainlift` binary: see the library crate for the commands.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("chainlift: internal error (a bug, please report it): {info}");
    }));
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let code = chainlift_cli::run(std::env::args(), &mut out, &mut err);
    let _ = out.flush();
    ExitCode::from(code)
}
