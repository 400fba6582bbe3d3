//! File tests for the IR, in the style of Cranelift's: every `*.ir` file in
//! `tests/files/` is a module in the text format plus expectations written as
//! `;` comments (which the parser ignores, so each file parses as it is).
//!
//! The first non-empty line names the kind of test:
//!
//! ```text
//! ; test: verify | opt | run
//! ```
//!
//! # `; test: verify`
//!
//! The module must parse. Each `; error: <substring>` line must occur in the
//! `Display` text of some verifier error (which holds the function, the
//! entity and the message). With no `; error:` line the module must verify.
//!
//! # `; test: opt`
//!
//! The module must verify; `passes::optimize` runs on it; the result must
//! verify too, print and parse back to itself, and print exactly as the
//! `; check: <line>` lines say, one per printed line (`; check:` alone for a
//! blank line). A mismatch fails with a diff (`-` expected, `+` actual).
//! With `CHAINLIFT_BLESS=1` in the environment the harness instead rewrites
//! the file's `; check:` lines from the actual output, placing them after
//! everything else in the file:
//!
//! ```text
//! CHAINLIFT_BLESS=1 cargo test -p chainlift-ir --test filetests
//! ```
//!
//! An opt file may also hold `; run:` lines; they run as in run files.
//!
//! # `; test: run`
//!
//! The module must verify. Each `; run:` line runs it in the reference
//! interpreter with a fresh [`SimpleHost`] and compares how the run ended.
//! Every line runs twice: on the module as written and on its optimized
//! form (so every run file is also a differential test of the passes),
//! unless the line says `no-opt`.
//!
//! ```text
//! ; run: INPUT* => OUTCOME CHECK*
//!
//! INPUT   := %name(int, ...)       call this function with these arguments
//!                                  (default: the first function, no arguments)
//!          | calldata=0xHEX        the call's input      | code=0xHEX
//!          | storage[int]=int      initial storage       | transient[int]=int
//!          | env[caller]=int       an environment value (any zero-operand host op's name)
//!          | static                a static context
//!          | budget=N | memory=N | depth=N     interpreter limits
//!          | no-opt                do not also run the optimized module
//! OUTCOME := stop | return 0xHEX | revert 0xHEX | selfdestruct int
//!          | values [int, ...]     the called function returned (masked to its result types)
//!          | trap CODE [@0xPC]     a trap (optionally at this EVM pc, `@wasm:0x..` for WASM)
//!          | out_of_budget         the instruction budget ran out
//! CHECK   := storage[int]=int | transient[int]=int   state after the run (absent reads 0)
//!          | logs=N                number of logs emitted
//!          | log[i]=[topic, ...]:0xHEX               one log's topics and data
//!          | msize=N               memory size in bytes at the end
//! ```
//!
//! Integers are decimal, `0x` hex or negative decimal (two's complement at
//! 256 bits); `_` may separate digits. `0x` alone is empty data. Expected
//! `values` are masked to the function's result types, so `-1` reads as
//! `0xff` for an `i8` result. The default limits are a budget of 1,000,000
//! instructions, 64 MiB of memory and a call depth of 512.
//!
//! Writing files: the parser wants each function's values numbered without
//! gaps (`v0`, `v1`, ... all defined), and functions are `fn0`, `fn1`, ... in
//! the order they appear (for `call` and tables).
//!
//! The `filetests` test walks the folder and runs every file, collecting all
//! failures (a panic in the IR code fails only its file) into one report.
//!
//! # Known bugs
//!
//! A file with a `; bug: <one line>` comment reproduces a known bug in the IR
//! code: the walker skips it (and says so), and an `#[ignore]`d test below
//! runs it alone, so `cargo test -- --ignored` shows it failing until the
//! bug is fixed.

use alloy_primitives::U256;
use chainlift_filecheck::{self as filecheck, directive};
use chainlift_ir::entities::FuncId;
use chainlift_ir::function::Module;
use chainlift_ir::inst::{HostOp, SourcePos, TrapCode};
use chainlift_ir::interp::{Interpreter, Limits, Outcome, SimpleHost};
use chainlift_ir::parse::parse_module;
use chainlift_ir::print::print_module;
use chainlift_ir::types::Type;
use chainlift_ir::verify::verify;
use chainlift_ir::{legalize, passes};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/files")
}

fn ir_files() -> Vec<PathBuf> {
    filecheck::files(&files_dir(), "ir")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Verify,
    Opt,
    Run,
}

/// The `; key: value` comments of a file.
struct Directives {
    kind: Kind,
    bug: Option<String>,
    errors: Vec<String>,
    runs: Vec<(usize, String)>,
    checks: Vec<String>,
}

fn directives(text: &str) -> Result<Directives, String> {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .ok_or("empty file")?;
    let kind = match directive(first, "test").map(str::trim) {
        Some("verify") => Kind::Verify,
        Some("opt") => Kind::Opt,
        Some("run") => Kind::Run,
        Some(other) => return Err(format!("unknown test kind `{other}`")),
        None => return Err("the first line must be `; test: verify|opt|run`".into()),
    };
    let mut d = Directives {
        kind,
        bug: None,
        errors: vec![],
        runs: vec![],
        checks: vec![],
    };
    for (n, line) in text.lines().enumerate() {
        if let Some(b) = directive(line, "bug") {
            d.bug = Some(b.to_string());
        } else if let Some(e) = directive(line, "error") {
            d.errors.push(e.to_string());
        } else if let Some(r) = directive(line, "run") {
            d.runs.push((n + 1, r.to_string()));
        } else if let Some(c) = directive(line, "check") {
            d.checks.push(c.to_string());
        }
    }
    match kind {
        Kind::Verify if !d.runs.is_empty() || !d.checks.is_empty() => {
            Err("a verify file holds only `; error:` lines".into())
        }
        Kind::Run if !d.checks.is_empty() || !d.errors.is_empty() => {
            Err("a run file holds only `; run:` lines".into())
        }
        Kind::Opt if !d.errors.is_empty() => Err("an opt file has no `; error:` lines".into()),
        _ => Ok(d),
    }
}

// ---------------------------------------------------------------------------
// Running one file

/// Runs one file; `Err` holds everything that went wrong.
fn run_file(path: &Path, bless: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let d = directives(&text)?;
    let module = parse_module(&text).map_err(|e| format!("parse error: {e}"))?;
    match d.kind {
        Kind::Verify => verify_test(&module, &d.errors),
        Kind::Opt => {
            let optimized = must_verify_and_optimize(&module)?;
            let mut problems = vec![];
            if let Err(e) = check_opt(path, &text, &optimized, bless) {
                problems.push(e);
            }
            if let Err(e) = run_lines(&module, &optimized, &d.runs) {
                problems.push(e);
            }
            join(problems)
        }
        Kind::Run => {
            if d.runs.is_empty() {
                return Err("a run file needs at least one `; run:` line".into());
            }
            let optimized = must_verify_and_optimize(&module)?;
            run_lines(&module, &optimized, &d.runs)
        }
    }
}

fn join(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn verify_messages(m: &Module) -> Vec<String> {
    match verify(m) {
        Ok(()) => vec![],
        Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
    }
}

fn verify_test(module: &Module, expected: &[String]) -> Result<(), String> {
    let messages = verify_messages(module);
    if expected.is_empty() {
        if messages.is_empty() {
            return Ok(());
        }
        return Err(format!(
            "expected the module to verify, got:\n  {}",
            messages.join("\n  ")
        ));
    }
    let missing: Vec<&String> = expected
        .iter()
        .filter(|e| !messages.iter().any(|m| m.contains(e.as_str())))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut out = String::new();
    for m in missing {
        let _ = writeln!(out, "no verifier error contains `{m}`");
    }
    if messages.is_empty() {
        out.push_str("the module verified");
    } else {
        let _ = write!(out, "verifier errors:\n  {}", messages.join("\n  "));
    }
    Err(out)
}

/// Verifies the module, optimizes a copy, and checks that the copy verifies
/// and round-trips through the text format.
fn must_verify_and_optimize(module: &Module) -> Result<Module, String> {
    let before = verify_messages(module);
    if !before.is_empty() {
        return Err(format!(
            "the module does not verify:\n  {}",
            before.join("\n  ")
        ));
    }
    let mut optimized = module.clone();
    passes::optimize(&mut optimized);
    let printed = print_module(&optimized);
    let after = verify_messages(&optimized);
    if !after.is_empty() {
        return Err(format!(
            "the optimized module does not verify:\n  {}\noptimized module:\n{printed}",
            after.join("\n  ")
        ));
    }
    match parse_module(&printed) {
        Ok(back) if back == optimized => Ok(optimized),
        Ok(_) => Err(format!(
            "the optimized module does not parse back to itself:\n{printed}"
        )),
        Err(e) => Err(format!(
            "the optimized module does not parse back ({e}):\n{printed}"
        )),
    }
}

fn check_opt(path: &Path, text: &str, optimized: &Module, bless: bool) -> Result<(), String> {
    let printed = print_module(optimized);
    let actual: Vec<&str> = printed.lines().map(str::trim_end).collect();
    filecheck::check(path, text, &actual, bless, "optimized output")
}

// ---------------------------------------------------------------------------
// `; run:` lines

/// One parsed `; run:` line.
#[derive(Debug, Default)]
struct RunSpec {
    func: Option<(String, Vec<U256>)>,
    host: SimpleHost,
    limits: Option<Limits>,
    no_opt: bool,
    expect: Expect,
    checks: Vec<Check>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum Expect {
    #[default]
    Stop,
    Return(Vec<u8>),
    Revert(Vec<u8>),
    SelfDestruct(U256),
    Values(Vec<U256>),
    Trap(TrapCode, Option<SourcePos>),
    OutOfBudget,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Check {
    Storage(U256, U256),
    Transient(U256, U256),
    Logs(usize),
    Log(usize, Vec<U256>, Vec<u8>),
    MSize(usize),
}

fn default_limits() -> Limits {
    Limits {
        budget: 1_000_000,
        ..Limits::default()
    }
}

/// Splits at whitespace outside brackets and parentheses.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut depth = 0i32;
    let mut start = None;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if let Some(st) = start.take() {
                out.push(&s[st..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    out
}

fn int(s: &str) -> Result<U256, String> {
    let clean: String = s.trim().chars().filter(|c| *c != '_').collect();
    let parsed = if let Some(hex) = clean.strip_prefix("0x") {
        U256::from_str_radix(hex, 16).ok()
    } else if let Some(neg) = clean.strip_prefix('-') {
        U256::from_str_radix(neg, 10)
            .ok()
            .map(|v| U256::ZERO.wrapping_sub(v))
    } else {
        U256::from_str_radix(&clean, 10).ok()
    };
    parsed.ok_or_else(|| format!("bad integer `{s}`"))
}

fn small(s: &str) -> Result<usize, String> {
    usize::try_from(int(s)?).map_err(|_| format!("`{s}` is too large"))
}

fn hex_data(s: &str) -> Result<Vec<u8>, String> {
    let body: String = s
        .strip_prefix("0x")
        .ok_or_else(|| format!("data must start with 0x: `{s}`"))?
        .chars()
        .filter(|c| *c != '_')
        .collect();
    if !body.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits in `{s}`"));
    }
    (0..body.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&body[i..i + 2], 16).map_err(|_| format!("bad hex `{s}`")))
        .collect()
}

/// `[a, b, c]` as integers.
fn int_list(s: &str) -> Result<Vec<U256>, String> {
    let inner = s
        .trim()
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| format!("expected `[...]`, found `{s}`"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(int)
        .collect()
}

/// `name[key]=value`, if the token has that form.
fn keyed<'a>(tok: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let rest = tok.strip_prefix(name)?.strip_prefix('[')?;
    let (key, value) = rest.split_once("]=")?;
    Some((key, value))
}

fn parse_run(line: &str) -> Result<RunSpec, String> {
    let (inputs, outputs) = line
        .split_once("=>")
        .ok_or("a run line needs `=>` between inputs and outcome")?;
    let mut spec = RunSpec::default();
    for tok in tokens(inputs) {
        if let Some(call) = tok.strip_prefix('%') {
            let open = call
                .find('(')
                .ok_or_else(|| format!("expected `(` in `{tok}`"))?;
            let args = call[open + 1..]
                .strip_suffix(')')
                .ok_or_else(|| format!("expected `)` in `{tok}`"))?;
            let args = args
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(int)
                .collect::<Result<_, _>>()?;
            spec.func = Some((call[..open].to_string(), args));
        } else if let Some(data) = tok.strip_prefix("calldata=") {
            spec.host.calldata = hex_data(data)?;
        } else if let Some(data) = tok.strip_prefix("code=") {
            spec.host.code = hex_data(data)?;
        } else if let Some((k, v)) = keyed(tok, "storage") {
            spec.host.storage.insert(int(k)?, int(v)?);
        } else if let Some((k, v)) = keyed(tok, "transient") {
            spec.host.transient.insert(int(k)?, int(v)?);
        } else if let Some((k, v)) = keyed(tok, "env") {
            let op = HostOp::from_name(k)
                .filter(|h| h.arity() == (0, 1))
                .ok_or_else(|| format!("`{k}` is not a zero-operand host operation"))?;
            spec.host.env.insert(op.name(), int(v)?);
        } else if tok == "static" {
            spec.host.is_static = true;
        } else if tok == "no-opt" {
            spec.no_opt = true;
        } else if let Some(n) = tok.strip_prefix("budget=") {
            let l = spec.limits.get_or_insert_with(default_limits);
            l.budget = u64::try_from(int(n)?).map_err(|_| format!("budget `{n}` too large"))?;
        } else if let Some(n) = tok.strip_prefix("memory=") {
            spec.limits.get_or_insert_with(default_limits).memory = small(n)?;
        } else if let Some(n) = tok.strip_prefix("depth=") {
            spec.limits.get_or_insert_with(default_limits).call_depth = small(n)?;
        } else {
            return Err(format!("unknown input `{tok}`"));
        }
    }
    let toks = tokens(outputs);
    let (word, rest) = toks.split_first().ok_or("missing outcome after `=>`")?;
    let arg = |i: usize| {
        rest.get(i)
            .copied()
            .ok_or_else(|| format!("`{word}` needs an operand"))
    };
    let used = match *word {
        "stop" => {
            spec.expect = Expect::Stop;
            0
        }
        "return" => {
            spec.expect = Expect::Return(hex_data(arg(0)?)?);
            1
        }
        "revert" => {
            spec.expect = Expect::Revert(hex_data(arg(0)?)?);
            1
        }
        "selfdestruct" => {
            spec.expect = Expect::SelfDestruct(int(arg(0)?)?);
            1
        }
        "values" => {
            spec.expect = Expect::Values(int_list(arg(0)?)?);
            1
        }
        "out_of_budget" => {
            spec.expect = Expect::OutOfBudget;
            0
        }
        "trap" => {
            let name = arg(0)?;
            let code =
                TrapCode::from_name(name).ok_or_else(|| format!("unknown trap code `{name}`"))?;
            match rest.get(1).and_then(|p| p.strip_prefix('@')) {
                Some(p) => {
                    let pos = match p.strip_prefix("wasm:") {
                        Some(w) => SourcePos::Wasm(small(w)? as u32),
                        None => SourcePos::Evm(small(p)? as u32),
                    };
                    spec.expect = Expect::Trap(code, Some(pos));
                    2
                }
                None => {
                    spec.expect = Expect::Trap(code, None);
                    1
                }
            }
        }
        other => return Err(format!("unknown outcome `{other}`")),
    };
    for tok in &rest[used..] {
        let check = if let Some((k, v)) = keyed(tok, "storage") {
            Check::Storage(int(k)?, int(v)?)
        } else if let Some((k, v)) = keyed(tok, "transient") {
            Check::Transient(int(k)?, int(v)?)
        } else if let Some(n) = tok.strip_prefix("logs=") {
            Check::Logs(small(n)?)
        } else if let Some(n) = tok.strip_prefix("msize=") {
            Check::MSize(small(n)?)
        } else if let Some((i, v)) = keyed(tok, "log") {
            let close = v
                .rfind("]:")
                .ok_or_else(|| format!("expected `[topics]:0xdata` in `{tok}`"))?;
            Check::Log(
                small(i)?,
                int_list(&v[..=close])?,
                hex_data(&v[close + 2..])?,
            )
        } else {
            return Err(format!("unknown check `{tok}`"));
        };
        spec.checks.push(check);
    }
    Ok(spec)
}

fn hex(data: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in data {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn show_outcome(o: &Outcome) -> String {
    match o {
        Outcome::Stop => "stop".into(),
        Outcome::Return(d) => format!("return {}", hex(d)),
        Outcome::Revert(d) => format!("revert {}", hex(d)),
        Outcome::SelfDestruct(a) => format!("selfdestruct {a:#x}"),
        Outcome::Values(vs) => {
            let vs: Vec<String> = vs.iter().map(|v| format!("{v:#x}")).collect();
            format!("values [{}]", vs.join(", "))
        }
        Outcome::Trap { code, pos } => match pos {
            SourcePos::None => format!("trap {code}"),
            p => format!("trap {code} {p}"),
        },
        Outcome::OutOfBudget { .. } => "out_of_budget".into(),
    }
}

fn mask(v: U256, t: Type) -> U256 {
    if t.bits() >= 256 {
        v
    } else {
        v & ((U256::from(1) << t.bits()) - U256::from(1))
    }
}

fn matches(expect: &Expect, got: &Outcome, returns: &[Type]) -> bool {
    match (expect, got) {
        (Expect::Stop, Outcome::Stop) => true,
        (Expect::Return(a), Outcome::Return(b)) | (Expect::Revert(a), Outcome::Revert(b)) => a == b,
        (Expect::SelfDestruct(a), Outcome::SelfDestruct(b)) => a == b,
        (Expect::Values(a), Outcome::Values(b)) => {
            a.len() == b.len()
                && a.iter().zip(b).enumerate().all(|(i, (x, y))| {
                    mask(*x, returns.get(i).copied().unwrap_or(Type::I256)) == *y
                })
        }
        (Expect::Trap(code, pos), Outcome::Trap { code: c, pos: p }) => {
            code == c && pos.is_none_or(|pos| pos == *p)
        }
        (Expect::OutOfBudget, Outcome::OutOfBudget { .. }) => true,
        _ => false,
    }
}

/// What runs a line.
#[derive(Clone, Copy)]
enum On<'a> {
    /// The interpreter, on the module as given.
    Written,
    /// The interpreter, on the legalized form.
    Legal(&'a Module),
    /// The legalized form compiled by backend-native.
    Native(&'a Module, &'a chainlift_backend_native::Program),
}

/// Runs `spec` on `module`, or on its legalized form (arguments and
/// results converted to and from `i64` limbs) in the interpreter or as
/// native code; `Err` describes the mismatch.
fn run_once(module: &Module, spec: &RunSpec, on: On<'_>) -> Result<(), String> {
    let legal = match on {
        On::Written => None,
        On::Legal(l) | On::Native(l, _) => Some(l),
    };
    let (func, mut args) = match &spec.func {
        None => (FuncId::new(0), vec![]),
        Some((name, args)) => {
            let i = module
                .functions
                .iter()
                .position(|f| f.name == *name)
                .ok_or_else(|| format!("no function %{name}"))?;
            (FuncId::new(i), args.clone())
        }
    };
    let returns = module.functions[func.index()].returns.clone();
    let mut host = spec.host.clone();
    let mut limits = spec.limits.unwrap_or_else(default_limits);
    let run_on = match legal {
        None => module,
        Some(legal) => {
            let params = &module.functions[func.index()].params;
            args = to_limbs(&args, params);
            limits.budget = limits.budget.saturating_mul(100);
            legal
        }
    };
    let (mut outcome, msize) = match on {
        On::Native(_, program) => {
            let r = program.call(&mut host, func, &args, limits);
            (r.outcome, r.memory_size)
        }
        _ => {
            let mut interp = Interpreter::new(run_on, limits);
            let outcome = interp.run(&mut host, func, &args);
            (outcome, interp.memory.len())
        }
    };
    if legal.is_some()
        && let Outcome::Values(vs) = &outcome
    {
        outcome = Outcome::Values(from_limbs(vs, &returns));
    }
    let mut problems = vec![];
    if !matches(&spec.expect, &outcome, &returns) {
        problems.push(format!("ended `{}`", show_outcome(&outcome)));
    }
    for check in &spec.checks {
        match check {
            Check::Storage(k, v) => {
                let got = host.storage.get(k).copied().unwrap_or_default();
                if got != *v {
                    problems.push(format!("storage[{k:#x}] is {got:#x}, expected {v:#x}"));
                }
            }
            Check::Transient(k, v) => {
                let got = host.transient.get(k).copied().unwrap_or_default();
                if got != *v {
                    problems.push(format!("transient[{k:#x}] is {got:#x}, expected {v:#x}"));
                }
            }
            Check::Logs(n) => {
                if host.logs.len() != *n {
                    problems.push(format!("{} logs, expected {n}", host.logs.len()));
                }
            }
            Check::Log(i, topics, data) => match host.logs.get(*i) {
                None => problems.push(format!("no log {i}")),
                Some((t, d)) => {
                    if t != topics || d != data {
                        let ts: Vec<String> = t.iter().map(|x| format!("{x:#x}")).collect();
                        problems.push(format!("log[{i}] is [{}]:{}", ts.join(", "), hex(d)));
                    }
                }
            },
            Check::MSize(n) => {
                if msize != *n {
                    problems.push(format!("msize is {msize}, expected {n}"));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Values as the legalized form takes them: each `i256` as four limbs.
fn to_limbs(values: &[U256], types: &[Type]) -> Vec<U256> {
    let mut out = vec![];
    for (v, t) in values.iter().zip(types) {
        if *t == Type::I256 {
            out.extend(v.as_limbs().iter().map(|l| U256::from(*l)));
        } else {
            out.push(*v);
        }
    }
    out
}

/// The inverse of [`to_limbs`].
fn from_limbs(values: &[U256], types: &[Type]) -> Vec<U256> {
    let mut it = values.iter();
    let mut out = vec![];
    for t in types {
        if *t == Type::I256 {
            let mut l = [0u64; 4];
            for d in &mut l {
                *d = it.next().map_or(0, |v| v.as_limbs()[0]);
            }
            out.push(U256::from_limbs(l));
        } else if let Some(v) = it.next() {
            out.push(*v);
        }
    }
    out
}

/// The legalized module, checked: it verifies and holds no `i256`.
fn legalized(module: &Module) -> Result<Module, String> {
    let legal = legalize::legalize(module);
    let errors = verify_messages(&legal);
    if !errors.is_empty() {
        return Err(format!(
            "the legalized module does not verify:\n  {}\n{}",
            errors.join("\n  "),
            print_module(&legal)
        ));
    }
    if legalize::has_i256(&legal) {
        return Err(format!(
            "the legalized module holds an i256:\n{}",
            print_module(&legal)
        ));
    }
    Ok(legal)
}

fn run_lines(module: &Module, optimized: &Module, runs: &[(usize, String)]) -> Result<(), String> {
    let mut problems = vec![];
    let legal = legalized(module);
    if let Err(e) = &legal {
        problems.push(e.clone());
    }
    // Every line that runs legalized also runs as native code
    // (`call_indirect` through the devirtualizing pass backend-native runs).
    let native = legal.as_ref().ok().and_then(|l| {
        let v = chainlift_ir::verify::verified(l.clone()).ok()?;
        Some(chainlift_backend_native::compile(&v, &Default::default()))
    });
    if let Some(Err(e)) = &native {
        problems.push(format!("backend-native: {e}"));
    }
    for (line_no, line) in runs {
        let spec = match parse_run(line) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("line {line_no}: bad run line: {e}"));
                continue;
            }
        };
        if let Err(e) = run_once(module, &spec, On::Written) {
            problems.push(format!("line {line_no}: `{line}`: {e}"));
        }
        if !spec.no_opt
            && let Err(e) = run_once(optimized, &spec, On::Written)
        {
            problems.push(format!("line {line_no}: `{line}`: after optimize: {e}"));
        }
        // Lines about limits (budget, memory, depth) count steps and calls,
        // which legalization changes; every other line runs legalized too.
        if spec.limits.is_none()
            && spec.expect != Expect::OutOfBudget
            && let Ok(legal) = &legal
        {
            if let Err(e) = run_once(module, &spec, On::Legal(legal)) {
                problems.push(format!("line {line_no}: `{line}`: after legalize: {e}"));
            }
            if let Some(Ok(program)) = &native
                && let Err(e) = run_once(module, &spec, On::Native(legal, program))
            {
                problems.push(format!("line {line_no}: `{line}`: native: {e}"));
            }
        }
    }
    join(problems)
}

// ---------------------------------------------------------------------------
// The tests

#[test]
fn filetests() {
    let bless = filecheck::bless_requested();
    let files = ir_files();
    assert!(
        !files.is_empty(),
        "no .ir files in {}",
        files_dir().display()
    );
    let mut failures = vec![];
    let mut skipped = vec![];
    let mut ran = 0;
    for path in &files {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Ok(Directives { bug: Some(bug), .. }) = directives(&text) {
            skipped.push(format!("{name} (known bug: {bug})"));
            continue;
        }
        ran += 1;
        // A panic in the IR code fails this file, not the whole walk.
        let result = std::panic::catch_unwind(|| run_file(path, bless))
            .unwrap_or_else(|p| Err(format!("panicked: {}", panic_message(&*p))));
        if let Err(e) = result {
            failures.push(format!("--- {name}\n{e}"));
        }
    }
    if !skipped.is_empty() {
        eprintln!(
            "skipped {} file(s) reproducing known bugs:\n  {}",
            skipped.len(),
            skipped.join("\n  ")
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} file tests failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[test]
fn harness_parses_run_lines() {
    let spec = parse_run(
        "%f(1, -1) calldata=0x01_02 storage[0x1]=5 env[caller]=7 static budget=10 no-opt \
         => trap out_of_bounds @0x1a storage[1]=6 logs=1 log[0]=[1, 0x2]:0xff msize=32",
    )
    .expect("parses");
    assert_eq!(
        spec.func,
        Some(("f".to_string(), vec![U256::from(1), U256::MAX]))
    );
    assert_eq!(spec.host.calldata, vec![1, 2]);
    assert_eq!(spec.host.storage[&U256::from(1)], U256::from(5));
    assert_eq!(spec.host.env["caller"], U256::from(7));
    assert!(spec.host.is_static && spec.no_opt);
    assert_eq!(spec.limits.map(|l| l.budget), Some(10));
    assert_eq!(
        spec.expect,
        Expect::Trap(TrapCode::OutOfBounds, Some(SourcePos::Evm(0x1a)))
    );
    assert_eq!(
        spec.checks,
        vec![
            Check::Storage(U256::from(1), U256::from(6)),
            Check::Logs(1),
            Check::Log(0, vec![U256::from(1), U256::from(2)], vec![0xff]),
            Check::MSize(32),
        ]
    );
    let v = parse_run("=> values [0xff, -1]").expect("parses");
    assert_eq!(v.expect, Expect::Values(vec![U256::from(0xff), U256::MAX]));
    assert!(parse_run("stop").is_err());
    assert!(parse_run("=> bogus").is_err());
    assert!(parse_run("frob => stop").is_err());
    assert!(matches(
        &Expect::Values(vec![U256::MAX]),
        &Outcome::Values(vec![U256::from(0xff)]),
        &[Type::I8]
    ));
}
