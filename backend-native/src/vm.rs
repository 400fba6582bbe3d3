//! The run-time side of compiled code: the context every compiled function
//! receives ([`Vm`], whose first fields the code reads at fixed offsets),
//! and the `extern "C"` callbacks it calls for host operations, exits,
//! traps, memory growth and copies, and the 256-bit helpers that are faster
//! in Rust than as limb code. Every callback defers to the IR
//! interpreter's own definitions ([`Env`], [`binary`], [`eval_pure`]), so
//! compiled code and the interpreter agree by construction on everything
//! but the arithmetic and control flow Cranelift compiles.

use alloy_primitives::U256;
use chainlift_ir::inst::{BinOp, ExitKind, HostOp, Op, SourcePos, TrapCode};
use chainlift_ir::interp::{Env, Host, Outcome, binary, eval_pure};
use chainlift_ir::types::Type;
use std::cell::{Cell, RefCell};

/// Byte offsets of the fields compiled code reads and writes.
pub(crate) mod offset {
    /// `*mut u8`: linear memory.
    pub const MEM_BASE: i32 = 0;
    /// `u64`: its current size in bytes.
    pub const MEM_SIZE: i32 = 8;
    /// `i64`: fuel left; the run stops when it is below zero at a check.
    pub const FUEL: i32 = 16;
    /// `*mut u64`: the EVM stack array, 4,096 limbs.
    pub const STACK_BASE: i32 = 24;
    /// `u64`: the lowest native stack address a function may start at.
    pub const STACK_FLOOR: i32 = 32;
    /// `u64`: the deepest IR call nesting.
    pub const DEPTH_LIMIT: i32 = 40;
}

/// Limbs in the EVM stack array (1,024 words of four).
pub(crate) const STACK_LIMBS: u64 = 4 * chainlift_ir::interp::EVM_STACK_WORDS as u64;

/// The trap code compiled code passes for an exhausted budget.
pub(crate) const OUT_OF_BUDGET: u32 = 0xff;

/// The context of one run. The first six fields are read by compiled code
/// at [`offset`]; the rest are the Rust side's.
#[repr(C)]
pub(crate) struct Vm {
    mem_base: *mut u8,
    mem_size: u64,
    fuel: i64,
    stack_base: *mut u64,
    stack_floor: u64,
    depth_limit: u64,
    /// The host of the run, valid while the run lasts (see `run`).
    host: *mut (dyn Host + 'static),
    budget: u64,
    mem_limit: u64,
    memory: Vec<u8>,
    stack: Vec<u64>,
    return_data: Vec<u8>,
    outcome: Option<Outcome>,
}

/// A source position as compiled code passes it: 0 for none, `1 << 32 |
/// pc` for an EVM pc, `2 << 32 | offset` for a WASM offset.
pub(crate) fn encode_pos(pos: SourcePos) -> i64 {
    match pos {
        SourcePos::None => 0,
        SourcePos::Evm(pc) => 1 << 32 | i64::from(pc),
        SourcePos::Wasm(off) => 2 << 32 | i64::from(off),
    }
}

fn decode_pos(p: u64) -> SourcePos {
    let at = p as u32;
    match p >> 32 {
        1 => SourcePos::Evm(at),
        2 => SourcePos::Wasm(at),
        _ => SourcePos::None,
    }
}

/// Extra native stack kept free below the floor for the host's own code
/// (a callback runs revm's precompiles, hashing and nested frames' setup).
const STACK_MARGIN: usize = 1 << 20;

thread_local! {
    /// This thread's stack floor, when its stack size is known.
    static FLOOR: Cell<Option<usize>> = const { Cell::new(None) };
    /// Memories and EVM stacks of finished runs, zeroed, for reuse.
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// The address of a local: roughly the current stack pointer.
#[inline(never)]
fn stack_pointer() -> usize {
    let marker = 0u8;
    std::ptr::addr_of!(marker) as usize
}

/// The lowest address of the calling thread's stack, from the thread
/// library.
#[cfg(target_os = "linux")]
fn stack_low() -> Option<usize> {
    // SAFETY: plain calls into pthreads on the current thread with a
    // zeroed attribute object it fills and then destroys.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let r = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (r == 0 && !addr.is_null()).then_some(addr as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn stack_low() -> Option<usize> {
    None
}

/// The lowest native stack address a compiled function may start at on
/// this thread: its stack's end plus a margin for the host's own frames
/// (where the thread library does not say, 1 MiB below the first run,
/// which a spawned thread's default 2 MiB allows).
fn stack_floor() -> u64 {
    FLOOR.with(|f| match f.get() {
        Some(floor) => floor as u64,
        None => {
            let floor = match stack_low() {
                Some(low) => low.saturating_add(STACK_MARGIN),
                None => stack_pointer().saturating_sub(1 << 20),
            };
            f.set(Some(floor));
            floor as u64
        }
    })
}

/// Bytes of memory a run starts with; it grows (zeroed, possibly moving)
/// when `mem.expand` or `mem.grow` passes them.
const INITIAL_MEMORY: usize = 64 << 10;

/// A zeroed buffer of at least `len` bytes from the pool.
fn take(len: usize) -> Vec<u8> {
    let reused = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let i = p.iter().position(|b| b.len() >= len)?;
        Some(p.swap_remove(i))
    });
    reused.unwrap_or_else(|| vec![0; len])
}

/// Returns a buffer whose first `used` bytes may be dirty.
fn give(mut buf: Vec<u8>, used: usize) {
    if let Some(dirty) = buf.get_mut(..used) {
        dirty.fill(0);
    } else {
        return;
    }
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < 16 {
            p.push(buf);
        }
    });
}

impl Vm {
    /// A context for one run of at most `memory` bytes of linear memory,
    /// `budget` fuel and `depth` nested IR calls, with an EVM stack array
    /// if `stack` is set.
    ///
    /// # Safety
    /// `host` must stay valid, and be used by nothing else, until the
    /// context is dropped.
    pub(crate) unsafe fn new(
        host: &mut dyn Host,
        memory: usize,
        budget: u64,
        depth: usize,
        stack: bool,
    ) -> Box<Vm> {
        // SAFETY: only the lifetime is erased; the caller keeps `host`
        // alive and unaliased for as long as the context lives.
        let host: *mut (dyn Host + 'static) = unsafe { std::mem::transmute(host) };
        // Fuel is an i64 in compiled code.
        let budget = budget.min(i64::MAX as u64);
        let mut mem = take(memory.min(INITIAL_MEMORY));
        let mut stack = match stack {
            true => vec![0u64; STACK_LIMBS as usize],
            false => vec![],
        };
        Box::new(Vm {
            mem_base: mem.as_mut_ptr(),
            mem_size: 0,
            fuel: budget as i64,
            stack_base: stack.as_mut_ptr(),
            stack_floor: stack_floor(),
            depth_limit: depth as u64,
            host,
            budget,
            mem_limit: memory as u64,
            memory: mem,
            stack,
            return_data: vec![],
            outcome: None,
        })
    }

    /// Fuel used so far.
    pub(crate) fn steps(&self) -> u64 {
        if self.fuel < 0 {
            self.budget.saturating_add(self.fuel.unsigned_abs())
        } else {
            self.budget.saturating_sub(self.fuel as u64)
        }
    }

    /// Makes the buffer at least `size` bytes (zeroed, at most the limit),
    /// updating the base compiled code reads; `false` if the allocation
    /// failed.
    fn reserve(&mut self, size: u64) -> bool {
        let size = size as usize;
        let len = self.memory.len();
        if size <= len {
            return true;
        }
        // Doubling, so word-by-word growth copies little.
        let want = size
            .max(len.saturating_mul(2))
            .min(self.mem_limit as usize)
            .max(size);
        if self.memory.try_reserve_exact(want - len).is_err() {
            return false;
        }
        self.memory.resize(want, 0);
        self.mem_base = self.memory.as_mut_ptr();
        true
    }

    /// Linear memory's size in bytes.
    pub(crate) fn memory_size(&self) -> usize {
        self.mem_size as usize
    }

    /// How the run stopped, if a callback stopped it; a run that ended
    /// normally with its fuel spent (checks are at loop headers, function
    /// entries, host operations and exits) ran out of budget.
    pub(crate) fn take_outcome(&mut self) -> Option<Outcome> {
        match self.outcome.take() {
            None if self.fuel < 0 => Some(Outcome::OutOfBudget {
                pos: SourcePos::None,
            }),
            o => o,
        }
    }

    /// Runs `f` with the host and an [`Env`] over memory at its current
    /// size, then takes back the steps it counted as fuel.
    fn with_env<T>(&mut self, f: impl FnOnce(&mut dyn Host, &mut Env<'_>) -> T) -> T {
        let mut steps = self.steps();
        // SAFETY: see `new`; no other reference to the host is live while
        // a callback runs (compiled code never touches it).
        let host = unsafe { &mut *self.host };
        let size = (self.mem_size as usize).min(self.memory.len());
        let mut env = Env {
            memory: &mut self.memory[..size],
            return_data: &mut self.return_data,
            steps: &mut steps,
            budget: self.budget,
        };
        let r = f(host, &mut env);
        let left = i128::from(self.budget) - i128::from(steps);
        self.fuel = left.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        r
    }

    /// Ends the run with `outcome`; compiled code then unwinds (status 1).
    fn stop(&mut self, outcome: Outcome) -> u32 {
        self.outcome = Some(outcome);
        1
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let used = (self.mem_size as usize).min(self.memory.len());
        give(std::mem::take(&mut self.memory), used);
    }
}

/// Runs a callback's body, turning a panic into a stop (a panic must not
/// unwind through compiled frames).
fn guarded(vm: *mut Vm, f: impl FnOnce(&mut Vm) -> u32) -> u32 {
    // SAFETY: compiled code passes the context it was called with, which
    // `Program::run` keeps alive and exclusive for the whole run.
    let vm = unsafe { &mut *vm };
    let vm_ptr: *mut Vm = vm;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(vm))) {
        Ok(status) => status,
        Err(_) => {
            // SAFETY: the closure that borrowed the context has ended.
            let vm = unsafe { &mut *vm_ptr };
            vm.stop(Outcome::Trap {
                code: TrapCode::Unsupported,
                pos: SourcePos::None,
            })
        }
    }
}

/// Words from limbs, four per word, least significant first.
fn words(limbs: &[u64]) -> Vec<U256> {
    limbs
        .chunks(4)
        .map(|c| {
            let mut l = [0u64; 4];
            l[..c.len()].copy_from_slice(c);
            U256::from_limbs(l)
        })
        .collect()
}

/// `host.op` with its limbs at `args`, its result's limbs to `res`.
pub(crate) extern "C" fn host_op(
    vm: *mut Vm,
    op: u32,
    args: *const u64,
    res: *mut u64,
    pos: u64,
) -> u32 {
    guarded(vm, |vm| {
        let Some(op) = HostOp::ALL.get(op as usize).copied() else {
            return vm.stop(Outcome::Trap {
                code: TrapCode::Unsupported,
                pos: decode_pos(pos),
            });
        };
        if vm.fuel < 0 {
            return vm.stop(Outcome::OutOfBudget {
                pos: decode_pos(pos),
            });
        }
        let (n, _) = op.arity();
        // SAFETY: compiled code passes a stack slot of the operation's
        // operand limbs (four per word).
        let limbs = unsafe { std::slice::from_raw_parts(args, 4 * n) };
        let a = words(limbs);
        match vm.with_env(|host, env| env.host(host, op, &a, decode_pos(pos))) {
            Ok(Some(v)) => {
                // SAFETY: compiled code passes a slot of four limbs.
                let out = unsafe { std::slice::from_raw_parts_mut(res, 4) };
                out.copy_from_slice(v.as_limbs());
                0
            }
            Ok(None) => 0,
            Err(outcome) => vm.stop(outcome),
        }
    })
}

/// `exit.kind` with its limbs at `args`: always stops.
pub(crate) extern "C" fn exit(vm: *mut Vm, kind: u32, args: *const u64, pos: u64) -> u32 {
    guarded(vm, |vm| {
        let kind = ExitKind::ALL
            .get(kind as usize)
            .copied()
            .unwrap_or(ExitKind::Stop);
        // SAFETY: compiled code passes a slot of the exit's operand limbs.
        let limbs = unsafe { std::slice::from_raw_parts(args, 4 * kind.arity()) };
        let a = words(limbs);
        if vm.fuel < 0 {
            return vm.stop(Outcome::OutOfBudget {
                pos: decode_pos(pos),
            });
        }
        let outcome = vm.with_env(|host, env| env.exit(host, kind, &a, decode_pos(pos)));
        vm.stop(outcome)
    })
}

/// A trap (`code` indexes [`TrapCode::ALL`]; [`OUT_OF_BUDGET`] is the
/// budget running out): always stops.
pub(crate) extern "C" fn trap(vm: *mut Vm, code: u32, pos: u64) -> u32 {
    guarded(vm, |vm| {
        let pos = decode_pos(pos);
        let outcome = match TrapCode::ALL.get(code as usize) {
            _ if code == OUT_OF_BUDGET => Outcome::OutOfBudget { pos },
            Some(code) => Outcome::Trap { code: *code, pos },
            None => Outcome::Trap {
                code: TrapCode::Unsupported,
                pos,
            },
        };
        vm.stop(outcome)
    })
}

/// `mem.expand offset, len` when it grows memory (or fails): the
/// interpreter's rule, word-granular up to the limit.
pub(crate) extern "C" fn expand(vm: *mut Vm, offset: u64, len: u64, pos: u64) -> u32 {
    guarded(vm, |vm| {
        if len == 0 {
            return 0;
        }
        let pos = decode_pos(pos);
        let oom = Outcome::Trap {
            code: TrapCode::OutOfMemory,
            pos,
        };
        let Some(end) = offset.checked_add(len).filter(|e| *e <= vm.mem_limit) else {
            return vm.stop(oom);
        };
        let size = end.div_ceil(32) * 32;
        if size > vm.mem_limit {
            return vm.stop(oom);
        }
        if size > vm.mem_size {
            let words = (size - vm.mem_size) / 32;
            vm.fuel = vm.fuel.saturating_sub(words as i64);
            if vm.fuel < 0 {
                return vm.stop(Outcome::OutOfBudget { pos });
            }
            if !vm.reserve(size) {
                return vm.stop(oom);
            }
            vm.mem_size = size;
        }
        0
    })
}

/// `mem.grow bytes`: the old size, or all ones past the limit.
pub(crate) extern "C" fn grow(vm: *mut Vm, bytes: u64) -> u64 {
    // SAFETY: as in `guarded` (nothing here can panic).
    let vm = unsafe { &mut *vm };
    let old = vm.mem_size;
    match old
        .checked_add(bytes)
        .filter(|n| *n <= vm.mem_limit && vm.reserve(*n))
    {
        Some(new) => {
            vm.mem_size = new;
            old
        }
        None => u64::MAX,
    }
}

/// `mem.copy dst, src, len`.
pub(crate) extern "C" fn copy(vm: *mut Vm, dst: u64, src: u64, len: u64, pos: u64) -> u32 {
    guarded(vm, |vm| {
        let (d, s, n) = (U256::from(dst), U256::from(src), U256::from(len));
        match vm.with_env(|_, env| env.copy(d, s, n, decode_pos(pos))) {
            Ok(()) => 0,
            Err(outcome) => vm.stop(outcome),
        }
    })
}

/// `mem.fill dst, byte, len`.
pub(crate) extern "C" fn fill(vm: *mut Vm, dst: u64, byte: u64, len: u64, pos: u64) -> u32 {
    guarded(vm, |vm| {
        let (d, b, n) = (U256::from(dst), U256::from(byte), U256::from(len));
        match vm.with_env(|_, env| env.fill(d, b, n, decode_pos(pos))) {
            Ok(()) => 0,
            Err(outcome) => vm.stop(outcome),
        }
    })
}

/// The 256-bit helpers computed here rather than as limb code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Math {
    /// `(a, b) -> (a / b, a % b)`.
    DivRem = 0,
    /// `(a, b) -> (a sdiv b, a smod b)`.
    SDivRem = 1,
    /// `(a, b, n) -> (a + b) mod n`.
    AddMod = 2,
    /// `(a, b, n) -> (a * b) mod n`.
    MulMod = 3,
    /// `(a, b) -> a ** b`.
    Exp = 4,
}

impl Math {
    /// (operand words, result words).
    pub(crate) fn arity(self) -> (usize, usize) {
        match self {
            Math::DivRem | Math::SDivRem => (2, 2),
            Math::AddMod | Math::MulMod => (3, 1),
            Math::Exp => (2, 1),
        }
    }
}

/// A [`Math`] helper on limbs at `args`, results to `res`.
pub(crate) extern "C" fn math(op: u32, args: *const u64, res: *mut u64) {
    let ops = [
        Math::DivRem,
        Math::SDivRem,
        Math::AddMod,
        Math::MulMod,
        Math::Exp,
    ];
    let Some(op) = ops.get(op as usize).copied() else {
        return;
    };
    let (n, r) = op.arity();
    // SAFETY: compiled code passes slots of the helper's limbs.
    let (args, res) = unsafe {
        (
            std::slice::from_raw_parts(args, 4 * n),
            std::slice::from_raw_parts_mut(res, 4 * r),
        )
    };
    let a = words(args);
    let w = |i: usize| a.get(i).copied().unwrap_or_default();
    let t = Type::I256;
    let out: [U256; 2] = match op {
        Math::DivRem => [
            binary(BinOp::UDiv, t, w(0), w(1)),
            binary(BinOp::URem, t, w(0), w(1)),
        ],
        Math::SDivRem => [
            binary(BinOp::SDiv, t, w(0), w(1)),
            binary(BinOp::SRem, t, w(0), w(1)),
        ],
        Math::AddMod => [
            eval_pure(&Op::AddMod, t, t, &a).unwrap_or_default(),
            U256::ZERO,
        ],
        Math::MulMod => [
            eval_pure(&Op::MulMod, t, t, &a).unwrap_or_default(),
            U256::ZERO,
        ],
        Math::Exp => [
            eval_pure(&Op::Exp, t, t, &a).unwrap_or_default(),
            U256::ZERO,
        ],
    };
    for (chunk, v) in res.chunks_mut(4).zip(out) {
        chunk.copy_from_slice(v.as_limbs());
    }
}
