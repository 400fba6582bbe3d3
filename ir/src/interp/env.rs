//! What host operations, memory copies and exits do to a run's state: the
//! one definition the interpreter uses and compiled code calls back into
//! (the native engine), so both have the same semantics by construction.

use super::{Host, Outcome};
use crate::inst::{CallKind, ExitKind, HostOp, SourcePos, TrapCode};
use alloy_primitives::{U256, keccak256};
use std::ops::Range;

type Flow<T> = Result<T, Outcome>;

fn trap<T>(code: TrapCode, pos: SourcePos) -> Flow<T> {
    Err(Outcome::Trap { code, pos })
}

fn to_usize(v: U256) -> Option<usize> {
    usize::try_from(v).ok()
}

/// The range `[offset, offset + len)` of a memory of `size` bytes, or a
/// trap `out_of_bounds`; a zero-length range touches nothing, wherever it
/// points.
pub fn range(size: usize, offset: U256, len: U256, pos: SourcePos) -> Flow<Range<usize>> {
    if len.is_zero() {
        return Ok(0..0);
    }
    let (Some(o), Some(l)) = (to_usize(offset), to_usize(len)) else {
        return trap(TrapCode::OutOfBounds, pos);
    };
    match o.checked_add(l) {
        Some(end) if end <= size => Ok(o..end),
        _ => trap(TrapCode::OutOfBounds, pos),
    }
}

/// A run's state as host operations see it: linear memory at its current
/// size, the last call's return data, and the steps taken against the
/// budget (copies cost a step per 32 bytes).
pub struct Env<'a> {
    /// Linear memory, exactly as long as its current size.
    pub memory: &'a mut [u8],
    /// Return data of the last external call.
    pub return_data: &'a mut Vec<u8>,
    /// Steps taken so far.
    pub steps: &'a mut u64,
    /// Steps allowed.
    pub budget: u64,
}

impl Env<'_> {
    fn tick(&mut self, n: u64, pos: SourcePos) -> Flow<()> {
        *self.steps = self.steps.saturating_add(n);
        if *self.steps > self.budget {
            return Err(Outcome::OutOfBudget { pos });
        }
        Ok(())
    }

    fn range(&self, offset: U256, len: U256, pos: SourcePos) -> Flow<Range<usize>> {
        range(self.memory.len(), offset, len, pos)
    }

    fn read(&self, offset: U256, len: U256, pos: SourcePos) -> Flow<Vec<u8>> {
        let r = self.range(offset, len, pos)?;
        Ok(self.memory[r].to_vec())
    }

    /// Copies `src[offset..offset+len]` (zero past its end) into memory at `dst`.
    fn write_padded(
        &mut self,
        dst: U256,
        src: &[u8],
        offset: U256,
        len: U256,
        pos: SourcePos,
    ) -> Flow<()> {
        let r = self.range(dst, len, pos)?;
        self.tick(r.len() as u64 / 32, pos)?;
        let start = to_usize(offset).unwrap_or(usize::MAX);
        for (i, b) in self.memory[r].iter_mut().enumerate() {
            *b = start
                .checked_add(i)
                .and_then(|p| src.get(p))
                .copied()
                .unwrap_or(0);
        }
        Ok(())
    }

    /// `mem.copy dst, src, len` (overlap allowed).
    pub fn copy(&mut self, dst: U256, src: U256, len: U256, pos: SourcePos) -> Flow<()> {
        let d = self.range(dst, len, pos)?;
        let s = self.range(src, len, pos)?;
        self.tick(s.len() as u64 / 32, pos)?;
        self.memory.copy_within(s, d.start);
        Ok(())
    }

    /// `mem.fill dst, byte, len` with the low byte of `byte`.
    pub fn fill(&mut self, dst: U256, byte: U256, len: U256, pos: SourcePos) -> Flow<()> {
        let d = self.range(dst, len, pos)?;
        self.tick(d.len() as u64 / 32, pos)?;
        self.memory[d].fill(byte.byte(0));
        Ok(())
    }

    /// How `exit.kind args` at `pos` ends the run (`args` are words).
    pub fn exit(
        &mut self,
        host: &mut dyn Host,
        kind: ExitKind,
        args: &[U256],
        pos: SourcePos,
    ) -> Outcome {
        host.at(pos, self.memory, *self.steps);
        let arg = |i: usize| args.get(i).copied().unwrap_or_default();
        match kind {
            ExitKind::Stop => Outcome::Stop,
            ExitKind::Return | ExitKind::Revert => match self.range(arg(0), arg(1), pos) {
                Ok(r) if kind == ExitKind::Return => Outcome::Return(self.memory[r].to_vec()),
                Ok(r) => Outcome::Revert(self.memory[r].to_vec()),
                Err(trap) => trap,
            },
            ExitKind::SelfDestruct if host.is_static() => Outcome::Trap {
                code: TrapCode::StaticViolation,
                pos,
            },
            ExitKind::SelfDestruct => Outcome::SelfDestruct(arg(0)),
        }
    }

    /// Performs host operation `op` on its word operands `a` at `pos`:
    /// its result word, if it has one, or how the run ends (a trap).
    pub fn host(
        &mut self,
        host: &mut dyn Host,
        op: HostOp,
        a: &[U256],
        pos: SourcePos,
    ) -> Flow<Option<U256>> {
        host.at(pos, self.memory, *self.steps);
        let arg = |i: usize| a.get(i).copied().unwrap_or_default();
        if op.writes_state() && host.is_static() {
            return trap(TrapCode::StaticViolation, pos);
        }
        let word = |bytes: &[u8], offset: U256| -> U256 {
            let mut w = [0u8; 32];
            if let Some(start) = to_usize(offset) {
                for (i, b) in w.iter_mut().enumerate() {
                    *b = start
                        .checked_add(i)
                        .and_then(|p| bytes.get(p))
                        .copied()
                        .unwrap_or(0);
                }
            }
            U256::from_be_bytes(w)
        };
        Ok(Some(match op {
            HostOp::SLoad => host.sload(arg(0)),
            HostOp::SStore => {
                host.sstore(arg(0), arg(1));
                return Ok(None);
            }
            HostOp::TLoad => host.tload(arg(0)),
            HostOp::TStore => {
                host.tstore(arg(0), arg(1));
                return Ok(None);
            }
            HostOp::CallDataLoad => word(host.calldata(), arg(0)),
            HostOp::CallDataSize => U256::from(host.calldata().len()),
            HostOp::CallDataCopy => {
                let data = host.calldata().to_vec();
                self.write_padded(arg(0), &data, arg(1), arg(2), pos)?;
                return Ok(None);
            }
            HostOp::ReturnDataSize => U256::from(self.return_data.len()),
            HostOp::ReturnDataCopy => {
                let end = arg(1).checked_add(arg(2));
                if end.is_none_or(|e| e > U256::from(self.return_data.len())) {
                    return trap(TrapCode::ReturnDataOutOfBounds, pos);
                }
                let data = std::mem::take(self.return_data);
                let r = self.write_padded(arg(0), &data, arg(1), arg(2), pos);
                *self.return_data = data;
                r?;
                return Ok(None);
            }
            HostOp::CodeSize => U256::from(host.code().len()),
            HostOp::CodeCopy => {
                let code = host.code().to_vec();
                self.write_padded(arg(0), &code, arg(1), arg(2), pos)?;
                return Ok(None);
            }
            HostOp::ExtCodeSize => U256::from(host.ext_code(arg(0)).len()),
            HostOp::ExtCodeCopy => {
                let code = host.ext_code(arg(0));
                self.write_padded(arg(1), &code, arg(2), arg(3), pos)?;
                return Ok(None);
            }
            HostOp::ExtCodeHash => host.ext_code_hash(arg(0)),
            HostOp::Balance => host.balance(arg(0)),
            HostOp::BlobHash => host.blob_hash(arg(0)),
            HostOp::BlockHash => host.block_hash(arg(0)),
            HostOp::Log(n) => {
                let data = self.read(arg(0), arg(1), pos)?;
                let topics: Vec<U256> = (0..n as usize).map(|i| arg(2 + i)).collect();
                host.log(&topics, &data);
                return Ok(None);
            }
            HostOp::Keccak256 => {
                let r = self.range(arg(0), arg(1), pos)?;
                self.tick(r.len() as u64 / 32, pos)?;
                U256::from_be_bytes(keccak256(&self.memory[r]).0)
            }
            HostOp::Call(kind) => {
                let (value, rest) = match kind {
                    CallKind::Call | CallKind::CallCode => (arg(2), 3),
                    _ => (U256::ZERO, 2),
                };
                if kind == CallKind::Call && !value.is_zero() && host.is_static() {
                    return trap(TrapCode::StaticViolation, pos);
                }
                let input = self.read(arg(rest), arg(rest + 1), pos)?;
                let out = self.range(arg(rest + 2), arg(rest + 3), pos)?;
                let (ok, output) = host.call(kind, arg(0), arg(1), value, &input);
                let n = out.len().min(output.len());
                self.memory[out.start..out.start + n].copy_from_slice(&output[..n]);
                *self.return_data = output;
                U256::from(ok as u8)
            }
            HostOp::Create | HostOp::Create2 => {
                if let Some(max) = host.max_init_code()
                    && arg(2) > U256::from(max)
                {
                    return trap(TrapCode::InitCodeTooLarge, pos);
                }
                let code = self.read(arg(1), arg(2), pos)?;
                let salt = (op == HostOp::Create2).then(|| arg(3));
                let (address, output) = host.create(arg(0), &code, salt);
                *self.return_data = output;
                address
            }
            env => host.env(env),
        }))
    }
}
