pragma circom 2.1.5;

include "eddsaposeidon.circom";
include "poseidon.circom";

// Constrains (R8, S) to be an EdDSA-Poseidon signature by the Baby Jubjub key (Ax, Ay) over the
// credential message Poseidon4(Poseidon16(attrs), identityCommitment, issuedAt, expiresAt), as
// sdk/src/zk/credential.ts signs it.
template CredentialSignature() {
    signal input attrs[16];
    signal input identityCommitment;
    signal input issuedAt;
    signal input expiresAt;
    signal input Ax;
    signal input Ay;
    signal input R8x;
    signal input R8y;
    signal input S;

    signal attrsHash <== Poseidon(16)(attrs);
    signal message <== Poseidon(4)([attrsHash, identityCommitment, issuedAt, expiresAt]);
    EdDSAPoseidonVerifier()(1, Ax, Ay, S, R8x, R8y, message);
}
