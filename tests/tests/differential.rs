//! The external EVM suites through every engine, as `chainlift test` runs
//! them: legacytests VM tests (revm checked against each file's own
//! storage, output and halts) and the pure ethereum/tests state-test
//! folders (revm checked against each file's state root and logs hash),
//! with the IR engine required to agree with revm on every case it can
//! reproduce, and the SBF engines (the contract translated to a Solana
//! program, interpreted and JIT-compiled) required to agree as well.
//! Skips are counted by reason, never as passes.

use chainlift_emulator::Engine;
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::ir::IrEngine;
use chainlift_emulator::sbf::SbfEngine;
use chainlift_emulator::suite::{self, CaseResult, Verdict};
use std::collections::BTreeMap;

/// The state-test folders whose transactions run code that never calls or
/// creates (../shared/corpus/SOURCES.md).
const PURE_STATE_FOLDERS: &[&str] = &[
    "stShift",
    "stMemoryTest",
    "stExample",
    "stRandom",
    "stSLoadTest",
    "stChainId",
    "stCodeCopyTest",
];

fn report(what: &str, results: &[CaseResult]) -> (usize, usize) {
    let (mut passed, mut failed) = (0, vec![]);
    let mut skipped = BTreeMap::<&str, usize>::new();
    for r in results {
        match &r.verdict {
            Verdict::Pass => passed += 1,
            Verdict::Fail(why) => failed.push(format!("{}: {why}", r.name)),
            Verdict::Skip(why) => *skipped.entry(why).or_default() += 1,
        }
    }
    for (why, n) in &skipped {
        eprintln!("  {what}: skipped {n}: {why}");
    }
    for f in &failed {
        eprintln!("  {what}: FAILED {f}");
    }
    let total: usize = skipped.values().sum();
    eprintln!(
        "{what}: {passed} passed, {} failed, {total} skipped",
        failed.len()
    );
    assert!(failed.is_empty(), "{what}: {} cases failed", failed.len());
    (passed, total)
}

/// Every legacytests VM case through `engines` (revm first).
fn legacy_vm(engines: &[&dyn Engine]) -> Vec<CaseResult> {
    chainlift_tests::legacy_corpus()
        .iter()
        .flat_map(|p| suite::run_vm_file(p, engines))
        .collect()
}

/// Every case of the pure state-test folders through `engines` (revm first).
fn pure_state(engines: &[&dyn Engine]) -> Vec<CaseResult> {
    let root = chainlift_tests::root().join("../shared/corpus/state-tests");
    PURE_STATE_FOLDERS
        .iter()
        .flat_map(|f| chainlift_tests::json_files(&root.join(f)))
        .flat_map(|p| suite::run_state_file(&p, engines))
        .collect()
}

#[test]
fn legacytests_vm_agree_across_evm_ir_and_ir64() {
    if !chainlift_tests::corpus_tier("legacytests_vm_agree_across_evm_ir_and_ir64") {
        return;
    }
    // ir64: the same IR legalized to 64-bit limbs.
    let (evm, ir, ir64) = (EvmEngine, IrEngine::default(), IrEngine::legalized());
    let engines: [&dyn Engine; 3] = [&evm, &ir, &ir64];
    let results = legacy_vm(&engines);
    let (passed, _) = report("legacytests VM", &results);
    // A floor, so that a change which quietly skips everything fails.
    assert!(passed >= 550, "only {passed} passed");
}

#[test]
fn pure_state_tests_agree_across_evm_ir_and_ir64() {
    if !chainlift_tests::corpus_tier("pure_state_tests_agree_across_evm_ir_and_ir64") {
        return;
    }
    let (evm, ir, ir64) = (EvmEngine, IrEngine::default(), IrEngine::legalized());
    let engines: [&dyn Engine; 3] = [&evm, &ir, &ir64];
    let results = pure_state(&engines);
    let (passed, _) = report("state tests", &results);
    assert!(passed >= 600, "only {passed} passed");
}

#[test]
fn legacytests_vm_agree_on_sbf_interpreted_and_jit() {
    if !chainlift_tests::corpus_tier("legacytests_vm_agree_on_sbf_interpreted_and_jit") {
        return;
    }
    let (evm, sbf, jit) = (EvmEngine, SbfEngine::new(false), SbfEngine::new(true));
    let engines: [&dyn Engine; 3] = [&evm, &sbf, &jit];
    let results = legacy_vm(&engines);
    let (passed, _) = report("legacytests VM on sbf", &results);
    assert!(passed >= 540, "only {passed} passed");
}

#[test]
fn pure_state_tests_agree_on_sbf() {
    if !chainlift_tests::corpus_tier("pure_state_tests_agree_on_sbf") {
        return;
    }
    let (evm, sbf) = (EvmEngine, SbfEngine::new(false));
    let engines: [&dyn Engine; 2] = [&evm, &sbf];
    let results = pure_state(&engines);
    let (passed, _) = report("state tests on sbf", &results);
    assert!(passed >= 215, "only {passed} passed");
}

#[test]
fn the_state_root_of_an_empty_world_is_the_empty_trie() {
    assert_eq!(
        suite::state_root(&Default::default()).to_string(),
        "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
    );
    assert_eq!(
        suite::logs_hash(&[]).to_string(),
        "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"
    );
}
