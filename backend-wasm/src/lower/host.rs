//! Host operations and exits: each word's four limbs into a big-endian
//! slot, the Stylus hook, the result back into limbs.

use super::FnCx;
use crate::Error;
use crate::abi::{Hook, layout, pos_bits};
use crate::code::{Callee, Ins, mem};
use crate::rt::{Rt, globals};
use chainlift_ir::entities::Value;
use chainlift_ir::inst::{CallKind, ExitKind, HostOp, SourcePos, TrapCode};
use chainlift_ir::types::Type;
use wasm_encoder::{BlockType, Instruction as I, ValType};

impl FnCx<'_, '_> {
    /// Stores the word in limbs `w` (least significant first) at `at`, big-endian.
    pub(super) fn store_word(&mut self, at: u32, w: &[Value]) {
        for (k, limb) in w.iter().enumerate() {
            self.b.w(I::I32Const((at + 8 * (3 - k as u32)) as i32));
            self.get(*limb);
            self.bswap(true);
            self.b.w(I::I64Store(mem(0, 3)));
        }
    }

    /// Loads the big-endian word at `at` into limbs `r`.
    pub(super) fn load_word(&mut self, at: u32, r: &[Value]) {
        for (k, limb) in r.iter().enumerate() {
            self.b.w(I::I32Const((at + 8 * (3 - k as u32)) as i32));
            self.b.w(I::I64Load(mem(0, 3)));
            self.bswap(true);
            self.set(*limb);
        }
    }

    /// Zeroes the 32-byte slot at `at`.
    pub(super) fn zero_slot(&mut self, at: u32) {
        for k in 0..4 {
            self.b.w(I::I32Const((at + 8 * k) as i32));
            self.b.w(I::I64Const(0));
            self.b.w(I::I64Store(mem(0, 3)));
        }
    }

    /// Pushes the word in limbs `w` as a u64, all ones if it is larger.
    pub(super) fn saturate(&mut self, w: &[Value]) {
        for l in w {
            self.get(*l);
        }
        self.call(Callee::Rt(Rt::Saturate));
    }

    /// Pushes the pointer, then the i32 length, of the EVM memory range in
    /// words `off`, `len`; traps `out_of_bounds` past MSIZE.
    pub(super) fn range(&mut self, off: &[Value], len: &[Value], pos: SourcePos) {
        self.saturate(off);
        self.saturate(len);
        self.pos_const(pos);
        self.call(Callee::Rt(Rt::Range));
        self.saturate(len);
        self.b.w(I::I32WrapI64);
    }

    /// The same, into two new locals (pointer, length).
    pub(super) fn range_locals(
        &mut self,
        off: &[Value],
        len: &[Value],
        pos: SourcePos,
    ) -> (u32, u32) {
        let (p, n) = (self.b.local(ValType::I32), self.b.local(ValType::I32));
        self.range(off, len, pos);
        self.b.ins.push(Ins::Set(n));
        self.b.ins.push(Ins::Set(p));
        (p, n)
    }

    pub(super) fn hook(&mut self, h: Hook, pos: SourcePos) {
        if !h.is_stylus() {
            self.m.non_stylus.push((h.name().to_string(), pos));
        }
        // A hook the host may halt in (a state change in a static call,
        // too large init code) finds its position in the trap slot.
        if matches!(
            h,
            Hook::StorageCache
                | Hook::TransientStore
                | Hook::EmitLog
                | Hook::Create1
                | Hook::Create2
                | Hook::CallContract
                | Hook::CallCode
                | Hook::SelfDestruct
        ) && pos != SourcePos::None
        {
            self.b.w(I::I32Const(layout::TRAP as i32));
            self.b.w(I::I64Const(pos_bits(pos)));
            self.b.w(I::I64Store(mem(0, 3)));
        }
        self.call(Callee::Hook(h));
    }

    pub(super) fn zero_high(&mut self, r: &[Value]) {
        for limb in &r[1..] {
            self.b.w(I::I64Const(0));
            self.set(*limb);
        }
    }

    pub(super) fn host(
        &mut self,
        h: HostOp,
        args: &[Value],
        r: &[Value],
        pos: SourcePos,
    ) -> Result<(), Error> {
        if args.iter().chain(r).any(|v| self.f.ty(*v) != Type::I64) {
            return Err(Error::NotLegalized);
        }
        let w = |i: usize| &args[4 * i..4 * i + 4];
        let s0 = layout::slot(0);
        let s1 = layout::slot(1);
        let s2 = layout::slot(2);
        match h {
            HostOp::SLoad | HostOp::TLoad => {
                self.store_word(s0, w(0));
                self.b.w(I::I32Const(s0 as i32));
                self.b.w(I::I32Const(s1 as i32));
                self.hook(
                    if h == HostOp::SLoad {
                        Hook::StorageLoad
                    } else {
                        Hook::TransientLoad
                    },
                    pos,
                );
                self.load_word(s1, r);
            }
            HostOp::SStore | HostOp::TStore => {
                self.store_word(s0, w(0));
                self.store_word(s1, w(1));
                self.b.w(I::I32Const(s0 as i32));
                self.b.w(I::I32Const(s1 as i32));
                self.hook(
                    if h == HostOp::SStore {
                        Hook::StorageCache
                    } else {
                        Hook::TransientStore
                    },
                    pos,
                );
            }
            HostOp::CallDataLoad => {
                self.b.w(I::I32Const(s0 as i32));
                self.b.w(I::I32Const(32));
                self.b.w(I::I32Const(self.cd_base() as i32));
                self.b.w(I::GlobalGet(globals::CD_LEN));
                self.saturate(w(0));
                self.call(Callee::Rt(Rt::CopyPadded));
                self.load_word(s0, r);
            }
            HostOp::CallDataSize => {
                self.b.w(I::GlobalGet(globals::CD_LEN));
                self.b.w(I::I64ExtendI32U);
                self.set(r[0]);
                self.zero_high(r);
            }
            HostOp::CallDataCopy | HostOp::CodeCopy => {
                let (p, n) = self.range_locals(w(0), w(2), pos);
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(n));
                if h == HostOp::CallDataCopy {
                    self.b.w(I::I32Const(self.cd_base() as i32));
                    self.b.w(I::GlobalGet(globals::CD_LEN));
                } else {
                    self.b.w(I::I32Const(self.m.code_base as i32));
                    self.b.w(I::I32Const(self.m.module.code.len() as i32));
                }
                self.saturate(w(1));
                self.call(Callee::Rt(Rt::CopyPadded));
            }
            HostOp::CodeSize => {
                self.b.w(I::I64Const(self.m.module.code.len() as i64));
                self.set(r[0]);
                self.zero_high(r);
            }
            HostOp::ReturnDataSize => {
                self.hook(Hook::ReturnDataSize, pos);
                self.b.w(I::I64ExtendI32U);
                self.set(r[0]);
                self.zero_high(r);
            }
            HostOp::ReturnDataCopy => {
                // offset + len past the return data: a halt.
                let (off, len) = (self.b.local(ValType::I64), self.b.local(ValType::I64));
                self.saturate(w(1));
                self.b.ins.push(Ins::Set(off));
                self.saturate(w(2));
                self.b.ins.push(Ins::Set(len));
                self.b.ins.push(Ins::Get(off));
                self.b.ins.push(Ins::Get(len));
                self.b.w(I::I64Add);
                self.b.ins.push(Ins::Get(off));
                self.b.w(I::I64LtU);
                self.b.ins.push(Ins::Get(off));
                self.b.ins.push(Ins::Get(len));
                self.b.w(I::I64Add);
                self.hook(Hook::ReturnDataSize, pos);
                self.b.w(I::I64ExtendI32U);
                self.b.w(I::I64GtU);
                self.b.w(I::I32Or);
                self.b.w(I::If(BlockType::Empty));
                self.trap(TrapCode::ReturnDataOutOfBounds, pos);
                self.b.w(I::End);
                let (p, n) = self.range_locals(w(0), w(2), pos);
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(off));
                self.b.w(I::I32WrapI64);
                self.b.ins.push(Ins::Get(n));
                self.hook(Hook::ReadReturnData, pos);
                self.b.w(I::Drop);
            }
            HostOp::ExtCodeSize => {
                self.store_word(s0, w(0));
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.hook(Hook::AccountCodeSize, pos);
                self.b.w(I::I64ExtendI32U);
                self.set(r[0]);
                self.zero_high(r);
            }
            HostOp::ExtCodeCopy => {
                let (p, n) = self.range_locals(w(1), w(3), pos);
                self.store_word(s0, w(0));
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(n));
                self.call(Callee::Rt(Rt::Zero));
                self.b.w(I::I32Const(s0 as i32 + 12));
                // An offset past 4 GiB copies nothing, as one at 4 GiB - 1.
                let o = self.b.local(ValType::I64);
                self.saturate(w(2));
                self.b.ins.push(Ins::Tee(o));
                self.b.w(I::I64Const(0xffff_ffff));
                self.b.ins.push(Ins::Get(o));
                self.b.w(I::I64Const(0xffff_ffff));
                self.b.w(I::I64LtU);
                self.b.w(I::Select);
                self.b.w(I::I32WrapI64);
                self.b.ins.push(Ins::Get(n));
                self.b.ins.push(Ins::Get(p));
                self.hook(Hook::AccountCode, pos);
                self.b.w(I::Drop);
            }
            HostOp::ExtCodeHash | HostOp::Balance => {
                self.store_word(s0, w(0));
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.b.w(I::I32Const(s1 as i32));
                self.hook(
                    if h == HostOp::Balance {
                        Hook::AccountBalance
                    } else {
                        Hook::AccountCodeHash
                    },
                    pos,
                );
                self.load_word(s1, r);
            }
            HostOp::BlockHash | HostOp::BlobHash => {
                self.store_word(s0, w(0));
                self.b.w(I::I32Const(s0 as i32));
                self.b.w(I::I32Const(s1 as i32));
                self.hook(
                    if h == HostOp::BlockHash {
                        Hook::BlockHash
                    } else {
                        Hook::BlobHash
                    },
                    pos,
                );
                self.load_word(s1, r);
            }
            HostOp::Caller | HostOp::Origin | HostOp::Address | HostOp::Coinbase => {
                self.zero_slot(s0);
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.hook(
                    match h {
                        HostOp::Caller => Hook::MsgSender,
                        HostOp::Origin => Hook::TxOrigin,
                        HostOp::Address => Hook::ContractAddress,
                        _ => Hook::BlockCoinbase,
                    },
                    pos,
                );
                self.load_word(s0, r);
            }
            HostOp::CallValue
            | HostOp::BaseFee
            | HostOp::GasPrice
            | HostOp::PrevRandao
            | HostOp::BlobBaseFee => {
                self.b.w(I::I32Const(s0 as i32));
                self.hook(
                    match h {
                        HostOp::CallValue => Hook::MsgValue,
                        HostOp::BaseFee => Hook::BlockBasefee,
                        HostOp::GasPrice => Hook::TxGasPrice,
                        HostOp::PrevRandao => Hook::PrevRandao,
                        _ => Hook::BlobBaseFee,
                    },
                    pos,
                );
                self.load_word(s0, r);
            }
            HostOp::SelfBalance => {
                self.zero_slot(s0);
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.hook(Hook::ContractAddress, pos);
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.b.w(I::I32Const(s1 as i32));
                self.hook(Hook::AccountBalance, pos);
                self.load_word(s1, r);
            }
            HostOp::Number
            | HostOp::Timestamp
            | HostOp::ChainId
            | HostOp::GasLimit
            | HostOp::Gas => {
                self.hook(
                    match h {
                        HostOp::Number => Hook::BlockNumber,
                        HostOp::Timestamp => Hook::BlockTimestamp,
                        HostOp::ChainId => Hook::ChainId,
                        HostOp::GasLimit => Hook::BlockGasLimit,
                        _ => Hook::EvmGasLeft,
                    },
                    pos,
                );
                self.set(r[0]);
                self.zero_high(r);
            }
            HostOp::Log(n) => {
                let n = u32::from(n);
                let (p, len) = self.range_locals(w(0), w(1), pos);
                let t = self.b.local(ValType::I32);
                self.b.ins.push(Ins::Get(len));
                self.b.w(I::I64ExtendI32U);
                self.b.w(I::I64Const(i64::from(32 * n)));
                self.b.w(I::I64Add);
                self.call(Callee::Rt(Rt::Tmp));
                self.b.ins.push(Ins::Set(t));
                for i in 0..n as usize {
                    for (k, limb) in w(2 + i).iter().enumerate() {
                        self.b.ins.push(Ins::Get(t));
                        self.get(*limb);
                        self.bswap(true);
                        self.b
                            .w(I::I64Store(mem(32 * i as u64 + 8 * (3 - k as u64), 0)));
                    }
                }
                self.b.ins.push(Ins::Get(t));
                self.b.w(I::I32Const(32 * n as i32));
                self.b.w(I::I32Add);
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(len));
                self.call(Callee::Rt(Rt::Move));
                self.b.ins.push(Ins::Get(t));
                self.b.ins.push(Ins::Get(len));
                self.b.w(I::I32Const(32 * n as i32));
                self.b.w(I::I32Add);
                self.b.w(I::I32Const(n as i32));
                self.hook(Hook::EmitLog, pos);
            }
            HostOp::Keccak256 => {
                self.range(w(0), w(1), pos);
                self.b.w(I::I32Const(s0 as i32));
                self.hook(Hook::Keccak, pos);
                self.load_word(s0, r);
            }
            HostOp::Call(kind) => {
                let with_value = matches!(kind, CallKind::Call | CallKind::CallCode);
                let rest = if with_value { 3 } else { 2 };
                let (ip, il) = self.range_locals(w(rest), w(rest + 1), pos);
                let (op, ol) = self.range_locals(w(rest + 2), w(rest + 3), pos);
                let gas = self.b.local(ValType::I64);
                self.saturate(w(0));
                self.b.ins.push(Ins::Set(gas));
                self.store_word(s0, w(1));
                if with_value {
                    self.store_word(s1, w(2));
                }
                // Flush, and clear the cache unless the callee cannot
                // write: it may change this contract's storage.
                self.b
                    .w(I::I32Const(i32::from(kind != CallKind::StaticCall)));
                self.hook(Hook::StorageFlush, pos);
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.b.ins.push(Ins::Get(ip));
                self.b.ins.push(Ins::Get(il));
                if with_value {
                    self.b.w(I::I32Const(s1 as i32));
                }
                self.b.ins.push(Ins::Get(gas));
                self.b.w(I::I32Const(layout::RET_LEN as i32));
                self.hook(
                    match kind {
                        CallKind::Call => Hook::CallContract,
                        CallKind::CallCode => Hook::CallCode,
                        CallKind::DelegateCall => Hook::DelegateCall,
                        CallKind::StaticCall => Hook::StaticCall,
                    },
                    pos,
                );
                // Status 0 is success.
                self.b.w(I::I32Eqz);
                self.b.w(I::I64ExtendI32U);
                self.set(r[0]);
                self.zero_high(r);
                self.b.ins.push(Ins::Get(op));
                self.b.w(I::I32Const(0));
                self.b.ins.push(Ins::Get(ol));
                self.hook(Hook::ReadReturnData, pos);
                self.b.w(I::Drop);
            }
            HostOp::Create | HostOp::Create2 => {
                let (p, n) = self.range_locals(w(1), w(2), pos);
                self.store_word(s1, w(0));
                if h == HostOp::Create2 {
                    self.store_word(s2, w(3));
                }
                self.zero_slot(s0);
                // The init code may call back and write this contract's storage.
                self.b.w(I::I32Const(1));
                self.hook(Hook::StorageFlush, pos);
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(n));
                self.b.w(I::I32Const(s1 as i32));
                if h == HostOp::Create2 {
                    self.b.w(I::I32Const(s2 as i32));
                }
                self.b.w(I::I32Const(s0 as i32 + 12));
                self.b.w(I::I32Const(layout::RET_LEN as i32));
                self.hook(
                    if h == HostOp::Create {
                        Hook::Create1
                    } else {
                        Hook::Create2
                    },
                    pos,
                );
                self.load_word(s0, r);
            }
        }
        Ok(())
    }

    /// A legalizer helper through the `math_*` hooks, where one maps:
    /// operands into word slots, the result back from the first.
    pub(super) fn math_hook(
        &mut self,
        h: chainlift_ir::legalize::Helper,
        args: &[Value],
        r: &[Value],
        pos: SourcePos,
    ) -> bool {
        use chainlift_ir::legalize::Helper as H;
        let w = |i: usize| &args[4 * i..4 * i + 4];
        let slot = |i: u32| layout::slot(i) as i32;
        match h {
            H::DivRem => {
                // Quotient in slot 0, remainder in slot 2; divisor in 1.
                self.store_word(layout::slot(0), w(0));
                self.store_word(layout::slot(2), w(0));
                self.store_word(layout::slot(1), w(1));
                self.b.w(I::I32Const(slot(0)));
                self.b.w(I::I32Const(slot(1)));
                self.hook(Hook::MathDiv, pos);
                self.b.w(I::I32Const(slot(2)));
                self.b.w(I::I32Const(slot(1)));
                self.hook(Hook::MathMod, pos);
                self.load_word(layout::slot(0), &r[0..4]);
                self.load_word(layout::slot(2), &r[4..8]);
            }
            H::Exp | H::AddMod | H::MulMod => {
                let n = if h == H::Exp { 2 } else { 3 };
                for i in 0..n {
                    self.store_word(layout::slot(i as u32), w(i));
                }
                for i in 0..n {
                    self.b.w(I::I32Const(slot(i as u32)));
                }
                let hook = match h {
                    H::Exp => Hook::MathPow,
                    H::AddMod => Hook::MathAddMod,
                    _ => Hook::MathMulMod,
                };
                self.hook(hook, pos);
                self.load_word(layout::slot(0), &r[0..4]);
            }
            _ => return false,
        }
        true
    }

    pub(super) fn cd_base(&self) -> u32 {
        crate::calldata_base(self.m.module, self.m.code_base)
    }

    pub(super) fn exit(
        &mut self,
        kind: ExitKind,
        args: &[Value],
        pos: SourcePos,
    ) -> Result<(), Error> {
        if args.iter().any(|v| self.f.ty(*v) != Type::I64) {
            return Err(Error::NotLegalized);
        }
        let status = match kind {
            ExitKind::Stop => {
                self.b.w(I::I32Const(0));
                self.hook(Hook::StorageFlush, pos);
                0
            }
            ExitKind::Return | ExitKind::Revert => {
                let (p, n) = self.range_locals(&args[0..4], &args[4..8], pos);
                self.b.w(I::I32Const(0));
                self.hook(Hook::StorageFlush, pos);
                self.b.ins.push(Ins::Get(p));
                self.b.ins.push(Ins::Get(n));
                self.hook(Hook::WriteResult, pos);
                i32::from(kind == ExitKind::Revert)
            }
            ExitKind::SelfDestruct => {
                self.store_word(layout::slot(0), &args[0..4]);
                self.b.w(I::I32Const(0));
                self.hook(Hook::StorageFlush, pos);
                self.b.w(I::I32Const(layout::slot(0) as i32 + 12));
                self.hook(Hook::SelfDestruct, pos);
                0
            }
        };
        self.b.w(I::I32Const(status));
        if self.fid.index() == 0 {
            self.b.w(I::Return);
        } else {
            self.hook(Hook::ExitEarly, pos);
            self.b.w(I::Unreachable);
        }
        Ok(())
    }
}
