// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IIssuerRegistry
/// @notice The accredited credential issuers (clinics) of the zero-knowledge eligibility proof.
///         Each issuer is a Baby Jubjub EdDSA public key (Ax, Ay); its leaf is Poseidon(Ax, Ay),
///         and the leaves form a Lean incremental Merkle tree (zk-kit LeanIMT, Poseidon of two)
///         whose root a proof names as its `issuersRoot`. The tree is computed here, on chain, so
///         the root a proof is checked against is exactly the set the accreditors made: nobody
///         posts a root that could hide an extra key.
///
///         A root stays valid for ROOT_VALIDITY after it is superseded, so a proof made just
///         before an issuer is added or removed still verifies; the root of a removed issuer's
///         tree therefore keeps verifying that issuer's credentials for at most that long.
/// @dev Roles (OpenZeppelin AccessControl): DEFAULT_ADMIN_ROLE grants and revokes
///      ISSUER_ACCREDITOR_ROLE; ISSUER_ACCREDITOR_ROLE adds and removes issuers. A removed issuer's
///      leaf becomes 0 in place (its index is never reused); the tree holds at most 2^MAX_ISSUER_DEPTH
///      leaves, removed ones included, because the circuit proves membership to that depth only.
///      The events carry everything an auditor needs to rebuild the tree and check each root.
interface IIssuerRegistry {
    /// @notice An issuer was accredited: its key joined the tree at `index`.
    /// @param index Position of its leaf in the tree (0-based, in insertion order).
    /// @param ax Baby Jubjub x coordinate of its EdDSA public key.
    /// @param ay Baby Jubjub y coordinate of its EdDSA public key.
    /// @param leaf Poseidon(ax, ay), the leaf inserted.
    /// @param root The tree's root after the insertion.
    event IssuerAdded(uint256 indexed index, uint256 ax, uint256 ay, uint256 indexed leaf, uint256 root);

    /// @notice An issuer was removed: its leaf at `index` is now 0.
    /// @param index Position of its leaf in the tree.
    /// @param leaf The leaf removed, Poseidon(ax, ay).
    /// @param root The tree's root after the removal.
    event IssuerRemoved(uint256 indexed index, uint256 indexed leaf, uint256 root);

    /// @notice The admin address is zero.
    error IssuerRegistry__ZeroAdmin();
    /// @notice A public key coordinate is not below the BN254 scalar field (it would alias another key).
    error IssuerRegistry__CoordinateOutOfField(uint256 coordinate);
    /// @notice (ax, ay) is not a point of Baby Jubjub, so it cannot be an EdDSA public key.
    error IssuerRegistry__NotOnCurve(uint256 ax, uint256 ay);
    /// @notice The leaf is zero, which the tree uses for removed issuers.
    error IssuerRegistry__ZeroLeaf();
    /// @notice This issuer is already in the tree.
    error IssuerRegistry__IssuerExists(uint256 leaf);
    /// @notice This leaf is not an issuer in the tree (never added, or already removed).
    error IssuerRegistry__UnknownIssuer(uint256 leaf);
    /// @notice The tree already holds 2^MAX_ISSUER_DEPTH leaves (removed ones included).
    error IssuerRegistry__TreeFull(uint256 maxLeaves);
    /// @notice The sibling nodes given do not prove the leaf against the current root (wrong
    ///         number, a value out of field, or another tree); rebuild them from the events.
    error IssuerRegistry__WrongSiblings(uint256 leaf);

    /// @notice The role that may add and remove issuers.
    function ISSUER_ACCREDITOR_ROLE() external view returns (bytes32);

    /// @notice The deepest tree the eligibility circuit can prove membership in (8: 256 leaves).
    function MAX_ISSUER_DEPTH() external view returns (uint256);

    /// @notice How long a superseded root stays known, in seconds (1 hour).
    function ROOT_VALIDITY() external view returns (uint256);

    /// @notice Accredit an issuer: insert Poseidon(ax, ay) into the tree. ISSUER_ACCREDITOR_ROLE only.
    /// @param ax Baby Jubjub x coordinate of the issuer's EdDSA public key, below the field.
    /// @param ay Baby Jubjub y coordinate, below the field; (ax, ay) must be on the curve.
    /// @return index The leaf's position in the tree.
    /// @return root The new root (the previous one stays known for ROOT_VALIDITY).
    function addIssuer(uint256 ax, uint256 ay) external returns (uint256 index, uint256 root);

    /// @notice Remove an issuer: set its leaf to 0. ISSUER_ACCREDITOR_ROLE only.
    /// @param leaf The issuer's leaf, Poseidon(ax, ay).
    /// @param siblings The LeanIMT sibling nodes of the leaf, bottom-up, only at the levels where
    ///        it has a sibling (as the zk-kit LeanIMT's generateProof returns them in JS).
    /// @return root The new root (the previous one stays known for ROOT_VALIDITY).
    function removeIssuer(uint256 leaf, uint256[] calldata siblings) external returns (uint256 root);

    /// @notice Whether a proof may name `root`: the current root, or one superseded less than
    ///         ROOT_VALIDITY seconds ago. Never true for 0 (the empty tree).
    function isKnownRoot(uint256 root) external view returns (bool);

    /// @notice The current root (0 while the tree is empty).
    function root() external view returns (uint256);

    /// @notice When `root` was last superseded (block timestamp), or 0 if it never was.
    function supersededAt(uint256 root) external view returns (uint256);

    /// @notice Number of leaves, removed issuers included (the next index).
    function size() external view returns (uint256);

    /// @notice The tree's current depth (ceil(log2(size))).
    function depth() external view returns (uint256);

    /// @notice Whether `leaf` is an accredited issuer now.
    function isIssuer(uint256 leaf) external view returns (bool);

    /// @notice The position of an accredited issuer's leaf; reverts with UnknownIssuer otherwise.
    function indexOf(uint256 leaf) external view returns (uint256);

    /// @notice The leaf of a public key, Poseidon(ax, ay), as the circuit computes it.
    function leafOf(uint256 ax, uint256 ay) external pure returns (uint256);
}
