//! ABI encoding of calls and decoding of what comes back, on alloy-dyn-abi.
//!
//! Arguments are read the way `cast` reads them: each string is coerced to
//! its parameter type (`250`, `1e18`, `0x…`, `true`, `[1,2,3]`, `(1,0x…)`).
//! Signatures are `name(types)`, optionally with outputs cast-style
//! (`balanceOf(address)(uint256)`) or as Solidity
//! (`function f(uint) returns (bool)`), or a bare name found in the ABI.

use crate::report::hex;
use alloy_dyn_abi::{DynSolType, DynSolValue, ErrorExt, FunctionExt, JsonAbiExt, Specifier};
use alloy_json_abi::{Constructor, Function, JsonAbi, Param};
use anyhow::{Context, anyhow, bail};

/// The function a signature names. Outputs come from the signature, or
/// from the ABI's function with the same selector when it has none.
pub fn function(sig: &str, abi: Option<&JsonAbi>) -> anyhow::Result<Function> {
    let sig = sig.trim();
    if !sig.contains('(') {
        let abi = abi.ok_or_else(|| {
            anyhow!("signature `{sig}` has no parameter list, and no ABI names it")
        })?;
        return match abi.function(sig).map(Vec::as_slice) {
            Some([f]) => Ok(f.clone()),
            Some(many) => bail!(
                "`{sig}` is overloaded in the ABI ({}); give the full signature",
                many.iter()
                    .map(Function::signature)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => bail!("the ABI has no function named `{sig}`"),
        };
    }
    let mut f = Function::parse(sig).map_err(|e| anyhow!("bad signature `{sig}`: {e}"))?;
    if f.outputs.is_empty()
        && let Some(known) = abi.and_then(|a| a.function_by_selector(f.selector()))
    {
        f.outputs = known.outputs.clone();
    }
    Ok(f)
}

/// The constructor a signature describes: `constructor(address,uint256)`,
/// or the ABI's when `sig` is `None`.
pub fn constructor(
    sig: Option<&str>,
    abi: Option<&JsonAbi>,
) -> anyhow::Result<Option<Constructor>> {
    match sig {
        Some(sig) => {
            let sig = sig.trim();
            let sig = if sig.starts_with("constructor") {
                sig.to_string()
            } else {
                format!("constructor{sig}")
            };
            Ok(Some(
                Constructor::parse(&sig).map_err(|e| anyhow!("bad constructor `{sig}`: {e}"))?,
            ))
        }
        None => Ok(abi.and_then(|a| a.constructor.clone())),
    }
}

/// Coerces `args` to `params`' types, as `cast` does.
fn coerce(params: &[Param], args: &[String], what: &str) -> anyhow::Result<Vec<DynSolValue>> {
    if params.len() != args.len() {
        bail!(
            "{what} takes {} argument(s), {} given",
            params.len(),
            args.len()
        );
    }
    params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (p, a))| {
            let ty: DynSolType = p
                .resolve()
                .with_context(|| format!("{what}: parameter {i} has type `{}`", p.ty))?;
            ty.coerce_str(a)
                .map_err(|e| anyhow!("{what}: argument {i} `{a}` is not a {ty}: {e}"))
        })
        .collect()
}

/// Calldata for `f(args…)`: the selector and the encoded arguments.
pub fn encode_call(f: &Function, args: &[String]) -> anyhow::Result<Vec<u8>> {
    let values = coerce(&f.inputs, args, &f.signature())?;
    Ok(f.abi_encode_input(&values)?)
}

/// The encoded constructor arguments (appended to creation code).
pub fn encode_constructor(c: Option<&Constructor>, args: &[String]) -> anyhow::Result<Vec<u8>> {
    match c {
        None if args.is_empty() => Ok(vec![]),
        None => bail!("constructor arguments given, but no constructor signature or ABI"),
        Some(c) => {
            let values = coerce(&c.inputs, args, "constructor")?;
            Ok(c.abi_encode_input(&values)?)
        }
    }
}

/// Decodes return data with `f`'s outputs.
pub fn decode_return(f: &Function, data: &[u8]) -> anyhow::Result<Vec<DynSolValue>> {
    f.abi_decode_output(data).map_err(|e| {
        anyhow!(
            "return data does not decode as ({}): {e}",
            types(&f.outputs)
        )
    })
}

/// Coerces expected return values (strings, as arguments are written) to
/// `f`'s output types.
pub fn expected_returns(f: &Function, values: &[String]) -> anyhow::Result<Vec<DynSolValue>> {
    coerce(&f.outputs, values, &format!("{} returns", f.name))
}

fn types(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| p.selector_type().into_owned())
        .collect::<Vec<_>>()
        .join(",")
}

/// A decoded revert: the error's name and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Revert {
    /// `Error`, `Panic` or the custom error's name.
    pub name: String,
    /// Its values.
    pub values: Vec<DynSolValue>,
}

impl std::fmt::Display for Revert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.name, format_values(&self.values))
    }
}

/// Decodes revert data: `Error(string)`, `Panic(uint256)` or a custom
/// error of the ABI. `None` when it is none of them (or empty).
pub fn decode_revert(abi: Option<&JsonAbi>, data: &[u8]) -> Option<Revert> {
    if data.len() < 4 {
        return None;
    }
    let builtin = [
        alloy_json_abi::Error::parse("Error(string)").ok()?,
        alloy_json_abi::Error::parse("Panic(uint256)").ok()?,
    ];
    let custom = abi.into_iter().flat_map(|a| a.errors());
    for e in builtin.iter().chain(custom) {
        if e.selector().as_slice() == &data[..4]
            && let Ok(decoded) = e.decode_error(data)
        {
            return Some(Revert {
                name: e.name.clone(),
                values: decoded.body,
            });
        }
    }
    None
}

/// Values as `cast` prints them: decimal numbers, checksummed addresses,
/// hex bytes, quoted strings, `[…]` arrays and `(…)` tuples.
pub fn format_value(v: &DynSolValue) -> String {
    match v {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(w, size) => hex(&w[..*size]),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Function(f) => hex(f.as_slice()),
        DynSolValue::Bytes(b) => hex(b),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            format!("[{}]", format_values(items))
        }
        DynSolValue::Tuple(items) => format!("({})", format_values(items)),
    }
}

/// Several values, comma-separated.
pub fn format_values(values: &[DynSolValue]) -> String {
    values
        .iter()
        .map(format_value)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_cast() {
        let f = function("transfer(address,uint256)", None).unwrap();
        let data = encode_call(
            &f,
            &[
                "0x0000000000000000000000000000000000000002".into(),
                "250".into(),
            ],
        )
        .unwrap();
        assert_eq!(&data[..4], &[0xa9, 0x05, 0x9c, 0xbb]);
        assert_eq!(data.len(), 68);
        assert_eq!(data[67], 250);
        let f = function("sum(uint256[])", None).unwrap();
        let data = encode_call(&f, &["[1,2,3]".into()]).unwrap();
        assert_eq!(data.len(), 4 + 32 * 5);
        assert_eq!(data[4 + 32 * 5 - 1], 3);
    }

    #[test]
    fn outputs_cast_style_and_decoding() {
        let f = function("balanceOf(address)(uint256)", None).unwrap();
        assert_eq!(f.outputs.len(), 1);
        let mut word = [0u8; 32];
        word[31] = 7;
        assert_eq!(format_values(&decode_return(&f, &word).unwrap()), "7");
        assert!(decode_return(&f, &[1, 2]).is_err());
    }

    #[test]
    fn argument_errors_name_the_argument() {
        let f = function("f(uint8)", None).unwrap();
        let e = encode_call(&f, &["300".into()]).unwrap_err().to_string();
        assert!(e.contains("argument 0 `300`"), "{e}");
        let e = encode_call(&f, &[]).unwrap_err().to_string();
        assert!(e.contains("takes 1 argument"), "{e}");
    }

    #[test]
    fn reverts_decode() {
        // Error("no")
        let mut data = vec![0x08, 0xc3, 0x79, 0xa0];
        let e = alloy_json_abi::Error::parse("Error(string)").unwrap();
        data = {
            let body = e
                .abi_encode_input(&[DynSolValue::String("no".into())])
                .unwrap();
            assert_eq!(&body[..4], &data[..]);
            body
        };
        assert_eq!(
            decode_revert(None, &data).unwrap().to_string(),
            "Error(\"no\")"
        );
        assert!(decode_revert(None, &[1, 2, 3, 4, 5]).is_none());
    }
}
