import type { EventType, ReadEvent, OpFunction, ProcessId, Value } from './history.js';
import { fCas, fDelete, fRead, fWrite } from './kv-model.js';

const typeCode: Readonly<Record<EventType, number>> = { invoke: 0, ok: 1, fail: 2, info: 3 };
export const typeOfCode: readonly EventType[] = ['invoke', 'ok', 'fail', 'info'];
const fCode: Readonly<Record<OpFunction, number>> = { read: fRead, write: fWrite, cas: fCas, delete: fDelete };
export const fOfCode: readonly OpFunction[] = ['read', 'write', 'cas', 'delete'];
/** Integer process ids below this are looked up in an array, not a map. */
const smallProcessMax = 4096;

/**
 * The events of a history, one typed array per field, sized once from the line count. Processes
 * and keys are interned to small integers, so pairing is array indexing.
 */
export class Columns {
  length = 0;
  readonly process: Int32Array;
  readonly type: Uint8Array;
  readonly f: Uint8Array;
  readonly key: Int32Array;
  /** read: the value read; write: the value; cas: the expected value (the new one is in value2); delete: null. */
  readonly value: (Value | null)[];
  readonly value2: (Value | null)[];
  readonly time: Float64Array;
  readonly line: Int32Array;
  /** NaN when the event has no index. */
  readonly index: Float64Array;
  /** Only a few events carry an error. */
  readonly error = new Map<number, string>();
  readonly processes: ProcessId[] = [];
  readonly keys: string[] = [];
  private readonly smallProcess = new Int32Array(smallProcessMax).fill(-1);
  private readonly processSlot = new Map<ProcessId, number>();
  private readonly keySlot = new Map<string, number>();

  constructor(capacity: number) {
    this.process = new Int32Array(capacity);
    this.type = new Uint8Array(capacity);
    this.f = new Uint8Array(capacity);
    this.key = new Int32Array(capacity);
    this.value = new Array<Value | null>(capacity).fill(null);
    this.value2 = new Array<Value | null>(capacity).fill(null);
    this.time = new Float64Array(capacity);
    this.line = new Int32Array(capacity);
    this.index = new Float64Array(capacity);
  }

  private processOf(p: ProcessId): number {
    const small = typeof p === 'number' && p >= 0 && p < smallProcessMax && Number.isInteger(p) && !Object.is(p, -0);
    let slot = small ? this.smallProcess[p]! : (this.processSlot.get(p) ?? -1);
    if (slot < 0) {
      slot = this.processes.length;
      this.processes.push(p);
      if (small) this.smallProcess[p] = slot;
      else this.processSlot.set(p, slot);
    }
    return slot;
  }

  keyOf(k: string): number {
    let slot = this.keySlot.get(k);
    if (slot === undefined) {
      slot = this.keys.length;
      this.keys.push(k);
      this.keySlot.set(k, slot);
    }
    return slot;
  }

  /** `key` is a slot from keyOf. */
  pushSlot(
    process: ProcessId,
    type: number,
    f: number,
    key: number,
    value: Value | null,
    value2: Value | null,
    time: number,
    line: number,
    index: number,
    error: string | undefined,
  ): void {
    const i = this.length++;
    this.process[i] = this.processOf(process);
    this.type[i] = type;
    this.f[i] = f;
    this.key[i] = key;
    this.value[i] = value;
    this.value2[i] = value2;
    this.time[i] = time;
    this.line[i] = line;
    this.index[i] = index;
    if (error !== undefined) this.error.set(i, error);
  }

  pushEvent(e: ReadEvent): void {
    const pair = Array.isArray(e.value) ? (e.value as readonly [Value | null, Value]) : undefined;
    this.pushSlot(
      e.process,
      typeCode[e.type],
      fCode[e.f],
      this.keyOf(e.key),
      pair ? pair[0] : (e.value as Value | null),
      pair ? pair[1] : null,
      e.time,
      e.line,
      e.index ?? NaN,
      e.error,
    );
  }

  eventAt(i: number): ReadEvent {
    const f = this.f[i]!;
    const type = this.type[i]!;
    const event: { -readonly [K in keyof ReadEvent]: ReadEvent[K] } = {
      process: this.processes[this.process[i]!]!,
      type: typeOfCode[type]!,
      f: fOfCode[f]!,
      key: this.keys[this.key[i]!]!,
      value: f === fCas && type === 0 ? [this.value[i]!, this.value2[i]!] : this.value[i]!,
      time: this.time[i]!,
      line: this.line[i]!,
    };
    const index = this.index[i]!;
    if (!Number.isNaN(index)) event.index = index;
    const error = this.error.get(i);
    if (error !== undefined) event.error = error;
    return event;
  }

  toEvents(): ReadEvent[] {
    const events: ReadEvent[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) events[i] = this.eventAt(i);
    return events;
  }
}
