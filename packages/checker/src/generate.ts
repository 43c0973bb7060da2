/**
 * Uniform numbers in [0, 1), from a seeded generator the caller supplies: the same generator state
 * gives the same history on every machine. The checker has no generator of its own (kvapp's one
 * implementation is `seededRng` of @kvapp/core, which the checker must not depend on; its tests and
 * benchmark pass that one). See docs/testing.md, "One seeded generator".
 */
export interface UniformRng {
  next(): number;
}

/**
 * A seeded generator of histories from a simulated linearizable register service: P clients, K keys,
 * N operations with random overlapping latencies; each operation takes effect at a random instant
 * inside its interval, so the history is linearizable by construction. Written values are unique.
 * About `infoRate` of the operations end indeterminate (some never return; their process is then
 * replaced by a fresh one), and each of those took effect or not at random. An anomaly can be
 * injected afterwards (inject.ts) to make it certainly not linearizable.
 */
export interface GenerateOptions {
  readonly rng: UniformRng;
  readonly clients: number;
  readonly keys: number;
  readonly ops: number;
  /** Share of operations that end indeterminate. Default 0.01. */
  readonly infoRate?: number;
  /** Of those, the share that never return. Default 0.5. */
  readonly neverReturnShare?: number;
  /** Shares of read / write / delete (the rest is cas). Default 0.5 / 0.3 / 0. */
  readonly readShare?: number;
  readonly writeShare?: number;
  readonly deleteShare?: number;
  /** Mean latency of an operation, and mean think time between a client's operations (ns). */
  readonly latencyNs?: number;
  readonly thinkNs?: number;
  /** Writes started after this share of the operations that are made indeterminate and never return. */
  readonly stallWrites?: { readonly afterShare: number; readonly count: number };
}

export interface SimOp {
  process: number;
  readonly key: string;
  readonly f: 'read' | 'write' | 'cas' | 'delete';
  readonly start: number;
  /** null when it never returns. */
  end: number | null;
  readonly lin: number;
  input: number | null | [number | null, number];
  output: number | null;
  status: 'ok' | 'fail' | 'info';
  /** Whether it changed the register (for cas: whether it matched; for delete: whether it took effect). */
  effective: boolean;
}

export function simulate(o: GenerateOptions): SimOp[] {
  const rng = o.rng;
  const infoRate = o.infoRate ?? 0.01;
  const neverShare = o.neverReturnShare ?? 0.5;
  const readShare = o.readShare ?? 0.5;
  const writeShare = o.writeShare ?? 0.3;
  const deleteShare = o.deleteShare ?? 0;
  const latency = o.latencyNs ?? 1_000_000;
  const think = o.thinkNs ?? 200_000;
  const free = Array.from({ length: o.clients }, () => exp(rng, think));
  const procOf = Array.from({ length: o.clients }, (_, i) => i);
  let nextProcess = o.clients;
  let stallLeft = o.stallWrites?.count ?? 0;
  const ops: SimOp[] = [];
  for (let n = 0; n < o.ops; n++) {
    let c = 0;
    for (let i = 1; i < o.clients; i++) if (free[i]! < free[c]!) c = i;
    const start = free[c]!;
    const d1 = exp(rng, latency / 2) + 1;
    const d2 = exp(rng, latency / 2) + 1;
    const r = rng.next();
    const f = r < readShare ? 'read' : r < readShare + writeShare ? 'write' : r < readShare + writeShare + deleteShare ? 'delete' : 'cas';
    const key = `k${int(rng, o.keys)}`;
    let status: SimOp['status'] = 'ok';
    let end: number | null = start + d1 + d2;
    const stall = f === 'write' && stallLeft > 0 && n >= (o.stallWrites?.afterShare ?? 1) * o.ops;
    if (stall || rng.next() < infoRate) {
      status = 'info';
      if (stall || rng.next() < neverShare) end = null;
      if (stall) stallLeft--;
    }
    ops.push({ process: procOf[c]!, key, f, start, end, lin: start + d1, input: null, output: null, status, effective: true });
    if (status === 'info') procOf[c] = nextProcess++;
    free[c] = (end ?? start + d1 + d2) + exp(rng, think);
  }
  applyInLinearizationOrder(ops, rng);
  return ops;
}

/** An integer in [0, maxExclusive). */
function int(rng: UniformRng, maxExclusive: number): number {
  return Math.floor(rng.next() * maxExclusive);
}

/** Exponentially distributed with the given mean. */
function exp(rng: UniformRng, mean: number): number {
  return -Math.log(1 - rng.next()) * mean;
}

/** Decides every value: reads see the register at their instant; cas expect the current or an older value. */
function applyInLinearizationOrder(ops: SimOp[], rng: UniformRng): void {
  const state = new Map<string, number | null>();
  const previous = new Map<string, number | null>();
  let fresh = 1;
  const byLin = [...ops].sort((a, b) => a.lin - b.lin);
  for (const op of byLin) {
    const cur = state.get(op.key) ?? null;
    const takesEffect = op.status !== 'info' || rng.next() < 0.5;
    if (op.f === 'read') {
      op.input = null;
      op.output = cur;
      continue;
    }
    if (op.f === 'delete') {
      op.input = null;
      op.effective = takesEffect;
      if (takesEffect) {
        previous.set(op.key, cur);
        state.set(op.key, null);
      }
      continue;
    }
    const value = fresh++;
    if (op.f === 'write') {
      op.input = value;
      op.effective = takesEffect;
    } else {
      const old = previous.get(op.key);
      const expected = rng.next() < 0.5 || old === undefined ? cur : old;
      op.input = [expected, value];
      op.effective = takesEffect && expected === cur;
      if (op.status === 'ok' && expected !== cur) op.status = 'fail';
    }
    if (op.effective) {
      previous.set(op.key, cur);
      state.set(op.key, value);
    }
  }
}

/** The history as event objects (the JSON Lines format), in the order the events happened. */
export function toEvents(ops: readonly SimOp[]): Record<string, unknown>[] {
  const raw: { t: number; order: number; ev: Record<string, unknown> }[] = [];
  ops.forEach((op, i) => {
    raw.push({
      t: op.start,
      order: 2 * i,
      ev: { process: op.process, type: 'invoke', f: op.f, key: op.key, value: op.f === 'read' ? null : op.input },
    });
    if (op.end === null) return;
    const ev: Record<string, unknown> = {
      process: op.process,
      type: op.status,
      f: op.f,
      key: op.key,
      value: op.f === 'read' ? op.output : op.input,
    };
    if (op.status === 'fail') ev['error'] = 'cas-mismatch';
    if (op.status === 'info' && op.f === 'read') ev['value'] = null;
    raw.push({ t: op.end, order: 2 * i + 1, ev });
  });
  raw.sort((a, b) => a.t - b.t || a.order - b.order);
  return raw.map((r, index) => ({ ...r.ev, time: Math.round(r.t), index }));
}

export function toJsonl(events: readonly Record<string, unknown>[]): string {
  let out = '';
  for (const e of events) out += JSON.stringify(e) + '\n';
  return out;
}
