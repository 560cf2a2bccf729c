// Packets and DNS messages built by hand for the tests (no translation logic here).
'use strict'

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


// A DNS message read by hand (RFC 1035 section 4, compression pointers
// included): the independent reader of what the binding writes.
function readName(m, at) {
  const labels = []
  let end = null
  for (let hops = 0; ; hops++) {
    if (hops > 128) throw new Error('name loop')
    const len = m[at]
    if (len === 0) return { name: labels.join('.'), next: end ?? at + 1 }
    if ((len & 0xc0) === 0xc0) {
      if (end === null) end = at + 2
      at = m.readUInt16BE(at) & 0x3fff
      continue
    }
    labels.push(m.toString('latin1', at + 1, at + 1 + len))
    at += 1 + len
  }
}
function parseDns(m) {
  const h = { id: m.readUInt16BE(0), flags: m.readUInt16BE(2), rcode: m[3] & 0xf, tc: (m[2] & 2) !== 0, qr: (m[2] & 0x80) !== 0 }
  const counts = [4, 6, 8, 10].map((o) => m.readUInt16BE(o))
  let at = 12
  const questions = []
  for (let i = 0; i < counts[0]; i++) {
    const n = readName(m, at)
    questions.push({ name: n.name, type: m.readUInt16BE(n.next), class: m.readUInt16BE(n.next + 2) })
    at = n.next + 4
  }
  const sections = [[], [], []]
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) {
      const n = readName(m, at)
      const f = n.next
      const rdlen = m.readUInt16BE(f + 8)
      const rdata = m.subarray(f + 10, f + 10 + rdlen)
      const rec = { name: n.name, type: m.readUInt16BE(f), class: m.readUInt16BE(f + 2), ttl: m.readUInt32BE(f + 4), rdata }
      if (rec.type === 5 || rec.type === 12) rec.target = readName(m, f + 10).name
      sections[s].push(rec)
      at = f + 10 + rdlen
    }
  }
  if (at !== m.length) throw new Error(`${m.length - at} bytes after the last record`)
  return { ...h, questions, answers: sections[0], authority: sections[1], additional: sections[2] }
}

module.exports = { sum, v6bytes, udp6, name, dns, rr, parseDns }
