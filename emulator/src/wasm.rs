//! The `wasm` engine's executor: a contract's legalized module translated by
//! backend-wasm, compiled by wasmtime once per code, and run against the
//! IR engine's world through a Stylus host (every `vm_hooks` function the
//! backend imports and the `chainlift` module). Nested calls and creations
//! go through the same world host as the `ir` engine's, so each nested
//! frame runs the callee's own code in wasmtime too.
//!
//! Each call gets a fresh store: fuel is the frame's share of the call's
//! budget (derived from its gas, as for the interpreter), EVM memory is
//! bounded by the module's `chainlift_memory_limit` global set to what the
//! gas pays for, and a trap site's code and EVM pc come back from the
//! module's trap slot.

use alloy_primitives::{U256, keccak256};
use chainlift_backend_wasm::abi::{self, layout};
use chainlift_frontend_evm::pipeline::Compiled;
use chainlift_frontend_wasm::stylus::INK_PRICE;
use chainlift_ir::inst::{CallKind, HostOp, SourcePos, TrapCode};
use chainlift_ir::interp::{Host, Limits, Outcome as IrOutcome};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wasmtime::{
    Caller, Config, Engine, Global, InstancePre, Linker, Memory, Module, Store, Trap, Val,
};

/// The native stack a call needs when each of up to 1,024 nested frames
/// enters wasmtime again from a host function.
pub const STACK: usize = 1 << 30;

thread_local! {
    static ON_BIG_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` on a thread with a [`STACK`]-sized stack, on which the `wasm`
/// engine then runs calls directly (a program that makes many calls, such
/// as the CLI, runs itself this way once instead of starting a thread per
/// call). `None` if the thread could not start or `f` panicked.
pub fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    if ON_BIG_STACK.with(|b| b.get()) {
        return Some(f());
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("chainlift-big-stack".into())
            .stack_size(STACK)
            .spawn_scoped(s, || {
                ON_BIG_STACK.with(|b| b.set(true));
                f()
            })
            .ok()?
            .join()
            .ok()
    })
}

/// Frames that may be live at once: the EVM's 1,024 call depth, the
/// transaction's own frame, and slack.
const MAX_FRAMES: u32 = 1100;

/// The largest EVM memory a frame may grow (the interpreter's default
/// limit is 64 MiB).
const MAX_EVM_MEMORY: i64 = 120 << 20;

/// wasmtime with the Stylus host linked, and a compiled module per code.
pub struct WasmRuntime {
    /// How modules are translated.
    pub options: chainlift_backend_wasm::Options,
    engine: Engine,
    linker: Linker<Ctx>,
    /// Per pipeline result (kept alive here, so its address is its key).
    modules: Mutex<HashMap<usize, Entry>>,
}

struct Entry {
    _compiled: Arc<Compiled>,
    pre: Result<InstancePre<Ctx>, String>,
}

impl std::fmt::Debug for WasmRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WasmRuntime")
    }
}

/// How a hook stopped the program.
enum Stop {
    /// `exit_early(status)`.
    Exit(i32),
    /// An EVM halt the host detected (a state change in a static call, too
    /// large init code).
    Trap(TrapCode),
}

/// A store's data: the world host of the running frame and the frame's
/// return data, result and exit.
struct Ctx {
    /// The host of the frame, valid for as long as the store lives (see
    /// [`WasmRuntime::run`]).
    host: *mut (dyn Host + 'static),
    memory: Option<Memory>,
    heap: Option<Global>,
    msize: Option<Global>,
    return_data: Vec<u8>,
    result: Vec<u8>,
    stop: Option<Stop>,
    selfdestruct: Option<U256>,
    fuel: u64,
    /// For a WASM original: its linear memory's bound, the IR engines'
    /// (a translated module bounds EVM memory itself, by its limit global).
    limits: wasmtime::StoreLimits,
}

// SAFETY: a `Ctx` never leaves the thread that made it: the store that owns
// it is created, used and dropped inside one `WasmRuntime::run` call. The
// bound is needed only because wasmtime's `Linker` requires `Send` data.
unsafe impl Send for Ctx {}

type R<T> = wasmtime::Result<T>;

fn halt(c: &mut Caller<'_, Ctx>, code: TrapCode) -> wasmtime::Error {
    c.data_mut().stop = Some(Stop::Trap(code));
    wasmtime::format_err!("halt: {code}")
}

fn host<'a>(c: &'a mut Caller<'_, Ctx>) -> &'a mut dyn Host {
    // SAFETY: `host` points to the frame's host, which outlives the store
    // (`run` drops the store before it returns), and no other reference to
    // it is live while a hook runs: the interpreter is not running, and the
    // nested frames a hook starts run in their own stores.
    unsafe { &mut *c.data_mut().host }
}

fn memory(c: &mut Caller<'_, Ctx>) -> R<Memory> {
    c.data()
        .memory
        .ok_or_else(|| wasmtime::format_err!("the module has no memory"))
}

fn read(c: &mut Caller<'_, Ctx>, ptr: i32, len: i32) -> R<Vec<u8>> {
    let m = memory(c)?;
    let (p, n) = (ptr as u32 as usize, len as u32 as usize);
    m.data(&*c)
        .get(p..p.saturating_add(n))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| wasmtime::format_err!("host operand out of bounds"))
}

fn write(c: &mut Caller<'_, Ctx>, ptr: i32, bytes: &[u8]) -> R<()> {
    let m = memory(c)?;
    let p = ptr as u32 as usize;
    m.data_mut(&mut *c)
        .get_mut(p..p.saturating_add(bytes.len()))
        .ok_or_else(|| wasmtime::format_err!("host result out of bounds"))?
        .copy_from_slice(bytes);
    Ok(())
}

fn word(c: &mut Caller<'_, Ctx>, ptr: i32) -> R<U256> {
    Ok(U256::from_be_slice(&read(c, ptr, 32)?))
}

fn address(c: &mut Caller<'_, Ctx>, ptr: i32) -> R<U256> {
    Ok(U256::from_be_slice(&read(c, ptr, 20)?))
}

fn put_word(c: &mut Caller<'_, Ctx>, ptr: i32, w: U256) -> R<()> {
    write(c, ptr, &w.to_be_bytes::<32>())
}

fn put_address(c: &mut Caller<'_, Ctx>, ptr: i32, w: U256) -> R<()> {
    write(c, ptr, &w.to_be_bytes::<32>()[12..])
}

/// Every hook first reports the frame's progress to the host (its budget
/// is shared by all frames, and nested calls' gas depends on the memory
/// size).
fn enter(c: &mut Caller<'_, Ctx>) -> R<()> {
    let used = c.data().fuel.saturating_sub(c.get_fuel().unwrap_or(0));
    let (heap, msize) = (c.data().heap, c.data().msize);
    let at = |g: Option<Global>, c: &mut Caller<'_, Ctx>| match g.map(|g| g.get(&mut *c)) {
        Some(Val::I32(v)) => v as u32 as usize,
        Some(Val::I64(v)) => v as usize,
        _ => 0,
    };
    let (start, len) = (at(heap, c), at(msize, c));
    let m = memory(c)?;
    let (data, ctx) = m.data_and_store_mut(&mut *c);
    let evm = data.get(start..start.saturating_add(len)).unwrap_or(&[]);
    // SAFETY: as in `host`.
    let h = unsafe { &mut *ctx.host };
    h.at(SourcePos::None, evm, used);
    Ok(())
}

fn static_check(c: &mut Caller<'_, Ctx>) -> R<()> {
    if host(c).is_static() {
        return Err(halt(c, TrapCode::StaticViolation));
    }
    Ok(())
}

fn env(c: &mut Caller<'_, Ctx>, op: HostOp) -> R<U256> {
    enter(c)?;
    Ok(host(c).env(op))
}

#[allow(clippy::too_many_arguments)]
fn call(
    c: &mut Caller<'_, Ctx>,
    kind: CallKind,
    addr: i32,
    data: i32,
    len: i32,
    value: Option<i32>,
    gas: i64,
    ret_len: i32,
) -> R<i32> {
    enter(c)?;
    let to = address(c, addr)?;
    let value = match value {
        Some(p) => word(c, p)?,
        None => U256::ZERO,
    };
    if kind == CallKind::Call && !value.is_zero() && host(c).is_static() {
        return Err(halt(c, TrapCode::StaticViolation));
    }
    let input = read(c, data, len)?;
    let (ok, out) = host(c).call(kind, U256::from(gas as u64), to, value, &input);
    write(c, ret_len, &(out.len() as u32).to_le_bytes())?;
    c.data_mut().return_data = out;
    Ok(i32::from(!ok))
}

fn create(
    c: &mut Caller<'_, Ctx>,
    code: i32,
    len: i32,
    value: i32,
    salt: Option<i32>,
    addr: i32,
    ret_len: i32,
) -> R<()> {
    enter(c)?;
    static_check(c)?;
    if let Some(max) = host(c).max_init_code()
        && len as u32 as usize > max
    {
        return Err(halt(c, TrapCode::InitCodeTooLarge));
    }
    let value = word(c, value)?;
    let salt = match salt {
        Some(p) => Some(word(c, p)?),
        None => None,
    };
    let init = read(c, code, len)?;
    let (created, out) = host(c).create(value, &init, salt);
    put_address(c, addr, created)?;
    write(c, ret_len, &(out.len() as u32).to_le_bytes())?;
    c.data_mut().return_data = out;
    Ok(())
}

/// Copies `src[offset..offset+size]`, what of it exists, to `dest`.
fn copy_out(c: &mut Caller<'_, Ctx>, src: &[u8], dest: i32, offset: i32, size: i32) -> R<i32> {
    let start = (offset as u32 as usize).min(src.len());
    let end = start.saturating_add(size as u32 as usize).min(src.len());
    write(c, dest, &src[start..end])?;
    Ok((end - start) as i32)
}

/// What the module last stored in its trap slot (see `abi::trap_info`).
fn trap_slot(memory: Option<Memory>, store: &Store<Ctx>) -> Option<i64> {
    let at = layout::TRAP as usize;
    let bytes = memory?.data(store).get(at..at + 8)?;
    Some(i64::from_le_bytes(bytes.try_into().ok()?))
}

fn linker(engine: &Engine) -> R<Linker<Ctx>> {
    let mut l: Linker<Ctx> = Linker::new(engine);
    let vm = abi::VM_HOOKS;
    l.func_wrap(vm, "read_args", |mut c: Caller<'_, Ctx>, dest: i32| {
        let data = host(&mut c).calldata().to_vec();
        write(&mut c, dest, &data)
    })?;
    l.func_wrap(
        vm,
        "write_result",
        |mut c: Caller<'_, Ctx>, p: i32, n: i32| {
            let data = read(&mut c, p, n)?;
            c.data_mut().result = data;
            Ok(())
        },
    )?;
    l.func_wrap(
        vm,
        "exit_early",
        |mut c: Caller<'_, Ctx>, status: i32| -> R<()> {
            c.data_mut().stop = Some(Stop::Exit(status));
            Err(wasmtime::format_err!("exit_early"))
        },
    )?;
    l.func_wrap(
        vm,
        "storage_load_bytes32",
        |mut c: Caller<'_, Ctx>, k: i32, d: i32| {
            enter(&mut c)?;
            let key = word(&mut c, k)?;
            let v = host(&mut c).sload(key);
            put_word(&mut c, d, v)
        },
    )?;
    l.func_wrap(
        vm,
        "storage_cache_bytes32",
        |mut c: Caller<'_, Ctx>, k: i32, v: i32| {
            enter(&mut c)?;
            static_check(&mut c)?;
            let (key, value) = (word(&mut c, k)?, word(&mut c, v)?);
            host(&mut c).sstore(key, value);
            Ok(())
        },
    )?;
    // Stores above write through: there is nothing to flush.
    l.func_wrap(
        vm,
        "storage_flush_cache",
        |_: Caller<'_, Ctx>, _clear: i32| {},
    )?;
    l.func_wrap(
        vm,
        "transient_load_bytes32",
        |mut c: Caller<'_, Ctx>, k: i32, d: i32| {
            enter(&mut c)?;
            let key = word(&mut c, k)?;
            let v = host(&mut c).tload(key);
            put_word(&mut c, d, v)
        },
    )?;
    l.func_wrap(
        vm,
        "transient_store_bytes32",
        |mut c: Caller<'_, Ctx>, k: i32, v: i32| {
            enter(&mut c)?;
            static_check(&mut c)?;
            let (key, value) = (word(&mut c, k)?, word(&mut c, v)?);
            host(&mut c).tstore(key, value);
            Ok(())
        },
    )?;
    l.func_wrap(
        vm,
        "call_contract",
        |mut c: Caller<'_, Ctx>, a: i32, d: i32, n: i32, v: i32, g: i64, r: i32| {
            call(&mut c, CallKind::Call, a, d, n, Some(v), g, r)
        },
    )?;
    l.func_wrap(
        vm,
        "delegate_call_contract",
        |mut c: Caller<'_, Ctx>, a: i32, d: i32, n: i32, g: i64, r: i32| {
            call(&mut c, CallKind::DelegateCall, a, d, n, None, g, r)
        },
    )?;
    l.func_wrap(
        vm,
        "static_call_contract",
        |mut c: Caller<'_, Ctx>, a: i32, d: i32, n: i32, g: i64, r: i32| {
            call(&mut c, CallKind::StaticCall, a, d, n, None, g, r)
        },
    )?;
    l.func_wrap(
        vm,
        "create1",
        |mut c: Caller<'_, Ctx>, p: i32, n: i32, v: i32, a: i32, r: i32| {
            create(&mut c, p, n, v, None, a, r)
        },
    )?;
    l.func_wrap(
        vm,
        "create2",
        |mut c: Caller<'_, Ctx>, p: i32, n: i32, v: i32, s: i32, a: i32, r: i32| {
            create(&mut c, p, n, v, Some(s), a, r)
        },
    )?;
    l.func_wrap(
        vm,
        "read_return_data",
        |mut c: Caller<'_, Ctx>, d: i32, o: i32, n: i32| {
            let data = std::mem::take(&mut c.data_mut().return_data);
            let r = copy_out(&mut c, &data, d, o, n);
            c.data_mut().return_data = data;
            r
        },
    )?;
    l.func_wrap(vm, "return_data_size", |c: Caller<'_, Ctx>| {
        c.data().return_data.len() as i32
    })?;
    l.func_wrap(
        vm,
        "emit_log",
        |mut c: Caller<'_, Ctx>, p: i32, n: i32, t: i32| {
            enter(&mut c)?;
            static_check(&mut c)?;
            let data = read(&mut c, p, n)?;
            let k = (t as u32 as usize).min(4).min(data.len() / 32);
            let topics: Vec<U256> = data[..32 * k].chunks(32).map(U256::from_be_slice).collect();
            host(&mut c).log(&topics, &data[32 * k..]);
            Ok(())
        },
    )?;
    l.func_wrap(
        vm,
        "account_balance",
        |mut c: Caller<'_, Ctx>, a: i32, d: i32| {
            enter(&mut c)?;
            let who = address(&mut c, a)?;
            let v = host(&mut c).balance(who);
            put_word(&mut c, d, v)
        },
    )?;
    l.func_wrap(
        vm,
        "account_code",
        |mut c: Caller<'_, Ctx>, a: i32, o: i32, n: i32, d: i32| {
            enter(&mut c)?;
            let who = address(&mut c, a)?;
            let code = host(&mut c).ext_code(who);
            copy_out(&mut c, &code, d, o, n)
        },
    )?;
    l.func_wrap(vm, "account_code_size", |mut c: Caller<'_, Ctx>, a: i32| {
        enter(&mut c)?;
        let who = address(&mut c, a)?;
        Ok(host(&mut c).ext_code(who).len() as i32)
    })?;
    l.func_wrap(
        vm,
        "account_codehash",
        |mut c: Caller<'_, Ctx>, a: i32, d: i32| {
            enter(&mut c)?;
            let who = address(&mut c, a)?;
            let h = host(&mut c).ext_code_hash(who);
            put_word(&mut c, d, h)
        },
    )?;
    for (name, op, bytes) in [
        ("block_basefee", HostOp::BaseFee, 32),
        ("block_coinbase", HostOp::Coinbase, 20),
        ("contract_address", HostOp::Address, 20),
        ("msg_sender", HostOp::Caller, 20),
        ("msg_value", HostOp::CallValue, 32),
        ("tx_gas_price", HostOp::GasPrice, 32),
        ("tx_origin", HostOp::Origin, 20),
    ] {
        l.func_wrap(vm, name, move |mut c: Caller<'_, Ctx>, d: i32| {
            let v = env(&mut c, op)?;
            match bytes {
                20 => put_address(&mut c, d, v),
                _ => put_word(&mut c, d, v),
            }
        })?;
    }
    for (name, op) in [
        ("chainid", HostOp::ChainId),
        ("block_gas_limit", HostOp::GasLimit),
        ("block_number", HostOp::Number),
        ("block_timestamp", HostOp::Timestamp),
        ("evm_gas_left", HostOp::Gas),
    ] {
        l.func_wrap(vm, name, move |mut c: Caller<'_, Ctx>| -> R<i64> {
            Ok(env(&mut c, op)?.saturating_to::<u64>() as i64)
        })?;
    }
    // Hooks with no EVM meaning, as frontend-wasm's Stylus profile defines
    // them: no ink metering beyond gas at ArbOS's default ink price, no
    // reentrancy flag, no memory payment.
    l.func_wrap(vm, "evm_ink_left", |mut c: Caller<'_, Ctx>| -> R<i64> {
        let gas = env(&mut c, HostOp::Gas)?.saturating_to::<u64>();
        let ink = U256::from(gas).saturating_mul(U256::from(INK_PRICE));
        Ok(ink.saturating_to::<u64>() as i64)
    })?;
    l.func_wrap(vm, "tx_ink_price", |_: Caller<'_, Ctx>| INK_PRICE as i32)?;
    l.func_wrap(vm, "msg_reentrant", |_: Caller<'_, Ctx>| 0i32)?;
    l.func_wrap(
        vm,
        "pay_for_memory_grow",
        |_: Caller<'_, Ctx>, _pages: i32| {},
    )?;
    l.func_wrap(
        vm,
        "native_keccak256",
        |mut c: Caller<'_, Ctx>, p: i32, n: i32, d: i32| {
            let data = read(&mut c, p, n)?;
            write(&mut c, d, keccak256(&data).as_slice())
        },
    )?;
    for (name, op) in [("math_div", 0u8), ("math_mod", 1), ("math_pow", 2)] {
        l.func_wrap(vm, name, move |mut c: Caller<'_, Ctx>, v: i32, o: i32| {
            let (x, y) = (word(&mut c, v)?, word(&mut c, o)?);
            let r = match op {
                0 => x.checked_div(y).unwrap_or_default(),
                1 => x.checked_rem(y).unwrap_or_default(),
                _ => x.pow(y),
            };
            put_word(&mut c, v, r)
        })?;
    }
    for (name, mul) in [("math_add_mod", false), ("math_mul_mod", true)] {
        l.func_wrap(
            vm,
            name,
            move |mut c: Caller<'_, Ctx>, v: i32, a: i32, m: i32| {
                let (x, y, n) = (word(&mut c, v)?, word(&mut c, a)?, word(&mut c, m)?);
                let r = if mul {
                    x.mul_mod(y, n)
                } else {
                    x.add_mod(y, n)
                };
                put_word(&mut c, v, r)
            },
        )?;
    }
    let cl = abi::CHAINLIFT;
    l.func_wrap(cl, "blockhash", |mut c: Caller<'_, Ctx>, n: i32, d: i32| {
        enter(&mut c)?;
        let number = word(&mut c, n)?;
        let h = host(&mut c).block_hash(number);
        put_word(&mut c, d, h)
    })?;
    l.func_wrap(cl, "blobhash", |mut c: Caller<'_, Ctx>, i: i32, d: i32| {
        enter(&mut c)?;
        let index = word(&mut c, i)?;
        let h = host(&mut c).blob_hash(index);
        put_word(&mut c, d, h)
    })?;
    for (name, op) in [
        ("prevrandao", HostOp::PrevRandao),
        ("blobbasefee", HostOp::BlobBaseFee),
    ] {
        l.func_wrap(cl, name, move |mut c: Caller<'_, Ctx>, d: i32| {
            let v = env(&mut c, op)?;
            put_word(&mut c, d, v)
        })?;
    }
    l.func_wrap(cl, "selfdestruct", |mut c: Caller<'_, Ctx>, a: i32| {
        enter(&mut c)?;
        static_check(&mut c)?;
        let to = address(&mut c, a)?;
        c.data_mut().selfdestruct = Some(to);
        Ok(())
    })?;
    l.func_wrap(
        cl,
        "callcode_contract",
        |mut c: Caller<'_, Ctx>, a: i32, d: i32, n: i32, v: i32, g: i64, r: i32| {
            call(&mut c, CallKind::CallCode, a, d, n, Some(v), g, r)
        },
    )?;
    Ok(l)
}

impl WasmRuntime {
    /// A runtime with fuel metering that translates modules as `options` say.
    pub fn new(options: chainlift_backend_wasm::Options) -> Result<Self, String> {
        let mut config = Config::new();
        config.consume_fuel(true);
        // The backend calls small helpers (limb loads, byte swaps) in
        // place of repeating their code: let Cranelift inline them.
        config.compiler_inlining(wasmtime::Inlining::Yes);
        // Instances come from a pool (instantiation in microseconds, not
        // an mmap per call): one per frame of the deepest call stack, each
        // memory at most 256 MiB (EVM memory is bounded far below that by
        // gas and the interpreter's 64 MiB limit).
        let mut pool = wasmtime::PoolingAllocationConfig::default();
        pool.total_core_instances(MAX_FRAMES)
            .total_memories(MAX_FRAMES)
            .total_tables(MAX_FRAMES)
            .max_memory_size(256 << 20);
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        config.memory_reservation(256 << 20);
        config.memory_guard_size(64 << 10);
        let engine = Engine::new(&config).map_err(|e| e.to_string())?;
        let linker = linker(&engine).map_err(|e| e.to_string())?;
        Ok(WasmRuntime {
            options,
            engine,
            linker,
            modules: Mutex::new(HashMap::new()),
        })
    }

    /// The module of `compiled` (legalized), translated and compiled once.
    fn instance_pre(&self, compiled: &Arc<Compiled>) -> Result<InstancePre<Ctx>, String> {
        let key = Arc::as_ptr(compiled) as usize;
        if let Some(e) = self.lock().get(&key) {
            return e.pre.clone();
        }
        // A WASM original (a Stylus contract) runs as it is; EVM code runs
        // as backend-wasm translates its module.
        let bytes = if let Some(wasm) = &compiled.wasm {
            Ok(wasm.to_vec())
        } else {
            chainlift_backend_wasm::translate(&compiled.module, &self.options)
                .map(|p| p.bytes)
                .map_err(|e| e.to_string())
        };
        let pre = bytes
            .and_then(|b| Module::new(&self.engine, &b).map_err(|e| e.to_string()))
            .and_then(|m| self.linker.instantiate_pre(&m).map_err(|e| e.to_string()));
        self.lock().insert(
            key,
            Entry {
                _compiled: compiled.clone(),
                pre: pre.clone(),
            },
        );
        pre
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Entry>> {
        self.modules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Translates and compiles `compiled` (for timing compilation apart).
    pub fn prepare(&self, compiled: &Arc<Compiled>) -> Result<(), String> {
        self.instance_pre(compiled).map(|_| ())
    }

    /// Runs one frame of `compiled` against `host`: how it ended and the
    /// fuel it used. `Err` when the code cannot be translated or compiled.
    pub fn run(
        &self,
        host: &mut dyn Host,
        compiled: &Arc<Compiled>,
        limits: Limits,
    ) -> Result<(IrOutcome, u64), String> {
        let pre = self.instance_pre(compiled)?;
        let len = host.calldata().len() as i32;
        // SAFETY: the pointer's lifetime is erased only to store it in the
        // `'static` store data; the store is dropped at the end of this
        // function, while `host` is still borrowed (see `host`).
        let host: *mut (dyn Host + 'static) = unsafe { std::mem::transmute(host) };
        let mut store = Store::new(
            &self.engine,
            Ctx {
                host,
                memory: None,
                heap: None,
                msize: None,
                return_data: vec![],
                result: vec![],
                stop: None,
                selfdestruct: None,
                fuel: limits.budget,
                limits: match compiled.wasm {
                    Some(_) => wasmtime::StoreLimitsBuilder::new()
                        .memory_size(limits.memory)
                        .build(),
                    None => wasmtime::StoreLimits::default(),
                },
            },
        );
        store.limiter(|c| &mut c.limits);
        store.set_fuel(limits.budget).map_err(|e| e.to_string())?;
        let instance = pre.instantiate(&mut store).map_err(|e| e.to_string())?;
        let memory = instance.get_memory(&mut store, "memory");
        let heap = instance.get_global(&mut store, abi::HEAP_GLOBAL);
        let msize = instance.get_global(&mut store, abi::MSIZE_GLOBAL);
        if let Some(g) = instance.get_global(&mut store, abi::LIMIT_GLOBAL) {
            let limit = i64::try_from(limits.memory).unwrap_or(i64::MAX);
            // Within the pool's 256 MiB per memory, with room for the
            // calldata and a host operand past EVM memory.
            g.set(&mut store, Val::I64(limit.min(MAX_EVM_MEMORY)))
                .map_err(|e| e.to_string())?;
        }
        store.data_mut().memory = memory;
        store.data_mut().heap = heap;
        store.data_mut().msize = msize;
        let entry = instance
            .get_typed_func::<i32, i32>(&mut store, abi::ENTRY)
            .map_err(|e| e.to_string())?;
        let result = entry.call(&mut store, len);
        let used = limits.budget.saturating_sub(store.get_fuel().unwrap_or(0));
        let ctx = store.data_mut();
        let status = match (result, ctx.stop.take()) {
            (_, Some(Stop::Exit(s))) | (Ok(s), None) => s,
            (_, Some(Stop::Trap(code))) => {
                // The hook's position, which the module stored before it.
                let pos = trap_slot(memory, &store).map_or(SourcePos::None, abi::decode_pos);
                return Ok((IrOutcome::Trap { code, pos }, used));
            }
            (Err(e), None) => {
                let trap = e.downcast_ref::<Trap>().copied();
                let site = trap_slot(memory, &store).and_then(abi::decode_trap);
                let outcome = match (trap, site) {
                    (Some(Trap::OutOfFuel), _) => IrOutcome::OutOfBudget {
                        pos: SourcePos::None,
                    },
                    (Some(Trap::UnreachableCodeReached), Some((code, pos))) => {
                        IrOutcome::Trap { code, pos }
                    }
                    // Code after a branch that never falls through.
                    (Some(Trap::UnreachableCodeReached), None) => IrOutcome::Trap {
                        code: TrapCode::Unreachable,
                        pos: SourcePos::None,
                    },
                    (Some(Trap::StackOverflow), _) => IrOutcome::Trap {
                        code: TrapCode::CallStackExhausted,
                        pos: SourcePos::None,
                    },
                    (Some(_), _) => IrOutcome::Trap {
                        code: TrapCode::OutOfBounds,
                        pos: SourcePos::None,
                    },
                    (None, _) => return Err(format!("wasm engine: {e}")),
                };
                return Ok((outcome, used));
            }
        };
        let ctx = store.data_mut();
        let data = std::mem::take(&mut ctx.result);
        let outcome = match (ctx.selfdestruct, status) {
            (Some(b), 0) => IrOutcome::SelfDestruct(b),
            (_, 0) => IrOutcome::Return(data),
            _ => IrOutcome::Revert(data),
        };
        Ok((outcome, used))
    }
}
