#!/usr/bin/env node
import { runCli } from './run-cli.js';

// The `kvapp` command (bin/kvapp.js imports this file): runs on import, whatever the entry module.
process.exitCode = await runCli(process.argv.slice(2));
