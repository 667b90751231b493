import { RedisLeases, type Config, type Logger } from '../runtime';
import { loadRegistration, type Registration } from './registration';
import { MatrixApi } from './matrix/matrixApi';
import { SynapseAdminApi } from './matrix/synapseAdminApi';
import { VirtualUserService } from './matrix/virtualUserService';
import { ConversationService } from './domain/conversationService';
import { CommunitySpaces } from './domain/communitySpaces';
import { ReadMarkers } from './domain/readMarkers';
import { Unsend } from './domain/unsend';
import { Attachments } from './domain/attachments';
import { MessageEdits } from './domain/messageEdits';
import { MessageReactions } from './domain/messageReactions';
import { Reports } from './domain/reports';
import { TypingIndicators } from './domain/typingIndicators';
import { LiveEventPublisher } from '../live';

/**
 * The domain and Matrix services every process uses (the appservice, the portal API, the
 * provisioning workers, the CLI), all built on one Matrix client. Dependencies point one way:
 * those processes use this, never the reverse.
 */
export interface CoreServices {
  config: Config;
  registration: Registration;
  matrix: MatrixApi;
  /** Synapse's admin API (deactivations, erasure; people's names go through its token). */
  synapseAdmin: SynapseAdminApi;
  virtualUsers: VirtualUserService;
  conversations: ConversationService;
  spaces: CommunitySpaces;
  readMarkers: ReadMarkers;
  unsend: Unsend;
  attachments: Attachments;
  edits: MessageEdits;
  reactions: MessageReactions;
  reports: Reports;
  typing: TypingIndicators;
  /** Announces changes on the live event stream (live/); close it when the process stops. */
  live: LiveEventPublisher;
  /** Exclusive leases across processes (space placement); close it when the process stops. */
  leases: RedisLeases;
}

export interface CoreOverrides {
  /**
   * Builds the Matrix client every service uses (the workers pass their rate-limited one, so no
   * service of theirs can bypass the request ceiling). Default: a plain client as the appservice.
   */
  matrixClient?: (synapseUrl: string, asToken: string) => MatrixApi;
}


export function createCore(config: Config, log: Logger, overrides: CoreOverrides = {}): CoreServices {
  const registration = loadRegistration(config.appservice.registrationPath, { production: config.env === 'production' });
  const matrix = (overrides.matrixClient ?? ((url, token) => new MatrixApi(url, token)))(config.synapse.url, registration.asToken);
  const synapseAdmin = new SynapseAdminApi(config.synapse.url, config.synapseAdmin, log.child({ module: 'synapseAdmin' }));
  if (synapseAdmin.configured) matrix.writeProfilesAsAdmin(synapseAdmin);
  const virtualUsers = new VirtualUserService(matrix, config.matrixDomain, log.child({ module: 'virtualUsers' }));
  const live = new LiveEventPublisher(config.redisUrl, log.child({ module: 'liveEvents' }));
  const leases = new RedisLeases(config.redisUrl, log.child({ module: 'leases' }));
  const conversations = new ConversationService(matrix, virtualUsers, config.matrixDomain, log.child({ module: 'conversations' }), registration.asToken, live);
  return {
    config,
    registration,
    matrix,
    synapseAdmin,
    virtualUsers,
    conversations,
    spaces: new CommunitySpaces(matrix, config.matrixDomain, log.child({ module: 'spaces' }), registration.asToken, leases),
    readMarkers: new ReadMarkers(matrix, conversations, live),
    unsend: new Unsend(matrix, conversations, live),
    attachments: new Attachments(matrix, conversations, config.matrixDomain),
    edits: new MessageEdits(matrix, conversations),
    reactions: new MessageReactions(matrix, conversations),
    reports: new Reports(matrix, conversations.access, config.matrixDomain),
    typing: new TypingIndicators(matrix, conversations),
    live,
    leases,
  };
}
