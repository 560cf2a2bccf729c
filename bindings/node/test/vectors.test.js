// Jool's graybox vectors replayed through the Node binding, as `nat64 conformance jool`
// replays them through Rust. bindings/vectors/jool.py turns $NAT64_VECTORS/jool into a
// temporary text file at test time (the vectors are never copied into the repository).
// Without them (a fresh clone has no ../shared) jool.py exits with status 77 and the reason,
// and these tests are skipped with it (`node --test` prints "# SKIP" and the reason); with
// NAT64_REQUIRE_VECTORS=1 jool.py fails and so does this file.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const nat64 = require('..')

// The cases, or { skip: reason } when the vectors are missing (jool.py's status 77).
function loadCases() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-node-'))
  const file = path.join(dir, 'cases.txt')
  try {
    const r = spawnSync('python3', [path.join(__dirname, '../../vectors/jool.py'), file], { encoding: 'utf8' })
    if (r.error) throw new Error(`cannot run python3 bindings/vectors/jool.py: ${r.error.message}`)
    if (r.status === 77) return { skip: r.stderr.trim() }
    if (r.status !== 0) throw new Error(`bindings/vectors/jool.py failed (status ${r.status}): ${r.stderr.trim()}`)
    return { cases: parse(fs.readFileSync(file, 'utf8')) }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())

function parse(text) {
  const cases = []
  let c = null
  for (const line of text.split('\n')) {
    if (!line) continue
    const [word, ...rest] = line.split(' ')
    if (word === 'case') c = { id: rest[0], mode: rest[1], cfg: {}, eamt: [], pool4: [], bib: [], nset: {}, ins: [], outs: [], ignore: [] }
    else if (word === 'known') c.known = rest[0] === '1'
    else if (word === 'set') {
      const [k, v] = rest
      c.cfg[camel(k)] = /^(0|1)$/.test(v) && !/mtu/.test(k) ? v === '1' : /^\d+$/.test(v) ? Number(v) : v
    } else if (word === 'eam') c.eamt.push({ ipv4: rest[0], ipv6: rest[1], force: true })
    else if (word === 'pool4') c.pool4.push({ prefix: rest[0], firstPort: +rest[1], lastPort: +rest[2], protocols: rest[3].split(',') })
    else if (word === 'bib') c.bib.push({ proto: rest[0], v6: { addr: rest[1], port: +rest[2] }, v4: { addr: rest[3], port: +rest[4] } })
    else if (word === 'nset') c.nset[camel(rest[0])] = rest[0] === 'max_simultaneous_opens' ? +rest[1] : rest[1] === '1'
    else if (word === 'in') c.ins.push(Buffer.from(rest[0], 'hex'))
    else if (word === 'out') c.outs.push(Buffer.from(rest[0], 'hex'))
    else if (word === 'ignore') c.ignore = rest.map(Number)
    else if (word === 'end') cases.push(c)
  }
  return cases
}

function config(c) {
  return { ...c.cfg, eamt: c.eamt }
}

function collect(v, outs) {
  if (!v) return
  if (v.kind === 'Translated') outs.push(...v.packets)
  else if (v.kind === 'IcmpError') outs.push(v.packet)
}

function compare(got, want, ignore) {
  if (got.length !== want.length) return `${got.length} packet(s) out, ${want.length} expected`
  for (let i = 0; i < got.length; i++) {
    if (got[i].length !== want[i].length) return `packet ${i}: ${got[i].length} bytes, ${want[i].length} expected`
    for (let o = 0; o < got[i].length; o++) {
      if (got[i][o] !== want[i][o] && !ignore.includes(o)) return `packet ${i}: first difference at offset ${o}`
    }
  }
  return null
}

const { cases: CASES = [], skip } = loadCases()
const SECOND = 1_000_000

test('the shared vectors were read', { skip }, () => {
  assert.equal(CASES.length, 138)
})

for (const c of CASES.filter((c) => c.mode === 'siit')) {
  test(`siit ${c.id}`, () => {
    const t = new nat64.Translator(config(c))
    const outs = []
    for (const p of c.ins) collect(t.translate(p), outs)
    const diff = compare(outs, c.outs, c.ignore)
    if (!c.known) assert.equal(diff, null)
  })
}

test('the nat64 suite, in order, on a virtual clock', { skip }, () => {
  const cases = CASES.filter((c) => c.mode === 'nat64')
  const first = cases[0]
  const nat = new nat64.Nat64({ xlat: config(first), pool4: first.pool4, staticBib: first.bib, ...first.nset })
  let clock = SECOND
  const failures = []
  for (const c of cases) {
    clock += SECOND
    const outs = []
    for (const p of c.ins) collect(nat.translate(p, clock), outs)
    const limit = clock + 60 * SECOND
    while (outs.length < c.outs.length) {
      const at = nat.nextExpiry()
      if (at === null || at > limit) break
      clock = Math.max(clock, at)
      let any = false
      for (let v = nat.poll(clock); v; v = nat.poll(clock)) {
        any = true
        collect(v, outs)
      }
      const next = nat.nextExpiry()
      if (!any && next !== null && next <= clock) break
    }
    const diff = compare(outs, c.outs, c.ignore)
    if (diff && !c.known) failures.push(`${c.id}: ${diff}`)
  }
  assert.deepEqual(failures, [])
})
