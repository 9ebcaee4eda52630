package didcomm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"planet/core/did"
	"planet/core/internal/input"
)

// Packing: a plaintext made into what travels, for one recipient DID,
// through the mediators its DID document names. docs/didcomm.md, "Packing",
// says what PLANET writes.

// PackOptions say how [Pack] packs a message.
type PackOptions struct {
	// Resolver resolves the recipient, the sender, and the mediators on
	// the way. Required.
	Resolver did.Resolver
	// Keys holds the sender's key agreement keys, for authcrypt.
	Keys Keyring
	// Anonymous anoncrypts a message that names a sender (sign it to
	// prove who sent it). A message without from is always anoncrypted;
	// one with from is authcrypted unless Anonymous is set.
	Anonymous bool
	// Sign, if not nil, signs the message first, as its from: the key must
	// be an authentication key of from's document. Signing adds
	// non-repudiation, which most messages should not have.
	Sign Signer
	// Enc is the content encryption of anoncrypt: A256CBC-HS512 (the
	// zero value's), A256GCM or XC20P. Authcrypt always uses A256CBC-HS512.
	Enc ContentEncryption
	// ProtectSender wraps an authcrypted message once more in anoncrypt to
	// the same recipient, so that only the recipient sees the skid.
	ProtectSender bool
	// NoForward leaves out the forward messages for the recipient's
	// mediators, for a message delivered straight to the recipient.
	NoForward bool
	// ServiceID picks one of the recipient's DIDCommMessaging services by
	// id (absolute or relative); by default every usable one is a route.
	ServiceID string
	// Now is the time of the forward messages; time.Now when zero.
	Now time.Time
}

// Packed is what [Pack] made.
type Packed struct {
	// Message is the packed message for the recipient itself, before any
	// forward: what to send when delivering to it directly.
	Message []byte
	// ToKids are the recipient's keys it is encrypted to; FromKid the
	// sender's key of an authcrypt; SignedBy the kid that signed.
	ToKids   []string
	FromKid  string
	SignedBy string
	// Routes are the ways to the recipient its DID document gives, in its
	// order of preference: deliver to one, try the next if that fails.
	// None when it lists no DIDCommMessaging service.
	Routes []Route
}

// Route is one way to deliver a packed message.
type Route struct {
	// ServiceID is the recipient's DIDCommMessaging service the route
	// follows.
	ServiceID string
	// URI is where to send Message: a URL (https, wss, …) of the
	// recipient or, through a mediator DID, of the mediator.
	URI string
	// Accept is what the endpoint takes ("didcomm/v2"), as it says.
	Accept []string
	// RoutingKeys are the keys and DIDs Message is forwarded through,
	// outermost first: a mediator DID named as the endpoint, then the
	// service's routingKeys.
	RoutingKeys []string
	// Message is what to send to URI: the packed message wrapped in one
	// anoncrypted forward per routing key, or itself when there is none.
	Message []byte
}

// maxRoutes bounds the routes made for one message, and with them the
// encryption work a recipient's DID document can ask of a sender.
const maxRoutes = 4

// maxRoutingKeys bounds the forwards around one message.
const maxRoutingKeys = 4

// Pack packs p for the recipient to: signed first if opts.Sign is set, then
// authcrypted from p.From (when it names one and opts.Anonymous is not set)
// or anoncrypted, to every key agreement key of to's document on one curve
// (X25519 first; for authcrypt, a curve on which the sender holds a key
// too), then, unless opts.NoForward, wrapped in forwards for each route of
// to's DIDCommMessaging services.
//
// p must be addressed to to when it names recipients at all, and must name
// them when signed. Errors about p or opts wrap [input.ErrInvalid]; a
// recipient, sender or mediator whose documents give nothing PLANET can
// use returns one wrapping [ErrUnsupported]; resolution errors come
// through wrapped.
func Pack(ctx context.Context, p *Plaintext, to did.DID, opts PackOptions) (*Packed, error) {
	if opts.Resolver == nil {
		return nil, fmt.Errorf("pack: %w: no resolver", input.ErrInvalid)
	}
	if p.To != nil && !p.AddressedTo(to) {
		return nil, fmt.Errorf("pack: %w: the message is not addressed to %s", input.ErrInvalid, to)
	}
	enc := opts.Enc
	if enc == "" {
		enc = A256CBCHS512
	}
	if _, _, _, ok := enc.sizes(); !ok {
		return nil, fmt.Errorf("pack: %w: unknown content encryption %q", input.ErrInvalid, enc)
	}
	authcrypt := !p.From.IsZero() && !opts.Anonymous
	plain, err := p.Encode()
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	out := &Packed{}
	payload := plain
	if opts.Sign != nil {
		if p.To == nil {
			return nil, fmt.Errorf("pack: %w: a signed message must name its recipients (to)", input.ErrInvalid)
		}
		signed, kid, err := PackSigned(ctx, opts.Resolver, p, opts.Sign)
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		payload, out.SignedBy = signed, kid
	}

	doc, err := opts.Resolver.Resolve(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("pack: the recipient %s cannot be resolved: %w", to, err)
	}
	if authcrypt {
		from, err := opts.Resolver.Resolve(ctx, p.From)
		if err != nil {
			return nil, fmt.Errorf("pack: the sender %s cannot be resolved: %w", p.From, err)
		}
		sender, recipients, err := authcryptKeys(from, doc, opts.Keys)
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		if payload, err = encryptJWE(payload, A256CBCHS512, recipients, sender); err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		out.FromKid = sender.kid
		out.ToKids = recipientKids(recipients)
		if opts.ProtectSender {
			if payload, err = encryptJWE(payload, enc, recipients, nil); err != nil {
				return nil, fmt.Errorf("pack: %w", err)
			}
		}
	} else {
		recipients, err := agreementKeys(doc, "")
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		if payload, err = encryptJWE(payload, enc, recipients, nil); err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		out.ToKids = recipientKids(recipients)
	}
	if len(payload) > MaxPackedSize {
		return nil, fmt.Errorf("pack: %w: it would be %d bytes, at most %d are allowed", input.ErrInvalid, len(payload), MaxPackedSize)
	}
	out.Message = payload
	if opts.NoForward {
		return out, nil
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	routes, err := findRoutes(ctx, opts.Resolver, doc, opts.ServiceID)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	for _, rt := range routes {
		rt.Message, err = wrapInForwards(ctx, opts.Resolver, payload, to.String(), rt.RoutingKeys, enc, now, p.Expires)
		if err != nil {
			return nil, fmt.Errorf("pack: route through %s: %w", rt.URI, err)
		}
		out.Routes = append(out.Routes, rt)
	}
	return out, nil
}

// PackSigned signs p as its from with signer and returns the signed
// message and the kid that signed: the authentication method of from's
// document that holds signer's key.
func PackSigned(ctx context.Context, r did.Resolver, p *Plaintext, signer Signer) ([]byte, string, error) {
	if p.From.IsZero() {
		return nil, "", fmt.Errorf("sign: %w: the message names no sender (from)", input.ErrInvalid)
	}
	plain, err := p.Encode()
	if err != nil {
		return nil, "", fmt.Errorf("sign: %w", err)
	}
	doc, err := r.Resolve(ctx, p.From)
	if err != nil {
		return nil, "", fmt.Errorf("sign: the sender %s cannot be resolved: %w", p.From, err)
	}
	for _, ref := range doc.Authentication {
		pk, err := documentKey(doc, ref, doc.Authentication, "authentication")
		if err == nil && pk.ed != nil && pk.ed.Equal(signer.Public()) {
			kid := doc.Absolute(ref)
			signed := signJWS(signer, kid, plain)
			if len(signed) > MaxPackedSize {
				return nil, "", fmt.Errorf("sign: %w: it would be %d bytes, at most %d are allowed", input.ErrInvalid, len(signed), MaxPackedSize)
			}
			return signed, kid, nil
		}
	}
	return nil, "", fmt.Errorf("sign: %w: %s lists the signer's key under no authentication method", input.ErrInvalid, p.From)
}

// curvePreference is the order in which Pack picks a curve among a
// recipient's keys.
var curvePreference = []string{CurveX25519, CurveP384, CurveP256, CurveP521}

// agreementKeys returns the key agreement keys of doc on one curve: crv,
// or the first of curvePreference the document has keys on. Keys PLANET
// cannot read are passed over.
func agreementKeys(doc *did.Document, crv string) ([]recipientKey, error) {
	byCurve := make(map[string][]recipientKey)
	for _, ref := range doc.KeyAgreement {
		pk, err := documentKey(doc, ref, doc.KeyAgreement, "key agreement")
		if err != nil || pk.ecdh == nil {
			continue
		}
		byCurve[pk.crv] = append(byCurve[pk.crv], recipientKey{kid: doc.Absolute(ref), pub: pk.ecdh})
	}
	if crv != "" {
		if keys := byCurve[crv]; len(keys) > 0 {
			return keys, nil
		}
		return nil, unsupported("%s has no key agreement key on %s", doc.ID, crv)
	}
	for _, c := range curvePreference {
		if keys := byCurve[c]; len(keys) > 0 {
			return keys, nil
		}
	}
	return nil, unsupported("%s has no key agreement key PLANET can encrypt to", doc.ID)
}

// authcryptKeys picks the sender's key (the first of from's key agreement
// keys that keys holds, on a curve the recipient has keys on, in the order
// of curvePreference) and the recipient's keys on that curve.
func authcryptKeys(from, to *did.Document, keys Keyring) (*senderKey, []recipientKey, error) {
	if keys == nil {
		return nil, nil, fmt.Errorf("%w: authcrypt needs the sender's keys", input.ErrInvalid)
	}
	for _, crv := range curvePreference {
		recipients, err := agreementKeys(to, crv)
		if err != nil {
			continue
		}
		for _, ref := range from.KeyAgreement {
			kid := from.Absolute(ref)
			pk, err := documentKey(from, ref, from.KeyAgreement, "key agreement")
			if err != nil || pk.crv != crv {
				continue
			}
			key, ok := keys.AgreementKey(kid)
			if !ok || !key.PublicKey().Equal(pk.ecdh) {
				continue
			}
			return &senderKey{kid: kid, key: key}, recipients, nil
		}
	}
	return nil, nil, unsupported("%s holds no key agreement key here on a curve %s has keys on", from.ID, to.ID)
}

func recipientKids(keys []recipientKey) []string {
	kids := make([]string, len(keys))
	for i, k := range keys {
		kids[i] = k.kid
	}
	return kids
}

// didcommProfile is the accept value of DIDComm v2 endpoints.
const didcommProfile = "didcomm/v2"

// endpoint is one DIDCommMessaging service endpoint object.
type endpoint struct {
	uri         string
	accept      []string
	routingKeys []string
}

// serviceEndpoints returns the endpoint objects of a DIDCommMessaging
// service: its serviceEndpoint as one object or a list of them, or (the
// older form) a URI with accept and routingKeys beside it.
func serviceEndpoints(s did.Service) ([]endpoint, error) {
	var raw []map[string]any
	switch ep := s.ServiceEndpoint.(type) {
	case string:
		m := map[string]any{"uri": ep}
		for _, k := range []string{"accept", "routingKeys"} {
			if v, ok := s.Extra[k]; ok {
				m[k] = v
			}
		}
		raw = append(raw, m)
	case map[string]any:
		raw = append(raw, ep)
	case []any:
		for _, e := range ep {
			switch e := e.(type) {
			case map[string]any:
				raw = append(raw, e)
			case string:
				raw = append(raw, map[string]any{"uri": e})
			}
		}
	}
	var out []endpoint
	for _, m := range raw {
		var e endpoint
		var ok bool
		if e.uri, ok = m["uri"].(string); !ok || e.uri == "" {
			return nil, fmt.Errorf("service %s has an endpoint without a uri", s.ID)
		}
		var err error
		if e.accept, err = stringList(m["accept"]); err != nil {
			return nil, fmt.Errorf("service %s: accept %v", s.ID, err)
		}
		if e.routingKeys, err = stringList(m["routingKeys"]); err != nil {
			return nil, fmt.Errorf("service %s: routingKeys %v", s.ID, err)
		}
		if e.accept == nil || slices.Contains(e.accept, didcommProfile) {
			out = append(out, e)
		}
	}
	return out, nil
}

// stringList reads an optional list of strings.
func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("is not a list")
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, errors.New("has an entry that is not a string")
		}
		out = append(out, s)
	}
	return out, nil
}

// didcommServices returns the DIDCommMessaging services of doc, or the one
// whose id is id.
func didcommServices(doc *did.Document, id string) ([]did.Service, error) {
	var out []did.Service
	for _, s := range doc.Service {
		if s.Type != did.ServiceTypeDIDCommMessaging {
			continue
		}
		if id != "" && doc.Absolute(s.ID) != doc.Absolute(id) {
			continue
		}
		s.ID = doc.Absolute(s.ID)
		out = append(out, s)
	}
	if id != "" && len(out) == 0 {
		return nil, fmt.Errorf("%w: %s has no DIDCommMessaging service %s", input.ErrInvalid, doc.ID, id)
	}
	return out, nil
}

// findRoutes returns the routes to the subject of doc: one per endpoint
// of its DIDCommMessaging services that accepts DIDComm v2, at most
// maxRoutes. An endpoint whose uri is a DID is a mediator: the message
// goes to the URIs of the mediator's own services, forwarded to the
// mediator's keys first (DIDComm v2.1, "Using a DID as an endpoint"). A
// mediator that names yet another DID as its endpoint is refused.
func findRoutes(ctx context.Context, r did.Resolver, doc *did.Document, serviceID string) ([]Route, error) {
	services, err := didcommServices(doc, serviceID)
	if err != nil {
		return nil, err
	}
	var routes []Route
	for _, s := range services {
		endpoints, err := serviceEndpoints(s)
		if err != nil {
			return nil, unsupported("%s: %v", doc.ID, err)
		}
		for _, e := range endpoints {
			if len(routes) == maxRoutes {
				return routes, nil
			}
			if !strings.HasPrefix(e.uri, "did:") {
				routes = append(routes, Route{ServiceID: s.ID, URI: e.uri, Accept: e.accept, RoutingKeys: e.routingKeys})
				continue
			}
			mediator, err := did.ParseAnyMethod(e.uri)
			if err != nil {
				return nil, unsupported("%s names the mediator %q, which is not a DID: %v", doc.ID, e.uri, err)
			}
			mdoc, err := r.Resolve(ctx, mediator)
			if err != nil {
				return nil, fmt.Errorf("the mediator %s cannot be resolved: %w", mediator, err)
			}
			msvc, err := didcommServices(mdoc, "")
			if err != nil {
				return nil, err
			}
			for _, ms := range msvc {
				mends, err := serviceEndpoints(ms)
				if err != nil {
					return nil, unsupported("mediator %s: %v", mediator, err)
				}
				for _, me := range mends {
					if strings.HasPrefix(me.uri, "did:") {
						return nil, unsupported("the mediator %s names another DID, %s, as its endpoint", mediator, me.uri)
					}
					if len(routes) == maxRoutes {
						return routes, nil
					}
					keys := append([]string{mediator.String()}, e.routingKeys...)
					routes = append(routes, Route{ServiceID: s.ID, URI: me.uri, Accept: me.accept, RoutingKeys: keys})
				}
			}
		}
	}
	return routes, nil
}

// wrapInForwards wraps msg for the routing keys, outermost first: the
// last routing key gets a forward to next, the one before it a forward to
// the last, and so on, each anoncrypted to its routing key (a DID: its key
// agreement keys on one curve; a DID URL: that key).
func wrapInForwards(ctx context.Context, r did.Resolver, msg []byte, next string, routingKeys []string, enc ContentEncryption, now, expires time.Time) ([]byte, error) {
	if len(routingKeys) > maxRoutingKeys {
		return nil, unsupported("%d routing keys, at most %d are followed", len(routingKeys), maxRoutingKeys)
	}
	for i := len(routingKeys) - 1; i >= 0; i-- {
		rk := routingKeys[i]
		keys, mediator, err := routingKey(ctx, r, rk)
		if err != nil {
			return nil, err
		}
		fwd, err := NewForward(next, msg, mediator, now, expires)
		if err != nil {
			return nil, err
		}
		plain, err := fwd.Encode()
		if err != nil {
			return nil, err
		}
		if msg, err = encryptJWE(plain, enc, keys, nil); err != nil {
			return nil, err
		}
		if len(msg) > MaxPackedSize {
			return nil, fmt.Errorf("%w: forwarded it would be %d bytes, at most %d are allowed", input.ErrInvalid, len(msg), MaxPackedSize)
		}
		next = rk
	}
	return msg, nil
}

// routingKey returns the keys to encrypt to for a routing key, a DID or a
// DID URL, and the DID it belongs to.
func routingKey(ctx context.Context, r did.Resolver, rk string) ([]recipientKey, did.DID, error) {
	d, err := did.ParseAnyMethod(rk)
	kid := ""
	if err != nil {
		if d, err = kidDID(rk); err != nil {
			return nil, did.DID{}, unsupported("the routing key %q is neither a DID nor a DID URL", rk)
		}
		kid = rk
	}
	doc, err := r.Resolve(ctx, d)
	if err != nil {
		return nil, did.DID{}, fmt.Errorf("the routing key %s cannot be resolved: %w", rk, err)
	}
	if kid == "" {
		keys, err := agreementKeys(doc, "")
		return keys, d, err
	}
	pk, err := documentKey(doc, kid, doc.KeyAgreement, "key agreement")
	if err != nil {
		return nil, did.DID{}, unsupported("the routing key %v", err)
	}
	if pk.ecdh == nil {
		return nil, did.DID{}, unsupported("the routing key %s is not a key agreement key", kid)
	}
	return []recipientKey{{kid: doc.Absolute(kid), pub: pk.ecdh}}, d, nil
}
