package didcomm

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// Key agreement for DIDComm encrypted messages: ECDH-ES (RFC 7518 §4.6,
// anoncrypt) and ECDH-1PU (draft-madden-jose-ecdh-1pu-04, authcrypt), both
// with AES-256 key wrap, on any curve crypto/ecdh has. ECDH-1PU is not in
// jwx; TestECDH1PUAppendixB holds this code to the draft's own example.

// concatKDF derives a key-wrapping key of keyBits bits from the shared
// secret z with the Concat KDF of NIST SP 800-56A and SHA-256, as JOSE has
// it (RFC 7518 §4.6.2): OtherInfo is AlgorithmID, PartyUInfo and
// PartyVInfo, each a 32-bit big-endian length and the bytes, then
// SuppPubInfo, keyBits as 32 bits big-endian; for ECDH-1PU with key
// wrapping, SuppPubInfo goes on with the content's tag, length-prefixed in
// the same way (draft-madden-jose-ecdh-1pu-04 §2.3), so that the key
// commits to the ciphertext.
func concatKDF(z []byte, alg string, apu, apv, tag []byte, keyBits int) []byte {
	var info []byte
	lengthPrefixed := func(b []byte) {
		info = binary.BigEndian.AppendUint32(info, uint32(len(b)))
		info = append(info, b...)
	}
	lengthPrefixed([]byte(alg))
	lengthPrefixed(apu)
	lengthPrefixed(apv)
	info = binary.BigEndian.AppendUint32(info, uint32(keyBits))
	if tag != nil {
		lengthPrefixed(tag)
	}
	var out []byte
	for counter := uint32(1); len(out)*8 < keyBits; counter++ {
		h := sha256.New()
		h.Write(binary.BigEndian.AppendUint32(nil, counter))
		h.Write(z)
		h.Write(info)
		out = h.Sum(out)
	}
	return out[:keyBits/8]
}

// keyWrappingKey agrees the key-wrapping key of one recipient. For
// ECDH-ES, z is ECDH(ephemeral, recipient); for ECDH-1PU it is that
// followed by ECDH(sender, recipient), each side computing both with the
// secret key it holds. tag is the content's tag (1PU only).
func keyWrappingKey(alg string, ze, zs, apu, apv, tag []byte) []byte {
	z := ze
	if alg == AlgAuthcrypt {
		z = append(slices.Clip(ze), zs...)
	} else {
		tag = nil
	}
	return concatKDF(z, alg, apu, apv, tag, 256)
}
