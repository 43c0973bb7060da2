import { setTimeout as sleep } from 'node:timers/promises';
import { KvClient } from '@kvapp/client';
import type { MemberInfo, Outcome } from '@kvapp/client';
import type { KvCluster } from '../../run/kv-cluster.js';
import type { Workload, OpSeen } from '../../workload/workload.js';
import { bandColours } from '../band-colours.js';
import { membershipNote, runStep, stepAvailability, stepOrder } from '../membership.js';
import type { MembershipDriver, StepKind } from '../membership.js';
import type { FaultContext, NemesisModule } from '../module.js';

const adminDeadlineMs = 3000;

/** The steps still to take in this run, by cluster: a seeded order of the kinds, drawn again when used up. */
const queues = new WeakMap<KvCluster, StepKind[]>();

/** The membership driver on a live cluster: admin requests through the client proxies (loopback: no token needed). */
export function clusterDriver(
  cluster: KvCluster,
  workload: Workload,
  ctx: Pick<FaultContext, 'signal' | 'clock'>,
): MembershipDriver & { close(): void } {
  let admin: KvClient | null = null;
  let adminFor = '';
  const client = (): KvClient => {
    const endpoints = cluster.clientEndpoints();
    if (admin === null || adminFor !== endpoints.join(',')) {
      admin?.close();
      admin = new KvClient({ endpoints, opDeadlineMs: adminDeadlineMs, attemptMsMax: 1000 });
      adminFor = endpoints.join(',');
    }
    return admin;
  };
  const started = performance.now();
  return {
    ids: () => cluster.ids,
    leader: () => cluster.leader(),
    members: async (): Promise<readonly MemberInfo[] | null> => {
      const o = await client().listMembers();
      return o.status === 'ok' && o.members !== undefined ? o.members : null;
    },
    add: async (id): Promise<Outcome> =>
      client().addMember(Number(id), { peer: await cluster.peerAddressForOthers(id), client: cluster.clientEndpoint(id) }),
    promote: (id) => client().promoteMember(Number(id)),
    remove: (id) => client().removeMember(Number(id)),
    replace: (id, by) => client().replaceMember(Number(id), Number(by)),
    startJoining: () => cluster.addNode(),
    retire: (id) => cluster.retire(id),
    kill: (id) => cluster.kill(id),
    restart: (id) => cluster.ensureRunning(id),
    healthy: () => cluster.healthy(),
    endpointsChanged: () => workload.setEndpoints(cluster.clientEndpoints()),
    now: () => ctx.clock?.now() ?? Math.round((performance.now() - started) * 1e6),
    sleep: (ms) => sleep(ms, undefined, { signal: ctx.signal }),
    close: () => admin?.close(),
  };
}

/**
 * Membership changes under the workload, one step per fault, drawn from the seed: a voter (the
 * leader a third of the time) removed and added back; a node replaced by a fresh one (new id, empty
 * data dir, --join, promoted, then the old one removed and stopped); 3 → 5 voters and back; a
 * removal, or a joint change (one voter replaced by a learner), with a node killed a few ms after it
 * was proposed. The step runs from the fault's start;
 * the heal waits for it (bounded) and ends the period with what it did, the configuration after
 * each change, and the workload's availability during the step.
 */
export const membership: NemesisModule = {
  description: 'remove and re-add a voter (the leader too), replace a node by a fresh one, grow 3 → 5 and back, kill a node mid-change',
  start: async (ctx) => {
    const { cluster, workload, random } = ctx;
    let queue = queues.get(cluster);
    if (queue === undefined || queue.length === 0) queues.set(cluster, (queue = stepOrder(random)));
    const kind = queue.shift()!;
    const driver = clusterDriver(cluster, workload, ctx);
    const seen: OpSeen[] = [];
    const unwatch = workload.watch((op) => seen.push(op));
    const fromMs = performance.now();
    const actions: string[] = [];
    const step = runStep(kind, driver, random, undefined, actions).then(
      (r) => r,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    return {
      // The same array the step fills: the end line (written after the heal) lists what it did, failed or not.
      detail: { step: kind, actions },
      heal: async () => {
        try {
          const r = await step;
          if (r instanceof Error) throw r;
          const toMs = performance.now();
          return { ...r, availability: stepAvailability(seen, fromMs, Math.min(toMs, fromMs + r.ms)) };
        } finally {
          unwatch();
          driver.close();
        }
      },
    };
  },
  inMix: false,
  nodesMin: 3,
  suiteNodes: { ci: 3, nightly: 3 },
  // CI: steps back to back (each takes a few seconds; the heal waits for it) for 18 s, the whole run under 30 s; nightly: minutes.
  suiteTiming: { ci: { faultS: 1, recoverS: 1, timeLimitS: 18 }, nightly: { faultS: 1, recoverS: 3, timeLimitS: 240 } },
  note: membershipNote,
  band: { label: 'membership', colour: bandColours.membership },
};
