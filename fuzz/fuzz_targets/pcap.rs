//! The capture reader of `nat64 translate` (the `nat64-capture` crate). The
//! target calls what `translate_cmd::run` calls, `Capture::open` then
//! `Capture::translate` with a translator built by `XlatConfig::new` and
//! `XlatConfig::build`, over the fuzzer's bytes instead of a file and into
//! `io::sink()` instead of the output file; it prints no tally. Any bytes
//! must give `Ok` or an error, never a panic, both stateless and stateful
//! (byte 0, bit 0: `--pool4`); the rest of the input is the capture.
//!
//! The configuration is the one `nat64 translate --config translator.toml
//! [--pool4 192.0.2.1:1000-1015]` builds, with [`TRANSLATOR`] as the file
//! (read by the `nat64-config` crate, as the command reads it), made once
//! per mode; every input gets a new translator built from a copy (the
//! stateful one keeps sessions, and the capture's timestamps are its clock).
//! One setting differs from the binary's: the stateful translator's
//! reassembly limits. `nat64 translate` keeps the core's defaults (4 MiB,
//! 1024 datagrams, `ReassemblyLimits::default`), which `Reassembler::new`
//! (`nat64-core/src/nat64/reassembly.rs`) allocates and links up front: about
//! 0.4 ms per input under the fuzzer's instrumentation, ten times the rest,
//! for limits an input of a few KB never comes near. Here they are small
//! enough to reach (4 KiB, 8 datagrams; the per-datagram fragment cap and the
//! timeout stay the defaults), so the eviction paths run too.
//!
//! `keep_the_heap` sets glibc's heap thresholds once, before the first input:
//! it changes where the memory comes from, not what runs.
#![no_main]

use std::io;
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nat64_capture::{Capture, StatefulArgs, XlatConfig, XlatMode};
use nat64_config::TranslateFile;
use nat64_core::nat64::ReassemblyLimits;

/// The `--config` file: the same translator as `nat64 translate --pool6
/// 64:ff9b::/96 --eamt 192.0.2.0/24=2001:db8:1::/120 --own-ipv4
/// 203.0.113.254 --own-ipv6 2001:db8:ffff::1 --no-wkp-check`.
const TRANSLATOR: &str = r#"
[translator]
pool6 = "64:ff9b::/96"
eamt = [{ ipv4 = "192.0.2.0/24", ipv6 = "2001:db8:1::/120" }]
own_ipv4 = "203.0.113.254"
own_ipv6 = "2001:db8:ffff::1"
wkp_forbids_non_global = false
"#;

/// The translator configurations, made once: `[stateless, stateful]`.
fn config(stateful: bool) -> &'static XlatConfig {
    static CONFIGS: OnceLock<[XlatConfig; 2]> = OnceLock::new();
    let make = |pool4: bool| {
        let cfg = TranslateFile::parse(TRANSLATOR)
            .and_then(|f| f.translator.to_config())
            .expect("the translator file is valid");
        let args = StatefulArgs {
            pool4: if pool4 {
                vec!["192.0.2.1:1000-1015".parse().expect("pool4")]
            } else {
                Vec::new()
            },
            ..StatefulArgs::default()
        };
        let mut x = XlatConfig::new(cfg, args, String::new()).expect("the configuration is valid");
        if let XlatMode::Stateful(n) = &mut x.mode {
            n.reassembly = ReassemblyLimits {
                max_bytes: 4096,
                max_datagrams: 8,
                ..ReassemblyLimits::default()
            };
        }
        x
    };
    &CONFIGS.get_or_init(|| [make(false), make(true)])[usize::from(stateful)]
}

/// glibc's malloc, left to itself, gives the heap top back to the kernel
/// after every input (the translator's buffers, 128 KiB of output and 64 KiB
/// ones in `Nat64`, are freed at the top) and takes it again for the next:
/// a `brk` each way, TLB flushes and page faults, about two thirds of the
/// time per input. Fixed thresholds keep those buffers in a heap that is
/// never trimmed (setting them also stops glibc's dynamic adjustment). Best
/// effort: another allocator (AddressSanitizer's) may ignore it.
fn keep_the_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called once,
    // before the first input, from the fuzzing thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

fuzz_target!(init: keep_the_heap(), |data: &[u8]| {
    let Some((&sel, capture)) = data.split_first() else {
        return;
    };
    let mut t = config(sel & 1 != 0).clone().build().expect("the translator builds");
    // The names only appear in error messages.
    let Ok(c) = Capture::open(capture, Path::new("in.pcap")) else {
        return;
    };
    let _ = c.translate(&mut t, io::sink(), Path::new("out.pcap"));
});
