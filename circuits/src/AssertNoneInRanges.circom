pragma circom 2.1.5;

include "./AssertNotInRange.circom";

// Constrains that no values[i] lies in any [lo[j], hi[j]] (all range-checked below 2^BITS by the
// caller). A universal check: every pair is checked.
template AssertNoneInRanges(N, M, BITS) {
    signal input values[N];
    signal input lo[M];
    signal input hi[M];

    for (var i = 0; i < N; i++) {
        for (var j = 0; j < M; j++) {
            AssertNotInRange(BITS)(values[i], lo[j], hi[j]);
        }
    }
}
