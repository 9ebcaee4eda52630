package vault

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Strength is an estimate of how hard a passphrase is to guess.
type Strength struct {
	Score        int      `json:"score"`        // 0 (useless) … 4 (strong)
	GuessesLog10 float64  `json:"guessesLog10"` // estimated guesses, as log10
	Warning      string   `json:"warning"`      // why the score is low, or ""
	Suggestions  []string `json:"suggestions"`
	Acceptable   bool     `json:"acceptable"` // Score >= MinScore
}

// MinScore is the lowest score a vault passphrase may have. Score 3 means
// an estimated 10^10 guesses: with Argon2id at 64 MiB each guess costs an
// attacker real memory and time, which puts such a passphrase out of reach
// of offline guessing at scale.
const MinScore = 3

// MinPassphraseLen is the shortest passphrase accepted, whatever its score.
const MinPassphraseLen = 10

// CheckPassphrase rates passphrase. It is an estimate in the spirit of
// zxcvbn, kept small for the browser: it charges each character by the
// alphabet it comes from, discounts runs, sequences, repeated chunks and
// keyboard walks, and treats very common passwords and words as almost free.
func CheckPassphrase(passphrase string) Strength {
	var s Strength
	n := utf8.RuneCountInString(passphrase)
	bits := estimateBits(passphrase)
	s.GuessesLog10 = math.Round(bits*math.Log10(2)*10) / 10
	switch g := s.GuessesLog10; {
	case g < 3:
		s.Score = 0
	case g < 6:
		s.Score = 1
	case g < 8:
		s.Score = 2
	case g < 10:
		s.Score = 3
	default:
		s.Score = 4
	}
	if n < MinPassphraseLen && s.Score >= MinScore {
		s.Score = MinScore - 1
	}
	s.Acceptable = s.Score >= MinScore
	switch {
	case n == 0:
		s.Warning = "Enter a passphrase."
	case isCommon(passphrase):
		s.Warning = "This is one of the most common passwords."
	case n < MinPassphraseLen:
		s.Warning = fmt.Sprintf("Use at least %d characters.", MinPassphraseLen)
	case !s.Acceptable && hasPattern(passphrase):
		s.Warning = "Repeats, sequences and keyboard patterns are easy to guess."
	case !s.Acceptable:
		s.Warning = "This would be guessed too quickly."
	}
	if !s.Acceptable {
		s.Suggestions = []string{"Use four or more unrelated words, like a short odd sentence."}
		if n > 0 && !strings.ContainsAny(passphrase, " -_.") {
			s.Suggestions = append(s.Suggestions, "Separate the words with spaces or dashes; length beats symbols.")
		}
	}
	return s
}

// ErrWeakPassphrase is returned for passphrases [CheckPassphrase] refuses.
type ErrWeakPassphrase struct{ Strength Strength }

func (e *ErrWeakPassphrase) Error() string {
	return "passphrase too weak: " + strings.TrimSuffix(e.Strength.Warning, ".")
}

// RequireStrong returns an *ErrWeakPassphrase if passphrase is not acceptable.
func RequireStrong(passphrase string) error {
	if s := CheckPassphrase(passphrase); !s.Acceptable {
		return &ErrWeakPassphrase{s}
	}
	return nil
}

const keyboardRows = "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./"

func pool(r rune) float64 {
	switch {
	case r >= 'a' && r <= 'z':
		return 26
	case r >= 'A' && r <= 'Z':
		return 26
	case r >= '0' && r <= '9':
		return 10
	case r == ' ':
		return 5 // spaces separate words; they add little on their own
	case r < 128:
		return 33
	case unicode.IsLetter(r):
		return 100
	default:
		return 50
	}
}

// estimateBits charges each character log2 of its alphabet, and 1 bit when it
// merely continues a pattern (repeat, sequence, keyboard neighbour, or a
// repeat of an earlier chunk). Common words found inside cost log2 of their
// rank instead of their letters.
func estimateBits(p string) float64 {
	if isCommon(p) {
		return math.Log2(float64(commonRank(p) + 1))
	}
	lower := strings.ToLower(p)
	runes := []rune(p)
	lr := []rune(lower)
	cost := make([]float64, len(runes))
	for i, r := range runes {
		cost[i] = math.Log2(pool(r))
		if i == 0 {
			continue
		}
		prev := lr[i-1]
		switch d := lr[i] - prev; {
		case d == 0, d == 1, d == -1:
			cost[i] = 1
		case keyboardAdjacent(prev, lr[i]):
			cost[i] = 1.5
		}
	}
	// A chunk of 3+ characters seen earlier costs almost nothing again.
	for size := 6; size >= 3; size-- {
		for i := size; i+size <= len(lr); i++ {
			if strings.Contains(string(lr[:i]), string(lr[i:i+size])) {
				for j := i; j < i+size; j++ {
					cost[j] = math.Min(cost[j], 0.5)
				}
			}
		}
	}
	// Common words and passwords inside cost their rank.
	for _, w := range commonWords {
		if len(w) < 4 {
			continue
		}
		for off := 0; ; {
			k := strings.Index(lower[off:], w)
			if k < 0 {
				break
			}
			start := utf8.RuneCountInString(lower[:off+k])
			var letters float64
			for j := start; j < start+len(w); j++ {
				letters += cost[j]
			}
			if word := math.Log2(float64(commonRank(w)+1)) + 1; word < letters {
				for j := start; j < start+len(w); j++ {
					cost[j] = word / float64(len(w))
				}
			}
			off += k + len(w)
		}
	}
	var bits float64
	for _, c := range cost {
		bits += c
	}
	return bits
}

func keyboardAdjacent(a, b rune) bool {
	i := strings.IndexRune(keyboardRows, a)
	j := strings.IndexRune(keyboardRows, b)
	return i >= 0 && j >= 0 && (i-j == 1 || j-i == 1)
}

func hasPattern(p string) bool {
	l := []rune(strings.ToLower(p))
	for i := 2; i < len(l); i++ {
		d1, d2 := l[i-1]-l[i-2], l[i]-l[i-1]
		if d1 == d2 && (d1 >= -1 && d1 <= 1) {
			return true
		}
		if keyboardAdjacent(l[i-2], l[i-1]) && keyboardAdjacent(l[i-1], l[i]) {
			return true
		}
	}
	return false
}

// normalizeCommon undoes the substitutions people make to common passwords.
func normalizeCommon(p string) string {
	r := strings.NewReplacer("@", "a", "4", "a", "3", "e", "1", "i", "!", "i", "0", "o", "$", "s", "5", "s", "7", "t")
	return strings.TrimRight(r.Replace(strings.ToLower(p)), "0123456789!?.")
}

func isCommon(p string) bool { return commonRank(p) >= 0 }

func commonRank(p string) int {
	l := strings.ToLower(p)
	n := normalizeCommon(p)
	for i, w := range commonWords {
		if l == w || n == w {
			return i
		}
	}
	return -1
}

// commonWords are the most used passwords and words inside them, most
// common first (rank matters: it is the attacker's order of guessing).
var commonWords = strings.Fields(`
password 123456 12345678 qwerty abc123 123456789 111111 1234567 iloveyou
adobe123 123123 admin 1234567890 letmein photoshop monkey shadow sunshine
princess azerty trustno1 dragon football baseball welcome master hello
freedom whatever qazwsx ninja mustang access batman superman michael
charlie donald passw0rd login starwars solo zaq1zaq1 flower hottie loveme
jesus secret summer winter spring autumn love lovely computer internet
google facebook apple samsung pokemon cookie chocolate orange banana
purple yellow silver golden soccer hockey killer pepper ginger tigger
jordan hunter ranger buster thomas robert daniel jennifer jessica
michelle ashley andrew joshua matthew anthony william richard george
london paris berlin america england canada mother father family friend
forever heaven angel peace happy smile planet vault passphrase changeme
default guest test qwertyuiop asdfghjkl zxcvbnm 1q2w3e4r 1qaz2wsx
`)
