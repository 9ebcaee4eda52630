package didcomm

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"planet/core/did"
	"planet/core/internal/input"
	"planet/core/internal/jws"
	"planet/core/jcs"
)

// DIDComm Messaging v2.1 plaintext messages (docs/didcomm.md, "Plaintext").
// Unlike PLANET's own [Message], which always names its sender and is always
// signed, a DIDComm plaintext may be anonymous (a forward has no from), may
// name no recipients, and carries threads, attachments and headers that
// other implementations add; it is what [Pack] wraps and [Unpack] returns.

// Errors of DIDComm v2.1 messages, returned wrapped with a sentence that
// names what failed by [ParsePlaintext], [Pack], [Unpack] and the forward
// functions. Test for them with [errors.Is]. [Unpack] also returns the
// message errors [ErrForged], [ErrExpired] and [ErrNotYetValid].
var (
	// ErrInvalidMessage: the bytes are not a DIDComm message of the form
	// docs/didcomm.md accepts: not JSON, a member missing or of the wrong
	// form, a layer nested where it may not be, beyond a limit.
	ErrInvalidMessage = errors.New("not a valid DIDComm message")
	// ErrUnsupported: a well-formed DIDComm message or DID document that
	// asks for what PLANET does not do: a curve or algorithm it does not
	// implement (secp256k1, ES256K signing), DID rotation (from_prior), a
	// recipient without a key or endpoint PLANET can use.
	ErrUnsupported = errors.New("unsupported by PLANET's DIDComm")
	// ErrNotForMe: an encrypted message none of whose recipients' keys the
	// reader holds.
	ErrNotForMe = errors.New("message is not encrypted to any key held here")
)

// Limits of DIDComm v2.1 messages. They bound what a hostile sender can make
// a reader (a mediator above all) do.
const (
	// MaxPackedSize is the largest message, in bytes, that [Pack] makes and
	// [Unpack] reads, at any layer.
	MaxPackedSize = 1 << 20
	// MaxPlaintextRecipients is the most DIDs in a plaintext's to.
	MaxPlaintextRecipients = 64
	// MaxAttachments is the most attachments of a plaintext.
	MaxAttachments = 64
	// MaxHeaderIDLength is the longest id, thid or pthid, in bytes.
	MaxHeaderIDLength = 256
)

// Plaintext is a DIDComm Messaging v2.1 plaintext message. [ParsePlaintext]
// reads one and [Plaintext.Encode] writes one; the zero values of the
// optional fields mean "absent".
type Plaintext struct {
	ID   string // "id", required: unique per sender
	Type string // "type", required: the message type URI
	// From is the sender ("from"), zero for an anonymous message (a
	// forward, or anything anoncrypted without a sender). Authcrypt and
	// signing require it.
	From    did.DID
	To      []did.DID // "to": the recipients, none twice; nil if absent
	Thid    string    // "thid": the thread; "" means the id itself
	Pthid   string    // "pthid": the parent thread
	Created time.Time // "created_time", whole seconds; zero if absent
	Expires time.Time // "expires_time", whole seconds; zero if absent
	// Body is the JSON object "body", in one form (keys sorted, no
	// whitespace). A message without a body reads as "{}", as DIDComm v2.1
	// asks of readers for v2.0's sake.
	Body        json.RawMessage
	Attachments []Attachment // "attachments"
	// Headers holds the other top-level members (please_ack,
	// return_route, delay_milli, …), each value compact JSON. DIDComm asks
	// readers to ignore what they do not understand and keep it for those
	// who do; writers write them after the members above, sorted by name.
	Headers map[string]json.RawMessage
}

// Attachment is one entry of a plaintext's attachments (DIDComm v2.1,
// "Attachments").
type Attachment struct {
	ID          string    // "id": unreserved URI characters only
	Description string    // "description"
	Filename    string    // "filename"
	MediaType   string    // "media_type"
	Format      string    // "format"
	LastModTime time.Time // "lastmod_time", whole seconds; zero if absent
	ByteCount   int64     // "byte_count"; 0 if absent
	Data        AttachmentData
}

// AttachmentData is an attachment's "data": at least one of Base64, JSON
// and Links; Links needs Hash.
type AttachmentData struct {
	// JWS is a JWS in detached-content form over the data, kept as JSON;
	// PLANET does not verify it.
	JWS    json.RawMessage
	Hash   string          // "hash": a multihash of the content
	Links  []string        // "links": where to fetch the content
	Base64 string          // "base64": the content, base64url as written
	JSON   json.RawMessage // "json": the content, JSON in one form
}

// NewPlaintext returns a plaintext of type typ with a new random id, the
// body body (a value that encoding/json writes as an object) and
// created_time now, truncated to the second. From and To are for the caller
// to set.
func NewPlaintext(typ string, body any, now time.Time) (*Plaintext, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("new plaintext: %w: body: %w", input.ErrInvalid, err)
	}
	canon, err := canonicalBody(raw)
	if err != nil {
		return nil, fmt.Errorf("new plaintext: %w: %w", input.ErrInvalid, err)
	}
	id := make([]byte, messageIDSize)
	rand.Read(id)
	p := &Plaintext{
		ID:      jws.Base64.EncodeToString(id),
		Type:    typ,
		Created: time.Unix(now.Unix(), 0).UTC(),
		Body:    canon,
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("new plaintext: %w: %w", input.ErrInvalid, err)
	}
	return p, nil
}

// ThreadID returns the message's thread: thid, or its id when it has none.
func (p *Plaintext) ThreadID() string {
	if p.Thid != "" {
		return p.Thid
	}
	return p.ID
}

// AddressedTo reports whether d is among the message's recipients.
func (p *Plaintext) AddressedTo(d did.DID) bool { return slices.Contains(p.To, d) }

// invalid returns an error wrapping ErrInvalidMessage.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidMessage, fmt.Sprintf(format, args...))
}

// unsupported returns an error wrapping ErrUnsupported.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// ParsePlaintext reads data, a DIDComm v2.1 plaintext message, strictly:
// valid UTF-8, no member twice at any depth, nesting at most 16 deep, every
// member it knows of the form docs/didcomm.md gives. Members it does not
// know are kept in Headers. A message with from_prior (DID rotation) is
// refused with [ErrUnsupported]. Other errors wrap [ErrInvalidMessage].
// It does not check dates: [Unpack] does, against its clock.
func ParsePlaintext(data []byte) (*Plaintext, error) {
	if len(data) > MaxPackedSize {
		return nil, invalid("the plaintext is %d bytes, at most %d are allowed", len(data), MaxPackedSize)
	}
	obj, err := jcs.DecodeObject(data)
	if err != nil {
		return nil, invalid("the plaintext %v", err)
	}
	p, err := plaintextFromJSON(obj)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// plaintextFromJSON reads a decoded plaintext.
func plaintextFromJSON(obj map[string]any) (*Plaintext, error) {
	var p Plaintext
	var err error
	str := func(name string, required bool) (string, error) {
		v, ok := obj[name]
		if !ok {
			if required {
				return "", invalid("the plaintext has no %q", name)
			}
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", invalid("the plaintext's %q is not a string", name)
		}
		return s, nil
	}
	if typ, ok := obj["typ"]; ok {
		if s, _ := typ.(string); !isMediaType(s, PlainMediaType) {
			return nil, invalid("the plaintext's typ is %q, want %q", typ, PlainMediaType)
		}
	}
	if _, ok := obj["from_prior"]; ok {
		return nil, unsupported("the message rotates its sender's DID (from_prior), which PLANET does not accept")
	}
	if p.ID, err = str("id", true); err != nil {
		return nil, err
	}
	if p.Type, err = str("type", true); err != nil {
		return nil, err
	}
	if p.Thid, err = str("thid", false); err != nil {
		return nil, err
	}
	if p.Pthid, err = str("pthid", false); err != nil {
		return nil, err
	}
	from, err := str("from", false)
	if err != nil {
		return nil, err
	}
	if _, ok := obj["from"]; ok {
		if p.From, err = did.ParseAnyMethod(from); err != nil {
			return nil, invalid("the plaintext's sender is not a DID: %v", err)
		}
	}
	if v, ok := obj["to"]; ok {
		list, ok := v.([]any)
		if !ok {
			return nil, invalid(`the plaintext's "to" is not a list`)
		}
		if len(list) > MaxPlaintextRecipients {
			return nil, invalid("the plaintext has %d recipients, at most %d are allowed", len(list), MaxPlaintextRecipients)
		}
		p.To = make([]did.DID, 0, len(list))
		for i, e := range list {
			s, ok := e.(string)
			if !ok {
				return nil, invalid("the plaintext's recipient %d is not a string", i+1)
			}
			d, err := did.ParseAnyMethod(s)
			if err != nil {
				return nil, invalid("the plaintext's recipient %d is not a DID: %v", i+1, err)
			}
			p.To = append(p.To, d)
		}
	}
	if p.Created, err = optionalSeconds(obj, "created_time"); err != nil {
		return nil, err
	}
	if p.Expires, err = optionalSeconds(obj, "expires_time"); err != nil {
		return nil, err
	}
	p.Body = json.RawMessage("{}")
	if v, ok := obj["body"]; ok {
		body, ok := v.(map[string]any)
		if !ok {
			return nil, invalid(`the plaintext's "body" is not a JSON object`)
		}
		if p.Body, err = jcs.Encode(body); err != nil {
			return nil, invalid("the plaintext's body: %v", err)
		}
	}
	if v, ok := obj["attachments"]; ok {
		if p.Attachments, err = attachmentsFromJSON(v); err != nil {
			return nil, err
		}
	}
	for name, v := range obj {
		if knownHeader(name) {
			continue
		}
		raw, err := jcs.Encode(v)
		if err != nil {
			return nil, invalid("the plaintext's header %q: %v", name, err)
		}
		if p.Headers == nil {
			p.Headers = make(map[string]json.RawMessage)
		}
		p.Headers[name] = raw
	}
	if err := p.check(); err != nil {
		return nil, invalid("the plaintext: %v", err)
	}
	return &p, nil
}

// knownHeader reports whether name is a member that Plaintext has a field for.
func knownHeader(name string) bool {
	switch name {
	case "id", "typ", "type", "from", "to", "thid", "pthid", "created_time", "expires_time", "body", "attachments":
		return true
	}
	return false
}

// isMediaType reports whether s names the media type want, which DIDComm
// lets writers shorten by leaving out "application/".
func isMediaType(s, want string) bool {
	return s == want || "application/"+s == want
}

// optionalSeconds reads the member name, a time in whole seconds since
// 1970, if present.
func optionalSeconds(obj map[string]any, name string) (time.Time, error) {
	v, ok := obj[name]
	if !ok {
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, invalid("the plaintext's %q is not a number", name)
	}
	s, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || s <= 0 || s > maxMessageSeconds {
		return time.Time{}, invalid("the plaintext's %q is not a time in whole seconds", name)
	}
	return time.Unix(s, 0).UTC(), nil
}

// attachmentsFromJSON reads a decoded attachments list.
func attachmentsFromJSON(v any) ([]Attachment, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, invalid(`the plaintext's "attachments" is not a list`)
	}
	if len(list) > MaxAttachments {
		return nil, invalid("the plaintext has %d attachments, at most %d are allowed", len(list), MaxAttachments)
	}
	out := make([]Attachment, 0, len(list))
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, invalid("attachment %d is not a JSON object", i+1)
		}
		a, err := attachmentFromJSON(obj)
		if err != nil {
			return nil, invalid("attachment %d: %v", i+1, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func attachmentFromJSON(obj map[string]any) (Attachment, error) {
	var a Attachment
	for name, v := range obj {
		var err error
		switch name {
		case "id":
			a.ID, err = stringMember(name, v)
		case "description":
			a.Description, err = stringMember(name, v)
		case "filename":
			a.Filename, err = stringMember(name, v)
		case "media_type":
			a.MediaType, err = stringMember(name, v)
		case "format":
			a.Format, err = stringMember(name, v)
		case "lastmod_time":
			var t time.Time
			t, err = optionalSeconds(obj, name)
			a.LastModTime = t
		case "byte_count":
			n, ok := v.(json.Number)
			var c int64
			if ok {
				c, err = strconv.ParseInt(n.String(), 10, 64)
			}
			if !ok || err != nil || c < 0 || c > math.MaxInt64/2 {
				err = errors.New(`its "byte_count" is not a count of bytes`)
			}
			a.ByteCount = c
		case "data":
			data, ok := v.(map[string]any)
			if !ok {
				return Attachment{}, errors.New(`its "data" is not a JSON object`)
			}
			a.Data, err = attachmentDataFromJSON(data)
		default:
			// Unknown attachment members are ignored, as DIDComm asks.
		}
		if err != nil {
			return Attachment{}, err
		}
	}
	if _, ok := obj["data"]; !ok {
		return Attachment{}, errors.New(`it has no "data"`)
	}
	return a, a.check()
}

func stringMember(name string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("its %q is not a string", name)
	}
	return s, nil
}

func attachmentDataFromJSON(obj map[string]any) (AttachmentData, error) {
	var d AttachmentData
	var err error
	for name, v := range obj {
		switch name {
		case "base64":
			d.Base64, err = stringMember(name, v)
		case "hash":
			d.Hash, err = stringMember(name, v)
		case "json":
			d.JSON, err = jcs.Encode(v)
		case "jws":
			d.JWS, err = jcs.Encode(v)
		case "links":
			list, ok := v.([]any)
			if !ok {
				return d, errors.New(`its "links" is not a list`)
			}
			d.Links = make([]string, 0, len(list))
			for _, e := range list {
				s, ok := e.(string)
				if !ok {
					return d, errors.New(`its "links" has an entry that is not a string`)
				}
				d.Links = append(d.Links, s)
			}
		}
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

// check checks an attachment against the rules of DIDComm v2.1.
func (a *Attachment) check() error {
	if !validText(a.Description, a.Filename, a.MediaType, a.Format, a.Data.Hash) || !validText(a.Data.Links...) {
		return errors.New("it has text that is not valid UTF-8")
	}
	for i := 0; i < len(a.ID); i++ {
		if c := a.ID[i]; !did.IsIDChar(c) && c != '~' {
			return fmt.Errorf("its id has %q, which is not an unreserved URI character", a.ID[i:i+1])
		}
	}
	d := &a.Data
	if d.Base64 == "" && d.JSON == nil && d.Links == nil {
		return errors.New("its data has none of base64, json and links")
	}
	if d.Links != nil && d.Hash == "" {
		return errors.New("its data links to content without a hash of it")
	}
	for i := 0; i < len(d.Base64); i++ {
		if c := d.Base64[i]; !did.IsIDChar(c) && c != '+' && c != '/' && c != '=' || c == '.' {
			return errors.New("its base64 data is not base64")
		}
	}
	if d.JSON != nil {
		if _, err := jcs.Decode(d.JSON); err != nil {
			return fmt.Errorf("its json data: %v", err)
		}
	}
	if d.JWS != nil {
		if _, err := jcs.Decode(d.JWS); err != nil {
			return fmt.Errorf("its jws: %v", err)
		}
	}
	if !a.LastModTime.IsZero() && (a.LastModTime.Unix() <= 0 || a.LastModTime.Unix() > maxMessageSeconds) {
		return errors.New("its lastmod_time is not a time in whole seconds")
	}
	return nil
}

// check checks p against the rules that both ParsePlaintext and Encode keep.
func (p *Plaintext) check() error {
	if p.ID == "" || len(p.ID) > MaxHeaderIDLength {
		return fmt.Errorf("its id is not 1 to %d bytes", MaxHeaderIDLength)
	}
	if len(p.Thid) > MaxHeaderIDLength || len(p.Pthid) > MaxHeaderIDLength {
		return fmt.Errorf("its thid or pthid is longer than %d bytes", MaxHeaderIDLength)
	}
	if !validText(p.ID, p.Thid, p.Pthid) {
		return errors.New("its id, thid or pthid is not valid UTF-8")
	}
	if err := checkMessageType(p.Type); err != nil {
		return err
	}
	if len(p.To) > MaxPlaintextRecipients {
		return fmt.Errorf("it has %d recipients, at most %d are allowed", len(p.To), MaxPlaintextRecipients)
	}
	for i, d := range p.To {
		if d.IsZero() {
			return fmt.Errorf("its recipient %d is empty", i+1)
		}
		if slices.Contains(p.To[:i], d) {
			return fmt.Errorf("it names recipient %s twice", d)
		}
	}
	for _, t := range []time.Time{p.Created, p.Expires} {
		if t.IsZero() {
			continue
		}
		if s := t.Unix(); s <= 0 || s > maxMessageSeconds || t.Nanosecond() != 0 {
			return errors.New("its created_time or expires_time is not a time in whole seconds")
		}
	}
	if !p.Created.IsZero() && !p.Expires.IsZero() && !p.Expires.After(p.Created) {
		return errors.New("it expires before it was made")
	}
	if _, err := canonicalBody(p.body()); err != nil {
		return err
	}
	if len(p.Attachments) > MaxAttachments {
		return fmt.Errorf("it has %d attachments, at most %d are allowed", len(p.Attachments), MaxAttachments)
	}
	for i := range p.Attachments {
		if err := p.Attachments[i].check(); err != nil {
			return fmt.Errorf("attachment %d: %v", i+1, err)
		}
	}
	for name, v := range p.Headers {
		if knownHeader(name) || name == "from_prior" {
			return fmt.Errorf("its extra header %q is one PLANET writes itself or refuses", name)
		}
		if _, err := jcs.Decode(v); err != nil {
			return fmt.Errorf("its header %q: %v", name, err)
		}
	}
	return nil
}

// Encode returns the JSON of p: members in the order of the Plaintext
// fields (typ after id), then Headers sorted by name, without whitespace.
// Parsing what Encode wrote gives p back. A p that breaks the rules
// returns an error wrapping [input.ErrInvalid].
func (p *Plaintext) Encode() ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("encode plaintext: %w: %w", input.ErrInvalid, err)
	}
	var w objectWriter
	w.str("id", p.ID)
	w.str("typ", PlainMediaType)
	w.str("type", p.Type)
	if !p.From.IsZero() {
		w.str("from", p.From.String())
	}
	if p.To != nil {
		to := make([]string, len(p.To))
		for i, d := range p.To {
			to[i] = d.String()
		}
		w.value("to", to)
	}
	if p.Thid != "" {
		w.str("thid", p.Thid)
	}
	if p.Pthid != "" {
		w.str("pthid", p.Pthid)
	}
	if !p.Created.IsZero() {
		w.raw("created_time", strconv.AppendInt(nil, p.Created.Unix(), 10))
	}
	if !p.Expires.IsZero() {
		w.raw("expires_time", strconv.AppendInt(nil, p.Expires.Unix(), 10))
	}
	body, _ := canonicalBody(p.body()) // checked above
	w.raw("body", body)
	if p.Attachments != nil {
		var list objectList
		for i := range p.Attachments {
			list.add(p.Attachments[i].encode())
		}
		w.raw("attachments", list.bytes())
	}
	names := make([]string, 0, len(p.Headers))
	for name := range p.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v, _ := jcs.Decode(p.Headers[name]) // checked above
		raw, err := jcs.Encode(v)
		if err != nil {
			return nil, fmt.Errorf("encode plaintext: %w: header %q: %w", input.ErrInvalid, name, err)
		}
		w.raw(name, raw)
	}
	return w.close(), nil
}

// encode returns the JSON of an attachment, checked already.
func (a *Attachment) encode() []byte {
	var w objectWriter
	if a.ID != "" {
		w.str("id", a.ID)
	}
	if a.Description != "" {
		w.str("description", a.Description)
	}
	if a.Filename != "" {
		w.str("filename", a.Filename)
	}
	if a.MediaType != "" {
		w.str("media_type", a.MediaType)
	}
	if a.Format != "" {
		w.str("format", a.Format)
	}
	if !a.LastModTime.IsZero() {
		w.raw("lastmod_time", strconv.AppendInt(nil, a.LastModTime.Unix(), 10))
	}
	if a.ByteCount != 0 {
		w.raw("byte_count", strconv.AppendInt(nil, a.ByteCount, 10))
	}
	var d objectWriter
	if a.Data.JWS != nil {
		d.raw("jws", compactJSON(a.Data.JWS))
	}
	if a.Data.Hash != "" {
		d.str("hash", a.Data.Hash)
	}
	if a.Data.Links != nil {
		d.value("links", a.Data.Links)
	}
	if a.Data.Base64 != "" {
		d.str("base64", a.Data.Base64)
	}
	if a.Data.JSON != nil {
		d.raw("json", compactJSON(a.Data.JSON))
	}
	w.raw("data", d.close())
	return w.close()
}

// body returns the body, "{}" when none was set.
func (p *Plaintext) body() json.RawMessage {
	if p.Body == nil {
		return json.RawMessage("{}")
	}
	return p.Body
}

// validText reports whether every s is valid UTF-8.
func validText(s ...string) bool {
	for _, x := range s {
		if !utf8.ValidString(x) {
			return false
		}
	}
	return true
}

// compactJSON returns valid JSON data without whitespace, in one form.
func compactJSON(data []byte) []byte {
	v, err := jcs.Decode(data)
	if err != nil {
		return data
	}
	out, err := jcs.Encode(v)
	if err != nil {
		return data
	}
	return out
}

// objectWriter writes a JSON object member by member, in the order given.
type objectWriter struct{ b []byte }

func (w *objectWriter) name(name string) {
	if len(w.b) == 0 {
		w.b = append(w.b, '{')
	} else {
		w.b = append(w.b, ',')
	}
	w.b = jcs.AppendString(w.b, name)
	w.b = append(w.b, ':')
}

func (w *objectWriter) str(name, s string) {
	w.name(name)
	w.b = jcs.AppendString(w.b, s)
}

func (w *objectWriter) raw(name string, v []byte) {
	w.name(name)
	w.b = append(w.b, v...)
}

// value writes a list of strings, the only other kind of value written.
func (w *objectWriter) value(name string, list []string) {
	w.name(name)
	w.b = append(w.b, '[')
	for i, s := range list {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = jcs.AppendString(w.b, s)
	}
	w.b = append(w.b, ']')
}

func (w *objectWriter) close() []byte {
	if len(w.b) == 0 {
		return []byte("{}")
	}
	return append(w.b, '}')
}

// objectList writes a JSON list of values already encoded.
type objectList struct{ b []byte }

func (l *objectList) add(v []byte) {
	if len(l.b) == 0 {
		l.b = append(l.b, '[')
	} else {
		l.b = append(l.b, ',')
	}
	l.b = append(l.b, v...)
}

func (l *objectList) bytes() []byte {
	if len(l.b) == 0 {
		return []byte("[]")
	}
	return append(l.b, ']')
}
