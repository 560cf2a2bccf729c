//! Gives the shared library its SONAME, `libnat64.so.0`: programs linked with
//! `-lnat64` record that name (not the unversioned `libnat64.so`, which is a
//! development symlink), so an ABI-breaking release can ship as
//! `libnat64.so.1` beside it. Bump the number with any change to `nat64.h`
//! that breaks existing callers.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly" | "illumos" | "solaris"
    ) {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libnat64.so.{}", SONAME_MAJOR);
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// The ABI version in the SONAME (`libnat64.so.0`); nat64-ffi/install.sh names the
/// same and refuses to install a library whose SONAME differs.
const SONAME_MAJOR: u32 = 0;
