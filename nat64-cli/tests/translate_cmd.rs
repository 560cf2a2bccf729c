//! `nat64 translate` end to end: captures are built here with pcap-file and
//! etherparse, the binary translates them, and the output is checked with
//! etherparse (addresses, checksums, link headers, timestamps).

use std::borrow::Cow;
use std::fs::File;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, TsResolution};

// ------------------------------------------------------------------ helpers

/// A scratch folder under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("nat64-translate-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// pool6 2001:db8:64::/96 and the EAM 192.0.2.0/24 <-> 2001:db8:1::/120.
const SETTINGS: [&str; 4] = ["--pool6", "2001:db8:64::/96", "--eamt", "192.0.2.0/24=2001:db8:1::/120"];

/// 192.0.2.5 by the EAMT.
const HOST6: &str = "2001:db8:1::5";
const HOST4: &str = "192.0.2.5";
/// 203.0.113.7 under pool6.
const PEER6: &str = "2001:db8:64::cb00:7107";
const PEER4: &str = "203.0.113.7";

fn nat64(args: &[&str], extra: &[&Path]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nat64"));
    c.args(args);
    c.args(extra);
    c.output().unwrap()
}

fn translate(settings: &[&str], input: &Path, output: &Path) -> Output {
    let mut args = vec!["translate"];
    args.extend_from_slice(settings);
    nat64(&args, &[input, output])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts success and returns stdout.
fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "nat64 failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// Asserts a clean failure (exit code 2, no panic) and returns stderr.
fn fails(o: &Output) -> String {
    let err = text(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected exit code 2\nstdout:\n{}\nstderr:\n{err}",
        text(&o.stdout)
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn v6(s: &str) -> [u8; 16] {
    s.parse::<Ipv6Addr>().unwrap().octets()
}
fn v4(s: &str) -> [u8; 4] {
    s.parse::<Ipv4Addr>().unwrap().octets()
}

fn v6_udp(src: &str, dst: &str, hop: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    PacketBuilder::ipv6(v6(src), v6(dst), hop)
        .udp(40000, 53)
        .write(&mut p, payload)
        .unwrap();
    p
}

fn v6_echo(src: &str, dst: &str, hop: u8, id: u16, seq: u16) -> Vec<u8> {
    let mut p = Vec::new();
    PacketBuilder::ipv6(v6(src), v6(dst), hop)
        .icmpv6_echo_request(id, seq)
        .write(&mut p, b"ping")
        .unwrap();
    p
}

fn v4_udp(src: &str, dst: &str, ttl: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    PacketBuilder::ipv4(v4(src), v4(dst), ttl)
        .udp(53, 40000)
        .write(&mut p, payload)
        .unwrap();
    p
}

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

/// An Ethernet II frame from `src` to `dst`, with optional 802.1Q tags.
fn eth(dst: [u8; 6], src: [u8; 6], vlans: &[u16], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    for v in vlans {
        f.extend_from_slice(&0x8100u16.to_be_bytes());
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn write_pcap(path: &Path, link: DataLink, res: TsResolution, packets: &[(Duration, Vec<u8>)]) {
    let header = PcapHeader {
        datalink: link,
        ts_resolution: res,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(File::create(path).unwrap(), header).unwrap();
    for (ts, data) in packets {
        w.write_packet(&PcapPacket::new(*ts, data.len() as u32, data)).unwrap();
    }
}

fn read_pcap(path: &Path) -> (PcapHeader, Vec<(Duration, Vec<u8>)>) {
    let mut r = PcapReader::new(File::open(path).unwrap()).unwrap();
    let header = r.header();
    let mut v = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        assert_eq!(p.orig_len as usize, p.data.len());
        v.push((p.timestamp, p.data.into_owned()));
    }
    (header, v)
}

/// Checks an IPv4 packet: addresses, header checksum, and the UDP or ICMP
/// checksum; returns the transport protocol number.
fn check_v4(ip: &[u8], src: &str, dst: &str) -> u8 {
    let s = SlicedPacket::from_ip(ip).unwrap_or_else(|e| panic!("not an IP packet: {e:?}"));
    let Some(NetSlice::Ipv4(h)) = &s.net else {
        panic!("not IPv4: {:?}", s.net)
    };
    let h4 = h.header();
    assert_eq!(h4.source_addr().to_string(), src);
    assert_eq!(h4.destination_addr().to_string(), dst);
    assert_eq!(
        h4.to_header().calc_header_checksum(),
        h4.header_checksum(),
        "IPv4 header checksum"
    );
    assert_eq!(usize::from(h4.total_len()), ip.len());
    match &s.transport {
        Some(TransportSlice::Udp(u)) => {
            let want = u.to_header().calc_checksum_ipv4(&h4.to_header(), u.payload()).unwrap();
            assert_eq!(u.checksum(), want, "UDP checksum");
        }
        Some(TransportSlice::Icmpv4(i)) => {
            assert_eq!(
                i.checksum(),
                i.icmp_type().calc_checksum(i.payload()),
                "ICMPv4 checksum"
            );
        }
        other => panic!("unexpected transport {other:?}"),
    }
    h4.protocol().0
}

/// Checks an IPv6 packet: addresses and the UDP or ICMPv6 checksum;
/// returns the slice for further checks.
fn check_v6<'a>(ip: &'a [u8], src: &str, dst: &str) -> SlicedPacket<'a> {
    let s = SlicedPacket::from_ip(ip).unwrap_or_else(|e| panic!("not an IP packet: {e:?}"));
    let Some(NetSlice::Ipv6(h)) = &s.net else {
        panic!("not IPv6: {:?}", s.net)
    };
    let h6 = h.header();
    assert_eq!(h6.source_addr().to_string(), src);
    assert_eq!(h6.destination_addr().to_string(), dst);
    assert_eq!(usize::from(h6.payload_length()) + 40, ip.len());
    match &s.transport {
        Some(TransportSlice::Udp(u)) => {
            let want = u.to_header().calc_checksum_ipv6(&h6.to_header(), u.payload()).unwrap();
            assert_eq!(u.checksum(), want, "UDP checksum");
        }
        Some(TransportSlice::Icmpv6(i)) => {
            assert!(i.is_checksum_valid(h6.source(), h6.destination()), "ICMPv6 checksum");
        }
        other => panic!("unexpected transport {other:?}"),
    }
    s
}

/// The summary line `name  N ...` as a number.
fn count(stdout: &str, name: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(name))
        .unwrap_or_else(|| panic!("no line {name:?} in\n{stdout}"));
    line.trim_start()[name.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

// ------------------------------------------------------------------ tests

#[test]
fn raw_pcap_is_translated_both_ways() {
    let d = Scratch::new("raw");
    let (inp, out) = (d.path("in.pcap"), d.path("out.pcap"));
    let t = [
        Duration::new(1_700_000_000, 123_000),
        Duration::new(1_700_000_001, 500_000_000),
        Duration::new(1_700_000_002, 0),
    ];
    write_pcap(
        &inp,
        DataLink::RAW,
        TsResolution::MicroSecond,
        &[
            (t[0], v6_udp(HOST6, PEER6, 64, b"hello, world")),
            (t[1], v6_echo(HOST6, "2001:db8:64::808:808", 64, 0x1234, 7)),
            (t[2], v4_udp(PEER4, HOST4, 64, b"answer")),
        ],
    );
    let stdout = ok(&translate(&SETTINGS, &inp, &out));
    assert_eq!(count(&stdout, "translated"), 3, "{stdout}");
    assert!(stdout.contains("6->4: 2, 4->6: 1"), "{stdout}");
    assert!(
        stdout.contains("read 3 packets") && stdout.contains("wrote 3 packets"),
        "{stdout}"
    );

    let (h, pkts) = read_pcap(&out);
    assert_eq!(h.datalink, DataLink::RAW);
    assert_eq!(h.ts_resolution, TsResolution::MicroSecond);
    assert_eq!(pkts.len(), 3);
    for (i, (ts, _)) in pkts.iter().enumerate() {
        assert_eq!(*ts, t[i], "timestamp of packet {i}");
    }
    assert_eq!(check_v4(&pkts[0].1, HOST4, PEER4), 17);
    assert!(pkts[0].1.ends_with(b"hello, world"));
    assert_eq!(check_v4(&pkts[1].1, HOST4, "8.8.8.8"), 1);
    let s = check_v6(&pkts[2].1, PEER6, HOST6);
    let Some(TransportSlice::Udp(u)) = s.transport else {
        panic!()
    };
    assert_eq!(u.payload(), b"answer");
}

#[test]
fn pcapng_input_with_two_interfaces() {
    let d = Scratch::new("pcapng");
    let (inp, out) = (d.path("in.pcapng"), d.path("out.pcap"));
    let mut w = PcapNgWriter::new(File::create(&inp).unwrap()).unwrap();
    // Interface 0: raw IP, nanosecond timestamps.
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::RAW,
        snaplen: 0,
        options: vec![InterfaceDescriptionOption::IfTsResol(9)],
    })
    .unwrap();
    // Interface 1: LINKTYPE_IPV4, default (microsecond) timestamps.
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::IPV4,
        snaplen: 65535,
        options: vec![],
    })
    .unwrap();
    // pcap-file writes the timestamp as a count of nanoseconds whatever the
    // interface says; for interface 1 the count must be in microseconds.
    let epb = |iface: u32, ts: Duration, data: Vec<u8>| EnhancedPacketBlock {
        interface_id: iface,
        timestamp: ts,
        original_len: data.len() as u32,
        data: Cow::Owned(data),
        options: vec![],
    };
    let t0 = Duration::new(1_700_000_000, 123_456_789);
    w.write_pcapng_block(epb(0, t0, v6_udp(HOST6, PEER6, 64, b"over pcapng")))
        .unwrap();
    let t1 = Duration::new(1_700_000_003, 250_000_000);
    let t1_as_micros = Duration::from_nanos(t1.as_micros() as u64);
    w.write_pcapng_block(epb(1, t1_as_micros, v4_udp(PEER4, HOST4, 64, b"back")))
        .unwrap();
    drop(w);

    let stdout = ok(&translate(&SETTINGS, &inp, &out));
    assert!(stdout.contains("(pcapng)"), "{stdout}");
    let (h, pkts) = read_pcap(&out);
    assert_eq!(h.datalink, DataLink::RAW);
    assert_eq!(h.ts_resolution, TsResolution::NanoSecond);
    assert_eq!(pkts.len(), 2);
    assert_eq!(pkts[0].0, t0);
    assert_eq!(check_v4(&pkts[0].1, HOST4, PEER4), 17);
    assert_eq!(pkts[1].0, t1);
    check_v6(&pkts[1].1, PEER6, HOST6);
}

#[test]
fn ethernet_frames_keep_their_addresses() {
    let d = Scratch::new("ethernet");
    let (inp, out) = (d.path("in.pcap"), d.path("out.pcap"));
    let ts = Duration::new(1_600_000_000, 1000);
    // A short IPv4 datagram, padded to the Ethernet minimum of 60 bytes.
    let mut padded = eth(MAC_A, MAC_B, &[], 0x0800, &v4_udp(PEER4, HOST4, 64, b"tiny"));
    padded.resize(60, 0);
    write_pcap(
        &inp,
        DataLink::ETHERNET,
        TsResolution::MicroSecond,
        &[
            (ts, eth(MAC_B, MAC_A, &[], 0x86dd, &v6_udp(HOST6, PEER6, 64, b"plain"))),
            (ts, eth(MAC_B, MAC_A, &[100], 0x86dd, &v6_echo(HOST6, PEER6, 64, 1, 2))),
            (
                ts,
                eth(MAC_B, MAC_A, &[100, 200], 0x86dd, &v6_udp(HOST6, PEER6, 64, b"QinQ")),
            ),
            (ts, eth([0xff; 6], MAC_A, &[], 0x0806, &[0u8; 28])), // ARP: not ours
            (
                ts,
                eth(MAC_B, MAC_A, &[], 0x86dd, &v6_udp(HOST6, PEER6, 1, b"expiring")),
            ),
            (ts, padded),
        ],
    );
    let mut settings = SETTINGS.to_vec();
    settings.extend_from_slice(&["--own-ipv6", "2001:db8::1"]);
    let stdout = ok(&translate(&settings, &inp, &out));
    assert!(
        stdout.contains("not_ip") && stdout.contains("1 Ethernet frames"),
        "{stdout}"
    );
    assert!(stdout.contains("hop_limit_exceeded"), "{stdout}");
    assert_eq!(count(&stdout, "icmp error"), 1, "{stdout}");
    assert_eq!(count(&stdout, "not ours"), 1, "{stdout}");

    let (h, pkts) = read_pcap(&out);
    assert_eq!(h.datalink, DataLink::ETHERNET);
    assert_eq!(pkts.len(), 5);
    for (i, (t, f)) in pkts.iter().enumerate() {
        assert_eq!(*t, ts);
        let s = SlicedPacket::from_ethernet(f).unwrap();
        assert!(s.vlan.is_none(), "packet {i} kept a VLAN tag");
        let Some(etherparse::LinkSlice::Ethernet2(e)) = &s.link else {
            panic!()
        };
        let reply = i >= 3;
        assert_eq!(
            (e.destination(), e.source()),
            if reply { (MAC_A, MAC_B) } else { (MAC_B, MAC_A) },
            "packet {i}"
        );
        let ip = &f[14..];
        match i {
            0 | 2 => assert_eq!(check_v4(ip, HOST4, PEER4), 17),
            1 => assert_eq!(check_v4(ip, HOST4, PEER4), 1),
            3 => {
                // Time Exceeded, from the translator back to the sender.
                assert_eq!(e.ether_type(), etherparse::EtherType::IPV6);
                let s = check_v6(ip, "2001:db8::1", HOST6);
                let Some(TransportSlice::Icmpv6(icmp)) = s.transport else {
                    panic!()
                };
                assert_eq!((icmp.type_u8(), icmp.code_u8()), (3, 0));
            }
            _ => {
                // The padding is not part of the translated packet.
                assert_eq!(e.ether_type(), etherparse::EtherType::IPV6);
                check_v6(ip, PEER6, HOST6);
                assert!(ip.ends_with(b"tiny"));
            }
        }
        if i < 3 {
            assert_eq!(e.ether_type(), etherparse::EtherType::IPV4);
        }
    }
}

#[test]
fn drops_are_counted_with_their_reasons() {
    let d = Scratch::new("drops");
    let (inp, out) = (d.path("in.pcap"), d.path("out.pcap"));
    write_pcap(
        &inp,
        DataLink::RAW,
        TsResolution::MicroSecond,
        &[
            (Duration::ZERO, v6_udp(HOST6, PEER6, 1, b"expiring")),
            (Duration::ZERO, v6_udp(HOST6, PEER6, 1, b"expiring again")),
            (Duration::ZERO, v6_udp(HOST6, "2001:db8:99::1", 64, b"elsewhere")),
            (Duration::ZERO, vec![0x00, 0x01, 0x02]),
        ],
    );
    let stdout = ok(&translate(&SETTINGS, &inp, &out));
    let line = stdout
        .lines()
        .find(|l| l.contains("hop_limit_exceeded"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains(" 2 ") && line.contains("dropped"), "{line}");
    assert!(
        stdout.contains("TTL/hop limit expired"),
        "the explanation is printed: {stdout}"
    );
    assert!(
        stdout.contains("destination_not_mapped") && stdout.contains("not_ip"),
        "{stdout}"
    );
    assert_eq!(count(&stdout, "dropped"), 2, "{stdout}");
    assert_eq!(count(&stdout, "not ours"), 2, "{stdout}");
    assert_eq!(count(&stdout, "translated"), 0, "{stdout}");
    assert!(read_pcap(&out).1.is_empty());
}

fn sample_pcap(path: &Path) -> Vec<u8> {
    let pkts: Vec<_> = (0..3u8)
        .map(|i| (Duration::new(100 + u64::from(i), 0), v6_udp(HOST6, PEER6, 64, &[i; 40])))
        .collect();
    write_pcap(path, DataLink::RAW, TsResolution::MicroSecond, &pkts);
    std::fs::read(path).unwrap()
}

#[test]
fn truncated_capture_names_the_record() {
    let d = Scratch::new("truncated");
    let (inp, out) = (d.path("in.pcap"), d.path("out.pcap"));
    let bytes = sample_pcap(&inp);
    let record = 16 + 40 + 8 + 40;
    std::fs::write(&inp, &bytes[..bytes.len() - 10]).unwrap();
    let err = fails(&translate(&SETTINGS, &inp, &out));
    let third = 24 + 2 * record;
    assert!(
        err.contains(&format!("packet 3 (record at byte offset {third})")),
        "{err}"
    );
    assert!(err.contains("cut short") && err.contains("in.pcap"), "{err}");
    // What came before the bad record was written, as a valid file.
    assert!(err.contains("holds the 2 packets"), "{err}");
    assert_eq!(read_pcap(&out).1.len(), 2);

    // Cut inside a record header.
    std::fs::write(&inp, &bytes[..24 + record + 5]).unwrap();
    let err = fails(&translate(&SETTINGS, &inp, &out));
    assert!(
        err.contains(&format!("packet 2 (record at byte offset {})", 24 + record)),
        "{err}"
    );
    assert!(err.contains("record header"), "{err}");

    // Cut inside the file header.
    std::fs::write(&inp, &bytes[..10]).unwrap();
    let err = fails(&translate(&SETTINGS, &inp, &out));
    assert!(err.contains("pcap file header"), "{err}");
}

#[test]
fn garbage_is_a_clear_error() {
    let d = Scratch::new("garbage");
    let (inp, out) = (d.path("in.bin"), d.path("out.pcap"));

    std::fs::write(&inp, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").unwrap();
    let err = fails(&translate(&SETTINGS, &inp, &out));
    assert!(
        err.contains("not a pcap or pcapng capture") && err.contains("47 45 54 20"),
        "{err}"
    );
    assert!(!out.exists(), "no output is created for a file that is not a capture");

    std::fs::write(&inp, b"").unwrap();
    let err = fails(&translate(&SETTINGS, &inp, &out));
    assert!(err.contains("empty"), "{err}");

    // A pcap header followed by a record header with an absurd length.
    let mut bytes = sample_pcap(&inp)[..24].to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]);
    std::fs::write(&inp, &bytes).unwrap();
    let err = fails(&translate(&SETTINGS, &inp, &out));
    assert!(
        err.contains("packet 1 (record at byte offset 24)") && err.contains("corrupt"),
        "{err}"
    );

    // A pcapng file whose third block has a length that is not a multiple of 4.
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::RAW,
        snaplen: 0,
        options: vec![],
    })
    .unwrap();
    let mut bytes = w.into_inner();
    let third = bytes.len();
    let mut block = Vec::new();
    // pcap-file writes in the machine's byte order.
    let ne = |v: u32| v.to_ne_bytes();
    block.extend_from_slice(&ne(6));
    block.extend_from_slice(&ne(45));
    block.extend_from_slice(&[0; 37]);
    bytes.extend_from_slice(&block);
    std::fs::write(&inp, &bytes).unwrap();
    let err = fails(&translate(&SETTINGS, &inp, &out));
    assert!(
        err.contains(&format!(
            "block 3 (Enhanced Packet Block, packet 1 at byte offset {third})"
        )),
        "{err}"
    );

    // A pcapng packet on an interface that was never described.
    bytes.truncate(third);
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::RAW,
        snaplen: 0,
        options: vec![],
    })
    .unwrap();
    w.write_pcapng_block(EnhancedPacketBlock {
        interface_id: 0,
        timestamp: Duration::ZERO,
        original_len: 4,
        data: Cow::Borrowed(&[0x60, 0, 0, 0]),
        options: vec![],
    })
    .unwrap();
    let with_packet = w.into_inner();
    let epb = &with_packet[third..];
    let mut bad = bytes.clone();
    bad.extend_from_slice(epb);
    bad[third + 8..third + 12].copy_from_slice(&ne(3)); // interface 3
    std::fs::write(&inp, &bad).unwrap();
    let err = fails(&translate(&SETTINGS, &inp, &out));
    assert!(err.contains("interface 3") && err.contains("packet 1"), "{err}");
}

/// Corrupted captures never crash the command: it either translates what
/// it can or stops with an error naming a record.
#[test]
fn mutated_captures_never_panic() {
    let d = Scratch::new("mutated");
    let (inp, out) = (d.path("in.cap"), d.path("out.pcap"));
    let pcap = sample_pcap(&inp);
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 0,
        options: vec![],
    })
    .unwrap();
    for i in 0..3u8 {
        let f = eth(MAC_B, MAC_A, &[], 0x86dd, &v6_udp(HOST6, PEER6, 64, &[i; 30]));
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_secs(1),
            original_len: f.len() as u32,
            data: Cow::Owned(f),
            options: vec![],
        })
        .unwrap();
    }
    let pcapng = w.into_inner();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for base in [&pcap, &pcapng] {
        for _ in 0..12 {
            let mut b = base.clone();
            for _ in 0..1 + rand() % 4 {
                let i = 4 + (rand() as usize) % (b.len() - 4);
                b[i] = rand() as u8;
            }
            if rand() % 3 == 0 {
                b.truncate(4 + (rand() as usize) % (b.len() - 4));
            }
            std::fs::write(&inp, &b).unwrap();
            let o = translate(&SETTINGS, &inp, &out);
            let err = text(&o.stderr);
            assert!(!err.contains("panicked"), "{err}");
            match o.status.code() {
                Some(0) => {}
                Some(2) => assert!(
                    err.contains("packet ") || err.contains("block ") || err.contains("header"),
                    "{err}"
                ),
                c => panic!("exit {c:?}: {err}"),
            }
        }
    }
}

#[test]
fn config_file_with_a_misspelt_key_names_it() {
    let d = Scratch::new("config-typo");
    let (cfg, inp, out) = (d.path("nat64.toml"), d.path("in.pcap"), d.path("out.pcap"));
    sample_pcap(&inp);
    std::fs::write(
        &cfg,
        "[translator]\npool6 = \"2001:db8:64::/96\"\nown_ipv7 = \"192.0.2.1\"\n",
    )
    .unwrap();
    let o = nat64(&["translate", "--config"], &[&cfg, &inp, &out]);
    let err = fails(&o);
    assert!(
        err.contains("own_ipv7") && err.contains("nat64.toml") && err.contains("line 3"),
        "{err}"
    );
    assert!(err.contains("own_ipv6"), "lists the valid keys: {err}");

    std::fs::write(&cfg, "[translator]\npool6 = \"64:ff9b::/95\"\n").unwrap();
    let err = fails(&nat64(&["translate", "--config"], &[&cfg, &inp, &out]));
    assert!(
        err.contains("pool6 = \"64:ff9b::/95\"") && err.contains("/32, /40, /48, /56, /64 or /96"),
        "{err}"
    );
}

#[test]
fn flags_override_the_config_file() {
    let d = Scratch::new("config-override");
    let (cfg, inp, out) = (d.path("nat64.toml"), d.path("in.pcap"), d.path("out.pcap"));
    write_pcap(
        &inp,
        DataLink::RAW,
        TsResolution::MicroSecond,
        &[
            (Duration::ZERO, v6_udp(HOST6, PEER6, 1, b"x")),
            (Duration::ZERO, v6_udp(HOST6, PEER6, 64, b"y")),
        ],
    );
    std::fs::write(
        &cfg,
        "[translator]\npool6 = \"64:ff9b::/96\"\nown_ipv6 = \"2001:db8::1\"\n\
         eamt = [{ ipv4 = \"192.0.2.0/24\", ipv6 = \"2001:db8:1::/120\" }]\n",
    )
    .unwrap();
    // With the file's pool6, the destination is not ours.
    let stdout = ok(&nat64(&["translate", "--config"], &[&cfg, &inp, &out]));
    assert_eq!(count(&stdout, "not ours"), 2, "{stdout}");
    // --pool6 overrides it; own_ipv6 still comes from the file.
    let stdout = ok(&nat64(
        &["translate", "--pool6", "2001:db8:64::/96", "--config"],
        &[&cfg, &inp, &out],
    ));
    assert_eq!(count(&stdout, "translated"), 1, "{stdout}");
    assert_eq!(count(&stdout, "icmp error"), 1, "{stdout}");
    let (_, pkts) = read_pcap(&out);
    check_v6(&pkts[0].1, "2001:db8::1", HOST6);
    check_v4(&pkts[1].1, HOST4, PEER4);
    // Settings that cannot work, whatever their origin, are named.
    let err = fails(&nat64(
        &["translate", "--pool6", "2001:db8:64::/96", "--mtu6", "1000", "--config"],
        &[&cfg, &inp, &out],
    ));
    assert!(err.contains("mtu6 is 1000"), "{err}");
}

#[test]
fn example_config_is_valid() {
    let d = Scratch::new("example");
    let (inp, out) = (d.path("in.pcap"), d.path("out.pcap"));
    write_pcap(
        &inp,
        DataLink::RAW,
        TsResolution::MicroSecond,
        &[(Duration::ZERO, v6_udp(HOST6, PEER6, 64, b"x"))],
    );
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/translator.toml");
    let stdout = ok(&nat64(&["translate", "--config"], &[&example, &inp, &out]));
    // 2001:db8:1::5 maps by the example's EAMT; the destination is not under
    // the example's pool6.
    assert!(stdout.contains("destination_not_mapped"), "{stdout}");
}

#[test]
fn bad_arguments_are_clear_errors() {
    let d = Scratch::new("args");
    let (inp, out) = (d.path("in.pcap"), d.path("out.pcap"));
    sample_pcap(&inp);

    // Unsupported link type.
    write_pcap(&inp, DataLink::LINUX_SLL, TsResolution::MicroSecond, &[]);
    let err = fails(&translate(&SETTINGS, &inp, &out));
    assert!(err.contains("link type 113"), "{err}");

    // The output would overwrite the input.
    let err = fails(&translate(&SETTINGS, &inp, &inp));
    assert!(err.contains("same file"), "{err}");

    // A missing input.
    let err = fails(&translate(&SETTINGS, &d.path("missing.pcap"), &out));
    assert!(err.contains("missing.pcap"), "{err}");

    // Bad --eamt (clap reports usage errors with code 2 too).
    let o = translate(&["--pool6", "2001:db8:64::/96", "--eamt", "192.0.2.0/24"], &inp, &out);
    let err = fails(&o);
    assert!(err.contains("V4PREFIX=V6PREFIX"), "{err}");
    let o = translate(&["--eamt", "192.0.2.0/24=2001:db8::/124"], &inp, &out);
    let err = fails(&o);
    assert!(
        err.contains("--eamt 192.0.2.0/24=2001:db8::/124") && err.contains("suffix"),
        "{err}"
    );

    // Nothing to translate with.
    let err = fails(&translate(&[], &inp, &out));
    assert!(err.contains("pool6"), "{err}");
}

#[test]
fn fragments_are_all_written() {
    let d = Scratch::new("fragments");
    let (inp, out) = (d.path("in.pcap"), d.path("out.pcap"));
    // A 2028-byte IPv4 datagram with DF clear: RFC 7915 section 4 fragments
    // it to fit lowest-ipv6-mtu (1280).
    let mut p = v4_udp(PEER4, HOST4, 64, &[0x5a; 2000]);
    p[6] &= !0x40;
    p[10..12].copy_from_slice(&[0, 0]);
    let sum = p[..20]
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    p[10..12].copy_from_slice(&(!((sum & 0xffff) + (sum >> 16)) as u16).to_be_bytes());
    let ts = Duration::new(42, 0);
    write_pcap(&inp, DataLink::RAW, TsResolution::NanoSecond, &[(ts, p)]);
    let stdout = ok(&translate(&SETTINGS, &inp, &out));
    assert_eq!(count(&stdout, "translated"), 1, "{stdout}");
    assert_eq!(count(&stdout, "extra fragments"), 1, "{stdout}");
    let (h, pkts) = read_pcap(&out);
    assert_eq!(h.ts_resolution, TsResolution::NanoSecond);
    assert_eq!(pkts.len(), 2);
    let mut payload = 0;
    for (t, f) in &pkts {
        assert_eq!(*t, ts);
        assert!(f.len() <= 1280);
        assert_eq!(f[0] >> 4, 6);
        assert_eq!(f[6], 44, "a Fragment header follows the IPv6 header");
        assert_eq!(
            Ipv6Addr::from(<[u8; 16]>::try_from(&f[8..24]).unwrap()).to_string(),
            PEER6
        );
        assert_eq!(
            Ipv6Addr::from(<[u8; 16]>::try_from(&f[24..40]).unwrap()).to_string(),
            HOST6
        );
        payload += f.len() - 48;
    }
    assert_eq!(payload, 2008, "UDP header and data, split across the fragments");
}

/// RFC 6146 offline: `--pool4` replays the capture through the stateful
/// translator on the capture's clock; the reply finds its session, the
/// unsolicited packet gets ICMP port unreachable, and the session table is
/// printed.
#[test]
fn stateful_mode_replays_sessions() {
    let d = Scratch::new("stateful");
    let (inp, out) = (d.path("in.pcap"), d.path("out.pcap"));
    let client = "2001:db8::5";
    let remote6 = "2001:db8:64::cb00:7107"; // 203.0.113.7 under pool6
    let t0 = Duration::new(1_700_000_000, 0);
    let mut stray = Vec::new();
    PacketBuilder::ipv4(v4(PEER4), v4("192.0.2.1"), 64)
        .udp(53, 1500)
        .write(&mut stray, b"stray")
        .unwrap();
    write_pcap(
        &inp,
        DataLink::RAW,
        TsResolution::MicroSecond,
        &[
            (t0, v6_udp(client, remote6, 64, b"query")),
            (t0 + Duration::from_millis(20), v6_echo(client, remote6, 64, 77, 1)),
            // A packet to a pool4 port nobody opened.
            (t0 + Duration::from_millis(30), stray.clone()),
        ],
    );
    let args = [
        "--pool6",
        "2001:db8:64::/96",
        "--pool4",
        "192.0.2.1:1000-1999",
        "--own-ipv4",
        "192.0.2.1",
    ];
    let stdout = ok(&translate(&args, &inp, &out));
    let (_, pkts) = read_pcap(&out);
    assert_eq!(pkts.len(), 3, "{stdout}");
    assert_eq!(check_v4(&pkts[0].1, "192.0.2.1", PEER4), 17);
    let s = SlicedPacket::from_ip(&pkts[0].1).unwrap();
    let Some(TransportSlice::Udp(u)) = s.transport else {
        panic!()
    };
    assert!(
        (1000..=1999).contains(&u.source_port()),
        "pool4 port {}",
        u.source_port()
    );
    assert_eq!(check_v4(&pkts[1].1, "192.0.2.1", PEER4), 1);
    // The stray packet: ICMPv4 3/3 back to its sender.
    assert_eq!(check_v4(&pkts[2].1, "192.0.2.1", PEER4), 1);
    assert_eq!(&pkts[2].1[20..22], &[3, 3]);
    assert!(stdout.contains("2 sessions"), "{stdout}");
    assert!(stdout.contains("no_binding"), "{stdout}");
    assert!(stdout.contains("[2001:db8::5]:40000"), "{stdout}");

    // Now the reply, on the same clock: it must find the session.
    let port = u.source_port();
    let mut reply = Vec::new();
    PacketBuilder::ipv4(v4(PEER4), v4("192.0.2.1"), 64)
        .udp(53, port)
        .write(&mut reply, b"answer")
        .unwrap();
    write_pcap(
        &inp,
        DataLink::RAW,
        TsResolution::MicroSecond,
        &[
            (t0, v6_udp(client, remote6, 64, b"query")),
            (t0 + Duration::from_millis(50), reply),
        ],
    );
    let stdout = ok(&translate(&args, &inp, &out));
    let (_, pkts) = read_pcap(&out);
    assert_eq!(pkts.len(), 2, "{stdout}");
    let s = check_v6(&pkts[1].1, remote6, client);
    let Some(TransportSlice::Udp(u)) = s.transport else {
        panic!()
    };
    assert_eq!(u.destination_port(), 40000);
    assert_eq!(u.payload(), b"answer");
}
