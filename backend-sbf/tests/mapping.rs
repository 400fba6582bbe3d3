//! The Solana mapping is written once, in the crate documentation
//! (`src/lib.rs`, "The Solana mapping"). This test reads that text and checks
//! it against the backend itself: every host operation (and `selfdestruct`)
//! is named either in a row of the table or in the list of operations with
//! no mapping, never both, and the backend translates exactly the ones the
//! table maps.

use chainlift_backend_sbf::{Error, Target, translate};
use chainlift_ir::inst::HostOp;
use chainlift_ir::parse::parse_module;
use chainlift_ir::verify::verified;

/// The crate doc's mapping: (rows of the table, the "everything else" list).
fn documented() -> (String, String) {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs"))
        .expect("src/lib.rs");
    let doc: Vec<&str> = src.lines().filter_map(|l| l.strip_prefix("//!")).collect();
    let doc = doc.join("\n");
    let start = doc
        .find("# The Solana mapping")
        .expect("the mapping section");
    let rest = &doc[start..];
    // The next heading (doc lines keep the space after `//!`).
    let end = ["\n# ", "\n # "]
        .iter()
        .filter_map(|h| rest.find(h))
        .min()
        .unwrap_or(rest.len());
    let section = &rest[..end];
    let split = section
        .find("Everything else")
        .expect("the list of unmapped operations");
    (section[..split].to_string(), section[split..].to_string())
}

/// Whether `name` appears as a code span in `text` (`` `sload` ``, or as a
/// range `log0`..`log4`).
fn names(text: &str, name: &str) -> bool {
    text.contains(&format!("`{name}`"))
        || (name.starts_with("log") && text.contains("`log0`..`log4`"))
        || (name == "calldatacopy" && text.contains("`calldatacopy`"))
}

/// Translates a program that performs `op` once on zero operands.
fn translates(op: HostOp) -> Result<(), Error> {
    let (n, r) = op.arity();
    let args = vec!["v0"; n].join(", ");
    let results: Vec<String> = (0..r).map(|i| format!("v{}", i + 1)).collect();
    let lhs = if r == 0 {
        String::new()
    } else {
        format!("{} = ", results.join(", "))
    };
    let text = format!(
        "function %main() {{\nblock0:\n    v0 = iconst.i256 0\n    {lhs}host.{} {args}\n    exit.stop\n}}\n",
        op.name()
    );
    let m = parse_module(&text).expect("parses");
    let m = verified(m).expect("verifies");
    translate(&m, &Target::default()).map(|_| ())
}

#[test]
fn the_documented_mapping_is_what_the_backend_does() {
    let (table, unmapped) = documented();
    let mut problems = vec![];
    for op in HostOp::ALL {
        let name = op.name();
        let (in_table, in_list) = (names(&table, name), names(&unmapped, name));
        match (in_table, in_list) {
            (true, true) => problems.push(format!("`{name}` is both mapped and unmapped")),
            (false, false) => problems.push(format!("`{name}` is not documented")),
            _ => {}
        }
        let ok = match translates(op) {
            Ok(()) => true,
            Err(Error::Unsupported { .. }) => false,
            Err(other) => {
                problems.push(format!("`{name}`: {other}"));
                continue;
            }
        };
        if ok != in_table {
            problems.push(format!(
                "`{name}`: the doc says {}, the backend {}",
                if in_table { "mapped" } else { "unmapped" },
                if ok { "translates it" } else { "refuses it" }
            ));
        }
    }
    // `selfdestruct` is an exit, not a host operation: mapped and
    // translated.
    if !names(&table, "selfdestruct") || names(&unmapped, "selfdestruct") {
        problems.push("`selfdestruct` should be in the table only".into());
    }
    let m = parse_module(
        "function %main() {\nblock0:\n    v0 = iconst.i256 0\n    exit.selfdestruct v0\n}\n",
    )
    .expect("parses");
    if let Err(e) = translate(&verified(m).expect("verifies"), &Target::default()) {
        problems.push(format!("`selfdestruct` does not translate: {e}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
