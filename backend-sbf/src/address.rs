//! How EVM addresses and Solana public keys stand for each other.
//!
//! Two rules, one per kind of account:
//!
//! - **A contract of a bundle** lives in a state account at a
//!   program-derived address (PDA) of the bundle's program, from the seeds
//!   [`STATE_SEED`], the contract's 20-byte EVM address and a bump byte
//!   ([`state_account`]); the account's data says the address again
//!   ([`crate::storage::ADDRESS`]), which is what the program reads. So a
//!   client computes where any contract of the system lives, and the
//!   program finds it by address, on any cluster.
//! - **Any other account** (a signer, a wallet a call pays) stands for the
//!   EVM address of its public key's last 20 bytes ([`of_key`]): the
//!   `caller` of an outside signer, the recipient of a payment.
//!
//! A single-contract program (not a bundle) has its state account at any
//! key, and the contract's address is that key's last 20 bytes.

use alloy_primitives::Address;
use sha2::{Digest, Sha256};

/// The first seed of every state account's PDA.
pub const STATE_SEED: &[u8] = b"evm";

/// What the runtime's derivation appends after the program id.
const PDA_MARKER: &[u8] = b"ProgramDerivedAddress";

/// Solana's `create_program_address`: the SHA-256 of the seeds, the
/// program id and the marker, or `None` when that is a point on the
/// ed25519 curve (a key someone could hold the private key of), or the
/// seeds break Solana's limits (at most 16 of at most 32 bytes each).
pub fn create_program_address(seeds: &[&[u8]], program_id: &[u8; 32]) -> Option<[u8; 32]> {
    if seeds.len() > 16 || seeds.iter().any(|s| s.len() > 32) {
        return None;
    }
    let mut hash = Sha256::new();
    for s in seeds {
        hash.update(s);
    }
    hash.update(program_id);
    hash.update(PDA_MARKER);
    let key: [u8; 32] = hash.finalize().into();
    let on_curve = curve25519_dalek::edwards::CompressedEdwardsY(key)
        .decompress()
        .is_some();
    (!on_curve).then_some(key)
}

/// The state account of the bundle contract at `address` in the program
/// `program_id`: the PDA of the seeds [`STATE_SEED`], the address and the
/// highest bump byte that gives one, from 255 down to 1 (Solana's
/// `find_program_address` and `sol_try_find_program_address`), with that
/// bump.
pub fn state_account(program_id: &[u8; 32], address: Address) -> ([u8; 32], u8) {
    (1..=255u8)
        .rev()
        .find_map(|bump| {
            create_program_address(&[STATE_SEED, address.as_slice(), &[bump]], program_id)
                .map(|key| (key, bump))
        })
        // Each bump fails with probability about 1/2: 255 in a row does
        // not happen for SHA-256.
        .expect("a bump byte gives a program-derived address")
}

/// The EVM address an account other than a bundle's state account stands
/// for: its public key's last 20 bytes.
pub fn of_key(key: &[u8; 32]) -> Address {
    Address::from_slice(&key[12..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(base58: &str) -> [u8; 32] {
        bs58::decode(base58).into_vec().unwrap().try_into().unwrap()
    }

    #[test]
    fn derives_as_solana_does() {
        // Solana's own vectors (solana-pubkey's `create_program_address`
        // tests), under the upgradeable loader's id.
        let program = key("BPFLoaderUpgradeab1e11111111111111111111111");
        assert_eq!(
            create_program_address(&[b"Talking", b"Squirrels"], &program),
            Some(key("2fnQrngrQT4SeLcdToJAD96phoEjNL2man2kfRLCASVk"))
        );
        assert_eq!(
            create_program_address(&[b"", &[1]], &program),
            Some(key("BwqrghZA2htAcqq8dzP1WDAhTXYTYWj7CHxF5j7TDBAe"))
        );
        assert_eq!(create_program_address(&[&[0; 33]], &program), None);
    }

    #[test]
    fn a_state_account_is_off_the_curve_and_found_again_from_its_bump() {
        let program = [0x11; 32];
        let address = Address::repeat_byte(0xab);
        let (key, bump) = state_account(&program, address);
        assert_eq!(
            create_program_address(&[STATE_SEED, address.as_slice(), &[bump]], &program),
            Some(key)
        );
        assert_ne!(state_account(&program, Address::repeat_byte(0xac)).0, key);
        assert_ne!(state_account(&[0x12; 32], address).0, key);
    }
}
