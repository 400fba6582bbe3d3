//! What `run` and `diff` execute: a plan of one or more calls from one
//! starting world, built from the command line (one call) or from a
//! scenario file (a deployment, then calls with state carried between
//! them). The format is documented in docs/scenarios.md.

use crate::abi;
use crate::input::{self, Input};
use alloy_json_abi::{Function, JsonAbi};
use alloy_primitives::{Address, U256};
use anyhow::{Context, anyhow, bail};
use chainlift_emulator::{Account, BlockEnv, Call, World, evm};
use chainlift_frontend_evm::Fork;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a contract given as runtime code lives.
pub const CONTRACT: Address = Address::new([0xc0; 20]);

/// The balance every caller starts with: 10^24 wei.
fn funds() -> U256 {
    U256::from(10u64).pow(U256::from(24))
}

/// One call of a plan.
#[derive(Debug, Clone)]
pub struct Step {
    /// How the call is named in reports: the signature and arguments, or
    /// the scenario's `name`.
    pub label: String,
    /// The call.
    pub call: Call,
    /// The function called, when known (for decoding what comes back).
    pub function: Option<Function>,
    /// What the scenario expects, checked against every engine.
    pub expect: Option<Expect>,
}

/// A scenario's expectation for one call.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `success`, `revert` or `halt`.
    pub status: Option<String>,
    /// The decoded return values, written as arguments are.
    pub returns: Option<Vec<String>>,
    /// The raw return (or revert) data.
    pub return_data: Option<String>,
    /// The revert's error name (`Error`, `Panic` or a custom error).
    pub error: Option<String>,
    /// The number of logs.
    pub logs: Option<usize>,
}

/// Everything engines need to run the plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The world before the first call (after deployment, if any).
    pub world: World,
    /// Block fields.
    pub block: BlockEnv,
    /// The fork every engine follows.
    pub fork: Fork,
    /// The contract's ABI, when known.
    pub abi: Option<JsonAbi>,
    /// The calls, in order.
    pub steps: Vec<Step>,
    /// The deployment, when the plan deployed its contract.
    pub deployment: Option<evm::Deployment>,
}

/// A number as `cast` reads one: decimal, `0x…` hex, `1e18`, `1.5e18`,
/// or with a unit (`1ether`, `2 gwei`).
pub fn number(s: &str) -> anyhow::Result<U256> {
    let s = s.trim();
    let parsed = match s.strip_prefix("0x") {
        Some(h) => U256::from_str_radix(h, 16).ok(),
        None => U256::from_str_radix(&s.replace('_', ""), 10).ok(),
    };
    if let Some(n) = parsed {
        return Ok(n);
    }
    match alloy_dyn_abi::DynSolType::Uint(256).coerce_str(s) {
        Ok(alloy_dyn_abi::DynSolValue::Uint(n, _)) => Ok(n),
        _ => bail!("bad number `{s}`"),
    }
}

pub fn address(s: &str, what: &str) -> anyhow::Result<Address> {
    s.trim()
        .parse()
        .map_err(|_| anyhow!("{what}: bad address `{s}`"))
}

/// Calldata from raw hex or from a signature and arguments.
pub fn calldata(
    raw: Option<&str>,
    sig: Option<&str>,
    args: &[String],
    abi: Option<&JsonAbi>,
    what: &str,
) -> anyhow::Result<(Vec<u8>, Option<Function>, String)> {
    match (raw, sig) {
        (Some(_), Some(_)) => bail!("{what}: give calldata or a signature, not both"),
        (Some(hex), None) => {
            if !args.is_empty() {
                bail!("{what}: arguments need a signature (--sig)");
            }
            let data = input::parse_hex(hex, what)?;
            let function = abi.and_then(|a| {
                let sel: [u8; 4] = data.get(..4)?.try_into().ok()?;
                a.function_by_selector(sel.into()).cloned()
            });
            let label = match &function {
                Some(f) => format!("{} (0x{})", f.signature(), short_hex(&data)),
                None => format!("0x{}", short_hex(&data)),
            };
            Ok((data, function, label))
        }
        (None, Some(sig)) => {
            let f = abi::function(sig, abi)?;
            let data = abi::encode_call(&f, args).with_context(|| what.to_string())?;
            let label = format!("{}({})", f.name, args.join(", "));
            Ok((data, Some(f), label))
        }
        (None, None) => Ok((vec![], None, "(empty calldata)".into())),
    }
}

fn short_hex(b: &[u8]) -> String {
    let h = alloy_primitives::hex::encode(b);
    if h.len() > 24 {
        format!("{}…", &h[..24])
    } else {
        h
    }
}

fn fund(world: &mut World, a: Address) {
    world.accounts.entry(a).or_insert_with(|| Account {
        balance: funds(),
        ..Default::default()
    });
}

/// Reads an ABI file (a JSON array, or an artefact holding one).
pub fn read_abi(path: &str) -> anyhow::Result<JsonAbi> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{path} is not JSON"))?;
    let abi = v.get("abi").unwrap_or(&v);
    input::parse_abi(abi).ok_or_else(|| anyhow!("{path}: no ABI that parses"))
}

// ---------------------------------------------------------------------------
// Scenario files

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    fork: Option<String>,
    contract: Contract,
    #[serde(default)]
    block: BlockFields,
    #[serde(default, rename = "call")]
    calls: Vec<CallSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Contract {
    artifact: Option<String>,
    name: Option<String>,
    creation: Option<String>,
    runtime: Option<String>,
    abi: Option<String>,
    constructor: Option<ConstructorSpec>,
    deployer: Option<String>,
    value: Option<String>,
    #[serde(default)]
    storage: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConstructorSpec {
    sig: Option<String>,
    #[serde(default)]
    args: Vec<String>,
}

/// Block fields: a scenario's `[block]` table, or `run`/`diff` options.
#[derive(Debug, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct BlockFields {
    /// Block number.
    #[arg(long)]
    number: Option<String>,
    /// Block timestamp.
    #[arg(long)]
    timestamp: Option<String>,
    /// Chain id.
    #[arg(long)]
    chain_id: Option<u64>,
    /// Block coinbase.
    #[arg(long)]
    coinbase: Option<String>,
    /// Base fee.
    #[arg(long)]
    basefee: Option<String>,
    /// PREVRANDAO (DIFFICULTY before the Merge).
    #[arg(long)]
    prevrandao: Option<String>,
    /// Block gas limit.
    #[arg(long = "block-gas-limit")]
    gas_limit: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallSpec {
    name: Option<String>,
    from: Option<String>,
    sig: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    calldata: Option<String>,
    value: Option<String>,
    gas: Option<u64>,
    expect: Option<Expect>,
}

/// The default deployer and caller.
pub const DEFAULT_CALLER: &str = "0x00000000000000000000000000000000ca11e400";

impl BlockFields {
    /// Sets the fields given on `b`.
    pub fn apply(&self, b: &mut BlockEnv) -> anyhow::Result<()> {
        if let Some(v) = &self.number {
            b.number = number(v)?;
        }
        if let Some(v) = &self.timestamp {
            b.timestamp = number(v)?;
        }
        if let Some(v) = self.chain_id {
            b.chain_id = v;
        }
        if let Some(v) = &self.coinbase {
            b.coinbase = address(v, "block.coinbase")?;
        }
        if let Some(v) = &self.basefee {
            b.basefee = number(v)?;
        }
        if let Some(v) = &self.prevrandao {
            b.prevrandao = number(v)?;
        }
        if let Some(v) = self.gas_limit {
            b.gas_limit = v;
        }
        Ok(())
    }
}

/// Resolves a path written in a scenario: relative to the scenario's own
/// folder, or else to the working directory.
fn resolve(base: &Path, rel: &str) -> PathBuf {
    let beside = base.join(rel);
    if beside.exists() {
        beside
    } else {
        PathBuf::from(rel)
    }
}

/// Reads a scenario file into a plan: deploys the contract on revm (when
/// it gives creation code), then lists the calls.
pub fn load(
    path: &Path,
    block: BlockEnv,
    fork: Fork,
    gas: u64,
    deploy_fork: Option<Fork>,
) -> anyhow::Result<Plan> {
    let what = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {what}"))?;
    let file: File = toml::from_str(&text).map_err(|e| anyhow!("{what}: {e}"))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let fork = match &file.fork {
        Some(f) => f
            .parse()
            .map_err(|e: chainlift_frontend_evm::opcode::UnknownFork| anyhow!("{what}: {e}"))?,
        None => fork,
    };
    let mut block = block;
    file.block.apply(&mut block)?;
    let c = &file.contract;
    let artifact: Option<Input> = match &c.artifact {
        Some(a) => {
            let p = resolve(base, a);
            Some(input::read(
                Some(&p.to_string_lossy()),
                None,
                c.name.as_deref(),
            )?)
        }
        None => None,
    };
    let abi = match &c.abi {
        Some(a) => Some(read_abi(&resolve(base, a).to_string_lossy())?),
        None => artifact.as_ref().and_then(|i| i.abi.clone()),
    };
    let mut world = World::default();
    let deployer = address(c.deployer.as_deref().unwrap_or(DEFAULT_CALLER), "deployer")?;
    fund(&mut world, deployer);
    let creation = match (&c.creation, &c.runtime) {
        (Some(_), Some(_)) => bail!("{what}: give `creation` or `runtime`, not both"),
        (Some(hex), None) => Some(input::parse_hex(hex, "contract.creation")?),
        (None, Some(_)) => None,
        (None, None) => artifact.as_ref().and_then(|i| i.creation.clone()),
    };
    let (target, deployment) = match creation {
        Some(mut init) => {
            let ctor = c.constructor.as_ref();
            let constructor = abi::constructor(ctor.and_then(|c| c.sig.as_deref()), abi.as_ref())?;
            let args = ctor.map(|c| c.args.as_slice()).unwrap_or_default();
            init.extend(abi::encode_constructor(constructor.as_ref(), args)?);
            let call = Call {
                caller: deployer,
                origin: deployer,
                to: Address::ZERO,
                value: number(c.value.as_deref().unwrap_or("0"))?,
                data: init,
                gas_limit: gas,
                gas_price: U256::ZERO,
            };
            let d = evm::deploy(&mut world, &block, &call, deploy_fork.unwrap_or(fork))?;
            let Some(a) = d.address else {
                let reason = match abi::decode_revert(abi.as_ref(), &d.outcome.return_data) {
                    Some(r) => r.to_string(),
                    None => format!("{:?}", d.outcome.status),
                };
                bail!("{what}: deployment failed on revm: {reason}");
            };
            (a, Some(d))
        }
        None => {
            let code = match (&c.runtime, &artifact) {
                (Some(hex), _) => input::parse_hex(hex, "contract.runtime")?,
                (None, Some(i)) => i.code.clone(),
                (None, None) => {
                    bail!("{what}: [contract] needs `artifact`, `creation` or `runtime`")
                }
            };
            let mut account = Account {
                code,
                nonce: 1,
                ..Default::default()
            };
            for (k, v) in &c.storage {
                account.storage.insert(number(k)?, number(v)?);
            }
            world.accounts.insert(CONTRACT, account);
            (CONTRACT, None)
        }
    };
    if deployment.is_some() && !c.storage.is_empty() {
        bail!("{what}: `storage` applies to `runtime` contracts; a deployment sets its own");
    }
    let mut steps = vec![];
    for (i, spec) in file.calls.iter().enumerate() {
        let where_ = format!("{what}: call {}", i + 1);
        let from = match &spec.from {
            Some(f) => address(f, &where_)?,
            None => deployer,
        };
        fund(&mut world, from);
        let (data, function, label) = calldata(
            spec.calldata.as_deref(),
            spec.sig.as_deref(),
            &spec.args,
            abi.as_ref(),
            &where_,
        )?;
        if let (Some(e), None) = (&spec.expect, &function)
            && e.returns.is_some()
        {
            bail!("{where_}: `expect.returns` needs a signature with outputs or an ABI");
        }
        steps.push(Step {
            label: spec.name.clone().unwrap_or(label),
            call: Call {
                caller: from,
                origin: from,
                to: target,
                value: number(spec.value.as_deref().unwrap_or("0"))?,
                data,
                gas_limit: spec.gas.unwrap_or(gas),
                gas_price: U256::ZERO,
            },
            function,
            expect: spec.expect.clone(),
        });
    }
    if steps.is_empty() {
        bail!("{what}: no [[call]]");
    }
    Ok(Plan {
        world,
        block,
        fork,
        abi,
        steps,
        deployment,
    })
}

/// A plan of one call, from `run`/`diff` options.
pub fn single(
    input: Input,
    abi: Option<JsonAbi>,
    step: Step,
    storage: BTreeMap<U256, U256>,
    block: BlockEnv,
    fork: Fork,
) -> Plan {
    let mut world = World::default();
    world.accounts.insert(
        CONTRACT,
        Account {
            code: input.code,
            nonce: 1,
            storage,
            ..Default::default()
        },
    );
    fund(&mut world, step.call.caller);
    Plan {
        world,
        block,
        fork,
        abi,
        steps: vec![step],
        deployment: None,
    }
}
