// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title MathHeavy
/// @notice chainlift example fixture: arithmetic-dense pure functions.
/// @dev Exercises 512-bit multiply/divide, Newton iterations, fixed-point
///      exp/log, signed arithmetic (SDIV/SMOD/SAR/SIGNEXTEND), ADDMOD/MULMOD,
///      shifts and bit tricks, and loop-heavy number theory in checked and
///      unchecked blocks. Fixed-point values use 18 decimals ("WAD").
contract MathHeavy {
    uint256 internal constant WAD = 1e18;
    int256 internal constant IWAD = 1e18;
    /// @dev ln(2) scaled by 1e18.
    int256 internal constant LN2_WAD = 693_147_180_559_945_309;

    error DivisionByZero();
    error MulDivOverflow(uint256 x, uint256 y, uint256 denominator);
    error LogOfNonPositive(int256 x);
    error ExpOverflow(int256 x);
    error InputTooLarge(uint256 value, uint256 limit);

    // ------------------------------------------------------------ 512-bit

    /// @notice floor(x * y / denominator) computed with a full 512-bit
    ///         intermediate product, reverting only if the result overflows.
    function mulDiv(uint256 x, uint256 y, uint256 denominator) public pure returns (uint256 result) {
        if (denominator == 0) revert DivisionByZero();
        uint256 lo;
        uint256 hi;
        assembly ("memory-safe") {
            // mulmod by 2^256-1 recovers the high word via the CRT.
            let full := mulmod(x, y, not(0))
            lo := mul(x, y)
            hi := sub(sub(full, lo), lt(full, lo))
        }
        if (hi == 0) {
            return lo / denominator;
        }
        if (denominator <= hi) revert MulDivOverflow(x, y, denominator);

        // Make the 512-bit numerator exactly divisible by the denominator.
        uint256 rem;
        assembly ("memory-safe") {
            rem := mulmod(x, y, denominator)
            hi := sub(hi, gt(rem, lo))
            lo := sub(lo, rem)
        }

        unchecked {
            // Strip the largest power of two dividing the denominator.
            uint256 pow2 = denominator & (~denominator + 1);
            uint256 carry;
            assembly ("memory-safe") {
                denominator := div(denominator, pow2)
                lo := div(lo, pow2)
                // carry = 2^256 / pow2 (as a 256-bit value)
                carry := add(div(sub(0, pow2), pow2), 1)
            }
            lo |= hi * carry;

            // The denominator is now odd, so it is invertible mod 2^256.
            // Seed correct to 4 bits, then Newton-Raphson doubles the
            // number of correct bits per step: 8, 16, 32, 64, 128, 256.
            uint256 inv = (3 * denominator) ^ 2;
            for (uint256 i = 0; i < 6; ++i) {
                inv *= 2 - denominator * inv;
            }
            result = lo * inv;
        }
    }

    /// @notice ceil(x * y / denominator).
    function mulDivUp(uint256 x, uint256 y, uint256 denominator) external pure returns (uint256 result) {
        result = mulDiv(x, y, denominator);
        if (mulmod(x, y, denominator) != 0) {
            result += 1;
        }
    }

    /// @notice Fixed-point multiply: x * y / 1e18.
    function mulWad(uint256 x, uint256 y) external pure returns (uint256) {
        return mulDiv(x, y, WAD);
    }

    /// @notice Fixed-point divide: x * 1e18 / y.
    function divWad(uint256 x, uint256 y) external pure returns (uint256) {
        return mulDiv(x, WAD, y);
    }

    // ------------------------------------------------------ roots and logs

    /// @notice floor(log2(x)) by binary search over shifts.
    function log2(uint256 x) public pure returns (uint256 r) {
        if (x == 0) revert LogOfNonPositive(0);
        unchecked {
            if (x >> 128 != 0) { x >>= 128; r += 128; }
            if (x >> 64 != 0) { x >>= 64; r += 64; }
            if (x >> 32 != 0) { x >>= 32; r += 32; }
            if (x >> 16 != 0) { x >>= 16; r += 16; }
            if (x >> 8 != 0) { x >>= 8; r += 8; }
            if (x >> 4 != 0) { x >>= 4; r += 4; }
            if (x >> 2 != 0) { x >>= 2; r += 2; }
            if (x >> 1 != 0) { r += 1; }
        }
    }

    /// @notice floor(sqrt(a)) with Newton's method from an over-estimate.
    function sqrt(uint256 a) public pure returns (uint256) {
        if (a < 2) return a;
        uint256 x = uint256(1) << ((log2(a) >> 1) + 1);
        unchecked {
            while (true) {
                uint256 y = (x + a / x) >> 1;
                if (y >= x) return x;
                x = y;
            }
        }
        return x; // unreachable
    }

    /// @notice floor(cbrt(a)) by bitwise digit-by-digit construction.
    function cbrt(uint256 a) external pure returns (uint256 r) {
        unchecked {
            for (uint256 s = 255; ; s -= 3) {
                r <<= 1;
                uint256 b = 3 * r * (r + 1) + 1;
                if ((a >> s) >= b) {
                    a -= b << s;
                    r += 1;
                }
                if (s == 0) break;
            }
        }
    }

    /// @notice log2(x) for a positive 18-decimal fixed-point x, result in WAD.
    function log2Wad(uint256 x) public pure returns (int256 result) {
        if (x == 0) revert LogOfNonPositive(0);
        int256 sign = 1;
        if (x < WAD) {
            x = (WAD * WAD) / x;
            sign = -1;
        }
        uint256 n = log2(x / WAD);
        result = int256(n * WAD);
        uint256 y = x >> n; // y in [1, 2) as WAD
        if (y != WAD) {
            for (uint256 delta = WAD / 2; delta > 0; delta >>= 1) {
                y = (y * y) / WAD;
                if (y >= 2 * WAD) {
                    result += int256(delta);
                    y >>= 1;
                }
            }
        }
        result *= sign;
    }

    /// @notice Natural log of a positive WAD value, result in WAD.
    function lnWad(int256 x) external pure returns (int256) {
        if (x <= 0) revert LogOfNonPositive(x);
        return (log2Wad(uint256(x)) * LN2_WAD) / IWAD;
    }

    /// @notice e^x for a signed WAD x, result in WAD.
    /// @dev Range reduction x = k*ln2 + r with |r| <= ln2/2, Taylor series for
    ///      e^r, then a shift by k.
    function expWad(int256 x) external pure returns (uint256) {
        if (x < -42 * IWAD) return 0;
        if (x >= 135 * IWAD) revert ExpOverflow(x);

        // k = round(x / ln2)
        int256 k = (x < 0 ? x - LN2_WAD / 2 : x + LN2_WAD / 2) / LN2_WAD;
        int256 r = x - k * LN2_WAD;

        int256 sum = IWAD;
        int256 term = IWAD;
        for (int256 n = 1; n <= 24; ++n) {
            term = (term * r) / (n * IWAD);
            if (term == 0) break;
            sum += term;
        }
        uint256 u = uint256(sum);
        return k >= 0 ? u << uint256(k) : u >> uint256(-k);
    }

    // --------------------------------------------------- signed arithmetic

    function mulWadSigned(int256 a, int256 b) external pure returns (int256) {
        return (a * b) / IWAD;
    }

    function divWadSigned(int256 a, int256 b) external pure returns (int256) {
        if (b == 0) revert DivisionByZero();
        return (a * IWAD) / b;
    }

    /// @notice Truncating division and remainder (SDIV/SMOD) together with
    ///         floor division and Euclidean modulo built on top of them.
    function signedDivMod(int256 a, int256 b)
        external
        pure
        returns (int256 quotient, int256 remainder, int256 floorQuotient, int256 euclidMod)
    {
        if (b == 0) revert DivisionByZero();
        quotient = a / b;
        remainder = a % b;
        floorQuotient = quotient;
        if (remainder != 0 && ((remainder < 0) != (b < 0))) {
            floorQuotient -= 1;
        }
        euclidMod = remainder < 0 ? remainder + (b < 0 ? -b : b) : remainder;
    }

    /// @notice Arithmetic right shift (SAR) versus division by a power of two.
    function shiftSigned(int256 x, uint8 bits) external pure returns (int256 sar, int256 divided, int256 shl) {
        sar = x >> bits;
        divided = x / int256(uint256(1) << bits);
        unchecked {
            shl = x << bits;
        }
    }

    /// @notice Overflow-free floor average of two signed integers.
    function averageSigned(int256 a, int256 b) external pure returns (int256) {
        return (a >> 1) + (b >> 1) + (a & b & 1);
    }

    function absDiff(int256 a, int256 b) external pure returns (uint256) {
        unchecked {
            return a >= b ? uint256(a) - uint256(b) : uint256(b) - uint256(a);
        }
    }

    /// @notice Narrowing casts: each one is a SIGNEXTEND in the bytecode.
    function narrow(int256 x) external pure returns (int8 i8, int16 i16, int32 i32, int64 i64, int128 i128) {
        i8 = int8(x);
        i16 = int16(x);
        i32 = int32(x);
        i64 = int64(x);
        i128 = int128(x);
    }

    /// @notice Sum the bytes of `data` as int8 values and the 16-bit words as int16 values.
    function sumSignedBytes(bytes calldata data) external pure returns (int256 asInt8, int256 asInt16) {
        uint256 n = data.length;
        for (uint256 i = 0; i < n; ++i) {
            asInt8 += int256(int8(uint8(data[i])));
        }
        for (uint256 i = 0; i + 1 < n; i += 2) {
            uint16 w = (uint16(uint8(data[i])) << 8) | uint16(uint8(data[i + 1]));
            asInt16 += int256(int16(w));
        }
    }

    // --------------------------------------------------- modular arithmetic

    /// @notice base^exponent mod modulus by square-and-multiply using MULMOD.
    function modExp(uint256 base, uint256 exponent, uint256 modulus) public pure returns (uint256 result) {
        if (modulus == 0) revert DivisionByZero();
        if (modulus == 1) return 0;
        result = 1;
        base %= modulus;
        while (exponent != 0) {
            if (exponent & 1 == 1) {
                result = mulmod(result, base, modulus);
            }
            base = mulmod(base, base, modulus);
            exponent >>= 1;
        }
    }

    /// @notice Evaluate a polynomial (coefficients highest degree first) mod p
    ///         with Horner's rule using ADDMOD and MULMOD.
    function polyEvalMod(uint256[] calldata coefficients, uint256 x, uint256 p) external pure returns (uint256 acc) {
        if (p == 0) revert DivisionByZero();
        for (uint256 i = 0; i < coefficients.length; ++i) {
            acc = addmod(mulmod(acc, x, p), coefficients[i], p);
        }
    }

    /// @notice Deterministic Miller-Rabin primality test for n < 2^64.
    function isPrime(uint256 n) public pure returns (bool) {
        if (n >= 1 << 64) revert InputTooLarge(n, 1 << 64);
        if (n < 2) return false;
        uint256[12] memory witnesses = [uint256(2), 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
        for (uint256 i = 0; i < 12; ++i) {
            uint256 p = witnesses[i];
            if (n == p) return true;
            if (n % p == 0) return false;
        }
        uint256 d = n - 1;
        uint256 s;
        while (d & 1 == 0) {
            d >>= 1;
            ++s;
        }
        for (uint256 i = 0; i < 12; ++i) {
            uint256 x = modExp(witnesses[i], d, n);
            if (x == 1 || x == n - 1) continue;
            bool composite = true;
            for (uint256 r = 1; r < s; ++r) {
                x = mulmod(x, x, n);
                if (x == n - 1) {
                    composite = false;
                    break;
                }
            }
            if (composite) return false;
        }
        return true;
    }

    function gcd(uint256 a, uint256 b) public pure returns (uint256) {
        while (b != 0) {
            (a, b) = (b, a % b);
        }
        return a;
    }

    function lcm(uint256 a, uint256 b) external pure returns (uint256) {
        if (a == 0 || b == 0) return 0;
        return (a / gcd(a, b)) * b;
    }

    // ------------------------------------------------------------ bit tricks

    function popcount(uint256 x) external pure returns (uint256 c) {
        unchecked {
            while (x != 0) {
                x &= x - 1;
                ++c;
            }
        }
    }

    function countLeadingZeros(uint256 x) external pure returns (uint256) {
        if (x == 0) return 256;
        return 255 - log2(x);
    }

    /// @notice Reverse the bit order of a 256-bit word with mask-and-shift rounds.
    function reverseBits(uint256 x) external pure returns (uint256) {
        uint256 m = 0x5555555555555555555555555555555555555555555555555555555555555555;
        x = ((x >> 1) & m) | ((x & m) << 1);
        m = 0x3333333333333333333333333333333333333333333333333333333333333333;
        x = ((x >> 2) & m) | ((x & m) << 2);
        m = 0x0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F;
        x = ((x >> 4) & m) | ((x & m) << 4);
        m = 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF;
        x = ((x >> 8) & m) | ((x & m) << 8);
        m = 0x0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF;
        x = ((x >> 16) & m) | ((x & m) << 16);
        m = 0x00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF;
        x = ((x >> 32) & m) | ((x & m) << 32);
        m = 0x0000000000000000FFFFFFFFFFFFFFFF0000000000000000FFFFFFFFFFFFFFFF;
        x = ((x >> 64) & m) | ((x & m) << 64);
        return (x >> 128) | (x << 128);
    }

    /// @notice Overflow-free floor average of two unsigned integers.
    function average(uint256 a, uint256 b) external pure returns (uint256) {
        return (a & b) + ((a ^ b) >> 1);
    }

    // ------------------------------------------------------- loop-heavy

    /// @notice n-th Fibonacci number modulo 2^256 (wrapping arithmetic).
    function fibonacci(uint256 n) external pure returns (uint256 a) {
        uint256 b = 1;
        unchecked {
            for (uint256 i = 0; i < n; ++i) {
                (a, b) = (b, a + b);
            }
        }
    }

    /// @notice n-th Fibonacci number modulo m, computed with ADDMOD.
    function fibonacciMod(uint256 n, uint256 m) external pure returns (uint256 a) {
        if (m == 0) revert DivisionByZero();
        uint256 b = 1 % m;
        for (uint256 i = 0; i < n; ++i) {
            (a, b) = (b, addmod(a, b, m));
        }
    }

    /// @notice All primes <= limit using the sieve of Eratosthenes.
    function primesUpTo(uint256 limit) external pure returns (uint256[] memory primes) {
        if (limit > 20_000) revert InputTooLarge(limit, 20_000);
        if (limit < 2) return new uint256[](0);
        bool[] memory composite = new bool[](limit + 1);
        uint256 count;
        unchecked {
            for (uint256 i = 2; i * i <= limit; ++i) {
                if (composite[i]) continue;
                for (uint256 j = i * i; j <= limit; j += i) {
                    composite[j] = true;
                }
            }
            for (uint256 i = 2; i <= limit; ++i) {
                if (!composite[i]) ++count;
            }
            primes = new uint256[](count);
            uint256 k;
            for (uint256 i = 2; i <= limit; ++i) {
                if (!composite[i]) primes[k++] = i;
            }
        }
    }

    /// @notice Number of Collatz steps needed to reach 1 (checked arithmetic).
    function collatzSteps(uint256 n) external pure returns (uint256 steps) {
        if (n == 0) revert DivisionByZero();
        while (n != 1) {
            n = n & 1 == 0 ? n >> 1 : 3 * n + 1;
            ++steps;
        }
    }

    /// @notice sum_{i=1..n} i^2 both by loop (unchecked) and by closed form (checked).
    function sumOfSquares(uint256 n) external pure returns (uint256 looped, uint256 closedForm) {
        unchecked {
            for (uint256 i = 1; i <= n; ++i) {
                looped += i * i;
            }
        }
        closedForm = (n * (n + 1) * (2 * n + 1)) / 6;
    }

    /// @notice Binomial coefficient C(n, k) with the multiplicative formula.
    function binomial(uint256 n, uint256 k) external pure returns (uint256 c) {
        if (k > n) return 0;
        if (k > n - k) k = n - k;
        c = 1;
        for (uint256 i = 1; i <= k; ++i) {
            c = mulDiv(c, n - k + i, i);
        }
    }
}
