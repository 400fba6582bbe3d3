//! `translate --check` for sbf: every operation that has no mapping to
//! Solana and every site where the program can end in a target limit, each
//! with the functions (selectors) whose code reaches it; and the notes a
//! plain `translate` prints from the same report.

use alloy_primitives::U256;
use anyhow::anyhow;
use chainlift_backend_sbf::check::{self, LimitSite, Report};
use chainlift_backend_sbf::{EnvField, Error, Target};
use chainlift_frontend_evm::{self as evm, Fork};
use chainlift_ir::inst::SourcePos;
use chainlift_ir::verify::Verified;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

/// The constants for `--env NAME=VALUE` (each field at its default
/// otherwise), or none with `--strict`.
pub(crate) fn constants(env: &[String], strict: bool) -> anyhow::Result<BTreeMap<EnvField, U256>> {
    if strict {
        if !env.is_empty() {
            anyhow::bail!("--strict fixes no constants: drop --env");
        }
        return Ok(BTreeMap::new());
    }
    let mut constants = EnvField::defaults();
    for e in env {
        let (name, value) = e
            .split_once('=')
            .ok_or_else(|| anyhow!("--env {e}: expected NAME=VALUE"))?;
        let field = EnvField::parse(name.trim()).ok_or_else(|| {
            let names: Vec<&str> = EnvField::ALL.iter().map(|f| f.name()).collect();
            anyhow!(
                "--env {e}: no field `{name}` (fields: {})",
                names.join(", ")
            )
        })?;
        let value: U256 = value
            .trim()
            .parse()
            .map_err(|_| anyhow!("--env {e}: `{value}` is not a number (decimal or 0x hex)"))?;
        if field == EnvField::Coinbase && value.bit_len() > 160 {
            anyhow::bail!("--env {e}: an address has 20 bytes");
        }
        constants.insert(field, value);
    }
    Ok(constants)
}

/// The fields Solana has no source for that `module` reads, with the
/// constants `target` gives them.
fn constants_read(module: &Verified, target: &Target) -> Vec<(EnvField, U256)> {
    let f = &module.functions[0];
    let read: std::collections::BTreeSet<EnvField> = f
        .layout
        .iter()
        .flat_map(|b| &f.block(*b).insts)
        .filter_map(|i| match i.op {
            chainlift_ir::inst::Op::Host(h) => EnvField::ALL.into_iter().find(|e| e.host() == h),
            _ => None,
        })
        .collect();
    read.into_iter()
        .filter_map(|e| target.constants.get(&e).map(|v| (e, *v)))
        .collect()
}

/// A constant as it is printed: the coinbase as hex, numbers in decimal.
fn shown(f: EnvField, v: U256) -> String {
    if f == EnvField::Coinbase {
        format!("{v:#x}")
    } else {
        v.to_string()
    }
}

/// Sites of one kind a text report shows.
const SHOWN: usize = 12;

/// A module checked for sbf, with what is needed to name the functions
/// that reach each site.
pub(crate) struct Checked {
    report: Report,
    /// For EVM code: the selectors whose code reaches each source
    /// position ([`selectors_by_pos`]).
    reach: HashMap<SourcePos, Vec<u32>>,
    /// Function signatures by selector, when the input carried an ABI.
    functions: BTreeMap<u32, String>,
    /// The fields with no Solana source the code reads, and their
    /// constants.
    constants: Vec<(EnvField, U256)>,
    /// For EVM code, when reach was asked for: the dispatcher's
    /// functions (selectors, fallback, receive).
    pub(crate) dispatch: Option<evm::dispatch::Dispatch>,
}

impl Checked {
    /// Checks `module` (lifted from `code`) for `target`; `reach`: also
    /// find the functions that reach each site (for `--check`).
    pub(crate) fn new(
        module: &Verified,
        target: &Target,
        code: &[u8],
        fork: Fork,
        functions: BTreeMap<u32, String>,
        reach: bool,
    ) -> anyhow::Result<Checked> {
        let report = check::check(module, target)?;
        Self::with_report(report, module, target, code, fork, functions, reach)
    }

    /// [`Checked::new`] for the module as one of a bundle's contracts
    /// (`check::check_in_bundle`): calls into the bundle's contracts run
    /// inside the program.
    pub(crate) fn in_bundle(
        module: &Verified,
        target: &Target,
        code: &[u8],
        fork: Fork,
        functions: BTreeMap<u32, String>,
    ) -> anyhow::Result<Checked> {
        let report = check::check_in_bundle(module, target)?;
        Self::with_report(report, module, target, code, fork, functions, true)
    }

    /// [`Checked::in_bundle`] for a contract the bundle's contracts create:
    /// its template or its init code (`contract.init`), lifted from `code`.
    pub(crate) fn created(
        contract: chainlift_backend_sbf::Contract<'_>,
        target: &Target,
        code: &[u8],
        fork: Fork,
    ) -> anyhow::Result<Checked> {
        let module = contract.module;
        let report = check::check_member(contract, target)?;
        Self::with_report(report, module, target, code, fork, BTreeMap::new(), true)
    }

    fn with_report(
        report: Report,
        module: &Verified,
        target: &Target,
        code: &[u8],
        fork: Fork,
        functions: BTreeMap<u32, String>,
        reach: bool,
    ) -> anyhow::Result<Checked> {
        let (reach, dispatch) = if !reach || chainlift_emulator::stylus::is_wasm(code) {
            (HashMap::new(), None)
        } else {
            let options = evm::Options {
                fork,
                ..Default::default()
            };
            let analysis = evm::analyze(code, &options)?;
            (selectors_by_pos(&analysis), Some(analysis.dispatch))
        };
        Ok(Checked {
            report,
            reach,
            functions,
            constants: constants_read(module, target),
            dispatch,
        })
    }

    /// The selectors whose code reaches `pos`.
    pub(crate) fn selectors(&self, pos: SourcePos) -> &[u32] {
        self.reach.get(&pos).map_or(&[], Vec::as_slice)
    }

    /// A selector's signature, or its hex.
    fn function(&self, selector: u32) -> String {
        self.functions
            .get(&selector)
            .cloned()
            .unwrap_or_else(|| format!("0x{selector:08x}"))
    }

    /// The functions reaching `pos`, for text: `in a(), b()` or nothing.
    fn reached_by(&self, sites: impl IntoIterator<Item = SourcePos>) -> String {
        let mut selectors: Vec<u32> = sites
            .into_iter()
            .flat_map(|p| self.selectors(p).iter().copied())
            .collect();
        selectors.sort_unstable();
        selectors.dedup();
        if selectors.is_empty() {
            return String::new();
        }
        let names: Vec<String> = selectors.iter().map(|s| self.function(*s)).collect();
        format!("reached by {}", names.join(", "))
    }

    /// The limit sites grouped by exit code.
    fn limits_by_exit(&self) -> BTreeMap<u64, Vec<&LimitSite>> {
        let mut by: BTreeMap<u64, Vec<&LimitSite>> = BTreeMap::new();
        for s in &self.report.limits {
            by.entry(s.exit).or_default().push(s);
        }
        by
    }

    /// `{name: sites}` for `translate --json`.
    pub(crate) fn limit_counts(&self) -> serde_json::Value {
        self.limits_by_exit()
            .into_iter()
            .map(|(code, sites)| (check::limit_name(code).to_string(), sites.len().into()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    /// The note a successful `translate` prints under its summary.
    pub(crate) fn note(&self, out: &mut dyn Write) -> std::io::Result<()> {
        self.constants_note(out)?;
        if self.report.limits.is_empty() {
            return Ok(());
        }
        let kinds: Vec<String> = self
            .limits_by_exit()
            .into_iter()
            .map(|(code, sites)| format!("{} {}", check::limit_name(code), sites.len()))
            .collect();
        writeln!(
            out,
            "note: {} sites can end in a target limit ({}); `chainlift translate --check` lists them",
            self.report.limits.len(),
            kinds.join(", ")
        )
    }

    /// The line naming the constants the code reads in place of fields
    /// Solana has no source for.
    fn constants_note(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.constants.is_empty() {
            return Ok(());
        }
        let fixed: Vec<String> = self
            .constants
            .iter()
            .map(|(f, v)| format!("{} = {}", f.name(), shown(*f, *v)))
            .collect();
        writeln!(
            out,
            "note: constants fixed at translation (no Solana source): {}; `--env NAME=VALUE` sets them, `--strict` refuses them",
            fixed.join(", ")
        )
    }

    /// `{name: value}` of the constants the code reads, for JSON.
    pub(crate) fn constants_json(&self) -> serde_json::Value {
        self.constants
            .iter()
            .map(|(f, v)| (f.name().to_string(), shown(*f, *v).into()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    /// The error `translate` gives when the module does not translate: the
    /// first operation with no mapping, and how many more there are.
    pub(crate) fn translate_error(&self, e: Error) -> anyhow::Error {
        let n = self.report.unsupported.len();
        match e {
            Error::Unsupported { .. } if n > 1 => anyhow!(
                "{e} (and {} more operations with no mapping: `chainlift translate --check` lists them all, with the functions that reach them)",
                n - 1
            ),
            e => e.into(),
        }
    }

    /// Prints the report (`--check`); the exit code is 1 when something
    /// has no mapping.
    /// Whether something has no mapping (the program cannot be built).
    pub(crate) fn refused(&self) -> bool {
        !self.report.unsupported.is_empty()
    }

    /// The report as `--check --json` prints it (docs/json.md).
    pub(crate) fn json(&self) -> serde_json::Value {
        let selectors = |pos: SourcePos| -> Vec<String> {
            self.selectors(pos)
                .iter()
                .map(|s| format!("0x{s:08x}"))
                .collect()
        };
        let unsupported: Vec<serde_json::Value> = self
            .report
            .unsupported
            .iter()
            .map(|u| {
                serde_json::json!({
                    "what": u.what,
                    "pos": u.pos.to_string(),
                    "why": u.why,
                    "selectors": selectors(u.pos),
                })
            })
            .collect();
        let limits: Vec<serde_json::Value> = self
            .report
            .limits
            .iter()
            .map(|s| {
                serde_json::json!({
                    "exit_code": s.exit,
                    "limit": check::limit_name(s.exit),
                    "pos": s.pos.to_string(),
                    "selectors": selectors(s.pos),
                })
            })
            .collect();
        serde_json::json!({
            "schema_version": crate::report::SCHEMA_VERSION,
            "target": "sbf",
            "translates": !self.refused(),
            "unsupported": unsupported,
            "limit_sites": limits,
            "constants": self.constants_json(),
        })
    }

    pub(crate) fn print(&self, json: bool, out: &mut dyn Write) -> anyhow::Result<u8> {
        let code = u8::from(self.refused());
        if json {
            crate::report::write_json(out, &self.json())?;
            return Ok(code);
        }
        self.print_text(out)?;
        Ok(code)
    }

    /// The text report of [`Checked::print`].
    pub(crate) fn print_text(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let code = u8::from(self.refused());
        let r = &self.report;
        writeln!(
            out,
            "{}: {} operations with no mapping, {} sites that can end in a target limit",
            if code == 0 {
                "translates to sbf"
            } else {
                "does not translate to sbf"
            },
            r.unsupported.len(),
            r.limits.len()
        )?;
        self.constants_note(out)?;
        if !r.unsupported.is_empty() {
            writeln!(
                out,
                "\nno mapping (each must go before the program can be built):"
            )?;
            for u in &r.unsupported {
                writeln!(out, "  {:<10} {:<24} {}", u.pos.to_string(), u.what, u.why)?;
                let by = self.reached_by([u.pos]);
                if !by.is_empty() {
                    writeln!(out, "  {:<10} {:<24} {by}", "", "")?;
                }
            }
        }
        if !r.limits.is_empty() {
            writeln!(
                out,
                "\ntarget limits (the program ends with the named exit code if one is reached):"
            )?;
            for (exit, sites) in self.limits_by_exit() {
                let mut at: Vec<String> = sites
                    .iter()
                    .take(SHOWN)
                    .map(|s| s.pos.to_string())
                    .collect();
                if sites.len() > SHOWN {
                    at.push(format!(
                        "and {} more (--json lists all)",
                        sites.len() - SHOWN
                    ));
                }
                writeln!(
                    out,
                    "  0x{exit:03x} {} ({} sites): {}",
                    check::limit_name(exit),
                    sites.len(),
                    at.join(" ")
                )?;
                let by = self.reached_by(sites.iter().map(|s| s.pos));
                if !by.is_empty() {
                    writeln!(out, "        {by}")?;
                }
            }
        }
        Ok(())
    }
}

/// The selectors whose code reaches each source position. Reachability is
/// taken in the raw lift (before optimization merges blocks), not the EVM
/// CFG: the lifter specializes shared internal functions per return
/// address, so a helper called from one function does not lead into
/// another's code, and every instance of a function's entry block is
/// still a block of its own there. (Where the lifter merged contexts, or
/// jumps through its dispatcher, reachability is wider.) Optimization
/// keeps positions, so the sites of the optimized module are found by
/// theirs.
fn selectors_by_pos(a: &evm::Analysis) -> HashMap<SourcePos, Vec<u32>> {
    let module = evm::lift::lift(a, evm::lift::LiftOptions::default());
    let f = &module.functions[0];
    let positions = |b: chainlift_ir::entities::Block| {
        let data = f.block(b);
        data.insts
            .iter()
            .map(|i| i.pos)
            .chain(std::iter::once(data.term_pos))
            .filter(|p| *p != SourcePos::None)
    };
    let mut out: HashMap<SourcePos, Vec<u32>> = HashMap::new();
    for s in &a.dispatch.selectors {
        let Some(entry) = a.block_containing(s.entry_pc).map(|b| &a.cfg.blocks[b]) else {
            continue;
        };
        let in_entry = |p: SourcePos| matches!(p, SourcePos::Evm(pc) if (entry.start..=entry.end).contains(&pc));
        let mut work: Vec<_> = f
            .layout
            .iter()
            .copied()
            .filter(|b| positions(*b).any(in_entry))
            .collect();
        let mut seen = vec![false; f.blocks.len()];
        while let Some(b) = work.pop() {
            if std::mem::replace(&mut seen[b.index()], true) {
                continue;
            }
            for p in positions(b) {
                let v = out.entry(p).or_default();
                if v.last() != Some(&s.selector) {
                    v.push(s.selector);
                }
            }
            work.extend(f.block(b).term.targets().map(|c| c.block));
        }
    }
    out
}
