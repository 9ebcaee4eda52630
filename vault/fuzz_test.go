package vault

import (
	"bytes"
	"reflect"
	"testing"
)

// Every decoder of stored bytes is fuzzed. UnmarshalCBOR itself refuses
// anything but the deterministic encoding; on top, whatever decodes must
// survive encode → decode unchanged, and encode again to the same bytes.
// (Input may differ from the re-encoding only by unknown keys, which
// readers skip, and absent optional fields.)
func roundTrip[T any](t *testing.T, b []byte, valid func(*T) bool) {
	var x T
	if UnmarshalCBOR(b, &x) != nil || (valid != nil && !valid(&x)) {
		return
	}
	enc, err := MarshalCBOR(x)
	if err != nil {
		t.Fatalf("re-encoding %x: %v", b, err)
	}
	var y T
	if err := UnmarshalCBOR(enc, &y); err != nil {
		t.Fatalf("re-encoding of %x does not decode: %v", b, err)
	}
	if !reflect.DeepEqual(x, y) {
		t.Fatalf("%x decodes to %+v, re-encoded to %+v", b, x, y)
	}
	if enc2, _ := MarshalCBOR(y); !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding of %x is not stable: %x then %x", b, enc, enc2)
	}
}

func FuzzDecodeHeader(f *testing.F) {
	h := header{Version: 1, KDF: kdfHeader{Algorithm: "argon2id", Salt: make([]byte, 16), Memory: 65536, Passes: 3, Lanes: 1}, WrappedKey: make([]byte, 72), Created: 1}
	enc, _ := MarshalCBOR(h)
	f.Add(enc)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := decodeHeader(b); err != nil {
			return
		}
		roundTrip[header](t, b, nil)
	})
}

func FuzzDecodeIndex(f *testing.F) {
	enc, _ := MarshalCBOR(index{Versions: map[string]uint64{"a": 1, "b": 7}, Last: 7})
	f.Add(enc)
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip[index](t, b, nil) })
}

func FuzzDecodeBlobRef(f *testing.F) {
	enc, _ := MarshalCBOR(BlobRef{ID: make([]byte, 16), Key: make([]byte, 32), Size: 5, ChunkSize: ChunkSize})
	f.Add(enc)
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip[BlobRef](t, b, func(r *BlobRef) bool { return r.check() == nil })
	})
}

func FuzzOpenEnvelope(f *testing.F) {
	key := make([]byte, 32)
	sealed, _ := seal(key, []byte("x"), nil, bytes.NewReader(make([]byte, 24)))
	f.Add(sealed)
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := open(key, b, nil)
		if err == nil && !bytes.Equal(pt, []byte("x")) {
			t.Fatalf("forged envelope %x opened as %q", b, pt)
		}
	})
}
