//! The host ABI the emitted modules speak: Arbitrum Stylus's `vm_hooks`
//! imports, the `chainlift` imports for what Stylus lacks, and the memory
//! layout the module keeps its own data in.

use wasm_encoder::ValType;

/// A host function a module may import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hook {
    /// `read_args(dest)`: copy the calldata to `dest`.
    ReadArgs,
    /// `write_result(ptr, len)`: set the return (or revert) data.
    WriteResult,
    /// `exit_early(status)`: end the call now (0 return, else revert).
    ExitEarly,
    /// `storage_load_bytes32(key, dest)`: SLOAD.
    StorageLoad,
    /// `storage_cache_bytes32(key, value)`: SSTORE.
    StorageCache,
    /// `storage_flush_cache(clear)`: write cached stores to state.
    StorageFlush,
    /// `transient_load_bytes32(key, dest)`: TLOAD.
    TransientLoad,
    /// `transient_store_bytes32(key, value)`: TSTORE.
    TransientStore,
    /// `call_contract(addr, data, len, value, gas, ret_len) -> status`.
    CallContract,
    /// `delegate_call_contract(addr, data, len, gas, ret_len) -> status`.
    DelegateCall,
    /// `static_call_contract(addr, data, len, gas, ret_len) -> status`.
    StaticCall,
    /// `create1(code, len, endowment, addr, revert_len)`.
    Create1,
    /// `create2(code, len, endowment, salt, addr, revert_len)`.
    Create2,
    /// `read_return_data(dest, offset, size) -> copied`.
    ReadReturnData,
    /// `return_data_size() -> size`.
    ReturnDataSize,
    /// `emit_log(data, len, topics)`: topics first in `data`.
    EmitLog,
    /// `account_balance(addr, dest)`.
    AccountBalance,
    /// `account_code(addr, offset, size, dest) -> copied`.
    AccountCode,
    /// `account_code_size(addr) -> size`.
    AccountCodeSize,
    /// `account_codehash(addr, dest)`.
    AccountCodeHash,
    /// `block_basefee(dest)`.
    BlockBasefee,
    /// `block_coinbase(dest)` (20 bytes).
    BlockCoinbase,
    /// `contract_address(dest)` (20 bytes).
    ContractAddress,
    /// `msg_sender(dest)` (20 bytes).
    MsgSender,
    /// `msg_value(dest)`.
    MsgValue,
    /// `tx_gas_price(dest)`.
    TxGasPrice,
    /// `tx_origin(dest)` (20 bytes).
    TxOrigin,
    /// `chainid() -> i64`.
    ChainId,
    /// `block_gas_limit() -> i64`.
    BlockGasLimit,
    /// `block_number() -> i64`.
    BlockNumber,
    /// `block_timestamp() -> i64`.
    BlockTimestamp,
    /// `evm_gas_left() -> i64`.
    EvmGasLeft,
    /// `native_keccak256(ptr, len, dest)`.
    Keccak,
    /// `math_div(value, divisor)`: DIV, the quotient over `value`.
    MathDiv,
    /// `math_mod(value, modulus)`: MOD.
    MathMod,
    /// `math_pow(value, exponent)`: EXP.
    MathPow,
    /// `math_add_mod(value, addend, modulus)`: ADDMOD.
    MathAddMod,
    /// `math_mul_mod(value, factor, modulus)`: MULMOD.
    MathMulMod,
    /// `chainlift.blockhash(number, dest)`: BLOCKHASH.
    BlockHash,
    /// `chainlift.prevrandao(dest)`: PREVRANDAO.
    PrevRandao,
    /// `chainlift.blobhash(index, dest)`: BLOBHASH.
    BlobHash,
    /// `chainlift.blobbasefee(dest)`: BLOBBASEFEE.
    BlobBaseFee,
    /// `chainlift.selfdestruct(addr)`: SELFDESTRUCT (the caller then returns).
    SelfDestruct,
    /// `chainlift.callcode_contract(addr, data, len, value, gas, ret_len) -> status`.
    CallCode,
}

use ValType::{I32, I64};

impl Hook {
    /// Every hook, in import order.
    pub const ALL: [Hook; 44] = [
        Hook::ReadArgs,
        Hook::WriteResult,
        Hook::ExitEarly,
        Hook::StorageLoad,
        Hook::StorageCache,
        Hook::StorageFlush,
        Hook::TransientLoad,
        Hook::TransientStore,
        Hook::CallContract,
        Hook::DelegateCall,
        Hook::StaticCall,
        Hook::Create1,
        Hook::Create2,
        Hook::ReadReturnData,
        Hook::ReturnDataSize,
        Hook::EmitLog,
        Hook::AccountBalance,
        Hook::AccountCode,
        Hook::AccountCodeSize,
        Hook::AccountCodeHash,
        Hook::BlockBasefee,
        Hook::BlockCoinbase,
        Hook::ContractAddress,
        Hook::MsgSender,
        Hook::MsgValue,
        Hook::TxGasPrice,
        Hook::TxOrigin,
        Hook::ChainId,
        Hook::BlockGasLimit,
        Hook::BlockNumber,
        Hook::BlockTimestamp,
        Hook::EvmGasLeft,
        Hook::Keccak,
        Hook::MathDiv,
        Hook::MathMod,
        Hook::MathPow,
        Hook::MathAddMod,
        Hook::MathMulMod,
        Hook::BlockHash,
        Hook::PrevRandao,
        Hook::BlobHash,
        Hook::BlobBaseFee,
        Hook::SelfDestruct,
        Hook::CallCode,
    ];

    /// The import module: `vm_hooks` (Stylus) or `chainlift` (ours).
    pub fn module(self) -> &'static str {
        match self {
            Hook::BlockHash
            | Hook::PrevRandao
            | Hook::BlobHash
            | Hook::BlobBaseFee
            | Hook::SelfDestruct
            | Hook::CallCode => CHAINLIFT,
            _ => VM_HOOKS,
        }
    }

    /// Whether Arbitrum provides it (a module importing any other hook
    /// cannot be deployed there).
    pub fn is_stylus(self) -> bool {
        self.module() == VM_HOOKS
    }

    /// The import name.
    pub fn name(self) -> &'static str {
        use Hook::*;
        match self {
            ReadArgs => "read_args",
            WriteResult => "write_result",
            ExitEarly => "exit_early",
            StorageLoad => "storage_load_bytes32",
            StorageCache => "storage_cache_bytes32",
            StorageFlush => "storage_flush_cache",
            TransientLoad => "transient_load_bytes32",
            TransientStore => "transient_store_bytes32",
            CallContract => "call_contract",
            DelegateCall => "delegate_call_contract",
            StaticCall => "static_call_contract",
            Create1 => "create1",
            Create2 => "create2",
            ReadReturnData => "read_return_data",
            ReturnDataSize => "return_data_size",
            EmitLog => "emit_log",
            AccountBalance => "account_balance",
            AccountCode => "account_code",
            AccountCodeSize => "account_code_size",
            AccountCodeHash => "account_codehash",
            BlockBasefee => "block_basefee",
            BlockCoinbase => "block_coinbase",
            ContractAddress => "contract_address",
            MsgSender => "msg_sender",
            MsgValue => "msg_value",
            TxGasPrice => "tx_gas_price",
            TxOrigin => "tx_origin",
            ChainId => "chainid",
            BlockGasLimit => "block_gas_limit",
            BlockNumber => "block_number",
            BlockTimestamp => "block_timestamp",
            EvmGasLeft => "evm_gas_left",
            Keccak => "native_keccak256",
            MathDiv => "math_div",
            MathMod => "math_mod",
            MathPow => "math_pow",
            MathAddMod => "math_add_mod",
            MathMulMod => "math_mul_mod",
            BlockHash => "blockhash",
            PrevRandao => "prevrandao",
            BlobHash => "blobhash",
            BlobBaseFee => "blobbasefee",
            SelfDestruct => "selfdestruct",
            CallCode => "callcode_contract",
        }
    }

    /// The hook of an import name, in either module.
    pub fn from_name(module: &str, name: &str) -> Option<Hook> {
        Hook::ALL
            .into_iter()
            .find(|h| h.module() == module && h.name() == name)
    }

    /// (parameters, results).
    pub fn signature(self) -> (&'static [ValType], &'static [ValType]) {
        use Hook::*;
        match self {
            ReadArgs | ExitEarly | StorageFlush | BlockBasefee | BlockCoinbase
            | ContractAddress | MsgSender | MsgValue | TxGasPrice | TxOrigin | PrevRandao
            | BlobBaseFee | SelfDestruct => (&[I32], &[]),
            WriteResult | StorageLoad | StorageCache | TransientLoad | TransientStore
            | AccountBalance | AccountCodeHash | BlockHash | BlobHash | MathDiv | MathMod
            | MathPow => (&[I32, I32], &[]),
            MathAddMod | MathMulMod => (&[I32, I32, I32], &[]),
            CallContract | CallCode => (&[I32, I32, I32, I32, I64, I32], &[I32]),
            DelegateCall | StaticCall => (&[I32, I32, I32, I64, I32], &[I32]),
            Create1 => (&[I32, I32, I32, I32, I32], &[]),
            Create2 => (&[I32, I32, I32, I32, I32, I32], &[]),
            ReadReturnData => (&[I32, I32, I32], &[I32]),
            ReturnDataSize => (&[], &[I32]),
            EmitLog | Keccak => (&[I32, I32, I32], &[]),
            AccountCode => (&[I32, I32, I32, I32], &[I32]),
            AccountCodeSize => (&[I32], &[I32]),
            ChainId | BlockGasLimit | BlockNumber | BlockTimestamp | EvmGasLeft => (&[], &[I64]),
        }
    }
}

/// Stylus's import module.
pub const VM_HOOKS: &str = "vm_hooks";
/// Our import module, for EVM operations Stylus lacks.
pub const CHAINLIFT: &str = "chainlift";

/// The entry point every module exports: `user_entrypoint(len) -> status`.
pub const ENTRY: &str = "user_entrypoint";
/// Exported global (`i32`): where EVM memory starts in linear memory.
pub const HEAP_GLOBAL: &str = "chainlift_heap";
/// Exported global (`i64`): the EVM memory size (MSIZE).
pub const MSIZE_GLOBAL: &str = "chainlift_msize";
/// Exported global (`i64`): the largest EVM memory the call may grow to;
/// an engine lowers it to what the call's gas pays for (growth past it is
/// the EVM's out-of-gas halt). Its initial value is [`DEFAULT_MEMORY_LIMIT`].
pub const LIMIT_GLOBAL: &str = "chainlift_memory_limit";
/// The custom section naming which function implements which IR helper.
pub const OPS_SECTION: &str = "chainlift.ops";
/// The EVM memory limit a module starts with: the reference interpreter's.
pub const DEFAULT_MEMORY_LIMIT: u64 = 64 << 20;

/// Linear memory layout. Offsets below [`STACK_BASE`] are the module's own
/// scratch space; EVM memory starts at the `chainlift_heap` global, after
/// the contract's code and the calldata.
pub mod layout {
    /// The last trap's code and position (`i64`, see [`super::trap_info`]).
    pub const TRAP: u32 = 0;
    /// An `i32` the call and create hooks write a length to.
    pub const RET_LEN: u32 = 16;
    /// Eight 32-byte word slots for host operands and results.
    pub const SLOTS: u32 = 32;
    /// The EVM stack array (1,024 words) of modules that use one.
    pub const STACK_BASE: u32 = 512;
    /// Bytes of the EVM stack array.
    pub const STACK_BYTES: u32 = 1024 * 32;

    /// The address of word slot `i`.
    pub const fn slot(i: u32) -> u32 {
        SLOTS + 32 * i
    }
}

/// The `i64` a trap site stores at [`layout::TRAP`] before it traps: the
/// trap code's index in `TrapCode::ALL` plus one in bits 32-39, the kind of
/// position (1 EVM pc, 2 WASM offset) in bits 40-41 and the position in bits
/// 0-31. Zero means no trap site ran (the trap came from wasm itself).
pub fn trap_info(code: chainlift_ir::inst::TrapCode, pos: chainlift_ir::inst::SourcePos) -> i64 {
    let index = chainlift_ir::inst::TrapCode::ALL
        .iter()
        .position(|c| *c == code)
        .unwrap_or(0) as i64;
    ((index + 1) << 32) | pos_bits(pos)
}

/// The position bits of [`trap_info`].
pub fn pos_bits(pos: chainlift_ir::inst::SourcePos) -> i64 {
    use chainlift_ir::inst::SourcePos;
    match pos {
        SourcePos::None => 0,
        SourcePos::Evm(pc) => (1 << 40) | i64::from(pc),
        SourcePos::Wasm(off) => (2 << 40) | i64::from(off),
    }
}

/// The position in a trap slot's `i64` (what [`pos_bits`] wrote).
pub fn decode_pos(info: i64) -> chainlift_ir::inst::SourcePos {
    use chainlift_ir::inst::SourcePos;
    let at = (info & 0xffff_ffff) as u32;
    match (info >> 40) & 3 {
        1 => SourcePos::Evm(at),
        2 => SourcePos::Wasm(at),
        _ => SourcePos::None,
    }
}

/// Reads back what [`trap_info`] stored.
pub fn decode_trap(
    info: i64,
) -> Option<(chainlift_ir::inst::TrapCode, chainlift_ir::inst::SourcePos)> {
    use chainlift_ir::inst::TrapCode;
    let index = ((info >> 32) & 0xff) as usize;
    let code = *TrapCode::ALL.get(index.checked_sub(1)?)?;
    Some((code, decode_pos(info)))
}
