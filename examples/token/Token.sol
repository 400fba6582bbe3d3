// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Token
/// @notice chainlift example fixture: a capped, owner-mintable, burnable ERC20.
/// @dev Exercises OpenZeppelin inheritance (ERC20, ERC20Burnable, Ownable),
///      custom errors raised both by OpenZeppelin (ERC20InsufficientBalance,
///      OwnableUnauthorizedAccount, ...) and by this contract.
contract Token is ERC20, ERC20Burnable, Ownable {
    /// @notice Hard cap on the total supply (one billion tokens, 18 decimals).
    uint256 public constant MAX_SUPPLY = 1_000_000_000 ether;

    /// @notice Number of mint operations performed so far (constructor included).
    uint256 public mintCount;

    /// @notice Raised when a mint would push the total supply above MAX_SUPPLY.
    error SupplyCapExceeded(uint256 requested, uint256 available);
    /// @notice Raised by batchTransfer when the two input arrays differ in length.
    error LengthMismatch(uint256 recipients, uint256 amounts);
    /// @notice Raised when a zero amount is minted.
    error ZeroAmount();

    event Minted(address indexed to, uint256 amount, uint256 newTotalSupply);

    constructor(address initialOwner, uint256 initialSupply)
        ERC20("Chainlift Example Token", "CLT")
        Ownable(initialOwner)
    {
        if (initialSupply > 0) {
            _mintCapped(initialOwner, initialSupply);
        }
    }

    /// @notice Mint `amount` new tokens to `to`. Owner only.
    function mint(address to, uint256 amount) external onlyOwner {
        if (amount == 0) revert ZeroAmount();
        _mintCapped(to, amount);
    }

    /// @notice Send tokens from the caller to several recipients in one call.
    function batchTransfer(address[] calldata recipients, uint256[] calldata amounts) external returns (bool) {
        uint256 n = recipients.length;
        if (n != amounts.length) revert LengthMismatch(n, amounts.length);
        address from = _msgSender();
        for (uint256 i = 0; i < n; ++i) {
            _transfer(from, recipients[i], amounts[i]);
        }
        return true;
    }

    /// @notice How many tokens can still be minted before hitting the cap.
    function remainingMintable() external view returns (uint256) {
        return MAX_SUPPLY - totalSupply();
    }

    function _mintCapped(address to, uint256 amount) internal {
        uint256 available = MAX_SUPPLY - totalSupply();
        if (amount > available) revert SupplyCapExceeded(amount, available);
        _mint(to, amount);
        unchecked {
            ++mintCount;
        }
        emit Minted(to, amount, totalSupply());
    }
}
