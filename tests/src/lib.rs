//! Helpers shared by the cross-crate tests in `tests/tests/`.

pub mod ops;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Every compiled fixture artefact under `examples/*/out/`, sorted.
pub fn fixture_artifacts() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let examples = root().join("examples");
    for dir in std::fs::read_dir(&examples).expect("examples/").flatten() {
        let out_dir = dir.path().join("out");
        if let Ok(entries) = std::fs::read_dir(&out_dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "json") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// The result of running the CLI in-process.
pub struct Run {
    /// Exit code.
    pub code: u8,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `chainlift ARGS…` in-process from the workspace root.
pub fn chainlift(args: &[&str]) -> Run {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("chainlift".to_string()).chain(args.iter().map(|a| a.to_string()));
    let code = chainlift_cli::run(argv, &mut out, &mut err);
    Run {
        code,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

/// A path relative to the workspace root, as a string.
pub fn path(rel: &str) -> String {
    root().join(rel).to_string_lossy().into_owned()
}

/// The runtime bytecode of a Foundry-style artefact (`deployedBytecode.object`).
pub fn artifact_runtime(path: &Path) -> Vec<u8> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("artefact")).expect("JSON");
    let hex = v["deployedBytecode"]["object"]
        .as_str()
        .expect("deployedBytecode.object")
        .trim_start_matches("0x");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Every test file of the legacytests VM corpus in `../shared/corpus`, sorted.
pub fn legacy_corpus() -> Vec<PathBuf> {
    json_files(&root().join("../shared/corpus/legacytests-vm"))
}

/// Every `.json` file under `dir`, at any depth, sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A JSON hex string (`"0x1f"`, `"0x"`) as a word; missing or empty is 0.
pub fn json_word(v: &serde_json::Value) -> alloy_primitives::U256 {
    let h = v.as_str().unwrap_or("0x0").trim_start_matches("0x");
    if h.is_empty() {
        alloy_primitives::U256::ZERO
    } else {
        alloy_primitives::U256::from_str_radix(h, 16).expect("hex word")
    }
}

/// A JSON hex string as bytes; missing is empty.
pub fn json_bytes(v: &serde_json::Value) -> Vec<u8> {
    let h = v.as_str().unwrap_or("0x").trim_start_matches("0x");
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Why a legacytests VM test cannot be checked without gas accounting or
/// call execution, given its analysed code.
pub fn legacy_skip_reason(
    a: &chainlift_frontend_evm::Analysis,
    test: &serde_json::Value,
) -> Option<&'static str> {
    let uses = |op: u8| {
        a.instructions
            .iter()
            .any(|i| i.opcode == op && i.info.is_some())
    };
    if uses(0x5a) {
        return Some("reads GAS, which depends on gas accounting");
    }
    if [0xf0, 0xf1, 0xf2, 0xf4, 0xf5, 0xfa]
        .iter()
        .any(|op| uses(*op))
        || test["callcreates"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    {
        return Some("makes calls or creates, which VM tests do not execute");
    }
    if uses(0x40) {
        return Some("reads BLOCKHASH, which VM tests define by their own rule");
    }
    None
}

/// Whether the corpus tier runs. Plain `cargo test --workspace` stays fast
/// and leaves the external corpora out; `.ci/run` sets
/// `CHAINLIFT_CORPUS=1` and runs them (rust-analyzer's slow-test switch).
pub fn corpus_tier(test: &str) -> bool {
    let on = std::env::var("CHAINLIFT_CORPUS").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("{test}: corpus tier, not run (CHAINLIFT_CORPUS=1 runs it, as .ci/run does)");
    }
    on
}

/// Bytes from hex text, which may be spaced out (opcode by opcode).
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    alloy_primitives::hex::decode(s).expect("hex text")
}

/// Runs `call` on revm and on both SBF engines (interpreter and JIT): each
/// ends in the target limit whose reason contains `limit`, or, without
/// one, agrees with revm. Returns revm's outcome.
pub fn sbf_agrees_or_stops_at(
    name: &str,
    world: &chainlift_emulator::World,
    call: &chainlift_emulator::Call,
    limit: Option<&str>,
) -> chainlift_emulator::Outcome {
    use chainlift_emulator::Engine;
    let block = chainlift_emulator::BlockEnv::default();
    let fork = chainlift_frontend_evm::Fork::Osaka;
    let oracle = chainlift_emulator::evm::EvmEngine
        .run(world, &block, call, fork)
        .expect("revm runs it");
    for e in [
        chainlift_emulator::sbf::SbfEngine::new(false),
        chainlift_emulator::sbf::SbfEngine::new(true),
    ] {
        let o = e
            .run(world, &block, call, fork)
            .expect("the engine runs it");
        match limit {
            Some(why) => {
                let chainlift_emulator::Status::TargetLimit(reason) = &o.status else {
                    panic!("{name} on {}: {:?}, not a target limit", e.name(), o.status);
                };
                assert!(reason.contains(why), "{name}: {reason}");
            }
            None => assert_eq!(oracle.difference(&o), None, "{name} on {}", e.name()),
        }
    }
    oracle
}

/// `chainlift translate --deploy SCENARIO -o SO --program-id ID`: the
/// scenario (a path from the repository's root) as one Solana program,
/// with its manifest and IDL beside `so`; checks that it succeeded.
pub fn translate_deploy(scenario: &str, so: &Path, program_id: &str) -> Run {
    let run = chainlift(&[
        "translate",
        "--deploy",
        &path(scenario),
        "-o",
        so.to_str().expect("a UTF-8 path"),
        "--program-id",
        program_id,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

/// A bundle contract's state account as a client creates it from the
/// contract's manifest entry (`contracts[i]` of a system translated with
/// `--program-id program_id`, so the `initialize` data ends in the bump
/// byte): the instruction run in the sbf engine with the account at the
/// manifest's key (no data, the system program's, holding `funded`
/// lamports someone sent it), the writable signer `payer` holding
/// `lamports`, and the system program. Returns the state account's key,
/// the instruction data and the run.
pub fn create_bundle_state(
    exe: &chainlift_emulator::sbf::Loaded,
    program_id: [u8; 32],
    (contract, funded): (&serde_json::Value, u64),
    (payer, lamports): ([u8; 32], u64),
    heap_size: usize,
) -> ([u8; 32], Vec<u8>, chainlift_emulator::sbf::Run) {
    use chainlift_emulator::sbf::{self, AccountIn, Invocation};
    let key: [u8; 32] = bs58::decode(contract["state"]["account"]["key"].as_str().expect("key"))
        .into_vec()
        .expect("base58")
        .try_into()
        .expect("32 bytes");
    let address: alloy_primitives::Address = contract["address"]
        .as_str()
        .expect("address")
        .parse()
        .expect("an address");
    assert_eq!(
        (key, contract["state"]["account"]["bump"].as_u64()),
        {
            let (k, bump) = chainlift_backend_sbf::address::state_account(&program_id, address);
            (k, Some(u64::from(bump)))
        },
        "the manifest's state account"
    );
    let data =
        alloy_primitives::hex::decode(contract["initialize"]["data"].as_str().expect("data"))
            .expect("hex");
    let run = sbf::execute(
        exe,
        false,
        &Invocation {
            program_id,
            accounts: &[
                AccountIn::other(key, [0; 32], funded),
                AccountIn::payer(payer, lamports),
                AccountIn::system_program(),
            ],
            data: &data,
            clock: (0, 0),
            heap_size,
        },
    );
    (key, data, run)
}
