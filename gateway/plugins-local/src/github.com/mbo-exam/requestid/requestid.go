// Package requestid is a Traefik middleware: every request gets a fresh request id at the gateway.
//
// The id goes to the service as X-Request-ID and, unless the caller sent a valid X-Correlation-ID of
// its own, as X-Correlation-ID, which the services log and return; the response carries it back.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
)

// Config names the header that carries the request id.
type Config struct {
	HeaderName string `json:"headerName,omitempty"`
}

// CreateConfig is the default configuration.
func CreateConfig() *Config {
	return &Config{HeaderName: "X-Request-ID"}
}

// RequestID is the middleware.
type RequestID struct {
	next   http.Handler
	header string
}

// The ids the services accept as correlation ids (kit.middleware).
var safeID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,100}$`)

// New builds the middleware.
func New(_ context.Context, next http.Handler, config *Config, _ string) (http.Handler, error) {
	header := config.HeaderName
	if header == "" {
		header = "X-Request-ID"
	}
	return &RequestID{next: next, header: header}, nil
}

func (m *RequestID) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	// Always a fresh id: one a client chose could collide with or impersonate another request's.
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		http.Error(rw, "request id unavailable", http.StatusInternalServerError)
		return
	}
	id := hex.EncodeToString(raw)
	req.Header.Set(m.header, id)
	if !safeID.MatchString(req.Header.Get("X-Correlation-ID")) {
		req.Header.Set("X-Correlation-ID", id)
	}
	rw.Header().Set(m.header, id)
	m.next.ServeHTTP(rw, req)
}
