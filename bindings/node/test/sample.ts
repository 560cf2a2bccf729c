// Type-checked by ci.sh (tsc --noEmit, strict; not run): the generated index.d.ts
// narrows a verdict on `kind` without casts, takes bigint timestamps, and rejects
// what the binding rejects at run time where TypeScript can see it.
import { Dns64, Dns64Cache, Nat64, Translator, explain, OUTPUT_BUFFER_LEN } from '..'
import type { Dns64Exchange, Dns64Step, Verdict, VerdictInto } from '..'

const t = new Translator({ pool6: '2001:db8:64::/96' })

// Every kind, exhaustively: each branch sees only its own fields.
function describe(v: Verdict): string {
  switch (v.kind) {
    case 'Translated': {
      const first: Buffer = v.packets[0]
      return `${v.direction}: ${v.count} packet(s), ${v.len} bytes, first ${first.length}`
    }
    case 'IcmpError':
      return `ICMP error of ${v.packet.length} bytes for the sender (${v.reason})`
    case 'Dropped':
    case 'NotOurs':
      return `${v.kind}: ${explain(v.reason) ?? v.reason}`
    case 'Held': {
      const why: 'fragment' | 'simultaneous_open' = v.reason
      return `held (${why})`
    }
  }
}

function placed(v: VerdictInto, out: Buffer): Buffer[] {
  if (v.kind !== 'Translated') return v.kind === 'IcmpError' ? [out.subarray(0, v.len)] : []
  const packets: Buffer[] = []
  for (let i = 0, at = 0; i < v.count; i++, at += v.firstLen) {
    packets.push(out.subarray(at, i + 1 === v.count ? v.len : at + v.firstLen))
  }
  return packets
}

const packet = Buffer.alloc(40)
console.log(describe(t.translate(packet)))
const out = Buffer.alloc(OUTPUT_BUFFER_LEN)
console.log(placed(t.translateInto(packet, out), out).length)
for (const v of t.translateBatch([packet, new Uint8Array(packet)]).verdicts()) console.log(describe(v))

const nat = new Nat64({ xlat: { pool6: '2001:db8:64::/96', seed: 2n ** 63n }, pool4: [{ prefix: '198.51.100.1' }] })
const now: bigint = process.hrtime.bigint() / 1000n
console.log(describe(nat.translate(packet, now)), describe(nat.translate(packet, Number(now))))
const polled = nat.poll(now)
if (polled !== null) console.log(describe(polled))

// Before narrowing, the bytes are not there to read.
// @ts-expect-error: packets exists only on a Translated verdict
t.translate(packet).packets
// @ts-expect-error: translateInto's verdicts carry no bytes
t.translateInto(packet, out).packet
// @ts-expect-error: unknown configuration keys (refused at run time too)
new Translator({ pool6: '2001:db8:64::/96', mtu: 1500 })
// @ts-expect-error: a timestamp is a number or a bigint
nat.poll('now')

// The DNS64 exchange: a step narrows on `kind`, then a finished one on `outcome`.
function next(ex: Dns64Exchange, s: Dns64Step, upstream: (query: Buffer) => Buffer | null): Buffer | null {
  while (s.kind === 'ask') {
    const qtype: number = s.qtype
    const query = ex.writeQuery(qtype)
    const reply = upstream(query)
    const verdict: 'foreign' | 'truncated' | 'answer' | 'failed' | null = reply && ex.judge(qtype, reply, 'udp')
    s = ex.onAnswer(verdict === 'answer' ? reply : null, now, cache)
  }
  switch (s.outcome) {
    case 'answered': {
      const fromCache: boolean = s.fromCache
      console.log(s.answer, s.records, s.truncated, fromCache)
      return s.response
    }
    case 'error': {
      const rcode: number = s.rcode
      console.log(`rcode ${rcode}`)
      return s.response
    }
    case 'silent':
      // @ts-expect-error: a silent outcome has no response
      return s.response
  }
}

const dns64 = new Dns64({ prefixes: ['2001:db8:64::/96'] })
const cache = new Dns64Cache({ capacity: 100, maxTtl: 3600 })
const ex = dns64.exchange(Buffer.alloc(12), '2001:db8::5')
const first = ex.start(now, cache)
console.log(next(ex, first, () => null), cache.size, ex.isDone, ex.responseLimit, ex.plan?.kind)
// @ts-expect-error: qtype exists only on an 'ask' step
first.qtype
// @ts-expect-error: rcode exists only on an 'error' outcome
if (first.kind === 'done' && first.outcome === 'answered') console.log(first.rcode)
// @ts-expect-error: how is 'udp', 'udp_oversized' or 'tcp'
ex.judge(1, Buffer.alloc(12), 'quic')
// @ts-expect-error: unknown cache options (refused at run time too)
new Dns64Cache({ size: 10 })
