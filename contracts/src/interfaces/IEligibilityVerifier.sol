// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EligibilityProof} from "../types/EligibilityProof.sol";
import {IGroth16Verifier} from "./IGroth16Verifier.sol";
import {IIssuerRegistry} from "./IIssuerRegistry.sol";

/// @title IEligibilityVerifier
/// @notice Checks zero-knowledge eligibility proofs for consumer contracts (study enrollment) and
///         spends their nullifiers, so one person enrolls at most once per study of a consumer.
///         A proof shows that its holder has a credential signed by an accredited issuer, unexpired
///         at `time`, whose attributes meet the criteria hashing to `criteriaHash`; that the
///         nullifier is Poseidon(secret, studyId) for the credential's identity; and it is bound to
///         `recipient`. Nothing about the person or the attributes is revealed.
///
///         The checks, in order, each with its own error: the issuers root is known (current, or
///         superseded less than an hour ago); the criteria hash is the one the consumer expects; the
///         proof time is within [block.timestamp - 1 hour, block.timestamp + 5 minutes]; the
///         nullifier is unused for this consumer; every public input is below the field; and the
///         Groth16 proof is valid for [issuersRoot, criteriaHash, studyId, time, nullifier, recipient].
///         The cheap checks come first so a stale or replayed proof costs little and says why.
/// @dev Roles (OpenZeppelin AccessControl): DEFAULT_ADMIN_ROLE grants CONSUMER_ROLE to the contracts
///      that may consume nullifiers (StudyRegistry). Nullifiers are kept per consumer: two consumers
///      number their studies independently, so a study id names a study only within its consumer.
interface IEligibilityVerifier {
    /// @notice A consumer accepted a proof and spent its nullifier.
    /// @param consumer The consumer contract (msg.sender of consume).
    /// @param studyId The study the proof is for.
    /// @param nullifier The nullifier spent.
    event NullifierConsumed(address indexed consumer, uint256 indexed studyId, uint256 nullifier);

    /// @notice The admin, the Groth16 verifier or the issuer registry is the zero address.
    error EligibilityVerifier__ZeroAddress();
    /// @notice The proof names an issuers root that is not current and was not superseded within the last hour.
    error EligibilityVerifier__UnknownRoot(uint256 issuersRoot);
    /// @notice The proof is for other criteria than the study's.
    error EligibilityVerifier__WrongCriteria(uint256 expected, uint256 given);
    /// @notice The proof's time is more than an hour before the block's.
    error EligibilityVerifier__ProofTooOld(uint256 time, uint256 blockTime);
    /// @notice The proof's time is more than five minutes after the block's.
    error EligibilityVerifier__ProofFromFuture(uint256 time, uint256 blockTime);
    /// @notice This nullifier was already spent with this consumer: this person is enrolled.
    error EligibilityVerifier__NullifierUsed(uint256 nullifier);
    /// @notice A public input is not below the BN254 scalar field (it would alias another value).
    error EligibilityVerifier__InputOutOfField(uint256 index, uint256 value);
    /// @notice The Groth16 proof does not verify for these public inputs (forged, altered, or made
    ///         for another recipient or study).
    error EligibilityVerifier__InvalidProof();

    /// @notice The role of contracts that may consume nullifiers.
    function CONSUMER_ROLE() external view returns (bytes32);

    /// @notice How far before the block's time a proof's time may be, in seconds (1 hour).
    function MAX_PROOF_AGE() external view returns (uint256);

    /// @notice How far after the block's time a proof's time may be, in seconds (5 minutes: clock skew).
    function MAX_CLOCK_SKEW() external view returns (uint256);

    /// @notice The BN254 scalar field; every public input is below it.
    function SNARK_SCALAR_FIELD() external view returns (uint256);

    /// @notice The generated Groth16 verifier of the eligibility circuit.
    function groth16Verifier() external view returns (IGroth16Verifier);

    /// @notice The registry whose roots a proof may name.
    function issuerRegistry() external view returns (IIssuerRegistry);

    /// @notice Check a proof for `studyId` and `recipient`, then spend its nullifier. CONSUMER_ROLE only.
    /// @param studyId The study, as the consumer numbers it.
    /// @param criteriaHash The study's criteria hash; the proof must be for exactly these criteria.
    /// @param recipient The address the proof must be bound to: whoever the consumer enrolls.
    /// @param p The proof and its public inputs.
    function consume(uint256 studyId, uint256 criteriaHash, address recipient, EligibilityProof calldata p) external;

    /// @notice The same checks as consume, as `consumer` would run them, without spending anything:
    ///         reverts with the error consume would, returns if consume would accept.
    /// @dev For a dry run before sending a transaction (eth_call).
    function verify(
        address consumer,
        uint256 studyId,
        uint256 criteriaHash,
        address recipient,
        EligibilityProof calldata p
    ) external view;

    /// @notice Whether `consumer` has spent `nullifier`.
    function isNullifierUsed(address consumer, uint256 nullifier) external view returns (bool);
}
