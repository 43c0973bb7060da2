import t from 'tap';
import {
  describeExpectedFailure,
  describeFailure,
  failureMatches,
  plantedBugFailures,
  replayCommand,
  replayTest,
  runSimulation,
  type PlantedBug,
} from '../../src/index.js';
import { ciSeeds, hunt } from './hunt.js';

/**
 * The whole proof for one planted bug: caught within the CI batch by the check meant to catch it
 * (plantedBugFailures), shrunk keeping that failure, replayed exactly.
 */
export function provePlantedBug(bug: PlantedBug): void {
  const expected = plantedBugFailures[bug];
  const what = describeExpectedFailure(expected);
  t.test(`the simulator catches ${bug} (${what}) within ${ciSeeds} seeds and shrinks it`, async (t) => {
    const h = await hunt(bug);
    for (const other of h.otherFailures) t.comment(`${bug}: seed ${other.seed} failed otherwise: ${describeFailure(other.failure!)}`);
    t.ok(h.found, `${bug} caught as ${what} within ${ciSeeds} seeds`);
    if (!h.found) return;
    const seed = h.found.seed;
    t.comment(`${bug}: caught at seed ${seed} (${h.seeds} seeds): ${describeFailure(h.found.failure!)}`);
    t.ok(failureMatches(h.found.failure, expected), `found: ${what}`);
    t.ok(h.shrunk, 'the failure reproduces while shrinking');
    if (!h.shrunk) return;
    t.ok(failureMatches(h.shrunk.failure, expected), `shrunk: ${what}, got ${describeFailure(h.shrunk.failure)}`);
    t.ok(h.shrunk.schedule.length <= h.found.schedule.length, 'the shrunk schedule is no longer');
    t.comment(
      `${bug}: schedule shrunk from ${h.found.schedule.length} to ${h.shrunk.schedule.length} faults in ${h.shrunk.runs} runs ` +
        `(${h.shrunk.otherFailures} failed otherwise; ${Math.round(h.ms)} ms)`,
    );
    t.comment(`replay: ${replayCommand(seed, [bug], h.shrunk.schedule)}`);
    t.comment(replayTest(seed, [bug], h.shrunk.schedule, h.shrunk.failure));
    const again = await runSimulation({ seed, bugs: [bug], schedule: h.shrunk.schedule });
    t.ok(
      failureMatches(again.failure, expected),
      `replayed: ${what}, got ${again.failure ? describeFailure(again.failure) : 'no failure'}`,
    );
    if (again.failure) t.equal(describeFailure(again.failure), describeFailure(h.shrunk.failure), 'with the same failure');
    const clean = await runSimulation({ seed, schedule: h.found.schedule });
    t.equal(clean.failure, null, `without the bug, seed ${seed} passes: ${clean.failure ? describeFailure(clean.failure) : ''}`);
  });
}

/**
 * A named seed that catches `bug`, pinned: it fails the expected way (and, when given, with a
 * message that says how), a second run fails exactly the same way (a replay), and the same seed
 * without the bug passes. A change that stops this seed from catching the bug fails here by name,
 * before the hunt's slower search says so.
 */
export function pinPlantedBugSeed(bug: PlantedBug, seed: number, message?: RegExp): void {
  const expected = plantedBugFailures[bug];
  const what = describeExpectedFailure(expected);
  t.test(`seed ${seed} catches ${bug} (${what}) and replays it exactly`, async (t) => {
    const first = await runSimulation({ seed, bugs: [bug] });
    t.ok(
      failureMatches(first.failure, expected),
      `seed ${seed}: ${what}, got ${first.failure ? describeFailure(first.failure) : 'no failure'}`,
    );
    if (!first.failure) return;
    if (message) t.match(describeFailure(first.failure), message, 'failing for the reason the bug causes');
    const again = await runSimulation({ seed, bugs: [bug] });
    t.equal(again.failure ? describeFailure(again.failure) : 'no failure', describeFailure(first.failure), 'the replay fails the same way');
    t.same(again.history, first.history, 'with the same history');
    const clean = await runSimulation({ seed });
    t.equal(clean.failure, null, `without the bug, seed ${seed} passes: ${clean.failure ? describeFailure(clean.failure) : ''}`);
  });
}
