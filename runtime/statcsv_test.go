package runtime_test

import (
	"encoding/csv"
	"strings"
)

// statRows reads the CSV of "show stat" into one map per row, keyed by
// column name; nil when it is not CSV.
func statRows(out string) []map[string]string {
	rows, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# "))).ReadAll()
	if len(rows) == 0 {
		return nil
	}
	cols := rows[0]
	var all []map[string]string
	for _, f := range rows[1:] {
		if len(f) != len(cols) {
			continue
		}
		m := make(map[string]string, len(cols))
		for i, c := range cols {
			m[c] = f[i]
		}
		all = append(all, m)
	}
	return all
}

// statRow is the row of proxy px and service sv ("FRONTEND", "BACKEND"
// or a server) in "show stat", nil when there is none.
func statRow(out, px, sv string) map[string]string {
	for _, r := range statRows(out) {
		if r["pxname"] == px && r["svname"] == sv {
			return r
		}
	}
	return nil
}
