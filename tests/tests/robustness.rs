//! Hostile input: random and mutated bytes never panic or hang any analysis,
//! and adversarial code ends within the work budget with its unresolved
//! jumps reported. Case counts follow `PROPTEST_CASES` (256 by default; the
//! closing notes give the long runs).

use chainlift_frontend_evm::{Fork, Options, analyze};
use chainlift_tests::{chainlift, fixture_artifacts};
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;

fn fixtures() -> &'static Vec<Vec<u8>> {
    static CODES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CODES.get_or_init(|| {
        fixture_artifacts()
            .iter()
            .map(|p| chainlift_tests::artifact_runtime(p))
            .collect()
    })
}

/// Every stage, with every fork's rules, on `code`; checks the invariants a
/// consumer relies on.
fn check_all(code: &[u8]) {
    for fork in [Fork::Constantinople, Fork::Osaka, Fork::Amsterdam] {
        let a = analyze(
            code,
            &Options {
                fork,
                ..Options::default()
            },
        )
        .unwrap();
        assert!(a.code_end <= code.len());
        let mut pc = 0;
        for ins in &a.instructions {
            assert_eq!(ins.pc as usize, pc);
            pc = ins.next_pc() as usize;
        }
        for e in &a.cfg.edges {
            assert!(e.from < a.cfg.blocks.len() && e.to < a.cfg.blocks.len());
        }
        for s in &a.dispatch.selectors {
            assert!((s.entry_pc as usize) <= code.len());
        }
    }
}

/// Bytes biased towards the instructions that stress the analyses.
fn evmish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        (0u16..2048).prop_map(|t| vec![0x61, (t >> 8) as u8, t as u8, 0x56]),
        (0u16..2048).prop_map(|t| vec![0x61, (t >> 8) as u8, t as u8, 0x57]),
        Just(vec![0x5b]),
        Just(vec![0x5f, 0x35, 0x60, 0xe0, 0x1c]),
        any::<u32>().prop_map(|s| vec![
            0x80,
            0x63,
            (s >> 24) as u8,
            (s >> 16) as u8,
            (s >> 8) as u8,
            s as u8,
            0x14,
            0x61,
            0,
            8,
            0x57
        ]),
        (1u8..=16).prop_map(|n| vec![0x7f + n]),
        (1u8..=16).prop_map(|n| vec![0x8f + n]),
        Just(vec![0x36, 0x15, 0x35, 0x56]),
    ];
    prop::collection::vec(piece, 0..600).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn random_bytes_never_panic(code in prop::collection::vec(any::<u8>(), 0..4096)) {
        check_all(&code);
    }

    #[test]
    fn evm_like_bytes_never_panic(code in evmish()) {
        check_all(&code);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..16),
    ) {
        let mut code = which.get(fixtures()).clone();
        for (at, byte, kind) in edits {
            if code.is_empty() { break; }
            let i = at.index(code.len());
            match kind {
                0 => code[i] = byte,
                1 => code.insert(i, byte),
                2 => { code.remove(i); }
                _ => code.truncate(i),
            }
        }
        check_all(&code);
    }

    #[test]
    fn cli_input_parsing_never_panics(text in "[0-9a-fA-Fx_ \\n{}\":\\[\\]]{0,64}") {
        for cmd in ["disasm", "inspect"] {
            let run = chainlift(&[cmd, "--code", &text]);
            prop_assert!(run.code == 0 || run.code == 2, "exit {} for {:?}", run.code, text);
        }
    }
}

/// 24 KiB of computed jumps: every jump target comes from calldata, so none
/// can be resolved; the analysis must finish and list them.
#[test]
fn adversarial_computed_jumps_finish_with_unresolved_jumps_listed() {
    let mut code = Vec::new();
    let mut i = 0u16;
    while code.len() < 24 * 1024 - 8 {
        // JUMPDEST; PUSH2 i; CALLDATALOAD; JUMPI-on-calldata to a computed target.
        code.extend_from_slice(&[0x5b, 0x61, (i >> 8) as u8, i as u8, 0x35, 0x80, 0x57]);
        i = i.wrapping_add(32);
    }
    let a = analyze(&code, &Options::default()).unwrap();
    assert!(a.cfg.unresolved.len() > 3000, "{}", a.cfg.unresolved.len());
    assert!(a.cfg.blocks.len() > 3000);
}

/// 24 KiB of jumps whose targets are sets of constants that grow at every
/// merge, plus a dispatcher whose selector comparisons fork at every step:
/// both analyses stop within their budgets.
#[test]
fn adversarial_state_explosion_stays_within_budget() {
    let mut code = vec![0x5f, 0x35, 0x60, 0xe0, 0x1c]; // selector
    let blocks = 24 * 1024 / 16;
    for k in 0..blocks as u32 {
        let next = (code.len() + 15) as u16;
        // DUP1 PUSH4 k GT PUSH2 next JUMPI; JUMPDEST-chained binary search that never ends.
        code.extend_from_slice(&[0x80, 0x63]);
        code.extend_from_slice(&k.wrapping_mul(2654435761).to_be_bytes());
        code.extend_from_slice(&[
            0x11,
            0x61,
            (next >> 8) as u8,
            next as u8,
            0x57,
            0x5f,
            0x35,
            0x01,
            0x5b,
            0x5b,
        ]);
    }
    let options = Options::default();
    let a = analyze(&code, &options).unwrap();
    assert!(a.cfg.steps <= options.cfg.budget + 1024);
    assert!(a.dispatch.paths <= options.dispatch.max_paths);
}

#[test]
fn truncated_push_and_undefined_bytes_are_shown_not_errors() {
    let run = chainlift(&["disasm", "--code", "0x0c61ab"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        "0000 UNKNOWN_0x0c\n0001 PUSH2 0xab ; truncated: 1 of 2 bytes present\n"
    );
    let run = chainlift(&["disasm", "--json", "--code", "0x0c61ab"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["instructions"][1]["truncated"], true);
    assert_eq!(v["instructions"][1]["immediate"], "0xab");
    assert_eq!(v["instructions"][0]["immediate"], Value::Null);
}
