pragma circom 2.1.5;

include "bitify.circom";
include "mux2.circom";

// Constrains bit `index` of `mask` to be 1, with index < 2^INDEX_BITS and mask < 2^(2^INDEX_BITS)
// both range-checked here. INDEX_BITS = 2: a choice among 4 (sex, smoker status).
template AssertMaskHas(INDEX_BITS) {
    assert(INDEX_BITS == 2); // Mux2: four mask bits
    signal input index;
    signal input mask;

    signal indexBits[2] <== Num2Bits(2)(index);
    signal maskBits[4] <== Num2Bits(4)(mask);
    signal allowed <== Mux2()(maskBits, indexBits);
    allowed === 1;
}
