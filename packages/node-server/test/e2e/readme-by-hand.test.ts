import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../node/node-support.js';

// The README's "Run a 3-node cluster by hand" shell blocks (start 3 nodes, talk to them, join a
// 4th and remove one, stop), run as written with bash against real processes, so that the instructions cannot drift from the commands. Only the values of
// the settings line (ports, data dir), which the README says to change when a port is taken,
// are replaced: by free ports and a temporary directory.

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const repoRoot = join(packageDir, '..', '..');
const sectionTitle = '## Run a 3-node cluster by hand';

/** The fenced `sh` blocks of one README section, in order. */
function shellBlocks(readme: string): string[] {
  const start = readme.indexOf(sectionTitle);
  if (start < 0) throw new Error(`README has no section "${sectionTitle}"`);
  const rest = readme.slice(start + sectionTitle.length);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Sets NAME=value in the script, where the README assigns it exactly once. */
function setVariable(script: string, name: string, value: string): string {
  const pattern = new RegExp(`(^|\\s)${name}=(\\S+)`, 'gm');
  const found = [...script.matchAll(pattern)];
  if (found.length !== 1) throw new Error(`README assigns ${name} ${found.length} times, expected once`);
  return script.replace(pattern, `$1${name}=${value}`);
}

/** A row of `kvapp member list`. */
interface MemberRow {
  readonly id: number;
  readonly role: string;
  readonly leader: boolean;
}

/**
 * Every table `kvapp member list` printed, in order. The nodes log to the same stdout, so a log
 * line (JSON) may fall between two rows; any other line ends a table.
 */
function memberTables(stdout: string): MemberRow[][] {
  const tables: MemberRow[][] = [];
  let table: MemberRow[] | null = null;
  for (const line of stdout.split('\n')) {
    if (/^ID {2}ROLE +LEADER {2}PEER +CLIENT +MATCH {2}LAG$/.test(line)) tables.push((table = []));
    else if (table !== null && line.startsWith('{')) continue;
    else if (table !== null) {
      const m = /^(\d+) +(voter|learner|leaving) +(\* +)?127\.0\.0\.1:\d+ +127\.0\.0\.1:\d+ +\d+ +\d+$/.exec(line);
      if (m === null) table = null;
      else table.push({ id: Number(m[1]), role: m[2]!, leader: m[3] !== undefined });
    }
  }
  return tables;
}

/** Resolves when a connection to the port is refused: nothing listens there any more. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

t.test('the by-hand cluster of the README starts, serves kvapp, takes in a 4th node, removes one and stops', async (t) => {
  t.setTimeout(240_000);
  const blocks = shellBlocks(await readFile(join(packageDir, 'README.md'), 'utf8'));
  t.equal(blocks.length, 4, 'start, talk, change the members, stop');

  const dir = await mkdtemp(join(tmpdir(), 'kvapp-readme-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ports: Record<string, number> = {};
  let script = blocks.join('\n');
  for (const name of ['P1', 'P2', 'P3', 'P4', 'C1', 'C2', 'C3', 'C4', 'H1', 'H2', 'H3', 'H4']) {
    ports[name] = await freePort();
    script = setVariable(script, name, `127.0.0.1:${ports[name]}`);
  }
  script = setVariable(script, 'D', join(dir, 'data'));

  const env: NodeJS.ProcessEnv = { ...process.env, KVAPP_PARENT_PID: String(process.pid) };
  delete env['NODE_OPTIONS']; // tap's loader is not the installed commands'
  delete env['KVAPP_ENDPOINTS'];
  // Its own process group, so that a test that fails half-way can stop every process it started.
  const bash = spawn('bash', ['-c', script], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  bash.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  bash.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(bash, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  t.teardown(() => {
    if (bash.exitCode === null && bash.signalCode === null) process.kill(-bash.pid!, 'SIGKILL');
  });
  const [code] = await exited;

  t.equal(code, 0, 'bash exits 0');
  t.match(stdout, /^\S+ is healthy$/m, 'endpoint health reports healthy nodes');
  t.equal(stdout.match(/^ok \(key was absent\)$/gm)?.length, 3, 'the three puts applied: two at first, one after the member changes');
  t.match(stdout, /^hello$/m, 'get prints the value put');
  t.match(stdout, /^ok \(previous value: hello\)$/m, 'cas applied');
  t.match(stdout, /^10000$/m, 'the value put from standard input reads back');
  const statusLines =
    stdout.match(
      /^127\.0\.0\.1:\d+ {2}node [123] {2}\w+ {2}term \d+ {2}leader [123] \(127\.0\.0\.1:\d+\) {2}commit \d+ {2}applied \d+$/gm,
    ) ?? [];
  t.equal(statusLines.length, 3, 'endpoint status: one line per node, naming the leader by id and address');
  t.match(stdout, /^\{"healthy":true,.*\}\n[1-9]\d*$/m, 'the HTTP /health of node 1, then how many kvapp_* metric lines it has');

  // Membership: the tables of `kvapp member list`, before the join, after it and after the remove.
  const tables = memberTables(stdout);
  t.equal(tables.length, 3, 'member list printed three tables (the wait loop pipes its own to grep)');
  const voters = (table: MemberRow[] | undefined) => (table ?? []).filter((m) => m.role === 'voter').map((m) => m.id);
  t.same(voters(tables[0]), [1, 2, 3], 'three voters at first');
  t.equal(tables[0]?.length, 3, 'and no other member');
  t.same(voters(tables[1]), [1, 2, 3, 4], 'node 4 joined from an empty data dir and became a voter');
  t.equal(tables[1]?.length, 4, 'four members after the join');
  t.same(voters(tables[2]), [1, 2, 4], 'node 3 removed: three voters');
  t.equal(tables[2]?.length, 3, 'three members after the remove');
  for (const [i, table] of tables.entries()) t.equal(table.filter((m) => m.leader).length, 1, `table ${i + 1} marks one leader`);
  t.match(stdout, /^ok: node 3 removed \(log index \d+\)$/m, 'member remove says so');
  const health3 = /^\{"healthy":false,"id":3,.*\}$/m.exec(stdout)?.[0];
  t.ok(health3 !== undefined, 'the /health of node 3 after its removal is unhealthy');
  t.match(JSON.parse(health3 ?? '{}'), { healthy: false, id: 3, outOfService: /removed/, conf: { voters: [1, 2, 4] } }, 'and says why');
  t.match(stdout, /^yes$/m, 'the three voters left serve a put and a get');

  for (const name of ['C1', 'C2', 'C3', 'C4']) t.ok(await refused(ports[name]!), `the node on ${name} stopped`);
  if (!t.passing()) t.comment(`stdout (end):\n${stdout.slice(-6000)}\nstderr (end):\n${stderr.slice(-4000)}`);
});
