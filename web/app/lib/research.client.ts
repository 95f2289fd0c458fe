/**
 * The researcher's side of the research market in the browser (issue 8, item 1): the criteria
 * builder's form turned into the criteria language (refused in words where the circuit cannot check
 * it), the study's documents stored through POST /api/documents, the researcher's studies and
 * purchases read from the chain, a purchase released by the committee's gateways to a key derived
 * from the wallet (as the CLI's `consentry buy` does, workers/src/cli/market.ts) and opened here,
 * and the dataset written as FHIR NDJSON and as CSV. The web server never sees the dataset, the
 * data keys or the buyer's secret key.
 */
import { erc20Abi, formatUnits, getAddress, parseUnits, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import type { Config } from 'wagmi';
import { getWalletClient, signTypedData } from 'wagmi/actions';
import { studyMarketAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { readCommittee } from '@consentry/sdk/access/release';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { readPurchase, type MarketContext, type PurchaseOnChain } from '@consentry/sdk/research/market';
import { gatewayCiphertexts, openPurchasedExtracts, requestPurchaseRelease } from '@consentry/sdk/research/purchase-release';
import { readStudy, type StudyOnChain } from '@consentry/sdk/zk/chain';
import { compileCriteria } from '@consentry/sdk/zk/layout';
import type { StudyMetadata } from '@consentry/sdk/zk/study-metadata';
import { criteriaSchema, MEASURE_NAMES, MEASURES, type Criteria, type MeasureName, type Sex, type SmokerStatus } from '@consentry/sdk/zk/types';
import { chainClient, gatewayRefs, requesterKeys } from './clinical.client.ts';
import { ApiCallError, ensureSession } from './records.client.ts';

// ---------------------------------------------------------------------------------------------
// The criteria builder

/** The criteria builder's fields as the form holds them (text inputs stay strings until parsed). */
export interface CriteriaForm {
  ageMin: string;
  ageMax: string;
  sex: Sex[];
  smoker: SmokerStatus[];
  measures: Record<MeasureName, { min: string; max: string }>;
  /** ICD-10-CM codes or prefixes (`E11.*`), separated by commas or spaces. */
  anyOf: string;
  noneOf: string;
  /** Days; empty = any age of credential. */
  credentialMaxAgeDays: string;
}

export const EMPTY_CRITERIA_FORM: CriteriaForm = {
  ageMin: '',
  ageMax: '',
  sex: [],
  smoker: [],
  measures: Object.fromEntries(MEASURE_NAMES.map((m) => [m, { min: '', max: '' }])) as CriteriaForm['measures'],
  anyOf: '',
  noneOf: '',
  credentialMaxAgeDays: '',
};

/** How each criterion's path reads on the page (the form's own labels). */
const FIELD_WORDS: Record<string, string> = {
  age: 'Age',
  'age.min': 'Minimum age',
  'age.max': 'Maximum age',
  sex: 'Sex',
  smoker: 'Smoking status',
  conditions: 'Diagnoses',
  'conditions.anyOf': 'Diagnosed with any of',
  'conditions.noneOf': 'Not diagnosed with',
  credentialMaxAgeDays: 'Credential freshness',
  ...Object.fromEntries(MEASURE_NAMES.flatMap((m) => [[m, MEASURES[m].label], [`${m}.min`, `${MEASURES[m].label} minimum`], [`${m}.max`, `${MEASURES[m].label} maximum`]])),
};

function fieldWords(path: readonly PropertyKey[]): string {
  const key = path.filter((p) => typeof p === 'string').join('.');
  const index = path.find((p) => typeof p === 'number');
  const base = FIELD_WORDS[key] ?? (key || 'The criteria');
  return typeof index === 'number' ? `${base}, entry ${index + 1}` : base;
}

const patterns = (text: string): string[] | undefined => {
  const list = text.split(/[\s,;]+/).map((p) => p.trim().toUpperCase()).filter(Boolean);
  return list.length ? list : undefined;
};

/**
 * The form as criteria, or every reason it is not acceptable, in words: a number that is not one,
 * what the criteria language refuses (criteriaSchema) and what the circuit cannot check exactly
 * (compileCriteria: fractional years, bounds finer than a measure's decimals, too many codes).
 */
export function criteriaFromForm(form: CriteriaForm): { criteria: Criteria | null; problems: string[] } {
  const problems: string[] = [];
  const num = (text: string, label: string): number | undefined => {
    const t = text.trim();
    if (t === '') return undefined;
    const n = Number(t);
    if (!Number.isFinite(n)) {
      problems.push(`${label}: "${t}" is not a number`);
      return undefined;
    }
    return n;
  };
  const range = (min: string, max: string, label: string) => {
    const r = { min: num(min, `${label} minimum`), max: num(max, `${label} maximum`) };
    return r.min === undefined && r.max === undefined ? undefined : Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
  };
  const draft: Record<string, unknown> = { version: 1 };
  const age = range(form.ageMin, form.ageMax, 'Age');
  if (age) draft.age = age;
  if (form.sex.length) draft.sex = form.sex;
  if (form.smoker.length) draft.smoker = form.smoker;
  for (const m of MEASURE_NAMES) {
    const r = range(form.measures[m].min, form.measures[m].max, MEASURES[m].label);
    if (r) draft[m] = r;
  }
  const anyOf = patterns(form.anyOf);
  const noneOf = patterns(form.noneOf);
  if (anyOf || noneOf) draft.conditions = { ...(anyOf ? { anyOf } : {}), ...(noneOf ? { noneOf } : {}) };
  const days = num(form.credentialMaxAgeDays, 'Credential freshness');
  if (days !== undefined) draft.credentialMaxAgeDays = days;
  if (problems.length) return { criteria: null, problems };

  const parsed = criteriaSchema.safeParse(draft);
  if (!parsed.success) return { criteria: null, problems: parsed.error.issues.map((i) => `${fieldWords(i.path)}: ${i.message}`) };
  if (Object.keys(parsed.data).length === 1) return { criteria: null, problems: ['Give at least one criterion: a study open to every credential holder cannot be told apart from none'] };
  try {
    compileCriteria(parsed.data);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // compileCriteria names the criterion first ("hba1c: the bound …"); say it with the form's label.
    const m = /^([a-zA-Z.0-9]+): (.*)$/.exec(message);
    return { criteria: null, problems: [m ? `${fieldWords(m[1]!.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)))}: ${m[2]}` : message] };
  }
  return { criteria: parsed.data, problems: [] };
}

// ---------------------------------------------------------------------------------------------
// The dataset as files

/** One resource per line, as the CLI's dataset.ndjson. */
export function toNdjson(resources: readonly FhirResource[]): string {
  return resources.length ? `${resources.map((r) => JSON.stringify(r)).join('\n')}\n` : '';
}

/**
 * The CSV's columns, one row per resource:
 *   resourceType  the FHIR resource type (Patient, Condition, Observation …)
 *   id            the resource's id in the extract
 *   code          the first coding of its code (medicationCodeableConcept, vaccineCode …) as system|code|display
 *   value         an Observation's valueQuantity as "value unit", else valueString, else the text (or first
 *                 display) of valueCodeableConcept; empty when there is none
 *   year          the year of its effective, onset, performed, occurrence, recorded, authored or birth date
 *                 (extracts keep years only: Safe Harbor)
 */
export const CSV_COLUMNS = ['resourceType', 'id', 'code', 'value', 'year'] as const;

type Coding = { system?: string; code?: string; display?: string };
type Concept = { coding?: Coding[]; text?: string };

const CODE_FIELDS = ['code', 'medicationCodeableConcept', 'vaccineCode', 'type'] as const;
const DATE_FIELDS = ['effectiveDateTime', 'effectivePeriod', 'onsetDateTime', 'performedDateTime', 'performedPeriod', 'occurrenceDateTime', 'recordedDate', 'authoredOn', 'issued', 'date', 'birthDate'] as const;

function codeOf(r: FhirResource): string {
  for (const field of CODE_FIELDS) {
    const c = r[field] as Concept | undefined;
    const coding = c?.coding?.[0];
    if (coding) return [coding.system ?? '', coding.code ?? '', coding.display ?? ''].join('|');
    if (c?.text) return `||${c.text}`;
  }
  return '';
}

function valueOf(r: FhirResource): string {
  const q = r.valueQuantity as { value?: number; unit?: string; code?: string } | undefined;
  if (q?.value !== undefined) return [q.value, q.unit ?? q.code].filter((x) => x !== undefined && x !== '').join(' ');
  if (typeof r.valueString === 'string') return r.valueString;
  const c = r.valueCodeableConcept as Concept | undefined;
  if (c) return c.text ?? c.coding?.[0]?.display ?? c.coding?.[0]?.code ?? '';
  return '';
}

function yearOf(r: FhirResource): string {
  for (const field of DATE_FIELDS) {
    const v = r[field];
    const text = typeof v === 'string' ? v : typeof (v as { start?: unknown })?.start === 'string' ? (v as { start: string }).start : null;
    const year = text ? /^(\d{4})/.exec(text)?.[1] : undefined;
    if (year) return year;
  }
  return '';
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The dataset as CSV (CSV_COLUMNS), CRLF line ends, a header row first. */
export function toCsv(resources: readonly FhirResource[]): string {
  const rows = [CSV_COLUMNS as readonly string[], ...resources.map((r) => [r.resourceType, r.id ?? '', codeOf(r), valueOf(r), yearOf(r)])];
  return `${rows.map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------------------------------------
// Money

export interface TokenInfo {
  address: Address;
  symbol: string;
  decimals: number;
}

export const money = (amount: bigint, token: Pick<TokenInfo, 'symbol' | 'decimals'>) => `${formatUnits(amount, token.decimals)} ${token.symbol}`;

/** A price typed by the researcher ("5", "2.5") in the token's base units, or why not. */
export function parsePrice(text: string, decimals: number): { amount: bigint } | { problem: string } {
  const t = text.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) return { problem: 'The price per participant is a number such as 5 or 2.50' };
  if ((t.split('.')[1]?.length ?? 0) > decimals) return { problem: `The price has at most ${decimals} decimals` };
  const amount = parseUnits(t, decimals);
  if (amount === 0n) return { problem: 'A study pays its participants: the price must be more than 0' };
  return { amount };
}

export async function tokenInfo(client: PublicClient, address: Address): Promise<TokenInfo> {
  const [symbol, decimals] = await Promise.all([
    client.readContract({ address, abi: erc20Abi, functionName: 'symbol' }),
    client.readContract({ address, abi: erc20Abi, functionName: 'decimals' }),
  ]);
  return { address, symbol, decimals };
}

// ---------------------------------------------------------------------------------------------
// The server and the chain

/** Stores a study document (signing in first if needed); its hash is what goes on chain. */
export async function storeStudyDocument(
  wagmi: Config,
  account: Address,
  chainId: number,
  body: { kind: 'text'; text: string } | { kind: 'metadata'; metadata: StudyMetadata },
): Promise<{ hash: Hex; cid: string }> {
  await ensureSession(wagmi, account, chainId);
  const res = await fetch('/api/documents', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = (await res.json().catch(() => null)) as ({ hash: Hex; cid: string } & { error?: { code: string; message: string } }) | null;
  if (!res.ok || !answer || answer.error) throw new ApiCallError(answer?.error?.code ?? `HTTP_${res.status}`, answer?.error?.message ?? `The server answered ${res.status}`);
  return answer;
}

/** A study's title from its stored description, or null when the server cannot show it. */
export async function studyTitle(metadataHash: Hex): Promise<string | null> {
  const res = await fetch(`/api/documents/${metadataHash}?kind=metadata`).catch(() => null);
  if (!res?.ok) return null;
  const body = (await res.json().catch(() => null)) as { metadata?: StudyMetadata } | null;
  return body?.metadata?.title ?? null;
}

type SigningWallet = WalletClient<Transport, Chain | undefined, Account>;

/**
 * The connected wallet as the sdk's market and study functions take it. Its account signs typed
 * data through wagmi, so a purchase release's request (signed with `account.signTypedData`) is
 * signed by the browser wallet, or in the page for a development account.
 */
export async function walletContext(wagmi: Config, chainId: number, account: Address): Promise<{ wallet: SigningWallet; client: PublicClient }> {
  const wallet = (await getWalletClient(wagmi, { chainId, account })) as unknown as SigningWallet;
  const signing = {
    ...wallet.account,
    signTypedData: (typed: Parameters<typeof signTypedData>[1]) => signTypedData(wagmi, { ...typed, account }),
  } as unknown as Account;
  return { wallet: { ...wallet, account: signing } as SigningWallet, client: chainClient(wagmi, chainId) };
}

export interface MyStudy {
  study: StudyOnChain;
  title: string | null;
  active: number;
}

/** The studies `researcher` registered, newest first, each with its title and active participants (StudyMarket.activeCountOf). */
export async function myStudies(client: PublicClient, contracts: { StudyRegistry: Address; StudyMarket: Address | null }, researcher: Address): Promise<MyStudy[]> {
  const count = await client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'studyCount' });
  const ids = Array.from({ length: Number(count) }, (_, i) => count - BigInt(i));
  const studies = (await Promise.all(ids.map((id) => readStudy(client, contracts, id)))).filter(
    (s): s is StudyOnChain => s !== undefined && getAddress(s.researcher) === getAddress(researcher),
  );
  return Promise.all(
    studies.map(async (study) => ({
      study,
      title: await studyTitle(study.metadataHash),
      active: contracts.StudyMarket
        ? await client.readContract({ address: contracts.StudyMarket, abi: studyMarketAbi, functionName: 'activeCountOf', args: [study.studyId] })
        : 0,
    })),
  );
}

/** The purchases `buyer` made, newest first, as stored now (a Purchased event found, its current status read). */
export async function myPurchases(client: PublicClient, market: Address, buyer: Address, fromBlock: bigint): Promise<PurchaseOnChain[]> {
  const events = await client.getContractEvents({ address: market, abi: studyMarketAbi, eventName: 'Purchased', args: { buyer }, fromBlock, toBlock: 'latest' });
  const ids = [...new Set(events.map((e) => e.args.purchaseId!))].sort((a, b) => (a < b ? 1 : -1));
  const read = await Promise.all(ids.map((id) => readPurchase(client, { StudyMarket: market }, id)));
  return read.filter((p): p is PurchaseOnChain => p !== undefined);
}

/** Where a release is, for the page's status region. */
export type ReleaseStage = 'keys' | 'gateways' | 'signatures' | 'confirmed' | 'released' | 'opened';

export const RELEASE_STAGE_WORDS: Record<ReleaseStage, (members: number) => string> = {
  keys: () => 'Deriving your decryption key from a wallet signature…',
  gateways: () => 'Asking the release committee’s gateways…',
  signatures: (m) => `${m} committee members signed the confirmation; confirming the purchase on chain…`,
  confirmed: () => 'Purchase confirmed on chain (the escrow is now the cohort’s); asking for the shares…',
  released: (m) => `${m} committee members released their shares; decrypting in this browser…`,
  opened: () => 'Decrypted in this browser.',
};

/**
 * Has the committee release a purchase to a key derived from the wallet and opens every extract
 * here. A pending purchase is confirmed on chain first (the wallet sends it). Asking again for a
 * confirmed purchase gives the same extracts.
 */
export async function releasePurchase(o: {
  wagmi: Config;
  chainId: number;
  account: Address;
  contracts: { StudyMarket: Address; StudyRegistry: Address; ConsentToken: Address; ReleaseCommittee: Address };
  gatewayUrls: readonly string[];
  purchase: PurchaseOnChain;
  onStage: (stage: ReleaseStage, members: number) => void;
}): Promise<{ resources: FhirResource[]; extracts: number; releaseHash: Hex }> {
  o.onStage('keys', 0);
  const keys = await requesterKeys(o.wagmi, o.account, o.chainId);
  const { wallet, client } = await walletContext(o.wagmi, o.chainId, o.account);
  const ctx: MarketContext = { wallet, client, contracts: { StudyMarket: o.contracts.StudyMarket, StudyRegistry: o.contracts.StudyRegistry } };
  o.onStage('gateways', 0);
  const committee = await readCommittee(client, o.contracts.ReleaseCommittee);
  const members = new Set(committee.members.map((m) => m.id.toLowerCase()));
  const refs = (await gatewayRefs(o.gatewayUrls)).filter((r) => members.has(r.member.toLowerCase()));
  if (refs.length < committee.threshold) {
    throw new ApiCallError('COMMITTEE_SHORT', `Only ${refs.length} of the gateways answered, and the release needs ${committee.threshold} committee members`);
  }
  const released = await requestPurchaseRelease({
    ctx,
    gateways: refs,
    purchaseId: o.purchase.purchaseId,
    buyerKey: keys.publicKey,
    threshold: committee.threshold,
    onProgress: (stage, { members: m }) => o.onStage(stage, m),
  });
  const extracts = await openPurchasedExtracts({
    buyer: o.account,
    buyerSecretKey: keys.secretKey,
    purchaseId: o.purchase.purchaseId,
    studyId: o.purchase.studyId,
    threshold: committee.threshold,
    released: released.released,
    store: gatewayCiphertexts(refs),
  });
  extracts.sort((a, b) => (a.extractHash < b.extractHash ? -1 : a.extractHash > b.extractHash ? 1 : 0));
  o.onStage('opened', committee.threshold);
  return { resources: extracts.flatMap((e) => e.resources), extracts: extracts.length, releaseHash: released.releaseHash };
}
