import type { HostPort } from './node-config.js';

/** `host:port` or `[v6]:port` → HostPort; null when it is not that or the port is out of range. */
export function parseHostPort(value: string): HostPort | null {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value.trim());
  if (!match) return null;
  const port = Number(match[2]);
  if (port > 65535) return null;
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

export function formatHostPort(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
