//! `chainlift run` and `chainlift diff` end to end.

use chainlift_tests::{chainlift, path};
use serde_json::Value;

#[test]
fn diff_agrees_on_the_token_and_exits_0() {
    // totalSupply() with slot 2 (OpenZeppelin ERC20's _totalSupply) preset.
    let run = chainlift(&[
        "diff",
        &path("examples/token/out/Token.json"),
        "--calldata",
        "0x18160ddd",
        "--storage",
        "2=1000",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["equal"], true);
    let engines = &v["calls"][0]["engines"];
    assert_eq!(engines["evm"]["return_data"], format!("0x{:064x}", 1000));
    assert_eq!(engines["ir"]["return_data"], engines["evm"]["return_data"]);
    assert_eq!(engines["evm"]["cost"]["unit"], "gas");
    assert_eq!(engines["ir"]["cost"]["unit"], "instructions");
}

#[test]
fn diff_names_the_first_difference_and_exits_1() {
    // GAS PUSH0 SSTORE STOP: the stored value is the remaining gas, which
    // only revm meters.
    let run = chainlift(&["diff", "--code", "0x5a5f5500"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("DIFFERENT: evm vs ir: storage slot 0x0"),
        "{}",
        run.stdout
    );
}

#[test]
fn run_reports_reverts_and_halts() {
    let revert = chainlift(&[
        "run",
        "--engine",
        "ir",
        "--code",
        "0x60aa60005260206000fd",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&revert.stdout).unwrap();
    assert_eq!(v["status"], "revert");
    assert_eq!(v["return_data"], format!("0x{:064x}", 0xaa));
    let halt = chainlift(&["run", "--engine", "evm", "--code", "0xfe", "--json"]);
    let v: Value = serde_json::from_str(&halt.stdout).unwrap();
    assert_eq!(v["status"], "halt");
    let bad = chainlift(&["run", "--engine", "wasm", "--code", "0x00"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown engine"), "{}", bad.stderr);
}
