import t from 'tap';
import { FailpointError, Failpoints, type FailpointEffects } from '../../src/failpoints/failpoints.js';
import { walFailpointHooks } from '../../src/failpoints/wal-failpoints.js';

function fake(randomValue = 0): FailpointEffects & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    crash: () => log.push('crash'),
    exit: (code) => log.push(`exit ${code}`),
    sleep: async (ms) => void log.push(`sleep ${ms}`),
    block: (ms) => void log.push(`block ${ms}`),
    random: () => randomValue,
  };
}

t.test('nothing is armed without a spec', async (t) => {
  const effects = fake();
  const fp = new Failpoints(undefined, effects);
  t.equal(fp.active, false);
  await fp.hit('wal-before-fsync');
  t.same(effects.log, []);
});

t.test('a stall sleeps and a crash never returns', async (t) => {
  const effects = fake();
  const fp = new Failpoints('before-apply=stall:250,wal-before-fsync=crash', effects);
  await fp.hit('before-apply');
  t.same(effects.log, ['sleep 250']);
  const hit = fp.hit('wal-before-fsync');
  t.same(effects.log, ['sleep 250', 'crash'], 'the crash happens in the call itself');
  // A path that went on would settle within the microtasks that run before setImmediate's callback.
  const after = await Promise.race([hit.then(() => 'returned'), new Promise((resolve) => setImmediate(() => resolve('pending')))]);
  t.equal(after, 'pending', 'the path that hit a crash failpoint does not continue');
});

t.test('a probability fires only when the dice say so', async (t) => {
  const high = fake(0.9);
  await new Failpoints('wal-after-fsync=exit:3@30%', high).hit('wal-after-fsync');
  t.same(high.log, [], '0.9 >= 0.3: not fired');
  const low = fake(0.1);
  void new Failpoints('wal-after-fsync=exit:3@30%', low).hit('wal-after-fsync');
  t.same(low.log, ['exit 3'], 'fired in the call itself');
});

t.test('on a synchronous path a stall blocks the thread and a crash fires at once', (t) => {
  const effects = fake();
  const fp = new Failpoints('before-apply=stall:250', effects);
  fp.hitSync('before-apply');
  t.same(effects.log, ['block 250']);
  const crashing = fake();
  new Failpoints('before-apply=crash', crashing).hitSync('before-apply');
  t.same(crashing.log, ['crash']);
  const idle = fake();
  new Failpoints('wal-after-fsync=crash', idle).hitSync('before-apply');
  t.same(idle.log, [], 'another failpoint armed: nothing happens here');
  t.end();
});

t.test('bad specs are refused with the reason', async (t) => {
  t.throws(() => new Failpoints('nope=crash'), FailpointError);
  t.throws(() => new Failpoints('before-apply=explode'), FailpointError);
  t.throws(() => new Failpoints('before-apply=crash@0%'), FailpointError);
  t.same(new Failpoints('before-apply=crash@50%').describe(), ['before-apply=crash@50%']);
});

t.test('the WAL gets hooks only for its armed failpoints, none at all when none is armed', async (t) => {
  t.equal(walFailpointHooks(new Failpoints(undefined, fake())), undefined, 'no spec: no hooks');
  t.equal(walFailpointHooks(new Failpoints('before-apply=crash,wal-after-fsync=stall:5', fake())), undefined, 'others armed: no WAL hooks');
  const effects = fake();
  const hooks = walFailpointHooks(new Failpoints('wal-mid-record=stall:7', effects));
  t.strictSame(Object.keys(hooks ?? {}), ['wal-mid-record']);
  await hooks?.['wal-mid-record']?.();
  t.same(effects.log, ['sleep 7'], 'the hook fires the armed action');
  const both = walFailpointHooks(new Failpoints('wal-before-fsync=crash@50%,wal-mid-record=exit:2', fake()));
  t.strictSame(Object.keys(both ?? {}).sort(), ['wal-before-fsync', 'wal-mid-record']);
});
