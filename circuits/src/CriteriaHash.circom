pragma circom 2.1.5;

include "poseidon.circom";

// The study's criteria hash: Poseidon2(Poseidon16(crit[0..15]), Poseidon16(crit[16..31])), as
// sdk/src/zk/layout.ts criteriaHashOf computes it.
template CriteriaHash() {
    signal input crit[32];
    signal output out;

    signal low <== Poseidon(16)([crit[0], crit[1], crit[2], crit[3], crit[4], crit[5], crit[6], crit[7],
                                 crit[8], crit[9], crit[10], crit[11], crit[12], crit[13], crit[14], crit[15]]);
    signal high <== Poseidon(16)([crit[16], crit[17], crit[18], crit[19], crit[20], crit[21], crit[22], crit[23],
                                  crit[24], crit[25], crit[26], crit[27], crit[28], crit[29], crit[30], crit[31]]);
    out <== Poseidon(2)([low, high]);
}
