// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A zero-knowledge eligibility proof as a participant submits it. The study id and the
///         recipient, the other two public inputs, come from the consumer (the study enrolled in,
///         the address enrolling), so a proof cannot be redirected to another study or sender.
/// @param issuersRoot The issuers tree root the proof was made against (IIssuerRegistry.isKnownRoot).
/// @param criteriaHash The hash of the study criteria proven (must equal the study's).
/// @param time The unix time the proof is made for (credential expiry and age are judged at it).
/// @param nullifier Poseidon(secret, studyId): the same person always gives the same one per study.
/// @param proof The Groth16 proof as the Solidity verifier takes it:
///        [a0, a1, b00, b01, b10, b11, c0, c1] (b in the verifier's order, as snarkjs exports it).
struct EligibilityProof {
    uint256 issuersRoot;
    uint256 criteriaHash;
    uint256 time;
    uint256 nullifier;
    uint256[8] proof;
}
