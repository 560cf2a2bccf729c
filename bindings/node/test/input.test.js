// What the binding refuses, and how it says so: unknown configuration keys at every
// level (and the key lists checked against the generated index.d.ts), timestamps as
// number or bigint, bytes that are not a Buffer or Uint8Array.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const nat64 = require('..')
const { udp6, dns } = require('./packets.js')

const POOL6 = '2001:db8:64::/96'
const P = new nat64.Prefix64(POOL6)
const POOL4 = [{ prefix: '198.51.100.1' }]

// `interface Name { ... }` of index.d.ts: its keys.
const DTS = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
function dtsKeys(name) {
  const m = new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`).exec(DTS)
  assert.ok(m, `interface ${name} in index.d.ts`)
  return [...m[1].matchAll(/^ {2}(\w+)\??:/gm)].map((k) => k[1])
}

// Every configuration object: how to build a valid root around it (`wrap(obj)`), its
// path in messages and its TypeScript interface.
const OBJECTS = [
  { iface: 'Config', path: 'Config', make: (o) => new nat64.Translator({ pool6: POOL6, ...o }) },
  {
    iface: 'Config',
    path: 'Config',
    make: (o) => new nat64.Translator({ pool6: POOL6 }).setConfig({ pool6: POOL6, ...o }),
  },
  {
    iface: 'Eam',
    path: 'Config.eamt[1]',
    make: (o) =>
      new nat64.Translator({
        pool6: POOL6,
        eamt: [
          { ipv4: '192.0.2.1', ipv6: '2001:db8:1::1' },
          { ipv4: '192.0.2.2', ipv6: '2001:db8:1::2', ...o },
        ],
      }),
  },
  { iface: 'Ipv4Id', path: 'Config.ipv4Id', make: (o) => new nat64.Translator({ pool6: POOL6, ipv4Id: { kind: 'fixed', value: 0, ...o } }) },
  { iface: 'Nat64Config', path: 'Nat64Config', make: (o) => new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: POOL4, ...o }) },
  { iface: 'Config', path: 'Nat64Config.xlat', make: (o) => new nat64.Nat64({ xlat: { pool6: POOL6, ...o }, pool4: POOL4 }) },
  { iface: 'Pool4Entry', path: 'Nat64Config.pool4[0]', make: (o) => new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: [{ ...POOL4[0], ...o }] }) },
  ...['v6', 'v4', null].map((side) => ({
    iface: side ? 'Taddr' : 'Bib',
    path: side ? `Nat64Config.staticBib[0].${side}` : 'Nat64Config.staticBib[0]',
    make: (o) => {
      const b = { proto: 'udp', v6: { addr: '2001:db8::9', port: 53 }, v4: { addr: '198.51.100.1', port: 53 } }
      if (side) b[side] = { ...b[side], ...o }
      return new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: POOL4, staticBib: [side ? b : { ...b, ...o }] })
    },
  })),
  { iface: 'Timeouts', path: 'Nat64Config.timeouts', make: (o) => new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: POOL4, timeouts: { ...o } }) },
  { iface: 'TableLimits', path: 'Nat64Config.limits', make: (o) => new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: POOL4, limits: { ...o } }) },
  { iface: 'Dns64Config', path: 'Dns64Config', make: (o) => new nat64.Dns64({ prefixes: [POOL6], ...o }) },
  { iface: 'PrefixRule', path: 'Dns64Config.prefixes[1]', make: (o) => new nat64.Dns64({ prefixes: [POOL6, { prefix: '2001:db8:65::/96', ...o }] }) },
  { iface: 'Dns64CacheOptions', path: 'Dns64CacheOptions', make: (o) => new nat64.Dns64Cache({ ...o }) },
]

for (const { iface, path: where, make } of OBJECTS) {
  test(`unknown keys refused: ${where} (${iface})`, () => {
    make({}) // the object without the stray key is valid
    let msg = ''
    assert.throws(
      () => make({ mtu: 1500 }),
      (e) => {
        msg = e.message
        return true
      },
    )
    // The key and the object it was in, then every key that object has: exactly
    // the fields of its interface in the generated index.d.ts.
    assert.ok(msg.startsWith(`${where}: unknown key 'mtu'`), msg)
    const known = new RegExp(`${where.replace(/[.[\]]/g, '\\$&')}: unknown key 'mtu'[^;]*; an? ${iface} has ([^;]*)`).exec(msg)
    assert.ok(known, msg)
    assert.deepEqual(known[1].split(', ').sort(), dtsKeys(iface).sort())
    // Every known key passes the check (undefined is "not set").
    for (const k of dtsKeys(iface)) {
      try {
        make({ [k]: undefined })
      } catch (e) {
        assert.doesNotMatch(e.message, /unknown key/, `${iface}.${k}`)
      }
    }
  })
}

test('unknown keys: every one named, with near misses, undefined values too', () => {
  assert.throws(
    () =>
      new nat64.Nat64({
        xlat: { pool6: POOL6, pool_6: POOL6 },
        pool4: [{ prefix: '198.51.100.1', first_port: 1 }],
        timeouts: { tcp: 10 },
        typo: undefined,
      }),
    (e) => {
      assert.match(e.message, /Nat64Config\.xlat: unknown key 'pool_6' \(did you mean pool6\?\)/)
      assert.match(e.message, /Nat64Config\.pool4\[0\]: unknown key 'first_port' \(did you mean firstPort\?\)/)
      assert.match(e.message, /Nat64Config\.timeouts: unknown key 'tcp' \(did you mean tcpEst or tcpTrans or tcpIncomingSyn\?\)/)
      assert.match(e.message, /Nat64Config: unknown key 'typo'/)
      return true
    },
  )
  assert.throws(() => new nat64.Translator({ pool6: POOL6, mtu: 1400 }), /Config: unknown key 'mtu' \(did you mean mtu4 or mtu6/)
  // Strings among the prefix rules are not objects to check.
  new nat64.Dns64({ prefixes: [POOL6, { prefix: '2001:db8:65::/96', mapped: ['192.0.2.0/24'] }] })
})

test('timestamps: number or bigint, the same clock', () => {
  const mk = () => new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: POOL4, timeouts: { udp: 120 } })
  const pkt = udp6('2001:db8::5', P.embed('203.0.113.2'), 4000, 53)
  const a = mk()
  const b = mk()
  const t0 = process.hrtime.bigint() / 1000n
  const va = a.translate(pkt, Number(t0))
  const vb = b.translate(pkt, t0)
  assert.equal(vb.kind, 'Translated')
  assert.deepEqual(vb, va)
  assert.equal(b.sessions()[0].expires, Number(t0) + 120_000_000)
  assert.equal(b.nextExpiry(), Number(t0) + 120_000_000)
  assert.equal(b.poll(t0 + 119_999_999n), null)
  assert.equal(b.stats().sessions, 1)
  assert.equal(b.poll(t0 + 120_000_000n), null)
  assert.equal(b.stats().sessions, 0, 'the session expired at the bigint time')
  assert.equal(b.translateBatch([pkt, pkt], t0 + 200_000_000n).translated, 2)
  const out = Buffer.alloc(nat64.OUTPUT_BUFFER_LEN)
  assert.equal(b.translateInto(pkt, out, 2n ** 64n - 1n).kind, 'Translated')
  assert.equal(b.translate(pkt, 0n).kind, 'Translated')
})

test('timestamps: what is refused, and why', () => {
  const nat = new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: POOL4 })
  const pkt = udp6('2001:db8::5', P.embed('203.0.113.2'), 4000, 53)
  const range = (now, got) =>
    assert.throws(() => nat.translate(pkt, now), (e) => {
      assert.ok(e instanceof RangeError, e)
      assert.equal(e.code, 'ERR_OUT_OF_RANGE')
      assert.equal(e.message, `now (microseconds) must be a non-negative integer below 2^64, got ${got}`)
      return true
    })
  range(-1, '-1')
  range(1.5, '1.5')
  range(NaN, 'NaN')
  range(Infinity, 'inf')
  range(2 ** 64, '18446744073709552000')
  range(-1n, '-1')
  range(-(2n ** 70n), 'a bigint of more than 64 bits')
  range(2n ** 64n, 'a bigint of more than 64 bits')
  for (const [now, got] of [['5', 'string'], [undefined, 'undefined'], [null, 'null'], [{}, 'an object']]) {
    assert.throws(() => nat.translate(pkt, now), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: `now (microseconds) must be a number or a bigint, got ${got}` })
  }
  assert.throws(() => nat.poll(-5n), RangeError)
  assert.throws(() => nat.translateBatch([pkt], -1), RangeError)
  assert.equal(nat.stats().sessions, 0, 'nothing was translated')
})

test('64-bit configuration counts: number or bigint', () => {
  const cfg = (seed, maxIterations) => ({ xlat: { pool6: POOL6, seed }, pool4: POOL4, maxIterations })
  new nat64.Nat64(cfg(2n ** 64n - 1n, 10n))
  new nat64.Nat64(cfg(7, 10))
  new nat64.Translator({ pool6: POOL6, seed: 2n ** 63n })
  assert.throws(() => new nat64.Nat64(cfg(-1, 1)), {
    name: 'RangeError',
    code: 'ERR_OUT_OF_RANGE',
    message: 'Config.seed (in Nat64Config.xlat) must be a non-negative integer below 2^64, got -1',
  })
  assert.throws(() => new nat64.Nat64(cfg(1, 2n ** 64n)), {
    name: 'RangeError',
    message: 'Nat64Config.maxIterations must be a non-negative integer below 2^64, got a bigint of more than 64 bits',
  })
  assert.throws(() => new nat64.Translator({ pool6: POOL6, seed: 'x' }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: 'Config.seed must be a number or a bigint, got string',
  })
})

test('bytes: a Buffer or Uint8Array, else a TypeError naming the argument', () => {
  const t = new nat64.Translator({ pool6: POOL6 })
  const nat = new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: POOL4 })
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const pkt = udp6(P.embed('198.51.100.1'), P.embed('192.0.2.9'), 4000, 53)
  const q = dns(1, 0x0100, 'example.net', 28)
  const out = Buffer.alloc(nat64.OUTPUT_BUFFER_LEN)
  const refused = (f, what, got) =>
    assert.throws(f, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: `${what} must be a Buffer or Uint8Array, got ${got}` })
  refused(() => t.translate('packet'), 'packet', 'string')
  refused(() => t.translate([1, 2]), 'packet', 'an Array')
  refused(() => t.translate(new Uint16Array(4)), 'packet', 'a Uint16Array')
  refused(() => t.translate(pkt.buffer), 'packet', 'an ArrayBuffer (wrap it: new Uint8Array(buf))')
  refused(() => t.translate(new DataView(pkt.buffer)), 'packet', 'a DataView')
  refused(() => t.translate(undefined), 'packet', 'undefined')
  refused(() => t.translateInto(pkt, 5), 'out', 'number')
  refused(() => t.translateInto({}, out), 'packet', 'an object')
  refused(() => t.translateBatch([pkt, 'x']), 'packets[1]', 'string')
  assert.throws(() => t.translateBatch(pkt), {
    name: 'TypeError',
    message: 'packets must be an Array of Buffer or Uint8Array, got a Uint8Array',
  })
  refused(() => nat.translate(null, 1), 'packet', 'null')
  refused(() => nat.translateInto(pkt, 'out', 1), 'out', 'string')
  refused(() => nat.translateBatch([1], 1), 'packets[0]', 'number')
  refused(() => d.plan('q', '2001:db8::1'), 'query', 'string')
  refused(() => d.needsAQuery(q, 'x'), 'aaaaResponse', 'string')
  refused(() => d.synthesize(q, null, 5), 'aResponse', 'number')
  refused(() => d.relay(q, true), 'response', 'boolean')
  refused(() => d.upstreamQuery(q, 1, 'example.net', 28), 'qname', 'string')
  refused(() => d.errorResponse(1n, 2), 'clientMsg', 'bigint')
  refused(() => nat64.prefixesFromResponse('x'), 'response', 'string')
  refused(() => nat64.Pref64.decode([0]), 'option', 'an Array')
  // Uint8Array and Buffer (and a view into a larger buffer) are accepted alike.
  const view = new Uint8Array(pkt.length + 8)
  view.set(pkt, 8)
  for (const p of [pkt, new Uint8Array(pkt), view.subarray(8)]) assert.equal(t.translate(p).kind, 'Translated')
  assert.equal(d.needsAQuery(q, undefined), 'query_a', 'no AAAA answer (timed out): ask for A')
})

test('integers: exactly the integer passed, else a RangeError naming the field or argument and the range', () => {
  const U8 = 'an integer from 0 to 255'
  const U16 = 'an integer from 0 to 65535'
  const U32 = 'an integer from 0 to 4294967295'
  const SECS = 'a finite, non-negative number of seconds'
  const range = (f, message) => assert.throws(f, (e) => {
    assert.ok(e instanceof RangeError, e)
    assert.equal(e.code, 'ERR_OUT_OF_RANGE')
    assert.equal(e.message, message)
    return true
  })
  const xlat = (o) => () => new nat64.Translator({ pool6: POOL6, ...o })
  const nat = (o) => () => new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: POOL4, ...o })
  const dns64 = (o) => () => new nat64.Dns64({ prefixes: [POOL6], ...o })
  // Negative (was wrapped to 4294967295), fractional (was truncated), NaN, too big.
  range(xlat({ mtu6: -1 }), `Config.mtu6 must be ${U32}, got -1`)
  range(xlat({ mtu6: 1280.9 }), `Config.mtu6 must be ${U32}, got 1280.9`)
  range(xlat({ mtu4: NaN }), `Config.mtu4 must be ${U32}, got NaN`)
  range(xlat({ lowestIpv6Mtu: 2 ** 32 }), `Config.lowestIpv6Mtu must be ${U32}, got 4294967296`)
  range(xlat({ mtuPlateaus: [1500, 65536] }), `Config.mtuPlateaus must be ${U16}, got 65536`)
  range(xlat({ overrideTos: 256 }), `Config.overrideTos must be ${U8}, got 256`)
  range(xlat({ errorHopLimit: -1 }), `Config.errorHopLimit must be ${U8}, got -1`)
  range(xlat({ ipv4Id: { kind: 'counter', value: 0.5 } }), `Ipv4Id.value (in Config.ipv4Id) must be ${U16}, got 0.5`)
  range(nat({ pool4: [{ prefix: '198.51.100.1', lastPort: 70000 }] }), `Pool4Entry.lastPort (in Nat64Config.pool4) must be ${U16}, got 70000`)
  range(nat({ pool4: [{ prefix: '198.51.100.1', firstPort: 1.5 }] }), `Pool4Entry.firstPort (in Nat64Config.pool4) must be ${U16}, got 1.5`)
  range(nat({ xlat: { pool6: POOL6, mtu6: -1 } }), `Config.mtu6 (in Nat64Config.xlat) must be ${U32}, got -1`)
  const bib = (port) => [{ proto: 'udp', v6: { addr: '2001:db8::9', port: 53 }, v4: { addr: '198.51.100.1', port } }]
  range(nat({ staticBib: bib(-1) }), `Taddr.port (in Nat64Config.staticBib > Bib.v4) must be ${U16}, got -1`)
  range(nat({ maxSimultaneousOpens: -3 }), `Nat64Config.maxSimultaneousOpens must be ${U32}, got -3`)
  range(nat({ limits: { maxSessions: Infinity } }), `TableLimits.maxSessions (in Nat64Config.limits) must be ${U32}, got inf`)
  range(nat({ limits: { clientPrefixLen: 256 } }), `TableLimits.clientPrefixLen (in Nat64Config.limits) must be ${U8}, got 256`)
  range(nat({ timeouts: { udp: -1 } }), `Timeouts.udp (in Nat64Config.timeouts) must be ${SECS}, got -1`)
  range(nat({ timeouts: { tcpEst: NaN } }), `Timeouts.tcpEst (in Nat64Config.timeouts) must be ${SECS}, got NaN`)
  range(dns64({ ednsUdpSize: 65536 }), `Dns64Config.ednsUdpSize must be ${U16}, got 65536`)
  assert.throws(xlat({ mtu6: '1280' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'Config.mtu6 must be a number or a bigint, got string' })
  assert.throws(nat({ timeouts: { icmp: '60' } }), { name: 'TypeError', message: 'Timeouts.icmp (in Nat64Config.timeouts) must be a number of seconds, got string' })
  // Method arguments.
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const q = dns(1, 0x0100, 'example.net', 28)
  const qname = Buffer.from('\x07example\x03net\x00', 'latin1')
  range(() => d.upstreamQuery(q, -1, qname, 1), `id must be ${U16}, got -1`)
  range(() => d.upstreamQuery(q, 65536, qname, 1), `id must be ${U16}, got 65536`)
  range(() => d.upstreamQuery(q, 7, qname, 1.5), `qtype must be ${U16}, got 1.5`)
  range(() => d.errorResponse(q, NaN), `rcode must be ${U16}, got NaN`)
  range(() => d.synthesize(q, null, null, -1), `maxLen must be ${U32}, got -1`)
  range(() => d.relay(q, q, 512.5), `maxLen must be ${U32}, got 512.5`)
  range(() => new nat64.Pref64(POOL6, 2 ** 32), `lifetimeSecs must be ${U32}, got 4294967296`)
  assert.throws(() => d.upstreamQuery(q, '7', qname, 1), { name: 'TypeError', message: 'id must be a number or a bigint, got string' })
  const t = new nat64.Translator({ pool6: POOL6 })
  const b = t.translateBatch([udp6(P.embed('198.51.100.1'), P.embed('192.0.2.9'), 4000, 53)])
  range(() => b.get(0.5), 'index must be an integer from -2147483648 to 2147483647, got 0.5')
  range(() => b.get(2 ** 31), 'index must be an integer from -2147483648 to 2147483647, got 2147483648')
  // In range, they are taken exactly (a bigint too).
  assert.equal(b.get(-1).kind, 'Translated')
  assert.equal(d.upstreamQuery(q, 0xbeef, qname, 28n).readUInt16BE(0), 0xbeef)
  assert.equal(new nat64.Pref64(POOL6, 65528n).lifetimeSecs, 65528)
  new nat64.Nat64({ xlat: { pool6: POOL6, mtu6: 1280, mtuPlateaus: [65535, 0] }, pool4: [{ prefix: '198.51.100.1', firstPort: 1024, lastPort: 65535n }], timeouts: { udp: 120.5 } })
})

test('translateBatch: an element getter that detaches an earlier packet is seen, never read after the detach', () => {
  const t = new nat64.Translator({ pool6: POOL6 })
  const pkt = udp6(P.embed('198.51.100.1'), P.embed('192.0.2.9'), 4000, 53)
  const first = new Uint8Array(pkt) // its own ArrayBuffer
  const packets = [first, pkt]
  let detached = false
  Object.defineProperty(packets, 1, {
    enumerable: true,
    get() {
      structuredClone(first.buffer, { transfer: [first.buffer] })
      detached = true
      return pkt
    },
  })
  const b = t.translateBatch(packets)
  assert.ok(detached && first.byteLength === 0, 'the getter ran and detached packets[0]')
  assert.equal(b.length, 2)
  // packets[0] as it was when its bytes were taken: empty (not the freed bytes).
  assert.notEqual(b.get(0).kind, 'Translated')
  assert.equal(b.get(1).kind, 'Translated')
})

test("the translator's output buffer, if JS gets hold of it and detaches it, is replaced", () => {
  const pkt = udp6(P.embed('198.51.100.1'), P.embed('192.0.2.9'), 4000, 53)
  const pkt4 = udp6('2001:db8::5', P.embed('203.0.113.2'), 4000, 53)
  // Two of each: `ref` translates the same packets undisturbed (the IPv4
  // Identification changes from one packet to the next).
  const makers = [
    ['Translator', () => ((t) => () => t.translate(pkt))(new nat64.Translator({ pool6: POOL6 }))],
    ['Nat64', () => ((n) => () => n.translate(pkt4, 1))(new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: POOL4 }))],
  ]
  for (const [name, make] of makers) {
    const [run, ref] = [make(), make()]
    run()
    ref()
    // Code that replaced Buffer.from sees the views of the output buffer that
    // the verdict is copied from; it detaches that buffer.
    const from = Buffer.from
    let seen = null
    Buffer.from = function (v, ...rest) {
      if (v instanceof Uint8Array && seen === null) seen = v
      return from.call(this, v, ...rest)
    }
    try {
      run()
    } finally {
      Buffer.from = from
    }
    assert.ok(seen, `${name}: the verdict was copied with Buffer.from`)
    const ab = seen.buffer
    structuredClone(ab, { transfer: [ab] })
    assert.equal(ab.byteLength, 0, 'detached')
    // The next translation writes into a new buffer, not into the freed one.
    ref()
    const v = run()
    assert.equal(v.kind, 'Translated', name)
    assert.deepEqual(v.packets, ref().packets, name)
    assert.equal(seen.byteLength, 0)
  }
})
