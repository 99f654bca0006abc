package parser

import "unicode"

// fingerprint is HAProxy's word fingerprint: counts of transitions between
// character classes (letters, digit, other, begin/end), used to suggest the
// closest known keyword for a misspelt one.
type fingerprint [1024]uint8

func makeFingerprint(w string) *fingerprint {
	var fp fingerprint
	UpdateFingerprint((*[1024]uint8)(&fp), w)
	return &fp
}

// UpdateFingerprint adds word to fp, as HAProxy's
// update_word_fingerprint: each class seen, and each transition.
func UpdateFingerprint(fp *[1024]uint8, word string) {
	from := 28
	for i := 0; i < len(word); i++ {
		c := unicode.ToLower(rune(word[i]))
		var to int
		switch {
		case c >= 'a' && c <= 'z':
			to = int(c-'a') + 1
		case c >= '0' && c <= '9':
			to = 27
		default:
			to = 28
		}
		fp[to] = 1
		fp[32*from+to]++
		from = to
	}
	fp[32*from+28]++
}

// FingerprintDistance is HAProxy's word_fingerprint_distance.
func FingerprintDistance(a, b *[1024]uint8) int {
	d := 0
	for i := range a {
		k := int(a[i]) - int(b[i])
		if k < 0 {
			k = -k
		}
		d += k
	}
	return d
}

func fingerprintDistance(a, b *fingerprint) int {
	return FingerprintDistance((*[1024]uint8)(a), (*[1024]uint8)(b))
}

// bestMatch returns the candidate closest to word, or "" when none is close
// enough, with HAProxy's acceptance rule.
func bestMatch(word string, candidates []string) string {
	wfp := makeFingerprint(word)
	best, bestDist := "", int(^uint(0)>>1)
	for _, c := range candidates {
		d := fingerprintDistance(wfp, makeFingerprint(c))
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" || bestDist > 2*len(word) || bestDist > 2*len(best) {
		return ""
	}
	return best
}
