// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Buffers
/// @notice chainlift example fixture: memory-heavy byte, string and array code.
/// @dev Exercises bytes/string concatenation, abi.encode/abi.decode of dynamic
///      arrays, in-memory sorting, keccak256 over memory ranges, string
///      building, calldata-to-memory copies, storage <-> memory copies and
///      returning large dynamic data.
contract Buffers {
    struct Packet {
        uint64 id;
        address sender;
        bytes payload;
        string label;
    }

    bytes public blob;
    string public lastLabel;
    bytes32 public lastDigest;
    uint256[] public history;

    event Stashed(uint256 length, bytes32 digest);
    event PacketSeen(uint64 indexed id, address indexed sender, uint256 payloadLength, string label);

    error EmptyInput();
    error ChunkSizeZero();
    error TooLarge(uint256 requested, uint256 limit);
    error IndexOutOfRange(uint256 index, uint256 length);

    bytes16 private constant HEX_DIGITS = "0123456789abcdef";

    // --------------------------------------------------------- concatenation

    function concat3(bytes calldata a, bytes calldata b, bytes calldata c) external pure returns (bytes memory) {
        return bytes.concat(a, b, c);
    }

    function concatStrings(string calldata a, string calldata b) external pure returns (string memory) {
        return string.concat(a, " ", b);
    }

    /// @notice Join `parts` with `separator` by copying byte by byte into a
    ///         pre-sized buffer.
    function join(string[] calldata parts, string calldata separator) external pure returns (string memory) {
        uint256 n = parts.length;
        if (n == 0) return "";
        bytes memory sep = bytes(separator);
        uint256 total = sep.length * (n - 1);
        for (uint256 i = 0; i < n; ++i) {
            total += bytes(parts[i]).length;
        }
        bytes memory out = new bytes(total);
        uint256 k;
        for (uint256 i = 0; i < n; ++i) {
            bytes memory part = bytes(parts[i]);
            for (uint256 j = 0; j < part.length; ++j) {
                out[k++] = part[j];
            }
            if (i + 1 < n) {
                for (uint256 j = 0; j < sep.length; ++j) {
                    out[k++] = sep[j];
                }
            }
        }
        return string(out);
    }

    /// @notice `data` repeated `times` times: one CALLDATACOPY for the first
    ///         copy, then MCOPY duplicates it inside memory.
    function repeat(bytes calldata data, uint256 times) external pure returns (bytes memory out) {
        uint256 len = data.length;
        if (len * times > 64 * 1024) revert TooLarge(len * times, 64 * 1024);
        out = new bytes(len * times);
        if (len == 0 || times == 0) return out;
        assembly ("memory-safe") {
            let base := add(out, 0x20)
            calldatacopy(base, data.offset, len)
            for { let t := 1 } lt(t, times) { t := add(t, 1) } {
                mcopy(add(base, mul(t, len)), base, len)
            }
        }
    }

    function reverseBytes(bytes memory data) public pure returns (bytes memory) {
        uint256 n = data.length;
        if (n == 0) return data;
        uint256 i = 0;
        uint256 j = n - 1;
        while (i < j) {
            (data[i], data[j]) = (data[j], data[i]);
            ++i;
            --j;
        }
        return data;
    }

    function slice(bytes calldata data, uint256 start, uint256 end) external pure returns (bytes memory) {
        if (end > data.length) revert IndexOutOfRange(end, data.length);
        if (start > end) revert IndexOutOfRange(start, end);
        return data[start:end];
    }

    // ------------------------------------------------------- ABI round-trips

    function encodeArrays(uint256[] calldata numbers, string[] calldata names, bytes32[] calldata tags)
        external
        pure
        returns (bytes memory)
    {
        return abi.encode(numbers, names, tags);
    }

    function decodeArrays(bytes calldata encoded)
        external
        pure
        returns (uint256[] memory numbers, string[] memory names, bytes32[] memory tags)
    {
        (numbers, names, tags) = abi.decode(encoded, (uint256[], string[], bytes32[]));
    }

    /// @notice Decode a list of packets, report each one and re-encode the
    ///         packets whose payload is non-empty.
    function filterPackets(bytes calldata encoded) external returns (bytes memory kept, uint256 keptCount) {
        Packet[] memory packets = abi.decode(encoded, (Packet[]));
        Packet[] memory tmp = new Packet[](packets.length);
        for (uint256 i = 0; i < packets.length; ++i) {
            Packet memory p = packets[i];
            emit PacketSeen(p.id, p.sender, p.payload.length, p.label);
            if (p.payload.length != 0) {
                tmp[keptCount++] = p;
            }
        }
        // Shrink the array in place.
        assembly ("memory-safe") {
            mstore(tmp, keptCount)
        }
        kept = abi.encode(tmp);
    }

    function packMixed(address who, uint16 small, bytes calldata data, string calldata label)
        external
        pure
        returns (bytes memory packed, bytes memory padded, bytes memory withSelector)
    {
        packed = abi.encodePacked(who, small, data, label);
        padded = abi.encode(who, small, data, label);
        withSelector = abi.encodeWithSelector(this.packMixed.selector, who, small, data, label);
    }

    // --------------------------------------------------------------- sorting

    /// @notice Copy a calldata array to memory and sort it (iterative quicksort
    ///         with an explicit stack, insertion sort for short ranges).
    function sort(uint256[] calldata input) external pure returns (uint256[] memory a) {
        a = input;
        _quicksort(a);
    }

    /// @notice Sort and also return the permutation applied, using an in-memory index array.
    function argsort(uint256[] calldata input) external pure returns (uint256[] memory order) {
        uint256 n = input.length;
        order = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            order[i] = i;
        }
        for (uint256 i = 1; i < n; ++i) {
            uint256 cur = order[i];
            uint256 key = input[cur];
            uint256 j = i;
            while (j > 0 && input[order[j - 1]] > key) {
                order[j] = order[j - 1];
                --j;
            }
            order[j] = cur;
        }
    }

    function median(uint256[] calldata input) external pure returns (uint256) {
        if (input.length == 0) revert EmptyInput();
        uint256[] memory a = input;
        _quicksort(a);
        uint256 mid = a.length / 2;
        return a.length % 2 == 1 ? a[mid] : (a[mid - 1] + a[mid]) / 2;
    }

    function dedupSorted(uint256[] calldata input) external pure returns (uint256[] memory out) {
        uint256[] memory a = input;
        _quicksort(a);
        out = new uint256[](a.length);
        uint256 n;
        for (uint256 i = 0; i < a.length; ++i) {
            if (n == 0 || out[n - 1] != a[i]) out[n++] = a[i];
        }
        assembly ("memory-safe") {
            mstore(out, n)
        }
    }

    // --------------------------------------------------------------- hashing

    /// @notice keccak256 of each `chunkSize`-byte chunk of `data`, hashed
    ///         directly over the memory range in assembly.
    function hashChunks(bytes calldata data, uint256 chunkSize) external pure returns (bytes32[] memory digests) {
        if (chunkSize == 0) revert ChunkSizeZero();
        bytes memory m = data;
        uint256 count = (m.length + chunkSize - 1) / chunkSize;
        digests = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 start = i * chunkSize;
            uint256 len = m.length - start < chunkSize ? m.length - start : chunkSize;
            bytes32 h;
            assembly ("memory-safe") {
                h := keccak256(add(add(m, 0x20), start), len)
            }
            digests[i] = h;
        }
    }

    /// @notice Merkle root over keccak256 leaves, pairing with sorted order and
    ///         duplicating the last node of odd levels.
    function merkleRoot(bytes32[] calldata leaves) external pure returns (bytes32) {
        uint256 n = leaves.length;
        if (n == 0) revert EmptyInput();
        bytes32[] memory level = leaves;
        while (n > 1) {
            uint256 next = (n + 1) / 2;
            for (uint256 i = 0; i < next; ++i) {
                bytes32 left = level[2 * i];
                bytes32 right = 2 * i + 1 < n ? level[2 * i + 1] : left;
                level[i] = left < right
                    ? keccak256(abi.encodePacked(left, right))
                    : keccak256(abi.encodePacked(right, left));
            }
            n = next;
        }
        return level[0];
    }

    function hashStrings(string[] calldata items) external pure returns (bytes32 packedHash, bytes32 encodedHash) {
        bytes memory acc;
        for (uint256 i = 0; i < items.length; ++i) {
            acc = bytes.concat(acc, bytes(items[i]));
        }
        packedHash = keccak256(acc);
        encodedHash = keccak256(abi.encode(items));
    }

    // -------------------------------------------------------- string building

    function toDecimalString(uint256 value) public pure returns (string memory) {
        if (value == 0) return "0";
        uint256 digits;
        for (uint256 v = value; v != 0; v /= 10) {
            ++digits;
        }
        bytes memory buf = new bytes(digits);
        while (value != 0) {
            --digits;
            buf[digits] = bytes1(uint8(48 + (value % 10)));
            value /= 10;
        }
        return string(buf);
    }

    function toHexString(bytes calldata data) public pure returns (string memory) {
        bytes memory out = new bytes(2 + data.length * 2);
        out[0] = "0";
        out[1] = "x";
        for (uint256 i = 0; i < data.length; ++i) {
            uint8 b = uint8(data[i]);
            out[2 + 2 * i] = HEX_DIGITS[b >> 4];
            out[3 + 2 * i] = HEX_DIGITS[b & 0x0f];
        }
        return string(out);
    }

    /// @notice Render `values` as a JSON-ish list, e.g. `[1,2,3]`.
    function describe(string calldata name, uint256[] calldata values) external pure returns (string memory s) {
        s = string.concat(name, ": [");
        for (uint256 i = 0; i < values.length; ++i) {
            s = string.concat(s, toDecimalString(values[i]), i + 1 < values.length ? "," : "");
        }
        s = string.concat(s, "]");
    }

    function toUpper(string calldata input) external pure returns (string memory) {
        bytes memory b = bytes(input);
        for (uint256 i = 0; i < b.length; ++i) {
            bytes1 c = b[i];
            if (c >= "a" && c <= "z") b[i] = bytes1(uint8(c) - 32);
        }
        return string(b);
    }

    // ------------------------------------------------------ large return data

    /// @notice [start, start + step, ...] with `count` elements.
    function range(uint256 start, uint256 count, uint256 step) external pure returns (uint256[] memory out) {
        if (count > 4096) revert TooLarge(count, 4096);
        out = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            out[i] = start + i * step;
        }
    }

    /// @notice A 2D table t[i][j] = (i + 1) * (j + 1).
    function table(uint256 rows, uint256 cols) external pure returns (uint256[][] memory t) {
        if (rows * cols > 4096) revert TooLarge(rows * cols, 4096);
        t = new uint256[][](rows);
        for (uint256 i = 0; i < rows; ++i) {
            t[i] = new uint256[](cols);
            for (uint256 j = 0; j < cols; ++j) {
                t[i][j] = (i + 1) * (j + 1);
            }
        }
    }

    // -------------------------------------------------- storage <-> memory

    function stash(bytes calldata data, string calldata label) external {
        blob = data;
        lastLabel = label;
        bytes32 digest = keccak256(data);
        lastDigest = digest;
        history.push(data.length);
        emit Stashed(data.length, digest);
    }

    function appendToBlob(bytes calldata more) external returns (uint256 newLength) {
        bytes memory current = blob;
        blob = bytes.concat(current, more);
        newLength = current.length + more.length;
        history.push(newLength);
    }

    function blobReversed() external view returns (bytes memory) {
        return reverseBytes(blob);
    }

    function historyCopy() external view returns (uint256[] memory) {
        return history;
    }

    // ---------------------------------------------------------------- internal

    function _quicksort(uint256[] memory a) internal pure {
        uint256 n = a.length;
        if (n < 2) return;
        // Explicit stack of (lo, hi) pairs; depth bounded by 2 * log2(n) + 2
        // because the smaller partition is always processed first.
        uint256[] memory stack = new uint256[](2 * 64 + 4);
        uint256 sp;
        stack[sp++] = 0;
        stack[sp++] = n - 1;
        while (sp != 0) {
            uint256 hi = stack[--sp];
            uint256 lo = stack[--sp];
            while (lo < hi) {
                if (hi - lo < 16) {
                    _insertionSort(a, lo, hi);
                    break;
                }
                uint256 p = _partition(a, lo, hi);
                // Push the larger side, loop on the smaller one.
                if (p - lo < hi - p) {
                    stack[sp++] = p + 1;
                    stack[sp++] = hi;
                    if (p == 0) break;
                    hi = p - 1;
                } else {
                    if (p > 0 && p - 1 > lo) {
                        stack[sp++] = lo;
                        stack[sp++] = p - 1;
                    }
                    lo = p + 1;
                }
            }
        }
    }

    function _partition(uint256[] memory a, uint256 lo, uint256 hi) internal pure returns (uint256) {
        // Median-of-three pivot moved to a[hi].
        uint256 mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) (a[mid], a[lo]) = (a[lo], a[mid]);
        if (a[hi] < a[lo]) (a[hi], a[lo]) = (a[lo], a[hi]);
        if (a[mid] < a[hi]) (a[mid], a[hi]) = (a[hi], a[mid]);
        uint256 pivot = a[hi];
        uint256 store = lo;
        for (uint256 i = lo; i < hi; ++i) {
            if (a[i] < pivot) {
                (a[i], a[store]) = (a[store], a[i]);
                ++store;
            }
        }
        (a[store], a[hi]) = (a[hi], a[store]);
        return store;
    }

    function _insertionSort(uint256[] memory a, uint256 lo, uint256 hi) internal pure {
        for (uint256 i = lo + 1; i <= hi; ++i) {
            uint256 key = a[i];
            uint256 j = i;
            while (j > lo && a[j - 1] > key) {
                a[j] = a[j - 1];
                --j;
            }
            a[j] = key;
        }
    }
}
