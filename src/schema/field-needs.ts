/**
 * What a field needs, declared once at the field: `select` (the columns of its parent row it
 * reads) and `cost` (its extra weight in the cost model). A tiny Pothos plugin moves both into
 * the field's `extensions`, so the projection (src/schema/projection.ts) and the cost model
 * (src/http/cost.ts) read them from the built schema; no table elsewhere repeats them.
 *
 * A type whose rows are projected declares `select` too: the columns every read of it includes
 * (its key, the owner column `ownedBy` checks). On such a type, every field but `id` must
 * declare its columns (`select: []` when it needs only the key): the schema refuses to build
 * otherwise, so a new field cannot silently read a column the projection never fetched.
 */
import SchemaBuilder, {
  BasePlugin,
  type FieldNullability,
  type InputFieldMap,
  type PothosOutputFieldConfig,
  type PothosTypeConfig,
  type SchemaTypes,
  type TypeParam,
} from '@pothos/core';
import { type GraphQLSchema, isObjectType } from 'graphql';

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      fieldNeeds: FieldNeedsPlugin<Types>;
    }
    interface FieldOptions<
      Types extends SchemaTypes = SchemaTypes,
      ParentShape = unknown,
      Type extends TypeParam<Types> = TypeParam<Types>,
      Nullable extends FieldNullability<Type> = FieldNullability<Type>,
      Args extends InputFieldMap = InputFieldMap,
      ResolveShape = unknown,
      ResolveReturnShape = unknown,
    > {
      /** The columns of the parent row this field reads; `[]`: only the type's own `select`. */
      select?: readonly (keyof ParentShape & string)[];
      /** Extra cost-model weight of one call (a count, a vector pass, a model run); default 0. */
      cost?: number;
    }
    interface ObjectTypeOptions<Types extends SchemaTypes = SchemaTypes, Shape = unknown> {
      /** The type's rows are projected: these columns are read always, and every field declares its own. */
      select?: readonly (keyof Shape & string)[];
    }
  }
}

/** The extension keys the plugin writes; readers go through the functions below. */
const SELECT = 'select';
const COST = 'cost';

class FieldNeedsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onTypeConfig(typeConfig: PothosTypeConfig): PothosTypeConfig {
    const select = (typeConfig.pothosOptions as { select?: readonly string[] }).select;
    if (typeConfig.kind !== 'Object' || !select) return typeConfig;
    return { ...typeConfig, extensions: { ...typeConfig.extensions, [SELECT]: select } };
  }

  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const { select, cost } = fieldConfig.pothosOptions as { select?: readonly string[]; cost?: number };
    if (select === undefined && cost === undefined) return fieldConfig;
    return {
      ...fieldConfig,
      extensions: {
        ...fieldConfig.extensions,
        ...(select === undefined ? {} : { [SELECT]: select }),
        ...(cost === undefined ? {} : { [COST]: cost }),
      },
    };
  }

  override afterBuild(schema: GraphQLSchema): GraphQLSchema {
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || !type.extensions[SELECT]) continue;
      for (const field of Object.values(type.getFields())) {
        if (field.name !== 'id' && !field.extensions[SELECT]) {
          throw new Error(`${type.name}.${field.name} reads projected rows but declares no columns (select)`);
        }
      }
    }
    return schema;
  }
}

const pluginName = 'fieldNeeds';
SchemaBuilder.registerPlugin(pluginName, FieldNeedsPlugin);
export default pluginName;

type Extensions = { readonly extensions: Readonly<Record<string, unknown>> };

/** The columns a field or a projected type declared (undefined: none declared). */
export function declaredColumns(node: Extensions): readonly string[] | undefined {
  return node.extensions[SELECT] as readonly string[] | undefined;
}

/** A field's declared extra cost weight (0 when it declares none). */
export function declaredCost(field: Extensions): number {
  return (field.extensions[COST] as number | undefined) ?? 0;
}

/**
 * A field showing one column of its row, declared once: `t.string(column('name'))` reads
 * `name`, asks the projection for it, and fails loudly if the projection did not read it.
 */
export function columnOf<R extends object>() {
  return <C extends keyof R & string>(c: C) => ({
    select: [c] as const,
    resolve: (row: R) => must(row[c] as Exclude<R[C], undefined> | undefined, c),
  });
}

/** A column the projection should have read is missing: a bug, reported as an internal error. */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`projection did not read ${what}`);
  return value;
}
