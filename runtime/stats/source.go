package stats

// Source is what the CLI reads from the running proxy.
type Source interface {
	// Backends returns the backends (and listen sections) in HAProxy's
	// proxy order, with their servers in configuration order.
	Backends() []Backend
	// SetMaint puts a server of a backend, both named as Backends
	// lists them, in forced maintenance ("disable server") or takes it
	// out ("enable server").
	SetMaint(backend, server string, on bool)
	// Resolvers is the "show resolvers [id]" answer for the resolvers
	// sections, every one when id is empty.
	Resolvers(id string) string
	// Tables answers "show table", "clear table" and "set table" (args
	// are the command's words); oper is set at the operator level and
	// above.
	Tables(args []string, oper bool) string
}

// Backend is a backend as "show servers state" and "show backend" list
// it.
type Backend struct {
	// ID is HAProxy's proxy id (uuid); ForcedID is set when the
	// configuration gave it ("id").
	ID       int
	Name     string
	ForcedID bool
	Servers  []ServerState
	// Unknown, when not empty, says why the state of the servers cannot
	// be reported: "show servers state" answers it instead of a dump.
	Unknown string
}

// ServerState is one line of "show servers state", HAProxy 2.6's fields in
// their order (src/proxy.c dump_servers_state).
type ServerState struct {
	ID   int
	Name string
	// Addr is the server's IP address, "-" when it has none.
	Addr string
	// OpState is srv_op_state (0 stopped, 1 starting, 2 running, 3
	// stopping); AdminState srv_admin_state (SRV_ADMF_* flags).
	OpState, AdminState int
	UWeight, IWeight    int
	// SinceChange is the number of seconds since the last state change.
	SinceChange int64
	// CheckStatus (HCHK_STATUS_*), CheckResult (CHK_RES_*), CheckHealth
	// and CheckState (CHK_ST_* flags) describe the health check;
	// AgentState the agent check.
	CheckStatus, CheckResult, CheckHealth, CheckState, AgentState int
	ForcedID                                                      bool
	// FQDN is the host name the address came from, "-" for none.
	FQDN string
	Port int
	// SRVRecord is "-" without a DNS SRV record.
	SRVRecord string
	// UseSSL is srv_use_ssl: 1 with ssl, -1 with no-ssl, 0 without.
	UseSSL    int
	CheckPort int
	// CheckAddr and AgentAddr are "-" when not set.
	CheckAddr, AgentAddr string
	AgentPort            int
}
