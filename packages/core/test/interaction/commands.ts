import { RaftError, type Message, type NodeId } from '../../src/index.js';
import { TestCluster, bytes } from '../support/cluster.js';
import { formatEntries, formatMessage, formatProgress, formatStatus } from '../support/format.js';

/**
 * One handler per interaction command. A handler acts on the session's cluster and returns the
 * lines it wants printed; the session adds what the cluster reported meanwhile (messages
 * delivered or dropped, role changes, read results). See README.md for the language.
 */
export interface Session {
  cluster: TestCluster | undefined;
}

type Handler = (session: Session, args: readonly string[]) => string[];

function cluster(session: Session): TestCluster {
  if (!session.cluster) throw new Error('no cluster yet: start the script with `cluster size=N`');
  return session.cluster;
}

function nodeId(arg: string | undefined): NodeId {
  const id = Number(arg);
  if (!Number.isInteger(id) || id <= 0) throw new Error(`expected a node id, got ${String(arg)}`);
  return id;
}

/** `key=value` arguments; numbers and booleans are converted. */
function options(args: readonly string[]): Map<string, number | boolean> {
  const result = new Map<string, number | boolean>();
  for (const arg of args) {
    const [key, value] = arg.split('=');
    if (key === undefined || value === undefined) throw new Error(`expected key=value, got ${arg}`);
    result.set(key, value === 'true' ? true : value === 'false' ? false : Number(value));
  }
  return result;
}

/**
 * Which in-flight messages a command means: `1->2`, `*->2`, `1->*`, optionally followed by a
 * message type (`1->* append`); no filter means all of them.
 */
function matcher(args: readonly string[]): (m: Message) => boolean {
  const [link, type] = args;
  if (link === undefined) return () => true;
  const [from, to] = link.split('->');
  if (from === undefined || to === undefined) throw new Error(`expected a link like 1->2, got ${link}`);
  return (m) => (from === '*' || m.from === Number(from)) && (to === '*' || m.to === Number(to)) && (type === undefined || m.type === type);
}

/** Applies `act` to each message matching the filter that is in flight now (not to the ones it causes). */
function eachMatching(c: TestCluster, args: readonly string[], act: (position: number) => void): void {
  const matches = matcher(args);
  const chosen = c.inFlight.filter(matches);
  for (const m of chosen) {
    const position = c.inFlight.indexOf(m);
    if (position >= 0) act(position);
  }
}

function tryRaft(action: () => string): string {
  try {
    return action();
  } catch (error) {
    if (error instanceof RaftError) return `error ${error.code}`;
    throw error;
  }
}

function idsOrAll(c: TestCluster, args: readonly string[]): NodeId[] {
  return args.length === 0 ? c.ids() : args.map(nodeId);
}

const DEFAULT_CONFIG_KEYS = new Set([
  'preVote',
  'checkQuorum',
  'inflightAppendsMax',
  'inflightBytesMax',
  'messageBytesMax',
  'uncommittedBytesMax',
  'committedBytesPerReadyMax',
  'pendingReadsMax',
]);
const UNSAFE_KEYS = new Set(['commitOldTermEntries', 'voteWithoutLogCheck', 'appendWithoutPrevCheck', 'readIndexWithoutQuorum']);

export const COMMANDS: Readonly<Record<string, Handler>> = {
  /** `cluster size=3 [seed=1] [election=10] [heartbeat=1] [preVote=false] [inflightAppendsMax=2] ...` */
  cluster(session, args) {
    const opts = options(args);
    const config: Record<string, unknown> = {};
    const unsafe: Record<string, boolean> = {};
    for (const [key, value] of opts) {
      if (DEFAULT_CONFIG_KEYS.has(key)) config[key] = value;
      else if (UNSAFE_KEYS.has(key)) unsafe[key] = value === true;
      else if (!['size', 'seed', 'election', 'heartbeat'].includes(key)) throw new Error(`unknown cluster option ${key}`);
    }
    if (Object.keys(unsafe).length > 0) config['unsafe'] = unsafe;
    session.cluster = new TestCluster({
      size: Number(opts.get('size') ?? 3),
      seed: Number(opts.get('seed') ?? 1),
      electionTicks: Number(opts.get('election') ?? 10),
      heartbeatTicks: Number(opts.get('heartbeat') ?? 1),
      config,
    });
    return session.cluster.ids().map((id) => formatStatus(session.cluster!.node(id)));
  },

  /** `campaign 1`: the node starts an election now (PreVote first, when on). */
  campaign(session, [id]) {
    const c = cluster(session);
    c.node(nodeId(id)).campaign();
    c.processReady(nodeId(id));
    return [];
  },

  /** `propose 1 x [y ...]`: one proposal per argument; prints where each went, or the error. */
  propose(session, [id, ...data]) {
    const c = cluster(session);
    const node = c.node(nodeId(id));
    const lines = data.map((d) =>
      tryRaft(() => {
        const { index, term } = node.propose(bytes(d));
        return `proposed ${d} at ${index}@${term}`;
      }),
    );
    c.processReady(nodeId(id));
    return lines;
  },

  /** `read-index 1 ctx`: a linearizable read request; its result shows up as a `read` line later. */
  'read-index'(session, [id, context]) {
    const c = cluster(session);
    const line = tryRaft(() => {
      c.node(nodeId(id)).readIndex(bytes(context ?? ''));
      return '';
    });
    c.processReady(nodeId(id));
    return line === '' ? [] : [line];
  },

  /** `transfer 1 2`: leader 1 hands leadership to 2. */
  transfer(session, [from, to]) {
    const c = cluster(session);
    const line = tryRaft(() => {
      c.node(nodeId(from)).transferLeadership(nodeId(to));
      return '';
    });
    c.processReady(nodeId(from));
    return line === '' ? [] : [line];
  },

  /** `deliver [1->2 [type]]`: delivers the matching messages in flight, in order. */
  deliver(session, args) {
    const c = cluster(session);
    eachMatching(c, args, (position) => c.deliverAt(position));
    return [];
  },

  /** `drop [1->2 [type]]`: the network loses the matching messages in flight. */
  drop(session, args) {
    const c = cluster(session);
    eachMatching(c, args, (position) => c.dropAt(position));
    return [];
  },

  /** `duplicate [1->2 [type]]`: each matching message will arrive a second time, after the others. */
  duplicate(session, args) {
    const c = cluster(session);
    const lines: string[] = [];
    eachMatching(c, args, (position) => lines.push(`duplicated ${formatMessage(c.duplicateAt(position))}`));
    return lines;
  },

  /** `pending`: the messages in flight, in delivery order. */
  pending(session) {
    const c = cluster(session);
    return c.inFlight.map((m) => `pending ${formatMessage(m)}`);
  },

  /** `partition 1 2 / 3`: cuts every link between the groups, both ways. */
  partition(session, args) {
    const groups: NodeId[][] = [[]];
    for (const arg of args) {
      if (arg === '/') groups.push([]);
      else groups[groups.length - 1]!.push(nodeId(arg));
    }
    cluster(session).partition(...groups);
    return [`partitioned ${groups.map((g) => g.join(',')).join(' / ')}`];
  },

  heal(session) {
    cluster(session).heal();
    return ['healed'];
  },

  /** `tick 1 [n]` or `tick all [n]`: advances logical time. */
  tick(session, [who, times]) {
    const c = cluster(session);
    const n = times === undefined ? 1 : Number(times);
    if (who === 'all') c.tickAll(n);
    else c.tick(nodeId(who), n);
    return [];
  },

  /** `stabilize`: delivers every message, including the ones that causes, until the network is quiet. */
  stabilize(session) {
    cluster(session).stabilize();
    return [];
  },

  /** `crash 3`: the node stops, keeping only what it persisted; its messages in flight are lost. */
  crash(session, [id]) {
    cluster(session).crash(nodeId(id));
    return [`crashed ${nodeId(id)}`];
  },

  /** `restart 3`: the node starts again from its storage. */
  restart(session, [id]) {
    const c = cluster(session);
    c.restart(nodeId(id));
    return [formatStatus(c.node(nodeId(id)))];
  },

  /** `compact 1 5`: node 1 snapshots its state at index 5 and drops its log up to there. */
  compact(session, [id, index]) {
    const snapshot = cluster(session).compact(nodeId(id), Number(index));
    return [`${nodeId(id)}: snapshot at (${snapshot.meta.index},${snapshot.meta.term}), log compacted`];
  },

  /** `status [ids]`: one line per node. */
  status(session, args) {
    const c = cluster(session);
    return idsOrAll(c, args).map((id) => (c.down.has(id) ? `${id}: down` : formatStatus(c.node(id))));
  },

  /** `log [ids]`: each node's log (from its first retained index). */
  log(session, args) {
    const c = cluster(session);
    return idsOrAll(c, args).map((id) => {
      const node = c.node(id);
      const storage = c.storages.get(id)!;
      const first = Math.max(1, storage.firstIndex());
      const entries = node.entries(first, node.status().lastIndex + 1);
      return `${id}: ${first > 1 ? `(snapshot ${first - 1}) ` : ''}${formatEntries(entries)}`;
    });
  },

  /** `progress 1`: the leader's view of each follower. */
  progress(session, [id]) {
    const lines = formatProgress(cluster(session).node(nodeId(id)));
    return lines.length > 0 ? lines : [`${nodeId(id)}: not the leader`];
  },

  /** `applied [ids]`: the commands each node's state machine applied, in order. */
  applied(session, args) {
    const c = cluster(session);
    return idsOrAll(c, args).map((id) => `${id}: ${formatEntries(c.applied.get(id)!.filter((e) => e.data.length > 0))}`);
  },
};
