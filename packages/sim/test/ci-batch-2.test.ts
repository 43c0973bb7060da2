import t from 'tap';
import { describeFailure, replayCommand } from '../src/index.js';
import { batch } from './support/hunt.js';

t.test('seeds 251..500 pass: invariants, liveness and linearizability', async (t) => {
  const r = await batch(251, 250);
  t.comment(
    `250 seeds, ${r.ops} ops in ${Math.round(r.ms)} ms: ${(250 / (r.ms / 1000)).toFixed(1)} seeds/s, ${r.unknown} checker verdicts unknown`,
  );
  for (const f of r.failures) t.fail(`seed ${f.seed}: ${describeFailure(f.failure!)}; replay: ${replayCommand(f.seed, [], null)}`);
  t.equal(r.failures.length, 0, 'no seed fails');
});
