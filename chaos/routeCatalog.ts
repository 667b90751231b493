/**
 * The portal API's routes as its own OpenAPI document (GET /v1/openapi.json) describes them: the
 * chaos scenarios take every route from there, so a route added later is covered without editing.
 */
export interface CatalogRoute {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** OpenAPI template, e.g. /v1/chats/{chatId}/messages */
  template: string;
  pathParams: string[];
  queryParams: string[];
  roles: string[];
  bodySchema: JsonSchema | null;
  multipart: boolean;
}

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  const?: unknown;
};

export async function loadRouteCatalog(baseUrl: string): Promise<CatalogRoute[]> {
  const res = await fetch(`${baseUrl}/v1/openapi.json`);
  if (!res.ok) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
  const doc = (await res.json()) as { paths: Record<string, Record<string, any>> };
  const routes: CatalogRoute[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? []) as Array<{ name: string; in: string }>;
      const pathParams = params.filter((p) => p.in === 'path').map((p) => p.name);
      // A literal ":import" in the route's path comes out of the document as "{import}".
      const template = path.replace(/\{([^}]+)\}/g, (whole, name: string) => (pathParams.includes(name) ? whole : `:${name}`));
      const content = op.requestBody?.content ?? {};
      routes.push({
        method: method.toUpperCase() as CatalogRoute['method'],
        template,
        pathParams,
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        roles: /Roles: (.*)$/.exec(String(op.description ?? ''))?.[1]?.split(/,\s*/) ?? [],
        bodySchema: content['application/json']?.schema ?? null,
        multipart: Boolean(content['multipart/form-data']),
      });
    }
  }
  return routes;
}

/** The template with its parameters filled in (values are URL-encoded here unless raw). */
export function fillPath(route: CatalogRoute, values: Record<string, string>, raw = false): string {
  return route.template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = values[name] ?? 'x';
    return raw ? v : encodeURIComponent(v);
  });
}

/**
 * A body the route's schema accepts, built from the schema: string fields take the value `pick`
 * gives for their name (ids of a chosen network), else a plain example.
 */
export function exampleFromSchema(schema: JsonSchema | undefined, pick: (field: string) => unknown, field = ''): unknown {
  if (!schema) return undefined;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return exampleFromSchema(alternatives.find((s) => s.type !== 'null') ?? alternatives[0], pick, field);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(schema.properties ?? {})) {
        if (!(schema.required ?? []).includes(name) && pick(name) === undefined) continue;
        out[name] = exampleFromSchema(sub, pick, name);
      }
      return out;
    }
    case 'array':
      return schema.items ? [exampleFromSchema(schema.items, pick, field.replace(/Ids$/, 'Id'))] : [];
    case 'boolean':
      return (pick(field) as boolean | undefined) ?? true;
    case 'integer':
    case 'number':
      return (pick(field) as number | undefined) ?? Math.max(1, schema.minimum ?? 1);
    default: {
      const chosen = pick(field);
      if (typeof chosen === 'string') return chosen;
      if (schema.format === 'uri' || schema.format === 'url') return 'https://hooks.example.test/chat';
      if (schema.format === 'date-time') return new Date().toISOString();
      return 'example';
    }
  }
}
