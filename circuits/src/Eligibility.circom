pragma circom 2.1.5;

include "bitify.circom";
include "poseidon.circom";
include "./AssertAnyInRanges.circom";
include "./AssertInRange.circom";
include "./AssertLessEq.circom";
include "./AssertMaskHas.circom";
include "./AssertNoneInRanges.circom";
include "./CredentialSignature.circom";
include "./CriteriaHash.circom";
include "./IssuerMembership.circom";

// Zero-knowledge study eligibility (decision 018). Proves, revealing only the public inputs, that:
// - an issuer whose key is a leaf of the issuers tree `issuersRoot` signed a credential over the
//   attributes `attrs` and the identity commitment Poseidon1(secret);
// - the credential was issued at or before `time`, at most crit[31] seconds before, and expires after;
// - every attribute meets the criteria `crit`, and `crit` hashes to `criteriaHash`;
// - `nullifier` = Poseidon2(secret, studyId) (one enrollment per person per study);
// - the proof is bound to `recipient` (the enrolling address).
// The encoding of attrs[16] and crit[32] is sdk/src/zk/layout.ts; every compared value is
// range-checked to 40 bits first (masks 4 bits, indices 2 bits, the anyOf flag 1 bit).
//
// MAX_DEPTH: issuers tree depth; CONDITIONS: condition slots attrs[8 .. 8+CONDITIONS-1] (the rest must
// be 0); ANY_OF / NONE_OF: [lo, hi] pairs checked of the 4 each in crit (the rest must be unused).
template Eligibility(MAX_DEPTH, CONDITIONS, ANY_OF, NONE_OF) {
    var BITS = 40;
    var SECONDS_1900_TO_1970 = 2208988800;
    var PAIRS = 4;
    assert(CONDITIONS <= 8 && ANY_OF <= PAIRS && NONE_OF <= PAIRS);

    // Public, in this order (the verifier's pubSignals).
    signal input issuersRoot;
    signal input criteriaHash;
    signal input studyId;
    signal input time;
    signal input nullifier;
    signal input recipient;

    // Private.
    signal input secret;
    signal input attrs[16];
    signal input issuedAt;
    signal input expiresAt;
    signal input issuerPubKey[2];
    signal input signatureR8[2];
    signal input signatureS;
    signal input issuerDepth;
    signal input issuerIndex;
    signal input issuerSiblings[MAX_DEPTH];
    signal input crit[32];

    // --- Range checks of everything compared below.
    _ <== Num2Bits(BITS)(time);
    _ <== Num2Bits(BITS)(issuedAt);
    _ <== Num2Bits(BITS)(expiresAt);
    _ <== Num2Bits(BITS)(attrs[0]); // birth; attrs[1], attrs[2] are checked to 2 bits by AssertMaskHas
    for (var i = 3; i < 16; i++) {
        _ <== Num2Bits(BITS)(attrs[i]);
    }
    for (var i = 0; i < 32; i++) {
        if (i == 2 || i == 3) {
            // masks: 4 bits, checked by AssertMaskHas
        } else if (i == 22) {
            crit[22] * (crit[22] - 1) === 0;
        } else {
            _ <== Num2Bits(BITS)(crit[i]);
        }
    }

    // --- The credential: signed by an accredited issuer, over this identity.
    signal identityCommitment <== Poseidon(1)([secret]);
    CredentialSignature()(attrs, identityCommitment, issuedAt, expiresAt,
                          issuerPubKey[0], issuerPubKey[1], signatureR8[0], signatureR8[1], signatureS);
    IssuerMembership(MAX_DEPTH)(issuerPubKey[0], issuerPubKey[1], issuerDepth, issuerIndex, issuerSiblings, issuersRoot);

    // --- Valid at `time`: issuedAt <= time, time - issuedAt <= crit[31], time < expiresAt.
    AssertInRange(BITS)(time - issuedAt, 0, crit[31]);
    AssertLessEq(BITS)(time + 1, expiresAt);

    // --- Age in seconds since birth: born no later than `time`, and within [crit[0], crit[1]].
    signal age <== time + SECONDS_1900_TO_1970 - attrs[0];
    _ <== Num2Bits(BITS)(age);
    AssertInRange(BITS)(age, crit[0], crit[1]);

    // --- Sex and smoking status: their bit set in the allowed masks.
    AssertMaskHas(2)(attrs[1], crit[2]);
    AssertMaskHas(2)(attrs[2], crit[3]);

    // --- Measures (0 = not measured, which fails any lower bound >= 1).
    for (var k = 0; k < 5; k++) {
        AssertInRange(BITS)(attrs[3 + k], crit[4 + 2 * k], crit[5 + 2 * k]);
    }

    // --- Conditions. Slots beyond CONDITIONS and pairs beyond ANY_OF / NONE_OF are not checked,
    // so they must be empty / unused ([1, 0]) rather than silently ignored.
    signal conditions[CONDITIONS];
    for (var i = 0; i < 8; i++) {
        if (i < CONDITIONS) {
            conditions[i] <== attrs[8 + i];
        } else {
            attrs[8 + i] === 0;
        }
    }
    signal anyLo[ANY_OF];
    signal anyHi[ANY_OF];
    signal noneLo[NONE_OF];
    signal noneHi[NONE_OF];
    for (var j = 0; j < PAIRS; j++) {
        if (j < ANY_OF) {
            anyLo[j] <== crit[14 + 2 * j];
            anyHi[j] <== crit[15 + 2 * j];
        } else {
            crit[14 + 2 * j] === 1;
            crit[15 + 2 * j] === 0;
        }
        if (j < NONE_OF) {
            noneLo[j] <== crit[23 + 2 * j];
            noneHi[j] <== crit[24 + 2 * j];
        } else {
            crit[23 + 2 * j] === 1;
            crit[24 + 2 * j] === 0;
        }
    }
    AssertAnyInRanges(CONDITIONS, ANY_OF, BITS)(conditions, anyLo, anyHi, crit[22]);
    AssertNoneInRanges(CONDITIONS, NONE_OF, BITS)(conditions, noneLo, noneHi);

    // --- The criteria are the study's.
    signal computedCriteriaHash <== CriteriaHash()(crit);
    computedCriteriaHash === criteriaHash;

    // --- One enrollment per person per study.
    signal computedNullifier <== Poseidon(2)([secret, studyId]);
    computedNullifier === nullifier;

    // --- Bind the proof to the enrolling address: a proof for one recipient does not verify for
    // another (a public input used in no constraint could be changed freely by a front-runner).
    signal recipientSquare <== recipient * recipient;
}
