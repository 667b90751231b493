import { type Logger, type RedisLeases } from '../../runtime';
import { isAliasTaken, MatrixError, type MatrixApi } from '../matrix/matrixApi';
import { botUserId } from '../matrix/virtualUsers';
import { roomAliasLocalpart } from '../matrix/roomAliases';
import type { CommunityVisibility } from './chatRules';
import { AdministratorModel, CustomerModel, FeedPostModel, LocationModel, NetworkModel, customerDocId, writeNetwork } from '../../store';

/**
 * Networks and locations as Matrix spaces, so Matrix clients show the structure — and nothing more
 * than the Community page would. A space's member list is a directory, so customers are placed only
 * where their network's community visibility already lists them:
 *   network_members  -> the network space (and their location spaces);
 *   location_members -> only the spaces of their locations;
 *   administrators   -> no space at all.
 * Non-members (the Community page lists members only) and hidden customers (rule 5: name hidden on
 * bookings and never posted on Feed) are never placed. Administrators are in every space of their
 * network. Spaces are created by the service bot (room version 12, so the bot keeps control) and
 * are read-only for everyone else.
 */
export interface NetworkSpaces {
  network: string;
  /** locationId -> space room id */
  locations: Map<string, string>;
}

export class CommunitySpaces {
  private readonly bot: string;

  constructor(
    private readonly api: MatrixApi,
    private readonly domain: string,
    private readonly log: Logger,
    /** The installation's secret the space aliases are keyed with (matrix/roomAliases.ts). */
    private readonly aliasSecret: string,
    /** One person is placed by one process at a time (see placeCustomer). */
    private readonly leases: RedisLeases,
  ) {
    this.bot = botUserId(domain);
  }

  /** The network's space and its location child spaces exist; returns their room ids. */
  async ensureSpaces(networkId: string): Promise<NetworkSpaces> {
    const network = await NetworkModel.findById(networkId).lean();
    if (!network) throw new Error(`network ${networkId} does not exist`);
    const networkSpace = network.spaceRoomId ?? (await this.createSpace(roomAliasLocalpart(this.aliasSecret, 'n', networkId), network.name));
    if (!network.spaceRoomId) await writeNetwork(networkId, () => NetworkModel.updateOne({ _id: networkId }, { $set: { spaceRoomId: networkSpace } }));
    const locations = new Map<string, string>();
    for (const location of await LocationModel.find({ networkId }).lean()) {
      let space = location.spaceRoomId;
      if (!space) {
        space = await this.createSpace(roomAliasLocalpart(this.aliasSecret, 'l', `${networkId}/${location.locationId}`), location.name);
        await this.api.putState(networkSpace, 'm.space.child', space, { via: [this.domain], suggested: false });
        await this.api.putState(space, 'm.space.parent', networkSpace, { via: [this.domain], canonical: true });
        await LocationModel.updateOne({ _id: location._id }, { $set: { spaceRoomId: space } });
      }
      locations.set(location.locationId, space);
    }
    return { network: networkSpace, locations };
  }

  /** The spaces a customer belongs in, per the placement rules above. */
  async desiredSpaces(networkId: string, customerId: string, known?: NetworkSpaces): Promise<{ all: string[]; wanted: Set<string> }> {
    const [network, customer, spaces] = await Promise.all([
      NetworkModel.findById(networkId).select({ communityVisibility: 1 }).lean(),
      CustomerModel.findById(customerDocId(networkId, customerId)).lean(),
      known ?? this.ensureSpaces(networkId),
    ]);
    const all = [spaces.network, ...spaces.locations.values()];
    const wanted = new Set<string>();
    if (!network || !customer || customer.status !== 'active' || customer.kind !== 'member') return { all, wanted };
    if (customer.hideNameOnBookings && !(await FeedPostModel.exists({ networkId, authorId: customerId }))) return { all, wanted };
    const visibility = network.communityVisibility as CommunityVisibility;
    if (visibility === 'administrators') return { all, wanted };
    if (visibility === 'network_members') wanted.add(spaces.network);
    for (const locationId of customer.locationIds) {
      const space = spaces.locations.get(locationId);
      if (space) wanted.add(space);
    }
    return { all, wanted };
  }

  /**
   * Brings one customer's space memberships in line with the rules. Safe to repeat. Reading the
   * rules and acting on them happen under the person's lease: two placements of the same person
   * (their own provisioning job, a network's re-placement after a visibility change) never
   * interleave, so the one that runs last acts on the latest rules and no older reading can undo it.
   */
  async placeCustomer(networkId: string, customerId: string, matrixUserId: string, known?: NetworkSpaces): Promise<void> {
    await this.leases.hold(placementLease(matrixUserId), async () => {
      const { all, wanted } = await this.desiredSpaces(networkId, customerId, known);
      for (const space of all) await this.setMembership(space, matrixUserId, wanted.has(space));
    });
  }

  /** Administrators see every space of their network (they see the whole Community page). */
  async placeAdministrator(networkId: string, matrixUserId: string, active: boolean): Promise<void> {
    await this.leases.hold(placementLease(matrixUserId), async () => {
      const spaces = await this.ensureSpaces(networkId);
      for (const space of [spaces.network, ...spaces.locations.values()]) await this.setMembership(space, matrixUserId, active);
    });
  }

  /** Re-places everyone of the network (after a visibility change or a new location). */
  async placeNetwork(networkId: string, onProgress?: (done: number, total: number) => void): Promise<number> {
    // People whose provisioning has not registered them on Synapse yet are left to that job (it
    // places them once they exist); inviting an account Synapse does not know fails for good.
    const registered = { networkId, registeredOnMatrix: true };
    const customers = await CustomerModel.find(registered).select({ customerId: 1, matrixUserId: 1 }).lean();
    const admins = await AdministratorModel.find(registered).select({ matrixUserId: 1, status: 1 }).lean();
    let done = 0;
    for (const admin of admins) await this.placeAdministrator(networkId, admin.matrixUserId, admin.status === 'active');
    const spaces = await this.ensureSpaces(networkId);
    for (const customer of customers) {
      await this.placeCustomer(networkId, customer.customerId, customer.matrixUserId, spaces);
      onProgress?.(++done, customers.length);
    }
    return customers.length;
  }

  private async setMembership(space: string, userId: string, member: boolean): Promise<void> {
    const state = await this.api.getState<{ membership?: string }>(space, 'm.room.member', userId).catch((err) => {
      // A space adopted while another worker is still creating it: not ready yet, not a refusal.
      // A plain error keeps the job retryable (Matrix 4xx errors fail jobs for good).
      if (err instanceof MatrixError && err.status === 403) throw new Error(`space ${space} is not ready yet: ${err.message}`);
      throw err;
    });
    const current = state?.membership;
    if (member && current !== 'join') {
      if (current !== 'invite') await this.api.invite(space, userId);
      await this.api.join(space, userId);
    } else if (!member && (current === 'join' || current === 'invite')) {
      await this.api.kick(space, userId, 'Not listed on the Community page').catch((err) => {
        if (!(err instanceof MatrixError && err.status === 403)) throw err;
      });
    }
  }

  /**
   * A space adopted through its alias while another worker's createRoom is still running: Synapse
   * may already resolve the alias before the bot's membership is readable. Waits until it is (the
   * callers would otherwise fail with "not in room" and wait out a retry backoff).
   */
  private async untilReady(space: string): Promise<void> {
    const deadline = Date.now() + SPACE_READY_WAIT_MS;
    for (;;) {
      try {
        await this.api.getState(space, 'm.room.member', this.bot);
        return;
      } catch (err) {
        if (!(err instanceof MatrixError && err.status === 403) || Date.now() > deadline) return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async createSpace(alias: string, name: string): Promise<string> {
    try {
      return await this.api.createRoom({
        preset: 'private_chat',
        visibility: 'private',
        room_version: '12',
        name,
        room_alias_name: alias,
        creation_content: { type: 'm.space' },
        initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'shared' } }],
        power_level_content_override: { users: {}, events_default: 100, state_default: 100, invite: 100, kick: 100, ban: 100, redact: 100 },
      });
    } catch (err) {
      if (!isAliasTaken(err)) throw err;
      const existing = await this.api.resolveAlias(`#${alias}:${this.domain}`);
      if (!existing) throw err;
      this.log.info({ alias, existing }, 'adopting an existing space');
      await this.untilReady(existing);
      return existing;
    }
  }
}

const placementLease = (matrixUserId: string) => `spaces:${matrixUserId}`;

/** How long an adopted space may still be in the making (its creator's request in flight). */
const SPACE_READY_WAIT_MS = 15000;
