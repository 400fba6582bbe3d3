//! Precise-output file tests, in the style of Cranelift's: every `*.ir`
//! file in `tests/files/` is a module in the IR text format plus, as `;`
//! comments (which the parser ignores), what translating it must give.
//!
//! The first non-empty line names the kind of test:
//!
//! ```text
//! ; test: lower | lower-full | error
//! ```
//!
//! * `lower`: the module translates, and the listing from its first block
//!   (`block0:`) to the end (blocks, shared exits, runtime helpers) is
//!   exactly the file's `; check: <line>` lines, one per listing line.
//!   The entry code before `block0:` is the same for every module, so one
//!   file pins it:
//! * `lower-full`: as `lower`, for the whole listing, entry code included.
//! * `error`: translation fails, and its message contains every
//!   `; error: <substring>` line.
//!
//! A `; code: 0x<hex>` line gives the EVM code the module was lifted from
//! (for `codesize` and `codecopy`; empty without one). Modules are
//! translated for [`Target::default`].
//!
//! A mismatch fails with a diff (`-` expected, `+` actual). With
//! `CHAINLIFT_BLESS=1` in the environment the harness instead rewrites the
//! file's `; check:` lines from the actual listing, after everything else
//! in the file:
//!
//! ```text
//! CHAINLIFT_BLESS=1 cargo test -p chainlift-backend-sbf --test filetests
//! ```

use chainlift_backend_sbf::{Target, translate};
use chainlift_filecheck::{self as filecheck, directive};
use chainlift_ir::parse::parse_module;
use chainlift_ir::verify::verified;
use std::path::{Path, PathBuf};

fn files_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/files")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Lower,
    LowerFull,
    Error,
}

fn kind(text: &str) -> Result<Kind, String> {
    match filecheck::test_kind(text)? {
        "lower" => Ok(Kind::Lower),
        "lower-full" => Ok(Kind::LowerFull),
        "error" => Ok(Kind::Error),
        other => Err(format!(
            "unknown test kind `{other}` (lower, lower-full, error)"
        )),
    }
}

/// The bytes of a `; code:` line (none without one).
fn code(text: &str) -> Result<Vec<u8>, String> {
    let Some(hex) = text.lines().find_map(|l| directive(l, "code")) else {
        return Ok(vec![]);
    };
    let hex = hex.trim().trim_start_matches("0x");
    if hex.len() % 2 != 0 {
        return Err("`; code:` has an odd number of hex digits".into());
    }
    (0..hex.len() / 2)
        .map(|i| {
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| format!("bad hex in `; code:` at digit {}", 2 * i))
        })
        .collect()
}

/// Runs one file; `Err` holds what went wrong.
fn run_file(path: &Path, bless: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let kind = kind(&text)?;
    let mut module = parse_module(&text).map_err(|e| format!("parse error: {e}"))?;
    if module.code.is_empty() {
        module.code = code(&text)?;
    }
    let module = verified(module).map_err(|e| format!("does not verify: {}", e[0]))?;
    let result = translate(&module, &Target::default());
    if kind == Kind::Error {
        let errors: Vec<&str> = text.lines().filter_map(|l| directive(l, "error")).collect();
        if errors.is_empty() {
            return Err("an error file needs at least one `; error:` line".into());
        }
        return match result {
            Ok(_) => Err("the module translated; expected an error".into()),
            Err(e) => {
                let message = e.to_string();
                let missing: Vec<&&str> =
                    errors.iter().filter(|s| !message.contains(**s)).collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "the error `{message}` does not contain {missing:?}"
                    ))
                }
            }
        };
    }
    let program = result.map_err(|e| format!("translation failed: {e}"))?;
    let lines: Vec<&str> = program.listing.lines().map(str::trim_end).collect();
    let actual = if kind == Kind::LowerFull {
        &lines[..]
    } else {
        let start = lines
            .iter()
            .position(|l| *l == "block0:")
            .ok_or("the listing has no `block0:`")?;
        &lines[start..]
    };
    filecheck::check(path, &text, actual, bless, "listing")
}

#[test]
fn filetests() {
    let bless = filecheck::bless_requested();
    let files = filecheck::files(&files_dir(), "ir");
    assert!(
        !files.is_empty(),
        "no .ir files in {}",
        files_dir().display()
    );
    let mut failures = vec![];
    for path in &files {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        // A panic in the backend fails this file, not the whole walk.
        let result = std::panic::catch_unwind(|| run_file(path, bless))
            .unwrap_or_else(|_| Err("panicked".into()));
        if let Err(e) = result {
            failures.push(format!("--- {name}\n{e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} file tests failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
