import t from 'tap';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfig, parseHostPort } from '../../src/config/load-config.js';
import { CONFIG_DEFAULTS } from '../../src/config/node-config.js';

const base = [
  '--id',
  '1',
  '--data-dir',
  '/tmp/n1',
  '--peer-listen',
  '127.0.0.1:7001',
  '--client-listen',
  '127.0.0.1:8001',
  '--peers',
  '2=127.0.0.1:7002,3=127.0.0.1:7003',
  '--cluster-secret',
  'correct horse',
];

function problems(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}): string[] {
  try {
    loadConfig({
      argv,
      env,
      readFile: (p) => {
        if (p in files) return files[p]!;
        throw new Error(`ENOENT: ${p}`);
      },
    });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

t.test('a complete command line gives a config with defaults filled in', async (t) => {
  const result = loadConfig({ argv: base, env: {} });
  t.equal(result.help, false);
  if (result.help) return;
  const c = result.config;
  t.equal(c.id, 1);
  t.same([...c.peers.keys()], [2, 3]);
  t.same(c.peers.get(2), { host: '127.0.0.1', port: 7002 });
  t.equal(c.tickMs, 10);
  t.equal(c.httpListen, null);
  t.equal(c.unsafeLocalReads, false);
});

t.test('flags win over the environment, which wins over the file', async (t) => {
  const files = { '/c.json': JSON.stringify({ tickMs: 7, electionMs: 500, heartbeatMs: 40 }) };
  const result = loadConfig({
    argv: [...base, '--config', '/c.json', '--tick-ms', '5'],
    env: { KVAPP_TICK_MS: '6', KVAPP_ELECTION_MS: '400' },
    readFile: (p) => files[p as keyof typeof files],
  });
  if (result.help) throw new Error('unexpected help');
  t.equal(result.config.tickMs, 5, 'flag');
  t.equal(result.config.electionMs, 400, 'environment');
  t.equal(result.config.heartbeatMs, 40, 'file');
});

t.test('every bad value is named, all at once', async (t) => {
  const found = problems(['--id', 'x', '--peer-listen', 'nope', '--peers', '2=a:99999,bad', '--tick-ms=-1']);
  const text = found.join('\n');
  t.match(text, /--id: must be a positive integer, got "x"/);
  t.match(text, /--data-dir: required/);
  t.match(text, /--peer-listen: must be HOST:PORT/);
  t.match(text, /--peers: "2=a:99999" is not ID=HOST:PORT/);
  t.match(text, /--peers: "bad" is not ID=HOST:PORT/);
  t.match(text, /--tick-ms: must be a positive integer, got "-1"/);
  t.match(text, /--cluster-secret or --cluster-secret-file: required/);
});

t.test('unknown flags and unknown file keys are refused', async (t) => {
  t.match(problems([...base, '--bogus']).join(), /bogus/);
  t.match(problems([...base, '--config', '/c.json'], {}, { '/c.json': '{"tikMs": 3}' }).join(), /unknown key "tikMs"/);
  t.match(problems([...base, '--config', '/c.json'], {}, { '/c.json': '{oops' }).join(), /--config \/c.json:/);
});

t.test('the unsafe switch needs KVAPP_ALLOW_UNSAFE=1', async (t) => {
  t.match(problems([...base, '--unsafe-local-reads']).join(), /refused unless KVAPP_ALLOW_UNSAFE=1/);
  t.same(problems([...base, '--unsafe-local-reads'], { KVAPP_ALLOW_UNSAFE: '1' }), []);
});

t.test('timings must be consistent', async (t) => {
  t.match(problems([...base, '--heartbeat-ms', '200', '--election-ms', '300']).join(), /at least twice --heartbeat-ms/);
});

t.test('the secret file is read and trimmed; both forms at once are refused', async (t) => {
  const argv = base.filter((a, i) => a !== '--cluster-secret' && base[i - 1] !== '--cluster-secret');
  const result = loadConfig({ argv: [...argv, '--cluster-secret-file', '/s'], env: {}, readFile: () => 'from a file\n' });
  if (result.help) throw new Error('unexpected help');
  t.equal(result.config.clusterSecret, 'from a file');
  t.match(problems([...base, '--cluster-secret-file', '/s'], {}, { '/s': 'x' }).join(), /give one, not both/);
  t.match(problems([...argv, '--cluster-secret-file', '/missing']).join(), /ENOENT/);
});

t.test('host:port parsing', async (t) => {
  t.same(parseHostPort('localhost:80'), { host: 'localhost', port: 80 });
  t.same(parseHostPort('[::1]:9000'), { host: '::1', port: 9000 });
  t.equal(parseHostPort('localhost'), null);
  t.equal(parseHostPort('h:65536'), null);
});

t.test('--help short-circuits validation', async (t) => {
  t.same(loadConfig({ argv: ['--help'], env: {} }), { help: true });
});

t.test('no --peers is a one-node cluster; the listen addresses default to CONFIG_DEFAULTS', async (t) => {
  const argv = base.filter(
    (a, i) =>
      !['--peers', '--peer-listen', '--client-listen'].includes(a) &&
      !['--peers', '--peer-listen', '--client-listen'].includes(base[i - 1]!),
  );
  const result = loadConfig({ argv, env: {} });
  if (result.help) throw new Error('unexpected help');
  t.equal(result.config.peers.size, 0);
  t.same(result.config.peerListen, CONFIG_DEFAULTS.peerListen);
  t.same(result.config.clientListen, CONFIG_DEFAULTS.clientListen);
  t.equal(result.config.logLevel, CONFIG_DEFAULTS.logLevel);
});

t.test('--config: peers and client addresses may be JSON objects keyed by id', async (t) => {
  const argv = base.filter((a, i) => a !== '--peers' && base[i - 1] !== '--peers');
  const files = {
    '/c.json': JSON.stringify({
      peers: { '2': '127.0.0.1:7002', 3: { host: '127.0.0.1', port: 7003 } },
      clientAddresses: { '1': '127.0.0.1:8001', '2': '127.0.0.1:8002' },
      tickMs: 5,
    }),
  };
  const result = loadConfig({ argv: [...argv, '--config', '/c.json'], env: {}, readFile: (p) => files[p as keyof typeof files] });
  if (result.help) throw new Error('unexpected help');
  t.same(
    [...result.config.peers],
    [
      [2, { host: '127.0.0.1', port: 7002 }],
      [3, { host: '127.0.0.1', port: 7003 }],
    ],
  );
  t.same(result.config.clientAddresses.get(2), { host: '127.0.0.1', port: 8002 });
  t.equal(result.config.tickMs, 5);
  const bad = problems([...argv, '--config', '/c.json'], {}, { '/c.json': JSON.stringify({ peers: { x: '127.0.0.1:1', '4': 'nope' } }) });
  t.match(bad.join('\n'), /--peers: "x=127.0.0.1:1" is not ID=HOST:PORT/);
  t.match(bad.join('\n'), /--peers: "4=nope" is not ID=HOST:PORT/);
  t.match(
    problems([...argv, '--config', '/c.json'], {}, { '/c.json': '{"peers": [1, 2]}' }).join(),
    /--peers: must be ID=HOST:PORT,\.\.\. or an object/,
  );
});
