//! The module decoded once for the interpreter's fast path.

use super::mask;
use crate::entities::{Block, Value};
use crate::function::{BlockCall, Function, Module, Terminator};
use crate::inst::{BinOp, Cond, Endian, Op};
use crate::types::Type;
use alloy_primitives::U256;

/// A module decoded once for the interpreter: per block, the common pure
/// operations with their operand slots resolved, and jumps and branches
/// with their parameter copies listed, so running them looks nothing up.
/// Everything else runs from the module itself. Build it once per module
/// and share it between runs ([`Interpreter::with_program`]).
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub(super) funcs: Vec<Vec<DBlock>>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct DBlock {
    /// One per instruction of the block, in order.
    pub(super) ops: Vec<DOp>,
    pub(super) term: DTerm,
}

#[derive(Debug, Clone)]
pub(super) enum DOp {
    Const {
        r: u32,
        v: U256,
    },
    Bin {
        op: BinOp,
        ty: Type,
        a: u32,
        b: u32,
        r: u32,
    },
    /// A 64-bit add, sub, mul, and, or or xor, on the low limbs.
    Bin64 {
        op: BinOp,
        a: u32,
        b: u32,
        r: u32,
    },
    Cmp {
        c: Cond,
        ty: Type,
        a: u32,
        b: u32,
        r: u32,
    },
    /// `mem.expand`, and big-endian word loads and stores.
    Expand {
        offset: u32,
        len: u32,
    },
    LoadWord {
        addr: u32,
        r: u32,
    },
    StoreWord {
        addr: u32,
        v: u32,
    },
    /// A word of the EVM stack (`i256`).
    StackLoad {
        index: u32,
        r: u32,
    },
    StackStore {
        index: u32,
        v: u32,
    },
    /// Run from the module's instruction.
    Slow,
}

#[derive(Debug, Clone, Default)]
pub(super) enum DTerm {
    Jump(DEdge),
    Branch {
        cond: u32,
        then_to: DEdge,
        else_to: DEdge,
    },
    /// A switch: cases sorted by value (all below 2^64), found by binary
    /// search.
    Switch {
        value: u32,
        keys: Vec<u64>,
        cases: Vec<DEdge>,
        default: DEdge,
    },
    /// Run from the module's terminator.
    #[default]
    Slow,
}

#[derive(Debug, Clone)]
pub(super) struct DEdge {
    pub(super) block: Block,
    /// (argument slot, parameter slot), copied in parallel.
    pub(super) moves: Vec<(u32, u32)>,
}

impl Program {
    /// Decodes every function of `module`.
    pub fn new(module: &Module) -> Program {
        let funcs = module.functions.iter().map(decode_function).collect();
        Program { funcs }
    }
}

fn decode_function(f: &Function) -> Vec<DBlock> {
    let slot = |v: &Value| v.index() as u32;
    let edge = |c: &BlockCall| DEdge {
        block: c.block,
        moves: c
            .args
            .iter()
            .zip(&f.block(c.block).params)
            .map(|(a, p)| (slot(a), slot(p)))
            .collect(),
    };
    let mut blocks = vec![DBlock::default(); f.blocks.len()];
    for b in &f.layout {
        let data = f.block(*b);
        let ops = data
            .insts
            .iter()
            .map(|inst| {
                let r = inst.results.first().map(slot);
                let ty = inst.results.first().map(|r| f.ty(*r));
                match (&inst.op, r, ty, inst.args.as_slice()) {
                    (Op::Iconst(k), Some(r), Some(ty), []) => DOp::Const {
                        r,
                        v: *k & mask(ty),
                    },
                    (
                        Op::Binary(
                            op @ (BinOp::Add
                            | BinOp::Sub
                            | BinOp::Mul
                            | BinOp::And
                            | BinOp::Or
                            | BinOp::Xor),
                        ),
                        Some(r),
                        Some(Type::I64),
                        [a, b],
                    ) => DOp::Bin64 {
                        op: *op,
                        a: slot(a),
                        b: slot(b),
                        r,
                    },
                    (Op::Binary(op), Some(r), Some(ty), [a, b]) => DOp::Bin {
                        op: *op,
                        ty,
                        a: slot(a),
                        b: slot(b),
                        r,
                    },
                    (Op::MemExpand, None, None, [o, l]) => DOp::Expand {
                        offset: slot(o),
                        len: slot(l),
                    },
                    (Op::Load(Type::I256, Endian::Big), Some(r), Some(Type::I256), [a]) => {
                        DOp::LoadWord { addr: slot(a), r }
                    }
                    (Op::Store(Type::I256, Endian::Big), None, None, [a, v])
                        if f.ty(*v) == Type::I256 =>
                    {
                        DOp::StoreWord {
                            addr: slot(a),
                            v: slot(v),
                        }
                    }
                    (Op::StackLoad, Some(r), Some(Type::I256), [i]) => {
                        DOp::StackLoad { index: slot(i), r }
                    }
                    (Op::StackStore, None, None, [i, v]) if f.ty(*v) == Type::I256 => {
                        DOp::StackStore {
                            index: slot(i),
                            v: slot(v),
                        }
                    }
                    (Op::Icmp(c), Some(r), Some(_), [a, b]) => DOp::Cmp {
                        c: *c,
                        ty: f.ty(*a),
                        a: slot(a),
                        b: slot(b),
                        r,
                    },
                    _ => DOp::Slow,
                }
            })
            .collect();
        let term = match &data.term {
            Terminator::Jump(c) => DTerm::Jump(edge(c)),
            Terminator::Branch {
                cond,
                then_to,
                else_to,
            } => DTerm::Branch {
                cond: slot(cond),
                then_to: edge(then_to),
                else_to: edge(else_to),
            },
            Terminator::Switch {
                value,
                cases,
                default,
            } if cases.iter().all(|(k, _)| *k <= U256::from(u64::MAX)) => {
                let mut sorted: Vec<(u64, &BlockCall)> =
                    cases.iter().map(|(k, c)| (k.to::<u64>(), c)).collect();
                // The first case of a value is the one taken.
                sorted.sort_by_key(|(k, _)| *k);
                sorted.dedup_by_key(|(k, _)| *k);
                DTerm::Switch {
                    value: slot(value),
                    keys: sorted.iter().map(|(k, _)| *k).collect(),
                    cases: sorted.iter().map(|(_, c)| edge(c)).collect(),
                    default: edge(default),
                }
            }
            _ => DTerm::Slow,
        };
        blocks[b.index()] = DBlock { ops, term };
    }
    blocks
}
