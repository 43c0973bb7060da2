/**
 * The guardian: a tiny detached process that outlives a harness killed with SIGKILL and then kills
 * the harness's children. The harness tells it "add <pid> <starttime>" / "del <pid>" on its stdin;
 * when that pipe closes (the kernel closes it when the harness dies, however it dies) or the
 * harness pid disappears, it SIGKILLs every listed pid whose start time still matches (so a
 * recycled pid is never hit) and exits. It is CommonJS source run with `node -e`, so it needs no
 * build step and no file on disk.
 */
export const guardianSource = String.raw`
const fs = require('node:fs');
const parent = Number(process.env.KVAPP_GUARDIAN_PARENT);
const pids = new Map();
function startTime(pid) {
  try {
    const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
  } catch { return null; }
}
let reaped = false;
function reap() {
  if (reaped) return;
  reaped = true;
  for (const [pid, st] of pids) {
    if (startTime(pid) === st) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  }
  process.exit(0);
}
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const [op, pid, st] = buf.slice(0, i).split(' ');
    buf = buf.slice(i + 1);
    if (op === 'add') pids.set(Number(pid), st);
    else if (op === 'del') pids.delete(Number(pid));
  }
});
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
process.on('SIGTERM', reap);
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
setInterval(() => { try { process.kill(parent, 0); } catch { reap(); } }, 250);
`;
