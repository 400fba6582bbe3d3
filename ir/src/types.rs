//! Integer types.

use std::fmt;

/// An integer type. Values are bit patterns; signedness belongs to operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// A boolean: 0 or 1. Comparisons produce it; branches consume it.
    I1,
    /// A byte.
    I8,
    /// A 32-bit integer (WASM `i32`).
    I32,
    /// A 64-bit integer (WASM `i64`).
    I64,
    /// A 256-bit integer (an EVM word).
    I256,
}

impl Type {
    /// Every type, narrowest first.
    pub const ALL: [Type; 5] = [Type::I1, Type::I8, Type::I32, Type::I64, Type::I256];

    /// Width in bits.
    pub fn bits(self) -> usize {
        match self {
            Type::I1 => 1,
            Type::I8 => 8,
            Type::I32 => 32,
            Type::I64 => 64,
            Type::I256 => 256,
        }
    }

    /// Width in bytes when stored to memory (`i1` is not storable).
    pub fn bytes(self) -> Option<usize> {
        match self {
            Type::I1 => None,
            other => Some(other.bits() / 8),
        }
    }

    /// The text-format name.
    pub fn name(self) -> &'static str {
        match self {
            Type::I1 => "i1",
            Type::I8 => "i8",
            Type::I32 => "i32",
            Type::I64 => "i64",
            Type::I256 => "i256",
        }
    }

    /// Parses a text-format name.
    pub fn from_name(s: &str) -> Option<Type> {
        Type::ALL.into_iter().find(|t| t.name() == s)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
