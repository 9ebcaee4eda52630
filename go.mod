module planet

go 1.26.0

require (
	filippo.io/age v1.3.2
	filippo.io/edwards25519 v1.2.0
	github.com/andybalholm/brotli v1.2.8
	github.com/fxamacker/cbor/v2 v2.10.0
	github.com/hack-pad/safejs v0.1.0
	github.com/mr-tron/base58 v1.3.0
	golang.org/x/crypto v0.58.0
	rsc.io/qr v0.2.0
)

require (
	filippo.io/hpke v0.4.0 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
