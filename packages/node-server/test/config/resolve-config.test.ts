import t from 'tap';
import { ConfigError } from '../../src/config/config-error.js';
import { CONFIG_DEFAULTS, type AddressMapInput, type NodeConfigInput } from '../../src/config/node-config.js';
import { resolveNodeConfig } from '../../src/config/resolve-config.js';

const minimal: NodeConfigInput = { id: 1, dataDir: '/tmp/n1', clusterSecret: 'correct horse' };

function problems(input: unknown): string[] {
  try {
    resolveNodeConfig(input as NodeConfigInput, { env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

t.test('a minimal startNode() config gets every default of CONFIG_DEFAULTS', async (t) => {
  const c = resolveNodeConfig(minimal, { env: {} });
  t.equal(c.logLevel, CONFIG_DEFAULTS.logLevel, 'pino needs a level');
  t.equal(c.tickMs, CONFIG_DEFAULTS.tickMs);
  t.equal(c.electionMs, CONFIG_DEFAULTS.electionMs);
  t.equal(c.heartbeatMs, CONFIG_DEFAULTS.heartbeatMs);
  t.equal(c.snapshotEntries, CONFIG_DEFAULTS.snapshotEntries);
  t.equal(c.clusterId, CONFIG_DEFAULTS.clusterId);
  t.same(c.peerListen, CONFIG_DEFAULTS.peerListen);
  t.same(c.clientListen, CONFIG_DEFAULTS.clientListen);
  t.equal(c.httpListen, null);
  t.equal(c.peers.size, 0, 'a one-node cluster');
  t.equal(c.clientAddresses.size, 0);
  t.equal(c.tls, null);
  t.equal(c.unsafeLocalReads, false);
});

t.test('peers as a Map, a plain object with string or numeric keys, or the flag text: the same Map', async (t) => {
  const expected = [
    [2, { host: '127.0.0.1', port: 7002 }],
    [3, { host: '127.0.0.1', port: 7003 }],
  ];
  const forms: AddressMapInput[] = [
    new Map([
      [2, { host: '127.0.0.1', port: 7002 }],
      [3, { host: '127.0.0.1', port: 7003 }],
    ]),
    new Map([
      ['2', '127.0.0.1:7002'],
      ['3', '127.0.0.1:7003'],
    ]),
    { '2': '127.0.0.1:7002', '3': '127.0.0.1:7003' },
    { 2: '127.0.0.1:7002', 3: { host: '127.0.0.1', port: 7003 } },
    '2=127.0.0.1:7002,3=127.0.0.1:7003',
  ];
  for (const peers of forms) {
    const c = resolveNodeConfig({ ...minimal, peers }, { env: {} });
    t.same([...c.peers], expected, String(peers instanceof Map ? 'Map' : typeof peers));
    t.ok(c.peers instanceof Map);
  }
});

t.test('listen addresses as "host:port" or { host, port }', async (t) => {
  const c = resolveNodeConfig(
    { ...minimal, peerListen: '127.0.0.1:0', clientListen: { host: '::1', port: 0 }, httpListen: '[::1]:9000' },
    { env: {} },
  );
  t.same(c.peerListen, { host: '127.0.0.1', port: 0 });
  t.same(c.clientListen, { host: '::1', port: 0 });
  t.same(c.httpListen, { host: '::1', port: 9000 });
});

t.test('a resolved config resolves to an equal config (the CLI passes one to startNode)', async (t) => {
  const c = resolveNodeConfig(
    { ...minimal, peers: { 2: '127.0.0.1:7002' }, tls: { cert: 'c', key: 'k', ca: 'a' }, httpListen: '127.0.0.1:0' },
    { env: {} },
  );
  t.same(resolveNodeConfig(c, { env: {} }), c);
});

t.test('every bad field is named by its key, all at once', async (t) => {
  const found = problems({
    id: 0,
    dataDir: 7,
    peers: { two: '127.0.0.1:7002' },
    tickMs: 'fast',
    electionMs: -5,
    logLevel: 'loud',
    peerListen: 'nowhere',
    tls: { cert: 'c' },
    unsafeLocalReads: 'maybe',
    tickMS: 10,
  });
  const text = found.join('\n');
  t.match(text, /^unknown field "tickMS"$/m);
  t.match(text, /^id: must be a positive integer, got 0$/m);
  t.match(text, /^dataDir: must be a string, got 7$/m);
  t.match(text, /^peers: "two=127.0.0.1:7002" is not ID=HOST:PORT/m);
  t.match(text, /^clusterSecret or clusterSecretFile: required$/m);
  t.match(text, /^tickMs: must be a positive integer, got "fast"$/m);
  t.match(text, /^electionMs: must be a positive integer, got -5$/m);
  t.match(text, /^logLevel: must be one of .*, got "loud"$/m);
  t.match(text, /^peerListen: must be HOST:PORT/m);
  t.match(text, /^tls.cert, tls.key and tls.ca: give all three or none$/m);
  t.match(text, /^unsafeLocalReads: must be true or false/m);
  t.equal(found.length, 11, text);
});

t.test('required: id and dataDir and a secret; the own id is not a peer; timings consistent', async (t) => {
  const text = problems({}).join('\n');
  t.match(text, /^id: required$/m);
  t.match(text, /^dataDir: required$/m);
  t.match(problems({ ...minimal, peers: { 1: '127.0.0.1:7001' } }).join(), /peers: must not list this node's own id 1/);
  t.match(problems({ ...minimal, heartbeatMs: 200 }).join(), /electionMs \(300\) must be at least twice heartbeatMs \(200\)/);
  t.match(problems({ ...minimal, clusterSecret: 'short' }).join(), /clusterSecret: must be at least 8 characters/);
  t.match(problems(null).join(), /must be an object/);
});

t.test('the unsafe switch needs KVAPP_ALLOW_UNSAFE=1 here too', async (t) => {
  t.match(problems({ ...minimal, unsafeLocalReads: true }).join(), /refused unless KVAPP_ALLOW_UNSAFE=1/);
  t.equal(resolveNodeConfig({ ...minimal, unsafeLocalReads: true }, { env: { KVAPP_ALLOW_UNSAFE: '1' } }).unsafeLocalReads, true);
});
