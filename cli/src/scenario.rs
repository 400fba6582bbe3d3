//! What `run` and `diff` execute: a plan of one or more calls from one
//! starting world, built from the command line (one call) or from a
//! scenario file (accounts, deployments of one or several named contracts,
//! then calls with state carried between them). The format is documented
//! in docs/scenarios.md.

use crate::abi;
use crate::input::{self, Input};
use alloy_json_abi::{Function, JsonAbi};
use alloy_primitives::{Address, U256};
use anyhow::{Context, anyhow, bail};
use chainlift_emulator::evm::{self, EvmEngine};
use chainlift_emulator::{Account, BlockEnv, Call, Engine, Status, World};
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
    /// The called contract's ABI, when known (for decoding reverts).
    pub abi: Option<JsonAbi>,
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

/// A contract a plan names: deployed by the scenario, placed as runtime
/// code, seeded as an account, or bound from a call's result.
#[derive(Debug, Clone)]
pub struct Named {
    /// The name calls and arguments use (`to = "vault"`, `"@vault"`).
    pub name: String,
    /// Its address.
    pub address: Address,
    /// Its ABI, when known.
    pub abi: Option<JsonAbi>,
}

/// Everything engines need to run the plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The world before the first call (after the deployments, if any).
    pub world: World,
    /// Block fields.
    pub block: BlockEnv,
    /// The fork every engine follows.
    pub fork: Fork,
    /// The contracts the plan names, in order (the first is the default
    /// target of calls).
    pub contracts: Vec<Named>,
    /// The calls, in order.
    pub steps: Vec<Step>,
    /// The deployments made on revm, by contract name, in order.
    pub deployments: Vec<(String, evm::Deployment)>,
}

impl Plan {
    /// Decodes revert data with the called contract's ABI, then with every
    /// other ABI the plan knows, since a revert may bubble up from a
    /// nested call into another contract.
    pub fn revert(&self, step: &Step, data: &[u8]) -> Option<abi::Revert> {
        let found = abi::decode_revert(step.abi.as_ref(), data);
        if found.is_some() {
            return found;
        }
        self.contracts
            .iter()
            .filter_map(|c| c.abi.as_ref())
            .find_map(|a| abi::decode_revert(Some(a), data))
    }
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
    contract: Contracts,
    #[serde(default, rename = "account")]
    accounts: Vec<AccountSpec>,
    #[serde(default)]
    block: BlockFields,
    #[serde(default, rename = "call")]
    calls: Vec<CallSpec>,
}

/// `[contract]` (one) or `[[contract]]` (several).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Contracts {
    One(Box<Contract>),
    Many(Vec<Contract>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Contract {
    artifact: Option<String>,
    /// The scenario's name for it; also the artefact's contract to take
    /// when the artefact holds several and `contract` is not given.
    name: Option<String>,
    /// The artefact's contract to take.
    contract: Option<String>,
    creation: Option<String>,
    runtime: Option<String>,
    /// Where `runtime` code is placed.
    address: Option<String>,
    abi: Option<String>,
    constructor: Option<ConstructorSpec>,
    deployer: Option<String>,
    value: Option<String>,
    #[serde(default)]
    storage: BTreeMap<String, String>,
    /// On Solana, the program that holds it (the `sbf` engines): contracts
    /// without one share a program, the others go into the program of
    /// their name, and calls between programs are cross-program
    /// invocations.
    program: Option<String>,
}

/// `[[account]]`: an address seeded before the deployments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountSpec {
    address: String,
    name: Option<String>,
    code: Option<String>,
    abi: Option<String>,
    balance: Option<String>,
    nonce: Option<u64>,
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
    to: Option<String>,
    abi: Option<String>,
    bind: Option<String>,
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

/// The names a scenario gives contracts, and the addresses they stand for.
#[derive(Debug, Default)]
struct Names {
    list: Vec<Named>,
}

impl Names {
    fn get(&self, name: &str) -> Option<&Named> {
        self.list.iter().find(|n| n.name == name)
    }

    fn add(&mut self, named: Named, what: &str) -> anyhow::Result<()> {
        let ok = !named.name.is_empty()
            && named
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            bail!(
                "{what}: `{}` is not a name (letters, digits and `_` only)",
                named.name
            );
        }
        if self.get(&named.name).is_some() {
            bail!("{what}: the name `{}` is already taken", named.name);
        }
        self.list.push(named);
        Ok(())
    }

    fn unknown(&self, name: &str, what: &str) -> anyhow::Error {
        let known: Vec<&str> = self.list.iter().map(|n| n.name.as_str()).collect();
        anyhow!(
            "{what}: no contract named `{name}` (known: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )
    }

    /// `s` with every `@name` that starts a value (at the start, or after
    /// `[`, `(`, `,` or a space) replaced by that contract's address.
    fn expand(&self, s: &str, what: &str) -> anyhow::Result<String> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(at) = rest.find('@') {
            let starts_value = rest[..at]
                .chars()
                .last()
                .or_else(|| out.chars().last())
                .is_none_or(|c| matches!(c, '[' | '(' | ',' | ' '));
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if !starts_value || len == 0 {
                out.push('@');
                rest = after;
                continue;
            }
            let name = &after[..len];
            let named = self.get(name).ok_or_else(|| self.unknown(name, what))?;
            out.push_str(&named.address.to_string());
            rest = &after[len..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// An address written as `0x…`, `@name` or a bare name.
    fn address(&self, s: &str, what: &str) -> anyhow::Result<Address> {
        let s = s.trim();
        if s.starts_with("0x") {
            return address(s, what);
        }
        let name = s.strip_prefix('@').unwrap_or(s);
        self.get(name)
            .map(|n| n.address)
            .ok_or_else(|| self.unknown(name, what))
    }

    /// A call's target: a name, or an address (with the ABI of the
    /// contract there, when the scenario names it).
    fn target(&self, s: &str, what: &str) -> anyhow::Result<Named> {
        let a = self.address(s, what)?;
        Ok(self
            .list
            .iter()
            .find(|n| n.address == a)
            .cloned()
            .unwrap_or(Named {
                name: s.trim().to_string(),
                address: a,
                abi: None,
            }))
    }
}

/// Reads a scenario file into a plan: seeds its accounts, deploys its
/// contracts in order on revm (or places their runtime code), then lists
/// the calls. When a call binds a name to the address it returns, the
/// calls are also run on revm while reading, so that later calls can use
/// the name.
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
    let contracts = match file.contract {
        Contracts::One(c) => vec![*c],
        Contracts::Many(v) => v,
    };
    if contracts.is_empty() {
        bail!("{what}: no [[contract]]");
    }
    let abi_file = |a: &str| read_abi(&resolve(base, a).to_string_lossy());
    let mut world = World::default();
    let mut names = Names::default();
    for (i, a) in file.accounts.iter().enumerate() {
        let where_ = format!("{what}: account {}", i + 1);
        let at = address(&a.address, &where_)?;
        let code = match &a.code {
            Some(hex) => input::parse_hex(hex, &format!("{where_}: code"))?,
            None => vec![],
        };
        let mut account = Account {
            balance: number(a.balance.as_deref().unwrap_or("0"))?,
            nonce: a.nonce.unwrap_or(u64::from(!code.is_empty())),
            code,
            storage: BTreeMap::new(),
        };
        for (k, v) in &a.storage {
            account.storage.insert(number(k)?, number(v)?);
        }
        if world.accounts.insert(at, account).is_some() {
            bail!("{where_}: {at} is seeded twice");
        }
        if let Some(name) = &a.name {
            let abi = a.abi.as_deref().map(abi_file).transpose()?;
            names.add(
                Named {
                    name: name.clone(),
                    address: at,
                    abi,
                },
                &where_,
            )?;
        }
    }
    let many = contracts.len() > 1;
    let mut deployments = vec![];
    let mut first_deployer = None;
    let mut default_target: Option<Named> = None;
    let mut placed = 0u8;
    for (i, c) in contracts.iter().enumerate() {
        let where_ = match (&c.name, many) {
            (Some(n), true) => format!("{what}: contract `{n}`"),
            (None, true) => format!("{what}: contract {}", i + 1),
            (_, false) => what.clone(),
        };
        let artifact: Option<Input> = match &c.artifact {
            Some(a) => {
                let p = resolve(base, a).to_string_lossy().into_owned();
                let chosen = input::read(Some(&p), None, c.contract.as_deref());
                Some(match (chosen, &c.name) {
                    // An artefact holding several contracts: the one the
                    // scenario names (as `name` selected it before names).
                    (Err(_), Some(n)) if c.contract.is_none() => {
                        input::read(Some(&p), None, Some(n))?
                    }
                    (r, _) => r?,
                })
            }
            None => None,
        };
        let abi = match &c.abi {
            Some(a) => Some(abi_file(a)?),
            None => artifact.as_ref().and_then(|i| i.abi.clone()),
        };
        let name = match &c.name {
            Some(n) => n.clone(),
            None if i == 0 => "contract".to_string(),
            None => format!("contract{}", i + 1),
        };
        let deployer = address(c.deployer.as_deref().unwrap_or(DEFAULT_CALLER), &where_)?;
        first_deployer.get_or_insert(deployer);
        fund(&mut world, deployer);
        let creation = match (&c.creation, &c.runtime) {
            (Some(_), Some(_)) => bail!("{where_}: give `creation` or `runtime`, not both"),
            (Some(hex), None) => Some(input::parse_hex(hex, "contract.creation")?),
            (None, Some(_)) => None,
            (None, None) => artifact.as_ref().and_then(|i| i.creation.clone()),
        };
        let at = match creation {
            Some(mut init) => {
                if !c.storage.is_empty() || c.address.is_some() {
                    bail!(
                        "{where_}: `storage` and `address` apply to `runtime` contracts; a deployment sets its own"
                    );
                }
                let ctor = c.constructor.as_ref();
                let constructor =
                    abi::constructor(ctor.and_then(|c| c.sig.as_deref()), abi.as_ref())?;
                let args = ctor
                    .map(|c| c.args.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .map(|a| names.expand(a, &where_))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                init.extend(
                    abi::encode_constructor(constructor.as_ref(), &args)
                        .with_context(|| where_.clone())?,
                );
                let call = Call {
                    create: false,
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
                    bail!("{where_}: deployment failed on revm: {reason}");
                };
                deployments.push((name.clone(), d));
                a
            }
            None => {
                let code = match (&c.runtime, &artifact) {
                    (Some(hex), _) => input::parse_hex(hex, "contract.runtime")?,
                    (None, Some(i)) => i.code.clone(),
                    (None, None) => {
                        bail!("{where_}: [contract] needs `artifact`, `creation` or `runtime`")
                    }
                };
                let at = match &c.address {
                    Some(a) => address(a, &where_)?,
                    None => {
                        // 0xc0…c0 for the first, then 0xc0…c1, …
                        let mut bytes = CONTRACT.0.0;
                        bytes[19] = bytes[19].wrapping_add(placed);
                        Address::new(bytes)
                    }
                };
                placed = placed.wrapping_add(1);
                let mut account = Account {
                    code,
                    nonce: 1,
                    ..Default::default()
                };
                for (k, v) in &c.storage {
                    account.storage.insert(number(k)?, number(v)?);
                }
                if world.accounts.insert(at, account).is_some() {
                    bail!("{where_}: {at} already holds an account");
                }
                at
            }
        };
        if let Some(p) = &c.program {
            if p.is_empty() {
                bail!("{where_}: `program` names a program; leave it out for the shared one");
            }
            world.programs.insert(at, p.clone());
        }
        let named = Named {
            name,
            address: at,
            abi,
        };
        default_target.get_or_insert_with(|| named.clone());
        names.add(named, &where_)?;
    }
    let default_target = default_target.ok_or_else(|| anyhow!("{what}: no [[contract]]"))?;
    let deployer = first_deployer.unwrap_or_default();
    // Calls run on revm while reading only when a later call needs an
    // address one of them returns.
    let mut oracle: Option<World> = file
        .calls
        .iter()
        .any(|c| c.bind.is_some())
        .then(|| world.clone());
    let mut steps = vec![];
    for (i, spec) in file.calls.iter().enumerate() {
        let where_ = format!("{what}: call {}", i + 1);
        let from = match &spec.from {
            Some(f) => names.address(f, &where_)?,
            None => deployer,
        };
        fund(&mut world, from);
        if let Some(o) = &mut oracle {
            fund(o, from);
        }
        let target = match &spec.to {
            Some(t) => names.target(t, &where_)?,
            None => default_target.clone(),
        };
        let abi = match &spec.abi {
            Some(a) => Some(abi_file(a)?),
            None => target.abi.clone(),
        };
        let args = spec
            .args
            .iter()
            .map(|a| names.expand(a, &where_))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (data, function, label) = calldata(
            spec.calldata.as_deref(),
            spec.sig.as_deref(),
            &args,
            abi.as_ref(),
            &where_,
        )?;
        let mut expect = spec.expect.clone();
        if let Some(e) = &mut expect {
            if e.returns.is_some() && function.is_none() {
                bail!("{where_}: `expect.returns` needs a signature with outputs or an ABI");
            }
            if let Some(r) = &mut e.returns {
                for v in r.iter_mut() {
                    *v = names.expand(v, &where_)?;
                }
            }
        }
        let label = match (&spec.name, &spec.to) {
            (Some(n), _) => n.clone(),
            (None, Some(_)) => format!("{}.{label}", target.name),
            (None, None) => label,
        };
        let step = Step {
            label,
            call: Call {
                create: false,
                caller: from,
                origin: from,
                to: target.address,
                value: number(spec.value.as_deref().unwrap_or("0"))?,
                data,
                gas_limit: spec.gas.unwrap_or(gas),
                gas_price: U256::ZERO,
            },
            function,
            abi,
            expect,
        };
        if let Some(o) = &mut oracle {
            let out = EvmEngine.run(o, &block, &step.call, fork)?;
            o.commit(&step.call, &out);
            if let Some(name) = &spec.bind {
                let word = out.return_data.get(..32);
                let bound = match word {
                    Some(w) if out.status == Status::Success && w[..12] == [0; 12] => {
                        Address::from_slice(&w[12..])
                    }
                    _ => bail!(
                        "{where_}: `bind` needs the call to return an address; on revm it ended {} with {} bytes",
                        out.status.kind(),
                        out.return_data.len()
                    ),
                };
                names.add(
                    Named {
                        name: name.clone(),
                        address: bound,
                        abi: None,
                    },
                    &where_,
                )?;
            }
        }
        steps.push(step);
    }
    if steps.is_empty() {
        bail!("{what}: no [[call]]");
    }
    Ok(Plan {
        world,
        block,
        fork,
        contracts: names.list,
        steps,
        deployments,
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
        contracts: vec![Named {
            name: "contract".into(),
            address: CONTRACT,
            abi,
        }],
        steps: vec![step],
        deployments: vec![],
    }
}
