// install.js: the binary it builds is named as the loader (native.js) requires
// it and built for the Rust target that matches; a binary that is there but
// does not load is reported as such.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const install = require('../install.js')

const HERE = path.join(__dirname, '..')
const PKG = require('../package.json')
const NATIVE = fs.readFileSync(path.join(HERE, 'native.js'), 'utf8')
// Every binary file the loader may require.
const REQUIRED = [...NATIVE.matchAll(/require\('\.\/nat64\.([^']+)\.node'\)/g)].map((m) => m[1])
// Made by `napi universalize` from the two darwin builds, never built for a platform.
const NOT_BUILT = ['darwin-universal']
const ALL = install.allTargets()

test('every binary native.js requires is one install.js can name, and nothing else', () => {
  assert.ok(REQUIRED.length > 20, `native.js requires ${REQUIRED.join(', ')}`)
  const names = new Set(ALL.map((t) => t.name))
  for (const name of REQUIRED) {
    if (NOT_BUILT.includes(name)) continue
    assert.ok(names.has(name), `no (platform, arch, libc) gives ${name}`)
  }
  for (const t of ALL) assert.ok(REQUIRED.includes(t.name), `${t.platform}-${t.arch} -> ${t.name}, which native.js never requires`)
  // The loader's choice on each (platform, arch): the branch that requires it.
  for (const t of ALL) {
    const branch = new RegExp(`process\\.platform === '${t.platform}'[\\s\\S]*?process\\.arch === '${t.arch}'[\\s\\S]*?require\\('\\./nat64\\.${t.name}\\.node'\\)`)
    assert.match(NATIVE, branch, `${t.platform}/${t.arch}: ${t.name}`)
  }
})

test("each name's Rust target is the one napi-rs names so (@napi-rs/cli parseTriple)", async () => {
  const { parseTriple } = await import('@napi-rs/cli')
  for (const t of ALL) {
    const napi = parseTriple(t.triple).platformArchABI
    // The loader has one ppc64 and one s390x binary on Linux, named -gnu, whatever the libc.
    const loaderQuirk = t.platform === 'linux' && ['ppc64', 's390x'].includes(t.arch) && t.musl
    assert.equal(loaderQuirk ? napi.replace(/-musl$/, '-gnu') : napi, t.name, `${t.triple}`)
  }
  // The per-platform packages: each napi.targets entry is the triple of its name.
  for (const triple of PKG.napi.targets) {
    const name = parseTriple(triple).platformArchABI
    assert.ok(
      ALL.some((t) => t.name === name && t.triple === triple),
      `napi.targets ${triple} (${name}): install.js builds ${ALL.filter((t) => t.name === name).map((t) => t.triple).join(' or ') || 'nothing'}`,
    )
    assert.equal(install.platformOf(triple), name)
  }
})

test('the reviewed cases: the loader spellings, and the target from Node not rustc', () => {
  const cases = [
    [['linux', 'arm'], 'linux-arm-gnueabihf', 'armv7-unknown-linux-gnueabihf'],
    [['linux', 'arm', { armv6: true }], 'linux-arm-gnueabihf', 'arm-unknown-linux-gnueabihf'],
    [['linux', 'arm', { musl: true }], 'linux-arm-musleabihf', 'armv7-unknown-linux-musleabihf'],
    [['linux', 'riscv64'], 'linux-riscv64-gnu', 'riscv64gc-unknown-linux-gnu'],
    [['linux', 'ppc64'], 'linux-ppc64-gnu', 'powerpc64le-unknown-linux-gnu'],
    [['linux', 'loong64'], 'linux-loong64-gnu', 'loongarch64-unknown-linux-gnu'],
    [['linux', 'x64', { musl: true }], 'linux-x64-musl', 'x86_64-unknown-linux-musl'],
    [['freebsd', 'x64'], 'freebsd-x64', 'x86_64-unknown-freebsd'],
    [['darwin', 'x64'], 'darwin-x64', 'x86_64-apple-darwin'],
    [['win32', 'ia32'], 'win32-ia32-msvc', 'i686-pc-windows-msvc'],
    [['win32', 'x64', { winGnu: true }], 'win32-x64-gnu', 'x86_64-pc-windows-gnu'],
  ]
  for (const [args, name, triple] of cases) assert.deepEqual(install.target(...args), { name, triple }, args.join(' '))
  assert.equal(install.target('linux', 'ia32'), null, 'the loader has no 32-bit x86 Linux binary')
  assert.equal(install.target('sunos', 'x64'), null)
  // This Node: the binary ci.sh built is the one the loader loads here.
  const host = install.hostTarget()
  assert.equal(install.hostPlatform(), host.name)
  assert.ok(fs.existsSync(path.join(HERE, `nat64.${host.name}.node`)), `nat64.${host.name}.node`)
  assert.ok(ALL.some((t) => t.platform === process.platform && t.arch === process.arch && t.name === host.name && t.triple === host.triple))
})

test('musl targets link the C runtime dynamically (else cargo makes no cdylib), as napi build does', () => {
  const flag = '-C target-feature=-crt-static'
  assert.equal(install.cargoEnv('x86_64-unknown-linux-musl', {}).RUSTFLAGS, flag)
  assert.equal(install.cargoEnv('armv7-unknown-linux-musleabihf', { RUSTFLAGS: '-C opt-level=2' }).RUSTFLAGS, `-C opt-level=2 ${flag}`)
  assert.equal(install.cargoEnv('aarch64-unknown-linux-musl', { CARGO_BUILD_RUSTFLAGS: '-g' }).RUSTFLAGS, `-g ${flag}`)
  assert.equal(install.cargoEnv('x86_64-unknown-linux-musl', { RUSTFLAGS: `-C target-feature=-crt-static` }).RUSTFLAGS, flag, 'not twice')
  assert.equal(install.cargoEnv('x86_64-unknown-linux-gnu', {}).RUSTFLAGS, undefined)
  assert.equal(install.cargoEnv('x86_64-unknown-linux-gnu', { PATH: '/bin' }).PATH, '/bin', 'the rest of the environment is kept')
})

test('a binary that is there but does not load: said first, with the reason', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-broken-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  for (const f of ['index.js', 'native.js', 'install.js', 'package.json']) fs.copyFileSync(path.join(HERE, f), path.join(dir, f))
  const file = path.join(dir, `nat64.${install.hostPlatform()}.node`)
  fs.writeFileSync(file, 'this is not a shared library\n'.repeat(100))
  const r = spawnSync(
    process.execPath,
    ['-e', `try { require(${JSON.stringify(dir)}) } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`],
    { encoding: 'utf8' },
  )
  const e = JSON.parse(r.stdout)
  assert.equal(e.code, 'ERR_NAT64_BINARY_LOAD')
  const [first] = e.message.split('\n')
  assert.ok(first.startsWith(`nat64: found ${file} but it failed to load: `), first)
  assert.ok(first.length > `nat64: found ${file} but it failed to load: `.length + 5, 'with the reason')
  assert.doesNotMatch(e.message, /holds no binary|npm has a bug/)
  // install.js (what `npm install` of such a package runs) says the same.
  const i = spawnSync(process.execPath, [path.join(dir, 'install.js')], { encoding: 'utf8' })
  assert.notEqual(i.status, 0)
  assert.ok(i.stderr.startsWith(`nat64: found ${file} but it failed to load: `), i.stderr)
  // Without the file, it is a missing binary again.
  fs.rmSync(file)
  const m = spawnSync(process.execPath, ['-e', `try { require(${JSON.stringify(dir)}) } catch (e) { console.log(e.code, e.message.split('\\n')[0]) }`], {
    encoding: 'utf8',
  })
  assert.match(m.stdout, /^ERR_NAT64_NO_BINARY nat64: no native binary for /)
})
