//! `chainlift`: inspect, lift, translate and compare smart contracts.
//!
//! This crate is the only place in the workspace that prints or exits; the
//! binary is a thin wrapper around [`run`], which tests call in-process.
//! Exit codes: 0 success, 2 bad input or usage (one-line reason on stderr),
//! 3 an internal error (a bug: please report it).

mod abi;
mod bench_cmd;
mod engines;
pub mod input;
mod ir_cmd;
pub mod report;
pub mod run_cmd;
mod sbf_check;
mod sbf_client;
mod sbf_system;
pub mod scenario;
mod test_cmd;

use chainlift_frontend_evm::{self as evm, Fork};
use clap::{Args, Parser, Subcommand};
use std::io::Write;

#[derive(Parser)]
#[command(
    name = "chainlift",
    version,
    about = "Move smart contracts between virtual machines and check they behave the same"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Lift every block with the EVM stack in memory, the form the lifter
    /// falls back to for recursion, in every engine that lifts (to test
    /// that form on any contract or suite).
    #[arg(long, global = true)]
    stack_in_memory: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Disassemble EVM bytecode: one `pc opcode immediate` line per instruction.
    Disasm(Common),
    /// Print the control-flow graph (Graphviz DOT, or JSON with --json).
    Cfg(CfgArgs),
    /// Summarise bytecode: size, metadata, compiler, fork features, selectors,
    /// blocks reached; for a `.wasm` module its host profile, imports,
    /// exports, features, sizes and Stylus's activation rules.
    Inspect(Common),
    /// Lift EVM bytecode to the IR and print it (optimized unless --no-opt).
    Lift(LiftArgs),
    /// Translate EVM bytecode to another VM: `--target sbf -o program.so`
    /// writes a Solana SBPF v3 program (`--emit asm` prints its listing);
    /// `--target wasm -o program.wasm` an Arbitrum Stylus module (`--emit
    /// wat` prints it as text); `--target native` compiles it to this
    /// machine's code in memory and reports the compilation.
    Translate(TranslateArgs),
    /// Run a call (or a scenario file) in one engine (evm = revm, ir = the lifted IR) and print the outcome.
    Run(RunArgs),
    /// Run a call (or a scenario file) in several engines; exit 0 when all agree, 1 when any differs, 4 when all that ran agree but some engine could not run.
    Diff(DiffArgs),
    /// Run external EVM test suites (legacytests VM tests, ethereum/tests state
    /// tests) through every engine; exit 1 on any failure.
    Test(TestArgs),
    /// Time workloads in each engine against revm: benchmark fixtures
    /// (../shared/corpus/bench), state tests or scenario files; prints the
    /// median time per call, the speedup over revm measured in the same
    /// process, whether every outcome equals revm's, and the cost.
    Bench(BenchArgs),
    /// Addresses both ways: the EVM address a Solana key stands for, or
    /// (with --program) the state account of a system's contract.
    ///
    /// A Solana account other than a bundle's state
    /// account (a signer: `msg.sender`; a wallet a call pays; a
    /// single-contract program's state account: `address(this)`) stands
    /// for the last 20 bytes of its public key: give base58 keys or
    /// keypair files (JSON arrays of 64 bytes, as `solana-keygen` writes
    /// them). A contract of a bundle lives in a state account at the
    /// program-derived address of the seeds "evm", its 20-byte address and
    /// a bump byte: give 0x addresses and the bundle's `--program`.
    Address {
        /// Public keys (base58), keypair files, or EVM addresses (0x...).
        #[arg(required = true, value_name = "KEY|ADDRESS")]
        keys: Vec<String>,
        /// The bundle program's id (base58), for EVM addresses.
        #[arg(long, value_name = "PROGRAM_ID")]
        program: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the engines `run`, `diff` and `test` can use: what each runs,
    /// its cost unit, what it cannot run, whether it traces.
    Engines {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Work on IR text files: verify, optimize, run.
    #[command(subcommand)]
    Ir(IrCommand),
}

#[derive(Args)]
struct BenchArgs {
    /// Fixture files or folders (searched for .json and .toml files).
    #[arg(required = true)]
    paths: Vec<String>,
    /// Engines, comma-separated, or `all` (the default); revm always runs as
    /// the oracle and the baseline.
    #[arg(long, value_delimiter = ',')]
    engines: Vec<String>,
    /// The fork whose rules the code runs under [default: osaka for
    /// scenarios and state tests, prague for transaction fixtures, whose
    /// 2^63 gas predates Osaka's cap of 2^24 per transaction].
    #[arg(long, value_parser = parse_fork)]
    fork: Option<Fork>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct LiftArgs {
    #[command(flatten)]
    common: Common,
    /// Print the raw lift, before the optimization passes.
    #[arg(long)]
    no_opt: bool,
    /// Print instruction counts before and after optimization instead of the IR.
    #[arg(long)]
    stats: bool,
    /// Legalize to 64-bit limbs: no i256 anywhere (the form the WASM and
    /// native backends start from); 256-bit operations become helper functions.
    #[arg(long)]
    legalize: bool,
}

#[derive(Args)]
struct TranslateArgs {
    #[command(flatten)]
    common: Common,
    /// The VM to translate to: `sbf` (a Solana program), `wasm` (an
    /// Arbitrum Stylus WASM module) or `native` (this machine's code, with
    /// Cranelift, in memory: what the `native` engine runs; prints the
    /// compile times and code sizes of both tiers).
    #[arg(long, default_value = "sbf", value_parser = ["sbf", "wasm", "native"])]
    target: String,
    /// Where to write the program (`-` for stdout); required for the
    /// binary forms.
    #[arg(short, long, value_name = "FILE")]
    output: Option<String>,
    /// What to write: the binary (`elf` for sbf, `wasm` for wasm; the
    /// default), or text: `asm` (the SBF listing, source pcs as comments)
    /// or `wat` (the WASM text format).
    #[arg(long, value_parser = ["elf", "asm", "wasm", "wat"])]
    emit: Option<String>,
    /// wasm: refuse operations Arbitrum does not provide (BLOCKHASH,
    /// PREVRANDAO, BLOBHASH, BLOBBASEFEE, SELFDESTRUCT, CALLCODE), naming
    /// the first and its pc, instead of importing them from `chainlift`.
    /// sbf: refuse the block and transaction fields Solana has no source
    /// for (COINBASE, PREVRANDAO, GASLIMIT, GASPRICE, BASEFEE,
    /// BLOBBASEFEE, GAS read as a number) instead of fixing them as
    /// constants.
    #[arg(long)]
    strict: bool,
    /// sbf: the constant a field Solana has no source for reads, e.g.
    /// `--env gasprice=1000000000` or `--env coinbase=0x…` (fields:
    /// coinbase, prevrandao, gaslimit, gasprice, basefee, blobbasefee,
    /// gas; defaults 0, 0, 30000000, 0, 0, 1, 30000000). Repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// wasm: DIV, MOD, EXP, ADDMOD and MULMOD through Stylus's `math_*`
    /// host functions (ArbOS 50) instead of helper code in the module.
    #[arg(long)]
    math_hooks: bool,
    /// Heap bytes the program may use (32 KiB without a RequestHeapFrame
    /// instruction, up to 256 KiB with one).
    #[arg(long, default_value_t = 32 * 1024)]
    heap_size: u32,
    /// What CHAINID returns.
    #[arg(long, default_value_t = 1)]
    chain_id: u64,
    /// Wei per lamport for ether amounts (10^9: 1 ether is 1 SOL).
    #[arg(long, default_value_t = 1_000_000_000)]
    wei_per_lamport: u32,
    /// Translate the contract a scenario file deploys (its `[contract]`
    /// section): the runtime code its constructor returned, immutables
    /// filled in, and the storage the constructor left, which the program
    /// writes into a fresh state account on its first instruction. Takes
    /// the place of FILE.
    #[arg(long, value_name = "SCENARIO")]
    deploy: Option<String>,
    /// sbf: write no program; list every operation that has no mapping
    /// (with its pc and the functions that reach it) and every site where
    /// the program can end in a target limit. Exits 1 when something has
    /// no mapping.
    #[arg(long)]
    check: bool,
    /// sbf: the program's id (base58), for the Codama IDL written beside
    /// the program (left empty otherwise, for the client to fill in).
    #[arg(long, value_name = "KEY")]
    program_id: Option<String>,
    /// sbf, a system whose scenario puts contracts into programs of their
    /// own (`program = "NAME"`): the program to write, `main` (the
    /// contracts with no `program`, the default) or a NAME.
    #[arg(long, value_name = "NAME")]
    program: Option<String>,
    /// sbf, such a system: each other program's id, which calls to its
    /// contracts invoke (`NAME=KEY`, comma-separated or repeated; `main`
    /// for the contracts with no `program`).
    #[arg(long = "program-ids", value_name = "NAME=KEY", value_delimiter = ',')]
    program_ids: Vec<String>,
}

/// The call every engine runs. FILE may also be a scenario (`.toml`, see
/// docs/scenarios.md): a deployment and a sequence of calls.
#[derive(Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// Arguments for --sig, written as `cast` takes them (`250`, `0x…`, `[1,2,3]`).
    #[arg(value_name = "ARGS", allow_negative_numbers = true)]
    pub(crate) args: Vec<String>,
    /// Calldata as hex.
    #[arg(long, conflicts_with = "sig")]
    pub(crate) calldata: Option<String>,
    /// The function to call, e.g. `transfer(address,uint256)` (ABI-encoded
    /// with ARGS); outputs as `balanceOf(address)(uint256)` decode the result.
    #[arg(long)]
    pub(crate) sig: Option<String>,
    /// An ABI file (JSON array or artefact) for decoding, when FILE has none.
    #[arg(long, value_name = "FILE")]
    pub(crate) abi: Option<String>,
    /// The caller (and origin).
    #[arg(long, default_value = "0x00000000000000000000000000000000ca11e400")]
    pub(crate) caller: String,
    /// Wei sent with the call.
    #[arg(long, default_value = "0")]
    pub(crate) value: String,
    /// Storage of the contract before the call, `SLOT=VALUE` (repeatable).
    #[arg(long = "storage", value_name = "SLOT=VALUE")]
    pub(crate) storage: Vec<String>,
    /// Gas limit of the call.
    #[arg(long, default_value_t = 10_000_000)]
    pub(crate) gas: u64,
    #[command(flatten)]
    pub(crate) block: scenario::BlockFields,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    call: CallArgs,
    /// The engine: `evm` (revm), `ir` (the IR interpreter), `sbf` (the
    /// contract translated to a Solana program, in solana-sbpf's
    /// interpreter) or `sbf-jit` (the same, JIT-compiled).
    #[arg(long, default_value = "evm")]
    engine: String,
}

#[derive(Args)]
struct DiffArgs {
    #[command(flatten)]
    call: CallArgs,
    /// Engines to compare, comma-separated: evm, ir, sbf, sbf-jit
    /// (default: evm,ir).
    #[arg(long, value_delimiter = ',')]
    engines: Vec<String>,
    /// On a difference, rerun the first differing call in revm and the IR in
    /// lockstep and report the first pc where their effects or memory part.
    #[arg(long)]
    trace: bool,
    /// One column per engine, every field in full, instead of the grouped
    /// view fitted to the terminal.
    #[arg(long)]
    wide: bool,
}

#[derive(Args)]
struct TestArgs {
    /// Test files or folders (searched for .json files).
    #[arg(required = true)]
    paths: Vec<String>,
    /// Engines, comma-separated: evm, ir, sbf, sbf-jit (default: evm,ir); revm always runs as the oracle.
    #[arg(long, value_delimiter = ',')]
    engines: Vec<String>,
    /// Write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    junit: Option<String>,
    /// List every skipped case with its reason.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Subcommand)]
enum IrCommand {
    /// Parse and verify an IR file.
    Verify {
        /// The IR text file (`-` for stdin).
        file: String,
    },
    /// Optimize an IR file and print the result.
    Opt {
        /// The IR text file (`-` for stdin).
        file: String,
    },
    /// Run the first function of an IR file in the reference interpreter.
    Run {
        /// The IR text file (`-` for stdin).
        file: String,
        /// Calldata as hex.
        #[arg(long, default_value = "0x")]
        calldata: String,
        /// Storage slots before the run, `SLOT=VALUE` (repeatable).
        #[arg(long = "storage", value_name = "SLOT=VALUE")]
        storage: Vec<String>,
        /// Instruction budget.
        #[arg(long, default_value_t = 10_000_000)]
        budget: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Input and output options every command shares.
#[derive(Args)]
pub(crate) struct Common {
    /// Bytecode file: hex text (with or without 0x), raw binary, a JSON artefact
    /// (Foundry, Hardhat, solc --combined-json or standard-JSON output), or `-` for stdin.
    #[arg(allow_negative_numbers = true)]
    file: Option<String>,
    /// Inline bytecode instead of a file.
    #[arg(long, value_name = "0xHEX")]
    code: Option<String>,
    /// The contract to take from an artefact that holds several.
    #[arg(long, value_name = "NAME")]
    contract: Option<String>,
    /// The fork whose rules the bytecode is read under.
    #[arg(long, default_value = "osaka", value_parser = parse_fork)]
    fork: Fork,
    /// Print JSON (the fields are documented in docs/json.md).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CfgArgs {
    #[command(flatten)]
    common: Common,
    /// Leave unreachable blocks out of the DOT graph.
    #[arg(long)]
    reachable_only: bool,
}

fn parse_fork(s: &str) -> Result<Fork, String> {
    s.parse()
        .map_err(|e: evm::opcode::UnknownFork| e.to_string())
}

fn analyze(common: &Common) -> anyhow::Result<(input::Input, evm::Analysis)> {
    let input = input::read(
        common.file.as_deref(),
        common.code.as_deref(),
        common.contract.as_deref(),
    )?;
    let options = evm::Options {
        fork: common.fork,
        ..Default::default()
    };
    let analysis = evm::analyze(&input.code, &options)?;
    Ok((input, analysis))
}

fn execute(cli: Cli, out: &mut dyn Write) -> anyhow::Result<u8> {
    let mut code = 0;
    engines::set_build(chainlift_emulator::registry::Build {
        stack_in_memory: cli.stack_in_memory,
        // The suites' balances are any number of wei and their memory any
        // size: the sbf engines translate each case as a deployment made
        // for it (exact lamports, the largest heap).
        for_suites: matches!(cli.command, Command::Test(_)),
    });
    match cli.command {
        Command::Disasm(common) if ir_cmd::wasm_input(&common)?.is_some() => {
            if common.json {
                anyhow::bail!(
                    "disasm --json is for EVM code; a WASM module's listing is text only"
                );
            }
            let bytes = ir_cmd::wasm_input(&common)?.unwrap_or_default();
            ir_cmd::disasm_wasm(&bytes, out)?
        }
        Command::Disasm(common) => {
            let (_, a) = analyze(&common)?;
            if common.json {
                report::write_json(out, &report::disasm_json(&a))?;
            } else {
                report::disasm_text(out, &a)?;
            }
        }
        Command::Cfg(args) if ir_cmd::wasm_input(&args.common)?.is_some() => {
            let bytes = ir_cmd::wasm_input(&args.common)?.unwrap_or_default();
            ir_cmd::cfg_wasm(&bytes, args.common.json, out)?
        }
        Command::Cfg(args) => {
            let (_, a) = analyze(&args.common)?;
            if args.common.json {
                report::write_json(out, &report::cfg_json(&a))?;
            } else {
                report::cfg_dot(out, &a, args.reachable_only)?;
            }
        }
        Command::Lift(args) => {
            let stages = chainlift_frontend_evm::pipeline::Stages {
                optimize: !args.no_opt,
                legalize: args.legalize,
                stack_in_memory: cli.stack_in_memory,
            };
            ir_cmd::lift(&args.common, stages, args.stats, out)?
        }
        Command::Translate(args) => code = ir_cmd::translate(&args, cli.stack_in_memory, out)?,
        Command::Engines { json } => engines::list_engines(json, out)?,
        Command::Address {
            keys,
            program,
            json,
        } => sbf_client::address(&keys, program.as_deref(), json, out)?,
        Command::Bench(args) => {
            code = bench_cmd::bench(&args.paths, &args.engines, args.fork, args.json, out)?
        }
        Command::Run(args) => code = run_cmd::run(&args.call, &args.engine, out)?,
        Command::Diff(args) => {
            code = run_cmd::diff(&args.call, &args.engines, args.trace, args.wide, out)?
        }
        Command::Test(args) => {
            code = test_cmd::test(
                &args.paths,
                &args.engines,
                args.junit.as_deref(),
                args.verbose,
                out,
            )?
        }
        Command::Ir(cmd) => match cmd {
            IrCommand::Verify { file } => ir_cmd::verify(&file, out)?,
            IrCommand::Opt { file } => ir_cmd::opt(&file, out)?,
            IrCommand::Run {
                file,
                calldata,
                storage,
                budget,
                json,
            } => ir_cmd::run(&file, &calldata, &storage, budget, json, out)?,
        },
        Command::Inspect(common) if ir_cmd::wasm_input(&common)?.is_some() => {
            let bytes = ir_cmd::wasm_input(&common)?.unwrap_or_default();
            ir_cmd::inspect_wasm(&common, &bytes, out)?
        }
        Command::Inspect(common) => {
            let (input, a) = analyze(&common)?;
            if common.json {
                report::write_json(out, &report::inspect_json(&a, &input))?;
            } else {
                report::inspect_text(out, &a, &input)?;
            }
        }
    }
    out.flush()?;
    Ok(code)
}

/// The error and its causes, each said once: a cause whose text the
/// message already holds (an I/O error a context repeated) is left out.
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if text.contains(&c) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&c);
    }
    text
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Runs the command line `args` (program name first), writing results to
/// `out` and diagnostics to `err`, and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = String>, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = write!(out, "{}", e.render());
            return 0;
        }
        Err(e) => {
            // One line: the reason, without clap's usage block.
            let text = e.render().to_string();
            let reason = match e.kind() {
                clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    "a command is required (disasm, cfg, inspect)".to_string()
                }
                _ => text
                    .lines()
                    .next()
                    .unwrap_or("bad usage")
                    .trim_start_matches("error: ")
                    .to_string(),
            };
            let _ = writeln!(err, "chainlift: {reason} (see --help)");
            return 2;
        }
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute(cli, out)));
    match result {
        Ok(Ok(code)) => code,
        Ok(Err(e)) if is_broken_pipe(&e) => 0,
        Ok(Err(e)) => {
            let _ = writeln!(err, "chainlift: {}", message(&e));
            2
        }
        Err(_) => {
            let _ = writeln!(err, "chainlift: internal error (a bug, please report it)");
            3
        }
    }
}
