//! Engines as the command line names them, all from the emulator's
//! registry: building one by name, `all` and the defaults, and `chainlift
//! engines`.

use anyhow::bail;
use chainlift_emulator::{Engine, registry};
use serde_json::{Value, json};
use std::io::Write;

thread_local! {
    /// How this command builds engines (`--stack-in-memory`); per thread,
    /// since tests run commands in-process side by side.
    static BUILD: std::cell::Cell<registry::Build> = std::cell::Cell::new(registry::Build::default());
}

/// Sets how engines are built for the rest of this command.
pub fn set_build(build: registry::Build) {
    BUILD.with(|b| b.set(build));
}

/// The engine called `name`, from the registry.
pub fn engine(name: &str) -> anyhow::Result<Box<dyn Engine>> {
    match registry::find(name.trim()) {
        Some(e) => Ok(e.build_with(&BUILD.with(|b| b.get()))),
        None => bail!(
            "unknown engine `{}` (available: {}; `chainlift engines` describes them)",
            name.trim(),
            registry::names().join(", ")
        ),
    }
}

/// Engine names as the command line gives them: `all` is every engine,
/// none is the registry's defaults.
pub fn engine_names(names: &[String]) -> Vec<String> {
    if names.is_empty() {
        return registry::defaults().iter().map(|s| s.to_string()).collect();
    }
    let mut out: Vec<String> = vec![];
    for n in names {
        let list: Vec<String> = if n.trim() == "all" {
            registry::names().iter().map(|s| s.to_string()).collect()
        } else {
            vec![n.trim().to_string()]
        };
        for n in list {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// `chainlift engines`: the registry, as a table or JSON.
pub(crate) fn list_engines(json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    if json {
        let list: Vec<Value> = registry::ENGINES
            .iter()
            .map(|e| {
                json!({
                    "name": e.name,
                    "description": e.description,
                    "cost_unit": e.cost_unit,
                    "cannot_run": e.cannot_run,
                    "traces": e.traces,
                    "default": e.default,
                })
            })
            .collect();
        crate::report::write_json(
            out,
            &json!({"schema_version": crate::report::SCHEMA_VERSION, "engines": list}),
        )?;
        return Ok(());
    }
    for e in registry::ENGINES {
        let mut tags = vec![format!("cost in {}", e.cost_unit)];
        if e.default {
            tags.push("compared by default".into());
        }
        if e.traces {
            tags.push("traces".into());
        }
        writeln!(out, "{:<8} {} ({})", e.name, e.description, tags.join(", "))?;
        writeln!(out, "{:<8} cannot run: {}", "", e.cannot_run)?;
    }
    writeln!(
        out,
        "\n--engines takes a comma-separated list of these, or `all`."
    )?;
    Ok(())
}
