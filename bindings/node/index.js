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
const native = require('./native.js')

// The getters' receiver check. V8 refuses a foreign `this` for a class's
// methods ("Illegal invocation") but not for its accessors, and a napi-rs
// getter reads whatever object it is called on as its class (a `Dns64` as
// a `Dns64Cache`). Each class with getters has a hidden method,
// `__nat64Receiver` (see src/lib.rs), which V8 lets only a real instance
// (or a subclass's) call: it comes off the prototype, and every getter
// calls it on `this` first, then the original getter (kept only in these
// closures). An object that passed is remembered (per class, weakly): it
// stays an instance, and a getter then costs a WeakSet lookup more than
// before rather than a second native call.
const RECEIVER = '__nat64Receiver'
for (const C of Object.values(native)) {
  const proto = typeof C === 'function' && C.prototype
  const receiver = proto && Object.getOwnPropertyDescriptor(proto, RECEIVER)
  if (!receiver) continue
  const check = receiver.value
  delete proto[RECEIVER]
  const instances = new WeakSet()
  for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
    if (!d.get) continue
    const get = d.get
    const message = `Illegal invocation: ${name} is a getter of ${C.name}`
    const guarded = function () {
      if (!instances.has(this)) {
        try {
          check.call(this)
        } catch {
          throw new TypeError(message)
        }
        instances.add(this)
      }
      return get.call(this)
    }
    Object.defineProperty(guarded, 'name', { value: get.name })
    Object.defineProperty(proto, name, { ...d, get: guarded })
  }
}

// A plain re-export, so that Node's ESM import sees the named exports.
module.exports = native
