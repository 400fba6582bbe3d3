//! The opcode table: the single source of every opcode's name, stack effect,
//! immediate size and the fork that introduced it.
//!
//! Everything else in the crate (disassembler, CFG, dispatch recovery, fork
//! feature reports) asks this table; no other module spells an opcode name.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// An Ethereum hard fork, in activation order. Only forks that changed the
/// instruction set matter to this crate, but every named fork is accepted so
/// that users can pass the fork they think in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fork {
    /// The launch rules (2015).
    Frontier,
    /// Adds DELEGATECALL.
    Homestead,
    /// EIP-150 gas repricing; no new opcodes.
    Tangerine,
    /// EIP-158/161; no new opcodes.
    Spurious,
    /// Adds REVERT, RETURNDATASIZE, RETURNDATACOPY, STATICCALL.
    Byzantium,
    /// Adds SHL, SHR, SAR, CREATE2, EXTCODEHASH.
    Constantinople,
    /// Removes EIP-1283 again; no new opcodes.
    Petersburg,
    /// Adds CHAINID, SELFBALANCE.
    Istanbul,
    /// Access lists; no new opcodes.
    Berlin,
    /// Adds BASEFEE.
    London,
    /// The Merge: DIFFICULTY becomes PREVRANDAO.
    Paris,
    /// Adds PUSH0.
    Shanghai,
    /// Adds TLOAD, TSTORE, MCOPY, BLOBHASH, BLOBBASEFEE.
    Cancun,
    /// No new opcodes.
    Prague,
    /// Adds CLZ (0x1e). The default: the rules live on mainnet today.
    Osaka,
    /// Not live: adds DUPN, SWAPN, EXCHANGE (EIP-8024) with 1-byte immediates.
    Amsterdam,
}

impl Fork {
    /// Every fork, oldest first.
    pub const ALL: [Fork; 16] = [
        Fork::Frontier,
        Fork::Homestead,
        Fork::Tangerine,
        Fork::Spurious,
        Fork::Byzantium,
        Fork::Constantinople,
        Fork::Petersburg,
        Fork::Istanbul,
        Fork::Berlin,
        Fork::London,
        Fork::Paris,
        Fork::Shanghai,
        Fork::Cancun,
        Fork::Prague,
        Fork::Osaka,
        Fork::Amsterdam,
    ];

    /// The fork whose rules are live on mainnet, used when none is given.
    pub const LATEST: Fork = Fork::Osaka;

    /// The lowercase name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Fork::Frontier => "frontier",
            Fork::Homestead => "homestead",
            Fork::Tangerine => "tangerine",
            Fork::Spurious => "spurious",
            Fork::Byzantium => "byzantium",
            Fork::Constantinople => "constantinople",
            Fork::Petersburg => "petersburg",
            Fork::Istanbul => "istanbul",
            Fork::Berlin => "berlin",
            Fork::London => "london",
            Fork::Paris => "paris",
            Fork::Shanghai => "shanghai",
            Fork::Cancun => "cancun",
            Fork::Prague => "prague",
            Fork::Osaka => "osaka",
            Fork::Amsterdam => "amsterdam",
        }
    }
}

impl fmt::Display for Fork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a fork name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fork `{0}` (expected one of frontier, homestead, tangerine, spurious, byzantium, constantinople, petersburg, istanbul, berlin, london, paris/merge, shanghai, cancun, prague, osaka, amsterdam)"
)]
pub struct UnknownFork(pub String);

impl FromStr for Fork {
    type Err = UnknownFork;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let alias = match lower.as_str() {
            "merge" => Some(Fork::Paris),
            "tangerinewhistle" => Some(Fork::Tangerine),
            "spuriousdragon" => Some(Fork::Spurious),
            "constantinoplefix" => Some(Fork::Petersburg),
            _ => None,
        };
        alias
            .or_else(|| Fork::ALL.into_iter().find(|f| f.name() == lower))
            .ok_or(UnknownFork(s.to_string()))
    }
}

/// How an instruction affects control flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Execution continues with the next instruction.
    Next,
    /// JUMP: continues at the popped target.
    Jump,
    /// JUMPI: continues at the popped target when the condition is non-zero.
    JumpI,
    /// JUMPDEST: a valid jump target; starts a basic block.
    JumpDest,
    /// Ends execution: STOP, RETURN, REVERT, INVALID, SELFDESTRUCT.
    Halt,
}

/// What the table knows about one opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpInfo {
    /// The opcode byte.
    pub byte: u8,
    /// The mnemonic, as in the Yellow Paper and revm (`PUSH1`, `KECCAK256`).
    pub name: &'static str,
    /// Stack items read (popped). For DUPn this counts the items that must be
    /// present: DUPn pops n and pushes n + 1, as revm's table counts it.
    pub inputs: u8,
    /// Stack items written (pushed).
    pub outputs: u8,
    /// Immediate bytes that follow the opcode (PUSHn: n; DUPN/SWAPN/EXCHANGE: 1).
    pub immediate: u8,
    /// The fork that introduced it.
    pub since: Fork,
    /// Its effect on control flow.
    pub flow: Flow,
}

impl OpInfo {
    /// Whether the opcode is defined under `fork`'s rules.
    pub fn enabled(&self, fork: Fork) -> bool {
        self.since <= fork
    }

    /// Whether the stack effect depends on the immediate (DUPN, SWAPN, EXCHANGE),
    /// in which case `inputs`/`outputs` are only the minimum.
    pub fn has_dynamic_stack(&self) -> bool {
        matches!(self.byte, 0xe6..=0xe8)
    }
}

const fn op(byte: u8, name: &'static str, inputs: u8, outputs: u8, since: Fork) -> Option<OpInfo> {
    Some(OpInfo {
        byte,
        name,
        inputs,
        outputs,
        immediate: 0,
        since,
        flow: Flow::Next,
    })
}

const fn with_flow(info: Option<OpInfo>, flow: Flow) -> Option<OpInfo> {
    match info {
        Some(mut i) => {
            i.flow = flow;
            Some(i)
        }
        None => None,
    }
}

const fn with_immediate(info: Option<OpInfo>, immediate: u8) -> Option<OpInfo> {
    match info {
        Some(mut i) => {
            i.immediate = immediate;
            Some(i)
        }
        None => None,
    }
}

const PUSH_NAMES: [&str; 33] = [
    "PUSH0", "PUSH1", "PUSH2", "PUSH3", "PUSH4", "PUSH5", "PUSH6", "PUSH7", "PUSH8", "PUSH9",
    "PUSH10", "PUSH11", "PUSH12", "PUSH13", "PUSH14", "PUSH15", "PUSH16", "PUSH17", "PUSH18",
    "PUSH19", "PUSH20", "PUSH21", "PUSH22", "PUSH23", "PUSH24", "PUSH25", "PUSH26", "PUSH27",
    "PUSH28", "PUSH29", "PUSH30", "PUSH31", "PUSH32",
];
const DUP_NAMES: [&str; 16] = [
    "DUP1", "DUP2", "DUP3", "DUP4", "DUP5", "DUP6", "DUP7", "DUP8", "DUP9", "DUP10", "DUP11",
    "DUP12", "DUP13", "DUP14", "DUP15", "DUP16",
];
const SWAP_NAMES: [&str; 16] = [
    "SWAP1", "SWAP2", "SWAP3", "SWAP4", "SWAP5", "SWAP6", "SWAP7", "SWAP8", "SWAP9", "SWAP10",
    "SWAP11", "SWAP12", "SWAP13", "SWAP14", "SWAP15", "SWAP16",
];
const LOG_NAMES: [&str; 5] = ["LOG0", "LOG1", "LOG2", "LOG3", "LOG4"];

const fn entry(b: u8) -> Option<OpInfo> {
    use Fork::*;
    match b {
        0x00 => with_flow(op(b, "STOP", 0, 0, Frontier), Flow::Halt),
        0x01 => op(b, "ADD", 2, 1, Frontier),
        0x02 => op(b, "MUL", 2, 1, Frontier),
        0x03 => op(b, "SUB", 2, 1, Frontier),
        0x04 => op(b, "DIV", 2, 1, Frontier),
        0x05 => op(b, "SDIV", 2, 1, Frontier),
        0x06 => op(b, "MOD", 2, 1, Frontier),
        0x07 => op(b, "SMOD", 2, 1, Frontier),
        0x08 => op(b, "ADDMOD", 3, 1, Frontier),
        0x09 => op(b, "MULMOD", 3, 1, Frontier),
        0x0a => op(b, "EXP", 2, 1, Frontier),
        0x0b => op(b, "SIGNEXTEND", 2, 1, Frontier),
        0x10 => op(b, "LT", 2, 1, Frontier),
        0x11 => op(b, "GT", 2, 1, Frontier),
        0x12 => op(b, "SLT", 2, 1, Frontier),
        0x13 => op(b, "SGT", 2, 1, Frontier),
        0x14 => op(b, "EQ", 2, 1, Frontier),
        0x15 => op(b, "ISZERO", 1, 1, Frontier),
        0x16 => op(b, "AND", 2, 1, Frontier),
        0x17 => op(b, "OR", 2, 1, Frontier),
        0x18 => op(b, "XOR", 2, 1, Frontier),
        0x19 => op(b, "NOT", 1, 1, Frontier),
        0x1a => op(b, "BYTE", 2, 1, Frontier),
        0x1b => op(b, "SHL", 2, 1, Constantinople),
        0x1c => op(b, "SHR", 2, 1, Constantinople),
        0x1d => op(b, "SAR", 2, 1, Constantinople),
        0x1e => op(b, "CLZ", 1, 1, Osaka),
        0x20 => op(b, "KECCAK256", 2, 1, Frontier),
        0x30 => op(b, "ADDRESS", 0, 1, Frontier),
        0x31 => op(b, "BALANCE", 1, 1, Frontier),
        0x32 => op(b, "ORIGIN", 0, 1, Frontier),
        0x33 => op(b, "CALLER", 0, 1, Frontier),
        0x34 => op(b, "CALLVALUE", 0, 1, Frontier),
        0x35 => op(b, "CALLDATALOAD", 1, 1, Frontier),
        0x36 => op(b, "CALLDATASIZE", 0, 1, Frontier),
        0x37 => op(b, "CALLDATACOPY", 3, 0, Frontier),
        0x38 => op(b, "CODESIZE", 0, 1, Frontier),
        0x39 => op(b, "CODECOPY", 3, 0, Frontier),
        0x3a => op(b, "GASPRICE", 0, 1, Frontier),
        0x3b => op(b, "EXTCODESIZE", 1, 1, Frontier),
        0x3c => op(b, "EXTCODECOPY", 4, 0, Frontier),
        0x3d => op(b, "RETURNDATASIZE", 0, 1, Byzantium),
        0x3e => op(b, "RETURNDATACOPY", 3, 0, Byzantium),
        0x3f => op(b, "EXTCODEHASH", 1, 1, Constantinople),
        0x40 => op(b, "BLOCKHASH", 1, 1, Frontier),
        0x41 => op(b, "COINBASE", 0, 1, Frontier),
        0x42 => op(b, "TIMESTAMP", 0, 1, Frontier),
        0x43 => op(b, "NUMBER", 0, 1, Frontier),
        0x44 => op(b, "PREVRANDAO", 0, 1, Frontier),
        0x45 => op(b, "GASLIMIT", 0, 1, Frontier),
        0x46 => op(b, "CHAINID", 0, 1, Istanbul),
        0x47 => op(b, "SELFBALANCE", 0, 1, Istanbul),
        0x48 => op(b, "BASEFEE", 0, 1, London),
        0x49 => op(b, "BLOBHASH", 1, 1, Cancun),
        0x4a => op(b, "BLOBBASEFEE", 0, 1, Cancun),
        0x50 => op(b, "POP", 1, 0, Frontier),
        0x51 => op(b, "MLOAD", 1, 1, Frontier),
        0x52 => op(b, "MSTORE", 2, 0, Frontier),
        0x53 => op(b, "MSTORE8", 2, 0, Frontier),
        0x54 => op(b, "SLOAD", 1, 1, Frontier),
        0x55 => op(b, "SSTORE", 2, 0, Frontier),
        0x56 => with_flow(op(b, "JUMP", 1, 0, Frontier), Flow::Jump),
        0x57 => with_flow(op(b, "JUMPI", 2, 0, Frontier), Flow::JumpI),
        0x58 => op(b, "PC", 0, 1, Frontier),
        0x59 => op(b, "MSIZE", 0, 1, Frontier),
        0x5a => op(b, "GAS", 0, 1, Frontier),
        0x5b => with_flow(op(b, "JUMPDEST", 0, 0, Frontier), Flow::JumpDest),
        0x5c => op(b, "TLOAD", 1, 1, Cancun),
        0x5d => op(b, "TSTORE", 2, 0, Cancun),
        0x5e => op(b, "MCOPY", 3, 0, Cancun),
        0x5f => op(b, "PUSH0", 0, 1, Shanghai),
        0x60..=0x7f => with_immediate(
            op(b, PUSH_NAMES[(b - 0x5f) as usize], 0, 1, Frontier),
            b - 0x5f,
        ),
        0x80..=0x8f => op(
            b,
            DUP_NAMES[(b - 0x80) as usize],
            b - 0x7f,
            b - 0x7f + 1,
            Frontier,
        ),
        0x90..=0x9f => op(
            b,
            SWAP_NAMES[(b - 0x90) as usize],
            b - 0x8f + 1,
            b - 0x8f + 1,
            Frontier,
        ),
        0xa0..=0xa4 => op(b, LOG_NAMES[(b - 0xa0) as usize], b - 0xa0 + 2, 0, Frontier),
        0xe6 => with_immediate(op(b, "DUPN", 17, 18, Amsterdam), 1),
        0xe7 => with_immediate(op(b, "SWAPN", 18, 18, Amsterdam), 1),
        0xe8 => with_immediate(op(b, "EXCHANGE", 3, 3, Amsterdam), 1),
        0xf0 => op(b, "CREATE", 3, 1, Frontier),
        0xf1 => op(b, "CALL", 7, 1, Frontier),
        0xf2 => op(b, "CALLCODE", 7, 1, Frontier),
        0xf3 => with_flow(op(b, "RETURN", 2, 0, Frontier), Flow::Halt),
        0xf4 => op(b, "DELEGATECALL", 6, 1, Homestead),
        0xf5 => op(b, "CREATE2", 4, 1, Constantinople),
        0xfa => op(b, "STATICCALL", 6, 1, Byzantium),
        0xfd => with_flow(op(b, "REVERT", 2, 0, Byzantium), Flow::Halt),
        0xfe => with_flow(op(b, "INVALID", 0, 0, Frontier), Flow::Halt),
        0xff => with_flow(op(b, "SELFDESTRUCT", 1, 0, Frontier), Flow::Halt),
        _ => None,
    }
}

const fn build_table() -> [Option<OpInfo>; 256] {
    let mut table = [None; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = entry(i as u8);
        i += 1;
    }
    table
}

/// Every opcode byte that any fork defines, indexed by byte.
pub static OPCODES: [Option<OpInfo>; 256] = build_table();

/// The opcode `byte` means under `fork`, or `None` when it is undefined there
/// (executing it halts exceptionally, like INVALID).
pub fn lookup(byte: u8, fork: Fork) -> Option<&'static OpInfo> {
    OPCODES[byte as usize]
        .as_ref()
        .filter(|info| info.enabled(fork))
}

/// The opcode with this mnemonic (case-insensitive), under any fork.
pub fn by_name(name: &str) -> Option<&'static OpInfo> {
    let upper = name.to_ascii_uppercase();
    let upper = match upper.as_str() {
        "SHA3" => "KECCAK256",
        "DIFFICULTY" => "PREVRANDAO",
        "SUICIDE" => "SELFDESTRUCT",
        other => other,
    };
    OPCODES.iter().flatten().find(|info| info.name == upper)
}

/// The stack depth DUPN reads and SWAPN swaps with (EIP-8024 `decode_single`),
/// or `None` for an immediate that halts exceptionally.
pub fn decode_single(imm: u8) -> Option<usize> {
    if (91..=127).contains(&imm) {
        return None;
    }
    Some((imm as usize + 145) & 0xff)
}

/// The pair of depths EXCHANGE swaps (EIP-8024 `decode_pair`), counted like
/// SWAPn (the items at depths n + 1 and m + 1), or `None` for an immediate that
/// halts exceptionally.
pub fn decode_pair(imm: u8) -> Option<(usize, usize)> {
    if (82..=127).contains(&imm) {
        return None;
    }
    let k = (imm as usize + 128) & 0xff;
    let (q, r) = (k / 16, k % 16);
    if q < r {
        Some((q + 1, r + 1))
    } else {
        Some((r + 1, 29 - q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for (byte, info) in OPCODES.iter().enumerate() {
            if let Some(info) = info {
                assert_eq!(info.byte as usize, byte);
                assert_eq!(by_name(info.name).map(|i| i.byte), Some(info.byte));
            }
        }
        assert_eq!(OPCODES.iter().flatten().count(), 153);
    }

    #[test]
    fn forks_gate_opcodes() {
        assert!(lookup(0x5f, Fork::Constantinople).is_none());
        assert_eq!(lookup(0x5f, Fork::Shanghai).unwrap().name, "PUSH0");
        assert!(lookup(0x1e, Fork::Prague).is_none());
        assert_eq!(lookup(0x1e, Fork::Osaka).unwrap().name, "CLZ");
        assert!(lookup(0xe6, Fork::Osaka).is_none());
        assert_eq!(lookup(0xe8, Fork::Amsterdam).unwrap().immediate, 1);
        assert_eq!(lookup(0x7f, Fork::Frontier).unwrap().immediate, 32);
        assert_eq!(lookup(0x8f, Fork::Frontier).unwrap().inputs, 16);
        assert_eq!(lookup(0x9f, Fork::Frontier).unwrap().outputs, 17);
        assert_eq!("Merge".parse::<Fork>(), Ok(Fork::Paris));
        assert!("mars".parse::<Fork>().is_err());
    }

    #[test]
    fn eip8024_decoding() {
        // The branchless encoding: 128..=255 map to 17..=144, 0..=90 to 145..=235.
        assert_eq!(decode_single(128), Some(17));
        assert_eq!(decode_single(255), Some(144));
        assert_eq!(decode_single(0), Some(145));
        assert_eq!(decode_single(90), Some(235));
        assert_eq!(decode_single(0x5b), None);
        assert_eq!(decode_pair(0x5b), None);
        for imm in (0..=81u8).chain(128..=255) {
            let (n, m) = decode_pair(imm).unwrap();
            assert!(n < m && m <= 29, "{imm}: {n} {m}");
        }
    }
}
