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
use chainlift_ir::parse::parse_module;
use chainlift_ir::verify::verified;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const BLESS_VAR: &str = "CHAINLIFT_BLESS";

fn files_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/files")
}

/// Every `.ir` file in the folder, sorted.
fn ir_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(files_dir())
        .expect("tests/files exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ir"))
        .collect();
    files.sort();
    files
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Lower,
    LowerFull,
    Error,
}

/// The text of a `; key:` comment line, if `line` is one.
fn directive<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.trim_start().strip_prefix(';')?.trim_start();
    let rest = rest.strip_prefix(key)?.strip_prefix(':')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest).trim_end())
}

fn kind(text: &str) -> Result<Kind, String> {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .ok_or("empty file")?;
    match directive(first, "test").map(str::trim) {
        Some("lower") => Ok(Kind::Lower),
        Some("lower-full") => Ok(Kind::LowerFull),
        Some("error") => Ok(Kind::Error),
        Some(other) => Err(format!("unknown test kind `{other}`")),
        None => Err("the first line must be `; test: lower|lower-full|error`".into()),
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
    check(path, &text, actual, bless)
}

/// Compares the `; check:` lines with `actual`, or rewrites them.
fn check(path: &Path, text: &str, actual: &[&str], bless: bool) -> Result<(), String> {
    if bless {
        let mut kept: Vec<&str> = text
            .lines()
            .filter(|l| directive(l, "check").is_none())
            .collect();
        while kept.last().is_some_and(|l| l.trim().is_empty()) {
            kept.pop();
        }
        let mut new = kept.join("\n");
        new.push_str("\n\n");
        for line in actual {
            let _ = writeln!(new, "; check: {line}");
        }
        if new != text {
            std::fs::write(path, new).map_err(|e| format!("cannot bless: {e}"))?;
        }
        return Ok(());
    }
    let expected: Vec<&str> = text
        .lines()
        .filter_map(|l| directive(l, "check"))
        .map(str::trim_end)
        .collect();
    if expected.is_empty() {
        return Err(format!(
            "no `; check:` lines; run with {BLESS_VAR}=1 to write them"
        ));
    }
    if expected == actual {
        return Ok(());
    }
    Err(format!(
        "the listing differs from the `; check:` lines (- expected, + actual; \
         {BLESS_VAR}=1 re-blesses):\n{}",
        diff(&expected, actual)
    ))
}

/// A line diff by longest common subsequence, showing only the changed
/// lines and two lines of context around them.
fn diff(a: &[&str], b: &[&str]) -> String {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut rows: Vec<(char, &str)> = vec![];
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            rows.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            rows.push(('-', a[i]));
            i += 1;
        } else {
            rows.push(('+', b[j]));
            j += 1;
        }
    }
    let near = |k: usize| {
        rows[k.saturating_sub(2)..(k + 3).min(rows.len())]
            .iter()
            .any(|(c, _)| *c != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, line)) in rows.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("   ...\n");
                skipped = false;
            }
            let _ = writeln!(out, " {c} {line}");
        } else {
            skipped = true;
        }
    }
    out
}

#[test]
fn filetests() {
    let bless = std::env::var(BLESS_VAR).is_ok_and(|v| v == "1");
    let files = ir_files();
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

#[test]
fn harness_diff_marks_changed_lines() {
    let d = diff(&["a", "b", "c"], &["a", "x", "c"]);
    assert_eq!(d, "   a\n - b\n + x\n   c\n");
}
