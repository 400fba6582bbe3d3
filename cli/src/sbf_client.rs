//! A Solana client's view of a translated program, written beside the ELF:
//! the manifest (`NAME.manifest.json`, documented in docs/json.md) says
//! how to create and initialize the state account, lay out instruction
//! data, find the accounts a call needs, read return data, events and
//! errors; the Codama IDL (`NAME.codama.json`) says the same in the form
//! Solana client generators read. docs/solana.md walks a client through
//! both.

use crate::sbf_check::Checked;
use alloy_json_abi::{Event, Function, JsonAbi, Param, StateMutability};
use alloy_primitives::{hex, keccak256};
use chainlift_backend_sbf::{Program, Target, exit, storage};
use chainlift_ir::function::Terminator;
use chainlift_ir::inst::{CallKind, ExitKind, HostOp, Op, SourcePos};
use chainlift_ir::verify::Verified;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The manifest's own version, bumped when a field changes meaning.
pub(crate) const MANIFEST_VERSION: u32 = 1;

/// The system program's id, which a call that brings value needs.
const SYSTEM_PROGRAM: &str = "11111111111111111111111111111111";

/// Bytes of instruction data before the calldata: the value in lamports.
const VALUE_BYTES: usize = 8;

/// What the manifest and the IDL are made from.
pub(crate) struct Client<'a> {
    /// The contract's name (the artefact's, or the output file's stem).
    pub(crate) name: String,
    pub(crate) target: &'a Target,
    pub(crate) program: &'a Program,
    pub(crate) module: &'a Verified,
    pub(crate) checked: &'a Checked,
    pub(crate) abi: Option<&'a JsonAbi>,
    /// The program's id, when known (`translate --program-id`).
    pub(crate) program_id: Option<String>,
}

/// One external function: from the dispatcher, the ABI, or both.
struct Entry<'a> {
    selector: u32,
    abi: Option<&'a Function>,
    in_bytecode: bool,
    /// The operations its code reaches that look an account up by its EVM
    /// address (the client finds those accounts by simulation).
    lookups: BTreeSet<&'static str>,
}

/// Where the module looks an account up by EVM address, and which
/// operation it is: calls (not to the precompiles the program runs
/// itself), `balance`, `extcodesize` and `selfdestruct`.
fn lookup_sites(module: &Verified) -> Vec<(SourcePos, &'static str)> {
    let f = &module.functions[0];
    let precompile = |v: chainlift_ir::entities::Value| {
        f.layout
            .iter()
            .flat_map(|b| &f.block(*b).insts)
            .find(|i| i.results.first() == Some(&v))
            .and_then(|i| match i.op {
                Op::Iconst(k) => Some(
                    k == alloy_primitives::U256::from(1) || k == alloy_primitives::U256::from(2),
                ),
                _ => None,
            })
            .unwrap_or(false)
    };
    let mut out = vec![];
    for b in &f.layout {
        let data = f.block(*b);
        for i in &data.insts {
            let what = match i.op {
                Op::Host(HostOp::Call(CallKind::Call | CallKind::StaticCall))
                    if !i.args.get(1).is_some_and(|a| precompile(*a)) =>
                {
                    "call"
                }
                Op::Host(HostOp::Balance) => "balance",
                Op::Host(HostOp::ExtCodeSize) => "extcodesize",
                _ => continue,
            };
            out.push((i.pos, what));
        }
        if let Terminator::Exit(ExitKind::SelfDestruct, _) = data.term {
            out.push((data.term_pos, "selfdestruct"));
        }
    }
    out
}

impl Client<'_> {
    /// Every external function, by selector.
    fn entries(&self) -> Vec<Entry<'_>> {
        let mut by: BTreeMap<u32, Entry> = BTreeMap::new();
        let entry = |selector| Entry {
            selector,
            abi: None,
            in_bytecode: false,
            lookups: BTreeSet::new(),
        };
        if let Some(d) = &self.checked.dispatch {
            for s in &d.selectors {
                by.entry(s.selector)
                    .or_insert_with(|| entry(s.selector))
                    .in_bytecode = true;
            }
        }
        for f in self.abi.into_iter().flat_map(|a| a.functions()) {
            let selector = u32::from_be_bytes(f.selector().0);
            by.entry(selector).or_insert_with(|| entry(selector)).abi = Some(f);
        }
        for (pos, what) in lookup_sites(self.module) {
            for s in self.checked.selectors(pos) {
                if let Some(e) = by.get_mut(s) {
                    e.lookups.insert(what);
                }
            }
        }
        by.into_values().collect()
    }

    /// The state account a fresh deployment needs: its data length (the
    /// table for the constructor's storage, with room to spare) and rent.
    fn state_size(&self) -> (usize, usize) {
        let capacity = storage::capacity_for(self.target.initial_storage.len());
        (storage::HEADER + storage::ENTRY * capacity, capacity)
    }

    /// Lamports that keep an account of `len` data bytes rent-exempt.
    fn rent(&self, len: usize) -> u64 {
        (128 + len as u64) * u64::from(self.target.rent_per_byte)
    }

    /// The manifest (docs/json.md, "the sbf manifest").
    pub(crate) fn manifest(&self) -> Value {
        let (data_len, capacity) = self.state_size();
        let functions: Vec<Value> = self.entries().iter().map(function_json).collect();
        let (fallback, receive) = self
            .checked
            .dispatch
            .as_ref()
            .map_or((None, None), |d| (d.fallback, d.receive));
        let events: Vec<Value> = self
            .abi
            .into_iter()
            .flat_map(|a| a.events())
            .map(event_json)
            .collect();
        let errors: Vec<Value> = exit::ALL
            .iter()
            .map(|(code, name)| {
                json!({
                    "code": code,
                    "name": name,
                    "message": exit::describe(*code),
                    "target_limit": exit::is_target_limit(*code),
                })
            })
            .collect();
        json!({
            "manifest_version": MANIFEST_VERSION,
            "name": self.name,
            "program": {
                "format": "SBPF v3 ELF, deployed through the upgradeable loader",
                "elf_bytes": self.program.elf.len(),
                "instructions": self.program.instructions,
                "heap_bytes": self.target.heap_size,
                "needs_heap_frame": self.target.heap_size > 32 * 1024,
                "evm_memory_bytes": self.program.memory_limit,
            },
            "chain_id": self.target.chain_id,
            "wei_per_lamport": self.target.wei_per_lamport,
            "constants": self.checked.constants_json(),
            "addresses": "an EVM address is the last 20 bytes of a Solana public key: msg.sender is the caller account's, address(this) the state account's (`chainlift address KEY` prints it)",
            "state": {
                "owner": "the program",
                "data_len": data_len,
                "rent_exempt_lamports": self.rent(data_len),
                "rent_per_byte": self.target.rent_per_byte,
                "table": {
                    "magic": format!("0x{:016x}", storage::MAGIC),
                    "header_bytes": storage::HEADER,
                    "entry_bytes": storage::ENTRY,
                    "capacity": capacity,
                    "initial_slots": self.target.initial_storage.values().filter(|v| !v.is_zero()).count(),
                },
                "balance": "the contract's balance is the state account's lamports above rent_exempt_lamports, in wei (times wei_per_lamport)",
            },
            "initialize": {
                "data": hex::encode_prefixed([0u8; VALUE_BYTES]),
                "accounts": [
                    {"name": "state", "writable": true, "signer": true},
                    {"name": "caller", "writable": false, "signer": true},
                ],
                "note": "once, on the freshly created state account (all zeros, owned by the program): writes the storage table the constructor left",
            },
            "instruction_data": {
                "value": {"offset": 0, "bytes": VALUE_BYTES, "encoding": "u64 little-endian: lamports sent with the call (msg.value / wei_per_lamport)"},
                "calldata": {"offset": VALUE_BYTES, "encoding": "the Solidity ABI call: the 4-byte selector, then the arguments in 32-byte big-endian words"},
            },
            "accounts": [
                {"index": 0, "name": "state", "writable": true, "signer": false},
                {"index": 1, "name": "caller", "writable": "when value > 0", "signer": true},
                {"name": "system_program", "address": SYSTEM_PROGRAM, "when": "value > 0, or a call pays an account"},
                {"name": "by address", "when": "the function looks accounts up (functions[].accounts_by_address)", "resolve": format!("send (or simulate); on error {:#x} the return data is the 20-byte EVM address: add, writable, the account whose public key ends in it, and send again", exit::ACCOUNT_NEEDED)},
            ],
            "functions": functions,
            "fallback": fallback.is_some(),
            "receive": receive.is_some(),
            "return_data": "sol_set_return_data: the ABI-encoded return values on success (error 0), the revert data with error 1 (Solana discards the account changes); at most 1,024 bytes",
            "events": {
                "format": "one `sol_log_data` record per log (`Program data:` in base64; a record of two parts when the data is over 256 bytes, to join): a byte n, then n topics of 32 bytes (big-endian), then the ABI-encoded data",
                "events": events,
            },
            "errors": errors,
        })
    }

    /// The Codama IDL: one instruction per function, its 4-byte selector
    /// as discriminator at offset 8 (after the value), arguments in
    /// big-endian words; the initialize instruction; the error codes.
    pub(crate) fn codama(&self) -> Value {
        let mut instructions = vec![codama::initialize()];
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for e in self.entries() {
            let base = e
                .abi
                .map_or_else(|| format!("fn_{:08x}", e.selector), |f| f.name.clone());
            let n = names.entry(base.clone()).or_default();
            *n += 1;
            // Overloads get the selector as a suffix.
            let name = if *n == 1 {
                base
            } else {
                format!("{base}_{:08x}", e.selector)
            };
            instructions.push(codama::instruction(&name, &e));
        }
        let errors: Vec<Value> = exit::ALL
            .iter()
            .filter(|(code, _)| *code != exit::SUCCESS)
            .map(|(code, name)| codama::error(name, *code, &exit::describe(*code)))
            .collect();
        codama::root(
            &self.name,
            self.program_id.as_deref().unwrap_or_default(),
            instructions,
            errors,
        )
    }
}

fn params_json(ps: &[Param]) -> Vec<Value> {
    ps.iter()
        .map(|p| json!({"name": p.name, "type": p.selector_type()}))
        .collect()
}

fn function_json(e: &Entry) -> Value {
    let mut v = json!({
        "selector": format!("0x{:08x}", e.selector),
        "in_bytecode": e.in_bytecode,
        "accounts_by_address": e.lookups.iter().collect::<Vec<_>>(),
    });
    if let Some(f) = e.abi {
        v["name"] = f.name.clone().into();
        v["signature"] = f.signature().into();
        v["inputs"] = params_json(&f.inputs).into();
        v["outputs"] = params_json(&f.outputs).into();
        v["payable"] = (f.state_mutability == StateMutability::Payable).into();
    }
    v
}

fn event_json(e: &Event) -> Value {
    let inputs: Vec<Value> = e
        .inputs
        .iter()
        .map(|p| json!({"name": p.name, "type": p.selector_type(), "indexed": p.indexed}))
        .collect();
    json!({
        "name": e.name,
        "signature": e.signature(),
        "topic0": (!e.anonymous).then(|| keccak256(e.signature()).to_string()),
        "inputs": inputs,
    })
}

/// Codama's nodes (`codama-idl/codama`'s node types, standard `codama`).
mod codama {
    use super::{Entry, SYSTEM_PROGRAM, VALUE_BYTES};
    use serde_json::{Value, json};

    /// The Codama standard version the file follows (the programs' node
    /// with `events` and `constants`).
    const VERSION: &str = "1.9.2";

    pub(super) fn root(
        name: &str,
        program_id: &str,
        instructions: Vec<Value>,
        errors: Vec<Value>,
    ) -> Value {
        json!({
            "kind": "rootNode",
            "standard": "codama",
            "version": VERSION,
            "program": {
                "kind": "programNode",
                "name": camel(name),
                "publicKey": program_id,
                "version": env!("CARGO_PKG_VERSION"),
                "docs": [format!("{name} translated from EVM bytecode by chainlift: instruction data is the value in lamports (u64 little-endian), then the Solidity ABI call (selector, big-endian words). See the manifest beside the program.")],
                "accounts": [],
                "instructions": instructions,
                "definedTypes": [],
                "pdas": [],
                "events": [],
                "errors": errors,
                "constants": [],
            },
            "additionalPrograms": [],
        })
    }

    pub(super) fn error(name: &str, code: u64, message: &str) -> Value {
        json!({
            "kind": "errorNode",
            "name": camel(name),
            "code": code,
            "message": message,
            "docs": [],
        })
    }

    fn account(name: &str, writable: bool, signer: bool, optional: bool, docs: &str) -> Value {
        json!({
            "kind": "instructionAccountNode",
            "name": name,
            "isWritable": writable,
            "isSigner": signer,
            "isOptional": optional,
            "docs": [docs],
        })
    }

    fn number(format: &str, endian: &str) -> Value {
        json!({"kind": "numberTypeNode", "format": format, "endian": endian})
    }

    fn fixed_bytes(size: usize) -> Value {
        json!({"kind": "fixedSizeTypeNode", "size": size, "type": {"kind": "bytesTypeNode"}})
    }

    /// `ty` after `offset` zero bytes.
    fn padded(offset: usize, ty: Value) -> Value {
        json!({"kind": "preOffsetTypeNode", "offset": offset, "strategy": "padded", "type": ty})
    }

    fn argument(name: &str, ty: Value, docs: &str) -> Value {
        json!({
            "kind": "instructionArgumentNode",
            "name": name,
            "type": ty,
            "docs": [docs],
        })
    }

    /// A static ABI type as the 32-byte word it is encoded in, or none
    /// for a dynamic or composite type.
    fn word(ty: &str) -> Option<Value> {
        let unsigned = |bits: usize| -> Option<Value> {
            let format = match bits {
                8 => "u8",
                16 => "u16",
                32 => "u32",
                64 => "u64",
                128 => "u128",
                _ => return Some(fixed_bytes(32)),
            };
            Some(padded(32 - bits / 8, number(format, "be")))
        };
        match ty {
            "address" => Some(padded(12, fixed_bytes(20))),
            "bool" => Some(padded(
                31,
                json!({"kind": "booleanTypeNode", "size": number("u8", "be")}),
            )),
            t if t.starts_with("uint") => unsigned(t[4..].parse().unwrap_or(256)),
            // Signed integers are sign-extended, bytesN left-aligned:
            // the whole word.
            t if t.starts_with("int") => Some(fixed_bytes(32)),
            t if t.starts_with("bytes") && t.len() > 5 => Some(fixed_bytes(32)),
            _ => None,
        }
    }

    fn value_argument() -> Value {
        argument(
            "lamports",
            number("u64", "le"),
            "lamports sent with the call (msg.value in lamports)",
        )
    }

    pub(super) fn initialize() -> Value {
        json!({
            "kind": "instructionNode",
            "name": "initialize",
            "docs": ["Once, on the freshly created state account (all zeros, owned by the program): writes the storage the constructor left. The value must be 0."],
            "optionalAccountStrategy": "omitted",
            "accounts": [
                account("state", true, true, false, "the state account, signing its own initialization"),
                account("caller", false, true, false, "any signer"),
            ],
            "arguments": [value_argument()],
            "discriminators": [{"kind": "sizeDiscriminatorNode", "size": VALUE_BYTES}],
        })
    }

    pub(super) fn instruction(name: &str, e: &Entry) -> Value {
        let mut arguments = vec![value_argument()];
        let selector = format!("{:08x}", e.selector);
        arguments.push(json!({
            "kind": "instructionArgumentNode",
            "name": "selector",
            "type": fixed_bytes(4),
            "defaultValue": {"kind": "bytesValueNode", "encoding": "base16", "data": selector},
            "defaultValueStrategy": "omitted",
            "docs": ["the function's 4-byte selector"],
        }));
        let mut taken: Vec<String> = vec!["lamports".into(), "selector".into()];
        let words: Option<Vec<Value>> = e.abi.map_or(Some(vec![]), |f| {
            f.inputs
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let ty = p.selector_type();
                    let mut name = camel(&p.name);
                    if name.is_empty() || taken.contains(&name) {
                        name = format!("arg{i}{}", capitalized(&name));
                    }
                    taken.push(name.clone());
                    word(&ty).map(|w| argument(&name, w, &format!("{ty}, one 32-byte word")))
                })
                .collect()
        });
        match words {
            Some(ws) if e.abi.is_some() => arguments.extend(ws),
            _ => arguments.push(argument(
                "abiArguments",
                json!({"kind": "bytesTypeNode"}),
                "the arguments, ABI-encoded (after the selector)",
            )),
        }
        let mut docs = vec![match e.abi {
            Some(f) => format!("{} (selector 0x{selector})", f.signature()),
            None => format!("the function with selector 0x{selector}"),
        }];
        if !e.lookups.is_empty() {
            docs.push(format!(
                "Looks accounts up by EVM address ({}): add them as remaining accounts, found by simulation (error 0x204 returns the address).",
                e.lookups.iter().copied().collect::<Vec<_>>().join(", ")
            ));
        }
        let payable = e
            .abi
            .is_some_and(|f| f.state_mutability == alloy_json_abi::StateMutability::Payable);
        let mut accounts = vec![
            account("state", true, false, false, "the contract's state account"),
            account(
                "caller",
                payable,
                true,
                false,
                "msg.sender: the last 20 bytes of its key; writable to send value",
            ),
        ];
        if payable || !e.lookups.is_empty() {
            let mut system = account(
                "systemProgram",
                false,
                false,
                true,
                "when value is sent or an account is paid",
            );
            system["defaultValue"] =
                json!({"kind": "publicKeyValueNode", "publicKey": SYSTEM_PROGRAM});
            accounts.push(system);
        }
        json!({
            "kind": "instructionNode",
            "name": camel(name),
            "docs": docs,
            "optionalAccountStrategy": "omitted",
            "accounts": accounts,
            "arguments": arguments,
            "discriminators": [{
                "kind": "constantDiscriminatorNode",
                "offset": VALUE_BYTES,
                "constant": {
                    "kind": "constantValueNode",
                    "type": fixed_bytes(4),
                    "value": {"kind": "bytesValueNode", "encoding": "base16", "data": selector},
                },
            }],
        })
    }

    fn capitalized(s: &str) -> String {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }

    /// `snake_case` or `kebab-case` to `camelCase`, as Codama names are.
    pub(super) fn camel(s: &str) -> String {
        let mut out = String::new();
        let mut up = false;
        for c in s.chars() {
            if c == '_' || c == '-' || c == ' ' || c == '.' {
                up = !out.is_empty();
            } else if up {
                out.extend(c.to_uppercase());
                up = false;
            } else if out.is_empty() {
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// A base58 public key's 32 bytes.
pub(crate) fn public_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = bs58::decode(text.trim())
        .into_vec()
        .map_err(|e| anyhow::anyhow!("`{text}` is not base58: {e}"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        anyhow::anyhow!(
            "`{text}` decodes to {} bytes; a Solana public key has 32",
            bytes.len()
        )
    })
}

/// A key from the command line: base58, or a keypair file (a JSON array
/// of 64 bytes whose last 32 are the public key).
fn key_of(arg: &str) -> anyhow::Result<[u8; 32]> {
    if arg.starts_with("0x") && arg.len() == 42 {
        anyhow::bail!(
            "{arg} is an EVM address: every Solana key that ends in its 20 bytes stands for it, so there is no one key to print; give a public key or a keypair file"
        );
    }
    let path = std::path::Path::new(arg);
    if path.is_file() {
        let text =
            std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {arg}: {e}"))?;
        let bytes: Vec<u8> = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!("{arg} is not a keypair file (a JSON array of 64 bytes): {e}")
        })?;
        let key = bytes
            .get(32..64)
            .filter(|_| bytes.len() == 64)
            .ok_or_else(|| {
                anyhow::anyhow!("{arg} holds {} bytes; a keypair has 64", bytes.len())
            })?;
        return Ok(key.try_into().expect("32 bytes"));
    }
    public_key(arg)
}

/// `chainlift address`: each key and the EVM address it stands for.
pub(crate) fn address(
    keys: &[String],
    json: bool,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let mut rows = vec![];
    for k in keys {
        let key = key_of(k)?;
        let address = alloy_primitives::Address::from_slice(&key[12..]);
        rows.push((bs58::encode(key).into_string(), address));
    }
    if json {
        let list: Vec<Value> = rows
            .iter()
            .map(|(key, address)| json!({"key": key, "address": address.to_checksum(None)}))
            .collect();
        crate::report::write_json(
            out,
            &json!({"schema_version": crate::report::SCHEMA_VERSION, "addresses": list}),
        )?;
    } else {
        for (key, address) in rows {
            writeln!(out, "{key} {}", address.to_checksum(None))?;
        }
    }
    Ok(())
}
