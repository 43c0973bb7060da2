import type { Entry, Message, RaftNode } from '../../src/index.js';
import { text } from './cluster.js';

/**
 * One-line, deterministic renderings of messages, logs and node state, shared by the interaction
 * tests (golden output) and property failures (readable counterexamples).
 */

/** `6@2` for an empty entry (a new leader's no-op), `6@2:x` with data, `6@2:conf` for a conf change. */
export function formatEntry(e: Entry): string {
  if (e.type === 'conf-change') return `${e.index}@${e.term}:conf`;
  return e.data.length === 0 ? `${e.index}@${e.term}` : `${e.index}@${e.term}:${text(e.data)}`;
}

export function formatEntries(entries: readonly Entry[]): string {
  return `[${entries.map(formatEntry).join(' ')}]`;
}

function context(m: Message): string {
  return m.context === null || m.context.length === 0 ? '' : ` ctx=${text(m.context)}`;
}

/** e.g. `1->2 append term=2 prev=(5,1) entries=[6@2] commit=5`. */
export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'append':
      return `${head} prev=(${m.index},${m.logTerm}) entries=${formatEntries(m.entries)} commit=${m.commit}`;
    case 'append-resp':
      return m.reject ? `${head} index=${m.index} reject hint=(${m.rejectHint},${m.hintTerm})` : `${head} index=${m.index}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${context(m)}`;
    case 'heartbeat-resp':
      return `${head}${context(m)}`;
    case 'vote':
    case 'pre-vote':
      return `${head} last=(${m.index},${m.logTerm})${m.context ? ' transfer' : ''}`;
    case 'vote-resp':
    case 'pre-vote-resp':
      return m.reject ? `${head} reject` : head;
    case 'snapshot':
      return `${head} snap=(${m.snapshot?.meta.index},${m.snapshot?.meta.term})`;
    case 'timeout-now':
      return head;
    case 'read-index':
      return `${head}${context(m)}`;
    case 'read-index-resp':
      return `${head} index=${m.index}${m.reject ? ' reject' : ''}${context(m)}`;
  }
}

/** e.g. `1: leader term=2 commit=6 applied=6 last=6`. */
export function formatStatus(node: RaftNode): string {
  const s = node.status();
  const lead = s.role === 'leader' ? '' : ` lead=${s.lead}`;
  return `${s.id}: ${s.role} term=${s.term}${lead} vote=${s.vote} commit=${s.commit} applied=${s.applied} last=${s.lastIndex}`;
}

/** The leader's view of its followers: `2 replicate match=6 next=7`. */
export function formatProgress(node: RaftNode): string[] {
  const lines: string[] = [];
  const progress = [...node.status().progress].sort(([a], [b]) => a - b);
  for (const [id, p] of progress) {
    if (id !== node.id) lines.push(`${node.id}->${id} ${p.state} match=${p.match} next=${p.next}`);
  }
  return lines;
}
