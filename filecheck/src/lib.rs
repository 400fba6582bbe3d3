//! The file-test format, shared by every crate's file tests (Cranelift's
//! `filetests` idea): a test file is an input in its own text format plus
//! expectations in `;` comments.
//!
//! - `; key: value` lines are directives ([`directive`]); the first
//!   non-empty line is `; test: KIND`.
//! - `; check: LINE` lines hold the expected output, one per line (`;
//!   check:` alone for a blank line). [`check`] compares them with the
//!   actual output and shows a diff, or, with `CHAINLIFT_BLESS=1` in the
//!   environment ([`bless_requested`]), rewrites them from the actual
//!   output after everything else in the file.

#![deny(missing_docs)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The environment variable that re-blesses `; check:` lines.
pub const BLESS_VAR: &str = "CHAINLIFT_BLESS";

/// Whether `CHAINLIFT_BLESS=1` is set.
pub fn bless_requested() -> bool {
    std::env::var(BLESS_VAR).is_ok_and(|v| v == "1")
}

/// Every file with extension `ext` in `dir`, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// The text of a `; key:` comment line, if `line` is one.
pub fn directive<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.trim_start().strip_prefix(';')?.trim_start();
    let rest = rest.strip_prefix(key)?.strip_prefix(':')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest).trim_end())
}

/// The `; test:` kind on the file's first non-empty line.
pub fn test_kind(text: &str) -> Result<&str, String> {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .ok_or("empty file")?;
    directive(first, "test")
        .map(str::trim)
        .ok_or_else(|| "the first line must be `; test: KIND`".into())
}

/// Compares the file's `; check:` lines with `actual` (what: the name of
/// the output, for the message), or with `bless` rewrites them in `path`.
pub fn check(
    path: &Path,
    text: &str,
    actual: &[&str],
    bless: bool,
    what: &str,
) -> Result<(), String> {
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
            if line.is_empty() {
                new.push_str("; check:\n");
            } else {
                let _ = writeln!(new, "; check: {line}");
            }
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
            "no `; check:` lines; run with {BLESS_VAR}=1 to write them. Actual {what}:\n{}",
            actual.join("\n")
        ));
    }
    if expected == actual {
        return Ok(());
    }
    Err(format!(
        "the {what} differs from the `; check:` lines (- expected, + actual; \
         {BLESS_VAR}=1 re-blesses):\n{}",
        diff(&expected, actual)
    ))
}

/// A line diff by longest common subsequence, showing the changed lines
/// with two lines of context around them.
pub fn diff(a: &[&str], b: &[&str]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_and_diffs() {
        assert_eq!(directive("; check: a b ", "check"), Some("a b"));
        assert_eq!(directive(";check:", "check"), Some(""));
        assert_eq!(directive("v1 = x ; check: y", "check"), None);
        assert_eq!(test_kind("\n; test: run\n"), Ok("run"));
        let d = diff(&["a", "b", "c"], &["a", "x", "c"]);
        assert!(d.contains(" - b") && d.contains(" + x"), "{d}");
    }
}
