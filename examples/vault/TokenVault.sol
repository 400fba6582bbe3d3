// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title TokenVault
/// @notice chainlift example fixture: an ERC-4626 vault over an ERC-20 asset
///         (the Token example, deployed separately) with a deposit cap.
/// @dev Every deposit, withdrawal and share-price read makes nested calls into
///      the asset: transferFrom on deposit/mint, transfer on withdraw/redeem,
///      balanceOf for totalAssets (and so for every conversion). Errors raised by
///      the asset (ERC20InsufficientAllowance, ERC20InsufficientBalance) bubble up
///      unchanged through SafeERC20.
contract TokenVault is ERC4626, Ownable {
    using SafeERC20 for IERC20;

    /// @notice Most assets the vault accepts in total; deposits past it revert
    ///         with ERC4626ExceededMaxDeposit / ERC4626ExceededMaxMint.
    uint256 public depositCap;

    /// @notice Raised when a deposit is too small to mint a single share.
    error ZeroShares(uint256 assets);
    /// @notice Raised when the owner tries to sweep the vault's own asset.
    error CannotSweepAsset(address token);

    event DepositCapChanged(uint256 oldCap, uint256 newCap);
    event Swept(address indexed token, address indexed to, uint256 amount);

    constructor(IERC20 asset_, address owner_, uint256 cap_)
        ERC20("Chainlift Vault Share", "vCLT")
        ERC4626(asset_)
        Ownable(owner_)
    {
        depositCap = cap_;
    }

    /// @notice Assets that can still be deposited before the cap is reached.
    function maxDeposit(address) public view override returns (uint256) {
        uint256 assets = totalAssets();
        return assets >= depositCap ? 0 : depositCap - assets;
    }

    /// @notice Shares that can still be minted before the cap is reached.
    function maxMint(address receiver) public view override returns (uint256) {
        return _convertToShares(maxDeposit(receiver), Math.Rounding.Floor);
    }

    /// @notice ERC-4626 deposit that refuses to take assets for zero shares.
    function deposit(uint256 assets, address receiver) public override returns (uint256) {
        if (previewDeposit(assets) == 0) revert ZeroShares(assets);
        return super.deposit(assets, receiver);
    }

    /// @notice Change the deposit cap. Owner only.
    function setDepositCap(uint256 newCap) external onlyOwner {
        emit DepositCapChanged(depositCap, newCap);
        depositCap = newCap;
    }

    /// @notice Send the vault's whole balance of a foreign token to `to`. Owner only;
    ///         the asset itself can never be swept.
    function sweep(IERC20 token, address to) external onlyOwner returns (uint256 amount) {
        if (address(token) == asset()) revert CannotSweepAsset(address(token));
        amount = token.balanceOf(address(this));
        token.safeTransfer(to, amount);
        emit Swept(address(token), to, amount);
    }
}
