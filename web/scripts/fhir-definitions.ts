// Build step: writes public/fhir-r4-definitions.json, the FHIR R4 StructureDefinitions without their
// documentation (sdk/src/records/fhir.ts slimFhirDefinitions), which the browser indexes to
// validate uploads itself. Generated; gitignored.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { slimFhirDefinitions } from '@consentry/sdk/records/fhir';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'fhir-r4-definitions.json');
mkdirSync(dirname(out), { recursive: true });
const json = JSON.stringify(slimFhirDefinitions());
writeFileSync(out, json);
console.log(`fhir definitions: ${(json.length / 1e6).toFixed(1)} MB → ${out}`);
