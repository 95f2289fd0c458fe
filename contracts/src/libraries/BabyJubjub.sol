// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SnarkField} from "./SnarkField.sol";

/// @title BabyJubjub
/// @notice The twisted Edwards curve the eligibility credentials are signed on (circomlib's
///         babyjub, EIP-2494): a·x² + y² = 1 + d·x²·y² over the BN254 scalar field.
library BabyJubjub {
    /// @dev The curve's base field, the BN254 scalar field.
    uint256 internal constant FIELD = SnarkField.MODULUS;
    uint256 internal constant A = 168700;
    uint256 internal constant D = 168696;

    /// @notice Whether (x, y), both already below FIELD, satisfies the curve equation.
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        uint256 x2 = mulmod(x, x, FIELD);
        uint256 y2 = mulmod(y, y, FIELD);
        uint256 left = addmod(mulmod(A, x2, FIELD), y2, FIELD);
        uint256 right = addmod(1, mulmod(D, mulmod(x2, y2, FIELD), FIELD), FIELD);
        return left == right;
    }
}
