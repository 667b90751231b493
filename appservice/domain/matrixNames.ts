import type { Logger } from '../../runtime';
import { findAdministrator, findCustomer } from '../../store';
import type { MatrixApi, MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';

/**
 * The host platform owns people's names. A Matrix client can rename its user (the global profile)
 * or re-send its membership in one room with any `displayname` (Synapse's auth rules allow that
 * even in a read-only room), and call itself "Support team". The service puts the host's name back
 * within seconds: on the global profile, and in the room the rename was sent to.
 */
export class MatrixNames {
  constructor(
    private readonly api: MatrixApi,
    private readonly domain: string,
    private readonly log: Logger,
  ) {}

  /** For an m.room.member join our virtual user sent about itself: true when a name was put back. */
  async enforce(event: MatrixEvent): Promise<boolean> {
    const userId = event.state_key ?? '';
    const ref = event.sender === userId ? parseVirtualUserId(userId, this.domain) : null;
    if (!ref || event.content?.membership !== 'join') return false;
    const person = ref.kind === 'customer' ? await findCustomer(ref.networkId, ref.id) : await findAdministrator(ref.networkId, ref.id);
    if (!person || person.matrixUserId !== userId) return false;
    const claimed = event.content?.displayname;
    if (claimed === undefined || claimed === person.displayName) return false;
    this.log.info({ userId, roomId: event.room_id }, "a Matrix client renamed its user: putting the host's name back");
    const profile = await this.api.getProfile(userId);
    if (profile?.displayname !== person.displayName) await this.api.setDisplayName(userId, person.displayName);
    // The rename may have been sent to this room alone: correct the room's membership too.
    await this.api.putState(event.room_id, 'm.room.member', userId, { ...event.content, displayname: person.displayName }, userId);
    return true;
  }
}
