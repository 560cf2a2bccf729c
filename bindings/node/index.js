// The package's entry point: the loader that `napi build` generates
// (native.js, committed and checked by ci.sh), with its "Cannot find native
// binding" error, which blames an npm bug, replaced by one that says what
// failed (no binary, or one that does not load, and why) and what to
// do on this platform (install.js knows: build it with cargo in the source
// tree, or install a prebuilt per-platform package). The original error is
// kept as `cause`.
'use strict'
try {
  require('./native.js')
} catch (e) {
  if (!/Cannot find native binding|Failed to load native binding/.test(String(e && e.message))) throw e
  const { missingBinaryMessage, brokenBinary, reasons } = require('./install.js')
  const why = reasons(e)
  const err = new Error(missingBinaryMessage(why))
  // A binary that is there but does not load (ERR_DLOPEN_FAILED) is not a missing one.
  err.code = brokenBinary(why) ? 'ERR_NAT64_BINARY_LOAD' : 'ERR_NAT64_NO_BINARY'
  err.cause = e
  throw err
}
// A plain re-export, so that Node's ESM import sees the named exports.
module.exports = require('./native.js')
