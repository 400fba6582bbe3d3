//! Cross-program invocations of programs other than the system program
//! (`sol_invoke_signed_c`): the called program runs in a VM of its own
//! on the accounts the instruction names, with the transaction's
//! remaining compute units, and its changes come back into the caller's
//! accounts, as Agave does. Its failure fails the caller: Solana cannot
//! catch it.

use super::runtime::{AccountIn, Context, Invocation, run_vm};

type SyscallError = Box<dyn std::error::Error>;

/// How the error of a call whose program failed begins: the engine names
/// it as a target limit (the EVM would have given the caller 0).
pub const FAILED: &str = "cpi: the called program failed";

/// Agave's limit: the top-level instruction and four nested invocations.
const MAX_STACK: usize = 5;

/// The most bytes an account's data may grow by in one instruction.
const MAX_GROWTH: u64 = 10_240;

/// `sol_invoke_signed_c` of `program` (not the system program), after the
/// invoke's base cost and the instruction data's and metas' were charged.
pub(super) fn invoke(
    ctx: &mut Context,
    program: [u8; 32],
    (metas, n_metas): (u64, u64),
    (data, n_data): (u64, u64),
    (infos, n): (u64, u64),
    (seeds, n_seeds): (u64, u64),
) -> Result<u64, SyscallError> {
    let word = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
    let exe = ctx
        .programs
        .iter()
        .find(|(id, _)| *id == program)
        .map(|(_, exe)| exe.clone())
        .ok_or("cpi: Unknown program (no such program in the emulated cluster)")?;
    let exe = exe
        .as_ref()
        .as_ref()
        .map_err(|e| format!("cpi: the called program did not build: {e}"))?;
    if !ctx.accounts.iter().any(|a| a.0 == program) {
        return Err("cpi: Unknown program (it is not among the instruction's accounts)".into());
    }
    if ctx.stack.len() >= MAX_STACK {
        return Err("cpi: CallDepth (more than four nested cross-program invocations)".into());
    }
    if ctx.stack.contains(&program) && ctx.stack.last() != Some(&program) {
        return Err(
            "cpi: ReentrancyNotAllowed (the program is already on the invocation stack)".into(),
        );
    }
    let pdas = ctx.signers(seeds, n_seeds)?;
    if !(1..=255).contains(&n_metas) || n > 255 {
        return Err("cpi: MaxInstructionAccountsExceeded".into());
    }
    let data = ctx.read(data, n_data)?;
    let metas = ctx.read(metas, 16 * n_metas)?;
    let (infos, info_keys) = ctx.account_infos(infos, n)?;
    // The called instruction's accounts, each once (privileges joined),
    // with the caller's info for each.
    struct Callee {
        key: [u8; 32],
        signer: bool,
        writable: bool,
        info: Vec<u8>,
    }
    let mut callee: Vec<Callee> = vec![];
    for m in metas.chunks(16) {
        let key: [u8; 32] = ctx
            .read(word(m, 0), 32)?
            .try_into()
            .map_err(|_| "cpi: key")?;
        let (writable, signer) = (m[8] == 1, m[9] == 1);
        let caller = ctx.accounts.iter().find(|a| a.0 == key);
        if writable && !caller.is_some_and(|a| a.2) {
            return Err("cpi: PrivilegeEscalation (a read-only account passed as writable)".into());
        }
        if signer && !caller.is_some_and(|a| a.1) && !pdas.contains(&key) {
            return Err(
                "cpi: PrivilegeEscalation (an account that did not sign passed as a signer)".into(),
            );
        }
        if let Some(c) = callee.iter_mut().find(|c| c.key == key) {
            c.writable |= writable;
            c.signer |= signer;
            continue;
        }
        let at = info_keys
            .iter()
            .position(|k| k[..] == key[..])
            .ok_or("cpi: Instruction references an unknown account")?;
        let info = infos[56 * at..56 * at + 56].to_vec();
        ctx.charge(word(&info, 16) / 250)?;
        callee.push(Callee {
            key,
            signer,
            writable,
            info,
        });
    }
    // The caller's own lamport moves between the named accounts.
    ctx.sync_lamports(callee.iter().map(|c| (&c.key[..], &c.info[..])))?;
    // Each account as the caller holds it now.
    let mut held = vec![];
    for c in &callee {
        let lamports = word(&ctx.read(word(&c.info, 8), 8)?, 0);
        let len = word(&ctx.read(word(&c.info, 24) - 8, 8)?, 0);
        let bytes = ctx.read(word(&c.info, 24), len)?;
        let owner: [u8; 32] = ctx
            .read(word(&c.info, 32), 32)?
            .try_into()
            .map_err(|_| "cpi: owner")?;
        held.push((lamports, bytes, owner, c.info[50] == 1));
    }
    let accounts: Vec<AccountIn> = callee
        .iter()
        .zip(&held)
        .map(|(c, (lamports, bytes, owner, executable))| AccountIn {
            key: c.key,
            owner: *owner,
            lamports: *lamports,
            signer: c.signer,
            writable: c.writable,
            executable: *executable,
            data: bytes,
        })
        .collect();
    let call = Invocation {
        program_id: program,
        accounts: &accounts,
        data: &data,
        clock: ctx.clock,
        heap_size: ctx.heap_size,
    };
    let (run, left) = run_vm(
        exe,
        ctx.jit,
        &call,
        (ctx.remaining, ctx.stack.clone()),
        ctx.programs.clone(),
    );
    ctx.remaining = left;
    if run.out_of_budget {
        ctx.remaining = 0;
        return Err("compute budget exceeded".into());
    }
    // (What it set last, or a program it invoked: the transaction's.)
    (ctx.return_program, ctx.return_data) = run.raw_return;
    match &run.result {
        Ok(0) => {}
        Ok(code) => return Err(format!("{FAILED} with custom program error {code:#x}").into()),
        Err(e) => return Err(format!("{FAILED}: {e}").into()),
    }
    ctx.logs.extend(run.logs);
    // Its changes, into the caller's accounts.
    for ((c, (_, before, _, _)), i) in callee.iter().zip(&held).zip(0..) {
        let (lamports, bytes, owner) = (run.lamports[i], &run.data[i], run.owners[i]);
        ctx.write(word(&c.info, 8), &lamports.to_le_bytes())?;
        ctx.write(word(&c.info, 32), &owner)?;
        let at = ctx.accounts.iter().position(|a| a.0 == c.key);
        let (old, new) = (before.len() as u64, bytes.len() as u64);
        if new != old {
            // The caller's input has room for its length at the start
            // and 10,240 bytes more.
            let room = at.map_or(old, |k| ctx.room[k]) + MAX_GROWTH;
            if new > room {
                return Err(
                    "cpi: InvalidRealloc (account data grew past the caller's room)".into(),
                );
            }
            ctx.write(word(&c.info, 24) - 8, &new.to_le_bytes())?;
        }
        ctx.write(word(&c.info, 24), bytes)?;
        if let Some(k) = at {
            ctx.synced[k] = lamports;
            ctx.owners[k] = owner;
            ctx.lens[k] = new;
        }
    }
    Ok(0)
}
