import { type Logger } from '../../runtime';
import { MatrixApi } from './matrixApi';
import { virtualUserId, virtualUserLocalpart, type VirtualUserRef } from './virtualUsers';

export interface VirtualUserProfile {
  displayName: string;
  avatarUrl?: string | null;
}

/**
 * Virtual users on Synapse: registered idempotently, profile written only when it changed.
 */
export class VirtualUserService {
  constructor(
    private readonly api: MatrixApi,
    private readonly domain: string,
    private readonly log: Logger,
  ) {}

  userId(ref: VirtualUserRef): string {
    return virtualUserId(ref, this.domain);
  }

  /** Registers the user if needed and brings its profile up to date. Safe to repeat. */
  async ensure(ref: VirtualUserRef, profile: VirtualUserProfile): Promise<string> {
    const userId = this.userId(ref);
    const current = await this.api.getProfile(userId);
    if (current === null) {
      const created = await this.api.registerVirtualUser(virtualUserLocalpart(ref));
      if (created) this.log.debug({ userId }, 'registered virtual user');
    }
    if (current?.displayname !== profile.displayName) await this.api.setDisplayName(userId, profile.displayName);
    const avatar = profile.avatarUrl && profile.avatarUrl.startsWith('mxc://') ? profile.avatarUrl : undefined;
    if (avatar && current?.avatar_url !== avatar) await this.api.setAvatarUrl(userId, avatar);
    return userId;
  }
}
