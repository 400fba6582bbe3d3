//! The compiler metadata trailer: detection, a bounded CBOR reader and the
//! compiler name and version it carries.
//!
//! solc appends `CBOR map ++ u16 length` to the runtime code: keys `ipfs`,
//! `bzzr0`, `bzzr1`, `solc` (3 version bytes, or text for prereleases) and
//! `experimental`. Vyper 0.3.x appends the map `{"vyper": [major, minor, patch]}`;
//! Vyper 0.4 appends an array `[integrity hash (0.4.1+), runtime size,
//! [data section sizes], immutables size, {"vyper": [...]}]`, which also tells
//! where its code ends and its data section (jump tables) starts.

use serde::Serialize;

/// A decoded metadata trailer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Metadata {
    /// Offset of the first CBOR byte.
    pub offset: usize,
    /// Length in bytes, including the two length bytes at the end.
    pub length: usize,
    /// The compiler named by the trailer, when it names one.
    pub compiler: Option<Compiler>,
    /// Every top-level entry, rendered as text (hashes as hex, IPFS as base58).
    pub entries: Vec<(String, String)>,
    /// Where the Vyper data section (jump tables, constants) starts, when the
    /// trailer gives the runtime code size.
    pub data_offset: Option<usize>,
}

/// The compiler that produced the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compiler {
    /// `solc` or `vyper`.
    pub name: String,
    /// `0.8.24`, or a description such as `<0.5.9` when the trailer has only a hash.
    pub version: String,
}

/// A CBOR value, as far as metadata needs one.
#[derive(Debug, Clone, PartialEq)]
enum Cbor {
    Uint(u64),
    Neg(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(Vec<(Cbor, Cbor)>),
    Bool(bool),
    Null,
}

/// A bounded CBOR reader: definite lengths only, depth and item limits, no
/// allocation beyond the input's own size.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    items: usize,
}

const MAX_DEPTH: usize = 8;
const MAX_ITEMS: usize = 256;

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: u64) -> Option<&[u8]> {
        let n = usize::try_from(n).ok()?;
        let end = self.pos.checked_add(n)?;
        let slice = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }

    fn argument(&mut self, info: u8) -> Option<u64> {
        match info {
            0..=23 => Some(info as u64),
            24 => self.byte().map(u64::from),
            25..=27 => {
                let n = 1u64 << (info - 24);
                let bytes = self.take(n)?;
                Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
            }
            _ => None,
        }
    }

    fn value(&mut self, depth: usize) -> Option<Cbor> {
        self.items += 1;
        if depth > MAX_DEPTH || self.items > MAX_ITEMS {
            return None;
        }
        let head = self.byte()?;
        let (major, info) = (head >> 5, head & 0x1f);
        if major == 7 {
            return match info {
                20 => Some(Cbor::Bool(false)),
                21 => Some(Cbor::Bool(true)),
                22 | 23 => Some(Cbor::Null),
                _ => None,
            };
        }
        let arg = self.argument(info)?;
        match major {
            0 => Some(Cbor::Uint(arg)),
            1 => Some(Cbor::Neg(arg)),
            2 => Some(Cbor::Bytes(self.take(arg)?.to_vec())),
            3 => Some(Cbor::Text(
                String::from_utf8(self.take(arg)?.to_vec()).ok()?,
            )),
            4 => {
                // Every item takes at least one byte: a longer count is a lie.
                if arg > (self.bytes.len() - self.pos) as u64 {
                    return None;
                }
                (0..arg)
                    .map(|_| self.value(depth + 1))
                    .collect::<Option<Vec<_>>>()
                    .map(Cbor::Array)
            }
            5 => {
                if arg > (self.bytes.len() - self.pos) as u64 {
                    return None;
                }
                let mut entries = Vec::new();
                for _ in 0..arg {
                    let k = self.value(depth + 1)?;
                    let v = self.value(depth + 1)?;
                    entries.push((k, v));
                }
                Some(Cbor::Map(entries))
            }
            _ => None,
        }
    }
}

fn decode_exact(bytes: &[u8]) -> Option<Cbor> {
    let mut reader = Reader {
        bytes,
        pos: 0,
        items: 0,
    };
    let value = reader.value(0)?;
    (reader.pos == bytes.len()).then_some(value)
}

fn hex(bytes: &[u8]) -> String {
    alloy_primitives::hex::encode_prefixed(bytes)
}

/// Base58 (Bitcoin alphabet), the usual rendering of an IPFS multihash.
fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new();
    for &b in bytes {
        let mut carry = b as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    let mut s: String = std::iter::repeat_n('1', zeros).collect();
    s.extend(digits.iter().rev().map(|d| ALPHABET[*d as usize] as char));
    s
}

fn render(value: &Cbor) -> String {
    match value {
        Cbor::Uint(n) => n.to_string(),
        Cbor::Neg(n) => format!("-{}", u128::from(*n) + 1),
        Cbor::Bytes(b) => hex(b),
        Cbor::Text(t) => t.clone(),
        Cbor::Bool(b) => b.to_string(),
        Cbor::Null => "null".to_string(),
        Cbor::Array(items) => {
            let parts: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", parts.join(", "))
        }
        Cbor::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", render(k), render(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn version_of(value: &Cbor) -> Option<String> {
    match value {
        Cbor::Bytes(b) if b.len() == 3 => Some(format!("{}.{}.{}", b[0], b[1], b[2])),
        Cbor::Text(t) => Some(t.clone()),
        Cbor::Array(items) => {
            let parts: Option<Vec<String>> = items
                .iter()
                .map(|i| match i {
                    Cbor::Uint(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect();
            parts
                .filter(|p| !p.is_empty() && p.len() <= 4)
                .map(|p| p.join("."))
        }
        _ => None,
    }
}

const SOLC_KEYS: [&str; 5] = ["ipfs", "bzzr0", "bzzr1", "solc", "experimental"];

fn text_keyed(entries: &[(Cbor, Cbor)]) -> Option<Vec<(&str, &Cbor)>> {
    entries
        .iter()
        .map(|(k, v)| match k {
            Cbor::Text(t) => Some((t.as_str(), v)),
            _ => None,
        })
        .collect()
}

/// Finds and decodes the metadata trailer at the end of runtime `code`, if the
/// last two bytes announce a CBOR block that decodes exactly and has the shape
/// solc or Vyper writes. Anything else is not metadata, and `None` is returned.
pub fn detect(code: &[u8]) -> Option<Metadata> {
    let n = code.len();
    if n < 3 {
        return None;
    }
    let len = u16::from_be_bytes([code[n - 2], code[n - 1]]) as usize;
    if len == 0 || len + 2 > n {
        return None;
    }
    let offset = n - 2 - len;
    let value = decode_exact(&code[offset..n - 2])?;
    let mut meta = Metadata {
        offset,
        length: len + 2,
        compiler: None,
        entries: vec![],
        data_offset: None,
    };
    match &value {
        Cbor::Map(entries) => {
            let entries = text_keyed(entries)?;
            let is_solc = entries.iter().any(|(k, _)| SOLC_KEYS.contains(k));
            let vyper = entries.iter().find(|(k, _)| *k == "vyper");
            if !is_solc && vyper.is_none() {
                return None;
            }
            for (k, v) in &entries {
                let shown = match (*k, v) {
                    ("ipfs", Cbor::Bytes(b)) => base58(b),
                    ("solc", v) => version_of(v).unwrap_or_else(|| render(v)),
                    _ => render(v),
                };
                meta.entries.push((k.to_string(), shown));
            }
            meta.compiler = if let Some((_, v)) = vyper {
                Some(Compiler {
                    name: "vyper".into(),
                    version: version_of(v)?,
                })
            } else if let Some((_, v)) = entries.iter().find(|(k, _)| *k == "solc") {
                Some(Compiler {
                    name: "solc".into(),
                    version: version_of(v)?,
                })
            } else if entries.iter().any(|(k, _)| *k == "bzzr0") {
                Some(Compiler {
                    name: "solc".into(),
                    version: "<0.5.9 (bzzr0 hash only)".into(),
                })
            } else {
                Some(Compiler {
                    name: "solc".into(),
                    version: "unknown (hash only)".into(),
                })
            };
        }
        Cbor::Array(items) => {
            // Vyper 0.4: the last item is {"vyper": [...]}.
            let Some(Cbor::Map(last)) = items.last() else {
                return None;
            };
            let last = text_keyed(last)?;
            let (_, version) = last.iter().find(|(k, _)| *k == "vyper")?;
            meta.compiler = Some(Compiler {
                name: "vyper".into(),
                version: version_of(version)?,
            });
            let names: &[&str] = if items.len() == 5 {
                &[
                    "integrity",
                    "runtime_size",
                    "data_sizes",
                    "immutables_size",
                    "compiler",
                ]
            } else {
                &["runtime_size", "data_sizes", "immutables_size", "compiler"]
            };
            for (name, item) in names.iter().zip(items) {
                meta.entries.push((name.to_string(), render(item)));
            }
            let size_index = items.len().checked_sub(4)?;
            if let Some(Cbor::Uint(size)) = items.get(size_index) {
                let size = usize::try_from(*size).ok()?;
                if size <= offset {
                    meta.data_offset = Some(size);
                }
            }
        }
        _ => return None,
    }
    Some(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn solc_ipfs_trailer() {
        // {"ipfs": 34 bytes, "solc": 0.8.24}
        let mut code = vec![0x60, 0x00, 0xfe];
        let cbor = from_hex(
            "a264697066735822122000112233445566778899aabbccddeeff00112233445566778899aabbccddeeff64736f6c63430008180033",
        );
        code.extend_from_slice(&cbor[..cbor.len() - 2]);
        code.extend_from_slice(&cbor[cbor.len() - 2..]);
        let meta = detect(&code).unwrap();
        assert_eq!(meta.offset, 3);
        assert_eq!(
            meta.compiler.unwrap(),
            Compiler {
                name: "solc".into(),
                version: "0.8.24".into()
            }
        );
        assert!(meta.entries[0].1.starts_with("Qm"));
    }

    #[test]
    fn vyper_04_trailer() {
        // [runtime_size=5, [2], 0, {"vyper": [0, 4, 3]}]
        let mut code = vec![0x5f, 0x5f, 0xf3, 0x00, 0x00, 0xab, 0xcd];
        let cbor = from_hex(
            "84058102 00 a1657679706572830004 03"
                .replace(' ', "")
                .as_str(),
        );
        code.extend_from_slice(&cbor);
        code.extend_from_slice(&(cbor.len() as u16).to_be_bytes());
        let meta = detect(&code).unwrap();
        assert_eq!(meta.compiler.unwrap().version, "0.4.3");
        assert_eq!(meta.data_offset, Some(5));
    }

    #[test]
    fn rejects_non_metadata() {
        assert_eq!(detect(&[0x60, 0x01, 0x00, 0x01]), None);
        assert_eq!(detect(&[0xff, 0xff, 0xff]), None);
        assert_eq!(
            detect(&[
                0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x09
            ]),
            None
        );
    }
}
