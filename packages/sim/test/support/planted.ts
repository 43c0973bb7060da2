import t from 'tap';
import { describeFailure, replayCommand, replayTest, runSimulation, type PlantedBug } from '../../src/index.js';
import { ciSeeds, hunt } from './hunt.js';

/** The whole proof for one planted bug: caught within the CI batch, shrunk, replayed exactly. */
export function provePlantedBug(bug: PlantedBug): void {
  t.test(`the simulator catches ${bug} within ${ciSeeds} seeds and shrinks it`, async (t) => {
    const h = await hunt(bug);
    t.ok(h.found, `${bug} caught within ${ciSeeds} seeds`);
    if (!h.found) return;
    const seed = h.found.seed;
    t.comment(`${bug}: caught at seed ${seed} (${h.seeds} seeds): ${describeFailure(h.found.failure!)}`);
    t.ok(h.shrunk, 'the failure reproduces while shrinking');
    if (!h.shrunk) return;
    t.ok(h.shrunk.schedule.length <= h.found.schedule.length, 'the shrunk schedule is no longer');
    t.comment(`${bug}: schedule shrunk from ${h.found.schedule.length} to ${h.shrunk.schedule.length} faults in ${h.shrunk.runs} runs (${Math.round(h.ms)} ms)`);
    t.comment(`replay: ${replayCommand(seed, [bug], h.shrunk.schedule)}`);
    t.comment(replayTest(seed, [bug], h.shrunk.schedule, h.shrunk.failure));
    const again = await runSimulation({ seed, bugs: [bug], schedule: h.shrunk.schedule });
    t.ok(again.failure, 'the shrunk schedule fails again');
    if (again.failure) t.equal(describeFailure(again.failure), describeFailure(h.shrunk.failure), 'with the same failure');
    const clean = await runSimulation({ seed, schedule: h.found.schedule });
    t.equal(clean.failure, null, `without the bug, seed ${seed} passes: ${clean.failure ? describeFailure(clean.failure) : ''}`);
  });
}
