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
            .contains("DIFFERENT: call 1 ((empty calldata)): evm vs ir: storage slot 0x0"),
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

#[test]
fn sig_encodes_arguments_and_decodes_the_result() {
    let run = chainlift(&[
        "run",
        &path("examples/token/out/Token.json"),
        "--sig",
        "balanceOf(address)",
        "0x0000000000000000000000000000000000000b0b",
        "--storage",
        // _balances[0xb0b] (OpenZeppelin ERC20 slot 0)
        "0x3df664546288c9c5a7b1d0ce1ee5ae748f9a5691336ac256941d65602eb592aa=77",
        "--engine",
        "ir",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["decoded"], "77");
    // cast-style outputs and negative numbers, without an ABI.
    let run = chainlift(&[
        "run",
        "--code",
        "0x60043560005260206000f3",
        "--sig",
        "f(int256)(int256)",
        "-5",
    ]);
    assert!(
        run.stdout.contains("success (-5)"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let bad = chainlift(&["run", "--code", "0x00", "--sig", "f(uint8)", "300"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("argument 0 `300`"), "{}", bad.stderr);
}

#[test]
fn scenarios_agree_across_engines() {
    for s in ["token", "registry", "vault"] {
        let run = chainlift(&[
            "diff",
            &path(&format!("examples/scenarios/{s}.toml")),
            "--json",
        ]);
        assert_eq!(run.code, 0, "{s}: {}{}", run.stdout, run.stderr);
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(v["equal"], true, "{s}");
        assert_eq!(v["expectations"], serde_json::json!([]), "{s}");
        for call in v["calls"].as_array().unwrap() {
            assert_eq!(call["equal"], true, "{s}: {call}");
        }
    }
}

#[test]
fn the_token_scenario_checks_reverts_and_state() {
    let run = chainlift(&["diff", &path("examples/scenarios/token.toml")]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for want in [
        "revert ERC20InsufficientBalance(",
        "revert OwnableUnauthorizedAccount(0x00000000000000000000",
        "success (999910000000000000000000)",
        "equal: every engine agrees on 17 call(s)",
    ] {
        assert!(run.stdout.contains(want), "{want}\n{}", run.stdout);
    }
}

#[test]
fn a_failed_expectation_exits_1() {
    let dir = std::env::temp_dir().join(format!("chainlift-scn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wrong.toml");
    std::fs::write(
        &file,
        format!(
            "[contract]\nartifact = \"{}\"\nconstructor = {{ args = [\"0x0000000000000000000000000000000000000001\", \"5\"] }}\n[[call]]\nsig = \"totalSupply()\"\nexpect = {{ returns = [\"6\"] }}\n",
            path("examples/token/out/Token.json")
        ),
    )
    .unwrap();
    let run = chainlift(&["diff", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "EXPECTATION FAILED: call 1 (totalSupply()): evm: expected returns (6), got (5)"
        ),
        "{}",
        run.stdout
    );
    let run = chainlift(&["run", file.to_str().unwrap(), "--engine", "ir"]);
    assert_eq!(run.code, 1);
    std::fs::write(
        &file,
        "[contract]\nruntime = \"0x00\"\n[[call]]\nbogus = 1\n",
    )
    .unwrap();
    let run = chainlift(&["diff", file.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown field `bogus`"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn trace_finds_the_first_diverging_pc() {
    // SSTORE(0, 1); SSTORE(1, CREATE(0, 0, 0)): the IR engine does not
    // create contracts yet, so the second store differs, at pc 0xe.
    let run = chainlift(&[
        "diff",
        "--code",
        "0x6001600055600060006000f0600155",
        "--trace",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let d = &v["trace"]["divergence"];
    assert_eq!(d["effect"], 2, "{v}");
    assert_eq!(d["evm_pc"], 0xe);
    assert_eq!(d["ir_pc"], 0xe);
}

#[test]
fn nested_calls_and_precompiles_run_in_the_ir_engine() {
    // SSTORE(0, CALL(gas, identity, 0, 0, 0, 0, 0)) and then
    // SSTORE(1, STATICCALL to 0xc0c0…c0 itself with empty calldata): the
    // identity precompile succeeds; the static self-call reaches SSTORE and
    // fails. Both engines must agree.
    let run = chainlift(&[
        "diff",
        "--code",
        "0x6000600060006000600060045af1600055600060006000600030620f4240fa600155",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let storage = &v["calls"][0]["engines"]["ir"]["storage"];
    assert_eq!(storage["0x0"], "0x1", "{v}");
    assert!(storage.get("0x1").is_none(), "{v}");
}

#[test]
fn huge_gas_limits_do_not_hang_the_ir_engine() {
    // memory_for_gas once corrected its estimate one word at a time with
    // saturating arithmetic: about 6·10^10 steps for this gas.
    let run = chainlift(&[
        "run",
        "--engine",
        "ir",
        "--code",
        "0x00",
        "--gas",
        "18446744073709551615",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        chainlift_emulator::ir::memory_for_gas(u64::MAX),
        chainlift_emulator::ir::memory_for_gas(u64::MAX - 1)
    );
}
