// The getters' receiver: every getter of every exported class (found by walking
// the exports' prototypes, so a new one is covered without touching this file)
// refuses an object that is not a real instance of its class with a TypeError;
// napi-rs alone would read it as one (an instance of another class, or an
// object given the class's prototype). Real instances, made by a constructor, a
// factory or another class's method, and subclass instances still read them.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const nat64 = require('..')
const { dns } = require('./packets.js')

const POOL6 = '2001:db8:64::/96'

// A real instance of each class, by its constructor, a factory or another
// class's method (the classes without getters are receivers of the others').
const MAKE = {
  Batch: () => new nat64.Translator({ pool6: POOL6 }).translateBatch([Buffer.alloc(20)]),
  Dns64: () => new nat64.Dns64({ prefixes: [POOL6] }),
  Dns64Cache: () => new nat64.Dns64Cache(),
  Dns64Exchange: () => new nat64.Dns64({ prefixes: [POOL6] }).exchange(dns(1, 0x0100, 'v6.example', 28), '2001:db8::5'),
  Nat64: () => new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: [{ prefix: '198.51.100.1' }] }),
  Pref64: () => nat64.Pref64.decode(new nat64.Pref64(POOL6, 600).encode()),
  Prefix64: () => new nat64.Prefix64(POOL6),
  Translator: () => new nat64.Translator({ pool6: POOL6 }),
}
// The arguments of the classes that JS can construct (and so subclass).
const ARGS = { Dns64Cache: [], Pref64: [POOL6, 600], Prefix64: [POOL6] }

// [class name, class, [getter names]] of every export with accessors on its prototype.
const accessors = (proto) =>
  Object.entries(Object.getOwnPropertyDescriptors(proto))
    .filter(([, d]) => d.get || d.set)
    .map(([k]) => k)
const CLASSES = Object.entries(nat64)
  .filter(([, C]) => typeof C === 'function' && C.prototype && accessors(C.prototype).length > 0)
  .map(([name, C]) => [name, C, accessors(C.prototype)])

test('the walk finds the classes with getters, and each has a maker here', () => {
  const names = CLASSES.map(([n]) => n)
  for (const n of ['Batch', 'Dns64Cache', 'Dns64Exchange', 'Pref64', 'Prefix64']) assert.ok(names.includes(n), n)
  for (const n of names) assert.ok(MAKE[n], `add a maker of ${n} to MAKE in test/receiver.test.js`)
})

for (const [name, C, getters] of CLASSES) {
  test(`${name}: each getter refuses what is not a ${name}`, () => {
    const own = MAKE[name]()
    assert.ok(own instanceof C)
    const others = Object.entries(MAKE)
      .filter(([n]) => n !== name)
      .map(([n, make]) => [n, make()])
    assert.ok(others.length >= 2)
    for (const g of getters) {
      const get = Object.getOwnPropertyDescriptor(C.prototype, g).get
      const message = { name: 'TypeError', message: `Illegal invocation: ${g} is a getter of ${name}` }
      assert.doesNotThrow(() => own[g], `${name}.${g} of a ${name}`)
      for (const [n, other] of others) {
        // (a) an instance of another class, called directly and through the prototype chain.
        assert.throws(() => get.call(other), message, `${name}.${g} of a ${n}`)
        const disguised = MAKE[n]()
        Object.setPrototypeOf(disguised, C.prototype)
        assert.throws(() => disguised[g], message, `${name}.${g} of a ${n} with the prototype of ${name}`)
      }
      // (b) objects whose prototype is the class's.
      assert.throws(() => Object.create(C.prototype)[g], message, `${name}.${g} of Object.create`)
      assert.throws(() => Object.setPrototypeOf({}, C.prototype)[g], message, `${name}.${g} of {}`)
      for (const [what, v] of Object.entries({ undefined, null: null, 0: 0, "'x'": 'x', '{}': {}, prototype: C.prototype })) {
        assert.throws(() => get.call(v), message, `${name}.${g} of ${what}`)
      }
      // A refused object is not remembered as an instance; an instance given
      // another prototype still is one.
      assert.throws(() => get.call(others[0][1]), message)
      const moved = MAKE[name]()
      const value = moved[g]
      Object.setPrototypeOf(moved, null)
      assert.deepEqual(get.call(moved), value)
    }
  })
}

test('subclass instances read the getters', () => {
  for (const [name, C, getters] of CLASSES) {
    if (!ARGS[name]) continue
    class Sub extends C {}
    const sub = new Sub(...ARGS[name])
    const base = new C(...ARGS[name])
    for (const g of getters) assert.deepEqual(sub[g], base[g], `${name}.${g} of a subclass`)
    // A subclass's instance is no instance of another class.
    for (const [other, O, og] of CLASSES) {
      if (O === C) continue
      assert.throws(() => Object.getOwnPropertyDescriptor(O.prototype, og[0]).get.call(sub), TypeError, `${other} of a ${name} subclass`)
    }
  }
})

test('the public shape is unchanged: no hidden method, accessors as napi-rs made them', () => {
  // The prototypes as the generated loader alone makes them (without index.js).
  const raw = JSON.parse(
    execFileSync(
      process.execPath,
      [
        '-e',
        `const n = require(${JSON.stringify(path.join(__dirname, '..', 'native.js'))})
         const out = {}
         for (const [k, C] of Object.entries(n)) if (typeof C === 'function' && C.prototype)
           out[k] = Object.entries(Object.getOwnPropertyDescriptors(C.prototype)).map(([p, d]) =>
             [p, typeof d.value, !!d.get, !!d.set, d.enumerable, d.configurable, d.writable])
         console.log(JSON.stringify(out))`,
      ],
      { encoding: 'utf8' },
    ),
  )
  for (const [name, C] of Object.entries(nat64)) {
    if (typeof C !== 'function' || !C.prototype) continue
    const seen = JSON.parse(JSON.stringify(Object.entries(Object.getOwnPropertyDescriptors(C.prototype)).map(([p, d]) => [
      p,
      typeof d.value,
      !!d.get,
      !!d.set,
      d.enumerable,
      d.configurable,
      d.writable,
    ])))
    const expected = raw[name].filter(([p]) => p !== '__nat64Receiver')
    assert.deepEqual(seen, expected, name)
    assert.ok(!('__nat64Receiver' in C.prototype), name)
  }
})
