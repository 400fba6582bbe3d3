//! WebAssembly spec scripts (`.wast`) through wasmtime and the IR.
//!
//! Each assertion is one case. wasmtime runs every module and assertion and
//! is checked against the script's own expectation (results, trap class,
//! exhaustion, rejection); the IR then runs the module as
//! `chainlift-frontend-wasm` lifts it (one instance per module, its memory
//! and globals kept between invocations) and must meet the same
//! expectation. A case is skipped, with its reason, where the IR cannot
//! take part: float arguments or results, a function that uses
//! instructions outside the integer subset, imports from another module.
//! `assert_invalid` and `assert_malformed` need both wasmtime and our
//! frontend to refuse the module.

use crate::suite::{CaseResult, Verdict};
use chainlift_frontend_wasm::{Imports, Lifted, Options};
use chainlift_ir::entities::FuncId;
use chainlift_ir::inst::TrapCode;
use chainlift_ir::interp::{Interpreter, Limits, Outcome, Program, SimpleHost, State};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use wast::core::{WastArgCore, WastRetCore};
use wast::{QuoteWat, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

/// Fuel for one wasmtime invocation (bounds runaway loops). wasmtime
/// charges bulk memory operations by length before their bounds check, so
/// a 4 GiB `memory.fill` that traps needs more than 2^32.
const FUEL: u64 = 1 << 34;

/// The IR interpreter's bounds for one invocation.
const LIMITS: Limits = Limits {
    budget: 1 << 30,
    memory: 256 << 20,
    call_depth: 512,
};

/// How a call ended, as the script sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ran {
    /// Results (bit patterns).
    Values(Vec<u64>),
    /// A trap of this class (`None`: one the classes below do not name).
    Trap(Option<TrapCode>),
    /// The call stack or the budget ran out.
    Exhausted,
}

/// What the spectest module provides to the IR: its globals' values and
/// its print functions, which do nothing observable.
fn spectest_imports() -> Imports {
    let s = |n: &str| ("spectest".to_string(), n.to_string());
    Imports {
        noop_funcs: [
            "print",
            "print_i32",
            "print_i64",
            "print_f32",
            "print_f64",
            "print_i32_f32",
            "print_f64_f64",
        ]
        .into_iter()
        .map(s)
        .collect(),
        globals: vec![
            (s("global_i32"), 666),
            (s("global_i64"), 666),
            (s("global_f32"), 666f32.to_bits() as u64),
            (s("global_f64"), 666f64.to_bits()),
        ],
    }
}

/// The trap class a spec message names.
fn expected_trap(message: &str) -> Option<TrapCode> {
    let classes = [
        ("integer divide by zero", TrapCode::DivideByZero),
        ("integer overflow", TrapCode::IntegerOverflow),
        ("out of bounds memory access", TrapCode::OutOfBounds),
        ("unreachable", TrapCode::Unreachable),
        ("undefined element", TrapCode::BadIndirectCall),
        ("uninitialized element", TrapCode::BadIndirectCall),
        ("indirect call type mismatch", TrapCode::BadIndirectCall),
    ];
    classes
        .iter()
        .find(|(m, _)| message.starts_with(m))
        .map(|(_, c)| *c)
}

/// wasmtime's side of a script: one store, the spectest module, the
/// instances by name.
struct Wasmtime {
    engine: wasmtime::Engine,
    store: wasmtime::Store<()>,
    linker: wasmtime::Linker<()>,
}

impl Wasmtime {
    fn new() -> Result<Wasmtime, String> {
        let mut config = wasmtime::Config::new();
        config.wasm_features(wasmtime::WasmFeatures::all(), false);
        config.wasm_features(wasmtime::WasmFeatures::WASM2, true);
        // Reference values (`externref`, `funcref` globals) need wasmtime's
        // GC support: the workspace builds its simplest collector.
        config.collector(wasmtime::Collector::Null);
        config.consume_fuel(true);
        config.max_wasm_stack(512 << 10);
        let engine = wasmtime::Engine::new(&config).map_err(|e| e.to_string())?;
        let mut store = wasmtime::Store::new(&engine, ());
        let mut linker = wasmtime::Linker::new(&engine);
        linker.allow_shadowing(true);
        let spectest = Self::spectest(&engine, &mut store).map_err(|e| e.to_string())?;
        linker
            .instance(&mut store, "spectest", spectest)
            .map_err(|e| e.to_string())?;
        Ok(Wasmtime {
            engine,
            store,
            linker,
        })
    }

    /// The `spectest` module every script may import from.
    fn spectest(
        engine: &wasmtime::Engine,
        store: &mut wasmtime::Store<()>,
    ) -> wasmtime::Result<wasmtime::Instance> {
        let wat = r#"(module
            (func (export "print"))
            (func (export "print_i32") (param i32))
            (func (export "print_i64") (param i64))
            (func (export "print_f32") (param f32))
            (func (export "print_f64") (param f64))
            (func (export "print_i32_f32") (param i32 f32))
            (func (export "print_f64_f64") (param f64 f64))
            (global (export "global_i32") i32 (i32.const 666))
            (global (export "global_i64") i64 (i64.const 666))
            (global (export "global_f32") f32 (f32.const 666))
            (global (export "global_f64") f64 (f64.const 666))
            (table (export "table") 10 20 funcref)
            (memory (export "memory") 1 2))"#;
        let bytes = chainlift_frontend_wasm::read(wat.as_bytes())
            .map_err(|e| wasmtime::format_err!("{e}"))?;
        let module = wasmtime::Module::new(engine, bytes)?;
        wasmtime::Instance::new(&mut *store, &module, &[])
    }

    fn instantiate(&mut self, bytes: &[u8]) -> Result<wasmtime::Instance, String> {
        let module = wasmtime::Module::new(&self.engine, bytes).map_err(|e| format!("{e:#}"))?;
        self.store.set_fuel(FUEL).map_err(|e| e.to_string())?;
        self.linker
            .instantiate(&mut self.store, &module)
            .map_err(|e| format!("{e:#}"))
    }

    fn invoke(
        &mut self,
        instance: wasmtime::Instance,
        name: &str,
        args: &[(bool, u64)],
    ) -> Result<Ran, String> {
        let func = instance
            .get_func(&mut self.store, name)
            .ok_or_else(|| format!("wasmtime: no exported function {name}"))?;
        let ty = func.ty(&self.store);
        let params: Vec<wasmtime::Val> = args
            .iter()
            .map(|(wide, v)| {
                if *wide {
                    wasmtime::Val::I64(*v as i64)
                } else {
                    wasmtime::Val::I32(*v as u32 as i32)
                }
            })
            .collect();
        let mut results = vec![wasmtime::Val::I32(0); ty.results().len()];
        self.store.set_fuel(FUEL).map_err(|e| e.to_string())?;
        match func.call(&mut self.store, &params, &mut results) {
            Ok(()) => Ok(Ran::Values(
                results
                    .iter()
                    .map(|v| match v {
                        wasmtime::Val::I32(x) => *x as u32 as u64,
                        wasmtime::Val::I64(x) => *x as u64,
                        wasmtime::Val::F32(x) => *x as u64,
                        wasmtime::Val::F64(x) => *x,
                        _ => 0,
                    })
                    .collect(),
            )),
            Err(e) => Ok(match e.downcast_ref::<wasmtime::Trap>() {
                Some(wasmtime::Trap::StackOverflow) => Ran::Exhausted,
                Some(wasmtime::Trap::OutOfFuel) => return Err("wasmtime: out of fuel".into()),
                Some(t) => Ran::Trap(wasmtime_trap(*t)),
                None => return Err(format!("wasmtime: {e:#}")),
            }),
        }
    }

    fn global(&mut self, instance: wasmtime::Instance, name: &str) -> Option<u64> {
        match instance
            .get_global(&mut self.store, name)?
            .get(&mut self.store)
        {
            wasmtime::Val::I32(x) => Some(x as u32 as u64),
            wasmtime::Val::I64(x) => Some(x as u64),
            _ => None,
        }
    }
}

fn wasmtime_trap(t: wasmtime::Trap) -> Option<TrapCode> {
    use wasmtime::Trap as T;
    Some(match t {
        T::IntegerDivisionByZero => TrapCode::DivideByZero,
        T::IntegerOverflow => TrapCode::IntegerOverflow,
        T::MemoryOutOfBounds => TrapCode::OutOfBounds,
        T::UnreachableCodeReached => TrapCode::Unreachable,
        T::TableOutOfBounds | T::IndirectCallToNull | T::BadSignature => TrapCode::BadIndirectCall,
        _ => return None,
    })
}

/// One module instance in the IR: the lifted module and the state its
/// invocations share.
struct IrInstance {
    lifted: Arc<Lifted>,
    program: Arc<Program>,
    state: State,
}

impl IrInstance {
    /// Lifts `bytes` and runs `%init`; `Err` names why the IR cannot run it.
    fn new(bytes: &[u8]) -> Result<Result<IrInstance, Ran>, String> {
        let options = Options {
            imports: spectest_imports(),
            ..Options::default()
        };
        let lifted = match chainlift_frontend_wasm::lift(bytes, &options) {
            Ok(l) => Arc::new(l),
            Err(chainlift_frontend_wasm::Error::Import { module, name, kind }) => {
                return Err(format!(
                    "imports a {kind} from another module ({module}.{name})"
                ));
            }
            Err(e) => return Err(format!("IR: {e}")),
        };
        let program = Arc::new(Program::new(&lifted.module));
        let mut inst = IrInstance {
            lifted,
            program,
            state: State::default(),
        };
        Ok(match inst.run(FuncId::new(0), &[]) {
            Ran::Values(_) => Ok(inst),
            other => Err(other),
        })
    }

    fn run(&mut self, func: FuncId, args: &[alloy_primitives::U256]) -> Ran {
        let lifted = self.lifted.clone();
        let mut interp = Interpreter::with_state(
            &lifted.module,
            self.program.clone(),
            LIMITS,
            std::mem::take(&mut self.state),
        );
        let outcome = interp.run(&mut SimpleHost::default(), func, args);
        self.state = interp.into_state();
        match outcome {
            Outcome::Values(v) => Ran::Values(v.iter().map(|x| x.as_limbs()[0]).collect()),
            Outcome::Trap {
                code: TrapCode::CallStackExhausted,
                ..
            }
            | Outcome::OutOfBudget { .. } => Ran::Exhausted,
            Outcome::Trap { code, .. } => Ran::Trap(Some(code)),
            // A generic module has no exit: an exit would be a frontend bug.
            _ => Ran::Trap(None),
        }
    }

    /// Invokes export `name`; `Err` says why the IR cannot.
    fn invoke(&mut self, name: &str, args: &[(bool, u64)]) -> Result<Ran, String> {
        let export = self
            .lifted
            .func(name)
            .ok_or_else(|| format!("IR: no exported function {name}"))?
            .clone();
        if let Some(u) = self.lifted.unsupported(export.index) {
            return Err(format!("uses {} (not lifted)", u.what));
        }
        let args: Vec<alloy_primitives::U256> = args
            .iter()
            .map(|(_, v)| alloy_primitives::U256::from(*v))
            .collect();
        Ok(self.run(export.func, &args))
    }

    fn global(&self, name: &str) -> Option<u64> {
        let g = self.lifted.globals.iter().find(|g| g.name == name)?;
        let word = self.state.stack.get(g.slot as usize / 4)?;
        let limb = word.as_limbs()[g.slot as usize % 4];
        Some(if g.ty == chainlift_frontend_wasm::module::ValType::I32 {
            limb as u32 as u64
        } else {
            limb
        })
    }
}

/// A module as both sides have it.
struct Instance {
    wasmtime: Option<wasmtime::Instance>,
    /// The IR's instance, or why there is none.
    ir: Result<IrInstance, String>,
}

/// Integer arguments, or `None` when any is not an integer.
fn int_args(args: &[WastArg<'_>]) -> Option<Vec<(bool, u64)>> {
    args.iter()
        .map(|a| match a {
            WastArg::Core(WastArgCore::I32(x)) => Some((false, *x as u32 as u64)),
            WastArg::Core(WastArgCore::I64(x)) => Some((true, *x as u64)),
            _ => None,
        })
        .collect()
}

fn int_results(results: &[WastRet<'_>]) -> Option<Vec<u64>> {
    results
        .iter()
        .map(|r| match r {
            WastRet::Core(WastRetCore::I32(x)) => Some(*x as u32 as u64),
            WastRet::Core(WastRetCore::I64(x)) => Some(*x as u64),
            _ => None,
        })
        .collect()
}

/// The script runner's state.
struct Script {
    wasmtime: Wasmtime,
    ir: bool,
    instances: Vec<Instance>,
    named: HashMap<String, usize>,
}

impl Script {
    fn instance(&mut self, id: Option<wast::token::Id<'_>>) -> Option<usize> {
        match id {
            Some(id) => self.named.get(id.name()).copied(),
            None => self.instances.len().checked_sub(1),
        }
    }

    fn define(&mut self, bytes: &[u8], id: Option<String>) -> Result<(), String> {
        let wasmtime = self.wasmtime.instantiate(bytes);
        let ir = if self.ir {
            match IrInstance::new(bytes) {
                Ok(Ok(i)) => Ok(i),
                Ok(Err(ran)) => Err(format!("IR: instantiation ended {ran:?}")),
                Err(why) => Err(why),
            }
        } else {
            Err("the IR does not run".into())
        };
        let failed = wasmtime.as_ref().err().cloned();
        self.instances.push(Instance {
            wasmtime: wasmtime.ok(),
            ir,
        });
        if let Some(id) = id {
            self.named.insert(id, self.instances.len() - 1);
        }
        match failed {
            Some(e) => Err(format!("wasmtime cannot instantiate the module: {e}")),
            None => Ok(()),
        }
    }

    /// Runs `invoke` on both sides: wasmtime's result, and the IR's or why
    /// it has none.
    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<(Ran, Result<Ran, String>), String> {
        let i = self.instance(inv.module).ok_or("no module to invoke")?;
        let args = int_args(&inv.args);
        let wt = self.instances[i]
            .wasmtime
            .ok_or("the module did not instantiate in wasmtime")?;
        let Some(args) = args else {
            return Err("float or reference arguments".into());
        };
        let w = self.wasmtime.invoke(wt, inv.name, &args)?;
        let ir = match &mut self.instances[i].ir {
            Ok(inst) => inst.invoke(inv.name, &args),
            Err(why) => Err(why.clone()),
        };
        Ok((w, ir))
    }
}

/// A case that could not be judged: a failure when wasmtime itself erred
/// (out of fuel, a missing export), a skip otherwise (float arguments).
fn skip_or_fail(why: String) -> Verdict {
    if why.starts_with("wasmtime") {
        Verdict::Fail(why)
    } else {
        Verdict::Skip(why)
    }
}

/// Whether the IR's result meets the expectation `want` (wasmtime's has).
fn judge(want: &dyn Fn(&Ran) -> bool, w: Ran, ir: Result<Ran, String>, describe: &str) -> Verdict {
    if !want(&w) {
        return Verdict::Fail(format!("wasmtime: {describe}, got {w:?}"));
    }
    match ir {
        Err(why) => Verdict::Skip(why),
        // A function the frontend did not lift, reached through a call.
        Ok(Ran::Trap(Some(TrapCode::Unsupported))) => {
            Verdict::Skip("calls a function that is not lifted".into())
        }
        Ok(r) if want(&r) => Verdict::Pass,
        Ok(r) => Verdict::Fail(format!("ir: {describe}, got {r:?} (wasmtime {w:?})")),
    }
}

/// Runs one `.wast` file: wasmtime always, the IR when `ir`.
pub fn run_wast_file(path: &Path, ir: bool) -> Vec<CaseResult> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let one = |verdict: Verdict| {
        vec![CaseResult {
            name: file.clone(),
            format: "wast",
            verdict,
        }]
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return one(Verdict::Fail(format!("cannot read: {e}"))),
    };
    let buf = match wast::parser::ParseBuffer::new(&text) {
        Ok(b) => b,
        Err(e) => return one(Verdict::Fail(format!("cannot parse: {e}"))),
    };
    let script = match wast::parser::parse::<wast::Wast>(&buf) {
        Ok(s) => s,
        Err(e) => return one(Verdict::Fail(format!("cannot parse: {e}"))),
    };
    let wasmtime = match Wasmtime::new() {
        Ok(w) => w,
        Err(e) => return one(Verdict::Fail(format!("wasmtime: {e}"))),
    };
    let mut s = Script {
        wasmtime,
        ir,
        instances: vec![],
        named: HashMap::new(),
    };
    let mut out = vec![];
    for directive in script.directives {
        let (line, _) = directive.span().linecol_in(&text);
        let mut case = |what: &str, verdict: Verdict| {
            out.push(CaseResult {
                name: format!("{file}:{} {what}", line + 1),
                format: "wast",
                verdict,
            })
        };
        match directive {
            WastDirective::Module(mut q) => {
                let id = match &q {
                    QuoteWat::Wat(Wat::Module(m)) => m.id.map(|i| i.name().to_string()),
                    _ => None,
                };
                let verdict = match q.encode() {
                    Ok(bytes) => match s.define(&bytes, id) {
                        Ok(()) => match &s.instances[s.instances.len() - 1].ir {
                            Ok(_) => Verdict::Pass,
                            Err(why) if why.starts_with("imports") || !ir => {
                                Verdict::Skip(why.clone())
                            }
                            Err(why) => Verdict::Fail(why.clone()),
                        },
                        Err(e) => Verdict::Fail(e),
                    },
                    Err(e) => Verdict::Fail(format!("cannot encode: {e}")),
                };
                case("module", verdict);
            }
            WastDirective::Register { name, module, .. } => {
                if let Some(i) = s.instance(module)
                    && let Some(inst) = s.instances[i].wasmtime
                {
                    let _ = s
                        .wasmtime
                        .linker
                        .instance(&mut s.wasmtime.store, name, inst);
                }
            }
            WastDirective::Invoke(inv) => {
                let verdict = match s.invoke(&inv) {
                    Ok((Ran::Values(w), Ok(Ran::Values(r)))) if w == r => Verdict::Pass,
                    Ok((Ran::Values(_), Err(why))) => Verdict::Skip(why),
                    Ok((w, ir)) => Verdict::Fail(format!("invoke: wasmtime {w:?}, ir {ir:?}")),
                    Err(why) => skip_or_fail(why),
                };
                case(&format!("invoke {}", inv.name), verdict);
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let Some(want) = int_results(&results) else {
                    case(
                        "assert_return",
                        Verdict::Skip("float or reference results".into()),
                    );
                    continue;
                };
                let verdict = match exec {
                    WastExecute::Invoke(inv) => match s.invoke(&inv) {
                        Ok((w, ir)) => judge(
                            &|r| *r == Ran::Values(want.clone()),
                            w,
                            ir,
                            &format!("expected {want:?}"),
                        ),
                        Err(why) => Verdict::Skip(why),
                    },
                    WastExecute::Get { module, global, .. } => match s.instance(module) {
                        Some(i) => {
                            let wt = s.instances[i]
                                .wasmtime
                                .and_then(|inst| s.wasmtime.global(inst, global));
                            let irv = match &s.instances[i].ir {
                                Ok(inst) => inst
                                    .global(global)
                                    .ok_or_else(|| format!("IR: no global {global}")),
                                Err(why) => Err(why.clone()),
                            };
                            judge(
                                &|r| *r == Ran::Values(want.clone()),
                                Ran::Values(wt.into_iter().collect()),
                                irv.map(|v| Ran::Values(vec![v])),
                                &format!("expected {want:?}"),
                            )
                        }
                        None => Verdict::Fail("no module".into()),
                    },
                    WastExecute::Wat(_) => {
                        Verdict::Skip("module instantiation as an action".into())
                    }
                };
                case("assert_return", verdict);
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                let class = expected_trap(message);
                let want = |r: &Ran| match r {
                    Ran::Trap(code) => class.is_none() || *code == class,
                    _ => false,
                };
                let verdict = match exec {
                    WastExecute::Invoke(inv) => match s.invoke(&inv) {
                        Ok((w, ir)) => judge(&want, w, ir, &format!("expected trap {message:?}")),
                        Err(why) => skip_or_fail(why),
                    },
                    WastExecute::Wat(mut wat) => match wat.encode() {
                        Ok(bytes) => {
                            let w = match s.wasmtime.instantiate(&bytes) {
                                Ok(_) => Ran::Values(vec![]),
                                Err(_) => Ran::Trap(None),
                            };
                            let irr = if ir {
                                match IrInstance::new(&bytes) {
                                    Ok(Ok(_)) => Ok(Ran::Values(vec![])),
                                    Ok(Err(_)) => Ok(Ran::Trap(None)),
                                    Err(why) => Err(why),
                                }
                            } else {
                                Err("the IR does not run".into())
                            };
                            let want = |r: &Ran| matches!(r, Ran::Trap(_));
                            judge(&want, w, irr, &format!("expected trap {message:?}"))
                        }
                        Err(e) => Verdict::Fail(format!("cannot encode: {e}")),
                    },
                    WastExecute::Get { .. } => Verdict::Skip("trap on a global read".into()),
                };
                case("assert_trap", verdict);
            }
            WastDirective::AssertExhaustion { call, .. } => {
                let verdict = match s.invoke(&call) {
                    Ok((w, ir)) => judge(&|r| *r == Ran::Exhausted, w, ir, "expected exhaustion"),
                    Err(why) => Verdict::Skip(why),
                };
                case("assert_exhaustion", verdict);
            }
            WastDirective::AssertInvalid {
                module: mut q,
                message,
                ..
            }
            | WastDirective::AssertMalformed {
                module: mut q,
                message,
                ..
            } => {
                let verdict = match q.encode() {
                    // Text the parser refuses is malformed for both sides.
                    Err(_) => Verdict::Pass,
                    Ok(bytes) => {
                        let w = wasmtime::Module::new(&s.wasmtime.engine, &bytes).is_err();
                        let ours = chainlift_frontend_wasm::module::parse(&bytes).is_err();
                        match (w, ours) {
                            (true, true) => Verdict::Pass,
                            (false, _) => Verdict::Fail(format!(
                                "wasmtime accepts a module the script calls {message:?}"
                            )),
                            (true, false) => Verdict::Fail(format!(
                                "frontend-wasm accepts a module the script calls {message:?}"
                            )),
                        }
                    }
                };
                case("assert_invalid", verdict);
            }
            WastDirective::AssertUnlinkable { .. } => {
                case("assert_unlinkable", Verdict::Skip("linking".into()))
            }
            _ => case("directive", Verdict::Skip("outside the 2.0 core".into())),
        }
    }
    out
}
