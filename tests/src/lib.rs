//! Helpers shared by the cross-crate tests in `tests/tests/`.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Every compiled fixture artefact under `examples/*/out/`, sorted.
pub fn fixture_artifacts() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let examples = root().join("examples");
    for dir in std::fs::read_dir(&examples).expect("examples/").flatten() {
        let out_dir = dir.path().join("out");
        if let Ok(entries) = std::fs::read_dir(&out_dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "json") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// The result of running the CLI in-process.
pub struct Run {
    /// Exit code.
    pub code: u8,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `chainlift ARGS…` in-process from the workspace root.
pub fn chainlift(args: &[&str]) -> Run {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("chainlift".to_string()).chain(args.iter().map(|a| a.to_string()));
    let code = chainlift_cli::run(argv, &mut out, &mut err);
    Run {
        code,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

/// A path relative to the workspace root, as a string.
pub fn path(rel: &str) -> String {
    root().join(rel).to_string_lossy().into_owned()
}

/// The runtime bytecode of a Foundry-style artefact (`deployedBytecode.object`).
pub fn artifact_runtime(path: &Path) -> Vec<u8> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("artefact")).expect("JSON");
    let hex = v["deployedBytecode"]["object"]
        .as_str()
        .expect("deployedBytecode.object")
        .trim_start_matches("0x");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}
