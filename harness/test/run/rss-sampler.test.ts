import t from 'tap';
import { RssSampler } from '../../src/run/rss-sampler.js';

const mb = 1024 * 1024;

t.test('min, max, last and a count per node id, across restarts', async (t) => {
  // pid → RSS in bytes; a pid missing from it has exited by the time it is read.
  const rss = new Map<number, number>([
    [101, 40 * mb],
    [102, 50 * mb],
  ]);
  let pids = new Map([
    ['1', 101],
    ['2', 102],
  ]);
  const sampler = new RssSampler({ readRss: (pid) => rss.get(pid) ?? null, intervalMs: 3_600_000, warmUpMs: 0 });
  sampler.start(() => pids);
  t.same(Object.keys(sampler.figures()), ['1', '2'], 'a first sample at start');

  rss.set(101, 60 * mb);
  sampler.sampleNow();
  // Node 1 killed and restarted: a new pid, and it starts small again.
  pids = new Map([
    ['1', 201],
    ['2', 102],
  ]);
  rss.set(201, 30.04 * mb);
  sampler.sampleNow();
  // Node 2's process exited between the listing and the read: no sample for it.
  rss.delete(102);
  sampler.sampleNow();
  t.same(
    sampler.figures(),
    {
      '1': { min: 30, max: 60, last: 30, samples: 4 },
      '2': { min: 50, max: 50, last: 50, samples: 3 },
    },
    'node 1 keeps its figures across the restart; MB with one decimal',
  );

  sampler.stop();
  t.equal(sampler.figures()['1']!.samples, 5, 'stop takes a last sample');
  sampler.stop();
  sampler.sampleNow();
  t.equal(sampler.figures()['1']!.samples, 6, 'a sample asked for after stop is still taken; stop twice is harmless');
});

t.test('a process is left out while it starts', async (t) => {
  let now = 0;
  // A starting node holds a few MB; once its code is loaded, tens.
  const rss = new Map<number, number>([[101, 4 * mb]]);
  let pids = new Map([['1', 101]]);
  const sampler = new RssSampler({ readRss: (pid) => rss.get(pid) ?? null, intervalMs: 3_600_000, warmUpMs: 2000, now: () => now });
  sampler.start(() => pids);
  now = 1000;
  sampler.sampleNow();
  t.same(sampler.figures(), {}, 'nothing in its first 2 s');
  rss.set(101, 50 * mb);
  now = 2000;
  sampler.sampleNow();
  t.same(sampler.figures()['1'], { min: 50, max: 50, last: 50, samples: 1 });
  // Restarted: the new pid warms up again; the old figures stay.
  pids = new Map([['1', 202]]);
  rss.set(202, 5 * mb);
  now = 3000;
  sampler.sampleNow();
  rss.set(202, 45 * mb);
  now = 5000;
  sampler.sampleNow();
  t.same(sampler.figures()['1'], { min: 45, max: 50, last: 45, samples: 2 }, 'the restart is sampled only after its warm-up');
  // The same pid seen again after it left the listing (reused) starts over.
  pids = new Map();
  sampler.sampleNow();
  pids = new Map([['1', 202]]);
  now = 6000;
  sampler.sampleNow();
  t.equal(sampler.figures()['1']!.samples, 2, 'a pid that left the listing warms up again');
});

t.test('ids in numeric order; nothing sampled is an empty record; a listing that throws is skipped', async (t) => {
  const s = new RssSampler({ readRss: () => mb, intervalMs: 3_600_000, warmUpMs: 0 });
  t.same(s.figures(), {});
  s.start(() => {
    throw new Error('closing');
  });
  t.same(s.figures(), {}, 'no throw, no sample');
  s.stop();
  for (const id of ['10', '2', '1']) s.add(id, mb);
  t.same(Object.keys(s.figures()), ['1', '2', '10']);
});

t.test('samples on its own every interval while it runs', async (t) => {
  let reads = 0;
  const s = new RssSampler({
    readRss: () => {
      reads += 1;
      return mb;
    },
    intervalMs: 5,
    warmUpMs: 0,
  });
  s.start(() => new Map([['1', 1]]));
  // No wall-clock assertion: wait until the timer has fired a few times (bounded).
  for (let i = 0; i < 400 && reads < 4; i++) await new Promise((r) => setTimeout(r, 5));
  s.stop();
  t.ok(reads >= 4, `${reads} samples taken by the timer`);
  const after = reads;
  await new Promise((r) => setTimeout(r, 30));
  t.equal(reads, after, 'none after stop');
});
