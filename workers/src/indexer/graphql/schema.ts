// The GraphQL API of the embedded indexer, built from subgraph/schema.graphql the way graph-node
// builds a subgraph's API: per entity a lookup `patient(id)` and a list `patients(first, skip,
// orderBy, orderDirection, where)`, `@derivedFrom` fields as lists, and `_meta`. Clients use the
// same queries here and against The Graph (SUBGRAPH_URL).
import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLError,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  Kind,
  type GraphQLFieldConfig,
  type GraphQLFieldConfigArgumentMap,
  type GraphQLInputFieldConfigMap,
  type GraphQLInputType,
  type GraphQLOutputType,
  type ValueNode,
} from 'graphql';
import type { BlockRef, EntityName, EntityValue, Filter, FilterOp, ListQuery, Store } from '../../db/store.ts';
import type { EntityModel, FieldModel, ScalarName } from '../entities.ts';

export const FIRST_DEFAULT = 100;
export const FIRST_MAX = 1000;

export type MetaSource = () => {
  checkpoint: BlockRef | null;
  hasIndexingErrors: boolean;
  /** What `_meta.deployment` answers: the indexed contract, as graph-node answers the subgraph id. */
  deployment: string;
};

const HEX = /^0x([0-9a-fA-F]{2})*$/;

function parseBytes(value: unknown): string {
  if (typeof value !== 'string' || !HEX.test(value)) {
    throw new GraphQLError(`Bytes must be a 0x-prefixed hex string with an even number of digits, got ${JSON.stringify(value)}`);
  }
  return value.toLowerCase();
}

export const BytesScalar = new GraphQLScalarType({
  name: 'Bytes',
  description: 'Bytes as a lowercase 0x-prefixed hex string.',
  serialize: (value) => parseBytes(value),
  parseValue: parseBytes,
  parseLiteral(ast: ValueNode) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Bytes must be a string', { nodes: ast });
    return parseBytes(ast.value);
  },
});

function parseBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new GraphQLError(`BigInt must be a decimal integer (as a string), got ${JSON.stringify(value)}`);
}

export const BigIntScalar = new GraphQLScalarType({
  name: 'BigInt',
  description: 'An integer of any size, as a decimal string.',
  serialize: (value) => parseBigInt(value).toString(),
  parseValue: parseBigInt,
  parseLiteral(ast: ValueNode) {
    if (ast.kind !== Kind.STRING && ast.kind !== Kind.INT) throw new GraphQLError('BigInt must be a string', { nodes: ast });
    return parseBigInt(ast.value);
  },
});

const OrderDirection = new GraphQLEnumType({
  name: 'OrderDirection',
  values: { asc: { value: 'asc' }, desc: { value: 'desc' } },
});

const BlockHeight = new GraphQLInputObjectType({
  name: 'Block_height',
  description: 'Only the latest indexed block can be queried: time travel is not kept by the embedded indexer.',
  fields: { hash: { type: BytesScalar }, number: { type: GraphQLInt }, number_gte: { type: GraphQLInt } },
});

const BlockType = new GraphQLObjectType({
  name: '_Block_',
  fields: { hash: { type: BytesScalar }, number: { type: new GraphQLNonNull(GraphQLInt) }, timestamp: { type: GraphQLInt } },
});

const MetaType = new GraphQLObjectType({
  name: '_Meta_',
  description: 'The indexing status, like graph-node `_meta`.',
  fields: {
    block: { type: new GraphQLNonNull(BlockType) },
    deployment: { type: new GraphQLNonNull(GraphQLString) },
    hasIndexingErrors: { type: new GraphQLNonNull(GraphQLBoolean) },
  },
});

const scalarTypes: Record<ScalarName, GraphQLScalarType> = {
  ID: GraphQLID,
  Bytes: BytesScalar,
  BigInt: BigIntScalar,
  Int: GraphQLInt,
  String: GraphQLString,
  Boolean: GraphQLBoolean,
};

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** graph-node's collection names: `Patient` → `patients`, `PatientRegistered` → `patientRegistereds`. */
export function pluralName(entity: string): string {
  const name = lowerFirst(entity);
  if (/(s|x|z|ch|sh)$/.test(name)) return `${name}es`;
  if (/[^aeiou]y$/.test(name)) return `${name.slice(0, -1)}ies`;
  return `${name}s`;
}

type Resolved = Record<string, EntityValue>;
type FilterField = { field: string; op: FilterOp; normalize: (v: unknown) => EntityValue };

const OPS: Array<{ suffix: string; op: FilterOp; list?: boolean }> = [
  { suffix: '', op: 'eq' },
  { suffix: '_not', op: 'not' },
  { suffix: '_gt', op: 'gt' },
  { suffix: '_lt', op: 'lt' },
  { suffix: '_gte', op: 'gte' },
  { suffix: '_lte', op: 'lte' },
  { suffix: '_in', op: 'in', list: true },
  { suffix: '_not_in', op: 'not_in', list: true },
];

export function buildGraphQLSchema(options: { models: readonly EntityModel[]; store: Store; meta: MetaSource }): GraphQLSchema {
  const { models, store, meta } = options;
  const byName = new Map(models.map((m) => [m.name, m]));
  const objectTypes = new Map<EntityName, GraphQLObjectType>();
  const filterTypes = new Map<EntityName, GraphQLInputObjectType>();
  const filterFields = new Map<EntityName, Map<string, FilterField>>();
  const orderTypes = new Map<EntityName, GraphQLEnumType>();

  function checkBlock(block: { hash?: string; number?: number; number_gte?: number } | undefined): void {
    if (!block) return;
    const at = meta().checkpoint;
    const indexed = at?.number ?? -1;
    if (block.number_gte !== undefined && block.number_gte !== null && indexed < block.number_gte) {
      throw new GraphQLError(
        `The indexer has only indexed up to block number ${indexed} and data for block number ${block.number_gte} is therefore not yet available`,
      );
    }
    const wantsNumber = block.number !== undefined && block.number !== null && block.number !== indexed;
    const wantsHash = block.hash !== undefined && block.hash !== null && block.hash !== at?.hash;
    if (wantsNumber || wantsHash) {
      throw new GraphQLError(`The embedded indexer only answers for its latest block (${indexed}); it keeps no history for time travel`);
    }
  }

  function idNormalizer(entity: EntityName): (v: unknown) => EntityValue {
    const idScalar = byName.get(entity)!.idScalar;
    return idScalar === 'Bytes'
      ? (v) => (typeof v === 'string' && HEX.test(v) ? v.toLowerCase() : String(v))
      : (v) => String(v);
  }

  function filterType(model: EntityModel): GraphQLInputObjectType {
    const existing = filterTypes.get(model.name);
    if (existing) return existing;
    const lookup = new Map<string, FilterField>();
    filterFields.set(model.name, lookup);
    const type: GraphQLInputObjectType = new GraphQLInputObjectType({
      name: `${model.name}_filter`,
      fields: () => {
        const fields: GraphQLInputFieldConfigMap = {};
        for (const f of model.fields) {
          if (f.kind === 'derived' || (f.kind === 'scalar' && f.list)) continue;
          // References are filtered by the referenced id, typed String as in graph-node.
          const base: GraphQLInputType = f.kind === 'scalar' ? scalarTypes[f.scalar] : GraphQLString;
          const normalize = f.kind === 'reference' ? idNormalizer(f.entity) : (v: unknown) => v as EntityValue;
          const ordered = !(f.kind === 'scalar' && f.scalar === 'Boolean');
          for (const { suffix, op, list } of OPS) {
            if (!ordered && ['gt', 'lt', 'gte', 'lte'].includes(op)) continue;
            const name = `${f.name}${suffix}`;
            fields[name] = { type: list ? new GraphQLList(new GraphQLNonNull(base)) : base };
            lookup.set(name, { field: f.name, op, normalize });
          }
        }
        fields.and = { type: new GraphQLList(type) };
        fields.or = { type: new GraphQLList(type) };
        return fields;
      },
    });
    filterTypes.set(model.name, type);
    return type;
  }

  function orderType(model: EntityModel): GraphQLEnumType {
    const existing = orderTypes.get(model.name);
    if (existing) return existing;
    const values: Record<string, { value: string }> = {};
    for (const f of model.fields) if (f.kind !== 'derived' && !(f.kind === 'scalar' && f.list)) values[f.name] = { value: f.name };
    const type = new GraphQLEnumType({ name: `${model.name}_orderBy`, values });
    orderTypes.set(model.name, type);
    return type;
  }

  function toFilters(entity: EntityName, where: Record<string, unknown> | undefined | null): Filter[] {
    if (!where) return [];
    const lookup = filterFields.get(entity)!;
    const filters: Filter[] = [];
    for (const [key, value] of Object.entries(where)) {
      if (value === undefined || value === null) continue;
      if (key === 'and' || key === 'or') {
        const parts = (value as Array<Record<string, unknown>>).map((w) => ({ and: toFilters(entity, w) }));
        filters.push(key === 'and' ? { and: parts } : { or: parts });
        continue;
      }
      const spec = lookup.get(key);
      if (!spec) throw new GraphQLError(`Unknown filter ${key}`);
      const normalized = Array.isArray(value) ? value.map(spec.normalize) : spec.normalize(value);
      filters.push({ field: spec.field, op: spec.op, value: normalized });
    }
    return filters;
  }

  const listArgs = (model: EntityModel): GraphQLFieldConfigArgumentMap => ({
    skip: { type: GraphQLInt, defaultValue: 0 },
    first: { type: GraphQLInt, defaultValue: FIRST_DEFAULT },
    orderBy: { type: orderType(model) },
    orderDirection: { type: OrderDirection },
    where: { type: filterType(model) },
  });

  type ListArgs = {
    skip?: number;
    first?: number;
    orderBy?: string;
    orderDirection?: 'asc' | 'desc';
    where?: Record<string, unknown> | null;
  };

  function listQuery(entity: EntityName, args: ListArgs, extra: Filter[] = []): ListQuery {
    const first = args.first ?? FIRST_DEFAULT;
    const skip = args.skip ?? 0;
    if (!Number.isInteger(first) || first < 0 || first > FIRST_MAX) {
      throw new GraphQLError(`The \`first\` argument must be between 0 and ${FIRST_MAX}, but is ${first}`);
    }
    if (!Number.isInteger(skip) || skip < 0) throw new GraphQLError(`The \`skip\` argument must be at least 0, but is ${skip}`);
    return {
      first,
      skip,
      where: [...toFilters(entity, args.where), ...extra],
      ...(args.orderBy ? { orderBy: args.orderBy } : {}),
      ...(args.orderDirection ? { orderDirection: args.orderDirection } : {}),
    };
  }

  function objectType(model: EntityModel): GraphQLObjectType {
    const existing = objectTypes.get(model.name);
    if (existing) return existing;
    const type = new GraphQLObjectType({
      name: model.name,
      ...(model.description ? { description: model.description } : {}),
      fields: () => {
        const fields: Record<string, GraphQLFieldConfig<Resolved, unknown>> = {};
        for (const f of model.fields) fields[f.name] = outputField(f);
        return fields;
      },
    });
    objectTypes.set(model.name, type);
    return type;
  }

  function outputField(f: FieldModel): GraphQLFieldConfig<Resolved, unknown> {
    const description = f.description ? { description: f.description } : {};
    if (f.kind === 'scalar') {
      const t: GraphQLOutputType = f.list ? new GraphQLList(new GraphQLNonNull(scalarTypes[f.scalar])) : scalarTypes[f.scalar];
      return { ...description, type: f.nonNull ? new GraphQLNonNull(t) : t };
    }
    const target = byName.get(f.entity)!;
    if (f.kind === 'reference') {
      const t: GraphQLOutputType = objectType(target);
      return {
        ...description,
        type: f.nonNull ? new GraphQLNonNull(t) : t,
        resolve: (parent) => {
          const id = parent[f.name];
          return typeof id === 'string' ? store.findById(target.name, id) : null;
        },
      };
    }
    return {
      ...description,
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(objectType(target)))),
      args: listArgs(target),
      resolve: (parent, args: ListArgs) =>
        store.findMany(
          target.name,
          listQuery(target.name, args, [{ field: f.derivedFrom, op: 'eq', value: parent.id ?? null }]),
        ),
    };
  }

  const queryFields: Record<string, GraphQLFieldConfig<unknown, unknown>> = {};
  for (const model of models) {
    const type = objectType(model);
    const normalizeId = idNormalizer(model.name);
    queryFields[lowerFirst(model.name)] = {
      type,
      args: { id: { type: new GraphQLNonNull(GraphQLID) }, block: { type: BlockHeight } },
      resolve: (_root, args: { id: string; block?: Parameters<typeof checkBlock>[0] }) => {
        checkBlock(args.block);
        return store.findById(model.name, String(normalizeId(args.id)));
      },
    };
    queryFields[pluralName(model.name)] = {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(type))),
      args: { ...listArgs(model), block: { type: BlockHeight } },
      resolve: (_root, args: ListArgs & { block?: Parameters<typeof checkBlock>[0] }) => {
        checkBlock(args.block);
        return store.findMany(model.name, listQuery(model.name, args));
      },
    };
  }
  queryFields._meta = {
    type: MetaType,
    args: { block: { type: BlockHeight } },
    resolve: (_root, args: { block?: Parameters<typeof checkBlock>[0] }) => {
      checkBlock(args.block);
      const m = meta();
      return {
        block: { number: m.checkpoint?.number ?? 0, hash: m.checkpoint?.hash ?? null, timestamp: m.checkpoint?.timestamp ?? null },
        deployment: m.deployment,
        hasIndexingErrors: m.hasIndexingErrors,
      };
    },
  };

  return new GraphQLSchema({ query: new GraphQLObjectType({ name: 'Query', fields: queryFields }) });
}
