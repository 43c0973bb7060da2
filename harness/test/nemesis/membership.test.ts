import t from 'tap';
import type { MemberInfo, Outcome } from '@kvapp/client';
import {
  MembershipStepError,
  membershipNote,
  runStep,
  stepAvailability,
  stepKinds,
  stepOrder,
  type MembershipDriver,
  type StepBounds,
  type StepKind,
} from '../../src/nemesis/membership.js';
import { seededRandom } from '../../src/nemesis/partitions.js';
import { configurationSpans, configurationStrip } from '../../src/report/configuration.js';
import type { OpSeen } from '../../src/workload/workload.js';

t.test('stepOrder: a permutation of the four kinds, the same for a seed', async (t) => {
  const orders = new Set<string>();
  for (let seed = 1; seed <= 20; seed++) {
    const o = stepOrder(seededRandom(seed));
    t.same([...o].sort(), [...stepKinds].sort(), `seed ${seed}: each kind once`);
    t.same(stepOrder(seededRandom(seed)), o, `seed ${seed}: replayed`);
    orders.add(o.join(','));
  }
  t.ok(orders.size > 5, `seeds give different orders (${orders.size} of 20)`);
});

t.test('stepAvailability: ok over ops invoked in the window, and the longest stretch without an ok write', async (t) => {
  const op = (f: OpSeen['f'], invokedMs: number, completedMs: number, status: OpSeen['status']): OpSeen => ({
    f,
    invokedMs,
    completedMs,
    status,
  });
  const ops = [
    op('write', 50, 60, 'ok'), // before the window: not counted, and its completion does not end the first gap
    op('read', 100, 110, 'ok'),
    op('write', 120, 130, 'ok'),
    op('cas', 200, 250, 'fail'),
    op('write', 300, 900, 'info'),
    op('delete', 400, 700, 'ok'),
    op('read', 1200, 1210, 'ok'), // after the window
  ];
  const a = stepAvailability(ops, 100, 1000);
  t.same(a, { ops: 5, ok: 3, share: 0.6, okWriteGapMs: 570 }, 'writes ok at 130 and 700: gaps 30, 570, 300');
  t.same(stepAvailability([], 0, 500), { ops: 0, ok: 0, share: null, okWriteGapMs: 500 }, 'no operation: the whole window is a gap');
  t.equal(stepAvailability([op('read', 10, 20, 'ok')], 0, 500).okWriteGapMs, 500, 'reads do not end a gap');
});

t.test('membershipNote: the step, what it did, availability and the configuration after; or why it failed', async (t) => {
  const line = membershipNote({
    step: 'replace',
    actions: ['join 4', 'remove 2', 'stop 2'],
    ms: 2460,
    availability: { ops: 162, ok: 139, share: 0.858, okWriteGapMs: 240 },
    confAfter: { voters: [1, 3, 4], learners: [], leaving: [] },
  });
  t.equal(
    line,
    'replace (join 4, remove 2, stop 2) in 2.46 s: 139/162 ops ok (85.8%), longest gap without an ok write 240 ms; after: voters 1,3,4',
  );
  t.match(membershipNote({ step: 'grow-shrink', actions: ['join 4'], healError: 'boom' }), /^grow-shrink failed \(join 4\): boom$/);
  t.equal(membershipNote({ step: 'replace' }), null, 'a start line says nothing');
});

/** A cluster of members in memory, changed at once by the admin requests; `broken` plants a bug. */
function stubCluster(options: { broken?: 'promote' | 'remove' } = {}) {
  const members = new Map<number, MemberInfo['role']>([
    [1, 'voter'],
    [2, 'voter'],
    [3, 'voter'],
  ]);
  let ids = ['1', '2', '3'];
  let next = 4;
  const log: string[] = [];
  const ok: Outcome = { status: 'ok' };
  const list = (): MemberInfo[] =>
    [...members].map(([id, role]) => ({
      id,
      role,
      peer: null,
      client: null,
      leader: id === Math.min(...[...members.keys()]),
      match: 0,
      lag: 0,
    }));
  const driver: MembershipDriver = {
    ids: () => ids,
    leader: async () => String(Math.min(...[...members].filter(([, r]) => r === 'voter').map(([id]) => id))),
    members: async () => list(),
    add: async (id) => {
      log.push(`add ${id}`);
      if (!members.has(Number(id))) members.set(Number(id), 'learner');
      return ok;
    },
    promote: async (id) => {
      log.push(`promote ${id}`);
      if (options.broken !== 'promote' && members.get(Number(id)) === 'learner') members.set(Number(id), 'voter');
      return ok;
    },
    remove: async (id) => {
      log.push(`remove ${id}`);
      if (options.broken !== 'remove') members.delete(Number(id));
      return ok;
    },
    replace: async (id, by) => {
      log.push(`replace ${id} by ${by}`);
      if (members.get(Number(by)) === 'learner' && members.get(Number(id)) === 'voter') {
        members.delete(Number(id));
        members.set(Number(by), 'voter');
      }
      return ok;
    },
    startJoining: async () => {
      const id = next++;
      ids = [...ids, String(id)];
      members.set(id, 'learner');
      // It promotes itself once caught up.
      setTimeout(() => members.get(id) === 'learner' && members.set(id, 'voter'), 5);
      log.push(`join ${id}`);
      return String(id);
    },
    retire: async (id) => {
      ids = ids.filter((x) => x !== id);
      log.push(`retire ${id}`);
    },
    kill: async (id) => void log.push(`kill ${id}`),
    restart: async (id) => void log.push(`restart ${id}`),
    healthy: async () => true,
    endpointsChanged: () => void log.push(`endpoints ${ids.join(',')}`),
    now: () => log.length,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
  return { driver, log, members, ids: () => ids };
}

const fast: StepBounds = { changeMsMax: 300, joinMsMax: 300, healthyMsMax: 300, pollMs: 5 };

for (const kind of stepKinds) {
  t.test(`runStep ${kind}: ends with three voters, the running nodes, and records each change`, async (t) => {
    const c = stubCluster();
    const r = await runStep(kind as StepKind, c.driver, seededRandom(7), fast);
    t.equal(r.step, kind);
    t.equal(r.confBefore.voters.join(','), '1,2,3');
    t.equal(r.confAfter.voters.length, 3, 'three voters again');
    t.same(r.confAfter.voters.map(String), c.ids(), 'the voters are the nodes the harness keeps running');
    t.same(r.confAfter.learners, []);
    t.ok(r.changes.length >= 2, `changes recorded: ${r.changes.map((x) => x.what).join('; ')}`);
    t.ok(r.actions.length >= 2, `actions: ${r.actions.join(', ')}`);
    if (kind === 'replace') {
      t.same(r.added, ['4']);
      t.equal(r.retired.length, 1);
      t.ok(c.log.includes('endpoints 1,2,3,4'), 'the clients learned the new node before the old one left');
    }
    if (kind === 'grow-shrink') {
      t.same(r.added, ['4', '5']);
      t.equal(r.retired.length, 2);
      t.ok(
        r.changes.some((x) => x.voters.length === 5),
        'five voters at one point',
      );
    }
    if (kind === 'kill-mid-change' || kind === 'kill-mid-joint')
      t.ok(c.log.some((l) => l.startsWith('kill ')) && c.log.some((l) => l.startsWith('restart ')));
    if (kind === 'kill-mid-joint')
      t.ok(
        c.log.some((l) => /^replace \d by \d$/.test(l)),
        'a joint change was proposed',
      );
  });
}

t.test('planted bug: a promote that is skipped (answered ok, nothing changes) fails the "a voter after promote" wait', async (t) => {
  const c = stubCluster({ broken: 'promote' });
  const actions: string[] = [];
  await t.rejects(runStep('remove-rejoin', c.driver, seededRandom(1), fast, actions), {
    constructor: MembershipStepError,
    message: /remove-rejoin: node \d a voter after promote not seen within 300 ms \(last request: ok; members voters .* learners \d\)/,
  });
  t.match(actions.join(', '), /remove \d.*, add \d, promote \d/, 'the actions so far are kept for the end line');
});

t.test('planted bug: a removal that does not take fails its wait', async (t) => {
  const c = stubCluster({ broken: 'remove' });
  await t.rejects(runStep('replace', c.driver, seededRandom(1), fast), /replace: node \d removed not seen within 300 ms/);
});

t.test('configurationSpans: the configuration before the first step, then after each change, until the end', async (t) => {
  const conf = (voters: number[], learners: number[] = []) => ({ voters, learners, leaving: [] });
  const lines = [
    { time: 1e9, nemesis: 'membership', phase: 'start' as const, detail: { step: 'remove-rejoin' } },
    {
      time: 3e9,
      nemesis: 'membership',
      phase: 'end' as const,
      detail: {
        confBefore: conf([1, 2, 3]),
        changes: [
          { t: 1.5e9, what: 'removed 2', ...conf([1, 3]) },
          { t: 2e9, what: 'added 2 (learner)', ...conf([1, 3], [2]) },
          { t: 2.5e9, what: 'promoted 2', ...conf([1, 2, 3]) },
        ],
      },
    },
    { time: 4e9, nemesis: 'kill', phase: 'end' as const, detail: { changes: [{ t: 4e9, ...conf([9]) }] } },
  ];
  const spans = configurationSpans(lines, 5e9);
  t.same(
    spans.map((s) => [s.start / 1e9, s.end / 1e9, s.voters.join(','), s.learners.join(',')]),
    [
      [0, 1.5, '1,2,3', ''],
      [1.5, 2, '1,3', ''],
      [2, 2.5, '1,3', '2'],
      [2.5, 5, '1,2,3', ''],
    ],
  );
  t.same(configurationSpans([], 5e9), [], 'no membership step, no bands');
  const svg = configurationStrip(spans, 5);
  t.equal((svg.match(/class="conf-band"/g) ?? []).length, 4, 'one band per span');
  t.match(svg, /voters 1,3 · learners 2/, 'a tooltip names the configuration');
});
