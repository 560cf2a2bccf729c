// The package's `install` script, and the one place that knows where the
// native binary comes from (index.js asks it for its error message).
//
// - Inside the nat64 source tree (`npm install /path/to/bindings/node`, or
//   `npm ci` in bindings/node): build the addon with cargo, as `napi build`
//   would (release, the target triple of this Node's platform, arch and libc,
//   RUSTFLAGS, the workspace's target directory, so a second build is a
//   no-op), and put it where the loader (native.js) looks:
//   ./nat64.<platform>.node, named as the loader spells it.
// - Anywhere else (a tarball or a registry install): the binary must come
//   with the package, as ./nat64.<platform>.node or as the per-platform
//   package nat64-<platform> that `napi prepublish` makes for each of
//   package.json's napi.targets. If none loads, say so and what to do.
//
// NAT64_NODE_SKIP_BUILD=1 skips the build (a binary that loads is enough).
'use strict'
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const HERE = __dirname
const PKG = require('./package.json')
const CRATE = 'nat64-node'

// Node's arch -> the CPU part of a Rust triple (little-endian ppc64; armv7
// unless Node was built for ARMv6).
function cpuOf(arch, { bigEndian = false, armv6 = false } = {}) {
  const cpus = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: armv6 ? 'arm' : 'armv7', loong64: 'loongarch64', riscv64: 'riscv64gc', s390x: 's390x', ppc64: bigEndian ? 'powerpc64' : 'powerpc64le' }
  return cpus[arch] || null
}

/**
 * The binary for a Node platform: `name`, the suffix of ./nat64.<name>.node
 * spelled exactly as the loader (native.js) requires it, and `triple`, the
 * Rust target that builds it (what `napi build --target` would use). null
 * where the loader has no binary to load. `musl`, `winGnu` (a MinGW Node),
 * `bigEndian` and `armv6` are what process.platform/arch do not say.
 */
function target(platform, arch, { musl = false, winGnu = false, bigEndian = false, armv6 = false } = {}) {
  const cpu = cpuOf(arch, { bigEndian, armv6 })
  const libc = musl ? 'musl' : 'gnu'
  const is = (...arches) => cpu !== null && arches.includes(arch)
  switch (platform) {
    case 'linux':
      if (is('arm')) return { name: `linux-arm-${libc}eabihf`, triple: `${cpu}-unknown-linux-${libc}eabihf` }
      // The loader has one name for ppc64 and s390x, whatever the libc.
      if (is('ppc64', 's390x')) return { name: `linux-${arch}-gnu`, triple: `${cpu}-unknown-linux-${libc}` }
      if (is('x64', 'arm64', 'loong64', 'riscv64')) return { name: `linux-${arch}-${libc}`, triple: `${cpu}-unknown-linux-${libc}` }
      return null
    case 'darwin':
      return is('x64', 'arm64') ? { name: `darwin-${arch}`, triple: `${cpu}-apple-darwin` } : null
    case 'win32':
      if (is('x64')) return winGnu ? { name: 'win32-x64-gnu', triple: 'x86_64-pc-windows-gnu' } : { name: 'win32-x64-msvc', triple: 'x86_64-pc-windows-msvc' }
      return is('ia32', 'arm64') ? { name: `win32-${arch}-msvc`, triple: `${cpu}-pc-windows-msvc` } : null
    case 'freebsd':
      return is('x64', 'arm64', 'ppc64') ? { name: `freebsd-${arch}`, triple: `${cpu}-unknown-freebsd` } : null
    case 'android':
      if (is('arm64')) return { name: 'android-arm64', triple: 'aarch64-linux-android' }
      return is('arm') ? { name: 'android-arm-eabi', triple: `${cpu}-linux-androideabi` } : null
    case 'openharmony':
      return is('x64', 'arm64', 'arm') ? { name: `openharmony-${arch}`, triple: `${cpu}-unknown-linux-ohos` } : null
    default:
      return null
  }
}

/** Every (platform, arch, variant) `target` knows, with its result. */
function allTargets() {
  const out = []
  for (const platform of ['linux', 'darwin', 'win32', 'freebsd', 'android', 'openharmony']) {
    for (const arch of ['x64', 'arm64', 'ia32', 'arm', 'loong64', 'riscv64', 'ppc64', 's390x']) {
      for (const musl of [false, true]) {
        for (const winGnu of [false, true]) {
          for (const bigEndian of [false, true]) {
            for (const armv6 of [false, true]) {
              const t = target(platform, arch, { musl, winGnu, bigEndian, armv6 })
              if (t) out.push({ platform, arch, musl, winGnu, bigEndian, armv6, ...t })
            }
          }
        }
      }
    }
  }
  return out
}

/** The loader's name for a Rust target triple: x86_64-unknown-linux-gnu -> linux-x64-gnu. */
function platformOf(triple) {
  const t = allTargets().find((x) => x.triple === triple)
  return t ? t.name : triple
}

// Whether this Linux uses musl, the way the loader (native.js) decides it:
// /usr/bin/ldd, then the process report, then `ldd --version`.
function isMusl() {
  if (process.platform !== 'linux') return false
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {}
  if (process.report && typeof process.report.getReport === 'function') {
    process.report.excludeNetwork = true
    const report = process.report.getReport()
    const r = typeof report === 'string' ? JSON.parse(report) : report
    if (r && r.header && r.header.glibcVersionRuntime) return false
    if (r && Array.isArray(r.sharedObjects)) return r.sharedObjects.some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'))
    if (r) return false
  }
  try {
    return spawnSync('ldd', ['--version'], { encoding: 'utf8' }).stdout.includes('musl')
  } catch {
    return false
  }
}

/** This Node's binary: the name the loader requires and the Rust target that builds it (null: none). */
function hostTarget() {
  const v = (process.config && process.config.variables) || {}
  return target(process.platform, process.arch, {
    musl: isMusl(),
    winGnu: v.shlib_suffix === 'dll.a' || v.node_target_type === 'shared_library',
    bigEndian: os.endianness() === 'BE',
    armv6: String(v.arm_version) === '6',
  })
}

/** This machine's platform name, as the loader spells it. */
function hostPlatform() {
  const t = hostTarget()
  return t ? t.name : `${process.platform}-${process.arch}`
}

/** The environment of `cargo build --target triple`: as `napi build` sets it, a
 * musl target links the C runtime dynamically, or a cdylib is not made at all. */
function cargoEnv(triple, env = process.env) {
  let rustflags = env.RUSTFLAGS ?? env.CARGO_BUILD_RUSTFLAGS ?? ''
  if (/musl/.test(triple) && !rustflags.includes('target-feature=-crt-static')) rustflags += ' -C target-feature=-crt-static'
  return rustflags.length ? { ...env, RUSTFLAGS: rustflags.trim() } : { ...env }
}

/** The platforms with a prebuilt package (package.json napi.targets). */
function supported() {
  return ((PKG.napi && PKG.napi.targets) || []).map((t) => `${platformOf(t)} (${t})`)
}

/** The workspace root when this folder is bindings/node of the nat64 source tree. */
function sourceTree() {
  const root = path.resolve(HERE, '..', '..')
  const ok =
    fs.existsSync(path.join(HERE, 'Cargo.toml')) &&
    fs.existsSync(path.join(HERE, 'src', 'lib.rs')) &&
    fs.existsSync(path.join(root, 'Cargo.toml')) &&
    fs.existsSync(path.join(root, 'nat64-core'))
  return ok ? root : null
}

/** Whether a line of the loader's errors helps: not its note blaming an npm bug, not the WASI fallback (not built). */
const useful = (m) => m.length > 0 && !m.startsWith('Cannot find native binding') && !/wasi/i.test(m)

/** The loader's error chain as lines. */
function reasons(err) {
  const out = []
  for (let e = err; e && out.length < 12; e = e.cause) {
    const m = String((e && e.message) || e).split('\n')[0]
    if (useful(m)) out.push(m)
  }
  return out
}

/**
 * A binary the loader found but could not load (not "Cannot find module"):
 * its file and why (ERR_DLOPEN_FAILED: built for another platform, needs a
 * newer glibc, damaged), from what the loader tried (lines); else null.
 */
function brokenBinary(why) {
  for (const line of why || []) {
    if (/^Cannot find module /.test(line)) continue
    const files = line.match(/[^\s'"`()]+\.node\b/g)
    if (!files) continue
    const file = files[files.length - 1]
    const reason = line.startsWith(`${file}: `) ? line.slice(file.length + 2) : line
    return { file, reason }
  }
  return null
}

/** What to do when no binary loads; `why` is what the loader tried (lines). */
function missingBinaryMessage(why) {
  const plat = hostPlatform()
  const broken = brokenBinary(why)
  const lines = broken
    ? [
        `nat64: found ${broken.file} but it failed to load: ${broken.reason}`,
        `(a binary for another platform, or for a newer C library than this ${plat} system's, or a damaged file; Node ${process.version})`,
      ]
    : [`nat64: no native binary for ${plat} (Node ${process.version}).`]
  if (sourceTree()) {
    lines.push(
      `This is the nat64 source tree (${HERE}); build the binary ${broken ? 'again ' : ''}with`,
      '  npm rebuild nat64        (in the project that installed it: runs install.js, cargo build)',
      `  or: node ${path.join(HERE, 'install.js')}`,
      'It needs Rust (cargo); install it from https://rustup.rs.',
      'If install scripts are disabled (--ignore-scripts, or npm allowScripts), the build never ran:',
      '  npm install-scripts approve nat64, then npm rebuild nat64.',
    )
  } else {
    const prebuilt = (PKG.napi.targets || []).some((t) => platformOf(t) === plat)
    lines.push(
      broken
        ? 'This package cannot build another one (the Rust sources are not in it).'
        : `This package holds no binary for ${plat} and cannot build one (the Rust sources are not in it).`,
    )
    if (prebuilt) {
      lines.push(
        `The prebuilt binary for ${plat} is the package nat64-${plat}, an optional dependency of nat64`,
        `on the registry: reinstall without --omit=optional (or --no-optional), or add it yourself:`,
        `  npm install nat64-${plat}@${PKG.version}`,
      )
    } else {
      lines.push(`No prebuilt package exists for ${plat}; there are for: ${supported().join(', ')}.`)
    }
    lines.push(
      'Or build it from a checkout of nat64: npm install /path/to/nat64/bindings/node',
      '(runs cargo; Rust from https://rustup.rs).',
    )
  }
  if (why && why.length) lines.push('What the loader tried:', ...why.map((l) => `  - ${l}`))
  return lines.join('\n')
}

/** Loads the binding in a fresh process: null when it loads, else what failed (lines). */
function loadError() {
  const script =
    `try { require(${JSON.stringify(path.join(HERE, 'native.js'))}) } catch (e) {` +
    ' for (let x = e; x; x = x.cause) console.error(String(x.message || x).split("\\n")[0]); process.exit(1) }'
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  if (r.status === 0) return null
  return r.stderr.split('\n').filter(useful)
}

function fail(msg) {
  console.error(msg)
  process.exit(1)
}

/** Runs cargo; the output goes to the user, the JSON messages come back. */
function cargo(args, cwd, env) {
  return spawnSync('cargo', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 })
}

function build(root) {
  const version = spawnSync('rustc', ['-vV'], { encoding: 'utf8' })
  if (version.error || version.status !== 0) {
    if (loadError() === null) {
      console.error('nat64: Rust (cargo) not found; using the binary already in this folder, which may be older than the sources.')
      return
    }
    fail(
      'nat64: building the native binary needs Rust (cargo and rustc), which was not found on PATH.\n' +
        'Install it from https://rustup.rs, then run `npm rebuild nat64` (or this install again).\n' +
        `Prebuilt packages exist only for: ${supported().join(', ')}.`,
    )
  }
  const host = /^host: (\S+)$/m.exec(version.stdout)[1]
  // For this Node (its platform, arch and libc), which is not always rustc's
  // host (an x64 Node on an arm64 Mac, a 32-bit Node, a musl Node).
  const t = hostTarget()
  if (!t) fail(`nat64: the loader has no binary for ${process.platform}-${process.arch}; nothing to build.`)
  const out = path.join(HERE, `nat64.${t.name}.node`)
  console.error(`nat64: building ${CRATE} for ${t.triple} with cargo (release); the first build takes a minute or two`)
  // Same profile, --target and RUSTFLAGS as `napi build --platform --release`,
  // so both use target/<triple>/release and whichever runs second finds it built.
  const r = cargo(
    ['build', '--release', '--locked', '-p', CRATE, '--target', t.triple, '--message-format=json-render-diagnostics'],
    root,
    cargoEnv(t.triple),
  )
  if (r.error) fail(`nat64: cannot run cargo: ${r.error.message}`)
  if (r.status !== 0) {
    const cross = t.triple === host ? '' : `\nThis Node is ${t.name}, rustc's host is ${host}: the target may be missing (rustup target add ${t.triple}).`
    fail(`nat64: cargo build -p ${CRATE} --target ${t.triple} failed (exit ${r.status}); the errors are above.${cross}`)
  }
  let lib = null
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const m = JSON.parse(line)
    if (m.reason === 'compiler-artifact' && m.target.name === CRATE.replace(/-/g, '_') && m.target.kind.includes('cdylib')) {
      lib = m.filenames.find((f) => /\.(so|dylib|dll)$/.test(f))
    }
  }
  if (!lib) fail(`nat64: cargo built ${CRATE} but reported no cdylib artifact`)
  fs.copyFileSync(lib, `${out}.tmp`)
  fs.renameSync(`${out}.tmp`, out)
  console.error(`nat64: ${path.relative(process.cwd(), out) || out} <- ${lib}`)
}

function main() {
  const root = sourceTree()
  if (root && process.env.NAT64_NODE_SKIP_BUILD !== '1') build(root)
  const why = loadError()
  // The loader's own message sends people after an npm bug; ours says what to do.
  if (why !== null) fail(missingBinaryMessage(why))
}

module.exports = { missingBinaryMessage, brokenBinary, reasons, hostPlatform, hostTarget, platformOf, supported, target, allTargets, cargoEnv }

if (require.main === module) main()
