// The package's entry point: the loader that `napi build` generates
// (native.js, committed and checked by ci.sh), with its "Cannot find native
// binding" error, which blames an npm bug, replaced by one that says what to
// do on this platform (install.js knows: build it with cargo in the source
// tree, or install a prebuilt per-platform package). The original error is
// kept as `cause`.
'use strict'
try {
  require('./native.js')
} catch (e) {
  if (!/Cannot find native binding|Failed to load native binding/.test(String(e && e.message))) throw e
  const { missingBinaryMessage, reasons } = require('./install.js')
  const err = new Error(missingBinaryMessage(reasons(e)))
  err.code = 'ERR_NAT64_NO_BINARY'
  err.cause = e
  throw err
}
// A plain re-export, so that Node's ESM import sees the named exports.
module.exports = require('./native.js')
