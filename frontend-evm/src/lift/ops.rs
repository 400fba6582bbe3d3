//! The opcodes that are neither control flow nor stack shuffling: each
//! becomes IR operations (pure ones on constants are folded here).

use super::*;

impl Lifter<'_> {
    /// Emits the IR of a non-control opcode; returns the values it pushes.
    /// Pure operations on constants are folded here, as the CFG analysis
    /// folded them, so that branches it found constant lift to plain jumps
    /// and the lifter never wanders into paths the analysis ruled out.
    pub(super) fn lift_op(&mut self, b: Block, op: u8, args: Vec<Value>, pc: u32) -> Vec<Value> {
        if crate::eval::is_pure(op)
            && let Some(consts) = args
                .iter()
                .map(|a| self.consts.get(*a))
                .collect::<Option<Vec<_>>>()
            && let Some(v) = crate::eval::pure(op, &consts)
        {
            return vec![self.konst(v, pc)];
        }
        let i256 = Some(Type::I256);
        let bin = |l: &mut Self, o: BinOp, x: Value, y: Value| {
            l.emit(b, Op::Binary(o), vec![x, y], i256, pc)
        };
        let cmp = |l: &mut Self, c: Cond, x: Value, y: Value| {
            let bit = l
                .emit(b, Op::Icmp(c), vec![x, y], Some(Type::I1), pc)
                .expect("result");
            l.emit(b, Op::Uext, vec![bit], i256, pc)
        };
        let host = |l: &mut Self, h: HostOp, args: Vec<Value>| {
            let result = (h.arity().1 == 1).then_some(Type::I256);
            l.emit(b, Op::Host(h), args, result, pc)
        };
        let expand = |l: &mut Self, off: Value, len: Value| {
            l.emit(b, Op::MemExpand, vec![off, len], None, pc);
        };
        let a = &args;
        let out = match op {
            op::ADD => bin(self, BinOp::Add, a[0], a[1]),
            op::MUL => bin(self, BinOp::Mul, a[0], a[1]),
            op::SUB => bin(self, BinOp::Sub, a[0], a[1]),
            op::DIV => bin(self, BinOp::UDiv, a[0], a[1]),
            op::SDIV => bin(self, BinOp::SDiv, a[0], a[1]),
            op::MOD => bin(self, BinOp::URem, a[0], a[1]),
            op::SMOD => bin(self, BinOp::SRem, a[0], a[1]),
            op::ADDMOD => self.emit(b, Op::AddMod, args.clone(), i256, pc),
            op::MULMOD => self.emit(b, Op::MulMod, args.clone(), i256, pc),
            op::EXP => self.emit(b, Op::Exp, args.clone(), i256, pc),
            op::SIGNEXTEND => self.emit(b, Op::SignExtend, args.clone(), i256, pc),
            op::LT => cmp(self, Cond::Ult, a[0], a[1]),
            op::GT => cmp(self, Cond::Ugt, a[0], a[1]),
            op::SLT => cmp(self, Cond::Slt, a[0], a[1]),
            op::SGT => cmp(self, Cond::Sgt, a[0], a[1]),
            op::EQ => cmp(self, Cond::Eq, a[0], a[1]),
            op::ISZERO => {
                let zero = self.konst(U256::ZERO, pc);
                cmp(self, Cond::Eq, a[0], zero)
            }
            op::AND => bin(self, BinOp::And, a[0], a[1]),
            op::OR => bin(self, BinOp::Or, a[0], a[1]),
            op::XOR => bin(self, BinOp::Xor, a[0], a[1]),
            op::NOT => self.emit(b, Op::Not, vec![a[0]], i256, pc),
            op::BYTE => self.emit(b, Op::Byte, args.clone(), i256, pc),
            op::SHL => bin(self, BinOp::Shl, a[1], a[0]),
            op::SHR => bin(self, BinOp::LShr, a[1], a[0]),
            op::SAR => bin(self, BinOp::AShr, a[1], a[0]),
            op::CLZ => self.emit(b, Op::Clz, vec![a[0]], i256, pc),
            op::KECCAK256 => {
                expand(self, a[0], a[1]);
                host(self, HostOp::Keccak256, args.clone())
            }
            op::ADDRESS => host(self, HostOp::Address, vec![]),
            op::BALANCE => host(self, HostOp::Balance, args.clone()),
            op::ORIGIN => host(self, HostOp::Origin, vec![]),
            op::CALLER => host(self, HostOp::Caller, vec![]),
            op::CALLVALUE => host(self, HostOp::CallValue, vec![]),
            op::CALLDATALOAD => host(self, HostOp::CallDataLoad, args.clone()),
            op::CALLDATASIZE => host(self, HostOp::CallDataSize, vec![]),
            op::CALLDATACOPY => {
                expand(self, a[0], a[2]);
                host(self, HostOp::CallDataCopy, args.clone())
            }
            op::CODESIZE => host(self, HostOp::CodeSize, vec![]),
            op::CODECOPY => {
                expand(self, a[0], a[2]);
                host(self, HostOp::CodeCopy, args.clone())
            }
            op::GASPRICE => host(self, HostOp::GasPrice, vec![]),
            op::EXTCODESIZE => host(self, HostOp::ExtCodeSize, args.clone()),
            op::EXTCODECOPY => {
                expand(self, a[1], a[3]);
                host(self, HostOp::ExtCodeCopy, args.clone())
            }
            op::RETURNDATASIZE => host(self, HostOp::ReturnDataSize, vec![]),
            op::RETURNDATACOPY => {
                expand(self, a[0], a[2]);
                host(self, HostOp::ReturnDataCopy, args.clone())
            }
            op::EXTCODEHASH => host(self, HostOp::ExtCodeHash, args.clone()),
            op::BLOCKHASH => host(self, HostOp::BlockHash, args.clone()),
            op::COINBASE => host(self, HostOp::Coinbase, vec![]),
            op::TIMESTAMP => host(self, HostOp::Timestamp, vec![]),
            op::NUMBER => host(self, HostOp::Number, vec![]),
            op::PREVRANDAO => host(self, HostOp::PrevRandao, vec![]),
            op::GASLIMIT => host(self, HostOp::GasLimit, vec![]),
            op::CHAINID => host(self, HostOp::ChainId, vec![]),
            op::SELFBALANCE => host(self, HostOp::SelfBalance, vec![]),
            op::BASEFEE => host(self, HostOp::BaseFee, vec![]),
            op::BLOBHASH => host(self, HostOp::BlobHash, args.clone()),
            op::BLOBBASEFEE => host(self, HostOp::BlobBaseFee, vec![]),
            op::MLOAD => {
                let len = self.konst(U256::from(32), pc);
                expand(self, a[0], len);
                self.emit(b, Op::Load(Type::I256, Endian::Big), vec![a[0]], i256, pc)
            }
            op::MSTORE => {
                let len = self.konst(U256::from(32), pc);
                expand(self, a[0], len);
                self.emit(
                    b,
                    Op::Store(Type::I256, Endian::Big),
                    vec![a[0], a[1]],
                    None,
                    pc,
                )
            }
            op::MSTORE8 => {
                let len = self.konst(U256::from(1), pc);
                expand(self, a[0], len);
                let byte = self
                    .emit(b, Op::Trunc, vec![a[1]], Some(Type::I8), pc)
                    .expect("result");
                self.emit(
                    b,
                    Op::Store(Type::I8, Endian::Big),
                    vec![a[0], byte],
                    None,
                    pc,
                )
            }
            op::SLOAD => host(self, HostOp::SLoad, args.clone()),
            op::SSTORE => host(self, HostOp::SStore, args.clone()),
            op::PC => Some(self.konst(U256::from(pc), pc)),
            op::MSIZE => self.emit(b, Op::MemSize, vec![], i256, pc),
            op::GAS => host(self, HostOp::Gas, vec![]),
            op::TLOAD => host(self, HostOp::TLoad, args.clone()),
            op::TSTORE => host(self, HostOp::TStore, args.clone()),
            op::MCOPY => {
                expand(self, a[0], a[2]);
                expand(self, a[1], a[2]);
                self.emit(b, Op::MemCopy, args.clone(), None, pc)
            }
            op::LOG0..=op::LOG4 => {
                expand(self, a[0], a[1]);
                host(self, HostOp::Log(op - op::LOG0), args.clone())
            }
            op::CREATE => {
                expand(self, a[1], a[2]);
                host(self, HostOp::Create, args.clone())
            }
            op::CREATE2 => {
                expand(self, a[1], a[2]);
                host(self, HostOp::Create2, args.clone())
            }
            op::CALL | op::CALLCODE => {
                expand(self, a[3], a[4]);
                expand(self, a[5], a[6]);
                let kind = if op == op::CALL {
                    CallKind::Call
                } else {
                    CallKind::CallCode
                };
                host(self, HostOp::Call(kind), args.clone())
            }
            op::DELEGATECALL | op::STATICCALL => {
                expand(self, a[2], a[3]);
                expand(self, a[4], a[5]);
                let kind = if op == op::DELEGATECALL {
                    CallKind::DelegateCall
                } else {
                    CallKind::StaticCall
                };
                host(self, HostOp::Call(kind), args.clone())
            }
            _ => None,
        };
        out.into_iter().collect()
    }
}
