package dns

import "fmt"

// HAProxy 2.6 texts, from src/server.c and src/resolvers.c. Log lines are
// given without the ".\n" HAProxy appends when it logs them.
const (
	// Admin causes shown in parentheses by "is going DOWN for maintenance (...)".
	CauseNX         = "DNS NX status"
	CauseTimeout    = "DNS timeout status"
	CauseRefused    = "DNS refused status"
	CauseOther      = "unspecified DNS error"
	CauseNoIP       = "No IP for server " // sic, with the trailing space
	CauseSRVRemoved = "entry removed from SRV record"

	// Updaters named at the end of address change logs.
	UpdaterCache      = "DNS cache"
	UpdaterAdditional = "DNS additional record"
	UpdaterSRV        = "SRV record"

	msgAddrChange    = "%s/%s changed its IP from %s to %s by %s"
	msgFQDNChange    = "%s/%s changed its FQDN from %s to %s by '%s'"
	msgReadyDNS      = "Server %s/%s administratively READY thanks to valid DNS answer"
	msgMaintDown     = "%sServer %s/%s is going DOWN for maintenance (%s)"
	msgMaintWasDown  = "%sServer %s/%s was DOWN and now enters maintenance (%s)"
	msgResolvesAgain = "%sServer %s/%s ('%s') is %s/%s (resolves again)"
	msgResolvesMaint = "%sServer %s/%s ('%s') resolves again but remains in maintenance"

	msgInitDisabling = "could not resolve address '%s', disabling server."
	msgInitFallback  = "could not resolve address '%s', falling back to configured address."
	msgInitNoMethod  = "no method found to resolve address '%s'."
	msgInitFailed    = "could not resolve address '%s'."

	msgResolvConfNoAddr  = "parsing [%s:%d] : nameserver line is missing address."
	msgResolvConfDup     = "Parsing [%s:%d] : generated name for /etc/resolv.conf nameserver '%s' conflicts with another nameserver, it appears to be a duplicate and will be excluded."
	msgResolvConfBadAddr = "parsing [%s:%d] : address '%s' could not be recognized, nameserver will be excluded."

	msgNoResolvers   = "No resolvers found\n"
	msgNoSuchSection = "Can't find that resolvers section\n"
)

func backupPrefix(backup bool) string {
	if backup {
		return "Backup "
	}
	return ""
}

// MaintLog is the start of the line HAProxy logs when a resolver error puts a
// server in maintenance; the backend appends its srv_append_status part
// (". N active and M backup servers left. ..."). wasDown selects the variant
// for a server that was already DOWN.
func MaintLog(backup, wasDown bool, backend, server, cause string) string {
	f := msgMaintDown
	if wasDown {
		f = msgMaintWasDown
	}
	return fmt.Sprintf(f, backupPrefix(backup), backend, server, cause)
}

// ResolvesAgainLog is the line logged when a server leaves resolver
// maintenance: up tells UP from DOWN (health checks), drain DRAIN from READY,
// stillMaint the variant for a server kept in maintenance by another cause.
func ResolvesAgainLog(backup bool, backend, server, hostname string, up, drain, stillMaint bool) string {
	if stillMaint {
		return fmt.Sprintf(msgResolvesMaint, backupPrefix(backup), backend, server, hostname)
	}
	st, ad := "DOWN", "READY"
	if up {
		st = "UP"
	}
	if drain {
		ad = "DRAIN"
	}
	return fmt.Sprintf(msgResolvesAgain, backupPrefix(backup), backend, server, hostname, st, ad)
}
