/**
 * The live events part's front: the event stream's vocabulary, the publisher every producer
 * announces changes through, the per-process hub the portal API's streams listen on, and the
 * event tickets. It knows Redis and nothing of the domain (the appservice, the workers and the
 * portal API decide what to announce and to whom).
 */
export { LIVE_EVENT_TYPES, recipientKey, isEventId, compareEventIds, type LiveEventType, type LiveRecipient, type LiveConversation, type LiveEvent } from './liveEvents';
export { LiveEventPublisher } from './liveEventPublisher';
export { LiveEventHub, type LiveSink, type LiveStream, type LiveHubOptions } from './liveEventHub';
export { issueEventTicket, redeemEventTicket, TICKET_TTL_SECONDS } from './eventTickets';
export { LOG_MAX_EVENTS, RETENTION_SECONDS } from './liveEventLog';
