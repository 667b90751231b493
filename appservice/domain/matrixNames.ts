import type { Logger } from '../../runtime';
import { findAdministrator, findCustomer } from '../../store';
import type { MatrixApi, MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';

/**
 * The host platform owns people's names and pictures. Synapse refuses renames by the users
 * themselves (enable_set_displayname: false) and strips names from membership events
 * (allow_per_room_profiles: false), but it lets a user without an avatar set a first one
 * (enable_set_avatar_url: false only refuses a change), and the Synapse an operator runs may be
 * configured otherwise. So the service still puts the host's name and picture back within seconds:
 * on the global profile, and in the room the change was sent to.
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
    const hostAvatar = 'avatarUrl' in person && person.avatarUrl?.startsWith('mxc://') ? person.avatarUrl : undefined;
    const claimedAvatar = typeof event.content?.avatar_url === 'string' && event.content.avatar_url ? event.content.avatar_url : undefined;
    const nameChanged = claimed !== undefined && claimed !== person.displayName;
    const avatarChanged = claimedAvatar !== hostAvatar;
    if (!nameChanged && !avatarChanged) return false;
    this.log.info({ userId, roomId: event.room_id }, "a Matrix client changed its user's profile: putting the host's back");
    const profile = await this.api.getProfile(userId);
    if (profile?.displayname !== person.displayName) await this.api.setDisplayName(userId, person.displayName);
    if ((profile?.avatar_url || undefined) !== hostAvatar) await this.api.setAvatarUrl(userId, hostAvatar ?? '');
    // The change may have been sent to this room alone: correct the room's membership too (with
    // allow_per_room_profiles: false Synapse fills in the global profile just put back).
    const { avatar_url: _avatar, ...content } = event.content as Record<string, unknown>;
    await this.api.putState(event.room_id, 'm.room.member', userId, { ...content, displayname: person.displayName, ...(hostAvatar ? { avatar_url: hostAvatar } : {}) }, userId);
    return true;
  }
}
