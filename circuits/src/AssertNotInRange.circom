pragma circom 2.1.5;

include "bitify.circom";

// Constrains value < lo or value > hi, all three already range-checked below 2^BITS by the caller.
// The prover says which side (`above`, a hint checked to be a bit); the circuit then needs one
// BITS-bit decomposition of the gap to that side instead of two comparators. A value inside
// [lo, hi] has a negative gap on both sides, so no choice of `above` satisfies the constraints.
// An empty range (lo > hi, the encoding of an unused pair) excludes nothing.
template AssertNotInRange(BITS) {
    signal input value;
    signal input lo;
    signal input hi;

    signal above;
    above <-- value > hi ? 1 : 0;
    above * (above - 1) === 0;

    // above = 1: gap = value - hi - 1 (value > hi);  above = 0: gap = lo - value - 1 (value < lo).
    signal gap;
    gap <== above * ((value - hi - 1) - (lo - value - 1)) + (lo - value - 1);
    _ <== Num2Bits(BITS)(gap);
}
