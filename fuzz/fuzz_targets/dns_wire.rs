//! The DNS message parser (`nat64_core::dns64::wire`) on arbitrary bytes,
//! and what is built on it: every record of a message that parses is
//! copied with `Writer::record` (names expanded and recompressed) into a new
//! message, which must parse and hold the same records; `age_ttls` must keep
//! the message valid; the reverse-name and RFC 7050 / RFC 8781 discovery
//! readers must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nat64_core::dns64::discovery::{prefixes_from_response, Pref64};
use nat64_core::dns64::reverse::{parse_in_addr_arpa, parse_ip6_arpa};
use nat64_core::dns64::wire::{
    age_ttls, cache_ttl, name_eq, name_from_str, negative_ttl, rtype, skip_name, strip_suffix, CopyError, DisplayName,
    Labels, Message, Section, Writer, MAX_NAME_LEN,
};

const SECTIONS: [Section; 3] = [Section::Answer, Section::Authority, Section::Additional];

/// Types whose RDATA `Writer::record` copies byte for byte.
fn opaque(t: u16) -> bool {
    !matches!(t, 2..=9 | 12 | 14 | 15 | 17 | 18 | 21 | 26 | 33 | 39)
}

fuzz_target!(|data: &[u8]| {
    let _ = prefixes_from_response(data);
    if let Ok(p) = Pref64::decode(data) {
        let again = Pref64::decode(&p.encode().expect("a decoded PREF64 encodes")).unwrap();
        assert_eq!(again.prefix, p.prefix);
    }
    let _ = parse_ip6_arpa(data, 0);
    let _ = parse_in_addr_arpa(data, 0);
    let _ = strip_suffix(data, 0, b"\x04arpa\x00");
    if let Ok(end) = skip_name(data, 0) {
        assert!(end <= data.len());
        let n: usize = Labels::new(data, 0).map(|l| l.len() + 1).sum::<usize>() + 1;
        assert!(n <= MAX_NAME_LEN, "a checked name of {n} bytes");
        assert!(name_eq(data, 0, data, 0));
        // Presentation format and back.
        let text = DisplayName(data, 0).to_string();
        let mut w = [0u8; MAX_NAME_LEN];
        if !text.contains('\\') {
            if let Some(len) = name_from_str(&text, &mut w) {
                assert!(name_eq(&w[..len], 0, data, 0), "{text}");
            }
        }
    }

    let Ok(m) = Message::parse(data) else { return };
    assert!(m.len() <= data.len());
    let _ = (
        m.edns(),
        m.opt(),
        negative_ttl(&m),
        cache_ttl(&m),
        m.rcode(),
        m.opcode(),
    );
    if m.has_question() {
        let q = m.qname_wire();
        assert!(skip_name(q, 0).is_ok(), "qname_wire is not a name");
        assert!(m.question_is(q, m.qtype(), m.qclass()));
    }
    // Copy every record into a new message.
    let mut buf = vec![0u8; 65_535];
    let mut w = Writer::new(&mut buf);
    w.header(m.id(), m.flags()).unwrap();
    let mut counts = [0u16; 3];
    let mut copied = Vec::new();
    let mut ok = true;
    for (i, s) in SECTIONS.iter().enumerate() {
        for rr in m.records(*s) {
            assert!(rr.end() <= data.len());
            assert!(skip_name(data, rr.name).is_ok());
            match w.record(data, &rr, rr.ttl) {
                Ok(()) => {
                    counts[i] += 1;
                    copied.push(rr);
                }
                Err(CopyError::Wire(_)) => {
                    ok = false;
                    break;
                }
                Err(CopyError::Full) => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            break;
        }
    }
    if ok {
        w.set_counts(0, counts[0], counts[1], counts[2]);
        let n = w.finish();
        let out = &buf[..n];
        let m2 = Message::parse(out).unwrap_or_else(|e| panic!("a copy of a valid message does not parse: {e}"));
        let again: Vec<_> = SECTIONS.iter().flat_map(|s| m2.records(*s)).collect();
        assert_eq!(again.len(), copied.len());
        for (a, b) in copied.iter().zip(&again) {
            assert_eq!((a.rtype, a.class, a.ttl), (b.rtype, b.class, b.ttl));
            assert!(name_eq(data, a.name, out, b.name), "owner name changed in the copy");
            if opaque(a.rtype) {
                assert_eq!(a.rdata(data), b.rdata(out), "RDATA of type {} changed", a.rtype);
            }
        }
    }
    // Ageing keeps the message valid and never raises a TTL; the only
    // refusal is a name that reads a TTL field, and then nothing changed.
    let mut aged = data.to_vec();
    if let Err(e) = age_ttls(&mut aged, 1000) {
        assert!(
            e.what.contains("reads a TTL field"),
            "a valid message does not age: {e}"
        );
        assert_eq!(aged, data, "a refused message was changed");
        return;
    }
    let m3 = Message::parse(&aged).unwrap_or_else(|e| panic!("an aged message does not parse: {e}"));
    let before: Vec<_> = SECTIONS.iter().flat_map(|s| m.records(*s)).collect();
    let after: Vec<_> = SECTIONS.iter().flat_map(|s| m3.records(*s)).collect();
    for (a, b) in before.iter().zip(&after) {
        if a.rtype == rtype::OPT {
            assert_eq!(a.ttl, b.ttl);
        } else {
            assert_eq!(b.ttl, a.ttl.saturating_sub(1000));
        }
        assert_eq!((a.name, a.rtype, a.rdata), (b.name, b.rtype, b.rdata));
        assert!(name_eq(data, a.name, &aged, b.name), "ageing changed an owner name");
    }
    if m.has_question() {
        assert!(
            name_eq(data, m.qname(), &aged, m3.qname()),
            "ageing changed the question name"
        );
    }
});
