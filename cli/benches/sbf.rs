//! Speed of the translated Solana programs against revm, in the same
//! process: the ERC20 scenario (17 calls) and compute-heavy calls of the
//! MathHeavy fixture, each in revm (the baseline), the SBF interpreter and
//! the SBF JIT (programs translated, verified and compiled once, outside
//! the timing). Also prints each call's compute units.
//!
//! `cargo bench -p chainlift-cli --bench sbf`

use alloy_primitives::{Address, U256, keccak256};
use chainlift_cli::run_cmd::execute;
use chainlift_cli::scenario;
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::sbf::SbfEngine;
use chainlift_emulator::{Account, BlockEnv, Call, Engine, World};
use chainlift_frontend_evm::Fork;
use std::path::Path;

mod common;
use common::time;

fn calldata(sig: &str, args: &[U256]) -> Vec<u8> {
    let mut d = keccak256(sig.as_bytes())[..4].to_vec();
    for a in args {
        d.extend_from_slice(&a.to_be_bytes::<32>());
    }
    d
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let plan = scenario::load(
        &root.join("examples/scenarios/token.toml"),
        BlockEnv::default(),
        Fork::Osaka,
        10_000_000,
        None,
    )
    .expect("scenario");
    let calls = plan.steps.len() as f64;
    let one = |e: Box<dyn Engine>| vec![e];
    let (evm, sbf, jit) = (
        one(Box::new(EvmEngine)),
        one(Box::new(SbfEngine::new(false))),
        one(Box::new(SbfEngine::new(true))),
    );
    let revm = time(|| {
        every_call_ran(execute(&plan, &evm));
    });
    let interp = time(|| {
        every_call_ran(execute(&plan, &sbf));
    });
    let jitted = time(|| {
        every_call_ran(execute(&plan, &jit));
    });
    println!("ERC20 scenario: {calls} calls, per call");
    println!(
        "  revm (baseline)   {:>9.1} µs",
        revm.as_secs_f64() * 1e6 / calls
    );
    for (name, d) in [("sbf interpreter", interp), ("sbf jit", jitted)] {
        println!(
            "  {name:<17} {:>9.1} µs  {:.2}x revm time",
            d.as_secs_f64() * 1e6 / calls,
            d.as_secs_f64() / revm.as_secs_f64()
        );
    }

    let hex = std::fs::read_to_string(root.join("examples/math/out/MathHeavy.runtime.hex"))
        .expect("MathHeavy fixture");
    let code = alloy_primitives::hex::decode(hex.trim()).expect("hex");
    let to = Address::repeat_byte(0xc0);
    let mut world = World::default();
    world.accounts.insert(
        to,
        Account {
            code,
            ..Account::default()
        },
    );
    let big = |s: &str| U256::from_str_radix(s, 16).expect("hex word");
    let cases = [
        (
            "sqrt(uint256)",
            vec![big("173d6c1f8d3e8f2b4c6a1d0e9f87654321")],
        ),
        (
            "mulDiv(uint256,uint256,uint256)",
            vec![
                big("ffffffffffffffffffffffffffffffffffffffffff"),
                big("fffffffffffffffffffffffffff123"),
                big("fffffffffffffffffffffffffffffffffffff3"),
            ],
        ),
        ("cbrt(uint256)", vec![big("18ee90ff6c373e0ee4e3f0ad2")]),
        (
            "expWad(int256)",
            vec![U256::from(12_345_678_901_234_567_890u128)],
        ),
    ];
    println!("MathHeavy (compute-heavy fixture), per call");
    let block = BlockEnv::default();
    for (sig, args) in cases {
        let call = Call {
            create: false,
            caller: Address::repeat_byte(0xca),
            origin: Address::repeat_byte(0xca),
            to,
            value: U256::ZERO,
            data: calldata(sig, &args),
            gas_limit: 10_000_000,
            gas_price: U256::ZERO,
        };
        let run = |e: &dyn Engine| e.run(&world, &block, &call, Fork::Osaka).expect("runs");
        let (evm, sbf, jit) = (EvmEngine, SbfEngine::new(false), SbfEngine::new(true));
        let reference = run(&evm);
        let o = run(&jit);
        assert_eq!(o.return_data, reference.return_data, "{sig}");
        let base = time(|| {
            run(&evm);
        });
        let interp = time(|| {
            run(&sbf);
        });
        let jitted = time(|| {
            run(&jit);
        });
        println!(
            "  {sig:<34} {:>7} CU  revm {:>8.1} µs  sbf {:>6.2}x  sbf-jit {:>6.2}x revm time",
            o.cost.amount,
            base.as_secs_f64() * 1e6,
            interp.as_secs_f64() / base.as_secs_f64(),
            jitted.as_secs_f64() / base.as_secs_f64()
        );
    }
}

/// Panics unless every engine ran every call (a bench of calls an engine
/// cannot run would time nothing).
fn every_call_ran(results: Vec<Vec<chainlift_cli::run_cmd::Ran>>) {
    for ran in results.into_iter().flatten() {
        ran.expect("every engine runs every call");
    }
}
