/**
 * Interaction tests: Raft scenarios as readable scripts in testdata/*.txt (etcd's datadriven
 * style). Each block is one command, `----`, then what the cluster printed while running it:
 *
 *   1->2 append term=2 prev=(5,1) entries=[6@2:x] commit=5     a message delivered
 *   1->3 heartbeat term=2 commit=5 (dropped)                  a message the network lost
 *   > 1 becomes leader term=2                                  a role change (from a Ready)
 *   > 1 read ctx=r1 index=6                                    a ReadIndex result
 *   1: leader term=2 vote=1 commit=6 applied=6 last=6          a `status` line
 *
 * Entries print as index@term, with `:data` when they carry a command (`6@2` alone is a new
 * leader's empty entry). Commands and the full format: README.md. Every command's output is
 * compared with the expected block; a mismatch fails with a diff, and later commands of that
 * file are skipped (they would only repeat the difference).
 *
 * KVAPP_REWRITE=1 npx tap packages/core/test/interaction/interaction.test.ts rewrites the expected
 * blocks from what the code does now. Read every rewritten block before committing it: it must
 * show correct Raft, not merely what the code did.
 */
import t from 'tap';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Block } from './script.js';
import { parseScript, printScript } from './script.js';
import { COMMANDS, type Session } from './commands.js';
import { formatMessage } from '../support/format.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const rewrite = process.env['KVAPP_REWRITE'] === '1';

/** Runs one command; returns its output lines (never empty, so that blocks stay parseable). */
function run(session: Session, command: string): string[] {
  const [name, ...args] = command.split(/\s+/);
  const handler = COMMANDS[name!];
  if (!handler) throw new Error(`unknown command ${name}`);
  const printed: string[] = [];
  const observe = (): void => {
    if (!session.cluster) return;
    session.cluster.observer = {
      message: (m, fate) => printed.push(fate === 'deliver' ? formatMessage(m) : `${formatMessage(m)} (dropped)`),
      role: (id, role, leader, term) =>
        printed.push(
          role === 'follower' && leader !== 0
            ? `> ${id} becomes follower of ${leader} term=${term}`
            : `> ${id} becomes ${role} term=${term}`,
        ),
      read: (id, index, context) => printed.push(`> ${id} read ctx=${context} index=${index}`),
    };
  };
  observe();
  let result: string[];
  try {
    result = handler(session, args);
  } catch (error) {
    result = [`panic: ${error instanceof Error ? error.message : String(error)}`];
  }
  observe(); // a `cluster` command made a new cluster: watch it from the next command on
  const lines = [...printed, ...result];
  return lines.length > 0 ? lines : ['ok'];
}

for (const file of readdirSync(testdata)
  .filter((f) => f.endsWith('.txt'))
  .sort()) {
  t.test(file, async (t) => {
    const path = join(testdata, file);
    const script = parseScript(readFileSync(path, 'utf8'), file);
    const session: Session = { cluster: undefined };
    const rewritten: Block[] = [];
    for (const block of script.blocks) {
      const actual = run(session, block.command);
      rewritten.push({ ...block, expected: actual });
      if (rewrite) continue;
      const same = actual.join('\n') === block.expected.join('\n');
      t.equal(actual.join('\n'), block.expected.join('\n'), `${file}:${block.line} ${block.command}`);
      if (!same) {
        t.comment(`${file}: stopping at the first difference; later commands depend on this one`);
        return;
      }
    }
    if (rewrite) {
      writeFileSync(path, printScript(rewritten, script.trailer));
      t.pass(`${file}: rewrote ${rewritten.length} blocks`);
    }
  });
}
