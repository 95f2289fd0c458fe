pragma circom 2.1.5;

// The eligibility circuit's main component: MAX_ISSUER_DEPTH = 8, MAX_CONDITIONS = 8,
// MAX_ANY_OF = 4, MAX_NONE_OF = 4 (sdk/src/zk/layout.ts and types.ts; a test checks they agree).
// Public signals, in this order: issuersRoot, criteriaHash, studyId, time, nullifier, recipient.

include "../src/Eligibility.circom";

component main {public [issuersRoot, criteriaHash, studyId, time, nullifier, recipient]} = Eligibility(8, 8, 4, 4);
