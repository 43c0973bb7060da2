import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A synthetic run folder, written the way the engine writes one: a linearizable history by
 * construction (each operation takes effect at its midpoint), nemesis periods during which
 * operations fail or time out, and results.json. `staleRead` appends a read that returns a value
 * long overwritten, which no linearization explains.
 */
export interface FixtureOptions {
  readonly opsPerClient: number;
  readonly clients?: number;
  readonly keys?: number;
  readonly staleRead?: boolean;
  readonly results?: boolean;
  readonly seed?: number;
}

interface Op {
  process: number;
  f: 'read' | 'write' | 'cas';
  key: string;
  input: number | null | [number | null, number];
  start: number;
  end: number;
  outcome: 'ok' | 'fail' | 'info';
  output?: number | null;
  error?: string;
}

const ms = 1e6;

export async function writeFixture(dir: string, o: FixtureOptions): Promise<{ ops: number; periods: number }> {
  await mkdir(dir, { recursive: true });
  let s = o.seed ?? 7;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const clients = o.clients ?? 4;
  const keys = o.keys ?? 3;
  const faults: [string, number, number][] = [
    ['partition-halves', 300 * ms, 700 * ms],
    ['kill', 1000 * ms, 1300 * ms],
  ];
  const during = (t: number): boolean => faults.some(([, a, b]) => t >= a && t < b);
  const ops: Op[] = [];
  let nextProcess = clients;
  let value = 1;
  for (let c = 0; c < clients; c++) {
    let process = c;
    let t = rand() * 2 * ms;
    for (let i = 0; i < o.opsPerClient; i++) {
      const start = t;
      const fault = during(start);
      const end = start + (fault ? 20 + rand() * 60 : 1 + rand() * 6) * ms;
      const pick = rand();
      const f = pick < 0.5 ? 'read' : pick < 0.8 ? 'write' : 'cas';
      const key = `k${Math.floor(rand() * keys)}`;
      const input: Op['input'] = f === 'read' ? null : f === 'write' ? value++ : [Math.max(1, value - 1 - Math.floor(rand() * 3)), value++];
      const outcome = fault ? (rand() < 0.5 ? 'info' : 'fail') : 'ok';
      ops.push({ process, f, key, input, start, end, outcome });
      if (outcome === 'info') process = nextProcess++;
      t = end + rand() * 2 * ms;
    }
  }
  // Linearize at midpoints to fill in what reads saw and which cas succeeded.
  const state = new Map<string, number | null>();
  for (const op of [...ops].sort((a, b) => a.start + a.end - b.start - b.end)) {
    if (op.outcome === 'fail') {
      op.error = 'timeout';
      continue;
    }
    const cur = state.get(op.key) ?? null;
    if (op.f === 'read') op.output = cur;
    else if (op.f === 'write') state.set(op.key, op.input as number);
    else {
      const [e, n] = op.input as [number | null, number];
      if (cur === e) state.set(op.key, n);
      else if (op.outcome === 'ok') {
        op.outcome = 'fail';
        op.error = 'cas-mismatch';
      }
    }
  }
  if (o.staleRead) {
    const firstWrite = ops.find((op) => op.key === 'k0' && op.f === 'write' && op.outcome === 'ok');
    const last = Math.max(...ops.map((op) => op.end));
    if (firstWrite && state.get('k0') !== firstWrite.input) {
      ops.push({
        process: nextProcess,
        f: 'read',
        key: 'k0',
        input: null,
        start: last + ms,
        end: last + 2 * ms,
        outcome: 'ok',
        output: firstWrite.input as number,
      });
    }
  }
  const events: { t: number; line: Record<string, unknown> }[] = [];
  for (const op of ops) {
    events.push({ t: op.start, line: { process: op.process, type: 'invoke', f: op.f, key: op.key, value: op.input } });
    const value = op.f === 'read' ? (op.outcome === 'ok' ? (op.output ?? null) : null) : op.input;
    events.push({
      t: op.end,
      line: { process: op.process, type: op.outcome, f: op.f, key: op.key, value, ...(op.error ? { error: op.error } : {}) },
    });
  }
  events.sort((a, b) => a.t - b.t);
  const history = events.map((e, index) => JSON.stringify({ ...e.line, time: Math.round(e.t), index })).join('\n') + '\n';
  await writeFile(join(dir, 'history.jsonl'), history);
  const nemesis = faults
    .flatMap(([n, a, b]) => [
      { time: a, nemesis: n, phase: 'start', detail: { cut: ['n1->n2'] } },
      { time: b, nemesis: n, phase: 'end', detail: null },
    ])
    .sort((x, y) => x.time - y.time);
  await writeFile(join(dir, 'nemesis.jsonl'), nemesis.map((l) => JSON.stringify(l)).join('\n') + '\n');
  if (o.results ?? true) {
    const invalid = o.staleRead === true;
    await writeFile(
      join(dir, 'results.json'),
      JSON.stringify(
        {
          scenario: invalid ? 'bug-local-reads' : 'partition-halves',
          seed: 42,
          dir,
          nodes: 3,
          startedAt: '2025-01-01T00:00:00.000Z',
          durationMs: 1500,
          verdict: invalid ? 'invalid' : 'valid',
          expect: invalid ? 'invalid' : 'valid',
          passed: true,
          checker: { valid: !invalid, ops: ops.length, keys, ms: 5, failedKeys: invalid ? ['k0'] : [] },
          ackedWrites: { checked: 10, lost: 0, lostKeys: [] },
          ops: { total: ops.length, ok: 0, fail: 0, info: 0, byF: {} },
          latencyMs: { p50: 1, p90: 2, p99: 3, max: 4 },
        },
        null,
        2,
      ),
    );
  }
  return { ops: ops.length, periods: faults.length };
}
