// The API surface of the Node binding on packets built here: prefixes, errors, buffers,
// translateInto and the batch call, counters, the stateful NAT64, DNS64, discovery.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const nat64 = require('..')

const POOL6 = '2001:db8:64::/96'
const P = new nat64.Prefix64(POOL6)

function sum(buf, start, end, init = 0) {
  let s = init
  for (let i = start; i + 1 < end; i += 2) s += (buf[i] << 8) | buf[i + 1]
  if ((end - start) & 1) s += buf[end - 1] << 8
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
  return s
}

function v6bytes(a) {
  // Expand an IPv6 text address (no IPv4 tail) to 16 bytes.
  const [head, tail] = a.split('::')
  const h = head ? head.split(':') : []
  const t = tail !== undefined && tail ? tail.split(':') : []
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]))
}

// An IPv6 UDP packet with a valid checksum.
function udp6(src, dst, sport, dport, payload = Buffer.from('hello'), hlim = 64) {
  const ulen = 8 + payload.length
  const p = Buffer.alloc(40 + ulen)
  p[0] = 0x60
  p.writeUInt16BE(ulen, 4)
  p[6] = 17
  p[7] = hlim
  v6bytes(src).copy(p, 8)
  v6bytes(dst).copy(p, 24)
  p.writeUInt16BE(sport, 40)
  p.writeUInt16BE(dport, 42)
  p.writeUInt16BE(ulen, 44)
  payload.copy(p, 48)
  const c = ~sum(p, 40, 40 + ulen, sum(p, 8, 40) + 17 + ulen) & 0xffff
  p.writeUInt16BE(c, 46)
  return p
}

test('Prefix64: RFC 6052 embedding', () => {
  const p = new nat64.Prefix64('2001:db8:100::/40')
  assert.equal(p.embed('192.0.2.33'), '2001:db8:1c0:2:21::')
  assert.equal(p.extract('2001:db8:1c0:2:21::'), '192.0.2.33')
  assert.equal(p.extract('2001:db9::1'), null)
  assert.equal(p.contains('2001:db8:1c0:2:21::'), true)
  assert.equal(p.prefixLen, 40)
  assert.equal(p.isWellKnown, false)
  assert.equal(String(p), '2001:db8:100::/40')
  assert.equal(nat64.Prefix64.wellKnown().isWellKnown, true)
})

test('errors carry the core message', () => {
  assert.throws(() => new nat64.Prefix64('2001:db8::/33'), /\/32, \/40, \/48, \/56, \/64 or \/96/)
  assert.throws(() => new nat64.Translator({}), /set pool6/)
  assert.throws(() => new nat64.Translator({ pool6: POOL6, lowestIpv6Mtu: 1000 }), /1280/)
  assert.throws(() => new nat64.Translator({ pool6: POOL6, ownIpv4: 'nope' }), /not a valid address/)
  assert.throws(() => new nat64.Nat64({ xlat: { pool6: POOL6 }, pool4: [] }), /needs pool4/)
})

test('translate: Buffer and Uint8Array in, Buffer out, checksums valid', () => {
  const t = new nat64.Translator({ pool6: POOL6, ownIpv6: '2001:db8::1' })
  const pkt = udp6(P.embed('198.51.100.1'), P.embed('192.0.2.9'), 4000, 53)
  for (const buf of [pkt, new Uint8Array(pkt)]) {
    const v = t.translate(buf)
    assert.equal(v.kind, 'Translated')
    assert.equal(v.direction, '6to4')
    assert.equal(v.count, 1)
    const out = v.packets[0]
    assert.ok(Buffer.isBuffer(out))
    assert.equal(out.length, 20 + 8 + 5)
    assert.deepEqual([...out.subarray(12, 20)], [198, 51, 100, 1, 192, 0, 2, 9])
    assert.equal(sum(out, 0, 20), 0xffff, 'IPv4 header checksum')
    const pseudo = sum(out, 12, 20) + 17 + (out.length - 20)
    assert.equal(sum(out, 20, out.length, pseudo), 0xffff, 'UDP checksum')
  }
  const hop1 = udp6(P.embed('198.51.100.1'), P.embed('192.0.2.9'), 1, 2, Buffer.from('x'), 1)
  const e = t.translate(hop1)
  assert.equal(e.kind, 'IcmpError')
  assert.equal(e.reason, 'hop_limit_exceeded')
  assert.match(nat64.explain(e.reason), /Time Exceeded/)
  assert.equal(nat64.explain('no such reason'), null)
  assert.equal(e.packet[40], 3)
})

test('translateInto and translateBatch', () => {
  const t = new nat64.Translator({ pool6: POOL6 })
  const pkt = udp6(P.embed('198.51.100.1'), P.embed('192.0.2.9'), 4000, 53)
  const out = Buffer.alloc(nat64.OUTPUT_BUFFER_LEN)
  const v = t.translateInto(pkt, out)
  assert.equal(v.kind, 'Translated')
  assert.equal(v.packets, undefined)
  assert.equal(out[0], 0x45)
  assert.equal(v.len, 33)
  assert.throws(() => t.translateInto(pkt, pkt.subarray(0)), /overlap/)
  const outside = udp6('2001:db8::5', '2001:db8:99::1', 1, 2)
  const batch = t.translateBatch([pkt, Buffer.from([0x10]), outside, new Uint8Array(pkt)])
  assert.equal(batch.length, 4)
  assert.equal(batch.translated, 2)
  const b = batch.verdicts()
  assert.deepEqual(b.map((x) => x.kind), ['Translated', 'NotOurs', 'NotOurs', 'Translated'])
  assert.deepEqual(b.map((x) => x.reason ?? null), [null, 'not_ip', 'destination_not_mapped', null])
  assert.deepEqual(batch.get(-1), b[3])
  assert.deepEqual(batch.offsets, [0, 33, 33, 33])
  assert.deepEqual(batch.data.subarray(0, 33), b[0].packets[0])
  assert.throws(() => batch.get(4), /out of range/)
  assert.throws(() => t.setConfig({}), /set pool6/)
  t.setConfig({ pool6: '2001:db8:99::/96' })
  assert.equal(t.translate(pkt).kind, 'NotOurs')
  const c = t.counters()
  assert.equal(c.translated6to4, 3)
  assert.deepEqual(c.notOurs, { not_ip: 1, destination_not_mapped: 2 })
  assert.ok(nat64.dropReasons().some((r) => r.label === 'output_too_small'))
  assert.ok(nat64.notOursReasons().some((r) => r.label === 'not_ip'))
})

test('Nat64: sessions, BIB, timers', () => {
  const nat = new nat64.Nat64({
    xlat: { pool6: POOL6, ownIpv4: '198.51.100.1' },
    pool4: [{ prefix: '198.51.100.1', firstPort: 61001, lastPort: 61010, protocols: ['udp', 'icmp'] }],
    staticBib: [{ proto: 'udp', v6: { addr: '2001:db8::9', port: 53 }, v4: { addr: '198.51.100.1', port: 53 } }],
    timeouts: { udp: 120 },
  })
  const now = 5_000_000
  const v = nat.translate(udp6('2001:db8::5', P.embed('203.0.113.2'), 4000, 53), now)
  assert.equal(v.kind, 'Translated')
  const out = v.packets[0]
  assert.deepEqual([...out.subarray(12, 20)], [198, 51, 100, 1, 203, 0, 113, 2])
  const port = out.readUInt16BE(20)
  assert.ok(port >= 61001 && port <= 61010)
  const [s] = nat.sessions()
  assert.deepEqual(s.v6, { addr: '2001:db8::5', port: 4000 })
  assert.deepEqual(s.remote, { addr: '203.0.113.2', port: 53 })
  assert.deepEqual(s.v4, { addr: '198.51.100.1', port })
  assert.equal(s.state, '-')
  assert.equal(s.expires, now + 120_000_000)
  assert.deepEqual(nat.sessions('tcp'), [])
  assert.equal(nat.sessions(null, '2001:db8::5').length, 1)
  assert.equal(nat.bibs('udp').length, 2)
  assert.deepEqual(nat.stats(), { sessions: 1, bibEntries: 2, pool4Size: [0, 10, 10], heldSyns: 0, sessionsEvicted: 0 })
  const at = nat.nextExpiry()
  assert.equal(at, s.expires)
  assert.equal(nat.poll(at), null)
  assert.equal(nat.stats().sessions, 0)
  const b = nat.translateBatch([udp6('2001:db8::5', P.embed('203.0.113.2'), 1, 53), udp6('2001:db8::5', P.embed('203.0.113.2'), 2, 53)], at + 1)
  assert.equal(b.translated, 2)
  assert.equal(nat.counters().translated6to4, 3)
})

// A DNS query / response in wire format.
function name(n) {
  return Buffer.concat([...n.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])])
}
function dns(id, flags, qname, qtype, answers = [], authority = []) {
  const h = Buffer.alloc(12)
  h.writeUInt16BE(id, 0)
  h.writeUInt16BE(flags, 2)
  h.writeUInt16BE(1, 4)
  h.writeUInt16BE(answers.length, 6)
  h.writeUInt16BE(authority.length, 8)
  const q = Buffer.concat([name(qname), Buffer.from([0, qtype, 0, 1])])
  return Buffer.concat([h, q, ...answers, ...authority])
}
function rr(owner, type, ttl, rdata) {
  const f = Buffer.alloc(10)
  f.writeUInt16BE(type, 0)
  f.writeUInt16BE(1, 2)
  f.writeUInt32BE(ttl, 4)
  f.writeUInt16BE(rdata.length, 8)
  return Buffer.concat([name(owner), f, rdata])
}

test('Dns64: synthesis, local names, errors', () => {
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const q = dns(0x1234, 0x0100, 'example.net', 28)
  assert.equal(d.plan(q, '2001:db8::5').kind, 'aaaa')
  const soaRdata = Buffer.concat([name('ns.net'), name('h.net'), Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 44])])
  const aaaa = dns(0x1234, 0x8180, 'example.net', 28, [], [rr('net', 6, 900, soaRdata)])
  assert.equal(d.needsAQuery(q, aaaa), 'query_a')
  const a = dns(0x1234, 0x8180, 'example.net', 1, [rr('example.net', 1, 3600, Buffer.from([203, 0, 113, 5]))])
  const w = d.synthesize(q, aaaa, a)
  assert.equal(w.answer, 'synthesized')
  assert.equal(w.records, 1)
  const r = w.response
  assert.equal(r.readUInt16BE(0), 0x1234)
  assert.equal(r.readUInt16BE(6), 1)
  const rdata = r.subarray(r.length - 16)
  assert.deepEqual(rdata, v6bytes(P.embed('203.0.113.5')))
  assert.equal(r.readUInt32BE(r.length - 16 - 6), 300, 'TTL capped by the SOA minimum')
  assert.throws(() => d.synthesize(q), /SERVFAIL/)
  const local = dns(1, 0x0100, 'ipv4only.arpa', 28)
  assert.deepEqual(d.plan(local, '2001:db8::5'), { kind: 'local', synthesize: true })
  assert.equal(d.answerLocal(local, true).answer, 'local')
  assert.equal(d.serves('192.0.2.1'), false)
  assert.throws(() => d.plan(dns(1, 0x1000, 'x', 1), '2001:db8::5'), /NOTIMP/)
  assert.equal(d.errorResponse(q, 2)[3] & 0xf, 2)
  assert.equal(d.responseLimit(q), 512)
  const up = d.upstreamQuery(q, 7, name('example.net'), 28)
  assert.equal(up.readUInt16BE(0), 7)
})

test('discovery: RFC 7050 and RFC 8781', () => {
  const [p] = nat64.prefixesFromAddresses(['2001:db8:1c0:0:aa::'])
  assert.equal(p.toString(), '2001:db8:100::/40')
  const d = new nat64.Dns64({ prefixes: [POOL6] })
  const w = d.answerLocal(dns(1, 0x0100, 'ipv4only.arpa', 28), true)
  assert.deepEqual(nat64.prefixesFromResponse(w.response).map(String), [POOL6])
  assert.throws(() => nat64.prefixesFromAddresses(['2001:db8::1']), /does not do DNS64/)
  const opt = new nat64.Pref64(POOL6, 600)
  const raw = opt.encode()
  assert.equal(raw.length, 16)
  const back = nat64.Pref64.decode(raw)
  assert.equal(back.prefix, POOL6)
  assert.equal(back.lifetimeSecs, 600)
  assert.equal(back.scaledLifetime, 75)
})
