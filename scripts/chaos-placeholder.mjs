#!/usr/bin/env node
// `npm run chaos` until the real-process harness exists: say plainly that nothing ran.
console.log('kvapp chaos: the real-process chaos suite (harness/ and chaos/) is not built yet.');
console.log('Nothing was tested by this command. `npm test` runs the core, checker and simulator suites.');
