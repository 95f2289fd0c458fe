// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title SnarkField
/// @notice The BN254 scalar field: every circuit signal, Poseidon input and Groth16 public input
///         lives in it (and it is Baby Jubjub's base field). A uint256 at or above it aliases
///         its reduction, so values from outside are checked against it before they are trusted.
library SnarkField {
    uint256 internal constant MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
}
