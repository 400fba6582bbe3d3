//! The long 256-bit operations as IR functions on `i64` limbs, added to a
//! module once, on first use, after its own functions.
//!
//! Each helper has a fixed name (`%u256_mul`, ...) and signature, so a
//! backend may replace one by an intrinsic of its own (a native 64×64→128
//! multiply for `%mul_wide_u64`, say) by name. Words are passed as four
//! `i64` limbs, least significant first.

// Limb arithmetic reads best with limb indices.
#![allow(clippy::needless_range_loop)]

use super::builder::{Builder, Word};
use crate::entities::{FuncId, Value};
use crate::function::Function;
use crate::inst::{BinOp, Cond, SourcePos};
use crate::types::Type;
use alloy_primitives::U256;
use rustc_hash::FxHashMap;

/// A runtime helper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Helper {
    /// `(a, b) -> (lo, hi)`: the 128-bit product of two `i64`.
    MulWide,
    /// `(a, b) -> a * b mod 2^256`.
    Mul,
    /// `(a, b) -> (a / b, a % b)` unsigned; both 0 when `b` is 0.
    DivRem,
    /// `(a, b) -> (a / b, a % b)` signed (EVM SDIV and SMOD).
    SDivRem,
    /// `(a, b, n) -> (a + b) mod n` with the 257-bit sum; 0 when `n` is 0.
    AddMod,
    /// `(a, b, n) -> (a * b) mod n` with the 512-bit product; 0 when `n` is 0.
    MulMod,
    /// `(a, b) -> a ** b mod 2^256`.
    Exp,
    /// `(a, s) -> a << s` (0 when `s` >= 256).
    Shl,
    /// `(a, s) -> a >> s` logical.
    LShr,
    /// `(a, s) -> a >> s` arithmetic (the sign fills when `s` >= 256).
    AShr,
    /// `(b, x) -> SIGNEXTEND(b, x)`.
    SignExtend,
    /// `(i, x) -> BYTE(i, x)`.
    Byte,
    /// `(a) -> leading zero bits of a` (256 for 0).
    Clz,
}

impl Helper {
    /// Every helper.
    pub const ALL: [Helper; 13] = [
        Helper::MulWide,
        Helper::Mul,
        Helper::DivRem,
        Helper::SDivRem,
        Helper::AddMod,
        Helper::MulMod,
        Helper::Exp,
        Helper::Shl,
        Helper::LShr,
        Helper::AShr,
        Helper::SignExtend,
        Helper::Byte,
        Helper::Clz,
    ];

    /// The helper a function of this name implements.
    pub fn from_name(name: &str) -> Option<Helper> {
        Helper::ALL.into_iter().find(|h| h.name() == name)
    }

    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            Helper::MulWide => "mul_wide_u64",
            Helper::Mul => "u256_mul",
            Helper::DivRem => "u256_divrem",
            Helper::SDivRem => "u256_sdivrem",
            Helper::AddMod => "u256_addmod",
            Helper::MulMod => "u256_mulmod",
            Helper::Exp => "u256_exp",
            Helper::Shl => "u256_shl",
            Helper::LShr => "u256_lshr",
            Helper::AShr => "u256_ashr",
            Helper::SignExtend => "u256_signextend",
            Helper::Byte => "u256_byte",
            Helper::Clz => "u256_clz",
        }
    }

    /// (parameters, results), all `i64`.
    pub fn signature(self) -> (usize, usize) {
        match self {
            Helper::MulWide => (2, 2),
            Helper::DivRem | Helper::SDivRem => (8, 8),
            Helper::AddMod | Helper::MulMod => (12, 4),
            Helper::Clz => (4, 4),
            _ => (8, 4),
        }
    }
}

/// The helpers a module has so far: they become functions `base`, `base+1`...
pub(crate) struct Runtime {
    base: usize,
    ids: FxHashMap<Helper, FuncId>,
    pub functions: Vec<Function>,
}

impl Runtime {
    pub fn new(base: usize) -> Self {
        Runtime {
            base,
            ids: FxHashMap::default(),
            functions: vec![],
        }
    }

    /// The function implementing `h`, built on first use.
    pub fn get(&mut self, h: Helper) -> FuncId {
        if let Some(id) = self.ids.get(&h) {
            return *id;
        }
        let id = FuncId::new(self.base + self.functions.len());
        self.ids.insert(h, id);
        let (p, r) = h.signature();
        self.functions.push(Function::new(
            h.name(),
            vec![Type::I64; p],
            vec![Type::I64; r],
        ));
        let f = build(self, h);
        self.functions[id.index() - self.base] = f;
        id
    }

    /// Calls `h` with `args` from `b`.
    pub fn call(&mut self, b: &mut Builder, h: Helper, args: &[Value]) -> Vec<Value> {
        let id = self.get(h);
        b.call(id, args, h.signature().1)
    }
}

fn word(v: &[Value]) -> Word {
    [v[0], v[1], v[2], v[3]]
}

/// Builds the body of `h`; helpers it uses are added to `rt`.
fn build(rt: &mut Runtime, h: Helper) -> Function {
    let (p, r) = h.signature();
    let mut f = Function::new(h.name(), vec![Type::I64; p], vec![Type::I64; r]);
    let entry = f.new_block();
    let params: Vec<Value> = (0..p).map(|_| f.new_value(Type::I64)).collect();
    f.block_mut(entry).params = params.clone();
    let mut b = Builder::new(&mut f, entry, SourcePos::None);
    match h {
        Helper::MulWide => mul_wide(&mut b, params[0], params[1]),
        Helper::Mul => mul(rt, &mut b, &word(&params), &word(&params[4..])),
        Helper::DivRem => divrem(rt, &mut b, &word(&params), &word(&params[4..])),
        Helper::SDivRem => sdivrem(rt, &mut b, &word(&params), &word(&params[4..])),
        Helper::AddMod => addmod(rt, &mut b, &params),
        Helper::MulMod => mulmod(rt, &mut b, &params),
        Helper::Exp => exp(rt, &mut b, &word(&params), &word(&params[4..])),
        Helper::Shl | Helper::LShr | Helper::AShr => {
            shift(&mut b, h, &word(&params), &word(&params[4..]))
        }
        Helper::SignExtend => signextend(&mut b, &word(&params), &word(&params[4..])),
        Helper::Byte => byte(&mut b, &word(&params), &word(&params[4..])),
        Helper::Clz => {
            let c = clz(&mut b, &word(&params));
            let z = b.i64(0);
            b.ret(&[c, z, z, z]);
        }
    }
    f
}

fn ret_word(b: &mut Builder, w: &Word) {
    b.ret(w);
}

/// The high half by 32-bit halves (Hacker's Delight `mulhu`).
fn mul_wide(b: &mut Builder, x: Value, y: Value) {
    let m = b.i64(0xffff_ffff);
    let k32 = b.i64(32);
    let (xl, xh) = (b.and(x, m), b.lshr(x, k32));
    let (yl, yh) = (b.and(y, m), b.lshr(y, k32));
    let t = b.bin(BinOp::Mul, xl, yl);
    let t_hi = b.lshr(t, k32);
    let u0 = b.bin(BinOp::Mul, xh, yl);
    let u = b.add(u0, t_hi);
    let u_lo = b.and(u, m);
    let u_hi = b.lshr(u, k32);
    let w0 = b.bin(BinOp::Mul, xl, yh);
    let w = b.add(w0, u_lo);
    let w_hi = b.lshr(w, k32);
    let h0 = b.bin(BinOp::Mul, xh, yh);
    let h1 = b.add(h0, u_hi);
    let hi = b.add(h1, w_hi);
    let lo = b.bin(BinOp::Mul, x, y);
    b.ret(&[lo, hi]);
}

/// Schoolbook multiplication keeping the low 256 bits.
fn mul(rt: &mut Runtime, b: &mut Builder, x: &Word, y: &Word) {
    let zero = b.i64(0);
    let mut r = [zero; 4];
    for i in 0..4 {
        let mut carry: Option<Value> = None;
        for j in 0..4 - i {
            let k = i + j;
            if k == 3 {
                let lo = b.bin(BinOp::Mul, x[i], y[j]);
                let s = b.add(r[3], lo);
                r[3] = match carry {
                    Some(c) => b.add(s, c),
                    None => s,
                };
                break;
            }
            let p = rt.call(b, Helper::MulWide, &[x[i], y[j]]);
            let (lo, hi) = (p[0], p[1]);
            // r[k] + lo + carry fits 66 bits: both additions may carry, and
            // the high word plus both carries still fits 64 (the whole
            // multiply-accumulate is below 2^128).
            let s = b.add(r[k], lo);
            let c1 = b.icmp(Cond::Ult, s, lo);
            let c1 = b.uext(c1, Type::I64);
            let mut high = b.add(hi, c1);
            r[k] = match carry {
                None => s,
                Some(cin) => {
                    let s2 = b.add(s, cin);
                    let c2 = b.icmp(Cond::Ult, s2, cin);
                    let c2 = b.uext(c2, Type::I64);
                    high = b.add(high, c2);
                    s2
                }
            };
            carry = Some(high);
        }
    }
    ret_word(b, &r);
}

/// Leading zero bits of a word, as an `i64` (256 for 0).
pub(crate) fn clz(b: &mut Builder, w: &Word) -> Value {
    let mut acc: Option<Value> = None;
    for i in 0..4 {
        let c = b.ins(crate::inst::Op::Clz, &[w[i]], &[Type::I64])[0];
        let c = b.bin_k(BinOp::Add, c, 64 * (3 - i) as u64);
        acc = Some(match acc {
            None => c,
            Some(lower) => {
                let nz = b.icmp_k(Cond::Ne, w[i], 0);
                b.select(nz, c, lower)
            }
        });
    }
    acc.expect("four limbs")
}

/// Bit `i` (an `i64` below 256) of `w`, as an `i64` 0 or 1.
fn bit(b: &mut Builder, w: &Word, i: Value) -> Value {
    let li = b.bin_k(BinOp::LShr, i, 6);
    let limb = b.pick(w, li);
    let sh = b.bin_k(BinOp::And, i, 63);
    let v = b.lshr(limb, sh);
    b.bin_k(BinOp::And, v, 1)
}

/// `w << 1` with `low` (0 or 1) shifted in, and the bit shifted out.
fn shl1(b: &mut Builder, w: &Word, low: Value) -> (Word, Value) {
    let mut out = *w;
    let out_bit = b.bin_k(BinOp::LShr, w[3], 63);
    for i in (0..4).rev() {
        let s = b.bin_k(BinOp::Shl, w[i], 1);
        let incoming = if i == 0 {
            low
        } else {
            b.bin_k(BinOp::LShr, w[i - 1], 63)
        };
        out[i] = b.or(s, incoming);
    }
    (out, out_bit)
}

/// `(x + y) mod n` for `x, y < n`: one conditional subtraction, with the
/// carry of the 257-bit sum.
fn add_reduced(b: &mut Builder, x: &Word, y: &Word, n: &Word) -> Word {
    let (s, c) = b.add_carry(x, y);
    let carried = b.icmp_k(Cond::Ne, c, 0);
    let ge = b.compare(Cond::Uge, &s, n);
    let over = b.or(carried, ge);
    let (d, _) = b.sub_borrow(&s, n);
    b.select_word(over, &d, &s)
}

/// Unsigned division: 0 for a zero divisor, one `i64` division when both
/// fit 64 bits, the dividend as the remainder when it is the smaller, else
/// restoring binary long division, one step per quotient bit.
fn divrem(rt: &mut Runtime, b: &mut Builder, x: &Word, y: &Word) {
    let y_nonzero = b.nonzero(y);
    let (zero_blk, _) = b.block_with(0);
    let (small_chk, _) = b.block_with(0);
    b.brif(y_nonzero, (small_chk, &[]), (zero_blk, &[]));

    b.block = zero_blk;
    let z = b.i64(0);
    b.ret(&[z; 8]);

    b.block = small_chk;
    let wide = b.nonzero(&[x[1], x[2], x[3], y[1], y[2], y[3]]);
    let (small_blk, _) = b.block_with(0);
    let (lt_chk, _) = b.block_with(0);
    b.brif(wide, (lt_chk, &[]), (small_blk, &[]));

    b.block = small_blk;
    let q = b.bin(BinOp::UDiv, x[0], y[0]);
    let r = b.bin(BinOp::URem, x[0], y[0]);
    let z = b.i64(0);
    b.ret(&[q, z, z, z, r, z, z, z]);

    b.block = lt_chk;
    let lt = b.compare(Cond::Ult, x, y);
    let (ret_x, _) = b.block_with(0);
    let (init, _) = b.block_with(0);
    b.brif(lt, (ret_x, &[]), (init, &[]));

    b.block = ret_x;
    let z = b.i64(0);
    b.ret(&[z, z, z, z, x[0], x[1], x[2], x[3]]);

    // The quotient has at most clz(y) - clz(x) + 1 bits: the remainder
    // starts as the dividend's bits above that, so the loop runs once per
    // quotient bit (32 times for a division by 2^224), not 256 times.
    b.block = init;
    let lzx = clz(b, x);
    let lzy = clz(b, y);
    let top = b.sub(lzy, lzx);
    let above = b.bin_k(BinOp::Add, top, 1);
    let z = b.i64(0);
    let mut args = x.to_vec();
    args.extend_from_slice(&[above, z, z, z]);
    let r0 = rt.call(b, Helper::LShr, &args);
    let (body, ps) = b.block_with(9);
    b.jump(body, &[top, z, z, z, z, r0[0], r0[1], r0[2], r0[3]]);

    b.block = body;
    let i = ps[0];
    let q = word(&ps[1..5]);
    let r = word(&ps[5..9]);
    let next = bit(b, x, i);
    let (r, out) = shl1(b, &r, next);
    let carried = b.icmp_k(Cond::Ne, out, 0);
    let ge = b.compare(Cond::Uge, &r, y);
    let take = b.or(carried, ge);
    let (d, _) = b.sub_borrow(&r, y);
    let r = b.select_word(take, &d, &r);
    let li = b.bin_k(BinOp::LShr, i, 6);
    let sh = b.bin_k(BinOp::And, i, 63);
    let t = b.uext(take, Type::I64);
    let qbit = b.shl(t, sh);
    let z = b.i64(0);
    let mut q2 = q;
    for (j, l) in q2.iter_mut().enumerate() {
        let here = b.icmp_k(Cond::Eq, li, j as u64);
        let add = b.select(here, qbit, z);
        *l = b.or(*l, add);
    }
    let last = b.icmp_k(Cond::Eq, i, 0);
    let i2 = b.bin_k(BinOp::Sub, i, 1);
    let (done, out) = b.block_with(8);
    let mut again = vec![i2];
    again.extend_from_slice(&q2);
    again.extend_from_slice(&r);
    let mut fin = q2.to_vec();
    fin.extend_from_slice(&r);
    b.brif(last, (done, &fin), (body, &again));

    b.block = done;
    b.ret(&out);
}

fn negate(b: &mut Builder, w: &Word) -> Word {
    let zero = b.word_const(U256::ZERO);
    b.sub_borrow(&zero, w).0
}

/// Signed division on magnitudes; the quotient is negative when the signs
/// differ, the remainder takes the dividend's sign.
fn sdivrem(rt: &mut Runtime, b: &mut Builder, x: &Word, y: &Word) {
    let zero = b.i64(0);
    let xn = b.icmp(Cond::Slt, x[3], zero);
    let yn = b.icmp(Cond::Slt, y[3], zero);
    let nx = negate(b, x);
    let ny = negate(b, y);
    let ax = b.select_word(xn, &nx, x);
    let ay = b.select_word(yn, &ny, y);
    let mut args = ax.to_vec();
    args.extend_from_slice(&ay);
    let qr = rt.call(b, Helper::DivRem, &args);
    let (q, r) = (word(&qr), word(&qr[4..]));
    let qneg = b.bin(BinOp::Xor, xn, yn);
    let nq = negate(b, &q);
    let nr = negate(b, &r);
    let q = b.select_word(qneg, &nq, &q);
    let r = b.select_word(xn, &nr, &r);
    let mut out = q.to_vec();
    out.extend_from_slice(&r);
    b.ret(&out);
}

fn rem(rt: &mut Runtime, b: &mut Builder, x: &Word, n: &Word) -> Word {
    let mut args = x.to_vec();
    args.extend_from_slice(n);
    let qr = rt.call(b, Helper::DivRem, &args);
    word(&qr[4..])
}

/// Returns 0 from a new block when `n` is zero, and continues in another.
fn unless_zero(b: &mut Builder, n: &Word) {
    let nz = b.nonzero(n);
    let (zero_blk, _) = b.block_with(0);
    let (go, _) = b.block_with(0);
    b.brif(nz, (go, &[]), (zero_blk, &[]));
    b.block = zero_blk;
    let z = b.i64(0);
    b.ret(&[z; 4]);
    b.block = go;
}

fn addmod(rt: &mut Runtime, b: &mut Builder, p: &[Value]) {
    let (x, y, n) = (word(p), word(&p[4..]), word(&p[8..]));
    unless_zero(b, &n);
    let xr = rem(rt, b, &x, &n);
    let yr = rem(rt, b, &y, &n);
    let r = add_reduced(b, &xr, &yr, &n);
    ret_word(b, &r);
}

/// Double and add over the bits of `y mod n`, reducing at every step, so no
/// intermediate exceeds 257 bits.
fn mulmod(rt: &mut Runtime, b: &mut Builder, p: &[Value]) {
    let (x, y, n) = (word(p), word(&p[4..]), word(&p[8..]));
    unless_zero(b, &n);
    let xr = rem(rt, b, &x, &n);
    let yr = rem(rt, b, &y, &n);
    unless_zero(b, &yr);
    let lz = clz(b, &yr);
    let k255 = b.i64(255);
    let top = b.sub(k255, lz);
    let z = b.i64(0);
    let (body, ps) = b.block_with(5);
    b.jump(body, &[top, z, z, z, z]);

    b.block = body;
    let i = ps[0];
    let acc = word(&ps[1..5]);
    let doubled = add_reduced(b, &acc, &acc, &n);
    let plus = add_reduced(b, &doubled, &xr, &n);
    let set = bit(b, &yr, i);
    let set = b.icmp_k(Cond::Ne, set, 0);
    let acc = b.select_word(set, &plus, &doubled);
    let last = b.icmp_k(Cond::Eq, i, 0);
    let i2 = b.bin_k(BinOp::Sub, i, 1);
    let (done, out) = b.block_with(4);
    let mut again = vec![i2];
    again.extend_from_slice(&acc);
    b.brif(last, (done, &acc), (body, &again));
    b.block = done;
    b.ret(&out);
}

/// Square and multiply from the exponent's low bit.
fn exp(rt: &mut Runtime, b: &mut Builder, x: &Word, y: &Word) {
    let one = b.word_const(U256::from(1));
    let (head, ps) = b.block_with(12);
    let mut start = x.to_vec();
    start.extend_from_slice(y);
    start.extend_from_slice(&one);
    b.jump(head, &start);

    b.block = head;
    let (base, e, acc) = (word(&ps), word(&ps[4..]), word(&ps[8..]));
    let more = b.nonzero(&e);
    let (body, _) = b.block_with(0);
    let (done, out) = b.block_with(4);
    b.brif(more, (body, &[]), (done, &acc));

    b.block = body;
    let odd = b.bin_k(BinOp::And, e[0], 1);
    let odd = b.icmp_k(Cond::Ne, odd, 0);
    let mut args = acc.to_vec();
    args.extend_from_slice(&base);
    let m = rt.call(b, Helper::Mul, &args);
    let acc = b.select_word(odd, &word(&m), &acc);
    let mut args = base.to_vec();
    args.extend_from_slice(&base);
    let sq = rt.call(b, Helper::Mul, &args);
    let mut e2 = e;
    for i in 0..4 {
        let s = b.bin_k(BinOp::LShr, e[i], 1);
        e2[i] = if i == 3 {
            s
        } else {
            let hi = b.bin_k(BinOp::Shl, e[i + 1], 63);
            b.or(s, hi)
        };
    }
    let mut again = sq;
    again.extend_from_slice(&e2);
    again.extend_from_slice(&acc);
    b.jump(head, &again);

    b.block = done;
    b.ret(&out);
}

/// Shifts by whole limbs (selects over the limb count), then by the bits
/// left (0..63, so no `i64` shift ever reaches 64).
fn shift(b: &mut Builder, h: Helper, x: &Word, s: &Word) {
    let high = b.nonzero(&s[1..]);
    let over = b.icmp_k(Cond::Uge, s[0], 256);
    let big = b.or(high, over);
    let q = b.bin_k(BinOp::LShr, s[0], 6);
    let q = b.bin_k(BinOp::And, q, 3);
    let n = b.bin_k(BinOp::And, s[0], 63);
    let k63 = b.i64(63);
    let back = b.sub(k63, n);
    let fill = match h {
        Helper::AShr => b.bin_k(BinOp::AShr, x[3], 63),
        _ => b.i64(0),
    };
    let left = h == Helper::Shl;
    // t[i]: x moved by q limbs.
    let mut t = [fill; 4];
    for (i, ti) in t.iter_mut().enumerate() {
        let mut acc = fill;
        for k in (0..4).rev() {
            let src = if left {
                i.checked_sub(k).map(|j| x[j])
            } else {
                (i + k < 4).then(|| x[i + k])
            };
            let v = src.unwrap_or(fill);
            let is = b.icmp_k(Cond::Eq, q, k as u64);
            acc = b.select(is, v, acc);
        }
        *ti = acc;
    }
    let mut r = t;
    for i in 0..4 {
        if left {
            let main = b.shl(t[i], n);
            r[i] = if i == 0 {
                main
            } else {
                let c = b.bin_k(BinOp::LShr, t[i - 1], 1);
                let c = b.lshr(c, back);
                b.or(main, c)
            };
        } else {
            let main = if h == Helper::AShr && i == 3 {
                b.bin(BinOp::AShr, t[3], n)
            } else {
                b.lshr(t[i], n)
            };
            r[i] = if i == 3 {
                main
            } else {
                let c = b.bin_k(BinOp::Shl, t[i + 1], 1);
                let c = b.shl(c, back);
                b.or(main, c)
            };
        }
    }
    let out = [fill; 4];
    let res = b.select_word(big, &out, &r);
    ret_word(b, &res);
}

/// SIGNEXTEND: `x` when `b` > 30; else the bit `8b + 7` fills every bit above.
fn signextend(b: &mut Builder, k: &Word, x: &Word) {
    let high = b.nonzero(&k[1..]);
    let over = b.icmp_k(Cond::Ugt, k[0], 30);
    let keep = b.or(high, over);
    // Only meaningful when !keep: t <= 247.
    let k0 = b.bin_k(BinOp::And, k[0], 31);
    let t = b.bin_k(BinOp::Shl, k0, 3);
    let t = b.bin_k(BinOp::Add, t, 7);
    let li = b.bin_k(BinOp::LShr, t, 6);
    let p = b.bin_k(BinOp::And, t, 63);
    let limb = b.pick(x, li);
    let s = b.lshr(limb, p);
    let s = b.bin_k(BinOp::And, s, 1);
    let zero = b.i64(0);
    let fill = b.sub(zero, s);
    let two = b.i64(2);
    let m = b.shl(two, p);
    let m = b.bin_k(BinOp::Sub, m, 1);
    let nm = b.not(m);
    let mut r = *x;
    for (j, rj) in r.iter_mut().enumerate() {
        let kept = b.and(x[j], m);
        let filled = b.and(fill, nm);
        let part = b.or(kept, filled);
        let below = b.icmp_k(Cond::Ugt, li, j as u64);
        let here = b.icmp_k(Cond::Eq, li, j as u64);
        let v = b.select(here, part, fill);
        *rj = b.select(below, x[j], v);
    }
    let res = b.select_word(keep, x, &r);
    ret_word(b, &res);
}

/// BYTE: byte `i` counted from the most significant; 0 when `i` > 31.
fn byte(b: &mut Builder, i: &Word, x: &Word) {
    let high = b.nonzero(&i[1..]);
    let over = b.icmp_k(Cond::Ugt, i[0], 31);
    let out = b.or(high, over);
    let i0 = b.bin_k(BinOp::And, i[0], 31);
    let k31 = b.i64(31);
    let k = b.sub(k31, i0);
    let li = b.bin_k(BinOp::LShr, k, 3);
    let sh = b.bin_k(BinOp::And, k, 7);
    let sh = b.bin_k(BinOp::Shl, sh, 3);
    let limb = b.pick(x, li);
    let v = b.lshr(limb, sh);
    let v = b.bin_k(BinOp::And, v, 0xff);
    let z = b.i64(0);
    let v = b.select(out, z, v);
    b.ret(&[v, z, z, z]);
}
