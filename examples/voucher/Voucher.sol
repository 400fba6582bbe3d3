// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Voucher: gift vouchers unlocked by a secret, and approvals signed
/// off-chain.
/// @notice An ERC20 with EIP-2612 permits (ecrecover), gifts keyed by the
/// SHA-256 of their secret (the sha256 precompile), and gifts delivered only
/// to accounts without code (EXTCODESIZE).
contract Voucher is ERC20, ERC20Permit, Ownable {
    struct Gift {
        uint128 amount;
        uint64 expires;
        bool redeemed;
    }

    /// Gifts by the SHA-256 of their secret.
    mapping(bytes32 => Gift) public gifts;

    event GiftCreated(bytes32 indexed digest, uint256 amount, uint64 expires);
    event GiftRedeemed(bytes32 indexed digest, address indexed to);

    error GiftExists(bytes32 digest);
    error UnknownGift(bytes32 digest);
    error AlreadyRedeemed(bytes32 digest);
    error GiftExpired(bytes32 digest, uint64 expires);
    error NotAnAccount(address to);

    constructor(address owner_, uint256 supply)
        ERC20("Voucher", "VCH")
        ERC20Permit("Voucher")
        Ownable(owner_)
    {
        _mint(owner_, supply);
    }

    /// The owner locks `amount` of its tokens behind `digest` (the SHA-256
    /// of a secret) until `expires`.
    function createGift(bytes32 digest, uint128 amount, uint64 expires) external onlyOwner {
        if (gifts[digest].amount != 0) revert GiftExists(digest);
        gifts[digest] = Gift(amount, expires, false);
        _transfer(msg.sender, address(this), amount);
        emit GiftCreated(digest, amount, expires);
    }

    /// Whoever knows the secret sends its gift to `to`, which must not be a
    /// contract.
    function redeem(bytes calldata secret, address to) external returns (uint256) {
        bytes32 digest = sha256(secret);
        Gift storage gift = gifts[digest];
        if (gift.amount == 0) revert UnknownGift(digest);
        if (gift.redeemed) revert AlreadyRedeemed(digest);
        if (block.timestamp > gift.expires) revert GiftExpired(digest, gift.expires);
        if (to.code.length != 0) revert NotAnAccount(to);
        gift.redeemed = true;
        _transfer(address(this), to, gift.amount);
        emit GiftRedeemed(digest, to);
        return gift.amount;
    }

    /// Takes a signed permit for the caller and spends it in the same call.
    function transferWithPermit(
        address from,
        address to,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bool) {
        permit(from, msg.sender, value, deadline, v, r, s);
        return transferFrom(from, to, value);
    }

    /// The address that signed `digest`, or zero.
    function signerOf(bytes32 digest, uint8 v, bytes32 r, bytes32 s) external pure returns (address) {
        return ecrecover(digest, v, r, s);
    }
}
