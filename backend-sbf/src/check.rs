//! Pre-flight: everything that keeps a module from translating, all at
//! once, and every site where the program it makes can end in a target
//! limit. `chainlift translate --check` prints it.

use crate::{Error, Target, exit, lower};
use alloy_primitives::U256;
use chainlift_ir::entities::Value;
use chainlift_ir::function::{Function, Terminator};
use chainlift_ir::inst::{CallKind, ExitKind, HostOp, Op, SourcePos, TrapCode};
use chainlift_ir::verify::Verified;
use std::collections::{BTreeSet, HashMap};

/// An operation with no mapping to Solana.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The operation (`host.balance`, `exit.selfdestruct`, ...).
    pub what: String,
    /// Where it came from.
    pub pos: SourcePos,
    /// Why there is no mapping.
    pub why: &'static str,
}

/// A place where the program can end with a target-limit exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LimitSite {
    /// Where it came from.
    pub pos: SourcePos,
    /// The exit code ([`exit`]).
    pub exit: u64,
}

/// What [`check`] found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every operation with no mapping, by position, each once; the module
    /// translates when there is none.
    pub unsupported: Vec<Unsupported>,
    /// Every site that can end in a target limit, by position, then exit
    /// code, each once.
    pub limits: Vec<LimitSite>,
}

/// The name of a target-limit exit code, as the reports print it.
pub fn limit_name(code: u64) -> &'static str {
    match code {
        exit::MEMORY_LIMIT => "memory past the heap",
        exit::STORAGE_FULL => "storage table full",
        exit::TRANSIENT_FULL => "transient table full",
        exit::RETURN_TOO_LARGE => "return data over 1,024 bytes",
        exit::VALUE_NOT_LAMPORTS => "value not whole lamports",
        exit::CALL_INTO_CODE => "call into code",
        exit::RECIPIENT_RENT => "recipient below rent",
        exit::STACK_LIMIT => "EVM stack past its heap share",
        exit::CALL_DEPTH => "calls nested past the bundle's frames",
        exit::JOURNAL_FULL => "bundle journal full",
        exit::LOG_FULL => "bundle log buffer full",
        exit::CREATE_UNKNOWN => "creation of init code the bundle does not hold",
        exit::CREATED_CODE => "constructor returned other code than its template",
        exit::CREATE_RENT => "signer cannot pay a created contract's rent",
        exit::TEMPLATE_CODE => "copy of a created contract's code over its immutables",
        exit::CALL_OUT => "call out of the bundle a cross-program invocation cannot make",
        exit::CALL_OUT_UNDONE => "failed call inside the bundle after a call out",
        _ => "target limit",
    }
}

/// Checks a module for `target`: lowers it going on past every operation
/// with no mapping, and lists the sites that can end in a target limit.
/// An error is what stops translation outright (a module of several
/// functions, a target out of range).
pub fn check(module: &Verified, target: &Target) -> Result<Report, Error> {
    let (program, problems) = lower::lower_all(module, &module.code, target)?;
    Ok(report(module, &program, problems))
}

/// [`check`] for the module as one of a bundle's contracts
/// ([`crate::translate_bundle`], in a heap of [`crate::bundle::HEAP`]).
pub fn check_in_bundle(module: &Verified, target: &Target) -> Result<Report, Error> {
    let storage = std::collections::BTreeMap::new();
    let contract = crate::Contract {
        module,
        initial_storage: &storage,
        address: None,
        immutables: &[],
        nonce: 1,
        init: None,
    };
    check_member(contract, target)
}

/// [`check_in_bundle`] for a bundle's contract as
/// [`crate::translate_bundle`] takes it: also a created contract's
/// template (with its immutables' slots) or its init code, which runs as a
/// constructor ([`crate::Contract::init`]).
pub fn check_member(contract: crate::Contract<'_>, target: &Target) -> Result<Report, Error> {
    let target = Target {
        heap_size: crate::bundle::HEAP,
        ..target.clone()
    };
    let module = contract.module;
    let (program, problems) = lower::lower_bundle(&[contract], &target)?;
    let mut report = report(module, &program, problems);
    if !target.outside.is_empty() {
        // A call may reach a contract another program holds; a call or a
        // constructor inside the bundle may fail after one did.
        let f = &module.functions[0];
        for inst in f.layout.iter().flat_map(|b| &f.block(*b).insts) {
            let exits: &[u64] = match inst.op {
                Op::Host(HostOp::Call(_)) => &[exit::CALL_OUT, exit::CALL_OUT_UNDONE],
                Op::Host(HostOp::Create | HostOp::Create2) => &[exit::CALL_OUT_UNDONE],
                _ => continue,
            };
            for exit in exits {
                report.limits.push(LimitSite {
                    pos: inst.pos,
                    exit: *exit,
                });
            }
        }
        report.limits.sort();
        report.limits.dedup();
    }
    Ok(report)
}

/// The report of a lowering that gave `program` and `problems`.
fn report(module: &Verified, program: &crate::Program, problems: Vec<Error>) -> Report {
    let mut unsupported: Vec<Unsupported> = problems
        .into_iter()
        .filter_map(|e| match e {
            Error::Unsupported { what, pos, why } => Some(Unsupported { what, pos, why }),
            _ => None,
        })
        .collect();
    // Code the lifter specialized several times is one site.
    unsupported.sort_by(|a, b| (a.pos, &a.what).cmp(&(b.pos, &b.what)));
    unsupported.dedup_by(|a, b| a.pos == b.pos && a.what == b.what);
    let f = &module.functions[0];
    Report {
        unsupported,
        limits: limit_sites(f, u64::from(program.memory_limit)),
    }
}

/// The operations of `module` that look an account up by the EVM address
/// they are given, with their names (`call`, `balance`, `extcodesize`, `extcodecopy`,
/// `selfdestruct`, and in a bundle `create` and `create2`, whose new contract's state
/// account it needs): the program asks for that account when it is not
/// among the instruction's ([`exit::ACCOUNT_NEEDED`]). Calls the program
/// answers itself (the ecrecover and sha256 precompiles) and constant
/// addresses it knows need none (the precompiles', and for `balance` the
/// zero address) are left out.
pub fn account_lookups(module: &Verified, target: &Target) -> Vec<(SourcePos, &'static str)> {
    let f = &module.functions[0];
    let facts = chainlift_ir::analysis::analyze(
        f,
        &lower::facts::assumptions(&module.code, target, false, false),
    );
    let address = |v: Option<&Value>| v.and_then(|v| facts.consts.get(v)).copied();
    let precompile =
        |a: Option<U256>| a.is_some_and(|a| a >= U256::from(1) && a <= U256::from(0x11));
    let mut out = vec![];
    for b in &f.layout {
        let data = f.block(*b);
        for inst in &data.insts {
            let a = address(inst.args.get(1));
            let what = match inst.op {
                Op::Host(HostOp::Call(_))
                    if !inst
                        .results
                        .first()
                        .is_some_and(|r| facts.precompile_calls.contains_key(r))
                        && !precompile(a) =>
                {
                    "call"
                }
                Op::Host(HostOp::Balance)
                    if !precompile(address(inst.args.first()))
                        && address(inst.args.first()) != Some(U256::ZERO) =>
                {
                    "balance"
                }
                Op::Host(HostOp::ExtCodeSize) if !precompile(address(inst.args.first())) => {
                    "extcodesize"
                }
                Op::Host(HostOp::ExtCodeCopy) if !precompile(address(inst.args.first())) => {
                    "extcodecopy"
                }
                // The new contract's state account (in a bundle).
                Op::Host(HostOp::Create) => "create",
                Op::Host(HostOp::Create2) => "create2",
                _ => continue,
            };
            out.push((inst.pos, what));
        }
        if let Terminator::Exit(ExitKind::SelfDestruct, _) = data.term {
            out.push((data.term_pos, "selfdestruct"));
        }
    }
    out
}

/// The sites of `f` whose lowering can end in a target limit, with EVM
/// memory bounded at `memory_limit` bytes.
fn limit_sites(f: &Function, memory_limit: u64) -> Vec<LimitSite> {
    let consts: HashMap<Value, U256> = f
        .layout
        .iter()
        .flat_map(|b| &f.block(*b).insts)
        .filter_map(|i| match (&i.op, i.results.first()) {
            (Op::Iconst(c), Some(r)) => Some((*r, *c)),
            _ => None,
        })
        .collect();
    let known = |v: &Value| consts.get(v).and_then(|c| u64::try_from(*c).ok());
    let mut sites = BTreeSet::new();
    let mut add = |pos: SourcePos, exit: u64| {
        sites.insert(LimitSite { pos, exit });
    };
    for b in &f.layout {
        let data = f.block(*b);
        for inst in &data.insts {
            let a = &inst.args;
            match inst.op {
                Op::Host(HostOp::SStore) => add(inst.pos, exit::STORAGE_FULL),
                Op::Host(HostOp::TStore) => add(inst.pos, exit::TRANSIENT_FULL),
                Op::Host(HostOp::ExtCodeSize) => add(inst.pos, exit::CALL_INTO_CODE),
                Op::Host(HostOp::ExtCodeCopy) => {
                    add(inst.pos, exit::CALL_INTO_CODE);
                    // In a bundle, of a created contract.
                    add(inst.pos, exit::TEMPLATE_CODE);
                }
                Op::Host(HostOp::Call(kind)) => {
                    // The precompiles the program runs itself (ecrecover,
                    // sha256) at a constant address without value.
                    let valued = matches!(kind, CallKind::Call | CallKind::CallCode);
                    let value = if valued {
                        a.get(2).and_then(known)
                    } else {
                        Some(0)
                    };
                    if matches!(kind, CallKind::Call | CallKind::StaticCall)
                        && matches!(a.get(1).and_then(known), Some(1 | 2))
                        && value == Some(0)
                    {
                        continue;
                    }
                    add(inst.pos, exit::CALL_INTO_CODE);
                    if value != Some(0) {
                        add(inst.pos, exit::VALUE_NOT_LAMPORTS);
                        if kind == CallKind::Call {
                            add(inst.pos, exit::RECIPIENT_RENT);
                        }
                    }
                }
                Op::MemExpand => {
                    let end = match (known(&a[0]), known(&a[1])) {
                        (_, Some(0)) => Some(0),
                        (Some(o), Some(l)) => o.checked_add(l),
                        _ => None,
                    };
                    if end.is_none_or(|e| e > memory_limit) {
                        add(inst.pos, exit::MEMORY_LIMIT);
                    }
                }
                Op::Host(HostOp::Create | HostOp::Create2) => {
                    // In a bundle (elsewhere creation has no mapping).
                    add(inst.pos, exit::CREATE_UNKNOWN);
                    add(inst.pos, exit::CREATED_CODE);
                    add(inst.pos, exit::CREATE_RENT);
                    if a.first().and_then(known) != Some(0) {
                        add(inst.pos, exit::VALUE_NOT_LAMPORTS);
                    }
                }
                Op::StackLoad | Op::StackStore => add(inst.pos, exit::STACK_LIMIT),
                Op::MemGrow => add(inst.pos, exit::MEMORY_LIMIT),
                _ => {}
            }
        }
        match &data.term {
            Terminator::Exit(ExitKind::Return | ExitKind::Revert, args)
                if args.get(1).and_then(known).is_none_or(|len| len > 1024) =>
            {
                add(data.term_pos, exit::RETURN_TOO_LARGE)
            }
            Terminator::Trap(TrapCode::OutOfMemory) => add(data.term_pos, exit::MEMORY_LIMIT),
            Terminator::Exit(ExitKind::SelfDestruct, _) => {
                add(data.term_pos, exit::CALL_INTO_CODE);
                add(data.term_pos, exit::RECIPIENT_RENT);
            }
            _ => {}
        }
    }
    sites.into_iter().collect()
}
