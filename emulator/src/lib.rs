//! The emulator: one world state and one call, run in several engines, with
//! every outcome normalized to what users can observe (status, return data,
//! storage changes, logs) and each engine's own cost reported but not
//! compared.
//!
//! Engines: [`evm::EvmEngine`] (revm, the oracle) and [`ir::IrEngine`] (lift,
//! optimize, reference interpreter), behind one [`Engine`] trait.

#![deny(missing_docs)]

pub mod children;
pub mod evm;
pub mod ir;
pub mod native;
pub mod registry;
pub mod sbf;
pub mod stylus;
pub mod suite;
pub mod trace;
pub mod wasm;
pub mod wast;

use alloy_primitives::{Address, U256};
use chainlift_frontend_evm::Fork;
use std::collections::BTreeMap;

/// An account of the world state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// Balance in wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// Runtime code.
    pub code: Vec<u8>,
    /// Storage.
    pub storage: BTreeMap<U256, U256>,
}

/// The world state a call starts from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct World {
    /// Accounts by address.
    pub accounts: BTreeMap<Address, Account>,
    /// Where the `sbf` engines put contracts: each contract named here
    /// goes into the program of its group (a bundle of its own), the others
    /// into one program; calls between programs are cross-program
    /// invocations. Every other engine runs the world as one.
    pub programs: BTreeMap<Address, String>,
}

impl World {
    /// Carries one call's effects into the world, as every engine reports
    /// them, so that each engine's next call starts from the state its own
    /// previous calls left. The caller's nonce goes up whatever the status
    /// (a transaction is included even when it fails); on success every
    /// account the outcome names takes its new balance, nonce, code and
    /// storage, accounts the call created appear, and destroyed accounts
    /// disappear. Transient storage is not carried: it ends with the
    /// transaction. Gas fees are not carried (outcomes leave them out).
    pub fn commit(&mut self, call: &Call, outcome: &Outcome) {
        let caller = self.accounts.entry(call.caller).or_default();
        caller.nonce = caller.nonce.saturating_add(1);
        if outcome.status != Status::Success {
            return;
        }
        if !outcome.balances.contains_key(&call.caller) && !call.gas_price.is_zero() {
            // A priced call's outcome leaves the caller's balance out: the
            // value it sent is all that is known to have left.
            caller.balance = caller.balance.saturating_sub(call.value);
        }
        for (a, (_, after)) in &outcome.balances {
            self.accounts.entry(*a).or_default().balance = *after;
        }
        for (a, (_, after)) in &outcome.nonces {
            self.accounts.entry(*a).or_default().nonce = *after;
        }
        for (a, code) in &outcome.code {
            self.accounts.entry(*a).or_default().code = code.clone();
        }
        for ((a, slot), (_, after)) in &outcome.storage {
            let account = self.accounts.entry(*a).or_default();
            if after.is_zero() {
                account.storage.remove(slot);
            } else {
                account.storage.insert(*slot, *after);
            }
        }
        for a in &outcome.destroyed {
            self.accounts.remove(a);
        }
    }
}

/// Whether an outcome leaves out the balance of `a`: the coinbase's and
/// the caller's when the call has a gas price, since fees then move them by
/// the gas each engine counts. Scenarios use a price of 0, so there every
/// balance is reported and carried.
pub fn fees_hide(a: Address, call: &Call, coinbase: Address) -> bool {
    !call.gas_price.is_zero() && (a == coinbase || a == call.caller)
}

/// Block and chain fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEnv {
    /// Block number.
    pub number: U256,
    /// Timestamp in seconds.
    pub timestamp: U256,
    /// Coinbase (beneficiary).
    pub coinbase: Address,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Base fee per gas.
    pub basefee: U256,
    /// PREVRANDAO (DIFFICULTY before the Merge).
    pub prevrandao: U256,
    /// Chain id.
    pub chain_id: u64,
}

impl BlockEnv {
    /// BLOCKHASH of `number`: the world keeps no chain, so a block's hash
    /// is the rule of revm's empty database and of the VM tests,
    /// keccak256 of its decimal number, for the 256 blocks before this
    /// one; 0 for any other.
    pub fn block_hash(&self, number: U256) -> U256 {
        let current = self.number;
        if number >= current || current - number > U256::from(256) {
            return U256::ZERO;
        }
        U256::from_be_bytes(alloy_primitives::keccak256(number.to_string()).0)
    }
}

impl Default for BlockEnv {
    fn default() -> Self {
        BlockEnv {
            number: U256::from(1),
            timestamp: U256::from(1_700_000_000u64),
            coinbase: Address::ZERO,
            gas_limit: 30_000_000,
            basefee: U256::ZERO,
            prevrandao: U256::ZERO,
            chain_id: 1,
        }
    }
}

/// A message call into the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The sender (CALLER).
    pub caller: Address,
    /// The transaction origin (ORIGIN).
    pub origin: Address,
    /// The called contract.
    pub to: Address,
    /// Wei sent.
    pub value: U256,
    /// Calldata.
    pub data: Vec<u8>,
    /// Gas limit.
    pub gas_limit: u64,
    /// Gas price.
    pub gas_price: U256,
    /// A creation transaction: `data` is init code, run in a new account at
    /// the caller's next CREATE address, which `to` names (engines compute
    /// it themselves); the call's return data is the deployed code.
    pub create: bool,
}

/// How a call ended, as users see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Success (STOP, RETURN, SELFDESTRUCT).
    Success,
    /// REVERT: state undone, return data kept.
    Revert,
    /// An exceptional halt, with the engine's own reason. Halts of
    /// different reasons compare equal: users see the same failure.
    Halt(String),
    /// The translated program hit a limit of its target VM (memory, storage
    /// table, compute budget) that the EVM does not have; the reason says
    /// which. Not EVM behaviour, so suites count it as a skip.
    TargetLimit(String),
}

impl Status {
    /// `success`, `revert` or `halt`.
    pub fn kind(&self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Revert => "revert",
            Status::Halt(_) => "halt",
            Status::TargetLimit(_) => "target-limit",
        }
    }
}

/// An event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Emitting address.
    pub address: Address,
    /// Topics.
    pub topics: Vec<U256>,
    /// Data.
    pub data: Vec<u8>,
}

/// What an engine spent, in its own unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    /// `gas`, `instructions`, `cu`.
    pub unit: &'static str,
    /// Amount.
    pub amount: u64,
}

/// The normalized outcome of one call in one engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// Return (or revert) data.
    pub return_data: Vec<u8>,
    /// Storage that changed, in every account the call reached (nested
    /// calls and creations included): (account, slot) → (before, after).
    /// Empty unless the call succeeded.
    pub storage: BTreeMap<(Address, U256), (U256, U256)>,
    /// Logs, in order. Empty unless the call succeeded.
    pub logs: Vec<Log>,
    /// Balances that changed: address → (before, after), but for the
    /// accounts gas fees move, which engines that do not meter gas cannot
    /// match (see [`fees_hide`]). Empty unless the call succeeded.
    pub balances: BTreeMap<Address, (U256, U256)>,
    /// Nonces that changed, other than the transaction's own increment of
    /// the caller's (which [`World::commit`] applies): creators' nonces and
    /// the nonce of each created account. Empty unless the call succeeded.
    pub nonces: BTreeMap<Address, (u64, u64)>,
    /// The runtime code of every account the call created (CREATE,
    /// CREATE2, in nested frames). Empty unless the call succeeded.
    pub code: BTreeMap<Address, Vec<u8>>,
    /// Accounts the call destroyed: SELFDESTRUCT before Cancun, or of a
    /// contract created in the same transaction since (EIP-6780). Their
    /// storage, balance, nonce and code changes are not reported. Empty
    /// unless the call succeeded.
    pub destroyed: std::collections::BTreeSet<Address>,
    /// The engine's cost (reported, never compared).
    pub cost: Cost,
}

impl Outcome {
    /// An outcome with no effects: only its status, data and cost.
    pub fn new(status: Status, return_data: Vec<u8>, cost: Cost) -> Self {
        Outcome {
            status,
            return_data,
            storage: BTreeMap::new(),
            logs: vec![],
            balances: BTreeMap::new(),
            nonces: BTreeMap::new(),
            code: BTreeMap::new(),
            destroyed: Default::default(),
            cost,
        }
    }

    /// The first observable difference from `other`, or `None` if users
    /// could not tell them apart.
    pub fn difference(&self, other: &Outcome) -> Option<String> {
        if self.status.kind() != other.status.kind() {
            return Some(format!("status {:?} vs {:?}", self.status, other.status));
        }
        if matches!(self.status, Status::Halt(_)) {
            return None;
        }
        if self.return_data != other.return_data {
            return Some(format!(
                "return data 0x{} vs 0x{}",
                alloy_primitives::hex::encode(&self.return_data),
                alloy_primitives::hex::encode(&other.return_data)
            ));
        }
        if let Some(((account, k), a, b)) = first_change(&self.storage, &other.storage, |v| v.1) {
            let show = |v: Option<U256>| v.map_or("unchanged".into(), |v| format!("{v:#x}"));
            return Some(format!(
                "storage of {account} slot {k:#x}: {} vs {}",
                show(a),
                show(b)
            ));
        }
        if let Some((a, x, y)) = first_change(&self.code, &other.code, |c| c.as_slice()) {
            let show = |c: Option<&[u8]>| {
                c.map_or("not created".into(), |c| {
                    format!("{} bytes of code", c.len())
                })
            };
            return Some(format!("created account {a}: {} vs {}", show(x), show(y)));
        }
        if let Some(a) = self.destroyed.symmetric_difference(&other.destroyed).next() {
            let show = |d: bool| if d { "destroyed" } else { "kept" };
            return Some(format!(
                "account {a}: {} vs {}",
                show(self.destroyed.contains(a)),
                show(other.destroyed.contains(a))
            ));
        }
        if let Some((a, x, y)) = first_change(&self.nonces, &other.nonces, |n| n.1) {
            let show = |n: Option<u64>| n.map_or("unchanged".into(), |n| n.to_string());
            return Some(format!("nonce of {a}: {} vs {}", show(x), show(y)));
        }
        if let Some((k, a, b)) = first_change(&self.balances, &other.balances, |v| v.1) {
            let show = |v: Option<U256>| v.map_or("unchanged".into(), |v| v.to_string());
            return Some(format!("balance of {k}: {} vs {}", show(a), show(b)));
        }
        if self.logs != other.logs {
            if self.logs.len() != other.logs.len() {
                return Some(format!("{} logs vs {}", self.logs.len(), other.logs.len()));
            }
            for (i, (a, b)) in self.logs.iter().zip(&other.logs).enumerate() {
                if a.address != b.address {
                    return Some(format!("log {i}: address {} vs {}", a.address, b.address));
                }
                if a.topics != b.topics {
                    return Some(format!(
                        "log {i}: topics {:x?} vs {:x?}",
                        a.topics, b.topics
                    ));
                }
                if a.data != b.data {
                    let at = a
                        .data
                        .iter()
                        .zip(&b.data)
                        .position(|(x, y)| x != y)
                        .unwrap_or(a.data.len().min(b.data.len()));
                    return Some(format!(
                        "log {i}: data ({} and {} bytes) differs at byte {at}",
                        a.data.len(),
                        b.data.len()
                    ));
                }
            }
        }
        None
    }
}

/// The first key whose value, as `new` reads it (the value after the call),
/// differs between two change sets, with both readings (`None`: not
/// changed there).
fn first_change<'m, K: Ord + Copy, V, T: PartialEq>(
    a: &'m BTreeMap<K, V>,
    b: &'m BTreeMap<K, V>,
    new: impl Fn(&'m V) -> T,
) -> Option<(K, Option<T>, Option<T>)> {
    let keys: std::collections::BTreeSet<&K> = a.keys().chain(b.keys()).collect();
    keys.into_iter().find_map(|k| {
        let (x, y) = (a.get(k).map(&new), b.get(k).map(&new));
        (x != y).then_some((*k, x, y))
    })
}

/// Why an engine could not run a call at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The code could not be translated for this engine.
    #[error("cannot translate the code at {address}: {reason}")]
    Translate {
        /// The contract.
        address: Address,
        /// Why.
        reason: String,
    },
    /// The engine cannot run this code or call at all (an operation or a
    /// feature with no mapping on its target); suites skip such cases.
    #[error("{engine} cannot run this: {reason}")]
    Unsupported {
        /// The engine's name.
        engine: &'static str,
        /// What is not supported.
        reason: String,
    },
}

/// An engine runs one call against a world.
pub trait Engine {
    /// Its name (`evm`, `ir`, ...).
    fn name(&self) -> &'static str;
    /// Runs `call` from `world` under `fork`'s rules, without changing `world`.
    fn run(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        fork: Fork,
    ) -> Result<Outcome, EngineError>;

    /// Reruns `call` recording its effects (storage writes, logs, the
    /// exit) with the EVM pc of each, for lockstep comparison
    /// ([`trace::lockstep`]); `None` when the engine cannot trace.
    fn trace(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        fork: Fork,
    ) -> Option<Result<Vec<trace::Step>, EngineError>> {
        let _ = (world, block, call, fork);
        None
    }

    /// Whether a call may send `value` wei. Engines whose target cannot
    /// express the amount (less than a lamport on Solana) say no; suites
    /// then compare them with revm on the same call with value 0.
    fn carries_value(&self, value: U256) -> bool {
        let _ = value;
        true
    }
}
