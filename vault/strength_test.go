package vault

import "testing"

func TestCheckPassphrase(t *testing.T) {
	tests := []struct {
		pass       string
		acceptable bool
	}{
		{"", false},
		{"password", false},
		{"P@ssw0rd!", false},
		{"password123", false},
		{"qwertyuiop", false},
		{"aaaaaaaaaaaaaaaa", false},
		{"abcdefghijklmnop", false},
		{"1234567890123", false},
		{"iloveyouiloveyou", false},
		{"short1!A", false},
		{"correct horse battery staple", true},
		{"violet-tugboat-umbrella-quince", true},
		{"mJ7#qPz2!vLw9x", true},
		{"the otter sings at dawn", true},
	}
	for _, tt := range tests {
		s := CheckPassphrase(tt.pass)
		if s.Acceptable != tt.acceptable {
			t.Errorf("CheckPassphrase(%q) = score %d (10^%.1f guesses, %q), acceptable %v; want %v",
				tt.pass, s.Score, s.GuessesLog10, s.Warning, s.Acceptable, tt.acceptable)
		}
		if !s.Acceptable && s.Warning == "" {
			t.Errorf("CheckPassphrase(%q) refuses without a reason", tt.pass)
		}
		if err := RequireStrong(tt.pass); (err == nil) != tt.acceptable {
			t.Errorf("RequireStrong(%q) = %v", tt.pass, err)
		}
	}
}
