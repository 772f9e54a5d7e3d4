package capture

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestInputReadData(t *testing.T) {
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name    string
		src     io.Reader
		n       int
		want    []byte
		wantErr error
		wantMsg string
	}{
		{name: "within the buffer", src: bytes.NewReader(payload(1, 10)), n: 10, want: payload(1, 10)},
		{name: "several buffers", src: bytes.NewReader(payload(1, 100)), n: 100, want: payload(1, 100)},
		{name: "one byte at a time", src: iotest.OneByteReader(bytes.NewReader(payload(1, 50))), n: 50, want: payload(1, 50)},
		{name: "nothing left", src: bytes.NewReader(nil), n: 10, wantErr: io.EOF},
		{name: "short within the buffer", src: bytes.NewReader(payload(1, 5)), n: 10, wantErr: ErrTruncated, wantMsg: "truncated capture: record cut off after 5 of 10 bytes"},
		{name: "short across buffers", src: bytes.NewReader(payload(1, 70)), n: 100, wantErr: ErrTruncated, wantMsg: "truncated capture: record cut off after 70 of 100 bytes"},
		{name: "read error", src: io.MultiReader(bytes.NewReader(payload(1, 20)), iotest.ErrReader(errDisk)), n: 100, wantErr: errDisk},
		{name: "unexpected EOF from below", src: iotest.ErrReader(io.ErrUnexpectedEOF), n: 4, wantErr: ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input{r: bufio.NewReaderSize(tt.src, 16)} // the smallest bufio buffer
			in.begin()
			got, err := in.readData(tt.n)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("err = %q, want %q", err, tt.wantMsg)
			}
			if err == nil && (!bytes.Equal(got, tt.want) || in.off != int64(tt.n)) {
				t.Errorf("got %d bytes at offset %d, want %d", len(got), in.off, tt.n)
			}
		})
	}
}

func TestInputShortAfterRecordStart(t *testing.T) {
	in := input{r: bufio.NewReaderSize(bytes.NewReader(payload(1, 20)), 16)}
	in.begin()
	if err := in.discard(20); err != nil {
		t.Fatal(err)
	}
	// The record began 20 bytes ago: running out now is a cut, not an end.
	if _, err := in.peek(4); !errors.Is(err, ErrTruncated) {
		t.Errorf("peek = %v, want ErrTruncated", err)
	}
	in.begin()
	if _, err := in.peek(4); err != io.EOF {
		t.Errorf("peek at a record boundary = %v, want io.EOF", err)
	}
}
