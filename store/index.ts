/**
 * The store: every MongoDB collection (one file each), every deterministic id, and every trick a
 * weak development database forces on us (lookups by `_id` alone, update commands of 16
 * statements, one writer at a time, the directory change record). The only part of the project
 * that imports mongoose; everything else imports this file.
 */
export { connectDatabase, disconnectDatabase, databaseConnected, pingDatabase, isDatabaseError, redactUri, rawDatabase, onDatabaseOperation } from './database';
export * from './entityIds';
export * from './duplicateKeys';
export { NetworkModel, type NetworkDoc, findNetwork, networkExists, setChatsEnabled, writeNetwork, upsertNetwork, updateNetworkSettings, targetChatsToggle } from './networks';
export { DirectoryChangeModel, DIRECTORY_CHANGES_KEPT, customersChangedAt, recordDirectoryChange } from './directoryChanges';
export { LocationModel, upsertLocation } from './locations';
export * from './customers';
export { findByIds } from './lookupsById';
export { ChatSuspensionModel, suspendChats, liftChatSuspension, isChatSuspended } from './chatSuspensions';
export { ReportModel, REPORT_REASONS, recordReport, findReport, reportsPage, recordReportAction, type ReportDoc, type ReportReason, type ReportStatus } from './reports';
export * from './customerExports';
export { CustomerBlockModel, blockCustomer, unblockCustomer, isBlockedBy, blocksOf, blockersOf, type CustomerBlock } from './customerBlocks';
export * from './administrators';
export { administratorRoster } from './administratorRosters';
export * from './feedPosts';
export * from './bookings';
export { ConversationModel, type ConversationDoc } from './conversations';
export { SentMessageModel } from './sentMessages';
export { AppserviceTransactionModel, ProcessedEventModel, processedEventIds, pendingTransactionCount, type StoredTransaction } from './appserviceTransactions';
export { recordPingReceived, takePingReceipt } from './appservicePings';
export { conversationIdOfRoom, rememberConversationRoom } from './roomConversations';
export { IndexedMessageModel } from './indexedMessages';
export { MessageEditModel } from './messageEdits';
export { MessageReactionModel } from './messageReactions';
export { MessageReactionSetModel, ConversationReactionMarksModel, REACTION_MARKS_LIMIT, addToReactionSet, reactedMessagesOf, removeFromReactionSet, takeReactionSet, type StandingReaction } from './messageReactionSets';
export { ReadMarkerModel, type ReadMarkerDoc } from './readMarkers';
export { SupportInboxHeadModel } from './supportInboxHeads';
export { SavedPowerLevelsModel } from './savedPowerLevels';
export { AdminNotificationModel, WebhookDeliveryModel, type AdminNotificationDoc } from './adminNotifications';
export { AttachmentModel, AttachmentSendModel } from './attachments';
export { LockedMatrixAccountModel, recordMatrixAccountLocked, recordMatrixAccountUnlocked, isMatrixAccountLocked } from './lockedMatrixAccounts';
export * from './notificationSettings';
export * from './emailDigests';
export * from './emailDigestHeads';
export { runMigrations, migrationStatus, type MigrationState } from './migrate';
export { MIGRATIONS, type Migration } from './migrations';
