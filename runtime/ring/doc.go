// Package ring holds HAProxy's event rings ("ring" sections,
// configuration.txt 3.9; src/ring.c, src/sink.c): a fixed-size buffer of
// messages that writers never wait on, readers that dump it ("show
// events") and forwarders that send it to TCP syslog servers.
package ring
