import { UpstreamUnavailableError, metrics, synapseEndpoint } from '../../runtime';

/**
 * The Client-Server API of Synapse as the appservice sees it: every call carries the as_token and,
 * to act as a virtual user, the `user_id` query parameter (appservice identity assertion).
 *
 * Hand-written on fetch rather than the bridge library's Intent because the product needs what
 * Intent does not give: deterministic transaction ids for exactly-once sends, typed Matrix errors
 * with `retry_after_ms`, and one clear "Synapse unavailable" error for the API's 503.
 */

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${errcode} (${status}): ${message}`);
    this.name = 'MatrixError';
  }
}

/**
 * createRoom refused because the alias exists: M_ROOM_IN_USE when checked up front, a 409 when two
 * creations race for it. Either way another creator won and the alias tells which room.
 */
export function isAliasTaken(err: unknown): boolean {
  return err instanceof MatrixError && (err.errcode === 'M_ROOM_IN_USE' || err.status === 409);
}

export interface MatrixEvent {
  event_id: string;
  type: string;
  sender: string;
  room_id: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  redacts?: string;
  unsigned?: Record<string, unknown>;
}

export interface CreateRoomRequest {
  preset?: 'private_chat' | 'trusted_private_chat' | 'public_chat';
  visibility?: 'private' | 'public';
  room_version?: string;
  name?: string;
  topic?: string;
  room_alias_name?: string;
  invite?: string[];
  is_direct?: boolean;
  creation_content?: Record<string, unknown>;
  initial_state?: Array<{ type: string; state_key: string; content: Record<string, unknown> }>;
  power_level_content_override?: Record<string, unknown>;
}

export interface RequestOptions {
  /** Act as this virtual user (omit to act as the appservice bot). */
  asUser?: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Raw body (media upload) with its content type. */
  raw?: { data: Buffer | ReadableStream | NodeJS.ReadableStream; contentType: string; length?: number };
  timeoutMs?: number;
  /** Act with this access token instead of the as_token (the service admin's, for people's names). */
  accessToken?: string;
}

const RATE_LIMIT_RETRIES = 3;
/** synapse-http-antispam's errors when it could not reach the rules, and the rules' own "try again". */
const RULES_UNREACHABLE = /antispam server|could not check this just now/;
const MAX_INLINE_RETRY_MS = 5000;

/** Where the service admin's token comes from, for people's names (see writeProfilesAsAdmin). */
export interface ProfileAdmin {
  accessTokenForProfiles(): Promise<string>;
  forgetSession(): void;
}

export class MatrixApi {
  private profileAdmin: ProfileAdmin | null = null;

  constructor(
    readonly baseUrl: string,
    private readonly asToken: string,
  ) {}

  /**
   * Names and avatars are written as a server admin: Synapse refuses changes by the users
   * themselves (enable_set_displayname: false, enable_set_avatar_url: false), and the virtual users
   * are those users. Without admin credentials they are written as the virtual user, which only a
   * Synapse that allows self-renames accepts.
   */
  writeProfilesAsAdmin(admin: ProfileAdmin): void {
    this.profileAdmin = admin;
  }

  async request<T = Record<string, unknown>>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.requestOnce<T>(method, path, opts);
      } catch (err) {
        // Virtual users are exempt from rate limits; the bot and logins are not. Short waits are
        // absorbed here, longer ones go back to the caller (queued jobs reschedule themselves).
        if (
          err instanceof MatrixError &&
          err.status === 429 &&
          attempt < RATE_LIMIT_RETRIES &&
          (err.retryAfterMs ?? 1000) <= MAX_INLINE_RETRY_MS
        ) {
          await new Promise((r) => setTimeout(r, err.retryAfterMs ?? 1000));
          continue;
        }
        throw err;
      }
    }
  }

  /** Every request to Synapse passes here once: timed and counted (chat_synapse_request_* metrics). */
  private async requestOnce<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    const endpoint = synapseEndpoint(path);
    const end = metrics.synapseRequestDuration.startTimer({ method, endpoint });
    try {
      const result = await this.requestOnceUntimed<T>(method, path, opts);
      end({ status: '2xx' });
      return result;
    } catch (err) {
      const kind =
        err instanceof UpstreamUnavailableError
          ? 'unreachable'
          : err instanceof MatrixError
            ? err.status === 429
              ? 'rate_limited'
              : err.status >= 500
                ? 'server_error'
                : 'client_error'
            : 'other';
      end({ status: err instanceof MatrixError ? String(err.status) : kind });
      metrics.synapseRequestErrors.inc({ endpoint, kind });
      throw err;
    }
  }

  private async requestOnceUntimed<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    const url = new URL(this.baseUrl + path);
    if (opts.asUser) url.searchParams.set('user_id', opts.asUser);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${opts.accessToken ?? this.asToken}` };
    let body: RequestInit['body'];
    if (opts.raw) {
      headers['content-type'] = opts.raw.contentType;
      if (opts.raw.length !== undefined) headers['content-length'] = String(opts.raw.length);
      body = opts.raw.data as RequestInit['body'];
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30000),
        ...(opts.raw && !Buffer.isBuffer(opts.raw.data) ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch {
      throw new UpstreamUnavailableError('synapse');
    }
    if (res.status === 502 || res.status === 503 || res.status === 504) {
      await res.body?.cancel();
      throw new UpstreamUnavailableError('synapse');
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        throw new MatrixError(res.status, 'M_UNKNOWN', `non-JSON response from ${method} ${path}`);
      }
    }
    if (!res.ok && res.status === 403 && json.errcode === 'M_UNKNOWN' && RULES_UNREACHABLE.test(String(json.error ?? ''))) {
      // Synapse could not ask the appservice's homeserver rules (down or restarting; it refuses
      // joins and invites then): not a refusal, the same request goes through once it is back.
      throw new UpstreamUnavailableError('appservice');
    }
    if (!res.ok) {
      const retryAfter =
        typeof json.retry_after_ms === 'number'
          ? json.retry_after_ms
          : res.headers.get('retry-after')
            ? Number(res.headers.get('retry-after')) * 1000
            : undefined;
      throw new MatrixError(res.status, String(json.errcode ?? 'M_UNKNOWN'), String(json.error ?? res.statusText), retryAfter);
    }
    return json as T;
  }

  /** Registers a virtual user; true when created, false when it already existed. */
  async registerVirtualUser(localpart: string): Promise<boolean> {
    try {
      await this.request('POST', '/_matrix/client/v3/register', {
        body: { type: 'm.login.application_service', username: localpart, inhibit_login: true },
      });
      return true;
    } catch (err) {
      if (err instanceof MatrixError && err.errcode === 'M_USER_IN_USE') return false;
      throw err;
    }
  }

  /**
   * A virtual user's own profile, read as that user (profiles are shown only to people who share a
   * room with their owner); null when the user is not registered yet.
   */
  async getProfile(userId: string): Promise<{ displayname?: string; avatar_url?: string } | null> {
    try {
      return await this.request('GET', `/_matrix/client/v3/profile/${enc(userId)}`, { asUser: userId });
    } catch (err) {
      if (err instanceof MatrixError && (err.status === 404 || (err.status === 403 && /not registered this user/.test(err.message)))) return null;
      throw err;
    }
  }

  async setDisplayName(userId: string, displayname: string): Promise<void> {
    await this.writeProfile(userId, 'displayname', { displayname });
  }

  async setAvatarUrl(userId: string, avatar_url: string): Promise<void> {
    await this.writeProfile(userId, 'avatar_url', { avatar_url });
  }

  private async writeProfile(userId: string, field: string, body: Record<string, string>): Promise<void> {
    const path = `/_matrix/client/v3/profile/${enc(userId)}/${field}`;
    if (!this.profileAdmin) {
      await this.request('PUT', path, { asUser: userId, body });
      return;
    }
    try {
      await this.request('PUT', path, { accessToken: await this.profileAdmin.accessTokenForProfiles(), body });
    } catch (err) {
      if (!(err instanceof MatrixError && err.status === 401)) throw err;
      this.profileAdmin.forgetSession();
      await this.request('PUT', path, { accessToken: await this.profileAdmin.accessTokenForProfiles(), body });
    }
  }

  async createRoom(req: CreateRoomRequest, asUser?: string): Promise<string> {
    const res = await this.request<{ room_id: string }>('POST', '/_matrix/client/v3/createRoom', { asUser, body: req });
    return res.room_id;
  }

  /** The room an alias points to, or null. */
  async resolveAlias(alias: string): Promise<string | null> {
    try {
      const res = await this.request<{ room_id: string }>('GET', `/_matrix/client/v3/directory/room/${enc(alias)}`);
      return res.room_id;
    } catch (err) {
      if (err instanceof MatrixError && err.status === 404) return null;
      throw err;
    }
  }

  async invite(roomId: string, userId: string, asUser?: string, reason?: string): Promise<void> {
    try {
      await this.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, {
        asUser,
        body: { user_id: userId, ...(reason ? { reason } : {}) },
      });
    } catch (err) {
      // Already invited or joined: the goal is reached.
      if (err instanceof MatrixError && err.status === 403 && /already (in|joined)|is already/.test(err.message)) return;
      throw err;
    }
  }

  async join(roomIdOrAlias: string, asUser: string): Promise<void> {
    await this.request('POST', `/_matrix/client/v3/join/${enc(roomIdOrAlias)}`, { asUser, body: {} });
  }

  async leave(roomId: string, asUser: string, reason?: string): Promise<void> {
    await this.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, {
      asUser,
      body: reason ? { reason } : {},
    });
  }

  async kick(roomId: string, userId: string, reason: string, asUser?: string): Promise<void> {
    await this.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/kick`, {
      asUser,
      body: { user_id: userId, reason },
    });
  }

  /** Sends with a caller-chosen transaction id: Synapse answers a repeat with the same event. */
  async sendEvent(roomId: string, type: string, txnId: string, content: Record<string, unknown>, asUser?: string): Promise<string> {
    const res = await this.request<{ event_id: string }>(
      'PUT',
      `/_matrix/client/v3/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId)}`,
      { asUser, body: content },
    );
    return res.event_id;
  }

  async redact(roomId: string, eventId: string, txnId: string, asUser?: string, reason?: string): Promise<string> {
    const res = await this.request<{ event_id: string }>(
      'PUT',
      `/_matrix/client/v3/rooms/${enc(roomId)}/redact/${enc(eventId)}/${enc(txnId)}`,
      { asUser, body: reason ? { reason } : {} },
    );
    return res.event_id;
  }

  async getState<T = Record<string, unknown>>(roomId: string, type: string, stateKey = '', asUser?: string): Promise<T | null> {
    try {
      return await this.request<T>('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, {
        asUser,
      });
    } catch (err) {
      if (err instanceof MatrixError && err.status === 404) return null;
      throw err;
    }
  }

  async putState(roomId: string, type: string, stateKey: string, content: Record<string, unknown>, asUser?: string): Promise<string> {
    const res = await this.request<{ event_id: string }>(
      'PUT',
      `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`,
      { asUser, body: content },
    );
    return res.event_id;
  }

  async messages(
    roomId: string,
    asUser: string,
    opts: { from?: string; limit: number; dir?: 'b' | 'f'; filter?: Record<string, unknown> },
  ): Promise<{ chunk: MatrixEvent[]; start: string; end?: string }> {
    return this.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages`, {
      asUser,
      query: {
        dir: opts.dir ?? 'b',
        limit: opts.limit,
        from: opts.from,
        filter: opts.filter ? JSON.stringify(opts.filter) : undefined,
      },
    });
  }

  async getEvent(roomId: string, eventId: string, asUser: string): Promise<MatrixEvent | null> {
    try {
      return await this.request<MatrixEvent>('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(eventId)}`, {
        asUser,
      });
    } catch (err) {
      if (err instanceof MatrixError && err.status === 404) return null;
      throw err;
    }
  }

  /** Every event relating to `eventId` with `relType` (Synapse's relations API, all pages). */
  async relations(roomId: string, eventId: string, relType: string, asUser?: string): Promise<MatrixEvent[]> {
    const events: MatrixEvent[] = [];
    let from: string | undefined;
    do {
      const page = await this.request<{ chunk: MatrixEvent[]; next_batch?: string }>(
        'GET',
        `/_matrix/client/v1/rooms/${enc(roomId)}/relations/${enc(eventId)}/${enc(relType)}`,
        { asUser, query: { limit: 100, from } },
      );
      events.push(...page.chunk);
      from = page.next_batch;
    } while (from);
    return events;
  }

  /** A session for a Matrix client, through the appservice login type (no passwords exist). */
  async loginAsVirtualUser(userId: string, deviceId?: string): Promise<{ access_token: string; device_id: string; user_id: string; expires_in_ms?: number }> {
    return this.request('POST', '/_matrix/client/v3/login', {
      body: {
        type: 'm.login.application_service',
        identifier: { type: 'm.id.user', user: userId },
        ...(deviceId ? { device_id: deviceId } : {}),
        initial_device_display_name: 'Portal chat session',
      },
    });
  }

  /** Asks Synapse to ping the appservice back (MSC2659); resolves with the round-trip time. */
  async pingAppservice(appserviceId: string, transactionId: string): Promise<number> {
    const res = await this.request<{ duration_ms: number }>(
      'POST',
      `/_matrix/client/v1/appservice/${enc(appserviceId)}/ping`,
      { body: { transaction_id: transactionId }, timeoutMs: 10000 },
    );
    return res.duration_ms;
  }

  async uploadMedia(
    data: Buffer,
    contentType: string,
    filename: string,
    asUser: string,
  ): Promise<string> {
    const res = await this.request<{ content_uri: string }>('POST', '/_matrix/media/v3/upload', {
      asUser,
      query: { filename },
      raw: { data, contentType, length: data.length },
    });
    return res.content_uri;
  }

  /** Authenticated media download; the caller streams the body. */
  /** `signal` aborts the request and the body's stream (a media reserved but never uploaded makes Synapse wait). */
  async downloadMedia(serverName: string, mediaId: string, asUser: string, signal?: AbortSignal): Promise<Response> {
    const url = new URL(`${this.baseUrl}/_matrix/client/v1/media/download/${enc(serverName)}/${enc(mediaId)}`);
    url.searchParams.set('user_id', asUser);
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${this.asToken}` }, signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new UpstreamUnavailableError('synapse');
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new MatrixError(res.status, 'M_NOT_FOUND', 'media not available');
    }
    return res;
  }

  async health(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(3000) });
      return res.ok && (await res.text()).trim() === 'OK';
    } catch {
      return false;
    }
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
