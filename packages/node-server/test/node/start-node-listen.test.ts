import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { LOCK_FILE } from '../../src/node/data-dir-lock.js';
import { StartError } from '../../src/node/start-error.js';
import { startNode } from '../../src/node/start-node.js';
import { tmpDir } from '../wal/tmp-dir.js';
import { freePort, nodeInput, occupy, portIsFree } from './node-support.js';

const silent = pino({ level: 'silent' });

for (const listener of ['peer', 'client', 'http'] as const) {
  t.test(`the ${listener} port in use: startNode rejects with LISTEN_FAILED and leaves nothing bound or locked`, async (t) => {
    const dir = tmpDir(t);
    const ports = { peer: await freePort(), client: await freePort(), http: await freePort() };
    await occupy(t, ports[listener]);
    const input = nodeInput(1, dir, {
      peerListen: `127.0.0.1:${ports.peer}`,
      clientListen: `127.0.0.1:${ports.client}`,
      httpListen: `127.0.0.1:${ports.http}`,
      peers: { 2: '127.0.0.1:1' },
    });
    const refused = await startNode(input, { logger: silent }).catch((error: unknown) => error);
    t.ok(refused instanceof StartError, String(refused));
    const error = refused as StartError;
    t.equal(error.code, 'LISTEN_FAILED');
    t.same(error.details, { listener, host: '127.0.0.1', port: ports[listener], reason: 'EADDRINUSE' });
    t.equal(error.message, `cannot listen on the ${listener} port 127.0.0.1:${ports[listener]}: EADDRINUSE (address already in use)`);
    for (const other of (['peer', 'client', 'http'] as const).filter((name) => name !== listener)) {
      t.ok(await portIsFree(ports[other]), `the ${other} port is free again`);
    }
    t.notOk(existsSync(join(dir, LOCK_FILE)), 'the data dir lock is released');
    t.notOk(existsSync(join(dir, 'bootstrap.json')), 'no voters were stored for a node that never started');

    // Nothing is left half open: with the port free, the same data dir starts.
    const node = await startNode({ ...input, [`${listener}Listen`]: '127.0.0.1:0' }, { logger: silent });
    t.teardown(() => node.stop());
    t.ok(existsSync(join(dir, 'bootstrap.json')));
  });
}
