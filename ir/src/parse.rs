//! The text format, parsing side.
//!
//! ```text
//! module    := ("code" "=" 0xHEX)? (table | function)*
//! table     := "table" N "=" "[" (fnN | "none") ("," ...)* "]"
//! function  := "function" "%" name "(" types ")" ("->" types)? "{" block* "}"
//! block     := blockN ("(" vN ":" type ("," ...)* ")")? ":" inst* terminator
//! inst      := (results "=")? op operands? pos?
//! results   := vN ("," vN)*            (call_indirect: vN ":" type, ...)
//! op        := name ("." part)*        e.g. add.i256, icmp.ult, load.i64.le, host.sload
//! operands  := value ("," value)*      (iconst: a constant; call: fnN first)
//! terminator:= jump call | brif v, call, call | switch v, "[" (c ":" call),* "]", call
//!            | return vs | exit.kind vs | trap code
//! call      := blockN ("(" values ")")?
//! pos       := "@" hex (an EVM pc) | "@wasm:" hex
//! ```
//!
//! `;` starts a comment that runs to the end of the line. Functions are
//! numbered `fn0`, `fn1`, … in the order they appear.

use crate::entities::{Block, FuncId, Value};
use crate::function::{BlockCall, BlockData, Function, Inst, Module, Table, Terminator};
use crate::inst::{BinOp, Cond, Endian, ExitKind, HostOp, Op, SourcePos, TrapCode};
use crate::types::Type;
use alloy_primitives::U256;

/// A syntax error, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        message: message.into(),
    })
}

fn strip_comment(line: &str) -> &str {
    line.split(';').next().unwrap_or("").trim()
}

fn entity(s: &str, prefix: &str, line: usize) -> Result<usize, ParseError> {
    s.strip_prefix(prefix)
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n < 1 << 24)
        .map_or_else(|| err(line, format!("expected {prefix}N, found `{s}`")), Ok)
}

fn parse_type(s: &str, line: usize) -> Result<Type, ParseError> {
    Type::from_name(s.trim()).map_or_else(|| err(line, format!("unknown type `{s}`")), Ok)
}

fn parse_types(s: &str, line: usize) -> Result<Vec<Type>, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(vec![]);
    }
    s.split(',').map(|t| parse_type(t, line)).collect()
}

fn parse_const(s: &str, line: usize) -> Result<U256, ParseError> {
    let s = s.trim();
    let parsed = if let Some(hex) = s.strip_prefix("0x") {
        U256::from_str_radix(hex, 16).ok()
    } else if let Some(neg) = s.strip_prefix('-') {
        U256::from_str_radix(neg, 10)
            .ok()
            .map(|v| U256::ZERO.wrapping_sub(v))
    } else {
        U256::from_str_radix(s, 10).ok()
    };
    parsed.map_or_else(|| err(line, format!("bad constant `{s}`")), Ok)
}

/// Splits `text` at top-level commas (not inside parentheses or brackets).
fn split_top(text: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

struct FnParser<'a> {
    f: Function,
    defined: Vec<bool>,
    block_seen: Vec<bool>,
    sigs: &'a [(Vec<Type>, Vec<Type>)],
}

impl FnParser<'_> {
    fn value(&mut self, s: &str, line: usize) -> Result<Value, ParseError> {
        let i = entity(s.trim(), "v", line)?;
        if i >= self.f.values.len() {
            self.f.values.resize(i + 1, Type::I256);
            self.defined.resize(i + 1, false);
        }
        Ok(Value::new(i))
    }

    fn define(&mut self, s: &str, ty: Type, line: usize) -> Result<Value, ParseError> {
        let v = self.value(s, line)?;
        if self.defined[v.index()] {
            return err(line, format!("{v} is defined twice"));
        }
        self.defined[v.index()] = true;
        self.f.values[v.index()] = ty;
        Ok(v)
    }

    fn block(&mut self, s: &str, line: usize) -> Result<Block, ParseError> {
        let i = entity(s.trim(), "block", line)?;
        while self.f.blocks.len() <= i {
            self.f.blocks.push(BlockData {
                params: vec![],
                insts: vec![],
                term: Terminator::Trap(TrapCode::Unreachable),
                term_pos: SourcePos::None,
            });
            self.block_seen.push(false);
        }
        Ok(Block::new(i))
    }

    fn block_call(&mut self, s: &str, line: usize) -> Result<BlockCall, ParseError> {
        let s = s.trim();
        match s.find('(') {
            None => Ok(BlockCall::new(self.block(s, line)?)),
            Some(open) => {
                let inner = s[open + 1..].strip_suffix(')').ok_or(ParseError {
                    line,
                    message: "missing `)`".into(),
                })?;
                let block = self.block(&s[..open], line)?;
                let args = split_top(inner)
                    .into_iter()
                    .map(|a| self.value(a, line))
                    .collect::<Result<_, _>>()?;
                Ok(BlockCall { block, args })
            }
        }
    }
}

fn parse_pos(s: &str, line: usize) -> Result<SourcePos, ParseError> {
    let (body, wasm) = match s.strip_prefix("@wasm:") {
        Some(b) => (b, true),
        None => (s.strip_prefix('@').unwrap_or(s), false),
    };
    let n = body
        .strip_prefix("0x")
        .and_then(|h| u32::from_str_radix(h, 16).ok());
    match n {
        Some(n) if wasm => Ok(SourcePos::Wasm(n)),
        Some(n) => Ok(SourcePos::Evm(n)),
        None => err(line, format!("bad source position `{s}`")),
    }
}

/// Parses a module.
pub fn parse_module(text: &str) -> Result<Module, ParseError> {
    // Pass 1: function signatures, so calls can be typed before their callee.
    let mut sigs = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw);
        if line.starts_with("function") {
            let (params, returns) = header(line, n + 1)?.1;
            sigs.push((params, returns));
        }
    }
    let mut module = Module {
        functions: vec![],
        tables: vec![],
        code: vec![],
    };
    let mut current: Option<FnParser> = None;
    let mut block: Option<Block> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = strip_comment(raw);
        if line.is_empty() {
            continue;
        }
        if current.is_none() {
            if let Some(hex) = line
                .strip_prefix("code")
                .and_then(|r| r.trim_start().strip_prefix('='))
            {
                let hex = hex.trim();
                let digits = hex.strip_prefix("0x").unwrap_or(hex);
                module.code = alloy_primitives::hex::decode(digits).map_err(|e| ParseError {
                    line: line_no,
                    message: format!("bad code hex: {e}"),
                })?;
                continue;
            }
            if line.starts_with("table") {
                let (lhs, rhs) = line.split_once('=').ok_or(ParseError {
                    line: line_no,
                    message: "expected `=`".into(),
                })?;
                let index = entity(lhs.trim(), "table", line_no)?;
                if index != module.tables.len() {
                    return err(line_no, format!("expected table{}", module.tables.len()));
                }
                let inner = rhs
                    .trim()
                    .strip_prefix('[')
                    .and_then(|r| r.strip_suffix(']'));
                let inner = inner.ok_or(ParseError {
                    line: line_no,
                    message: "expected `[...]`".into(),
                })?;
                let entries = split_top(inner)
                    .into_iter()
                    .map(|e| {
                        if e == "none" {
                            Ok(None)
                        } else {
                            entity(e, "fn", line_no).map(|i| Some(FuncId::new(i)))
                        }
                    })
                    .collect::<Result<_, _>>()?;
                module.tables.push(Table { entries });
                continue;
            }
            if line.starts_with("function") {
                let (name, (params, returns)) = header(line, line_no)?;
                current = Some(FnParser {
                    f: Function::new(name, params, returns),
                    defined: vec![],
                    block_seen: vec![],
                    sigs: &sigs,
                });
                block = None;
                continue;
            }
            return err(
                line_no,
                format!("expected `function` or `table`, found `{line}`"),
            );
        }
        let p = current.as_mut().expect("inside a function");
        if line == "}" {
            let mut done = current.take().expect("function");
            if let Some(i) = done.defined.iter().position(|d| !d) {
                return err(
                    line_no,
                    format!("v{i} is used but never defined in %{}", done.f.name),
                );
            }
            if let Some(i) = done.block_seen.iter().position(|s| !s) {
                return err(
                    line_no,
                    format!(
                        "block{i} is referenced but never defined in %{}",
                        done.f.name
                    ),
                );
            }
            done.f.layout.dedup();
            module.functions.push(done.f);
            continue;
        }
        if line.starts_with("block") && line.ends_with(':') {
            let head = &line[..line.len() - 1];
            let (name, params) = match head.find('(') {
                Some(open) => (
                    &head[..open],
                    head[open + 1..].strip_suffix(')').unwrap_or(""),
                ),
                None => (head, ""),
            };
            let b = p.block(name, line_no)?;
            if p.block_seen[b.index()] {
                return err(line_no, format!("{b} is defined twice"));
            }
            p.block_seen[b.index()] = true;
            for param in split_top(params) {
                let (v, t) = param.split_once(':').ok_or(ParseError {
                    line: line_no,
                    message: format!("expected `vN: type`, found `{param}`"),
                })?;
                let ty = parse_type(t, line_no)?;
                let v = p.define(v, ty, line_no)?;
                p.f.blocks[b.index()].params.push(v);
            }
            p.f.layout.push(b);
            block = Some(b);
            continue;
        }
        let Some(b) = block else {
            return err(line_no, "instruction outside a block");
        };
        // Source position: the last token when it starts with '@'.
        let (body, pos) = match line.rfind(" @") {
            Some(i) => (line[..i].trim(), parse_pos(line[i + 1..].trim(), line_no)?),
            None => (line, SourcePos::None),
        };
        if let Some(term) = terminator(p, body, line_no)? {
            let data = &mut p.f.blocks[b.index()];
            data.term = term;
            data.term_pos = pos;
            block = None;
            continue;
        }
        let inst = instruction(p, body, pos, line_no)?;
        p.f.blocks[b.index()].insts.push(inst);
    }
    if current.is_some() {
        return err(text.lines().count(), "missing `}` at the end of a function");
    }
    Ok(module)
}

type Header = (String, (Vec<Type>, Vec<Type>));

fn header(line: &str, line_no: usize) -> Result<Header, ParseError> {
    let rest = line.strip_prefix("function").unwrap_or(line).trim();
    let rest = rest
        .strip_suffix('{')
        .ok_or(ParseError {
            line: line_no,
            message: "expected `{` at the end of the function header".into(),
        })?
        .trim();
    let rest = rest.strip_prefix('%').ok_or(ParseError {
        line: line_no,
        message: "expected `%name`".into(),
    })?;
    let open = rest.find('(').ok_or(ParseError {
        line: line_no,
        message: "expected `(`".into(),
    })?;
    let close = rest.find(')').ok_or(ParseError {
        line: line_no,
        message: "expected `)`".into(),
    })?;
    if close < open {
        return err(line_no, "bad parameter list");
    }
    let name = rest[..open].trim().to_string();
    let params = parse_types(&rest[open + 1..close], line_no)?;
    let after = rest[close + 1..].trim();
    let returns = match after.strip_prefix("->") {
        Some(r) => parse_types(r, line_no)?,
        None if after.is_empty() => vec![],
        None => return err(line_no, format!("unexpected `{after}`")),
    };
    Ok((name, (params, returns)))
}

fn terminator(p: &mut FnParser, body: &str, line: usize) -> Result<Option<Terminator>, ParseError> {
    let (word, rest) = body
        .split_once(' ')
        .map_or((body, ""), |(w, r)| (w, r.trim()));
    let args = split_top(rest);
    let term = match word {
        "jump" => Terminator::Jump(p.block_call(rest, line)?),
        "brif" => {
            if args.len() != 3 {
                return err(line, "brif takes a condition and two targets");
            }
            Terminator::Branch {
                cond: p.value(args[0], line)?,
                then_to: p.block_call(args[1], line)?,
                else_to: p.block_call(args[2], line)?,
            }
        }
        "switch" => {
            if args.len() != 3 {
                return err(line, "switch takes a value, [cases] and a default target");
            }
            let value = p.value(args[0], line)?;
            let inner = args[1]
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .ok_or(ParseError {
                    line,
                    message: "expected `[cases]`".into(),
                })?;
            let mut cases = vec![];
            for case in split_top(inner) {
                let (k, c) = case.split_once(':').ok_or(ParseError {
                    line,
                    message: format!("expected `const: target`, found `{case}`"),
                })?;
                cases.push((parse_const(k, line)?, p.block_call(c, line)?));
            }
            Terminator::Switch {
                value,
                cases,
                default: p.block_call(args[2], line)?,
            }
        }
        "return" => Terminator::Return(
            args.iter()
                .map(|a| p.value(a, line))
                .collect::<Result<_, _>>()?,
        ),
        "trap" => Terminator::Trap(TrapCode::from_name(rest).ok_or(ParseError {
            line,
            message: format!("unknown trap code `{rest}`"),
        })?),
        w if w.starts_with("exit.") => {
            let kind = ExitKind::ALL
                .into_iter()
                .find(|k| k.name() == &w[5..])
                .ok_or(ParseError {
                    line,
                    message: format!("unknown exit `{w}`"),
                })?;
            Terminator::Exit(
                kind,
                args.iter()
                    .map(|a| p.value(a, line))
                    .collect::<Result<_, _>>()?,
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(term))
}

fn instruction(
    p: &mut FnParser,
    body: &str,
    pos: SourcePos,
    line: usize,
) -> Result<Inst, ParseError> {
    let (lhs, rhs) = match body.split_once(" = ") {
        Some((l, r)) => (Some(l.trim()), r.trim()),
        None => (None, body),
    };
    let (name, rest) = rhs
        .split_once(' ')
        .map_or((rhs, ""), |(n, r)| (n, r.trim()));
    let parts: Vec<&str> = name.split('.').collect();
    let suffix_type = |i: usize| -> Result<Type, ParseError> {
        parts.get(i).map_or_else(
            || err(line, format!("`{name}` needs a result type suffix")),
            |t| parse_type(t, line),
        )
    };
    let endian = |s: Option<&&str>| match s.copied() {
        Some("be") => Ok(Endian::Big),
        Some("le") => Ok(Endian::Little),
        _ => err(line, format!("`{name}` needs `.be` or `.le`")),
    };
    // (operation, result types or None for annotated results)
    let (op, result_types): (Op, Option<Vec<Type>>) = match parts[0] {
        "iconst" => {
            // Constants are canonical: truncated to their type.
            let t = suffix_type(1)?;
            (
                Op::Iconst(parse_const(rest, line)? & crate::interp::mask(t)),
                Some(vec![t]),
            )
        }
        "not" => (Op::Not, Some(vec![suffix_type(1)?])),
        "select" => (Op::Select, Some(vec![suffix_type(1)?])),
        "uext" => (Op::Uext, Some(vec![suffix_type(1)?])),
        "sext" => (Op::Sext, Some(vec![suffix_type(1)?])),
        "trunc" => (Op::Trunc, Some(vec![suffix_type(1)?])),
        "clz" => (Op::Clz, Some(vec![suffix_type(1)?])),
        "icmp" => {
            let c = parts
                .get(1)
                .and_then(|c| Cond::ALL.into_iter().find(|k| k.name() == *c));
            (
                Op::Icmp(c.ok_or(ParseError {
                    line,
                    message: format!("unknown condition in `{name}`"),
                })?),
                Some(vec![Type::I1]),
            )
        }
        "addmod" => (Op::AddMod, Some(vec![Type::I256])),
        "mulmod" => (Op::MulMod, Some(vec![Type::I256])),
        "exp" => (Op::Exp, Some(vec![Type::I256])),
        "signextend" => (Op::SignExtend, Some(vec![Type::I256])),
        "byte" => (Op::Byte, Some(vec![Type::I256])),
        "load" => {
            let t = suffix_type(1)?;
            (Op::Load(t, endian(parts.get(2))?), Some(vec![t]))
        }
        "store" => (
            Op::Store(suffix_type(1)?, endian(parts.get(2))?),
            Some(vec![]),
        ),
        "mem" => match parts.get(1).copied() {
            Some("copy") => (Op::MemCopy, Some(vec![])),
            Some("fill") => (Op::MemFill, Some(vec![])),
            Some("expand") => (Op::MemExpand, Some(vec![])),
            Some("size") => (Op::MemSize, Some(vec![suffix_type(2)?])),
            Some("grow") => (Op::MemGrow, Some(vec![suffix_type(2)?])),
            _ => return err(line, format!("unknown memory operation `{name}`")),
        },
        "stack" => match parts.get(1).copied() {
            Some("load") => (Op::StackLoad, Some(vec![suffix_type(2)?])),
            Some("store") => (Op::StackStore, Some(vec![])),
            _ => return err(line, format!("unknown stack operation `{name}`")),
        },
        "host" => {
            let h = parts
                .get(1)
                .and_then(|n| HostOp::from_name(n))
                .ok_or(ParseError {
                    line,
                    message: format!("unknown host operation `{name}`"),
                })?;
            // Four named results per word: the legalized limb form.
            let r = h.arity().1;
            let named = lhs.map_or(0, |l| split_top(l).len());
            let ty = if r > 0 && named == 4 * r {
                vec![Type::I64; named]
            } else {
                vec![Type::I256; r]
            };
            (Op::Host(h), Some(ty))
        }
        "call" => {
            let (callee, _) = rest
                .split_once(',')
                .map_or((rest, ""), |(c, r)| (c.trim(), r));
            let id = entity(callee, "fn", line)?;
            let sig = p.sigs.get(id).ok_or(ParseError {
                line,
                message: format!("call to undefined fn{id}"),
            })?;
            (Op::Call(FuncId::new(id)), Some(sig.1.clone()))
        }
        "call_indirect" => {
            let t = parts
                .get(1)
                .and_then(|t| t.parse::<u32>().ok())
                .ok_or(ParseError {
                    line,
                    message: "expected call_indirect.N".into(),
                })?;
            (Op::CallIndirect(t), None)
        }
        other => match BinOp::ALL.into_iter().find(|b| b.name() == other) {
            Some(b) => (Op::Binary(b), Some(vec![suffix_type(1)?])),
            None => return err(line, format!("unknown operation `{name}`")),
        },
    };
    let arg_text = match op {
        Op::Iconst(_) => "",
        Op::Call(_) => rest.split_once(',').map_or("", |(_, r)| r),
        _ => rest,
    };
    let args = split_top(arg_text)
        .into_iter()
        .map(|a| p.value(a, line))
        .collect::<Result<Vec<_>, _>>()?;
    let lhs_items: Vec<&str> = lhs.map(split_top).unwrap_or_default();
    let mut results = vec![];
    match result_types {
        Some(types) => {
            if lhs_items.len() != types.len() {
                return err(
                    line,
                    format!(
                        "`{name}` has {} result(s), {} named",
                        types.len(),
                        lhs_items.len()
                    ),
                );
            }
            for (r, t) in lhs_items.iter().zip(types) {
                results.push(p.define(r, t, line)?);
            }
        }
        None => {
            for r in lhs_items {
                let (v, t) = r.split_once(':').ok_or(ParseError {
                    line,
                    message: format!("expected `vN: type`, found `{r}`"),
                })?;
                let ty = parse_type(t, line)?;
                results.push(p.define(v, ty, line)?);
            }
        }
    }
    Ok(Inst {
        op,
        args,
        results,
        pos,
    })
}
