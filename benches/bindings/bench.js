// The Node side of benches/bindings.sh: per-packet cost of Translator.translate (single)
// and translateBatch (1000 packets a call), best of 7 timed runs.   node bench.js HEX_PACKET
'use strict'
const nat64 = require('../../bindings/node')

const N = 200_000
const BATCH = 1000

function best(f) {
  f()
  let b = Infinity
  for (let i = 0; i < 7; i++) b = Math.min(b, f())
  return b
}

const pkt = Buffer.from(process.argv[2], 'hex')
const t = new nat64.Translator({ pool6: '2001:db8:64::/96' })
if (t.translate(pkt).kind !== 'Translated') throw new Error('not translated')
const single = () => {
  const s = process.hrtime.bigint()
  for (let i = 0; i < N; i++) t.translate(pkt)
  return Number(process.hrtime.bigint() - s) / N
}
const out = Buffer.alloc(nat64.OUTPUT_BUFFER_LEN)
const into = () => {
  const s = process.hrtime.bigint()
  for (let i = 0; i < N; i++) t.translateInto(pkt, out)
  return Number(process.hrtime.bigint() - s) / N
}
const packets = Array(BATCH).fill(pkt)
const batch = () => {
  const s = process.hrtime.bigint()
  for (let i = 0; i < N / BATCH; i++) t.translateBatch(packets)
  return Number(process.hrtime.bigint() - s) / N
}
console.log(`node single ${best(single).toFixed(1)}`)
console.log(`node single_into ${best(into).toFixed(1)}`)
console.log(`node batch ${best(batch).toFixed(1)}`)
