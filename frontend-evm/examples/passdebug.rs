//! Runs each pass in turn on a lifted contract and verifies after each one,
//! naming the first pass that breaks the IR.
use chainlift_frontend_evm::*;
use chainlift_ir::{passes, verify};
fn main() {
    let path = std::env::args().nth(1).expect("usage: passdebug FILE.hex");
    let text = std::fs::read_to_string(path).unwrap();
    let hex = text.trim().trim_start_matches("0x");
    let code: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let fork = if std::env::args().nth(2).as_deref() == Some("constantinople") {
        Fork::Constantinople
    } else {
        Fork::Osaka
    };
    let a = analyze(
        &code,
        &Options {
            fork,
            ..Options::default()
        },
    )
    .unwrap();
    let mut m = lift::lift(&a, Default::default());
    verify::verify(&m).unwrap();
    let f = &mut m.functions[0];
    type Pass = fn(&mut chainlift_ir::function::Function) -> bool;
    let list: [(&str, Pass); 6] = [
        ("simplify_cfg", passes::simplify_cfg::run),
        ("prune_params", passes::prune_params::run),
        ("copy_prop", passes::copy_prop::run),
        ("const_fold", passes::const_fold::run),
        ("cse", passes::cse::run),
        ("dce", passes::dce::run),
    ];
    if std::env::var_os("ROUNDS").is_some() {
        let mut f2 = f.clone();
        for round in 0..16 {
            let mut changed = false;
            for (name, p) in list {
                let t = std::time::Instant::now();
                let c = p(&mut f2);
                changed |= c;
                eprintln!(
                    "round {round} {name}: {:?} changed={c} insts={}",
                    t.elapsed(),
                    f2.inst_count()
                );
            }
            if !changed {
                break;
            }
        }
        return;
    }
    for round in 0..16 {
        for (name, p) in list {
            let before = f.clone();
            let t = std::time::Instant::now();
            p(f);
            eprintln!("round {round} {name}: {:?}", t.elapsed());
            let m2 = chainlift_ir::function::Module::with_function(f.clone());
            if let Err(e) = verify::verify(&m2) {
                println!("round {round} pass {name} broke: {}", e[0]);
                std::fs::write(
                    "/tmp/before.ir",
                    chainlift_ir::print::print_function(&before),
                )
                .unwrap();
                std::fs::write("/tmp/after.ir", chainlift_ir::print::print_function(f)).unwrap();
                return;
            }
        }
    }
    println!("ok");
}
