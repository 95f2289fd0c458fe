// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IGroth16Verifier
/// @notice The generated Groth16 verifier of the eligibility circuit
///         (contracts/src/verifiers/EligibilityGroth16Verifier.sol, written by `npm run circuits:setup`
///         with snarkjs): it checks one proof against its six public signals, in the circuit's order
///         [issuersRoot, criteriaHash, studyId, time, nullifier, recipient].
interface IGroth16Verifier {
    /// @notice Whether the proof (a, b, c) is valid for `pubSignals`. False, not a revert, for an
    ///         invalid proof or a signal out of field; it also answers false when given too little
    ///         gas for the pairing, so callers set gas explicitly rather than estimating it.
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[6] calldata pubSignals
    ) external view returns (bool);
}
