//! The Solana SBF backend end to end: every 256-bit operation against revm
//! on random operands, the ERC20 scenario across evm, ir, sbf and sbf-jit,
//! `chainlift translate`, and clear errors for what has no mapping.

use alloy_primitives::{Address, U256};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::sbf::SbfEngine;
use chainlift_emulator::{Account, BlockEnv, Engine};
use chainlift_frontend_evm::Fork;
use chainlift_tests::ops::{
    OPS, constant, mutated_call, one_contract, program, program_const, run, word,
};
use chainlift_tests::{chainlift, hex, path, sbf_agrees_or_stops_at as agrees_or_stops_at};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_256_bit_operation_matches_revm(a in word(), b in word(), c in word()) {
        let (evm, sbf) = (EvmEngine, SbfEngine::new(false));
        for op in OPS {
            // Shift and BYTE amounts past the width matter less than in range.
            let a = if matches!(op, 0x1a..=0x1d | 0x0b) { a % U256::from(300) } else { a };
            let data = [a, b, c].iter().flat_map(|v| v.to_be_bytes::<32>()).collect::<Vec<u8>>();
            let code = program(op);
            prop_assert_eq!(
                run(&sbf, code.clone(), data.clone()),
                run(&evm, code, data),
                "opcode {:#04x} on {:#x}, {:#x}, {:#x}", op, a, b, c
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn operations_with_a_constant_operand_match_revm(x in word(), k in constant(), left: bool) {
        let (evm, sbf) = (EvmEngine, SbfEngine::new(false));
        // ADD SUB AND OR XOR
        for op in [0x01, 0x03, 0x16, 0x17, 0x18] {
            let code = program_const(op, k, left);
            let data = x.to_be_bytes::<32>().to_vec();
            prop_assert_eq!(
                run(&sbf, code.clone(), data.clone()),
                run(&evm, code, data),
                "opcode {:#04x} on {:#x} and the constant {:#x} (left: {})", op, x, k, left
            );
        }
    }

    #[test]
    fn operations_on_masked_values_match_revm(
        x in word(),
        y in word(),
        wx in prop::sample::select(vec![1usize, 8, 63, 64, 65, 128, 160, 191, 192, 200, 255, 256]),
        wy in prop::sample::select(vec![1usize, 8, 63, 64, 65, 128, 160, 191, 192, 200, 255, 256]),
    ) {
        // The lowering bounds each value's bits (a mask bounds what it
        // masks) and skips limbs known to be zero: `(y & my) OP (x & mx)`.
        let (evm, sbf) = (EvmEngine, SbfEngine::new(false));
        let mask = |w: usize| (U256::ONE << w).wrapping_sub(U256::ONE);
        let push = |k: U256| {
            let mut c = vec![0x7f];
            c.extend_from_slice(&k.to_be_bytes::<32>());
            c
        };
        // ADD MUL SUB LT GT SLT SGT EQ AND OR XOR
        for op in [0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x13, 0x14, 0x16, 0x17, 0x18] {
            let mut code = push(mask(wy));
            code.extend_from_slice(&[0x60, 0x20, 0x35, 0x16]);
            code.extend(push(mask(wx)));
            code.extend_from_slice(&[0x5f, 0x35, 0x16, op, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]);
            let data = [x, y].iter().flat_map(|v| v.to_be_bytes::<32>()).collect::<Vec<u8>>();
            prop_assert_eq!(
                run(&sbf, code.clone(), data.clone()),
                run(&evm, code, data),
                "opcode {:#04x} on {:#x} masked to {} bits and {:#x} to {}", op, x, wx, y, wy
            );
        }
    }

    #[test]
    fn logs_of_any_length_match_revm(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        k in prop::sample::select(vec![0u8, 1, 8, 31, 32, 64, 200, 255]),
        topics in 0u8..=4,
    ) {
        // CALLDATACOPY(0, 0, CALLDATASIZE), then LOGn over the calldata's
        // length (not known at translation) and over a constant length k.
        let (evm, sbf) = (EvmEngine, SbfEngine::new(false));
        let mut code = vec![0x36, 0x5f, 0x5f, 0x37];
        for len in [vec![0x36], vec![0x60, k]] {
            for t in 0..topics {
                code.extend_from_slice(&[0x60, 0xa0 + t, 0x35]);
            }
            code.extend(len);
            code.extend_from_slice(&[0x5f, 0xa0 + topics]);
        }
        code.push(0x00);
        let logs = |engine: &dyn Engine| {
            let (world, call) = one_contract(code.clone(), data.clone());
            engine.run(&world, &BlockEnv::default(), &call, Fork::Osaka).unwrap().logs
        };
        let expected = logs(&evm);
        prop_assert_eq!(expected.len(), 2);
        prop_assert_eq!(logs(&sbf), expected);
    }

    #[test]
    fn calldataload_at_constant_offsets_matches_revm(
        data in proptest::collection::vec(any::<u8>(), 0..100),
        at in 0u8..90,
    ) {
        let (evm, sbf) = (EvmEngine, SbfEngine::new(false));
        // PUSH1 at CALLDATALOAD PUSH1 0x40 MSTORE PUSH1 0x40 MLOAD PUSH0
        // MSTORE PUSH1 32 PUSH0 RETURN: constant-offset memory both ways.
        let code = vec![
            0x60, at, 0x35, 0x60, 0x40, 0x52, 0x60, 0x40, 0x51, 0x5f, 0x52, 0x60, 0x20, 0x5f,
            0xf3,
        ];
        prop_assert_eq!(run(&sbf, code.clone(), data.clone()), run(&evm, code, data));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Differential fuzzing of the whole pipeline: fixtures with a few
    /// bytes changed, called with one of their selectors (as the dispatch
    /// analysis finds them) with random arguments and ether, must end alike
    /// in revm and as Solana programs: same status, return data, storage,
    /// balances and logs. What
    /// the mapping cannot express, or what runs past the compute budget or
    /// the heap, is no comparison.
    #[test]
    fn mutated_contracts_behave_alike_in_revm_and_on_sbf(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        pick in any::<prop::sample::Index>(),
        args in proptest::collection::vec(any::<u8>(), 0..96),
        value in prop_oneof![Just(0u64), 1u64..2_000_000_000],
        balance in prop_oneof![Just(0u64), 1u64..2_000_000_000],
    ) {
        let (code, data) = mutated_call(which, edits, pick, args);
        // Code the lifter gives up on (its bounds) is not the backend's.
        if chainlift_emulator::ir::IrEngine::default().module(&code, Fork::Osaka).is_err() {
            return Ok(());
        }
        // Ether in and in the contract, in gwei (whole lamports).
        let gwei = |n: u64| U256::from(n) * U256::from(1_000_000_000u64);
        let (mut world, mut call) = one_contract(code, data);
        call.value = gwei(value);
        world.accounts.get_mut(&call.to).unwrap().balance = gwei(balance);
        let block = BlockEnv::default();
        let evm = EvmEngine.run(&world, &block, &call, Fork::Osaka).unwrap();
        match SbfEngine::new(false).run(&world, &block, &call, Fork::Osaka) {
            Ok(sbf) if sbf.status.kind() != "target-limit" => {
                prop_assert_eq!(evm.difference(&sbf), None);
            }
            Ok(_) | Err(chainlift_emulator::EngineError::Unsupported { .. }) => {}
            Err(e) => prop_assert!(false, "sbf failed: {}", e),
        }
    }
}

/// Divisions whose quotient digit estimate is one too large, so Knuth's
/// algorithm D must add the divisor back (rare on random operands: found
/// by simulating the algorithm on 32-bit digits).
#[test]
fn divisions_that_need_knuths_add_back_step_match_revm() {
    let n = |s: &str| U256::from_str_radix(s, 16).unwrap();
    let (evm, sbf) = (EvmEngine, SbfEngine::new(false));
    let check = |op: u8, a: U256, b: U256, c: U256| {
        let data = [a, b, c]
            .iter()
            .flat_map(|v| v.to_be_bytes::<32>())
            .collect::<Vec<u8>>();
        assert_eq!(
            run(&sbf, program(op), data.clone()),
            run(&evm, program(op), data),
            "opcode {op:#04x} on {a:#x}, {b:#x}, {c:#x}"
        );
    };
    for (u, v) in [
        (
            "80000000000000004b8ffea7ffffffff00000001485d531f4155bf597fffffff",
            "80000000000000007fffffff800000017fffffff8000000080000000",
        ),
        (
            "ffffffffffffffffe8be3dec7fffffff69a6a8937fffffff4d380843",
            "10000000100000001800000007fffffffe54aed6e7fffffff",
        ),
        (
            "ffffffff0000000180000000800000007fffffff00000000",
            "ffffffff00000001800000017fffffffffffffff80000000",
        ),
        (
            "7fffffffffffffff8000000000000001000000017fffffff",
            "80000000800000008000000023ac7cbf",
        ),
        (
            "5cf95f3a00000000000000007fffffff000000000000000000000000",
            "1000000000000000180000000",
        ),
        (
            "7fffffff7fffffff000000017fffffff8000000000000000",
            "80000000800000007fffffff",
        ),
    ] {
        // DIV MOD SDIV SMOD
        for op in [0x04, 0x06, 0x05, 0x07] {
            check(op, n(u), n(v), U256::ZERO);
        }
    }
    for (x, y, m) in [
        (
            "ffffffffffffffffffffffffffffffff00000001800000000000000080000000",
            "80000000800000010b9c17693b0c45a78000000000000000ffffffff80000001",
            "80000000800000018e2db452",
        ),
        (
            "80000000800000018ee713a5000000018c62b4fc7fffffff00000000ffffffff",
            "80000001ffffffff80000001e439815cffffffffffffffff6cb5c898c5603ce1",
            "80000000800000017fffffff000000000000000180000000",
        ),
        (
            "80000000ffffffff8aa37633ffffffff7fffffff00000001",
            "17fffffff7fffffff7fffffff0000000180000001ffffffff80000001",
            "ffffffff00000000ffffffff7fffffff800000018dc2dbd1000000006e476021",
        ),
        (
            "80000001000000017fffffff8000000080000001000000007fffffffffffffff",
            "800000017fffffff00000000000000017fffffff800000007fffffff80000000",
            "8000000100000000ffffffffffffffff54263562ffffffff7fffffff",
        ),
    ] {
        check(0x09, n(x), n(y), n(m)); // MULMOD
    }
}

#[test]
fn every_scenario_agrees_across_evm_ir_sbf_and_the_jit() {
    // The registry and the vault take ether and pay it out; the voucher
    // checks signatures (ecrecover), hashes with sha256 and asks for code
    // sizes; the ERC-4626 vault calls the token on every deposit and
    // withdrawal, inside one bundle.
    for (name, n) in [
        ("token", 17),
        ("registry", 14),
        ("vault", 10),
        ("voucher", 18),
        ("erc4626", 21),
    ] {
        let run = chainlift(&[
            "diff",
            &path(&format!("examples/scenarios/{name}.toml")),
            "--engines",
            "evm,ir,sbf,sbf-jit",
            "--json",
        ]);
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(v["equal"], true, "{name}");
        let calls = v["calls"].as_array().unwrap();
        assert_eq!(calls.len(), n, "{name}");
        for c in calls {
            let sbf = &c["engines"]["sbf"];
            assert_eq!(sbf["cost"]["unit"], "CU");
            assert_eq!(
                sbf["cost"], c["engines"]["sbf-jit"]["cost"],
                "{name}: JIT and interpreter meter alike"
            );
        }
    }
}

#[test]
fn translate_writes_an_elf_and_a_listing_with_source_pcs() {
    let dir = std::env::temp_dir().join(format!("chainlift-sbf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let so = dir.join("token.so");
    let run = chainlift(&[
        "translate",
        &path("examples/token/out/Token.json"),
        "--target",
        "sbf",
        "-o",
        so.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("SBPF v3"), "{}", run.stdout);
    let elf = std::fs::read(&so).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(
        u32::from_le_bytes(elf[48..52].try_into().unwrap()),
        3,
        "e_flags"
    );
    chainlift_emulator::sbf::load(&elf).expect("the loader and both verifiers accept it");
    let asm = chainlift(&[
        "translate",
        &path("examples/token/out/Token.json"),
        "--emit",
        "asm",
    ]);
    assert_eq!(asm.code, 0, "{}", asm.stderr);
    assert!(asm.stdout.contains("; @0x0 "), "pcs as comments");
    assert!(asm.stdout.contains("syscall sol_keccak256"));
    // The contract a scenario deploys: its constructor's storage goes into
    // the program's read-only data, for the state account's first
    // instruction.
    let so = dir.join("deployed.so");
    let run = chainlift(&[
        "translate",
        "--deploy",
        &path("examples/scenarios/token.toml"),
        "-o",
        so.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let deployed = std::fs::read(&so).unwrap();
    assert!(deployed.len() > elf.len(), "the initial storage is in it");
    chainlift_emulator::sbf::load(&deployed).expect("it loads and verifies");
    let run = chainlift(&[
        "translate",
        "--deploy",
        &path("examples/scenarios/token.toml"),
        &path("examples/token/out/Token.json"),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("drop FILE"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn operations_without_a_mapping_are_errors_naming_op_and_pc() {
    // GAS PUSH0 MSTORE STOP: gas read as a number, not only a call's
    // limit: a constant fixed at translation, or with --strict an error.
    let run = chainlift(&["translate", "--code", "0x5a5f5200", "--emit", "asm"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = chainlift(&[
        "translate",
        "--code",
        "0x5a5f5200",
        "--emit",
        "asm",
        "--strict",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("unsupported host.gas at @0x0"),
        "{}",
        run.stderr
    );
    // PUSH0 x3 CREATE STOP
    let run = chainlift(&["translate", "--code", "0x5f5f5ff000", "--emit", "asm"]);
    assert!(
        run.stderr.contains("unsupported host.create at @0x3"),
        "{}",
        run.stderr
    );
    let run = chainlift(&["translate", "--code", "0x00", "-o", "-"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("-o program.so"), "{}", run.stderr);
}

#[test]
fn translate_check_lists_every_problem_with_the_functions_that_reach_it() {
    // PUSH0 BLOCKHASH POP PUSH0 PUSH0 PUSH0 CREATE POP STOP: two
    // operations with no mapping. A plain translate names the first and
    // counts the rest.
    let code = "0x5f40505f5f5ff05000";
    let run = chainlift(&["translate", "--code", code, "--emit", "asm"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("host.blockhash at @0x1") && run.stderr.contains("and 1 more"),
        "{}",
        run.stderr
    );
    let run = chainlift(&["translate", "--code", code, "--check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("does not translate to sbf: 2 operations")
    );
    assert!(run.stdout.contains("host.blockhash") && run.stdout.contains("host.create"));
    // A factory: CREATE2 is reached by the functions that create pairs only.
    let factory = path("examples/factory/out/PairFactory.json");
    let run = chainlift(&["translate", &factory, "--check", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["translates"], false);
    let create2: Vec<&serde_json::Value> = v["unsupported"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["what"] == "host.create2")
        .collect();
    assert_eq!(create2.len(), 1, "one site, however often it was lifted");
    let selectors = create2[0]["selectors"].as_array().unwrap();
    // createPair(address,address) is 0xc9c65396.
    assert!(selectors.iter().any(|s| s == "0xc9c65396"), "{selectors:?}");
    assert!(selectors.len() < 4, "not every function: {selectors:?}");
    // The token translates; its storage writes are reached by transfer,
    // not by balanceOf (a read), and the summary says so.
    let token = path("examples/token/out/Token.json");
    let run = chainlift(&["translate", &token, "--check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let storage = run
        .stdout
        .lines()
        .skip_while(|l| !l.contains("storage table full"))
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        storage.contains("transfer(address,uint256)"),
        "{}",
        run.stdout
    );
    assert!(!storage.contains("balanceOf(address)"), "{}", run.stdout);
    let dir = std::env::temp_dir().join(format!("chainlift-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let so = dir.join("token.so");
    let run = chainlift(&["translate", &token, "-o", so.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("sites can end in a target limit (") && run.stdout.contains("--check"),
        "{}",
        run.stdout
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// BALANCE: of the contract itself (above rent), of the caller, of another
/// account (asked for by the program, as a client would add it), of a
/// precompile and of the zero address, as revm has them.
#[test]
fn balance_reads_lamports_as_revm_reads_wei() {
    // SSTORE(0, BALANCE(calldata[0])); STOP
    let code = hex("5f3531 5f55 00".replace(' ', "").as_str());
    let gwei = |n: u64| U256::from(n) * U256::from(1_000_000_000u64);
    let (eoa, caller) = (Address::repeat_byte(0xee), Address::repeat_byte(0xca));
    let engines = [SbfEngine::new(false), SbfEngine::new(true)];
    for (name, who) in [
        ("another account", Some(eoa)),
        (
            "an account that does not exist",
            Some(Address::repeat_byte(0xf1)),
        ),
        ("the caller", Some(caller)),
        ("the contract itself", None),
        ("a precompile", Some(Address::with_last_byte(2))),
        ("the zero address", Some(Address::ZERO)),
    ] {
        let (mut world, mut call) = one_contract(code.clone(), vec![]);
        let who = who.unwrap_or(call.to);
        call.data = U256::from_be_slice(who.as_slice())
            .to_be_bytes::<32>()
            .to_vec();
        call.caller = caller;
        world.accounts.get_mut(&call.to).unwrap().balance = gwei(1_000_000);
        for (a, b) in [(eoa, gwei(123_456_789)), (caller, gwei(42))] {
            world.accounts.insert(
                a,
                Account {
                    balance: b,
                    ..Account::default()
                },
            );
        }
        let block = BlockEnv::default();
        let oracle = EvmEngine.run(&world, &block, &call, Fork::Osaka).unwrap();
        assert_eq!(oracle.status, chainlift_emulator::Status::Success, "{name}");
        for e in &engines {
            let o = e.run(&world, &block, &call, Fork::Osaka).unwrap();
            assert_eq!(oracle.difference(&o), None, "{name} on {}", e.name());
        }
    }
}

/// SELFDESTRUCT as Cancun has it for a contract created earlier: its
/// balance moves to the beneficiary (an account the program asks for when
/// it is not passed), nothing is deleted; what Solana cannot do ends in a
/// named target limit.
#[test]
fn selfdestruct_moves_the_balance_as_on_revm() {
    // SELFDESTRUCT(calldata[0])
    let code = hex("5f35ff");
    let gwei = |n: u64| U256::from(n) * U256::from(1_000_000_000u64);
    let (eoa, caller, with_code) = (
        Address::repeat_byte(0xee),
        Address::repeat_byte(0xca),
        Address::repeat_byte(0xcc),
    );
    let cases: [(&str, Option<Address>, U256, Option<&str>); 7] = [
        ("to an account with ether", Some(eoa), gwei(1_000_000), None),
        (
            "to a new account",
            Some(Address::repeat_byte(0xf1)),
            gwei(1_000_000),
            None,
        ),
        ("to the caller", Some(caller), gwei(1_000_000), None),
        ("to itself", None, gwei(1_000_000), None),
        (
            "with no balance",
            Some(Address::repeat_byte(0xf2)),
            U256::ZERO,
            None,
        ),
        (
            "to an account with code",
            Some(with_code),
            gwei(1),
            Some("into code"),
        ),
        (
            "to a new account, too little for its rent",
            Some(Address::repeat_byte(0xf3)),
            gwei(1),
            Some("rent"),
        ),
    ];
    for (name, to, balance, limit) in cases {
        let (mut world, mut call) = one_contract(code.clone(), vec![]);
        let to = to.unwrap_or(call.to);
        call.data = U256::from_be_slice(to.as_slice())
            .to_be_bytes::<32>()
            .to_vec();
        call.caller = caller;
        world.accounts.get_mut(&call.to).unwrap().balance = balance;
        for (a, b, code) in [
            (eoa, gwei(5), vec![]),
            (caller, gwei(7), vec![]),
            (with_code, U256::ZERO, vec![0]),
        ] {
            world.accounts.insert(
                a,
                Account {
                    balance: b,
                    code,
                    ..Account::default()
                },
            );
        }
        agrees_or_stops_at(name, &world, &call, limit);
    }
}

/// Block and transaction fields Solana has no source for read the
/// constants fixed at translation: the engine fixes revm's (so they agree),
/// `translate` the defaults or `--env`, and `--strict` refuses them.
#[test]
fn fields_without_a_solana_source_are_constants_fixed_at_translation() {
    // SSTORE(k, field) for GASPRICE, COINBASE, GASLIMIT, BASEFEE, PREVRANDAO.
    let code = hex("3a5f55 41600155 45600255 48600355 44600455 00"
        .replace(' ', "")
        .as_str());
    let (world, mut call) = one_contract(code, vec![]);
    call.gas_price = U256::from(7_000_000_000u64);
    let block = BlockEnv {
        coinbase: Address::repeat_byte(0xcb),
        gas_limit: 45_000_000,
        basefee: U256::from(3),
        prevrandao: U256::from(0x5eed),
        ..BlockEnv::default()
    };
    let oracle = EvmEngine.run(&world, &block, &call, Fork::Osaka).unwrap();
    for e in [SbfEngine::new(false), SbfEngine::new(true)] {
        let o = e.run(&world, &block, &call, Fork::Osaka).unwrap();
        assert_eq!(oracle.difference(&o), None, "{}", e.name());
    }
    let code = "0x3a5f554160015545600255486003554460045500";
    let run = chainlift(&[
        "translate",
        "--code",
        code,
        "--emit",
        "asm",
        "--env",
        "gasprice=7",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = chainlift(&[
        "translate",
        "--code",
        code,
        "--check",
        "--env",
        "gasprice=7",
    ]);
    assert!(
        run.stdout.contains("gasprice = 7") && run.stdout.contains("gaslimit = 30000000"),
        "{}",
        run.stdout
    );
    let run = chainlift(&["translate", "--code", code, "--check", "--strict"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("5 operations with no mapping"),
        "{}",
        run.stdout
    );
    let run = chainlift(&[
        "translate",
        "--code",
        code,
        "--env",
        "gasprize=1",
        "--check",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no field `gasprize`"), "{}", run.stderr);
}

#[test]
fn values_below_a_lamport_are_refused_by_the_sbf_engine() {
    let run = chainlift(&["run", "--code", "0x00", "--engine", "sbf", "--value", "1"]);
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("cannot run: the call sends 1 wei, not a whole number of lamports"),
        "{}",
        run.stdout
    );
}

/// Ether in and out: CALLVALUE, SELFBALANCE and CALL with value into
/// accounts without code behave as on revm (status, return data,
/// balances), and what Solana cannot do ends in a named target limit.
#[test]
fn ether_moves_like_on_revm() {
    // CALL(GAS, to = calldata[0], value = calldata[32], no data), then
    // return (success, SELFBALANCE, CALLVALUE).
    let code = hex("5f5f5f5f6020355f355af15f52476020523460405260605ff3");
    let gwei = |n: u64| U256::from(n) * U256::from(1_000_000_000u64);
    let (eoa, fresh, with_code) = (
        Address::repeat_byte(0xee),
        Address::repeat_byte(0xf1),
        Address::repeat_byte(0xcc),
    );
    let precompile = Address::with_last_byte(1);
    let caller = Address::repeat_byte(0xca);
    let cases: [(&str, Address, U256, U256, Option<&str>); 13] = [
        (
            "pays an account that has ether",
            eoa,
            gwei(3),
            gwei(5),
            None,
        ),
        (
            "pays a new account",
            fresh,
            gwei(1_000_000_000),
            gwei(5),
            None,
        ),
        ("pays the caller", caller, gwei(7), U256::ZERO, None),
        (
            "sends nothing to a new account",
            fresh,
            U256::ZERO,
            U256::ZERO,
            None,
        ),
        ("drains the balance", eoa, gwei(1_000_005), gwei(5), None),
        (
            "asks more than the balance",
            eoa,
            gwei(1_000_006),
            gwei(5),
            None,
        ),
        (
            "asks far more than the balance",
            eoa,
            U256::MAX,
            U256::ZERO,
            None,
        ),
        (
            "sends less than a lamport",
            eoa,
            U256::from(1),
            U256::ZERO,
            Some("whole lamports"),
        ),
        (
            "pays a new account less than its rent",
            fresh,
            gwei(1),
            U256::ZERO,
            Some("rent"),
        ),
        // A contract: the world's contracts are one bundle, and its code
        // runs inside the program (tests/tests/bundles.rs).
        ("calls code", with_code, gwei(1), U256::ZERO, None),
        (
            "calls a precompile",
            precompile,
            U256::ZERO,
            U256::ZERO,
            Some("into code"),
        ),
        // On Solana the zero address's key is the system program's.
        (
            "pays the zero address",
            Address::ZERO,
            gwei(1),
            U256::ZERO,
            Some("into code"),
        ),
        (
            "pays the zero address with value in",
            Address::ZERO,
            gwei(1),
            gwei(5),
            Some("into code"),
        ),
    ];
    for (name, to, amount, value, limit) in cases {
        let mut data = U256::from_be_slice(to.as_slice())
            .to_be_bytes::<32>()
            .to_vec();
        data.extend_from_slice(&amount.to_be_bytes::<32>());
        let (mut world, mut call) = one_contract(code.clone(), data);
        call.value = value;
        world.accounts.get_mut(&call.to).unwrap().balance = gwei(1_000_000);
        world.accounts.insert(
            eoa,
            Account {
                balance: gwei(1_000_000_000),
                ..Account::default()
            },
        );
        world.accounts.insert(
            with_code,
            Account {
                code: vec![0],
                ..Account::default()
            },
        );
        world.accounts.insert(
            caller,
            Account {
                balance: gwei(1_000_000_000),
                ..Account::default()
            },
        );
        let oracle = agrees_or_stops_at(name, &world, &call, limit);
        if limit.is_none() {
            assert!(
                !oracle.balances.is_empty()
                    || amount.is_zero() && value.is_zero()
                    || oracle.return_data[31] == 0,
                "{name}: balances compared"
            );
        }
    }
}

/// Calls precompile `addr` (STATICCALL, or CALL without value) on the
/// calldata, with `out_len` bytes of output over memory that holds 0xff
/// bytes, and returns the output area, the success flag, RETURNDATASIZE
/// and what RETURNDATACOPY gives.
fn precompile_caller(addr: u8, out_len: u8, call: bool) -> Vec<u8> {
    let mut c = vec![0x7f];
    c.extend_from_slice(&[0xff; 32]);
    c.extend_from_slice(&[0x61, 0x02, 0x00, 0x52]); // mem[0x200] = ff..ff
    c.extend_from_slice(&[0x36, 0x5f, 0x5f, 0x37]); // mem[0..] = calldata
    c.extend_from_slice(&[0x60, out_len, 0x61, 0x02, 0x00, 0x36, 0x5f]);
    if call {
        c.push(0x5f); // no value
    }
    c.extend_from_slice(&[0x60, addr, 0x5a, if call { 0xf1 } else { 0xfa }]);
    c.extend_from_slice(&[0x61, 0x04, 0x00, 0x52]); // mem[0x400] = success
    c.extend_from_slice(&[0x3d, 0x61, 0x04, 0x20, 0x52]); // mem[0x420] = size
    c.extend_from_slice(&[0x3d, 0x5f, 0x61, 0x04, 0x40, 0x3e]); // copy it
    c.extend_from_slice(&[0x61, 0x02, 0x60, 0x61, 0x02, 0x00, 0xf3]);
    c
}

/// ecrecover (0x1) and sha256 (0x2) answer as on revm: recovered
/// addresses, high-s signatures, bad v, r and s, short and long input, any
/// output length; and RETURNDATACOPY past the answer halts.
#[test]
fn precompiles_answer_as_on_revm() {
    use k256::ecdsa::SigningKey;
    let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let hash = alloy_primitives::keccak256(b"chainlift");
    let (sig, id) = key.sign_prehash_recoverable(hash.as_slice()).unwrap();
    let (r, s) = (sig.r().to_bytes(), sig.s().to_bytes());
    let n = U256::from_be_slice(&hex(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
    ));
    let input = |v: U256, r: &[u8], s: &[u8]| {
        let mut d = hash.to_vec();
        d.extend_from_slice(&v.to_be_bytes::<32>());
        d.extend_from_slice(r);
        d.extend_from_slice(s);
        d
    };
    let v = U256::from(27 + id.to_byte());
    let flipped = U256::from(28 - id.to_byte());
    let high_s = (n - U256::from_be_slice(&s)).to_be_bytes::<32>();
    let valid = input(v, &r, &s);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("valid", valid.clone()),
        ("high s, other v", input(flipped, &r, &high_s)),
        ("other v", input(flipped, &r, &s)),
        ("v = 29", input(U256::from(29), &r, &s)),
        ("v = 0", input(U256::ZERO, &r, &s)),
        ("v with a high byte", input(v | U256::ONE << 200, &r, &s)),
        ("r = 0", input(v, &[0; 32], &s)),
        ("s = 0", input(v, &r, &[0; 32])),
        ("r = n", input(v, &n.to_be_bytes::<32>(), &s)),
        ("short", valid[..100].to_vec()),
        ("long", [valid.clone(), vec![0xab; 72]].concat()),
        ("empty", vec![]),
    ];
    cases.push(("other hash", {
        let mut d = valid.clone();
        d[0] ^= 1;
        d
    }));
    let (evm, engines) = (EvmEngine, [SbfEngine::new(false), SbfEngine::new(true)]);
    let check = |code: &[u8], data: &[u8], name: &str| {
        let (world, call) = one_contract(code.to_vec(), data.to_vec());
        let block = BlockEnv::default();
        let want = evm.run(&world, &block, &call, Fork::Osaka).unwrap();
        for e in &engines {
            let got = e.run(&world, &block, &call, Fork::Osaka).unwrap();
            assert_eq!(got.difference(&want), None, "{name}: {}", e.name());
        }
        want
    };
    for call in [false, true] {
        for out_len in [0, 1, 20, 32, 64] {
            for (name, data) in &cases {
                let o = check(&precompile_caller(1, out_len, call), data, name);
                if *name == "valid" && out_len == 32 {
                    // The signer's address, found.
                    let address = Address::from_raw_public_key(
                        &key.verifying_key().to_encoded_point(false).as_bytes()[1..],
                    );
                    assert_eq!(&o.return_data[12..32], address.as_slice());
                }
            }
            for len in [0, 1, 55, 64, 300] {
                let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
                check(&precompile_caller(2, out_len, call), &data, "sha256");
            }
        }
    }
    // RETURNDATACOPY of 33 bytes after a 32-byte answer halts.
    let code = precompile_caller(2, 32, false);
    let (head, tail) = code.split_at(code.len() - 13);
    let code = [
        head,
        &[0x60, 0x21, 0x5f, 0x61, 0x04, 0x40, 0x3e],
        &tail[6..],
    ]
    .concat();
    let o = check(&code, b"abc", "returndatacopy past the end");
    assert_eq!(o.status.kind(), "halt");
}
