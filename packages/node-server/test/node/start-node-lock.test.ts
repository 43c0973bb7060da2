import t from 'tap';
import { pino } from 'pino';
import { StartError } from '../../src/node/start-error.js';
import { startNode } from '../../src/node/start-node.js';
import { tmpDir } from '../wal/tmp-dir.js';
import { freePort, nodeInput, portIsFree } from './node-support.js';

const silent = pino({ level: 'silent' });

t.test('a second startNode on a data dir in use is refused naming the pid, and binds nothing', async (t) => {
  const dir = tmpDir(t);
  const first = await startNode(nodeInput(1, dir), { logger: silent });
  t.teardown(() => first.stop());
  const ports = { peer: await freePort(), client: await freePort() };
  const second = nodeInput(1, dir, { peerListen: `127.0.0.1:${ports.peer}`, clientListen: `127.0.0.1:${ports.client}` });
  const refused = await startNode(second, { logger: silent }).catch((error: unknown) => error);
  t.ok(refused instanceof StartError, String(refused));
  t.equal((refused as StartError).code, 'DATA_DIR_LOCKED');
  t.equal((refused as StartError).details['pid'], process.pid);
  t.match((refused as StartError).message, new RegExp(`data dir .* is in use .*pid ${process.pid}\\b`));
  t.ok(await portIsFree(ports.peer), 'no peer port bound');
  t.ok(await portIsFree(ports.client), 'no client port bound');

  await first.stop();
  const again = await startNode(second, { logger: silent });
  await again.stop();
  t.pass('once the first stopped cleanly, the lock is free');
});
