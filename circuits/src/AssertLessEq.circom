pragma circom 2.1.5;

include "bitify.circom";

// Constrains a <= b, for a and b already range-checked below 2^BITS by the caller: then b - a lies in
// (-2^BITS, 2^BITS), and a negative difference wraps to at least p - 2^BITS, which has no BITS-bit
// decomposition. Cheaper than LessEqThan when only the assertion is needed (BITS constraints).
template AssertLessEq(BITS) {
    signal input a;
    signal input b;

    _ <== Num2Bits(BITS)(b - a);
}
