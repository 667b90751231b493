import type { Config } from './config';
import type { Logger } from './logger';
import { loadRegistration, type Registration } from './registration';
import { MatrixApi } from './matrix/matrixApi';
import { VirtualUserService } from './matrix/virtualUserService';
import { ConversationService } from './domain/conversationService';
import { CommunitySpaces } from './domain/communitySpaces';

/**
 * The domain and Matrix services that the appservice exposes to the portal API and the
 * provisioning workers (dependencies point one way: those two use this, never the reverse).
 */
export interface CoreServices {
  config: Config;
  registration: Registration;
  matrix: MatrixApi;
  virtualUsers: VirtualUserService;
  conversations: ConversationService;
  spaces: CommunitySpaces;
}

export function createCoreServices(config: Config, log: Logger): CoreServices {
  const registration = loadRegistration(config.appservice.registrationPath, { production: config.env === 'production' });
  const matrix = new MatrixApi(config.synapse.url, registration.asToken);
  const virtualUsers = new VirtualUserService(matrix, config.matrixDomain, log.child({ module: 'virtualUsers' }));
  const conversations = new ConversationService(
    matrix,
    virtualUsers,
    config.matrixDomain,
    log.child({ module: 'conversations' }),
  );
  const spaces = new CommunitySpaces(matrix, config.matrixDomain, log.child({ module: 'spaces' }));
  return { config, registration, matrix, virtualUsers, conversations, spaces };
}
