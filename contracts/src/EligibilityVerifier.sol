// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IEligibilityVerifier} from "./interfaces/IEligibilityVerifier.sol";
import {IGroth16Verifier} from "./interfaces/IGroth16Verifier.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";
import {SnarkField} from "./libraries/SnarkField.sol";
import {EligibilityProof} from "./types/EligibilityProof.sol";

/// @title EligibilityVerifier
/// @notice Checks eligibility proofs for consumer contracts and spends their nullifiers.
contract EligibilityVerifier is IEligibilityVerifier, AccessControl {
    /// @inheritdoc IEligibilityVerifier
    bytes32 public constant CONSUMER_ROLE = keccak256("CONSUMER_ROLE");
    /// @inheritdoc IEligibilityVerifier
    uint256 public constant MAX_PROOF_AGE = 1 hours;
    /// @inheritdoc IEligibilityVerifier
    uint256 public constant MAX_CLOCK_SKEW = 5 minutes;
    /// @inheritdoc IEligibilityVerifier
    uint256 public constant SNARK_SCALAR_FIELD = SnarkField.MODULUS;

    /// @inheritdoc IEligibilityVerifier
    IGroth16Verifier public immutable groth16Verifier;
    /// @inheritdoc IEligibilityVerifier
    IIssuerRegistry public immutable issuerRegistry;

    mapping(address consumer => mapping(uint256 nullifier => bool)) private _used;

    /// @param verifier The generated EligibilityGroth16Verifier.
    /// @param issuers The IssuerRegistry whose roots proofs may name.
    /// @param admin Holds DEFAULT_ADMIN_ROLE (grants CONSUMER_ROLE).
    constructor(IGroth16Verifier verifier, IIssuerRegistry issuers, address admin) {
        if (address(verifier) == address(0) || address(issuers) == address(0) || admin == address(0)) {
            revert EligibilityVerifier__ZeroAddress();
        }
        groth16Verifier = verifier;
        issuerRegistry = issuers;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IEligibilityVerifier
    function consume(uint256 studyId, uint256 criteriaHash, address recipient, EligibilityProof calldata p)
        external
        onlyRole(CONSUMER_ROLE)
    {
        _check(msg.sender, studyId, criteriaHash, recipient, p);
        _used[msg.sender][p.nullifier] = true;
        emit NullifierConsumed(msg.sender, studyId, p.nullifier);
    }

    /// @inheritdoc IEligibilityVerifier
    function verify(
        address consumer,
        uint256 studyId,
        uint256 criteriaHash,
        address recipient,
        EligibilityProof calldata p
    ) external view {
        _check(consumer, studyId, criteriaHash, recipient, p);
    }

    /// @inheritdoc IEligibilityVerifier
    function isNullifierUsed(address consumer, uint256 nullifier) external view returns (bool) {
        return _used[consumer][nullifier];
    }

    function _check(
        address consumer,
        uint256 studyId,
        uint256 criteriaHash,
        address recipient,
        EligibilityProof calldata p
    ) private view {
        if (!issuerRegistry.isKnownRoot(p.issuersRoot)) revert EligibilityVerifier__UnknownRoot(p.issuersRoot);
        if (p.criteriaHash != criteriaHash) revert EligibilityVerifier__WrongCriteria(criteriaHash, p.criteriaHash);
        // The future bound first: past it, p.time + MAX_PROOF_AGE cannot overflow. Additions rather
        // than block.timestamp - MAX_PROOF_AGE, which would underflow on a chain younger than an hour.
        if (p.time > block.timestamp + MAX_CLOCK_SKEW) {
            revert EligibilityVerifier__ProofFromFuture(p.time, block.timestamp);
        }
        if (p.time + MAX_PROOF_AGE < block.timestamp) revert EligibilityVerifier__ProofTooOld(p.time, block.timestamp);
        if (_used[consumer][p.nullifier]) revert EligibilityVerifier__NullifierUsed(p.nullifier);

        uint256[6] memory inputs =
            [p.issuersRoot, p.criteriaHash, studyId, p.time, p.nullifier, uint256(uint160(recipient))];
        // issuersRoot, criteriaHash and time are below the field by now (a known root is a Poseidon
        // output, the consumer's criteria hash is checked when the study is made, time is near now),
        // but every input is checked anyway: the nullifier's alias n + FIELD is the one that matters,
        // as it would pass the unused check above.
        for (uint256 i; i < 6; ++i) {
            if (inputs[i] >= SNARK_SCALAR_FIELD) revert EligibilityVerifier__InputOutOfField(i, inputs[i]);
        }
        uint256[8] calldata q = p.proof;
        bool valid =
            groth16Verifier.verifyProof([q[0], q[1]], [[q[2], q[3]], [q[4], q[5]]], [q[6], q[7]], inputs);
        if (!valid) revert EligibilityVerifier__InvalidProof();
    }
}
