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
use chainlift_ir::verify::Verified;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The manifest's own version, bumped when a field changes meaning.
pub(crate) const MANIFEST_VERSION: u32 = 1;

/// The system program's id, which a call that brings value needs.
pub(crate) const SYSTEM_PROGRAM: &str = "11111111111111111111111111111111";

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
        for (pos, what) in chainlift_backend_sbf::check::account_lookups(self.module, self.target) {
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
                    "grows": {
                        "fill": "a table takes entries up to three quarters of its capacity, then the account grows",
                        "extension_magic": format!("0x{:016x}", storage::EXTENSION_MAGIC),
                        "extension_entries": storage::EXTENSION_CAPACITY,
                        "extension_bytes": storage::EXTENSION_BYTES,
                        "rent": "the caller pays the rent of the bytes added (system_program needed); one extension per instruction",
                    },
                },
                "balance": "the contract's balance is the state account's lamports above its rent-exempt minimum for its data length (rent_exempt_lamports until the table grows), in wei (times wei_per_lamport)",
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
                {"index": 1, "name": "caller", "writable": false, "writable_when": "value > 0, or a store may need a new storage slot (the caller pays the rent of the table's growth)", "signer": true},
                {"name": "system_program", "address": SYSTEM_PROGRAM, "when": "value > 0 (the program moves it from the caller by a system transfer), or the storage table grows (the program asks for it: error 0x204 with the zero address)"},
                {"name": "by address", "when": "the function looks accounts up (functions[].accounts_by_address)", "resolve": format!("send (or simulate); on error {:#x} the return data is the 20-byte EVM address: add, writable, the account whose public key ends in it, and send again", exit::ACCOUNT_NEEDED)},
            ],
            "functions": functions,
            "fallback": fallback.is_some(),
            "receive": receive.is_some(),
            "plain_transfer": "receive (or fallback) takes instruction data of the value alone, the layout `initialize` has: the program tells them apart by the state account (fresh or initialized); fallback takes calldata that matches no selector",
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
        instructions.extend(self.codama_functions(""));
        codama_root(&self.name, self.program_id.as_deref(), instructions)
    }

    /// One Codama instruction per function, each name after `prefix`
    /// (camelCase: a bundle's contract name).
    pub(crate) fn codama_functions(&self, prefix: &str) -> Vec<Value> {
        let entries = self.entries();
        entries
            .iter()
            .zip(instruction_names(&entries))
            .map(|(e, name)| {
                let name = if prefix.is_empty() {
                    name
                } else {
                    codama::camel(&format!("{prefix}_{name}"))
                };
                codama::instruction(&name, e)
            })
            .collect()
    }
}

/// The IDL's root: the program named `name` with `instructions` and an
/// error per non-zero exit code.
pub(crate) fn codama_root(name: &str, program_id: Option<&str>, instructions: Vec<Value>) -> Value {
    let errors: Vec<Value> = exit::ALL
        .iter()
        .filter(|(code, _)| *code != exit::SUCCESS)
        .map(|(code, name)| codama::error(name, *code, &exit::describe(*code)))
        .collect();
    codama::root(name, program_id.unwrap_or_default(), instructions, errors)
}

/// A bundle's instruction that creates and initializes the state account
/// of an instance of the contract `name`, code id `code_id`: the value
/// (0), then the code id, the instance's address and the bump byte.
pub(crate) fn codama_initialize_in_bundle(name: &str, code_id: u32) -> Value {
    let mut ix = codama::initialize();
    ix["name"] = codama::camel(&format!("initialize_{name}")).into();
    ix["docs"] = json!([format!(
        "Once per instance of `{name}` (code id {code_id}): the program creates its state account at the program-derived address of the seeds \"evm\", the instance's EVM address and the bump byte (the caller pays the rent), and writes the storage its constructor left."
    )]);
    ix["accounts"] = json!([
        codama::account(
            "state",
            true,
            false,
            false,
            "the state account's program-derived address (it must not exist yet)"
        ),
        codama::account("caller", true, true, false, "pays the state account's rent"),
        codama::account("systemProgram", false, false, false, "the system program"),
    ]);
    let arguments = ix["arguments"].as_array_mut().expect("arguments");
    arguments.push(json!({
        "kind": "instructionArgumentNode",
        "name": "codeId",
        "type": {"kind": "numberTypeNode", "format": "u32", "endian": "le"},
        "defaultValue": {"kind": "numberValueNode", "number": code_id},
        "defaultValueStrategy": "omitted",
        "docs": ["the contract's code id"],
    }));
    arguments.push(codama::argument(
        "address",
        codama::fixed_bytes(20),
        "the instance's EVM address",
    ));
    arguments.push(codama::argument(
        "bump",
        codama::number("u8", "le"),
        "the bump byte of the state account's program-derived address",
    ));
    ix["discriminators"] = json!([
        {"kind": "sizeDiscriminatorNode", "size": chainlift_backend_sbf::bundle::CREATE_DATA},
        {
            "kind": "constantDiscriminatorNode",
            "offset": VALUE_BYTES,
            "constant": {
                "kind": "constantValueNode",
                "type": {"kind": "numberTypeNode", "format": "u32", "endian": "le"},
                "value": {"kind": "numberValueNode", "number": code_id},
            },
        },
    ]);
    ix
}

/// Each function's instruction name: its ABI name in camelCase
/// (`fn_SELECTOR` without one); overloads, and a function named
/// `initialize`, get the selector as a suffix.
fn instruction_names(entries: &[Entry]) -> Vec<String> {
    let mut taken: BTreeSet<String> = BTreeSet::from(["initialize".to_string()]);
    entries
        .iter()
        .map(|e| {
            let base = codama::camel(
                &e.abi
                    .map_or_else(|| format!("fn_{:08x}", e.selector), |f| f.name.clone()),
            );
            let name = if taken.contains(&base) {
                format!("{base}{:08x}", e.selector)
            } else {
                base
            };
            taken.insert(name.clone());
            name
        })
        .collect()
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

    pub(super) fn account(
        name: &str,
        writable: bool,
        signer: bool,
        optional: bool,
        docs: &str,
    ) -> Value {
        json!({
            "kind": "instructionAccountNode",
            "name": name,
            "isWritable": writable,
            "isSigner": signer,
            "isOptional": optional,
            "docs": [docs],
        })
    }

    pub(super) fn number(format: &str, endian: &str) -> Value {
        json!({"kind": "numberTypeNode", "format": format, "endian": endian})
    }

    pub(super) fn fixed_bytes(size: usize) -> Value {
        json!({"kind": "fixedSizeTypeNode", "size": size, "type": {"kind": "bytesTypeNode"}})
    }

    /// `ty` after `offset` zero bytes.
    fn padded(offset: usize, ty: Value) -> Value {
        json!({"kind": "preOffsetTypeNode", "offset": offset, "strategy": "padded", "type": ty})
    }

    pub(super) fn argument(name: &str, ty: Value, docs: &str) -> Value {
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
        // Arrays and tuples (static ones take several words) are not one
        // word.
        if ty.contains('[') || ty.starts_with('(') {
            return None;
        }
        if let Some(bits) = ty.strip_prefix("uint") {
            let bits: usize = if bits.is_empty() {
                256
            } else {
                bits.parse().ok()?
            };
            let format = match bits {
                8 => "u8",
                16 => "u16",
                32 => "u32",
                64 => "u64",
                128 => "u128",
                _ => return Some(fixed_bytes(32)),
            };
            return Some(padded(32 - bits / 8, number(format, "be")));
        }
        match ty {
            "address" => Some(padded(12, fixed_bytes(20))),
            "bool" => Some(padded(
                31,
                json!({"kind": "booleanTypeNode", "size": number("u8", "be")}),
            )),
            // Signed integers are sign-extended and bytesN left-aligned:
            // the whole word. (`bytes` alone is dynamic.)
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
            "arguments": [{
                "kind": "instructionArgumentNode",
                "name": "lamports",
                "type": number("u64", "le"),
                "defaultValue": {"kind": "numberValueNode", "number": 0},
                "defaultValueStrategy": "omitted",
                "docs": ["no value: must be 0"],
            }],
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
        // The instruction's own arguments and its accounts' names.
        let mut taken: Vec<String> = ["lamports", "selector", "state", "caller", "systemProgram"]
            .map(String::from)
            .to_vec();
        let words: Option<Vec<Value>> = e.abi.map_or(Some(vec![]), |f| {
            f.inputs
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let ty = p.selector_type();
                    let mut base = camel(&p.name);
                    if base.is_empty() || taken.contains(&base) {
                        base = format!("arg{i}");
                    }
                    let (mut name, mut k) = (base.clone(), 2);
                    while taken.contains(&name) {
                        name = format!("{base}{k}");
                        k += 1;
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
        // Without an ABI any function may be payable.
        let payable = e
            .abi
            .is_none_or(|f| f.state_mutability == alloy_json_abi::StateMutability::Payable);
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
        if payable || e.abi.is_none() {
            let mut system = account(
                "systemProgram",
                false,
                false,
                true,
                "when value is sent (the program moves it by a system transfer)",
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
pub(crate) fn key_of(arg: &str) -> anyhow::Result<[u8; 32]> {
    if arg.starts_with("0x") {
        anyhow::bail!("{arg} is not an EVM address (0x and 40 hex digits) nor a Solana key");
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

/// `chainlift address`: the EVM address of each key (its last 20 bytes),
/// and the bundle state account of each EVM address (with `program`).
pub(crate) fn address(
    keys: &[String],
    program: Option<&str>,
    json: bool,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    use chainlift_backend_sbf::address;
    let program = program.map(key_of).transpose()?;
    let mut rows = vec![];
    for k in keys {
        let evm = k
            .strip_prefix("0x")
            .filter(|h| h.len() == 40)
            .and_then(|h| h.parse::<alloy_primitives::Address>().ok());
        let row = match (evm, program) {
            (Some(a), Some(program)) => {
                let (key, bump) = address::state_account(&program, a);
                (bs58::encode(key).into_string(), a, Some(bump))
            }
            (Some(_), None) => anyhow::bail!(
                "{k} is an EVM address: its bundle state account needs the program's id (--program KEY)"
            ),
            (None, _) => {
                let key = key_of(k)?;
                (bs58::encode(key).into_string(), address::of_key(&key), None)
            }
        };
        rows.push(row);
    }
    if json {
        let list: Vec<Value> = rows
            .iter()
            .map(|(key, address, bump)| {
                let mut row = json!({"key": key, "address": address.to_checksum(None)});
                if let Some(bump) = bump {
                    row["state_account"] = true.into();
                    row["bump"] = (*bump).into();
                }
                row
            })
            .collect();
        crate::report::write_json(
            out,
            &json!({"schema_version": crate::report::SCHEMA_VERSION, "addresses": list}),
        )?;
    } else {
        for (key, address, bump) in rows {
            match bump {
                Some(bump) => writeln!(
                    out,
                    "{} {key} (state account, bump {bump})",
                    address.to_checksum(None)
                )?,
                None => writeln!(out, "{key} {}", address.to_checksum(None))?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes a Codama type node the IDL uses takes.
    fn width(ty: &Value) -> usize {
        let n = |v: &Value| v.as_u64().unwrap() as usize;
        match ty["kind"].as_str().unwrap() {
            "preOffsetTypeNode" => n(&ty["offset"]) + width(&ty["type"]),
            "fixedSizeTypeNode" => n(&ty["size"]),
            "booleanTypeNode" => width(&ty["size"]),
            "numberTypeNode" => {
                ty["format"].as_str().unwrap()[1..]
                    .parse::<usize>()
                    .unwrap()
                    / 8
            }
            other => panic!("{other} has no fixed width"),
        }
    }

    fn entry(f: &Function) -> Entry<'_> {
        Entry {
            selector: u32::from_be_bytes(f.selector().0),
            abi: Some(f),
            in_bytecode: true,
            lookups: BTreeSet::new(),
        }
    }

    #[test]
    fn one_word_per_static_input_and_abi_bytes_for_anything_else() {
        let abi = JsonAbi::parse([
            "function f(uint8 a, uint24 b, int8 c, bytes4 d, bool e, address g, uint256 h, uint128 i, uint64 j)",
            "function dynamicArray(uint8[] a)",
            "function staticArrays(uint256[3] a, bytes32[2] b)",
            "function tuple((uint256,address) p)",
            "function text(string s)",
        ])
        .unwrap();
        for f in abi.functions() {
            let ix = codama::instruction(&f.name, &entry(f));
            let args = &ix["arguments"].as_array().unwrap()[2..];
            if f.name == "f" {
                // Each argument is its word: the ABI's own encoding.
                assert_eq!(args.len(), f.inputs.len());
                for a in args {
                    assert_eq!(width(&a["type"]), 32, "{a}");
                }
            } else {
                assert_eq!(args.len(), 1, "{}", f.name);
                assert_eq!(args[0]["name"], "abiArguments");
                assert_eq!(args[0]["type"]["kind"], "bytesTypeNode");
            }
        }
        // A uint8 is its last byte, a uint64 its last eight, big-endian.
        let f = abi.function("f").unwrap().first().unwrap();
        let ix = codama::instruction("f", &entry(f));
        let a = &ix["arguments"][2]["type"];
        assert_eq!(
            (a["offset"].as_u64(), &a["type"]["format"]),
            (Some(31), &json!("u8"))
        );
        let j = &ix["arguments"][10]["type"];
        assert_eq!(
            (j["offset"].as_u64(), &j["type"]["endian"]),
            (Some(24), &json!("be"))
        );
    }

    #[test]
    fn names_never_collide() {
        let abi = JsonAbi::parse([
            "function initialize(address owner)",
            "function o(uint256 state)",
            "function o(address caller, uint256, uint256 arg1)",
            "function my_fn()",
            "function myFn(uint256 lamports)",
        ])
        .unwrap();
        let entries: Vec<Entry> = abi.functions().map(entry).collect();
        let names = instruction_names(&entries);
        let unique: BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert!(!names.contains(&"initialize".to_string()), "{names:?}");
        for e in &entries {
            let ix = codama::instruction("x", e);
            let mut seen: BTreeSet<String> = ["state", "caller", "systemProgram"]
                .map(String::from)
                .into();
            for a in ix["arguments"].as_array().unwrap() {
                assert!(seen.insert(a["name"].as_str().unwrap().to_string()), "{ix}");
            }
        }
    }
}
