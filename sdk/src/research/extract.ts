/**
 * A study's de-identified extract of a patient's records (browser-safe): the records in the study's
 * categories, de-identified by the HIPAA Safe Harbor method (safe-harbor.ts; decision 025).
 *
 * The walk is an allow-list: structure (objects, arrays), numbers, booleans, coded strings (codes,
 * statuses, systems, Coding displays) and dates reduced to the year are kept; every other string is
 * free text the client cannot vouch for and is removed. On top of that, the elements that carry the
 * 18 identifiers are removed or reduced by name, each with the kind it carries, so the report
 * (`removed`) says what went and why. Resource ids become fresh random pseudonyms, the same within
 * one extract, and references are rewritten to them, so the extract still holds together; a
 * reference to the patient always resolves (to a stub Patient with only its pseudonym when the study
 * does not take demographics), any other reference that leaves the extract is withheld.
 */
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { ConsentryError } from '../errors.ts';
import { categorize, categoryBit } from '../records/categories.ts';
import type { FhirResource } from '../records/fhir-types.ts';
import {
  ageInYears,
  ageOver89,
  fhirDateYear,
  isFhirTime,
  MAX_REPORTED_AGE,
  safeHarborZip,
  SafeHarborIdentifier,
  yearImpliesAgeOver89,
} from './safe-harbor.ts';

export interface ExtractOptions {
  /** The study's category bitmask (bit i = CATEGORIES[i], see records/categories.ts). */
  categories: bigint;
  /** The time ages are judged at (default: now). */
  now?: Date;
}

export interface RemovedElement {
  /** Where, in the input (Bundles taken apart): `Type[index].element[i].child`. */
  path: string;
  identifier: SafeHarborIdentifier;
}

export interface DeidentifiedExtract {
  resources: FhirResource[];
  removed: RemovedElement[];
}

/** The display a reference gets when its target is not part of the extract. */
export const WITHHELD_REFERENCE_DISPLAY = 'withheld from the de-identified extract';

const resourcesSchema = z.array(z.looseObject({ resourceType: z.string().min(1), id: z.string().min(1).optional() }));

const H = SafeHarborIdentifier;

/** Elements removed wherever they appear, with the identifier they carry (or a function deciding it per item). */
const REMOVED: Readonly<Record<string, SafeHarborIdentifier | ((item: unknown, parent: Record<string, unknown>) => SafeHarborIdentifier)>> = {
  // (A) names, of the patient and of relatives (contact), and names of anything else (Organization, Location).
  name: H.Names,
  alias: H.Names,
  contact: H.Names,
  // (D)(E)(F)(N) telecom: the kind from the ContactPoint's system.
  telecom: telecomKind,
  // (G)-(K), (L), (P), (R): every identifier, whatever its system; the kind from its system or type.
  identifier: identifierKind,
  // (M) devices.
  udiCarrier: H.Device,
  serialNumber: H.Device,
  lotNumber: H.Device,
  modelNumber: H.Device,
  deviceName: H.Device,
  distinctIdentifier: H.Device,
  // (N) URLs.
  url: H.Url,
  valueUrl: H.Url,
  valueUri: H.Url,
  // (B) geographic coordinates (Location.position).
  position: H.Geographic,
  // (Q) photographs; Attachment data and hashes (photos, (P) voice or finger prints, scanned documents).
  photo: H.Photo,
  data: attachmentDataKind,
  hash: H.Other,
  // (R) everything else that can single someone out or carry free text.
  meta: H.Other,
  text: freeTextIn,
  div: freeTextIn,
  note: freeTextIn,
  contained: H.Other,
  extension: H.Other,
  modifierExtension: H.Other,
  implicitRules: H.Other,
  link: H.Other,
};

/** Strings kept verbatim: codes and code systems, not free text. */
const CODED = new Set([
  'resourceType', 'status', 'intent', 'gender', 'code', 'system', 'version', 'unit', 'comparator', 'use', 'contentType',
  'language', 'priority', 'criticality', 'type', 'category', 'severity', 'kind', 'mode', 'valueCode', 'docStatus',
]);

/** instant-typed elements: a year alone is not a valid instant, so they are removed (C). */
const INSTANTS = new Set(['issued', 'recorded', 'lastUpdated', 'timestamp']);
/** Elements that are instants in one resource type only (elsewhere the same name is a dateTime). */
const INSTANTS_IN: Readonly<Record<string, readonly string[]>> = { DocumentReference: ['date'], Media: ['issued'] };

/** Address parts kept (B): the state and country; the ZIP code reduced by safeHarborZip. */
const ADDRESS_KEPT = new Set(['use', 'type', 'state', 'country']);

function telecomKind(item: unknown): SafeHarborIdentifier {
  const system = (item as { system?: unknown } | null)?.system;
  if (system === 'fax') return H.Fax;
  if (system === 'email') return H.Email;
  if (system === 'url') return H.Url;
  return H.Telephone;
}

function identifierKind(item: unknown): SafeHarborIdentifier {
  const { system, type } = (item ?? {}) as { system?: unknown; type?: { coding?: Array<{ code?: unknown }> } };
  const codes = new Set((type?.coding ?? []).map((c) => c.code));
  if (system === 'http://hl7.org/fhir/sid/us-ssn' || codes.has('SS')) return H.SocialSecurity;
  if (codes.has('MR')) return H.MedicalRecord;
  if (codes.has('MB') || codes.has('SN') || codes.has('MC') || codes.has('MA')) return H.HealthPlan;
  if (codes.has('AN') || codes.has('ACSN')) return H.Account;
  if (codes.has('DL') || codes.has('PPN') || codes.has('MD') || codes.has('LN')) return H.Licence;
  if (codes.has('SNO') || codes.has('UDI')) return H.Device;
  return H.Other;
}

function attachmentDataKind(_data: unknown, attachment: Record<string, unknown>): SafeHarborIdentifier {
  const type = typeof attachment.contentType === 'string' ? attachment.contentType : '';
  if (type.startsWith('image/') || type.startsWith('video/')) return H.Photo;
  // Voice prints, finger prints and other biometric captures arrive as audio or opaque binary.
  if (type.startsWith('audio/') || type === 'application/octet-stream') return H.Biometric;
  return H.Other;
}

/** What a removed free-text string most plausibly carried (it is removed whatever it holds). */
export function freeTextKind(value: string): SafeHarborIdentifier {
  if (/\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b/i.test(value)) return H.IpAddress;
  if (/[a-z][a-z0-9+.-]*:\/\/|\bwww\./i.test(value)) return H.Url;
  if (/[^\s@]+@[^\s@]+\.[a-z]{2,}/i.test(value)) return H.Email;
  if (/\b\d{3}-\d{2}-\d{4}\b/.test(value)) return H.SocialSecurity;
  if (/\b[A-HJ-NPR-Z0-9]{17}\b/.test(value)) return H.Vehicle;
  if (/\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b/.test(value)) return H.Telephone;
  return H.Other;
}

function freeTextIn(item: unknown): SafeHarborIdentifier {
  return freeTextKind(JSON.stringify(item) ?? '');
}

const isObject = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

function pseudonym(): string {
  return bytesToHex(randomBytes(16));
}

/** Whether a resource carries a modifier extension anywhere (its meaning then depends on what would be removed). */
function hasModifierExtension(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasModifierExtension);
  if (!isObject(value)) return false;
  return Object.entries(value).some(([k, v]) => k === 'modifierExtension' || hasModifierExtension(v));
}

/**
 * Builds a study's de-identified extract: the resources in the study's categories, de-identified by
 * the Safe Harbor method, with fresh pseudonymous ids. `removed` lists every element removed or
 * reduced (paths into the input) and the identifier kind it carried; it stays on the patient's device.
 */
export function buildExtract(input: readonly FhirResource[], { categories, now = new Date() }: ExtractOptions): DeidentifiedExtract {
  const parsed = resourcesSchema.safeParse(input);
  if (!parsed.success) throw new ConsentryError('EXTRACT_INPUT_INVALID', `Extract input is not a list of FHIR resources: ${parsed.error.message}`);
  if (categories < 0n) throw new RangeError('categories must be a non-negative bitmask');
  const { resources, byFullUrl } = flatten(parsed.data as FhirResource[]);
  const keyOf = (r: FhirResource): string | undefined => (r.id !== undefined ? `${r.resourceType}/${r.id}` : undefined);
  const removed: RemovedElement[] = [];
  const remove = (path: string, identifier: SafeHarborIdentifier) => removed.push({ path, identifier });

  // 1. Select: the study's categories, and nothing whose meaning a removed modifier extension would change.
  const selected: Array<{ resource: FhirResource; index: number }> = [];
  resources.forEach((resource, index) => {
    if (((categories >> BigInt(categoryBit(categorize(resource)))) & 1n) === 0n) return;
    if (hasModifierExtension(resource)) {
      remove(`${resource.resourceType}[${index}]`, H.Other);
      return;
    }
    selected.push({ resource, index });
  });

  // 2. Pseudonyms: one fresh random id per selected resource, and per patient referred to.
  const pseudonyms = new Map<string, string>();
  for (const { resource } of selected) {
    const key = keyOf(resource);
    if (key !== undefined) pseudonyms.set(key, pseudonym());
  }
  const typeOfBareId = new Map<string, string>();
  for (const r of resources) if (r.id !== undefined) typeOfBareId.set(r.id, r.resourceType);
  const stubs: FhirResource[] = [];

  /** The pseudonymous reference for an original one, or undefined when its target is not in the extract. */
  const resolve = (reference: string): string | undefined => {
    let type: string | undefined;
    let id: string | undefined;
    const urn = /^urn:uuid:(.+)$/.exec(reference);
    const entry = byFullUrl.get(reference);
    if (entry) {
      type = entry.resourceType;
      id = entry.id;
    } else if (urn) {
      id = urn[1]!;
      type = typeOfBareId.get(id);
    } else {
      const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
      if (m) [, type, id] = m;
    }
    if (!type || !id) return undefined;
    const key = `${type}/${id}`;
    const known = pseudonyms.get(key);
    if (known) return `${type}/${known}`;
    if (type !== 'Patient') return undefined;
    // Every record refers to the patient: keep that link, through a Patient that says nothing else.
    const stubId = pseudonym();
    pseudonyms.set(key, stubId);
    stubs.push({ resourceType: 'Patient', id: stubId });
    return `Patient/${stubId}`;
  };

  const cleanReference = (ref: Record<string, unknown>, path: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(ref)) {
      if (key === 'reference' || key === 'type') continue;
      const kind = key === 'display' ? H.Names : key === 'identifier' ? identifierKind(ref.identifier) : H.Other;
      remove(`${path}.${key}`, kind);
    }
    const original = ref.reference;
    const resolved = typeof original === 'string' ? resolve(original) : undefined;
    if (typeof original === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(original)) remove(`${path}.reference`, H.Url);
    else if (typeof original === 'string') remove(`${path}.reference`, H.Other);
    if (resolved) {
      out.reference = resolved;
      if (typeof ref.type === 'string') out.type = ref.type;
    } else {
      out.display = WITHHELD_REFERENCE_DISPLAY;
    }
    return out;
  };

  const cleanAddress = (address: unknown, path: string): unknown => {
    if (Array.isArray(address)) return compactArray(address.map((a, i) => cleanAddress(a, `${path}[${i}]`)));
    if (!isObject(address)) return undefined;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(address)) {
      if (ADDRESS_KEPT.has(key) && typeof value === 'string') out[key] = value;
      else if (key === 'postalCode' && typeof value === 'string') {
        const zip = safeHarborZip(value);
        if (zip !== undefined) out.postalCode = zip;
        remove(`${path}.postalCode`, H.Geographic);
      } else remove(`${path}.${key}`, H.Geographic);
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };

  const cleanString = (key: string, value: string, path: string): string | undefined => {
    if (CODED.has(key)) return value;
    const year = fhirDateYear(value);
    if (year !== undefined) {
      if (yearImpliesAgeOver89(year, now)) {
        remove(path, H.Dates);
        return undefined;
      }
      const reduced = String(year).padStart(4, '0');
      if (reduced !== value) remove(path, H.Dates);
      return reduced;
    }
    remove(path, isFhirTime(value) ? H.Dates : freeTextKind(value));
    return undefined;
  };

  const cleanAge = (q: Record<string, unknown>, key: string, path: string): Record<string, unknown> | undefined => {
    const years = ageInYears(q);
    if (years === undefined || years <= MAX_REPORTED_AGE) {
      const out = cleanObject(q, path);
      return Object.keys(out).length > 0 ? out : undefined;
    }
    remove(`${path}.value`, H.Dates);
    // A Range's low and high are SimpleQuantities, which take no comparator.
    return ageOver89(key !== 'low' && key !== 'high');
  };

  const cleanValue = (key: string, value: unknown, path: string): unknown => {
    if (Array.isArray(value)) {
      return compactArray(value.map((v, i) => cleanValue(key, v, `${path}[${i}]`)));
    }
    if (typeof value === 'string') return cleanString(key, value, path);
    if (typeof value === 'number' || typeof value === 'boolean') return value;
    if (!isObject(value)) return undefined;
    if (typeof value.reference === 'string' || (key !== 'coding' && 'display' in value && !('code' in value) && !('system' in value))) {
      return cleanReference(value, path);
    }
    if (ageInYears(value) !== undefined) return cleanAge(value, key, path);
    const isCoding = key === 'coding' || (typeof value.code === 'string' && typeof value.system === 'string' && !('value' in value));
    const out = cleanObject(value, path, isCoding);
    return Object.keys(out).length > 0 ? out : undefined;
  };

  function cleanObject(obj: Record<string, unknown>, path: string, isCoding = false): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(obj)) {
      const at = `${path}.${key}`;
      const rule = REMOVED[key];
      if (rule !== undefined) {
        if (typeof rule === 'function') {
          if (Array.isArray(value)) value.forEach((v, i) => remove(`${at}[${i}]`, rule(v, obj)));
          else remove(at, rule(value, obj));
        } else remove(at, rule);
        continue;
      }
      // Element ids are free-form and can repeat a resource's identifiers.
      if (key === 'id') {
        remove(at, H.Other);
        continue;
      }
      if (key === 'display') {
        // A Coding's display is the code system's name for the code; any other display is free text (often a person's name).
        if (isCoding && typeof value === 'string') out.display = value;
        else remove(at, H.Names);
        continue;
      }
      if (INSTANTS.has(key) || key.endsWith('Instant')) {
        remove(at, H.Dates);
        continue;
      }
      const cleaned = key === 'address' ? cleanAddress(value, at) : cleanValue(key, value, at);
      if (cleaned !== undefined) out[key] = cleaned;
    }
    return out;
  }

  const cleanBirthDate = (value: unknown, path: string): string | undefined => {
    const year = typeof value === 'string' ? fhirDateYear(value) : undefined;
    if (year === undefined || yearImpliesAgeOver89(year, now)) {
      remove(path, H.Dates);
      return undefined;
    }
    if (String(year) !== value) remove(path, H.Dates);
    return String(year);
  };

  // 3. De-identify each selected resource.
  const out: FhirResource[] = [];
  for (const { resource, index } of selected) {
    const path = `${resource.resourceType}[${index}]`;
    const { resourceType, id, birthDate, ...rest } = resource;
    for (const key of INSTANTS_IN[resourceType] ?? []) {
      if (key in rest) {
        remove(`${path}.${key}`, H.Dates);
        delete rest[key];
      }
    }
    const cleaned = cleanObject(rest, path);
    if (birthDate !== undefined) {
      const year = cleanBirthDate(birthDate, `${path}.birthDate`);
      if (year !== undefined) cleaned.birthDate = year;
    }
    if (id !== undefined) remove(`${path}.id`, H.Other);
    const pseudo = id !== undefined ? pseudonyms.get(`${resourceType}/${id}`) : undefined;
    out.push({ resourceType, id: pseudo ?? pseudonym(), ...cleaned });
  }
  return { resources: [...stubs, ...out], removed };
}

/**
 * The resources, with the entries of any Bundle among them taken out (recursively), and the Bundle
 * entries' fullUrls: references may name a resource by its fullUrl. An entry without an id gets its
 * fullUrl's uuid as a working id (it is replaced by a pseudonym like every other).
 */
function flatten(input: readonly FhirResource[]): { resources: FhirResource[]; byFullUrl: Map<string, FhirResource> } {
  const resources: FhirResource[] = [];
  const byFullUrl = new Map<string, FhirResource>();
  const visit = (r: FhirResource) => {
    if (r.resourceType !== 'Bundle') {
      resources.push(r);
      return;
    }
    const entries = Array.isArray(r.entry) ? (r.entry as Array<{ fullUrl?: unknown; resource?: unknown }>) : [];
    for (const e of entries) {
      const parsed = resourcesSchema.element.safeParse(e?.resource);
      if (!parsed.success) continue;
      let resource = parsed.data as FhirResource;
      if (typeof e.fullUrl === 'string') {
        const uuid = /^urn:uuid:([A-Za-z0-9\-.]{1,64})$/.exec(e.fullUrl)?.[1];
        if (resource.id === undefined && uuid !== undefined) resource = { ...resource, id: uuid };
        byFullUrl.set(e.fullUrl, resource);
      }
      visit(resource);
    }
  };
  input.forEach(visit);
  return { resources, byFullUrl };
}

function compactArray(values: unknown[]): unknown[] | undefined {
  const kept = values.filter((v) => v !== undefined);
  return kept.length > 0 ? kept : undefined;
}
