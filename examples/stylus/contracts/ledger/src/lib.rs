//! A token ledger for Arbitrum Stylus, in no_std Rust over the raw host
//! functions. Solidity's ABI and storage layout:
//!
//! - slot 0: the owner (set once by `init()`, the constructor called as an
//!   ordinary call); slot 1: the total supply; slot 2: `balances`, a
//!   mapping from address to amount;
//! - `init()`, `owner()`, `totalSupply()`, `balanceOf(address)`;
//! - `mint(address,uint256)`: the owner only, else `Unauthorized(address)`;
//! - `transfer(address,uint256) -> bool`: `InsufficientBalance(uint256
//!   have, uint256 want)` when the sender has less;
//! - both emit `Transfer(address indexed, address indexed, uint256)`;
//! - `sumOfSquares(uint256 n) -> uint256`: 1² + … + n² mod 2^256 by a loop
//!   (n at most 10^6), the compute-bound function.
//!
//! Anything else reverts with no data.

#![no_std]

use hostio::{
    Address, MAX_DATA, U256, address_arg, address_word, args, keccak, load, log, mapping_slot,
    output, return_words, revert_with, sender, slot, store, word_arg,
};

const OWNER: u64 = 0;
const SUPPLY: u64 = 1;
const BALANCES: u64 = 2;

const INIT: [u8; 4] = [0xe1, 0xc7, 0x39, 0x2a];
const OWNER_OF: [u8; 4] = [0x8d, 0xa5, 0xcb, 0x5b];
const TOTAL_SUPPLY: [u8; 4] = [0x18, 0x16, 0x0d, 0xdd];
const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];
const MINT: [u8; 4] = [0x40, 0xc1, 0x0f, 0x19];
const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
const SUM_OF_SQUARES: [u8; 4] = [0x52, 0x0f, 0x39, 0x71];

const UNAUTHORIZED: [u8; 4] = [0x8e, 0x4a, 0x23, 0xd6];
const INSUFFICIENT_BALANCE: [u8; 4] = [0xcf, 0x47, 0x91, 0x81];
/// keccak256("Transfer(address,address,uint256)")
const TRANSFER_EVENT: [u8; 32] = [
    0xdd, 0xf2, 0x52, 0xad, 0x1b, 0xe2, 0xc8, 0x9b, 0x69, 0xc2, 0xb0, 0x68, 0xfc, 0x37, 0x8d, 0xaa,
    0x95, 0x2b, 0xa7, 0xf1, 0x63, 0xc4, 0xa1, 0x16, 0x28, 0xf5, 0x5a, 0x4d, 0xf5, 0x23, 0xb3, 0xef,
];

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    hostio::abort()
}

static mut CALLDATA: [u8; MAX_DATA] = [0; MAX_DATA];

#[unsafe(no_mangle)]
pub extern "C" fn user_entrypoint(len: usize) -> i32 {
    // SAFETY: one call runs at a time and only here touches the buffer.
    let buf = unsafe { &mut *core::ptr::addr_of_mut!(CALLDATA) };
    let Some(input) = args(len, buf) else {
        return fail();
    };
    let Some(selector) = input.get(..4) else {
        return fail();
    };
    let selector: [u8; 4] = [selector[0], selector[1], selector[2], selector[3]];
    match selector {
        INIT => init(),
        OWNER_OF => {
            let owner = load(&slot(OWNER));
            return_words(&[owner.to_be()])
        }
        TOTAL_SUPPLY => return_words(&[load(&slot(SUPPLY)).to_be()]),
        BALANCE_OF => match address_arg(input, 0) {
            Some(who) => return_words(&[load(&mapping_slot(&who, BALANCES)).to_be()]),
            None => fail(),
        },
        MINT => match (address_arg(input, 0), word_arg(input, 1)) {
            (Some(to), Some(amount)) => mint(to, amount),
            _ => fail(),
        },
        TRANSFER => match (address_arg(input, 0), word_arg(input, 1)) {
            (Some(to), Some(amount)) => transfer(to, amount),
            _ => fail(),
        },
        SUM_OF_SQUARES => match word_arg(input, 0).and_then(U256::to_u64) {
            Some(n) if n <= 1_000_000 => return_words(&[sum_of_squares(n).to_be()]),
            _ => fail(),
        },
        _ => fail(),
    }
}

/// A revert with no data.
fn fail() -> i32 {
    output(&[]);
    1
}

fn init() -> i32 {
    let me = sender();
    if load(&slot(OWNER)) != U256::ZERO {
        return revert_with(UNAUTHORIZED, &[address_word(&me)]);
    }
    store(&slot(OWNER), U256::from_be(&address_word(&me)));
    output(&[]);
    0
}

fn mint(to: Address, amount: U256) -> i32 {
    let me = sender();
    if load(&slot(OWNER)) != U256::from_be(&address_word(&me)) {
        return revert_with(UNAUTHORIZED, &[address_word(&me)]);
    }
    let (supply, overflow) = load(&slot(SUPPLY)).overflowing_add(amount);
    if overflow {
        return fail();
    }
    store(&slot(SUPPLY), supply);
    let key = mapping_slot(&to, BALANCES);
    // Cannot overflow: a balance is at most the supply.
    let (balance, _) = load(&key).overflowing_add(amount);
    store(&key, balance);
    log(
        &[TRANSFER_EVENT, [0u8; 32], address_word(&to)],
        &amount.to_be(),
    );
    output(&[]);
    0
}

fn transfer(to: Address, amount: U256) -> i32 {
    let from = sender();
    let from_key = mapping_slot(&from, BALANCES);
    let have = load(&from_key);
    if have < amount {
        return revert_with(INSUFFICIENT_BALANCE, &[have.to_be(), amount.to_be()]);
    }
    store(&from_key, have.wrapping_sub(amount));
    let to_key = mapping_slot(&to, BALANCES);
    let (balance, _) = load(&to_key).overflowing_add(amount);
    store(&to_key, balance);
    log(
        &[TRANSFER_EVENT, address_word(&from), address_word(&to)],
        &amount.to_be(),
    );
    return_words(&[U256::from_u64(1).to_be()])
}

/// 1² + 2² + … + n², in 256-bit arithmetic.
fn sum_of_squares(n: u64) -> U256 {
    let mut sum = U256::ZERO;
    let mut i = 1u64;
    while i <= n {
        let x = U256::from_u64(i);
        sum = sum.overflowing_add(x.wrapping_mul(x)).0;
        i += 1;
    }
    // Fold in a hash of the result, so the loop's value is observable
    // through keccak as well.
    let _ = keccak(&sum.to_be());
    sum
}
