/**
 * Parses and prints interaction scripts (etcd's datadriven format):
 *
 *   # comments and blank lines are kept as they are
 *   command arg arg
 *   ----
 *   expected output, one line each, ending at the next blank line
 */

export interface Block {
  /** Comment and blank lines before the command, kept verbatim for rewriting. */
  readonly preamble: readonly string[];
  readonly command: string;
  /** 1-based line number of the command, for failure messages. */
  readonly line: number;
  readonly expected: readonly string[];
}

export interface Script {
  readonly blocks: readonly Block[];
  /** Comment and blank lines after the last block. */
  readonly trailer: readonly string[];
}

const SEPARATOR = '----';

export function parseScript(source: string, file: string): Script {
  const lines = source.replace(/\n$/, '').split('\n');
  const blocks: Block[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      i++;
      continue;
    }
    const command = line.trim();
    const commandLine = i + 1;
    if (lines[i + 1] !== SEPARATOR) throw new Error(`${file}:${commandLine + 1}: expected '${SEPARATOR}' after '${command}'`);
    i += 2;
    const expected: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') expected.push(lines[i++]!);
    blocks.push({ preamble, command, line: commandLine, expected });
    preamble = [];
  }
  return { blocks, trailer: preamble };
}

export function printScript(blocks: readonly Block[], trailer: readonly string[]): string {
  const out: string[] = [];
  for (const block of blocks) {
    out.push(...block.preamble, block.command, SEPARATOR, ...block.expected);
  }
  out.push(...trailer);
  return `${out.join('\n')}\n`;
}
