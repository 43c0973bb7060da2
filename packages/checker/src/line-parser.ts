import type { ProcessId, Value } from './history.js';
import { fCas, fDelete, fRead, fWrite } from './kv-model.js';
import type { Columns } from './event-columns.js';

// The fast path: the exact line shapes the harness's recorder and the generator write
// (`{"process":..,"type":..,"f":..,"key":..,"value":..[,"error":..],"time":..[,"index":..][,"error":..]}`,
// no whitespace, no escapes in strings, plain integers). It accepts only lines that JSON.parse and
// validateEvent would accept and turn into the same event; on anything else it gives up and the line
// goes through JSON.parse and validateEvent, so every error (code, line, reason) comes from there.
// It reads bytes, not a decoded string: keys are interned from their bytes (no string per line), and
// the cursor and results live in the parser's fields so that a line allocates nothing.
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const litOpen = ascii('{"process":');
const litType = ascii(',"type":');
const litF = ascii(',"f":');
const litKey = ascii(',"key":');
const litValue = ascii(',"value":');
const litError = ascii(',"error":');
const litTime = ascii(',"time":');
const litIndex = ascii(',"index":');
const litNull = ascii('null');
const litInvoke = ascii('"invoke"');
const litOk = ascii('"ok"');
const litFail = ascii('"fail"');
const litInfo = ascii('"info"');
const litRead = ascii('"read"');
const litWrite = ascii('"write"');
const litCas = ascii('"cas"');
const litDelete = ascii('"delete"');

export class LineParser {
  private readonly src: Buffer;
  private at = 0;
  private lim = 0;
  private num = 0.5; // a double from the start: the field never changes representation
  /** The last string scanned: its bytes are src[strStart, strEnd); its FNV-1a hash. */
  private strStart = 0;
  private strEnd = 0;
  private strHash = 0;
  private val: Value | null = null;
  private val2: Value | null = null;
  private pair = false;
  private readonly cols: Columns;
  /** Keys seen so far: hash → key slot, and where each key's bytes first were (for the exact compare). */
  private readonly keyByHash = new Map<number, number>();
  private readonly keyNext: number[] = [];
  private readonly keyStart: number[] = [];
  private readonly keyEnd: number[] = [];
  private readonly keySlot: number[] = [];

  constructor(bytes: Buffer, cols: Columns) {
    this.src = bytes;
    this.cols = cols;
  }

  private byte(i: number): number {
    return i < this.lim ? this.src[i]! : -1;
  }

  private lit(l: Uint8Array): boolean {
    const { src, at } = this;
    if (at + l.length > this.lim) return false;
    for (let i = 0; i < l.length; i++) if (src[at + i] !== l[i]) return false;
    this.at = at + l.length;
    return true;
  }

  /** A string without escapes or control characters (its JSON text is its value), into strStart/strEnd/strHash. */
  private scanString(): boolean {
    const { src, lim } = this;
    if (this.byte(this.at) !== 0x22) return false;
    const s = this.at + 1;
    let i = s;
    let h = 0x811c9dc5;
    for (;;) {
      if (i >= lim) return false;
      const c = src[i]!;
      if (c === 0x22) break;
      if (c === 0x5c || c < 0x20) return false;
      h = Math.imul(h ^ c, 0x01000193);
      i++;
    }
    this.strStart = s;
    this.strEnd = i;
    this.strHash = h;
    this.at = i + 1;
    return true;
  }

  private scannedString(): string {
    return this.src.toString('utf8', this.strStart, this.strEnd);
  }

  /** The key slot (Columns) of the string just scanned, interned by its bytes. */
  private scannedKey(): number {
    const { src, strStart: s, strEnd: e } = this;
    const first = this.keyByHash.get(this.strHash);
    for (let k = first ?? -1; k >= 0; k = this.keyNext[k]!) {
      const ks = this.keyStart[k]!;
      if (this.keyEnd[k]! - ks !== e - s) continue;
      let i = 0;
      while (i < e - s && src[ks + i] === src[s + i]) i++;
      if (i === e - s) return this.keySlot[k]!;
    }
    const k = this.keyStart.length;
    this.keyNext.push(first ?? -1);
    this.keyByHash.set(this.strHash, k);
    this.keyStart.push(s);
    this.keyEnd.push(e);
    // The columns intern by the decoded string: a key may also come as a number or on a slow-path
    // line, and two byte sequences may decode to the same string.
    this.keySlot.push(this.cols.keyOf(this.scannedString()));
    return this.keySlot[k]!;
  }

  /** A JSON number; plain integers of up to 15 digits are computed here, others by Number(). */
  private scanNumber(intOnly: boolean): boolean {
    const { src, lim } = this;
    const s = this.at;
    let i = this.at;
    if (this.byte(i) === 0x2d) i++;
    const digits = i;
    let c = this.byte(i);
    let v = 0;
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      while (i < lim && (c = src[i]!) >= 0x30 && c <= 0x39) {
        v = v * 10 + (c - 0x30);
        i++;
      }
    } else return false;
    const intEnd = i;
    c = this.byte(i);
    if (c === 0x2e || c === 0x65 || c === 0x45) {
      if (intOnly) return false;
      if (c === 0x2e) {
        i++;
        const f = i;
        while (i < lim && (c = src[i]!) >= 0x30 && c <= 0x39) i++;
        if (i === f) return false;
      }
      c = this.byte(i);
      if (c === 0x65 || c === 0x45) {
        i++;
        c = this.byte(i);
        if (c === 0x2b || c === 0x2d) i++;
        const e = i;
        while (i < lim && (c = src[i]!) >= 0x30 && c <= 0x39) i++;
        if (i === e) return false;
      }
      this.num = Number(src.toString('latin1', s, i));
      if (!Number.isFinite(this.num)) return false;
    } else {
      if (intEnd - digits > 15) return false;
      this.num = s === digits ? v : -v;
    }
    this.at = i;
    return true;
  }

  /** null, a string, or a safe integer, into `this.val`. */
  private scanScalar(): boolean {
    const c = this.byte(this.at);
    if (c === 0x6e) {
      if (!this.lit(litNull)) return false;
      this.val = null;
      return true;
    }
    if (c === 0x22) {
      if (!this.scanString()) return false;
      this.val = this.scannedString();
      return true;
    }
    if (!this.scanNumber(true)) return false;
    this.val = this.num;
    return true;
  }

  /** A scalar into `val`, or a cas pair into `val` and `val2` (then `pair` is true). */
  private scanValue(): boolean {
    this.pair = false;
    if (this.byte(this.at) !== 0x5b) return this.scanScalar();
    this.at++;
    if (!this.scanScalar()) return false;
    const a = this.val;
    if (this.byte(this.at) !== 0x2c) return false;
    this.at++;
    if (!this.scanScalar()) return false;
    const b = this.val;
    if (this.byte(this.at) !== 0x5d || b === null) return false;
    this.at++;
    this.val = a;
    this.val2 = b;
    this.pair = true;
    return true;
  }

  /** The event type's code (typeCode), or -1. One literal compared, chosen by its distinguishing byte. */
  private scanType(): number {
    const c = this.byte(this.at + 1);
    if (c === 0x69) return this.byte(this.at + 3) === 0x76 ? (this.lit(litInvoke) ? 0 : -1) : this.lit(litInfo) ? 3 : -1;
    if (c === 0x6f) return this.lit(litOk) ? 1 : -1;
    if (c === 0x66) return this.lit(litFail) ? 2 : -1;
    return -1;
  }

  /** The function's code (fRead, fWrite, fCas, fDelete), or -1. */
  private scanF(): number {
    const c = this.byte(this.at + 1);
    if (c === 0x72) return this.lit(litRead) ? fRead : -1;
    if (c === 0x77) return this.lit(litWrite) ? fWrite : -1;
    if (c === 0x63) return this.lit(litCas) ? fCas : -1;
    if (c === 0x64) return this.lit(litDelete) ? fDelete : -1;
    return -1;
  }

  /** Appends the line's event to the columns; false (and nothing appended) when it is not in the fast shape. */
  event(start: number, end: number, line: number): boolean {
    this.at = start;
    this.lim = end;
    if (!this.lit(litOpen)) return false;
    let process: ProcessId;
    if (this.byte(this.at) === 0x22) {
      if (!this.scanString()) return false;
      process = this.scannedString();
    } else {
      if (!this.scanNumber(true)) return false;
      process = this.num;
    }
    if (!this.lit(litType)) return false;
    const type = this.scanType();
    if (type < 0 || !this.lit(litF)) return false;
    const f = this.scanF();
    if (f < 0 || !this.lit(litKey)) return false;
    let key: number;
    if (this.byte(this.at) === 0x22) {
      if (!this.scanString()) return false;
      key = this.scannedKey();
    } else {
      if (!this.scanNumber(true)) return false;
      key = this.cols.keyOf(String(this.num));
    }
    if (!this.lit(litValue) || !this.scanValue()) return false;
    const raw = this.val;
    const pair = this.pair;
    let error: string | undefined;
    if (this.lit(litError)) {
      if (!this.scanString()) return false;
      error = this.scannedString();
    }
    if (!this.lit(litTime) || !this.scanNumber(false)) return false;
    const time = this.num;
    let index = NaN;
    if (this.lit(litIndex)) {
      if (!this.scanNumber(true)) return false;
      index = this.num;
    }
    if (error === undefined && this.lit(litError)) {
      if (!this.scanString()) return false;
      error = this.scannedString();
    }
    if (this.byte(this.at) !== 0x7d || this.at + 1 !== this.lim) return false;
    // validateValue's rules, without its errors.
    let value: Value | null = null;
    let value2: Value | null = null;
    if (f === fRead) {
      if (pair || (type === 0 && raw !== null)) return false;
      value = raw;
    } else if (f === fDelete) {
      if (type === 0 && (raw !== null || pair)) return false;
    } else if (type === 0) {
      if (f === fWrite) {
        if (raw === null || pair) return false;
        value = raw;
      } else {
        if (!pair) return false;
        value = raw;
        value2 = this.val2;
      }
    }
    this.cols.pushSlot(process, type, f, key, value, value2, time, line, index, error);
    return true;
  }
}
