//! The gateway file's tables, read and checked.

use super::*;

fn err(text: &str) -> String {
    let f = match GatewayFile::parse(text) {
        Ok(f) => f,
        Err(e) => return e.to_string(),
    };
    match build(&f) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `text` is refused with an error that contains each of
/// `wants`.
#[track_caller]
fn rejects(text: &str, wants: &[&str]) {
    let e = err(text);
    for w in wants {
        assert!(e.contains(w), "{text:?}: {w:?} not in: {e}");
    }
}

#[test]
fn defaults_start() {
    let l = build(&GatewayFile::default()).unwrap();
    let s = l.settings;
    assert_eq!(s.mode, Mode::Nat64);
    let Xlat::Stateful(c) = &s.xlat else { panic!() };
    assert_eq!(c.xlat.pool6.unwrap().to_string(), "64:ff9b::/96");
    assert_eq!(c.pool4[0].prefix.to_string(), "192.168.255.0/24");
    assert_eq!(c.xlat.own_ipv4, Some("192.168.255.1".parse().unwrap()));
    assert_eq!(s.device.routes.len(), 2);
    assert_eq!(s.clients, Clients::V6(vec!["fc00::/7".parse().unwrap()]));
    assert_eq!(s.control_socket.unwrap(), PathBuf::from("/run/nat64/nat64.sock"));
    assert_eq!(s.icmp_rate, IcmpRateLimit::default());
}

#[test]
fn example_file_builds_with_the_defaults_it_documents() {
    let f = GatewayFile::parse(include_str!("../../../examples/gateway.toml")).unwrap();
    let s = build(&f).unwrap().settings;
    assert_eq!(s.icmp_rate, IcmpRateLimit::default());
}

#[test]
fn icmp_error_rate_keys() {
    let f = GatewayFile::parse(
        "[gateway]\nicmp_errors_per_sec = 200\nicmp_errors_burst = 20\nicmp_errors_dest_interval_ms = 500\nicmp_errors_dest_burst = 10\n",
    )
    .unwrap();
    let r = build(&f).unwrap().settings.icmp_rate;
    assert_eq!(
        (r.per_sec, r.burst, r.dest_interval, r.dest_burst),
        (200, 20, Duration::from_millis(500), 10)
    );
    // 0 turns a limit off; its burst no longer matters.
    let f = GatewayFile::parse("[gateway]\nicmp_errors_per_sec = 0\nicmp_errors_burst = 0\nicmp_errors_dest_interval_ms = 0\nicmp_errors_dest_burst = 0\n").unwrap();
    assert_eq!(build(&f).unwrap().settings.icmp_rate, IcmpRateLimit::UNLIMITED);
    rejects(
        "[gateway]\nicmp_errors_burst = 0\n",
        &["[gateway] icmp_errors_burst = \"0\"", "at least 1"],
    );
    rejects(
        "[gateway]\nicmp_errors_dest_burst = 0\n",
        &["[gateway] icmp_errors_dest_burst"],
    );
    rejects(
        "[gateway]\nicmp_errors_dest_interval_ms = 7200000\n",
        &["[gateway] icmp_errors_dest_interval_ms", "one hour"],
    );
    rejects("[gateway]\nicmp_errors_per_sec = -1\n", &["icmp_errors_per_sec"]);
    rejects(
        "[gateway]\nicmp_error_per_sec = 10\n",
        &["unknown field", "icmp_error_per_sec"],
    );
}

#[test]
fn siit_eamt_routes() {
    let text = |extra: &str| {
        format!(
            "[gateway]\nmode = \"siit\"\n{extra}\n[translator]\npool6 = \"2001:db8:64::/96\"\n\
             eamt = [ {{ ipv4 = \"198.51.100.2\", ipv6 = \"2001:db8:1::2\" }} ]\n"
        )
    };
    // Both sides are candidates, decided by the gateway against the
    // kernel's routes; only pool6 is routed unconditionally.
    let s = build(&GatewayFile::parse(&text("")).unwrap()).unwrap().settings;
    let names = |v: &[Cidr]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert_eq!(names(&s.device.routes), ["2001:db8:64::/96"]);
    assert_eq!(names(&s.device.eamt_routes), ["2001:db8:1::2/128", "198.51.100.2/32"]);
    let s = build(&GatewayFile::parse(&text("eamt_routes = \"none\"")).unwrap())
        .unwrap()
        .settings;
    assert!(s.device.eamt_routes.is_empty());
    rejects(&text("eamt_routes = \"both\""), &["eamt_routes", "\"both\"", "auto"]);
    rejects(
        "[gateway]\nmode = \"nat64\"\neamt_routes = \"auto\"\n",
        &["eamt_routes", "only SIIT"],
    );
}

#[test]
fn lab_config() {
    let f = GatewayFile::parse(
        r#"
        [gateway]
        mode = "nat64"
        device = "nat64lab"
        workers = 2
        clients = ["2001:db8:1::/64"]
        metrics = ""
        [translator]
        pool6 = "2001:db8:64::/96"
        [nat64]
        pool4 = ["198.51.100.0/28:1024-65535"]
        static_bib = ["tcp/2001:db8:1::5#80=198.51.100.1#8080"]
        timeouts = { icmp = 2, tcp_trans = 4 }
        "#,
    )
    .unwrap();
    let s = build(&f).unwrap().settings;
    let Xlat::Stateful(c) = &s.xlat else { panic!() };
    assert_eq!((c.pool4[0].first_port, c.pool4[0].last_port), (1024, 65535));
    assert_eq!(c.timeouts.icmp, Duration::from_secs(2));
    assert_eq!(c.static_bib.len(), 1);
    assert!(s.metrics.is_none());
    assert_eq!(s.device.workers, 2);
}

#[test]
fn dns64_table_in_the_gateway_file() {
    let file = |pool6: &str| {
        GatewayFile::parse(&format!(
            r#"
            [translator]
            pool6 = "{pool6}"
            [dns64]
            listen = ["[2001:db8:1::1]:53"]
            upstreams = ["203.0.113.53"]
            translate_all = true
            "#
        ))
        .unwrap()
    };
    let l = build(&file("2001:db8:64::/96")).unwrap();
    let d = l.dns64.expect("a [dns64] table starts the resolver");
    // No prefixes: the translator's pool6, not 64:ff9b::/96.
    assert_eq!(d.dns64.prefixes.len(), 1);
    assert_eq!(d.dns64.prefixes[0].prefix.to_string(), "2001:db8:64::/96");
    assert_eq!(d.upstreams, vec!["203.0.113.53:53".parse().unwrap()]);
    assert!(d.dns64.translate_all);
    // The table in effect has the prefix filled in, so that a reload
    // that changes pool6 is seen to change the resolver too.
    let effective = l.dns64_table.unwrap();
    assert_eq!(
        effective.prefixes,
        Some(vec![PrefixEntry::Plain("2001:db8:64::/96".into())])
    );
    assert_ne!(
        build(&file("2001:db8:65::/96")).unwrap().dns64_table.unwrap(),
        effective
    );

    // Given prefixes win over pool6.
    let f = GatewayFile::parse(
        "[dns64]\nupstreams = [\"203.0.113.53\"]\nprefixes = [\"64:ff9b::/96\", \"2001:db8:46::/64\"]\n",
    )
    .unwrap();
    let d = build(&f).unwrap().dns64.unwrap();
    let p: Vec<String> = d.dns64.prefixes.iter().map(|p| p.prefix.to_string()).collect();
    assert_eq!(p, ["64:ff9b::/96", "2001:db8:46::/64"]);

    // Without the table, no resolver.
    assert!(build(&GatewayFile::default()).unwrap().dns64.is_none());
}

#[test]
fn dns64_errors_name_the_table() {
    rejects("[dns64]\nlisten = [\"[::1]:5353\"]\n", &["[dns64]", "upstream"]);
    rejects("[dns64]\nupstream = [\"192.0.2.53\"]\n", &["upstream", "unknown field"]);
    rejects(
        "[dns64]\nupstreams = [\"192.0.2.53\"]\nprefixes = [\"2001:db8::/33\"]\n",
        &["[dns64]", "/96"],
    );
    rejects(
        "[dns64]\nupstreams = [\"192.0.2.53\"]\nprefixes = [\"64:ff9b::/96\", \"64:ff9b::/96\"]\n",
        &["[dns64]", "64:ff9b::/96"],
    );
}

#[test]
fn clat_config() {
    let f = GatewayFile::parse("[gateway]\nmode = \"clat\"\n[clat]\nipv6 = \"2001:db8:1::464\"\n").unwrap();
    let s = build(&f).unwrap().settings;
    let Xlat::Stateless(c) = &s.xlat else { panic!() };
    assert_eq!(
        c.eamt.to_v6("192.0.0.2".parse().unwrap()),
        Some("2001:db8:1::464".parse().unwrap())
    );
    assert!(s.device.routes.iter().any(|r| r.len == 0));
    assert_eq!(s.clients, Clients::V4(vec!["192.0.0.0/29".parse().unwrap()]));
}

#[test]
fn errors_name_the_key() {
    rejects("[gateway]\nmode = \"stateful\"\n", &["[gateway] mode", "nat64"]);
    rejects("[gateway]\nclients = [\"2001:db8::/129\"]\n", &["clients[1]"]);
    rejects("[gateway]\nworkerz = 2\n", &["workerz"]);
    rejects(
        "[nat64]\npool4 = [\"198.51.100.0/28\", \"198.51.100.300\"]\n",
        &["pool4[2]"],
    );
    rejects("[nat64]\npool4 = [\"198.51.100.1:9-1\"]\n", &["pool4[1]", "low-high"]);
    rejects("[nat64]\ntimeouts = { udp = 30 }\n", &["timeouts.udp", "120"]);
    rejects(
        "[nat64]\nstatic_bib = [\"sctp/2001:db8::1#1=192.0.2.1#1\"]\n",
        &["static_bib[1]", "sctp"],
    );
    rejects("[gateway]\nmode = \"clat\"\n", &["[clat] ipv6 is required"]);
    rejects(
        "[gateway]\nmode = \"siit\"\n[nat64]\npool4 = [\"192.0.2.1\"]\n",
        &["[nat64] is set"],
    );
    rejects(
        "[gateway]\nmetrics = \"0.0.0.0:9164\"\n",
        &["[gateway] metrics", "loopback"],
    );
    rejects("[translator]\npool6 = \"64:ff9b::/95\"\n", &["pool6"]);
    rejects(
        "[gateway]\ndevice = \"a-very-long-device-name\"\n",
        &["[gateway] device"],
    );
    rejects("[gateway]\nadapter = \"xdp\"\n", &["[gateway] adapter"]);
    rejects(
        "[gateway]\nadapter = \"af_packet\"\n",
        &["[af_packet] ipv6_interface is required"],
    );
    rejects(
        "[af_packet]\nipv6_interface = \"eth0\"\n",
        &["[gateway] adapter", "[af_packet] is set"],
    );
    rejects("[gateway]\nadapter = \"af_packet\"\n[af_packet]\nipv6_interface = \"a\"\nipv4_interface = \"b\"\nipv4_next_hop = \"2001:db8::1\"\n", &["[af_packet] ipv4_next_hop", "IPv4"]);
}

#[test]
fn af_packet_config() {
    let f = GatewayFile::parse(
        r#"
        [gateway]
        adapter = "af_packet"
        workers = 2
        [af_packet]
        ipv6_interface = "eth0"
        ipv4_interface = "eth1"
        ipv4_next_hop = "198.51.100.254"
        ipv6_next_hop = "02:00:00:00:00:01"
        "#,
    )
    .unwrap();
    let s = build(&f).unwrap().settings;
    assert_eq!(
        s.adapter,
        Adapter::AfPacket {
            ipv6: PacketSide {
                interface: "eth0".into(),
                next_hop: NextHop::Mac([2, 0, 0, 0, 0, 1])
            },
            ipv4: PacketSide {
                interface: "eth1".into(),
                next_hop: NextHop::Address("198.51.100.254".parse().unwrap())
            },
        }
    );
    assert!(s.device.offload);
    let f = GatewayFile::parse("[gateway]\nadapter = \"af_packet\"\nmode = \"clat\"\n[clat]\nipv6 = \"2001:db8::464\"\n[af_packet]\nipv6_interface = \"a\"\nipv4_interface = \"b\"\n").unwrap();
    let e = build(&f).unwrap_err().to_string();
    assert!(e.contains("[gateway] adapter") && e.contains("CLAT"), "{e}");
}
