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
        matches!(self.byte, op::DUPN..=op::EXCHANGE)
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

/// Every opcode byte the table defines, named by its mnemonic, for code that
/// matches on opcode bytes. Stack items are counted from the top, which is 1.
pub mod op {
    /// Halts execution successfully.
    pub const STOP: u8 = 0x00;
    /// Addition modulo 2^256.
    pub const ADD: u8 = 0x01;
    /// Multiplication modulo 2^256.
    pub const MUL: u8 = 0x02;
    /// Subtraction modulo 2^256.
    pub const SUB: u8 = 0x03;
    /// Unsigned division (x / 0 = 0).
    pub const DIV: u8 = 0x04;
    /// Signed division (x / 0 = 0).
    pub const SDIV: u8 = 0x05;
    /// Unsigned remainder (x % 0 = 0).
    pub const MOD: u8 = 0x06;
    /// Signed remainder (x % 0 = 0).
    pub const SMOD: u8 = 0x07;
    /// Addition modulo N.
    pub const ADDMOD: u8 = 0x08;
    /// Multiplication modulo N.
    pub const MULMOD: u8 = 0x09;
    /// Exponentiation modulo 2^256.
    pub const EXP: u8 = 0x0a;
    /// Sign-extends from byte b.
    pub const SIGNEXTEND: u8 = 0x0b;
    /// Unsigned less-than.
    pub const LT: u8 = 0x10;
    /// Unsigned greater-than.
    pub const GT: u8 = 0x11;
    /// Signed less-than.
    pub const SLT: u8 = 0x12;
    /// Signed greater-than.
    pub const SGT: u8 = 0x13;
    /// Equality.
    pub const EQ: u8 = 0x14;
    /// Whether the operand is zero.
    pub const ISZERO: u8 = 0x15;
    /// Bitwise and.
    pub const AND: u8 = 0x16;
    /// Bitwise or.
    pub const OR: u8 = 0x17;
    /// Bitwise xor.
    pub const XOR: u8 = 0x18;
    /// Bitwise not.
    pub const NOT: u8 = 0x19;
    /// The i-th byte of a word, most significant first.
    pub const BYTE: u8 = 0x1a;
    /// Shift left.
    pub const SHL: u8 = 0x1b;
    /// Logical shift right.
    pub const SHR: u8 = 0x1c;
    /// Arithmetic shift right.
    pub const SAR: u8 = 0x1d;
    /// Count leading zero bits.
    pub const CLZ: u8 = 0x1e;
    /// Keccak-256 hash of a memory range.
    pub const KECCAK256: u8 = 0x20;
    /// Address of the executing account.
    pub const ADDRESS: u8 = 0x30;
    /// Balance of an account.
    pub const BALANCE: u8 = 0x31;
    /// Transaction origin.
    pub const ORIGIN: u8 = 0x32;
    /// Caller address.
    pub const CALLER: u8 = 0x33;
    /// Wei sent with the call.
    pub const CALLVALUE: u8 = 0x34;
    /// Loads a word of calldata.
    pub const CALLDATALOAD: u8 = 0x35;
    /// Size of the calldata.
    pub const CALLDATASIZE: u8 = 0x36;
    /// Copies calldata to memory.
    pub const CALLDATACOPY: u8 = 0x37;
    /// Size of the executing code.
    pub const CODESIZE: u8 = 0x38;
    /// Copies the executing code to memory.
    pub const CODECOPY: u8 = 0x39;
    /// Gas price of the transaction.
    pub const GASPRICE: u8 = 0x3a;
    /// Size of an account's code.
    pub const EXTCODESIZE: u8 = 0x3b;
    /// Copies an account's code to memory.
    pub const EXTCODECOPY: u8 = 0x3c;
    /// Size of the last call's return data.
    pub const RETURNDATASIZE: u8 = 0x3d;
    /// Copies the last call's return data to memory.
    pub const RETURNDATACOPY: u8 = 0x3e;
    /// Hash of an account's code.
    pub const EXTCODEHASH: u8 = 0x3f;
    /// Hash of a recent block.
    pub const BLOCKHASH: u8 = 0x40;
    /// Block's beneficiary.
    pub const COINBASE: u8 = 0x41;
    /// Block's timestamp.
    pub const TIMESTAMP: u8 = 0x42;
    /// Block's number.
    pub const NUMBER: u8 = 0x43;
    /// Beacon randomness (formerly DIFFICULTY).
    pub const PREVRANDAO: u8 = 0x44;
    /// Block's gas limit.
    pub const GASLIMIT: u8 = 0x45;
    /// Chain id.
    pub const CHAINID: u8 = 0x46;
    /// Balance of the executing account.
    pub const SELFBALANCE: u8 = 0x47;
    /// Block's base fee.
    pub const BASEFEE: u8 = 0x48;
    /// Versioned hash of a blob of the transaction.
    pub const BLOBHASH: u8 = 0x49;
    /// Block's blob base fee.
    pub const BLOBBASEFEE: u8 = 0x4a;
    /// Discards the top stack item.
    pub const POP: u8 = 0x50;
    /// Loads a word from memory.
    pub const MLOAD: u8 = 0x51;
    /// Stores a word to memory.
    pub const MSTORE: u8 = 0x52;
    /// Stores a byte to memory.
    pub const MSTORE8: u8 = 0x53;
    /// Loads a word from storage.
    pub const SLOAD: u8 = 0x54;
    /// Stores a word to storage.
    pub const SSTORE: u8 = 0x55;
    /// Jumps to the popped target.
    pub const JUMP: u8 = 0x56;
    /// Jumps to the popped target if the condition is non-zero.
    pub const JUMPI: u8 = 0x57;
    /// Offset of this instruction.
    pub const PC: u8 = 0x58;
    /// Size of active memory.
    pub const MSIZE: u8 = 0x59;
    /// Gas remaining.
    pub const GAS: u8 = 0x5a;
    /// Marks a valid jump target.
    pub const JUMPDEST: u8 = 0x5b;
    /// Loads a word from transient storage.
    pub const TLOAD: u8 = 0x5c;
    /// Stores a word to transient storage.
    pub const TSTORE: u8 = 0x5d;
    /// Copies memory to memory.
    pub const MCOPY: u8 = 0x5e;
    /// Pushes zero.
    pub const PUSH0: u8 = 0x5f;
    /// Pushes the 1-byte immediate.
    pub const PUSH1: u8 = 0x60;
    /// Pushes the 2-byte immediate.
    pub const PUSH2: u8 = 0x61;
    /// Pushes the 3-byte immediate.
    pub const PUSH3: u8 = 0x62;
    /// Pushes the 4-byte immediate.
    pub const PUSH4: u8 = 0x63;
    /// Pushes the 5-byte immediate.
    pub const PUSH5: u8 = 0x64;
    /// Pushes the 6-byte immediate.
    pub const PUSH6: u8 = 0x65;
    /// Pushes the 7-byte immediate.
    pub const PUSH7: u8 = 0x66;
    /// Pushes the 8-byte immediate.
    pub const PUSH8: u8 = 0x67;
    /// Pushes the 9-byte immediate.
    pub const PUSH9: u8 = 0x68;
    /// Pushes the 10-byte immediate.
    pub const PUSH10: u8 = 0x69;
    /// Pushes the 11-byte immediate.
    pub const PUSH11: u8 = 0x6a;
    /// Pushes the 12-byte immediate.
    pub const PUSH12: u8 = 0x6b;
    /// Pushes the 13-byte immediate.
    pub const PUSH13: u8 = 0x6c;
    /// Pushes the 14-byte immediate.
    pub const PUSH14: u8 = 0x6d;
    /// Pushes the 15-byte immediate.
    pub const PUSH15: u8 = 0x6e;
    /// Pushes the 16-byte immediate.
    pub const PUSH16: u8 = 0x6f;
    /// Pushes the 17-byte immediate.
    pub const PUSH17: u8 = 0x70;
    /// Pushes the 18-byte immediate.
    pub const PUSH18: u8 = 0x71;
    /// Pushes the 19-byte immediate.
    pub const PUSH19: u8 = 0x72;
    /// Pushes the 20-byte immediate.
    pub const PUSH20: u8 = 0x73;
    /// Pushes the 21-byte immediate.
    pub const PUSH21: u8 = 0x74;
    /// Pushes the 22-byte immediate.
    pub const PUSH22: u8 = 0x75;
    /// Pushes the 23-byte immediate.
    pub const PUSH23: u8 = 0x76;
    /// Pushes the 24-byte immediate.
    pub const PUSH24: u8 = 0x77;
    /// Pushes the 25-byte immediate.
    pub const PUSH25: u8 = 0x78;
    /// Pushes the 26-byte immediate.
    pub const PUSH26: u8 = 0x79;
    /// Pushes the 27-byte immediate.
    pub const PUSH27: u8 = 0x7a;
    /// Pushes the 28-byte immediate.
    pub const PUSH28: u8 = 0x7b;
    /// Pushes the 29-byte immediate.
    pub const PUSH29: u8 = 0x7c;
    /// Pushes the 30-byte immediate.
    pub const PUSH30: u8 = 0x7d;
    /// Pushes the 31-byte immediate.
    pub const PUSH31: u8 = 0x7e;
    /// Pushes the 32-byte immediate.
    pub const PUSH32: u8 = 0x7f;
    /// Duplicates stack item 1, the top.
    pub const DUP1: u8 = 0x80;
    /// Duplicates stack item 2.
    pub const DUP2: u8 = 0x81;
    /// Duplicates stack item 3.
    pub const DUP3: u8 = 0x82;
    /// Duplicates stack item 4.
    pub const DUP4: u8 = 0x83;
    /// Duplicates stack item 5.
    pub const DUP5: u8 = 0x84;
    /// Duplicates stack item 6.
    pub const DUP6: u8 = 0x85;
    /// Duplicates stack item 7.
    pub const DUP7: u8 = 0x86;
    /// Duplicates stack item 8.
    pub const DUP8: u8 = 0x87;
    /// Duplicates stack item 9.
    pub const DUP9: u8 = 0x88;
    /// Duplicates stack item 10.
    pub const DUP10: u8 = 0x89;
    /// Duplicates stack item 11.
    pub const DUP11: u8 = 0x8a;
    /// Duplicates stack item 12.
    pub const DUP12: u8 = 0x8b;
    /// Duplicates stack item 13.
    pub const DUP13: u8 = 0x8c;
    /// Duplicates stack item 14.
    pub const DUP14: u8 = 0x8d;
    /// Duplicates stack item 15.
    pub const DUP15: u8 = 0x8e;
    /// Duplicates stack item 16.
    pub const DUP16: u8 = 0x8f;
    /// Swaps the top with stack item 2.
    pub const SWAP1: u8 = 0x90;
    /// Swaps the top with stack item 3.
    pub const SWAP2: u8 = 0x91;
    /// Swaps the top with stack item 4.
    pub const SWAP3: u8 = 0x92;
    /// Swaps the top with stack item 5.
    pub const SWAP4: u8 = 0x93;
    /// Swaps the top with stack item 6.
    pub const SWAP5: u8 = 0x94;
    /// Swaps the top with stack item 7.
    pub const SWAP6: u8 = 0x95;
    /// Swaps the top with stack item 8.
    pub const SWAP7: u8 = 0x96;
    /// Swaps the top with stack item 9.
    pub const SWAP8: u8 = 0x97;
    /// Swaps the top with stack item 10.
    pub const SWAP9: u8 = 0x98;
    /// Swaps the top with stack item 11.
    pub const SWAP10: u8 = 0x99;
    /// Swaps the top with stack item 12.
    pub const SWAP11: u8 = 0x9a;
    /// Swaps the top with stack item 13.
    pub const SWAP12: u8 = 0x9b;
    /// Swaps the top with stack item 14.
    pub const SWAP13: u8 = 0x9c;
    /// Swaps the top with stack item 15.
    pub const SWAP14: u8 = 0x9d;
    /// Swaps the top with stack item 16.
    pub const SWAP15: u8 = 0x9e;
    /// Swaps the top with stack item 17.
    pub const SWAP16: u8 = 0x9f;
    /// Emits a log with 0 topics.
    pub const LOG0: u8 = 0xa0;
    /// Emits a log with 1 topic.
    pub const LOG1: u8 = 0xa1;
    /// Emits a log with 2 topics.
    pub const LOG2: u8 = 0xa2;
    /// Emits a log with 3 topics.
    pub const LOG3: u8 = 0xa3;
    /// Emits a log with 4 topics.
    pub const LOG4: u8 = 0xa4;
    /// Duplicates the stack item at the depth its immediate encodes (EIP-8024).
    pub const DUPN: u8 = 0xe6;
    /// Swaps the top with the item at the depth its immediate encodes (EIP-8024).
    pub const SWAPN: u8 = 0xe7;
    /// Swaps the two items its immediate encodes (EIP-8024).
    pub const EXCHANGE: u8 = 0xe8;
    /// Creates a contract.
    pub const CREATE: u8 = 0xf0;
    /// Calls an account.
    pub const CALL: u8 = 0xf1;
    /// Calls an account's code in this account's context.
    pub const CALLCODE: u8 = 0xf2;
    /// Halts, returning a memory range.
    pub const RETURN: u8 = 0xf3;
    /// Calls an account's code with this call's context.
    pub const DELEGATECALL: u8 = 0xf4;
    /// Creates a contract at a salted address.
    pub const CREATE2: u8 = 0xf5;
    /// Calls an account without state changes.
    pub const STATICCALL: u8 = 0xfa;
    /// Halts, reverting state and returning a memory range.
    pub const REVERT: u8 = 0xfd;
    /// The designated invalid instruction.
    pub const INVALID: u8 = 0xfe;
    /// Sends the balance away (and, before Cancun, deletes the account).
    pub const SELFDESTRUCT: u8 = 0xff;
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
    fn constants_match_the_table() {
        macro_rules! named {
            ($($name:ident),* $(,)?) => {
                [$((op::$name, stringify!($name))),*]
            };
        }
        let named = named![
            STOP,
            ADD,
            MUL,
            SUB,
            DIV,
            SDIV,
            MOD,
            SMOD,
            ADDMOD,
            MULMOD,
            EXP,
            SIGNEXTEND,
            LT,
            GT,
            SLT,
            SGT,
            EQ,
            ISZERO,
            AND,
            OR,
            XOR,
            NOT,
            BYTE,
            SHL,
            SHR,
            SAR,
            CLZ,
            KECCAK256,
            ADDRESS,
            BALANCE,
            ORIGIN,
            CALLER,
            CALLVALUE,
            CALLDATALOAD,
            CALLDATASIZE,
            CALLDATACOPY,
            CODESIZE,
            CODECOPY,
            GASPRICE,
            EXTCODESIZE,
            EXTCODECOPY,
            RETURNDATASIZE,
            RETURNDATACOPY,
            EXTCODEHASH,
            BLOCKHASH,
            COINBASE,
            TIMESTAMP,
            NUMBER,
            PREVRANDAO,
            GASLIMIT,
            CHAINID,
            SELFBALANCE,
            BASEFEE,
            BLOBHASH,
            BLOBBASEFEE,
            POP,
            MLOAD,
            MSTORE,
            MSTORE8,
            SLOAD,
            SSTORE,
            JUMP,
            JUMPI,
            PC,
            MSIZE,
            GAS,
            JUMPDEST,
            TLOAD,
            TSTORE,
            MCOPY,
            PUSH0,
            PUSH1,
            PUSH2,
            PUSH3,
            PUSH4,
            PUSH5,
            PUSH6,
            PUSH7,
            PUSH8,
            PUSH9,
            PUSH10,
            PUSH11,
            PUSH12,
            PUSH13,
            PUSH14,
            PUSH15,
            PUSH16,
            PUSH17,
            PUSH18,
            PUSH19,
            PUSH20,
            PUSH21,
            PUSH22,
            PUSH23,
            PUSH24,
            PUSH25,
            PUSH26,
            PUSH27,
            PUSH28,
            PUSH29,
            PUSH30,
            PUSH31,
            PUSH32,
            DUP1,
            DUP2,
            DUP3,
            DUP4,
            DUP5,
            DUP6,
            DUP7,
            DUP8,
            DUP9,
            DUP10,
            DUP11,
            DUP12,
            DUP13,
            DUP14,
            DUP15,
            DUP16,
            SWAP1,
            SWAP2,
            SWAP3,
            SWAP4,
            SWAP5,
            SWAP6,
            SWAP7,
            SWAP8,
            SWAP9,
            SWAP10,
            SWAP11,
            SWAP12,
            SWAP13,
            SWAP14,
            SWAP15,
            SWAP16,
            LOG0,
            LOG1,
            LOG2,
            LOG3,
            LOG4,
            DUPN,
            SWAPN,
            EXCHANGE,
            CREATE,
            CALL,
            CALLCODE,
            RETURN,
            DELEGATECALL,
            CREATE2,
            STATICCALL,
            REVERT,
            INVALID,
            SELFDESTRUCT
        ];
        // The newest fork defines every opcode of the table.
        let newest = Fork::ALL[Fork::ALL.len() - 1];
        for (byte, name) in named {
            let info =
                lookup(byte, newest).unwrap_or_else(|| panic!("{name}: {byte:#04x} undefined"));
            assert_eq!(
                info.name, name,
                "op::{name} is {byte:#04x}, which the table calls {}",
                info.name
            );
        }
        // One constant per defined byte: none missing, none doubled.
        let mut bytes: Vec<u8> = named.iter().map(|(b, _)| *b).collect();
        bytes.sort_unstable();
        bytes.dedup();
        assert_eq!(bytes.len(), named.len());
        assert_eq!(bytes.len(), OPCODES.iter().flatten().count());
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
