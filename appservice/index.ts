/**
 * The appservice's front: what the portal API, the provisioning workers, the CLI, the benchmarks
 * and the tests may use. Everything else in this folder is private to it (an import rule in
 * tests/unit/importBoundaries.test.ts keeps it so).
 */
export { createCore, type CoreServices, type CoreOverrides } from './core';
export { startAppservice, type AppserviceHandle } from './start';
export { HOMESERVER_RULES_PATH } from './domain/homeserverRules';
export { APPSERVICE_ID, generateRegistration, writeRegistration, loadRegistration, type Registration } from './registration';

// Matrix: the Client-Server API as the appservice, and the virtual users' ids.
export { SynapseAdminApi, SynapseAdminUnavailableError, SERVICE_ADMIN_LOCALPART, type RedactionStatus, type SynapseUser } from './matrix/synapseAdminApi';
export { MatrixApi, MatrixError, isAliasTaken, type MatrixEvent, type RequestOptions, type CreateRoomRequest } from './matrix/matrixApi';
export {
  botUserId,
  encodeIdPart,
  decodeIdPart,
  parseVirtualUserId,
  virtualUserId,
  virtualUserLocalpart,
  BOT_LOCALPART,
  USER_PREFIX,
  type VirtualUserRef,
  type VirtualUserKind,
} from './matrix/virtualUsers';
export type { VirtualUserService } from './matrix/virtualUserService';

// The rules (pure) and the domain's queries and shapes.
export * from './domain/chatRules';
export { type Actor, type Conversation, directKey, supportKey } from './domain/conversation';
export { findParticipant, prefetchNetwork } from './domain/conversationAccess';
export { SEND_MARKER } from './domain/exactlyOnceSend';
export { CONVERSATION_ROOM_VERSION, roomPowerLevels } from './domain/conversationRooms';
export type { ChatMessage } from './domain/messageHistory';
export type { ConversationService } from './domain/conversationService';
export { communityPage, customerSearchPage, type NamePage } from './domain/communityDirectory';
export { attachmentPolicyOf, checkAttachmentType, attachmentMsgtype, type AttachmentPolicy } from './domain/attachmentPolicy';
export { encodeCursor, decodeCursor, type CursorPart } from './domain/pageCursor';
export { inboxPageFromHead, INBOX_HEAD_SIZE } from './domain/supportInbox';
export { UNREAD_COUNT_CAP, type ReadMarkers } from './domain/readMarkers';
export { resolveChatPath } from './domain/chatPaths';
export { chatListPage, participantsOf, type ChatListPage, type ChatListScope, type Participant } from './domain/chatList';
export type { Unsend } from './domain/unsend';
export { REMOVED_BY_MODERATION, type Reports, type MatrixEventReport, type PortalReport } from './domain/reports';
export type { MessageEdits } from './domain/messageEdits';
export type { MessageReactions } from './domain/messageReactions';
export { isValidReactionKey, REACTION_KEY_MAX_CHARACTERS } from './domain/messageRelations';
export type { MessageIndexChange } from './domain/messageIndex';
export type { Attachments, AcceptedFile, MediaDownload } from './domain/attachments';
export { restoreSavedPowerLevels } from './domain/savedPowerLevels';
export { notificationsPage, unreadNotificationCount, markNotificationsRead, type SupportMessageWebhookPayload } from './domain/adminNotifications';
export type { CommunitySpaces } from './domain/communitySpaces';
export { chatSummary, chatWithParticipants } from './domain/liveAnnouncements';
export type { TypingIndicators } from './domain/typingIndicators';
