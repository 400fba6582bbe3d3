//! Legalization is exact: for every 256-bit operation, the legalized module
//! (no `i256`, 64-bit limbs and helper functions) gives the interpreter's
//! result of the original on edge and random operands.

use alloy_primitives::U256;
use chainlift_ir::entities::FuncId;
use chainlift_ir::interp::{Interpreter, Limits, Outcome, SimpleHost};
use chainlift_ir::legalize::{has_i256, legalize};
use chainlift_ir::parse::parse_module;
use chainlift_ir::verify::verify;

/// Operands every operation meets: zero, one, two, the sign bit, all ones,
/// values with zero limbs in the middle, and divisors that make Knuth's
/// long division add back (a top digit just above the divisor's).
fn edges() -> Vec<U256> {
    let hex = |s: &str| U256::from_str_radix(s, 16).expect("hex");
    vec![
        U256::ZERO,
        U256::from(1),
        U256::from(2),
        U256::from(3),
        U256::from(31),
        U256::from(32),
        U256::from(255),
        U256::from(256),
        U256::from(u64::MAX),
        U256::from(1) << 64,
        U256::from(1) << 255,
        (U256::from(1) << 255) - U256::from(1),
        U256::MAX,
        U256::MAX - U256::from(1),
        hex("ffffffffffffffff0000000000000000ffffffffffffffff"),
        hex("1000000000000000000000000000000000000000000000001"),
        hex("8000000000000000000000000000000000000000000000000000000000000001"),
        hex("7fffffff800000010000000000000000"),
        hex("800000000000000000000000000000007fffffffffffffff"),
        hex("ffffffff00000000ffffffff00000000ffffffff00000000ffffffff00000000"),
        hex("0de0b6b3a7640000"),
    ]
}

/// A xorshift generator: random words with random widths.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn word(&mut self) -> U256 {
        let w = U256::from_limbs([self.next(), self.next(), self.next(), self.next()]);
        let bits = self.next() % 257;
        if bits == 256 {
            w
        } else {
            w & ((U256::from(1) << bits) - U256::from(1))
        }
    }
}

fn limbs(v: &[U256]) -> Vec<U256> {
    v.iter()
        .flat_map(|w| w.as_limbs().map(U256::from))
        .collect()
}

fn run(m: &chainlift_ir::function::Module, args: &[U256]) -> Outcome {
    let limits = Limits {
        budget: 100_000_000,
        ..Limits::default()
    };
    Interpreter::new(m, limits).run(&mut SimpleHost::default(), FuncId::new(0), args)
}

/// Checks `op` with `arity` operands on every combination of edge values
/// (pairs for binary operations) and `random` random tuples.
fn check(op: &str, arity: usize, random: usize) {
    let params = vec!["i256"; arity].join(", ");
    let vals: Vec<String> = (0..arity).map(|i| format!("v{i}: i256")).collect();
    let uses: Vec<String> = (0..arity).map(|i| format!("v{i}")).collect();
    let (result_ty, ret) = if op.starts_with("icmp") {
        ("i1", format!("v{arity} = {op} {}", uses.join(", ")))
    } else {
        ("i256", format!("v{arity} = {op} {}", uses.join(", ")))
    };
    let text = format!(
        "function %f({params}) -> {result_ty} {{\nblock0({}):\n    {ret}\n    return v{arity}\n}}\n",
        vals.join(", ")
    );
    let m = parse_module(&text).unwrap_or_else(|e| panic!("{op}: {e}\n{text}"));
    verify(&m).expect("the input verifies");
    let legal = legalize(&m);
    if let Err(e) = verify(&legal) {
        panic!("{op}: legalized module does not verify: {}", e[0]);
    }
    assert!(!has_i256(&legal), "{op}: an i256 is left");
    let mut cases: Vec<Vec<U256>> = vec![];
    let e = edges();
    match arity {
        1 => cases.extend(e.iter().map(|a| vec![*a])),
        2 => {
            for a in &e {
                for b in &e {
                    cases.push(vec![*a, *b]);
                }
            }
        }
        _ => {
            for a in &e {
                for b in e.iter().step_by(3) {
                    for n in e.iter().step_by(2) {
                        cases.push(vec![*a, *b, *n]);
                    }
                }
            }
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ op.len() as u64);
    for _ in 0..random {
        cases.push((0..arity).map(|_| rng.word()).collect());
    }
    for args in cases {
        let want = run(&m, &args);
        let got = match run(&legal, &limbs(&args)) {
            Outcome::Values(v) if result_ty == "i256" => {
                let l: Vec<u64> = v.iter().map(|x| x.as_limbs()[0]).collect();
                Outcome::Values(vec![U256::from_limbs([l[0], l[1], l[2], l[3]])])
            }
            other => other,
        };
        assert_eq!(got, want, "{op}{args:x?}");
    }
}

#[test]
fn arithmetic() {
    for op in ["add", "sub", "mul"] {
        check(&format!("{op}.i256"), 2, 300);
    }
}

#[test]
fn division() {
    for op in ["udiv", "urem", "sdiv", "srem"] {
        check(&format!("{op}.i256"), 2, 200);
    }
}

#[test]
fn bitwise_and_shifts() {
    for op in ["and", "or", "xor", "shl", "lshr", "ashr", "rotl", "rotr"] {
        check(&format!("{op}.i256"), 2, 300);
    }
    check("not.i256", 1, 100);
    check("clz.i256", 1, 100);
}

#[test]
fn comparisons() {
    for c in [
        "eq", "ne", "ult", "ule", "ugt", "uge", "slt", "sle", "sgt", "sge",
    ] {
        check(&format!("icmp.{c}"), 2, 200);
    }
}

#[test]
fn evm_operations() {
    check("exp", 2, 100);
    check("signextend", 2, 300);
    check("byte", 2, 300);
    check("addmod", 3, 200);
    check("mulmod", 3, 100);
}

/// `op x, K` with a constant K: shifts by constants and multiplication,
/// division and remainder by powers of two become limb code in place.
fn check_const(op: &str, k: U256) {
    let text = format!(
        "function %f(i256) -> i256 {{\nblock0(v0: i256):\n    v1 = iconst.i256 {k:#x}\n    v2 = {op} v0, v1\n    return v2\n}}\n"
    );
    let m = parse_module(&text).unwrap_or_else(|e| panic!("{op}: {e}"));
    let legal = legalize(&m);
    verify(&legal).unwrap_or_else(|e| panic!("{op} {k:#x}: {}", e[0]));
    assert!(!has_i256(&legal));
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut xs = edges();
    xs.extend((0..50).map(|_| rng.word()));
    for x in xs {
        let want = run(&m, &[x]);
        let got = match run(&legal, &limbs(&[x])) {
            Outcome::Values(v) => {
                let l: Vec<u64> = v.iter().map(|x| x.as_limbs()[0]).collect();
                Outcome::Values(vec![U256::from_limbs([l[0], l[1], l[2], l[3]])])
            }
            other => other,
        };
        assert_eq!(got, want, "{op} {x:#x}, {k:#x}");
    }
}

#[test]
fn operations_by_constants() {
    let amounts = [
        0u64, 1, 7, 63, 64, 65, 127, 128, 130, 192, 200, 255, 256, 300,
    ];
    for op in ["shl", "lshr", "ashr"] {
        for k in amounts {
            check_const(&format!("{op}.i256"), U256::from(k));
        }
        check_const(&format!("{op}.i256"), U256::MAX);
    }
    for op in ["mul", "udiv", "urem"] {
        for k in [0usize, 1, 8, 63, 64, 100, 128, 224, 255] {
            check_const(&format!("{op}.i256"), U256::from(1) << k);
        }
        check_const(&format!("{op}.i256"), U256::ZERO);
        check_const(&format!("{op}.i256"), U256::from(3));
        check_const(&format!("{op}.i256"), U256::from(10).pow(U256::from(18)));
    }
}

/// A block that dominates another may come after it in the layout (passes
/// that fold branches make this happen): legalization still sees every
/// definition before its uses, and unreachable blocks become traps.
#[test]
fn definitions_later_in_the_layout() {
    let text = "
function %f() -> i256 {
block0:
    jump block2
block1:
    v1 = add.i256 v0, v0
    v2 = uext.i256 v1
    return v2
block2:
    v0 = iconst.i256 0x10000000000000000ffff
    jump block1
block3:
    v3 = mul.i256 v4, v4
    return v3
block4:
    v4 = iconst.i256 3
    jump block3
}
";
    let m = parse_module(text).unwrap();
    verify(&m).expect("the input verifies");
    let legal = legalize(&m);
    verify(&legal).unwrap_or_else(|e| panic!("{}", e[0]));
    assert_eq!(run(&m, &[]), {
        let Outcome::Values(v) = run(&legal, &[]) else {
            panic!()
        };
        let l: Vec<u64> = v.iter().map(|x| x.as_limbs()[0]).collect();
        Outcome::Values(vec![U256::from_limbs([l[0], l[1], l[2], l[3]])])
    });
}
