//! Operations, host operations, exits and traps: the instruction set.

use crate::entities::FuncId;
use crate::types::Type;
use alloy_primitives::U256;
use std::fmt;

/// Where an instruction came from in the input program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum SourcePos {
    /// Made by a pass or written by hand with no position.
    #[default]
    None,
    /// An EVM program counter. Prints as `@0x1a`.
    Evm(u32),
    /// A byte offset in a WASM module. Prints as `@wasm:0x1a`.
    Wasm(u32),
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourcePos::None => Ok(()),
            SourcePos::Evm(pc) => write!(f, "@{pc:#x}"),
            SourcePos::Wasm(off) => write!(f, "@wasm:{off:#x}"),
        }
    }
}

/// Integer comparison conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cond {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Unsigned less than.
    Ult,
    /// Unsigned less or equal.
    Ule,
    /// Unsigned greater than.
    Ugt,
    /// Unsigned greater or equal.
    Uge,
    /// Signed less than.
    Slt,
    /// Signed less or equal.
    Sle,
    /// Signed greater than.
    Sgt,
    /// Signed greater or equal.
    Sge,
}

impl Cond {
    /// Every condition.
    pub const ALL: [Cond; 10] = [
        Cond::Eq,
        Cond::Ne,
        Cond::Ult,
        Cond::Ule,
        Cond::Ugt,
        Cond::Uge,
        Cond::Slt,
        Cond::Sle,
        Cond::Sgt,
        Cond::Sge,
    ];

    /// The text-format name.
    pub fn name(self) -> &'static str {
        match self {
            Cond::Eq => "eq",
            Cond::Ne => "ne",
            Cond::Ult => "ult",
            Cond::Ule => "ule",
            Cond::Ugt => "ugt",
            Cond::Uge => "uge",
            Cond::Slt => "slt",
            Cond::Sle => "sle",
            Cond::Sgt => "sgt",
            Cond::Sge => "sge",
        }
    }
}

/// Byte order of a memory access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Big-endian (EVM memory words).
    Big,
    /// Little-endian (WASM memory).
    Little,
}

impl Endian {
    /// `be` or `le`.
    pub fn name(self) -> &'static str {
        match self {
            Endian::Big => "be",
            Endian::Little => "le",
        }
    }
}

/// How a call reaches another contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// CALL.
    Call,
    /// CALLCODE.
    CallCode,
    /// DELEGATECALL.
    DelegateCall,
    /// STATICCALL.
    StaticCall,
}

/// Operations on the contract's environment, named once here. Every operand
/// and result is `i256` (or, in the legalized form, four `i64` limbs each,
/// least significant first); memory operands are `(offset, length)` pairs into the
/// function's linear memory. Each backend maps each of these to its platform
/// or rejects it by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostOp {
    /// `sload key -> value`: persistent storage.
    SLoad,
    /// `sstore key, value`. Traps with `static_violation` in a static context.
    SStore,
    /// `tload key -> value`: transient storage (EIP-1153).
    TLoad,
    /// `tstore key, value`. Traps with `static_violation` in a static context.
    TStore,
    /// `calldataload offset -> word`; bytes past the end read as zero.
    CallDataLoad,
    /// `calldatasize -> size`.
    CallDataSize,
    /// `calldatacopy mem_offset, data_offset, length`.
    CallDataCopy,
    /// `returndatasize -> size`: of the last external call.
    ReturnDataSize,
    /// `returndatacopy mem_offset, data_offset, length`. Traps with
    /// `return_data_out_of_bounds` when reading past the end.
    ReturnDataCopy,
    /// `codesize -> size` of the running contract.
    CodeSize,
    /// `codecopy mem_offset, code_offset, length`.
    CodeCopy,
    /// `extcodesize address -> size`.
    ExtCodeSize,
    /// `extcodecopy address, mem_offset, code_offset, length`.
    ExtCodeCopy,
    /// `extcodehash address -> hash`.
    ExtCodeHash,
    /// `caller -> address`.
    Caller,
    /// `origin -> address`.
    Origin,
    /// `address -> address` of the running contract.
    Address,
    /// `callvalue -> wei`.
    CallValue,
    /// `balance address -> wei`.
    Balance,
    /// `selfbalance -> wei`.
    SelfBalance,
    /// `number -> block number`.
    Number,
    /// `timestamp -> seconds`.
    Timestamp,
    /// `chainid -> id`.
    ChainId,
    /// `basefee -> wei`.
    BaseFee,
    /// `blobbasefee -> wei`.
    BlobBaseFee,
    /// `blobhash index -> hash` (zero past the end).
    BlobHash,
    /// `coinbase -> address`.
    Coinbase,
    /// `prevrandao -> value`.
    PrevRandao,
    /// `gaslimit -> gas`.
    GasLimit,
    /// `gasprice -> wei`.
    GasPrice,
    /// `blockhash number -> hash`.
    BlockHash,
    /// `gas -> remaining gas`, as the host reports it (see the crate doc).
    Gas,
    /// `log<n> mem_offset, length, topic1..topicn`. Traps with
    /// `static_violation` in a static context.
    Log(u8),
    /// `keccak256 mem_offset, length -> hash`.
    Keccak256,
    /// `call<kind> gas, address, [value,] in_offset, in_length, out_offset,
    /// out_length -> success`. Value only for CALL and CALLCODE.
    Call(CallKind),
    /// `create value, mem_offset, length -> address` (0 on failure).
    Create,
    /// `create2 value, mem_offset, length, salt -> address` (0 on failure).
    Create2,
}

impl HostOp {
    /// Every host operation.
    pub const ALL: [HostOp; 44] = [
        HostOp::SLoad,
        HostOp::SStore,
        HostOp::TLoad,
        HostOp::TStore,
        HostOp::CallDataLoad,
        HostOp::CallDataSize,
        HostOp::CallDataCopy,
        HostOp::ReturnDataSize,
        HostOp::ReturnDataCopy,
        HostOp::CodeSize,
        HostOp::CodeCopy,
        HostOp::ExtCodeSize,
        HostOp::ExtCodeCopy,
        HostOp::ExtCodeHash,
        HostOp::Caller,
        HostOp::Origin,
        HostOp::Address,
        HostOp::CallValue,
        HostOp::Balance,
        HostOp::SelfBalance,
        HostOp::Number,
        HostOp::Timestamp,
        HostOp::ChainId,
        HostOp::BaseFee,
        HostOp::BlobBaseFee,
        HostOp::BlobHash,
        HostOp::Coinbase,
        HostOp::PrevRandao,
        HostOp::GasLimit,
        HostOp::GasPrice,
        HostOp::BlockHash,
        HostOp::Gas,
        HostOp::Log(0),
        HostOp::Log(1),
        HostOp::Log(2),
        HostOp::Log(3),
        HostOp::Log(4),
        HostOp::Keccak256,
        HostOp::Call(CallKind::Call),
        HostOp::Call(CallKind::CallCode),
        HostOp::Call(CallKind::DelegateCall),
        HostOp::Call(CallKind::StaticCall),
        HostOp::Create,
        HostOp::Create2,
    ];

    /// The text-format name (after `host.`).
    pub fn name(self) -> &'static str {
        use HostOp::*;
        match self {
            SLoad => "sload",
            SStore => "sstore",
            TLoad => "tload",
            TStore => "tstore",
            CallDataLoad => "calldataload",
            CallDataSize => "calldatasize",
            CallDataCopy => "calldatacopy",
            ReturnDataSize => "returndatasize",
            ReturnDataCopy => "returndatacopy",
            CodeSize => "codesize",
            CodeCopy => "codecopy",
            ExtCodeSize => "extcodesize",
            ExtCodeCopy => "extcodecopy",
            ExtCodeHash => "extcodehash",
            Caller => "caller",
            Origin => "origin",
            Address => "address",
            CallValue => "callvalue",
            Balance => "balance",
            SelfBalance => "selfbalance",
            Number => "number",
            Timestamp => "timestamp",
            ChainId => "chainid",
            BaseFee => "basefee",
            BlobBaseFee => "blobbasefee",
            BlobHash => "blobhash",
            Coinbase => "coinbase",
            PrevRandao => "prevrandao",
            GasLimit => "gaslimit",
            GasPrice => "gasprice",
            BlockHash => "blockhash",
            Gas => "gas",
            Log(0) => "log0",
            Log(1) => "log1",
            Log(2) => "log2",
            Log(3) => "log3",
            Log(_) => "log4",
            Keccak256 => "keccak256",
            Call(CallKind::Call) => "call",
            Call(CallKind::CallCode) => "callcode",
            Call(CallKind::DelegateCall) => "delegatecall",
            Call(CallKind::StaticCall) => "staticcall",
            Create => "create",
            Create2 => "create2",
        }
    }

    /// Parses a name (after `host.`).
    pub fn from_name(s: &str) -> Option<HostOp> {
        HostOp::ALL.into_iter().find(|h| h.name() == s)
    }

    /// (operands, results) in words: `i256`, or four `i64` limbs each.
    pub fn arity(self) -> (usize, usize) {
        use HostOp::*;
        match self {
            SLoad | TLoad | CallDataLoad | ExtCodeSize | ExtCodeHash | Balance | BlobHash
            | BlockHash => (1, 1),
            SStore | TStore => (2, 0),
            CallDataSize | ReturnDataSize | CodeSize | Caller | Origin | Address | CallValue
            | SelfBalance | Number | Timestamp | ChainId | BaseFee | BlobBaseFee | Coinbase
            | PrevRandao | GasLimit | GasPrice | Gas => (0, 1),
            CallDataCopy | ReturnDataCopy | CodeCopy => (3, 0),
            ExtCodeCopy => (4, 0),
            Log(n) => (2 + n as usize, 0),
            Keccak256 => (2, 1),
            Call(CallKind::Call | CallKind::CallCode) => (7, 1),
            Call(_) => (6, 1),
            Create => (3, 1),
            Create2 => (4, 1),
        }
    }

    /// Whether the operation changes state, and so traps in a static context.
    pub fn writes_state(self) -> bool {
        matches!(
            self,
            HostOp::SStore | HostOp::TStore | HostOp::Log(_) | HostOp::Create | HostOp::Create2
        )
    }
}

/// How a contract-level execution ends normally (a terminator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitKind {
    /// STOP: success with no return data. No operands.
    Stop,
    /// RETURN: success; operands `mem_offset, length` of the return data.
    Return,
    /// REVERT: failure that keeps no state; operands `mem_offset, length`.
    Revert,
    /// SELFDESTRUCT: success; operand the beneficiary. Traps with
    /// `static_violation` in a static context.
    SelfDestruct,
}

impl ExitKind {
    /// Every exit kind.
    pub const ALL: [ExitKind; 4] = [
        ExitKind::Stop,
        ExitKind::Return,
        ExitKind::Revert,
        ExitKind::SelfDestruct,
    ];

    /// The text-format name (after `exit.`).
    pub fn name(self) -> &'static str {
        match self {
            ExitKind::Stop => "stop",
            ExitKind::Return => "return",
            ExitKind::Revert => "revert",
            ExitKind::SelfDestruct => "selfdestruct",
        }
    }

    /// Number of `i256` operands.
    pub fn arity(self) -> usize {
        match self {
            ExitKind::Stop => 0,
            ExitKind::Return | ExitKind::Revert => 2,
            ExitKind::SelfDestruct => 1,
        }
    }
}

/// Why execution stopped abnormally. On the EVM every trap is an exceptional
/// halt: all gas is consumed, state changes are undone, no return data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrapCode {
    /// An undefined opcode, or the designated INVALID (0xfe).
    InvalidOpcode,
    /// A jump to something that is not a JUMPDEST.
    InvalidJump,
    /// An instruction needed more stack items than there were.
    StackUnderflow,
    /// The stack would exceed 1024 items.
    StackOverflow,
    /// Memory would grow past the limit (on the EVM: out of gas).
    OutOfMemory,
    /// A load or store outside linear memory (WASM).
    OutOfBounds,
    /// Code that must not be reached (WASM `unreachable`).
    Unreachable,
    /// A state change in a static context.
    StaticViolation,
    /// RETURNDATACOPY past the end of the return data.
    ReturnDataOutOfBounds,
    /// Integer division by zero (WASM; EVM division by zero gives 0).
    DivideByZero,
    /// Signed division overflow (WASM).
    IntegerOverflow,
    /// An indirect call to a missing or mistyped table entry.
    BadIndirectCall,
    /// Calls nested too deeply.
    CallStackExhausted,
    /// A creation's init code is longer than the host allows (EIP-3860).
    InitCodeTooLarge,
    /// An operation the target or interpreter cannot perform.
    Unsupported,
}

impl TrapCode {
    /// Every trap code.
    pub const ALL: [TrapCode; 15] = [
        TrapCode::InvalidOpcode,
        TrapCode::InvalidJump,
        TrapCode::StackUnderflow,
        TrapCode::StackOverflow,
        TrapCode::OutOfMemory,
        TrapCode::OutOfBounds,
        TrapCode::Unreachable,
        TrapCode::StaticViolation,
        TrapCode::ReturnDataOutOfBounds,
        TrapCode::DivideByZero,
        TrapCode::IntegerOverflow,
        TrapCode::BadIndirectCall,
        TrapCode::CallStackExhausted,
        TrapCode::InitCodeTooLarge,
        TrapCode::Unsupported,
    ];

    /// The text-format name.
    pub fn name(self) -> &'static str {
        match self {
            TrapCode::InvalidOpcode => "invalid_opcode",
            TrapCode::InvalidJump => "invalid_jump",
            TrapCode::StackUnderflow => "stack_underflow",
            TrapCode::StackOverflow => "stack_overflow",
            TrapCode::OutOfMemory => "out_of_memory",
            TrapCode::OutOfBounds => "out_of_bounds",
            TrapCode::Unreachable => "unreachable",
            TrapCode::StaticViolation => "static_violation",
            TrapCode::ReturnDataOutOfBounds => "return_data_out_of_bounds",
            TrapCode::DivideByZero => "divide_by_zero",
            TrapCode::IntegerOverflow => "integer_overflow",
            TrapCode::BadIndirectCall => "bad_indirect_call",
            TrapCode::CallStackExhausted => "call_stack_exhausted",
            TrapCode::InitCodeTooLarge => "init_code_too_large",
            TrapCode::Unsupported => "unsupported",
        }
    }

    /// Parses a name.
    pub fn from_name(s: &str) -> Option<TrapCode> {
        TrapCode::ALL.into_iter().find(|t| t.name() == s)
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An operation. Operand and result types are checked by the verifier; the
/// rules are written on each variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// `iconst.T c -> T`: the constant truncated to T.
    Iconst(U256),
    /// Binary arithmetic and bitwise operations: `op.T a, b -> T`, both `T`.
    Binary(BinOp),
    /// `not.T a -> T`: bitwise complement.
    Not,
    /// `icmp.cond a, b -> i1`, both operands the same type.
    Icmp(Cond),
    /// `select c, a, b -> T`: `c` is `i1`, `a` and `b` are `T`.
    Select,
    /// `uext.T a`: zero-extend to the wider T.
    Uext,
    /// `sext.T a`: sign-extend to the wider T.
    Sext,
    /// `trunc.T a`: keep the low bits of T.
    Trunc,
    /// `addmod a, b, n -> i256`: (a + b) mod n without overflow; 0 if n = 0.
    AddMod,
    /// `mulmod a, b, n -> i256`: (a * b) mod n with a 512-bit product; 0 if n = 0.
    MulMod,
    /// `exp a, b -> i256`: a ** b mod 2**256.
    Exp,
    /// `signextend b, x -> i256`: EVM SIGNEXTEND (extend from byte b; x if b > 30).
    SignExtend,
    /// `byte i, x -> i256`: EVM BYTE (byte i from the most significant; 0 if i > 31).
    Byte,
    /// `clz.T a -> T`: count of leading zero bits (T's width for 0).
    Clz,
    /// `load.T.E addr -> T`: read T's width from memory at `addr` (any int).
    /// Traps `out_of_bounds` past the current memory size.
    Load(Type, Endian),
    /// `store.T.E addr, value`: write T's width. Traps `out_of_bounds` past the size.
    Store(Type, Endian),
    /// `mem.copy dst, src, len`: copy within memory (overlap allowed).
    MemCopy,
    /// `mem.fill dst, byte, len`: fill with the low byte of `byte`.
    MemFill,
    /// `mem.size.T -> T`: the current size in bytes.
    MemSize,
    /// `mem.grow.T bytes -> T`: grow by `bytes`; the old size, or all ones if
    /// the limit would be passed (memory unchanged).
    MemGrow,
    /// `stack.load.T index -> T`: read the frame's EVM stack, an array of
    /// 1024 words beside memory that lifted code keeps its stack in where it
    /// cannot keep it in values (recursion). `index` is `i64`; for `i256` it
    /// counts words, for `i64` it counts limbs (word `index / 4`, limb
    /// `index % 4`, least significant first: the legalized form). Producers
    /// check the index against the EVM's bounds first; a word index past
    /// 1023 traps `stack_overflow`.
    StackLoad,
    /// `stack.store index, value`: write the frame's EVM stack (`value` is
    /// `i256` or `i64`, `index` as for [`Op::StackLoad`]).
    StackStore,
    /// `mem.expand offset, len`: EVM memory expansion. When `len` is not 0,
    /// grow to the next multiple of 32 at or past `offset + len` if memory is
    /// smaller; trap `out_of_memory` past the limit.
    MemExpand,
    /// `host.name ...`: an environment operation (see [`HostOp`]).
    Host(HostOp),
    /// `call fnN a, b, ... -> results`: call a function of the module.
    Call(FuncId),
    /// `call_indirect.N index, a, b, ...`: call the function at `index` of
    /// table N; results as the table's signature says.
    CallIndirect(u32),
}

/// Binary operations: `op.T a, b -> T` on one integer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Wrapping multiplication.
    Mul,
    /// Unsigned division; x / 0 = 0 (as on the EVM; WASM frontends check first).
    UDiv,
    /// Signed division rounding to zero; x / 0 = 0; MIN / -1 = MIN.
    SDiv,
    /// Unsigned remainder; x % 0 = 0.
    URem,
    /// Signed remainder with the dividend's sign; x % 0 = 0; MIN % -1 = 0.
    SRem,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise xor.
    Xor,
    /// Shift left by `b`; 0 when `b` >= width (WASM frontends mask first).
    Shl,
    /// Logical shift right; 0 when `b` >= width.
    LShr,
    /// Arithmetic shift right; the sign fills when `b` >= width.
    AShr,
    /// Rotate left by `b` mod width.
    Rotl,
    /// Rotate right by `b` mod width.
    Rotr,
}

impl BinOp {
    /// Every binary operation.
    pub const ALL: [BinOp; 15] = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::UDiv,
        BinOp::SDiv,
        BinOp::URem,
        BinOp::SRem,
        BinOp::And,
        BinOp::Or,
        BinOp::Xor,
        BinOp::Shl,
        BinOp::LShr,
        BinOp::AShr,
        BinOp::Rotl,
        BinOp::Rotr,
    ];

    /// The text-format name.
    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::UDiv => "udiv",
            BinOp::SDiv => "sdiv",
            BinOp::URem => "urem",
            BinOp::SRem => "srem",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Xor => "xor",
            BinOp::Shl => "shl",
            BinOp::LShr => "lshr",
            BinOp::AShr => "ashr",
            BinOp::Rotl => "rotl",
            BinOp::Rotr => "rotr",
        }
    }

    /// Whether `a op b == b op a`.
    pub fn is_commutative(self) -> bool {
        matches!(
            self,
            BinOp::Add | BinOp::Mul | BinOp::And | BinOp::Or | BinOp::Xor
        )
    }
}

impl Op {
    /// Whether the operation has no effect besides its results, so it can be
    /// removed when they are unused and folded when its operands are constant.
    pub fn is_pure(&self) -> bool {
        matches!(
            self,
            Op::Iconst(_)
                | Op::Binary(_)
                | Op::Not
                | Op::Icmp(_)
                | Op::Select
                | Op::Uext
                | Op::Sext
                | Op::Trunc
                | Op::AddMod
                | Op::MulMod
                | Op::Exp
                | Op::SignExtend
                | Op::Byte
                | Op::Clz
        )
    }
}
