// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Pair
/// @notice chainlift example fixture: a minimal constant-product pair created by
///         PairFactory with CREATE2. It holds two ERC-20 tokens and calls back into
///         them: balanceOf in sync/skim/swap, transfer to pay tokens out.
/// @dev Liquidity is added by transferring tokens to the pair and calling sync();
///      there are no LP shares. swap() follows Uniswap V2 (optimistic transfer
///      out, then a constant-product check with a 0.3% fee on the input).
contract Pair {
    address public immutable factory;
    address public immutable token0;
    address public immutable token1;

    // Packed into one storage slot, as in Uniswap V2.
    uint112 private reserve0;
    uint112 private reserve1;
    uint32 private syncCount;

    error Overflow(uint256 balance0, uint256 balance1);
    error InsufficientOutputAmount();
    error InsufficientInputAmount();
    error InsufficientLiquidity(uint256 amount0Out, uint256 amount1Out, uint256 reserve0, uint256 reserve1);
    error InvalidTo(address to);
    error UnknownToken(address token);
    error ConstantProductViolated(uint256 kBefore, uint256 kAfter);
    error TransferFailed(address token);

    event Sync(uint112 reserve0, uint112 reserve1);
    event Swap(
        address indexed sender,
        uint256 amount0In,
        uint256 amount1In,
        uint256 amount0Out,
        uint256 amount1Out,
        address indexed to
    );

    constructor(address token0_, address token1_) {
        factory = msg.sender;
        token0 = token0_;
        token1 = token1_;
    }

    /// @notice The reserves recorded by the last sync or swap.
    function getReserves() external view returns (uint256, uint256) {
        return (reserve0, reserve1);
    }

    /// @notice How many times the reserves were written (sync and swap).
    function updates() external view returns (uint256) {
        return syncCount;
    }

    /// @notice Output amount of the other token for `amountIn` of `tokenIn`, after the 0.3% fee.
    function getAmountOut(uint256 amountIn, address tokenIn) external view returns (uint256) {
        uint256 reserveIn;
        uint256 reserveOut;
        if (tokenIn == token0) (reserveIn, reserveOut) = (reserve0, reserve1);
        else if (tokenIn == token1) (reserveIn, reserveOut) = (reserve1, reserve0);
        else revert UnknownToken(tokenIn);
        uint256 amountInWithFee = amountIn * 997;
        return (amountInWithFee * reserveOut) / (reserveIn * 1000 + amountInWithFee);
    }

    /// @notice Record the pair's current token balances as its reserves.
    function sync() external {
        _update(IERC20(token0).balanceOf(address(this)), IERC20(token1).balanceOf(address(this)));
    }

    /// @notice Send whatever the pair holds above its reserves to `to`.
    function skim(address to) external {
        uint256 excess0 = IERC20(token0).balanceOf(address(this)) - reserve0;
        uint256 excess1 = IERC20(token1).balanceOf(address(this)) - reserve1;
        if (excess0 > 0) _send(token0, to, excess0);
        if (excess1 > 0) _send(token1, to, excess1);
    }

    /// @notice Pay out `amount0Out`/`amount1Out` to `to`; the input must already
    ///         have been transferred to the pair.
    function swap(uint256 amount0Out, uint256 amount1Out, address to) external {
        if (amount0Out == 0 && amount1Out == 0) revert InsufficientOutputAmount();
        uint256 r0 = reserve0;
        uint256 r1 = reserve1;
        if (amount0Out >= r0 || amount1Out >= r1) revert InsufficientLiquidity(amount0Out, amount1Out, r0, r1);
        if (to == token0 || to == token1) revert InvalidTo(to);

        if (amount0Out > 0) _send(token0, to, amount0Out);
        if (amount1Out > 0) _send(token1, to, amount1Out);
        uint256 balance0 = IERC20(token0).balanceOf(address(this));
        uint256 balance1 = IERC20(token1).balanceOf(address(this));

        uint256 amount0In = balance0 > r0 - amount0Out ? balance0 - (r0 - amount0Out) : 0;
        uint256 amount1In = balance1 > r1 - amount1Out ? balance1 - (r1 - amount1Out) : 0;
        if (amount0In == 0 && amount1In == 0) revert InsufficientInputAmount();

        uint256 kAfter = (balance0 * 1000 - amount0In * 3) * (balance1 * 1000 - amount1In * 3);
        uint256 kBefore = r0 * r1 * 1_000_000;
        if (kAfter < kBefore) revert ConstantProductViolated(kBefore, kAfter);

        _update(balance0, balance1);
        emit Swap(msg.sender, amount0In, amount1In, amount0Out, amount1Out, to);
    }

    function _update(uint256 balance0, uint256 balance1) private {
        if (balance0 > type(uint112).max || balance1 > type(uint112).max) revert Overflow(balance0, balance1);
        reserve0 = uint112(balance0);
        reserve1 = uint112(balance1);
        unchecked {
            ++syncCount;
        }
        emit Sync(uint112(balance0), uint112(balance1));
    }

    function _send(address token, address to, uint256 amount) private {
        if (!IERC20(token).transfer(to, amount)) revert TransferFailed(token);
    }
}

/// @title PairFactory
/// @notice chainlift example fixture: creates one Pair per unordered token pair
///         with CREATE2 (salt = keccak256(token0, token1), tokens sorted).
/// @dev createPair checks the registry first (PairExists); createPairUnchecked
///      skips that check so that a second creation collides at the EVM level:
///      CREATE2 returns 0 and the factory reverts with Create2Failed. pairFor
///      predicts the address (0xff ++ factory ++ salt ++ keccak256(init code)).
contract PairFactory {
    /// @notice The pair of two tokens, in either order (zero when there is none).
    mapping(address => mapping(address => address)) public getPair;
    /// @notice Every pair created, in creation order.
    address[] public allPairs;

    error IdenticalTokens(address token);
    error ZeroAddress();
    error PairExists(address pair);
    error Create2Failed(bytes32 salt);

    event PairCreated(address indexed token0, address indexed token1, address pair, uint256 index);

    /// @notice Create the pair of `tokenA` and `tokenB`; reverts with PairExists if it exists.
    function createPair(address tokenA, address tokenB) external returns (address pair) {
        (address token0, address token1) = sortTokens(tokenA, tokenB);
        address existing = getPair[token0][token1];
        if (existing != address(0)) revert PairExists(existing);
        pair = _deploy(token0, token1);
    }

    /// @notice Same as createPair without the registry check: a second call for
    ///         the same tokens fails inside CREATE2 (address collision).
    function createPairUnchecked(address tokenA, address tokenB) external returns (address pair) {
        (address token0, address token1) = sortTokens(tokenA, tokenB);
        pair = _deploy(token0, token1);
    }

    /// @notice Number of pairs created.
    function allPairsLength() external view returns (uint256) {
        return allPairs.length;
    }

    /// @notice The CREATE2 address of the pair of `tokenA` and `tokenB`, created or not.
    function pairFor(address tokenA, address tokenB) external view returns (address) {
        (address token0, address token1) = sortTokens(tokenA, tokenB);
        bytes32 digest = keccak256(
            abi.encodePacked(bytes1(0xff), address(this), _salt(token0, token1), keccak256(_initCode(token0, token1)))
        );
        return address(uint160(uint256(digest)));
    }

    /// @notice The two tokens in ascending address order.
    function sortTokens(address tokenA, address tokenB) public pure returns (address token0, address token1) {
        if (tokenA == tokenB) revert IdenticalTokens(tokenA);
        (token0, token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        if (token0 == address(0)) revert ZeroAddress();
    }

    function _deploy(address token0, address token1) private returns (address pair) {
        bytes32 salt = _salt(token0, token1);
        bytes memory code = _initCode(token0, token1);
        assembly ("memory-safe") {
            pair := create2(0, add(code, 0x20), mload(code), salt)
        }
        if (pair == address(0)) revert Create2Failed(salt);
        getPair[token0][token1] = pair;
        getPair[token1][token0] = pair;
        allPairs.push(pair);
        emit PairCreated(token0, token1, pair, allPairs.length - 1);
    }

    function _salt(address token0, address token1) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(token0, token1));
    }

    function _initCode(address token0, address token1) private pure returns (bytes memory) {
        return abi.encodePacked(type(Pair).creationCode, abi.encode(token0, token1));
    }
}
