// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Recursive internal functions. Each call pushes a frame (return address,
/// arguments, locals) on the EVM stack, so the stack height at a function's
/// entry has no bound the bytecode shows: a lifter that specializes blocks
/// per stack height must keep this code's stack in memory instead.
contract Recursion {
    uint256[] public values;
    uint256 public deepest;

    /// Fibonacci, twice recursive.
    function fib(uint256 n) external pure returns (uint256) {
        return _fib(n);
    }

    function _fib(uint256 n) internal pure returns (uint256) {
        if (n < 2) return n;
        return _fib(n - 1) + _fib(n - 2);
    }

    /// Ackermann's function: recursion in an argument of recursion.
    function ackermann(uint256 m, uint256 n) external pure returns (uint256) {
        return _ack(m, n);
    }

    function _ack(uint256 m, uint256 n) internal pure returns (uint256) {
        if (m == 0) return n + 1;
        if (n == 0) return _ack(m - 1, 1);
        return _ack(m - 1, _ack(m, n - 1));
    }

    /// Mutual recursion.
    function isEven(uint256 n) external pure returns (bool) {
        return _even(n);
    }

    function _even(uint256 n) internal pure returns (bool) {
        return n == 0 ? true : _odd(n - 1);
    }

    function _odd(uint256 n) internal pure returns (bool) {
        return n == 0 ? false : _even(n - 1);
    }

    /// Recursion through an internal function pointer: the jump target
    /// comes from the stack, not from the code.
    function viaPointer(uint256 n, bool useFib) external pure returns (uint256) {
        function(uint256, function(uint256) internal pure returns (uint256)) internal pure
            returns (uint256) step = _countdown;
        return step(n, useFib ? _fib : _triangle);
    }

    function _countdown(
        uint256 n,
        function(uint256) internal pure returns (uint256) leaf
    ) internal pure returns (uint256) {
        if (n == 0) return leaf(0);
        return leaf(n) + _countdown(n - 1, leaf);
    }

    function _triangle(uint256 n) internal pure returns (uint256) {
        return n == 0 ? 0 : n + _triangle(n - 1);
    }

    /// Recursion `n` deep that writes storage on the way back; deep enough,
    /// it overflows the EVM's 1024-word stack, an exceptional halt.
    function descend(uint256 n) external returns (uint256) {
        uint256 d = _descend(n);
        deepest = d;
        return d;
    }

    function _descend(uint256 n) internal returns (uint256) {
        if (n == 0) return 0;
        uint256 d = _descend(n - 1) + 1;
        if (d % 16 == 0) values.push(d);
        return d;
    }

    function push(uint256 v) external {
        values.push(v);
    }

    /// Divide and conquer over storage: the sum of values[lo..hi).
    function sumRange(uint256 lo, uint256 hi) external view returns (uint256) {
        require(lo <= hi && hi <= values.length, "bad range");
        return _sum(lo, hi);
    }

    function _sum(uint256 lo, uint256 hi) internal view returns (uint256) {
        if (hi - lo == 0) return 0;
        if (hi - lo == 1) return values[lo];
        uint256 mid = (lo + hi) / 2;
        return _sum(lo, mid) + _sum(mid, hi);
    }
}
