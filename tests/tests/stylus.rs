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
fn stylus_contracts_run_as_solana_programs() {
    // The ERC-20 alone: every call agrees as a Solana program too.
    let r = chainlift(&[
        "diff",
        &path("examples/stylus/erc20.toml"),
        "--engines",
        "wasm,ir,sbf,sbf-jit",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // The ledger's own calls agree; the forwarder's calls into it are the
    // named target limit of calls between programs (exit 4).
    let r = chainlift(&[
        "diff",
        &path("examples/stylus/ledger.toml"),
        "--engines",
        "wasm,sbf",
    ]);
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("sbf could not run 4 of 16 call(s); first: call 9")
            && r.stdout.contains("no cross-program mapping"),
        "{}",
        r.stdout
    );
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
fn a_stylus_contract_translates_to_every_target() {
    let dir = std::env::temp_dir().join("chainlift-stylus-translate");
    std::fs::create_dir_all(&dir).unwrap();
    let erc20 = path("../shared/corpus/stylus/erc20.wasm");
    let so = dir.join("erc20.so");
    let r = chainlift(&[
        "translate",
        &erc20,
        "--target",
        "sbf",
        "-o",
        so.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("SBPF v3"), "{}", r.stdout);
    let wasm = dir.join("erc20.wasm");
    let r = chainlift(&[
        "translate",
        &erc20,
        "--target",
        "wasm",
        "-o",
        wasm.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = chainlift(&["translate", &erc20, "--target", "native"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("57 functions"), "{}", r.stdout);
    // A module with no contract entry is not a contract.
    let generic = dir.join("add.wat");
    std::fs::write(&generic, "(module (func (export \"f\")))").unwrap();
    let r = chainlift(&[
        "translate",
        generic.to_str().unwrap(),
        "--target",
        "sbf",
        "-o",
        so.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("exports `user_entrypoint`"),
        "{}",
        r.stderr
    );
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
    let r = chainlift(&["cfg", wat.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["functions"][1]["function"], "add");
    assert_eq!(v["functions"][1]["blocks"][0]["terminator"], "return");

    // A CosmWasm contract lifts in the generic profile, and says so.
    let cw = dir.join("cw.wat");
    std::fs::write(
        &cw,
        "(module (import \"env\" \"db_read\" (func (param i32) (result i32))) \
         (memory (export \"memory\") 1) (func (export \"interface_version_8\")) \
         (func (export \"allocate\") (param i32) (result i32) (local.get 0)) \
         (func (export \"instantiate\") (param i32 i32 i32) (result i32) (call 0 (local.get 0))))",
    )
    .unwrap();
    let r = chainlift(&["lift", cw.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("; a cosmwasm contract: its host profile is not supported yet"),
        "{}",
        r.stdout
    );
    let r = chainlift(&["inspect", cw.to_str().unwrap()]);
    assert!(r.stdout.contains("profile     cosmwasm"), "{}", r.stdout);
    assert!(r.stdout.contains("env.db_read"), "{}", r.stdout);
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

/// A Stylus contract (WASM text) that applies every integer operation the
/// frontend lifts to two i64 and two i32 operands from calldata and
/// returns the results: wasmtime, the IR, native code and the Solana
/// program must agree on any operands.
const OPS: &str = r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "write_result" (func $write_result (param i32 i32)))
  (memory (export "memory") 1)
  (func $r64 (param $i i32) (param $v i64)
    (i64.store (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 3))) (local.get $v)))
  (func $r32 (param $i i32) (param $v i32)
    (call $r64 (local.get $i) (i64.extend_i32_u (local.get $v))))
  (func (export "user_entrypoint") (param $len i32) (result i32)
    (local $a i64) (local $b i64) (local $x i32) (local $y i32)
    (call $read_args (i32.const 0))
    (local.set $a (i64.load (i32.const 0)))
    (local.set $b (i64.load (i32.const 8)))
    (local.set $x (i32.load (i32.const 16)))
    (local.set $y (i32.load (i32.const 20)))
    (call $r64 (i32.const 0) (i64.rotl (local.get $a) (local.get $b)))
    (call $r64 (i32.const 1) (i64.rotr (local.get $a) (local.get $b)))
    (call $r32 (i32.const 2) (i32.rotl (local.get $x) (local.get $y)))
    (call $r32 (i32.const 3) (i32.rotr (local.get $x) (local.get $y)))
    (call $r64 (i32.const 4) (i64.clz (local.get $a)))
    (call $r32 (i32.const 5) (i32.clz (local.get $x)))
    (call $r64 (i32.const 6) (i64.ctz (local.get $b)))
    (call $r32 (i32.const 7) (i32.popcnt (local.get $y)))
    (call $r64 (i32.const 8) (i64.popcnt (local.get $a)))
    (if (i64.ne (local.get $b) (i64.const 0)) (then
      (if (i32.eqz (i32.and (i64.eq (local.get $a) (i64.const 0x8000000000000000))
                            (i64.eq (local.get $b) (i64.const -1)))) (then
        (call $r64 (i32.const 9) (i64.div_s (local.get $a) (local.get $b)))))
      (call $r64 (i32.const 10) (i64.rem_s (local.get $a) (local.get $b)))
      (call $r64 (i32.const 11) (i64.div_u (local.get $a) (local.get $b)))))
    (if (i32.ne (local.get $y) (i32.const 0)) (then
      (if (i32.eqz (i32.and (i32.eq (local.get $x) (i32.const 0x80000000))
                            (i32.eq (local.get $y) (i32.const -1)))) (then
        (call $r32 (i32.const 12) (i32.div_s (local.get $x) (local.get $y)))))
      (call $r32 (i32.const 13) (i32.rem_s (local.get $x) (local.get $y)))))
    (call $r64 (i32.const 14) (i64.shr_s (local.get $a) (local.get $b)))
    (call $r32 (i32.const 15) (i32.shr_u (local.get $x) (local.get $y)))
    (call $r32 (i32.const 16) (i32.extend16_s (local.get $x)))
    (call $r64 (i32.const 17) (i64.extend32_s (local.get $a)))
    (call $r64 (i32.const 18) (i64.mul (local.get $a) (local.get $b)))
    (call $r32 (i32.const 19) (i32.lt_s (local.get $x) (local.get $y)))
    (call $write_result (i32.const 256) (i32.const 160))
    (i32.const 0)))"#;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    #[test]
    fn integer_operations_agree_on_wasmtime_the_ir_native_code_and_solana(
        a in proptest::prop_oneof![proptest::prelude::any::<u64>(), 0u64..70, proptest::strategy::Just(1u64 << 63)],
        b in proptest::prop_oneof![proptest::prelude::any::<u64>(), 0u64..70, proptest::strategy::Just(u64::MAX)],
        x in proptest::prop_oneof![proptest::prelude::any::<u32>(), 0u32..40, proptest::strategy::Just(1u32 << 31)],
        y in proptest::prop_oneof![proptest::prelude::any::<u32>(), 0u32..40, proptest::strategy::Just(u32::MAX)],
    ) {
        let code = chainlift_frontend_wasm::read(OPS.as_bytes()).unwrap();
        let mut data = a.to_le_bytes().to_vec();
        data.extend_from_slice(&b.to_le_bytes());
        data.extend_from_slice(&x.to_le_bytes());
        data.extend_from_slice(&y.to_le_bytes());
        let want = chainlift_tests::ops::run(
            chainlift_cli_engine("wasm").as_ref(), code.clone(), data.clone());
        for name in ["ir", "native", "sbf"] {
            let got = chainlift_tests::ops::run(
                chainlift_cli_engine(name).as_ref(), code.clone(), data.clone());
            proptest::prop_assert_eq!(&got, &want, "{}", name);
        }
    }
}

fn chainlift_cli_engine(name: &str) -> Box<dyn chainlift_emulator::Engine> {
    chainlift_emulator::registry::ENGINES
        .iter()
        .find(|e| e.name == name)
        .expect("an engine")
        .build()
}

#[test]
fn bench_takes_wasmtime_as_the_baseline_of_a_wasm_contract() {
    let r = chainlift(&[
        "bench",
        &path("examples/stylus/erc20.toml"),
        "--engines",
        "wasm,ir",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let f = &v["fixtures"][0];
    assert_eq!(f["baseline"], "wasm");
    assert!(f["engines"].get("evm").is_none(), "{f}");
    assert_eq!(f["engines"]["wasm"]["ratio_vs_evm"], 1.0);
    assert_eq!(f["engines"]["ir"]["equal"], true);
    let r = chainlift(&[
        "bench",
        &path("examples/stylus/erc20.toml"),
        "--engines",
        "ir",
    ]);
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("name it in --engines"), "{}", r.stdout);
}
