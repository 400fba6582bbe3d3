//! WASM contracts end to end: the Stylus scenarios (the AssemblyScript
//! ERC-20 and our own Rust contracts) on every engine that runs WASM
//! originals, every EVM scenario after the EVM → WASM → IR round trip, the
//! WebAssembly spec scripts on wasmtime and the IR, and the CLI on WASM
//! input.

use chainlift_tests::{chainlift, path};

fn tomls(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(path(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn stylus_scenarios_agree_and_meet_their_expectations() {
    let scenarios = tomls("examples/stylus");
    assert!(scenarios.len() >= 2, "{scenarios:?}");
    for s in scenarios {
        let r = chainlift(&["diff", &s, "--engines", "wasm,ir,ir64,native"]);
        assert_eq!(r.code, 0, "{s}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("equal: every engine agrees"),
            "{s}: {}",
            r.stdout
        );
    }
}

#[test]
fn every_evm_scenario_agrees_after_a_round_trip_through_wasm() {
    for s in tomls("examples/scenarios") {
        let r = chainlift(&["diff", &s, "--engines", "evm,ir-wasm"]);
        assert_eq!(r.code, 0, "{s}: {}{}", r.stdout, r.stderr);
    }
}

#[test]
fn revm_refuses_a_wasm_contract_by_name() {
    let r = chainlift(&[
        "diff",
        &path("examples/stylus/ledger.toml"),
        "--engines",
        "evm,wasm",
    ]);
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("holds a WASM (Stylus) contract"),
        "{}",
        r.stdout
    );
}

/// `N passed, M failed, K skipped` from a summary line.
fn counts(stdout: &str) -> (usize, usize, usize) {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.contains(" passed, "))
        .expect("a summary line");
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    (n[0], n[1], n[2])
}

#[test]
fn the_spec_scripts_pass_on_wasmtime_and_the_ir() {
    let junit = std::env::temp_dir().join("chainlift-wast.junit.xml");
    let r = chainlift(&[
        "test",
        &path("../shared/corpus/wasm-spec"),
        "--engines",
        "ir",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let (passed, failed, skipped) = counts(&r.stdout);
    assert_eq!(failed, 0);
    assert!(passed > 7000, "{}", r.stdout);
    // Every skip names a reason outside the integer subset or linking.
    for line in r.stdout.lines().filter(|l| l.starts_with("skipped ")) {
        assert!(
            ["float", "f32", "f64", "another module", "reference"]
                .iter()
                .any(|w| line.contains(w)),
            "{line}"
        );
    }
    assert!(skipped < 300, "{}", r.stdout);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("classname=\"wast\""), "{}", &xml[..400]);
}

#[test]
fn cli_reads_wasm_binary_and_text() {
    let erc20 = path("../shared/corpus/stylus/erc20.wat");
    let r = chainlift(&["disasm", &erc20]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("import vm_hooks.read_args (i32) -> ()"));
    assert!(
        r.stdout.contains("(export user_entrypoint)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("i32.const value:"),
        "{}",
        &r.stdout[..600]
    );

    let ledger = path("examples/stylus/ledger.wasm");
    let r = chainlift(&["inspect", &ledger, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["profile"], "stylus");
    assert_eq!(v["lift"]["profile"], "stylus");
    assert_eq!(v["lift"]["unsupported"], serde_json::json!([]));
    assert_eq!(v["stylus_violations"], serde_json::json!([]));

    let r = chainlift(&["lift", &ledger]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("function %entry()"),
        "{}",
        &r.stdout[..200]
    );
    assert!(
        r.stdout.contains("host.sload"),
        "a hook maps to its host operation"
    );

    let r = chainlift(&[
        "run",
        &ledger,
        "--abi",
        &path("examples/stylus/ledger.abi.json"),
        "--sig",
        "sumOfSquares(uint256)",
        "10",
        "--engine",
        "ir",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("success (385)"), "{}", r.stdout);
}

#[test]
fn a_generic_module_lifts_with_an_init_function() {
    let dir = std::env::temp_dir().join("chainlift-generic-wat");
    std::fs::create_dir_all(&dir).unwrap();
    let wat = dir.join("add.wat");
    std::fs::write(
        &wat,
        "(module (func (export \"add\") (param i32 i32) (result i32) \
         (i32.add (local.get 0) (local.get 1))))",
    )
    .unwrap();
    let r = chainlift(&["lift", wat.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("function %init()"), "{}", r.stdout);
    assert!(
        r.stdout.contains("function %add(i32, i32) -> i32"),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_wasm_is_a_clear_error_never_a_panic() {
    let dir = std::env::temp_dir().join("chainlift-bad-wasm");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.wasm");
    std::fs::write(&bad, b"\0asm\x01\0\0\0\x05\xff").unwrap();
    for cmd in ["lift", "inspect", "disasm"] {
        let r = chainlift(&[cmd, bad.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{cmd}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("0xa"), "{cmd}: {}", r.stderr);
    }
}

/// The Stylus profile implements every hook backend-wasm imports, with the
/// same signature (the round trip depends on it).
#[test]
fn the_stylus_profile_covers_every_hook_the_backend_writes() {
    use chainlift_backend_wasm::abi::Hook;
    use chainlift_frontend_wasm::stylus::hook_sig;
    for h in Hook::ALL {
        let sig = hook_sig(h.module(), h.name())
            .unwrap_or_else(|| panic!("{}.{} has no lift", h.module(), h.name()));
        let (params, results) = h.signature();
        let same = |a: &[wasmparser::ValType], b: &[wasm_encoder::ValType]| {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    matches!(
                        (x, y),
                        (wasmparser::ValType::I32, wasm_encoder::ValType::I32)
                            | (wasmparser::ValType::I64, wasm_encoder::ValType::I64)
                    )
                })
        };
        assert!(
            same(&sig.params, params) && same(&sig.results, results),
            "{}.{}",
            h.module(),
            h.name()
        );
    }
}
