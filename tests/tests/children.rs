//! The contracts a factory creates: the init code embedded in it, found
//! where its code copies a constant range of itself, and the runtime code
//! that init code returns as a template with the immutables left out.

use alloy_primitives::{Address, U256, keccak256};
use chainlift_emulator::children::{self, Child};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::ir::IrEngine;
use chainlift_emulator::{Account, BlockEnv, Call, Engine, Status, World};
use chainlift_frontend_evm::Fork;
use chainlift_frontend_evm::pipeline::{Cache, Stages};

const FORK: Fork = Fork::Prague;
const DEPLOYER: Address = Address::repeat_byte(0xd0);
const TOKEN_A: Address = Address::repeat_byte(0x0a);
const TOKEN_B: Address = Address::repeat_byte(0x0b);

fn artifact(rel: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(chainlift_tests::path(rel)).unwrap()).unwrap()
}

fn children_of(runtime: &[u8]) -> (Vec<Child>, Vec<children::Refused>) {
    let m = Cache::shared()
        .get(runtime, FORK, Stages::default())
        .unwrap();
    children::children(runtime, &m.module.functions, FORK)
}

fn call(to: Address, sig: &str, args: &[Address]) -> Call {
    let mut data = keccak256(sig.as_bytes())[..4].to_vec();
    for a in args {
        data.extend_from_slice(&[0; 12]);
        data.extend_from_slice(a.as_slice());
    }
    Call {
        caller: DEPLOYER,
        origin: DEPLOYER,
        to,
        value: U256::ZERO,
        data,
        gas_limit: 30_000_000,
        gas_price: U256::ZERO,
        create: false,
    }
}

/// The factory, deployed on revm, after it created the pair of the two
/// tokens: the world and the pair's address.
fn factory_with_pair() -> (World, Address, Address) {
    let v = artifact("examples/factory/out/PairFactory.json");
    let creation = chainlift_tests::hex(v["bytecode"]["object"].as_str().unwrap());
    let mut world = World::default();
    world.accounts.insert(
        DEPLOYER,
        Account {
            balance: U256::from(10u64).pow(U256::from(20)),
            ..Account::default()
        },
    );
    let block = BlockEnv::default();
    let deploy = Call {
        data: creation,
        create: true,
        ..call(Address::ZERO, "", &[])
    };
    let d = chainlift_emulator::evm::deploy(&mut world, &block, &deploy, FORK).unwrap();
    let factory = d.address.expect("the factory deploys");
    let create = call(factory, "createPair(address,address)", &[TOKEN_A, TOKEN_B]);
    let out = EvmEngine.run(&world, &block, &create, FORK).unwrap();
    assert_eq!(out.status, Status::Success, "{out:?}");
    world.commit(&create, &out);
    let pair = Address::from_slice(&out.return_data[12..32]);
    (world, factory, pair)
}

/// PairFactory holds Pair's init code (`new Pair{salt: ...}(token0,
/// token1)`): one child, whose template is Pair's runtime code with its
/// three immutables (factory, token0, token1) left out. The pair the
/// factory created on revm is an instance of it, with the factory's and the
/// tokens' addresses as the immutables; a byte changed anywhere else is
/// not.
#[test]
fn a_factory_holds_its_pairs_init_code_and_their_runtime_template() {
    let runtime = chainlift_tests::artifact_runtime(std::path::Path::new(&chainlift_tests::path(
        "examples/factory/out/PairFactory.json",
    )));
    let (found, refused) = children_of(&runtime);
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(found.len(), 1, "{found:?}");
    let child = &found[0];
    assert_eq!(child.init, runtime[child.at.clone()]);
    // Three immutables, solc's copy of one at each use.
    assert_eq!(child.immutables.len(), 3, "{:?}", child.immutables);
    let sites: Vec<usize> = child.immutables.concat();
    assert!(sites.len() > 3, "{sites:?}");
    for pc in &sites {
        assert_eq!(child.template[*pc], 0x7f, "a PUSH32 at {pc:#x}");
        assert!(child.template[pc + 1..pc + 33].iter().all(|b| *b == 0));
    }

    let (world, factory, pair) = factory_with_pair();
    let code = &world.accounts[&pair].code;
    let values = child.instance(code).expect("the pair is an instance");
    let mut held: Vec<U256> = values.iter().map(|(_, v)| *v).collect();
    held.sort();
    let mut expected: Vec<U256> = [factory, TOKEN_A, TOKEN_B]
        .iter()
        .map(|a| U256::from_be_slice(a.as_slice()))
        .collect();
    expected.sort();
    assert_eq!(held, expected);
    for (i, (key, _)) in values.iter().enumerate() {
        assert_eq!(*key, children::immutable_key(i));
        assert!(*key < U256::from(1u8) << 248);
    }
    // One byte outside the immutables: not an instance.
    let mut other = code.clone();
    let outside = (0..other.len())
        .find(|i| !sites.iter().any(|pc| (*pc..pc + 33).contains(i)) && other[*i] != 0)
        .unwrap();
    other[outside] ^= 1;
    assert_eq!(child.instance(&other), None);
    assert_eq!(child.instance(&code[1..]), None);
    // Two copies of one immutable that differ: not an instance.
    let copies = child.immutables.iter().find(|pcs| pcs.len() > 1).unwrap();
    let mut other = code.clone();
    other[copies[1] + 32] ^= 1;
    assert_eq!(child.instance(&other), None);

    // As every compiler setting built it.
    for build in ["PairFactory.noopt.json", "PairFactory.viair.json"] {
        let runtime = chainlift_tests::artifact_runtime(std::path::Path::new(
            &chainlift_tests::path(&format!("examples/factory/out/{build}")),
        ));
        let (found, refused) = children_of(&runtime);
        assert!(refused.is_empty(), "{build}: {refused:?}");
        assert_eq!(found.len(), 1, "{build}");
        assert_eq!(found[0].immutables.len(), 3, "{build}");
        assert!(
            found[0].instance(code).is_none(),
            "{build}: its own pair build"
        );
    }

    // A token holds no init code.
    let token = chainlift_tests::artifact_runtime(std::path::Path::new(&chainlift_tests::path(
        "examples/token/out/Token.json",
    )));
    let (found, refused) = children_of(&token);
    assert!(
        found.is_empty() && refused.is_empty(),
        "{found:?} {refused:?}"
    );
}

/// The template with each immutable read from its reserved slot
/// (`PUSH31 key; SLOAD` in place of `PUSH32 value`, the same length) runs
/// as the pair itself on revm and in the IR engine: the same status and
/// return data for every view of the pair, the immutables among them.
#[test]
fn the_template_reading_its_immutables_from_storage_runs_as_the_pair() {
    let runtime = chainlift_tests::artifact_runtime(std::path::Path::new(&chainlift_tests::path(
        "examples/factory/out/PairFactory.json",
    )));
    let (found, _) = children_of(&runtime);
    let child = &found[0];
    let (world, _, pair) = factory_with_pair();
    let values = child.instance(&world.accounts[&pair].code).unwrap();
    let mut slots = world.clone();
    let account = slots.accounts.get_mut(&pair).unwrap();
    account.code = child.with_slots();
    assert_eq!(account.code.len(), child.template.len());
    account.storage.extend(values);
    let block = BlockEnv::default();
    let views = [
        ("factory()", vec![]),
        ("token0()", vec![]),
        ("token1()", vec![]),
        ("getReserves()", vec![]),
        ("updates()", vec![]),
        ("getAmountOut(uint256,address)", vec![TOKEN_A]),
    ];
    for (sig, args) in views {
        let mut c = call(pair, sig, &args);
        if sig.starts_with("getAmountOut") {
            // amountIn = 1000 in front of the token's address.
            let mut data = c.data[..4].to_vec();
            data.extend_from_slice(&U256::from(1000).to_be_bytes::<32>());
            data.extend_from_slice(&c.data[4..]);
            c.data = data;
        }
        let expected = EvmEngine.run(&world, &block, &c, FORK).unwrap();
        for engine in [&EvmEngine as &dyn Engine, &IrEngine::default()] {
            let out = engine.run(&slots, &block, &c, FORK).unwrap();
            assert_eq!(
                (out.status.clone(), out.return_data.clone()),
                (expected.status.clone(), expected.return_data.clone()),
                "{sig} in {}",
                engine.name()
            );
        }
    }
}
