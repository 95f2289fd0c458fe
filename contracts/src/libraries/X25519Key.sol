// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title X25519Key
/// @notice Checks that 32 bytes are a usable X25519 public key (RFC 7748): a canonical
///         u-coordinate (below p = 2^255 - 19) that is not one of the small-order points,
///         which would let an attacker force a known shared secret.
/// @dev The key is the RFC 7748 encoding: the u-coordinate as 32 little-endian bytes.
library X25519Key {
    /// @dev p = 2^255 - 19
    uint256 internal constant P = 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed;
    /// @dev u-coordinates of the points of order 8 on Curve25519 (besides 0, 1 and p - 1).
    uint256 internal constant LOW_ORDER_A = 0x00b8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0;
    uint256 internal constant LOW_ORDER_B = 0x57119fd0dd4e22d8868e1c58c45c44045bef839c55b1d0b1248c50a3bc959c5f;

    /// @notice The u-coordinate of an RFC 7748 encoded key.
    function toU(bytes32 key) internal pure returns (uint256 u) {
        // Reverse the 32 bytes (little-endian to big-endian).
        uint256 v = uint256(key);
        v = ((v & 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00) >> 8)
            | ((v & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff) << 8);
        v = ((v & 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000) >> 16)
            | ((v & 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff) << 16);
        v = ((v & 0xffffffff00000000ffffffff00000000ffffffff00000000ffffffff00000000) >> 32)
            | ((v & 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff) << 32);
        v = ((v & 0xffffffffffffffff0000000000000000ffffffffffffffff0000000000000000) >> 64)
            | ((v & 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff) << 64);
        u = (v >> 128) | (v << 128);
    }

    /// @notice Whether `key` is a canonical X25519 public key of large order.
    function isValid(bytes32 key) internal pure returns (bool) {
        uint256 u = toU(key);
        if (u >= P) return false;
        return u > 1 && u != P - 1 && u != LOW_ORDER_A && u != LOW_ORDER_B;
    }
}
