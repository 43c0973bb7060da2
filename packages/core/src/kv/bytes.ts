/**
 * Minimal binary writer/reader shared by the KV command and snapshot codecs. Integers are
 * unsigned LEB128 varints up to 2^53-1 (canonical: no overlong forms, so a decoded value
 * re-encodes to the same bytes); strings are a varint byte length plus UTF-8.
 *
 * The reader never throws a TypeError or RangeError on hostile input: every failure goes
 * through the `fail` callback, which the caller turns into its own typed error.
 */

const encoder = new TextEncoder();
// fatal: reject invalid UTF-8 instead of substituting U+FFFD; ignoreBOM: keep a leading U+FEFF.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string TextEncoder would alter (lone surrogates become U+FFFD) cannot round-trip. */
export function isWellFormed(s: string): boolean {
  return !loneSurrogate.test(s);
}

// eslint-disable-next-line no-control-regex -- the whole ASCII range, NUL included, is the point
const nonAscii = /[^\x00-\x7f]/;

/** The bytes TextEncoder makes of `s` (a lone surrogate becomes U+FFFD, 3 bytes), without encoding it. */
export function utf8Length(s: string): number {
  if (!nonAscii.test(s)) return s.length;
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: two UTF-16 units, four bytes
      i++;
    } else n += 2;
  }
  return n;
}

export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialBytes = 64) {
    this.buf = new Uint8Array(initialBytes);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    this.reserve(8);
    // Division, not bit shifts: shifts truncate to 32 bits.
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Encodes straight into the buffer: a large value is never encoded into a copy first. */
  string(s: string): this {
    const n = utf8Length(s);
    this.varint(n);
    this.reserve(n);
    const { written } = encoder.encodeInto(s, this.buf.subarray(this.len, this.len + n));
    if (written !== n) throw new RangeError(`string encoded to ${written} bytes, not ${n}`);
    this.len += n;
    return this;
  }

  /** The bytes written; the buffer itself when little of it is unused (no copy of a large snapshot). */
  finish(): Uint8Array {
    if (this.buf.length - this.len <= this.buf.length / 8) return this.buf.subarray(0, this.len);
    return this.buf.slice(0, this.len);
  }
}

export class ByteReader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly fail: (message: string) => Error,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(what: string): number {
    if (this.pos >= this.buf.length) throw this.fail(`truncated at ${what} (offset ${this.pos})`);
    return this.buf[this.pos++]!;
  }

  varint(what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8(what);
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw this.fail(`overlong varint at ${what}`);
        if (!Number.isSafeInteger(value)) throw this.fail(`varint too large at ${what}`);
        return value;
      }
      scale *= 0x80;
    }
    throw this.fail(`varint too long at ${what}`);
  }

  bytes(what: string): Uint8Array {
    const n = this.varint(`${what} length`);
    if (n > this.remaining) throw this.fail(`${what} length ${n} exceeds the ${this.remaining} bytes left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(what: string): string {
    const b = this.bytes(what);
    try {
      return decoder.decode(b);
    } catch {
      throw this.fail(`${what} is not valid UTF-8`);
    }
  }

  end(what: string): void {
    if (this.remaining !== 0) throw this.fail(`${this.remaining} trailing bytes after ${what}`);
  }
}
