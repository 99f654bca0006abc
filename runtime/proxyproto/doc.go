// Package proxyproto reads and writes the PROXY protocol, versions 1 and 2,
// byte for byte as HAProxy 2.6 does (src/connection.c: conn_recv_proxy,
// make_proxy_line_v1, make_proxy_line_v2; doc/proxy-protocol.txt).
//
// Parse serves binds with "accept-proxy" (configuration.txt section 5.1).
// AppendV1 and AppendV2 serve servers with "send-proxy", "send-proxy-v2",
// "check-send-proxy" and "proxy-v2-options" (section 5.2).
//
// HAProxy's parser has quirks that this package keeps on purpose, since
// HAProxy is the reference: IPv4 octets in a v1 TCP4 line are read by
// inetaddr_host_lim_ret (short or over-long octets are accepted), ports are
// unsigned integers truncated to 16 bits, a v1 TCP6 line may carry extra
// space-separated words after the destination port, and a v2 PROXY header
// whose family is neither TCP over IPv4 nor TCP over IPv6 has its TLV walk
// started at the first byte of the header.
package proxyproto
