//! The chainlift IR: the one representation every frontend writes, every
//! backend reads, and the reference interpreter defines.
//!
//! # Modules and functions
//!
//! A [`Module`](function::Module) holds functions and tables. The first
//! function is the contract's entry point: it takes no parameters and ends in
//! `exit` (or a trap). Other functions (from WASM, or outlined code) are
//! called with `call fnN` or through a table with `call_indirect.N`.
//!
//! A [`Function`](function::Function) is in SSA form with block parameters
//! instead of phi nodes (as in Cranelift). Values (`v3`) and blocks
//! (`block2`) are typed handles into the function's arenas; the layout lists
//! the live blocks, the first being the entry, whose parameters are the
//! function's parameters. Every value is defined once, by an instruction or
//! as a block parameter, and every use is dominated by its definition. Each
//! block ends with exactly one terminator: `jump`, `brif`, `switch`,
//! `return`, `exit.{stop,return,revert,selfdestruct}` or `trap <code>`.
//!
//! # Types and values
//!
//! Types are `i1`, `i8`, `i32`, `i64` and `i256` ([`Type`](types::Type)). A
//! value is a bit pattern; signedness belongs to operations (`sdiv`, `icmp.slt`,
//! `ashr`, `sext`). Comparisons produce `i1`, branches take `i1`; `uext`,
//! `sext` and `trunc` convert.
//!
//! # Operations
//!
//! Arithmetic (`add sub mul udiv sdiv urem srem`), bitwise (`and or xor not`),
//! shifts and rotates (`shl lshr ashr rotl rotr`), `icmp.<cond>`, `select`,
//! conversions, and the EVM's own: `addmod`, `mulmod` (512-bit
//! intermediate), `exp`, `signextend`, `byte`, `clz`. Division and remainder
//! by zero give 0 and shifts by the width or more give 0 (or the sign for
//! `ashr`), as on the EVM; the WASM frontend inserts the checks WASM requires
//! (a trap for division by zero, masking of shift counts). Evaluation is
//! strict and in order; pure operations have no effects and may be folded.
//!
//! # Memory
//!
//! Each function runs with one byte-addressed linear memory that starts
//! empty: `load.T.{be,le}`, `store.T.{be,le}`, `mem.copy`, `mem.fill`,
//! `mem.size`, `mem.grow` and `mem.expand`. Loads and stores past the current
//! size trap `out_of_bounds`. EVM memory maps onto it by `mem.expand offset,
//! len` before each access (word-granular growth, so `mem.size` is MSIZE);
//! WASM linear memory maps onto it by `mem.grow` in page multiples and bounds-
//! checked accesses. Growth past the interpreter's memory limit traps
//! `out_of_memory`.
//!
//! Beside it, a run has an **EVM stack array** of 1,024 words, which lifted
//! code keeps the EVM stack in where it cannot keep it in values
//! (recursion): `stack.load.T index` and `stack.store index, value`, with an
//! `i64` index counting words for `i256` and limbs (four per word, least
//! significant first) for `i64`, the legalized form. Producers check the
//! EVM's stack bounds before they access it; an index past the array traps
//! `stack_overflow`. It is not memory: `mem.size` does not see it.
//!
//! # The host interface
//!
//! Everything a contract asks of its environment is a
//! [`HostOp`](inst::HostOp), named once, with `i256` operands: storage
//! (`sload sstore`), transient storage (`tload tstore`), calldata, return data
//! of the last call, own and external code (size, copy, hash), caller,
//! origin, address, call value, balances, every block and transaction field,
//! `log0`–`log4`, `keccak256`, external calls (`call callcode delegatecall
//! staticcall`), `create create2` and `gas`. State-changing operations trap
//! `static_violation` in a static context. Each backend maps every host
//! operation to its platform or rejects it by name.
//!
//! A host operation (and an `exit`) may instead take and give each word as
//! four `i64` limbs, least significant first: the form [`legalize`] writes,
//! in which no `i256` is left anywhere. The verifier accepts either form
//! per instruction; the interpreter runs both with the same semantics.
//!
//! A module carries the contract's own code (`code = 0x..` in the text),
//! which `codesize` and `codecopy` read; a backend embeds it.
//!
//! # How WASM maps
//!
//! `i32`/`i64` arithmetic maps to the operations at those types (with the
//! checks above); locals and the operand stack become SSA values; `block`,
//! `loop`, `if`, `br`, `br_if` and `br_table` become blocks, `jump`, `brif`
//! and `switch`; `select` is `select`; functions are functions and `call` is
//! `call`; tables and `call_indirect` are tables and `call_indirect` (a
//! signature mismatch or empty slot traps `bad_indirect_call`); linear memory
//! is the function's memory (`.le` accesses); `unreachable` is
//! `trap unreachable`; integer traps are `divide_by_zero`,
//! `integer_overflow`, `out_of_bounds`. Globals live in the stack array,
//! one `i64` limb each (global `n` at limb index `n`), which is beside
//! memory and per run. Host imports (Stylus's `vm_hooks`) become functions
//! over host operations. Function 0 instantiates the module (memory,
//! globals, data segments); for a Stylus contract it then calls
//! `user_entrypoint` and exits.
//!
//! # Source positions
//!
//! Every instruction and terminator carries a [`SourcePos`](inst::SourcePos):
//! the EVM pc (`@0x1a`) or WASM offset (`@wasm:0x1a`) it came from. Passes
//! keep it, so any mismatch or trap is reported at a bytecode position.
//!
//! # Text format, verifier, passes, interpreter
//!
//! [`print`] and [`parse`] give a text form with `parse(print(m)) == m` for
//! compacted modules. [`verify`] checks every invariant above and runs before
//! any backend: backends and engines take its [`verify::Verified`] token.
//! [`analysis`] computes the facts backends share (bit bounds, constants,
//! precompile calls, memory coverage); [`legalize`] removes `i256`. [`passes`] simplify lifted code. [`interp`] executes a module
//! with exact 256-bit semantics against a narrow [`Host`](interp::Host),
//! bounded by an instruction budget, a memory limit and a call depth.

#![deny(missing_docs)]

pub mod analysis;
pub mod entities;
pub mod function;
pub mod inst;
pub mod interp;
pub mod legalize;
pub mod parse;
pub mod passes;
pub mod print;
pub mod types;
pub mod verify;
