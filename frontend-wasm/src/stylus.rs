//! The Arbitrum Stylus profile: `vm_hooks` imports (and the `chainlift`
//! imports backend-wasm writes for what Stylus lacks) become small IR
//! functions over the IR's host operations, and the entry runs
//! `user_entrypoint` as a contract call.
//!
//! Each hook is an IR function with the import's WASM signature: pointers
//! are `i32` offsets into linear memory, words are 32 bytes big-endian and
//! addresses 20, as on Stylus. The contract calls them like any function.
//!
//! `write_result(ptr, len)` records where the result is (in two stack-array
//! limbs after the globals); the entry, or `exit_early`, ends the run with
//! `exit.return` or `exit.revert` over those bytes as memory holds them
//! then. Stylus copies them at `write_result`: the two differ only for a
//! contract that overwrites its result after setting it, which the SDKs
//! never do.

use crate::lift::{func_id, ir_sig};
use crate::module::Sig;
use alloy_primitives::U256;
use chainlift_ir::entities::{Block, Value};
use chainlift_ir::function::{BlockCall, Function, Inst, Terminator};
use chainlift_ir::inst::{
    BinOp, CallKind, Cond, Endian, ExitKind, HostOp, Op, SourcePos, TrapCode,
};
use chainlift_ir::types::Type;
use wasmparser::ValType;

/// Stylus's import module.
pub const VM_HOOKS: &str = "vm_hooks";
/// backend-wasm's import module for EVM operations Stylus lacks.
pub const CHAINLIFT: &str = "chainlift";
/// The entry point every Stylus contract exports.
pub const ENTRY: &str = "user_entrypoint";
/// Ink per gas: ArbOS's default ink price (`tx_ink_price`).
pub const INK_PRICE: u64 = 10_000;

use ValType::{I32, I64};

/// Every import the profile implements: module, name, parameters, results.
pub const HOOKS: &[(&str, &str, &[ValType], &[ValType])] = &[
    (VM_HOOKS, "read_args", &[I32], &[]),
    (VM_HOOKS, "write_result", &[I32, I32], &[]),
    (VM_HOOKS, "exit_early", &[I32], &[]),
    (VM_HOOKS, "storage_load_bytes32", &[I32, I32], &[]),
    (VM_HOOKS, "storage_cache_bytes32", &[I32, I32], &[]),
    (VM_HOOKS, "storage_flush_cache", &[I32], &[]),
    (VM_HOOKS, "transient_load_bytes32", &[I32, I32], &[]),
    (VM_HOOKS, "transient_store_bytes32", &[I32, I32], &[]),
    (
        VM_HOOKS,
        "call_contract",
        &[I32, I32, I32, I32, I64, I32],
        &[I32],
    ),
    (
        VM_HOOKS,
        "delegate_call_contract",
        &[I32, I32, I32, I64, I32],
        &[I32],
    ),
    (
        VM_HOOKS,
        "static_call_contract",
        &[I32, I32, I32, I64, I32],
        &[I32],
    ),
    (VM_HOOKS, "create1", &[I32, I32, I32, I32, I32], &[]),
    (VM_HOOKS, "create2", &[I32, I32, I32, I32, I32, I32], &[]),
    (VM_HOOKS, "read_return_data", &[I32, I32, I32], &[I32]),
    (VM_HOOKS, "return_data_size", &[], &[I32]),
    (VM_HOOKS, "emit_log", &[I32, I32, I32], &[]),
    (VM_HOOKS, "account_balance", &[I32, I32], &[]),
    (VM_HOOKS, "account_code", &[I32, I32, I32, I32], &[I32]),
    (VM_HOOKS, "account_code_size", &[I32], &[I32]),
    (VM_HOOKS, "account_codehash", &[I32, I32], &[]),
    (VM_HOOKS, "block_basefee", &[I32], &[]),
    (VM_HOOKS, "block_coinbase", &[I32], &[]),
    (VM_HOOKS, "contract_address", &[I32], &[]),
    (VM_HOOKS, "msg_sender", &[I32], &[]),
    (VM_HOOKS, "msg_value", &[I32], &[]),
    (VM_HOOKS, "tx_gas_price", &[I32], &[]),
    (VM_HOOKS, "tx_origin", &[I32], &[]),
    (VM_HOOKS, "chainid", &[], &[I64]),
    (VM_HOOKS, "block_gas_limit", &[], &[I64]),
    (VM_HOOKS, "block_number", &[], &[I64]),
    (VM_HOOKS, "block_timestamp", &[], &[I64]),
    (VM_HOOKS, "evm_gas_left", &[], &[I64]),
    (VM_HOOKS, "evm_ink_left", &[], &[I64]),
    (VM_HOOKS, "tx_ink_price", &[], &[I32]),
    (VM_HOOKS, "msg_reentrant", &[], &[I32]),
    (VM_HOOKS, "pay_for_memory_grow", &[I32], &[]),
    (VM_HOOKS, "native_keccak256", &[I32, I32, I32], &[]),
    (VM_HOOKS, "math_div", &[I32, I32], &[]),
    (VM_HOOKS, "math_mod", &[I32, I32], &[]),
    (VM_HOOKS, "math_pow", &[I32, I32], &[]),
    (VM_HOOKS, "math_add_mod", &[I32, I32, I32], &[]),
    (VM_HOOKS, "math_mul_mod", &[I32, I32, I32], &[]),
    (CHAINLIFT, "blockhash", &[I32, I32], &[]),
    (CHAINLIFT, "prevrandao", &[I32], &[]),
    (CHAINLIFT, "blobhash", &[I32, I32], &[]),
    (CHAINLIFT, "blobbasefee", &[I32], &[]),
    (CHAINLIFT, "selfdestruct", &[I32], &[]),
    (
        CHAINLIFT,
        "callcode_contract",
        &[I32, I32, I32, I32, I64, I32],
        &[I32],
    ),
];

/// The hook's expected signature, if the profile knows the import.
pub fn hook_sig(module: &str, name: &str) -> Option<Sig> {
    HOOKS
        .iter()
        .find(|(m, n, _, _)| *m == module && *n == name)
        .map(|(_, _, p, r)| Sig {
            params: p.to_vec(),
            results: r.to_vec(),
        })
}

/// A function builder: straight-line code with a current block.
struct Fb {
    f: Function,
    cur: Block,
    params: Vec<Value>,
}

impl Fb {
    fn new(name: &str, sig: &Sig) -> Fb {
        let (params, returns) = ir_sig(sig);
        let mut f = Function::new(name, params.clone(), returns);
        let cur = f.new_block();
        let mut vals = vec![];
        for t in params {
            let v = f.new_value(t);
            f.block_mut(cur).params.push(v);
            vals.push(v);
        }
        Fb {
            f,
            cur,
            params: vals,
        }
    }

    fn ins(&mut self, op: Op, args: &[Value], tys: &[Type]) -> Vec<Value> {
        let results: Vec<Value> = tys.iter().map(|t| self.f.new_value(*t)).collect();
        self.f.block_mut(self.cur).insts.push(Inst {
            op,
            args: args.to_vec(),
            results: results.clone(),
            pos: SourcePos::None,
        });
        results
    }

    fn one(&mut self, op: Op, args: &[Value], ty: Type) -> Value {
        self.ins(op, args, &[ty])[0]
    }

    fn k(&mut self, ty: Type, v: u64) -> Value {
        self.one(Op::Iconst(U256::from(v)), &[], ty)
    }

    fn bin(&mut self, op: BinOp, a: Value, b: Value) -> Value {
        let t = self.f.ty(a);
        self.one(Op::Binary(op), &[a, b], t)
    }

    fn bin_k(&mut self, op: BinOp, a: Value, k: u64) -> Value {
        let t = self.f.ty(a);
        let k = self.k(t, k);
        self.bin(op, a, k)
    }

    /// Zero-extends (or keeps) `v` to `ty`.
    fn widen(&mut self, v: Value, ty: Type) -> Value {
        if self.f.ty(v) == ty {
            v
        } else {
            self.one(Op::Uext, &[v], ty)
        }
    }

    fn narrow(&mut self, v: Value, ty: Type) -> Value {
        if self.f.ty(v) == ty {
            v
        } else {
            self.one(Op::Trunc, &[v], ty)
        }
    }

    /// A memory address from an `i32` pointer plus `off`.
    fn addr(&mut self, p: Value, off: u64) -> Value {
        let a = self.widen(p, Type::I64);
        if off == 0 {
            a
        } else {
            self.bin_k(BinOp::Add, a, off)
        }
    }

    fn word(&mut self, p: Value) -> Value {
        let a = self.addr(p, 0);
        self.one(Op::Load(Type::I256, Endian::Big), &[a], Type::I256)
    }

    fn put_word(&mut self, p: Value, w: Value) {
        let a = self.addr(p, 0);
        self.ins(Op::Store(Type::I256, Endian::Big), &[a, w], &[]);
    }

    /// A 20-byte big-endian address: 4 + 8 + 8 bytes.
    fn address(&mut self, p: Value) -> Value {
        let mut acc = None;
        for (off, ty, shift) in [(0, Type::I32, 128), (4, Type::I64, 64), (12, Type::I64, 0)] {
            let a = self.addr(p, off);
            let part = self.one(Op::Load(ty, Endian::Big), &[a], ty);
            let part = self.widen(part, Type::I256);
            let part = if shift == 0 {
                part
            } else {
                self.bin_k(BinOp::Shl, part, shift)
            };
            acc = Some(match acc {
                None => part,
                Some(x) => self.bin(BinOp::Or, x, part),
            });
        }
        acc.expect("three parts")
    }

    fn put_address(&mut self, p: Value, w: Value) {
        for (off, ty, shift) in [(0, Type::I32, 128), (4, Type::I64, 64), (12, Type::I64, 0)] {
            let part = if shift == 0 {
                w
            } else {
                self.bin_k(BinOp::LShr, w, shift)
            };
            let part = self.narrow(part, ty);
            let a = self.addr(p, off);
            self.ins(Op::Store(ty, Endian::Big), &[a, part], &[]);
        }
    }

    fn host(&mut self, op: HostOp, args: &[Value]) -> Option<Value> {
        let args: Vec<Value> = args.iter().map(|a| self.widen(*a, Type::I256)).collect();
        let results = if op.arity().1 == 1 {
            vec![Type::I256]
        } else {
            vec![]
        };
        self.ins(Op::Host(op), &args, &results).first().copied()
    }

    /// `min(a, b)` (unsigned).
    fn min(&mut self, a: Value, b: Value) -> Value {
        let c = self.one(Op::Icmp(Cond::Ult), &[a, b], Type::I1);
        let t = self.f.ty(a);
        self.one(Op::Select, &[c, a, b], t)
    }

    /// Stores `v` (an `i256`) as a little-endian `i32` at `p`.
    fn put_i32(&mut self, p: Value, v: Value) {
        let v = self.narrow(v, Type::I32);
        let a = self.addr(p, 0);
        self.ins(Op::Store(Type::I32, Endian::Little), &[a, v], &[]);
    }

    fn ret(mut self, vals: &[Value]) -> Function {
        self.f.block_mut(self.cur).term = Terminator::Return(vals.to_vec());
        self.f
    }

    /// Ends the run: `exit.return` (status 0) or `exit.revert` over the
    /// result `write_result` recorded.
    fn exit(mut self, status: Value, result: u32) -> Function {
        let idx = self.k(Type::I64, result as u64);
        let ptr = self.one(Op::StackLoad, &[idx], Type::I64);
        let idx = self.k(Type::I64, result as u64 + 1);
        let len = self.one(Op::StackLoad, &[idx], Type::I64);
        let ptr = self.widen(ptr, Type::I256);
        let len = self.widen(len, Type::I256);
        let zero = self.k(self.f.ty(status), 0);
        let ok = self.one(Op::Icmp(Cond::Eq), &[status, zero], Type::I1);
        let ret = self.f.new_block();
        let rev = self.f.new_block();
        self.f.block_mut(self.cur).term = Terminator::Branch {
            cond: ok,
            then_to: BlockCall::new(ret),
            else_to: BlockCall::new(rev),
        };
        self.f.block_mut(ret).term = Terminator::Exit(ExitKind::Return, vec![ptr, len]);
        self.f.block_mut(rev).term = Terminator::Exit(ExitKind::Revert, vec![ptr, len]);
        self.f
    }
}

/// The IR function implementing import `module.name`, or `None` if the
/// profile does not know it. `result` is the first of the two stack-array
/// limbs that hold the result's pointer and length.
pub fn hook(module: &str, name: &str, result: u32) -> Option<Function> {
    use HostOp as H;
    let sig = hook_sig(module, name)?;
    let mut b = Fb::new(name, &sig);
    let p = b.params.clone();
    let i256 = Type::I256;
    let f = match name {
        "read_args" => {
            let len = b.host(H::CallDataSize, &[]).expect("a result");
            let zero = b.k(i256, 0);
            b.host(H::CallDataCopy, &[p[0], zero, len]);
            b.ret(&[])
        }
        "write_result" => {
            for (i, v) in p.iter().enumerate() {
                let idx = b.k(Type::I64, result as u64 + i as u64);
                let v = b.widen(*v, Type::I64);
                b.ins(Op::StackStore, &[idx, v], &[]);
            }
            b.ret(&[])
        }
        "exit_early" => b.exit(p[0], result),
        "storage_load_bytes32" | "transient_load_bytes32" => {
            let key = b.word(p[0]);
            let op = if name.starts_with("storage") {
                H::SLoad
            } else {
                H::TLoad
            };
            let v = b.host(op, &[key]).expect("a result");
            b.put_word(p[1], v);
            b.ret(&[])
        }
        "storage_cache_bytes32" | "transient_store_bytes32" => {
            let key = b.word(p[0]);
            let v = b.word(p[1]);
            let op = if name.starts_with("storage") {
                H::SStore
            } else {
                H::TStore
            };
            b.host(op, &[key, v]);
            b.ret(&[])
        }
        // Stores write through: nothing is buffered. No memory metering.
        "storage_flush_cache" | "pay_for_memory_grow" => b.ret(&[]),
        "call_contract"
        | "callcode_contract"
        | "delegate_call_contract"
        | "static_call_contract" => {
            let kind = match name {
                "call_contract" => CallKind::Call,
                "callcode_contract" => CallKind::CallCode,
                "delegate_call_contract" => CallKind::DelegateCall,
                _ => CallKind::StaticCall,
            };
            let to = b.address(p[0]);
            let zero = b.k(i256, 0);
            let ok = if matches!(kind, CallKind::Call | CallKind::CallCode) {
                let value = b.word(p[3]);
                b.host(H::Call(kind), &[p[4], to, value, p[1], p[2], zero, zero])
            } else {
                b.host(H::Call(kind), &[p[3], to, p[1], p[2], zero, zero])
            }
            .expect("a result");
            let len = b.host(H::ReturnDataSize, &[]).expect("a result");
            b.put_i32(*p.last().expect("ret_len"), len);
            let failed = b.one(Op::Icmp(Cond::Eq), &[ok, zero], Type::I1);
            let status = b.widen(failed, Type::I32);
            b.ret(&[status])
        }
        "create1" | "create2" => {
            let value = b.word(p[2]);
            let (args, addr_ptr, len_ptr) = if name == "create1" {
                (vec![value, p[0], p[1]], p[3], p[4])
            } else {
                let salt = b.word(p[3]);
                (vec![value, p[0], p[1], salt], p[4], p[5])
            };
            let op = if name == "create1" {
                H::Create
            } else {
                H::Create2
            };
            let created = b.host(op, &args).expect("a result");
            b.put_address(addr_ptr, created);
            let len = b.host(H::ReturnDataSize, &[]).expect("a result");
            b.put_i32(len_ptr, len);
            b.ret(&[])
        }
        "read_return_data" => {
            // Copies what exists of [offset, offset + size): never traps.
            let total = b.host(H::ReturnDataSize, &[]).expect("a result");
            let offset = b.widen(p[1], i256);
            let size = b.widen(p[2], i256);
            let start = b.min(offset, total);
            let rest = b.bin(BinOp::Sub, total, start);
            let n = b.min(size, rest);
            b.host(H::ReturnDataCopy, &[p[0], start, n]);
            let n = b.narrow(n, Type::I32);
            b.ret(&[n])
        }
        "return_data_size" => {
            let n = b.host(H::ReturnDataSize, &[]).expect("a result");
            let n = b.narrow(n, Type::I32);
            b.ret(&[n])
        }
        "emit_log" => emit_log(b),
        "account_balance" | "account_codehash" => {
            let who = b.address(p[0]);
            let op = if name == "account_balance" {
                H::Balance
            } else {
                H::ExtCodeHash
            };
            let v = b.host(op, &[who]).expect("a result");
            b.put_word(p[1], v);
            b.ret(&[])
        }
        "account_code_size" => {
            let who = b.address(p[0]);
            let n = b.host(H::ExtCodeSize, &[who]).expect("a result");
            let n = b.narrow(n, Type::I32);
            b.ret(&[n])
        }
        "account_code" => {
            // (address, offset, size, dest): what exists, no zero padding.
            let who = b.address(p[0]);
            let total = b.host(H::ExtCodeSize, &[who]).expect("a result");
            let offset = b.widen(p[1], i256);
            let size = b.widen(p[2], i256);
            let start = b.min(offset, total);
            let rest = b.bin(BinOp::Sub, total, start);
            let n = b.min(size, rest);
            b.host(H::ExtCodeCopy, &[who, p[3], start, n]);
            let n = b.narrow(n, Type::I32);
            b.ret(&[n])
        }
        "block_basefee" | "msg_value" | "tx_gas_price" | "prevrandao" | "blobbasefee" => {
            let op = match name {
                "block_basefee" => H::BaseFee,
                "msg_value" => H::CallValue,
                "tx_gas_price" => H::GasPrice,
                "prevrandao" => H::PrevRandao,
                _ => H::BlobBaseFee,
            };
            let v = b.host(op, &[]).expect("a result");
            b.put_word(p[0], v);
            b.ret(&[])
        }
        "block_coinbase" | "contract_address" | "msg_sender" | "tx_origin" => {
            let op = match name {
                "block_coinbase" => H::Coinbase,
                "contract_address" => H::Address,
                "msg_sender" => H::Caller,
                _ => H::Origin,
            };
            let v = b.host(op, &[]).expect("a result");
            b.put_address(p[0], v);
            b.ret(&[])
        }
        "chainid" | "block_gas_limit" | "block_number" | "block_timestamp" | "evm_gas_left"
        | "evm_ink_left" => {
            let op = match name {
                "chainid" => H::ChainId,
                "block_gas_limit" => H::GasLimit,
                "block_number" => H::Number,
                "block_timestamp" => H::Timestamp,
                _ => H::Gas,
            };
            let v = b.host(op, &[]).expect("a result");
            // Saturated to 64 bits, as the host reports them.
            let max = b.k(i256, u64::MAX);
            let v = b.min(v, max);
            let mut v = b.narrow(v, Type::I64);
            if name == "evm_ink_left" {
                let wide = b.widen(v, i256);
                let ink = b.bin_k(BinOp::Mul, wide, INK_PRICE);
                let ink = b.min(ink, max);
                v = b.narrow(ink, Type::I64);
            }
            b.ret(&[v])
        }
        "tx_ink_price" => {
            let v = b.k(Type::I32, INK_PRICE);
            b.ret(&[v])
        }
        // Our engines keep no reentrancy flag: a contract is never told it
        // is reentered.
        "msg_reentrant" => {
            let v = b.k(Type::I32, 0);
            b.ret(&[v])
        }
        "native_keccak256" => {
            let h = b.host(H::Keccak256, &[p[0], p[1]]).expect("a result");
            b.put_word(p[2], h);
            b.ret(&[])
        }
        "math_div" | "math_mod" | "math_pow" => {
            let x = b.word(p[0]);
            let y = b.word(p[1]);
            let r = match name {
                "math_div" => b.bin(BinOp::UDiv, x, y),
                "math_mod" => b.bin(BinOp::URem, x, y),
                _ => b.one(Op::Exp, &[x, y], i256),
            };
            b.put_word(p[0], r);
            b.ret(&[])
        }
        "math_add_mod" | "math_mul_mod" => {
            let x = b.word(p[0]);
            let y = b.word(p[1]);
            let n = b.word(p[2]);
            let op = if name == "math_add_mod" {
                Op::AddMod
            } else {
                Op::MulMod
            };
            let r = b.one(op, &[x, y, n], i256);
            b.put_word(p[0], r);
            b.ret(&[])
        }
        "blockhash" | "blobhash" => {
            let n = b.word(p[0]);
            let op = if name == "blockhash" {
                H::BlockHash
            } else {
                H::BlobHash
            };
            let v = b.host(op, &[n]).expect("a result");
            b.put_word(p[1], v);
            b.ret(&[])
        }
        "selfdestruct" => {
            let to = b.address(p[0]);
            let mut f = b.f;
            let cur = b.cur;
            f.block_mut(cur).term = Terminator::Exit(ExitKind::SelfDestruct, vec![to]);
            f
        }
        _ => return None,
    };
    Some(f)
}

/// `emit_log(data, len, topics)`: the first `32 * topics` bytes are the
/// topics, the rest the data. More than four topics, or fewer bytes than
/// the topics take, trap.
fn emit_log(mut b: Fb) -> Function {
    let p = b.params.clone();
    let topics = p[2];
    let len64 = b.widen(p[1], Type::I64);
    let need = b.widen(topics, Type::I64);
    let need = b.bin_k(BinOp::Shl, need, 5);
    let short = b.one(Op::Icmp(Cond::Ult), &[len64, need], Type::I1);
    let four = b.k(Type::I32, 4);
    let many = b.one(Op::Icmp(Cond::Ugt), &[topics, four], Type::I1);
    let bad = b.bin(BinOp::Or, short, many);
    let trap = b.f.new_block();
    b.f.block_mut(trap).term = Terminator::Trap(TrapCode::OutOfBounds);
    let ok = b.f.new_block();
    b.f.block_mut(b.cur).term = Terminator::Branch {
        cond: bad,
        then_to: BlockCall::new(trap),
        else_to: BlockCall::new(ok),
    };
    let done = b.f.new_block();
    let mut cases = vec![];
    for n in 0..=4u8 {
        let blk = b.f.new_block();
        b.cur = blk;
        let mut args = vec![];
        for t in 0..n as u64 {
            let a = b.bin_k(BinOp::Add, p[0], 32 * t);
            args.push(b.word(a));
        }
        let data = b.bin_k(BinOp::Add, p[0], 32 * n as u64);
        let data = b.widen(data, Type::I256);
        let len = b.bin_k(BinOp::Sub, p[1], 32 * n as u64);
        let len = b.widen(len, Type::I256);
        let mut all = vec![data, len];
        all.extend(args);
        b.ins(Op::Host(HostOp::Log(n)), &all, &[]);
        b.f.block_mut(blk).term = Terminator::Jump(BlockCall::new(done));
        cases.push((U256::from(n), BlockCall::new(blk)));
    }
    let default = cases.pop().expect("five cases").1;
    b.f.block_mut(ok).term = Terminator::Switch {
        value: topics,
        cases,
        default,
    };
    b.f.block_mut(done).term = Terminator::Return(vec![]);
    b.f
}

/// Whether a module is a Stylus contract: it exports `user_entrypoint` or
/// imports from `vm_hooks`.
pub fn is_stylus(m: &crate::module::WasmModule<'_>) -> bool {
    m.exports.iter().any(|e| e.name == ENTRY) || m.imports.iter().any(|i| i.module == VM_HOOKS)
}

/// The entry's tail: `status = user_entrypoint(calldatasize)`, then the
/// exit over the recorded result. Appended to the instantiation code in
/// `f`'s current block `cur`.
pub fn entry_tail(f: Function, cur: Block, entry: u32, result: u32) -> Function {
    let mut b = Fb {
        f,
        cur,
        params: vec![],
    };
    for i in 0..2 {
        let idx = b.k(Type::I64, result as u64 + i);
        let zero = b.k(Type::I64, 0);
        b.ins(Op::StackStore, &[idx, zero], &[]);
    }
    let len = b.host(HostOp::CallDataSize, &[]).expect("a result");
    let len = b.narrow(len, Type::I32);
    let status = b.one(Op::Call(func_id(entry)), &[len], Type::I32);
    b.exit(status, result)
}
