#!/usr/bin/env node
import { createRequire } from 'node:module';
import { pino } from 'pino';
import { ConfigError } from './config/config-error.js';
import { loadConfig, USAGE } from './config/load-config.js';
import { FailpointError } from './failpoints/failpoints.js';
import { startNode } from './node/start-node.js';
import { StartError } from './node/start-error.js';
import { DiskProbeError } from './wal/disk-probe.js';

/** How long a SIGTERM/SIGINT shutdown may take before the process exits anyway. */
const SHUTDOWN_MS_MAX = 10_000;

/** How often a node started by the harness checks that the harness is still alive. */
const PARENT_POLL_MS = 500;

/**
 * The harness passes its pid in KVAPP_PARENT_PID: exit when that process is gone, so a node
 * never outlives a harness that was killed before it could clean up (see harness/README.md).
 */
function watchParent(): void {
  const pid = Number(process.env['KVAPP_PARENT_PID']);
  if (!Number.isSafeInteger(pid) || pid <= 0) return;
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch (error) {
      // EPERM: it exists but is not ours to signal, so it is alive.
      if ((error as NodeJS.ErrnoException).code === 'EPERM') return;
      process.stderr.write(`kvapp-node: parent ${pid} is gone; exiting\n`);
      process.exit(1);
    }
  }, PARENT_POLL_MS);
  timer.unref();
}

async function main(): Promise<number> {
  // Anywhere on the command line, like --help: the version is asked for, nothing is started.
  if (process.argv.slice(2).includes('--version')) {
    process.stdout.write(`${(createRequire(import.meta.url)('../package.json') as { version: string }).version}\n`);
    return 0;
  }
  watchParent();
  let loaded;
  try {
    loaded = loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`kvapp-node: ${error.message}\n\nRun kvapp-node --help for the options.\n`);
    return 2;
  }
  if (loaded.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loaded.config;
  const logger = pino({ level: config.logLevel });
  let node;
  try {
    node = await startNode(config, {
      logger,
      ...(process.env['KVAPP_FAILPOINTS'] ? { failpoints: process.env['KVAPP_FAILPOINTS'] } : {}),
      onFatal: () => process.exit(1),
    });
  } catch (error) {
    const err = error as Error & { code?: string; file?: string | null; offset?: number | null };
    if (error instanceof FailpointError) {
      process.stderr.write(`kvapp-node: KVAPP_FAILPOINTS: ${error.message}\n`);
      return 2;
    }
    if (error instanceof DiskProbeError) {
      process.stderr.write(`kvapp-node: ${error.message}\n`);
      return 2;
    }
    if (error instanceof StartError) {
      // A refusal (port taken, data dir in use, other voters): one line naming what is in the way.
      logger.fatal({ code: error.code, ...error.details }, error.message);
      process.stderr.write(`kvapp-node: ${error.message}\n`);
      return 1;
    }
    logger.fatal({ code: err.code, file: err.file, offset: err.offset, err: err.message }, 'cannot start');
    process.stderr.write(`kvapp-node: cannot start: ${err.message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      setTimeout(() => {
        logger.error('shutdown took too long; exiting');
        process.exit(1);
      }, SHUTDOWN_MS_MAX).unref();
      void node.stop().then(resolve);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kvapp-node: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
