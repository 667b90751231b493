import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { ForbiddenError, InvalidRequestError, NotFoundError, withRequestMemo } from '../runtime';
import { verifyBearer, type Caller, type Role } from './auth';
import type { CallerRateLimit } from './rateLimit';
import type { PortalState } from './requestContext';

/**
 * Every route is declared once, with its roles and zod schemas; the same declaration registers the
 * Koa handler (auth, tenant check, validation) and feeds the OpenAPI document.
 */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  caller: Caller;
  ctx: Context & { state: PortalState };
}

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  path: string;
  /** Unique name of the operation in the OpenAPI document (and the generated client). */
  operationId: string;
  /** The area the route belongs to, for grouping in the docs. */
  tag: RouteTag;
  summary: string;
  roles: readonly Role[];
  params?: P;
  query?: Q;
  body?: B;
  /** Multipart routes leave parsing to the handler; these are the parts, for the OpenAPI document. */
  rawBody?: Record<string, Record<string, unknown>>;
  /** Status of a successful answer (default 200). */
  status?: number;
  /** Shape of a successful answer (null: no body, 204); see responseSchemas.ts. */
  response: z.ZodType | null;
  /** Other successful statuses with their shapes (e.g. 201 for a created customer). */
  otherResponses?: Record<number, z.ZodType>;
  /** Who is calling, when not (only) from the Authorization header (the event stream's ticket). */
  authenticate?: (ctx: Context & { state: PortalState }) => Promise<Caller>;
  /** A successful answer that is not JSON (its content type, for the OpenAPI document). */
  produces?: string;
  /** More to say in the OpenAPI document than the summary and roles. */
  description?: string;
  /**
   * Reads the handler will need (runtime/requestMemo), started beside the limiter and the caller's
   * status check; their answers are used only once both checks passed. Not started for a caller
   * this process refused lately (CallerRateLimit.refusedLately), so being over the limit costs no
   * reads. `input` is the request's path and query when both are valid (null otherwise).
   */
  prefetch?: (caller: Caller, input: { params: z.output<P>; query: z.output<Q> } | null) => void;
  handler: (input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>;
}

export const ROUTE_TAGS = ['host sync', 'administrators', 'chats', 'community', 'me', 'operators', 'jobs', 'web client'] as const;
export type RouteTag = (typeof ROUTE_TAGS)[number];

export type AnyRouteSpec = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

export function defineRoute<P extends z.ZodType = z.ZodObject<{}>, Q extends z.ZodType = z.ZodObject<{}>, B extends z.ZodType = z.ZodUnknown>(
  spec: RouteSpec<P, Q, B>,
): AnyRouteSpec {
  return spec as unknown as AnyRouteSpec;
}

/** Host platform ids in paths: non-empty, bounded, printable. */
export const hostIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

export function registerRoutes(
  router: Router,
  routes: readonly AnyRouteSpec[],
  opts: { jwt: Parameters<typeof verifyBearer>[1]; rateLimit: CallerRateLimit; callerStatus: (caller: Caller) => Promise<void> },
): void {
  for (const route of routes) {
    router[route.method](route.path, (ctx) => withRequestMemo(async () => {
      const caller = route.authenticate
        ? await route.authenticate(ctx as RouteInput<unknown, unknown, unknown>['ctx'])
        : verifyBearer(ctx.get('authorization') || undefined, opts.jwt);
      // Operators are the installation's own staff, and their health checks must answer while
      // Redis (the limiter's store) is down. The limiter (Redis) and the caller's status (MongoDB)
      // are asked side by side; both must pass before anything else runs, the limiter's answer first.
      if (!route.roles.includes(caller.role)) {
        if (caller.role !== 'operator') await opts.rateLimit(caller);
        throw new ForbiddenError();
      }
      // Path and query are parsed once, here; a prefetch gets them when both are valid, and an
      // invalid one is answered where it always was, after the checks.
      const parsedParams = parseInput(route.params, ctx.params, 'path');
      const parsedQuery = parseInput(route.query, ctx.query, 'query');
      if (route.prefetch && !(caller.role !== 'operator' && opts.rateLimit.refusedLately(caller))) {
        startPrefetch(route, caller, 'error' in parsedParams || 'error' in parsedQuery ? null : { params: parsedParams.data, query: parsedQuery.data });
      }
      const limiting = caller.role !== 'operator' ? opts.rateLimit(caller) : Promise.resolve();
      const checking = opts.callerStatus(caller);
      const [limited, status] = await Promise.allSettled([limiting, checking]);
      if (limited.status === 'rejected') throw limited.reason;
      if (status.status === 'rejected') throw status.reason;
      const params = valueOf(parsedParams);
      // A token of network A never sees network B: such ids are simply not found.
      const nid = (params as { nid?: unknown }).nid;
      if (typeof nid === 'string' && caller.role !== 'operator' && caller.networkId !== nid) {
        throw new NotFoundError('network');
      }
      const query = valueOf(parsedQuery);
      const body = route.rawBody ? undefined : parse(route.body, (ctx.request as { body?: unknown }).body, 'body');
      ctx.state.caller = caller;
      const result = await route.handler({ params, query, body, caller, ctx: ctx as RouteInput<unknown, unknown, unknown>['ctx'] });
      if (ctx.body === undefined || ctx.body === null) {
        ctx.status = route.status ?? (result === undefined ? 204 : 200);
        if (result !== undefined) ctx.body = result;
      }
    }));
  }
}

/** A prefetch only starts reads: one that throws leaves the handler to read for itself. */
function startPrefetch(route: AnyRouteSpec, caller: Caller, input: { params: unknown; query: unknown } | null): void {
  try {
    route.prefetch!(caller, input);
  } catch {
    // the handler reads for itself
  }
}

type ParsedInput = { data: any } | { error: InvalidRequestError };

/** One part of the request checked against its schema: its value, or the 400 to answer. */
function parseInput(schema: z.ZodType | undefined, value: unknown, where: 'path' | 'query' | 'body'): ParsedInput {
  if (!schema) return { data: where === 'body' ? undefined : {} };
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return { data: result.data };
  const issue = result.error.issues[0]!;
  // An unknown key is named itself, so the caller sees which field to drop.
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const field = path.length > 0 ? path.join('.') : where;
  return { error: new InvalidRequestError(field, issue.message) };
}

function valueOf(parsed: ParsedInput): any {
  if ('error' in parsed) throw parsed.error;
  return parsed.data;
}

function parse(schema: z.ZodType | undefined, value: unknown, where: 'path' | 'query' | 'body'): any {
  return valueOf(parseInput(schema, value, where));
}

/** The OpenAPI 3.1 document of every declared route. */
export function openApiDocument(routes: readonly AnyRouteSpec[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  const jsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
  const outputSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'output', unrepresentable: 'any' });
  const answer = (s: z.ZodType | null) =>
    s ? { description: 'success', content: { 'application/json': { schema: outputSchema(s) } } } : { description: 'success, no body' };
  for (const route of routes) {
    // `:name` is a parameter; an escaped colon (`customers\\:import`) is part of the path.
    const path = route.path.replace(/(?<!\\):([A-Za-z]+)/g, '{$1}').replace(/\\/g, '');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', route.params],
      ['query', route.query],
    ] as const) {
      const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
      for (const [name, s] of Object.entries(shape)) {
        parameters.push({ name, in: where, required: where === 'path' || !s.safeParse(undefined).success, schema: jsonSchema(s) });
      }
    }
    paths[path] ??= {};
    paths[path][route.method] = {
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      description: `Roles: ${route.roles.join(', ')}${route.description ? `. ${route.description}` : ''}`,
      security: [{ bearer: [] }],
      parameters,
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } } : {}),
      ...(route.rawBody
        ? { requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: route.rawBody } } } } }
        : {}),
      responses: {
        [String(route.status ?? (route.response || route.produces ? 200 : 204))]: route.produces
          ? { description: 'success', content: { [route.produces]: { schema: { type: 'string' } } } }
          : answer(route.response),
        ...Object.fromEntries(Object.entries(route.otherResponses ?? {}).map(([status, s]) => [status, answer(s)])),
        default: { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info,
    tags: ROUTE_TAGS.map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
            },
          },
        },
      },
    },
  };
}
