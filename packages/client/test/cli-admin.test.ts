import t from 'tap';
import { EXIT, memberTable, runCli } from '../src/run-cli.js';
import type { ClientRequest, MemberInfo } from '../src/protocol.js';
import { fakeNode, type Action } from './support/fake-node.js';

async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n'), errLines: err.length };
}

const MEMBERS: MemberInfo[] = [
  { id: 2, peer: '127.0.0.1:7002', client: '127.0.0.1:8002', role: 'voter', leader: false, match: 40, lag: 2 },
  { id: 1, peer: '127.0.0.1:7001', client: '127.0.0.1:8001', role: 'voter', leader: true, match: 42, lag: 0 },
  { id: 4, peer: null, client: null, role: 'learner', leader: false, match: null, lag: null },
];

/** A leader that answers every admin op, or refuses all of them with `refuse` when given. */
function adminScript(refuse?: { code: 'unauthorized' | 'refused'; message: string }): (req: ClientRequest) => Action {
  return (req) => {
    if (refuse !== undefined) return { reply: { ok: false, error: refuse } };
    switch (req.op) {
      case 'member-list':
      case 'member-add':
        return { reply: { ok: true, members: MEMBERS } };
      case 'member-promote':
      case 'member-remove':
      case 'member-replace':
        return { reply: { ok: true, index: 57 } };
      case 'snapshot-now':
        return { reply: { ok: true, index: 99 } };
      case 'leader-transfer':
        return { reply: { ok: true } };
      default:
        return { silent: true };
    }
  };
}

t.test('member list prints a table sorted by id, or the outcome as JSON', async (t) => {
  const node = await fakeNode(adminScript());
  t.teardown(() => node.close());
  const e = ['--endpoints', node.endpoint];
  const list = await run([...e, 'member', 'list']);
  t.equal(list.code, EXIT.ok);
  t.same(list.out.split('\n'), [
    'ID  ROLE     LEADER  PEER            CLIENT          MATCH  LAG',
    '1   voter    *       127.0.0.1:7001  127.0.0.1:8001  42     0',
    '2   voter            127.0.0.1:7002  127.0.0.1:8002  40     2',
    '4   learner          -               -               -      -',
  ]);
  for (const args of [
    ['member', 'list', '--json'],
    ['--json', 'member', 'list'],
  ]) {
    const json = await run([...e, ...args]);
    t.equal(json.code, EXIT.ok);
    t.same(JSON.parse(json.out), { status: 'ok', members: MEMBERS }, args.join(' '));
  }
  t.equal(node.requests.filter((r) => r.op === 'member-list').length, 3);
  t.same(memberTable([]), ['ID  ROLE  LEADER  PEER  CLIENT  MATCH  LAG'], 'no members: the header only');
});

t.test('member add, promote, remove, leader transfer and snapshot now send their requests and say what happened', async (t) => {
  const node = await fakeNode(adminScript());
  t.teardown(() => node.close());
  const e = ['--endpoints', node.endpoint];
  const add = await run([...e, 'member', 'add', '4', '--peer', '10.0.0.4:7001', '--client', '10.0.0.4:8001']);
  t.equal(add.code, EXIT.ok);
  t.match(add.out.split('\n'), ['ok: node 4 added as a learner', /^ID +ROLE/, /^1 /, /^2 /, /^4 +learner/]);
  t.match(node.requests.at(-1), { op: 'member-add', node: 4, peer: '10.0.0.4:7001', client: '10.0.0.4:8001' });

  t.match(await run([...e, 'member', 'promote', '4']), { code: EXIT.ok, out: 'ok: node 4 promoted to voter (log index 57)' });
  t.match(node.requests.at(-1), { op: 'member-promote', node: 4 });
  t.match(await run([...e, 'member', 'remove', '2']), { code: EXIT.ok, out: 'ok: node 2 removed (log index 57)' });
  t.match(node.requests.at(-1), { op: 'member-remove', node: 2 });
  t.match(await run([...e, 'member', 'replace', '2', '5']), { code: EXIT.ok, out: 'ok: node 2 replaced by node 5 (log index 57)' });
  t.match(node.requests.at(-1), { op: 'member-replace', node: 2, by: 5 });
  t.match(await run([...e, 'leader', 'transfer', '3']), { code: EXIT.ok, out: 'ok: the leader is handing leadership to node 3' });
  t.match(node.requests.at(-1), { op: 'leader-transfer', node: 3 });
  t.match(await run([...e, 'snapshot', 'now']), { code: EXIT.ok, out: 'ok: snapshot taken up to log index 99' });
  t.match(node.requests.at(-1), { op: 'snapshot-now' });
  t.match(await run([...e, '--json', 'member', 'remove', '2']), { code: EXIT.ok, out: '{"status":"ok","index":57}' });
  t.notOk(
    node.requests.some((r) => 'token' in r),
    'no token is sent when neither --admin-token nor KVAPP_ADMIN_TOKEN is given',
  );
});

t.test('--admin-token, or KVAPP_ADMIN_TOKEN, is sent with admin requests; the flag wins', async (t) => {
  const node = await fakeNode(adminScript());
  t.teardown(() => node.close());
  const e = ['--endpoints', node.endpoint];
  const tokenOf = () => (node.requests.at(-1) as { token?: string }).token;
  t.match(await run([...e, '--admin-token', 's3cret', 'member', 'list']), { code: EXIT.ok });
  t.equal(tokenOf(), 's3cret');
  t.match(await run([...e, 'member', 'remove', '2', '--admin-token', 'after']), { code: EXIT.ok });
  t.equal(tokenOf(), 'after', 'also after the command');
  t.match(await run([...e, 'snapshot', 'now'], { KVAPP_ADMIN_TOKEN: 'from-env' }), { code: EXIT.ok });
  t.equal(tokenOf(), 'from-env');
  t.match(await run([...e, '--admin-token', 'flag', 'snapshot', 'now'], { KVAPP_ADMIN_TOKEN: 'from-env' }), { code: EXIT.ok });
  t.equal(tokenOf(), 'flag');
  const sent = node.requests.length;
  t.match(await run([...e, 'member', 'list'], { KVAPP_ADMIN_TOKEN: '' }), { code: EXIT.usage, err: /KVAPP_ADMIN_TOKEN is empty/ });
  t.match(await run([...e, '--admin-token', '', 'member', 'list']), { code: EXIT.usage, err: /--admin-token is empty/ });
  t.equal(node.requests.length, sent, 'nothing sent with an empty token');
});

t.test('unauthorized and refused are "not applied": exit 1 and one line naming the code and the reason', async (t) => {
  const unauthorized = await fakeNode(adminScript({ code: 'unauthorized', message: 'the admin token is wrong' }));
  const refused = await fakeNode(adminScript({ code: 'refused', message: 'node 4 lags the leader by 5000 entries' }));
  t.teardown(async () => (await unauthorized.close(), await refused.close()));
  for (const command of [
    ['member', 'list'],
    ['member', 'add', '4', '--peer', 'h:1', '--client', 'h:2'],
    ['member', 'promote', '4'],
    ['member', 'remove', '4'],
    ['leader', 'transfer', '4'],
    ['snapshot', 'now'],
  ]) {
    const what = command.filter((w) => !w.startsWith('-') && !w.startsWith('h:')).join(' ');
    const u = await run(['--endpoints', unauthorized.endpoint, '--admin-token', 'nope', ...command]);
    t.match(u, { code: EXIT.fail, out: '', errLines: 1 }, `${what}: unauthorized`);
    t.equal(
      u.err,
      `${what}: not applied (unauthorized): the admin token is wrong (give --admin-token or set KVAPP_ADMIN_TOKEN, or use a client port on loopback)`,
    );
    const r = await run(['--endpoints', refused.endpoint, ...command]);
    t.match(r, { code: EXIT.fail, out: '', errLines: 1 }, `${what}: refused`);
    t.equal(r.err, `${what}: not applied (refused): node 4 lags the leader by 5000 entries`);
  }
  const json = await run(['--endpoints', refused.endpoint, '--json', 'member', 'promote', '4']);
  t.equal(json.code, EXIT.fail);
  t.same(JSON.parse(json.out), { status: 'fail', error: { code: 'refused', message: 'node 4 lags the leader by 5000 entries' } });
  t.equal(unauthorized.requests.length, 6, 'each refused once, not retried');
});

t.test('a change whose answer never comes is outcome unknown (exit 2), sent once; nothing listening is not applied', async (t) => {
  const silent = await fakeNode(() => ({ silent: true }));
  t.teardown(() => silent.close());
  const r = await run(['--endpoints', silent.endpoint, '--deadline-ms', '1500', 'member', 'remove', '3']);
  t.match(r, { code: EXIT.indeterminate, err: /^member remove 3: outcome unknown, it may or may not have been applied/, errLines: 1 });
  t.equal(silent.requests.filter((q) => q.op === 'member-remove').length, 1, 'a change of unknown fate is not sent again');
  const port = Number(silent.endpoint.split(':')[1]);
  await silent.close();
  t.match(await run(['--endpoints', `127.0.0.1:${port}`, 'member', 'list']), {
    code: EXIT.fail,
    err: /^member list: not applied \(unavailable\)/,
  });
});

t.test('bad input: one line, exit 3, nothing sent', async (t) => {
  const node = await fakeNode(adminScript());
  t.teardown(() => node.close());
  const e = ['--endpoints', node.endpoint];
  const cases: Array<[string[], RegExp]> = [
    [['member', 'remove', 'two'], /^kvapp member remove: the node id must be a positive integer, got "two"$/],
    [['member', 'replace', '2', 'x'], /^kvapp member replace: the node id must be a positive integer, got "x"$/],
    [['member', 'promote', '1.5'], /^kvapp member promote: the node id must be a positive integer, got "1.5"$/],
    [['member', 'promote', '0'], /got "0"$/],
    [['member', 'promote', '99999999999999999999'], /positive integer/],
    [['leader', 'transfer', '0x2'], /^kvapp leader transfer: the node id must be a positive integer/],
    [['member', 'add', 'x', '--peer', 'h:1', '--client', 'h:2'], /^kvapp member add: the node id must be a positive integer/],
    [['member', 'add', '4', '--client', 'h:2'], /^kvapp member add: --peer host:port is required$/],
    [['member', 'add', '4', '--peer', 'h:1'], /^kvapp member add: --client host:port is required$/],
    [['member', 'add', '4', '--peer', 'nonsense', '--client', 'h:2'], /^kvapp member add: --peer host:port is required, got "nonsense"$/],
  ];
  for (const [args, message] of cases) {
    const r = await run([...e, ...args]);
    t.match(r, { code: EXIT.usage, out: '', errLines: 1, err: message }, args.join(' '));
    t.notMatch(r.err, /\n\s+at /, 'no stack trace');
  }
  t.match(await run([...e, 'member', 'remove']), { code: EXIT.usage, err: /missing required argument 'id'/ });
  t.match(await run(['member', 'list']), { code: EXIT.usage, err: /no endpoints/ });
  t.equal(node.requests.length, 0, 'nothing was sent');
  t.match(await run(['member', '--help']), { code: EXIT.ok, out: /list[\s\S]*add[\s\S]*promote[\s\S]*remove/ });
  t.match(await run(['--help']), { code: EXIT.ok, out: /--admin-token[\s\S]*KVAPP_ADMIN_TOKEN[\s\S]*leader[\s\S]*snapshot/ });
});
