package parser

// mailersLine checks a line of a mailers section as cfg_parse_mailers
// does. The section itself is refused by run (email alerts are not sent),
// so only the verdict of check depends on it.
func (cp *cfgParser) mailersLine(c *pctx) {
	switch c.args[0] {
	case "mailer":
		if c.arg(2) == "" {
			c.alert("'%s' expects <name> and <addr>[:<port>] as arguments.", c.args[0])
			return
		}
		if i := invalidChar(c.arg(1)); i >= 0 {
			c.alert("character '%c' is not permitted in server name '%s'.", c.arg(1)[i], c.arg(1))
			return
		}
		if msg := checkConnectAddress(c.arg(2), true); msg != "" {
			c.alert("'%s %s' : %s", c.args[0], c.arg(1), msg)
		}
	case "timeout":
		switch {
		case c.arg(1) == "":
			c.alert("'%s' expects 'mail' and <time> as arguments.", c.args[0])
		case c.arg(1) != "mail":
			c.alert("'%s' expects 'mail' and <time> as arguments got '%s'.", c.args[0], c.arg(1))
		case c.arg(2) == "":
			c.alert("'%s %s' expects <time> as argument.", c.args[0], c.arg(1))
		default:
			c.warnTimer(c.arg(2))
			switch _, r := parseTime(c.arg(2)); r {
			case timeOverflow:
				c.tight("timer overflow in argument <%s> to <%s %s>, maximum value is 2147483647 ms (~24.8 days).", c.arg(2), c.args[0], c.arg(1))
			case timeUnderflow:
				c.tight("timer underflow in argument <%s> to <%s %s>, minimum non-null value is 1 ms.", c.arg(2), c.args[0], c.arg(1))
			case timeBadChar:
				c.tight("unexpected character '%c' in argument to <%s %s>.", badTimeChar(c.arg(2)), c.args[0], c.arg(1))
			}
		}
	default:
		c.alert("unknown keyword '%s' in '%s' section", c.args[0], cp.section)
	}
}
