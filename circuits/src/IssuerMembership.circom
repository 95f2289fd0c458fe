pragma circom 2.1.5;

include "bitify.circom";
include "poseidon.circom";
include "binary-merkle-root.circom";
include "./AssertLessEq.circom";

// Constrains the issuer key (Ax, Ay) to be a leaf Poseidon2(Ax, Ay) of the LeanIMT with this root,
// with depth <= MAX_DEPTH. zk-kit's BinaryMerkleRoot outputs 0 for a depth above MAX_DEPTH, so the
// depth is bounded here (otherwise root 0 would be provable).
template IssuerMembership(MAX_DEPTH) {
    signal input Ax;
    signal input Ay;
    signal input depth;
    signal input index;
    signal input siblings[MAX_DEPTH];
    signal input root;

    var DEPTH_BITS = 1;
    while ((1 << DEPTH_BITS) <= MAX_DEPTH) {
        DEPTH_BITS++;
    }
    _ <== Num2Bits(DEPTH_BITS)(depth);
    AssertLessEq(DEPTH_BITS)(depth, MAX_DEPTH);

    signal leaf <== Poseidon(2)([Ax, Ay]);
    signal computedRoot <== BinaryMerkleRoot(MAX_DEPTH)(leaf, depth, index, siblings);
    computedRoot === root;
}
