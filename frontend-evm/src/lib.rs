//! EVM bytecode front end: disassembly, compiler metadata, basic blocks, the
//! control-flow graph and recovery of the external-function dispatcher.
//!
//! [`analyze`] runs every stage on runtime bytecode and returns one
//! [`Analysis`]. Each stage is bounded (see [`cfg::CfgOptions`] and
//! [`dispatch::DispatchOptions`]) and none panics on any input: undefined bytes
//! are undefined instructions, truncated PUSH data is marked as such, and
//! analyses that run out of budget say so in their result.
//!
//! The *code section* is the bytecode minus the compiler's metadata trailer
//! and, for Vyper 0.4, minus its data section (both located from the trailer).
//! Instructions, blocks and the CFG cover the code section; JUMPDEST analysis
//! and CODECOPY/CODESIZE see the whole bytecode, as the EVM does.

#![deny(missing_docs)]

pub mod cfg;
pub mod disasm;
pub mod dispatch;
pub mod eval;
pub mod lift;
pub mod metadata;
pub mod opcode;
pub mod pipeline;

pub use cfg::{Cfg, CfgOptions};
pub use disasm::Instruction;
pub use dispatch::{Dispatch, DispatchOptions};
pub use metadata::Metadata;
pub use opcode::{Fork, OpInfo};

use std::collections::BTreeMap;

/// The largest bytecode accepted, far above the 24 KiB mainnet limit (EIP-170)
/// and the 48 KiB initcode limit, so that analyses stay bounded.
pub const MAX_CODE_SIZE: usize = 1 << 20;

/// Errors of the EVM front end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The bytecode is larger than [`MAX_CODE_SIZE`].
    #[error("bytecode is {len} bytes, more than the {limit}-byte limit of the analysis")]
    TooLarge {
        /// Size of the input.
        len: usize,
        /// The limit.
        limit: usize,
    },
}

/// Options of [`analyze`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The rules the bytecode is read under.
    pub fork: Fork,
    /// Limits of the CFG analysis.
    pub cfg: CfgOptions,
    /// Limits of dispatch recovery.
    pub dispatch: DispatchOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fork: Fork::LATEST,
            cfg: CfgOptions::default(),
            dispatch: DispatchOptions::default(),
        }
    }
}

/// Everything the front end knows about one runtime bytecode.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The whole bytecode.
    pub bytes: Vec<u8>,
    /// The rules it was read under.
    pub fork: Fork,
    /// The compiler metadata trailer, when there is one.
    pub metadata: Option<Metadata>,
    /// End of the code section (exclusive).
    pub code_end: usize,
    /// Instructions of the code section.
    pub instructions: Vec<Instruction>,
    /// JUMPDEST validity of every offset of the whole bytecode.
    pub jumpdests: Vec<bool>,
    /// The control-flow graph of the code section.
    pub cfg: Cfg,
    /// The recovered dispatcher.
    pub dispatch: Dispatch,
}

impl Analysis {
    /// The code section.
    pub fn code(&self) -> &[u8] {
        &self.bytes[..self.code_end]
    }

    /// Opcodes used in the code section that a fork after Frontier introduced,
    /// grouped by that fork.
    pub fn fork_features(&self) -> BTreeMap<Fork, Vec<&'static str>> {
        let mut out: BTreeMap<Fork, Vec<&'static str>> = BTreeMap::new();
        for ins in &self.instructions {
            if let Some(info) = ins.info
                && info.since > Fork::Frontier
            {
                let names = out.entry(info.since).or_default();
                if !names.contains(&info.name) {
                    names.push(info.name);
                }
            }
        }
        for names in out.values_mut() {
            names.sort_unstable();
        }
        out
    }

    /// The id of the CFG block holding `pc`.
    pub fn block_containing(&self, pc: u32) -> Option<usize> {
        let blocks = &self.cfg.blocks;
        let i = blocks.partition_point(|b| b.start <= pc).checked_sub(1)?;
        (pc <= blocks[i].end).then_some(i)
    }

    /// The oldest fork whose rules define every opcode the code section uses.
    pub fn minimum_fork(&self) -> Fork {
        self.fork_features()
            .keys()
            .next_back()
            .copied()
            .unwrap_or(Fork::Frontier)
    }
}

/// Disassembles `bytes` and builds its CFG and dispatcher.
pub fn analyze(bytes: &[u8], options: &Options) -> Result<Analysis, Error> {
    if bytes.len() > MAX_CODE_SIZE {
        return Err(Error::TooLarge {
            len: bytes.len(),
            limit: MAX_CODE_SIZE,
        });
    }
    let metadata = metadata::detect(bytes);
    let code_end = metadata.as_ref().map_or(bytes.len(), |m| {
        m.data_offset.unwrap_or(m.offset).min(m.offset)
    });
    let instructions = disasm::disassemble_until(bytes, code_end, options.fork);
    // The code section ends at an instruction boundary.
    let code_end = instructions
        .last()
        .map_or(0, |i| (i.next_pc() as usize).max(code_end));
    let jumpdests = disasm::jumpdests(bytes);
    let dispatch = dispatch::recover(bytes, &instructions, &jumpdests, options.dispatch);
    let hints = dispatch.observed_jumps.iter().cloned().collect();
    let cfg = cfg::build(
        bytes,
        &instructions,
        &jumpdests,
        code_end,
        &hints,
        options.cfg,
    );
    Ok(Analysis {
        bytes: bytes.to_vec(),
        fork: options.fork,
        metadata,
        code_end,
        instructions,
        jumpdests,
        cfg,
        dispatch,
    })
}
