//! Rendering analyses as text, JSON and Graphviz DOT. The JSON shapes are
//! documented in `docs/json.md`; bump [`SCHEMA_VERSION`] when one changes in a
//! way that breaks readers.

use crate::input::Input;
use chainlift_frontend_evm::cfg::{EdgeKind, Terminator};
use chainlift_frontend_evm::{Analysis, Instruction};
use serde_json::{Value, json};
use std::io::{self, Write};

/// Version of every JSON document the CLI prints.
pub const SCHEMA_VERSION: u32 = 2;

/// Bytes as `0x…` hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    alloy_primitives::hex::encode_prefixed(bytes)
}

fn selector_hex(sel: u32) -> String {
    format!("0x{sel:08x}")
}

pub fn write_json(out: &mut dyn Write, value: &Value) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

fn immediate(a: &Analysis, ins: &Instruction) -> Option<String> {
    (ins.imm_len > 0 || ins.imm_missing > 0).then(|| hex(ins.immediate(&a.bytes)))
}

fn metadata_json(a: &Analysis) -> Value {
    match &a.metadata {
        None => Value::Null,
        Some(m) => json!({
            "offset": m.offset,
            "length": m.length,
            "compiler": m.compiler.as_ref().map(|c| json!({"name": c.name, "version": c.version})),
            "entries": m.entries.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
        }),
    }
}

fn data_section(a: &Analysis) -> Value {
    let end = a.metadata.as_ref().map_or(a.bytes.len(), |m| m.offset);
    if end > a.code_end {
        json!({"offset": a.code_end, "length": end - a.code_end})
    } else {
        Value::Null
    }
}

pub fn disasm_json(a: &Analysis) -> Value {
    let instructions: Vec<Value> = a
        .instructions
        .iter()
        .map(|ins| {
            json!({
                "pc": ins.pc,
                "opcode": ins.opcode,
                "name": ins.name(),
                "immediate": immediate(a, ins),
                "truncated": ins.is_truncated(),
            })
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "fork": a.fork,
        "size": a.bytes.len(),
        "code_size": a.code_end,
        "instructions": instructions,
        "data_section": data_section(a),
        "metadata": metadata_json(a),
    })
}

pub fn disasm_text(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    let width = if a.bytes.len() > 0xffff { 6 } else { 4 };
    for ins in &a.instructions {
        write!(out, "{:0width$x} {}", ins.pc, ins.name())?;
        if let Some(imm) = immediate(a, ins) {
            write!(out, " {imm}")?;
        }
        if ins.is_truncated() {
            write!(
                out,
                " ; truncated: {} of {} bytes present",
                ins.imm_len,
                ins.imm_len + ins.imm_missing
            )?;
        }
        writeln!(out)?;
    }
    let meta_start = a.metadata.as_ref().map_or(a.bytes.len(), |m| m.offset);
    if meta_start > a.code_end {
        writeln!(
            out,
            "{:0width$x} ; data section: {} bytes",
            a.code_end,
            meta_start - a.code_end
        )?;
    }
    if let Some(m) = &a.metadata {
        let compiler = m
            .compiler
            .as_ref()
            .map_or(String::new(), |c| format!(" ({} {})", c.name, c.version));
        writeln!(
            out,
            "{:0width$x} ; metadata: {} bytes{compiler}",
            m.offset, m.length
        )?;
    }
    Ok(())
}

fn terminator_name(t: Terminator) -> &'static str {
    match t {
        Terminator::Jump => "jump",
        Terminator::Branch => "branch",
        Terminator::Halt => "halt",
        Terminator::FallThrough => "fall_through",
    }
}

fn edge_name(k: EdgeKind) -> &'static str {
    match k {
        EdgeKind::FallThrough => "fall_through",
        EdgeKind::Jump => "jump",
        EdgeKind::BranchTaken => "branch_taken",
        EdgeKind::BranchNotTaken => "branch_not_taken",
    }
}

pub fn cfg_json(a: &Analysis) -> Value {
    let cfg = &a.cfg;
    let blocks: Vec<Value> = cfg
        .blocks
        .iter()
        .map(|b| {
            json!({
                "id": b.id,
                "start": b.start,
                "end": b.end,
                "instructions": b.instructions.len(),
                "terminator": terminator_name(b.terminator),
                "reachable": b.reachable,
            })
        })
        .collect();
    let edges: Vec<Value> = cfg
        .edges
        .iter()
        .map(|e| {
            json!({
                "from": e.from,
                "to": e.to,
                "from_pc": cfg.blocks[e.from].start,
                "to_pc": cfg.blocks[e.to].start,
                "kind": edge_name(e.kind),
            })
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "fork": a.fork,
        "blocks": blocks,
        "edges": edges,
        "unresolved_jumps": cfg.unresolved.iter().map(|u| json!({"pc": u.pc, "block": u.block})).collect::<Vec<_>>(),
        "invalid_jumps": cfg.invalid_jumps.iter().map(|j| json!({"pc": j.pc, "target": j.target})).collect::<Vec<_>>(),
        "reached": cfg.reached(),
        "total": cfg.blocks.len(),
        "budget_exhausted": cfg.budget_exhausted,
    })
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub fn cfg_dot(out: &mut dyn Write, a: &Analysis, reachable_only: bool) -> io::Result<()> {
    let cfg = &a.cfg;
    let entries: std::collections::HashMap<u32, u32> = a
        .dispatch
        .selectors
        .iter()
        .map(|s| (s.entry_pc, s.selector))
        .collect();
    writeln!(out, "digraph cfg {{")?;
    writeln!(
        out,
        "  node [shape=box fontname=\"monospace\" fontsize=10];"
    )?;
    writeln!(out, "  edge [fontname=\"monospace\" fontsize=9];")?;
    for b in &cfg.blocks {
        if reachable_only && !b.reachable {
            continue;
        }
        let mut label = String::new();
        if let Some(sel) = entries.get(&b.start) {
            label.push_str(&format!("; function {}\\l", selector_hex(*sel)));
        }
        for ins in &a.instructions[b.instructions.clone()] {
            label.push_str(&format!("{:04x} {}", ins.pc, ins.name()));
            if let Some(imm) = immediate(a, ins) {
                label.push(' ');
                label.push_str(&imm);
            }
            label.push_str("\\l");
        }
        let style = if b.reachable {
            ""
        } else {
            " style=dashed color=gray fontcolor=gray"
        };
        writeln!(
            out,
            "  b{} [label=\"{}\"{style}];",
            b.id,
            dot_escape(&label).replace("\\\\l", "\\l")
        )?;
    }
    for e in &cfg.edges {
        if reachable_only && !(cfg.blocks[e.from].reachable && cfg.blocks[e.to].reachable) {
            continue;
        }
        let attrs = match e.kind {
            EdgeKind::FallThrough => "style=dashed",
            EdgeKind::Jump => "",
            EdgeKind::BranchTaken => "color=darkgreen label=\"T\"",
            EdgeKind::BranchNotTaken => "color=red label=\"F\"",
        };
        writeln!(out, "  b{} -> b{} [{attrs}];", e.from, e.to)?;
    }
    for u in &cfg.unresolved {
        writeln!(
            out,
            "  u{0} [label=\"unresolved jump at {0:#x}\" shape=octagon color=orange];",
            u.pc
        )?;
        writeln!(
            out,
            "  b{} -> u{} [style=dotted color=orange];",
            u.block, u.pc
        )?;
    }
    writeln!(out, "}}")
}

pub fn inspect_json(a: &Analysis, input: &Input) -> Value {
    let selectors: Vec<Value> = a
        .dispatch
        .selectors
        .iter()
        .map(|s| {
            json!({
                "selector": selector_hex(s.selector),
                "entry_pc": s.entry_pc,
                "signature": input.functions.get(&s.selector),
            })
        })
        .collect();
    let features: serde_json::Map<String, Value> = a
        .fork_features()
        .into_iter()
        .map(|(fork, names)| (fork.name().to_string(), json!(names)))
        .collect();
    let abi_only: Vec<String> = input
        .functions
        .keys()
        .filter(|k| !a.dispatch.selectors.iter().any(|s| s.selector == **k))
        .map(|k| selector_hex(*k))
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "contract": input.name,
        "size": a.bytes.len(),
        "code_size": a.code_end,
        "data_section": data_section(a),
        "metadata": metadata_json(a),
        "compiler": a.metadata.as_ref().and_then(|m| m.compiler.as_ref()).map(|c| json!({"name": c.name, "version": c.version})),
        "fork": a.fork,
        "minimum_fork": a.minimum_fork(),
        "fork_features": features,
        "instructions": a.instructions.len(),
        "selectors": selectors,
        "abi_selectors_not_found": if input.functions.is_empty() { Value::Null } else { json!(abi_only) },
        "fallback": a.dispatch.fallback.map(|pc| json!({"entry_pc": pc})),
        "receive": a.dispatch.receive.map(|pc| json!({"entry_pc": pc})),
        "blocks": {"reached": a.cfg.reached(), "total": a.cfg.blocks.len()},
        "unresolved_jumps": a.cfg.unresolved.iter().map(|u| u.pc).collect::<Vec<_>>(),
        "analysis": {
            "cfg_steps": a.cfg.steps,
            "cfg_budget_exhausted": a.cfg.budget_exhausted,
            "dispatch_paths": a.dispatch.paths,
            "dispatch_exhausted": a.dispatch.exhausted,
        },
    })
}

pub fn inspect_text(out: &mut dyn Write, a: &Analysis, input: &Input) -> io::Result<()> {
    if let Some(name) = &input.name {
        writeln!(out, "contract:        {name}")?;
    }
    write!(
        out,
        "size:            {} bytes (code {}",
        a.bytes.len(),
        a.code_end
    )?;
    let meta_start = a.metadata.as_ref().map_or(a.bytes.len(), |m| m.offset);
    if meta_start > a.code_end {
        write!(out, ", data {}", meta_start - a.code_end)?;
    }
    if let Some(m) = &a.metadata {
        write!(out, ", metadata {} at {:#x}", m.length, m.offset)?;
    }
    writeln!(out, ")")?;
    match a.metadata.as_ref().and_then(|m| m.compiler.as_ref()) {
        Some(c) => writeln!(out, "compiler:        {} {}", c.name, c.version)?,
        None => writeln!(out, "compiler:        unknown (no metadata trailer)")?,
    }
    if let Some(m) = &a.metadata {
        for (k, v) in &m.entries {
            writeln!(out, "  {k}: {v}")?;
        }
    }
    let features = a.fork_features();
    let listed: Vec<String> = features
        .iter()
        .filter(|(f, _)| **f >= chainlift_frontend_evm::Fork::Shanghai)
        .map(|(f, names)| format!("{f}: {}", names.join(" ")))
        .collect();
    writeln!(
        out,
        "fork features:   minimum {}{}",
        a.minimum_fork(),
        if listed.is_empty() {
            String::new()
        } else {
            format!(" ({})", listed.join("; "))
        }
    )?;
    writeln!(out, "selectors:       {}", a.dispatch.selectors.len())?;
    for s in &a.dispatch.selectors {
        let sig = input
            .functions
            .get(&s.selector)
            .map_or(String::new(), |sig| format!("  {sig}"));
        writeln!(
            out,
            "  {}  entry {:#06x}{sig}",
            selector_hex(s.selector),
            s.entry_pc
        )?;
    }
    let entry = |e: Option<u32>| e.map_or("none".to_string(), |pc| format!("entry {pc:#06x}"));
    writeln!(out, "fallback:        {}", entry(a.dispatch.fallback))?;
    writeln!(out, "receive:         {}", entry(a.dispatch.receive))?;
    let total = a.cfg.blocks.len();
    let reached = a.cfg.reached();
    let pct = if total == 0 {
        100.0
    } else {
        100.0 * reached as f64 / total as f64
    };
    writeln!(
        out,
        "blocks:          {reached} reached / {total} total ({pct:.1}%)"
    )?;
    if a.cfg.unresolved.is_empty() {
        writeln!(out, "unresolved jumps: none")?;
    } else {
        let pcs: Vec<String> = a
            .cfg
            .unresolved
            .iter()
            .map(|u| format!("{:#x}", u.pc))
            .collect();
        writeln!(out, "unresolved jumps: {} ({})", pcs.len(), pcs.join(", "))?;
    }
    if a.cfg.budget_exhausted || a.dispatch.exhausted {
        writeln!(
            out,
            "note:            analysis budget ran out; results are partial"
        )?;
    }
    Ok(())
}
