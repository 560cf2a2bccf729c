// The DNS64 exchange (RFC 6147 section 5.1) driven by the binding alone: the test
// plays client and upstreams with messages built and read by hand (packets.js).
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const nat64 = require('..')
const { dns, rr, name, v6bytes, parseDns } = require('./packets.js')

const POOL6 = '2001:db8:64::/96'
const CLIENT = '2001:db8::5'
const T0 = 1_000_000_000 // microseconds
const SEC = 1_000_000
const AAAA = 28
const A = 1
const PTR = 12

const soa = Buffer.concat([name('ns.example'), name('host.example'), Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0x0e, 0x10])]) // MINIMUM 3600
const nodata = (id, qname) => dns(id, 0x8180, qname, AAAA, [], [rr('example', 6, 900, soa)])
const aReply = (id, qname, addrs, ttl = 600) => dns(id, 0x8180, qname, A, addrs.map((a) => rr(qname, A, ttl, Buffer.from(a))))

// The upstream query an exchange wrote, read back: its ID and question.
function asked(ex, id, qtype, qname) {
  const m = parseDns(ex.writeQuery(id))
  assert.equal(m.id, id)
  assert.equal(m.qr, false)
  assert.deepEqual(m.questions, [{ name: qname, type: qtype, class: 1 }])
  return m
}

// A step asking `qtype`, the query written for it, a reply to it judged the
// answer and given to the exchange, which then ends with a response.
function answerOnce(step, ex, id, qtype, qname, reply) {
  assert.deepEqual(step, { kind: 'ask', qtype })
  asked(ex, id, qtype, qname)
  assert.equal(ex.judge(id, reply, 'udp'), 'answer')
  return done(ex.onAnswer(reply, T0), 'answered')
}

function done(s, outcome) {
  assert.equal(s.kind, 'done')
  assert.equal(s.outcome, outcome)
  return s
}

test('AAAA with records: asked, judged and relayed', () => {
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const ex = d.exchange(dns(0x1234, 0x0100, 'v6.example', AAAA), CLIENT)
  assert.deepEqual(ex.plan, { kind: 'aaaa', synthesize: true })
  assert.equal(ex.responseLimit, 512)
  assert.equal(ex.isDone, false)
  const reply = dns(0x4242, 0x8180, 'v6.example', AAAA, [rr('v6.example', AAAA, 300, v6bytes('2001:db8:1::7'))])
  const s = answerOnce(ex.start(T0), ex, 0x4242, AAAA, 'v6.example', reply)
  assert.equal(s.answer, 'relayed')
  assert.equal(s.records, 0)
  assert.equal(s.truncated, false)
  assert.equal(s.fromCache, false)
  assert.equal(ex.isDone, true)
  const m = parseDns(s.response)
  assert.equal(m.id, 0x1234)
  assert.equal(m.rcode, 0)
  assert.deepEqual(m.questions, [{ name: 'v6.example', type: AAAA, class: 1 }])
  assert.deepEqual(m.answers.map((r) => [r.name, r.type, r.ttl, [...r.rdata]]), [['v6.example', AAAA, 300, [...v6bytes('2001:db8:1::7')]]])
})

test('AAAA empty: A asked, AAAA synthesized from it (RFC 6147 section 5.1.7)', () => {
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const ex = d.exchange(dns(0x0bad, 0x0100, 'a-only.example', AAAA), CLIENT)
  assert.deepEqual(ex.start(T0), { kind: 'ask', qtype: AAAA })
  asked(ex, 1, AAAA, 'a-only.example')
  assert.deepEqual(ex.onAnswer(nodata(1, 'a-only.example'), T0), { kind: 'ask', qtype: A })
  asked(ex, 2, A, 'a-only.example')
  const s = done(ex.onAnswer(aReply(2, 'a-only.example', [[192, 0, 2, 33], [203, 0, 113, 5]], 7200), T0), 'answered')
  assert.equal(s.answer, 'synthesized')
  assert.equal(s.records, 2)
  const m = parseDns(s.response)
  assert.equal(m.id, 0x0bad)
  assert.deepEqual(m.questions, [{ name: 'a-only.example', type: AAAA, class: 1 }])
  // The addresses, worked out by hand: 2001:db8:64::/96 followed by the IPv4 address.
  assert.deepEqual(m.answers.map((r) => [r.name, r.type]), [['a-only.example', AAAA], ['a-only.example', AAAA]])
  assert.deepEqual(m.answers.map((r) => [...r.rdata]), [
    [0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 203, 0, 113, 5],
  ])
  // RFC 6147 section 5.1.7: the TTL is at most the negative AAAA answer's
  // (RFC 2308 section 5: the SOA's TTL, 900, below its MINIMUM, 3600).
  assert.deepEqual(m.answers.map((r) => r.ttl), [900, 900])
})

test('no upstream answers AAAA nor A: SERVFAIL (RFC 6147 section 5.1.3)', () => {
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const ex = d.exchange(dns(77, 0x0100, 'silent.example', AAAA), CLIENT)
  assert.deepEqual(ex.start(T0), { kind: 'ask', qtype: AAAA })
  assert.deepEqual(ex.onAnswer(null, T0 + SEC), { kind: 'ask', qtype: A })
  const s = done(ex.onAnswer(undefined, T0 + 2 * SEC), 'error')
  assert.equal(s.rcode, 2)
  const m = parseDns(s.response)
  assert.equal(m.id, 77)
  assert.equal(m.rcode, 2)
  assert.equal(m.qr, true)
})

test('PTR under the prefix: asked for the in-addr.arpa name (RFC 6147 section 5.3.1)', () => {
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  // The ip6.arpa name of 2001:db8:64::c000:221 (192.0.2.33), nibble by nibble.
  const nibbles = [...v6bytes('2001:db8:64::c000:221')].flatMap((b) => [b >> 4, b & 15])
  const ip6 = nibbles.reverse().map((n) => n.toString(16)).join('.') + '.ip6.arpa'
  const ex = d.exchange(dns(0x55, 0x0100, ip6, PTR), CLIENT)
  assert.deepEqual(ex.plan, { kind: 'ptr', synthesize: true, ptrTarget: '192.0.2.33' })
  const reply = dns(9, 0x8180, '33.2.0.192.in-addr.arpa', PTR, [rr('33.2.0.192.in-addr.arpa', PTR, 600, name('host.example'))])
  const s = answerOnce(ex.start(T0), ex, 9, PTR, '33.2.0.192.in-addr.arpa', reply)
  assert.equal(s.answer, 'ptr_cname')
  const m = parseDns(s.response)
  assert.equal(m.id, 0x55)
  assert.deepEqual(m.questions, [{ name: ip6, type: PTR, class: 1 }])
  // A CNAME from the ip6.arpa name to the in-addr.arpa one, then its PTR.
  assert.deepEqual(
    m.answers.map((r) => [r.name, r.type, r.target]),
    [
      [ip6, 5, '33.2.0.192.in-addr.arpa'],
      ['33.2.0.192.in-addr.arpa', PTR, 'host.example'],
    ],
  )
})

test('judge: another ID or not a response is foreign; TC is truncated over UDP only', () => {
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const ex = d.exchange(dns(1, 0x0100, 'v6.example', AAAA), CLIENT)
  ex.start(T0)
  const good = nodata(0x4242, 'v6.example')
  assert.equal(ex.judge(0x4242, good, 'udp'), 'answer')
  assert.equal(ex.judge(0x4243, good, 'udp'), 'foreign', 'another ID')
  assert.equal(ex.judge(0x4242, dns(0x4242, 0x0100, 'v6.example', AAAA), 'udp'), 'foreign', 'a query, not a response')
  assert.equal(ex.judge(0x4242, nodata(0x4242, 'other.example'), 'udp'), 'foreign', 'another question')
  assert.equal(ex.judge(0x4242, Buffer.from([0x42, 0x42]), 'udp'), 'foreign', 'not DNS')
  const tc = dns(0x4242, 0x8380, 'v6.example', AAAA)
  assert.equal(ex.judge(0x4242, tc, 'udp'), 'truncated')
  assert.equal(ex.judge(0x4242, tc, 'tcp'), 'answer', 'over TCP the answer is as whole as it gets')
  assert.equal(ex.judge(0x4242, good.subarray(0, 3), 'udp_oversized'), 'truncated', 'only the header of an oversized datagram counts')
  assert.equal(ex.judge(0x4243, good.subarray(0, 3), 'udp_oversized'), 'foreign')
  assert.equal(ex.judge(0x4242, dns(0x4242, 0x8182, 'v6.example', AAAA), 'udp'), 'failed', 'SERVFAIL')
  assert.equal(ex.judge(0x4242, dns(0x4242, 0x8185, 'v6.example', AAAA), 'udp'), 'failed', 'REFUSED')
  assert.throws(() => ex.judge(0x4242, good, 'UDP'), { message: `how "UDP": use 'udp', 'udp_oversized' or 'tcp'` })
  assert.throws(() => ex.judge(0x4242, good, 'quic'), /how "quic": use 'udp', 'udp_oversized' or 'tcp'/)
})

test('a malformed client message gets FORMERR; a response gets nothing', () => {
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const q = dns(0x0102, 0x0100, 'x.example', AAAA)
  const ex = d.exchange(q.subarray(0, q.length - 3), CLIENT) // the question cut short
  assert.equal(ex.plan, null)
  const s = done(ex.start(T0), 'error')
  assert.equal(s.rcode, 1)
  const m = parseDns(s.response)
  assert.equal(m.id, 0x0102)
  assert.equal(m.rcode, 1)
  assert.equal(ex.isDone, true)

  const resp = d.exchange(dns(5, 0x8180, 'x.example', A), CLIENT)
  assert.deepEqual(resp.start(T0), { kind: 'done', outcome: 'silent' })
  assert.equal(resp.isDone, true)
})

test('the cache: a second identical query is answered from it, its TTLs aged', () => {
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const cache = new nat64.Dns64Cache({ capacity: 100, maxTtl: 3600 })
  assert.equal(cache.size, 0)
  const ex = d.exchange(dns(1, 0x0100, 'a-only.example', AAAA), CLIENT)
  ex.start(T0, cache)
  ex.onAnswer(nodata(1, 'a-only.example'), T0, cache)
  const first = done(ex.onAnswer(aReply(2, 'a-only.example', [[192, 0, 2, 33]]), BigInt(T0), cache), 'answered')
  assert.equal(first.fromCache, false)
  assert.equal(cache.size, 1)
  assert.equal(parseDns(first.response).answers[0].ttl, 600)

  // 100 s later, another client ID: one step, from the cache.
  const again = d.exchange(dns(0x7777, 0x0100, 'a-only.example', AAAA), CLIENT)
  const s = done(again.start(BigInt(T0) + 100n * BigInt(SEC), cache), 'answered')
  assert.equal(s.fromCache, true)
  assert.equal(s.answer, 'relayed')
  const m = parseDns(s.response)
  assert.equal(m.id, 0x7777)
  assert.deepEqual(m.answers.map((r) => [r.ttl, [...r.rdata.subarray(12)]]), [[500, [192, 0, 2, 33]]])
  // SERVFAIL is not cached.
  const fail = d.exchange(dns(9, 0x0100, 'down.example', AAAA), CLIENT)
  fail.start(T0, cache)
  fail.onAnswer(null, T0, cache)
  done(fail.onAnswer(null, T0, cache), 'error')
  assert.equal(cache.size, 1)
  // Without the cache, or after the TTL, the upstreams are asked again (and
  // the expired entry is dropped).
  assert.equal(d.exchange(dns(8, 0x0100, 'a-only.example', AAAA), CLIENT).start(T0 + 100 * SEC).kind, 'ask')
  assert.equal(d.exchange(dns(8, 0x0100, 'a-only.example', AAAA), CLIENT).start(T0 + 601 * SEC, cache).kind, 'ask')
  assert.equal(cache.size, 0)
  // Two caches are two: a capacity of 0 keeps nothing.
  const none = new nat64.Dns64Cache({ capacity: 0 })
  const ex0 = d.exchange(dns(1, 0x0100, 'a-only.example', AAAA), CLIENT)
  ex0.start(T0, none)
  ex0.onAnswer(nodata(1, 'a-only.example'), T0, none)
  done(ex0.onAnswer(aReply(2, 'a-only.example', [[192, 0, 2, 33]]), T0, none), 'answered')
  assert.equal(none.size, 0)
  assert.equal(new nat64.Dns64Cache().size, 0)
})

test('a finished exchange fed another answer gives SERVFAIL; writeQuery needs a pending question', () => {
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const ex = d.exchange(dns(3, 0x0100, 'v6.example', AAAA), CLIENT)
  assert.throws(() => ex.writeQuery(1), /writeQuery: no upstream question is pending/)
  ex.start(T0)
  const reply = dns(1, 0x8180, 'v6.example', AAAA, [rr('v6.example', AAAA, 300, v6bytes('2001:db8:1::7'))])
  done(ex.onAnswer(reply, T0), 'answered')
  assert.throws(() => ex.writeQuery(1), /no upstream question is pending/)
  const s = done(ex.onAnswer(reply, T0), 'error')
  assert.equal(s.rcode, 2)
  assert.equal(parseDns(s.response).id, 3)
  assert.equal(done(ex.start(T0), 'error').rcode, 2, 'started twice')
})

test('arguments: now, id, cache and options checked like the rest of the binding', () => {
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const q = dns(3, 0x0100, 'v6.example', AAAA)
  const ex = d.exchange(q, CLIENT)
  const range = (f, message) => assert.throws(f, { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message })
  range(() => ex.start(-1), 'now (microseconds) must be a non-negative integer below 2^64, got -1')
  range(() => ex.start(1.5), 'now (microseconds) must be a non-negative integer below 2^64, got 1.5')
  range(() => ex.start(2n ** 64n), 'now (microseconds) must be a non-negative integer below 2^64, got a bigint of more than 64 bits')
  range(() => ex.onAnswer(null, -1n), 'now (microseconds) must be a non-negative integer below 2^64, got -1')
  assert.equal(ex.isDone, false, 'a refused argument is no step')
  assert.throws(() => ex.start('now'), { name: 'TypeError', message: 'now (microseconds) must be a number or a bigint, got string' })
  ex.start(T0)
  range(() => ex.writeQuery(65536), 'id must be an integer from 0 to 65535, got 65536')
  range(() => ex.judge(-1, q, 'udp'), 'id must be an integer from 0 to 65535, got -1')
  assert.equal(parseDns(ex.writeQuery(0xffffn)).id, 0xffff)
  const bytes = (f, what, got) =>
    assert.throws(f, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: `${what} must be a Buffer or Uint8Array, got ${got}` })
  bytes(() => d.exchange('q', CLIENT), 'query', 'string')
  bytes(() => ex.onAnswer('x', T0), 'answer', 'string')
  bytes(() => ex.judge(1, [1], 'udp'), 'reply', 'an Array')
  assert.throws(() => d.exchange(q, 'nope'), /"nope" is not a valid address/)
  // The cache must be a Dns64Cache: not another class's object, nor one
  // dressed as a cache (what is unwrapped must be one).
  const notCache = (c, got) =>
    assert.throws(() => d.exchange(q, CLIENT).start(T0, c), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: `cache must be a Dns64Cache, got ${got}` })
  notCache(d, 'an object')
  notCache({}, 'an object')
  notCache(5, 'number')
  notCache(Object.create(nat64.Dns64Cache.prototype), 'an object')
  const dressed = new nat64.Dns64({ prefixes: [POOL6] })
  Object.setPrototypeOf(dressed, nat64.Dns64Cache.prototype)
  assert.ok(dressed instanceof nat64.Dns64Cache)
  notCache(dressed, 'an object')
  assert.throws(() => ex.onAnswer(null, T0, ex), { name: 'TypeError', message: 'cache must be a Dns64Cache, got an object' })
  // A subclass's objects are caches.
  class Mine extends nat64.Dns64Cache {}
  const mine = new Mine({ maxTtl: 60 })
  const e2 = d.exchange(dns(4, 0x0100, 'v6.example', AAAA), CLIENT)
  e2.start(T0, mine)
  done(e2.onAnswer(dns(1, 0x8180, 'v6.example', AAAA, [rr('v6.example', AAAA, 300, v6bytes('2001:db8:1::7'))]), T0, mine), 'answered')
  assert.equal(mine.size, 1)
  // Options: unknown keys and out-of-range numbers refused, naming them.
  assert.throws(() => new nat64.Dns64Cache({ size: 10 }), { message: "Dns64CacheOptions: unknown key 'size'; a Dns64CacheOptions has capacity, maxTtl" })
  assert.throws(() => new nat64.Dns64Cache({ max_ttl: 10 }), /unknown key 'max_ttl' \(did you mean maxTtl\?\)/)
  range(() => new nat64.Dns64Cache({ capacity: -1 }), 'Dns64CacheOptions.capacity must be an integer from 0 to 4294967295, got -1')
  range(() => new nat64.Dns64Cache({ maxTtl: 0.5 }), 'Dns64CacheOptions.maxTtl must be an integer from 0 to 4294967295, got 0.5')
  assert.equal(new nat64.Dns64Cache({ capacity: 5n, maxTtl: undefined }).size, 0)
  assert.throws(() => new nat64.Dns64Exchange(), /constructor/)
})

test('an exchange keeps its Dns64 alive', () => {
  const v8 = require('node:v8')
  const vm = require('node:vm')
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc')
  const make = () => new nat64.Dns64({ prefixes: [POOL6] }).exchange(dns(1, 0x0100, 'a-only.example', AAAA), CLIENT)
  const exchanges = Array.from({ length: 50 }, make)
  for (let i = 0; i < 3; i++) gc()
  for (const ex of exchanges) {
    ex.start(T0)
    ex.onAnswer(nodata(1, 'a-only.example'), T0)
    const s = done(ex.onAnswer(aReply(2, 'a-only.example', [[192, 0, 2, 33]]), T0), 'answered')
    assert.deepEqual([...parseDns(s.response).answers[0].rdata], [...v6bytes('2001:db8:64::c000:221')])
  }
})
