// Test helper (child process): validates the resources in the JSON file argv[2] with only the slim
// definitions indexed, as the browser does, and prints the reasons for each.
import { readFileSync } from 'node:fs';
import { slimFhirDefinitions } from '../fhir.ts';
import { indexFhirDefinitions, validateFhirResource } from '../fhir-input.ts';

indexFhirDefinitions(JSON.parse(JSON.stringify(slimFhirDefinitions())));
const resources = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as unknown[];
process.stdout.write(JSON.stringify(resources.map((r) => validateFhirResource(r))));
