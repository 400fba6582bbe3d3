//! The SBPF v3 ELF container.
//!
//! SBPF v3 (SIMD-0189) fixes the file layout, so the writer is short: the
//! 64-byte file header with `e_flags = 3`, two program headers right after
//! it, then the read-only data (`PT_LOAD PF_R` at virtual address 0) and the
//! code (`PT_LOAD PF_X` at 0x1_0000_0000), back to back, each a multiple of
//! 8 bytes. There are no sections, symbols or relocations: syscalls are
//! static and internal calls relative.

/// Where the loader maps the read-only data.
pub const RODATA_VADDR: u64 = 0;
/// Where the loader maps the code.
pub const TEXT_VADDR: u64 = 1 << 32;

const EHDR: usize = 64;
const PHDR: usize = 56;

/// The ELF bytes for `rodata` and `text` (both padded to 8 here), entering
/// at instruction `entry`.
pub fn write(rodata: &[u8], text: &[u8], entry: usize) -> Vec<u8> {
    let pad8 = |b: &[u8]| {
        let mut v = b.to_vec();
        // The loader wants a non-empty, 8-byte multiple for each segment.
        while v.is_empty() || !v.len().is_multiple_of(8) {
            v.push(0);
        }
        v
    };
    let (rodata, text) = (pad8(rodata), pad8(text));
    let ro_off = (EHDR + 2 * PHDR) as u64;
    let text_off = ro_off + rodata.len() as u64;
    let mut out = Vec::with_capacity(text_off as usize + text.len());
    // e_ident: magic, 64-bit, little-endian, version 1, System V ABI 0.
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&3u16.to_le_bytes()); // e_type: ET_DYN
    out.extend_from_slice(&247u16.to_le_bytes()); // e_machine: EM_BPF
    out.extend_from_slice(&1u32.to_le_bytes()); // e_version
    out.extend_from_slice(&(TEXT_VADDR + 8 * entry as u64).to_le_bytes()); // e_entry
    out.extend_from_slice(&(EHDR as u64).to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    out.extend_from_slice(&3u32.to_le_bytes()); // e_flags: SBPF v3
    out.extend_from_slice(&(EHDR as u16).to_le_bytes()); // e_ehsize
    out.extend_from_slice(&(PHDR as u16).to_le_bytes()); // e_phentsize
    out.extend_from_slice(&2u16.to_le_bytes()); // e_phnum
    out.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
    for (flags, off, vaddr, len) in [
        (4u32, ro_off, RODATA_VADDR, rodata.len() as u64), // PF_R
        (1u32, text_off, TEXT_VADDR, text.len() as u64),   // PF_X
    ] {
        out.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&vaddr.to_le_bytes()); // p_vaddr
        out.extend_from_slice(&vaddr.to_le_bytes()); // p_paddr
        out.extend_from_slice(&len.to_le_bytes()); // p_filesz
        out.extend_from_slice(&len.to_le_bytes()); // p_memsz
        out.extend_from_slice(&8u64.to_le_bytes()); // p_align
    }
    out.extend_from_slice(&rodata);
    out.extend_from_slice(&text);
    out
}
