//! The text format, printing side. See [`crate::parse`] for the grammar;
//! `parse(print(m)) == m` for every compacted module.

use crate::entities::Value;
use crate::function::{BlockCall, Function, Module, Terminator};
use crate::inst::{Op, SourcePos};
use crate::types::Type;
use std::fmt::Write;

/// The suffix naming the result type, for operations whose result type the
/// operation alone does not fix.
pub(crate) fn result_suffix(op: &Op) -> bool {
    matches!(
        op,
        Op::Iconst(_)
            | Op::Binary(_)
            | Op::Not
            | Op::Select
            | Op::Uext
            | Op::Sext
            | Op::Trunc
            | Op::Clz
            | Op::MemSize
            | Op::MemGrow
            | Op::StackLoad
    )
}

/// The operation's name as printed (without result-type suffix).
pub fn op_name(op: &Op) -> String {
    match op {
        Op::Iconst(_) => "iconst".into(),
        Op::Binary(b) => b.name().into(),
        Op::Not => "not".into(),
        Op::Icmp(c) => format!("icmp.{}", c.name()),
        Op::Select => "select".into(),
        Op::Uext => "uext".into(),
        Op::Sext => "sext".into(),
        Op::Trunc => "trunc".into(),
        Op::AddMod => "addmod".into(),
        Op::MulMod => "mulmod".into(),
        Op::Exp => "exp".into(),
        Op::SignExtend => "signextend".into(),
        Op::Byte => "byte".into(),
        Op::Clz => "clz".into(),
        Op::Load(t, e) => format!("load.{}.{}", t.name(), e.name()),
        Op::Store(t, e) => format!("store.{}.{}", t.name(), e.name()),
        Op::MemCopy => "mem.copy".into(),
        Op::MemFill => "mem.fill".into(),
        Op::MemSize => "mem.size".into(),
        Op::MemGrow => "mem.grow".into(),
        Op::MemExpand => "mem.expand".into(),
        Op::StackLoad => "stack.load".into(),
        Op::StackStore => "stack.store".into(),
        Op::Host(h) => format!("host.{}", h.name()),
        Op::Call(_) => "call".into(),
        Op::CallIndirect(t) => format!("call_indirect.{t}"),
    }
}

fn values(vs: &[Value]) -> String {
    vs.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn block_call(f: &Function, c: &BlockCall) -> String {
    let _ = f;
    if c.args.is_empty() {
        c.block.to_string()
    } else {
        format!("{}({})", c.block, values(&c.args))
    }
}

fn types(ts: &[Type]) -> String {
    ts.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
}

fn pos(p: SourcePos) -> String {
    match p {
        SourcePos::None => String::new(),
        other => format!(" {other}"),
    }
}

/// Prints one function.
pub fn print_function(f: &Function) -> String {
    let mut out = String::new();
    let returns = if f.returns.is_empty() {
        String::new()
    } else {
        format!(" -> {}", types(&f.returns))
    };
    let _ = writeln!(
        out,
        "function %{}({}){} {{",
        f.name,
        types(&f.params),
        returns
    );
    for b in &f.layout {
        let data = f.block(*b);
        if data.params.is_empty() {
            let _ = writeln!(out, "{b}:");
        } else {
            let params: Vec<String> = data
                .params
                .iter()
                .map(|p| format!("{p}: {}", f.ty(*p)))
                .collect();
            let _ = writeln!(out, "{b}({}):", params.join(", "));
        }
        for inst in &data.insts {
            out.push_str("    ");
            if !inst.results.is_empty() {
                let annotated = matches!(inst.op, Op::CallIndirect(_));
                let rs: Vec<String> = inst
                    .results
                    .iter()
                    .map(|r| {
                        if annotated {
                            format!("{r}: {}", f.ty(*r))
                        } else {
                            r.to_string()
                        }
                    })
                    .collect();
                let _ = write!(out, "{} = ", rs.join(", "));
            }
            out.push_str(&op_name(&inst.op));
            if result_suffix(&inst.op)
                && let Some(r) = inst.results.first()
            {
                let _ = write!(out, ".{}", f.ty(*r));
            }
            match &inst.op {
                Op::Iconst(c) => {
                    let _ = write!(out, " {c:#x}");
                }
                Op::Call(callee) => {
                    let _ = write!(out, " {callee}");
                    if !inst.args.is_empty() {
                        let _ = write!(out, ", {}", values(&inst.args));
                    }
                }
                _ => {
                    if !inst.args.is_empty() {
                        let _ = write!(out, " {}", values(&inst.args));
                    }
                }
            }
            out.push_str(&pos(inst.pos));
            out.push('\n');
        }
        out.push_str("    ");
        match &data.term {
            Terminator::Jump(c) => {
                let _ = write!(out, "jump {}", block_call(f, c));
            }
            Terminator::Branch {
                cond,
                then_to,
                else_to,
            } => {
                let _ = write!(
                    out,
                    "brif {cond}, {}, {}",
                    block_call(f, then_to),
                    block_call(f, else_to)
                );
            }
            Terminator::Switch {
                value,
                cases,
                default,
            } => {
                let cs: Vec<String> = cases
                    .iter()
                    .map(|(k, c)| format!("{k:#x}: {}", block_call(f, c)))
                    .collect();
                let _ = write!(
                    out,
                    "switch {value}, [{}], {}",
                    cs.join(", "),
                    block_call(f, default)
                );
            }
            Terminator::Return(vs) => {
                out.push_str("return");
                if !vs.is_empty() {
                    let _ = write!(out, " {}", values(vs));
                }
            }
            Terminator::Exit(kind, vs) => {
                let _ = write!(out, "exit.{}", kind.name());
                if !vs.is_empty() {
                    let _ = write!(out, " {}", values(vs));
                }
            }
            Terminator::Trap(code) => {
                let _ = write!(out, "trap {code}");
            }
        }
        out.push_str(&pos(data.term_pos));
        out.push('\n');
    }
    out.push_str("}\n");
    out
}

/// Prints a module: its tables, then its functions.
pub fn print_module(m: &Module) -> String {
    let mut out = String::new();
    if !m.code.is_empty() {
        let _ = writeln!(out, "code = 0x{}\n", alloy_primitives::hex::encode(&m.code));
    }
    for (i, t) in m.tables.iter().enumerate() {
        let entries: Vec<String> = t
            .entries
            .iter()
            .map(|e| e.map_or("none".to_string(), |f| f.to_string()))
            .collect();
        let _ = writeln!(out, "table{i} = [{}]", entries.join(", "));
    }
    if !m.tables.is_empty() {
        out.push('\n');
    }
    for (i, f) in m.functions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&print_function(f));
    }
    out
}
