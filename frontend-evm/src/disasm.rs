//! Linear disassembly of EVM bytecode and JUMPDEST analysis.
//!
//! Disassembly never fails: bytes no fork defines are kept as undefined
//! instructions (executing one halts exceptionally), and a PUSH whose data runs
//! past the end of the code is kept with the bytes that exist and marked
//! truncated (the EVM reads the missing bytes as zeros).

use crate::opcode::{self, Flow, Fork, OpInfo, op};
use alloy_primitives::U256;

/// One decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instruction {
    /// Byte offset of the opcode.
    pub pc: u32,
    /// The opcode byte.
    pub opcode: u8,
    /// What the byte means under the chosen fork; `None` for an undefined byte.
    pub info: Option<&'static OpInfo>,
    /// Number of immediate bytes actually present after the opcode.
    pub imm_len: u8,
    /// Number of immediate bytes missing because the code ended (truncated PUSH).
    pub imm_missing: u8,
}

impl Instruction {
    /// The mnemonic, or `UNKNOWN_0xNN` for an undefined byte.
    pub fn name(&self) -> String {
        match self.info {
            Some(info) => info.name.to_string(),
            None => format!("UNKNOWN_{:#04x}", self.opcode),
        }
    }

    /// The immediate bytes present in `code`.
    pub fn immediate<'a>(&self, code: &'a [u8]) -> &'a [u8] {
        let start = self.pc as usize + 1;
        code.get(start..start + self.imm_len as usize)
            .unwrap_or(&[])
    }

    /// The value a PUSH places on the stack: the immediate read big-endian,
    /// with missing bytes of a truncated PUSH read as zeros (as the EVM does).
    pub fn push_value(&self, code: &[u8]) -> U256 {
        let imm = self.immediate(code);
        let mut word = [0u8; 32];
        let total = imm.len() + self.imm_missing as usize;
        if total == 0 || total > 32 {
            return U256::ZERO;
        }
        word[32 - total..32 - total + imm.len()].copy_from_slice(imm);
        U256::from_be_bytes(word)
    }

    /// Whether this is a PUSH (PUSH0 included).
    pub fn is_push(&self) -> bool {
        self.info.is_some() && (op::PUSH0..=op::PUSH32).contains(&self.opcode)
    }

    /// The instruction's effect on control flow; undefined bytes halt.
    pub fn flow(&self) -> Flow {
        self.info.map_or(Flow::Halt, |i| i.flow)
    }

    /// The byte offset just after the instruction and its immediate.
    pub fn next_pc(&self) -> u32 {
        self.pc + 1 + self.imm_len as u32
    }

    /// Whether the PUSH data runs past the end of the code.
    pub fn is_truncated(&self) -> bool {
        self.imm_missing > 0
    }
}

/// Decodes every instruction of `code` under `fork`'s rules, from offset 0.
pub fn disassemble(code: &[u8], fork: Fork) -> Vec<Instruction> {
    disassemble_until(code, code.len(), fork)
}

/// Decodes the instructions of `code` that start before `end`. The last one
/// may read its immediate past `end`, as the EVM does when a PUSH runs into a
/// metadata trailer; it is truncated only by the end of `code`.
pub fn disassemble_until(code: &[u8], end: usize, fork: Fork) -> Vec<Instruction> {
    let end = end.min(code.len());
    let mut out = Vec::with_capacity(end / 2 + 1);
    let mut pc = 0usize;
    while pc < end {
        let byte = code[pc];
        let info = opcode::lookup(byte, fork);
        let want = info.map_or(0, |i| i.immediate as usize);
        let have = want.min(code.len() - pc - 1);
        out.push(Instruction {
            pc: pc as u32,
            opcode: byte,
            info,
            imm_len: have as u8,
            imm_missing: (want - have) as u8,
        });
        pc += 1 + have;
    }
    out
}

/// The valid jump targets of `code`: offsets holding a JUMPDEST byte that is an
/// opcode, not PUSH data. As in the EVM, only PUSH data is skipped: the
/// immediates of DUPN/SWAPN/EXCHANGE are not (EIP-8024).
pub fn jumpdests(code: &[u8]) -> Vec<bool> {
    let mut valid = vec![false; code.len()];
    let mut pc = 0usize;
    while pc < code.len() {
        let byte = code[pc];
        if byte == op::JUMPDEST {
            valid[pc] = true;
        }
        pc += 1;
        if (op::PUSH1..=op::PUSH32).contains(&byte) {
            pc += (byte - op::PUSH0) as usize;
        }
    }
    valid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: &[u8], fork: Fork, expected: &[(u32, &str, &str)]) {
        let got: Vec<(u32, String, String)> = disassemble(code, fork)
            .iter()
            .map(|i| {
                let imm: String = i
                    .immediate(code)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                (i.pc, i.name(), imm)
            })
            .collect();
        let expected: Vec<(u32, String, String)> = expected
            .iter()
            .map(|(p, n, i)| (*p, n.to_string(), i.to_string()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn basic_and_truncated() {
        check(
            &[0x60, 0x80, 0x5f, 0x0c, 0x61, 0x12],
            Fork::Osaka,
            &[
                (0, "PUSH1", "80"),
                (2, "PUSH0", ""),
                (3, "UNKNOWN_0x0c", ""),
                (4, "PUSH2", "12"),
            ],
        );
        let ins = disassemble(&[0x61, 0x12], Fork::Osaka);
        assert!(ins[0].is_truncated());
        assert_eq!(ins[0].push_value(&[0x61, 0x12]), U256::from(0x1200));
    }

    #[test]
    fn fork_aware() {
        check(
            &[0x5f, 0x1e],
            Fork::Constantinople,
            &[(0, "UNKNOWN_0x5f", ""), (1, "UNKNOWN_0x1e", "")],
        );
        check(
            &[0xe6, 0x5b, 0x00],
            Fork::Osaka,
            &[
                (0, "UNKNOWN_0xe6", ""),
                (1, "JUMPDEST", ""),
                (2, "STOP", ""),
            ],
        );
        check(
            &[0xe6, 0x5b, 0x00],
            Fork::Amsterdam,
            &[(0, "DUPN", "5b"), (2, "STOP", "")],
        );
    }

    #[test]
    fn jumpdest_analysis_skips_push_data_only() {
        assert_eq!(jumpdests(&[0x60, 0x5b, 0x5b]), vec![false, false, true]);
        assert_eq!(jumpdests(&[0xe6, 0x5b]), vec![false, true]);
    }
}
