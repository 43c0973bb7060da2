import t from 'tap';
import { EXIT, runCli } from '../src/run-cli.js';
import { deadEndpoint, fakeNode, leaderScript } from './support/fake-node.js';

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
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
  t.match(await run(['--endpoints', silent.endpoint, '--deadline-ms', '300', 'put', 'k', 'v']), { code: EXIT.indeterminate, err: /outcome unknown/ });
  t.match(await run(['--endpoints', await deadEndpoint(), '--deadline-ms', '300', 'put', 'k', 'v']), { code: EXIT.fail, err: /not applied/ });
});

t.test('usage errors exit 3 with a message', async (t) => {
  t.match(await run(['get', 'k']), { code: EXIT.usage, err: /endpoints/ });
  t.match(await run(['--endpoints', 'nonsense', 'get', 'k']), { code: EXIT.usage, err: /host:port/ });
  t.match(await run(['--endpoints', 'h:1', 'cas', 'k', 'v']), { code: EXIT.usage, err: /--expected/ });
  t.match(await run(['--endpoints', 'h:1', 'frobnicate']), { code: EXIT.usage });
  t.match(await run(['--endpoints', 'h:1', '--deadline-ms', '-5', 'get', 'k']), { code: EXIT.usage });
});
