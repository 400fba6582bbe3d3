//! The Arbitrum Stylus host functions our contracts use, and what they
//! share: calldata, results, reverts with ABI-encoded errors, 256-bit words
//! as four little-endian `u64` limbs, storage slots and mappings in
//! Solidity's layout, events.

#![no_std]

#[link(wasm_import_module = "vm_hooks")]
unsafe extern "C" {
    fn read_args(dest: *mut u8);
    fn write_result(data: *const u8, len: usize);
    fn storage_load_bytes32(key: *const u8, dest: *mut u8);
    fn storage_cache_bytes32(key: *const u8, value: *const u8);
    fn storage_flush_cache(clear: u32);
    fn msg_sender(dest: *mut u8);
    fn native_keccak256(data: *const u8, len: usize, out: *mut u8);
    fn emit_log(data: *const u8, len: usize, topics: usize);
    fn call_contract(
        to: *const u8,
        data: *const u8,
        len: usize,
        value: *const u8,
        gas: u64,
        ret_len: *mut usize,
    ) -> u8;
    fn static_call_contract(
        to: *const u8,
        data: *const u8,
        len: usize,
        gas: u64,
        ret_len: *mut usize,
    ) -> u8;
    fn read_return_data(dest: *mut u8, offset: usize, size: usize) -> usize;
}

/// Calldata and return data the contracts handle fit here.
pub const MAX_DATA: usize = 1024;

/// A 256-bit word: four `u64` limbs, least significant first.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct U256(pub [u64; 4]);

impl Ord for U256 {
    /// By value: the most significant limb first.
    fn cmp(&self, o: &U256) -> core::cmp::Ordering {
        self.0.iter().rev().cmp(o.0.iter().rev())
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, o: &U256) -> Option<core::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl U256 {
    /// Zero.
    pub const ZERO: U256 = U256([0; 4]);

    /// A small value.
    pub const fn from_u64(v: u64) -> U256 {
        U256([v, 0, 0, 0])
    }

    /// From 32 big-endian bytes.
    pub fn from_be(b: &[u8; 32]) -> U256 {
        let mut l = [0u64; 4];
        for (i, limb) in l.iter_mut().enumerate() {
            let at = 24 - 8 * i;
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[at..at + 8]);
            *limb = u64::from_be_bytes(w);
        }
        U256(l)
    }

    /// To 32 big-endian bytes.
    pub fn to_be(self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (i, limb) in self.0.iter().enumerate() {
            let at = 24 - 8 * i;
            b[at..at + 8].copy_from_slice(&limb.to_be_bytes());
        }
        b
    }

    /// `self + o` and whether it overflowed.
    pub fn overflowing_add(self, o: U256) -> (U256, bool) {
        let mut r = [0u64; 4];
        let mut carry = false;
        for (i, limb) in r.iter_mut().enumerate() {
            let (s, c1) = self.0[i].overflowing_add(o.0[i]);
            let (s, c2) = s.overflowing_add(carry as u64);
            *limb = s;
            carry = c1 || c2;
        }
        (U256(r), carry)
    }

    /// `self - o`, wrapping.
    pub fn wrapping_sub(self, o: U256) -> U256 {
        let mut r = [0u64; 4];
        let mut borrow = false;
        for (i, limb) in r.iter_mut().enumerate() {
            let (d, b1) = self.0[i].overflowing_sub(o.0[i]);
            let (d, b2) = d.overflowing_sub(borrow as u64);
            *limb = d;
            borrow = b1 || b2;
        }
        U256(r)
    }

    /// `self * o` modulo 2^256 (schoolbook on 32-bit halves of the limbs).
    pub fn wrapping_mul(self, o: U256) -> U256 {
        let mut r = [0u64; 4];
        for i in 0..4 {
            let mut carry: u128 = 0;
            for j in 0..4 - i {
                let t = self.0[i] as u128 * o.0[j] as u128 + r[i + j] as u128 + carry;
                r[i + j] = t as u64;
                carry = t >> 64;
            }
        }
        U256(r)
    }

    /// The low 64 bits, if the rest is zero.
    pub fn to_u64(self) -> Option<u64> {
        (self.0[1] | self.0[2] | self.0[3] == 0).then_some(self.0[0])
    }
}

/// A 20-byte address.
pub type Address = [u8; 20];

/// The call's calldata, copied into `buf`; `None` when it does not fit.
pub fn args(len: usize, buf: &mut [u8; MAX_DATA]) -> Option<&[u8]> {
    if len > MAX_DATA {
        return None;
    }
    // SAFETY: the host writes `len` bytes, which fit in `buf`.
    unsafe { read_args(buf.as_mut_ptr()) };
    Some(&buf[..len])
}

/// Sets the call's result (return or revert data).
pub fn output(data: &[u8]) {
    // SAFETY: the host reads `data`.
    unsafe {
        storage_flush_cache(0);
        write_result(data.as_ptr(), data.len())
    }
}

/// The `i`-th 32-byte argument word after the selector.
pub fn word_arg(input: &[u8], i: usize) -> Option<U256> {
    let at = 4 + 32 * i;
    let bytes: &[u8; 32] = input.get(at..at + 32)?.try_into().ok()?;
    Some(U256::from_be(bytes))
}

/// The `i`-th argument as an address (its high 12 bytes must be zero).
pub fn address_arg(input: &[u8], i: usize) -> Option<Address> {
    let at = 4 + 32 * i;
    let word = input.get(at..at + 32)?;
    if word[..12].iter().any(|b| *b != 0) {
        return None;
    }
    let mut a = [0u8; 20];
    a.copy_from_slice(&word[12..]);
    Some(a)
}

/// An address as an ABI word.
pub fn address_word(a: &Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a);
    w
}

/// The caller.
pub fn sender() -> Address {
    let mut a = [0u8; 20];
    // SAFETY: the host writes 20 bytes.
    unsafe { msg_sender(a.as_mut_ptr()) };
    a
}

/// keccak256 of `data`.
pub fn keccak(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: the host reads `data` and writes 32 bytes.
    unsafe { native_keccak256(data.as_ptr(), data.len(), out.as_mut_ptr()) };
    out
}

/// Storage slot `key`.
pub fn load(key: &[u8; 32]) -> U256 {
    let mut v = [0u8; 32];
    // SAFETY: the host reads and writes 32 bytes.
    unsafe { storage_load_bytes32(key.as_ptr(), v.as_mut_ptr()) };
    U256::from_be(&v)
}

/// Sets storage slot `key`.
pub fn store(key: &[u8; 32], value: U256) {
    let v = value.to_be();
    // SAFETY: the host reads 32 bytes from each.
    unsafe { storage_cache_bytes32(key.as_ptr(), v.as_ptr()) };
}

/// Slot `n` as a key.
pub fn slot(n: u64) -> [u8; 32] {
    U256::from_u64(n).to_be()
}

/// The slot of `mapping[key]` for a mapping at slot `n` (Solidity's rule:
/// keccak256(key . n)).
pub fn mapping_slot(key: &Address, n: u64) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(&address_word(key));
    buf[32..].copy_from_slice(&slot(n));
    keccak(&buf)
}

/// Emits an event: `topics` 32-byte words, then the data.
pub fn log(topics: &[[u8; 32]], data: &[u8]) {
    let mut buf = [0u8; 4 * 32 + 256];
    let n = topics.len() * 32;
    for (i, t) in topics.iter().enumerate() {
        buf[32 * i..32 * i + 32].copy_from_slice(t);
    }
    buf[n..n + data.len()].copy_from_slice(data);
    // SAFETY: the host reads `n + data.len()` bytes.
    unsafe { emit_log(buf.as_ptr(), n + data.len(), topics.len()) };
}

/// An ABI-encoded custom error (selector and word arguments) as the
/// result; the entry then returns 1 (revert).
pub fn revert_with(selector: [u8; 4], words: &[[u8; 32]]) -> i32 {
    let mut buf = [0u8; 4 + 4 * 32];
    buf[..4].copy_from_slice(&selector);
    for (i, w) in words.iter().enumerate() {
        buf[4 + 32 * i..4 + 32 * i + 32].copy_from_slice(w);
    }
    output(&buf[..4 + 32 * words.len()]);
    1
}

/// Returns ABI words.
pub fn return_words(words: &[[u8; 32]]) -> i32 {
    let mut buf = [0u8; 4 * 32];
    for (i, w) in words.iter().enumerate() {
        buf[32 * i..32 * i + 32].copy_from_slice(w);
    }
    output(&buf[..32 * words.len()]);
    0
}

/// How an outgoing call ended: whether it succeeded and its return data.
pub struct Called<'a> {
    /// Whether the callee succeeded.
    pub ok: bool,
    /// Its return (or revert) data, cut to [`MAX_DATA`].
    pub data: &'a [u8],
}

/// Calls `to` with `input` (`is_static`: a static call), all gas, no value;
/// the return data lands in `buf`.
pub fn call<'a>(
    to: &Address,
    input: &[u8],
    is_static: bool,
    buf: &'a mut [u8; MAX_DATA],
) -> Called<'a> {
    let mut len = 0usize;
    let value = [0u8; 32];
    // SAFETY: the host reads `input`, 20 address bytes and 32 value bytes,
    // and writes the return data's length.
    let status = unsafe {
        storage_flush_cache(0);
        if is_static {
            static_call_contract(to.as_ptr(), input.as_ptr(), input.len(), u64::MAX, &mut len)
        } else {
            call_contract(
                to.as_ptr(),
                input.as_ptr(),
                input.len(),
                value.as_ptr(),
                u64::MAX,
                &mut len,
            )
        }
    };
    let n = len.min(MAX_DATA);
    // SAFETY: the host writes at most `n` bytes into `buf`.
    let n = unsafe { read_return_data(buf.as_mut_ptr(), 0, n) };
    Called {
        ok: status == 0,
        data: &buf[..n],
    }
}

/// A contract's panic: trap.
pub fn abort() -> ! {
    core::arch::wasm32::unreachable()
}
