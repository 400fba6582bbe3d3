//! A small instruction builder: appends instructions to one block of a
//! function and hands back their results, so the legalizer and the runtime
//! helpers read as straight-line code.

// Limb arithmetic reads best with limb indices.
#![allow(clippy::needless_range_loop)]

use crate::entities::{Block, FuncId, Value};
use crate::function::{BlockCall, Function, Inst, Terminator};
use crate::inst::{BinOp, Cond, Op, SourcePos};
use crate::types::Type;
use alloy_primitives::U256;

/// A 256-bit word as four `i64` limbs, least significant first.
pub(crate) type Word = [Value; 4];

/// Appends to `block` of `f`; every instruction gets `pos`.
pub(crate) struct Builder<'f> {
    pub f: &'f mut Function,
    pub block: Block,
    pub pos: SourcePos,
}

impl<'f> Builder<'f> {
    pub fn new(f: &'f mut Function, block: Block, pos: SourcePos) -> Self {
        Builder { f, block, pos }
    }

    /// Appends `op args` with results of types `tys`.
    pub fn ins(&mut self, op: Op, args: &[Value], tys: &[Type]) -> Vec<Value> {
        let results: Vec<Value> = tys.iter().map(|t| self.f.new_value(*t)).collect();
        let inst = Inst {
            op,
            args: args.to_vec(),
            results: results.clone(),
            pos: self.pos,
        };
        let b = self.block;
        self.f.block_mut(b).insts.push(inst);
        results
    }

    fn one(&mut self, op: Op, args: &[Value], ty: Type) -> Value {
        self.ins(op, args, &[ty])[0]
    }

    pub fn iconst(&mut self, ty: Type, k: u64) -> Value {
        self.one(Op::Iconst(U256::from(k)), &[], ty)
    }

    pub fn i64(&mut self, k: u64) -> Value {
        self.iconst(Type::I64, k)
    }

    pub fn bin(&mut self, op: BinOp, a: Value, b: Value) -> Value {
        let ty = self.f.ty(a);
        self.one(Op::Binary(op), &[a, b], ty)
    }

    pub fn add(&mut self, a: Value, b: Value) -> Value {
        self.bin(BinOp::Add, a, b)
    }

    pub fn sub(&mut self, a: Value, b: Value) -> Value {
        self.bin(BinOp::Sub, a, b)
    }

    pub fn and(&mut self, a: Value, b: Value) -> Value {
        self.bin(BinOp::And, a, b)
    }

    pub fn or(&mut self, a: Value, b: Value) -> Value {
        self.bin(BinOp::Or, a, b)
    }

    pub fn shl(&mut self, a: Value, b: Value) -> Value {
        self.bin(BinOp::Shl, a, b)
    }

    pub fn lshr(&mut self, a: Value, b: Value) -> Value {
        self.bin(BinOp::LShr, a, b)
    }

    /// `a op k` with an `i64` constant `k`.
    pub fn bin_k(&mut self, op: BinOp, a: Value, k: u64) -> Value {
        let ty = self.f.ty(a);
        let c = self.iconst(ty, k);
        self.bin(op, a, c)
    }

    pub fn not(&mut self, a: Value) -> Value {
        let ty = self.f.ty(a);
        self.one(Op::Not, &[a], ty)
    }

    pub fn icmp(&mut self, c: Cond, a: Value, b: Value) -> Value {
        self.one(Op::Icmp(c), &[a, b], Type::I1)
    }

    pub fn icmp_k(&mut self, c: Cond, a: Value, k: u64) -> Value {
        let ty = self.f.ty(a);
        let k = self.iconst(ty, k);
        self.icmp(c, a, k)
    }

    pub fn select(&mut self, c: Value, a: Value, b: Value) -> Value {
        let ty = self.f.ty(a);
        self.one(Op::Select, &[c, a, b], ty)
    }

    pub fn uext(&mut self, a: Value, ty: Type) -> Value {
        self.one(Op::Uext, &[a], ty)
    }

    pub fn call(&mut self, func: FuncId, args: &[Value], returns: usize) -> Vec<Value> {
        self.ins(Op::Call(func), args, &vec![Type::I64; returns])
    }

    /// Ends the current block.
    pub fn terminate(&mut self, term: Terminator) {
        let b = self.block;
        let data = self.f.block_mut(b);
        data.term = term;
        data.term_pos = self.pos;
    }

    /// A new block with `i64` parameters; the cursor stays where it is.
    pub fn block_with(&mut self, params: usize) -> (Block, Vec<Value>) {
        let b = self.f.new_block();
        let ps: Vec<Value> = (0..params).map(|_| self.f.new_value(Type::I64)).collect();
        self.f.block_mut(b).params = ps.clone();
        (b, ps)
    }

    pub fn jump(&mut self, to: Block, args: &[Value]) {
        self.terminate(Terminator::Jump(BlockCall {
            block: to,
            args: args.to_vec(),
        }));
    }

    pub fn brif(&mut self, c: Value, then_to: (Block, &[Value]), else_to: (Block, &[Value])) {
        self.terminate(Terminator::Branch {
            cond: c,
            then_to: BlockCall {
                block: then_to.0,
                args: then_to.1.to_vec(),
            },
            else_to: BlockCall {
                block: else_to.0,
                args: else_to.1.to_vec(),
            },
        });
    }

    pub fn ret(&mut self, values: &[Value]) {
        self.terminate(Terminator::Return(values.to_vec()));
    }

    // -- words -----------------------------------------------------------

    pub fn word_const(&mut self, k: U256) -> Word {
        let l = k.as_limbs();
        [
            self.i64(l[0]),
            self.i64(l[1]),
            self.i64(l[2]),
            self.i64(l[3]),
        ]
    }

    /// Whether any limb of `w` is non-zero (an `i1`).
    pub fn nonzero(&mut self, w: &[Value]) -> Value {
        let mut acc = w[0];
        for l in &w[1..] {
            acc = self.or(acc, *l);
        }
        self.icmp_k(Cond::Ne, acc, 0)
    }

    /// `a + b` mod 2^256 and the carry out (an `i64`, 0 or 1).
    pub fn add_carry(&mut self, a: &Word, b: &Word) -> (Word, Value) {
        let mut out = *a;
        let mut carry: Option<Value> = None;
        for i in 0..4 {
            let s = self.add(a[i], b[i]);
            let c1 = self.icmp(Cond::Ult, s, a[i]);
            let (s, c) = match carry {
                None => (s, c1),
                Some(cin) => {
                    let s2 = self.add(s, cin);
                    let c2 = self.icmp(Cond::Ult, s2, cin);
                    (s2, self.or(c1, c2))
                }
            };
            out[i] = s;
            carry = Some(self.uext(c, Type::I64));
        }
        (out, carry.expect("four limbs"))
    }

    /// `a - b` mod 2^256 and the borrow out (an `i64`, 0 or 1).
    pub fn sub_borrow(&mut self, a: &Word, b: &Word) -> (Word, Value) {
        let mut out = *a;
        let mut borrow: Option<Value> = None;
        for i in 0..4 {
            let d = self.sub(a[i], b[i]);
            let b1 = self.icmp(Cond::Ult, a[i], b[i]);
            let (d, bo) = match borrow {
                None => (d, b1),
                Some(bin) => {
                    let d2 = self.sub(d, bin);
                    let b2 = self.icmp(Cond::Ult, d, bin);
                    (d2, self.or(b1, b2))
                }
            };
            out[i] = d;
            borrow = Some(self.uext(bo, Type::I64));
        }
        (out, borrow.expect("four limbs"))
    }

    /// `a cond b` on words (an `i1`): the top limb decides unless equal,
    /// then the next; signed conditions compare the top limb signed.
    pub fn compare(&mut self, cond: Cond, a: &Word, b: &Word) -> Value {
        use Cond::*;
        match cond {
            Eq | Ne => {
                let mut acc = self.bin(BinOp::Xor, a[0], b[0]);
                for i in 1..4 {
                    let x = self.bin(BinOp::Xor, a[i], b[i]);
                    acc = self.or(acc, x);
                }
                self.icmp_k(cond, acc, 0)
            }
            _ => {
                // Strict conditions for the limbs above the lowest.
                let (top, low_strict) = match cond {
                    Ult | Ule => (Ult, Ult),
                    Ugt | Uge => (Ugt, Ugt),
                    Slt | Sle => (Slt, Ult),
                    _ => (Sgt, Ugt),
                };
                let lowest = match cond {
                    Slt => Ult,
                    Sle => Ule,
                    Sgt => Ugt,
                    Sge => Uge,
                    other => other,
                };
                let mut acc = self.icmp(lowest, a[0], b[0]);
                for i in 1..4 {
                    let strict = if i == 3 { top } else { low_strict };
                    let s = self.icmp(strict, a[i], b[i]);
                    let e = self.icmp(Eq, a[i], b[i]);
                    let keep = self.and(e, acc);
                    acc = self.or(s, keep);
                }
                acc
            }
        }
    }

    pub fn select_word(&mut self, c: Value, a: &Word, b: &Word) -> Word {
        [
            self.select(c, a[0], b[0]),
            self.select(c, a[1], b[1]),
            self.select(c, a[2], b[2]),
            self.select(c, a[3], b[3]),
        ]
    }

    /// The limb of `w` at index `i` (an `i64` in 0..4, other values give
    /// limb 3), by selects.
    pub fn pick(&mut self, w: &Word, i: Value) -> Value {
        let mut acc = w[3];
        for k in (0..3).rev() {
            let is = self.icmp_k(Cond::Eq, i, k as u64);
            acc = self.select(is, w[k], acc);
        }
        acc
    }

    /// An address or length operand as an `i64`: the word itself when it is
    /// below 2^63, else 2^63, which no memory reaches (so the access traps as
    /// the word would) and to which small offsets add without wrapping.
    pub fn saturate(&mut self, w: &Word) -> Value {
        let high = self.nonzero(&w[1..]);
        let top = self.icmp_k(Cond::Uge, w[0], 1 << 63);
        let over = self.or(high, top);
        let cap = self.i64(1 << 63);
        self.select(over, cap, w[0])
    }
}
