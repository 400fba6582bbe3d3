//! Functions, blocks, instructions and modules.

use crate::entities::{Block, FuncId, Value};
use crate::inst::{ExitKind, Op, SourcePos, TrapCode};
use crate::types::Type;
use alloy_primitives::U256;

/// One instruction: an operation, its operands and results, and where it
/// came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inst {
    /// What it does.
    pub op: Op,
    /// Operands, in the order the operation documents.
    pub args: Vec<Value>,
    /// Results; their types live in the function's value table.
    pub results: Vec<Value>,
    /// Source position (EVM pc or WASM offset). Passes keep it.
    pub pos: SourcePos,
}

/// A branch target with the arguments for its block parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockCall {
    /// The target.
    pub block: Block,
    /// One argument per parameter of `block`, same types.
    pub args: Vec<Value>,
}

impl BlockCall {
    /// A call with no arguments.
    pub fn new(block: Block) -> Self {
        BlockCall {
            block,
            args: vec![],
        }
    }
}

/// How a block ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Terminator {
    /// `jump blockN(args)`.
    Jump(BlockCall),
    /// `brif c, blockA(args), blockB(args)`: `c` is `i1`; to A when 1.
    Branch {
        /// The condition.
        cond: Value,
        /// Target when the condition is 1.
        then_to: BlockCall,
        /// Target when it is 0.
        else_to: BlockCall,
    },
    /// `switch v, [c1: blockA(args), ...], blockD(args)`: cases are distinct
    /// constants of v's type.
    Switch {
        /// The scrutinee.
        value: Value,
        /// Case constant and target.
        cases: Vec<(U256, BlockCall)>,
        /// Target when no case matches.
        default: BlockCall,
    },
    /// `return a, b`: return from this function with values of its result types.
    Return(Vec<Value>),
    /// `exit.kind args`: end the whole contract execution (STOP, RETURN, REVERT,
    /// SELFDESTRUCT); operands are `i256` (or four `i64` limbs each in the
    /// legalized form).
    Exit(ExitKind, Vec<Value>),
    /// `trap code`: end execution abnormally.
    Trap(TrapCode),
}

impl Terminator {
    /// The block calls of this terminator, in order (no allocation: passes
    /// call this for every block, many times).
    pub fn targets(&self) -> Targets<'_> {
        let none: std::slice::Iter<'_, (U256, BlockCall)> = [].iter();
        match self {
            Terminator::Jump(c) => Targets {
                head: [Some(c), None],
                cases: none,
                last: None,
            },
            Terminator::Branch {
                then_to, else_to, ..
            } => Targets {
                head: [Some(then_to), Some(else_to)],
                cases: none,
                last: None,
            },
            Terminator::Switch { cases, default, .. } => Targets {
                head: [None, None],
                cases: cases.iter(),
                last: Some(default),
            },
            _ => Targets {
                head: [None, None],
                cases: none,
                last: None,
            },
        }
    }

    /// The block calls of this terminator, mutably.
    pub fn targets_mut(&mut self) -> Vec<&mut BlockCall> {
        match self {
            Terminator::Jump(c) => vec![c],
            Terminator::Branch {
                then_to, else_to, ..
            } => vec![then_to, else_to],
            Terminator::Switch { cases, default, .. } => cases
                .iter_mut()
                .map(|(_, c)| c)
                .chain(std::iter::once(default))
                .collect(),
            _ => vec![],
        }
    }

    /// Values the terminator reads besides block-call arguments.
    pub fn operands(&self) -> Vec<Value> {
        match self {
            Terminator::Branch { cond, .. } => vec![*cond],
            Terminator::Switch { value, .. } => vec![*value],
            Terminator::Return(vs) | Terminator::Exit(_, vs) => vs.clone(),
            _ => vec![],
        }
    }

    /// Every value read, block-call arguments included.
    pub fn uses(&self) -> Vec<Value> {
        let mut out = self.operands();
        for c in self.targets() {
            out.extend_from_slice(&c.args);
        }
        out
    }

    /// Applies `f` to every value read besides block-call arguments.
    pub fn map_operands(&mut self, mut f: impl FnMut(Value) -> Value) {
        match self {
            Terminator::Branch { cond, .. } => *cond = f(*cond),
            Terminator::Switch { value, .. } => *value = f(*value),
            Terminator::Return(vs) | Terminator::Exit(_, vs) => {
                vs.iter_mut().for_each(|v| *v = f(*v))
            }
            _ => {}
        }
    }

    /// Applies `f` to every value read.
    pub fn map_uses(&mut self, mut f: impl FnMut(Value) -> Value) {
        self.map_operands(&mut f);
        for c in self.targets_mut() {
            c.args.iter_mut().for_each(|v| *v = f(*v));
        }
    }
}

/// The block calls of a terminator, in order: see [`Terminator::targets`].
#[derive(Debug, Clone)]
pub struct Targets<'a> {
    head: [Option<&'a BlockCall>; 2],
    cases: std::slice::Iter<'a, (U256, BlockCall)>,
    last: Option<&'a BlockCall>,
}

impl<'a> Iterator for Targets<'a> {
    type Item = &'a BlockCall;

    fn next(&mut self) -> Option<&'a BlockCall> {
        for h in &mut self.head {
            if let Some(c) = h.take() {
                return Some(c);
            }
        }
        if let Some((_, c)) = self.cases.next() {
            return Some(c);
        }
        self.last.take()
    }
}

/// A basic block: parameters, straight-line instructions, one terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockData {
    /// Parameters: values defined on entry by the caller's block call.
    pub params: Vec<Value>,
    /// The instructions, in order.
    pub insts: Vec<Inst>,
    /// The terminator.
    pub term: Terminator,
    /// Source position of the terminator.
    pub term_pos: SourcePos,
}

/// A function: an arena of values (with their types), an arena of blocks and
/// a layout giving the block order. The first block of the layout is the
/// entry; its parameters are the function's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Name, printed as `%name`.
    pub name: String,
    /// Parameter types (the entry block's parameter types).
    pub params: Vec<Type>,
    /// Result types of `return`.
    pub returns: Vec<Type>,
    /// Type of every value, indexed by [`Value`].
    pub values: Vec<Type>,
    /// Every block, indexed by [`Block`]; only those in `layout` are live.
    pub blocks: Vec<BlockData>,
    /// Live blocks in order; the first is the entry.
    pub layout: Vec<Block>,
}

impl Function {
    /// An empty function (no blocks yet).
    pub fn new(name: impl Into<String>, params: Vec<Type>, returns: Vec<Type>) -> Self {
        Function {
            name: name.into(),
            params,
            returns,
            values: vec![],
            blocks: vec![],
            layout: vec![],
        }
    }

    /// A new value of type `ty`.
    pub fn new_value(&mut self, ty: Type) -> Value {
        self.values.push(ty);
        Value::new(self.values.len() - 1)
    }

    /// A new block ending in `trap unreachable`, appended to the layout.
    pub fn new_block(&mut self) -> Block {
        self.blocks.push(BlockData {
            params: vec![],
            insts: vec![],
            term: Terminator::Trap(TrapCode::Unreachable),
            term_pos: SourcePos::None,
        });
        let b = Block::new(self.blocks.len() - 1);
        self.layout.push(b);
        b
    }

    /// The type of `v`.
    pub fn ty(&self, v: Value) -> Type {
        self.values[v.index()]
    }

    /// The block data of `b`.
    pub fn block(&self, b: Block) -> &BlockData {
        &self.blocks[b.index()]
    }

    /// The block data of `b`, mutably.
    pub fn block_mut(&mut self, b: Block) -> &mut BlockData {
        &mut self.blocks[b.index()]
    }

    /// The entry block.
    pub fn entry(&self) -> Option<Block> {
        self.layout.first().copied()
    }

    /// How many times each value is read (by instructions, terminators and
    /// block-call arguments of live blocks), by value.
    pub fn use_counts(&self) -> Vec<u32> {
        let mut uses = vec![0u32; self.values.len()];
        for b in &self.layout {
            let data = self.block(*b);
            let args = data.insts.iter().flat_map(|i| i.args.iter());
            for v in args.chain(&data.term.uses()) {
                uses[v.index()] += 1;
            }
        }
        uses
    }

    /// Number of instructions in live blocks, terminators included.
    pub fn inst_count(&self) -> usize {
        self.layout
            .iter()
            .map(|b| self.block(*b).insts.len() + 1)
            .sum()
    }

    /// Renumbers values and blocks in layout order and drops dead arena
    /// entries, so that printing and parsing back gives an equal function.
    pub fn compact(&mut self) {
        let mut block_map = vec![None; self.blocks.len()];
        for (i, b) in self.layout.iter().enumerate() {
            block_map[b.index()] = Some(Block::new(i));
        }
        let mut value_map: Vec<Option<Value>> = vec![None; self.values.len()];
        let mut values = Vec::new();
        let def = |v: Value, values: &mut Vec<Type>, map: &mut Vec<Option<Value>>, tys: &[Type]| {
            if map[v.index()].is_none() {
                values.push(tys[v.index()]);
                map[v.index()] = Some(Value::new(values.len() - 1));
            }
        };
        for b in &self.layout {
            let data = &self.blocks[b.index()];
            for p in &data.params {
                def(*p, &mut values, &mut value_map, &self.values);
            }
            for inst in &data.insts {
                for r in &inst.results {
                    def(*r, &mut values, &mut value_map, &self.values);
                }
            }
        }
        // Values used but never defined (only in invalid functions) keep a slot.
        for b in &self.layout {
            let data = &self.blocks[b.index()];
            let uses = data
                .insts
                .iter()
                .flat_map(|i| i.args.iter().copied())
                .chain(data.term.uses());
            for v in uses.collect::<Vec<_>>() {
                if v.index() < value_map.len() {
                    def(v, &mut values, &mut value_map, &self.values);
                }
            }
        }
        let mv = |v: Value| value_map.get(v.index()).copied().flatten().unwrap_or(v);
        let mut blocks = Vec::with_capacity(self.layout.len());
        let empty = || BlockData {
            params: vec![],
            insts: vec![],
            term: Terminator::Trap(TrapCode::Unreachable),
            term_pos: SourcePos::None,
        };
        for b in &self.layout {
            let mut data = std::mem::replace(&mut self.blocks[b.index()], empty());
            data.params.iter_mut().for_each(|p| *p = mv(*p));
            for inst in &mut data.insts {
                inst.args.iter_mut().for_each(|v| *v = mv(*v));
                inst.results.iter_mut().for_each(|v| *v = mv(*v));
            }
            data.term.map_uses(mv);
            for c in data.term.targets_mut() {
                c.block = block_map[c.block.index()].unwrap_or(c.block);
            }
            blocks.push(data);
        }
        self.values = values;
        self.blocks = blocks;
        self.layout = (0..self.layout.len()).map(Block::new).collect();
    }

    /// Predecessor counts of every block (by arena index), counting each
    /// block call once.
    pub fn pred_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.blocks.len()];
        for b in &self.layout {
            for c in self.block(*b).term.targets() {
                counts[c.block.index()] += 1;
            }
        }
        counts
    }
}

/// A table of functions for indirect calls (WASM tables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Entries; `None` for an empty slot (calling it traps).
    pub entries: Vec<Option<FuncId>>,
}

/// A module: functions (the first is the contract's entry point, taking no
/// parameters and ending in `exit`), tables, and the contract's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Functions, indexed by [`FuncId`].
    pub functions: Vec<Function>,
    /// Tables for `call_indirect`.
    pub tables: Vec<Table>,
    /// The contract's own code, which `host.codesize` and `host.codecopy`
    /// read: a backend embeds it (an engine may take it from its host
    /// instead; for a module lifted from EVM code the two are the same
    /// bytes). Empty for a module that has none. Prints as `code = 0x..`.
    pub code: Vec<u8>,
}

impl Module {
    /// A module with one function.
    pub fn with_function(f: Function) -> Self {
        Module {
            functions: vec![f],
            tables: vec![],
            code: vec![],
        }
    }

    /// Compacts every function (see [`Function::compact`]).
    pub fn compact(&mut self) {
        self.functions.iter_mut().for_each(Function::compact);
    }

    /// Number of instructions in all functions.
    pub fn inst_count(&self) -> usize {
        self.functions.iter().map(Function::inst_count).sum()
    }
}
