//! Reading bytecode from everything users hand us: hex text (with or without
//! `0x`, any whitespace), raw binary, stdin, an inline `--code`, and the JSON
//! artefacts of Foundry, Hardhat, `solc --combined-json` and solc's
//! standard-JSON output.

use alloy_primitives::keccak256;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Largest input file read, so a mistaken path cannot exhaust memory.
const MAX_INPUT: u64 = 64 << 20;

/// Bad input, with a one-line reason.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The input is too large.
    #[error("{path} is larger than {MAX_INPUT} bytes")]
    TooLarge {
        /// The path given.
        path: String,
    },
    /// Hex text with a character that is not a hex digit.
    #[error("invalid hex character {ch:?} at offset {offset} of {what}")]
    BadHexChar {
        /// Where the text came from.
        what: String,
        /// The offending character.
        ch: char,
        /// Its byte offset in the text.
        offset: usize,
    },
    /// Hex text with an odd number of digits.
    #[error("{what} has an odd number of hex digits ({digits})")]
    OddHex {
        /// Where the text came from.
        what: String,
        /// How many digits it has.
        digits: usize,
    },
    /// An unlinked library placeholder in an artefact.
    #[error(
        "{what} contains an unlinked library placeholder at byte offset {offset}; link it first"
    )]
    Unlinked {
        /// Where the text came from.
        what: String,
        /// Byte offset of the placeholder.
        offset: usize,
    },
    /// JSON that is not an artefact we know.
    #[error("{0}")]
    Artifact(String),
    /// Nothing to read.
    #[error("no input: give a FILE, `-` for stdin, or --code 0x…")]
    Missing,
    /// Empty bytecode.
    #[error("{0} holds no bytecode")]
    Empty(String),
}

/// Bytecode and what its source said about it.
#[derive(Debug, Clone)]
pub struct Input {
    /// Runtime bytecode.
    pub code: Vec<u8>,
    /// The contract's name, when an artefact gave it.
    pub name: Option<String>,
    /// Function signatures by selector, when an artefact carried an ABI.
    pub functions: BTreeMap<u32, String>,
    /// The artefact's ABI, when it carried one that parses.
    pub abi: Option<alloy_json_abi::JsonAbi>,
    /// Creation (init) code, when the artefact carried it.
    pub creation: Option<Vec<u8>>,
}

/// Reads the input named by the command line.
pub fn read(
    file: Option<&str>,
    code: Option<&str>,
    contract: Option<&str>,
) -> Result<Input, InputError> {
    if let Some(code) = code {
        if file.is_some() {
            return Err(InputError::Artifact(
                "give a FILE or --code, not both".into(),
            ));
        }
        return plain(parse_hex(code, "--code")?, "--code");
    }
    let file = file.ok_or(InputError::Missing)?;
    let (bytes, what) = if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf)
            .map_err(|source| InputError::Io {
                path: "stdin".into(),
                source,
            })?;
        if buf.len() as u64 > MAX_INPUT {
            return Err(InputError::TooLarge {
                path: "stdin".into(),
            });
        }
        (buf, "stdin".to_string())
    } else {
        let path = Path::new(file);
        let meta = std::fs::metadata(path).map_err(|source| InputError::Io {
            path: file.into(),
            source,
        })?;
        if meta.len() > MAX_INPUT {
            return Err(InputError::TooLarge { path: file.into() });
        }
        let bytes = std::fs::read(path).map_err(|source| InputError::Io {
            path: file.into(),
            source,
        })?;
        (bytes, file.to_string())
    };
    from_bytes(&bytes, &what, contract)
}

fn plain(code: Vec<u8>, what: &str) -> Result<Input, InputError> {
    if code.is_empty() {
        return Err(InputError::Empty(what.to_string()));
    }
    Ok(Input {
        code,
        name: None,
        functions: BTreeMap::new(),
        abi: None,
        creation: None,
    })
}

/// Interprets file contents: JSON artefact, hex text, or raw binary.
pub fn from_bytes(bytes: &[u8], what: &str, contract: Option<&str>) -> Result<Input, InputError> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let trimmed = text.trim_start();
        // WASM text: the binary module it encodes.
        if trimmed.starts_with("(module") || trimmed.starts_with(";;") {
            let wasm = chainlift_frontend_wasm::read(bytes)
                .map_err(|e| InputError::Artifact(format!("{what}: {e}")))?;
            return plain(wasm, what);
        }
        if trimmed.starts_with('{') {
            let json: Value = serde_json::from_str(text)
                .map_err(|e| InputError::Artifact(format!("{what} is not valid JSON: {e}")))?;
            return artifact(&json, what, contract);
        }
        if looks_like_hex(text) {
            return plain(parse_hex(text, what)?, what);
        }
    }
    plain(bytes.to_vec(), what)
}

fn looks_like_hex(text: &str) -> bool {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_hexdigit() || c.is_ascii_whitespace() || c == '_' || c == '$')
}

/// Parses hex text: optional `0x`, whitespace anywhere.
pub fn parse_hex(text: &str, what: &str) -> Result<Vec<u8>, InputError> {
    let trimmed = text.trim_start();
    let lead = text.len() - trimmed.len();
    let (body, skip) = match trimmed.get(..2) {
        Some("0x") | Some("0X") => (&trimmed[2..], lead + 2),
        _ => (trimmed, lead),
    };
    if let Some(pos) = body.find("__") {
        let digits_before = body[..pos]
            .chars()
            .filter(|c| c.is_ascii_hexdigit())
            .count();
        return Err(InputError::Unlinked {
            what: what.into(),
            offset: digits_before / 2,
        });
    }
    let mut digits = Vec::with_capacity(body.len());
    for (i, ch) in body.char_indices() {
        if ch.is_ascii_whitespace() {
            continue;
        }
        match ch.to_digit(16) {
            Some(d) => digits.push(d as u8),
            None => {
                return Err(InputError::BadHexChar {
                    what: what.into(),
                    ch,
                    offset: skip + i,
                });
            }
        }
    }
    if digits.len() % 2 != 0 {
        return Err(InputError::OddHex {
            what: what.into(),
            digits: digits.len(),
        });
    }
    Ok(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// A contract found in a JSON artefact.
struct Candidate<'a> {
    name: String,
    runtime: Option<&'a str>,
    creation: Option<&'a str>,
    abi: Option<&'a Value>,
}

fn artifact(json: &Value, what: &str, contract: Option<&str>) -> Result<Input, InputError> {
    let mut candidates: Vec<Candidate> = Vec::new();
    let top_name = json
        .get("contractName")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| file_stem(what));
    // Foundry: deployedBytecode.object; Hardhat / Truffle: deployedBytecode (string).
    match json.get("deployedBytecode") {
        Some(Value::Object(o)) => candidates.push(Candidate {
            name: top_name.clone(),
            runtime: o.get("object").and_then(Value::as_str),
            creation: creation_of(json.get("bytecode")),
            abi: json.get("abi"),
        }),
        Some(Value::String(s)) => candidates.push(Candidate {
            name: top_name.clone(),
            runtime: Some(s),
            creation: creation_of(json.get("bytecode")),
            abi: json.get("abi"),
        }),
        _ => {}
    }
    if let Some(Value::Object(contracts)) = json.get("contracts") {
        for (key, value) in contracts {
            if let Some(bin) = value.get("bin-runtime").and_then(Value::as_str) {
                // solc --combined-json: "path:Name" -> {"bin-runtime", "abi"}
                let name = key.rsplit(':').next().unwrap_or(key).to_string();
                candidates.push(Candidate {
                    name,
                    runtime: Some(bin),
                    creation: value.get("bin").and_then(Value::as_str),
                    abi: value.get("abi"),
                });
            } else if let Value::Object(per_file) = value {
                // standard JSON: file -> Name -> {evm.deployedBytecode.object, abi}
                for (name, c) in per_file {
                    let runtime = c
                        .pointer("/evm/deployedBytecode/object")
                        .and_then(Value::as_str);
                    if runtime.is_some() || c.get("abi").is_some() {
                        candidates.push(Candidate {
                            name: name.clone(),
                            runtime,
                            creation: c.pointer("/evm/bytecode/object").and_then(Value::as_str),
                            abi: c.get("abi"),
                        });
                    }
                }
            }
        }
    }
    if candidates.is_empty() {
        return Err(InputError::Artifact(format!(
            "{what} is JSON but not a known artefact (expected Foundry `deployedBytecode.object`, Hardhat `deployedBytecode`, solc --combined-json `bin-runtime`, or standard-JSON `evm.deployedBytecode.object`)"
        )));
    }
    let chosen = match contract {
        Some(want) => candidates
            .into_iter()
            .find(|c| c.name == want)
            .ok_or_else(|| {
                InputError::Artifact(format!("{what} has no contract named `{want}`"))
            })?,
        None => {
            let with_code: Vec<usize> = candidates
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.runtime
                        .is_some_and(|r| !r.trim().trim_start_matches("0x").is_empty())
                })
                .map(|(i, _)| i)
                .collect();
            match with_code.as_slice() {
                [one] => candidates.swap_remove(*one),
                [] if candidates.len() == 1 => candidates.swap_remove(0),
                [] => return Err(InputError::Empty(what.to_string())),
                many => {
                    let names: Vec<&str> =
                        many.iter().map(|i| candidates[*i].name.as_str()).collect();
                    return Err(InputError::Artifact(format!(
                        "{what} holds several contracts ({}); choose one with --contract NAME",
                        names.join(", ")
                    )));
                }
            }
        }
    };
    let label = format!("{what} (contract {})", chosen.name);
    let code = parse_hex(chosen.runtime.unwrap_or(""), &label)?;
    if code.is_empty() {
        return Err(InputError::Empty(format!(
            "{label}: runtime bytecode (abstract contract or interface?)"
        )));
    }
    let creation = match chosen.creation.map(str::trim) {
        Some(c) if !c.trim_start_matches("0x").is_empty() => {
            Some(parse_hex(c, &format!("{label}: creation code"))?)
        }
        _ => None,
    };
    Ok(Input {
        code,
        name: Some(chosen.name),
        functions: chosen.abi.map(abi_functions).unwrap_or_default(),
        abi: chosen.abi.and_then(parse_abi),
        creation,
    })
}

/// Foundry `bytecode.object` or Hardhat `bytecode` (a string).
fn creation_of(v: Option<&Value>) -> Option<&str> {
    match v? {
        Value::Object(o) => o.get("object").and_then(Value::as_str),
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// An ABI (array, or a JSON string of one); `None` when it does not parse.
pub fn parse_abi(abi: &Value) -> Option<alloy_json_abi::JsonAbi> {
    match abi {
        Value::String(s) => alloy_json_abi::JsonAbi::from_json_str(s).ok(),
        other => serde_json::from_value(other.clone()).ok(),
    }
}

fn file_stem(what: &str) -> String {
    Path::new(what)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(what)
        .split('.')
        .next()
        .unwrap_or(what)
        .to_string()
}

/// The canonical type string of an ABI parameter (tuples expanded).
fn canonical_type(param: &Value) -> String {
    let ty = param.get("type").and_then(Value::as_str).unwrap_or("");
    match ty.strip_prefix("tuple") {
        Some(suffix) => {
            let inner: Vec<String> = param
                .get("components")
                .and_then(Value::as_array)
                .map(|c| c.iter().map(canonical_type).collect())
                .unwrap_or_default();
            format!("({}){suffix}", inner.join(","))
        }
        None => ty.to_string(),
    }
}

/// Function signatures by selector, from a parsed ABI (none without one).
pub fn signatures(abi: Option<&alloy_json_abi::JsonAbi>) -> BTreeMap<u32, String> {
    abi.into_iter()
        .flat_map(|a| a.functions())
        .map(|f| (u32::from_be_bytes(f.selector().0), f.signature()))
        .collect()
}

/// Function signatures by selector, from an ABI (array, or a JSON string of one).
pub fn abi_functions(abi: &Value) -> BTreeMap<u32, String> {
    let parsed;
    let abi = match abi {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v) => {
                parsed = v;
                &parsed
            }
            Err(_) => return BTreeMap::new(),
        },
        other => other,
    };
    let mut out = BTreeMap::new();
    for item in abi.as_array().into_iter().flatten() {
        if item.get("type").and_then(Value::as_str) != Some("function") {
            continue;
        }
        let Some(name) = item.get("name").and_then(Value::as_str) else {
            continue;
        };
        let inputs: Vec<String> = item
            .get("inputs")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(canonical_type).collect())
            .unwrap_or_default();
        let signature = format!("{name}({})", inputs.join(","));
        let hash = keccak256(signature.as_bytes());
        out.insert(
            u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]),
            signature,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        assert_eq!(
            parse_hex("0x6080\n 6040\n", "t").unwrap(),
            vec![0x60, 0x80, 0x60, 0x40]
        );
        assert_eq!(parse_hex("6080", "t").unwrap(), vec![0x60, 0x80]);
        assert!(matches!(
            parse_hex("0x608", "t"),
            Err(InputError::OddHex { digits: 3, .. })
        ));
        assert!(matches!(
            parse_hex("0x60zz", "t"),
            Err(InputError::BadHexChar {
                ch: 'z',
                offset: 4,
                ..
            })
        ));
        assert!(matches!(
            parse_hex("6080__$ab$__", "t"),
            Err(InputError::Unlinked { offset: 2, .. })
        ));
    }

    #[test]
    fn artefact_forms() {
        let foundry = br#"{"abi":[{"type":"function","name":"transfer","inputs":[{"type":"address"},{"type":"uint256"}]}],"deployedBytecode":{"object":"0x6001"}}"#;
        let input = from_bytes(foundry, "Token.json", None).unwrap();
        assert_eq!(input.code, vec![0x60, 0x01]);
        assert_eq!(
            input.functions.get(&0xa9059cbb).map(String::as_str),
            Some("transfer(address,uint256)")
        );
        let hardhat = br#"{"contractName":"A","deployedBytecode":"0x00"}"#;
        assert_eq!(
            from_bytes(hardhat, "a.json", None).unwrap().name.as_deref(),
            Some("A")
        );
        let combined =
            br#"{"contracts":{"a.sol:A":{"bin-runtime":"00"},"a.sol:B":{"bin-runtime":"01"}}}"#;
        assert!(from_bytes(combined, "c.json", None).is_err());
        assert_eq!(
            from_bytes(combined, "c.json", Some("B")).unwrap().code,
            vec![1]
        );
        let standard = br#"{"contracts":{"a.sol":{"A":{"abi":[],"evm":{"deployedBytecode":{"object":"fe"}}}}}}"#;
        assert_eq!(
            from_bytes(standard, "s.json", None).unwrap().code,
            vec![0xfe]
        );
        let tuple = serde_json::json!([{"type":"function","name":"f","inputs":[{"type":"tuple[]","components":[{"type":"uint8"},{"type":"bytes"}]}]}]);
        assert_eq!(
            abi_functions(&tuple).values().next().unwrap(),
            "f((uint8,bytes)[])"
        );
        assert!(from_bytes(&[0x60, 0xff, 0x00], "bin", None).is_ok());
    }
}
