/**
 * Browser-safe FHIR input (the definitions are given, not read from disk: fhir.ts loads them in
 * Node, the web app fetches a slimmed copy).
 *
 * FHIR input: Bundles (collection, transaction, searchset, batch), a single resource, or Bulk Data
 * NDJSON. Every resource is validated for structure, types and required fields with @medplum/core's
 * validator (decision 006); an invalid resource is reported with its location and reasons, and the
 * valid ones in the same input still come out.
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';

// @medplum/fhirtypes is not installed (types only); name what we pass through by the functions' own types.
type DefinitionBundle = Parameters<typeof indexStructureDefinitionBundle>[0];
type ValidatableResource = Parameters<typeof validateResource>[0];
interface Issue {
  severity?: string;
  expression?: string[];
  details?: { text?: string };
  diagnostics?: string;
}

import { ConsentryError } from '../errors.ts';
import type { FhirResource } from './fhir-types.ts';

export type { FhirResource };

export interface ParsedInput {
  resources: Array<{ resource: FhirResource; location: string }>;
  errors: Array<{ location: string; reason: string }>;
}

export const ACCEPTED_BUNDLE_TYPES = ['collection', 'transaction', 'searchset', 'batch'] as const;

let indexed = false;
/** Indexes R4 StructureDefinition bundles (types first, then resources); once is enough. */
export function indexFhirDefinitions(bundles: readonly unknown[]): void {
  for (const b of bundles) indexStructureDefinitionBundle(b as DefinitionBundle);
  indexed = true;
}

export const fhirDefinitionsIndexed = (): boolean => indexed;

function requireDefinitions(): void {
  if (!indexed) throw new ConsentryError('FHIR_DEFINITIONS', 'The FHIR R4 definitions are not loaded yet (indexFhirDefinitions)');
}

/** The reasons a resource is invalid (empty when valid). */
export function validateFhirResource(resource: unknown): string[] {
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) return ['not a JSON object'];
  const type = (resource as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string' || type.length === 0) return ['no resourceType'];
  requireDefinitions();
  try {
    validateResource(resource as ValidatableResource);
    return [];
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return ((err.outcome as { issue?: Issue[] }).issue ?? [])
        .filter((i) => i.severity === 'error' || i.severity === 'fatal')
        .map((i) => {
          const where = i.expression?.[0];
          const what = i.details?.text ?? i.diagnostics ?? 'invalid';
          return where ? `${where}: ${what}` : what;
        });
    }
    return [err instanceof Error ? err.message : String(err)];
  }
}

/** Parses and validates FHIR input; `source` names it in locations (a file name). */
export function parseFhirInput(text: string, source = 'input'): ParsedInput {
  const out: ParsedInput = { resources: [], errors: [] };
  const accept = (resource: unknown, location: string) => {
    const reasons = validateFhirResource(resource);
    if (reasons.length === 0) out.resources.push({ resource: resource as FhirResource, location });
    else out.errors.push({ location, reason: reasons.join('; ') });
  };

  const trimmed = text.trim();
  if (trimmed === '') {
    out.errors.push({ location: source, reason: 'empty input' });
    return out;
  }
  let whole: unknown;
  let isWhole = false;
  if (trimmed.startsWith('{')) {
    try {
      whole = JSON.parse(trimmed);
      isWhole = true;
    } catch {
      // Not one JSON document: perhaps NDJSON (one resource per line).
    }
  }
  if (isWhole) {
    const bundle = whole as { resourceType?: unknown; type?: unknown; entry?: unknown };
    if (bundle?.resourceType !== 'Bundle') {
      accept(whole, source);
      return out;
    }
    if (!ACCEPTED_BUNDLE_TYPES.includes(bundle.type as (typeof ACCEPTED_BUNDLE_TYPES)[number])) {
      out.errors.push({ location: source, reason: `Bundle type ${JSON.stringify(bundle.type)} is not one of ${ACCEPTED_BUNDLE_TYPES.join(', ')}` });
      return out;
    }
    const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
    entries.forEach((entry: unknown, i: number) => {
      const location = `${source}#entry[${i}]`;
      const resource = (entry as { resource?: unknown } | null)?.resource;
      if (resource === undefined) out.errors.push({ location, reason: 'entry has no resource' });
      else accept(resource, location);
    });
    return out;
  }

  trimmed.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const location = `${source}:${i + 1}`;
    let resource: unknown;
    try {
      resource = JSON.parse(line);
    } catch (err) {
      out.errors.push({ location, reason: `not JSON (${err instanceof Error ? err.message : String(err)})` });
      return;
    }
    accept(resource, location);
  });
  return out;
}
