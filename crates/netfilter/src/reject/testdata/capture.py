#!/usr/bin/python3
"""Records what the kernel's REJECT target sends, and the LOG target's lines.

Run as root inside the client namespace by capture.sh (which builds the namespaces, installs
the rules and cleans up). Each probe is sent as a raw Ethernet frame from the client; replies
from the router are captured on the same interface. Writes one `.case` file per probe.
"""
import os, sys, time
from scapy.all import (Ether, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6DestUnreach,
                       IPv6ExtHdrFragment, Raw, AsyncSniffer, sendp, conf, raw, IPOption_RR)

conf.verb = 0
out_dir, iface, rmac = sys.argv[1], sys.argv[2], sys.argv[3]
amac = open(f"/sys/class/net/{iface}/address").read().strip()

A4, R4, C4 = "10.77.1.1", "10.77.1.2", "10.77.2.1"
A6, R6, C6 = "fd77:1::1", "fd77:1::2", "fd77:2::1"
PAD = bytes(range(256)) * 8


def fix(pkt):
    """Checksums and lengths filled in."""
    return IP(raw(pkt)) if pkt.haslayer(IP) else IPv6(raw(pkt))


def probe(name, kind, hook, pkt, note, wait=0.4):
    ip = raw(pkt)
    sn = AsyncSniffer(iface=iface, filter=f"ether src {rmac} and (dst host {A4} or dst host {A6})",
                      store=True)
    sn.start()
    time.sleep(0.15)
    sendp(Ether(src=amac, dst=rmac, type=0x86dd if ip[0] >> 4 == 6 else 0x0800) / Raw(ip), iface=iface)
    time.sleep(wait)
    got = sn.stop()
    replies = [raw(p.payload) for p in got]
    with open(os.path.join(out_dir, name + ".case"), "w") as f:
        f.write(f"# {note}\n")
        f.write(f"kind {kind}\nhook {hook}\n")
        f.write(f"offending {ip.hex()}\n")
        if not replies:
            f.write("reply none\n")
        for r in replies:
            f.write(f"reply {r.hex()}\n")
    print(name, len(replies), "replies")


def udp4(dport, dst=R4, tos=0, payload=b"hello", **kw):
    return fix(IP(src=A4, dst=dst, tos=tos, ttl=61, id=0x1234, **kw) / UDP(sport=40000, dport=dport) / payload)


def udp6(dport, dst=R6, tc=0, fl=0, payload=b"hello"):
    return fix(IPv6(src=A6, dst=dst, tc=tc, fl=fl, hlim=61) / UDP(sport=40000, dport=dport) / payload)


phase = sys.argv[4]
if phase == "reject":
    # --- IPv4, INPUT ---
    probe("v4_rst_syn", "tcp-reset", "input",
          fix(IP(src=A4, dst=R4, tos=0x28, ttl=61, id=7) / TCP(sport=40001, dport=81, seq=1000, flags="S",
              window=64240, options=[("MSS", 1460), ("SAckOK", b""), ("NOP", None), ("WScale", 7)])),
          "SYN to a tcp-reset port: RST|ACK, ack = seq + 1")
    probe("v4_rst_ack_data", "tcp-reset", "input",
          fix(IP(src=A4, dst=R4, ttl=61, id=8) / TCP(sport=40002, dport=81, seq=5000, ack=777777, flags="PA") / b"0123456789"),
          "ACK with data: RST, seq = the segment's ack")
    probe("v4_rst_syn_fin_data", "tcp-reset", "input",
          fix(IP(src=A4, dst=R4, ttl=61, id=9) / TCP(sport=40003, dport=81, seq=0xfffffffe, flags="SF") / b"abcde"),
          "SYN+FIN with 5 bytes: ack = seq + 1 + 1 + 5 (wrapping)")
    probe("v4_rst_to_rst", "tcp-reset", "input",
          fix(IP(src=A4, dst=R4, ttl=61) / TCP(sport=40004, dport=81, seq=1, flags="R")),
          "no RST for a RST")
    bad = fix(IP(src=A4, dst=R4, ttl=61) / TCP(sport=40005, dport=81, seq=1, flags="S"))
    bad[TCP].chksum ^= 0x0101
    probe("v4_rst_bad_checksum", "tcp-reset", "input", IP(raw(bad)), "bad TCP checksum: nothing")
    codes = [("icmp-net-unreachable", 0), ("icmp-host-unreachable", 1), ("icmp-proto-unreachable", 2),
             ("icmp-port-unreachable", 3), ("icmp-net-prohibited", 9), ("icmp-host-prohibited", 10),
             ("icmp-admin-prohibited", 13)]
    for i, (kind, code) in enumerate(codes):
        probe(f"v4_{kind}", kind, "input", udp4(2000 + i, tos=0xb9 if i % 2 else 0),
              f"UDP to a {kind} port (type 3 code {code})")
    probe("v4_port_unreach_long", "icmp-port-unreachable", "input", udp4(2003, payload=PAD[:900]),
          "a 928-byte datagram: the quote stops at 576 bytes in all")
    probe("v4_port_unreach_udp_zero_csum", "icmp-port-unreachable", "input",
          IP(raw(IP(src=A4, dst=R4, ttl=61) / UDP(sport=40000, dport=2003, chksum=0) / b"x")),
          "UDP with checksum 0 is not verified: a reply")
    badu = udp4(2003)
    badu[UDP].chksum ^= 0x00ff
    probe("v4_port_unreach_udp_bad_csum", "icmp-port-unreachable", "input", IP(raw(badu)),
          "UDP with a wrong checksum: nothing")
    probe("v4_host_prohib_echo", "icmp-host-prohibited", "input",
          fix(IP(src=A4, dst=R4, ttl=61) / ICMP(type=8, id=0x4242, seq=3) / b"pingdata"),
          "an echo request rejected with icmp-host-prohibited")
    probe("v4_port_unreach_to_icmp_error", "icmp-port-unreachable", "input",
          fix(IP(src=A4, dst=R4, ttl=61) / ICMP(type=3, code=1) / raw(udp4(9, dst=A4))[:28]),
          "an ICMP error is never answered with one")
    probe("v4_proto_unreach_bad_sum", "icmp-proto-unreachable", "input",
          IP(raw(IP(src=A4, dst=R4, ttl=61, proto=253) / b"\x01\x02\x03\x04")),
          "unknown protocol: its payload must sum to 0xffff like an ICMP message, or nothing")
    probe("v4_proto_unreach_good_sum", "icmp-proto-unreachable", "input",
          IP(raw(IP(src=A4, dst=R4, ttl=61, proto=253) / b"\x01\x02\xfe\xfd")),
          "unknown protocol whose payload sums to 0xffff: a reply")
    probe("v4_port_unreach_ip_options", "icmp-port-unreachable", "input",
          fix(IP(src=A4, dst=R4, ttl=61, options=[IPOption_RR(routers=["0.0.0.0"] * 2)]) / UDP(sport=40000, dport=2003) / b"opt"),
          "record-route option: the kernel echoes the options in the reply")
    # --- IPv4, FORWARD ---
    probe("v4_fwd_port_unreach", "icmp-port-unreachable", "forward", udp4(2100, dst=C4, tos=0x10),
          "forwarded UDP: the source is the router's address towards the sender")
    probe("v4_fwd_rst", "tcp-reset", "forward",
          fix(IP(src=A4, dst=C4, ttl=61) / TCP(sport=40010, dport=81, seq=42, flags="S")),
          "forwarded SYN: the RST comes from the server's address")
    whole = raw(IP(src=A4, dst=C4) / UDP(sport=40000, dport=2100) / PAD[:72])
    probe("v4_fwd_first_fragment", "icmp-port-unreachable", "forward",
          fix(IP(src=A4, dst=C4, ttl=61, id=77, flags="MF", proto=17) / whole[20:52]),
          "first fragment: the checksum over the fragment alone fails, nothing")
    probe("v4_fwd_later_fragment", "icmp-port-unreachable", "forward",
          fix(IP(src=A4, dst=C4, ttl=61, id=77, frag=4, proto=17) / PAD[:48]),
          "non-first fragment: nothing")
    # --- IPv6, INPUT ---
    probe("v6_rst_syn", "tcp-reset", "input",
          fix(IPv6(src=A6, dst=R6, tc=0x28, fl=0x12345, hlim=61) / TCP(sport=40001, dport=81, seq=1000, flags="S",
              options=[("MSS", 1440)])),
          "IPv6 SYN: RST|ACK, tclass and flow label 0")
    probe("v6_rst_ack_data", "tcp-reset", "input",
          fix(IPv6(src=A6, dst=R6, hlim=61) / TCP(sport=40002, dport=81, seq=5000, ack=99, flags="PA") / b"0123456789"),
          "IPv6 ACK with data: RST, seq = the segment's ack")
    codes6 = [("icmp6-no-route", 0), ("icmp6-adm-prohibited", 1), ("icmp6-addr-unreachable", 3),
              ("icmp6-port-unreachable", 4), ("icmp6-policy-fail", 5), ("icmp6-reject-route", 6)]
    for i, (kind, code) in enumerate(codes6):
        probe(f"v6_{kind}", kind, "input", udp6(2000 + i, tc=0xb8 if i % 2 else 0, fl=0xabcde if i % 2 else 0),
              f"UDP to a {kind} port (type 1 code {code})")
    probe("v6_port_unreach_long", "icmp6-port-unreachable", "input", udp6(2003, payload=PAD[:1400]),
          "a 1448-byte datagram: the reply stops at 1280 bytes")
    probe("v6_port_unreach_to_icmp_error", "icmp6-port-unreachable", "input",
          fix(IPv6(src=A6, dst=R6, hlim=61) / ICMPv6DestUnreach(code=4) / raw(udp6(9, dst=A6))[:48]),
          "an ICMPv6 error is never answered")
    probe("v6_adm_prohib_echo", "icmp6-adm-prohibited", "input",
          fix(IPv6(src=A6, dst=R6, hlim=61) / ICMPv6EchoRequest(id=0x4242, seq=3, data=b"pingdata")),
          "an echo request rejected with icmp6-adm-prohibited")
    badu6 = udp6(2003)
    badu6[UDP].chksum ^= 0x00ff
    probe("v6_port_unreach_udp_bad_csum", "icmp6-port-unreachable", "input", IPv6(raw(badu6)),
          "UDP with a wrong checksum: nothing")
    # --- IPv6, FORWARD ---
    probe("v6_fwd_port_unreach", "icmp6-port-unreachable", "forward", udp6(2100, dst=C6),
          "forwarded UDP: the source is the incoming interface's address")
    probe("v6_fwd_later_fragment", "icmp6-port-unreachable", "forward",
          fix(IPv6(src=A6, dst=C6, hlim=61) / IPv6ExtHdrFragment(nh=17, offset=3, m=0, id=5) / PAD[:40]),
          "non-first fragment: nothing")
    probe("v6_fwd_rst", "tcp-reset", "forward",
          fix(IPv6(src=A6, dst=C6, hlim=61) / TCP(sport=40010, dport=81, seq=42, flags="S")),
          "forwarded SYN: the RST comes from the server's address")
elif phase == "ratelimit":
    for i in range(10):
        sendp(Ether(src=amac, dst=rmac, type=0x0800) / Raw(raw(udp4(2003))), iface=iface)
elif phase == "log":
    log = open(os.path.join(out_dir, "..", "log-packets.txt"), "w")
    log.write(f"# frames sent for the LOG lines in log-lines.txt: Ethernet header, then the IP packet\n")

    def send(pkt):
        b = raw(pkt)
        log.write((Ether(src=amac, dst=rmac, type=0x86dd if b[0] >> 4 == 6 else 0x0800) / Raw(b)).build().hex() + "\n")
        sendp(Ether(src=amac, dst=rmac, type=0x86dd if b[0] >> 4 == 6 else 0x0800) / Raw(b), iface=iface)
        time.sleep(0.05)
    send(fix(IP(src=A4, dst=R4, ttl=61, id=100) / UDP(sport=40000, dport=3001) / b"x"))
    syn = IP(src=A4, dst=R4, ttl=61, id=101, options=[IPOption_RR(routers=["0.0.0.0"])]) / TCP(
        sport=40001, dport=3002, seq=1000, ack=5, flags="S", options=[("MSS", 1460), ("NOP", None), ("WScale", 7)])
    send(fix(syn))
    send(fix(IP(src=A4, dst=R4, ttl=61, id=102, options=[IPOption_RR(routers=["0.0.0.0"])]) / TCP(
        sport=40001, dport=3003, seq=1000, flags="S", options=[("MSS", 1460)])))
    send(fix(IP(src=A4, dst=R4, ttl=61, id=103) / ICMP(type=3, code=3) / raw(udp4(53, dst=A4, payload=b"abcd"))[:28]))
    send(fix(IP(src=A4, dst=C4, ttl=61, id=104, flags="MF", proto=17) / PAD[:16]))
    send(fix(IP(src=A4, dst=C4, ttl=61, id=104, frag=2, proto=17) / PAD[:16]))
    send(fix(IPv6(src=A6, dst=R6, tc=0x20, fl=7, hlim=61) / TCP(sport=40001, dport=3009, seq=1, flags="S",
              options=[("MSS", 1440)])))
    send(fix(IPv6(src=A6, dst=R6, hlim=61) / IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=0xcafe) / UDP(sport=1, dport=3010) / PAD[:16]))
    send(fix(IPv6(src=A6, dst=R6, hlim=61) / TCP(sport=40001, dport=3011, seq=1, flags="S")))
