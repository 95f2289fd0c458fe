// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title CategoryMask
/// @notice Record categories as bits of a uint16, in the order of the sdk's CATEGORIES
///         (sdk/src/records/categories.ts): bit 0 labs, 1 medications, 2 allergies, 3 conditions,
///         4 procedures, 5 imaging, 6 immunizations, 7 notes, 8 mental-health, 9 substance-use,
///         10 genomics, 11 demographics, 12 other. Bits 13 to 15 are unused and never valid.
library CategoryMask {
    /// @dev Number of categories (bits 0 to 12).
    uint8 internal constant COUNT = 13;
    /// @dev Every category bit.
    uint16 internal constant ALL = 0x1FFF;
    /// @dev The emergency profile: medications (1), allergies (2), conditions (3) and demographics (11),
    ///      where blood type lives.
    uint16 internal constant EMERGENCY = 0x080E;

    /// @notice Whether `mask` names at least one category and only known ones.
    function isValid(uint16 mask) internal pure returns (bool) {
        return mask != 0 && mask & ~ALL == 0;
    }

    /// @notice Whether every bit of `inner` is also set in `outer`.
    function isSubset(uint16 inner, uint16 outer) internal pure returns (bool) {
        return inner & ~outer == 0;
    }

    /// @notice Whether `mask` has the bit of `category` (false for an unknown category).
    function has(uint16 mask, uint8 category) internal pure returns (bool) {
        return category < COUNT && (mask >> category) & 1 == 1;
    }
}
