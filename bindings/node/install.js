// The package's `install` script, and the one place that knows where the
// native binary comes from (index.js asks it for its error message).
//
// - Inside the nat64 source tree (`npm install /path/to/bindings/node`, or
//   `npm ci` in bindings/node): build the addon with cargo, as `napi build`
//   would (release, the host's target triple, the workspace's target
//   directory, so a second build is a no-op), and put it where the loader
//   (native.js) looks: ./nat64.<platform>.node.
// - Anywhere else (a tarball or a registry install): the binary must come
//   with the package, as ./nat64.<platform>.node or as the per-platform
//   package nat64-<platform> that `napi prepublish` makes for each of
//   package.json's napi.targets. If none loads, say so and what to do.
//
// NAT64_NODE_SKIP_BUILD=1 skips the build (a binary that loads is enough).
'use strict'
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const HERE = __dirname
const PKG = require('./package.json')
const CRATE = 'nat64-node'

/** The napi-rs platform name of a Rust target triple: x86_64-unknown-linux-gnu -> linux-x64-gnu. */
function platformOf(triple) {
  const [arch, ...rest] = triple.split('-')
  const cpu = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }[arch] || arch
  const sys = rest.join('-')
  if (sys.includes('darwin')) return `darwin-${cpu}`
  if (sys.includes('windows')) return `win32-${cpu}-${sys.endsWith('gnu') ? 'gnu' : 'msvc'}`
  if (sys.includes('linux')) return `linux-${cpu}-${sys.endsWith('musl') ? 'musl' : 'gnu'}`
  return `${sys}-${cpu}`
}

function isMusl() {
  if (process.platform !== 'linux') return false
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    const header = process.report && process.report.getReport().header
    return !(header && header.glibcVersionRuntime)
  }
}

/** This machine's napi-rs platform name, as the loader spells it. */
function hostPlatform() {
  const abi = process.platform === 'linux' ? (isMusl() ? '-musl' : '-gnu') : process.platform === 'win32' ? '-msvc' : ''
  return `${process.platform}-${process.arch}${abi}`
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

/** What to do when no binary loads; `why` is what the loader tried (lines). */
function missingBinaryMessage(why) {
  const plat = hostPlatform()
  const lines = [`nat64: no native binary for ${plat} (Node ${process.version}).`]
  if (sourceTree()) {
    lines.push(
      `This is the nat64 source tree (${HERE}); build the binary with`,
      '  npm rebuild nat64        (in the project that installed it: runs install.js, cargo build)',
      `  or: node ${path.join(HERE, 'install.js')}`,
      'It needs Rust (cargo); install it from https://rustup.rs.',
      'If install scripts are disabled (--ignore-scripts, or npm allowScripts), the build never ran:',
      '  npm install-scripts approve nat64, then npm rebuild nat64.',
    )
  } else {
    const prebuilt = (PKG.napi.targets || []).some((t) => platformOf(t) === plat)
    lines.push(`This package holds no binary for ${plat} and cannot build one (the Rust sources are not in it).`)
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
function cargo(args, cwd) {
  return spawnSync('cargo', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 })
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
  const out = path.join(HERE, `nat64.${platformOf(host)}.node`)
  console.error(`nat64: building ${CRATE} for ${host} with cargo (release); the first build takes a minute or two`)
  // Same profile and --target as `napi build --platform --release`, so both
  // use target/<triple>/release and whichever runs second finds it built.
  const r = cargo(
    ['build', '--release', '--locked', '-p', CRATE, '--target', host, '--message-format=json-render-diagnostics'],
    root,
  )
  if (r.error) fail(`nat64: cannot run cargo: ${r.error.message}`)
  if (r.status !== 0) fail(`nat64: cargo build -p ${CRATE} failed (exit ${r.status}); the errors are above.`)
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

module.exports = { missingBinaryMessage, reasons, hostPlatform, platformOf, supported }

if (require.main === module) main()
