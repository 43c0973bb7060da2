import assert from 'node:assert/strict';
import { LinkProxy, passMode } from './link-proxy.js';
import type { LinkCounters, LinkMode, LinkProxyOptions } from './link-proxy.js';

/** The name of the directed link from `from` to `to`: "n1->n2", "client->n3". */
export function linkName(from: string, to: string): string {
  return `${from}->${to}`;
}

export interface AddLinkOptions extends Omit<LinkProxyOptions, 'name' | 'targetHost' | 'targetPort'> {
  readonly targetHost?: string;
}

/** Many named links, so a nemesis can cut any subset and `heal()` restores all of them. */
export class ProxySet {
  private readonly links = new Map<string, LinkProxy>();
  private closed = false;

  constructor(private readonly defaults: Omit<AddLinkOptions, 'listenPort'> = {}) {}

  async add(name: string, targetPort: number, options: AddLinkOptions = {}): Promise<LinkProxy> {
    assert.ok(!this.closed, 'proxy set is closed');
    assert.ok(!this.links.has(name), `link ${name} already exists`);
    const proxy = await LinkProxy.start({
      ...this.defaults,
      ...options,
      name,
      targetHost: options.targetHost ?? this.defaults.targetHost ?? '127.0.0.1',
      targetPort,
    });
    if (this.closed || this.links.has(name)) {
      // close() or a concurrent add of the same name ran while we were listening.
      await proxy.close();
      assert.fail(`link ${name} could not be added (set closed or name taken)`);
    }
    this.links.set(name, proxy);
    return proxy;
  }

  get(name: string): LinkProxy {
    const proxy = this.links.get(name);
    assert.ok(proxy !== undefined, `no link named ${name}`);
    return proxy;
  }

  has(name: string): boolean {
    return this.links.has(name);
  }

  names(): string[] {
    return [...this.links.keys()];
  }

  setMode(name: string, mode: LinkMode): void {
    this.get(name).setMode(mode);
  }

  /** Sets every named link; all names are checked first so a typo changes nothing. */
  setModes(names: Iterable<string>, mode: LinkMode): void {
    const proxies = [...names].map((n) => this.get(n));
    for (const p of proxies) p.setMode(mode);
  }

  /** Names of links not in `pass`. */
  faulted(): string[] {
    return [...this.links].filter(([, p]) => p.mode.kind !== 'pass').map(([n]) => n);
  }

  heal(): void {
    for (const p of this.links.values()) if (p.mode.kind !== 'pass') p.setMode(passMode);
  }

  counters(): Record<string, LinkCounters> {
    const out: Record<string, LinkCounters> = {};
    for (const [n, p] of this.links) out[n] = p.snapshot();
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.links.values()].map((p) => p.close()));
  }
}
