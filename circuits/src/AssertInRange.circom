pragma circom 2.1.5;

include "./AssertLessEq.circom";

// Constrains lo <= value <= hi, all three already range-checked below 2^BITS by the caller.
template AssertInRange(BITS) {
    signal input value;
    signal input lo;
    signal input hi;

    AssertLessEq(BITS)(lo, value);
    AssertLessEq(BITS)(value, hi);
}
