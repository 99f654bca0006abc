package main

import (
	"net"
	"os"
)

// sdNotify sends a message to systemd's $NOTIFY_SOCKET, as sd_notify()
// does (a leading '@' names an abstract socket, for Go as for systemd);
// it does nothing when the variable is unset.
func sdNotify(msg string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return
	}
	defer c.Close()
	c.Write([]byte(msg))
}
