package cmd

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The progress line is drawn only on a terminal, rewritten in place and cleared.
func TestProgressLineOnlyOnATerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pty: %v", err)
	}
	defer ptmx.Close()
	o := &AuditOptions{}
	o.ErrOut = tty
	update, done := o.progressLine()
	update("listing 3 kinds")
	update("listing: 1 of 3 kinds, 10 objects")
	done()
	tty.Close()
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(ptmx); got <- b }()
	var b []byte
	select {
	case b = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no output from the terminal")
	}
	want := "\r\033[Klisting 3 kinds\r\033[Klisting: 1 of 3 kinds, 10 objects\r\033[K"
	if !bytes.Contains(b, []byte(want)) {
		t.Errorf("terminal got %q, want %q", b, want)
	}

	var buf bytes.Buffer
	o.ErrOut = &buf
	update, done = o.progressLine()
	update("listing")
	done()
	if buf.Len() != 0 {
		t.Errorf("a non-terminal stderr got %q", buf.String())
	}
}
