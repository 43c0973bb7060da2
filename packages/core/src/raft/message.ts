import type { Message, MessageType, NodeId } from './types.js';

/** A message with every field at its empty value, so each sender names only what it means. */
export function message(type: MessageType, from: NodeId, to: NodeId, term: number, fields: Partial<Message> = {}): Message {
  return {
    type,
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: null,
    snapshot: null,
    ...fields,
  };
}

/** Marks a vote request sent because of a leadership transfer: voters then ignore their leader lease. */
export const CAMPAIGN_TRANSFER = new Uint8Array([0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72]); // "transfer"

export function isTransferContext(context: Uint8Array | null): boolean {
  if (context === null || context.length !== CAMPAIGN_TRANSFER.length) return false;
  return context.every((byte, i) => byte === CAMPAIGN_TRANSFER[i]);
}

export function isVoteRequest(type: MessageType): boolean {
  return type === 'vote' || type === 'pre-vote';
}

export function isVoteResponse(type: MessageType): boolean {
  return type === 'vote-resp' || type === 'pre-vote-resp';
}

/** Hex, for using a read context as a map key. */
export function contextKey(context: Uint8Array): string {
  let key = '';
  for (const byte of context) key += byte.toString(16).padStart(2, '0');
  return key;
}
