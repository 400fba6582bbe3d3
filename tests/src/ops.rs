//! Programs, worlds and operand strategies the backend tests share: one
//! EVM operation on calldata operands, a world holding one contract, and
//! words that reach the 256-bit helpers' edge cases.

use alloy_primitives::{Address, U256};
use chainlift_emulator::{Account, BlockEnv, Call, Engine, World};
use chainlift_frontend_evm::Fork;
use proptest::prelude::*;

/// `c b a OP` with a, b, c read from calldata (so the lifter cannot fold
/// them), then `PUSH0 MSTORE PUSH1 32 PUSH0 RETURN`.
pub fn program(op: u8) -> Vec<u8> {
    let mut code = vec![0x60, 0x40, 0x35, 0x60, 0x20, 0x35, 0x5f, 0x35];
    code.extend_from_slice(&[op, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]);
    code
}

/// A world holding `code` at 0xc0…c0, and a call into it with `data`.
pub fn one_contract(code: Vec<u8>, data: Vec<u8>) -> (World, Call) {
    let to = Address::repeat_byte(0xc0);
    let mut world = World::default();
    world.accounts.insert(
        to,
        Account {
            code,
            ..Account::default()
        },
    );
    let call = Call {
        create: false,
        caller: Address::repeat_byte(0xca),
        origin: Address::repeat_byte(0xca),
        to,
        value: U256::ZERO,
        data,
        gas_limit: 10_000_000,
        gas_price: U256::ZERO,
    };
    (world, call)
}

pub fn run(engine: &dyn Engine, code: Vec<u8>, data: Vec<u8>) -> Vec<u8> {
    let (world, call) = one_contract(code, data);
    let o = engine
        .run(&world, &BlockEnv::default(), &call, Fork::Osaka)
        .unwrap();
    assert_eq!(o.status.kind(), "success", "{:?}", o.status);
    o.return_data
}

/// Operands that reach the helpers' edge cases: small, one-limb, signed
/// extremes, and anything.
pub fn word() -> impl Strategy<Value = U256> {
    prop_oneof![
        (0u64..300).prop_map(U256::from),
        any::<u64>().prop_map(U256::from),
        any::<u32>().prop_map(|x| U256::MAX - U256::from(x)),
        any::<[u64; 4]>().prop_map(U256::from_limbs),
        any::<([u64; 4], u8)>().prop_map(|(l, s)| U256::from_limbs(l) >> (s as usize)),
        Just(U256::ONE << 255),
    ]
}

/// ADD MUL SUB DIV SDIV MOD SMOD ADDMOD MULMOD EXP SIGNEXTEND LT GT SLT SGT
/// EQ AND OR XOR BYTE SHL SHR SAR CLZ NOT ISZERO.
pub const OPS: [u8; 26] = [
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x14,
    0x16, 0x17, 0x18, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x19, 0x15,
];

/// `x OP k` (or `k OP x` when `left`) for x from calldata and a constant
/// k, the result returned: the lowering has its own paths for constant
/// operands.
pub fn program_const(op: u8, k: U256, left: bool) -> Vec<u8> {
    let mut push = vec![0x7f];
    push.extend_from_slice(&k.to_be_bytes::<32>());
    let x = [0x5f, 0x35];
    let mut code = vec![];
    if left {
        code.extend_from_slice(&x);
        code.extend_from_slice(&push);
    } else {
        code.extend_from_slice(&push);
        code.extend_from_slice(&x);
    }
    code.extend_from_slice(&[op, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]);
    code
}

/// Constants with whole limbs of zeros and ones, as masks have.
pub fn constant() -> impl Strategy<Value = U256> {
    prop_oneof![
        word(),
        (0usize..=256).prop_map(|n| (U256::ONE << n).wrapping_sub(U256::ONE)),
        (0usize..=256).prop_map(|n| !((U256::ONE << n).wrapping_sub(U256::ONE))),
    ]
}

/// `CALLDATACOPY(0, 0, CALLDATASIZE)`, `LOGn` (`topics` topics from
/// calldata words 5..) over the calldata's length and over `k` bytes, then
/// `RETURN(k, CALLDATASIZE)`: memory growth, copies, logs and a return
/// range of any length.
pub fn log_copy_program(k: u8, topics: u8) -> Vec<u8> {
    let mut code = vec![0x36, 0x5f, 0x5f, 0x37];
    for len in [vec![0x36], vec![0x60, k]] {
        for t in 0..topics {
            code.extend_from_slice(&[0x60, 0xa0 + t, 0x35]);
        }
        code.extend(len);
        code.extend_from_slice(&[0x5f, 0xa0 + topics]);
    }
    code.extend_from_slice(&[0x36, 0x60, k, 0xf3]);
    code
}

/// Every contract the repository and the bench corpus hold, named by the
/// file it comes from: each fixture artefact's runtime code, and each
/// account's code in `../shared/corpus/bench`.
pub fn every_contract() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = crate::fixture_artifacts()
        .iter()
        .map(|p| (p.display().to_string(), crate::artifact_runtime(p)))
        .collect();
    let bench = crate::path("../shared/corpus/bench");
    for f in crate::json_files(std::path::Path::new(&bench)) {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for test in json.as_object().into_iter().flat_map(|o| o.values()) {
            for account in test["pre"].as_object().into_iter().flat_map(|o| o.values()) {
                let code = crate::json_bytes(&account["code"]);
                if !code.is_empty() {
                    out.push((f.display().to_string(), code));
                }
            }
        }
    }
    out
}

/// Runs a [`mutated_call`]'s code and calldata in revm and in `engine`:
/// `Err` saying why when the engine fails, or when the outcomes differ and
/// revm did not halt (gas is not metered: an out-of-gas halt in revm is no
/// comparison).
pub fn mutated_matches_revm(
    engine: &dyn Engine,
    code: Vec<u8>,
    data: Vec<u8>,
) -> Result<(), String> {
    let (world, call) = one_contract(code, data);
    let block = BlockEnv::default();
    let evm = chainlift_emulator::evm::EvmEngine
        .run(&world, &block, &call, Fork::Osaka)
        .map_err(|e| format!("revm failed: {e}"))?;
    let got = engine
        .run(&world, &block, &call, Fork::Osaka)
        .map_err(|e| format!("{} failed: {e}", engine.name()))?;
    match evm.difference(&got) {
        Some(d) if evm.status.kind() != "halt" => Err(d),
        _ => Ok(()),
    }
}

/// The runtime code of every fixture, lifted once.
pub fn fixture_codes() -> &'static Vec<Vec<u8>> {
    static CODES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    CODES.get_or_init(|| {
        crate::fixture_artifacts()
            .iter()
            .map(|p| crate::artifact_runtime(p))
            .collect()
    })
}

/// A fixture (the `which`th) with bytes changed as `edits` say, and
/// calldata for the `pick`th selector the dispatch analysis finds in the
/// changed code (none if it finds none), then `args`: a differential
/// fuzzing case.
pub fn mutated_call(
    which: prop::sample::Index,
    edits: Vec<(prop::sample::Index, u8)>,
    pick: prop::sample::Index,
    args: Vec<u8>,
) -> (Vec<u8>, Vec<u8>) {
    let mut code = which.get(fixture_codes()).clone();
    for (at, byte) in edits {
        let i = at.index(code.len());
        code[i] = byte;
    }
    let analysis = chainlift_frontend_evm::analyze(&code, &Default::default())
        .expect("analysis takes any bytes");
    let mut data = match analysis.dispatch.selectors.as_slice() {
        [] => vec![],
        s => pick.get(s).selector.to_be_bytes().to_vec(),
    };
    data.extend(args);
    (code, data)
}
