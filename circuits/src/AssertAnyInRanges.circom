pragma circom 2.1.5;

include "bitify.circom";
include "comparators.circom";

// When enabled (a bit), constrains that at least one non-zero values[i] lies in at least one
// [lo[j], hi[j]]; when not enabled, constrains nothing about them. Everything is already
// range-checked below 2^BITS by the caller.
//
// An existential check does not need every (value, range) comparison: the prover names one value
// and one range (one-hot hints, checked), and the circuit checks that pair only. An unused range
// is encoded lo = 1, hi = 0 and contains nothing, so naming it never helps.
template AssertAnyInRanges(N, M, BITS) {
    signal input values[N];
    signal input lo[M];
    signal input hi[M];
    signal input enabled;

    enabled * (enabled - 1) === 0;

    // The hints: the first (value, range) pair that matches, or (0, 0) when none does (then the
    // witness fails below if enabled).
    var chosenValue = 0;
    var chosenRange = 0;
    var found = 0;
    for (var i = 0; i < N; i++) {
        for (var j = 0; j < M; j++) {
            if (found == 0 && values[i] != 0 && values[i] >= lo[j] && values[i] <= hi[j]) {
                chosenValue = i;
                chosenRange = j;
                found = 1;
            }
        }
    }

    signal valueSel[N];
    signal rangeSel[M];
    var valueSelSum = 0;
    var rangeSelSum = 0;
    for (var i = 0; i < N; i++) {
        valueSel[i] <-- i == chosenValue ? 1 : 0;
        valueSel[i] * (valueSel[i] - 1) === 0;
        valueSelSum += valueSel[i];
    }
    for (var j = 0; j < M; j++) {
        rangeSel[j] <-- j == chosenRange ? 1 : 0;
        rangeSel[j] * (rangeSel[j] - 1) === 0;
        rangeSelSum += rangeSel[j];
    }
    valueSelSum === 1;
    rangeSelSum === 1;

    signal valueTerms[N];
    signal loTerms[M];
    signal hiTerms[M];
    var value = 0;
    var chosenLo = 0;
    var chosenHi = 0;
    for (var i = 0; i < N; i++) {
        valueTerms[i] <== valueSel[i] * values[i];
        value += valueTerms[i];
    }
    for (var j = 0; j < M; j++) {
        loTerms[j] <== rangeSel[j] * lo[j];
        hiTerms[j] <== rangeSel[j] * hi[j];
        chosenLo += loTerms[j];
        chosenHi += hiTerms[j];
    }

    // enabled: chosenLo <= value <= chosenHi and value != 0 (an empty condition slot matches nothing).
    signal aboveLo <== enabled * (value - chosenLo);
    signal belowHi <== enabled * (chosenHi - value);
    _ <== Num2Bits(BITS)(aboveLo);
    _ <== Num2Bits(BITS)(belowHi);
    signal isEmpty <== IsZero()(value);
    enabled * isEmpty === 0;
}
