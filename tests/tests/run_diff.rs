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
            .contains("DIFFERENT: call 1 ((empty calldata)): evm vs ir: storage of 0xC0C0c0c0C0C0c0c0c0C0c0C0C0C0C0C0C0C0c0c0 slot 0x0"),
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
    let bad = chainlift(&["run", "--engine", "evm2", "--code", "0x00"]);
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
    for s in ["token", "registry", "vault", "erc4626", "factory", "proxy"] {
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
    // SSTORE(0, 1); SSTORE(1, GAS): only revm meters gas, so the second
    // store differs, at pc 0x8.
    let run = chainlift(&[
        "diff",
        "--code",
        "0x60016000555a600155",
        "--trace",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let d = &v["trace"]["divergence"];
    assert_eq!(d["effect"], 2, "{v}");
    assert_eq!(v["trace"]["engines"], serde_json::json!(["evm", "ir"]));
    assert_eq!(d["pcs"], serde_json::json!([0x8, 0x8]));
}

#[test]
fn trace_pairs_any_two_engines_that_trace() {
    // The same divergence between revm and the legalized IR (ir64): tracing
    // is a method of each engine, not a revm/IR pairing.
    let run = chainlift(&[
        "diff",
        "--code",
        "0x60016000555a600155",
        "--engines",
        "evm,ir64",
        "--trace",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("trace of call 1 (evm vs ir64): 3 effects in evm, 3 in ir64"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("first divergence at effect 2: evm pc 0x8, ir64 pc 0x8"),
        "{}",
        run.stdout
    );
}

#[test]
fn engines_come_from_one_registry() {
    let run = chainlift(&["engines", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = v["engines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "evm",
            "ir",
            "ir64",
            "ir-wasm",
            "wasm",
            "wasm-math",
            "native",
            "sbf",
            "sbf-jit"
        ]
    );
    for e in v["engines"].as_array().unwrap() {
        assert!(!e["description"].as_str().unwrap().is_empty());
        assert!(!e["cost_unit"].as_str().unwrap().is_empty());
    }
    // `all` is every engine; an unknown name lists them.
    let all = chainlift(&[
        "diff",
        "--code",
        "0x600160005500",
        "--engines",
        "all",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&all.stdout).unwrap();
    let ran: Vec<&String> = v["calls"][0]["engines"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(ran.len(), 9, "{v}");
    let bad = chainlift(&["diff", "--code", "0x00", "--engines", "evm,nope"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains(
            "unknown engine `nope` (available: evm, ir, ir64, ir-wasm, wasm, wasm-math, native, sbf, sbf-jit"
        ),
        "{}",
        bad.stderr
    );
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

#[test]
fn a_vault_over_its_token_keeps_the_token_state() {
    // The deposit's nested transferFrom writes the token's storage; the
    // next call reads it back from the token (it read 0 when worlds kept
    // only the called contract's storage).
    let run = chainlift(&["diff", &path("examples/scenarios/erc4626.toml"), "--json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let calls = v["calls"].as_array().unwrap();
    let deposit = calls
        .iter()
        .find(|c| {
            c["call"]
                .as_str()
                .unwrap()
                .starts_with("alice deposits 100")
        })
        .unwrap();
    let storage = &deposit["engines"]["ir"]["storage"];
    let token = v["calls"][1]["engines"]["evm"]["decoded"].as_str().unwrap();
    assert!(storage.get(token).is_some(), "{storage}");
    let seen = calls
        .iter()
        .find(|c| {
            c["call"]
                .as_str()
                .unwrap()
                .starts_with("the token saw the deposit")
        })
        .unwrap();
    for e in ["evm", "ir"] {
        assert_eq!(
            seen["engines"][e]["decoded"], "100000000000000000000",
            "{e}"
        );
    }
}

#[test]
fn diff_keeps_going_when_an_engine_cannot_run() {
    // EXTCODEHASH has no Solana source: sbf cannot run the calls, and
    // revm and the IR are still compared on each.
    let dir = std::env::temp_dir().join(format!("chainlift-cannot-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("codehash.toml");
    // SSTORE(0, EXTCODEHASH(0)); STOP
    std::fs::write(
        &scenario,
        "[contract]\nname = \"hasher\"\nruntime = \"0x5f3f5f5500\"\naddress = \"0x00000000000000000000000000000000000be5e0\"\n\n[[call]]\nto = \"hasher\"\n\n[[call]]\nto = \"hasher\"\n",
    )
    .unwrap();
    let scenario = scenario.to_str().unwrap();
    let run = chainlift(&["diff", scenario, "--engines", "evm,ir,sbf", "--json"]);
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["equal"], true);
    assert_eq!(v["expectations"], serde_json::json!([]));
    let cannot = v["cannot_run"]["sbf"].as_array().unwrap();
    assert_eq!(cannot.len(), 2, "{cannot:?}");
    let first = &v["calls"][0];
    assert_eq!(first["engines"]["sbf"]["status"], "cannot-run");
    assert_eq!(first["engines"]["ir"]["status"], "success");
    assert_eq!(first["groups"], serde_json::json!([["evm", "ir"], ["sbf"]]));
    // The text view says so per call and in the summary.
    let text = chainlift(&["diff", scenario, "--engines", "evm,ir,sbf"]);
    assert_eq!(text.code, 4);
    assert!(
        text.stdout.contains("[equal (evm = ir); cannot run: sbf]"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("sbf could not run"), "{}", text.stdout);
    assert!(
        text.stdout.contains("equal where they ran: evm, ir agree"),
        "{}",
        text.stdout
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The pair factory's system runs whole in the sbf engines: the factory
/// creates the pair with CREATE2 inside the program, a second creation
/// collides as on revm, and the pair calls back into the tokens.
#[test]
fn the_factory_system_runs_equal_in_every_engine() {
    let run = chainlift(&[
        "diff",
        &path("examples/scenarios/factory.toml"),
        "--engines",
        "evm,ir,sbf,sbf-jit",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["equal"], true);
    let first = &v["calls"][0];
    assert_eq!(first["engines"]["sbf"]["status"], "success");
    assert_eq!(
        first["groups"],
        serde_json::json!([["evm", "ir", "sbf", "sbf-jit"]])
    );
}

#[test]
fn the_grouped_view_fits_the_terminal_and_wide_keeps_every_column() {
    let scenario = path("examples/scenarios/token.toml");
    let engines = "evm,ir,sbf,sbf-jit";
    let grouped = chainlift(&["diff", &scenario, "--engines", engines]);
    assert_eq!(grouped.code, 0, "{}{}", grouped.stdout, grouped.stderr);
    assert!(
        grouped.stdout.contains("evm=ir=sbf=sbf-jit"),
        "{}",
        grouped.stdout
    );
    let width = grouped
        .stdout
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| l.chars().count())
        .max()
        .unwrap();
    assert!(width <= 120, "{width}\n{}", grouped.stdout);
    let wide = chainlift(&["diff", &scenario, "--engines", engines, "--wide"]);
    assert_eq!(wide.code, 0);
    let header = wide
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("evm "))
        .unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["evm", "ir", "sbf", "sbf-jit"]
    );
}

#[test]
fn scenarios_seed_accounts_and_name_contracts() {
    let dir = std::env::temp_dir().join(format!("chainlift-multi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("multi.toml");
    // `store`: with one word of calldata returns that slot, else stores
    // word 1 at slot word 0. `relay` forwards its calldata to `store`.
    let store = "0x3660201461000f576020355f3555005b5f35545f5260205ff3";
    std::fs::write(
        &file,
        format!(
            r#"
[[account]]
name = "store"
address = "0x0000000000000000000000000000000000000051"
code = "{store}"
storage = {{ "0x1" = "0x42" }}

[[contract]]
name = "relay"
runtime = "0x365f5f375f5f365f5f7300000000000000000000000000000000000000515af100"
address = "0x0000000000000000000000000000000000000053"

[[call]]
to = "store"
calldata = "0x0000000000000000000000000000000000000000000000000000000000000001"
expect = {{ return_data = "0x0000000000000000000000000000000000000000000000000000000000000042" }}

[[call]]
name = "relay writes 7 at slot 2 of store"
calldata = "0x00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000007"

[[call]]
to = "@store"
calldata = "0x0000000000000000000000000000000000000000000000000000000000000002"
expect = {{ return_data = "0x0000000000000000000000000000000000000000000000000000000000000007" }}
"#
        ),
    )
    .unwrap();
    let run = chainlift(&["diff", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("equal: every engine agrees on 3 call(s)"),
        "{}",
        run.stdout
    );
    std::fs::write(
        &file,
        "[[contract]]\nname = \"a\"\nruntime = \"0x00\"\n[[call]]\nto = \"b\"\n",
    )
    .unwrap();
    let run = chainlift(&["diff", file.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("call 1: no contract named `b` (known: a)"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_file_is_reported_once() {
    let run = chainlift(&["diff", "/nonexistent/scenario.toml"]);
    assert_eq!(run.code, 2);
    let line = run.stderr.trim();
    assert_eq!(line.matches("No such file").count(), 1, "{line}");
}

#[test]
fn the_ir_budget_follows_the_calls_gas() {
    // A loop of 13 million iterations (about 52 million IR instructions,
    // past the fixed default budget) that revm finishes within its gas: the
    // IR engine, whose budget grows with the call's gas, finishes it too.
    let run = chainlift(&[
        "diff",
        "--code",
        "0x62c65d405b600190038060045700",
        "--gas",
        "400000000",
        "--block-gas-limit",
        "1000000000",
        "--fork",
        "prague",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn recursion_of_every_depth_runs_equal_on_every_engine() {
    // Depth 1 to hundreds, in each compiler variant (legacy codegen with and
    // without the optimizer, via-IR): the lifter keeps the recursive code's
    // stack in memory and every engine agrees with revm, including the
    // stack overflow past the EVM's 1,024 words.
    let dir = std::env::temp_dir().join(format!("chainlift-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for variant in ["Recursion", "Recursion.noopt", "Recursion.viair"] {
        let mut toml = format!(
            "[contract]\nartifact = \"{}\"\n",
            path(&format!("examples/recursion/out/{variant}.json"))
        );
        // (sbf keeps the EVM stack in half of its 32 KiB heap: about 460
        // words, 100 of these frames or fewer, by variant.)
        for depth in [1, 2, 3, 7, 16, 40, 64] {
            toml += &format!(
                "[[call]]\nsig = \"descend(uint256)\"\nargs = [\"{depth}\"]\nexpect = {{ status = \"success\", returns = [\"{depth}\"] }}\n"
            );
        }
        for (m, n, want) in [(1, 5, 7), (2, 2, 7), (3, 1, 13)] {
            toml += &format!(
                "[[call]]\nsig = \"ackermann(uint256,uint256)\"\nargs = [\"{m}\", \"{n}\"]\nexpect = {{ returns = [\"{want}\"] }}\n"
            );
        }
        toml += "[[call]]\nsig = \"viaPointer(uint256,bool)\"\nargs = [\"12\", \"false\"]\nexpect = { returns = [\"364\"] }\n";
        let file = dir.join(format!("{variant}.toml"));
        std::fs::write(&file, &toml).unwrap();
        let run = chainlift(&[
            "diff",
            file.to_str().unwrap(),
            "--engines",
            "evm,ir,ir64,sbf",
        ]);
        assert_eq!(run.code, 0, "{variant}: {}{}", run.stdout, run.stderr);
        // Deeper, and past the EVM stack (a halt), on the engines without
        // sbf's heap limit.
        std::fs::write(
            &file,
            format!(
                "[contract]\nartifact = \"{}\"\n[[call]]\nsig = \"descend(uint256)\"\nargs = [\"100\"]\nexpect = {{ returns = [\"100\"] }}\n[[call]]\nsig = \"descend(uint256)\"\nargs = [\"150\"]\nexpect = {{ returns = [\"150\"] }}\n[[call]]\nsig = \"descend(uint256)\"\nargs = [\"2000\"]\nexpect = {{ status = \"halt\" }}\n",
                path(&format!("examples/recursion/out/{variant}.json"))
            ),
        )
        .unwrap();
        let run = chainlift(&["diff", file.to_str().unwrap(), "--engines", "evm,ir,ir64"]);
        assert_eq!(run.code, 0, "{variant}: {}{}", run.stdout, run.stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
