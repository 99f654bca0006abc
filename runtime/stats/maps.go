package stats

import (
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gohap/gohap/acl"
)

// PatternSource gives the CLI the pattern references (maps and ACL
// files) of the running configuration.
type PatternSource interface {
	// Maps returns the registry the configuration loaded its maps and
	// ACL patterns into; nil when there is none.
	Maps() *acl.Maps
}

// patVersions is what HAProxy keeps in each pat_ref for the CLI and the
// registry does not: the current and next version numbers ("prepare
// map", "commit map"), the entries added to other versions than the
// current one, and the count of indexed entries ("entry_cnt").
type patVersions struct {
	mu   sync.Mutex
	refs map[*acl.PatRef]*refVersions
}

type refVersions struct {
	curr, next uint32
	// staged holds the entries of versions other than curr, in order.
	staged map[uint32][]acl.RefEntry
	// count is HAProxy's entry_cnt: every entry counts once per
	// expression indexing it when added, and once down when removed (and
	// when it fails to parse); HAProxy prints it unsigned.
	count int64
}

// versions returns r's versions, counting its entries on first use.
// pv.mu must be held.
func (pv *patVersions) versions(r *acl.PatRef) *refVersions {
	if pv.refs == nil {
		pv.refs = map[*acl.PatRef]*refVersions{}
	}
	v := pv.refs[r]
	if v == nil {
		v = &refVersions{staged: map[uint32][]acl.RefEntry{}, count: int64(len(r.Entries()) * r.Indexes())}
		pv.refs[r] = v
	}
	return v
}

// patKind is "map" or "acl", the second word of the commands.
type patKind struct {
	isMap bool
	// name is "map" or "ACL", as the messages spell it.
	name string
}

func kindOf(args []string) patKind {
	if arg(args, 1) == "map" {
		return patKind{true, "map"}
	}
	return patKind{false, "ACL"}
}

func (k patKind) unknown() string {
	return "Unknown " + k.name + " identifier. Please use #<id> or <file>.\n"
}

// mapCommands are the map and ACL commands of src/map.c, and the
// variable commands of src/vars.c, with HAProxy 2.6's help lines.
func mapCommands() []command {
	return []command{
		{words: []string{"add", "acl"}, usage: "add acl [@<ver>] <acl> <pattern>        : add an acl entry", run: (*session).addMap},
		{words: []string{"clear", "acl"}, usage: "clear acl [@<ver>] <acl>                : clear the contents of this acl", run: (*session).clearMap},
		{words: []string{"commit", "acl"}, usage: "commit acl @<ver> <acl>                 : commit the ACL at this version", run: (*session).commitMap},
		{words: []string{"del", "acl"}, usage: "del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>", run: (*session).delMap},
		{words: []string{"get", "acl"}, usage: "get acl <acl> <value>                   : report the patterns matching a sample for an ACL", run: (*session).getMap},
		{words: []string{"prepare", "acl"}, usage: "prepare acl <acl>                       : prepare a new version for atomic ACL replacement", run: (*session).prepareMap},
		{words: []string{"show", "acl"}, usage: "show acl [@<ver>] <acl>]                : report available acls or dump an acl's contents", run: (*session).showMap},
		{words: []string{"add", "map"}, usage: "add map [@<ver>] <map> <key> <val>      : add a map entry (payload supported instead of key/val)", run: (*session).addMap},
		{words: []string{"clear", "map"}, usage: "clear map [@<ver>] <map>                : clear the contents of this map", run: (*session).clearMap},
		{words: []string{"commit", "map"}, usage: "commit map @<ver> <map>                 : commit the map at this version", run: (*session).commitMap},
		{words: []string{"del", "map"}, usage: "del map <map> [<key>|#<ref>]            : delete map entries matching <key>", run: (*session).delMap},
		{words: []string{"get", "map"}, usage: "get map <acl> <value>                   : report the keys and values matching a sample for a map", run: (*session).getMap},
		{words: []string{"prepare", "map"}, usage: "prepare map <acl>                       : prepare a new version for atomic map replacement", run: (*session).prepareMap},
		{words: []string{"set", "map"}, usage: "set map <map> [<key>|#<ref>] <value>    : modify a map entry", run: (*session).setMap},
		{words: []string{"show", "map"}, usage: "show map [@ver] [map]                   : report available maps or dump a map's contents", run: (*session).showMap},
	}
}

// maps returns the registry, nil without one.
func (ss *session) maps() *acl.Maps {
	if ps, ok := ss.srv.src.(PatternSource); ok {
		return ps.Maps()
	}
	return nil
}

// lookupRef is pat_ref_lookup_ref: "#<id>" (read as atoi reads) or a file
// name. With check set, the reference must be used as the command's kind
// (a map, or an ACL).
func (ss *session) lookupRef(name string, k patKind, check bool) *acl.PatRef {
	ms := ss.maps()
	if ms == nil {
		return nil
	}
	var r *acl.PatRef
	if id, ok := strings.CutPrefix(name, "#"); ok {
		n := atoi(id)
		for _, x := range ms.Refs() {
			if x.ID == n {
				r = x
				break
			}
		}
	} else if x := ms.Lookup(name); x != nil && ms.IsFile(x) {
		r = x
	}
	if r == nil || !check {
		return r
	}
	asMap, asACL := r.Uses()
	if k.isMap && !asMap || !k.isMap && !asACL {
		return nil
	}
	return r
}

// str2uic is HAProxy's str2uic: atoi, taken as unsigned.
func str2uic(s string) uint32 { return uint32(atoi(s)) }

// appendEntry writes one entry as "show map" does: its id, key, and the
// value when the entry has one.
func appendEntry(b []byte, r *acl.PatRef, e acl.RefEntry) []byte {
	b = append(b, "0x"...)
	b = strconv.AppendUint(b, e.ID, 16)
	b = append(b, ' ')
	b = append(b, e.Key...)
	if r.IsMap || e.Value != "" {
		b = append(b, ' ')
		b = append(b, e.Value...)
	}
	return append(b, '\n')
}

// showMap is "show map [@<ver>] [<map>]" and "show acl": without a name
// the list of references, else one version's entries.
func (ss *session) showMap(args []string) bool {
	k := kindOf(args)
	if arg(args, 2) == "" {
		ss.listRefs(k)
		return false
	}
	gen, hasGen := "", false
	if strings.HasPrefix(args[2], "@") {
		gen, hasGen = args[2][1:], true
		args = args[1:]
	}
	r := ss.lookupRef(arg(args, 2), k, true)
	if r == nil {
		ss.out.WriteString(k.unknown())
		return false
	}
	pv := &ss.srv.pats
	pv.mu.Lock()
	defer pv.mu.Unlock()
	v := pv.versions(r)
	ents := r.Entries()
	if hasGen && str2uic(gen) != v.curr {
		ents = v.staged[str2uic(gen)]
	}
	var b []byte
	for _, e := range ents {
		b = appendEntry(b, r, e)
	}
	ss.out.Write(b)
	return false
}

// listRefs is the list "show map" and "show acl" give without a name:
// the references used as maps (or ACLs), by id.
func (ss *session) listRefs(k patKind) {
	ss.out.WriteString("# id (file) description\n")
	ms := ss.maps()
	if ms == nil {
		return
	}
	refs := ms.Refs()
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].ID < refs[j].ID })
	pv := &ss.srv.pats
	pv.mu.Lock()
	defer pv.mu.Unlock()
	for _, r := range refs {
		asMap, asACL := r.Uses()
		if k.isMap && !asMap || !k.isMap && !asACL {
			continue
		}
		file, desc := "", r.Name
		if ms.IsFile(r) {
			file = r.Name
			use := "acl"
			if r.IsMap {
				use = "map"
			}
			desc = "pattern loaded from file '" + r.Name + "' used by " + use
		}
		v := pv.versions(r)
		ss.out.WriteString(strconv.Itoa(r.ID) + " (" + file + ") " + desc + ". curr_ver=" +
			strconv.FormatUint(uint64(v.curr), 10) + " next_ver=" + strconv.FormatUint(uint64(v.next), 10) +
			" entry_cnt=" + strconv.FormatUint(uint64(v.count), 10) + "\n")
	}
}

// getMap is "get map <map> <value>" and "get acl": the answer of each
// expression of the reference to the sample.
func (ss *session) getMap(args []string) bool {
	k := kindOf(args)
	if arg(args, 2) == "" || arg(args, 3) == "" {
		ss.out.WriteString("Missing " + k.name + " identifier and/or key.\n")
		return false
	}
	r := ss.lookupRef(args[2], k, false)
	if r == nil {
		ss.out.WriteString(k.unknown())
		return false
	}
	var b strings.Builder
	for _, l := range r.Lookups(args[3]) {
		b.WriteString("type=" + l.Method)
		if l.ICase {
			b.WriteString(", case=insensitive")
		} else {
			b.WriteString(", case=sensitive")
		}
		word := ", match="
		if k.isMap {
			word = ", found="
		}
		if !l.Found {
			b.WriteString(word + "no\n")
			continue
		}
		b.WriteString(word + "yes")
		if l.Tree {
			b.WriteString(", idx=tree")
		} else {
			b.WriteString(", idx=list")
		}
		switch {
		case !l.HasKey && k.isMap:
			b.WriteString(", key=unknown")
		case !l.HasKey:
			b.WriteString(", pattern=unknown")
		case k.isMap:
			b.WriteString(", key=\"" + l.Key + "\"")
		default:
			b.WriteString(", pattern=\"" + l.Key + "\"")
		}
		if k.isMap {
			if l.Sample && l.HasKey {
				b.WriteString(", value=\"" + l.Value + "\", type=\"" + l.Type + "\"")
			} else {
				b.WriteString(", value=none")
			}
		}
		b.WriteString("\n")
	}
	ss.out.WriteString(b.String())
	return false
}

// prepareMap is "prepare map <map>": a new version to fill and commit.
func (ss *session) prepareMap(args []string) bool {
	k := kindOf(args)
	r := ss.lookupRef(arg(args, 2), k, true)
	if r == nil {
		ss.out.WriteString(k.unknown())
		return false
	}
	pv := &ss.srv.pats
	pv.mu.Lock()
	defer pv.mu.Unlock()
	v := pv.versions(r)
	v.next++
	ss.out.WriteString("New version created: " + strconv.FormatUint(uint64(v.next), 10) + "\n")
	return false
}

// addMap is "add map [@<ver>] <map> <key> <value>" (or a payload of
// "<key> <value>" lines) and "add acl [@<ver>] <acl> <pattern>".
func (ss *session) addMap(args []string) bool {
	k := kindOf(args)
	payload, hasPayload := ss.payload, ss.hasPayload
	gen, hasGen := "", false
	if strings.HasPrefix(arg(args, 2), "@") {
		gen, hasGen = args[2][1:], true
		args = args[1:]
	}
	if k.isMap {
		if !hasPayload && (arg(args, 2) == "" || arg(args, 3) == "" || arg(args, 4) == "") || hasPayload && arg(args, 2) == "" {
			ss.out.WriteString("'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n")
			return false
		}
	} else if arg(args, 2) == "" || arg(args, 3) == "" {
		ss.out.WriteString("'add acl' expects two parameters: ACL identifier and pattern.\n")
		return false
	}
	r := ss.lookupRef(args[2], k, false)
	if r == nil {
		ss.out.WriteString(k.unknown())
		return false
	}
	pv := &ss.srv.pats
	pv.mu.Lock()
	defer pv.mu.Unlock()
	v := pv.versions(r)
	to := v.curr
	if hasGen {
		to = str2uic(gen)
		if int32(to-v.next) > 0 {
			ss.out.WriteString("Version number in the future, please use 'prepare " + strings.ToLower(k.name) + "' before.\n")
			return false
		}
	}
	if !k.isMap && r.IsMap {
		ss.out.WriteString("This ACL is shared with a map containing samples. You must use the command 'add map' to add values.\n")
		return false
	}
	for {
		key, value := arg(args, 3), arg(args, 4)
		if hasPayload {
			if payload == "" {
				break
			}
			n := strings.IndexAny(payload, " \t")
			if n < 0 {
				if k.isMap {
					ss.out.WriteString("Missing value for key '" + payload + "'.\n")
					return false
				}
				n = len(payload)
			}
			key, payload = payload[:n], payload[min(n+1, len(payload)):]
			payload = strings.TrimLeft(payload, " \t")
			n = strings.IndexByte(payload, '\n')
			if n < 0 {
				n = len(payload)
			}
			value, payload = payload[:n], payload[min(n+1, len(payload)):]
		}
		if !k.isMap {
			value = ""
		}
		if err := v.add(r, to, key, value, k.isMap); err != nil {
			ss.out.WriteString(err.Error() + ".\n")
			return false
		}
		if !hasPayload || payload == "" {
			break
		}
	}
	return false
}

// add adds one entry to version gen of r: the current one is what the
// traffic sees, another waits for "commit".
func (v *refVersions) add(r *acl.PatRef, gen uint32, key, value string, withValue bool) error {
	if err := r.CheckEntry(key, value, withValue); err != nil {
		// HAProxy appended the entry, then removed it: one down.
		v.count--
		return err
	}
	if gen == v.curr {
		if err := r.Add(key, value); err != nil {
			return err
		}
	} else {
		v.staged[gen] = append(v.staged[gen], r.NewEntry(key, value))
	}
	v.count += int64(r.Indexes())
	return nil
}

// setMap is "set map <map> <key>|#<ref> <value>".
func (ss *session) setMap(args []string) bool {
	if arg(args, 2) == "" || arg(args, 3) == "" || arg(args, 4) == "" {
		ss.out.WriteString("'set map' expects three parameters: map identifier, key and value.\n")
		return false
	}
	k := kindOf(args)
	r := ss.lookupRef(args[2], k, false)
	if r == nil {
		ss.out.WriteString(k.unknown())
		return false
	}
	pv := &ss.srv.pats
	pv.mu.Lock()
	defer pv.mu.Unlock()
	v := pv.versions(r)
	key, value := args[3], args[4]
	id, isID, ok := acl.ParseEntryID(key)
	if isID && !ok {
		ss.out.WriteString("Malformed identifier. Please use #<id> or <file>.\n")
		return false
	}
	match := func(e *acl.RefEntry) bool { return e.Key == key }
	if isID {
		match = func(e *acl.RefEntry) bool { return e.ID == id }
	}
	valid := r.CheckValue(value)
	found := v.stagedEach(match, func(e *acl.RefEntry) { e.Value = value }, valid == nil)
	for _, e := range r.Entries() {
		found = found || match(&e)
	}
	switch {
	case !found && isID:
		ss.out.WriteString("key or pattern not found.\n")
	case !found:
		ss.out.WriteString("entry not found.\n")
	case valid != nil && isID:
		ss.out.WriteString(valid.Error() + ".\n")
	case valid != nil:
		// By key, a value that does not parse leaves the entries as they
		// are and is not reported (pat_ref_set).
	case isID:
		r.SetID(id, value)
	default:
		r.Set(key, value)
	}
	return false
}

// stagedEach runs f, when apply is set, on the staged entries that match;
// it reports whether one did.
func (v *refVersions) stagedEach(match func(*acl.RefEntry) bool, f func(*acl.RefEntry), apply bool) bool {
	found := false
	for _, ents := range v.staged {
		for i := range ents {
			if match(&ents[i]) {
				found = true
				if apply {
					f(&ents[i])
				}
			}
		}
	}
	return found
}

// delMap is "del map <map> <key>|#<ref>" and "del acl".
func (ss *session) delMap(args []string) bool {
	k := kindOf(args)
	if arg(args, 2) == "" || arg(args, 3) == "" {
		ss.out.WriteString("This command expects two parameters: " + k.name + " identifier and key.\n")
		return false
	}
	r := ss.lookupRef(args[2], k, true)
	if r == nil {
		// HAProxy names a map here for both commands.
		ss.out.WriteString(patKind{true, "map"}.unknown())
		return false
	}
	pv := &ss.srv.pats
	pv.mu.Lock()
	defer pv.mu.Unlock()
	v := pv.versions(r)
	key := args[3]
	id, isID, ok := acl.ParseEntryID(key)
	if isID && !ok {
		ss.out.WriteString("Malformed identifier. Please use #<id> or <file>.\n")
		return false
	}
	match := func(e *acl.RefEntry) bool { return e.Key == key }
	if isID {
		match = func(e *acl.RefEntry) bool { return e.ID == id }
	}
	n := 0
	for _, e := range r.Entries() {
		if match(&e) {
			n++
		}
	}
	if n > 0 {
		if isID {
			r.DelID(id)
		} else {
			r.Del(key)
		}
	}
	n += v.purge(match)
	if n == 0 {
		ss.out.WriteString("Key not found.\n")
		return false
	}
	v.count -= int64(n)
	return false
}

// purge removes the staged entries that match and returns how many.
func (v *refVersions) purge(match func(*acl.RefEntry) bool) int {
	n := 0
	for g, ents := range v.staged {
		kept := ents[:0]
		for _, e := range ents {
			if match(&e) {
				n++
			} else {
				kept = append(kept, e)
			}
		}
		v.staged[g] = kept
	}
	return n
}

// clearMap is "clear map [@<ver>] <map>": the entries of one version go.
func (ss *session) clearMap(args []string) bool {
	k := kindOf(args)
	gen, hasGen := "", false
	if strings.HasPrefix(arg(args, 2), "@") {
		gen, hasGen = args[2][1:], true
		args = args[1:]
	}
	if arg(args, 2) == "" {
		ss.out.WriteString("Missing " + k.name + " identifier.\n")
		return false
	}
	r := ss.lookupRef(args[2], k, true)
	if r == nil {
		ss.out.WriteString(k.unknown())
		return false
	}
	pv := &ss.srv.pats
	pv.mu.Lock()
	defer pv.mu.Unlock()
	v := pv.versions(r)
	g := v.curr
	if hasGen {
		g = str2uic(gen)
	}
	if g == v.curr {
		v.count -= int64(len(r.Entries()))
		r.Clear()
	} else {
		v.count -= int64(len(v.staged[g]))
		delete(v.staged, g)
	}
	return false
}

// commitMap is "commit map @<ver> <map>": that version becomes the one
// the traffic sees, and the older ones go.
func (ss *session) commitMap(args []string) bool {
	k := kindOf(args)
	if !strings.HasPrefix(arg(args, 2), "@") {
		ss.out.WriteString("Missing version number.\n")
		return false
	}
	gen := str2uic(args[2][1:])
	if arg(args, 3) == "" {
		ss.out.WriteString("Missing " + k.name + " identifier.\n")
		return false
	}
	r := ss.lookupRef(args[3], k, true)
	if r == nil {
		ss.out.WriteString(k.unknown())
		return false
	}
	pv := &ss.srv.pats
	pv.mu.Lock()
	defer pv.mu.Unlock()
	v := pv.versions(r)
	if gen-(v.curr+1) >= v.next-v.curr {
		ss.out.WriteString("Version number out of range.\n")
		return false
	}
	prev := len(r.Entries())
	if err := r.Replace(v.staged[gen]); err != nil {
		// The entries were checked when added.
		ss.out.WriteString(err.Error() + ".\n")
		return false
	}
	v.count -= int64(prev)
	v.curr = gen
	delete(v.staged, gen)
	// The versions older than this one go.
	for g, st := range v.staged {
		if int32(g-gen) < 0 {
			v.count -= int64(len(st))
			delete(v.staged, g)
		}
	}
	return false
}
