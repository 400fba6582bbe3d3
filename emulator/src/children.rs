//! The contracts a contract creates: init code embedded in its code (a
//! factory's `type(Pair).creationCode`), found where the code copies a
//! constant range of itself, and the runtime code that init code returns
//! as a **template**: the same for every instance except its immutables,
//! which solc writes into `PUSH32` immediates of the runtime code.
//!
//! A translation that must hold the child's code ahead of time (a Solana
//! bundle) keeps the template and reads each immutable from a reserved
//! storage slot of the instance ([`Child::with_slots`]): `PUSH32 value`
//! becomes `PUSH31 key; SLOAD`, 33 bytes as before, so every pc and jump
//! destination stays where it was.
//!
//! The template is found by running the init code on revm twice, from two
//! deployers, with two sets of constructor arguments and in two blocks: the
//! bytes that differ between the two runtimes are the immutables. An
//! immutable that came out equal in both runs stays in the template as a
//! constant; a program that compares the code an instance's constructor
//! returns with the template then finds the difference and stops, it never
//! runs the wrong code.

use crate::{Account, BlockEnv, Call, Status, World};
use alloy_primitives::{Address, U256, keccak256};
use chainlift_frontend_evm::Fork;
use chainlift_ir::function::Function;
use chainlift_ir::inst::{HostOp, Op};
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

/// Init code found in a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// Where the init code is in the parent's code.
    pub at: Range<usize>,
    /// The init code.
    pub init: Vec<u8>,
    /// The runtime code it returns, each immutable's immediate zeroed.
    pub template: Vec<u8>,
    /// The immutables, each as the pcs of the `PUSH32` instructions that
    /// push it (solc writes a copy at every use), in order of their first
    /// pc: immutable `i` is read from [`immutable_key`]`(i)`.
    pub immutables: Vec<Vec<usize>>,
}

/// Init code found in a contract that gives no template, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Where the init code is in the parent's code.
    pub at: Range<usize>,
    /// Why there is no template.
    pub why: String,
}

/// The init code a contract's code holds: each constant range it copies
/// out of itself (`codecopy` with constant offset and length in the lifted
/// `functions`) that runs as init code and returns runtime code. Ranges
/// that are not init code (constant tables, strings) do not run as one
/// and are left out; init code that runs but gives no template is
/// [`Refused`].
pub fn children(code: &[u8], functions: &[Function], fork: Fork) -> (Vec<Child>, Vec<Refused>) {
    let (mut found, mut refused) = (vec![], vec![]);
    for at in copied_ranges(code, functions) {
        match template(&code[at.clone()], fork) {
            Ok(Some((template, immutables))) => found.push(Child {
                init: code[at.clone()].to_vec(),
                at,
                template,
                immutables,
            }),
            Ok(None) => {}
            Err(why) => refused.push(Refused { at, why }),
        }
    }
    (found, refused)
}

/// The smallest init code worth trying: shorter copies are constants.
const MIN_INIT: usize = 16;

/// The ranges of `code` that `codecopy` instructions with constant offset
/// and length copy, each once, in order.
fn copied_ranges(code: &[u8], functions: &[Function]) -> Vec<Range<usize>> {
    let mut ranges = BTreeSet::new();
    for f in functions {
        let mut consts: HashMap<_, U256> = HashMap::new();
        for b in &f.layout {
            for inst in &f.block(*b).insts {
                if let (Op::Iconst(c), Some(r)) = (&inst.op, inst.results.first()) {
                    consts.insert(*r, *c);
                }
            }
        }
        for b in &f.layout {
            for inst in &f.block(*b).insts {
                if inst.op != Op::Host(HostOp::CodeCopy) {
                    continue;
                }
                let (Some(off), Some(len)) = (consts.get(&inst.args[1]), consts.get(&inst.args[2]))
                else {
                    continue;
                };
                let (Ok(off), Ok(len)) = (usize::try_from(*off), usize::try_from(*len)) else {
                    continue;
                };
                if len >= MIN_INIT && off.checked_add(len).is_some_and(|end| end <= code.len()) {
                    ranges.insert((off, off + len));
                }
            }
        }
    }
    ranges.into_iter().map(|(a, b)| a..b).collect()
}

/// The two runs' deployers.
const DEPLOYERS: [Address; 2] = [Address::new([0xc1; 20]), Address::new([0xc2; 20])];

/// The first word of the runs' constructor arguments, each word one more
/// than the one before: small numbers (valid addresses and amounts), and
/// each argument different from every other in both runs, so that
/// immutables holding different arguments stay apart. Then 0 and 1 (all
/// words alike) for a constructor that refuses those (a `bool` or an enum
/// refuses 2): immutables holding different arguments then look like one,
/// and an instance where they differ is not one of the template.
const ARGUMENT_WORDS: [(u64, u64); 4] = [(1, 1), (0x101, 1), (0, 0), (1, 0)];

/// Argument words appended to the init code.
const WORDS: usize = 8;

/// Runs `init` and returns the runtime template and the immutables' pcs;
/// `None` when it does not run as init code at all.
type Template = (Vec<u8>, Vec<Vec<usize>>);

fn template(init: &[u8], fork: Fork) -> Result<Option<Template>, String> {
    let mut runs: Vec<Vec<u8>> = vec![];
    for (first, step) in ARGUMENT_WORDS {
        if runs.len() == 2 {
            break;
        }
        let deployer = DEPLOYERS[runs.len()];
        let mut data = init.to_vec();
        for k in 0..WORDS as u64 {
            data.extend_from_slice(&U256::from(first + k * step).to_be_bytes::<32>());
        }
        let mut world = World::default();
        world.accounts.insert(
            deployer,
            Account {
                balance: U256::from(10u64).pow(U256::from(20)),
                ..Account::default()
            },
        );
        let block = BlockEnv {
            number: U256::from(1 + runs.len()),
            timestamp: BlockEnv::default().timestamp + U256::from(runs.len() * 12),
            ..BlockEnv::default()
        };
        let call = Call {
            caller: deployer,
            origin: deployer,
            to: Address::ZERO,
            value: U256::ZERO,
            data,
            gas_limit: 30_000_000,
            gas_price: U256::ZERO,
            create: true,
        };
        let Ok(d) = crate::evm::deploy(&mut world, &block, &call, fork) else {
            continue;
        };
        if d.outcome.status == Status::Success && !d.outcome.return_data.is_empty() {
            runs.push(d.outcome.return_data);
        }
    }
    let (a, b) = match runs.as_slice() {
        [] => return Ok(None),
        [_] => return Err("its constructor ran with one set of arguments only".into()),
        [a, b, ..] => (a, b),
    };
    if a.len() != b.len() {
        return Err(format!(
            "the runtime code it returns differs in length ({} and {} bytes)",
            a.len(),
            b.len()
        ));
    }
    let pushes = push32_immediates(a);
    let mut sites = BTreeSet::new();
    for i in (0..a.len()).filter(|i| a[*i] != b[*i]) {
        match pushes.iter().find(|pc| (*pc + 1..*pc + 33).contains(&i)) {
            Some(pc) => {
                sites.insert(*pc);
            }
            None => {
                return Err(format!(
                    "the runtime code differs between instances at byte {i:#x}, outside a PUSH32 immediate"
                ));
            }
        }
    }
    // Sites that held the same value in both runs push one immutable.
    let mut immutables: Vec<Vec<usize>> = vec![];
    let mut index: HashMap<(&[u8], &[u8]), usize> = HashMap::new();
    for pc in &sites {
        let key = (&a[pc + 1..pc + 33], &b[pc + 1..pc + 33]);
        let i = *index.entry(key).or_insert_with(|| {
            immutables.push(vec![]);
            immutables.len() - 1
        });
        immutables[i].push(*pc);
    }
    let mut template = a.clone();
    for pc in &sites {
        template[pc + 1..pc + 33].fill(0);
    }
    Ok(Some((template, immutables)))
}

/// The pcs of the `PUSH32` instructions of `code`.
fn push32_immediates(code: &[u8]) -> Vec<usize> {
    let (mut pcs, mut pc) = (vec![], 0);
    while pc < code.len() {
        let op = code[pc];
        if op == 0x7f {
            pcs.push(pc);
        }
        pc += 1 + if (0x60..=0x7f).contains(&op) {
            usize::from(op - 0x5f)
        } else {
            0
        };
    }
    pcs
}

/// The storage slot immutable `i` of a template is read from: the first 31
/// bytes of `keccak256("chainlift.immutable" ‖ i)` as a number (below
/// 2^248, what `PUSH31` pushes).
pub fn immutable_key(i: usize) -> U256 {
    let mut seed = b"chainlift.immutable".to_vec();
    seed.extend_from_slice(&(i as u64).to_be_bytes());
    let hash = keccak256(&seed);
    U256::from_be_slice(&hash[..31])
}

impl Child {
    /// The template with each immutable read from its slot: `PUSH32 v`
    /// becomes `PUSH31 key; SLOAD` ([`immutable_key`]).
    pub fn with_slots(&self) -> Vec<u8> {
        let mut code = self.template.clone();
        for (i, pcs) in self.immutables.iter().enumerate() {
            let key = immutable_key(i).to_be_bytes::<32>();
            for pc in pcs {
                code[*pc] = 0x7e;
                code[pc + 1..pc + 32].copy_from_slice(&key[1..]);
                code[pc + 32] = 0x54;
            }
        }
        code
    }

    /// The immutables' values in `runtime`, code the init code returned,
    /// with the slot each goes in; `None` when `runtime` is not an instance
    /// of the template (its length or a byte outside the immutables
    /// differs, or the copies of one immutable do).
    pub fn instance(&self, runtime: &[u8]) -> Option<Vec<(U256, U256)>> {
        if runtime.len() != self.template.len() {
            return None;
        }
        let mut masked = runtime.to_vec();
        let mut values = vec![];
        for (i, pcs) in self.immutables.iter().enumerate() {
            let value = &runtime[pcs[0] + 1..pcs[0] + 33];
            if pcs.iter().any(|pc| &runtime[pc + 1..pc + 33] != value) {
                return None;
            }
            values.push((immutable_key(i), U256::from_be_slice(value)));
            for pc in pcs {
                masked[pc + 1..pc + 33].fill(0);
            }
        }
        (masked == self.template).then_some(values)
    }
}
