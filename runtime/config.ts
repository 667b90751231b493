import { z } from 'zod';

/**
 * The one configuration object of every process, read from the environment once at start.
 * A missing or bad value stops the process with an error naming the key (ConfigError).
 */

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** An optional URL with one of `schemes` (as `URL.protocol` gives them) and a host; `message` names what is expected. */
function urlWithScheme(schemes: readonly string[], message: string) {
  return z
    .string()
    .refine((v) => {
      try {
        const u = new URL(v);
        return schemes.includes(u.protocol) && u.hostname !== '';
      } catch {
        return false;
      }
    }, message)
    .optional();
}

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development').describe('production in deployments: refuses the development sign-in and development tokens'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level of the JSON logs on stdout'),

    PORTAL_JWT_ALGORITHM: z.enum(['HS256', 'HS384', 'HS512', 'RS256', 'ES256']).default('HS256').describe('Algorithm of the host platform\'s portal tokens'),
    PORTAL_JWT_SECRET: optionalString.describe('HMAC secret of the portal tokens (HS* algorithms), at least 32 characters. Secret'),
    PORTAL_JWT_PUBLIC_KEY: optionalString.describe('PEM public key of the portal tokens (RS256, ES256)'),
    PORTAL_JWT_ISSUER: z.string().min(1).describe('The `iss` every portal token must carry (the host platform)'),
    PORTAL_JWT_AUDIENCE: z.string().min(1).describe('The `aud` every portal token must carry (this service)'),
    PORTAL_API_HOST: z.string().default('127.0.0.1').describe('Address the portal API listens on (behind a reverse proxy)'),
    PORTAL_API_PORT: port.default(8080).describe('Port of the portal API (also serves /chat/, /livez, /readyz)'),

    APPSERVICE_HOST: z.string().default('127.0.0.1').describe('Address the appservice listener (Synapse pushes transactions to it) listens on'),
    APPSERVICE_PORT: port.default(9000).describe('Port of the appservice listener (also serves /livez, /readyz)'),
    APPSERVICE_URL: optionalString.pipe(z.url().optional()).describe('The URL Synapse uses to reach the appservice; must match registration.yaml\'s `url` (default http://APPSERVICE_HOST:APPSERVICE_PORT)'),
    REGISTRATION_PATH: z.string().default('registration.yaml').describe('The appservice registration file Synapse loads too (tokens, namespaces), relative to the working directory'),
    WORKER_HTTP_HOST: z.string().default('127.0.0.1').describe('Address of the provisioning worker\'s probe listener (/livez, /readyz)'),
    WORKER_HTTP_PORT: port.default(9100).describe('Port of the provisioning worker\'s probe listener (0: any free port)'),
    METRICS_HOST: z.string().default('127.0.0.1').describe('Address of the process\'s Prometheus listener (/metrics)'),
    METRICS_PORT: port.default(9464).describe('Port of the process\'s Prometheus listener (/metrics, unauthenticated: keep it private; 0: any free port). One per process'),

    SYNAPSE_URL: z.url().describe('Where the service reaches Synapse\'s client-server API'),
    SYNAPSE_PUBLIC_URL: optionalString.pipe(z.url().optional()).describe('The homeserver URL handed to Matrix clients (default SYNAPSE_URL)'),
    MATRIX_DOMAIN: z
      .string()
      .regex(/^[a-z0-9.-]+(:\d+)?$/, 'a lowercase server name such as chat.example.org')
      .describe('Synapse\'s server_name (the part after the colon of Matrix ids)'),

    MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// or mongodb+srv:// URI').describe('MongoDB (or FerretDB) connection string, database included. Secret when it carries a password'),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').describe('Redis for the queues, leases, rate limits and live events. Secret when it carries a password'),

    PROVISIONING_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8).describe('Provisioning jobs one worker process runs at once'),
    SYNAPSE_MAX_REQUESTS_PER_SECOND: z.coerce.number().int().min(1).max(100000).default(200).describe('Upper bound of requests per second the workers send to Synapse'),

    RATE_LIMIT_REQUESTS: z.coerce.number().int().min(1).max(1000000).default(600).describe('Portal API requests each caller may make per window (generous: a busy portal tab stays far below)'),
    RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86400).default(60).describe('The rate limit\'s window'),
    ATTACHMENT_MAX_BYTES_CEILING: z.coerce.number().int().min(1).default(100 * 1024 * 1024).describe('The largest attachment limit an administrator may set for their network (bytes)'),
    ATTACHMENT_CHECK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120000).default(5000).describe('How long the attachment check of a Matrix client\'s upload may take'),
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: z
      .enum(['true', 'false'])
      .default('false')
      .describe('Whether webhook URLs may point into private, loopback or link-local networks (the service\'s own Synapse, Redis, cloud metadata...)'),

    PROVISIONING_LOCK_SECONDS: z.coerce.number().int().min(1).max(3600).default(30).describe('How long a worker holds a job before another worker may take it over (after a crash)'),
    PROVISIONING_STALLED_CHECK_SECONDS: z.coerce.number().int().min(1).max(3600).default(30).describe('How often workers look for jobs whose worker died (SIGKILL, lost machine)'),
    IMPORT_MAX_ROWS: z.coerce.number().int().min(1).max(1000000).default(50000).describe('Bulk import: rows per request (a larger request is refused with 413 before anything is queued)'),
    IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).default(32 * 1024 * 1024).describe('Bulk import: bytes per request'),
    SYNAPSE_ADMIN_TOKEN: optionalString.describe('Synapse admin access token for deprovisioning (deactivate, erase, redact); or set SYNAPSE_REGISTRATION_SHARED_SECRET_PATH. Secret'),
    SYNAPSE_REGISTRATION_SHARED_SECRET_PATH: optionalString.describe('File holding Synapse\'s registration shared secret, from which the service creates its own admin user (alternative to SYNAPSE_ADMIN_TOKEN)'),

    LIVE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(25000).default(20000).describe('Live event streams: a comment line this often (at most 25 s, so proxies keep idle streams open)'),
    LIVE_MAX_STREAMS_PER_CALLER: z.coerce.number().int().min(1).max(100).default(5).describe('Open streams one caller may hold at once, across every API process; one more answers 429'),
    WEB_CLIENT_DEV_LOGIN: z
      .enum(['true', 'false'])
      .default('false')
      .describe('The web client\'s development sign-in (/chat/dev-token mints a token for any person): demo and browser tests only; refused when NODE_ENV is production'),
    WEB_CLIENT_FRAME_ANCESTORS: z
      .string()
      .regex(/^(\s*(https?:\/\/[A-Za-z0-9.-]+(:\d+)?|'self')\s*)*$/, "origins such as https://portal.example.org, or 'self'")
      .default("'self'")
      .describe('Origins whose pages may show the web client in an iframe (CSP frame-ancestors), space-separated'),
    WEB_CLIENT_ALLOWED_ORIGINS: z
      .string()
      .regex(/^(\s*https?:\/\/[A-Za-z0-9.-]+(:\d+)?\s*)*$/, 'origins such as https://portal.example.org, space-separated')
      .default('')
      .describe('Host portal origins whose pages may call the API from the browser (the <coworking-chat> element on another origin): CORS for exactly these, space-separated. Empty: none'),
    SMTP_URL: optionalString
      .pipe(urlWithScheme(['smtp:', 'smtps:'], 'an smtp:// or smtps:// URL with a host, e.g. smtp://user:pass@mail.example.org:587'))
      .describe('Email notifications: the SMTP server, e.g. smtp://user:pass@mail.example.org:587 or smtps://...:465. Unset: no email is sent. Secret'),
    SMTP_DELIVERY_LOOKUP_URL: optionalString
      .pipe(urlWithScheme(['mailpit+http:', 'mailpit+https:'], 'a mailpit+http:// or mailpit+https:// URL of Mailpit\'s web UI and API, e.g. mailpit+http://127.0.0.1:8025'))
      .describe('Where the email worker asks whether the mail server accepted a message whose answer it never recorded (a crash between the final "." and the 250), by Message-ID; only Mailpit\'s API (mailpit+http://host:port) so far. Unset: such an email is not resent (at most once, window uncertain). Secret when it carries a password'),
    SMTP_DELIVERY_LOOKUP_SETTLE_SECONDS: z
      .coerce.number()
      .int()
      .min(0)
      .max(3600)
      .default(30)
      .describe('How long after a message\'s final "." the delivery lookup\'s "not there" is believed (a "." in flight may still be taken); the email is then sent again'),
    EMAIL_FROM: z.string().default('Coworking chat <notifications@localhost>').describe('The default sender of notification emails; a network\'s name is put in front of it per network'),
    EMAIL_LINK_SECRET: optionalString.describe('HMAC key of the one-click unsubscribe links (at least 32 characters); required with SMTP_URL. Secret'),
    EMAIL_LINK_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(60).describe('How long an unsubscribe link stays valid'),
    PORTAL_PUBLIC_URL: optionalString.pipe(z.url().optional()).describe('Where people reach the portal API from outside (unsubscribe links); default http://PORTAL_API_HOST:PORTAL_API_PORT'),
    WEB_CLIENT_URL: optionalString.pipe(z.url().optional()).describe('The web client\'s base URL; emails link to <base>/chat/#/chats/<chatId> (default http://PORTAL_API_HOST:PORTAL_API_PORT)'),
    EMAIL_DELAY_UNIT_MS: z
      .coerce.number()
      .int()
      .min(1)
      .max(60000)
      .default(60000)
      .describe('The length of one "minute" of delayMinutes in ms; tests set a few hundred ms, production leaves it alone'),
  })
  .superRefine((env, ctx) => {
    const hmac = env.PORTAL_JWT_ALGORITHM.startsWith('HS');
    if (hmac && !env.PORTAL_JWT_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['PORTAL_JWT_SECRET'],
        message: `required when PORTAL_JWT_ALGORITHM is ${env.PORTAL_JWT_ALGORITHM}`,
      });
    }
    if (hmac && env.PORTAL_JWT_SECRET && env.PORTAL_JWT_SECRET.length < 32) {
      ctx.addIssue({ code: 'custom', path: ['PORTAL_JWT_SECRET'], message: 'must be at least 32 characters' });
    }
    if (env.SMTP_URL && (!env.EMAIL_LINK_SECRET || env.EMAIL_LINK_SECRET.length < 32)) {
      ctx.addIssue({ code: 'custom', path: ['EMAIL_LINK_SECRET'], message: 'required with SMTP_URL, at least 32 characters (signs the unsubscribe links)' });
    }
    if (!hmac && !env.PORTAL_JWT_PUBLIC_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['PORTAL_JWT_PUBLIC_KEY'],
        message: `required when PORTAL_JWT_ALGORITHM is ${env.PORTAL_JWT_ALGORITHM}`,
      });
    }
    if (env.WEB_CLIENT_DEV_LOGIN === 'true' && env.NODE_ENV === 'production') {
      ctx.addIssue({ code: 'custom', path: ['WEB_CLIENT_DEV_LOGIN'], message: 'must not be true when NODE_ENV is production' });
    }
  });

export interface Config {
  env: 'development' | 'test' | 'production';
  logLevel: string;
  jwt: {
    algorithm: 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'ES256';
    /** HMAC secret or PEM public key, whichever the algorithm needs. */
    key: string;
    issuer: string;
    audience: string;
  };
  portalApi: { host: string; port: number };
  /** The provisioning worker's probe listener; the process's Prometheus listener. */
  workerHttp: { host: string; port: number };
  metrics: { host: string; port: number };
  appservice: { host: string; port: number; url: string; registrationPath: string };
  synapse: { url: string; publicUrl: string };
  matrixDomain: string;
  mongodbUri: string;
  redisUrl: string;
  provisioning: { concurrency: number; maxRequestsPerSecond: number };
  rateLimit: { requests: number; windowSeconds: number };
  attachments: { maxBytesCeiling: number; checkTimeoutMs: number };
  webhooks: { allowPrivateAddresses: boolean };
  jobs: { lockSeconds: number; stalledCheckSeconds: number };
  customerImport: { maxRows: number; maxBytes: number };
  synapseAdmin: { token?: string; registrationSharedSecretPath?: string };
  live: { heartbeatMs: number; maxStreamsPerCaller: number };
  webClient: { devLogin: boolean; frameAncestors: string; allowedOrigins: string[] };
  /** Email notifications; smtpUrl undefined: none are sent. */
  email: { smtpUrl?: string; deliveryLookupUrl?: string; deliveryLookupSettleSeconds: number; from: string; linkSecret?: string; linkTtlDays: number; webClientUrl: string; portalPublicUrl: string; delayUnitMs: number };
}

export class ConfigError extends Error {
  constructor(readonly key: string, detail: string) {
    super(`configuration ${key}: ${detail}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? 'environment');
    const detail = env[key] === undefined && issue.code !== 'custom' ? 'is required' : issue.message;
    throw new ConfigError(key, detail);
  }
  const e = parsed.data;
  const hmac = e.PORTAL_JWT_ALGORITHM.startsWith('HS');
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    jwt: {
      algorithm: e.PORTAL_JWT_ALGORITHM,
      key: (hmac ? e.PORTAL_JWT_SECRET : e.PORTAL_JWT_PUBLIC_KEY)!,
      issuer: e.PORTAL_JWT_ISSUER,
      audience: e.PORTAL_JWT_AUDIENCE,
    },
    portalApi: { host: e.PORTAL_API_HOST, port: e.PORTAL_API_PORT },
    workerHttp: { host: e.WORKER_HTTP_HOST, port: e.WORKER_HTTP_PORT },
    metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT },
    appservice: {
      host: e.APPSERVICE_HOST,
      port: e.APPSERVICE_PORT,
      url: e.APPSERVICE_URL ?? `http://${e.APPSERVICE_HOST}:${e.APPSERVICE_PORT}`,
      registrationPath: e.REGISTRATION_PATH,
    },
    synapse: { url: stripSlash(e.SYNAPSE_URL), publicUrl: stripSlash(e.SYNAPSE_PUBLIC_URL ?? e.SYNAPSE_URL) },
    matrixDomain: e.MATRIX_DOMAIN,
    mongodbUri: e.MONGODB_URI,
    redisUrl: e.REDIS_URL,
    provisioning: {
      concurrency: e.PROVISIONING_CONCURRENCY,
      maxRequestsPerSecond: e.SYNAPSE_MAX_REQUESTS_PER_SECOND,
    },
    rateLimit: { requests: e.RATE_LIMIT_REQUESTS, windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS },
    attachments: { maxBytesCeiling: e.ATTACHMENT_MAX_BYTES_CEILING, checkTimeoutMs: e.ATTACHMENT_CHECK_TIMEOUT_MS },
    webhooks: { allowPrivateAddresses: e.WEBHOOK_ALLOW_PRIVATE_ADDRESSES === 'true' },
    jobs: { lockSeconds: e.PROVISIONING_LOCK_SECONDS, stalledCheckSeconds: e.PROVISIONING_STALLED_CHECK_SECONDS },
    customerImport: { maxRows: e.IMPORT_MAX_ROWS, maxBytes: e.IMPORT_MAX_BYTES },
    synapseAdmin: { token: e.SYNAPSE_ADMIN_TOKEN, registrationSharedSecretPath: e.SYNAPSE_REGISTRATION_SHARED_SECRET_PATH },
    live: { heartbeatMs: e.LIVE_HEARTBEAT_MS, maxStreamsPerCaller: e.LIVE_MAX_STREAMS_PER_CALLER },
    webClient: { devLogin: e.WEB_CLIENT_DEV_LOGIN === 'true' && e.NODE_ENV !== 'production', frameAncestors: e.WEB_CLIENT_FRAME_ANCESTORS.trim() || "'self'", allowedOrigins: e.WEB_CLIENT_ALLOWED_ORIGINS.split(/\s+/).filter(Boolean) },
    email: {
      smtpUrl: e.SMTP_URL,
      deliveryLookupUrl: e.SMTP_DELIVERY_LOOKUP_URL,
      deliveryLookupSettleSeconds: e.SMTP_DELIVERY_LOOKUP_SETTLE_SECONDS,
      from: e.EMAIL_FROM,
      linkSecret: e.EMAIL_LINK_SECRET,
      linkTtlDays: e.EMAIL_LINK_TTL_DAYS,
      webClientUrl: stripSlash(e.WEB_CLIENT_URL ?? `http://${e.PORTAL_API_HOST}:${e.PORTAL_API_PORT}`),
      portalPublicUrl: stripSlash(e.PORTAL_PUBLIC_URL ?? `http://${e.PORTAL_API_HOST}:${e.PORTAL_API_PORT}`),
      delayUnitMs: e.EMAIL_DELAY_UNIT_MS,
    },
  };
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** One key of the environment, as the sample file (.env.example) describes it. */
export interface EnvironmentKey {
  key: string;
  description: string;
  required: boolean;
  /** The value used when the key is unset; undefined: none (optional without default, or required). */
  defaultValue?: string;
}

/** Every key of the configuration schema, in schema order, with its description and default. */
export function environmentKeys(): EnvironmentKey[] {
  return Object.entries(envSchema.shape).map(([key, schema]) => {
    const parsed = (schema as z.ZodType).safeParse(undefined);
    return {
      key,
      description: (schema as z.ZodType).description ?? '',
      required: !parsed.success,
      defaultValue: parsed.success && parsed.data !== undefined ? String(parsed.data) : undefined,
    };
  });
}

/**
 * The sample environment file, generated from the schema (`npm run env-example` writes
 * .env.example; tests/unit/envExample.test.ts fails when the committed file differs).
 */
export function renderEnvExample(): string {
  const lines = [
    '# Every configuration key of the service, with its meaning (README "Configuration" and "Deploying").',
    '# Generated from runtime/config.ts by `npm run env-example`: do not edit by hand.',
    '# Required keys are uncommented and empty; optional ones show their default, commented out.',
    '',
  ];
  for (const k of environmentKeys()) {
    lines.push(`# ${k.description}${k.required ? ' (required)' : ''}`);
    if (k.required) lines.push(`${k.key}=`);
    else lines.push(`# ${k.key}=${k.defaultValue ?? ''}`);
    lines.push('');
  }
  return lines.join('\n');
}
