import type { Fault } from './schedule.js';
import type { PlantedBug } from './planted-bugs.js';
import type { SimFailure } from './simulation.js';

/** The shell command that replays a run exactly. */
export function replayCommand(seed: number, bugs: readonly PlantedBug[], schedule: readonly Fault[] | null): string {
  const parts = ['npm run sim --', `--seed ${seed}`];
  for (const bug of bugs) parts.push(`--bug ${bug}`);
  if (schedule !== null) parts.push(`--schedule '${JSON.stringify(schedule)}'`);
  return parts.join(' ');
}

/** A tap test that replays a (shrunk) failure: paste it into packages/sim/test/. */
export function replayTest(seed: number, bugs: readonly PlantedBug[], schedule: readonly Fault[], failure: SimFailure): string {
  const lines = [
    `// ${describeFailure(failure)}`,
    `t.test('sim seed ${seed}${bugs.length > 0 ? ` with ${bugs.join(', ')}` : ''} replays', async (t) => {`,
    `  const schedule: Fault[] = ${JSON.stringify(schedule)};`,
    `  const result = await runSimulation({ seed: ${seed}, bugs: ${JSON.stringify(bugs)}, schedule });`,
    `  t.equal(result.failure, null, JSON.stringify(result.failure));`,
    `});`,
  ];
  return lines.join('\n');
}

export function describeFailure(failure: SimFailure): string {
  switch (failure.kind) {
    case 'invariant':
      return `invariant ${failure.code} at ${failure.atMs} ms: ${failure.message}`;
    case 'liveness':
      return `liveness at ${failure.atMs} ms: ${failure.message}`;
    case 'assertion':
      return `assertion at ${failure.atMs} ms: ${failure.message}`;
    case 'history': {
      const keys = (failure.verdict['failedKeys'] as readonly string[] | undefined) ?? [];
      return `history not linearizable (keys ${keys.join(', ')})`;
    }
    case 'history-unknown': {
      const keys = (failure.verdict['unknownKeys'] as readonly string[] | undefined) ?? [];
      return `history undecided: the checker ran out of its step budget (keys ${keys.join(', ')})`;
    }
  }
}
