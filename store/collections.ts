import { AdminNotificationModel, WebhookDeliveryModel } from './adminNotifications';
import { AdministratorModel } from './administrators';
import { AdministratorRosterModel } from './administratorRosters';
import { AppservicePingModel } from './appservicePings';
import { AppserviceTransactionModel, ProcessedEventModel } from './appserviceTransactions';
import { AttachmentModel, AttachmentSendModel } from './attachments';
import { BookingModel } from './bookings';
import { ConversationModel } from './conversations';
import { CustomerModel } from './customers';
import { CustomerBlockModel } from './customerBlocks';
import { CustomerExportModel, CustomerExportPartModel } from './customerExports';
import { ChatSuspensionModel } from './chatSuspensions';
import { ReportModel } from './reports';
import { DirectoryChangeModel } from './directoryChanges';
import { FeedPostModel } from './feedPosts';
import { IndexedMessageModel } from './indexedMessages';
import { LocationModel } from './locations';
import { LockedMatrixAccountModel } from './lockedMatrixAccounts';
import { MessageEditModel } from './messageEdits';
import { MessageReactionModel } from './messageReactions';
import { MessageReactionSetModel } from './messageReactionSets';
import { NetworkModel } from './networks';
import { NotificationSettingsModel } from './notificationSettings';
import { EmailDigestModel } from './emailDigests';
import { EmailDigestHeadModel } from './emailDigestHeads';
import { ReadMarkerModel } from './readMarkers';
import { SavedPowerLevelsModel } from './savedPowerLevels';
import { SentMessageModel } from './sentMessages';
import { SupportInboxHeadModel } from './supportInboxHeads';
import { SchemaMigrationModel } from './schemaMigrations';

/** Every collection of the store, one file each; connectDatabase makes sure their indexes exist. */
export const COLLECTIONS = [
  NetworkModel,
  DirectoryChangeModel,
  LocationModel,
  CustomerModel,
  CustomerBlockModel,
  CustomerExportModel,
  CustomerExportPartModel,
  ChatSuspensionModel,
  ReportModel,
  AdministratorModel,
  AdministratorRosterModel,
  FeedPostModel,
  BookingModel,
  ConversationModel,
  SentMessageModel,
  AppserviceTransactionModel,
  ProcessedEventModel,
  AppservicePingModel,
  IndexedMessageModel,
  MessageEditModel,
  MessageReactionModel,
  MessageReactionSetModel,
  ReadMarkerModel,
  SupportInboxHeadModel,
  SavedPowerLevelsModel,
  AdminNotificationModel,
  WebhookDeliveryModel,
  NotificationSettingsModel,
  EmailDigestModel,
  EmailDigestHeadModel,
  AttachmentModel,
  AttachmentSendModel,
  SchemaMigrationModel,
  LockedMatrixAccountModel,
] as const;
