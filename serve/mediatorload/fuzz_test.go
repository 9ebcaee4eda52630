package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// Fuzzers of the floor's messages, seeded with testdata/floor-messages.txt (one message a
// line). Each also runs its seeds as a normal test.

func floorSeeds(f *testing.F) [][]byte {
	f.Helper()
	data, err := os.ReadFile("testdata/floor-messages.txt")
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for line := range strings.SplitSeq(strings.TrimSuffix(string(data), "\n"), "\n") {
		out = append(out, []byte(line))
	}
	return out
}

// FuzzFloorCommand: a command the floor reads is exactly its verb and number, written back the
// same.
func FuzzFloorCommand(f *testing.F) {
	for _, seed := range floorSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cmd, err := parseFloorCommand(websocket.TextMessage, data)
		if _, berr := parseFloorCommand(websocket.BinaryMessage, data); berr == nil {
			t.Fatal("a binary message read as a command")
		}
		if err != nil {
			return
		}
		if again := cmd.verb + " " + strconv.FormatUint(cmd.n, 10); again != string(data) || cmd.n > maxNumber {
			t.Fatalf("%q read as %+v, written %q", data, cmd, again)
		}
	})
}

// FuzzFloorStatus: a status the client reads is the floor's answer for its id, byte for byte.
func FuzzFloorStatus(f *testing.F) {
	for _, seed := range floorSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := parseFloorStatus(data)
		if err != nil {
			return
		}
		if again := floorStatus(id); again != string(data) {
			t.Fatalf("%q read as %d, written %q", data, id, again)
		}
	})
}

// FuzzFloorDelivery: a delivery the client reads is the floor's delivery of its id and
// message, byte for byte.
func FuzzFloorDelivery(f *testing.F) {
	for _, seed := range floorSeeds(f) {
		f.Add(seed)
		f.Add(floorDelivery(uint64(len(seed)), seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		id, msg, err := parseFloorDelivery(data)
		if err != nil {
			return
		}
		if again := floorDelivery(id, msg); !bytes.Equal(again, data) || id > maxNumber {
			t.Fatalf("%q read as %d, %q", data, id, msg)
		}
	})
}
