package crypt

import (
	"os/exec"
	"testing"
)

// Vectors from the SHA-crypt specification and the FreeBSD md5crypt.
func TestCryptVectors(t *testing.T) {
	cases := []struct{ setting, key, want string }{
		{"$5$saltstring", "Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
		{"$5$rounds=10000$saltstringsaltstring", "Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"},
		{"$5$rounds=5000$toolongsaltstring", "This is just a test", "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5"},
		{"$5$rounds=10$roundstoolow", "the minimum number is still observed", "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"},
		{"$6$saltstring", "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{"$6$rounds=10000$saltstringsaltstring", "Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
		{"$6$rounds=10$roundstoolow", "the minimum number is still observed", "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},
		{"$1$saltstri", "Hello world!", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"},
	}
	for _, c := range cases {
		got, err := Crypt(c.key, c.setting)
		if err != nil || got != c.want {
			t.Errorf("Crypt(%q, %q) = %q, %v; want %q", c.key, c.setting, got, err, c.want)
		}
		if !Check(c.key, c.want) || Check(c.key+"x", c.want) {
			t.Errorf("Check(%q, %q) wrong", c.key, c.want)
		}
	}
	if _, err := Crypt("x", "ab01234567890"); err != ErrUnsupported {
		t.Errorf("DES: %v", err)
	}
}

// TestCryptOpenSSL compares with "openssl passwd" when it is installed.
func TestCryptOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	for _, alg := range []string{"-1", "-5", "-6"} {
		for _, key := range []string{"a", "password", "a much longer password than the digest size of sha256 and more"} {
			salt := "abcdefgh"
			out, err := exec.Command("openssl", "passwd", alg, "-salt", salt, key).Output()
			if err != nil {
				t.Fatal(err)
			}
			want := string(out[:len(out)-1])
			if !Check(key, want) {
				got, _ := Crypt(key, want)
				t.Errorf("%s %q: got %q want %q", alg, key, got, want)
			}
		}
	}
}
