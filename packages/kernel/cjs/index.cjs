'use strict';
// @kvapp/kernel is ESM-only (README, "Install"); require() resolves here. A Node that can require() an
// ES module (20.19+, 22.12+) gets the very module that import gets, so there is one copy of each
// class; an older Node gets this one clear error instead of ERR_REQUIRE_ESM.
if (!process.features.require_module) {
  throw new Error('@kvapp/kernel is ESM-only: use import (or await import()) — see README');
}
module.exports = require('../dist/index.js');
