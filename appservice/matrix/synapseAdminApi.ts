import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Config, AppError, type Logger } from '../../runtime';
import { MatrixApi, MatrixError } from './matrixApi';
import type { MatrixEventReport } from '../domain/reports';

/**
 * Synapse's admin API (deactivate, erase, redact a user's events, list users, and people's names:
 * with enable_set_displayname: false only a server admin may change them). The appservice's
 * as_token is not an admin, and Synapse offers no admin appservices, so the service uses either an
 * admin token the operator provides (SYNAPSE_ADMIN_TOKEN) or its own admin user, created once
 * through Synapse's registration shared secret (SYNAPSE_REGISTRATION_SHARED_SECRET_PATH). That
 * user's password is derived from the secret, so any worker can log in again after a restart
 * without storing a credential anywhere.
 */
export const SERVICE_ADMIN_LOCALPART = 'chat-service-admin';
const SERVICE_ADMIN_DEVICE = 'COWORKING_CHAT_SERVICE';

export class SynapseAdminUnavailableError extends AppError {
  constructor() {
    super(
      'synapse_admin_unavailable',
      503,
      'Synapse admin access is not configured: set SYNAPSE_ADMIN_TOKEN or SYNAPSE_REGISTRATION_SHARED_SECRET_PATH',
    );
  }
}

export interface RedactionStatus {
  status: 'scheduled' | 'active' | 'complete' | 'failed';
  /** event id -> why Synapse could not redact it */
  failedRedactions: Record<string, string>;
}

export interface SynapseUser {
  name: string;
  displayname: string | null;
  deactivated: boolean;
}

export class SynapseAdminApi {
  private client: Promise<MatrixApi & { token: string }> | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly credentials: Config['synapseAdmin'],
    private readonly log: Logger,
  ) {}

  get configured(): boolean {
    return Boolean(this.credentials.token || this.credentials.registrationSharedSecretPath);
  }

  /**
   * The admin's access token, for the profile writes MatrixApi makes on the service's behalf (so
   * they go through the caller's client and its request ceiling).
   */
  async accessTokenForProfiles(): Promise<string> {
    return (await this.session()).token;
  }

  /** The token was refused (logged out, user re-created): the next call logs in again. */
  forgetSession(): void {
    this.client = null;
  }

  /** Deactivates the account (Synapse also makes it leave every room); with erase, its profile is removed. */
  async deactivate(userId: string, erase: boolean): Promise<void> {
    await this.call('POST', `/_synapse/admin/v1/deactivate/${enc(userId)}`, { erase });
  }

  /** Starts Synapse's background task that redacts the user's messages in these rooms. */
  async startRedaction(userId: string, roomIds: string[], reason: string): Promise<string> {
    const res = await this.call<{ redact_id: string }>('POST', `/_synapse/admin/v1/user/${enc(userId)}/redact`, {
      rooms: roomIds,
      reason,
    });
    return res.redact_id;
  }

  async redactionStatus(redactId: string): Promise<RedactionStatus> {
    const res = await this.call<{ status: RedactionStatus['status']; failed_redactions?: Record<string, string> }>(
      'GET',
      `/_synapse/admin/v1/user/redact_status/${enc(redactId)}`,
    );
    return { status: res.status, failedRedactions: res.failed_redactions ?? {} };
  }

  /**
   * A locked account keeps its rooms and its history but can use no token (Synapse answers 401
   * M_USER_LOCKED); unlocking gives it back. The appservice's own requests as the user still work.
   */
  async setLocked(userId: string, locked: boolean): Promise<void> {
    await this.call('PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { locked });
  }

  /** Event reports Matrix clients made (POST /rooms/{roomId}/report/{eventId}), oldest first, from offset `from`. */
  async eventReports(from: number, limit = 100): Promise<{ reports: MatrixEventReport[]; next: number | null }> {
    const res = await this.call<{ event_reports: MatrixEventReport[]; next_token?: number }>('GET', `/_synapse/admin/v1/event_reports?dir=f&from=${from}&limit=${limit}`);
    return { reports: res.event_reports, next: typeof res.next_token === 'number' ? res.next_token : null };
  }

  /** The user's devices (each login is one, with its access tokens). */
  async listDevices(userId: string): Promise<string[]> {
    const res = await this.call<{ devices: { device_id: string }[] }>('GET', `/_synapse/admin/v2/users/${enc(userId)}/devices`);
    return res.devices.map((d) => d.device_id);
  }

  /** Deletes devices and every access token issued to them; unknown devices are ignored. */
  async deleteDevices(userId: string, deviceIds: string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.call('POST', `/_synapse/admin/v2/users/${enc(userId)}/delete_devices`, { devices: deviceIds });
  }

  async getUser(userId: string): Promise<SynapseUser | null> {
    try {
      return await this.call<SynapseUser>('GET', `/_synapse/admin/v2/users/${enc(userId)}`);
    } catch (err) {
      if (err instanceof MatrixError && err.status === 404) return null;
      throw err;
    }
  }

  /** Every account whose id or display name contains `namePart`, deactivated ones included. */
  async listUsers(namePart: string): Promise<SynapseUser[]> {
    const users: SynapseUser[] = [];
    let from: string | undefined;
    do {
      const query = new URLSearchParams({ name: namePart, limit: '1000', deactivated: 'true', ...(from ? { from } : {}) });
      const page = await this.call<{ users: SynapseUser[]; next_token?: string }>('GET', `/_synapse/admin/v2/users?${query}`);
      users.push(...page.users);
      from = page.next_token;
    } while (from);
    return users;
  }

  private async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const api = await this.session();
    try {
      return await api.request<T>(method, path, { body });
    } catch (err) {
      // The token expired (Synapse's nonrefreshable_access_token_lifetime), was logged out, or the
      // user was re-created: log in again once. An operator-provided token cannot be renewed here.
      if (err instanceof MatrixError && err.status === 401) {
        this.client = null;
        if (!retried && !this.credentials.token) return this.call<T>(method, path, body, true);
      }
      throw err;
    }
  }

  private session(): Promise<MatrixApi & { token: string }> {
    this.client ??= this.accessToken().then(
      (token) => Object.assign(new MatrixApi(this.baseUrl, token), { token }),
      (err) => {
        this.client = null;
        throw err;
      },
    );
    return this.client;
  }

  private async accessToken(): Promise<string> {
    if (this.credentials.token) return this.credentials.token;
    const secretPath = this.credentials.registrationSharedSecretPath;
    if (!secretPath) throw new SynapseAdminUnavailableError();
    const secret = readFileSync(secretPath, 'utf8').trim();
    const password = createHmac('sha256', secret).update('coworking-chat service admin').digest('base64url');
    let token: string;
    let userId: string;
    try {
      ({ token, userId } = await this.registerServiceAdmin(secret, password));
      this.log.info({ userId }, 'created the service admin user on Synapse');
    } catch (err) {
      if (!(err instanceof MatrixError && err.errcode === 'M_USER_IN_USE')) throw err;
      const res = await plainJson<{ access_token: string; user_id: string }>(this.baseUrl, 'POST', '/_matrix/client/v3/login', {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: SERVICE_ADMIN_LOCALPART },
        password,
        device_id: SERVICE_ADMIN_DEVICE,
        initial_device_display_name: 'Coworking chat provisioning',
      });
      ({ access_token: token, user_id: userId } = res);
    }
    // Redactions on behalf of erased customers must not be slowed by message rate limits.
    await new MatrixApi(this.baseUrl, token).request('POST', `/_synapse/admin/v1/users/${enc(userId)}/override_ratelimit`, {
      body: { messages_per_second: 0, burst_count: 0 },
    });
    return token;
  }

  private async registerServiceAdmin(secret: string, password: string): Promise<{ token: string; userId: string }> {
    const { nonce } = await plainJson<{ nonce: string }>(this.baseUrl, 'GET', '/_synapse/admin/v1/register');
    const mac = createHmac('sha1', secret)
      .update(`${nonce}\0${SERVICE_ADMIN_LOCALPART}\0${password}\0admin`)
      .digest('hex');
    const res = await plainJson<{ access_token: string; user_id: string }>(this.baseUrl, 'POST', '/_synapse/admin/v1/register', {
      nonce,
      username: SERVICE_ADMIN_LOCALPART,
      password,
      admin: true,
      mac,
    });
    return { token: res.access_token, userId: res.user_id };
  }
}

/** Unauthenticated calls (nonce, shared-secret registration, login). */
async function plainJson<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new MatrixError(res.status, String(json.errcode ?? 'M_UNKNOWN'), String(json.error ?? res.statusText));
  return json as T;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
