import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/**
 * A pino logger whose output lines are kept as raw text, exactly as written: JSON.parse would keep
 * only the last of two equal keys and hide the duplicate these tests look for.
 */
export function rawLogCapture(level: pino.Level = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop()!;
      for (const line of parts) if (line.trim() !== '') lines.push(line);
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/**
 * Keys that occur more than once in one object of a JSON text, at any depth, in order of their
 * second occurrence. A small scanner over the text: strings (with escapes) are read whole, a
 * string followed by ':' is a key of the innermost open object.
 */
export function duplicateKeys(json: string): string[] {
  const duplicates: string[] = [];
  const open: Array<Set<string> | null> = []; // one entry per open object (its keys) or array (null)
  let i = 0;
  while (i < json.length) {
    const ch = json[i]!;
    if (ch === '"') {
      let end = i + 1;
      while (json[end] !== '"') {
        if (end >= json.length) throw new Error(`unterminated string in ${json}`);
        end += json[end] === '\\' ? 2 : 1;
      }
      const text = JSON.parse(json.slice(i, end + 1)) as string;
      i = end + 1;
      while (json[i] === ' ' || json[i] === '\t') i++;
      const keys = open[open.length - 1];
      if (json[i] === ':' && keys) {
        if (keys.has(text)) duplicates.push(text);
        keys.add(text);
      }
      continue;
    }
    if (ch === '{') open.push(new Set());
    else if (ch === '[') open.push(null);
    else if (ch === '}' || ch === ']') open.pop();
    i++;
  }
  return duplicates;
}
