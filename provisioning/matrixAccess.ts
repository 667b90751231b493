import type { Logger } from '../runtime';
import { MatrixError, type MatrixApi } from '../appservice';
import { isMatrixAccountLocked, recordMatrixAccountLocked, recordMatrixAccountUnlocked } from '../store';
import type { SynapseAdminApi } from './synapseAdminApi';

/**
 * The Matrix door of a person, next to the portal's: the sessions a Matrix client uses, and the
 * lock that closes them all.
 *
 * - One device per person for Matrix clients (`PORTAL_SESSION_DEVICE`): a new session replaces the
 *   previous one (its token stops working), so a leaked portal JWT cannot pile up Matrix tokens.
 * - Tokens expire: Synapse's `nonrefreshable_access_token_lifetime` (synapse/homeserver.base.yaml)
 *   bounds every session; the answer says when (`expiresInMs`), and a client asks again.
 * - Deactivation (host sync) or removal locks the account on Synapse and deletes every device:
 *   each token is dead at once, logging in again is refused, and the appservice still acts for the
 *   person (leaving spaces, keeping their history). Reactivation unlocks; nothing else is lost.
 */
export const PORTAL_SESSION_DEVICE = 'COWORKING_CHAT_PORTAL';

export interface MatrixSession {
  userId: string;
  accessToken: string;
  deviceId: string;
  /** When Synapse stops accepting the token, in ms from now (absent when the homeserver sets no lifetime). */
  expiresInMs?: number;
}

export class MatrixAccess {
  constructor(
    private readonly matrix: MatrixApi,
    private readonly admin: SynapseAdminApi,
    private readonly log: Logger,
  ) {}

  /** A fresh session on the person's one portal device; the previous session's token is revoked. */
  async openSession(userId: string): Promise<MatrixSession> {
    // Synapse keeps old tokens when a login reuses a device id: delete the device first.
    if (this.admin.configured) await this.admin.deleteDevices(userId, [PORTAL_SESSION_DEVICE]);
    const res = await this.matrix.loginAsVirtualUser(userId, PORTAL_SESSION_DEVICE);
    return {
      userId: res.user_id,
      accessToken: res.access_token,
      deviceId: res.device_id,
      ...(typeof res.expires_in_ms === 'number' ? { expiresInMs: res.expires_in_ms } : {}),
    };
  }

  /** Logs the portal session out (its device and token are gone); nothing to do when there is none. */
  async closeSession(userId: string): Promise<void> {
    await this.admin.deleteDevices(userId, [PORTAL_SESSION_DEVICE]);
  }

  /** Locks the account and deletes every device: no token of this person works any more. */
  async lock(networkId: string, userId: string): Promise<void> {
    // Recorded first: if the job dies between the two, the next provisioning still unlocks.
    await recordMatrixAccountLocked(networkId, userId);
    const account = await this.admin.getUser(userId);
    // Never registered on Synapse, or closed for good by deprovisioning: nothing to lock.
    if (!account || account.deactivated) return;
    await this.admin.setLocked(userId, true);
    await this.admin.deleteDevices(userId, await this.admin.listDevices(userId));
    this.log.info({ userId }, 'matrix account locked');
  }

  /** Lifts the service's lock, if it set one. */
  async unlockIfLocked(userId: string): Promise<void> {
    if (!(await isMatrixAccountLocked(userId))) return;
    await this.admin.setLocked(userId, false).catch((err) => {
      if (!(err instanceof MatrixError && err.status === 404)) throw err;
    });
    await recordMatrixAccountUnlocked(userId);
    this.log.info({ userId }, 'matrix account unlocked');
  }
}
