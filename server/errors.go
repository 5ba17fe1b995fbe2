package server

import (
	"errors"
	"net/http"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
)

// errorKind is how one error code shows on each transport: the HTTP status
// and HubSpot error category of an API answer, and the close code of a
// WebSocket that an error of the code ends.
type errorKind struct {
	status   int
	category string
	close    websocket.StatusCode
}

// errorKinds maps every error code of package parley to its errorKind. Close
// codes beyond RFC 6455's are 4000 + the HTTP status they resemble; a frame
// too large closes with RFC 6455's own 1009, and overload with 1013.
var errorKinds = map[string]errorKind{
	parley.ECONFLICT:     {http.StatusConflict, "CONFLICT", 4409},
	parley.ECONSENT:      {http.StatusForbidden, "FORBIDDEN", 4403},
	parley.EFORBIDDEN:    {http.StatusForbidden, "FORBIDDEN", 4403},
	parley.EINTERNAL:     {http.StatusInternalServerError, "INTERNAL_ERROR", 4500},
	parley.EINVALID:      {http.StatusBadRequest, "VALIDATION_ERROR", 4400},
	parley.ENOTFOUND:     {http.StatusNotFound, "OBJECT_NOT_FOUND", 4404},
	parley.ERATELIMIT:    {http.StatusTooManyRequests, "RATE_LIMITS", 4429},
	parley.ESTORAGE:      {http.StatusInsufficientStorage, "SERVICE_UNAVAILABLE", 4507},
	parley.ETOOLARGE:     {http.StatusRequestEntityTooLarge, "VALIDATION_ERROR", websocket.StatusMessageTooBig},
	parley.EUNAUTHORIZED: {http.StatusUnauthorized, "INVALID_AUTHENTICATION", 4401},
	parley.EUNAVAILABLE:  {http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", websocket.StatusTryAgainLater},
}

// kindOf returns the errorKind of code; an unknown code is EINTERNAL's.
func kindOf(code string) errorKind {
	if k, ok := errorKinds[code]; ok {
		return k
	}
	return errorKinds[parley.EINTERNAL]
}

// closeSlow closes a connection whose subscription fell behind (parley.ErrSlow),
// a close code that no error code stands for: the client resumes at once.
const closeSlow websocket.StatusCode = 4408

// errUnchanged aborts an update that would change nothing.
var errUnchanged = errors.New("unchanged")
