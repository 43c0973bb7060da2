import { setTimeout as sleep } from 'node:timers/promises';
import { bandColours } from '../band-colours.js';
import { pick } from '../choose.js';
import type { NemesisModule } from '../module.js';

/** Failpoints that crash a node at an exact point under load (packages/node-server failpoints). */
export const failpointSpecs: readonly string[] = [
  'wal-before-fsync=crash@20%',
  'wal-after-fsync=crash@20%',
  'wal-mid-record=crash@20%',
  'before-apply=crash@5%',
];

/** How often a failpoint-armed node is checked for a crash (and restarted armed). */
const crashPollMs = 200;

/**
 * One node restarted (kill -9) with one of failpointSpecs armed. While the period lasts, a node that
 * crashed at its failpoint is started again armed, so it keeps crashing at that point under load;
 * heal starts it clean. The end line's detail adds the crashes seen.
 */
export const failpointCrash: NemesisModule = {
  description: 'a node crashes at an armed failpoint (e.g. mid-WAL-write) and restarts',
  start: async ({ cluster, random, signal }) => {
    const node = pick(cluster.ids, random);
    const failpoints = pick(failpointSpecs, random);
    const env = { KVAPP_FAILPOINTS: failpoints };
    await cluster.restart(node, 'kill', env);
    let crashes = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching && !signal.aborted) {
        await sleep(crashPollMs);
        if (!watching) break;
        if (!cluster.process(node).alive) {
          crashes += 1;
          // A failed restart is retried on the next poll; heal() starts it clean anyway.
          await cluster.restart(node, 'kill', env).catch(() => {});
        }
      }
    })();
    return {
      detail: { node, failpoints },
      heal: async () => {
        watching = false;
        await watcher.catch(() => {});
        if (!cluster.process(node).alive) crashes += 1;
        await cluster.ensureRunning(node);
        return { crashes };
      },
    };
  },
  inMix: true,
  nodesMin: 1,
  suiteNodes: { ci: 3, nightly: 5 },
  band: { label: 'failpoint-crash', colour: bandColours.storage },
};
