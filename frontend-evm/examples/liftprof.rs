//! Lifts one runtime hex file ten times (for profiling the lifter).
use chainlift_frontend_evm::*;
fn main() {
    let path = std::env::args().nth(1).expect("usage: liftprof FILE.hex");
    let text = std::fs::read_to_string(path).unwrap();
    let hex = text.trim().trim_start_matches("0x");
    let code: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let a = analyze(&code, &Options::default()).unwrap();
    for _ in 0..10 {
        std::hint::black_box(lift::lift(&a, Default::default()).unwrap());
    }
}
