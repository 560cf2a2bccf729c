//! Stateless RFC 7915 translation of arbitrary bytes (seeds: IPv6 packets).
//! See [`nat64_fuzz::run_stateless`] for the input layout and the checks.
#![no_main]

use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use nat64_core::Translator;
use nat64_fuzz::{run_stateless, siit_configs, OUT_LEN};

struct State {
    xlats: Vec<Translator>,
    out: Vec<u8>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let s = g.get_or_insert_with(|| State {
        xlats: siit_configs()
            .into_iter()
            .map(|c| Translator::new(c).unwrap())
            .collect(),
        out: vec![0; OUT_LEN],
    });
    run_stateless(&mut s.xlats, &mut s.out, data, 6);
});
