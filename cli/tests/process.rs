//! The real binary: stdin input, exit codes and a closed stdout.

use std::io::Write;
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chainlift"))
}

#[test]
fn reads_stdin() {
    let mut child = bin()
        .args(["disasm", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"0x60 01\n00\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "0000 PUSH1 0x01\n0002 STOP\n"
    );
}

#[test]
fn exit_codes() {
    let out = bin().args(["inspect", "--code", "0xzz"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8(out.stderr).unwrap().lines().count(), 1);
    let out = bin().args(["inspect", "--code", "0x00"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn closed_stdout_is_not_a_crash() {
    let code = format!("0x{}", "6001".repeat(20000));
    let mut child = bin()
        .args(["disasm", "--code", &code])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101));
    assert_ne!(status.code(), Some(3));
}
