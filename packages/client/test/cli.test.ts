import t from 'tap';
import { spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { EXIT, runCli, STDIN_VALUE_BYTES_MAX } from '../src/run-cli.js';
import { deadEndpoint, fakeNode, leaderScript } from './support/fake-node.js';

async function run(args: string[], more: { env?: Record<string, string>; stdin?: Array<string | Uint8Array> } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: more.env ?? {},
    stdin: (async function* () {
      yield* more.stdin ?? [];
    })(),
  });
  return { code, out: out.join('\n'), err: err.join('\n'), errLines: err.length };
}

t.test('put, get, cas, delete, status against a node', async (t) => {
  const node = await fakeNode(leaderScript(new Map([['k', 'old']])));
  t.teardown(() => node.close());
  const e = ['--endpoints', node.endpoint, '--deadline-ms', '1000'];
  t.match(await run([...e, 'get', 'k']), { code: EXIT.ok, out: 'old' });
  t.match(await run([...e, 'put', 'k', 'new']), { code: EXIT.ok, out: /previous value: old/ });
  t.match(await run([...e, 'cas', 'k', 'x', '--expected', 'wrong']), { code: EXIT.fail, err: /not applied, the key holds "new"/ });
  t.match(await run([...e, 'cas', 'k', 'newer', '--expected', 'new']), { code: EXIT.ok });
  t.match(await run([...e, 'delete', 'k']), { code: EXIT.ok });
  t.match(await run([...e, 'get', 'k']), { code: EXIT.ok, err: /absent/ });
  t.match(await run([...e, '--json', 'get', 'k', '--serializable']), { code: EXIT.ok, out: '{"status":"ok","value":null}' });
  t.match(await run([...e, 'status']), { code: EXIT.ok, out: /node 1\s+leader\s+term 3/ });
});

t.test('indeterminate and unreachable outcomes have their own exit codes and messages', async (t) => {
  const silent = await fakeNode((req) => (req.op === 'register' ? { reply: { ok: true, clientId: 'c' } } : { silent: true }));
  t.teardown(() => silent.close());
  t.match(await run(['--endpoints', silent.endpoint, '--deadline-ms', '300', 'put', 'k', 'v']), {
    code: EXIT.indeterminate,
    err: /outcome unknown/,
  });
  t.match(await run(['--endpoints', await deadEndpoint(), '--deadline-ms', '300', 'put', 'k', 'v']), {
    code: EXIT.fail,
    err: /not applied/,
  });
});

t.test('usage errors exit 3 with a message', async (t) => {
  t.match(await run(['get', 'k']), { code: EXIT.usage, err: /endpoints/ });
  t.match(await run(['--endpoints', 'nonsense', 'get', 'k']), { code: EXIT.usage, err: /host:port/ });
  t.match(await run(['--endpoints', 'h:1', 'cas', 'k', 'v']), { code: EXIT.usage, err: /--expected/ });
  t.match(await run(['--endpoints', 'h:1', 'frobnicate']), { code: EXIT.usage });
  t.match(await run(['--endpoints', 'h:1', '--deadline-ms', '-5', 'get', 'k']), { code: EXIT.usage });
});

t.test('KVAPP_ENDPOINTS stands in for --endpoints; the flag wins', async (t) => {
  const node = await fakeNode(leaderScript(new Map([['k', 'v']])));
  t.teardown(() => node.close());
  t.match(await run(['get', 'k'], { env: { KVAPP_ENDPOINTS: node.endpoint } }), { code: EXIT.ok, out: 'v' });
  const dead = await deadEndpoint();
  t.match(await run(['--endpoints', node.endpoint, 'get', 'k'], { env: { KVAPP_ENDPOINTS: dead } }), { code: EXIT.ok, out: 'v' });
  t.match(await run(['get', 'k'], { env: { KVAPP_ENDPOINTS: 'nonsense' } }), {
    code: EXIT.usage,
    err: /KVAPP_ENDPOINTS must be host:port/,
  });
  t.match(await run(['get', 'k']), { code: EXIT.usage, err: /--endpoints .* or set KVAPP_ENDPOINTS/ });
});

t.test('a value of - is read from standard input, byte for byte, and bounded', async (t) => {
  const store = new Map<string, string>();
  const node = await fakeNode(leaderScript(store));
  t.teardown(() => node.close());
  const e = ['--endpoints', node.endpoint];
  const value = 'line one\nλ line two\n';
  t.match(await run([...e, 'put', 'k', '-'], { stdin: [Buffer.from(value).subarray(0, 5), Buffer.from(value).subarray(5)] }), {
    code: EXIT.ok,
  });
  t.equal(store.get('k'), value, 'stored as piped in, trailing newline included');
  t.match(await run([...e, 'cas', 'k', '-', '--expected', value], { stdin: ['new'] }), { code: EXIT.ok });
  t.equal(store.get('k'), 'new');

  const sentBefore = node.requests.length;
  const big = Buffer.alloc(STDIN_VALUE_BYTES_MAX + 1, 'x');
  const tooBig = await run([...e, 'put', 'big', '-'], { stdin: [big.subarray(0, 1000), big.subarray(1000)] });
  t.match(tooBig, {
    code: EXIT.usage,
    err: new RegExp(`^put big: the value on standard input is larger than ${STDIN_VALUE_BYTES_MAX} bytes`),
  });
  t.equal(tooBig.errLines, 1, 'one line');
  t.match(await run([...e, 'put', 'k', '-'], { stdin: [Buffer.from([0x66, 0xff])] }), { code: EXIT.usage, err: /not UTF-8/ });
  t.equal(node.requests.length, sentBefore, 'nothing was sent for a value that could not be read');
});

t.test('the kvapp command reads 2 MB on its standard input without "Argument list too long"', async (t) => {
  const node = await fakeNode(leaderScript());
  t.teardown(() => node.close());
  const cli = fileURLToPath(new URL('../bin/kvapp.js', import.meta.url));
  const env = { ...process.env, KVAPP_ENDPOINTS: node.endpoint };
  delete env['NODE_OPTIONS'];
  const run = async (bytes: number) => {
    const child = spawn(process.execPath, [cli, 'put', 'k', '-'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.on('error', () => undefined); // it may stop reading at the bound, before all is written
    child.stdin.end(Buffer.alloc(bytes, 'v'));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stdout, stderr };
  };
  const small = await run(200_000);
  t.match(small, { code: EXIT.ok, stdout: /ok \(key was absent\)/ }, 'a value larger than one argv string may be (128 KiB)');
  const put = node.requests.find((r) => r.op === 'put');
  t.equal(put?.op === 'put' && put.value.length, 200_000, 'the whole value was sent');
  const big = await run(2_000_000);
  t.equal(big.code, EXIT.usage);
  t.match(big.stderr, /^put k: the value on standard input is larger than \d+ bytes, the most one request can carry\n$/);
});

/** Counts refused connection attempts per port, for every socket this process opens. */
function countRefusals(t: Tap): Map<number, number> {
  const counts = new Map<number, number>();
  const onSocket = (message: unknown) => {
    (message as { socket: Socket }).socket.once('error', (err: NodeJS.ErrnoException & { port?: number }) => {
      if (err.code === 'ECONNREFUSED' && err.port !== undefined) counts.set(err.port, (counts.get(err.port) ?? 0) + 1);
    });
  };
  subscribe('net.client.socket', onSocket);
  t.teardown(() => unsubscribe('net.client.socket', onSocket));
  return counts;
}
type Tap = typeof t;

t.test('when every endpoint refuses the connection, kvapp says so at once, naming them', async (t) => {
  // The deadline is far away: only giving up at once can end this before the test's own timeout.
  t.setTimeout(30_000);
  const dead = [await deadEndpoint(), await deadEndpoint(), await deadEndpoint()];
  const counts = countRefusals(t);
  for (const command of [
    ['put', 'k', 'v'],
    ['get', 'k'],
    ['cas', 'k', 'v', '--absent'],
    ['delete', 'k'],
  ]) {
    counts.clear();
    const r = await run(['--endpoints', dead.join(','), '--deadline-ms', '60000', ...command]);
    t.equal(r.code, EXIT.fail, `${command[0]}: not applied`);
    t.equal(r.errLines, 1, 'one line');
    t.match(r.err, /not applied \(unavailable\).*connection refused by every endpoint/);
    for (const e of dead) {
      t.match(r.err, e, `names ${e}`);
      const n = counts.get(Number(e.split(':')[1])) ?? 0;
      t.ok(n >= 1 && n <= 2, `${e} was tried once or twice, not until the deadline (${n})`);
    }
  }
});

t.test('endpoint health and endpoint status, as text and --json', async (t) => {
  const leader = await fakeNode(leaderScript());
  const lost = await fakeNode((req) =>
    req.op === 'status'
      ? {
          reply: {
            ok: true,
            status: { nodeId: 2, role: 'follower', term: 3, leader: null, leaderId: null, commitIndex: 5, appliedIndex: 4 },
          },
        }
      : { silent: true },
  );
  const dead = await deadEndpoint();
  t.teardown(async () => (await leader.close(), await lost.close()));
  const env = { KVAPP_ENDPOINTS: [leader.endpoint, lost.endpoint, dead].join(',') };

  const health = await run(['endpoint', 'health', '--json'], { env });
  t.equal(health.code, EXIT.fail, 'not all healthy: exit 1');
  const h = JSON.parse(health.out) as unknown[];
  t.match(h, [
    { endpoint: leader.endpoint, reachable: true, answers: true, healthy: true },
    { endpoint: lost.endpoint, reachable: true, answers: true, healthy: false, error: /no leader/ },
    { endpoint: dead, reachable: false, answers: false, healthy: false, error: /ECONNREFUSED/ },
  ]);
  t.notOk('error' in (h[0] as object), 'a healthy endpoint has no error');
  const text = await run(['endpoint', 'health'], { env });
  t.match(text.out.split('\n'), [`${leader.endpoint} is healthy`, /is unhealthy: no leader/, /is unhealthy: unreachable, .*ECONNREFUSED/]);
  t.match(await run(['endpoint', 'health'], { env: { KVAPP_ENDPOINTS: leader.endpoint } }), { code: EXIT.ok });

  const status = await run(['endpoint', 'status', '--json'], { env });
  t.equal(status.code, EXIT.ok, 'some endpoint answered');
  t.match(JSON.parse(status.out), [
    { endpoint: leader.endpoint, ok: true, status: { nodeId: 1, role: 'leader', term: 3, leaderId: 1, commitIndex: 7, appliedIndex: 7 } },
    { endpoint: lost.endpoint, ok: true, status: { nodeId: 2, role: 'follower', leaderId: null, commitIndex: 5, appliedIndex: 4 } },
    { endpoint: dead, ok: false, message: /ECONNREFUSED/ },
  ]);
  const lines = (await run(['endpoint', 'status'], { env })).out.split('\n');
  t.match(lines, [
    /node 1 {2}leader {2}term 3 {2}leader 1 {2}commit 7 {2}applied 7$/,
    /node 2 {2}follower {2}term 3 {2}leader \(none\) {2}commit 5 {2}applied 4$/,
    /unreachable/,
  ]);
  t.match(await run(['endpoint', 'status'], { env: { KVAPP_ENDPOINTS: dead } }), { code: EXIT.fail });
});

t.test('--help and --version exit 0 on stdout', async (t) => {
  const help = await run(['--help']);
  t.match(help, { code: EXIT.ok, out: /^Usage: kvapp /, err: '' });
  t.match(help.out, /KVAPP_ENDPOINTS/);
  t.match(await run(['endpoint', '--help']), { code: EXIT.ok, out: /health/ });
  t.match(await run(['--version']), { code: EXIT.ok, out: /^\d+\.\d+\.\d+/ });
});
