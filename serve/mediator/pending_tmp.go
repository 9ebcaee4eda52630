package mediator

import (
	"encoding/json"
	"errors"
	"time"
)

type Message struct {
	ID, Type, From, Thid, Pthid, ReturnRoute string
	To                                       []string
	CreatedTime                              int64
	Body                                     json.RawMessage
	Attachments                              []Attachment
}
type Attachment struct {
	ID   string
	Data AttachmentData
}
type AttachmentData struct {
	JSON   json.RawMessage
	Base64 string
}

func (a *agent) unpack(data []byte, now time.Time) (*Message, string, error) { return nil, "", errors.New("todo") }
func (a *agent) pack(m Message, to string, now time.Time) ([]byte, error) { return nil, errors.New("todo") }
func checkEncrypted([]byte) error { return nil }
