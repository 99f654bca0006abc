package stats

// SnapshotSource is a Source that can report the statistics of "show
// stat" and "show info".
type SnapshotSource interface {
	Snapshot() *Snapshot
}

func (ss *session) snapshot() *Snapshot {
	if src, ok := ss.srv.src.(SnapshotSource); ok {
		return src.Snapshot()
	}
	return &Snapshot{}
}

// showInfo is "show info [desc|json|typed|float]*".
func (ss *session) showInfo(args []string) bool {
	format := ""
	for _, a := range args[2:] {
		if a == "typed" || a == "json" {
			format = a
		}
	}
	out := ss.snapshot().Info.Text(format)
	if format == "json" {
		out += "\n"
	}
	ss.out.WriteString(out)
	return false
}

// showStat is "show stat [domain proxy] [<iid|name> <type> <sid>]
// [desc|json|no-maint|typed|up]*".
func (ss *session) showStat(args []string) bool {
	snap := ss.snapshot()
	o := Options{Legends: ss.level >= LevelOperator}
	i := 2
	if arg(args, i) == "domain" {
		switch arg(args, i+1) {
		case "proxy":
			i += 2
		case "resolvers":
			// gohap has no resolvers section to report.
			return false
		default:
			ss.out.WriteString("Invalid statistics domain.\n")
			return false
		}
	}
	if arg(args, i) != "" && arg(args, i+1) != "" && arg(args, i+2) != "" {
		iid := 0
		for _, p := range snap.Proxies {
			if p.Name == args[i] {
				iid = p.ID
				break
			}
		}
		if iid == 0 {
			iid = atoi(args[i])
		}
		if iid == 0 {
			ss.out.WriteString("No such proxy.\n")
			return false
		}
		o.Bound, o.IID, o.TypeMask, o.SID = true, iid, atoi(args[i+1]), atoi(args[i+2])
		i += 3
	}
	format := "csv"
	for ; i < len(args); i++ {
		switch args[i] {
		case "typed", "json":
			format = args[i]
		case "no-maint":
			o.HideMaint = true
		case "up":
			o.HideDown = true
		}
	}
	rows := snap.Rows(o)
	switch format {
	case "typed":
		ss.out.WriteString(Typed(rows))
	case "json":
		ss.out.WriteString(JSON(rows) + "\n")
	default:
		ss.out.WriteString(CSV(rows))
	}
	return false
}

// showSchema is "show schema json".
func (ss *session) showSchema(args []string) bool {
	if arg(args, 2) != "json" {
		ss.out.WriteString("Invalid argument.\n")
		return false
	}
	ss.out.WriteString(JSONSchema() + "\n")
	return false
}
