//! Systems of contracts in the `sbf` engines: when the called contract
//! can call others and the world holds more than one contract, every
//! contract of the world goes into one program, a bundle
//! ([`chainlift_backend_sbf::bundle`]), and each instance has a state
//! account of its own, at the program-derived address of the contract's
//! address ([`chainlift_backend_sbf::address`]). The calls between them
//! run inside the program;
//! the engine passes the state accounts the program asks for, as a client
//! would after a simulation.

use super::{AccountIn, PROGRAM_ID, SbfEngine, instruction_data, key_of};
use crate::{BlockEnv, Call, Engine, EngineError, Log, Outcome, Status, World};
use alloy_primitives::{Address, U256, keccak256};
use chainlift_backend_sbf::{Contract, Target, bundle, storage, translate_bundle};
use chainlift_frontend_evm::Fork;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Whether `call` runs as a bundle: the called contract has a call
/// instruction and the world holds another contract.
pub(super) fn applies(world: &World, call: &Call) -> bool {
    let code = world.accounts.get(&call.to).map(|a| a.code.as_slice());
    code.is_some_and(|c| {
        !c.is_empty() && !crate::stylus::is_wasm(c) && super::uses_any(c, &[0xf1, 0xf2, 0xf4, 0xfa])
    }) && world
        .accounts
        .iter()
        .any(|(a, x)| *a != call.to && !x.code.is_empty())
}

/// The world's contracts, by address.
fn contracts(world: &World) -> Vec<Address> {
    world
        .accounts
        .iter()
        .filter(|(_, a)| !a.code.is_empty())
        .map(|(a, _)| *a)
        .collect()
}

/// The owner of the accounts that stand for contracts left out of the
/// bundle (code that does not translate): another program, so that a
/// call into one ends in the target limit of calls into code.
const FOREIGN: [u8; 32] = [0x22; 32];

impl SbfEngine {
    /// The world's contracts whose code translates for `target`, by
    /// address: their code ids are their positions in the bundle. The
    /// others stay out (a call into one is a call into code).
    fn members(&self, world: &World, fork: Fork, target: &Target) -> Vec<Address> {
        contracts(world)
            .into_iter()
            .filter(|a| {
                let code = &world.accounts[a].code;
                let constants: Vec<_> = target.constants.iter().map(|(f, v)| (*f, *v)).collect();
                let key = (keccak256(code).0, fork, constants);
                if let Some(known) = self
                    .in_bundle
                    .lock()
                    .ok()
                    .and_then(|m| m.get(&key).copied())
                {
                    return known;
                }
                let ok = self.lifter.module(code, fork).is_ok_and(|c| {
                    c.wasm.is_none()
                        && chainlift_backend_sbf::check::check_in_bundle(&c.module, target)
                            .is_ok_and(|r| r.unsupported.is_empty())
                });
                if let Ok(mut m) = self.in_bundle.lock() {
                    m.insert(key, ok);
                }
                ok
            })
            .collect()
    }

    /// The bundle of the world's contracts `members`, translated for
    /// `target`, loaded (and compiled for the JIT); cached by their code.
    fn compile_bundle(
        &self,
        world: &World,
        members: &[Address],
        fork: Fork,
        target: &Target,
    ) -> Arc<Result<solana_sbpf::elf::Executable<super::Context>, EngineError>> {
        let mut id = b"bundle".to_vec();
        for a in members {
            id.extend_from_slice(keccak256(&world.accounts[a].code).as_slice());
        }
        let constants = target.constants.iter().map(|(f, v)| (*f, *v)).collect();
        let key = (keccak256(&id).0, fork, target.chain_id, constants);
        if let Ok(cache) = self.programs.lock()
            && let Some(c) = cache.get(&key)
        {
            return c.clone();
        }
        let result = Arc::new(self.build_bundle(world, members, fork, target));
        if let Ok(mut cache) = self.programs.lock() {
            cache.insert(key, result.clone());
        }
        result
    }

    fn build_bundle(
        &self,
        world: &World,
        members: &[Address],
        fork: Fork,
        target: &Target,
    ) -> Result<solana_sbpf::elf::Executable<super::Context>, EngineError> {
        let address = members.first().copied().unwrap_or_default();
        let failed = |reason: String| EngineError::Translate { address, reason };
        let mut modules = vec![];
        for a in members {
            let compiled = self
                .lifter
                .module(&world.accounts[a].code, fork)
                .map_err(failed)?;
            if compiled.wasm.is_some() {
                return Err(EngineError::Unsupported {
                    engine: self.name(),
                    reason: format!("a WASM contract in a bundle ({a})"),
                });
            }
            modules.push(compiled);
        }
        // Initial storage is per state account, written by the engine.
        let empty = BTreeMap::new();
        let contracts: Vec<Contract> = modules
            .iter()
            .map(|c| Contract {
                module: &c.module,
                initial_storage: &empty,
                // The engine writes every state account itself.
                address: None,
            })
            .collect();
        let target = Target {
            heap_size: bundle::HEAP,
            ..target.clone()
        };
        let program = translate_bundle(&contracts, &target).map_err(|e| match e {
            chainlift_backend_sbf::Error::Unsupported { .. }
            | chainlift_backend_sbf::Error::TargetLimit { .. } => EngineError::Unsupported {
                engine: self.name(),
                reason: format!("{e} (in the bundle of {} contracts)", members.len()),
            },
            chainlift_backend_sbf::Error::Internal(_) => failed(e.to_string()),
        })?;
        let executable =
            super::load(&program.elf).map_err(|e| failed(format!("sbf loader: {e}")))?;
        if self.jit {
            executable
                .jit_compile()
                .map_err(|e| failed(format!("sbf jit: {e}")))?;
        }
        Ok(executable)
    }

    /// Runs `call` with the world's contracts as one bundle; `None` when
    /// the call runs as a single contract instead: the called contract
    /// does not translate in a bundle, or the caller is a contract.
    pub(super) fn run_bundle(
        &self,
        world: &World,
        block: &BlockEnv,
        call: &Call,
        fork: Fork,
    ) -> Result<Option<Outcome>, EngineError> {
        let unsupported = |reason: String| EngineError::Unsupported {
            engine: self.name(),
            reason,
        };
        let target = self.target_for(block, call.gas_price);
        let mut members = self.members(world, fork, &target);
        if members.contains(&call.caller) {
            return Ok(None);
        }
        let reads_balance = members
            .iter()
            .any(|a| super::uses_any(&world.accounts[a].code, &[0x31]));
        // A contract whose balance is not whole lamports, and which reads
        // or moves it (or any, when BALANCE may read it), stays out: it
        // stands for code outside the bundle.
        members.retain(|a| {
            let acct = &world.accounts[a];
            self.lamports(acct.balance).is_some()
                || !(reads_balance || super::uses_any(&acct.code, &[0x47, 0xf1, 0xff]))
        });
        if !members.contains(&call.to) {
            return Ok(None);
        }
        let value = self.lamports(call.value).ok_or_else(|| {
            unsupported(format!(
                "the call sends {} wei, not a whole number of lamports",
                call.value
            ))
        })?;
        for a in &members {
            let code = &world.accounts[a].code;
            if fork < Fork::Cancun && super::uses_any(code, &[0xff]) {
                return Err(unsupported(format!(
                    "before Cancun SELFDESTRUCT deletes the contract ({fork:?})"
                )));
            }
        }
        let program = self.compile_bundle(world, &members, fork, &target);
        let exe = program.as_ref().as_ref().map_err(Clone::clone)?;
        // Each contract's state account: its prefix and table, as the
        // program creates it (128 entries) when its storage fits there,
        // else one table large enough (where the program's would have grown
        // by extensions); and its balance above the rent-exempt minimum.
        let rent = u64::from(self.target.rent_per_byte);
        let mut states: BTreeMap<Address, (Vec<u8>, u64, [u8; 32])> = BTreeMap::new();
        for (id, a) in members.iter().enumerate() {
            let acct = &world.accounts[a];
            let (key, bump) = chainlift_backend_sbf::address::state_account(&PROGRAM_ID, *a);
            let slots = acct.storage.values().filter(|v| !v.is_zero()).count();
            let capacity = if slots <= storage::CREATED_SLOTS {
                storage::CREATED_CAPACITY
            } else {
                storage::capacity_for(slots)
            };
            let data = storage::encode_bundle(&acct.storage, capacity, id as u32, *a, bump);
            // Whole lamports, or a contract that never sees the rest.
            let balance = self
                .lamports(acct.balance)
                .unwrap_or_else(|| self.lamports_floor(acct.balance));
            let reserve = (128 + data.len() as u64) * rent;
            states.insert(*a, (data, reserve + balance, key));
        }
        let caller_wei = world.accounts.get(&call.caller).map_or(U256::ZERO, |a| {
            a.balance
                .saturating_sub(U256::from(call.gas_limit).saturating_mul(call.gas_price))
        });
        let state_account = |a: &Address| {
            let (data, lamports, key) = &states[a];
            AccountIn {
                key: *key,
                owner: PROGRAM_ID,
                lamports: *lamports,
                signer: false,
                writable: true,
                executable: false,
                data,
            }
        };
        let mut addresses = vec![call.to, call.caller];
        let mut accounts = vec![
            state_account(&call.to),
            AccountIn::payer(
                key_of(call.caller),
                self.payer_lamports(caller_wei).max(value),
            ),
        ];
        if value != 0 {
            addresses.push(Address::ZERO);
            accounts.push(AccountIn::system_program());
        }
        if reads_balance {
            // What BALANCE may read must read as revm has it (as for a
            // single contract, for any address the members may read).
            for a in (0..=0x11u8).map(Address::with_last_byte) {
                if world.accounts.get(&a).is_some_and(|x| !x.balance.is_zero()) {
                    return Err(unsupported(format!(
                        "BALANCE may read {a}, which has a balance on the EVM and none on Solana"
                    )));
                }
            }
            let payer = self.payer_lamports(caller_wei);
            if self.lamports(caller_wei) != Some(payer) || payer < value {
                return Err(unsupported(format!(
                    "BALANCE may read the caller's balance of {caller_wei} wei, which is not a whole number of lamports that covers the value"
                )));
            }
        }
        let data = instruction_data(value, &call.data);
        let clock = (
            block.number.saturating_to::<u64>(),
            block.timestamp.saturating_to::<i64>(),
        );
        let run = self.run_adding(
            exe,
            (&mut accounts, &mut addresses),
            &data,
            clock,
            bundle::HEAP as usize,
            |a| {
                if states.contains_key(&a) {
                    Ok(state_account(&a))
                } else {
                    // Code left out of the bundle stands for another program's.
                    self.account_asked_for(world, a, reads_balance, FOREIGN)
                }
            },
        )?;
        let mut o = super::ended(&run);
        if o.status != Status::Success {
            return Ok(Some(o));
        }
        let before: Vec<u64> = accounts.iter().map(|a| a.lamports).collect();
        o.balances = self.balance_changes(world, block, call, &addresses, &before, &run);
        for (i, a) in addresses.iter().enumerate() {
            if states.contains_key(a) {
                let changes = super::storage_changes(*a, &world.accounts[a].storage, &run.data[i])?;
                o.storage.extend(changes);
            }
        }
        o.logs = run
            .logs
            .iter()
            .map(|slices| decode_bundle_log(slices))
            .collect::<Result<_, _>>()
            .map_err(|reason| EngineError::Translate {
                address: call.to,
                reason,
            })?;
        Ok(Some(o))
    }
}

/// An EVM log from a bundle's `sol_log_data` record: the emitting
/// contract's address (20 bytes), then the record as outside a bundle.
pub fn decode_bundle_log(slices: &[Vec<u8>]) -> Result<Log, String> {
    let record = slices.concat();
    if record.len() < 21 {
        return Err(format!(
            "a bundle's sol_log_data record of {} bytes is not an EVM log",
            record.len()
        ));
    }
    let (address, rest) = record.split_at(20);
    super::decode_log(Address::from_slice(address), &[rest.to_vec()])
}
