//! External test suites, run through every engine.
//!
//! Two formats are read:
//! - **legacytests VM tests** (`exec`, `pre`, `post`, `out`): one message
//!   call under Constantinople rules. revm's outcome is checked against the
//!   file's own expected storage, output and exceptional halt; every other
//!   engine must then agree with revm.
//! - **ethereum/tests state tests** (`env`, `pre`, `transaction`, `post`):
//!   one case per `post` entry (fork and data/gas/value indexes). The oracle
//!   runs the whole transaction on revm with every check on (nonce, balance,
//!   fees, access lists) and compares the state root and the logs hash with
//!   the file's. Then every engine runs the transaction's message call from
//!   the pre-state and must agree with revm on what users observe.
//!
//! A case is skipped, with its reason, when no engine without EVM gas could
//! reproduce it (the transaction or any nested frame runs out of gas on
//! revm, or code reads GAS), when its code creates contracts (not every
//! engine executes creation yet), or when the format says so (creation
//! transactions, blob transactions). Skips are counted apart from passes.

use crate::{Account, BlockEnv, Call, Engine, EngineError, Outcome, Status, World, evm};
use alloy_primitives::{Address, B256, Bytes, Log as PrimLog, LogData, U256, keccak256};
use chainlift_frontend_evm::{Fork, Options, analyze};
use revm::context::{BlockEnv as RevmBlock, CfgEnv, Context, TxEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::context_interface::result::ExecutionResult;
use revm::context_interface::transaction::{AccessList, AccessListItem};
use revm::primitives::TxKind;
use revm::{ExecuteEvm, MainBuilder, MainContext};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The verdict on one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// revm met the file's expectations and every engine agreed with it.
    Pass,
    /// What went wrong.
    Fail(String),
    /// Why the case cannot be checked.
    Skip(String),
}

/// One case's result.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// `file.json: name` (plus the post index for state tests).
    pub name: String,
    /// The suite format: `vm` or `state`.
    pub format: &'static str,
    /// The verdict.
    pub verdict: Verdict,
}

fn word(v: &Value) -> Result<U256, String> {
    let s = v.as_str().unwrap_or("0x0");
    let h = s.trim_start_matches("0x");
    if h.is_empty() {
        return Ok(U256::ZERO);
    }
    U256::from_str_radix(h, 16).map_err(|_| format!("bad hex word `{s}`"))
}

fn bytes(v: &Value) -> Result<Vec<u8>, String> {
    let s = v.as_str().unwrap_or("0x");
    let h = s.trim_start_matches("0x");
    if !h.len().is_multiple_of(2) || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("bad hex bytes `{}`", &s[..s.len().min(40)]));
    }
    Ok((0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(0))
        .collect())
}

fn addr(v: &Value) -> Result<Address, String> {
    let s = v.as_str().unwrap_or("");
    s.parse().map_err(|_| format!("bad address `{s}`"))
}

fn storage(v: &Value) -> Result<BTreeMap<U256, U256>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in v.as_object().into_iter().flatten() {
        let value = word(v)?;
        if !value.is_zero() {
            out.insert(word(&Value::String(k.clone()))?, value);
        }
    }
    Ok(out)
}

fn world(pre: &Value) -> Result<World, String> {
    let mut w = World::default();
    for (a, acct) in pre.as_object().ok_or("`pre` is not an object")? {
        w.accounts.insert(
            addr(&Value::String(a.clone()))?,
            Account {
                balance: word(&acct["balance"])?,
                nonce: word(&acct["nonce"])?.saturating_to(),
                code: bytes(&acct["code"])?,
                storage: storage(&acct["storage"])?,
            },
        );
    }
    Ok(w)
}

/// Why code cannot be checked by engines without gas or nested frames.
fn code_skip(code: &[u8], fork: Fork) -> Option<String> {
    let a = analyze(
        code,
        &Options {
            fork,
            ..Options::default()
        },
    )
    .ok()?;
    let uses = |op: u8| {
        a.instructions
            .iter()
            .any(|i| i.opcode == op && i.info.is_some())
    };
    if uses(0x5a) {
        return Some("reads GAS, which depends on gas accounting".into());
    }
    None
}

/// Every engine against revm's outcome (the first engine must be revm).
fn compare(
    engines: &[&dyn Engine],
    world: &World,
    block: &BlockEnv,
    call: &Call,
    fork: Fork,
    reference: &Outcome,
) -> Verdict {
    let mut valueless: Option<(Call, Outcome)> = None;
    for e in engines.iter().skip(1) {
        let (call, reference) = if e.carries_value(call.value) || call.value.is_zero() {
            (call, reference)
        } else {
            if valueless.is_none() {
                let c = Call {
                    value: U256::ZERO,
                    ..call.clone()
                };
                match engines[0].run(world, block, &c, fork) {
                    Ok(o) => valueless = Some((c, o)),
                    Err(err) => return Verdict::Fail(format!("evm without value: {err}")),
                }
            }
            let (c, o) = valueless.as_ref().expect("set above");
            if out_of_gas(o) {
                return Verdict::Skip("runs out of gas when sent without value".into());
            }
            (c, o)
        };
        let o = match e.run(world, block, call, fork) {
            Ok(o) => o,
            Err(err @ EngineError::Unsupported { .. }) => return Verdict::Skip(err.to_string()),
            Err(err) => return Verdict::Fail(format!("{}: {err}", e.name())),
        };
        if let Status::TargetLimit(why) = &o.status {
            return Verdict::Skip(format!("{} reached a target limit: {why}", e.name()));
        }
        if let Some(d) = reference.difference(&o) {
            return Verdict::Fail(format!("evm vs {}: {d}", e.name()));
        }
    }
    Verdict::Pass
}

fn out_of_gas(o: &Outcome) -> bool {
    matches!(&o.status, Status::Halt(r) if r.contains("OutOfGas"))
}

/// A test file's name and JSON, or the one failed case that says why it
/// cannot be read.
fn read(path: &Path, format: &'static str) -> Result<(String, Value), Vec<CaseResult>> {
    let file = path
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map(|json| (file.clone(), json))
        .map_err(|e| {
            vec![CaseResult {
                name: file,
                format,
                verdict: Verdict::Fail(format!("cannot read: {e}")),
            }]
        })
}

/// Runs every case of a legacytests VM-test file. `engines[0]` must be the
/// revm engine.
pub fn run_vm_file(path: &Path, engines: &[&dyn Engine]) -> Vec<CaseResult> {
    let (file, json) = match read(path, "vm") {
        Ok(x) => x,
        Err(failed) => return failed,
    };
    let mut out = vec![];
    for (name, test) in json.as_object().into_iter().flatten() {
        let verdict =
            vm_case(test, engines).unwrap_or_else(|e| Verdict::Fail(format!("bad test: {e}")));
        out.push(CaseResult {
            name: format!("{file}: {name}"),
            format: "vm",
            verdict,
        });
    }
    out
}

/// Intrinsic gas of a Constantinople transaction with this calldata.
fn intrinsic(data: &[u8]) -> u64 {
    21_000
        + data
            .iter()
            .map(|b| if *b == 0 { 4 } else { 68 })
            .sum::<u64>()
}

fn vm_case(test: &Value, engines: &[&dyn Engine]) -> Result<Verdict, String> {
    let fork = Fork::Constantinople;
    let exec = &test["exec"];
    let code = bytes(&exec["code"])?;
    if let Some(reason) = code_skip(&code, fork) {
        return Ok(Verdict::Skip(reason));
    }
    if test["callcreates"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
    {
        return Ok(Verdict::Skip(
            "makes calls, which VM tests record instead of executing".into(),
        ));
    }
    let world = world(&test["pre"])?;
    let env = &test["env"];
    let block = BlockEnv {
        number: word(&env["currentNumber"])?,
        timestamp: word(&env["currentTimestamp"])?,
        coinbase: addr(&env["currentCoinbase"])?,
        gas_limit: word(&env["currentGasLimit"])?.saturating_to(),
        basefee: U256::ZERO,
        prevrandao: word(&env["currentDifficulty"])?,
        chain_id: 1,
    };
    let data = bytes(&exec["data"])?;
    let call = Call {
        create: false,
        caller: addr(&exec["caller"])?,
        origin: addr(&exec["origin"])?,
        to: addr(&exec["address"])?,
        value: word(&exec["value"])?,
        gas_limit: word(&exec["gas"])?
            .saturating_to::<u64>()
            .saturating_add(intrinsic(&data)),
        gas_price: word(&exec["gasPrice"])?,
        data,
    };
    if call.origin != call.caller {
        return Ok(Verdict::Skip(
            "ORIGIN differs from CALLER, which a transaction cannot express".into(),
        ));
    }
    let reference = engines[0]
        .run(&world, &block, &call, fork)
        .map_err(|e| e.to_string())?;
    let expect_halt = test.get("post").is_none();
    if expect_halt {
        if !matches!(reference.status, Status::Halt(_)) {
            return Ok(Verdict::Fail(format!(
                "revm: expected an exceptional halt, got {:?}",
                reference.status
            )));
        }
        if out_of_gas(&reference) {
            return Ok(Verdict::Skip(
                "ends out of gas: needs gas accounting".into(),
            ));
        }
    } else {
        let expected = storage(&test["post"][exec["address"].as_str().unwrap_or("")]["storage"])?;
        let mut after = world
            .accounts
            .get(&call.to)
            .map(|a| a.storage.clone())
            .unwrap_or_default();
        for ((a, k), (_, new)) in &reference.storage {
            if *a == call.to {
                after.insert(*k, *new);
            }
        }
        after.retain(|_, v| !v.is_zero());
        if reference.status != Status::Success {
            return Ok(Verdict::Fail(format!(
                "revm: expected success, got {:?}",
                reference.status
            )));
        }
        if after != expected {
            return Ok(Verdict::Fail(
                "revm: storage differs from the file's post state".into(),
            ));
        }
        if reference.return_data != bytes(&test["out"])? {
            return Ok(Verdict::Fail(
                "revm: output differs from the file's `out`".into(),
            ));
        }
    }
    Ok(compare(engines, &world, &block, &call, fork, &reference))
}

/// Runs every case of an ethereum/tests state-test file. `engines[0]` must
/// be the revm engine.
pub fn run_state_file(path: &Path, engines: &[&dyn Engine]) -> Vec<CaseResult> {
    let (file, json) = match read(path, "state") {
        Ok(x) => x,
        Err(failed) => return failed,
    };
    let mut out = vec![];
    for (name, test) in json.as_object().into_iter().flatten() {
        for (fork_name, posts) in test["post"].as_object().into_iter().flatten() {
            for (i, post) in posts.as_array().into_iter().flatten().enumerate() {
                let verdict = match fork_name.parse::<Fork>() {
                    Ok(fork) => state_case(test, post, fork, engines)
                        .unwrap_or_else(|e| Verdict::Fail(format!("bad test: {e}"))),
                    Err(_) => Verdict::Skip(format!("fork {fork_name} is not known to chainlift")),
                };
                out.push(CaseResult {
                    name: format!("{file}: {name} [{fork_name} #{i}]"),
                    format: "state",
                    verdict,
                });
            }
        }
    }
    out
}

fn state_case(
    test: &Value,
    post: &Value,
    fork: Fork,
    engines: &[&dyn Engine],
) -> Result<Verdict, String> {
    let tx = &test["transaction"];
    let idx = |k: &str| post["indexes"][k].as_u64().unwrap_or(0) as usize;
    let (di, gi, vi) = (idx("data"), idx("gas"), idx("value"));
    let pick = |k: &str, i: usize| {
        tx[k]
            .get(i)
            .cloned()
            .ok_or(format!("transaction.{k}[{i}] is missing"))
    };
    let data = bytes(&pick("data", di)?)?;
    let gas_limit: u64 = word(&pick("gasLimit", gi)?)?.saturating_to();
    let value = word(&pick("value", vi)?)?;
    // A creation transaction runs its data as init code in a new account.
    let create = tx["to"].as_str().is_none_or(str::is_empty);
    if tx.get("blobVersionedHashes").is_some() || tx.get("authorizationList").is_some() {
        return Ok(Verdict::Skip("blob or set-code transaction".into()));
    }
    let sender = addr(&tx["sender"])?;
    let pre = world(&test["pre"])?;
    let to = if create {
        sender.create(pre.accounts.get(&sender).map_or(0, |a| a.nonce))
    } else {
        addr(&tx["to"])?
    };
    // Any account's code may run through a call, and the init code runs.
    let init = create.then_some(&data[..]);
    for code in pre.accounts.values().map(|a| &a.code[..]).chain(init) {
        if let Some(reason) = code_skip(code, fork) {
            return Ok(Verdict::Skip(reason));
        }
    }
    let env = &test["env"];
    let spec = evm::spec(fork);

    // The oracle: the whole transaction on revm, every check on.
    let db = evm::database(&pre);
    let basefee: u64 = word(&env["currentBaseFee"])?.saturating_to();
    let excess_blob_gas: u64 = word(&env["currentExcessBlobGas"])?.saturating_to();
    let prevrandao = env.get("currentRandom").map(word).transpose()?;
    let revm_block = RevmBlock {
        number: word(&env["currentNumber"])?,
        timestamp: word(&env["currentTimestamp"])?,
        beneficiary: addr(&env["currentCoinbase"])?,
        gas_limit: word(&env["currentGasLimit"])?.saturating_to(),
        basefee,
        difficulty: word(&env["currentDifficulty"])?,
        prevrandao: prevrandao.map(|r| B256::from(r.to_be_bytes::<32>())),
        blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new_with_spec(
            excess_blob_gas,
            spec,
        )),
        ..Default::default()
    };
    let mut cfg = CfgEnv::new_with_spec(spec);
    cfg.chain_id = 1;
    let mut evm = Context::mainnet()
        .with_db(db)
        .with_cfg(cfg)
        .with_block(revm_block)
        .build_mainnet();
    let mut builder = TxEnv::builder()
        .caller(sender)
        .kind(if create {
            TxKind::Create
        } else {
            TxKind::Call(to)
        })
        .data(Bytes::from(data.clone()))
        .value(value)
        .gas_limit(gas_limit)
        .nonce(word(&tx["nonce"])?.saturating_to())
        .chain_id(Some(1));
    let gas_price;
    if let Some(max_fee) = tx.get("maxFeePerGas") {
        let max_fee: u128 = word(max_fee)?.saturating_to();
        let tip: u128 = word(&tx["maxPriorityFeePerGas"])?.saturating_to();
        builder = builder
            .tx_type(Some(2))
            .gas_price(max_fee)
            .gas_priority_fee(Some(tip));
        gas_price = U256::from(max_fee.min(u128::from(basefee) + tip));
    } else {
        let p: u128 = word(&tx["gasPrice"])?.saturating_to();
        gas_price = U256::from(p);
        builder = builder.gas_price(p);
    }
    if let Some(list) = tx["accessLists"].get(di).and_then(Value::as_array) {
        let items = list
            .iter()
            .map(|item| {
                Ok(AccessListItem {
                    address: addr(&item["address"])?,
                    storage_keys: item["storageKeys"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|k| word(k).map(|w| B256::from(w.to_be_bytes::<32>())))
                        .collect::<Result<_, String>>()?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        builder = builder
            .tx_type(Some(if tx.get("maxFeePerGas").is_some() {
                2
            } else {
                1
            }))
            .access_list(AccessList(items));
    }
    let txenv = builder.build().map_err(|e| format!("{e:?}"))?;
    let expect_exception = post.get("expectException").is_some();
    let result = evm.transact(txenv);
    let expected_hash = B256::from(word(&post["hash"])?.to_be_bytes::<32>());
    let expected_logs = B256::from(word(&post["logs"])?.to_be_bytes::<32>());
    let (post_world, logs) = match result {
        Err(e) if expect_exception => {
            let _ = e;
            return Ok(Verdict::Skip(
                "the transaction is invalid by design: nothing executes".into(),
            ));
        }
        Err(e) => {
            return Ok(Verdict::Fail(format!(
                "revm rejected the transaction: {e:?}"
            )));
        }
        Ok(_) if expect_exception => {
            return Ok(Verdict::Fail(
                "revm accepted a transaction the test expects to be rejected".into(),
            ));
        }
        Ok(out) => {
            let mut w = pre.clone();
            evm::commit(&mut w, &out.state, spec);
            let logs: Vec<PrimLog> = out.result.logs().to_vec();
            if let ExecutionResult::Halt { reason, .. } = &out.result
                && format!("{reason:?}").contains("OutOfGas")
            {
                // The oracle still holds; the engines cannot follow.
                if state_root(&w) != expected_hash {
                    return Ok(Verdict::Fail(
                        "revm: state root differs from the file's".into(),
                    ));
                }
                return Ok(Verdict::Skip(
                    "ends out of gas: needs gas accounting".into(),
                ));
            }
            (w, logs)
        }
    };
    if state_root(&post_world) != expected_hash {
        // revm 43 lets a creation take an address whose account has only
        // storage (EIP-7610 says it collides): there the oracle is wrong.
        // Such an account is where this transaction creates, or, for a
        // creation in a nested frame, it is the only kind of account the
        // test sets up that a creation could collide with.
        let storage_only = |a: &Account| !a.storage.is_empty() && a.code.is_empty() && a.nonce == 0;
        let nested = pre.accounts.values().any(storage_only)
            && (pre.accounts.values().any(|a| creates(&a.code)) || (create && creates(&data)));
        let collides = (create && pre.accounts.get(&to).is_some_and(storage_only)) || nested;
        if collides {
            return Ok(Verdict::Skip(
                "creates at an address that holds only storage: revm 43 lacks EIP-7610".into(),
            ));
        }
        return Ok(Verdict::Fail(
            "revm: state root differs from the file's".into(),
        ));
    }
    if logs_hash(&logs) != expected_logs {
        return Ok(Verdict::Fail(
            "revm: logs hash differs from the file's".into(),
        ));
    }
    // Every engine from the pre-state, the transaction's message call.
    let block = block_env(env)?;
    let call = Call {
        create,
        caller: sender,
        origin: sender,
        to,
        value,
        data,
        gas_limit,
        gas_price,
    };
    let reference = engines[0]
        .run(&pre, &block, &call, fork)
        .map_err(|e| e.to_string())?;
    if out_of_gas(&reference) {
        return Ok(Verdict::Skip(
            "ends out of gas: needs gas accounting".into(),
        ));
    }
    // A nested frame may run out of gas without the transaction failing.
    if crate::evm::runs_out_of_gas(&pre, &block, &call, fork).map_err(|e| e.to_string())? {
        return Ok(Verdict::Skip(
            "a nested frame runs out of gas: needs gas accounting".into(),
        ));
    }
    Ok(compare(engines, &pre, &block, &call, fork, &reference))
}

/// Whether `code` holds a CREATE or CREATE2 instruction.
fn creates(code: &[u8]) -> bool {
    use chainlift_frontend_evm::opcode::op;
    chainlift_frontend_evm::disasm::disassemble(code, Fork::Amsterdam)
        .iter()
        .any(|i| i.opcode == op::CREATE || i.opcode == op::CREATE2)
}

/// The state root of a world (the Merkle-Patricia trie of its accounts).
pub fn state_root(w: &World) -> B256 {
    use alloy_trie::TrieAccount;
    use alloy_trie::root::{state_root_unhashed, storage_root_unhashed};
    state_root_unhashed(w.accounts.iter().map(|(a, acct)| {
        (
            *a,
            TrieAccount {
                nonce: acct.nonce,
                balance: acct.balance,
                storage_root: storage_root_unhashed(
                    acct.storage
                        .iter()
                        .map(|(k, v)| (B256::from(k.to_be_bytes::<32>()), *v)),
                ),
                code_hash: keccak256(&acct.code),
            },
        )
    }))
}

/// keccak256 of the RLP list of logs, as state tests give it.
pub fn logs_hash(logs: &[PrimLog]) -> B256 {
    let mut buf = vec![];
    alloy_rlp::encode_list::<PrimLog<LogData>, PrimLog<LogData>>(logs, &mut buf);
    keccak256(buf)
}

/// A workload: calls run one after another from a world, each engine
/// carrying its own state from call to call. Benchmark fixtures (revmc's
/// format: `env`, `pre`, a `transaction` list, no `post`) and state tests
/// (their first data, gas and value) read as one.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The fixture's name.
    pub name: String,
    /// The state before the first call.
    pub world: World,
    /// The block.
    pub block: BlockEnv,
    /// The calls, in order.
    pub calls: Vec<Call>,
}

/// The workloads of a benchmark fixture or state-test file.
pub fn read_workloads(path: &Path) -> Result<Vec<Workload>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = vec![];
    for (name, test) in json.as_object().ok_or("not a JSON object of fixtures")? {
        out.push(workload(name, test).map_err(|e| format!("{name}: {e}"))?);
    }
    Ok(out)
}

/// The block a state test's (or benchmark fixture's) `env` describes.
fn block_env(env: &Value) -> Result<BlockEnv, String> {
    Ok(BlockEnv {
        number: word(&env["currentNumber"])?,
        timestamp: word(&env["currentTimestamp"])?,
        coinbase: addr(&env["currentCoinbase"])?,
        gas_limit: word(&env["currentGasLimit"])?.saturating_to(),
        basefee: U256::from(word(&env["currentBaseFee"])?.saturating_to::<u64>()),
        prevrandao: match env.get("currentRandom") {
            Some(r) => word(r)?,
            None => word(&env["currentDifficulty"])?,
        },
        chain_id: 1,
    })
}

fn workload(name: &str, test: &Value) -> Result<Workload, String> {
    let block = block_env(&test["env"])?;
    // A state test's transaction holds lists of data, gas and value.
    let first = |v: &Value| {
        v.as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or(v.clone())
    };
    let txs: Vec<Value> = match &test["transaction"] {
        Value::Array(list) => list.clone(),
        tx @ Value::Object(_) => {
            let mut t = tx.clone();
            for k in ["data", "gasLimit", "value"] {
                t[k] = first(&tx[k]);
            }
            vec![t]
        }
        _ => return Err("no `transaction`".into()),
    };
    let world = world(&test["pre"])?;
    let mut calls = vec![];
    // Each sender's nonce, for the address a creation will take.
    let mut nonces: std::collections::HashMap<Address, u64> = Default::default();
    for tx in &txs {
        let create = tx["to"].as_str().is_none_or(str::is_empty);
        let sender = addr(&tx["sender"])?;
        let nonce = nonces
            .entry(sender)
            .or_insert_with(|| world.accounts.get(&sender).map_or(0, |a| a.nonce));
        let to = if create {
            sender.create(*nonce)
        } else {
            addr(&tx["to"])?
        };
        *nonce += 1;
        calls.push(Call {
            create,
            caller: sender,
            origin: sender,
            to,
            value: word(&tx["value"])?,
            data: bytes(&tx["data"])?,
            gas_limit: word(&tx["gasLimit"])?.saturating_to(),
            gas_price: word(&tx["gasPrice"])?,
        });
    }
    Ok(Workload {
        name: name.to_string(),
        world,
        block,
        calls,
    })
}

/// The fork a benchmark fixture runs under unless told otherwise. revmc's
/// fixtures give each transaction 2^63 - 1 gas: they predate Osaka, whose
/// cap of 2^24 gas per transaction (EIP-7825) would stop snailtracer part
/// way and leave nothing to compare. Prague is the last fork without it.
pub const FIXTURE_FORK: Fork = Fork::Prague;

/// Runs every workload of a benchmark fixture: revm's outcome is the
/// expectation, and every other engine must equal it, call by call, each
/// carrying its own state.
pub fn run_bench_file(path: &Path, engines: &[&dyn Engine], fork: Fork) -> Vec<CaseResult> {
    let file = path
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    let workloads = match read_workloads(path) {
        Ok(w) => w,
        Err(e) => {
            return vec![CaseResult {
                name: file,
                format: "bench",
                verdict: Verdict::Fail(format!("cannot read: {e}")),
            }];
        }
    };
    let mut out = vec![];
    for w in workloads {
        let mut world = w.world.clone();
        let mut verdict = Verdict::Pass;
        for call in &w.calls {
            let reference = match engines[0].run(&world, &w.block, call, fork) {
                Ok(o) => o,
                Err(e) => {
                    verdict = Verdict::Fail(format!("evm: {e}"));
                    break;
                }
            };
            if out_of_gas(&reference) {
                verdict = Verdict::Skip("ends out of gas: needs gas accounting".into());
                break;
            }
            let v = compare(engines, &world, &w.block, call, fork, &reference);
            if v != Verdict::Pass {
                verdict = v;
                break;
            }
            world.commit(call, &reference);
        }
        out.push(CaseResult {
            name: format!("{file}: {}", w.name),
            format: "bench",
            verdict,
        });
    }
    out
}
