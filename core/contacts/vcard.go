package contacts

import (
	"strings"
	"unicode/utf8"
)

// vCards renders contacts as vCard 4.0 (RFC 6350), for address books.
// A contact's DID goes in an X-DID property and, since
// most address books show only standard fields, in the NOTE as well.
func vCards(cs []Contact) []byte {
	var b strings.Builder
	for _, c := range cs {
		line(&b, "BEGIN:VCARD")
		line(&b, "VERSION:4.0")
		line(&b, "UID:urn:planet:contact:"+c.ID)
		line(&b, "FN:"+escapeVCard(c.Name))
		line(&b, "N:"+escapeVCard(c.Name)+";;;;")
		note := c.Notes
		if !c.DID.IsZero() {
			line(&b, "X-DID:"+escapeVCard(c.DID.String()))
			if note != "" {
				note += "\n"
			}
			note += "DID: " + c.DID.String()
		}
		if note != "" {
			line(&b, "NOTE:"+escapeVCard(note))
		}
		line(&b, "REV:"+c.Updated.UTC().Format("20060102T150405Z"))
		line(&b, "END:VCARD")
	}
	return []byte(b.String())
}

func escapeVCard(s string) string {
	return strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// line writes one content line folded at 75 octets, never inside a UTF-8
// sequence, with CRLF endings (RFC 6350 §3.2).
func line(b *strings.Builder, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space of a continuation counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}
