import t from 'tap';
import { parseVmRss, readRssBytes } from '../../src/cluster/proc-rss.js';

t.test('VmRSS is read in kB and given in bytes', async (t) => {
  const status = 'Name:\tnode\nVmPeak:\t  900000 kB\nVmRSS:\t   51234 kB\nRssAnon:\t   40000 kB\n';
  t.equal(parseVmRss(status), 51234 * 1024, 'the VmRSS line, not VmPeak or RssAnon');
  t.equal(parseVmRss('Name:\tzombie\nState:\tZ (zombie)\n'), null, 'a zombie has no VmRSS line');
});

t.test("this process's resident memory, and none for a pid that is not there", async (t) => {
  const bytes = readRssBytes(process.pid);
  t.ok(bytes !== null, 'read from /proc');
  const rss = process.memoryUsage().rss;
  // The same kernel figure read at two instants: within a factor of two of Node's own.
  t.ok(bytes! > rss / 2 && bytes! < rss * 2, `${bytes} bytes against process.memoryUsage().rss ${rss}`);
  // pid_max is at most 2^22 on Linux: this pid never exists.
  t.equal(readRssBytes(2 ** 22 + 1), null);
});
