package apply

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Outcome of a write, from the error it returned: the server answered
// (applied, or failed with a status), or it did not and the change may or
// may not have been made.

// StateOf returns the journal state of a write that returned err: Applied
// for nil, Unknown when no answer came (see NoAnswer), else Failed.
func StateOf(err error) State {
	switch {
	case err == nil:
		return Applied
	case NoAnswer(err):
		return Unknown
	}
	return Failed
}

// NoAnswer reports whether err means the API server's verdict on a request
// never arrived: a timeout (the client's, or the server's own "did not finish
// in time"), a connection refused, reset or lost, a response cut short, a
// request abandoned on Ctrl-C, or a 5xx answered by something in front of the
// server (no Status in the body). The server may have made the change.
func NoAnswer(err error) bool {
	if err == nil {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) {
			return true
		}
		return notFromServer(status.Status())
	}
	return transport(err)
}

// LostContact reports whether err means the API server cannot be reached at
// all (as opposed to a server that answered, even with "timeout"): the
// session stops at the first one rather than fail every change left.
func LostContact(err error) bool {
	if err == nil {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return notFromServer(status.Status())
	}
	return transport(err)
}

// notFromServer: client-go turns a body that is not a Status (a proxy's or a
// load balancer's 502/503 page) into a StatusError with this cause.
func notFromServer(s metav1.Status) bool {
	if s.Code < 500 || s.Details == nil {
		return false
	}
	for _, c := range s.Details.Causes {
		if c.Type == metav1.CauseTypeUnexpectedServerResponse {
			return true
		}
	}
	return false
}

// transport reports whether err came from the connection rather than from
// anything the server said.
func transport(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return true
	}
	// http2's lost-connection and closed-connection errors are plain strings.
	msg := err.Error()
	for _, s := range []string{"http2: client connection lost", "connection reset by peer", "use of closed network connection", "http2: server sent GOAWAY"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
