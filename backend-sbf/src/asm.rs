//! SBF instructions: encoding, labels and the readable listing.
//!
//! The assembler knows the SBPF v3 instruction set this backend uses (the
//! V0 ALU, memory and jump classes, `lddw`, static syscalls and relative
//! internal calls). Jumps and calls name labels; [`Asm::finish`] resolves
//! them into offsets and fails, rather than wrapping, when a jump does not
//! fit the 16-bit offset field.

use crate::Error;
use std::fmt::Write as _;

/// A register `r0`..`r10`.
pub type Reg = u8;

/// Return value and scratch.
pub const R0: Reg = 0;
/// First argument and scratch.
pub const R1: Reg = 1;
/// Second argument and scratch.
pub const R2: Reg = 2;
/// Third argument and scratch.
pub const R3: Reg = 3;
/// Fourth argument and scratch.
pub const R4: Reg = 4;
/// Fifth argument and scratch.
pub const R5: Reg = 5;
/// Callee-saved (the VM restores it on `exit` from an internal call).
pub const R6: Reg = 6;
/// Callee-saved.
pub const R7: Reg = 7;
/// Callee-saved.
pub const R8: Reg = 8;
/// Callee-saved; generated code keeps the heap base here.
pub const R9: Reg = 9;
/// The read-only frame pointer.
pub const R10: Reg = 10;

/// A label: a position in the program, bound once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Label(u32);

/// 64-bit ALU operations (the `op` nibble of class 0x07).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Alu {
    Add = 0x00,
    Sub = 0x10,
    Mul = 0x20,
    Div = 0x30,
    Or = 0x40,
    And = 0x50,
    Lsh = 0x60,
    Rsh = 0x70,
    Mod = 0x90,
    Xor = 0xa0,
    Mov = 0xb0,
    Arsh = 0xc0,
}

/// Jump conditions (the `op` nibble of class 0x05).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Cond {
    Eq = 0x10,
    Gt = 0x20,
    Ge = 0x30,
    Set = 0x40,
    Ne = 0x50,
    Sgt = 0x60,
    Sge = 0x70,
    Lt = 0xa0,
    Le = 0xb0,
    Slt = 0xc0,
    Sle = 0xd0,
}

/// Access widths of loads and stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Size {
    B = 0x10,
    H = 0x08,
    W = 0x00,
    Dw = 0x18,
}

impl Size {
    /// The width of an access of `bytes` bytes.
    pub fn of(bytes: usize) -> Size {
        match bytes {
            1 => Size::B,
            2 => Size::H,
            4 => Size::W,
            _ => Size::Dw,
        }
    }
}

#[derive(Debug, Clone)]
enum Item {
    Insn {
        opc: u8,
        dst: Reg,
        src: Reg,
        off: i16,
        imm: i32,
        target: Option<Target>,
    },
    Lddw(Reg, u64),
    Bind(Label),
    Comment(String),
}

impl Item {
    /// `ja l`.
    fn goto(l: Label) -> Item {
        Item::Insn {
            opc: 0x05,
            dst: 0,
            src: 0,
            off: 0,
            imm: 0,
            target: Some(Target::Jump(l)),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Target {
    /// The offset field, relative to the next instruction.
    Jump(Label),
    /// The immediate, relative to the next instruction (internal call).
    Call(Label),
}

/// A program under construction.
#[derive(Debug, Default)]
pub struct Asm {
    items: Vec<Item>,
    labels: u32,
    names: Vec<(Label, String)>,
}

/// murmur3_32 with seed 0: the key of a static syscall.
pub fn syscall_hash(name: &str) -> u32 {
    let data = name.as_bytes();
    let (c1, c2) = (0xcc9e_2d51u32, 0x1b87_3593u32);
    let mut h = 0u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(c1).rotate_left(15).wrapping_mul(c2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut k = 0u32;
        for (i, b) in rest.iter().enumerate() {
            k |= (*b as u32) << (8 * i);
        }
        h ^= k.wrapping_mul(c1).rotate_left(15).wrapping_mul(c2);
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

impl Asm {
    /// A fresh, unbound label.
    pub fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    /// A fresh label that the listing shows as `name:`.
    pub fn named(&mut self, name: &str) -> Label {
        let l = self.label();
        self.names.push((l, name.to_string()));
        l
    }

    /// Binds `l` to the next instruction.
    pub fn bind(&mut self, l: Label) {
        self.items.push(Item::Bind(l));
    }

    /// A comment line in the listing.
    pub fn comment(&mut self, text: impl Into<String>) {
        self.items.push(Item::Comment(text.into()));
    }

    fn insn(&mut self, opc: u8, dst: Reg, src: Reg, off: i16, imm: i32) {
        self.items.push(Item::Insn {
            opc,
            dst,
            src,
            off,
            imm,
            target: None,
        });
    }

    /// `dst op= src`.
    pub fn alu(&mut self, op: Alu, dst: Reg, src: Reg) {
        self.insn(0x07 | op as u8 | 0x08, dst, src, 0, 0);
    }

    /// `dst op= imm` (the immediate is sign-extended to 64 bits).
    pub fn alu_imm(&mut self, op: Alu, dst: Reg, imm: i32) {
        self.insn(0x07 | op as u8, dst, 0, 0, imm);
    }

    /// `dst = src`.
    pub fn mov(&mut self, dst: Reg, src: Reg) {
        self.alu(Alu::Mov, dst, src);
    }

    /// `dst = value`, one instruction when it fits a sign-extended i32.
    pub fn mov64(&mut self, dst: Reg, value: u64) {
        if let Ok(i) = i32::try_from(value as i64) {
            self.alu_imm(Alu::Mov, dst, i);
        } else {
            self.items.push(Item::Lddw(dst, value));
        }
    }

    /// `dst = -dst`.
    pub fn neg(&mut self, dst: Reg) {
        self.insn(0x87, dst, 0, 0, 0);
    }

    /// Byte-swaps `dst` (64 bits) from or to big-endian.
    pub fn be64(&mut self, dst: Reg) {
        self.insn(0xdc, dst, 0, 0, 64);
    }

    /// Byte-swaps the low `bits` (16, 32 or 64) of `dst`, zeroing the rest.
    pub fn be(&mut self, dst: Reg, bits: i32) {
        self.insn(0xdc, dst, 0, 0, bits);
    }

    /// `dst = *(size*)(src + off)`, zero-extended.
    pub fn ldx(&mut self, size: Size, dst: Reg, src: Reg, off: i16) {
        self.insn(0x61 | size as u8, dst, src, off, 0);
    }

    /// `*(size*)(dst + off) = src`.
    pub fn stx(&mut self, size: Size, dst: Reg, off: i16, src: Reg) {
        self.insn(0x63 | size as u8, dst, src, off, 0);
    }

    /// `*(size*)(dst + off) = imm` (sign-extended for `Dw`).
    pub fn st(&mut self, size: Size, dst: Reg, off: i16, imm: i32) {
        self.insn(0x62 | size as u8, dst, 0, off, imm);
    }

    /// `if dst cond src goto l`.
    pub fn jmp(&mut self, cond: Cond, dst: Reg, src: Reg, l: Label) {
        self.items.push(Item::Insn {
            opc: 0x05 | cond as u8 | 0x08,
            dst,
            src,
            off: 0,
            imm: 0,
            target: Some(Target::Jump(l)),
        });
    }

    /// `if dst cond imm goto l` (the immediate is sign-extended).
    pub fn jmp_imm(&mut self, cond: Cond, dst: Reg, imm: i32, l: Label) {
        self.items.push(Item::Insn {
            opc: 0x05 | cond as u8,
            dst,
            src: 0,
            off: 0,
            imm,
            target: Some(Target::Jump(l)),
        });
    }

    /// `goto l`.
    pub fn ja(&mut self, l: Label) {
        self.items.push(Item::goto(l));
    }

    /// An internal call to the function at `l`.
    pub fn call(&mut self, l: Label) {
        self.items.push(Item::Insn {
            opc: 0x85,
            dst: 0,
            src: 1,
            off: 0,
            imm: 0,
            target: Some(Target::Call(l)),
        });
    }

    /// A static syscall by name.
    pub fn syscall(&mut self, name: &str) {
        self.comment(format!("syscall {name}"));
        self.insn(0x85, 0, 0, 0, syscall_hash(name) as i32);
    }

    /// Return from the function, or from the program with `r0`.
    pub fn exit(&mut self) {
        self.insn(0x95, 0, 0, 0, 0);
    }

    /// Instruction positions of the items and of the labels.
    fn layout(&self) -> (Vec<i64>, Vec<Option<i64>>) {
        let mut at = vec![None; self.labels as usize];
        let mut pos = Vec::with_capacity(self.items.len());
        let mut pc = 0i64;
        for item in &self.items {
            pos.push(pc);
            match item {
                Item::Insn { .. } => pc += 1,
                Item::Lddw(..) => pc += 2,
                Item::Bind(l) => at[l.0 as usize] = Some(pc),
                Item::Comment(_) => {}
            }
        }
        (pos, at)
    }

    /// Gives every jump whose target is out of the 16-bit range a nearer
    /// island: `island: ja target`, placed after an instruction that does
    /// not fall through, as far towards the target as the range allows.
    /// Repeats until every jump fits (an island's own jump may need
    /// another hop).
    fn relax(&mut self) -> Result<(), Error> {
        const REACH: i64 = 30_000;
        for _round in 0..64 {
            let (pos, at) = self.layout();
            let barrier = |item: &Item| {
                matches!(
                    item,
                    Item::Insn {
                        opc: 0x05 | 0x95,
                        ..
                    }
                )
            };
            let barriers: Vec<usize> = (0..self.items.len())
                .filter(|i| barrier(&self.items[*i]))
                .collect();
            // Positions after each barrier, ascending (items are in order).
            let after: Vec<i64> = barriers.iter().map(|b| pos[*b] + 1).collect();
            // (insert after, island, target); one island per place and
            // target, shared by every jump that needs it.
            let mut islands: Vec<(usize, Label, Label)> = vec![];
            let mut shared: std::collections::HashMap<(usize, Label), Label> =
                std::collections::HashMap::new();
            let mut changed = false;
            for (i, p) in pos.iter().enumerate() {
                let Some(Item::Insn {
                    target: Some(Target::Jump(l)),
                    ..
                }) = self.items.get(i)
                else {
                    continue;
                };
                let l = *l;
                let Some(t) = at[l.0 as usize] else { continue };
                let from = p + 1;
                if (t - from).abs() <= i16::MAX as i64 {
                    continue;
                }
                // The barrier closest to REACH away, towards the target.
                let best = if t > from {
                    let k = after.partition_point(|p| *p <= (from + REACH).min(t - 1));
                    (k > 0 && after[k - 1] > from).then(|| barriers[k - 1])
                } else {
                    let k = after.partition_point(|p| *p < (from - REACH).max(t + 1));
                    (k < after.len() && after[k] <= from).then(|| barriers[k])
                };
                let Some(b) = best else {
                    return Err(Error::TargetLimit {
                        what:
                            "a jump spans more than 32,767 instructions with no place for an island"
                                .into(),
                    });
                };
                let island = match shared.get(&(b, l)) {
                    Some(island) => *island,
                    None => {
                        let island = self.label();
                        shared.insert((b, l), island);
                        islands.push((b, island, l));
                        island
                    }
                };
                if let Item::Insn { target, .. } = &mut self.items[i] {
                    *target = Some(Target::Jump(island));
                }
                changed = true;
            }
            if !changed {
                return Ok(());
            }
            // Insert every island after its barrier in one pass.
            islands.sort_by_key(|(b, _, _)| *b);
            let mut next = islands.into_iter().peekable();
            let items = std::mem::take(&mut self.items);
            for (k, item) in items.into_iter().enumerate() {
                self.items.push(item);
                while let Some((_, island, target)) = next.next_if(|(b, _, _)| *b == k) {
                    self.items.push(Item::Bind(island));
                    self.items.push(Item::goto(target));
                }
            }
        }
        Err(Error::TargetLimit {
            what: "jumps too far apart to reach through islands".into(),
        })
    }

    /// Resolves labels: the text bytes and the listing.
    pub fn finish(&mut self) -> Result<(Vec<u8>, String), Error> {
        self.relax()?;
        let (pos, at) = self.layout();
        let end = pos.last().copied().unwrap_or(0) + 2;
        let names: std::collections::HashMap<Label, &str> =
            self.names.iter().map(|(l, n)| (*l, n.as_str())).collect();
        let mut text = Vec::with_capacity(end as usize * 8);
        let mut listing = String::new();
        let mut pc = 0i64;
        for item in &self.items {
            match item {
                Item::Insn {
                    opc,
                    dst,
                    src,
                    off,
                    imm,
                    target,
                } => {
                    let (mut off, mut imm) = (*off, *imm);
                    let resolve = |l: &Label| -> Result<i64, Error> {
                        at[l.0 as usize]
                            .map(|t| t - (pc + 1))
                            .ok_or_else(|| Error::Internal("jump to an unbound label".into()))
                    };
                    match target {
                        Some(Target::Jump(l)) => {
                            off = i16::try_from(resolve(l)?).map_err(|_| Error::TargetLimit {
                                what: "a jump spans more than 32,767 instructions".into(),
                            })?;
                        }
                        Some(Target::Call(l)) => imm = resolve(l)? as i32,
                        None => {}
                    }
                    text.push(*opc);
                    text.push((src << 4) | dst);
                    text.extend_from_slice(&off.to_le_bytes());
                    text.extend_from_slice(&imm.to_le_bytes());
                    let _ = writeln!(
                        listing,
                        "{pc:6}:  {}",
                        render(*opc, *dst, *src, off, imm, pc)
                    );
                    pc += 1;
                }
                Item::Lddw(dst, v) => {
                    text.extend_from_slice(&[0x18, *dst, 0, 0]);
                    text.extend_from_slice(&(*v as u32).to_le_bytes());
                    text.extend_from_slice(&[0, 0, 0, 0]);
                    text.extend_from_slice(&((*v >> 32) as u32).to_le_bytes());
                    let _ = writeln!(listing, "{pc:6}:  lddw r{dst}, {v:#x}");
                    pc += 2;
                }
                Item::Bind(l) => {
                    if let Some(n) = names.get(l) {
                        let _ = writeln!(listing, "{n}:");
                    }
                }
                Item::Comment(c) => {
                    let _ = writeln!(listing, "        ; {c}");
                }
            }
        }
        Ok((text, listing))
    }
}

fn render(opc: u8, dst: Reg, src: Reg, off: i16, imm: i32, pc: i64) -> String {
    let class = opc & 0x07;
    let op = opc & 0xf0;
    let reg = opc & 0x08 != 0;
    let operand = if reg {
        format!("r{src}")
    } else {
        format!("{imm}")
    };
    let width = |o: u8| match o & 0x18 {
        0x10 => "b",
        0x08 => "h",
        0x00 => "w",
        _ => "dw",
    };
    match class {
        0x07 => {
            let name = match op {
                0x00 => "add64",
                0x10 => "sub64",
                0x20 => "mul64",
                0x30 => "div64",
                0x40 => "or64",
                0x50 => "and64",
                0x60 => "lsh64",
                0x70 => "rsh64",
                0x80 => return format!("neg64 r{dst}"),
                0x90 => "mod64",
                0xa0 => "xor64",
                0xb0 => "mov64",
                0xc0 => "arsh64",
                _ => "alu64?",
            };
            format!("{name} r{dst}, {operand}")
        }
        0x04 if opc == 0xdc => format!("be{imm} r{dst}"),
        0x01 => format!("ldx{} r{dst}, [r{src}{off:+}]", width(opc)),
        0x03 => format!("stx{} [r{dst}{off:+}], r{src}", width(opc)),
        0x02 => format!("st{} [r{dst}{off:+}], {imm}", width(opc)),
        0x05 => {
            let to = pc + 1 + off as i64;
            match opc {
                0x05 => format!("ja {to}"),
                0x85 if src == 1 => format!("call {}", pc + 1 + imm as i64),
                0x85 => format!("syscall {:#010x}", imm as u32),
                0x95 => "exit".into(),
                _ => {
                    let name = match op {
                        0x10 => "jeq",
                        0x20 => "jgt",
                        0x30 => "jge",
                        0x40 => "jset",
                        0x50 => "jne",
                        0x60 => "jsgt",
                        0x70 => "jsge",
                        0xa0 => "jlt",
                        0xb0 => "jle",
                        0xc0 => "jslt",
                        0xd0 => "jsle",
                        _ => "j?",
                    };
                    format!("{name} r{dst}, {operand}, {to}")
                }
            }
        }
        _ => format!("{opc:#04x} r{dst}, r{src}, {off}, {imm}"),
    }
}
