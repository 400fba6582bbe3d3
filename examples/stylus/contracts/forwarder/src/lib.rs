//! A forwarder for Arbitrum Stylus, in no_std Rust over the raw host
//! functions: it calls into a ledger (see `ledger`).
//!
//! - `balanceThrough(address ledger, address who) -> uint256`: a static
//!   call of `ledger.balanceOf(who)`, its answer returned as it is;
//! - `forwardTransfer(address ledger, address to, uint256 amount) -> bool`:
//!   a call of `ledger.transfer(to, amount)` (the forwarder is the sender);
//!   a revert of the ledger is passed up with its data (custom errors
//!   included), a success emits `Forwarded(address indexed ledger, address
//!   indexed to, uint256 amount)` and returns the ledger's answer.
//!
//! Anything else reverts with no data.

#![no_std]

use hostio::{
    MAX_DATA, address_arg, address_word, args, call, log, output, return_words, word_arg,
};

const BALANCE_THROUGH: [u8; 4] = [0xd8, 0x75, 0x7f, 0x1b];
const FORWARD_TRANSFER: [u8; 4] = [0x13, 0x39, 0xc6, 0x49];
const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];
const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// keccak256("Forwarded(address,address,uint256)")
const FORWARDED_EVENT: [u8; 32] = [
    0x05, 0x71, 0xd8, 0x5f, 0xc9, 0xcc, 0xe8, 0xd2, 0xeb, 0xf1, 0x8e, 0x98, 0x3b, 0xec, 0xef, 0x6c,
    0xc8, 0x84, 0xe3, 0x75, 0x03, 0xf3, 0x77, 0xf9, 0xb6, 0x38, 0x3d, 0x65, 0x85, 0x0f, 0x96, 0xd2,
];

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    hostio::abort()
}

static mut CALLDATA: [u8; MAX_DATA] = [0; MAX_DATA];
static mut RETURNED: [u8; MAX_DATA] = [0; MAX_DATA];

#[unsafe(no_mangle)]
pub extern "C" fn user_entrypoint(len: usize) -> i32 {
    // SAFETY: one call runs at a time and only here touches the buffers.
    let (buf, ret) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(CALLDATA),
            &mut *core::ptr::addr_of_mut!(RETURNED),
        )
    };
    let Some(input) = args(len, buf) else {
        return fail();
    };
    match input.get(..4) {
        Some(s) if s == BALANCE_THROUGH => {
            let (Some(ledger), Some(who)) = (address_arg(input, 0), address_arg(input, 1)) else {
                return fail();
            };
            let mut data = [0u8; 36];
            data[..4].copy_from_slice(&BALANCE_OF);
            data[4..].copy_from_slice(&address_word(&who));
            let called = call(&ledger, &data, true, ret);
            output(called.data);
            if called.ok { 0 } else { 1 }
        }
        Some(s) if s == FORWARD_TRANSFER => {
            let (Some(ledger), Some(to), Some(amount)) = (
                address_arg(input, 0),
                address_arg(input, 1),
                word_arg(input, 2),
            ) else {
                return fail();
            };
            let mut data = [0u8; 68];
            data[..4].copy_from_slice(&TRANSFER);
            data[4..36].copy_from_slice(&address_word(&to));
            data[36..].copy_from_slice(&amount.to_be());
            let called = call(&ledger, &data, false, ret);
            if !called.ok {
                // The ledger's revert, passed up as it is.
                output(called.data);
                return 1;
            }
            log(
                &[FORWARDED_EVENT, address_word(&ledger), address_word(&to)],
                &amount.to_be(),
            );
            match called.data.get(..32) {
                Some(w) => {
                    let mut word = [0u8; 32];
                    word.copy_from_slice(w);
                    return_words(&[word])
                }
                None => fail(),
            }
        }
        _ => fail(),
    }
}

/// A revert with no data.
fn fail() -> i32 {
    output(&[]);
    1
}
