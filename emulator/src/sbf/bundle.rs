//! Systems of contracts in the `sbf` engines: when the called contract
//! can call others and the world holds more than one contract, every
//! contract of the world goes into one program, a bundle
//! ([`chainlift_backend_sbf::bundle`]), and each instance has a state
//! account of its own, at the program-derived address of the contract's
//! address ([`chainlift_backend_sbf::address`]). The calls between them
//! run inside the program;
//! the engine passes the state accounts the program asks for, as a client
//! would after a simulation.

use super::{AccountIn, Needed, PROGRAM_ID, SbfEngine, instruction_data, key_of};
use crate::children;
use crate::{BlockEnv, Call, Engine, EngineError, Log, Outcome, Status, World};
use alloy_primitives::{Address, U256, keccak256};
use chainlift_backend_sbf::{Contract, Init, Outside, Target, bundle, storage, translate_bundle};
use chainlift_frontend_evm::Fork;
use chainlift_ir::inst::HostOp;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Whether `call` runs as a bundle: the called contract creates contracts
/// (a `create` or `create2` in its lifted code), or has a call instruction
/// and the world holds another contract, or reads code sizes in a world
/// of several programs.
pub(super) fn applies(engine: &SbfEngine, world: &World, call: &Call, fork: Fork) -> bool {
    let code = world
        .accounts
        .get(&call.to)
        .map(|a| a.code.as_slice())
        .filter(|c| !c.is_empty() && !crate::stylus::is_wasm(c));
    let Some(code) = code else {
        return false;
    };
    let calls_others = super::uses_any(code, &[0xf1, 0xf2, 0xf4, 0xfa])
        && world
            .accounts
            .iter()
            .any(|(a, x)| *a != call.to && !x.code.is_empty());
    // (In a system of several programs, a contract's code size is known
    // to the others' bundles.)
    let sizes_others = !world.programs.is_empty() && super::uses_any(code, &[0x3b]);
    calls_others
        || sizes_others
        || (super::uses_any(code, &[0xf0, 0xf5])
            && engine.lifter.module(code, fork).is_ok_and(|m| {
                m.module.functions.iter().any(|f| {
                    f.layout.iter().flat_map(|b| &f.block(*b).insts).any(|i| {
                        matches!(
                            i.op,
                            chainlift_ir::inst::Op::Host(HostOp::Create | HostOp::Create2)
                        )
                    })
                })
            }))
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

/// The id of the program that holds a group of the world's contracts
/// (`World::programs`): [`PROGRAM_ID`] for the contracts in no named
/// group, else derived from the name.
pub fn program_of(group: &str) -> [u8; 32] {
    if group.is_empty() {
        PROGRAM_ID
    } else {
        keccak256(format!("chainlift program {group}")).0
    }
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

    /// The bundle of `layout`'s code, translated for `target`, loaded (and
    /// compiled for the JIT); cached by that code.
    fn compile_bundle(
        &self,
        layout: &Layout,
        fork: Fork,
        target: &Target,
    ) -> Arc<Result<solana_sbpf::elf::Executable<super::Context>, EngineError>> {
        let mut id = b"bundle".to_vec();
        for code in &layout.codes {
            id.extend_from_slice(keccak256(code).as_slice());
        }
        for o in &target.outside {
            id.extend_from_slice(o.address.as_slice());
            id.extend_from_slice(&o.program);
        }
        for t in &target.trusted {
            id.extend_from_slice(t);
        }
        let constants = target.constants.iter().map(|(f, v)| (*f, *v)).collect();
        let key = (keccak256(&id).0, fork, target.chain_id, constants);
        if let Ok(cache) = self.programs.lock()
            && let Some(c) = cache.get(&key)
        {
            return c.clone();
        }
        let result = Arc::new(self.build_bundle(layout, fork, target));
        if let Ok(mut cache) = self.programs.lock() {
            cache.insert(key, result.clone());
        }
        result
    }

    fn build_bundle(
        &self,
        layout: &Layout,
        fork: Fork,
        target: &Target,
    ) -> Result<solana_sbpf::elf::Executable<super::Context>, EngineError> {
        let address = layout.members.first().copied().unwrap_or_default();
        let failed = |reason: String| EngineError::Translate { address, reason };
        let mut modules = vec![];
        for code in &layout.codes {
            let compiled = self.lifter.module(code, fork).map_err(failed)?;
            if compiled.wasm.is_some() {
                return Err(EngineError::Unsupported {
                    engine: self.name(),
                    reason: "a WASM contract in a bundle".into(),
                });
            }
            modules.push(compiled);
        }
        // Initial storage is per state account, written by the engine.
        let empty = BTreeMap::new();
        let keys: Vec<Vec<U256>> = layout
            .children
            .iter()
            .map(|c| {
                (0..c.immutables.len())
                    .map(children::immutable_key)
                    .collect()
            })
            .collect();
        let contracts: Vec<Contract> = modules
            .iter()
            .enumerate()
            .map(|(id, c)| Contract {
                module: &c.module,
                initial_storage: &empty,
                // The engine writes every state account itself.
                address: None,
                immutables: layout
                    .template_of(id as u32)
                    .map_or(&[][..], |_| &keys[(id - layout.members.len()) / 2]),
                nonce: 0,
                init: layout.init_of(id).map(|j| Init {
                    runtime: layout.template_id(j),
                    template: &layout.children[j].template,
                    immutables: &layout.children[j].immutables,
                    keys: &keys[j],
                }),
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
                reason: format!("{e} (in the bundle of {} contracts)", layout.members.len()),
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

    /// The init code `code` holds, found once per code.
    fn children_of(&self, code: &[u8], fork: Fork) -> Arc<Vec<children::Child>> {
        let key = (keccak256(code).0, fork);
        if let Some(known) = self.children.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return known;
        }
        let found = Arc::new(match self.lifter.module(code, fork) {
            Ok(m) => children::children(code, &m.module.functions, fork).0,
            Err(_) => vec![],
        });
        if let Ok(mut m) = self.children.lock() {
            m.insert(key, found.clone());
        }
        found
    }

    /// The code of the bundle of `members`: each member's, then per child
    /// (init code a member holds) its template and its init code; each
    /// member that is an instance of a child runs the template.
    fn layout(&self, world: &World, members: Vec<Address>, fork: Fork) -> Layout {
        let mut found: Vec<children::Child> = vec![];
        for a in &members {
            for c in self.children_of(&world.accounts[a].code, fork).iter() {
                if !found.iter().any(|f| f.init == c.init) {
                    found.push(c.clone());
                }
            }
        }
        let mut codes: Vec<Vec<u8>> = members
            .iter()
            .map(|a| world.accounts[a].code.clone())
            .collect();
        for c in &found {
            codes.push(c.with_slots());
            codes.push(c.init.clone());
        }
        let mut ids = BTreeMap::new();
        for (k, a) in members.iter().enumerate() {
            let code = &world.accounts[a].code;
            let instance = found
                .iter()
                .enumerate()
                .find_map(|(j, c)| Some((j, c.instance(code)?)));
            let entry = match instance {
                Some((j, slots)) => ((members.len() + 2 * j) as u32, slots),
                None => (k as u32, vec![]),
            };
            ids.insert(*a, entry);
        }
        Layout {
            members,
            codes,
            children: found,
            ids,
        }
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
        // The system's programs: the called contract's, and one for each
        // other group of contracts the world puts in a program of its own
        // (`World::programs`), which calls reach by cross-program
        // invocation.
        let group = |a: &Address| world.programs.get(a).cloned().unwrap_or_default();
        let mine = group(&call.to);
        let program_id = program_of(&mine);
        let mut groups: BTreeMap<String, Vec<Address>> = BTreeMap::new();
        for a in &members {
            groups.entry(group(a)).or_default().push(*a);
        }
        let members = groups[&mine].clone();
        let trusted: Vec<[u8; 32]> = match groups.len() {
            1 => vec![],
            _ => groups.keys().map(|g| program_of(g)).collect(),
        };
        let target_of = |g: &str| Target {
            outside: groups
                .iter()
                .filter(|(h, _)| h.as_str() != g)
                .flat_map(|(h, at)| {
                    at.iter().map(|a| Outside {
                        address: *a,
                        program: program_of(h),
                        code_size: world.accounts[a].code.len() as u64,
                    })
                })
                .collect(),
            trusted: trusted.clone(),
            ..target.clone()
        };
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
        let layout = self.layout(world, members.clone(), fork);
        let program = self.compile_bundle(&layout, fork, &target_of(&mine));
        let exe = program.as_ref().as_ref().map_err(Clone::clone)?;
        let mut programs: super::Programs = vec![];
        let mut layouts = vec![(program_id, &layout)];
        let others: Vec<(String, Layout)> = groups
            .iter()
            .filter(|(g, _)| **g != mine)
            .map(|(g, at)| (g.clone(), self.layout(world, at.clone(), fork)))
            .collect();
        for (g, l) in &others {
            programs.push((program_of(g), self.compile_bundle(l, fork, &target_of(g))));
            layouts.push((program_of(g), l));
        }
        // Each contract's state account: its prefix and table, as the
        // program creates it (128 entries) when its storage fits there,
        // else one table large enough (where the program's would have grown
        // by extensions); and its balance above the rent-exempt minimum.
        let rent = u64::from(self.target.rent_per_byte);
        // (Every program's contracts: a call out needs the called one's.)
        let mut states: BTreeMap<Address, State> = BTreeMap::new();
        for (owner, l) in &layouts {
            for a in &l.members {
                let acct = &world.accounts[a];
                let (key, bump) = chainlift_backend_sbf::address::state_account(owner, *a);
                // An instance of a child's template keeps its immutables in
                // storage.
                let (id, immutables) = &l.ids[a];
                let mut slots = acct.storage.clone();
                slots.extend(immutables.iter().copied());
                let used = slots.values().filter(|v| !v.is_zero()).count();
                let capacity = if used <= storage::CREATED_SLOTS {
                    storage::CREATED_CAPACITY
                } else {
                    storage::capacity_for(used)
                };
                let mut data = storage::encode_bundle(&slots, capacity, *id, *a, bump);
                data[storage::NONCE..storage::NONCE + 8].copy_from_slice(&acct.nonce.to_le_bytes());
                // Whole lamports, or a contract that never sees the rest.
                let balance = self
                    .lamports(acct.balance)
                    .unwrap_or_else(|| self.lamports_floor(acct.balance));
                let reserve = (128 + data.len() as u64) * rent;
                states.insert(*a, (data, reserve + balance, key, *owner));
            }
        }
        let caller_wei = world.accounts.get(&call.caller).map_or(U256::ZERO, |a| {
            a.balance
                .saturating_sub(U256::from(call.gas_limit).saturating_mul(call.gas_price))
        });
        let state_account = |a: &Address| {
            let (data, lamports, key, owner) = &states[a];
            AccountIn {
                key: *key,
                owner: *owner,
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
        // The addresses whose state accounts the program asked for, to
        // create contracts there.
        let mut asked = vec![];
        let clock = (
            block.number.saturating_to::<u64>(),
            block.timestamp.saturating_to::<i64>(),
        );
        let cluster = super::Cluster {
            program_id,
            programs: Arc::new(programs),
            clock,
            heap_size: bundle::HEAP as usize,
        };
        let mine_holds = |a: &Address| states.get(a).is_some_and(|s| s.3 == program_id);
        let run = self.run_adding(
            exe,
            (&mut accounts, &mut addresses),
            &data,
            &cluster,
            |n| {
                let (a, state) = match n {
                    Needed::Outside(a, program) => {
                        if states.get(&a).is_none_or(|s| s.3 != program) {
                            return Err(EngineError::Translate {
                                address: a,
                                reason: "the program asked for a contract in a program that does not hold it".into(),
                            });
                        }
                        let id = Address::from_slice(&program[12..]);
                        return Ok(vec![(id, AccountIn::program(program)), (a, state_account(&a))]);
                    }
                    Needed::Plain(a) => (a, false),
                    Needed::State(a) => (a, true),
                };
                let one = if mine_holds(&a) {
                    Ok(state_account(&a))
                } else if state {
                    // The state account of a contract being created: the
                    // system's, empty. Ether sent to the address before
                    // stays where the program paid it, the account that
                    // stands for the address, not this one; code there
                    // (left out of the bundle) would collide on the EVM.
                    let held = world.accounts.get(&a).filter(|x| {
                        !x.balance.is_zero() || !x.code.is_empty() || x.nonce != 0
                    });
                    if held.is_some() {
                        return Err(EngineError::Unsupported {
                            engine: self.name(),
                            reason: format!(
                                "creates a contract at {a}, which holds ether, code or a nonce before it: on Solana that stays with the account standing for the address, not the new contract's state account"
                            ),
                        });
                    }
                    asked.push(a);
                    let (key, _) = chainlift_backend_sbf::address::state_account(&program_id, a);
                    Ok(AccountIn::other(key, [0; 32], 0))
                } else {
                    // Code left out of the bundle stands for another program's.
                    self.account_asked_for(world, a, reads_balance, FOREIGN)
                };
                Ok(vec![(a, one?)])
            },
        )?;
        let mut o = super::ended(&run);
        if o.status != Status::Success {
            return Ok(Some(o));
        }
        let before: Vec<u64> = accounts.iter().map(|a| a.lamports).collect();
        o.balances = self.balance_changes(world, block, call, &addresses, &before, &run);
        let rent = u64::from(self.target.rent_per_byte);
        let w = U256::from(self.target.wei_per_lamport);
        for (i, a) in addresses.iter().enumerate() {
            let data = &run.data[i];
            let ids = layouts.iter().find_map(|(_, l)| l.ids.get(a));
            if let Some((_, immutables)) = ids {
                let acct = &world.accounts[a];
                let mut changes = super::storage_changes(*a, &acct.storage, data)?;
                changes.retain(|(_, k), _| !immutables.iter().any(|(key, _)| key == k));
                o.storage.extend(changes);
                let nonce = nonce_of(data);
                if nonce != acct.nonce {
                    o.nonces.insert(*a, (acct.nonce, nonce));
                }
                continue;
            }
            if !asked.contains(a) || run.owners[i] != program_id {
                continue;
            }
            // A state account the program made to create a contract: its
            // balance is its lamports above the rent-exempt minimum, and
            // the rent is the signer's cost, as gas is on the EVM (also
            // when the creation failed: the account stays, vacant).
            let minimum = (128 + data.len() as u64) * rent;
            let was = world.accounts.get(a).map_or(U256::ZERO, |x| x.balance);
            let now = U256::from(run.lamports[i].saturating_sub(minimum)) * w;
            o.balances.remove(a);
            if now != was {
                o.balances.insert(*a, (was, now));
            }
            // (It was the system's when the call began: the signer paid
            // the whole minimum, on top of any lamports it held.)
            let paid = minimum;
            if let Some((was, now)) = o.balances.get(&call.caller).copied() {
                let back = now.saturating_add(U256::from(paid) * w);
                if back == was {
                    o.balances.remove(&call.caller);
                } else {
                    o.balances.insert(call.caller, (was, back));
                }
            }
            // The contract created, running a child's template.
            let child = storage::bundle_contract(data)
                .filter(|(_, at)| at == a)
                .and_then(|(id, _)| layout.template_of(id));
            let Some(child) = child else {
                continue;
            };
            let mut slots = super::storage_changes(*a, &BTreeMap::new(), data)?;
            let mut code = child.template.clone();
            for (j, pcs) in child.immutables.iter().enumerate() {
                let key = children::immutable_key(j);
                let value = slots.remove(&(*a, key)).map_or(U256::ZERO, |(_, v)| v);
                for pc in pcs {
                    code[pc + 1..pc + 33].copy_from_slice(&value.to_be_bytes::<32>());
                }
            }
            o.storage.extend(slots);
            o.code.insert(*a, code);
            let before_nonce = world.accounts.get(a).map_or(0, |x| x.nonce);
            o.nonces.insert(*a, (before_nonce, nonce_of(data)));
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

/// What a bundle holds: its members (contracts of the world), the code by
/// code id (the members', then a template and an init code per child), the
/// children, and per member its code id and immutables (for an instance of
/// a child's template).
struct Layout {
    members: Vec<Address>,
    codes: Vec<Vec<u8>>,
    children: Vec<children::Child>,
    ids: BTreeMap<Address, (u32, Vec<(U256, U256)>)>,
}

impl Layout {
    /// The child whose init code has code id `id`.
    fn init_of(&self, id: usize) -> Option<usize> {
        let k = id.checked_sub(self.members.len())?;
        (k % 2 == 1).then_some(k / 2)
    }

    /// The code id of child `j`'s template.
    fn template_id(&self, j: usize) -> u32 {
        (self.members.len() + 2 * j) as u32
    }

    /// The child whose template has code id `id`.
    fn template_of(&self, id: u32) -> Option<&children::Child> {
        let k = (id as usize).checked_sub(self.members.len())?;
        (k % 2 == 0).then(|| self.children.get(k / 2)).flatten()
    }
}

/// A state account the engine writes: its data, lamports, key and owner
/// (the program that holds the contract).
type State = (Vec<u8>, u64, [u8; 32], [u8; 32]);

/// The nonce in a bundle state account's prefix.
fn nonce_of(data: &[u8]) -> u64 {
    data.get(storage::NONCE..storage::NONCE + 8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}
