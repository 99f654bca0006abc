package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gohap/gohap/parser"
)

// The master CLI (-S): HAProxy's master commands, and commands sent to
// a worker's runtime CLI with an "@1" or "@!<pid>" prefix.

// masterHelp lists the master CLI's commands, as HAProxy prints them.
var masterHelp = []string{
	"@!<pid>                                 : send a command to the <pid> process",
	"@<relative pid>                         : send a command to the <relative pid> process",
	"@master                                 : send a command to the master process",
	"operator                                : lower the level of the current CLI session to operator",
	"reload                                  : reload haproxy",
	"show cli level                          : display the level of the current CLI session",
	"show cli sockets                        : dump list of cli sockets",
	"show proc                               : show processes status",
	"show version                            : show version of the current process",
	"user                                    : lower the level of the current CLI session to user",
	"help [<command>]                        : list matching or all commands",
	"prompt                                  : toggle interactive mode with prompt",
	"quit                                    : disconnect",
}

// cliIdle closes a master CLI connection left silent this long.
const cliIdle = 10 * time.Minute

// listenMasterCLI opens a -S socket: "<address>[,<option>...]" where the
// address is a unix path (or unix@path) or [ipv4@|ipv6@]ip:port, and
// "mode <octal>" sets a unix socket's permissions.
func listenMasterCLI(spec string) (net.Listener, error) {
	words := strings.Split(spec, ",")
	addr := words[0]
	var mode os.FileMode
	hasMode := false
	for i := 1; i < len(words); i++ {
		if words[i] == "mode" && i+1 < len(words) {
			i++
			n, err := strconv.ParseUint(words[i], 8, 32)
			if err != nil {
				return nil, fmt.Errorf("Can't create the master's CLI.")
			}
			mode, hasMode = os.FileMode(n), true
		}
	}
	pfx, rest, found := strings.Cut(addr, "@")
	if !found {
		pfx, rest = "", addr
		if strings.HasPrefix(addr, "/") || !strings.Contains(addr, ":") {
			pfx = "unix"
		}
	}
	var ln net.Listener
	var err error
	switch pfx {
	case "fd":
		// An inherited listening socket, as the reg-test harness passes it.
		n, perr := strconv.Atoi(rest)
		if perr != nil || n < 0 {
			err = perr
			break
		}
		f := os.NewFile(uintptr(n), addr)
		ln, err = net.FileListener(f)
		f.Close()
	case "unix":
		os.Remove(rest)
		var ul *net.UnixListener
		ul, err = net.ListenUnix("unix", &net.UnixAddr{Name: rest, Net: "unix"})
		if err == nil && hasMode {
			err = os.Chmod(rest, mode)
		}
		ln = ul
	case "", "ipv4", "ipv6":
		network := map[string]string{"": "tcp", "ipv4": "tcp4", "ipv6": "tcp6"}[pfx]
		ln, err = net.Listen(network, rest)
	default:
		err = fmt.Errorf("unsupported address")
	}
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return nil, fmt.Errorf("Can't create the master's CLI.")
	}
	return ln, nil
}

func (mr *master) serveCLI(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go mr.cliConn(c)
	}
}

// cliConn runs one master CLI connection: one command line, or many in
// prompt mode; a line may hold several commands separated by ';'.
func (mr *master) cliConn(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	prompt := false
	level := "admin"
	for {
		c.SetReadDeadline(time.Now().Add(cliIdle))
		line, err := r.ReadString('\n')
		if err != nil && line == "" {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		for _, cmd := range splitCommands(line) {
			out, quit := mr.cliCommand(strings.TrimSpace(cmd), &prompt, &level)
			io.WriteString(c, out)
			if quit {
				return
			}
		}
		if !prompt {
			return
		}
		io.WriteString(c, "master> ")
	}
}

// cliCommand runs one master CLI command and returns its answer.
func (mr *master) cliCommand(cmd string, prompt *bool, level *string) (string, bool) {
	words := strings.Fields(cmd)
	if len(words) == 0 {
		return "", false
	}
	if strings.HasPrefix(words[0], "@") {
		rest := strings.TrimSpace(strings.TrimPrefix(cmd, words[0]))
		if words[0] == "@master" {
			if rest == "" {
				return "", false
			}
			return mr.cliCommand(rest, prompt, level)
		}
		w := mr.target(words[0])
		if w == nil {
			return fmt.Sprintf("Can't find the target PID matching the prefix '%s'\n", words[0]), false
		}
		if rest == "" {
			return "", false
		}
		return forward(w.cliAddr, rest), false
	}
	switch strings.Join(words, " ") {
	case "quit":
		return "", true
	case "prompt":
		*prompt = !*prompt
		return "", false
	case "show proc":
		return mr.showProc() + "\n", false
	case "show version":
		return parser.HAProxyVersion + "\n\n", false
	case "show cli level":
		return *level + "\n\n", false
	case "show cli sockets":
		// HAProxy's master lists its stats sockets, and has none: the
		// master CLI is not one of them.
		return "\n", false
	case "operator", "user":
		if *level == "admin" || words[0] == "user" {
			*level = words[0]
		}
		return "", false
	case "reload":
		if *level == "user" {
			return "Permission denied\n\n", false
		}
		select {
		case mr.reloadCh <- struct{}{}:
		default:
		}
		return "", false
	}
	var b strings.Builder
	if words[0] != "help" {
		b.WriteString("Unknown command: '" + words[0] + "'\n")
	}
	b.WriteString("The following commands are valid at this level:\n")
	for _, h := range masterHelp {
		b.WriteString("  " + h + "\n")
	}
	b.WriteString("\n")
	return b.String(), false
}

// splitCommands cuts a line at the ';' that no backslash escapes; the
// escapes stay for the worker's CLI to read.
func splitCommands(line string) []string {
	var out []string
	start := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case ';':
			out = append(out, line[start:i])
			start = i + 1
		}
	}
	return append(out, line[start:])
}

// forward sends a command to a worker's CLI and returns its answer.
func forward(addr, cmd string) string {
	c, err := net.DialTimeout("unix", addr, 2*time.Second)
	if err != nil {
		return fmt.Sprintf("Can't connect to the target CLI!\n")
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(c, cmd+"\n")
	b, _ := io.ReadAll(c)
	return string(b)
}
