//! Times the CFG and dispatch stages separately on one runtime hex file.
use chainlift_frontend_evm::*;
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).expect("usage: prof FILE.hex");
    let text = std::fs::read_to_string(path).unwrap();
    let hex = text.trim().trim_start_matches("0x");
    let code: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let ins = disasm::disassemble(&code, Fork::Osaka);
    let jd = disasm::jumpdests(&code);
    let t = Instant::now();
    let d = dispatch::recover(&code, &ins, &jd, DispatchOptions::default());
    println!("dispatch {:?} paths {}", t.elapsed(), d.paths);
    let hints = d.observed_jumps.iter().cloned().collect();
    let t = Instant::now();
    let mut steps = 0;
    for _ in 0..10 {
        let c = cfg::build(&code, &ins, &jd, code.len(), &hints, CfgOptions::default());
        steps = c.steps;
        std::hint::black_box(c);
    }
    println!("cfg {:?} steps {steps}", t.elapsed() / 10);
}
